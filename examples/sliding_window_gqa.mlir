// A Mistral-style attention: grouped-query (8 query heads over 2 key/value
// heads), a causal sliding window of 256 keys plus 4 global "sink" tokens,
// and Gemma-style logit softcapping, over 1024 tokens in bf16.
func.func @sliding_window_gqa(%q: tensor<1x8x1024x64xbf16>,
                              %k: tensor<1x2x1024x64xbf16>,
                              %v: tensor<1x2x1024x64xbf16>)
    -> (tensor<1x8x1024x64xbf16>, tensor<1x8x1024xf32>) {
  %o, %lse = attn.attention %q, %k, %v
      {mask = #attn.intersection<[
                #attn.causal,
                #attn.union<[#attn.window<left = 256, right = 0>,
                             #attn.global<first = 4>]>]>,
       score_mod = #attn.softcap<30.0>}
      : tensor<1x8x1024x64xbf16>, tensor<1x2x1024x64xbf16>,
        tensor<1x2x1024x64xbf16>
      -> tensor<1x8x1024x64xbf16>, tensor<1x8x1024xf32>
  return %o, %lse : tensor<1x8x1024x64xbf16>, tensor<1x8x1024xf32>
}
