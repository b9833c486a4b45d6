// Host benchmark input (bench/host/run.sh).
func.func @causal_bf16_gqa_s1024(%q: tensor<1x8x1024x64xbf16>, %k: tensor<1x2x1024x64xbf16>, %v: tensor<1x2x1024x64xbf16>) -> tensor<1x8x1024x64xbf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.causal}
      : tensor<1x8x1024x64xbf16>, tensor<1x2x1024x64xbf16>, tensor<1x2x1024x64xbf16> -> tensor<1x8x1024x64xbf16>
  return %o : tensor<1x8x1024x64xbf16>
}
