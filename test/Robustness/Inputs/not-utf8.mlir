// Bytes that are not UTF-8 outside a comment: a located parse error.
// EXPECT: error:
func.func @attention(%q: tensor<1x2x64x64xf16>) {
  ÿþ€ attn.yield
}
