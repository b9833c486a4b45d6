// A Mistral-style attention: grouped-query (32 query heads over 8 key/value
// heads), a causal sliding window of 256 keys plus 4 global "sink" tokens,
// and Gemma-style logit softcapping, over 1024 tokens in bf16.
func.func @sliding_window_gqa(%q: tensor<2x32x1024x128xbf16>,
                              %k: tensor<2x8x1024x128xbf16>,
                              %v: tensor<2x8x1024x128xbf16>)
    -> (tensor<2x32x1024x128xbf16>, tensor<2x32x1024xf32>) {
  %o, %lse = attn.attention %q, %k, %v
      {mask = #attn.intersection<[
                #attn.causal,
                #attn.union<[#attn.window<left = 256, right = 0>,
                             #attn.global<first = 4>]>]>,
       score_mod = #attn.softcap<30.0>}
      : tensor<2x32x1024x128xbf16>, tensor<2x8x1024x128xbf16>,
        tensor<2x8x1024x128xbf16>
      -> tensor<2x32x1024x128xbf16>, tensor<2x32x1024xf32>
  return %o, %lse : tensor<2x32x1024x128xbf16>, tensor<2x32x1024xf32>
}
