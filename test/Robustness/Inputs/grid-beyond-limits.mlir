// A batch of 70000 is a grid z beyond the driver's 65535; its buffers are
// beyond attn-run's default memory budget.
// EXPECT-ptx: 70000 batch in z, at most 65535
// EXPECT-run: above the memory budget
// EXPECT-emulate: above the memory budget
func.func @attention(%q: tensor<70000x1x64x64xf16>, %k: tensor<70000x1x64x64xf16>, %v: tensor<70000x1x64x64xf16>) -> tensor<70000x1x64x64xf16> {
  %o = attn.attention %q, %k, %v : tensor<70000x1x64x64xf16>, tensor<70000x1x64x64xf16>, tensor<70000x1x64x64xf16> -> tensor<70000x1x64x64xf16>
  return %o : tensor<70000x1x64x64xf16>
}
