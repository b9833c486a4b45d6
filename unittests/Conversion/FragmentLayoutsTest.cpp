//===- FragmentLayoutsTest.cpp - The layout tables against the PTX ISA ----===//
//
// Every table of attn/Conversion/AttnToGPU/FragmentLayouts.h, for all 32
// lanes, against the PTX ISA's formulas restated here independently of
// the header:
//  - "Matrix fragments for mma.m16n8k16 with floating point type" (and
//    "... mma.m16n8k8"): groupID = %laneid >> 2, threadID_in_group =
//    %laneid % 4, and a row and column formula per fragment element.
//  - "Warp-level matrix load instruction: ldmatrix": threads 8m to 8m + 7
//    give the row addresses of matrix m; thread t receives, of each matrix,
//    row t / 4, columns 2 (t % 4) and 2 (t % 4) + 1 (.trans: the element
//    at [column][row] of the stored matrix instead).
// Then the properties the emitter relies on: that each layout is a
// bijection, that the kernel's ldmatrix.x4 loads deliver exactly the mma
// fragments, and that the swizzle spreads an ldmatrix phase over all bank
// groups and steps from region to region with one xor and one add.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/AttnToGPU/FragmentLayouts.h"

#include "gtest/gtest.h"

#include <set>
#include <utility>

using namespace mlir::attn::layout;

namespace {

using RowCol = std::pair<int, int>;

RowCol rowCol(Coord c) { return {c.row, c.col}; }

//===----------------------------------------------------------------------===//
// The PTX ISA's formulas
//===----------------------------------------------------------------------===//

int ptxGroupID(int lane) { return lane >> 2; }
int ptxThreadIDInGroup(int lane) { return lane % 4; }

/// a_i of m16n8k16: row groupID for a0, a1, a4, a5, else groupID + 8;
/// column threadID_in_group * 2 + (i & 0x1) for i < 4, else + 8.
RowCol ptxAK16(int lane, int i) {
  int g = ptxGroupID(lane), t = ptxThreadIDInGroup(lane);
  int row = (i == 0 || i == 1 || i == 4 || i == 5) ? g : g + 8;
  int col = i < 4 ? t * 2 + (i & 0x1) : t * 2 + (i & 0x1) + 8;
  return {row, col};
}
/// b_i of m16n8k16: row threadID_in_group * 2 + (i & 0x1) for i < 2, else
/// + 8; column groupID.
RowCol ptxBK16(int lane, int i) {
  int g = ptxGroupID(lane), t = ptxThreadIDInGroup(lane);
  int row = i < 2 ? t * 2 + (i & 0x1) : t * 2 + (i & 0x1) + 8;
  return {row, g};
}
/// a_i of m16n8k8: row groupID for a0, a1, else groupID + 8; column
/// threadID_in_group * 2 + (i & 0x1).
RowCol ptxAK8(int lane, int i) {
  int g = ptxGroupID(lane), t = ptxThreadIDInGroup(lane);
  return {i < 2 ? g : g + 8, t * 2 + (i & 0x1)};
}
/// b_i of m16n8k8: row threadID_in_group * 2 + i, column groupID.
RowCol ptxBK8(int lane, int i) {
  return {ptxThreadIDInGroup(lane) * 2 + i, ptxGroupID(lane)};
}
/// c_i (both shapes): row groupID for c0, c1, else groupID + 8; column
/// threadID_in_group * 2 + (i & 0x1).
RowCol ptxC(int lane, int i) {
  int g = ptxGroupID(lane), t = ptxThreadIDInGroup(lane);
  return {i < 2 ? g : g + 8, t * 2 + (i & 0x1)};
}

/// ldmatrix: the element of (stored) matrix m in half h of register m.
RowCol ptxLdmatrix(int lane, int h, bool trans) {
  int row = lane / 4, col = 2 * (lane % 4) + h;
  return trans ? RowCol{col, row} : RowCol{row, col};
}

RowCol ptxMma(MmaOperand operand, int k, int lane, int i) {
  switch (operand) {
  case MmaOperand::A:
    return k == 16 ? ptxAK16(lane, i) : ptxAK8(lane, i);
  case MmaOperand::B:
    return k == 16 ? ptxBK16(lane, i) : ptxBK8(lane, i);
  case MmaOperand::C:
    break;
  }
  return ptxC(lane, i);
}

struct OperandCase {
  const char *name;
  MmaOperand operand;
  int k, rows, cols, elements;
};
constexpr OperandCase kOperands[] = {
    {"A m16n8k16", MmaOperand::A, 16, 16, 16, 8},
    {"B m16n8k16", MmaOperand::B, 16, 16, 8, 4},
    {"C m16n8k16", MmaOperand::C, 16, 16, 8, 4},
    {"A m16n8k8", MmaOperand::A, 8, 16, 8, 4},
    {"B m16n8k8", MmaOperand::B, 8, 8, 8, 2},
    {"C m16n8k8", MmaOperand::C, 8, 16, 8, 4},
};

//===----------------------------------------------------------------------===//
// mma.sync fragments
//===----------------------------------------------------------------------===//

TEST(FragmentLayouts, LaneIdsAreThePtxOnes) {
  for (int lane = 0; lane < kWarpSize; ++lane) {
    EXPECT_EQ(groupID(lane), ptxGroupID(lane));
    EXPECT_EQ(threadIDInGroup(lane), ptxThreadIDInGroup(lane));
  }
}

TEST(FragmentLayouts, MmaFragmentsFollowThePtxFormulas) {
  for (const OperandCase &c : kOperands) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(mmaElementCount(c.operand, c.k), c.elements);
    for (int lane = 0; lane < kWarpSize; ++lane)
      for (int i = 0; i < c.elements; ++i)
        EXPECT_EQ(rowCol(mmaElementCoord(c.operand, lane, i)),
                  ptxMma(c.operand, c.k, lane, i))
            << "lane " << lane << " element " << i;
  }
}

TEST(FragmentLayouts, MmaFragmentsAreBijections) {
  // Each (lane, element) is one cell of the operand, and every cell is
  // held once: 32 lanes x elements = rows x cols.
  for (const OperandCase &c : kOperands) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(kWarpSize * c.elements, c.rows * c.cols);
    std::set<RowCol> cells;
    for (int lane = 0; lane < kWarpSize; ++lane)
      for (int i = 0; i < c.elements; ++i) {
        Coord at = mmaElementCoord(c.operand, lane, i);
        EXPECT_TRUE(at.row >= 0 && at.row < c.rows && at.col >= 0 &&
                    at.col < c.cols)
            << "lane " << lane << " element " << i;
        cells.insert(rowCol(at));
      }
    EXPECT_EQ(cells.size(), static_cast<size_t>(c.rows * c.cols));
  }
}

TEST(FragmentLayouts, SpotChecksFromTheFigures) {
  // Lane 0 holds a0 = (0, 0), a2 = (8, 0), a4 = (0, 8), a7 = (8, 9); lane
  // 31 (groupID 7, threadID_in_group 3) holds a0 = (7, 6), a7 = (15, 15),
  // b3 = (15, 7), c3 = (15, 7).
  EXPECT_EQ(rowCol(mmaElementCoord(MmaOperand::A, 0, 0)), RowCol(0, 0));
  EXPECT_EQ(rowCol(mmaElementCoord(MmaOperand::A, 0, 2)), RowCol(8, 0));
  EXPECT_EQ(rowCol(mmaElementCoord(MmaOperand::A, 0, 4)), RowCol(0, 8));
  EXPECT_EQ(rowCol(mmaElementCoord(MmaOperand::A, 0, 7)), RowCol(8, 9));
  EXPECT_EQ(rowCol(mmaElementCoord(MmaOperand::A, 31, 0)), RowCol(7, 6));
  EXPECT_EQ(rowCol(mmaElementCoord(MmaOperand::A, 31, 7)), RowCol(15, 15));
  EXPECT_EQ(rowCol(mmaElementCoord(MmaOperand::B, 31, 3)), RowCol(15, 7));
  EXPECT_EQ(rowCol(mmaElementCoord(MmaOperand::C, 31, 3)), RowCol(15, 7));
  // ldmatrix: lane 5 holds row 1, columns 2 and 3 (.trans: rows 2 and 3 of
  // column 1).
  EXPECT_EQ(rowCol(ldmatrixElement(5, 0, false)), RowCol(1, 2));
  EXPECT_EQ(rowCol(ldmatrixElement(5, 1, false)), RowCol(1, 3));
  EXPECT_EQ(rowCol(ldmatrixElement(5, 1, true)), RowCol(3, 1));
}

TEST(FragmentLayouts, AccumulatorSlotsAreTheCFragment) {
  // c_i of a lane: row groupID + 8 * slot, column 2 threadID_in_group +
  // column, and vector<2x2xf32>[slot][column] holds each element once.
  std::set<RowCol> positions;
  for (int i = 0; i < 4; ++i) {
    EXPECT_GE(accRowSlot(i), 0);
    EXPECT_LT(accRowSlot(i), kAccRowSlots);
    positions.insert({accRowSlot(i), accColumn(i)});
    for (int lane = 0; lane < kWarpSize; ++lane)
      EXPECT_EQ(RowCol(ptxGroupID(lane) + accSlotRow(accRowSlot(i)),
                       2 * ptxThreadIDInGroup(lane) + accColumn(i)),
                ptxC(lane, i))
          << "lane " << lane << " c" << i;
  }
  EXPECT_EQ(positions.size(), 4u);
}

TEST(FragmentLayouts, TwoAccumulatorTilesAreOneAFragment) {
  // P of key tiles 2s and 2s + 1 (C layout, columns 0-7 and 8-15) is the A
  // operand of k step s, element for element in every lane.
  for (int lane = 0; lane < kWarpSize; ++lane)
    for (int i = 0; i < 8; ++i) {
      AccumulatorElement from = aElementFromAccumulators(i);
      RowCol c = ptxC(lane, from.element);
      EXPECT_EQ(RowCol(c.first, c.second + 8 * from.tile), ptxAK16(lane, i))
          << "lane " << lane << " a" << i;
    }
}

//===----------------------------------------------------------------------===//
// ldmatrix
//===----------------------------------------------------------------------===//

TEST(FragmentLayouts, LdmatrixFollowsThePtxDescription) {
  for (int num : {1, 2, 4})
    for (int lane = 0; lane < kWarpSize; ++lane) {
      MatrixRow r = ldmatrixRowAddress(lane);
      EXPECT_EQ(ldmatrixReadsAddress(lane, num), lane < 8 * num);
      if (ldmatrixReadsAddress(lane, num)) {
        EXPECT_EQ(r.matrix, lane / 8) << "x" << num << " lane " << lane;
        EXPECT_EQ(r.row, lane % 8) << "x" << num << " lane " << lane;
      }
    }
  for (bool trans : {false, true})
    for (int lane = 0; lane < kWarpSize; ++lane)
      for (int h = 0; h < 2; ++h)
        EXPECT_EQ(rowCol(ldmatrixElement(lane, h, trans)),
                  ptxLdmatrix(lane, h, trans))
            << (trans ? ".trans " : "") << "lane " << lane << " half " << h;
}

TEST(FragmentLayouts, LdmatrixIsABijection) {
  // Every matrix row has one address lane; every element of a matrix goes
  // to one (lane, half).
  for (int num : {1, 2, 4}) {
    std::set<std::pair<int, int>> rows;
    for (int lane = 0; lane < kWarpSize; ++lane)
      if (ldmatrixReadsAddress(lane, num))
        rows.insert(
            {ldmatrixRowAddress(lane).matrix, ldmatrixRowAddress(lane).row});
    EXPECT_EQ(rows.size(), static_cast<size_t>(8 * num));
  }
  for (bool trans : {false, true}) {
    std::set<RowCol> cells;
    for (int lane = 0; lane < kWarpSize; ++lane)
      for (int h = 0; h < 2; ++h) {
        Coord c = ldmatrixElement(lane, h, trans);
        EXPECT_TRUE(c.row >= 0 && c.row < 8 && c.col >= 0 && c.col < 8);
        cells.insert(rowCol(c));
      }
    EXPECT_EQ(cells.size(), 64u);
  }
}

/// Where element (row, col) of operand `operand` of fragment `fragment`
/// lies in the 16 x 16 region an x4 load reads (row, element column).
RowCol regionCell(const X4Use &use, int fragment, RowCol at) {
  if (use.operand == MmaOperand::A)
    return at;
  // B (k x n) of n8 tile `fragment`: stored [n][k], or [k][n] (.trans).
  int k = at.first, n = at.second + 8 * fragment;
  return use.transpose ? RowCol{k, n} : RowCol{n, k};
}

TEST(FragmentLayouts, KernelX4LoadsDeliverTheMmaFragments) {
  // For each x4 load of the kernel, every lane's register m half h (what
  // ldmatrix delivers from the row addresses the lanes give) is the
  // fragment element the mma expects there.
  struct UseCase {
    const char *name;
    X4Use use;
  };
  for (const UseCase &c : {UseCase{"A of Q K^T from Q", kX4AFromMK},
                           UseCase{"B of Q K^T from K", kX4BPairFromNK},
                           UseCase{"B of P V from V", kX4BPairFromKN}}) {
    SCOPED_TRACE(c.name);
    std::set<RowCol> cells;
    for (int lane = 0; lane < kWarpSize; ++lane)
      for (int m = 0; m < 4; ++m)
        for (int h = 0; h < 2; ++h) {
          // The element of matrix m this lane receives, and the region row
          // and chunk its row address (given by lane 8m + row) points at.
          RowCol inMatrix = ptxLdmatrix(lane, h, c.use.transpose);
          Coord address = x4LaneAddress(c.use.order, 8 * m + inMatrix.first);
          EXPECT_TRUE(address.row >= 0 && address.row < kX4Rows &&
                      address.col >= 0 && address.col < kX4Chunks);
          RowCol loaded = {address.row, 8 * address.col + inMatrix.second};
          FragmentRegister dst = x4Destination(c.use.operand, m);
          RowCol expected =
              regionCell(c.use, dst.fragment,
                         ptxMma(c.use.operand, 16, lane, 2 * dst.reg + h));
          EXPECT_EQ(loaded, expected)
              << "lane " << lane << " matrix " << m << " half " << h;
          cells.insert(loaded);
        }
    EXPECT_EQ(cells.size(), 256u); // the whole region, once
  }
}

//===----------------------------------------------------------------------===//
// The swizzle
//===----------------------------------------------------------------------===//

// Every head dimension the kernels take: the multiples of 32 up to 256.
constexpr int64_t kRowElements[] = {32, 64, 96, 128, 160, 192, 224, 256};

TEST(Swizzle, IsTheXorOfTheRowModEightOrOfHalfTheRowModFour) {
  for (int64_t row = 0; row < 64; ++row)
    for (int64_t chunk = 0; chunk < 32; ++chunk) {
      EXPECT_EQ(swizzledChunk(row, chunk, 128), chunk ^ (row % 8));
      EXPECT_EQ(swizzledOffset(row, chunk, 128),
                row * 128 + (chunk ^ (row % 8)) * 8);
      EXPECT_EQ(swizzledChunk(row, chunk, 96), chunk ^ (row / 2 % 4));
      EXPECT_EQ(swizzledOffset(row, chunk, 96),
                row * 96 + (chunk ^ (row / 2 % 4)) * 8);
    }
}

TEST(Swizzle, PermutesEachRowAndEachEightRowGroup) {
  for (int64_t d : kRowElements) {
    int64_t chunks = d / kChunkElements;
    for (int64_t group = 0; group < 4; ++group) {
      std::set<int64_t> offsets;
      for (int64_t row = 8 * group; row < 8 * group + 8; ++row) {
        std::set<int64_t> inRow;
        for (int64_t chunk = 0; chunk < chunks; ++chunk) {
          int64_t offset = swizzledOffset(row, chunk, d);
          EXPECT_EQ(offset % kChunkElements, 0);
          EXPECT_GE(offset, row * d); // stays in its row
          EXPECT_LT(offset, (row + 1) * d);
          inRow.insert(offset);
          offsets.insert(offset);
        }
        EXPECT_EQ(inRow.size(), static_cast<size_t>(chunks));
      }
      EXPECT_EQ(offsets.size(), static_cast<size_t>(8 * chunks));
    }
  }
}

TEST(Swizzle, AnLdmatrixPhaseHitsEightBankGroups) {
  // One phase of ldmatrix reads one 16-byte row of each of eight lanes'
  // addresses: eight consecutive rows (from any start), one logical chunk.
  // Shared memory has 8 groups of four 4-byte banks per 128 bytes.
  for (int64_t d : kRowElements)
    for (int64_t first = 0; first < 16; ++first)
      for (int64_t chunk = 0; chunk < d / kChunkElements; ++chunk) {
        std::set<int64_t> bankGroups;
        for (int64_t row = first; row < first + 8; ++row)
          bankGroups.insert(swizzledOffset(row, chunk, d) * 2 / 16 % 8);
        EXPECT_EQ(bankGroups.size(), 8u)
            << "d " << d << " rows " << first << "+ chunk " << chunk;
      }
}

TEST(Swizzle, RepeatsEveryEightRows) {
  // tileCopy hoists one offset per row residue and adds whole row groups.
  for (int64_t d : kRowElements)
    for (int64_t row = 0; row < 8; ++row)
      for (int64_t chunk = 0; chunk < d / kChunkElements; ++chunk)
        for (int64_t groups = 0; groups < 8; ++groups)
          EXPECT_EQ(swizzledOffset(row + kSwizzleRows * groups, chunk, d),
                    swizzledOffset(row, chunk, d) + kSwizzleRows * groups * d);
}

TEST(Swizzle, X4RegionStepsAreOneXorAndOneAdd) {
  // Every lane's address in x4 region (i, j) from its address in region
  // (0, 0), as the emitter computes it.
  for (int64_t d : kRowElements)
    for (BlockOrder order : {BlockOrder::ColumnMajor, BlockOrder::RowMajor})
      for (int64_t warpRow : {0, 16, 48})
        for (int lane = 0; lane < kWarpSize; ++lane) {
          Coord at = x4LaneAddress(order, lane);
          int64_t row0 = warpRow + at.row, chunk0 = at.col;
          int64_t base = swizzledOffset(row0, chunk0, d);
          for (int64_t i = 0; i < 4; ++i)
            for (int64_t j = 0; j < d / kChunkElements / kX4Chunks; ++j) {
              OffsetStep step = x4RegionStep(i, j, d);
              EXPECT_EQ(
                  (base ^ step.xorMask) + step.add,
                  swizzledOffset(row0 + kX4Rows * i, chunk0 + kX4Chunks * j, d))
                  << "d " << d << " lane " << lane << " region " << i << ", "
                  << j;
            }
        }
}

} // namespace
