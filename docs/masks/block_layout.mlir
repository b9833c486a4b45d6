// Block-sparse layout. Rendered into docs/masks.md by scripts/gen-mask-guide.py.
func.func @block_layout(%q: tensor<1x4x512x64xf16>, %k: tensor<1x4x512x64xf16>, %v: tensor<1x4x512x64xf16>) -> tensor<1x4x512x64xf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.block_layout<block = [128, 128], layout = dense<[[true, false, false, false], [true, true, false, false], [false, false, true, false], [true, false, true, true]]> : tensor<4x4xi1>>}
      : tensor<1x4x512x64xf16>, tensor<1x4x512x64xf16>, tensor<1x4x512x64xf16> -> tensor<1x4x512x64xf16>
  return %o : tensor<1x4x512x64xf16>
}
