// RUN: attn-opt %s --attn-tile="tile-q=16 tile-kv=32" --canonicalize --cse | FileCheck %s
// RUN: attn-opt %s --attn-tile="tile-q=16 tile-kv=32" --attn-bufferize --attn-online-softmax=vector-width=16 --canonicalize --cse | FileCheck %s --check-prefix=HOST
// RUN: attn-opt %s --attn-to-host > /dev/null
// RUN: not attn-opt %s --attn-tile --attn-bufferize --attn-tile-to-gpu 2>&1 | FileCheck %s --check-prefix=GPU
// RUN: not attn-opt %s --attn-print-tile-map 2>&1 | FileCheck %s --check-prefix=MAP

// A paged KV cache of 9 pages of 16 keys, 5 pages per sequence (80 keys
// at most). Each grid iteration reads its sequence's length, clamps it
// into [0, 80] and bounds its kv loop by it; the bottom-right causal band
// ends at that length, not at 80. Every tile update reads through the
// page table with the sequence's kv_length.
// CHECK-LABEL: func.func @paged_causal
// CHECK-SAME:    %[[T:[^:]+]]: tensor<2x5xi32>, %[[N:[^:]+]]: tensor<2xi32>
// CHECK:       scf.forall (%[[B:.+]], %{{.+}}, %{{.+}}) in (2, 4, 1)
// CHECK:         %[[RAW:.+]] = tensor.extract %[[N]][%[[B]]] : tensor<2xi32>
// CHECK:         %[[LEN0:.+]] = arith.index_cast %[[RAW]]
// CHECK:         %[[LEN1:.+]] = arith.maxsi %[[LEN0]], %c0
// CHECK:         %[[LEN:.+]] = arith.minsi %[[LEN1]], %c80
// CHECK:         %[[TILES:.+]] = arith.ceildivui %[[LEN]], %c32
// CHECK:         arith.subi %[[LEN]], %c3
// CHECK:         %[[UB:.+]] = arith.minsi %[[TILES]],
// CHECK:         %[[UB1:.+]] = arith.maxsi %[[UB]], %c0
// CHECK:         scf.for %{{.+}} = %c0 to %[[UB1]]
// CHECK:           attn.tile_update %{{.+}}, %{{.+}}, %{{.+}} pages(%[[T]] : tensor<2x5xi32>) at(%[[B]], {{.*}}) kv_length(%[[LEN]]) full(%{{.+}})
// CHECK-SAME:        mask = #attn.causal<bottom_right>

// The host gathers a tile's keys and values, row by row, into f32 panels:
// each row's page once, clamped into the cache's 9 pages.
// HOST-LABEL: func.func @paged_causal
// HOST:           %[[SLOT:.+]] = arith.divui %[[J:.+]], %c16 : index
// HOST-NEXT:      %[[P0:.+]] = memref.load %{{.+}}[%{{.+}}, %[[SLOT]]] : memref<2x5xi32>
// HOST-NEXT:      %[[P1:.+]] = arith.index_cast %[[P0]] : i32 to index
// HOST-NEXT:      %[[P2:.+]] = arith.maxsi %[[P1]], %c0 : index
// HOST-NEXT:      %[[PAGE:.+]] = arith.minsi %[[P2]], %c8 : index
// HOST-NEXT:      %[[ROW:.+]] = arith.remui %[[J]], %c16 : index
// HOST-NEXT:      scf.for %[[D:.+]] = %c0 to %c64 step %c16 {
// HOST-NEXT:        vector.load %{{.+}}[%[[PAGE]], %[[ROW]], %{{.+}}, %[[D]]] : memref<9x16x2x64xf16>, vector<16xf16>

// GPU: attn-tile-to-gpu: a paged KV cache (paged) is not lowered to the GPU yet
// MAP: attn-print-tile-map: a paged cache's key lengths are run-time data
func.func @paged_causal(%q: tensor<2x4x3x64xf16>, %k: tensor<9x16x2x64xf16>, %v: tensor<9x16x2x64xf16>,
                        %t: tensor<2x5xi32>, %n: tensor<2xi32>) -> (tensor<2x4x3x64xf16>, tensor<2x4x3xf32>) {
  %o, %l = attn.attention %q, %k, %v paged(%t, %n : tensor<2x5xi32>, tensor<2xi32>) {mask = #attn.causal<bottom_right>}
    : tensor<2x4x3x64xf16>, tensor<9x16x2x64xf16>, tensor<9x16x2x64xf16> -> tensor<2x4x3x64xf16>, tensor<2x4x3xf32>
  return %o, %l : tensor<2x4x3x64xf16>, tensor<2x4x3xf32>
}

// A mask that is not a band (a window with global tokens) is tested in
// every tile of the sequence: no full flag, no tile table.
// CHECK-LABEL: func.func @paged_union
// CHECK-NOT:     memref.get_global
// CHECK:         scf.for
// CHECK:           attn.tile_update {{.*}} pages({{.*}}) at({{.*}}) kv_length(%{{[^)]+}}) state(
// CHECK-NOT:     full(
// CHECK:       return
func.func @paged_union(%q: tensor<1x2x4x32xf32>, %k: tensor<6x64x1x32xf32>, %v: tensor<6x64x1x32xf32>,
                       %t: tensor<1x4xi32>, %n: tensor<1xi32>) -> tensor<1x2x4x32xf32> {
  %o = attn.attention %q, %k, %v paged(%t, %n : tensor<1x4xi32>, tensor<1xi32>)
    {mask = #attn.union<[#attn.window<left = 8, right = 0, alignment = bottom_right>, #attn.global<first = 2>]>}
    : tensor<1x2x4x32xf32>, tensor<6x64x1x32xf32>, tensor<6x64x1x32xf32> -> tensor<1x2x4x32xf32>
  return %o : tensor<1x2x4x32xf32>
}
