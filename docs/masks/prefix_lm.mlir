// Prefix-LM. Rendered into docs/masks.md by scripts/gen-mask-guide.py.
func.func @prefix_lm(%q: tensor<1x4x512x64xf16>, %k: tensor<1x4x512x64xf16>, %v: tensor<1x4x512x64xf16>) -> tensor<1x4x512x64xf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.prefix_lm<prefix = 160>}
      : tensor<1x4x512x64xf16>, tensor<1x4x512x64xf16>, tensor<1x4x512x64xf16> -> tensor<1x4x512x64xf16>
  return %o : tensor<1x4x512x64xf16>
}
