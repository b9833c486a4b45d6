//===- RuntimeTest.cpp - The emulation runtime, thread by thread ---------===//
//
// Kernels written directly against the emulator's C ABI (as lowered NVVM
// ops will call it) check special registers, barriers, shared memory and
// shfl.sync lane by lane. Expected shuffle results follow the PTX ISA's
// pseudo-code for shfl.sync (section "Parallel Synchronization and
// Communication Instructions: shfl.sync"), restated here per case; and the
// broken kernels (early exit before a barrier, divergent shuffles) must be
// reported, not hang or crash.
//
//===----------------------------------------------------------------------===//

#include "attn/Emulator/Runtime.h"

#include "gtest/gtest.h"

#include <vector>

using namespace mlir::attn::emu;

namespace {

uint32_t linearThread() {
  return attn_emu_tid(0) +
         attn_emu_ntid(0) *
             (attn_emu_tid(1) + attn_emu_ntid(1) * attn_emu_tid(2));
}

uint32_t linearBlock() {
  return attn_emu_ctaid(0) +
         attn_emu_nctaid(0) *
             (attn_emu_ctaid(1) + attn_emu_nctaid(1) * attn_emu_ctaid(2));
}

void writeIds(void **args) {
  auto *out = *static_cast<uint32_t **>(args[0]);
  uint32_t perBlock = attn_emu_ntid(0) * attn_emu_ntid(1) * attn_emu_ntid(2);
  uint32_t global = linearBlock() * perBlock + linearThread();
  out[global] = global * 10 + attn_emu_laneid() % 10;
}

TEST(EmulatorRuntime, SpecialRegisters) {
  LaunchConfig config;
  config.grid = {2, 3, 1};
  config.block = {4, 2, 5};
  std::vector<uint32_t> out(2 * 3 * 40, 0xffffffff);
  uint32_t *data = out.data();
  void *args[] = {&data};
  LaunchResult result = launch(config, writeIds, args);
  ASSERT_TRUE(result.ok) << result.error;
  for (uint32_t g = 0; g < out.size(); ++g)
    EXPECT_EQ(out[g], g * 10 + (g % 40) % 32 % 10) << g;
}

// Shared-memory block sum: every thread stores, a barrier, thread 0 adds.
void blockSum(void **args) {
  auto *out = *static_cast<int64_t **>(args[0]);
  auto *shared = static_cast<int64_t *>(attn_emu_dynamic_shared());
  uint32_t t = linearThread();
  shared[t] = static_cast<int64_t>(linearBlock() * 1000 + t);
  attn_emu_barrier0();
  if (t == 0) {
    int64_t sum = 0;
    for (uint32_t i = 0; i < attn_emu_ntid(0); ++i)
      sum += shared[i];
    out[linearBlock()] = sum;
  }
  attn_emu_barrier0();
}

TEST(EmulatorRuntime, BarrierAndSharedMemory) {
  LaunchConfig config;
  config.grid = {3, 1, 1};
  config.block = {96, 1, 1};
  config.dynamicSharedBytes = 96 * sizeof(int64_t);
  std::vector<int64_t> out(3, -1);
  int64_t *data = out.data();
  void *args[] = {&data};
  LaunchResult result = launch(config, blockSum, args);
  ASSERT_TRUE(result.ok) << result.error;
  for (int64_t b = 0; b < 3; ++b)
    EXPECT_EQ(out[b], b * 1000 * 96 + 95 * 96 / 2);
  EXPECT_EQ(result.counters.barriers, 3u * 2);
}

struct ShuffleCase {
  uint32_t mode, laneOrOffset, clamp;
};

ShuffleCase shuffleCase;

void shuffleKernel(void **args) {
  auto *out = *static_cast<uint32_t **>(args[0]);
  auto *pred = *static_cast<uint8_t **>(args[1]);
  uint32_t lane = attn_emu_laneid();
  bool inRange = false;
  out[lane] =
      attn_emu_shfl_sync(shuffleCase.mode, 0xffffffffu, 100 + lane,
                         shuffleCase.laneOrOffset, shuffleCase.clamp, &inRange);
  pred[lane] = inRange;
}

/// Runs one full-warp shuffle; returns (value, predicate) per lane.
std::vector<std::pair<uint32_t, bool>> runShuffle(ShuffleCase c) {
  shuffleCase = c;
  LaunchConfig config;
  config.block = {32, 1, 1};
  std::vector<uint32_t> out(32, 0);
  std::vector<uint8_t> pred(32, 2);
  uint32_t *o = out.data();
  uint8_t *p = pred.data();
  void *args[] = {&o, &p};
  LaunchResult result = launch(config, shuffleKernel, args);
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.counters.warpCollectives, 1u);
  std::vector<std::pair<uint32_t, bool>> lanes;
  for (int l = 0; l < 32; ++l)
    lanes.push_back({out[l], pred[l] != 0});
  return lanes;
}

TEST(EmulatorRuntime, ShuffleModes) {
  // __shfl_xor_sync(.., 1): bfly, c = 0x1f: lane l reads l ^ 1.
  auto bfly = runShuffle({3, 1, 0x1f});
  for (uint32_t l = 0; l < 32; ++l) {
    EXPECT_EQ(bfly[l].first, 100 + (l ^ 1)) << l;
    EXPECT_TRUE(bfly[l].second);
  }
  // __shfl_down_sync(.., 3): down, c = 0x1f: lanes 29..31 keep their own
  // value with a false predicate.
  auto down = runShuffle({2, 3, 0x1f});
  for (uint32_t l = 0; l < 32; ++l) {
    EXPECT_EQ(down[l].first, l + 3 <= 31 ? 100 + l + 3 : 100 + l) << l;
    EXPECT_EQ(down[l].second, l + 3 <= 31) << l;
  }
  // __shfl_up_sync(.., 2): up, c = 0: lanes 0 and 1 keep their own value.
  auto up = runShuffle({1, 2, 0});
  for (uint32_t l = 0; l < 32; ++l) {
    EXPECT_EQ(up[l].first, l >= 2 ? 100 + l - 2 : 100 + l) << l;
    EXPECT_EQ(up[l].second, l >= 2) << l;
  }
  // __shfl_sync(.., 5): idx, c = 0x1f: every lane reads lane 5.
  auto idx = runShuffle({0, 5, 0x1f});
  for (uint32_t l = 0; l < 32; ++l)
    EXPECT_EQ(idx[l].first, 105u) << l;
  // __shfl_sync(.., 2, width = 8): c = ((32 - 8) << 8) | 0x1f: each
  // segment of 8 lanes reads its own lane 2.
  auto segmented = runShuffle({0, 2, (24u << 8) | 0x1f});
  for (uint32_t l = 0; l < 32; ++l)
    EXPECT_EQ(segmented[l].first, 100 + (l & ~7u) + 2) << l;
}

// A warp sum by butterfly shuffles, in 4 warps.
void warpSum(void **args) {
  auto *out = *static_cast<uint32_t **>(args[0]);
  uint32_t t = linearThread();
  uint32_t v = t;
  for (uint32_t offset = 16; offset > 0; offset /= 2)
    v += attn_emu_shfl_sync(3, 0xffffffffu, v, offset, 0x1f, nullptr);
  out[t] = v;
}

TEST(EmulatorRuntime, ButterflyReduction) {
  LaunchConfig config;
  config.block = {128, 1, 1};
  std::vector<uint32_t> out(128, 0);
  uint32_t *o = out.data();
  void *args[] = {&o};
  LaunchResult result = launch(config, warpSum, args);
  ASSERT_TRUE(result.ok) << result.error;
  for (uint32_t t = 0; t < 128; ++t) {
    uint32_t base = t / 32 * 32;
    EXPECT_EQ(out[t], 32 * base + 31 * 32 / 2) << t;
  }
  EXPECT_EQ(result.counters.warpCollectives, 4u * 5);
}

// Broken kernels are reported with the block and thread.
void earlyExit(void **) {
  if (linearThread() == 3)
    return;
  attn_emu_barrier0();
}

TEST(EmulatorRuntime, BarrierNotReachedIsReported) {
  LaunchConfig config;
  config.grid = {2, 1, 1};
  config.block = {8, 1, 1};
  LaunchResult result = launch(config, earlyExit, nullptr);
  ASSERT_FALSE(result.ok);
  EXPECT_NE(result.error.find("barrier not reached by every thread"),
            std::string::npos)
      << result.error;
  EXPECT_NE(result.error.find("block (0, 0, 0) thread (3, 0, 0) has exited"),
            std::string::npos)
      << result.error;
}

void divergentShuffle(void **) {
  uint32_t lane = attn_emu_laneid();
  attn_emu_shfl_sync(lane < 16 ? 3 : 2, 0xffffffffu, lane, 1, 0x1f, nullptr);
}

TEST(EmulatorRuntime, DivergentShuffleIsReported) {
  LaunchConfig config;
  config.block = {32, 1, 1};
  LaunchResult result = launch(config, divergentShuffle, nullptr);
  ASSERT_FALSE(result.ok);
  EXPECT_NE(result.error.find("divergent warp collective"), std::string::npos)
      << result.error;
}

void shuffleThenBarrier(void **) {
  // Lane 0 goes to the barrier while the rest of its warp waits for it in a
  // shuffle: neither can complete.
  if (attn_emu_laneid() == 0)
    attn_emu_barrier0();
  else
    attn_emu_shfl_sync(0, 0xffffffffu, 1, 0, 0x1f, nullptr);
}

TEST(EmulatorRuntime, DeadlockIsReported) {
  LaunchConfig config;
  config.block = {32, 1, 1};
  LaunchResult result = launch(config, shuffleThenBarrier, nullptr);
  ASSERT_FALSE(result.ok);
  EXPECT_NE(result.error.find("deadlock in kernel 'kernel' block (0, 0, 0): 1 threads at a "
                              "barrier, 31 at a warp collective"),
            std::string::npos)
      << result.error;
}

void partialWarpShuffle(void **) {
  attn_emu_shfl_sync(0, 0xffffffffu, 1, 0, 0x1f, nullptr);
}

TEST(EmulatorRuntime, MaskBeyondTheBlockIsReported) {
  LaunchConfig config;
  config.block = {40, 1, 1}; // the second warp has 8 lanes
  LaunchResult result = launch(config, partialWarpShuffle, nullptr);
  ASSERT_FALSE(result.ok);
  EXPECT_NE(result.error.find("which does not exist"), std::string::npos)
      << result.error;
}

TEST(EmulatorRuntime, BadLaunchesAreRejected) {
  LaunchConfig config;
  config.block = {2048, 1, 1};
  LaunchResult result = launch(config, writeIds, nullptr);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("sm_80 (A100) allows at most 1024 threads in x"),
            std::string::npos)
      << result.error;
  config.block = {0, 1, 1};
  EXPECT_FALSE(launch(config, writeIds, nullptr).ok);
}

} // namespace
