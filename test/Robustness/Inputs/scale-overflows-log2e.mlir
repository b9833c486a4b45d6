// scale = 3e38 is a finite f32, but scale * log2(e), the factor the
// kernels multiply by, is not: refused by the verifier.
// EXPECT: times log2(e) is not a positive finite f32
func.func @attention(%q: tensor<1x2x64x64xf16>, %k: tensor<1x2x64x64xf16>, %v: tensor<1x2x64x64xf16>) -> tensor<1x2x64x64xf16> {
  %o = attn.attention %q, %k, %v {scale = 3.0e38 : f32} : tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16> -> tensor<1x2x64x64xf16>
  return %o : tensor<1x2x64x64xf16>
}
