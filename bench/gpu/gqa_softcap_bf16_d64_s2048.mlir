// GQA 4:1 with Gemma softcap, bf16, D=64.
func.func @attention(%q: tensor<2x32x2048x64xbf16>, %k: tensor<2x8x2048x64xbf16>,
                     %v: tensor<2x8x2048x64xbf16>) -> tensor<2x32x2048x64xbf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.causal, score_mod = #attn.softcap<30.0>}
      : tensor<2x32x2048x64xbf16>, tensor<2x8x2048x64xbf16>, tensor<2x8x2048x64xbf16>
      -> tensor<2x32x2048x64xbf16>
  return %o : tensor<2x32x2048x64xbf16>
}
