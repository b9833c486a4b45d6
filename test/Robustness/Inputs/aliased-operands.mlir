// The same tensor as query, key and value: the JIT must read it for each
// role (it read the key buffer for the query), so the result checks.
// OK-opt
// OK-run
// OK-emulate
// OK-ptx
func.func @attention(%x: tensor<1x2x64x64xf16>) -> tensor<1x2x64x64xf16> {
  %o = attn.attention %x, %x, %x {mask = #attn.causal} : tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16> -> tensor<1x2x64x64xf16>
  return %o : tensor<1x2x64x64xf16>
}
