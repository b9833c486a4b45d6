//===- GpuJitTest.cpp - The JIT's GPU target without (or with) a GPU -----===//
//
// compileForGpu produces the tensor-core PTX and its launch contract on any
// machine; running it needs the CUDA driver, and without one the error is
// the runtime's "no CUDA driver" message, not a crash. On the stand-in
// driver (AttnGpuJitFakeCudaTests) the kernels load and launch under the
// driver's rules. Bad specs and chips are errors. (On a GPU machine
// scripts/gpu-check runs the kernels on data.)
//
//===----------------------------------------------------------------------===//

#include "attn/JIT/Compiler.h"
#include "attn/Runtime/Runtime.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <dlfcn.h>

using namespace mlir::attn::jit;

namespace {

GpuOptions onChip(const std::string &chip) {
  GpuOptions options;
  options.chip = chip;
  return options;
}

AttentionSpec causalGqa() {
  AttentionSpec spec;
  spec.numQHeads = 8;
  spec.numKVHeads = 2;
  spec.seqQ = spec.seqKV = 300;
  spec.headDimQK = spec.headDimV = 128;
  spec.elementType = ElementType::BF16;
  spec.mask = "#attn.causal";
  return spec;
}

TEST(GpuJit, CompilesToPtxWithItsLaunchContract) {
  Compiler compiler;
  auto kernel = compiler.compileForGpu(causalGqa(), onChip("sm_90"));
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  const std::string &ptx = (*kernel)->ptx();
  EXPECT_NE(ptx.find(".target sm_90"), std::string::npos);
  EXPECT_NE(ptx.find("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32"),
            std::string::npos);
  const GpuLaunch &launch = (*kernel)->launch();
  EXPECT_EQ(launch.kernelName, "attn_entry_kernel");
  // The table's configuration for head dim 128: 128 x 32, 4 warps.
  EXPECT_EQ((*kernel)->tiles().q, 128);
  EXPECT_EQ((*kernel)->tiles().kv, 32);
  EXPECT_EQ(launch.grid[0], 3); // ceil(300 / 128) query tiles
  EXPECT_EQ(launch.grid[1], 8);
  EXPECT_EQ(launch.grid[2], 1);
  EXPECT_EQ(launch.block[0], 128);
  EXPECT_EQ(launch.dynamicSharedBytes, (128 + 2 * 32) * 128 * 2);

  // The same spec and chip again is a cache hit: the same kernel object.
  int64_t hits = compiler.cacheHits();
  auto again = compiler.compileForGpu(causalGqa(), onChip("sm_90"));
  ASSERT_TRUE(static_cast<bool>(again));
  EXPECT_EQ(again->get(), kernel->get());
  EXPECT_EQ(compiler.cacheHits(), hits + 1);
  // Another chip is another kernel.
  auto sm80 = compiler.compileForGpu(causalGqa(), onChip("sm_80"));
  ASSERT_TRUE(static_cast<bool>(sm80));
  EXPECT_NE(sm80->get(), kernel->get());
}

TEST(GpuJit, DiskCacheIsReusedAcrossCompilers) {
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("attn-ptx-cache", dir));
  GpuOptions options = onChip("sm_80");
  options.cacheDirectory = dir.str().str();
  AttentionSpec spec = causalGqa();
  spec.mask = "#attn.document";
  spec.hasSegmentIds = true; // two kernels and a temporary in the contract
  std::string ptx;
  GpuLaunch launch;
  {
    Compiler first;
    auto kernel = first.compileForGpu(spec, options);
    ASSERT_TRUE(static_cast<bool>(kernel))
        << llvm::toString(kernel.takeError());
    EXPECT_EQ(first.diskCacheHits(), 0);
    ptx = (*kernel)->ptx();
    launch = (*kernel)->launch();
  }
  Compiler second;
  auto kernel = second.compileForGpu(spec, options);
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  EXPECT_EQ(second.diskCacheHits(), 1);
  EXPECT_EQ((*kernel)->ptx(), ptx);
  EXPECT_EQ((*kernel)->launch().kernelName, launch.kernelName);
  EXPECT_EQ((*kernel)->launch().grid[0], launch.grid[0]);
  EXPECT_EQ((*kernel)->launch().dynamicSharedBytes, launch.dynamicSharedBytes);
  // A corrupt entry is recompiled, not trusted.
  std::error_code ec;
  llvm::sys::fs::directory_iterator it(dir, ec);
  for (; !ec && it != llvm::sys::fs::directory_iterator(); it.increment(ec))
    if (llvm::StringRef(it->path()).ends_with(".json")) {
      llvm::raw_fd_ostream out(it->path(), ec);
      out << "{not json";
    }
  Compiler third;
  auto recompiled = third.compileForGpu(spec, options);
  ASSERT_TRUE(static_cast<bool>(recompiled));
  EXPECT_EQ(third.diskCacheHits(), 0);
  EXPECT_EQ((*recompiled)->ptx(), ptx);
  llvm::sys::fs::remove_directories(dir);
}

/// The stand-in driver's launch counter (runtime/test/fake-cuda), when the
/// libcuda.so.1 the runtime opened is the stand-in.
unsigned long long (*standInLaunchCount())() {
  void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
  return driver ? reinterpret_cast<unsigned long long (*)()>(
                      dlsym(driver, "attnFakeCudaLaunchCount"))
                : nullptr;
}

/// Device memory from the runtime, freed at the end of the scope.
struct DeviceBuffer {
  uint64_t pointer = 0;
  explicit DeviceBuffer(size_t bytes) {
    EXPECT_EQ(attn_rt_alloc(0, bytes, &pointer), 0) << attn_rt_last_error();
  }
  ~DeviceBuffer() {
    if (pointer)
      attn_rt_free(pointer);
  }
  void *get() const {
    return reinterpret_cast<void *>(static_cast<uintptr_t>(pointer));
  }
};

// On the stand-in driver (CI: LD_LIBRARY_PATH names runtime/test/fake-cuda)
// the JIT's kernels go through the whole launch path under the driver's
// rules: module load by ptxas, 48 KiB of dynamic shared memory (D = 128),
// two kernels with a temporary tile table, launched twice on one stream.
TEST(GpuJit, LaunchesUnderTheDriversRules) {
  int devices = 0;
  if (attn_rt_device_count(&devices) != 0 || devices == 0)
    GTEST_SKIP() << "no CUDA driver: RunsOnlyWithADriver covers this machine";
  auto launchCount = standInLaunchCount();
  if (!launchCount)
    GTEST_SKIP() << "a real GPU: scripts/gpu-check runs the kernels on data";
  AttentionSpec spec = causalGqa();
  spec.mask = "#attn.document";
  spec.hasSegmentIds = true;
  spec.withLogsumexp = true;
  Compiler compiler;
  auto kernel = compiler.compileForGpu(spec, onChip("sm_90"));
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  EXPECT_EQ((*kernel)->launch().dynamicSharedBytes, 48 * 1024);
  size_t q = spec.batch * spec.numQHeads * spec.seqQ * spec.headDimQK * 2;
  size_t kv = spec.batch * spec.numKVHeads * spec.seqKV * spec.headDimQK * 2;
  DeviceBuffer query(q), key(kv), value(kv), output(q),
      lse(spec.batch * spec.numQHeads * spec.seqQ * 4),
      qIds(spec.batch * spec.seqQ * 4), kvIds(spec.batch * spec.seqKV * 4);
  HostArgs args;
  args.query = query.get();
  args.key = key.get();
  args.value = value.get();
  args.output = output.get();
  args.logsumexp = static_cast<float *>(lse.get());
  args.qSegmentIds = qIds.get();
  args.kvSegmentIds = kvIds.get();
  unsigned long long before = launchCount();
  for (int run = 0; run < 2; ++run) {
    llvm::Error err = (*kernel)->run(args);
    ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  }
  EXPECT_EQ(launchCount() - before, 4u); // tile table + attention, twice
  EXPECT_EQ(attn_rt_synchronize(nullptr), 0) << attn_rt_last_error();
}

TEST(GpuJit, RunsOnlyWithADriver) {
  Compiler compiler;
  auto kernel = compiler.compileForGpu(causalGqa());
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  int devices = 0;
  if (attn_rt_device_count(&devices) == 0 && devices > 0)
    GTEST_SKIP() << "a driver is present: LaunchesUnderTheDriversRules runs";
  HostArgs args;
  int dummy = 0;
  args.query = args.key = args.value = &dummy;
  args.output = &dummy;
  llvm::Error err = (*kernel)->run(args);
  ASSERT_TRUE(static_cast<bool>(err));
  std::string message = llvm::toString(std::move(err));
  EXPECT_NE(message.find("no CUDA driver"), std::string::npos) << message;
}

TEST(GpuJit, BadSpecsAndChipsAreErrors) {
  Compiler compiler;
  AttentionSpec f32 = causalGqa();
  f32.elementType = ElementType::F32;
  auto kernel = compiler.compileForGpu(f32);
  ASSERT_FALSE(static_cast<bool>(kernel));
  std::string message = llvm::toString(kernel.takeError());
  EXPECT_NE(message.find("the GPU path takes f16 or bf16 inputs"),
            std::string::npos)
      << message;

  AttentionSpec odd = causalGqa();
  odd.headDimQK = odd.headDimV = 80;
  auto oddKernel = compiler.compileForGpu(odd);
  ASSERT_FALSE(static_cast<bool>(oddKernel));
  message = llvm::toString(oddKernel.takeError());
  EXPECT_NE(message.find("head dimensions must be multiples of 32 up to 256, "
                         "not 80 and 80"),
            std::string::npos)
      << message;

  AttentionSpec gqa = causalGqa();
  gqa.numKVHeads = 3;
  auto bad = compiler.compileForGpu(gqa);
  ASSERT_FALSE(static_cast<bool>(bad));
  message = llvm::toString(bad.takeError());
  EXPECT_NE(message.find("must be a multiple of key/value heads (3)"),
            std::string::npos)
      << message;

  auto chip = compiler.compileForGpu(causalGqa(), onChip("sm_75"));
  ASSERT_FALSE(static_cast<bool>(chip));
  message = llvm::toString(chip.takeError());
  EXPECT_NE(message.find("unsupported chip 'sm_75'"), std::string::npos)
      << message;
}

// CompileOptions::gpuKernelConfig reaches both GPU targets: one that fits
// compiles with its tiles and warps, "64x64" has its warps chosen, and one
// that does not parse or does not fit is refused with the reason.
TEST(GpuJit, KernelConfigsApplyOrAreRefused) {
  struct Applied {
    std::string config;
    int64_t tileQ, tileKV, threads;
  };
  for (const Applied &a :
       {Applied{"64x64w4", 64, 64, 128}, Applied{"128x64w8", 128, 64, 256},
        // 32 rows per warp would take 192 accumulator
        // registers at head dim 128: 16.
        Applied{"64x64", 64, 64, 128}}) {
    CompileOptions options;
    options.gpuKernelConfig = a.config;
    Compiler compiler(options);
    auto kernel = compiler.compileForGpu(causalGqa());
    ASSERT_TRUE(static_cast<bool>(kernel))
        << a.config << ": " << llvm::toString(kernel.takeError());
    EXPECT_EQ((*kernel)->tiles().q, a.tileQ) << a.config;
    EXPECT_EQ((*kernel)->tiles().kv, a.tileKV) << a.config;
    EXPECT_EQ((*kernel)->launch().block[0], a.threads) << a.config;
    auto emulated = compiler.compileForEmulator(causalGqa());
    ASSERT_TRUE(static_cast<bool>(emulated))
        << a.config << ": " << llvm::toString(emulated.takeError());
    EXPECT_EQ((*emulated)->tiles().q, a.tileQ) << a.config;
  }

  struct Refused {
    std::string config, reason;
  };
  for (const Refused &r :
       {Refused{"64", "'64' is not tile_q x tile_kv with optional warps and "
                      "q (\"128x64w4\", \"128x32w4q\", \"128x64\")"},
        Refused{"40x64w2", "no GPU kernel 40x64w2 (tile_q x tile_kv, warps) "
                           "for head dimensions 128/128 on sm_80: each warp "
                           "owns tile_q / warps query rows, which must be 16 "
                           "or 32, not 40 / 2"},
        Refused{"128x64w4", "its accumulators take 192 registers per thread, "
                            "more than the 160 that fit"},
        Refused{"64x24w4", "tile_kv must be a multiple of 16"}}) {
    CompileOptions options;
    options.gpuKernelConfig = r.config;
    Compiler compiler(options);
    for (bool emulated : {false, true}) {
      std::string message =
          emulated
              ? llvm::toString(
                    compiler.compileForEmulator(causalGqa()).takeError())
              : llvm::toString(compiler.compileForGpu(causalGqa()).takeError());
      EXPECT_NE(message.find(r.reason), std::string::npos)
          << r.config << (emulated ? " (emulated): " : ": ") << message;
    }
  }
}

} // namespace
