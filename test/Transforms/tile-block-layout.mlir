// RUN: attn-opt %s --attn-tile="tile-q=64 tile-kv=64" --canonicalize | FileCheck %s
// RUN: attn-opt %s --attn-to-host > /dev/null
// RUN: not attn-opt %s --attn-tile --attn-bufferize --attn-tile-to-gpu 2>&1 | FileCheck %s --check-prefix=GPU
// RUN: not attn-opt %s --attn-print-tile-map 2>&1 | FileCheck %s --check-prefix=MAP

// A run-time block layout of 32 x 48 blocks under a causal mask: the tiles
// shrink to 32 x 16 (the largest dividing the blocks), the kv loop of
// query tile q0 runs over (partial + full count) x 3 tiles, each read from
// the layout's row (batch, head 0: broadcast, q0 / 32), skipped when its
// block is outside the keys, and flagged full in the full list.
// CHECK-LABEL: func.func @layout
// CHECK-SAME:    %[[N:[^:]+]]: tensor<1x1x4xi32>, %[[X:[^:]+]]: tensor<1x1x4x3xi32>, %[[FN:[^:]+]]: tensor<1x1x4xi32>, %[[FX:[^:]+]]: tensor<1x1x4x3xi32>
// CHECK:       scf.forall (%{{.+}}, %[[H:.+]], %[[QT:.+]]) in (1, 4, 4)
// CHECK:         %[[Q0:.+]] = arith.muli %[[QT]], %c32
// CHECK:         %[[QB:.+]] = arith.divui %[[Q0]], %c32
// CHECK:         tensor.extract %[[N]][%c0, %c0, %{{.+}}] : tensor<1x1x4xi32>
// CHECK:         tensor.extract %[[FN]][%c0, %c0, %{{.+}}] : tensor<1x1x4xi32>
// CHECK:         %[[UB:.+]] = arith.muli %{{.+}}, %c3 : index
// CHECK:         scf.for %[[IV:.+]] = %c0 to %[[UB]] step %c1
// CHECK:           arith.divui %[[IV]], %c3
// CHECK:           tensor.extract %[[X]]
// CHECK:           tensor.extract %[[FX]]
// CHECK:           %[[PART:.+]] = arith.cmpi ult
// CHECK:           arith.select %[[PART]]
// CHECK:           scf.if
// CHECK:             attn.tile_update {{.*}} full(%{{.+}}) {{.*}}tile_kv = 16 : i64, tile_q = 32 : i64
// CHECK:         } {attn.runtime_block_layout, mapping
func.func @layout(%q: tensor<1x4x100x16xf32>, %k: tensor<1x2x130x16xf32>, %v: tensor<1x2x130x16xf32>,
                  %n: tensor<1x1x4xi32>, %x: tensor<1x1x4x3xi32>, %fn: tensor<1x1x4xi32>, %fx: tensor<1x1x4x3xi32>) -> tensor<1x4x100x16xf32> {
  %o = attn.attention %q, %k, %v block_sparse(%n, %x : tensor<1x1x4xi32>, tensor<1x1x4x3xi32>)
      full_blocks(%fn, %fx : tensor<1x1x4xi32>, tensor<1x1x4x3xi32>)
      {mask = #attn.causal, sparse_block = array<i64: 32, 48>}
      : tensor<1x4x100x16xf32>, tensor<1x2x130x16xf32>, tensor<1x2x130x16xf32> -> tensor<1x4x100x16xf32>
  return %o : tensor<1x4x100x16xf32>
}

// GPU: error: attn-tile-to-gpu: a run-time block layout (block_sparse) is not lowered to the GPU yet
// MAP: error: attn-print-tile-map: the block_sparse layout is run-time data; its tile map is known only when the attention runs
