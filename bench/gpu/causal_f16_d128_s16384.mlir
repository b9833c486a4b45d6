// Causal at S=16k, the window's peer.
func.func @attention(%q: tensor<1x16x16384x128xf16>, %k: tensor<1x16x16384x128xf16>,
                     %v: tensor<1x16x16384x128xf16>) -> tensor<1x16x16384x128xf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.causal}
      : tensor<1x16x16384x128xf16>, tensor<1x16x16384x128xf16>, tensor<1x16x16384x128xf16>
      -> tensor<1x16x16384x128xf16>
  return %o : tensor<1x16x16384x128xf16>
}
