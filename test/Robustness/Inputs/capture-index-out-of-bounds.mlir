// A score_mod region reading its captured table past the end: the host
// clamps the index (attn-clamp-captured-reads) and runs (the f64 reference
// does not evaluate score_mod regions); the emulator reports the read with
// its block, thread and address; no tool reads wild memory. The index is
// 2^40 past the end: the emulator checks an address against every buffer
// it registered, and a read only 400 KB past the table could land inside
// another one (it did, in about 2 runs of 80, depending on the heap).
// OK-opt
// OK-run
// EXPECT-emulate: out-of-bounds global read
// OK-ptx
func.func @attention(%q: tensor<1x2x64x64xf16>, %k: tensor<1x2x64x64xf16>, %v: tensor<1x2x64x64xf16>, %t: tensor<64xf32>) -> tensor<1x2x64x64xf16> {
  %o = attn.attention %q, %k, %v captures(%t : tensor<64xf32>)
      score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index, %table: tensor<64xf32>):
      %far = arith.constant 1099511627776 : index
      %at = arith.addi %j, %far : index
      %x = tensor.extract %table[%at] : tensor<64xf32>
      %r = arith.addf %s, %x : f32
      attn.yield %r : f32
    }
      : tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16> -> tensor<1x2x64x64xf16>
  return %o : tensor<1x2x64x64xf16>
}
