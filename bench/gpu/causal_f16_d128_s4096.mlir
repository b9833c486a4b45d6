// The performance target's causal shape: B=4, H=16, S=4096, D=128, f16.
func.func @attention(%q: tensor<4x16x4096x128xf16>, %k: tensor<4x16x4096x128xf16>,
                     %v: tensor<4x16x4096x128xf16>) -> tensor<4x16x4096x128xf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.causal}
      : tensor<4x16x4096x128xf16>, tensor<4x16x4096x128xf16>, tensor<4x16x4096x128xf16>
      -> tensor<4x16x4096x128xf16>
  return %o : tensor<4x16x4096x128xf16>
}
