// A captured tensor of complex<f32> (once a crash in the JIT's
// marshalling, getIntOrFloatBitWidth): refused by the verifier.
// EXPECT: captured tensors hold signless integers (i1 to i64) or f16, bf16, f32, f64
func.func @attention(%q: tensor<1x2x64x64xf16>, %k: tensor<1x2x64x64xf16>, %v: tensor<1x2x64x64xf16>, %t: tensor<64xcomplex<f32>>) -> tensor<1x2x64x64xf16> {
  %o = attn.attention %q, %k, %v captures(%t : tensor<64xcomplex<f32>>) mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index, %x: tensor<64xcomplex<f32>>):
    %true = arith.constant true
    attn.yield %true : i1
  } : tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16> -> tensor<1x2x64x64xf16>
  return %o : tensor<1x2x64x64xf16>
}
