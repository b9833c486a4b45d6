//===- WarpOpsTest.cpp - ldmatrix, mma.sync and vote, lane by lane --------===//
//
// The emulator's ldmatrix and mma.sync, lane by lane, against the layout
// tables the kernel emitter uses (attn/Conversion/AttnToGPU/
// FragmentLayouts.h, which FragmentLayoutsTest checks against the PTX
// ISA's formulas), not against the emulator's own index arithmetic:
//  - ldmatrix: which lanes give the row addresses of which matrix
//    (layout::ldmatrixRowAddress) and which element of each matrix lands in
//    which half of each lane's register (layout::ldmatrixElement).
//  - mma.sync m16n8k16 and m16n8k8: the row and column of every a_i, b_i
//    and c_i / d_i of every lane (layout::mmaElementCoord).
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/AttnToGPU/FragmentLayouts.h"
#include "attn/Emulator/Runtime.h"

#include "../Support/Dtypes.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <vector>

using namespace mlir::attn::emu;
namespace layout = mlir::attn::layout;

namespace {

//===----------------------------------------------------------------------===//
// ldmatrix
//===----------------------------------------------------------------------===//

/// The b16 value stored at row r, column c of matrix i.
uint16_t cell(uint32_t i, uint32_t r, uint32_t c) {
  return static_cast<uint16_t>(i * 64 + r * 8 + c);
}

/// Rows live in shared memory in a scrambled order, so that the lanes'
/// addresses (not the layout of the buffer) decide what is loaded.
uint32_t slotOf(uint32_t matrix, uint32_t row) {
  return (matrix * 8 + row) * 7 % 32;
}

struct LdmatrixArgs {
  uint32_t num;
  bool trans;
  uint32_t *out; // [32][4]
};

void ldmatrixKernel(void **args) {
  auto *a = static_cast<LdmatrixArgs *>(args[0]);
  auto *shared = static_cast<uint16_t *>(attn_emu_dynamic_shared());
  uint32_t lane = attn_emu_laneid();
  // Lane l stores the row it gives the address of in that row's slot.
  layout::MatrixRow mine = layout::ldmatrixRowAddress(static_cast<int>(lane));
  auto matrix = static_cast<uint32_t>(mine.matrix);
  auto r = static_cast<uint32_t>(mine.row);
  uint16_t *row = shared + slotOf(matrix, r) * 8;
  attn_emu_access(row, 16, /*write=*/1, AddressSpace::Shared);
  for (uint32_t c = 0; c < 8; ++c)
    row[c] = cell(matrix, r, c);
  attn_emu_barrier0();
  // Only lanes 0..8*num-1 give addresses; the others are ignored.
  const void *address = layout::ldmatrixReadsAddress(static_cast<int>(lane),
                                                     static_cast<int>(a->num))
                            ? row
                            : nullptr;
  uint32_t regs[4] = {0, 0, 0, 0};
  attn_emu_ldmatrix(address, a->num, a->trans, regs);
  for (uint32_t i = 0; i < 4; ++i)
    a->out[lane * 4 + i] = regs[i];
}

std::vector<uint32_t> runLdmatrix(uint32_t num, bool trans) {
  std::vector<uint32_t> out(32 * 4, 0xdeadbeef);
  LdmatrixArgs args{num, trans, out.data()};
  void *argv[] = {&args};
  LaunchConfig config;
  config.block = {32, 1, 1};
  config.dynamicSharedBytes = 32 * 16;
  LaunchResult result = launch(config, ldmatrixKernel, argv);
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.counters.ldmatrixInstructions, 1u);
  return out;
}

uint32_t pack(uint16_t lo, uint16_t hi) {
  return uint32_t{lo} | (uint32_t{hi} << 16);
}

/// What register `i` of `lane` holds per the layout table: the elements
/// of halves 0 and 1 of matrix i.
uint32_t expectedRegister(uint32_t lane, uint32_t i, bool trans) {
  auto at = [&](int half) {
    layout::Coord c =
        layout::ldmatrixElement(static_cast<int>(lane), half, trans);
    return cell(i, static_cast<uint32_t>(c.row), static_cast<uint32_t>(c.col));
  };
  return pack(at(0), at(1));
}

TEST(EmulatorLdmatrix, FragmentsFollowTheLayoutTable) {
  for (uint32_t num : {1u, 2u, 4u}) {
    std::vector<uint32_t> out = runLdmatrix(num, /*trans=*/false);
    for (uint32_t lane = 0; lane < 32; ++lane)
      for (uint32_t i = 0; i < num; ++i)
        EXPECT_EQ(out[lane * 4 + i], expectedRegister(lane, i, false))
            << "x" << num << " lane " << lane << " matrix " << i;
    // Registers beyond .num are not written.
    EXPECT_EQ(out[4 * 31 + 3], num == 4 ? pack(cell(3, 7, 6), cell(3, 7, 7))
                                        : 0u);
  }
  // Spot checks from the figure: lane 5 holds row 1, columns 2 and 3.
  std::vector<uint32_t> x4 = runLdmatrix(4, false);
  EXPECT_EQ(x4[5 * 4 + 0], pack(10, 11));
  EXPECT_EQ(x4[5 * 4 + 2], pack(128 + 10, 128 + 11));
}

TEST(EmulatorLdmatrix, TransposedFragmentsFollowTheLayoutTable) {
  for (uint32_t num : {1u, 2u, 4u}) {
    std::vector<uint32_t> out = runLdmatrix(num, /*trans=*/true);
    for (uint32_t lane = 0; lane < 32; ++lane)
      for (uint32_t i = 0; i < num; ++i)
        EXPECT_EQ(out[lane * 4 + i], expectedRegister(lane, i, true))
            << "x" << num << ".trans lane " << lane << " matrix " << i;
  }
  // Lane 5, transposed: rows 2 and 3 of column 1.
  std::vector<uint32_t> x1 = runLdmatrix(1, true);
  EXPECT_EQ(x1[5 * 4], pack(17, 25));
}

//===----------------------------------------------------------------------===//
// mma.sync
//===----------------------------------------------------------------------===//

using attn_test::toBf16Bits;
using attn_test::toF16Bits;

struct MmaProblem {
  MmaShape shape;
  MmaType type;
  int k;
  float a[16][16], b[16][8], c[16][8];
  float d[32][4]; // per lane
};

/// Row and column of a_i, b_i or c_i / d_i of `lane` in its operand.
std::pair<int, int> at(layout::MmaOperand operand, int lane, int i) {
  layout::Coord c = layout::mmaElementCoord(operand, lane, i);
  return {c.row, c.col};
}

void mmaKernel(void **args) {
  auto *p = static_cast<MmaProblem *>(args[0]);
  int lane = static_cast<int>(attn_emu_laneid());
  auto encode = [&](float x) {
    return p->type == MmaType::F16 ? toF16Bits(x) : toBf16Bits(x);
  };
  uint32_t a[4] = {0, 0, 0, 0}, b[2] = {0, 0};
  float c[4], d[4];
  using layout::MmaOperand;
  int aCount = layout::mmaElementCount(MmaOperand::A, p->k);
  int bCount = layout::mmaElementCount(MmaOperand::B, p->k);
  for (int i = 0; i < aCount; ++i) {
    auto [r, col] = at(MmaOperand::A, lane, i);
    a[i / 2] |= uint32_t{encode(p->a[r][col])} << (16 * (i % 2));
  }
  for (int i = 0; i < bCount; ++i) {
    auto [r, col] = at(MmaOperand::B, lane, i);
    b[i / 2] |= uint32_t{encode(p->b[r][col])} << (16 * (i % 2));
  }
  for (int i = 0; i < 4; ++i) {
    auto [r, col] = at(MmaOperand::C, lane, i);
    c[i] = p->c[r][col];
  }
  attn_emu_mma(static_cast<uint32_t>(p->shape), static_cast<uint32_t>(p->type),
               a, b, c, d);
  for (int i = 0; i < 4; ++i)
    p->d[lane][i] = d[i];
}

void checkMma(MmaShape shape, MmaType type) {
  auto p = std::make_unique<MmaProblem>();
  p->shape = shape;
  p->type = type;
  p->k = shape == MmaShape::M16N8K16 ? 16 : 8;
  // Small integers: every product and sum is exact in f32.
  for (int r = 0; r < 16; ++r)
    for (int c = 0; c < 16; ++c)
      p->a[r][c] = static_cast<float>((r * 7 + c * 3) % 11 - 5);
  for (int r = 0; r < 16; ++r)
    for (int c = 0; c < 8; ++c)
      p->b[r][c] = static_cast<float>((r * 5 + c * 13) % 9 - 4);
  for (int r = 0; r < 16; ++r)
    for (int c = 0; c < 8; ++c)
      p->c[r][c] = static_cast<float>(r * 8 + c);
  void *argv[] = {p.get()};
  LaunchConfig config;
  config.block = {32, 1, 1};
  LaunchResult result = launch(config, mmaKernel, argv);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.counters.mmaInstructions, 1u);
  for (int lane = 0; lane < 32; ++lane)
    for (int i = 0; i < 4; ++i) {
      auto [r, col] = at(layout::MmaOperand::C, lane, i);
      double expected = p->c[r][col];
      for (int kk = 0; kk < p->k; ++kk)
        expected += double{p->a[r][kk]} * p->b[kk][col];
      EXPECT_EQ(p->d[lane][i], expected) << "lane " << lane << " d" << i;
    }
}

TEST(EmulatorMma, M16N8K16F16) { checkMma(MmaShape::M16N8K16, MmaType::F16); }
TEST(EmulatorMma, M16N8K16BF16) { checkMma(MmaShape::M16N8K16, MmaType::BF16); }
TEST(EmulatorMma, M16N8K8F16) { checkMma(MmaShape::M16N8K8, MmaType::F16); }
TEST(EmulatorMma, M16N8K8BF16) { checkMma(MmaShape::M16N8K8, MmaType::BF16); }

//===----------------------------------------------------------------------===//
// vote.sync
//===----------------------------------------------------------------------===//

struct VoteArgs {
  uint32_t kind, mask;
  uint32_t out[32];
};

void voteKernel(void **args) {
  auto *v = static_cast<VoteArgs *>(args[0]);
  uint32_t lane = attn_emu_laneid();
  if (!(v->mask & (1u << lane)))
    return;
  v->out[lane] = attn_emu_vote_sync(v->kind, v->mask, lane % 3 == 0);
}

uint32_t vote(VoteKind kind, uint32_t mask) {
  VoteArgs v{static_cast<uint32_t>(kind), mask, {}};
  void *argv[] = {&v};
  LaunchConfig config;
  config.block = {32, 1, 1};
  LaunchResult result = launch(config, voteKernel, argv);
  EXPECT_TRUE(result.ok) << result.error;
  uint32_t first = v.out[__builtin_ctz(mask)];
  for (uint32_t l = 0; l < 32; ++l)
    if (mask & (1u << l))
      EXPECT_EQ(v.out[l], first) << "lane " << l;
  return first;
}

TEST(EmulatorVote, AllKinds) {
  // Lanes 0, 3, 6, ... vote true.
  EXPECT_EQ(vote(VoteKind::Ballot, 0xffffffffu), 0x49249249u);
  EXPECT_EQ(vote(VoteKind::Ballot, 0x0000000fu), 0x9u);
  EXPECT_EQ(vote(VoteKind::Any, 0xffffffffu), 1u);
  EXPECT_EQ(vote(VoteKind::Any, 0x00000006u), 0u); // lanes 1, 2
  EXPECT_EQ(vote(VoteKind::All, 0xffffffffu), 0u);
  EXPECT_EQ(vote(VoteKind::All, 0x00000049u), 1u); // lanes 0, 3, 6
  EXPECT_EQ(vote(VoteKind::Uni, 0x00000049u), 1u);
  EXPECT_EQ(vote(VoteKind::Uni, 0x00000006u), 1u);
  EXPECT_EQ(vote(VoteKind::Uni, 0x0000000fu), 0u);
}

//===----------------------------------------------------------------------===//
// Approximate math
//===----------------------------------------------------------------------===//

TEST(EmulatorMath, ApproximationsStayWithinThePtxBounds) {
  int inexact = 0;
  for (int i = -4000; i <= 4000; ++i) {
    float x = static_cast<float>(i) * 0.031f;
    double exact = std::exp2(double{x});
    float approx = attn_emu_ex2_approx(x, 0);
    EXPECT_LE(std::fabs(approx - exact) / exact, std::ldexp(1.0, -22)) << x;
    inexact += approx != static_cast<float>(exact);
    float r = attn_emu_rcp_approx(x == 0 ? 1.0f : x, 0);
    double rExact = 1.0 / double{x == 0 ? 1.0f : x};
    EXPECT_LE(std::fabs(r - rExact), std::fabs(std::nextafter(r, 0.0f) - r))
        << x;
  }
  // The emulation is no better than the hardware's documented accuracy.
  EXPECT_GT(inexact, 0);
  // .ftz flushes subnormal inputs and results.
  float subnormal = std::ldexp(1.0f, -130);
  EXPECT_EQ(attn_emu_ex2_approx(subnormal, 1), 1.0f);
  EXPECT_EQ(attn_emu_ex2_approx(-130.0f, 1), 0.0f);
  EXPECT_GT(attn_emu_ex2_approx(-130.0f, 0), 0.0f);
  EXPECT_TRUE(std::isinf(attn_emu_rcp_approx(subnormal, 1)));
  EXPECT_TRUE(std::isinf(attn_emu_ex2_approx(200.0f, 0)));
  EXPECT_EQ(attn_emu_ex2_approx(-INFINITY, 0), 0.0f);
}

} // namespace
