// RUN: attn-opt %s --attn-tile="tile-q=32 tile-kv=32" --attn-bufferize -split-input-file | FileCheck %s

// One-shot bufferization of the tiled IR (the tile ops' BufferizableOp-
// Interface): the same ops on memrefs. With the JIT's entry (to_tensor of
// the caller's buffers, materialize_in_destination into its output), the
// output is written in place: each query tile's rows are a subview of the
// caller's buffer, with no allocation of the output and no copy. Dynamic
// lengths come from memref.dim. The state is a buffer of the grid
// iteration, passed through the kv loop in place (no iter_args left).
// CHECK-LABEL: func.func @dynamic_window
// CHECK-SAME:  (%[[QM:.+]]: memref<1x2x?x16xf32>, %[[KM:.+]]: memref<1x2x?x16xf32>, %[[VM:.+]]: memref<1x2x?x16xf32>, %[[OM:.+]]: memref<1x2x?x16xf32>)
// CHECK-DAG:   memref.dim %[[QM]], %c2
// CHECK-DAG:   memref.dim %[[KM]], %c2
// CHECK-NOT:   memref.alloc() {{.*}}: memref<1x2x?x16xf32>
// CHECK:       scf.forall
// CHECK:         %[[M:.+]] = memref.alloc() {{.*}}: memref<32xf32>
// CHECK:         %[[L:.+]] = memref.alloc() {{.*}}: memref<32xf32>
// CHECK:         %[[ACC:.+]] = memref.alloc() {{.*}}: memref<32x16xf32>
// CHECK:         attn.tile_init state(%[[M]], %[[L]], %[[ACC]]) : memref<32xf32>, memref<32xf32>, memref<32x16xf32>{{$}}
// CHECK:         scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK:           attn.tile_update %[[QM]], %[[KM]], %[[VM]] at({{.+}}) full(%{{.+}}) state(%[[M]], %[[L]], %[[ACC]])
// CHECK-SAME:        mask = #attn.window<left = 64, right = 0>
// CHECK:         %[[ROWS:.+]] = memref.subview %[[OM]][0, %{{.+}}, %{{.+}}, 0] [1, 1, %{{.+}}, 16] [1, 1, 1, 1] : memref<1x2x?x16xf32> to memref<?x16xf32, strided<[16, 1], offset: ?>>
// CHECK:         attn.tile_finalize state(%[[M]], %[[L]], %[[ACC]]) into %[[ROWS]] : {{.+}}, memref<?x16xf32, strided<[16, 1], offset: ?>>{{$}}
// CHECK-NOT:   memref.copy
// CHECK-NOT:   bufferization.
// CHECK:       return
func.func @dynamic_window(%qm: memref<1x2x?x16xf32>, %km: memref<1x2x?x16xf32>,
                          %vm: memref<1x2x?x16xf32>, %om: memref<1x2x?x16xf32>) {
  %q = bufferization.to_tensor %qm restrict : memref<1x2x?x16xf32> to tensor<1x2x?x16xf32>
  %k = bufferization.to_tensor %km restrict : memref<1x2x?x16xf32> to tensor<1x2x?x16xf32>
  %v = bufferization.to_tensor %vm restrict : memref<1x2x?x16xf32> to tensor<1x2x?x16xf32>
  %o = attn.attention %q, %k, %v {mask = #attn.window<left = 64, right = 0>}
      : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>
      -> tensor<1x2x?x16xf32>
  bufferization.materialize_in_destination %o in restrict writable %om
      : (tensor<1x2x?x16xf32>, memref<1x2x?x16xf32>) -> ()
  return
}

// -----

// A function on tensors becomes one on memrefs (identity layouts): the
// results are new buffers it returns, written by the grid in place. With
// 64 = 2 x 32 query rows every tile is whole: static 32-row subviews.
// CHECK-LABEL: func.func @returned(
// CHECK-SAME:  %[[Q:.+]]: memref<1x2x64x16xf32>, %{{.+}}: memref<1x2x64x16xf32>, %{{.+}}: memref<1x2x64x16xf32>) -> (memref<1x2x64x16xf32>, memref<1x2x64xf32>)
// CHECK:       %[[O:.+]] = memref.alloc() {{.*}}: memref<1x2x64x16xf32>
// CHECK:       %[[LSE:.+]] = memref.alloc() {{.*}}: memref<1x2x64xf32>
// CHECK:       scf.forall
// CHECK:         %[[OROWS:.+]] = memref.subview %[[O]]{{.+}} to memref<32x16xf32, strided<[16, 1], offset: ?>>
// CHECK:         %[[LROWS:.+]] = memref.subview %[[LSE]]{{.+}} to memref<32xf32, strided<[1], offset: ?>>
// CHECK:         attn.tile_finalize state({{.+}}) into %[[OROWS]], %[[LROWS]]
// CHECK-NOT:   memref.copy
// CHECK:       return %[[O]], %[[LSE]]
func.func @returned(%q: tensor<1x2x64x16xf32>, %k: tensor<1x2x64x16xf32>,
                    %v: tensor<1x2x64x16xf32>)
    -> (tensor<1x2x64x16xf32>, tensor<1x2x64xf32>) {
  %o, %lse = attn.attention %q, %k, %v {mask = #attn.causal}
      : tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>
      -> tensor<1x2x64x16xf32>, tensor<1x2x64xf32>
  return %o, %lse : tensor<1x2x64x16xf32>, tensor<1x2x64xf32>
}
