// A tile of a billion rows (a segfault in attn-run before).
// ARGS-run: --tile-q=1000000000
// EXPECT-run: tile sizes must be between 1 and 4096
// OK-ptx
func.func @attention(%q: tensor<1x2x64x64xf16>, %k: tensor<1x2x64x64xf16>, %v: tensor<1x2x64x64xf16>) -> tensor<1x2x64x64xf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.causal} : tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16> -> tensor<1x2x64x64xf16>
  return %o : tensor<1x2x64x64xf16>
}
