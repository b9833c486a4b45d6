// RUN: attn-opt %s | attn-opt | FileCheck %s
// RUN: attn-opt %s --mlir-print-op-generic | attn-opt | FileCheck %s

// Round trip of every attn op and attribute, through the custom and the
// generic form. The CHECK lines match the printed attribute text exactly
// (defaults elided, float formatting), so that a printer change fails here.

//===----------------------------------------------------------------------===//
// attn.attention: shapes, element types, optional results and operands
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @plain_f32
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x8x128x64xf32>, %[[K:[^:]+]]: tensor<1x8x128x64xf32>, %[[V:[^:]+]]: tensor<1x8x128x64xf32>)
// CHECK: %[[O:[^ ]+]] = attn.attention %[[Q]], %[[K]], %[[V]] : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32> -> tensor<1x8x128x64xf32>{{$}}
// CHECK: return %[[O]] : tensor<1x8x128x64xf32>
func.func @plain_f32(%q: tensor<1x8x128x64xf32>, %k: tensor<1x8x128x64xf32>,
                     %v: tensor<1x8x128x64xf32>) -> tensor<1x8x128x64xf32> {
  %o = attn.attention %q, %k, %v
      : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>
      -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// CHECK-LABEL: func.func @logsumexp_f16
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<2x4x32x16xf16>, %[[K:[^:]+]]: tensor<2x4x32x16xf16>, %[[V:[^:]+]]: tensor<2x4x32x16xf16>)
// CHECK: %[[O:[^ ,]+]], %[[LSE:[^ ]+]] = attn.attention %[[Q]], %[[K]], %[[V]] : tensor<2x4x32x16xf16>, tensor<2x4x32x16xf16>, tensor<2x4x32x16xf16> -> tensor<2x4x32x16xf16>, tensor<2x4x32xf32>{{$}}
// CHECK: return %[[O]], %[[LSE]] : tensor<2x4x32x16xf16>, tensor<2x4x32xf32>
func.func @logsumexp_f16(%q: tensor<2x4x32x16xf16>, %k: tensor<2x4x32x16xf16>,
                         %v: tensor<2x4x32x16xf16>)
    -> (tensor<2x4x32x16xf16>, tensor<2x4x32xf32>) {
  %o, %lse = attn.attention %q, %k, %v
      : tensor<2x4x32x16xf16>, tensor<2x4x32x16xf16>, tensor<2x4x32x16xf16>
      -> tensor<2x4x32x16xf16>, tensor<2x4x32xf32>
  return %o, %lse : tensor<2x4x32x16xf16>, tensor<2x4x32xf32>
}

// CHECK-LABEL: func.func @bf16_scale
// CHECK: attn.attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} {scale = 1.250000e-01 : f32} : tensor<1x2x64x32xbf16>, tensor<1x2x64x32xbf16>, tensor<1x2x64x32xbf16> -> tensor<1x2x64x32xbf16>{{$}}
func.func @bf16_scale(%q: tensor<1x2x64x32xbf16>, %k: tensor<1x2x64x32xbf16>,
                      %v: tensor<1x2x64x32xbf16>) -> tensor<1x2x64x32xbf16> {
  %o = attn.attention %q, %k, %v {scale = 0.125 : f32}
      : tensor<1x2x64x32xbf16>, tensor<1x2x64x32xbf16>, tensor<1x2x64x32xbf16>
      -> tensor<1x2x64x32xbf16>
  return %o : tensor<1x2x64x32xbf16>
}

// Dynamic batch and sequence lengths; Sq and Skv differ.
// CHECK-LABEL: func.func @dynamic_sizes
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<?x8x?x64xf16>, %[[K:[^:]+]]: tensor<?x8x?x64xf16>, %[[V:[^:]+]]: tensor<?x8x?x64xf16>)
// CHECK: %[[O:[^ ,]+]], %[[LSE:[^ ]+]] = attn.attention %[[Q]], %[[K]], %[[V]] {mask = #attn.causal<bottom_right>} : tensor<?x8x?x64xf16>, tensor<?x8x?x64xf16>, tensor<?x8x?x64xf16> -> tensor<?x8x?x64xf16>, tensor<?x8x?xf32>{{$}}
// CHECK: return %[[O]], %[[LSE]]
func.func @dynamic_sizes(%q: tensor<?x8x?x64xf16>, %k: tensor<?x8x?x64xf16>,
                         %v: tensor<?x8x?x64xf16>)
    -> (tensor<?x8x?x64xf16>, tensor<?x8x?xf32>) {
  %o, %lse = attn.attention %q, %k, %v {mask = #attn.causal<bottom_right>}
      : tensor<?x8x?x64xf16>, tensor<?x8x?x64xf16>, tensor<?x8x?x64xf16>
      -> tensor<?x8x?x64xf16>, tensor<?x8x?xf32>
  return %o, %lse : tensor<?x8x?x64xf16>, tensor<?x8x?xf32>
}

// Dynamic sizes mixed with static ones of the other operands.
// CHECK-LABEL: func.func @dynamic_mixed
// CHECK: attn.attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} : tensor<?x4x?x32xf32>, tensor<2x4x100x32xf32>, tensor<?x4x?x32xf32> -> tensor<2x4x?x32xf32>{{$}}
func.func @dynamic_mixed(%q: tensor<?x4x?x32xf32>, %k: tensor<2x4x100x32xf32>,
                         %v: tensor<?x4x?x32xf32>) -> tensor<2x4x?x32xf32> {
  %o = attn.attention %q, %k, %v
      : tensor<?x4x?x32xf32>, tensor<2x4x100x32xf32>, tensor<?x4x?x32xf32>
      -> tensor<2x4x?x32xf32>
  return %o : tensor<2x4x?x32xf32>
}

// Grouped-query attention: 32 query heads over 8 key/value heads.
// CHECK-LABEL: func.func @gqa
// CHECK: attn.attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} {mask = #attn.causal} : tensor<2x32x256x128xbf16>, tensor<2x8x256x128xbf16>, tensor<2x8x256x128xbf16> -> tensor<2x32x256x128xbf16>, tensor<2x32x256xf32>{{$}}
func.func @gqa(%q: tensor<2x32x256x128xbf16>, %k: tensor<2x8x256x128xbf16>,
               %v: tensor<2x8x256x128xbf16>)
    -> (tensor<2x32x256x128xbf16>, tensor<2x32x256xf32>) {
  %o, %lse = attn.attention %q, %k, %v {mask = #attn.causal}
      : tensor<2x32x256x128xbf16>, tensor<2x8x256x128xbf16>,
        tensor<2x8x256x128xbf16>
      -> tensor<2x32x256x128xbf16>, tensor<2x32x256xf32>
  return %o, %lse : tensor<2x32x256x128xbf16>, tensor<2x32x256xf32>
}

// Multi-query attention: one key/value head; decode (Sq = 1 != Skv).
// CHECK-LABEL: func.func @mqa_decode
// CHECK: attn.attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} {mask = #attn.causal<bottom_right>} : tensor<4x16x1x64xf16>, tensor<4x1x2048x64xf16>, tensor<4x1x2048x64xf16> -> tensor<4x16x1x64xf16>{{$}}
func.func @mqa_decode(%q: tensor<4x16x1x64xf16>, %k: tensor<4x1x2048x64xf16>,
                      %v: tensor<4x1x2048x64xf16>) -> tensor<4x16x1x64xf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.causal<bottom_right>}
      : tensor<4x16x1x64xf16>, tensor<4x1x2048x64xf16>, tensor<4x1x2048x64xf16>
      -> tensor<4x16x1x64xf16>
  return %o : tensor<4x16x1x64xf16>
}

// Different Q.K and V head dims (MLA: 576 / 512), Sq != Skv.
// CHECK-LABEL: func.func @mla_head_dims
// CHECK: attn.attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} {scale = 0.0416666679 : f32} : tensor<1x16x64x576xbf16>, tensor<1x1x512x576xbf16>, tensor<1x1x512x512xbf16> -> tensor<1x16x64x512xbf16>, tensor<1x16x64xf32>{{$}}
func.func @mla_head_dims(%q: tensor<1x16x64x576xbf16>,
                         %k: tensor<1x1x512x576xbf16>,
                         %v: tensor<1x1x512x512xbf16>)
    -> (tensor<1x16x64x512xbf16>, tensor<1x16x64xf32>) {
  %o, %lse = attn.attention %q, %k, %v {scale = 0.0416666679 : f32}
      : tensor<1x16x64x576xbf16>, tensor<1x1x512x576xbf16>,
        tensor<1x1x512x512xbf16>
      -> tensor<1x16x64x512xbf16>, tensor<1x16x64xf32>
  return %o, %lse : tensor<1x16x64x512xbf16>, tensor<1x16x64xf32>
}

// An additive bias, f32 on bf16 inputs, broadcast over batch and heads.
// CHECK-LABEL: func.func @bias_broadcast
// CHECK-SAME: %[[B:[^:]+]]: tensor<1x1x64x96xf32>)
// CHECK: attn.attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} bias(%[[B]] : tensor<1x1x64x96xf32>) : tensor<2x4x64x32xbf16>, tensor<2x4x96x32xbf16>, tensor<2x4x96x32xbf16> -> tensor<2x4x64x32xbf16>{{$}}
func.func @bias_broadcast(%q: tensor<2x4x64x32xbf16>,
                          %k: tensor<2x4x96x32xbf16>,
                          %v: tensor<2x4x96x32xbf16>,
                          %bias: tensor<1x1x64x96xf32>)
    -> tensor<2x4x64x32xbf16> {
  %o = attn.attention %q, %k, %v bias(%bias : tensor<1x1x64x96xf32>)
      : tensor<2x4x64x32xbf16>, tensor<2x4x96x32xbf16>, tensor<2x4x96x32xbf16>
      -> tensor<2x4x64x32xbf16>
  return %o : tensor<2x4x64x32xbf16>
}

// A full-shape bias in the query element type, with dynamic sizes.
// CHECK-LABEL: func.func @bias_full_dynamic
// CHECK-SAME: %[[B:[^:]+]]: tensor<?x4x?x?xf16>)
// CHECK: attn.attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} bias(%[[B]] : tensor<?x4x?x?xf16>) {mask = #attn.causal} : tensor<?x4x?x32xf16>, tensor<?x4x?x32xf16>, tensor<?x4x?x32xf16> -> tensor<?x4x?x32xf16>{{$}}
func.func @bias_full_dynamic(%q: tensor<?x4x?x32xf16>,
                             %k: tensor<?x4x?x32xf16>,
                             %v: tensor<?x4x?x32xf16>,
                             %bias: tensor<?x4x?x?xf16>)
    -> tensor<?x4x?x32xf16> {
  %o = attn.attention %q, %k, %v bias(%bias : tensor<?x4x?x?xf16>)
      {mask = #attn.causal}
      : tensor<?x4x?x32xf16>, tensor<?x4x?x32xf16>, tensor<?x4x?x32xf16>
      -> tensor<?x4x?x32xf16>
  return %o : tensor<?x4x?x32xf16>
}

//===----------------------------------------------------------------------===//
// Mask attributes
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @mask_none
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.none} :
func.func @mask_none(%q: tensor<1x8x128x64xf32>, %k: tensor<1x8x128x64xf32>,
                     %v: tensor<1x8x128x64xf32>) -> tensor<1x8x128x64xf32> {
  %o = attn.attention %q, %k, %v {mask = #attn.none}
      : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>
      -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// CHECK-LABEL: func.func @mask_causal
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.causal} :
func.func @mask_causal(%q: tensor<1x8x128x64xf32>, %k: tensor<1x8x128x64xf32>,
                       %v: tensor<1x8x128x64xf32>) -> tensor<1x8x128x64xf32> {
  %o = attn.attention %q, %k, %v {mask = #attn.causal}
      : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>
      -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// The default alignment is elided.
// CHECK-LABEL: func.func @mask_causal_top_left
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.causal} :
func.func @mask_causal_top_left(%q: tensor<1x8x128x64xf32>,
                                %k: tensor<1x8x128x64xf32>,
                                %v: tensor<1x8x128x64xf32>)
    -> tensor<1x8x128x64xf32> {
  %o = attn.attention %q, %k, %v {mask = #attn.causal<top_left>}
      : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>
      -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// CHECK-LABEL: func.func @mask_causal_bottom_right
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.causal<bottom_right>} :
func.func @mask_causal_bottom_right(%q: tensor<1x8x32x64xf32>,
                                    %k: tensor<1x8x128x64xf32>,
                                    %v: tensor<1x8x128x64xf32>)
    -> tensor<1x8x32x64xf32> {
  %o = attn.attention %q, %k, %v {mask = #attn.causal<bottom_right>}
      : tensor<1x8x32x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>
      -> tensor<1x8x32x64xf32>
  return %o : tensor<1x8x32x64xf32>
}

// CHECK-LABEL: func.func @mask_window
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.window<left = 256, right = 0>} :
func.func @mask_window(%q: tensor<1x8x1024x64xf32>, %k: tensor<1x8x1024x64xf32>,
                       %v: tensor<1x8x1024x64xf32>) -> tensor<1x8x1024x64xf32> {
  %o = attn.attention %q, %k, %v {mask = #attn.window<left = 256, right = 0>}
      : tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32>,
        tensor<1x8x1024x64xf32>
      -> tensor<1x8x1024x64xf32>
  return %o : tensor<1x8x1024x64xf32>
}

// CHECK-LABEL: func.func @mask_window_top_left
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.window<left = 4, right = 2>} :
func.func @mask_window_top_left(%q: tensor<1x8x128x64xf32>,
                                %k: tensor<1x8x128x64xf32>,
                                %v: tensor<1x8x128x64xf32>)
    -> tensor<1x8x128x64xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.window<left = 4, right = 2, alignment = top_left>}
      : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>
      -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// CHECK-LABEL: func.func @mask_window_bottom_right
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.window<left = 128, right = 128, alignment = bottom_right>} :
func.func @mask_window_bottom_right(%q: tensor<1x8x64x64xf32>,
                                    %k: tensor<1x8x512x64xf32>,
                                    %v: tensor<1x8x512x64xf32>)
    -> tensor<1x8x64x64xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.window<left = 128, right = 128, alignment = bottom_right>}
      : tensor<1x8x64x64xf32>, tensor<1x8x512x64xf32>, tensor<1x8x512x64xf32>
      -> tensor<1x8x64x64xf32>
  return %o : tensor<1x8x64x64xf32>
}

// CHECK-LABEL: func.func @mask_dilated
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.dilated<window = 8, dilation = 4>} :
func.func @mask_dilated(%q: tensor<1x8x128x64xf32>, %k: tensor<1x8x128x64xf32>,
                        %v: tensor<1x8x128x64xf32>) -> tensor<1x8x128x64xf32> {
  %o = attn.attention %q, %k, %v {mask = #attn.dilated<window = 8, dilation = 4>}
      : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>
      -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// CHECK-LABEL: func.func @mask_dilated_bottom_right
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.dilated<window = 2, dilation = 1, alignment = bottom_right>} :
func.func @mask_dilated_bottom_right(%q: tensor<1x8x16x64xf32>,
                                     %k: tensor<1x8x128x64xf32>,
                                     %v: tensor<1x8x128x64xf32>)
    -> tensor<1x8x16x64xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.dilated<window = 2, dilation = 1, alignment = bottom_right>}
      : tensor<1x8x16x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>
      -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}

// CHECK-LABEL: func.func @mask_global_first
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.global<first = 4>} :
func.func @mask_global_first(%q: tensor<1x8x128x64xf32>,
                             %k: tensor<1x8x128x64xf32>,
                             %v: tensor<1x8x128x64xf32>)
    -> tensor<1x8x128x64xf32> {
  %o = attn.attention %q, %k, %v {mask = #attn.global<first = 4>}
      : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>
      -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// `first = 0` is the default and is elided.
// CHECK-LABEL: func.func @mask_global_indices
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.global<indices = [3, 64, 127]>} :
func.func @mask_global_indices(%q: tensor<1x8x128x64xf32>,
                               %k: tensor<1x8x128x64xf32>,
                               %v: tensor<1x8x128x64xf32>)
    -> tensor<1x8x128x64xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.global<first = 0, indices = [3, 64, 127]>}
      : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>
      -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// CHECK-LABEL: func.func @mask_global_both
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.global<first = 1, indices = [511, 1023]>} :
func.func @mask_global_both(%q: tensor<1x8x1024x64xf32>,
                            %k: tensor<1x8x1024x64xf32>,
                            %v: tensor<1x8x1024x64xf32>)
    -> tensor<1x8x1024x64xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.global<first = 1, indices = [511, 1023]>}
      : tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32>,
        tensor<1x8x1024x64xf32>
      -> tensor<1x8x1024x64xf32>
  return %o : tensor<1x8x1024x64xf32>
}

// An index past the end is only checked against static sequence lengths.
// CHECK-LABEL: func.func @mask_global_dynamic
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.global<indices = [100000]>} :
func.func @mask_global_dynamic(%q: tensor<1x8x?x64xf32>,
                               %k: tensor<1x8x?x64xf32>,
                               %v: tensor<1x8x?x64xf32>)
    -> tensor<1x8x?x64xf32> {
  %o = attn.attention %q, %k, %v {mask = #attn.global<indices = [100000]>}
      : tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>
      -> tensor<1x8x?x64xf32>
  return %o : tensor<1x8x?x64xf32>
}

// CHECK-LABEL: func.func @mask_random_blocks
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.random_blocks<block = 64, per_row = 3, seed = 42>} :
func.func @mask_random_blocks(%q: tensor<1x8x1024x64xf32>,
                              %k: tensor<1x8x1024x64xf32>,
                              %v: tensor<1x8x1024x64xf32>)
    -> tensor<1x8x1024x64xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.random_blocks<block = 64, per_row = 3, seed = 42>}
      : tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32>,
        tensor<1x8x1024x64xf32>
      -> tensor<1x8x1024x64xf32>
  return %o : tensor<1x8x1024x64xf32>
}

// CHECK-LABEL: func.func @mask_block_layout
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.block_layout<block = [64, 32], layout = dense<{{\[}}[true, false, false, true], [true, true, false, false]]> : tensor<2x4xi1>>} :
func.func @mask_block_layout(%q: tensor<1x8x128x64xf32>,
                             %k: tensor<1x8x128x64xf32>,
                             %v: tensor<1x8x128x64xf32>)
    -> tensor<1x8x128x64xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.block_layout<block = [64, 32],
         layout = dense<[[true, false, false, true],
                         [true, true, false, false]]> : tensor<2x4xi1>>}
      : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>
      -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// A splat layout; the last block row and column are partial (100 = 64 + 36).
// CHECK-LABEL: func.func @mask_block_layout_splat
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.block_layout<block = [64, 64], layout = dense<true> : tensor<2x2xi1>>} :
func.func @mask_block_layout_splat(%q: tensor<1x8x100x64xf32>,
                                   %k: tensor<1x8x100x64xf32>,
                                   %v: tensor<1x8x100x64xf32>)
    -> tensor<1x8x100x64xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.block_layout<block = [64, 64],
                                 layout = dense<true> : tensor<2x2xi1>>}
      : tensor<1x8x100x64xf32>, tensor<1x8x100x64xf32>, tensor<1x8x100x64xf32>
      -> tensor<1x8x100x64xf32>
  return %o : tensor<1x8x100x64xf32>
}

// CHECK-LABEL: func.func @mask_prefix_lm
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.prefix_lm<prefix = 128>} :
func.func @mask_prefix_lm(%q: tensor<1x8x512x64xf32>, %k: tensor<1x8x512x64xf32>,
                          %v: tensor<1x8x512x64xf32>) -> tensor<1x8x512x64xf32> {
  %o = attn.attention %q, %k, %v {mask = #attn.prefix_lm<prefix = 128>}
      : tensor<1x8x512x64xf32>, tensor<1x8x512x64xf32>, tensor<1x8x512x64xf32>
      -> tensor<1x8x512x64xf32>
  return %o : tensor<1x8x512x64xf32>
}

// CHECK-LABEL: func.func @mask_document
// CHECK-SAME: %[[QIDS:[^:]+]]: tensor<2x64xi32>, %[[KVIDS:[^:]+]]: tensor<2x96xi32>)
// CHECK: attn.attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} segments(%[[QIDS]], %[[KVIDS]] : tensor<2x64xi32>, tensor<2x96xi32>) {mask = #attn.document} : tensor<2x4x64x32xf32>, tensor<2x4x96x32xf32>, tensor<2x4x96x32xf32> -> tensor<2x4x64x32xf32>{{$}}
func.func @mask_document(%q: tensor<2x4x64x32xf32>, %k: tensor<2x4x96x32xf32>,
                         %v: tensor<2x4x96x32xf32>, %q_ids: tensor<2x64xi32>,
                         %kv_ids: tensor<2x96xi32>) -> tensor<2x4x64x32xf32> {
  %o = attn.attention %q, %k, %v
      segments(%q_ids, %kv_ids : tensor<2x64xi32>, tensor<2x96xi32>)
      {mask = #attn.document}
      : tensor<2x4x64x32xf32>, tensor<2x4x96x32xf32>, tensor<2x4x96x32xf32>
      -> tensor<2x4x64x32xf32>
  return %o : tensor<2x4x64x32xf32>
}

// Document masking of packed sequences, causal within each document, with
// i64 ids and dynamic sizes; bias and segments together.
// CHECK-LABEL: func.func @mask_document_causal
// CHECK-SAME: %[[B:[^:]+]]: tensor<?x1x?x?xf32>, %[[QIDS:[^:]+]]: tensor<?x?xi64>, %[[KVIDS:[^:]+]]: tensor<?x?xi64>)
// CHECK: %[[O:[^ ,]+]], %[[LSE:[^ ]+]] = attn.attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} bias(%[[B]] : tensor<?x1x?x?xf32>) segments(%[[QIDS]], %[[KVIDS]] : tensor<?x?xi64>, tensor<?x?xi64>) {mask = #attn.intersection<[#attn.causal, #attn.document]>} : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x8x?x64xbf16>, tensor<?x8x?xf32>{{$}}
func.func @mask_document_causal(%q: tensor<?x8x?x64xbf16>,
                                %k: tensor<?x2x?x64xbf16>,
                                %v: tensor<?x2x?x64xbf16>,
                                %bias: tensor<?x1x?x?xf32>,
                                %q_ids: tensor<?x?xi64>,
                                %kv_ids: tensor<?x?xi64>)
    -> (tensor<?x8x?x64xbf16>, tensor<?x8x?xf32>) {
  %o, %lse = attn.attention %q, %k, %v bias(%bias : tensor<?x1x?x?xf32>)
      segments(%q_ids, %kv_ids : tensor<?x?xi64>, tensor<?x?xi64>)
      {mask = #attn.intersection<[#attn.causal, #attn.document]>}
      : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>
      -> tensor<?x8x?x64xbf16>, tensor<?x8x?xf32>
  return %o, %lse : tensor<?x8x?x64xbf16>, tensor<?x8x?xf32>
}

// CHECK-LABEL: func.func @mask_union
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.union<[#attn.window<left = 256, right = 0>, #attn.global<first = 4>]>} :
func.func @mask_union(%q: tensor<1x8x1024x64xf32>, %k: tensor<1x8x1024x64xf32>,
                      %v: tensor<1x8x1024x64xf32>) -> tensor<1x8x1024x64xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.union<[#attn.window<left = 256, right = 0>,
                           #attn.global<first = 4>]>}
      : tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32>,
        tensor<1x8x1024x64xf32>
      -> tensor<1x8x1024x64xf32>
  return %o : tensor<1x8x1024x64xf32>
}

// CHECK-LABEL: func.func @mask_intersection
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.intersection<[#attn.causal, #attn.window<left = 16, right = 16>, #attn.prefix_lm<prefix = 8>]>} :
func.func @mask_intersection(%q: tensor<1x8x128x64xf32>,
                             %k: tensor<1x8x128x64xf32>,
                             %v: tensor<1x8x128x64xf32>)
    -> tensor<1x8x128x64xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.intersection<[#attn.causal,
                                  #attn.window<left = 16, right = 16>,
                                  #attn.prefix_lm<prefix = 8>]>}
      : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>
      -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// CHECK-LABEL: func.func @mask_complement
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.complement<#attn.window<left = 4, right = 4>>} :
func.func @mask_complement(%q: tensor<1x8x128x64xf32>,
                           %k: tensor<1x8x128x64xf32>,
                           %v: tensor<1x8x128x64xf32>)
    -> tensor<1x8x128x64xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.complement<#attn.window<left = 4, right = 4>>}
      : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>
      -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// Nested combinators are printed as written (canonicalization flattens).
// CHECK-LABEL: func.func @mask_nested
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.intersection<[#attn.causal, #attn.union<[#attn.window<left = 256, right = 0>, #attn.global<first = 4>, #attn.union<[#attn.random_blocks<block = 64, per_row = 1, seed = 7>, #attn.dilated<window = 2, dilation = 8>]>]>, #attn.complement<#attn.complement<#attn.intersection<[#attn.prefix_lm<prefix = 0>, #attn.none]>>>]>, score_mod = #attn.softcap<30.0>} :
func.func @mask_nested(%q: tensor<2x32x1024x128xbf16>,
                       %k: tensor<2x8x1024x128xbf16>,
                       %v: tensor<2x8x1024x128xbf16>)
    -> (tensor<2x32x1024x128xbf16>, tensor<2x32x1024xf32>) {
  %o, %lse = attn.attention %q, %k, %v
      {mask = #attn.intersection<[
                #attn.causal,
                #attn.union<[#attn.window<left = 256, right = 0>,
                             #attn.global<first = 4>,
                             #attn.union<[
                               #attn.random_blocks<block = 64, per_row = 1,
                                                   seed = 7>,
                               #attn.dilated<window = 2, dilation = 8>]>]>,
                #attn.complement<#attn.complement<
                  #attn.intersection<[#attn.prefix_lm<prefix = 0>,
                                      #attn.none]>>>]>,
       score_mod = #attn.softcap<30.0>}
      : tensor<2x32x1024x128xbf16>, tensor<2x8x1024x128xbf16>,
        tensor<2x8x1024x128xbf16>
      -> tensor<2x32x1024x128xbf16>, tensor<2x32x1024xf32>
  return %o, %lse : tensor<2x32x1024x128xbf16>, tensor<2x32x1024xf32>
}

//===----------------------------------------------------------------------===//
// Score modification attributes
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @score_alibi
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.causal, score_mod = #attn.alibi} :
func.func @score_alibi(%q: tensor<1x12x128x64xf32>, %k: tensor<1x12x128x64xf32>,
                       %v: tensor<1x12x128x64xf32>) -> tensor<1x12x128x64xf32> {
  %o = attn.attention %q, %k, %v {mask = #attn.causal, score_mod = #attn.alibi}
      : tensor<1x12x128x64xf32>, tensor<1x12x128x64xf32>,
        tensor<1x12x128x64xf32>
      -> tensor<1x12x128x64xf32>
  return %o : tensor<1x12x128x64xf32>
}

// CHECK-LABEL: func.func @score_alibi_slopes
// CHECK: attn.attention
// CHECK-SAME: {score_mod = #attn.alibi<slopes = [0.5, 0.25, 0.125, 0.0625]>} :
func.func @score_alibi_slopes(%q: tensor<1x4x128x64xf32>,
                              %k: tensor<1x2x128x64xf32>,
                              %v: tensor<1x2x128x64xf32>)
    -> tensor<1x4x128x64xf32> {
  %o = attn.attention %q, %k, %v
      {score_mod = #attn.alibi<slopes = [0.5, 0.25, 0.125, 6.25e-2]>}
      : tensor<1x4x128x64xf32>, tensor<1x2x128x64xf32>, tensor<1x2x128x64xf32>
      -> tensor<1x4x128x64xf32>
  return %o : tensor<1x4x128x64xf32>
}

// CHECK-LABEL: func.func @score_softcap
// CHECK: attn.attention
// CHECK-SAME: {score_mod = #attn.softcap<50.0>} :
func.func @score_softcap(%q: tensor<1x8x128x64xf32>, %k: tensor<1x8x128x64xf32>,
                         %v: tensor<1x8x128x64xf32>) -> tensor<1x8x128x64xf32> {
  %o = attn.attention %q, %k, %v {score_mod = #attn.softcap<50.0>}
      : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>
      -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// A fractional cap, spelled with an exponent.
// CHECK-LABEL: func.func @score_softcap_fraction
// CHECK: attn.attention
// CHECK-SAME: {score_mod = #attn.softcap<0.5>} :
func.func @score_softcap_fraction(%q: tensor<1x8x128x64xf32>,
                                  %k: tensor<1x8x128x64xf32>,
                                  %v: tensor<1x8x128x64xf32>)
    -> tensor<1x8x128x64xf32> {
  %o = attn.attention %q, %k, %v {score_mod = #attn.softcap<5.0e-1>}
      : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>
      -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// CHECK-LABEL: func.func @score_chain
// CHECK: attn.attention
// CHECK-SAME: {mask = #attn.window<left = 32, right = 32>, score_mod = #attn.chain<[#attn.alibi<slopes = [0.5, 0.25]>, #attn.softcap<20.0>]>} :
func.func @score_chain(%q: tensor<1x2x128x64xf32>, %k: tensor<1x1x128x64xf32>,
                       %v: tensor<1x1x128x64xf32>) -> tensor<1x2x128x64xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.window<left = 32, right = 32>,
       score_mod = #attn.chain<[#attn.alibi<slopes = [0.5, 0.25]>,
                                #attn.softcap<20.0>]>}
      : tensor<1x2x128x64xf32>, tensor<1x1x128x64xf32>, tensor<1x1x128x64xf32>
      -> tensor<1x2x128x64xf32>
  return %o : tensor<1x2x128x64xf32>
}

// A chain of one, and a chain nested in a chain.
// CHECK-LABEL: func.func @score_chain_nested
// CHECK: attn.attention
// CHECK-SAME: {score_mod = #attn.chain<[#attn.chain<[#attn.softcap<1.0>]>, #attn.alibi]>} :
func.func @score_chain_nested(%q: tensor<1x8x128x64xf32>,
                              %k: tensor<1x8x128x64xf32>,
                              %v: tensor<1x8x128x64xf32>)
    -> tensor<1x8x128x64xf32> {
  %o = attn.attention %q, %k, %v
      {score_mod = #attn.chain<[#attn.chain<[#attn.softcap<1.0>]>,
                                #attn.alibi]>}
      : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>
      -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

//===----------------------------------------------------------------------===//
// Regions: mask_mod, score_mod, captures, attn.yield
//===----------------------------------------------------------------------===//

// A mask_mod region without a mask attribute is #attn.custom implicitly.
// CHECK-LABEL: func.func @mask_mod_implicit_custom
// CHECK: attn.attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} mask_mod {
// CHECK-NEXT: ^bb0(%[[B:[^:]+]]: index, %[[H:[^:]+]]: index, %[[I:[^:]+]]: index, %[[J:[^:]+]]: index):
// CHECK-NEXT: %[[KEEP:[^ ]+]] = arith.cmpi sle, %[[J]], %[[I]] : index
// CHECK-NEXT: attn.yield %[[KEEP]] : i1
// CHECK-NEXT: } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>{{$}}
func.func @mask_mod_implicit_custom(%q: tensor<1x4x16x8xf32>,
                                    %k: tensor<1x4x16x8xf32>,
                                    %v: tensor<1x4x16x8xf32>)
    -> tensor<1x4x16x8xf32> {
  %o = attn.attention %q, %k, %v mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index):
      %keep = arith.cmpi sle, %j, %i : index
      attn.yield %keep : i1
    }
      : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>
      -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// CHECK-LABEL: func.func @mask_mod_custom_composed
// CHECK: attn.attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} {mask = #attn.intersection<[#attn.causal, #attn.custom]>} mask_mod {
// CHECK-NEXT: ^bb0(%[[B:[^:]+]]: index, %[[H:[^:]+]]: index, %[[I:[^:]+]]: index, %[[J:[^:]+]]: index):
// CHECK-NEXT: %[[C4:[^ ]+]] = arith.constant 4 : index
// CHECK-NEXT: %[[BI:[^ ]+]] = arith.divsi %[[I]], %[[C4]] : index
// CHECK-NEXT: %[[BJ:[^ ]+]] = arith.divsi %[[J]], %[[C4]] : index
// CHECK-NEXT: %[[KEEP:[^ ]+]] = arith.cmpi eq, %[[BI]], %[[BJ]] : index
// CHECK-NEXT: attn.yield %[[KEEP]] : i1
// CHECK-NEXT: } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>, tensor<1x4x16xf32>{{$}}
func.func @mask_mod_custom_composed(%q: tensor<1x4x16x8xf32>,
                                    %k: tensor<1x4x16x8xf32>,
                                    %v: tensor<1x4x16x8xf32>)
    -> (tensor<1x4x16x8xf32>, tensor<1x4x16xf32>) {
  %o, %lse = attn.attention %q, %k, %v
      {mask = #attn.intersection<[#attn.causal, #attn.custom]>}
      mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index):
      %c4 = arith.constant 4 : index
      %bi = arith.divsi %i, %c4 : index
      %bj = arith.divsi %j, %c4 : index
      %keep = arith.cmpi eq, %bi, %bj : index
      attn.yield %keep : i1
    }
      : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>
      -> tensor<1x4x16x8xf32>, tensor<1x4x16xf32>
  return %o, %lse : tensor<1x4x16x8xf32>, tensor<1x4x16xf32>
}

// CHECK-LABEL: func.func @mask_custom_explicit
// CHECK: attn.attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} {mask = #attn.custom} mask_mod {
// CHECK: attn.yield %{{[^ ]+}} : i1
// CHECK-NEXT: } : tensor<1x4x16x8xf32>
func.func @mask_custom_explicit(%q: tensor<1x4x16x8xf32>,
                                %k: tensor<1x4x16x8xf32>,
                                %v: tensor<1x4x16x8xf32>)
    -> tensor<1x4x16x8xf32> {
  %o = attn.attention %q, %k, %v {mask = #attn.custom} mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index):
      %true = arith.constant true
      attn.yield %true : i1
    }
      : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>
      -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// CHECK-LABEL: func.func @score_mod_region
// CHECK: attn.attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} {mask = #attn.causal, score_mod = #attn.softcap<30.0>} score_mod {
// CHECK-NEXT: ^bb0(%[[S:[^:]+]]: f32, %[[B:[^:]+]]: index, %[[H:[^:]+]]: index, %[[I:[^:]+]]: index, %[[J:[^:]+]]: index):
// CHECK-NEXT: %[[HALF:[^ ]+]] = arith.constant 5.000000e-01 : f32
// CHECK-NEXT: %[[R:[^ ]+]] = arith.mulf %[[S]], %[[HALF]] : f32
// CHECK-NEXT: attn.yield %[[R]] : f32
// CHECK-NEXT: } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>{{$}}
func.func @score_mod_region(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>,
                            %v: tensor<1x4x16x8xf32>) -> tensor<1x4x16x8xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.causal, score_mod = #attn.softcap<30.0>}
      score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      %half = arith.constant 0.5 : f32
      %r = arith.mulf %s, %half : f32
      attn.yield %r : f32
    }
      : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>
      -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// Both regions reading captured tensors, with bias and segments: every
// optional operand and region at once, in the printed order.
// CHECK-LABEL: func.func @captures_everything
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<2x4x16x8xf16>, %[[K:[^:]+]]: tensor<2x2x16x8xf16>, %[[V:[^:]+]]: tensor<2x2x16x8xf16>, %[[BIAS:[^:]+]]: tensor<2x4x16x16xf16>, %[[QIDS:[^:]+]]: tensor<2x16xi32>, %[[KVIDS:[^:]+]]: tensor<2x16xi32>, %[[KEEP:[^:]+]]: tensor<16x16xi1>, %[[TAB:[^:]+]]: tensor<4xf32>)
// CHECK: %[[O:[^ ]+]] = attn.attention %[[Q]], %[[K]], %[[V]] bias(%[[BIAS]] : tensor<2x4x16x16xf16>) segments(%[[QIDS]], %[[KVIDS]] : tensor<2x16xi32>, tensor<2x16xi32>) captures(%[[KEEP]], %[[TAB]] : tensor<16x16xi1>, tensor<4xf32>) {mask = #attn.intersection<[#attn.document, #attn.custom]>, score_mod = #attn.alibi} mask_mod {
// CHECK-NEXT: ^bb0(%{{[^:]+}}: index, %{{[^:]+}}: index, %[[I:[^:]+]]: index, %[[J:[^:]+]]: index, %[[KEEP_ARG:[^:]+]]: tensor<16x16xi1>, %{{[^:]+}}: tensor<4xf32>):
// CHECK-NEXT: %[[BIT:[^ ]+]] = tensor.extract %[[KEEP_ARG]][%[[I]], %[[J]]] : tensor<16x16xi1>
// CHECK-NEXT: attn.yield %[[BIT]] : i1
// CHECK-NEXT: } score_mod {
// CHECK-NEXT: ^bb0(%[[S:[^:]+]]: f32, %{{[^:]+}}: index, %[[H:[^:]+]]: index, %{{[^:]+}}: index, %{{[^:]+}}: index, %{{[^:]+}}: tensor<16x16xi1>, %[[TAB_ARG:[^:]+]]: tensor<4xf32>):
// CHECK-NEXT: %[[T:[^ ]+]] = tensor.extract %[[TAB_ARG]][%[[H]]] : tensor<4xf32>
// CHECK-NEXT: %[[R:[^ ]+]] = arith.addf %[[S]], %[[T]] : f32
// CHECK-NEXT: attn.yield %[[R]] : f32
// CHECK-NEXT: } : tensor<2x4x16x8xf16>, tensor<2x2x16x8xf16>, tensor<2x2x16x8xf16> -> tensor<2x4x16x8xf16>{{$}}
// CHECK: return %[[O]]
func.func @captures_everything(%q: tensor<2x4x16x8xf16>,
                               %k: tensor<2x2x16x8xf16>,
                               %v: tensor<2x2x16x8xf16>,
                               %bias: tensor<2x4x16x16xf16>,
                               %q_ids: tensor<2x16xi32>,
                               %kv_ids: tensor<2x16xi32>,
                               %keep: tensor<16x16xi1>,
                               %table: tensor<4xf32>)
    -> tensor<2x4x16x8xf16> {
  %o = attn.attention %q, %k, %v bias(%bias : tensor<2x4x16x16xf16>)
      segments(%q_ids, %kv_ids : tensor<2x16xi32>, tensor<2x16xi32>)
      captures(%keep, %table : tensor<16x16xi1>, tensor<4xf32>)
      {mask = #attn.intersection<[#attn.document, #attn.custom]>,
       score_mod = #attn.alibi}
      mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index, %m: tensor<16x16xi1>,
         %t: tensor<4xf32>):
      %bit = tensor.extract %m[%i, %j] : tensor<16x16xi1>
      attn.yield %bit : i1
    }
      score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index,
         %m: tensor<16x16xi1>, %t: tensor<4xf32>):
      %x = tensor.extract %t[%h] : tensor<4xf32>
      %r = arith.addf %s, %x : f32
      attn.yield %r : f32
    }
      : tensor<2x4x16x8xf16>, tensor<2x2x16x8xf16>, tensor<2x2x16x8xf16>
      -> tensor<2x4x16x8xf16>
  return %o : tensor<2x4x16x8xf16>
}

//===----------------------------------------------------------------------===//
// attn.linear_attention
//===----------------------------------------------------------------------===//

// The defaults (elu_plus_one, epsilon 1e-6, not causal, not normalised) are
// elided.
// CHECK-LABEL: func.func @linear_default
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x8x1024x64xf32>, %[[K:[^:]+]]: tensor<1x8x1024x64xf32>, %[[V:[^:]+]]: tensor<1x8x1024x64xf32>)
// CHECK: %[[O:[^ ]+]] = attn.linear_attention %[[Q]], %[[K]], %[[V]] : tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32> -> tensor<1x8x1024x64xf32>{{$}}
// CHECK: return %[[O]]
func.func @linear_default(%q: tensor<1x8x1024x64xf32>,
                          %k: tensor<1x8x1024x64xf32>,
                          %v: tensor<1x8x1024x64xf32>)
    -> tensor<1x8x1024x64xf32> {
  %o = attn.linear_attention %q, %k, %v
      : tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32>,
        tensor<1x8x1024x64xf32>
      -> tensor<1x8x1024x64xf32>
  return %o : tensor<1x8x1024x64xf32>
}

// CHECK-LABEL: func.func @linear_explicit_defaults
// CHECK: attn.linear_attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} : tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32> -> tensor<1x8x1024x64xf32>{{$}}
func.func @linear_explicit_defaults(%q: tensor<1x8x1024x64xf32>,
                                    %k: tensor<1x8x1024x64xf32>,
                                    %v: tensor<1x8x1024x64xf32>)
    -> tensor<1x8x1024x64xf32> {
  %o = attn.linear_attention %q, %k, %v
      {feature_map = #attn.feature_map<elu_plus_one>, epsilon = 1.0e-6 : f32}
      : tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32>,
        tensor<1x8x1024x64xf32>
      -> tensor<1x8x1024x64xf32>
  return %o : tensor<1x8x1024x64xf32>
}

// CHECK-LABEL: func.func @linear_identity
// CHECK: attn.linear_attention
// CHECK-SAME: {feature_map = #attn.feature_map<identity>} :
func.func @linear_identity(%q: tensor<2x4x256x32xf16>,
                           %k: tensor<2x4x256x32xf16>,
                           %v: tensor<2x4x256x32xf16>)
    -> tensor<2x4x256x32xf16> {
  %o = attn.linear_attention %q, %k, %v
      {feature_map = #attn.feature_map<identity>}
      : tensor<2x4x256x32xf16>, tensor<2x4x256x32xf16>, tensor<2x4x256x32xf16>
      -> tensor<2x4x256x32xf16>
  return %o : tensor<2x4x256x32xf16>
}

// CHECK-LABEL: func.func @linear_relu_causal_normalize
// CHECK: attn.linear_attention
// CHECK-SAME: {causal, feature_map = #attn.feature_map<relu>, normalize} :
func.func @linear_relu_causal_normalize(%q: tensor<1x8x128x64xbf16>,
                                        %k: tensor<1x8x128x64xbf16>,
                                        %v: tensor<1x8x128x64xbf16>)
    -> tensor<1x8x128x64xbf16> {
  %o = attn.linear_attention %q, %k, %v
      {feature_map = #attn.feature_map<relu>, causal, normalize}
      : tensor<1x8x128x64xbf16>, tensor<1x8x128x64xbf16>,
        tensor<1x8x128x64xbf16>
      -> tensor<1x8x128x64xbf16>
  return %o : tensor<1x8x128x64xbf16>
}

// CHECK-LABEL: func.func @linear_epsilon
// CHECK: attn.linear_attention
// CHECK-SAME: {epsilon = 9.99999974E-6 : f32, normalize} :
func.func @linear_epsilon(%q: tensor<1x8x128x64xf32>, %k: tensor<1x8x128x64xf32>,
                          %v: tensor<1x8x128x64xf32>)
    -> tensor<1x8x128x64xf32> {
  %o = attn.linear_attention %q, %k, %v {normalize, epsilon = 1.0e-5 : f32}
      : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>
      -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// Zero epsilon is allowed; the default feature map is elided.
// CHECK-LABEL: func.func @linear_epsilon_zero
// CHECK: attn.linear_attention
// CHECK-SAME: {epsilon = 0.000000e+00 : f32} :
func.func @linear_epsilon_zero(%q: tensor<1x8x128x64xf32>,
                               %k: tensor<1x8x128x64xf32>,
                               %v: tensor<1x8x128x64xf32>)
    -> tensor<1x8x128x64xf32> {
  %o = attn.linear_attention %q, %k, %v
      {epsilon = 0.0 : f32, feature_map = #attn.feature_map<elu_plus_one>}
      : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>
      -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// GQA and Dqk != Dv, dynamic batch and sequence, causal.
// CHECK-LABEL: func.func @linear_gqa_dynamic
// CHECK: attn.linear_attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} {causal, feature_map = #attn.feature_map<identity>} : tensor<?x8x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x32xf32> -> tensor<?x8x?x32xf32>{{$}}
func.func @linear_gqa_dynamic(%q: tensor<?x8x?x64xf32>,
                              %k: tensor<?x2x?x64xf32>,
                              %v: tensor<?x2x?x32xf32>)
    -> tensor<?x8x?x32xf32> {
  %o = attn.linear_attention %q, %k, %v
      {causal, feature_map = #attn.feature_map<identity>}
      : tensor<?x8x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x32xf32>
      -> tensor<?x8x?x32xf32>
  return %o : tensor<?x8x?x32xf32>
}

// A bias whose head count is dynamic, like its other dims, is accepted.
// CHECK-LABEL: func.func @bias_dynamic_heads
// CHECK: attn.attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} bias(%{{[^ ]+}} : tensor<1x?x16x16xf32>) : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>{{$}}
func.func @bias_dynamic_heads(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>,
                              %v: tensor<1x4x16x8xf32>, %b: tensor<1x?x16x16xf32>)
    -> tensor<1x4x16x8xf32> {
  %o = attn.attention %q, %k, %v bias(%b : tensor<1x?x16x16xf32>)
      : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>
      -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// The tile ops of the tiled IR round-trip in both forms: on memrefs
// (after bufferization), including a partial tile's mask, a cloned
// mask_mod region and an lse into the tile's rows.
// CHECK-LABEL: func.func @tile_ops
// CHECK:       attn.tile_init state(%[[M:[^ ,]+]], %[[L:[^ ,]+]], %[[ACC:[^ ]+]]) : memref<16xf32>, memref<16xf32>, memref<16x8xf32>
// CHECK-NOT:   ->
// CHECK:       attn.tile_update %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} bias(%{{[^ ]+}} : memref<1x2x32x32xf32>) at(%{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}}) full(%[[FULL:[^ )]+]]) state(%[[M]], %[[L]], %[[ACC]]) {mask = #attn.intersection<[#attn.causal, #attn.custom]>, scale = 5.000000e-01 : f32, score_mod = #attn.softcap<30.0>, tile_kv = 16 : i64, tile_q = 16 : i64} mask_mod {
// CHECK:         attn.yield %{{.+}} : i1
// CHECK:       } : memref<1x2x32x8xf16>, memref<1x2x32x8xf16>, memref<1x2x32x8xf16>, memref<16xf32>, memref<16xf32>, memref<16x8xf32>{{$}}
// CHECK:       attn.tile_finalize state(%[[M]], %[[L]], %[[ACC]]) into %{{[^ ]+}}, %{{[^ ]+}} : memref<16xf32>, memref<16xf32>, memref<16x8xf32>, memref<?x8xf16, strided<[8, 1], offset: ?>>, memref<?xf32, strided<[1], offset: ?>>{{$}}
func.func @tile_ops(%q: memref<1x2x32x8xf16>, %k: memref<1x2x32x8xf16>,
                    %v: memref<1x2x32x8xf16>, %bias: memref<1x2x32x32xf32>,
                    %o: memref<?x8xf16, strided<[8, 1], offset: ?>>,
                    %lse: memref<?xf32, strided<[1], offset: ?>>,
                    %m: memref<16xf32>, %l: memref<16xf32>,
                    %acc: memref<16x8xf32>,
                    %b: index, %h: index, %q0: index, %k0: index,
                    %full: i1) {
  attn.tile_init state(%m, %l, %acc) : memref<16xf32>, memref<16xf32>, memref<16x8xf32>
  attn.tile_update %q, %k, %v bias(%bias : memref<1x2x32x32xf32>)
      at(%b, %h, %h, %q0, %k0) full(%full) state(%m, %l, %acc)
      {mask = #attn.intersection<[#attn.causal, #attn.custom]>, scale = 0.5 : f32,
       score_mod = #attn.softcap<30.0>, tile_q = 16, tile_kv = 16}
      mask_mod {
      ^bb0(%bb: index, %hh: index, %i: index, %j: index):
        %keep = arith.cmpi ne, %i, %j : index
        attn.yield %keep : i1
      }
      : memref<1x2x32x8xf16>, memref<1x2x32x8xf16>, memref<1x2x32x8xf16>,
        memref<16xf32>, memref<16xf32>, memref<16x8xf32>
  attn.tile_finalize state(%m, %l, %acc) into %o, %lse
      : memref<16xf32>, memref<16xf32>, memref<16x8xf32>,
        memref<?x8xf16, strided<[8, 1], offset: ?>>,
        memref<?xf32, strided<[1], offset: ?>>
  return
}

// On tensors (as attn-tile emits them): destination-passing style, each op
// returning its destinations written.
// CHECK-LABEL: func.func @tile_ops_on_tensors
// CHECK:       %[[S:.+]]:3 = attn.tile_init state(%{{.+}}, %{{.+}}, %{{.+}}) : tensor<16xf32>, tensor<16xf32>, tensor<16x8xf32> -> tensor<16xf32>, tensor<16xf32>, tensor<16x8xf32>
// CHECK:       %[[U:.+]]:3 = attn.tile_update %{{.+}} state(%[[S]]#0, %[[S]]#1, %[[S]]#2) {{.+}} -> tensor<16xf32>, tensor<16xf32>, tensor<16x8xf32>
// CHECK:       attn.tile_finalize state(%[[U]]#0, %[[U]]#1, %[[U]]#2) into %{{.+}} : tensor<16xf32>, tensor<16xf32>, tensor<16x8xf32>, tensor<16x8xf16> -> tensor<16x8xf16>
func.func @tile_ops_on_tensors(%q: tensor<1x2x32x8xf16>, %k: tensor<1x2x32x8xf16>,
                               %v: tensor<1x2x32x8xf16>, %o: tensor<16x8xf16>,
                               %h: index, %q0: index, %k0: index) -> tensor<16x8xf16> {
  %m = tensor.empty() : tensor<16xf32>
  %l = tensor.empty() : tensor<16xf32>
  %acc = tensor.empty() : tensor<16x8xf32>
  %s:3 = attn.tile_init state(%m, %l, %acc)
      : tensor<16xf32>, tensor<16xf32>, tensor<16x8xf32>
      -> tensor<16xf32>, tensor<16xf32>, tensor<16x8xf32>
  %u:3 = attn.tile_update %q, %k, %v at(%h, %h, %h, %q0, %k0)
      state(%s#0, %s#1, %s#2) {scale = 0.5 : f32, tile_q = 16, tile_kv = 16}
      : tensor<1x2x32x8xf16>, tensor<1x2x32x8xf16>, tensor<1x2x32x8xf16>,
        tensor<16xf32>, tensor<16xf32>, tensor<16x8xf32>
      -> tensor<16xf32>, tensor<16xf32>, tensor<16x8xf32>
  %r = attn.tile_finalize state(%u#0, %u#1, %u#2) into %o
      : tensor<16xf32>, tensor<16xf32>, tensor<16x8xf32>, tensor<16x8xf16>
      -> tensor<16x8xf16>
  return %r : tensor<16x8xf16>
}

// The merge of split-KV partials, on memrefs (the output may be a strided
// row slice) and on tensors.
// CHECK-LABEL: func.func @tile_merge
// CHECK:       attn.tile_merge %{{.+}}, %{{.+}} into %{{.+}}, %{{.+}} : memref<4x?x8xf32>, memref<4x?xf32>, memref<?x8xf16, strided<[8, 1], offset: ?>>, memref<?xf32>{{$}}
// CHECK:       %{{.+}} = attn.tile_merge %{{.+}}, %{{.+}} into %{{.+}} : tensor<2x16x8xf32>, tensor<2x16xf32>, tensor<16x8xf32> -> tensor<16x8xf32>
func.func @tile_merge(%po: memref<4x?x8xf32>, %pl: memref<4x?xf32>,
                      %o: memref<?x8xf16, strided<[8, 1], offset: ?>>,
                      %lse: memref<?xf32>, %tpo: tensor<2x16x8xf32>,
                      %tpl: tensor<2x16xf32>, %to: tensor<16x8xf32>) -> tensor<16x8xf32> {
  attn.tile_merge %po, %pl into %o, %lse
      : memref<4x?x8xf32>, memref<4x?xf32>,
        memref<?x8xf16, strided<[8, 1], offset: ?>>, memref<?xf32>
  %r = attn.tile_merge %tpo, %tpl into %to
      : tensor<2x16x8xf32>, tensor<2x16xf32>, tensor<16x8xf32> -> tensor<16x8xf32>
  return %r : tensor<16x8xf32>
}

// attn.merge of partial attentions, with and without the logsumexp, f16
// parts into an f32 output and run-time sizes.
// CHECK-LABEL: func.func @merge
// CHECK:       %{{.+}}, %{{.+}} = attn.merge %{{.+}}, %{{.+}} : tensor<2x1x8x128x64xf16>, tensor<2x1x8x128xf32> -> tensor<1x8x128x64xf32>, tensor<1x8x128xf32>
// CHECK:       %{{.+}} = attn.merge %{{.+}}, %{{.+}} : tensor<?x?x8x?x64xf32>, tensor<?x?x8x?xf32> -> tensor<?x8x?x64xbf16>{{$}}
func.func @merge(%po: tensor<2x1x8x128x64xf16>, %pl: tensor<2x1x8x128xf32>,
                 %dpo: tensor<?x?x8x?x64xf32>, %dpl: tensor<?x?x8x?xf32>)
    -> (tensor<1x8x128x64xf32>, tensor<1x8x128xf32>, tensor<?x8x?x64xbf16>) {
  %o, %l = attn.merge %po, %pl
      : tensor<2x1x8x128x64xf16>, tensor<2x1x8x128xf32>
      -> tensor<1x8x128x64xf32>, tensor<1x8x128xf32>
  %d = attn.merge %dpo, %dpl
      : tensor<?x?x8x?x64xf32>, tensor<?x?x8x?xf32> -> tensor<?x8x?x64xbf16>
  return %o, %l, %d : tensor<1x8x128x64xf32>, tensor<1x8x128xf32>, tensor<?x8x?x64xbf16>
}

// A run-time block layout, with and without full blocks (heads broadcast).
// CHECK-LABEL: func.func @block_sparse
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} block_sparse(%{{.+}}, %{{.+}} : tensor<2x1x2xi32>, tensor<2x1x2x3xi32>) full_blocks(%{{.+}}, %{{.+}} : tensor<2x1x2xi32>, tensor<2x1x2x3xi32>) {mask = #attn.causal, sparse_block = array<i64: 32, 48>} : tensor<2x4x64x16xbf16>, tensor<2x2x130x16xbf16>, tensor<2x2x130x16xbf16> -> tensor<2x4x64x16xbf16>
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} block_sparse(%{{.+}}, %{{.+}} : tensor<2x1x2xi32>, tensor<2x1x2x3xi32>) {sparse_block = array<i64: 32, 48>} : tensor<2x4x64x16xbf16>
func.func @block_sparse(%q: tensor<2x4x64x16xbf16>, %k: tensor<2x2x130x16xbf16>, %v: tensor<2x2x130x16xbf16>,
                        %n: tensor<2x1x2xi32>, %x: tensor<2x1x2x3xi32>) -> (tensor<2x4x64x16xbf16>, tensor<2x4x64x16xbf16>) {
  %o = attn.attention %q, %k, %v block_sparse(%n, %x : tensor<2x1x2xi32>, tensor<2x1x2x3xi32>)
      full_blocks(%n, %x : tensor<2x1x2xi32>, tensor<2x1x2x3xi32>)
      {mask = #attn.causal, sparse_block = array<i64: 32, 48>}
      : tensor<2x4x64x16xbf16>, tensor<2x2x130x16xbf16>, tensor<2x2x130x16xbf16> -> tensor<2x4x64x16xbf16>
  %p = attn.attention %q, %k, %v block_sparse(%n, %x : tensor<2x1x2xi32>, tensor<2x1x2x3xi32>)
      {sparse_block = array<i64: 32, 48>}
      : tensor<2x4x64x16xbf16>, tensor<2x2x130x16xbf16>, tensor<2x2x130x16xbf16> -> tensor<2x4x64x16xbf16>
  return %o, %p : tensor<2x4x64x16xbf16>, tensor<2x4x64x16xbf16>
}

// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} paged(%{{.+}}, %{{.+}} : tensor<?x8xi32>, tensor<?xi32>) {mask = #attn.causal<bottom_right>} : tensor<?x8x1x128xbf16>, tensor<100x16x2x128xbf16>, tensor<100x16x2x128xbf16> -> tensor<?x8x1x128xbf16>, tensor<?x8x1xf32>
func.func @paged(%q: tensor<?x8x1x128xbf16>, %k: tensor<100x16x2x128xbf16>, %v: tensor<100x16x2x128xbf16>,
                 %t: tensor<?x8xi32>, %n: tensor<?xi32>) -> (tensor<?x8x1x128xbf16>, tensor<?x8x1xf32>) {
  %o, %l = attn.attention %q, %k, %v paged(%t, %n : tensor<?x8xi32>, tensor<?xi32>) {mask = #attn.causal<bottom_right>}
      : tensor<?x8x1x128xbf16>, tensor<100x16x2x128xbf16>, tensor<100x16x2x128xbf16> -> tensor<?x8x1x128xbf16>, tensor<?x8x1xf32>
  return %o, %l : tensor<?x8x1x128xbf16>, tensor<?x8x1xf32>
}

// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} paged(%{{.+}}, %{{.+}} : tensor<2x8xi32>, tensor<2xi32>) {kv_layout = "hnd"} : tensor<2x8x1x128xf16>, tensor<100x2x16x128xf16>, tensor<100x2x16x128xf16> -> tensor<2x8x1x128xf16>
func.func @paged_heads_major(%q: tensor<2x8x1x128xf16>, %k: tensor<100x2x16x128xf16>, %v: tensor<100x2x16x128xf16>,
                             %t: tensor<2x8xi32>, %n: tensor<2xi32>) -> tensor<2x8x1x128xf16> {
  %o = attn.attention %q, %k, %v paged(%t, %n : tensor<2x8xi32>, tensor<2xi32>) {kv_layout = "hnd"}
      : tensor<2x8x1x128xf16>, tensor<100x2x16x128xf16>, tensor<100x2x16x128xf16> -> tensor<2x8x1x128xf16>
  return %o : tensor<2x8x1x128xf16>
}

// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} varlen(%{{.+}}, %{{.+}} : tensor<?xi32>, tensor<?xi32>) {mask = #attn.causal<bottom_right>} : tensor<?x8x128xbf16>, tensor<?x2x128xbf16>, tensor<?x2x128xbf16> -> tensor<?x8x128xbf16>, tensor<?x8xf32>
func.func @varlen(%q: tensor<?x8x128xbf16>, %k: tensor<?x2x128xbf16>, %v: tensor<?x2x128xbf16>,
                  %cq: tensor<?xi32>, %ck: tensor<?xi32>) -> (tensor<?x8x128xbf16>, tensor<?x8xf32>) {
  %o, %l = attn.attention %q, %k, %v varlen(%cq, %ck : tensor<?xi32>, tensor<?xi32>) {mask = #attn.causal<bottom_right>}
      : tensor<?x8x128xbf16>, tensor<?x2x128xbf16>, tensor<?x2x128xbf16> -> tensor<?x8x128xbf16>, tensor<?x8xf32>
  return %o, %l : tensor<?x8x128xbf16>, tensor<?x8xf32>
}
