//===- MemoryTest.cpp - cp.async and the emulator's memory checks ---------===//
//
// Kernels written against the C ABI announce each load and store with
// attn_emu_access, as the rewrite makes lowered kernels do. Correct kernels
// must pass with exact results and byte counters; broken ones (a missing
// barrier, an off-by-one store, a read of never-written shared memory, a
// read before cp.async completes) must fail with a message that names the
// kernel, block, thread and what went wrong.
//
//===----------------------------------------------------------------------===//

#include "attn/Emulator/Runtime.h"

#include "gtest/gtest.h"

#include <numeric>
#include <vector>

using namespace mlir::attn::emu;

namespace {

template <typename T>
T load(const T *p) {
  attn_emu_access(p, sizeof(T), 0, AddressSpace::Generic);
  return *p;
}

template <typename T>
void store(T *p, T v) {
  attn_emu_access(p, sizeof(T), 1, AddressSpace::Generic);
  *p = v;
}

struct Buffers {
  const float *in;
  float *out;
  uint32_t n;
  uint32_t variant;
};

LaunchConfig configFor(const char *name, Buffers &b, uint32_t threads) {
  LaunchConfig config;
  config.kernelName = name;
  config.block = {threads, 1, 1};
  config.dynamicSharedBytes = threads * sizeof(float);
  config.buffers = {{b.in, b.n * sizeof(float), "in"},
                    {b.out, b.n * sizeof(float), "out"}};
  return config;
}

// out[t] = in[t] + in[t+1 mod n], through shared memory. variant 1 leaves
// out the barrier between the shared stores and loads; variant 2 stores
// one element past the end of out; variant 3 reads a shared element
// nobody wrote.
void neighbourSum(void **args) {
  auto *b = static_cast<Buffers *>(args[0]);
  auto *shared = static_cast<float *>(attn_emu_dynamic_shared());
  uint32_t t = attn_emu_tid(0);
  store(&shared[t], load(&b->in[t]));
  if (b->variant != 1)
    attn_emu_barrier0();
  uint32_t next = (t + 1) % b->n;
  if (b->variant == 3 && t == 5)
    next = b->n; // one past the written part of the shared buffer
  float sum = load(&shared[t]) + load(&shared[next]);
  uint32_t at = b->variant == 2 ? t + 1 : t;
  store(&b->out[at], sum);
}

LaunchResult runNeighbourSum(uint32_t variant, std::vector<float> &out) {
  std::vector<float> in(64);
  std::iota(in.begin(), in.end(), 1.0f);
  out.assign(64, -1.0f);
  Buffers b{in.data(), out.data(), 64, variant};
  void *argv[] = {&b};
  LaunchConfig config = configFor("neighbour_sum", b, 64);
  if (variant == 3)
    config.dynamicSharedBytes += 16; // room for the unwritten element
  return launch(config, neighbourSum, argv);
}

TEST(EmulatorChecks, CorrectKernelPassesWithByteCounts) {
  std::vector<float> out;
  LaunchResult result = runNeighbourSum(0, out);
  ASSERT_TRUE(result.ok) << result.error;
  for (uint32_t t = 0; t < 64; ++t)
    EXPECT_EQ(out[t], float(t + 1) + float((t + 1) % 64 + 1));
  EXPECT_EQ(result.counters.globalBytesRead, 64u * 4);
  EXPECT_EQ(result.counters.globalBytesWritten, 64u * 4);
  EXPECT_EQ(result.counters.sharedBytesWritten, 64u * 4);
  EXPECT_EQ(result.counters.sharedBytesRead, 2u * 64 * 4);
  EXPECT_EQ(result.counters.barriers, 1u);
}

TEST(EmulatorChecks, MissingBarrierIsARace) {
  std::vector<float> out;
  LaunchResult result = runNeighbourSum(1, out);
  ASSERT_FALSE(result.ok);
  // Thread 0 reads shared[1] before thread 1 writes it, with no barrier
  // in between.
  EXPECT_NE(result.error.find("shared-memory race at "), std::string::npos)
      << result.error;
  EXPECT_NE(result.error.find("kernel 'neighbour_sum' block (0, 0, 0) "
                              "thread (1, 0, 0) writes a byte that thread "
                              "(0, 0, 0) read since the last barrier"),
            std::string::npos)
      << result.error;
}

TEST(EmulatorChecks, OffByOneStoreIsOutOfBounds) {
  std::vector<float> out;
  LaunchResult result = runNeighbourSum(2, out);
  ASSERT_FALSE(result.ok);
  EXPECT_NE(result.error.find("out-of-bounds global write of 4 bytes at "),
            std::string::npos)
      << result.error;
  EXPECT_NE(result.error.find("thread (63, 0, 0): 256 bytes from the start "
                              "of buffer 'out' (256 bytes)"),
            std::string::npos)
      << result.error;
}

TEST(EmulatorChecks, UninitialisedSharedReadIsReported) {
  std::vector<float> out;
  LaunchResult result = runNeighbourSum(3, out);
  ASSERT_FALSE(result.ok);
  EXPECT_NE(result.error.find("read of uninitialised shared memory at "),
            std::string::npos)
      << result.error;
  EXPECT_NE(result.error.find("thread (5, 0, 0)"), std::string::npos)
      << result.error;
}

TEST(EmulatorChecks, ChecksCanBeTurnedOff) {
  std::vector<float> in(64, 1.0f), out(64, 0.0f);
  Buffers b{in.data(), out.data(), 64, 1};
  void *argv[] = {&b};
  LaunchConfig config = configFor("neighbour_sum", b, 64);
  config.checks.races = false;
  config.checks.uninitializedShared = false;
  EXPECT_TRUE(launch(config, neighbourSum, argv).ok);
}

// Stores through a shared-space pointer, one element past the end for the
// last thread.
void sharedOverflow(void **) {
  auto *shared = static_cast<float *>(attn_emu_dynamic_shared());
  float *p = &shared[attn_emu_tid(0) + 1];
  attn_emu_access(p, sizeof(float), 1, AddressSpace::Shared);
  *p = 1.0f;
}

TEST(EmulatorChecks, SharedOutOfBoundsIsReported) {
  LaunchConfig config;
  config.block = {4, 1, 1};
  config.dynamicSharedBytes = 16;
  LaunchResult result = launch(config, sharedOverflow, nullptr);
  ASSERT_FALSE(result.ok);
  EXPECT_NE(result.error.find("out-of-bounds shared-memory write of 4 bytes"),
            std::string::npos)
      << result.error;
  EXPECT_NE(result.error.find("thread (3, 0, 0)"), std::string::npos)
      << result.error;
}

//===----------------------------------------------------------------------===//
// cp.async
//===----------------------------------------------------------------------===//

struct CopyArgs {
  const float *in;
  float *out;
  uint32_t variant;
};

// Each of 16 threads copies 4 floats (16 bytes) global -> shared with
// cp.async; lane 3 copies only 8 source bytes (the rest is zero-filled).
// After wait_group 0 and a barrier, thread t reads the chunk of thread
// t+1. variant 1 skips the wait; variant 2 skips the barrier; variant 3
// misaligns the destination.
void asyncCopy(void **args) {
  auto *a = static_cast<CopyArgs *>(args[0]);
  auto *shared = static_cast<float *>(attn_emu_dynamic_shared());
  uint32_t t = attn_emu_tid(0);
  float *dst = shared + 4 * t + (a->variant == 3 ? 1 : 0);
  attn_emu_cp_async(dst, a->in + 4 * t, 16, t == 3 ? 8 : 16);
  attn_emu_cp_async_commit();
  if (a->variant != 1)
    attn_emu_cp_async_wait(0);
  if (a->variant != 2)
    attn_emu_barrier0();
  uint32_t from = (t + 1) % 16;
  for (uint32_t i = 0; i < 4; ++i)
    store(&a->out[4 * t + i], load(&shared[4 * from + i]));
}

LaunchResult runAsyncCopy(uint32_t variant, std::vector<float> &out) {
  std::vector<float> in(64);
  std::iota(in.begin(), in.end(), 100.0f);
  out.assign(64, -1.0f);
  CopyArgs a{in.data(), out.data(), variant};
  void *argv[] = {&a};
  LaunchConfig config;
  config.kernelName = "async_copy";
  config.block = {16, 1, 1};
  config.dynamicSharedBytes = 64 * sizeof(float) + 16;
  config.buffers = {{in.data(), 256, "in"}, {out.data(), 256, "out"}};
  return launch(config, asyncCopy, argv);
}

TEST(EmulatorCpAsync, CopiesAndZeroFills) {
  std::vector<float> out;
  LaunchResult result = runAsyncCopy(0, out);
  ASSERT_TRUE(result.ok) << result.error;
  for (uint32_t t = 0; t < 16; ++t)
    for (uint32_t i = 0; i < 4; ++i) {
      uint32_t from = (t + 1) % 16;
      float expected = from == 3 && i >= 2 ? 0.0f : 100.0f + 4 * from + i;
      EXPECT_EQ(out[4 * t + i], expected) << t << " " << i;
    }
  EXPECT_EQ(result.counters.cpAsyncBytes, 16u * 16);
  EXPECT_EQ(result.counters.globalBytesRead, 15u * 16 + 8);
}

TEST(EmulatorCpAsync, ReadBeforeWaitIsReported) {
  std::vector<float> out;
  LaunchResult result = runAsyncCopy(1, out);
  ASSERT_FALSE(result.ok);
  EXPECT_NE(result.error.find("a cp.async of thread (1, 0, 0) has not "
                              "completed"),
            std::string::npos)
      << result.error;
}

TEST(EmulatorCpAsync, MissingBarrierAfterWaitIsARace) {
  std::vector<float> out;
  LaunchResult result = runAsyncCopy(2, out);
  ASSERT_FALSE(result.ok);
  EXPECT_NE(result.error.find("shared-memory race"), std::string::npos)
      << result.error;
}

TEST(EmulatorCpAsync, MisalignedCopyIsReported) {
  std::vector<float> out;
  LaunchResult result = runAsyncCopy(3, out);
  ASSERT_FALSE(result.ok);
  EXPECT_NE(result.error.find("not aligned to the copy size 16"),
            std::string::npos)
      << result.error;
}

//===----------------------------------------------------------------------===//
// Blocks on several host threads
//===----------------------------------------------------------------------===//

void blockIdTimesTid(void **args) {
  auto *out = *static_cast<uint32_t **>(args[0]);
  uint32_t b = attn_emu_ctaid(0) + attn_emu_nctaid(0) * attn_emu_ctaid(1);
  uint32_t t = attn_emu_tid(0);
  store(&out[b * 64 + t], b * 1000 + t);
  attn_emu_barrier0();
}

TEST(EmulatorLaunch, HostThreadsGiveTheSameResultAndCounters) {
  std::vector<uint32_t> one(24 * 64), four(24 * 64);
  LaunchConfig config;
  config.grid = {6, 4, 1};
  config.block = {64, 1, 1};
  uint32_t *data = one.data();
  void *argv[] = {&data};
  LaunchResult serial = launch(config, blockIdTimesTid, argv);
  config.hostThreads = 4;
  data = four.data();
  LaunchResult parallel = launch(config, blockIdTimesTid, argv);
  ASSERT_TRUE(serial.ok && parallel.ok) << serial.error << parallel.error;
  EXPECT_EQ(one, four);
  EXPECT_EQ(parallel.counters.barriers, 24u);
  EXPECT_EQ(parallel.counters.globalBytesWritten, 24u * 64 * 4);
}

} // namespace
