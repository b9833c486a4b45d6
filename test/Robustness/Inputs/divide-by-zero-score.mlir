// A score_mod region dividing by j, which is 0 in the first column: with
// attn's definition (x / 0 = 0, x % 0 = x) every tool runs it; the host
// JIT died with SIGFPE.
// OK-opt
// OK-run
// OK-emulate
// OK-ptx
func.func @attention(%q: tensor<1x2x64x64xf16>, %k: tensor<1x2x64x64xf16>, %v: tensor<1x2x64x64xf16>) -> tensor<1x2x64x64xf16> {
  %o = attn.attention %q, %k, %v
      score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      %d = arith.divui %i, %j : index
      %r = arith.remsi %i, %j : index
      %n = arith.addi %d, %r : index
      %c = arith.index_cast %n : index to i32
      %f = arith.sitofp %c : i32 to f32
      %small = arith.constant 0.001 : f32
      %g = arith.mulf %f, %small : f32
      %t = arith.addf %s, %g : f32
      attn.yield %t : f32
    }
      : tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16> -> tensor<1x2x64x64xf16>
  return %o : tensor<1x2x64x64xf16>
}
