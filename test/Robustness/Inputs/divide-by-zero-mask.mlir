// A mask_mod that divides by i - j, zero on the diagonal: kept where
// j / (i - j) == 0 and j % (i - j) == j, i.e. j < i / 2 and the diagonal
// (x / 0 = 0, x % 0 = x). Once a SIGFPE in the host JIT; now every tool
// runs it, and host and emulator match the f64 reference.
// OK-opt
// OK-run
// OK-emulate
// OK-ptx
func.func @divide_by_zero(%q: tensor<1x2x128x64xf16>, %k: tensor<1x2x128x64xf16>, %v: tensor<1x2x128x64xf16>) -> tensor<1x2x128x64xf16> {
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %d = arith.subi %i, %j : index
    %c0 = arith.constant 0 : index
    %quot = arith.divsi %j, %d : index
    %rem = arith.remsi %j, %d : index
    %q0 = arith.cmpi eq, %quot, %c0 : index
    %rj = arith.cmpi eq, %rem, %j : index
    %keep = arith.andi %q0, %rj : i1
    attn.yield %keep : i1
  } : tensor<1x2x128x64xf16>, tensor<1x2x128x64xf16>, tensor<1x2x128x64xf16> -> tensor<1x2x128x64xf16>
  return %o : tensor<1x2x128x64xf16>
}
