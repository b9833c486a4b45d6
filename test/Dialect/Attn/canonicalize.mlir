// RUN: attn-opt %s --canonicalize --split-input-file | FileCheck %s

// Canonicalization simplifies the mask attribute of attn.attention (see
// simplifyMask): nested combinators of one kind are flattened, duplicates
// and neutral elements dropped, #attn.none absorbs a union, a double
// complement cancels, and a combinator left with one operand is unwrapped.
// A mask that simplifies to #attn.none is removed altogether.

// CHECK-LABEL: func.func @union_flatten
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.union<[#attn.causal, #attn.window<left = 8, right = 0>, #attn.global<first = 2>, #attn.prefix_lm<prefix = 4>]>} :
func.func @union_flatten(%q: tensor<1x4x64x16xf32>, %k: tensor<1x4x64x16xf32>,
                         %v: tensor<1x4x64x16xf32>) -> tensor<1x4x64x16xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.union<[#attn.causal,
                           #attn.union<[#attn.window<left = 8, right = 0>,
                                        #attn.union<[#attn.global<first = 2>,
                                                     #attn.prefix_lm<prefix = 4>]>]>]>}
      : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>
      -> tensor<1x4x64x16xf32>
  return %o : tensor<1x4x64x16xf32>
}

// -----

// CHECK-LABEL: func.func @intersection_flatten
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.intersection<[#attn.causal, #attn.window<left = 8, right = 8>, #attn.prefix_lm<prefix = 4>]>} :
func.func @intersection_flatten(%q: tensor<1x4x64x16xf32>,
                                %k: tensor<1x4x64x16xf32>,
                                %v: tensor<1x4x64x16xf32>)
    -> tensor<1x4x64x16xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.intersection<[
                #attn.intersection<[#attn.causal,
                                    #attn.window<left = 8, right = 8>]>,
                #attn.prefix_lm<prefix = 4>]>}
      : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>
      -> tensor<1x4x64x16xf32>
  return %o : tensor<1x4x64x16xf32>
}

// -----

// Duplicates go, also those that only appear after flattening; the first
// occurrence keeps its place.
// CHECK-LABEL: func.func @union_dedup
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.union<[#attn.causal, #attn.global<first = 2>, #attn.window<left = 4, right = 4>]>} :
func.func @union_dedup(%q: tensor<1x4x64x16xf32>, %k: tensor<1x4x64x16xf32>,
                       %v: tensor<1x4x64x16xf32>) -> tensor<1x4x64x16xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.union<[#attn.causal, #attn.global<first = 2>,
                           #attn.union<[#attn.causal,
                                        #attn.window<left = 4, right = 4>]>,
                           #attn.global<first = 2>]>}
      : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>
      -> tensor<1x4x64x16xf32>
  return %o : tensor<1x4x64x16xf32>
}

// -----

// Masks that differ only in a parameter are not duplicates.
// CHECK-LABEL: func.func @intersection_dedup
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.intersection<[#attn.window<left = 4, right = 0>, #attn.window<left = 4, right = 0, alignment = bottom_right>]>} :
func.func @intersection_dedup(%q: tensor<1x4x64x16xf32>,
                              %k: tensor<1x4x64x16xf32>,
                              %v: tensor<1x4x64x16xf32>)
    -> tensor<1x4x64x16xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.intersection<[
                #attn.window<left = 4, right = 0>,
                #attn.window<left = 4, right = 0, alignment = bottom_right>,
                #attn.window<left = 4, right = 0, alignment = top_left>]>}
      : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>
      -> tensor<1x4x64x16xf32>
  return %o : tensor<1x4x64x16xf32>
}

// -----

// A union with #attn.none keeps everything: the mask attribute goes away.
// CHECK-LABEL: func.func @union_with_none
// CHECK-NOT: mask =
// CHECK: attn.attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} {score_mod = #attn.softcap<30.0>} : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32> -> tensor<1x4x64x16xf32>{{$}}
// CHECK-NOT: mask =
// CHECK: return
func.func @union_with_none(%q: tensor<1x4x64x16xf32>, %k: tensor<1x4x64x16xf32>,
                           %v: tensor<1x4x64x16xf32>) -> tensor<1x4x64x16xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.union<[#attn.causal, #attn.none,
                           #attn.window<left = 4, right = 4>]>,
       score_mod = #attn.softcap<30.0>}
      : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>
      -> tensor<1x4x64x16xf32>
  return %o : tensor<1x4x64x16xf32>
}

// -----

// #attn.none deep inside nested unions absorbs them all.
// CHECK-LABEL: func.func @nested_union_with_none
// CHECK-NOT: mask =
// CHECK: attn.attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32> -> tensor<1x4x64x16xf32>{{$}}
func.func @nested_union_with_none(%q: tensor<1x4x64x16xf32>,
                                  %k: tensor<1x4x64x16xf32>,
                                  %v: tensor<1x4x64x16xf32>)
    -> tensor<1x4x64x16xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.union<[#attn.causal,
                           #attn.union<[#attn.global<first = 1>,
                                        #attn.none]>]>}
      : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>
      -> tensor<1x4x64x16xf32>
  return %o : tensor<1x4x64x16xf32>
}

// -----

// A plain #attn.none is the same as no mask.
// CHECK-LABEL: func.func @plain_none
// CHECK-NOT: mask =
// CHECK: attn.attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32> -> tensor<1x4x64x16xf32>{{$}}
func.func @plain_none(%q: tensor<1x4x64x16xf32>, %k: tensor<1x4x64x16xf32>,
                      %v: tensor<1x4x64x16xf32>) -> tensor<1x4x64x16xf32> {
  %o = attn.attention %q, %k, %v {mask = #attn.none}
      : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>
      -> tensor<1x4x64x16xf32>
  return %o : tensor<1x4x64x16xf32>
}

// -----

// #attn.none is neutral in an intersection.
// CHECK-LABEL: func.func @intersection_drops_none
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.intersection<[#attn.causal, #attn.window<left = 16, right = 0>]>} :
func.func @intersection_drops_none(%q: tensor<1x4x64x16xf32>,
                                   %k: tensor<1x4x64x16xf32>,
                                   %v: tensor<1x4x64x16xf32>)
    -> tensor<1x4x64x16xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.intersection<[#attn.none, #attn.causal, #attn.none,
                                  #attn.window<left = 16, right = 0>]>}
      : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>
      -> tensor<1x4x64x16xf32>
  return %o : tensor<1x4x64x16xf32>
}

// -----

// Dropping #attn.none leaves one operand, which is unwrapped.
// CHECK-LABEL: func.func @intersection_none_unwraps
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.causal<bottom_right>} :
func.func @intersection_none_unwraps(%q: tensor<1x4x16x16xf32>,
                                     %k: tensor<1x4x64x16xf32>,
                                     %v: tensor<1x4x64x16xf32>)
    -> tensor<1x4x16x16xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.intersection<[#attn.none, #attn.causal<bottom_right>]>}
      : tensor<1x4x16x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>
      -> tensor<1x4x16x16xf32>
  return %o : tensor<1x4x16x16xf32>
}

// -----

// An intersection of nothing but #attn.none keeps everything.
// CHECK-LABEL: func.func @intersection_all_none
// CHECK-NOT: mask =
// CHECK: attn.attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32> -> tensor<1x4x64x16xf32>{{$}}
// CHECK-NOT: mask =
// CHECK: return
func.func @intersection_all_none(%q: tensor<1x4x64x16xf32>,
                                 %k: tensor<1x4x64x16xf32>,
                                 %v: tensor<1x4x64x16xf32>)
    -> tensor<1x4x64x16xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.intersection<[#attn.none, #attn.none]>}
      : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>
      -> tensor<1x4x64x16xf32>
  return %o : tensor<1x4x64x16xf32>
}

// -----

// A union of copies of one mask is that mask.
// CHECK-LABEL: func.func @union_dedup_to_single
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.window<left = 32, right = 0>} :
func.func @union_dedup_to_single(%q: tensor<1x4x64x16xf32>,
                                 %k: tensor<1x4x64x16xf32>,
                                 %v: tensor<1x4x64x16xf32>)
    -> tensor<1x4x64x16xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.union<[#attn.window<left = 32, right = 0>,
                           #attn.union<[#attn.window<left = 32, right = 0>,
                                        #attn.window<left = 32, right = 0>]>]>}
      : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>
      -> tensor<1x4x64x16xf32>
  return %o : tensor<1x4x64x16xf32>
}

// -----

// CHECK-LABEL: func.func @double_complement
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.window<left = 4, right = 4>} :
func.func @double_complement(%q: tensor<1x4x64x16xf32>,
                             %k: tensor<1x4x64x16xf32>,
                             %v: tensor<1x4x64x16xf32>)
    -> tensor<1x4x64x16xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.complement<#attn.complement<#attn.window<left = 4, right = 4>>>}
      : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>
      -> tensor<1x4x64x16xf32>
  return %o : tensor<1x4x64x16xf32>
}

// -----

// Three complements leave one.
// CHECK-LABEL: func.func @triple_complement
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.complement<#attn.causal>} :
func.func @triple_complement(%q: tensor<1x4x64x16xf32>,
                             %k: tensor<1x4x64x16xf32>,
                             %v: tensor<1x4x64x16xf32>)
    -> tensor<1x4x64x16xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.complement<#attn.complement<#attn.complement<#attn.causal>>>}
      : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>
      -> tensor<1x4x64x16xf32>
  return %o : tensor<1x4x64x16xf32>
}

// -----

// Simplification reaches inside a complement and inside combinators of the
// other kind; a double complement in a union is cancelled, and the union is
// then flattened with it.
// CHECK-LABEL: func.func @simplify_inside
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.intersection<[#attn.complement<#attn.window<left = 2, right = 2>>, #attn.union<[#attn.causal, #attn.global<first = 1>, #attn.prefix_lm<prefix = 8>]>]>} :
func.func @simplify_inside(%q: tensor<1x4x64x16xf32>, %k: tensor<1x4x64x16xf32>,
                           %v: tensor<1x4x64x16xf32>)
    -> tensor<1x4x64x16xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.intersection<[
                #attn.complement<#attn.intersection<[
                  #attn.window<left = 2, right = 2>, #attn.none]>>,
                #attn.union<[#attn.causal,
                             #attn.complement<#attn.complement<
                               #attn.union<[#attn.global<first = 1>,
                                            #attn.causal]>>>,
                             #attn.prefix_lm<prefix = 8>]>]>}
      : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>
      -> tensor<1x4x64x16xf32>
  return %o : tensor<1x4x64x16xf32>
}

// -----

// A union that absorbs into #attn.none inside an intersection is dropped
// there as the neutral element.
// CHECK-LABEL: func.func @absorbed_union_in_intersection
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.intersection<[#attn.causal, #attn.document]>} :
func.func @absorbed_union_in_intersection(%q: tensor<1x4x64x16xf32>,
                                          %k: tensor<1x4x64x16xf32>,
                                          %v: tensor<1x4x64x16xf32>,
                                          %q_ids: tensor<1x64xi32>,
                                          %kv_ids: tensor<1x64xi32>)
    -> tensor<1x4x64x16xf32> {
  %o = attn.attention %q, %k, %v
      segments(%q_ids, %kv_ids : tensor<1x64xi32>, tensor<1x64xi32>)
      {mask = #attn.intersection<[#attn.causal,
                                  #attn.union<[#attn.none,
                                               #attn.global<first = 1>]>,
                                  #attn.document]>}
      : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>
      -> tensor<1x4x64x16xf32>
  return %o : tensor<1x4x64x16xf32>
}

// -----

// #attn.custom takes part like any other mask; the region stays.
// CHECK-LABEL: func.func @custom_dedup
// CHECK: attn.attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} {mask = #attn.custom} mask_mod {
// CHECK: arith.cmpi sle
// CHECK: attn.yield
func.func @custom_dedup(%q: tensor<1x4x64x16xf32>, %k: tensor<1x4x64x16xf32>,
                        %v: tensor<1x4x64x16xf32>) -> tensor<1x4x64x16xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.intersection<[#attn.custom, #attn.none, #attn.custom]>}
      mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index):
      %keep = arith.cmpi sle, %j, %i : index
      attn.yield %keep : i1
    }
      : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>
      -> tensor<1x4x64x16xf32>
  return %o : tensor<1x4x64x16xf32>
}

// -----

// Already simple masks do not change: combinators of different kinds nest,
// a single complement stays, order is kept.
// CHECK-LABEL: func.func @unchanged
// CHECK: %[[A:[^ ]+]] = attn.attention
// CHECK-SAME: {mask = #attn.intersection<[#attn.causal, #attn.union<[#attn.window<left = 256, right = 0>, #attn.global<first = 4>]>]>, score_mod = #attn.softcap<30.0>} :
// CHECK: %[[B:[^ ]+]] = attn.attention
// CHECK-SAME: {mask = #attn.union<[#attn.global<first = 4>, #attn.intersection<[#attn.window<left = 8, right = 8>, #attn.complement<#attn.prefix_lm<prefix = 2>>]>]>} :
// CHECK: %[[C:[^ ]+]] = attn.attention
// CHECK-SAME: {mask = #attn.complement<#attn.union<[#attn.causal, #attn.dilated<window = 2, dilation = 2>]>>} :
// CHECK: %[[D:[^ ]+]] = attn.attention
// CHECK-SAME: {mask = #attn.random_blocks<block = 16, per_row = 1, seed = 3>} :
// CHECK: return %[[A]], %[[B]], %[[C]], %[[D]]
func.func @unchanged(%q: tensor<1x4x64x16xf32>, %k: tensor<1x4x64x16xf32>,
                     %v: tensor<1x4x64x16xf32>)
    -> (tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>,
        tensor<1x4x64x16xf32>) {
  %a = attn.attention %q, %k, %v
      {mask = #attn.intersection<[
                #attn.causal,
                #attn.union<[#attn.window<left = 256, right = 0>,
                             #attn.global<first = 4>]>]>,
       score_mod = #attn.softcap<30.0>}
      : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>
      -> tensor<1x4x64x16xf32>
  %b = attn.attention %q, %k, %v
      {mask = #attn.union<[#attn.global<first = 4>,
                           #attn.intersection<[
                             #attn.window<left = 8, right = 8>,
                             #attn.complement<#attn.prefix_lm<prefix = 2>>]>]>}
      : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>
      -> tensor<1x4x64x16xf32>
  %c = attn.attention %q, %k, %v
      {mask = #attn.complement<#attn.union<[
                #attn.causal, #attn.dilated<window = 2, dilation = 2>]>>}
      : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>
      -> tensor<1x4x64x16xf32>
  %d = attn.attention %q, %k, %v
      {mask = #attn.random_blocks<block = 16, per_row = 1, seed = 3>}
      : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>
      -> tensor<1x4x64x16xf32>
  return %a, %b, %c, %d
      : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>,
        tensor<1x4x64x16xf32>
}

// -----

// A union with #attn.none keeps everything, but it also holds the only
// reference to the mask_mod region (or to the segment ids): dropping the
// mask would make the region the mask, so the mask stays as written.
// CHECK-LABEL: func.func @keeps_custom_reference
// CHECK:       mask = #attn.union<[#attn.none, #attn.custom]>
// CHECK-LABEL: func.func @keeps_document_reference
// CHECK:       mask = #attn.union<[#attn.document, #attn.none]>
func.func @keeps_custom_reference(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<1x4x16x8xf32> {
  %o = attn.attention %q, %k, %v {mask = #attn.union<[#attn.none, #attn.custom]>} mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %keep = arith.cmpi ule, %j, %i : index
    attn.yield %keep : i1
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}
func.func @keeps_document_reference(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %qi: tensor<1x16xi32>, %ki: tensor<1x16xi32>) -> tensor<1x4x16x8xf32> {
  %o = attn.attention %q, %k, %v segments(%qi, %ki : tensor<1x16xi32>, tensor<1x16xi32>) {mask = #attn.union<[#attn.document, #attn.none]>}
      : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// -----

// #attn.random_blocks keeps every block of a row that has no more than
// per_row blocks: at S = 4096 with blocks of 64 there are 64 per row, so
// per_row = 64 keeps everything and the mask folds to #attn.none without
// its table being built (at S = 65536 the lowering once spent 42 s on a
// million-entry table). Nested in a combinator it folds too (#attn.none
// absorbs the union, is neutral in the intersection); with one block fewer
// than the row, or a dynamic key length, it stays.
// CHECK-LABEL: func.func @random_blocks_keep_all
// CHECK:       %[[A:.+]] = attn.attention %{{.+}}, %{{.+}}, %{{.+}} :
// CHECK:       %[[B:.+]] = attn.attention %{{.+}}, %{{.+}}, %{{.+}} :
// CHECK:       %[[C:.+]] = attn.attention
// CHECK-SAME:      {mask = #attn.causal} :
// CHECK:       %[[D:.+]] = attn.attention
// CHECK-SAME:      {mask = #attn.random_blocks<block = 64, per_row = 63, seed = 7>} :
// CHECK:       return %[[A]], %[[B]], %[[C]], %[[D]]
func.func @random_blocks_keep_all(%q: tensor<1x1x4096x64xf16>, %k: tensor<1x1x4096x64xf16>, %v: tensor<1x1x4096x64xf16>)
    -> (tensor<1x1x4096x64xf16>, tensor<1x1x4096x64xf16>, tensor<1x1x4096x64xf16>, tensor<1x1x4096x64xf16>) {
  %a = attn.attention %q, %k, %v {mask = #attn.random_blocks<block = 64, per_row = 64, seed = 7>}
      : tensor<1x1x4096x64xf16>, tensor<1x1x4096x64xf16>, tensor<1x1x4096x64xf16> -> tensor<1x1x4096x64xf16>
  %b = attn.attention %q, %k, %v {mask = #attn.union<[#attn.causal, #attn.random_blocks<block = 64, per_row = 5000, seed = 7>]>}
      : tensor<1x1x4096x64xf16>, tensor<1x1x4096x64xf16>, tensor<1x1x4096x64xf16> -> tensor<1x1x4096x64xf16>
  %c = attn.attention %q, %k, %v {mask = #attn.intersection<[#attn.causal, #attn.random_blocks<block = 64, per_row = 64, seed = 7>]>}
      : tensor<1x1x4096x64xf16>, tensor<1x1x4096x64xf16>, tensor<1x1x4096x64xf16> -> tensor<1x1x4096x64xf16>
  %d = attn.attention %q, %k, %v {mask = #attn.random_blocks<block = 64, per_row = 63, seed = 7>}
      : tensor<1x1x4096x64xf16>, tensor<1x1x4096x64xf16>, tensor<1x1x4096x64xf16> -> tensor<1x1x4096x64xf16>
  return %a, %b, %c, %d : tensor<1x1x4096x64xf16>, tensor<1x1x4096x64xf16>, tensor<1x1x4096x64xf16>, tensor<1x1x4096x64xf16>
}

// CHECK-LABEL: func.func @random_blocks_dynamic_length
// CHECK:       mask = #attn.random_blocks<block = 64, per_row = 64, seed = 7>
func.func @random_blocks_dynamic_length(%q: tensor<1x1x?x64xf16>, %k: tensor<1x1x?x64xf16>, %v: tensor<1x1x?x64xf16>) -> tensor<1x1x?x64xf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.random_blocks<block = 64, per_row = 64, seed = 7>}
      : tensor<1x1x?x64xf16>, tensor<1x1x?x64xf16>, tensor<1x1x?x64xf16> -> tensor<1x1x?x64xf16>
  return %o : tensor<1x1x?x64xf16>
}
