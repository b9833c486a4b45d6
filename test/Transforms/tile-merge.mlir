// RUN: attn-opt %s --attn-tile="tile-q=16" --canonicalize -split-input-file | FileCheck %s
// RUN: attn-opt %s --attn-tile="tile-q=16" --attn-bufferize --attn-online-softmax -split-input-file | FileCheck %s --check-prefix=HOST
// RUN: not attn-opt %s --attn-tile="tile-q=16" --attn-bufferize --attn-tile-to-gpu 2>&1 | FileCheck %s --check-prefix=GPU

// attn.merge of 3 parts, 2 heads, 40 rows in tiles of 16 (the last one 8
// rows): a grid over (batch, head, row tile) whose body slices its rows of
// the parts and merges them into its rows of the results (the batch of 1
// folded away by the canonicalizer).
// CHECK-LABEL: func.func @merge
// CHECK-SAME:    (%[[PO:[^:]+]]: tensor<3x1x2x40x64xf16>, %[[PL:[^:]+]]: tensor<3x1x2x40xf32>)
// CHECK-DAG:   %[[C16:.+]] = arith.constant 16 : index
// CHECK-DAG:   %[[C40:.+]] = arith.constant 40 : index
// CHECK-DAG:   %[[O:.+]] = tensor.empty() : tensor<1x2x40x64xf32>
// CHECK-DAG:   %[[L:.+]] = tensor.empty() : tensor<1x2x40xf32>
// CHECK:       scf.forall (%[[H:[^ ,)]+]], %[[T:[^ ,)]+]]) in (2, 3) shared_outs(%[[SO:[^ ]+]] = %[[O]], %[[SL:[^ ]+]] = %[[L]])
// CHECK:         %[[R0:.+]] = arith.muli %[[T]], %[[C16]] : index
// CHECK:         %[[LEFT:.+]] = arith.subi %[[C40]], %[[R0]] : index
// CHECK:         %[[N:.+]] = arith.minsi %[[LEFT]], %[[C16]] : index
// CHECK:         %[[P:.+]] = tensor.extract_slice %[[PO]][0, 0, %[[H]], %[[R0]], 0] [3, 1, 1, %[[N]], 64] [1, 1, 1, 1, 1] : tensor<3x1x2x40x64xf16> to tensor<3x?x64xf16>
// CHECK:         %[[PLS:.+]] = tensor.extract_slice %[[PL]][0, 0, %[[H]], %[[R0]]] [3, 1, 1, %[[N]]] [1, 1, 1, 1] : tensor<3x1x2x40xf32> to tensor<3x?xf32>
// CHECK:         %[[OS:.+]] = tensor.extract_slice %[[SO]][0, %[[H]], %[[R0]], 0] [1, 1, %[[N]], 64]
// CHECK:         %[[LS:.+]] = tensor.extract_slice %[[SL]][0, %[[H]], %[[R0]]] [1, 1, %[[N]]]
// CHECK:         %[[M:.+]]:2 = attn.tile_merge %[[P]], %[[PLS]] into %[[OS]], %[[LS]]
// CHECK:         scf.forall.in_parallel
// CHECK:           tensor.parallel_insert_slice %[[M]]#0 into %[[SO]][0, %[[H]], %[[R0]], 0] [1, 1, %[[N]], 64]
// CHECK:           tensor.parallel_insert_slice %[[M]]#1 into %[[SL]][0, %[[H]], %[[R0]]] [1, 1, %[[N]]]
// CHECK-NOT:   attn.merge

// On the host, the tile merge widens the f16 parts as it reads them.
// HOST-LABEL: func.func @merge
// HOST:         scf.forall
// HOST:           memref.load %{{.+}} : memref<3x?x64xf16, strided<{{.+}}>>
// HOST:           arith.extf %{{.+}} : f16 to f32
// HOST-NOT:   attn.tile_merge

// GPU: attn.tile_merge (split-KV with attn-tile's kv-splits > 1, or an attn.merge) is not lowered to the GPU yet
func.func @merge(%po: tensor<3x1x2x40x64xf16>, %pl: tensor<3x1x2x40xf32>)
    -> (tensor<1x2x40x64xf32>, tensor<1x2x40xf32>) {
  %o, %l = attn.merge %po, %pl
      : tensor<3x1x2x40x64xf16>, tensor<3x1x2x40xf32>
      -> tensor<1x2x40x64xf32>, tensor<1x2x40xf32>
  return %o, %l : tensor<1x2x40x64xf32>, tensor<1x2x40xf32>
}

// -----

// Without a logsumexp result, and with run-time parts, batch and rows.
// CHECK-LABEL: func.func @merge_dynamic
// CHECK-DAG:   %[[NP:.+]] = tensor.dim %{{.+}}, %c0 : tensor<?x?x4x?x32xbf16>
// CHECK-DAG:   %[[B:.+]] = tensor.dim %{{.+}}, %c1 : tensor<?x?x4x?x32xbf16>
// CHECK-DAG:   %[[S:.+]] = tensor.dim %{{.+}}, %c3 : tensor<?x?x4x?x32xbf16>
// CHECK:       %[[O:.+]] = tensor.empty(%[[B]], %[[S]]) : tensor<?x4x?x32xbf16>
// CHECK:       %[[TILES:.+]] = arith.ceildivui %[[S]], %c16 : index
// CHECK:       scf.forall ({{.+}}) in (%[[B]], 4, %[[TILES]]) shared_outs(%{{.+}} = %[[O]]) -> (tensor<?x4x?x32xbf16>)
// CHECK:         tensor.extract_slice %{{.+}}[0, %{{.+}}, %{{.+}}, %{{.+}}, 0] [%[[NP]], 1, 1, %{{.+}}, 32]
// CHECK:         attn.tile_merge %{{.+}}, %{{.+}} into %{{.+}} : tensor<?x?x32xbf16>, tensor<?x?xf32>, tensor<?x32xbf16> -> tensor<?x32xbf16>
func.func @merge_dynamic(%po: tensor<?x?x4x?x32xbf16>, %pl: tensor<?x?x4x?xf32>) -> tensor<?x4x?x32xbf16> {
  %o = attn.merge %po, %pl : tensor<?x?x4x?x32xbf16>, tensor<?x?x4x?xf32> -> tensor<?x4x?x32xbf16>
  return %o : tensor<?x4x?x32xbf16>
}

// -----

// An output whose head dim is left open takes the parts' (64; static once
// canonicalized).
// CHECK-LABEL: func.func @merge_open_head_dim
// CHECK:       tensor.empty() : tensor<1x2x16x64xf32>
// CHECK:       tensor.cast %{{.+}} : tensor<1x2x16x64xf32> to tensor<1x2x16x?xf32>
func.func @merge_open_head_dim(%po: tensor<2x1x2x16x64xf32>, %pl: tensor<2x1x2x16xf32>) -> tensor<1x2x16x?xf32> {
  %o = attn.merge %po, %pl : tensor<2x1x2x16x64xf32>, tensor<2x1x2x16xf32> -> tensor<1x2x16x?xf32>
  return %o : tensor<1x2x16x?xf32>
}
