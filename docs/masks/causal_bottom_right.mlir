// Causal, bottom-right aligned (Sq < Skv). Rendered into docs/masks.md by scripts/gen-mask-guide.py.
func.func @causal_bottom_right(%q: tensor<1x4x256x64xf16>, %k: tensor<1x4x512x64xf16>, %v: tensor<1x4x512x64xf16>) -> tensor<1x4x256x64xf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.causal<bottom_right>}
      : tensor<1x4x256x64xf16>, tensor<1x4x512x64xf16>, tensor<1x4x512x64xf16> -> tensor<1x4x256x64xf16>
  return %o : tensor<1x4x256x64xf16>
}
