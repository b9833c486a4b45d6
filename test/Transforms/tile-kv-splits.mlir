// RUN: attn-opt %s --attn-tile="tile-q=1 tile-kv=256 kv-splits=4" --canonicalize --cse -split-input-file | FileCheck %s
// RUN: attn-opt %s --attn-tile="tile-q=1 tile-kv=256 kv-splits=4" --attn-bufferize --attn-online-softmax -split-input-file | FileCheck %s --check-prefix=MERGE
// RUN: not attn-opt %s --attn-tile="kv-splits=0" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not attn-opt %s --attn-tile="tile-q=1 tile-kv=256 kv-splits=4" --attn-bufferize --attn-tile-to-gpu 2>&1 | FileCheck %s --check-prefix=GPU

// Split-KV decode: 2 heads, one query, 2048 keys in 8 kv tiles of 256,
// split in 4. The grid runs (batch, head, q tile x split); split s takes
// kv tiles [2s, 2s + 2) and finalizes them into its part of f32 partial
// results [B, 4, Hq, Sq, Dv] and [B, 4, Hq, Sq]. A second grid over
// (batch, head, q tile) merges the 4 parts of its rows into the f16
// output and the logsumexp with attn.tile_merge.
// CHECK-LABEL: func.func @decode
// CHECK-DAG:   %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG:   %[[C4:.+]] = arith.constant 4 : index
// CHECK-DAG:   %[[C8:.+]] = arith.constant 8 : index
// CHECK:       %[[PO:.+]] = tensor.empty() : tensor<1x4x2x1x64xf32>
// CHECK:       %[[PL:.+]] = tensor.empty() : tensor<1x4x2x1xf32>
// CHECK:       %[[PARTS:.+]]:2 = scf.forall (%{{.+}}, %[[H:[^ ,)]+]], %[[X:[^ ,)]+]]) in (1, 2, 4) shared_outs(%[[SO:.+]] = %[[PO]], %[[SL:.+]] = %[[PL]])
// CHECK:         %[[S:.+]] = arith.remui %[[X]], %[[C4]] : index
// CHECK:         %[[QT:.+]] = arith.divui %[[X]], %[[C4]] : index
// CHECK:         %[[FIRST:.+]] = arith.muli %[[S]], %[[C2]] : index
// CHECK:         %[[LO:.+]] = arith.minui %[[FIRST]], %[[C8]] : index
// CHECK:         %[[END:.+]] = arith.addi %[[LO]], %[[C2]] : index
// CHECK:         %[[HI:.+]] = arith.minui %[[END]], %[[C8]] : index
// CHECK:         scf.for %{{.+}} = %[[LO]] to %[[HI]]
// CHECK:           attn.tile_update
// CHECK:         tensor.extract_slice %[[SO]][0, %[[S]], %[[H]], %[[QT]], 0] [1, 1, 1, 1, 64]
// CHECK-SAME:      to tensor<1x64xf32>
// CHECK:         tensor.extract_slice %[[SL]][0, %[[S]], %[[H]], %[[QT]]] [1, 1, 1, 1]
// CHECK:         attn.tile_finalize
// CHECK:       %[[OUT:.+]] = tensor.empty() : tensor<1x2x1x64xf16>
// CHECK:       %[[LSE:.+]] = tensor.empty() : tensor<1x2x1xf32>
// CHECK:       scf.forall (%{{.+}}, %[[H2:[^ ,)]+]], %{{.+}}) in (1, 2, 1) shared_outs(%{{.+}} = %[[OUT]], %{{.+}} = %[[LSE]])
// CHECK:         %[[AO:.+]] = tensor.extract_slice %[[PARTS]]#0[0, 0, %[[H2]], 0, 0] [1, 4, 1, 1, 64] {{.+}} to tensor<4x1x64xf32>
// CHECK:         %[[AL:.+]] = tensor.extract_slice %[[PARTS]]#1[0, 0, %[[H2]], 0] [1, 4, 1, 1] {{.+}} to tensor<4x1xf32>
// CHECK:         attn.tile_merge %[[AO]], %[[AL]] into %{{.+}}, %{{.+}} : tensor<4x1x64xf32>, tensor<4x1xf32>, tensor<1x64xf16>, tensor<1xf32> -> tensor<1x64xf16>, tensor<1xf32>

// The merge, expanded: per row the largest part score (lse * log2 e, from
// the lowest finite f32), each part's weight exp2(score - max) stored once,
// the weighted sum of the parts times 1 / (sum of weights), and the merged
// logsumexp max * ln 2 + log(sum).
// MERGE-LABEL: func.func @decode
// MERGE:       %[[W:.+]] = memref.alloc(%{{.+}}) : memref<?xf32>
// MERGE:       scf.for %[[R:[^ ,)]+]] =
// MERGE:         %[[MAX:.+]] = scf.for %[[P:[^ ,)]+]] = {{.+}} iter_args(%[[ACC:.+]] = %{{.+}}) -> (f32)
// MERGE:           %[[L:.+]] = memref.load %{{.+}}[%[[P]], %[[R]]]
// MERGE:           %[[SC:.+]] = arith.mulf %[[L]], %{{.+}} : f32
// MERGE:           arith.maximumf %[[ACC]], %[[SC]] : f32
// MERGE:         %[[SUM:.+]] = scf.for %[[P2:[^ ,)]+]] = {{.+}} -> (f32)
// MERGE:           %[[D:.+]] = arith.subf %{{.+}}, %[[MAX]] : f32
// MERGE:           %[[WT:.+]] = math.exp2 %[[D]] : f32
// MERGE:           memref.store %[[WT]], %[[W]][%[[P2]]]
// MERGE:         arith.divf
// MERGE:         %[[INV:.+]] = arith.select
// MERGE:         scf.for %[[DIM:[^ ,)]+]] =
// MERGE:           scf.for %[[P3:[^ ,)]+]] = {{.+}} -> (f32)
// MERGE:             memref.load %[[W]][%[[P3]]]
// MERGE:             memref.load %{{.+}}[%[[P3]], %[[R]], %[[DIM]]]
// MERGE:           %[[O:.+]] = arith.mulf %{{.+}}, %[[INV]] : f32
// MERGE:           arith.truncf %[[O]] : f32 to f16
// MERGE:         math.log %{{.+}} : f32
// MERGE-NOT:   attn.tile_merge

// BAD: attn-tile: kv-splits must be between 1 and 256, got 0
// GPU: attn.tile_merge (split-KV with attn-tile's kv-splits > 1, or an attn.merge) is not lowered to the GPU yet
func.func @decode(%q: tensor<1x2x1x64xf16>, %k: tensor<1x2x2048x64xf16>, %v: tensor<1x2x2048x64xf16>)
    -> (tensor<1x2x1x64xf16>, tensor<1x2x1xf32>) {
  %o, %lse = attn.attention %q, %k, %v
      : tensor<1x2x1x64xf16>, tensor<1x2x2048x64xf16>, tensor<1x2x2048x64xf16>
      -> tensor<1x2x1x64xf16>, tensor<1x2x1xf32>
  return %o, %lse : tensor<1x2x1x64xf16>, tensor<1x2x1xf32>
}
