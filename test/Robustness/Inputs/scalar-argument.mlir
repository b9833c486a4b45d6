// A scalar function argument the launch contract cannot describe: attn-ptx
// reports it at the argument (it was a SEGV in compileAttention); the host
// tools compile the attention alone.
// EXPECT-ptx: argument 3 is 'i32'
// OK-opt
func.func @attention(%q: tensor<1x2x64x64xf16>, %k: tensor<1x2x64x64xf16>, %v: tensor<1x2x64x64xf16>, %n: i32) -> tensor<1x2x64x64xf16> {
  %o = attn.attention %q, %k, %v : tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16> -> tensor<1x2x64x64xf16>
  return %o : tensor<1x2x64x64xf16>
}
