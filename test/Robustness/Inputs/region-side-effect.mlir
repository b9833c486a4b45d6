// A mask_mod region that allocates and stores: regions are pure, the
// verifier names the op.
// EXPECT: mask_mod region may not contain 'memref.alloc'
func.func @attention(%q: tensor<1x2x64x64xf16>, %k: tensor<1x2x64x64xf16>, %v: tensor<1x2x64x64xf16>) -> tensor<1x2x64x64xf16> {
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %m = memref.alloc() : memref<1xi1>
    %c0 = arith.constant 0 : index
    %true = arith.constant true
    memref.store %true, %m[%c0] : memref<1xi1>
    attn.yield %true : i1
  } : tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16> -> tensor<1x2x64x64xf16>
  return %o : tensor<1x2x64x64xf16>
}
