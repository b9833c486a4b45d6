// A run-time block layout: the host pipeline lowers it, attn-run runs it
// on a layout it generates; the emulator and PTX paths refuse it with the
// GPU lowering's message.
// OK-opt
// OK-run
// EXPECT-emulate: a run-time block layout (block_sparse) is not lowered to the GPU yet
// EXPECT-ptx: a run-time block layout (block_sparse) is not lowered to the GPU yet
func.func @attention(%q: tensor<1x2x64x64xf16>, %k: tensor<1x2x64x64xf16>, %v: tensor<1x2x64x64xf16>,
                     %n: tensor<1x2x1xi32>, %x: tensor<1x2x1x1xi32>) -> tensor<1x2x64x64xf16> {
  %o = attn.attention %q, %k, %v block_sparse(%n, %x : tensor<1x2x1xi32>, tensor<1x2x1x1xi32>)
      {sparse_block = array<i64: 64, 64>}
      : tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16> -> tensor<1x2x64x64xf16>
  return %o : tensor<1x2x64x64xf16>
}
