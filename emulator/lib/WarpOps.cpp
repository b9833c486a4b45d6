//===- WarpOps.cpp - Warp collectives: shfl, vote, ldmatrix, mma ----------===//
//
// A warp collective completes when every lane of its member mask waits in
// it with the same operation; the lanes' operands are then combined as the
// PTX ISA specifies and each lane gets its result. ldmatrix and mma.sync
// fragments follow the PTX ISA's layout tables ("Warp-level matrix load
// instruction: ldmatrix", "Matrix fragments for mma.m16n8k16 / m16n8k8"):
// with groupID = laneid / 4 and threadID_in_group = laneid % 4, a lane
// holds row groupID (+8) and columns 2*threadID_in_group (+1) (+8). The
// index arithmetic here is the emulator's own, as a model of the hardware
// independent of the compiler's layout tables
// (attn/Conversion/AttnToGPU/FragmentLayouts.h); WarpOpsTest checks, lane
// by lane, that the two agree.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <cmath>
#include <cstring>

using namespace mlir::attn::emu;
using namespace mlir::attn::emu::detail;

namespace {

/// IEEE binary16 to float.
float halfToFloat(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exponent = (h >> 10) & 0x1f,
           mantissa = h & 0x3ff;
  float magnitude;
  if (exponent == 0)
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  else if (exponent == 31)
    magnitude = mantissa ? NAN : INFINITY;
  else
    magnitude = std::ldexp(static_cast<float>(mantissa | 0x400),
                           static_cast<int>(exponent) - 25);
  return sign ? -magnitude : magnitude;
}

float bf16ToFloat(uint16_t h) {
  uint32_t bits = uint32_t{h} << 16;
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

uint16_t lowHalf(uint32_t r) { return static_cast<uint16_t>(r & 0xffff); }
uint16_t highHalf(uint32_t r) { return static_cast<uint16_t>(r >> 16); }

/// Element `i` (0-based over the halves) of a fragment of 16-bit registers.
uint16_t element(const uint32_t *regs, int i) {
  return i % 2 ? highHalf(regs[i / 2]) : lowHalf(regs[i / 2]);
}

/// PTX ISA shfl.sync semantics for one lane.
void completeShuffle(Block &block, Thread *const *warp, Thread &t,
                     uint32_t lane) {
  const CollectiveArgs &a = t.collective;
  uint32_t segmask = (a.clamp >> 8) & 0x1f;
  uint32_t cval = a.clamp & 0x1f;
  int maxLane = static_cast<int>((lane & segmask) | (cval & ~segmask));
  int minLane = static_cast<int>(lane & segmask);
  int b = static_cast<int>(a.laneOrOffset & 0x1f);
  int j = 0;
  bool pval = false;
  switch (a.variant) {
  case 0: // idx
    j = minLane | (b & ~static_cast<int>(segmask));
    pval = j <= maxLane;
    break;
  case 1: // up
    j = static_cast<int>(lane) - b;
    pval = j >= maxLane;
    break;
  case 2: // down
    j = static_cast<int>(lane) + b;
    pval = j <= maxLane;
    break;
  default: // bfly
    j = static_cast<int>(lane) ^ b;
    pval = j <= maxLane;
    break;
  }
  if (!pval)
    j = static_cast<int>(lane);
  if (j < 0 || j >= 32 || !warp[j] || !(a.memberMask & (1u << j))) {
    block.fail("shfl.sync in " + block.where(t) + " reads lane " +
               std::to_string(j) + ", which is not in the member mask");
    return;
  }
  t.collective.result = warp[j]->collective.value;
  t.collective.inRange = pval;
}

void completeVote(Thread *const *warp, uint32_t mask) {
  uint32_t ballot = 0;
  for (uint32_t l = 0; l < 32; ++l)
    if ((mask & (1u << l)) && warp[l]->collective.value)
      ballot |= 1u << l;
  uint32_t result = 0;
  const Thread *first = warp[__builtin_ctz(mask)];
  switch (static_cast<VoteKind>(first->collective.variant)) {
  case VoteKind::All:
    result = ballot == mask;
    break;
  case VoteKind::Any:
    result = ballot != 0;
    break;
  case VoteKind::Uni:
    result = ballot == 0 || ballot == mask;
    break;
  case VoteKind::Ballot:
    result = ballot;
    break;
  }
  for (uint32_t l = 0; l < 32; ++l)
    if (mask & (1u << l))
      warp[l]->collective.result = result;
}

/// ldmatrix .m8n8 .b16: lanes 8i..8i+7 address the rows of matrix i; lane
/// l receives, for each matrix, row l/4 columns 2(l%4) and 2(l%4)+1 (or,
/// transposed, column l/4 of rows 2(l%4) and 2(l%4)+1).
void completeLdmatrix(Block &block, Thread *const *warp) {
  uint32_t num = warp[0]->collective.variant & 7;
  bool trans = warp[0]->collective.variant & 8;
  uint16_t m[4][8][8];
  for (uint32_t i = 0; i < num; ++i)
    for (uint32_t r = 0; r < 8; ++r) {
      Thread &src = *warp[8 * i + r];
      const void *row = src.collective.address;
      if (reinterpret_cast<uintptr_t>(row) % 16) {
        block.fail("ldmatrix row address " + hex(row) + " of " +
                   block.where(src) + " is not 16-byte aligned");
        return;
      }
      checkAccess(block, src, row, 16, /*write=*/false, AddressSpace::Shared);
      if (!block.error.empty())
        return;
      std::memcpy(m[i][r], row, 16);
    }
  for (uint32_t l = 0; l < 32; ++l) {
    uint32_t g = l / 4, t = l % 4;
    for (uint32_t i = 0; i < num; ++i) {
      uint16_t lo = trans ? m[i][2 * t][g] : m[i][g][2 * t];
      uint16_t hi = trans ? m[i][2 * t + 1][g] : m[i][g][2 * t + 1];
      warp[l]->collective.out32[i] = uint32_t{lo} | (uint32_t{hi} << 16);
    }
  }
  ++block.counters.ldmatrixInstructions;
}

/// mma.sync.aligned.m16n8k{16,8}.row.col.f32.{f16,bf16}: gathers A (16xK),
/// B (Kx8) and C (16x8) from the lanes' fragments, computes A*B + C with
/// exact products and a double-precision sum, and scatters D.
void completeMma(Block &block, Thread *const *warp) {
  auto shape = static_cast<MmaShape>(warp[0]->collective.variant & 0xff);
  auto type = static_cast<MmaType>(warp[0]->collective.variant >> 8);
  int k = shape == MmaShape::M16N8K16 ? 16 : 8;
  float a[16][16], b[16][8], c[16][8];
  auto toFloat = [&](uint16_t h) {
    return type == MmaType::F16 ? halfToFloat(h) : bf16ToFloat(h);
  };
  for (int l = 0; l < 32; ++l) {
    const CollectiveArgs &args = warp[l]->collective;
    int g = l / 4, t = l % 4;
    // A: k/4 elements per lane; a_i sits in row g + 8*((i/2)%2) and column
    // 2t + (i%2) + 8*(i/4).
    for (int i = 0; i < k / 2; ++i)
      a[g + 8 * ((i / 2) % 2)][2 * t + (i % 2) + 8 * (i / 4)] =
          toFloat(element(args.a, i));
    // B: b_i sits in row 2t + (i%2) + 8*(i/2), column g.
    for (int i = 0; i < k / 4; ++i)
      b[2 * t + (i % 2) + 8 * (i / 2)][g] = toFloat(element(args.b, i));
    // C and D: c_i sits in row g + 8*(i/2), column 2t + (i%2).
    for (int i = 0; i < 4; ++i)
      c[g + 8 * (i / 2)][2 * t + (i % 2)] = args.c[i];
  }
  for (int l = 0; l < 32; ++l) {
    int g = l / 4, t = l % 4;
    for (int i = 0; i < 4; ++i) {
      int row = g + 8 * (i / 2), col = 2 * t + (i % 2);
      double sum = c[row][col];
      for (int kk = 0; kk < k; ++kk)
        sum += static_cast<double>(a[row][kk]) * b[kk][col];
      warp[l]->collective.outF32[i] = static_cast<float>(sum);
    }
  }
  ++block.counters.mmaInstructions;
}

const char *collectiveName(CollectiveKind kind) {
  switch (kind) {
  case CollectiveKind::Shuffle:
    return "shfl.sync";
  case CollectiveKind::Vote:
    return "vote.sync";
  case CollectiveKind::Ldmatrix:
    return "ldmatrix";
  case CollectiveKind::Mma:
    return "mma.sync";
  }
  return "collective";
}

} // namespace

namespace mlir::attn::emu::detail {

bool resolveCollectives(Block &block) {
  bool progressed = false;
  size_t numWarps = (block.threads.size() + 31) / 32;
  for (size_t w = 0; w < numWarps; ++w) {
    Thread *warp[32] = {};
    for (size_t l = 0; l < 32 && w * 32 + l < block.threads.size(); ++l)
      warp[l] = &block.threads[w * 32 + l];
    // The first waiting lane defines the collective.
    Thread *first = nullptr;
    for (Thread *t : warp)
      if (t && t->state == State::AtCollective) {
        first = t;
        break;
      }
    if (!first)
      continue;
    const CollectiveArgs &op = first->collective;
    uint32_t mask = op.memberMask;
    bool complete = true;
    for (uint32_t l = 0; l < 32; ++l) {
      if (!(mask & (1u << l)))
        continue;
      Thread *t = warp[l];
      if (!t) {
        block.fail(std::string(collectiveName(op.kind)) + " in " +
                   block.where(*first) + " names lane " + std::to_string(l) +
                   " in its member mask, which does not exist");
        return false;
      }
      if (t->state != State::AtCollective) {
        complete = false;
        continue;
      }
      const CollectiveArgs &mine = t->collective;
      if (mine.kind != op.kind || mine.memberMask != mask ||
          mine.variant != op.variant) {
        block.fail("divergent warp collective: " + block.where(*t) +
                   " executes " + collectiveName(mine.kind) + " while " +
                   block.where(*first) + " executes " +
                   collectiveName(op.kind) + " with other operands");
        return false;
      }
    }
    if (!complete)
      continue;
    switch (op.kind) {
    case CollectiveKind::Shuffle:
      for (uint32_t l = 0; l < 32; ++l)
        if (mask & (1u << l))
          completeShuffle(block, warp, *warp[l], l);
      break;
    case CollectiveKind::Vote:
      completeVote(warp, mask);
      break;
    case CollectiveKind::Ldmatrix:
      completeLdmatrix(block, warp);
      break;
    case CollectiveKind::Mma:
      completeMma(block, warp);
      break;
    }
    if (!block.error.empty())
      return false;
    for (uint32_t l = 0; l < 32; ++l)
      if (mask & (1u << l))
        warp[l]->state = State::Runnable;
    ++block.counters.warpCollectives;
    progressed = true;
  }
  return progressed;
}

} // namespace mlir::attn::emu::detail

extern "C" {

uint32_t attn_emu_shfl_sync(uint32_t mode, uint32_t memberMask, uint32_t value,
                            uint32_t laneOrOffset, uint32_t clamp,
                            bool *inRange) {
  CollectiveArgs args;
  args.kind = CollectiveKind::Shuffle;
  args.variant = mode;
  args.memberMask = memberMask;
  args.value = value;
  args.laneOrOffset = laneOrOffset;
  args.clamp = clamp;
  enterCollective(args);
  if (inRange)
    *inRange = currentThread->collective.inRange;
  return currentThread->collective.result;
}

uint64_t attn_emu_shfl_sync_packed(uint32_t mode, uint32_t memberMask,
                                   uint32_t value, uint32_t laneOrOffset,
                                   uint32_t clamp) {
  bool inRange = false;
  uint32_t result = attn_emu_shfl_sync(mode, memberMask, value, laneOrOffset,
                                       clamp, &inRange);
  return uint64_t{result} | (uint64_t{inRange} << 32);
}

uint32_t attn_emu_vote_sync(uint32_t kind, uint32_t memberMask, uint32_t pred) {
  CollectiveArgs args;
  args.kind = CollectiveKind::Vote;
  args.variant = kind;
  args.memberMask = memberMask;
  args.value = pred != 0;
  enterCollective(args);
  return currentThread->collective.result;
}

void attn_emu_ldmatrix(const void *rowAddress, uint32_t num, uint32_t trans,
                       uint32_t *out) {
  if (num != 1 && num != 2 && num != 4) {
    currentBlock->fail("ldmatrix in " + currentBlock->where(*currentThread) +
                       ": .x" + std::to_string(num) + " is not 1, 2 or 4");
    switchToScheduler(/*finished=*/false);
  }
  CollectiveArgs args;
  args.kind = CollectiveKind::Ldmatrix;
  args.variant = num | (trans ? 8u : 0u);
  args.memberMask = 0xffffffffu;
  args.address = rowAddress;
  args.out32 = out;
  enterCollective(args);
}

void attn_emu_mma(uint32_t shape, uint32_t type, const uint32_t *a,
                  const uint32_t *b, const float *c, float *d) {
  if (shape > 1 || type > 1) {
    currentBlock->fail("mma.sync in " + currentBlock->where(*currentThread) +
                       ": unknown shape or type");
    switchToScheduler(/*finished=*/false);
  }
  CollectiveArgs args;
  args.kind = CollectiveKind::Mma;
  args.variant = shape | (type << 8);
  args.memberMask = 0xffffffffu;
  args.a = a;
  args.b = b;
  args.c = c;
  args.outF32 = d;
  enterCollective(args);
}

} // extern "C"
