// RUN: attn-opt %s --attn-to-gpu="kernel-config=128x64w4 chip=sm_90" -verify-diagnostics

// FlashAttention-2's 128 x 64 with two slabs per warp at head dim 128
// takes 192 accumulator registers per thread, beyond the budget the fit
// check allows (ptxas spills it): refused, saying why and what fits.
func.func @too_many_registers(%q: tensor<1x2x256x128xf16>, %k: tensor<1x2x256x128xf16>,
                              %v: tensor<1x2x256x128xf16>) -> tensor<1x2x256x128xf16> {
  // expected-error @+1 {{attn-tile-to-gpu: no GPU kernel 128x64w4 (tile_q x tile_kv, warps) for head dimensions 128/128 on sm_90: its accumulators take 192 registers per thread, more than the 160 that fit; use one slab (16 rows) per warp or a smaller tile_kv}}
  %o = attn.attention %q, %k, %v
      : tensor<1x2x256x128xf16>, tensor<1x2x256x128xf16>, tensor<1x2x256x128xf16>
      -> tensor<1x2x256x128xf16>
  return %o : tensor<1x2x256x128xf16>
}
