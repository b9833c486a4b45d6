// Packed sequences (varlen): the host pipeline lowers them, attn-run runs
// them on seeded offsets (empty sequences included) against each
// sequence's f64 attention; the emulator and PTX paths refuse them with
// the GPU lowering's message.
// OK-opt
// OK-run
// EXPECT-emulate: packed sequences (varlen) are not lowered to the GPU yet
// EXPECT-ptx: packed sequences (varlen) are not lowered to the GPU yet
func.func @attention(%q: tensor<90x4x32xbf16>, %k: tensor<130x2x32xbf16>, %v: tensor<130x2x32xbf16>,
                     %cq: tensor<6xi32>, %ck: tensor<6xi32>) -> (tensor<90x4x32xbf16>, tensor<90x4xf32>) {
  %o, %l = attn.attention %q, %k, %v varlen(%cq, %ck : tensor<6xi32>, tensor<6xi32>)
      {mask = #attn.window<left = 20, right = 0, alignment = bottom_right>}
      : tensor<90x4x32xbf16>, tensor<130x2x32xbf16>, tensor<130x2x32xbf16> -> tensor<90x4x32xbf16>, tensor<90x4xf32>
  return %o, %l : tensor<90x4x32xbf16>, tensor<90x4xf32>
}
