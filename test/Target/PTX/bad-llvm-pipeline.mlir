// RUN: not attn-ptx %s --llvm-passes='function(no-such-pass)' --print-ptx 2>&1 | FileCheck %s

// A user's LLVM pipeline that does not parse is an error naming it, not a
// crash or PTX from some other pipeline.

// CHECK: error: attn-ptx: bad LLVM pass pipeline 'function(no-such-pass)': unknown function pass 'no-such-pass'
func.func @dense(%q: tensor<1x1x64x64xf16>, %k: tensor<1x1x64x64xf16>,
                 %v: tensor<1x1x64x64xf16>) -> tensor<1x1x64x64xf16> {
  %o = attn.attention %q, %k, %v
      : tensor<1x1x64x64xf16>, tensor<1x1x64x64xf16>, tensor<1x1x64x64xf16>
      -> tensor<1x1x64x64xf16>
  return %o : tensor<1x1x64x64xf16>
}
