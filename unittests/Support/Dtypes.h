//===- Dtypes.h - f16 and bf16 rounding for tests ---------------*- C++ -*-===//
//
// Independent of the compiler: the host's _Float16 for f16, and
// round-to-nearest-even on the top 16 bits of an f32 for bf16.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_UNITTESTS_SUPPORT_DTYPES_H
#define ATTN_UNITTESTS_SUPPORT_DTYPES_H

#include <cstdint>
#include <cstring>

namespace attn_test {

inline uint16_t toBf16Bits(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  uint32_t rounding = 0x7fff + ((bits >> 16) & 1); // round to nearest even
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

inline float fromBf16Bits(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float x;
  std::memcpy(&x, &bits, 4);
  return x;
}

inline uint16_t toF16Bits(float x) {
  _Float16 h = static_cast<_Float16>(x);
  uint16_t bits;
  std::memcpy(&bits, &h, 2);
  return bits;
}

inline float fromF16Bits(uint16_t bits) {
  _Float16 h;
  std::memcpy(&h, &bits, 2);
  return static_cast<float>(h);
}

} // namespace attn_test

#endif // ATTN_UNITTESTS_SUPPORT_DTYPES_H
