// Random blocks (BigBird). Rendered into docs/masks.md by scripts/gen-mask-guide.py.
func.func @random_blocks(%q: tensor<1x4x512x64xf16>, %k: tensor<1x4x512x64xf16>, %v: tensor<1x4x512x64xf16>) -> tensor<1x4x512x64xf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.random_blocks<block = 64, per_row = 2, seed = 7>}
      : tensor<1x4x512x64xf16>, tensor<1x4x512x64xf16>, tensor<1x4x512x64xf16> -> tensor<1x4x512x64xf16>
  return %o : tensor<1x4x512x64xf16>
}
