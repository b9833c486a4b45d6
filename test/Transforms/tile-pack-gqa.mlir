// RUN: attn-opt %s --attn-tile="tile-q=1 tile-kv=256 pack-gqa-heads=true" --canonicalize --cse -split-input-file | FileCheck %s
// RUN: attn-opt %s --attn-tile="tile-q=1 tile-kv=256 pack-gqa-heads=true kv-splits=2" --canonicalize --cse -split-input-file | FileCheck %s --check-prefix=SPLIT
// RUN: attn-opt %s --attn-to-host -split-input-file > /dev/null
// RUN: not attn-opt %s --attn-tile="pack-gqa-heads=true" --attn-bufferize --attn-tile-to-gpu -split-input-file 2>&1 | FileCheck %s --check-prefix=GPU

// GQA decode, 8 query heads over 2 kv heads: with pack-gqa-heads the grid
// is (batch, kv head); a tile holds the 4 query heads of its kv head (rows
// r = head r of the group, q_heads = 4, tile_q = 4), so K and V are read
// once per group. Its output rows are the group's [4, 1, 64] of O,
// collapsed to the tile's [4, 64] and expanded back when inserted.
// CHECK-LABEL: func.func @gqa_decode
// CHECK:       scf.forall (%[[B:.+]], %[[KVH:[^ ,)]+]], %{{.+}}) in (2, 2, 1)
// CHECK:         %[[H0:.+]] = arith.muli %[[KVH]], %c4 : index
// CHECK:         scf.for
// CHECK:           attn.tile_update %{{.+}}, %{{.+}}, %{{.+}} at(%[[B]], %[[H0]], %[[KVH]], %c0, %{{.+}})
// CHECK-SAME:        q_heads = 4 : i64
// CHECK-SAME:        tile_q = 4 : i64
// CHECK:         %[[OS:.+]] = tensor.extract_slice %{{.+}}[%[[B]], %[[H0]], 0, 0] [1, 4, 1, 64] [1, 1, 1, 1] : tensor<2x8x1x64xf16> to tensor<4x1x64xf16>
// CHECK:         %[[OR:.+]] = tensor.collapse_shape %[[OS]] {{\[}}[0, 1], [2]] : tensor<4x1x64xf16> into tensor<4x64xf16>
// CHECK:         %[[LS:.+]] = tensor.extract_slice %{{.+}}[%[[B]], %[[H0]], 0] [1, 4, 1] [1, 1, 1] : tensor<2x8x1xf32> to tensor<4x1xf32>
// CHECK:         %[[LR:.+]] = tensor.collapse_shape %[[LS]] {{\[}}[0, 1]] : tensor<4x1xf32> into tensor<4xf32>
// CHECK:         %[[F:.+]]:2 = attn.tile_finalize {{.*}} into %[[OR]], %[[LR]]
// CHECK:         %[[OE:.+]] = tensor.expand_shape %[[F]]#0 {{\[}}[0, 1], [2]] output_shape [4, 1, 64] : tensor<4x64xf16> into tensor<4x1x64xf16>
// CHECK:         tensor.parallel_insert_slice %[[OE]] into %{{.+}}[%[[B]], %[[H0]], 0, 0] [1, 4, 1, 64]

// With kv splits the partials are [B, N, Hq, Sq, Dv]: a split's heads are
// contiguous, so the packed rows collapse there too; the merge grid runs
// per query head.
// SPLIT-LABEL: func.func @gqa_decode
// SPLIT:       tensor.empty() : tensor<2x2x8x1x64xf32>
// SPLIT:       scf.forall (%[[B:.+]], %[[KVH:[^ ,)]+]], %{{.+}}) in (2, 2, 2)
// SPLIT:         tensor.extract_slice %{{.+}}[%[[B]], %{{.+}}, %{{.+}}, %{{.+}}, 0] [1, 1, 4, 1, 64] [1, 1, 1, 1, 1] : tensor<2x2x8x1x64xf32> to tensor<4x1x64xf32>
// SPLIT:         tensor.collapse_shape
// SPLIT:       scf.forall (%{{.+}}, %{{.+}}, %{{.+}}) in (2, 8, 1)
// SPLIT:         attn.tile_merge

// GPU: attn-tile-to-gpu: query heads packed into a tile (attn-tile's pack-gqa-heads) are not lowered to the GPU yet
func.func @gqa_decode(%q: tensor<2x8x1x64xf16>, %k: tensor<2x2x1024x64xf16>, %v: tensor<2x2x1024x64xf16>)
    -> (tensor<2x8x1x64xf16>, tensor<2x8x1xf32>) {
  %o, %l = attn.attention %q, %k, %v {mask = #attn.causal<bottom_right>}
      : tensor<2x8x1x64xf16>, tensor<2x2x1024x64xf16>, tensor<2x2x1024x64xf16>
      -> tensor<2x8x1x64xf16>, tensor<2x8x1xf32>
  return %o, %l : tensor<2x8x1x64xf16>, tensor<2x8x1xf32>
}

// -----

// A mask whose tile table depends on the head (a mask_mod of h) keeps a
// tile per query head.
// CHECK-LABEL: func.func @per_head_mask
// CHECK:       scf.forall (%{{.+}}, %{{.+}}, %{{.+}}) in (1, 8, 1)
// CHECK-NOT:     q_heads
// CHECK:       return
func.func @per_head_mask(%q: tensor<1x8x1x64xf32>, %k: tensor<1x2x512x64xf32>, %v: tensor<1x2x512x64xf32>) -> tensor<1x8x1x64xf32> {
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c3 = arith.constant 3 : index
    %r = arith.remui %j, %c3 : index
    %keep = arith.cmpi ne, %r, %h : index
    attn.yield %keep : i1
  } : tensor<1x8x1x64xf32>, tensor<1x2x512x64xf32>, tensor<1x2x512x64xf32> -> tensor<1x8x1x64xf32>
  return %o : tensor<1x8x1x64xf32>
}

// -----

// A group of 7 heads would fill 1-lane row vectors: a tile per query
// head. No query at all: nothing is packed (and nothing divides by 0).
// CHECK-LABEL: func.func @odd_group
// CHECK:       scf.forall (%{{.+}}, %{{.+}}, %{{.+}}) in (1, 14, 1)
// CHECK-NOT:     q_heads
// CHECK-LABEL: func.func @no_queries
// CHECK-NOT:     q_heads
// CHECK:       return
func.func @odd_group(%q: tensor<1x14x1x64xf32>, %k: tensor<1x2x512x64xf32>, %v: tensor<1x2x512x64xf32>) -> tensor<1x14x1x64xf32> {
  %o = attn.attention %q, %k, %v : tensor<1x14x1x64xf32>, tensor<1x2x512x64xf32>, tensor<1x2x512x64xf32> -> tensor<1x14x1x64xf32>
  return %o : tensor<1x14x1x64xf32>
}
func.func @no_queries(%q: tensor<2x4x0x16xf32>, %k: tensor<2x2x9x16xf32>, %v: tensor<2x2x9x16xf32>) -> tensor<2x4x0x16xf32> {
  %o = attn.attention %q, %k, %v {mask = #attn.causal<bottom_right>} : tensor<2x4x0x16xf32>, tensor<2x2x9x16xf32>, tensor<2x2x9x16xf32> -> tensor<2x4x0x16xf32>
  return %o : tensor<2x4x0x16xf32>
}
