//===- FragmentLayouts.h - Warp fragment and swizzle layouts ----*- C++ -*-===//
//
// Where each element of a warp-level matrix lives, as data: the fragments
// of mma.sync m16n8k16 (and m16n8k8) with 16-bit A and B and f32 C/D, what
// ldmatrix.m8n8.b16 .x1/.x2/.x4 (.trans) reads and delivers lane by lane,
// how the kernel's ldmatrix.x4 loads fill mma fragments, and the XOR
// swizzle of the shared-memory tiles. The kernel emitter
// (lib/Conversion/AttnToGPU/KernelEmitter.cpp) takes its index arithmetic
// from here, the emulator's lane-by-lane tests place fragments with it, and
// unittests/Conversion/FragmentLayoutsTest.cpp checks every table against
// the PTX ISA's formulas. Plain constexpr C++ with no MLIR dependency, so
// that tests which do not link MLIR (the emulator's) use it too.
//
// Everything is built from one 8x8 pattern, that of a 32-bit register of a
// 16-bit fragment ("Matrix fragments for mma.m16n8k16"): lane l holds row
// l / 4 (groupID) and columns 2 (l % 4), 2 (l % 4) + 1 (threadID_in_group).
// ldmatrix delivers exactly that pattern of each 8x8 matrix it reads, and
// an mma operand is a grid of such tiles, register r at tile
// (r % tilesDown, r / tilesDown), as in upstream's
// mlir/lib/Dialect/NVGPU/Utils/MMAUtils.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_ATTNTOGPU_FRAGMENTLAYOUTS_H
#define ATTN_CONVERSION_ATTNTOGPU_FRAGMENTLAYOUTS_H

#include <cstdint>

namespace mlir::attn::layout {

constexpr int kWarpSize = 32;
/// The rows (M) of an mma.sync m16n8k16 / m16n8k8: one warp's rows.
constexpr int kMmaRows = 16;
/// An 8x8 tile of 16-bit elements: 8 rows of one 16-byte chunk.
constexpr int kTileSize = 8;
/// The lanes that share a row of a tile (a "group" in the PTX ISA), and
/// the adjacent columns each of them holds (a register's two halves).
constexpr int kLanesPerGroup = 4;
constexpr int kLaneColumns = 2;

/// A (row, column) position; for the swizzle, (row, 16-byte chunk).
struct Coord {
  int row = 0, col = 0;
  friend constexpr bool operator==(Coord a, Coord b) {
    return a.row == b.row && a.col == b.col;
  }
  friend constexpr bool operator!=(Coord a, Coord b) { return !(a == b); }
};

constexpr int groupID(int lane) { return lane / kLanesPerGroup; }
constexpr int threadIDInGroup(int lane) { return lane % kLanesPerGroup; }

/// Element `half` (0 or 1) of the register `lane` holds of an 8x8 tile.
constexpr Coord tileElement(int lane, int half) {
  return {groupID(lane), kLaneColumns * threadIDInGroup(lane) + half};
}

//===----------------------------------------------------------------------===//
// mma.sync.aligned.m16n8k{16,8}.row.col.f32.{f16,bf16}.{f16,bf16}.f32
//===----------------------------------------------------------------------===//

/// A is 16 x k (rows m, columns k), B is k x 8 (rows k, columns n), C and D
/// are 16 x 8. Element i of a lane is the PTX ISA's a_i, b_i or c_i: half
/// i % 2 of 16-bit register i / 2 for A and B, f32 register i for C.
enum class MmaOperand { A, B, C };

/// a_i, b_i or c_i per lane: A k / 2 (4 registers of two halves for k16),
/// B k / 4 (2 registers of two), C and D 4.
constexpr int mmaElementCount(MmaOperand operand, int k) {
  return operand == MmaOperand::A   ? k / 2
         : operand == MmaOperand::B ? k / 4
                                    : 4;
}

/// The 8x8 tile (in tile units) of the operand that element i is in. A's
/// registers go down its two row tiles first, then along k; B's go down k;
/// C's two f32 elements of a tile row pair up, pairs going down.
constexpr Coord mmaElementTile(MmaOperand operand, int i) {
  int reg = i / 2;
  return operand == MmaOperand::A ? Coord{reg % 2, reg / 2} : Coord{reg, 0};
}

/// Row and column in the operand of element i of `lane`. B is "col": its
/// tiles hold the 8x8 pattern of B^T (row n, column k).
constexpr Coord mmaElementCoord(MmaOperand operand, int lane, int i) {
  Coord tile = mmaElementTile(operand, i);
  Coord in = tileElement(lane, i % 2);
  if (operand == MmaOperand::B)
    in = {in.col, in.row};
  return {kTileSize * tile.row + in.row, kTileSize * tile.col + in.col};
}

/// The accumulator as the emitter keeps it: a lane holds two rows of each
/// n8 tile (row slots 0 and 1: rows groupID and groupID + 8) and two
/// adjacent columns; c_i is in row slot i / 2, column 2 threadID_in_group +
/// i % 2. nvgpu's vector<2x2xf32> accumulator is [row slot][column].
constexpr int kAccRowSlots = 2;
/// (Lane 0, at groupID 0 and threadID_in_group 0, has the offsets.)
constexpr int accRowSlot(int i) {
  return mmaElementCoord(MmaOperand::C, 0, i).row / kTileSize;
}
constexpr int accColumn(int i) {
  return mmaElementCoord(MmaOperand::C, 0, i).col;
}
/// The row of slot `slot` relative to groupID.
constexpr int accSlotRow(int slot) { return kTileSize * slot; }

/// FlashAttention-2 feeds P straight back into P V: the accumulators of
/// two adjacent n8 tiles are the A fragment of one k16 step, a_i being
/// element i % 4 of tile i / 4.
struct AccumulatorElement {
  int tile = 0, element = 0;
};
constexpr AccumulatorElement aElementFromAccumulators(int i) {
  return {i / 4, i % 4};
}

//===----------------------------------------------------------------------===//
// ldmatrix.sync.aligned.m8n8.{x1,x2,x4}{,.trans}.shared.b16
//===----------------------------------------------------------------------===//

/// The row address a lane gives: lanes 8m to 8m + 7 give rows 0-7 of
/// matrix m. Only lanes below 8 num are read (.x1: 0-7, .x2: 0-15).
struct MatrixRow {
  int matrix = 0, row = 0;
};
constexpr MatrixRow ldmatrixRowAddress(int lane) {
  return {lane / kTileSize, lane % kTileSize};
}
constexpr bool ldmatrixReadsAddress(int lane, int numMatrices) {
  return lane < kTileSize * numMatrices;
}

/// Half `half` of destination register m of `lane` is this element of
/// matrix m as stored (row r: the 16 bytes at row r's address): the 8x8
/// pattern, transposed with .trans.
constexpr Coord ldmatrixElement(int lane, int half, bool transpose) {
  Coord c = tileElement(lane, half);
  return transpose ? Coord{c.col, c.row} : c;
}

//===----------------------------------------------------------------------===//
// The kernel's ldmatrix.x4 loads
//===----------------------------------------------------------------------===//

/// One ldmatrix.x4 reads a 16 x 16 region of a shared tile: 16 rows of two
/// 16-byte chunks, four 8x8 blocks. Matrix m is block (m % 2, m / 2)
/// (row block, chunk) in column-major order, (m / 2, m % 2) in row-major.
constexpr int kX4Rows = 2 * kTileSize;
constexpr int kX4Chunks = 2;
enum class BlockOrder { ColumnMajor, RowMajor };
constexpr Coord x4Block(BlockOrder order, int matrix) {
  return order == BlockOrder::ColumnMajor ? Coord{matrix % 2, matrix / 2}
                                          : Coord{matrix / 2, matrix % 2};
}

/// The row (< 16) and chunk (< 2) of the region whose address `lane` gives.
constexpr Coord x4LaneAddress(BlockOrder order, int lane) {
  MatrixRow r = ldmatrixRowAddress(lane);
  Coord block = x4Block(order, r.matrix);
  return {kTileSize * block.row + r.row, block.col};
}

/// What one ldmatrix.x4 loads: the A fragment (4 registers) of a region of
/// a row-major [m][k] tile, or the B fragments (2 registers each) of two
/// adjacent n8 tiles, from an [n][k] tile or, transposed, a [k][n] one.
struct X4Use {
  MmaOperand operand;
  BlockOrder order;
  bool transpose;
};
constexpr X4Use kX4AFromMK = {MmaOperand::A, BlockOrder::ColumnMajor, false};
constexpr X4Use kX4BPairFromNK = {MmaOperand::B, BlockOrder::RowMajor, false};
constexpr X4Use kX4BPairFromKN = {MmaOperand::B, BlockOrder::ColumnMajor, true};

/// The fragment and register that matrix m of an x4 load fills: register m
/// of the A fragment, or register m % 2 of B fragment m / 2.
struct FragmentRegister {
  int fragment = 0, reg = 0;
};
constexpr FragmentRegister x4Destination(MmaOperand operand, int matrix) {
  return operand == MmaOperand::A ? FragmentRegister{0, matrix}
                                  : FragmentRegister{matrix / 2, matrix % 2};
}

//===----------------------------------------------------------------------===//
// The shared-memory swizzle
//===----------------------------------------------------------------------===//

/// Shared tiles are row-major [rows][d] of 16-bit elements with their
/// 16-byte chunks permuted within each aligned group of swizzleChunks(d)
/// chunks of a row: 8 when d is a multiple of 64, chunk c of row r stored
/// at chunk c ^ (r % 8); 4 when d is only a multiple of 32 (head dims 32,
/// 96, 160, 224: rows of 64 bytes modulo 128), at c ^ ((r / 2) % 4), as
/// CUTLASS's Swizzle<2, 3, 3> that FlashAttention-2 uses for them. The
/// eight rows an ldmatrix phase reads (eight consecutive rows, one logical
/// chunk) then lie in eight different bank groups, and every permuted
/// chunk stays inside its row. The pattern repeats every 8 rows.
constexpr int64_t kChunkElements = 8;
constexpr int64_t kSwizzleRows = 8;
constexpr int64_t swizzleChunks(int64_t d) { return d % 64 == 0 ? 8 : 4; }
/// The xor a row applies to the chunk index (< swizzleChunks(d)).
constexpr int64_t swizzleOf(int64_t row, int64_t d) {
  int64_t w = swizzleChunks(d);
  return row / (kSwizzleRows / w) % w;
}
constexpr int64_t swizzledChunk(int64_t row, int64_t chunk, int64_t d) {
  return chunk ^ swizzleOf(row, d);
}
/// The element offset of (row, logical chunk) in a tile of rows of `d`.
constexpr int64_t swizzledOffset(int64_t row, int64_t chunk, int64_t d) {
  return row * d + swizzledChunk(row, chunk, d) * kChunkElements;
}
/// From a lane's x4 address in region (0, 0), row r0 and chunk c0 < 2, to
/// its address in region (i, j): row 16 i + r0, chunk 2 j + c0. The row's
/// swizzle x = swizzleOf(r0, d) < w = swizzleChunks(d) does not change
/// (16 i is a whole number of periods), so the physical chunk is
/// (2 j + c0) ^ x = (2 j & -w) + ((2 j % w) ^ (c0 ^ x)); with d a multiple
/// of 8 w elements the low bits of swizzledOffset(r0, c0, d) are
/// 8 (c0 ^ x), so the offset is (swizzledOffset(r0, c0, d) ^ xorMask) +
/// add. The emitter computes the first offset once per lane, then one xor
/// and one add per region.
struct OffsetStep {
  int64_t xorMask = 0, add = 0;
};
constexpr OffsetStep x4RegionStep(int64_t i, int64_t j, int64_t d) {
  int64_t chunk = kX4Chunks * j, w = swizzleChunks(d);
  return {(chunk % w) * kChunkElements,
          kX4Rows * i * d + (chunk / w) * w * kChunkElements};
}
} // namespace mlir::attn::layout

#endif // ATTN_CONVERSION_ATTNTOGPU_FRAGMENTLAYOUTS_H
