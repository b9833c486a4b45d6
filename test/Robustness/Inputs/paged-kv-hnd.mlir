// A paged KV cache with heads-major pages (kv_layout = "hnd"): the host
// pipeline lowers it, attn-run runs it on a
// seeded page table and lengths; the emulator and PTX paths refuse it
// with the GPU lowering's message.
// OK-opt
// OK-run
// EXPECT-emulate: a paged KV cache (paged) is not lowered to the GPU yet
// EXPECT-ptx: a paged KV cache (paged) is not lowered to the GPU yet
func.func @attention(%q: tensor<3x4x2x32xbf16>, %k: tensor<7x2x16x32xbf16>, %v: tensor<7x2x16x32xbf16>,
                     %t: tensor<3x4xi32>, %n: tensor<3xi32>) -> tensor<3x4x2x32xbf16> {
  %o = attn.attention %q, %k, %v paged(%t, %n : tensor<3x4xi32>, tensor<3xi32>)
      {mask = #attn.window<left = 20, right = 0, alignment = bottom_right>, kv_layout = "hnd"}
      : tensor<3x4x2x32xbf16>, tensor<7x2x16x32xbf16>, tensor<7x2x16x32xbf16> -> tensor<3x4x2x32xbf16>
  return %o : tensor<3x4x2x32xbf16>
}
