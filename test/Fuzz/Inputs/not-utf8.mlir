// A seed that is not UTF-8 (the bytes 0xff 0xfe 0x80 below): the fuzzer
// must read and mutate it; attn-opt parses it (the bytes are in a comment).
func.func @not_utf8(%q: tensor<1x1x8x8xf32>) -> tensor<1x1x8x8xf32> {
  // ÿþ€
  %o = attn.attention %q, %q, %q {mask = #attn.causal}
      : tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>
      -> tensor<1x1x8x8xf32>
  return %o : tensor<1x1x8x8xf32>
}
