// Sliding window of 256 at S=16k: time should follow the kept tiles.
func.func @attention(%q: tensor<1x16x16384x128xf16>, %k: tensor<1x16x16384x128xf16>,
                     %v: tensor<1x16x16384x128xf16>) -> tensor<1x16x16384x128xf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.intersection<[#attn.causal, #attn.window<left = 256, right = 0>]>}
      : tensor<1x16x16384x128xf16>, tensor<1x16x16384x128xf16>, tensor<1x16x16384x128xf16>
      -> tensor<1x16x16384x128xf16>
  return %o : tensor<1x16x16384x128xf16>
}
