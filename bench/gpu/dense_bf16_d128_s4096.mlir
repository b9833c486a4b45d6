// Dense, bf16: B=4, H=16, S=4096, D=128.
func.func @attention(%q: tensor<4x16x4096x128xbf16>, %k: tensor<4x16x4096x128xbf16>,
                     %v: tensor<4x16x4096x128xbf16>) -> tensor<4x16x4096x128xbf16> {
  %o = attn.attention %q, %k, %v 
      : tensor<4x16x4096x128xbf16>, tensor<4x16x4096x128xbf16>, tensor<4x16x4096x128xbf16>
      -> tensor<4x16x4096x128xbf16>
  return %o : tensor<4x16x4096x128xbf16>
}
