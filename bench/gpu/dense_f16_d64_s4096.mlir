// The performance target's head dim 64 shape: B=4, H=16, S=4096, D=64, f16.
func.func @attention(%q: tensor<4x16x4096x64xf16>, %k: tensor<4x16x4096x64xf16>, %v: tensor<4x16x4096x64xf16>) -> tensor<4x16x4096x64xf16> {
  %o = attn.attention %q, %k, %v : tensor<4x16x4096x64xf16>, tensor<4x16x4096x64xf16>, tensor<4x16x4096x64xf16> -> tensor<4x16x4096x64xf16>
  return %o : tensor<4x16x4096x64xf16>
}
