// Document masking over packed sequences. Rendered into docs/masks.md by
// scripts/gen-mask-guide.py.
func.func @document(%q: tensor<1x4x512x64xf16>, %k: tensor<1x4x512x64xf16>,
                    %v: tensor<1x4x512x64xf16>, %qd: tensor<1x512xi32>,
                    %kd: tensor<1x512xi32>) -> tensor<1x4x512x64xf16> {
  %o = attn.attention %q, %k, %v segments(%qd, %kd : tensor<1x512xi32>, tensor<1x512xi32>)
      {mask = #attn.intersection<[#attn.causal, #attn.document]>}
      : tensor<1x4x512x64xf16>, tensor<1x4x512x64xf16>, tensor<1x4x512x64xf16>
      -> tensor<1x4x512x64xf16>
  return %o : tensor<1x4x512x64xf16>
}
