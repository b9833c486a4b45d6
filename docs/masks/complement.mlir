// Complement. Rendered into docs/masks.md by scripts/gen-mask-guide.py.
func.func @complement(%q: tensor<1x4x512x64xf16>, %k: tensor<1x4x512x64xf16>, %v: tensor<1x4x512x64xf16>) -> tensor<1x4x512x64xf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.complement<#attn.window<left = 100, right = 100>>}
      : tensor<1x4x512x64xf16>, tensor<1x4x512x64xf16>, tensor<1x4x512x64xf16> -> tensor<1x4x512x64xf16>
  return %o : tensor<1x4x512x64xf16>
}
