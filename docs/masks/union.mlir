// Union: window plus global tokens (Longformer). Rendered into docs/masks.md by scripts/gen-mask-guide.py.
func.func @union(%q: tensor<1x4x512x64xf16>, %k: tensor<1x4x512x64xf16>, %v: tensor<1x4x512x64xf16>) -> tensor<1x4x512x64xf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.union<[#attn.window<left = 64, right = 64>, #attn.global<first = 32>]>}
      : tensor<1x4x512x64xf16>, tensor<1x4x512x64xf16>, tensor<1x4x512x64xf16> -> tensor<1x4x512x64xf16>
  return %o : tensor<1x4x512x64xf16>
}
