// MLA decode (DeepSeek's FlashMLA shape) from a paged cache: 16 query
// heads over one latent kv head, Dqk = 576 (512 latent + 64 rope), Dv =
// 512, f16, pages of 64 keys. The host packs the 16 heads into one tile
// per sequence; attn-run checks it against the f64 reference on a seeded
// page table and lengths. The GPU paths refuse the paged cache.
// OK-opt
// OK-run
// EXPECT-emulate: a paged KV cache (paged) is not lowered to the GPU yet
// EXPECT-ptx: a paged KV cache (paged) is not lowered to the GPU yet
func.func @attention(%q: tensor<2x16x1x576xf16>, %k: tensor<9x64x1x576xf16>, %v: tensor<9x64x1x512xf16>,
                     %t: tensor<2x4xi32>, %n: tensor<2xi32>) -> (tensor<2x16x1x512xf16>, tensor<2x16x1xf32>) {
  %o, %l = attn.attention %q, %k, %v paged(%t, %n : tensor<2x4xi32>, tensor<2xi32>)
      {mask = #attn.causal<bottom_right>}
      : tensor<2x16x1x576xf16>, tensor<9x64x1x576xf16>, tensor<9x64x1x512xf16> -> tensor<2x16x1x512xf16>, tensor<2x16x1xf32>
  return %o, %l : tensor<2x16x1x512xf16>, tensor<2x16x1xf32>
}
