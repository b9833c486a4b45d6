// One decode step: a single new query per sequence attends to a 2000-token
// cache through multi-query attention (16 query heads, one key/value head)
// with ALiBi positional biases; the cache is bottom-right aligned, so the
// query sees every cached key. f32.
func.func @decode_mqa_alibi(%q: tensor<4x16x1x128xf32>,
                            %k: tensor<4x1x2000x128xf32>,
                            %v: tensor<4x1x2000x128xf32>)
    -> (tensor<4x16x1x128xf32>, tensor<4x16x1xf32>) {
  %o, %lse = attn.attention %q, %k, %v
      {mask = #attn.causal<bottom_right>, score_mod = #attn.alibi}
      : tensor<4x16x1x128xf32>, tensor<4x1x2000x128xf32>,
        tensor<4x1x2000x128xf32>
      -> tensor<4x16x1x128xf32>, tensor<4x16x1xf32>
  return %o, %lse : tensor<4x16x1x128xf32>, tensor<4x16x1xf32>
}
