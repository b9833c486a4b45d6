// An argument returned as a second result: no kernel would write it.
// EXPECT-ptx: the GPU path returns only results of attn.attention; result 1 is not one
// OK-run
func.func @attention(%q: tensor<1x2x64x64xf16>, %k: tensor<1x2x64x64xf16>, %v: tensor<1x2x64x64xf16>) -> (tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16>) {
  %o = attn.attention %q, %k, %v : tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16> -> tensor<1x2x64x64xf16>
  return %o, %q : tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16>
}
