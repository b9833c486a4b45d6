// RUN: env -i attn-ptx %s -o %t && FileCheck %s --check-prefix=LINKED < %t.ptx
// RUN: not env -i ATTN_CUDA_PATH=%t.none attn-ptx %s -o %t.env 2>&1 \
// RUN:   | FileCheck %s --check-prefix=MISSING -DROOT=%t.none
// RUN: not attn-ptx %s --cuda-path=%t.none -o %t.opt 2>&1 \
// RUN:   | FileCheck %s --check-prefix=OPTION -DROOT=%t.none
// RUN: not test -e %t.env.ptx
// RUN: ATTN_CUDA_PATH=%t.none attn-ptx %attn_src_root/bench/gpu/dense_f16_d128_s4096.mlir --print-ptx \
// RUN:   | FileCheck %s --check-prefix=NEEDLESS

// A score_mod region calling erf, which only libdevice implements: in a
// scrubbed environment (env -i: no CUDA_HOME, no PATH) attn-ptx still
// finds libdevice (the toolkit found at configure time) and the PTX calls
// nothing it does not define.
// LINKED:     .visible .entry attention_kernel(
// LINKED-NOT: .extern .func
// LINKED-NOT: __nv_erff

// Told to look where there is no libdevice, it fails, saying what the
// kernel needs and where it looked, and writes no PTX.
// MISSING: error: attn-ptx: the kernel calls libdevice (__nv_erff) but no libdevice.10.bc was found
// MISSING: [[ROOT]]/nvvm/libdevice/libdevice.10.bc (ATTN_CUDA_PATH): not found
// OPTION:  [[ROOT]]/nvvm/libdevice/libdevice.10.bc (the CUDA path option): not found

// A kernel that calls no libdevice function needs none.
// NEEDLESS:     .visible .entry attention_kernel(
// NEEDLESS-NOT: .extern .func

func.func @attention(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>,
                     %v: tensor<1x4x128x64xf16>) -> tensor<1x4x128x64xf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.causal}
      score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      %e = math.erf %s : f32
      attn.yield %e : f32
    }
      : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
      -> tensor<1x4x128x64xf16>
  return %o : tensor<1x4x128x64xf16>
}
