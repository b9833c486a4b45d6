//===- LaunchRulesTest.cpp - The driver's launch rules in the emulator ----===//
//
// A launch the CUDA driver refuses must fail in the emulator too, with the
// kernel and the numbers in the message and before any thread runs: shared
// memory beyond 48 KiB without the opt-in (even by one static byte), beyond
// the chip's opt-in maximum (163 KiB on sm_80, 227 KiB on sm_90), an
// opt-in cuFuncSetAttribute refuses, more threads than the kernel's
// .maxntid, block and grid dimensions beyond (1024, 1024, 64) and
// (2^31 - 1, 65535, 65535). The kernel is a C++ function that counts the
// threads it ran and writes the first byte of its dynamic shared memory.
//
//===----------------------------------------------------------------------===//

#include "attn/Emulator/Runtime.h"

#include "gtest/gtest.h"

#include <atomic>

using namespace mlir::attn::emu;

namespace {

std::atomic<uint64_t> threadsRun{0};

void countThreads(void **) {
  ++threadsRun;
  if (attn_emu_laneid() == 0 && attn_emu_warpid() == 0) {
    auto *shared = static_cast<uint8_t *>(attn_emu_dynamic_shared());
    if (shared)
      shared[0] = 1;
  }
}

/// Launches `config` (named "rules") with the counting kernel; returns its
/// result, and whether any thread ran in `ran`.
LaunchResult run(LaunchConfig config, bool &ran) {
  config.kernelName = "rules";
  threadsRun = 0;
  LaunchResult result = launch(config, countThreads, nullptr);
  ran = threadsRun != 0;
  return result;
}

void expectRefused(const LaunchConfig &config,
                   std::initializer_list<const char *> fragments) {
  bool ran = true;
  LaunchResult result = run(config, ran);
  EXPECT_FALSE(result.ok);
  EXPECT_FALSE(ran) << "threads ran before the launch was refused";
  EXPECT_NE(result.error.find("kernel 'rules'"), std::string::npos)
      << result.error;
  for (const char *fragment : fragments)
    EXPECT_NE(result.error.find(fragment), std::string::npos)
        << "'" << fragment << "' not in: " << result.error;
}

void expectAccepted(const LaunchConfig &config) {
  bool ran = false;
  LaunchResult result = run(config, ran);
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(threadsRun, config.grid.count() * config.block.count());
}

TEST(LaunchRules, SharedMemoryBeyond48KiBNeedsTheOptIn) {
  for (size_t staticBytes : {size_t{1}, size_t{16}, size_t{4096}}) {
    LaunchConfig config;
    config.block = {32, 1, 1};
    config.staticSharedBytes = staticBytes;
    config.dynamicSharedBytes = 48 * 1024;
    std::string expected = std::to_string(staticBytes) +
                           " static + 49152 dynamic bytes of shared memory";
    std::string limit = "MAX_DYNAMIC_SHARED_SIZE_BYTES is " +
                        std::to_string(48 * 1024 - staticBytes);
    expectRefused(config, {expected.c_str(), limit.c_str(), "no opt-in",
                           "may not exceed 49152"});
    // As attn's runtime opts in: the dynamic size.
    optInSharedMemory(config);
    ASSERT_TRUE(config.maxDynamicSharedBytes.has_value());
    EXPECT_EQ(*config.maxDynamicSharedBytes, size_t{48 * 1024});
    expectAccepted(config);
  }
  // 48 KiB of dynamic shared memory alone needs no opt-in, and the
  // launcher makes none.
  LaunchConfig config;
  config.block = {32, 1, 1};
  config.dynamicSharedBytes = 48 * 1024;
  optInSharedMemory(config);
  EXPECT_FALSE(config.maxDynamicSharedBytes.has_value());
  expectAccepted(config);
  // An opt-in below what the launch needs is no opt-in for it.
  config.dynamicSharedBytes = 64 * 1024;
  config.maxDynamicSharedBytes = 60 * 1024;
  expectRefused(config,
                {"0 static + 65536 dynamic",
                 "MAX_DYNAMIC_SHARED_SIZE_BYTES is 61440 (its opt-in)"});
}

TEST(LaunchRules, TheChipBoundsSharedMemoryEvenWithTheOptIn) {
  LaunchConfig config;
  config.block = {32, 1, 1};
  config.staticSharedBytes = 1;
  config.dynamicSharedBytes = 163 * 1024; // 166913 bytes in all
  optInSharedMemory(config);
  config.chip = Chip::SM80;
  expectRefused(config, {"1 static + 166912 dynamic bytes of shared memory",
                         "sm_80 (A100) allows at most 166912 per block"});
  config.chip = Chip::SM90;
  expectAccepted(config);
  // And sm_90 at 227 KiB + 1 byte.
  config.dynamicSharedBytes = 227 * 1024;
  optInSharedMemory(config);
  expectRefused(config, {"1 static + 232448 dynamic bytes of shared memory",
                         "sm_90 (H100) allows at most 232448 per block"});
  // Exactly the maximum is allowed.
  config.staticSharedBytes = 0;
  expectAccepted(config);
}

TEST(LaunchRules, AnOptInAboveTheMaximumIsRefused) {
  // cuFuncSetAttribute refuses static + opt-in beyond the chip's maximum,
  // whatever the launch then uses.
  LaunchConfig config;
  config.block = {32, 1, 1};
  config.staticSharedBytes = 16;
  config.dynamicSharedBytes = 1024;
  config.maxDynamicSharedBytes = 166912;
  expectRefused(config,
                {"the opt-in to 166912 bytes of dynamic shared memory",
                 "with 16 static exceeds what sm_80 (A100) allows at most "
                 "166912 per block",
                 "cuFuncSetAttribute refuses it"});
  config.chip = Chip::SM90;
  expectAccepted(config);
  config.chip = Chip::SM80;
  config.staticSharedBytes = 0;
  expectAccepted(config);
}

TEST(LaunchRules, StaticSharedMemoryIsAtMost48KiB) {
  LaunchConfig config;
  config.block = {32, 1, 1};
  config.staticSharedBytes = 48 * 1024 + 16;
  config.maxDynamicSharedBytes = 0;
  expectRefused(config, {"has 49168 bytes of static shared memory",
                         "ptxas allows at most 49152"});
}

TEST(LaunchRules, ThreadsAreBoundedByTheKernelsMaxntid) {
  LaunchConfig config;
  config.block = {256, 1, 1};
  config.maxThreadsPerBlock = 128;
  expectRefused(config, {"is launched with 256 threads per block (256, 1, 1)",
                         "it allows at most 128 (its .maxntid)"});
  config.block = {64, 2, 1};
  expectAccepted(config);
  // Without a .maxntid, the chip's 1024.
  config.maxThreadsPerBlock = 1024;
  config.block = {1024, 2, 1};
  expectRefused(config, {"2048 threads per block (1024, 2, 1)",
                         "sm_80 (A100) allows at most 1024"});
}

TEST(LaunchRules, GridAndBlockDimensionsAreBounded) {
  LaunchConfig config;
  config.block = {32, 1, 1};
  config.grid = {1, 1, 70000};
  expectRefused(config, {"is launched with grid (1, 1, 70000)",
                         "allows at most 65535 blocks in z"});
  config.grid = {1, 65536, 1};
  expectRefused(config, {"grid (1, 65536, 1)", "65535 blocks in y"});
  config.grid = {1, 1, 1};
  config.block = {1, 1, 65};
  expectRefused(config,
                {"is launched with block (1, 1, 65)", "64 threads in z"});
  config.block = {2048, 1, 1};
  expectRefused(config, {"block (2048, 1, 1)", "1024 threads in x"});
  config.block = {0, 1, 1};
  expectRefused(config, {"every dimension must be at least 1"});
  config.block = {1, 1, 1};
  config.grid = {1, 0, 1};
  expectRefused(config, {"grid (1, 0, 1)", "at least 1"});
  // The largest grid is allowed (checked, not run: 2^31 - 1 blocks).
  config.grid = {0x7fffffffu, 65535, 65535};
  config.block = {1, 1, 64};
  EXPECT_EQ(checkLaunchRules(config), "");
  config.grid.x = 0x80000000u;
  EXPECT_NE(checkLaunchRules(config).find("2147483647 blocks in x"),
            std::string::npos)
      << checkLaunchRules(config);
}

TEST(LaunchRules, ChipsByName) {
  EXPECT_EQ(chipNamed("sm_80"), Chip::SM80);
  EXPECT_EQ(chipNamed("sm_90"), Chip::SM90);
  EXPECT_EQ(chipNamed("sm_70"), std::nullopt);
  EXPECT_EQ(limitsOf(Chip::SM80).sharedPerBlockOptin, size_t{166912});
  EXPECT_EQ(limitsOf(Chip::SM90).sharedPerBlockOptin, size_t{232448});
  EXPECT_EQ(limitsOf(Chip::SM80).sharedPerBlock, size_t{49152});
}

} // namespace
