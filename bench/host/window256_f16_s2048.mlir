// Host benchmark input (bench/host/run.sh).
func.func @window256_f16_s2048(%q: tensor<1x4x2048x64xf16>, %k: tensor<1x4x2048x64xf16>, %v: tensor<1x4x2048x64xf16>) -> tensor<1x4x2048x64xf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.window<left = 256, right = 0>}
      : tensor<1x4x2048x64xf16>, tensor<1x4x2048x64xf16>, tensor<1x4x2048x64xf16> -> tensor<1x4x2048x64xf16>
  return %o : tensor<1x4x2048x64xf16>
}
