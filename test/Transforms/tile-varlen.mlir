// RUN: attn-opt %s --attn-tile="tile-q=16 tile-kv=32" --canonicalize --cse | FileCheck %s
// RUN: attn-opt %s --attn-tile="tile-q=16 tile-kv=32" --attn-bufferize --attn-online-softmax=vector-width=16 --canonicalize --cse | FileCheck %s --check-prefix=HOST
// RUN: attn-opt %s --attn-to-host > /dev/null
// RUN: not attn-opt %s --attn-tile --attn-bufferize --attn-tile-to-gpu 2>&1 | FileCheck %s --check-prefix=GPU
// RUN: not attn-opt %s --attn-print-tile-map 2>&1 | FileCheck %s --check-prefix=MAP
// RUN: not attn-opt %s --attn-tile="kv-splits=2" 2>&1 | FileCheck %s --check-prefix=SPLIT

// Packed sequences (varlen): B = the offsets' length - 1 sequences; the
// grid's q tiles cover the longest query sequence (a loop over the
// offsets before the grid); each iteration reads its sequence's start and
// length, clamped into the tokens, for the queries and for the keys; the
// bottom-right causal band ends at the sequence's own key length; a q
// tile past its sequence visits no kv tile and writes no row; the tile
// updates read rows from the sequence's starts (tokens(...)), and the
// output rows are the sequence's from its first token.
// CHECK-LABEL: func.func @varlen_causal
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<?x4x64xf16>, %[[K:[^:]+]]: tensor<?x2x64xf16>, %{{[^:]+}}: tensor<?x2x64xf16>, %[[CQ:[^:]+]]: tensor<?xi32>, %[[CK:[^:]+]]: tensor<?xi32>
// CHECK:         %[[N1:.+]] = tensor.dim %[[CQ]], %c0
// CHECK:         %[[N2:.+]] = tensor.dim %[[CK]], %c0
// CHECK:         %[[N3:.+]] = arith.minsi %[[N1]], %[[N2]]
// CHECK:         %[[N:.+]] = arith.subi %[[N3]], %c1
// CHECK:         %[[B:.+]] = arith.maxsi %[[N]], %c0
// CHECK:         %[[TQ:.+]] = tensor.dim %[[Q]], %c0
// CHECK:         %[[LONGEST:.+]] = scf.for %{{.+}} = %c0 to %[[B]] step %c1 iter_args(%[[M:.+]] = %c0)
// CHECK:           arith.maxsi %[[M]],
// CHECK:         %[[QT:.+]] = arith.ceildivui %[[LONGEST]], %c16
// CHECK:         scf.forall (%[[S:.+]], %[[H:.+]], %[[T:.+]]) in (%[[B]], 4, %[[QT]])
// CHECK:           %[[Q0:.+]] = arith.muli %[[T]], %c16
// CHECK:           tensor.extract %[[CQ]][%[[S]]]
// CHECK:           %[[QSTART:.+]] = arith.minsi %{{.+}}, %[[TQ]]
// CHECK:           %[[QLEN:.+]] = arith.subi %{{.+}}, %[[QSTART]]
// CHECK:           tensor.extract %[[CK]][%[[S]]]
// CHECK:           %[[KSTART:.+]] = arith.minsi
// CHECK:           %[[KLEN:.+]] = arith.subi %{{.+}}, %[[KSTART]]
// CHECK:           %[[KT:.+]] = arith.ceildivui %[[KLEN]], %c32
// CHECK:           %[[OFF:.+]] = arith.subi %[[KLEN]], %[[QLEN]]
// CHECK:           %[[UB0:.+]] = arith.maxsi
// CHECK:           %[[LIVE:.+]] = arith.cmpi slt, %[[Q0]], %[[QLEN]]
// CHECK:           %[[UB:.+]] = arith.select %[[LIVE]], %[[UB0]], %c0
// CHECK:           scf.for %{{.+}} = %c0 to %[[UB]]
// CHECK:             attn.tile_update %[[Q]], %[[K]], %{{.+}} at(%[[S]], %[[H]], %{{.+}}, %[[Q0]], %{{.+}}) kv_length(%[[KLEN]]) tokens(%[[QSTART]], %[[QLEN]], %[[KSTART]]) full(%{{.+}})
// CHECK-SAME:          mask = #attn.causal<bottom_right>
// CHECK:           %[[ROWS:.+]] = arith.maxsi %{{.+}}, %c0
// CHECK:           %[[ROW0:.+]] = arith.addi %[[QSTART]], %[[Q0]]
// CHECK:           tensor.extract_slice %{{.+}}[%[[ROW0]], %[[H]], 0] [%[[ROWS]], 1, 64] [1, 1, 1] : tensor<?x4x64xf16> to tensor<?x64xf16>
// CHECK:           tensor.extract_slice %{{.+}}[%[[ROW0]], %[[H]]] [%[[ROWS]], 1] [1, 1] : tensor<?x4xf32> to tensor<?xf32>

// The host reads a q tile's queries from the sequence's first row, only
// when the tile has rows, and its keys from the sequence's first key row.
// HOST-LABEL: func.func @varlen_causal
// HOST:         %[[ANY:.+]] = arith.cmpi sgt, %[[VALID:.+]], %c0 : index
// HOST-NEXT:    scf.if %[[ANY]] {
// HOST:           scf.for
// HOST:             memref.load %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}] : memref<?x4x64xf16>
// HOST:         scf.for
// HOST:             scf.for %{{.+}} = %c0 to %c64 step %c16 {
// HOST-NEXT:          vector.load %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}] : memref<?x2x64xf16>, vector<16xf16>

// GPU: attn-tile-to-gpu: packed sequences (varlen) are not lowered to the GPU yet
// MAP: attn-print-tile-map: packed sequences' lengths (varlen) are run-time data
// SPLIT: attn-tile: kv-splits > 1 with packed sequences (varlen) is not supported yet
func.func @varlen_causal(%q: tensor<?x4x64xf16>, %k: tensor<?x2x64xf16>, %v: tensor<?x2x64xf16>,
                         %cq: tensor<?xi32>, %ck: tensor<?xi32>) -> (tensor<?x4x64xf16>, tensor<?x4xf32>) {
  %o, %l = attn.attention %q, %k, %v varlen(%cq, %ck : tensor<?xi32>, tensor<?xi32>) {mask = #attn.causal<bottom_right>}
    : tensor<?x4x64xf16>, tensor<?x2x64xf16>, tensor<?x2x64xf16> -> tensor<?x4x64xf16>, tensor<?x4xf32>
  return %o, %l : tensor<?x4x64xf16>, tensor<?x4xf32>
}

// A mask that is not a band (a window with global tokens) is tested in
// every tile of the sequence: no full flag, no tile table.
// CHECK-LABEL: func.func @varlen_union
// CHECK-NOT:     memref.get_global
// CHECK:         scf.for
// CHECK:           attn.tile_update {{.*}} kv_length(%{{[^)]+}}) tokens(%{{[^)]+}}) state(
// CHECK-NOT:     full(
// CHECK:       return
func.func @varlen_union(%q: tensor<40x2x32xf32>, %k: tensor<70x1x32xf32>, %v: tensor<70x1x32xf32>,
                        %cq: tensor<4xi32>, %ck: tensor<4xi32>) -> tensor<40x2x32xf32> {
  %o = attn.attention %q, %k, %v varlen(%cq, %ck : tensor<4xi32>, tensor<4xi32>)
    {mask = #attn.union<[#attn.window<left = 8, right = 0, alignment = bottom_right>, #attn.global<first = 2>]>}
    : tensor<40x2x32xf32>, tensor<70x1x32xf32>, tensor<70x1x32xf32> -> tensor<40x2x32xf32>
  return %o : tensor<40x2x32xf32>
}
