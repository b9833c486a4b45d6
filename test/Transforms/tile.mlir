// RUN: attn-opt %s --attn-tile="tile-q=32 tile-kv=32" --canonicalize --cse -split-input-file | FileCheck %s

// Causal GQA (8 query heads over 2 kv heads): a parallel grid over
// (batch, q head, q tile); query head h reads kv head h / 4 in place; the
// kv loop's upper bound is the q tile's last row / 32 + 1, so tiles above
// the diagonal are never visited; full tiles run without a mask and only
// the partial branch carries #attn.causal. On tensors, in destination-
// passing style: the output is the grid's shared output, the kv loop
// carries the state, and each query tile's rows (100 = 3 x 32 + 4: the
// last tile has 4) are inserted into the output.
// CHECK-LABEL: func.func @causal_gqa
// CHECK-DAG:   %[[C4:.+]] = arith.constant 4 : index
// CHECK-DAG:   %[[C32:.+]] = arith.constant 32 : index
// CHECK:       %[[EMPTY:.+]] = tensor.empty() : tensor<2x8x100x64xf16>
// CHECK:       %[[GRID:.+]] = scf.forall (%[[B:.+]], %[[H:.+]], %[[QT:.+]]) in (2, 8, 4) shared_outs(%[[OUT:.+]] = %[[EMPTY]])
// CHECK:         %[[KVH:.+]] = arith.divui %[[H]], %[[C4]] : index
// CHECK:         %[[Q0:.+]] = arith.muli %[[QT]], %[[C32]] : index
// CHECK:         %[[INIT:.+]]:3 = attn.tile_init state({{.+}}) : tensor<32xf32>, tensor<32xf32>, tensor<32x64xf32> -> tensor<32xf32>, tensor<32xf32>, tensor<32x64xf32>
// CHECK:         %[[ROWS:.+]] = arith.minsi %{{.+}}, %[[C32]] : index
// CHECK:         %[[END:.+]] = arith.addi %[[Q0]], %[[ROWS]] : index
// CHECK:         %[[QLAST:.+]] = arith.subi %[[END]], %{{.+}} : index
// CHECK:         %[[LAST:.+]] = arith.floordivsi %[[QLAST]], %[[C32]] : index
// CHECK:         %[[UB1:.+]] = arith.addi %[[LAST]], %{{.+}} : index
// CHECK:         %[[UB2:.+]] = arith.minsi %[[UB1]], %[[C4]] : index
// CHECK:         %[[UB:.+]] = arith.maxsi %[[UB2]], %{{.+}} : index
// CHECK:         %[[STATE:.+]]:3 = scf.for %[[KT:[^ ]+]] = %{{.+}} to %[[UB]] step %{{.+}} iter_args(%[[M:.+]] = %[[INIT]]#0, %[[L:.+]] = %[[INIT]]#1, %[[ACC:.+]] = %[[INIT]]#2)
// CHECK:           %[[K0:.+]] = arith.muli %[[KT]], %[[C32]] : index
// One update per kv tile: full iff the tile's largest j - i is at most 0.
// CHECK-NOT:       scf.if
// CHECK:           %[[FULL:.+]] = arith.cmpi sle, %{{.+}}, %c0 : index
// CHECK-NOT:       scf.if
// CHECK:           %[[NEW:.+]]:3 = attn.tile_update %arg0, %arg1, %arg2 at(%[[B]], %[[H]], %[[KVH]], %[[Q0]], %[[K0]]) full(%[[FULL]]) state(%[[M]], %[[L]], %[[ACC]])
// CHECK-SAME:        {mask = #attn.causal, scale = 1.250000e-01 : f32, tile_kv = 32 : i64, tile_q = 32 : i64}
// CHECK-NOT:       attn.tile_update
// CHECK:           scf.yield %[[NEW]]#0, %[[NEW]]#1, %[[NEW]]#2
// CHECK:         %[[SLICE:.+]] = tensor.extract_slice %[[OUT]][%[[B]], %[[H]], %[[Q0]], 0] [1, 1, %[[ROWS]], 64] [1, 1, 1, 1] : tensor<2x8x100x64xf16> to tensor<?x64xf16>
// CHECK:         %[[WRITTEN:.+]] = attn.tile_finalize state(%[[STATE]]#0, %[[STATE]]#1, %[[STATE]]#2) into %[[SLICE]] : {{.+}} -> tensor<?x64xf16>
// CHECK:         scf.forall.in_parallel
// CHECK-NEXT:      tensor.parallel_insert_slice %[[WRITTEN]] into %[[OUT]][%[[B]], %[[H]], %[[Q0]], 0] [1, 1, %[[ROWS]], 64]
// The grid is mapped to GPU blocks: batch z, head y, query tile x.
// CHECK:       } {mapping = [#gpu.block<z>, #gpu.block<y>, #gpu.block<x>]}
// CHECK:       return %[[GRID]]
func.func @causal_gqa(%q: tensor<2x8x100x64xf16>, %k: tensor<2x2x100x64xf16>,
                      %v: tensor<2x2x100x64xf16>) -> tensor<2x8x100x64xf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.causal}
      : tensor<2x8x100x64xf16>, tensor<2x2x100x64xf16>, tensor<2x2x100x64xf16>
      -> tensor<2x8x100x64xf16>
  return %o : tensor<2x8x100x64xf16>
}

// -----

// Without a mask every kv tile is full: no branch, no mask, the loop runs
// over all 4 kv tiles. MQA: every query head reads kv head 0. (The unit
// batch index folds to 0; the grid, mapped to GPU blocks, keeps its three
// dimensions.)
// CHECK-LABEL: func.func @dense_mqa
// CHECK:       scf.forall (%{{.+}}, %[[H:.+]], %[[QT:.+]]) in (1, 4, 2)
// CHECK-NOT:     scf.if
// CHECK:         scf.for %{{.+}} = %c0 to %c4 step %c1
// CHECK-NEXT:      arith.muli
// CHECK-NEXT:      attn.tile_update %{{.+}} at(%c0, %[[H]], %c0, %{{.+}}, %{{.+}})
// CHECK-NOT:       mask =
// CHECK-NOT:     scf.if
func.func @dense_mqa(%q: tensor<1x4x64x32xf32>, %k: tensor<1x1x128x32xf32>,
                     %v: tensor<1x1x128x32xf32>) -> tensor<1x4x64x32xf32> {
  %o = attn.attention %q, %k, %v
      : tensor<1x4x64x32xf32>, tensor<1x1x128x32xf32>, tensor<1x1x128x32xf32>
      -> tensor<1x4x64x32xf32>
  return %o : tensor<1x4x64x32xf32>
}

// -----

// A static non-band mask gets a compile-time tile table: per q tile the
// non-empty kv tiles (CSR offsets) and whether each is full. Prefix-LM
// with prefix 40 over 4 x 4 tiles of 32: rows keep tiles {0, 1}, {0, 1},
// {0, 1, 2}, {0, 1, 2, 3}: 11 of 16 visited.
// CHECK-DAG:   memref.global "private" constant @[[FULL:__attn_kv_full_[0-9]+]] : memref<11xi32> = dense<[1, 0, 1, 0, 1, 1, 0, 1, 1, 1, 0]>
// CHECK-DAG:   memref.global "private" constant @[[TILES:__attn_kv_tiles_[0-9]+]] : memref<11xi32> = dense<[0, 1, 0, 1, 0, 1, 2, 0, 1, 2, 3]>
// CHECK-DAG:   memref.global "private" constant @[[OFFS:__attn_kv_offsets_[0-9]+]] : memref<5xi32> = dense<[0, 2, 4, 7, 11]>
// CHECK-LABEL: func.func @prefix_table
// CHECK:       scf.forall (%{{.+}}, %{{.+}}, %[[QT:.+]]) in (1, 2, 4)
// CHECK:         %[[OT:.+]] = memref.get_global @[[OFFS]]
// CHECK:         %[[LO:.+]] = memref.load %[[OT]][%[[QT]]]
// CHECK:         %[[QT1:.+]] = arith.addi %[[QT]], %c1
// CHECK:         %[[HI:.+]] = memref.load %[[OT]][%[[QT1]]]
// CHECK:         scf.for %[[E:.+]] = %{{.+}} to %{{.+}} step %c1
// CHECK:           memref.load %{{.+}}[%[[E]]]
// The full flag comes from the table.
// CHECK:           %[[F:.+]] = memref.load %{{.+}}[%[[E]]] : memref<11xi32>
// CHECK:           %[[FULL:.+]] = arith.cmpi ne, %[[F]], %c0_i32 : i32
// CHECK:           attn.tile_update {{.+}} full(%[[FULL]]) {{.+}} {mask = #attn.prefix_lm<prefix = 40>,
// CHECK-NOT:       attn.tile_update
func.func @prefix_table(%q: tensor<1x2x128x16xf32>, %k: tensor<1x2x128x16xf32>,
                        %v: tensor<1x2x128x16xf32>) -> tensor<1x2x128x16xf32> {
  %o = attn.attention %q, %k, %v {mask = #attn.prefix_lm<prefix = 40>}
      : tensor<1x2x128x16xf32>, tensor<1x2x128x16xf32>, tensor<1x2x128x16xf32>
      -> tensor<1x2x128x16xf32>
  return %o : tensor<1x2x128x16xf32>
}

// -----

// Causal linear attention in chunks of 32 queries (tile-q): a Dk x Dv state
// and a 32 x 32 intra-chunk buffer, never a 100 x 100 score matrix.
// CHECK-LABEL: func.func @linear_causal
// CHECK:       scf.forall (%{{.+}}) in (2)
// CHECK-DAG:     memref.alloc() : memref<16x8xf32>
// CHECK-DAG:     memref.alloc() : memref<16xf32>
// CHECK-DAG:     memref.alloc() : memref<32x32xf32>
// CHECK-NOT:     memref<100x100xf32>
// CHECK:         scf.for %[[C0:.+]] = %c0 to %c100 step %c32
// CHECK:           math.exp
// CHECK-NOT:   memref<100x100xf32>
func.func @linear_causal(%q: tensor<1x2x100x16xf32>, %k: tensor<1x2x100x16xf32>,
                         %v: tensor<1x2x100x8xf32>) -> tensor<1x2x100x8xf32> {
  %o = attn.linear_attention %q, %k, %v {causal, normalize}
      : tensor<1x2x100x16xf32>, tensor<1x2x100x16xf32>, tensor<1x2x100x8xf32>
      -> tensor<1x2x100x8xf32>
  return %o : tensor<1x2x100x8xf32>
}

// -----

// Document ids are only known at run time: a first grid over
// (batch, head, q tile, kv tile) counts each tile's kept elements into an
// i8 table (0 empty, 1 full, 2 partial); the attention's kv loop, bounded by
// the causal band, skips empty tiles and masks only partial ones.
// CHECK-LABEL: func.func @documents
// CHECK:       %[[TABLE:.+]] = memref.alloc() : memref<1x2x2x2xi8>
// CHECK:       scf.forall (%[[TH:.+]], %[[TQ:.+]], %[[TK:.+]]) in (2, 2, 2)
// CHECK:         arith.cmpi eq, %{{.+}}, %{{.+}} : i32
// CHECK:         memref.store %{{.+}}, %[[TABLE]][%c0, %[[TH]], %[[TQ]], %[[TK]]]
// CHECK:       scf.forall (%{{.+}}, %[[H:.+]], %[[QT:.+]]) in (1, 2, 2)
// CHECK:         scf.for %[[KT:[^ ]+]] =
// CHECK:           %[[CLASS:.+]] = memref.load %[[TABLE]][%c0, %[[H]], %[[QT]], %[[KT]]]
// CHECK:           %[[NONEMPTY:.+]] = arith.cmpi ne, %[[CLASS]], %c0_i8
// An empty tile passes the state on unchanged.
// CHECK:           %[[NEXT:.+]]:3 = scf.if %[[NONEMPTY]] -> (tensor<32xf32>, tensor<32xf32>, tensor<32x16xf32>) {
// CHECK:             %[[FULL:.+]] = arith.cmpi eq, %{{.+}}, %c1_i8
// CHECK:             %[[NEW:.+]]:3 = attn.tile_update {{.+}} full(%[[FULL]]) {{.+}} {mask = #attn.intersection<[#attn.causal, #attn.document]>,
// CHECK-NOT:         attn.tile_update
// CHECK:             scf.yield %[[NEW]]#0, %[[NEW]]#1, %[[NEW]]#2
// CHECK:           } else {
// CHECK:             scf.yield %[[M:[^,]+]], %[[L:[^,]+]], %[[ACC:[^ ]+]] :
// CHECK:           scf.yield %[[NEXT]]#0, %[[NEXT]]#1, %[[NEXT]]#2
// The table is freed by the host's deallocation pipeline, not here.
// CHECK-NOT:   memref.dealloc
func.func @documents(%q: tensor<1x2x64x16xf32>, %k: tensor<1x2x64x16xf32>,
                     %v: tensor<1x2x64x16xf32>, %qi: tensor<1x64xi32>,
                     %ki: tensor<1x64xi32>) -> tensor<1x2x64x16xf32> {
  %o = attn.attention %q, %k, %v segments(%qi, %ki : tensor<1x64xi32>, tensor<1x64xi32>)
      {mask = #attn.intersection<[#attn.causal, #attn.document]>}
      : tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>
      -> tensor<1x2x64x16xf32>
  return %o : tensor<1x2x64x16xf32>
}

// -----

// Captured tensors stay SSA values in scope: the regions cloned into the
// tile ops read them directly and keep only their (b, h, i, j) arguments.
// CHECK-LABEL: func.func @captures
// CHECK-SAME:  %[[WIN:[^ :]+]]: tensor<2xi32>
// CHECK:       attn.tile_update {{.+}} {mask = #attn.custom, {{.+}}} mask_mod {
// CHECK-NEXT:  ^bb0(%{{[^ :]+}}: index, %[[H:[^ :]+]]: index, %{{[^ :]+}}: index, %{{[^ :]+}}: index):
// CHECK:         tensor.extract %[[WIN]][%[[H]]] : tensor<2xi32>
func.func @captures(%q: tensor<1x2x64x16xf32>, %k: tensor<1x2x64x16xf32>,
                    %v: tensor<1x2x64x16xf32>, %win: tensor<2xi32>)
    -> tensor<1x2x64x16xf32> {
  %o = attn.attention %q, %k, %v captures(%win : tensor<2xi32>) mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index, %w: tensor<2xi32>):
    %wi = tensor.extract %w[%h] : tensor<2xi32>
    %wl = arith.index_cast %wi : i32 to index
    %d = arith.subi %i, %j : index
    %keep = arith.cmpi ule, %d, %wl : index
    attn.yield %keep : i1
  } : tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>
    -> tensor<1x2x64x16xf32>
  return %o : tensor<1x2x64x16xf32>
}
