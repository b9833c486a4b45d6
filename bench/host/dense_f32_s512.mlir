// Host benchmark input (bench/host/run.sh).
func.func @dense_f32_s512(%q: tensor<1x4x512x64xf32>, %k: tensor<1x4x512x64xf32>, %v: tensor<1x4x512x64xf32>) -> tensor<1x4x512x64xf32> {
  %o = attn.attention %q, %k, %v 
      : tensor<1x4x512x64xf32>, tensor<1x4x512x64xf32>, tensor<1x4x512x64xf32> -> tensor<1x4x512x64xf32>
  return %o : tensor<1x4x512x64xf32>
}
