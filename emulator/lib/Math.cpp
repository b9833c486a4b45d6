//===- Math.cpp - Approximate math, libdevice, and the symbol table -------===//
//
// ex2.approx and rcp.approx are emulated at the accuracy the PTX ISA
// documents, not better, so that a kernel relying on more precision than
// the GPU gives fails here too: ex2.approx.f32 has a maximum relative error
// of 2^-22 (the result is rounded to 22 significant bits), lg2.approx.f32
// likewise (2^-22 relative, the PTX ISA bounds its absolute error by
// 2^-22.6 near 1); rcp.approx.f32 is within 1 ulp (the host's correctly
// rounded reciprocal). .ftz flushes subnormal inputs and results to
// sign-preserving zero. tanh.approx.f32 has a maximum relative error of
// 2^-10.987 over its whole range: the exact value is rounded to 10
// significant bits (relative error up to 2^-10, a little worse than the
// GPU, never better).
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace mlir::attn::emu;

namespace {

float flushSubnormal(float x) {
  return std::fpclassify(x) == FP_SUBNORMAL ? std::copysign(0.0f, x) : x;
}

/// Rounds `x` to `bits` significant bits (to nearest), straight from the
/// double so that no second rounding adds to the error.
double roundSignificand(double x, int bits) {
  if (!std::isfinite(x) || x == 0.0)
    return x;
  int e = 0;
  double m = std::frexp(x, &e); // x = m * 2^e, |m| in [0.5, 1)
  return std::ldexp(std::round(std::ldexp(m, bits)), e - bits);
}

} // namespace

extern "C" {

float attn_emu_ex2_approx(float x, uint32_t ftz) {
  if (ftz)
    x = flushSubnormal(x);
  auto r = static_cast<float>(roundSignificand(std::exp2(double{x}), 22));
  return ftz ? flushSubnormal(r) : r;
}

float attn_emu_lg2_approx(float x, uint32_t ftz) {
  if (ftz)
    x = flushSubnormal(x);
  return static_cast<float>(roundSignificand(std::log2(double{x}), 22));
}

float attn_emu_tanh_approx(float x) {
  return static_cast<float>(roundSignificand(std::tanh(double{x}), 10));
}

float attn_emu_rcp_approx(float x, uint32_t ftz) {
  if (ftz)
    x = flushSubnormal(x);
  float r = 1.0f / x;
  return ftz ? flushSubnormal(r) : r;
}

/// f32 -> bf16, round to nearest even (NaN stays NaN): the soft-float
/// routine LLVM calls for fptrunc to bfloat on x86, which the JIT's process
/// may not provide.
__bf16 attn_emu_truncsfbf2(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  uint16_t result;
  if (std::isnan(x))
    result = static_cast<uint16_t>((bits >> 16) | 0x40);
  else
    result = static_cast<uint16_t>((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
  __bf16 out;
  std::memcpy(&out, &result, sizeof(out));
  return out;
}

#define ATTN_EMU_NV1(name, T, expr)                                            \
  T attn_emu_nv_##name(T a) { return expr; }
#define ATTN_EMU_NV2(name, T, expr)                                            \
  T attn_emu_nv_##name(T a, T b) { return expr; }
#define ATTN_EMU_NV3(name, T, expr)                                            \
  T attn_emu_nv_##name(T a, T b, T c) { return expr; }
#include "attn/Emulator/Libdevice.def"

} // extern "C"

const std::vector<Symbol> &mlir::attn::emu::runtimeSymbols() {
  static const std::vector<Symbol> symbols = [] {
    std::vector<Symbol> s;
#define ADD(fn) s.push_back(Symbol{#fn, reinterpret_cast<void *>(&fn)})
    ADD(attn_emu_tid);
    ADD(attn_emu_ntid);
    ADD(attn_emu_ctaid);
    ADD(attn_emu_nctaid);
    ADD(attn_emu_laneid);
    ADD(attn_emu_warpid);
    ADD(attn_emu_barrier0);
    ADD(attn_emu_shfl_sync);
    ADD(attn_emu_shfl_sync_packed);
    ADD(attn_emu_vote_sync);
    ADD(attn_emu_ldmatrix);
    ADD(attn_emu_mma);
    ADD(attn_emu_cp_async);
    ADD(attn_emu_cp_async_commit);
    ADD(attn_emu_cp_async_wait);
    ADD(attn_emu_access);
    ADD(attn_emu_ex2_approx);
    ADD(attn_emu_rcp_approx);
    ADD(attn_emu_lg2_approx);
    ADD(attn_emu_tanh_approx);
    s.push_back(
        Symbol{"__truncsfbf2", reinterpret_cast<void *>(&attn_emu_truncsfbf2)});
    ADD(attn_emu_dynamic_shared);
    ADD(attn_emu_static_shared);
#define ATTN_EMU_NV1(name, T, expr) ADD(attn_emu_nv_##name);
#define ATTN_EMU_NV2(name, T, expr) ADD(attn_emu_nv_##name);
#define ATTN_EMU_NV3(name, T, expr) ADD(attn_emu_nv_##name);
#include "attn/Emulator/Libdevice.def"
#undef ADD
    return s;
  }();
  return symbols;
}

bool mlir::attn::emu::hasLibdeviceEmulation(const std::string &name) {
  static const std::vector<std::string> names = {
#define ATTN_EMU_NV1(name, T, expr) "__nv_" #name,
#define ATTN_EMU_NV2(name, T, expr) "__nv_" #name,
#define ATTN_EMU_NV3(name, T, expr) "__nv_" #name,
#include "attn/Emulator/Libdevice.def"
  };
  return std::find(names.begin(), names.end(), name) != names.end();
}
