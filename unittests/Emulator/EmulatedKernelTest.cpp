//===- EmulatedKernelTest.cpp - GPU kernels, emulated on the CPU ---------===//
//
// Kernels written in the gpu and nvgpu dialects go through the lowering
// that precedes PTX emission (attn-lower-gpu-to-nvvm), attn-emulate-nvvm
// and the ExecutionEngine, and run on the emulation runtime:
//  - a block reduction (thread ids, shuffles, shared memory, barriers);
//  - an mma.sync matmul with ldmatrix fragments and double-buffered
//    cp.async staging, in f16 and bf16, for several sizes, against an f64
//    reference, with counters proportional to the work;
//  - the same lowered module assembled by ptxas for sm_80;
//  - broken kernels (a missing barrier, an off-by-one store, a
//    lane-divergent shuffle), which must be reported;
//  - the launch bounds the rewrite exports (.maxntid, static shared
//    memory), which the launch rules apply.
//
//===----------------------------------------------------------------------===//

#include "attn/Emulator/Runtime.h"
#include "attn/Conversion/GPUToNVVM/GPUToNVVM.h"
#include "attn/Target/Emulator/Passes.h"

#include "attn/Target/PTX/PTX.h"

#include "../Support/Dtypes.h"
#include "../Support/Ptxas.h"

#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"

#include "gtest/gtest.h"

#include <fstream>
#include <random>
#include <sstream>

using namespace mlir;

namespace {

// Sums 128 floats per block: a butterfly reduction in each warp, the four
// warp sums through shared memory, thread 0 adds them.
const char *kReduceKernel = R"mlir(
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @block_sum(%in: memref<512xf32>, %out: memref<4xf32>)
        workgroup(%partial: memref<4xf32, #gpu.address_space<workgroup>>)
        kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %c0 = arith.constant 0 : index
      %c32 = arith.constant 32 : index
      %c128 = arith.constant 128 : index
      %tid = gpu.thread_id x
      %bid = gpu.block_id x
      %base = arith.muli %bid, %c128 : index
      %g = arith.addi %base, %tid : index
      %v0 = memref.load %in[%g] : memref<512xf32>
      %w = arith.constant 32 : i32
      %o16 = arith.constant 16 : i32
      %o8 = arith.constant 8 : i32
      %o4 = arith.constant 4 : i32
      %o2 = arith.constant 2 : i32
      %o1 = arith.constant 1 : i32
      %s16, %p16 = gpu.shuffle xor %v0, %o16, %w : f32
      %v1 = arith.addf %v0, %s16 : f32
      %s8, %p8 = gpu.shuffle xor %v1, %o8, %w : f32
      %v2 = arith.addf %v1, %s8 : f32
      %s4, %p4 = gpu.shuffle xor %v2, %o4, %w : f32
      %v3 = arith.addf %v2, %s4 : f32
      %s2, %p2 = gpu.shuffle xor %v3, %o2, %w : f32
      %v4 = arith.addf %v3, %s2 : f32
      %s1, %p1 = gpu.shuffle xor %v4, %o1, %w : f32
      %v5 = arith.addf %v4, %s1 : f32
      %lane = arith.remui %tid, %c32 : index
      %warp = arith.divui %tid, %c32 : index
      %first = arith.cmpi eq, %lane, %c0 : index
      scf.if %first {
        memref.store %v5, %partial[%warp] : memref<4xf32, #gpu.address_space<workgroup>>
      }
      gpu.barrier
      %t0 = arith.cmpi eq, %tid, %c0 : index
      scf.if %t0 {
        %c1 = arith.constant 1 : index
        %c2 = arith.constant 2 : index
        %c3 = arith.constant 3 : index
        %a = memref.load %partial[%c0] : memref<4xf32, #gpu.address_space<workgroup>>
        %b = memref.load %partial[%c1] : memref<4xf32, #gpu.address_space<workgroup>>
        %c = memref.load %partial[%c2] : memref<4xf32, #gpu.address_space<workgroup>>
        %d = memref.load %partial[%c3] : memref<4xf32, #gpu.address_space<workgroup>>
        %ab = arith.addf %a, %b : f32
        %cd = arith.addf %c, %d : f32
        %sum = arith.addf %ab, %cd : f32
        memref.store %sum, %out[%bid] : memref<4xf32>
      }
      gpu.return
    }
  }
}
)mlir";

/// A kernel module: parsed, lowered as for PTX, rewritten for the
/// emulator and JIT-compiled.
class EmulatedModule {
public:
  explicit EmulatedModule(StringRef source) : context(makeRegistry()) {
    module = parseSourceString<ModuleOp>(source, &context);
    if (!module)
      return;
    PassManager lower(&context);
    attn::buildLowerGpuToNVVMPipeline(lower);
    if (failed(lower.run(*module)))
      module = nullptr;
  }

  /// The lowered module (what PTX emission takes) before the rewrite.
  ModuleOp lowered() { return *module; }

  /// Rewrites the lowered module for the host and JIT-compiles it.
  LogicalResult emulate() {
    PassManager pm(&context);
    pm.addPass(attn::createAttnEmulateNVVM());
    pm.addPass(createReconcileUnrealizedCastsPass());
    if (failed(pm.run(*module)))
      return failure();
    staticShared = static_cast<size_t>(
        (*module)->getAttrOfType<IntegerAttr>(attn::kEmuStaticSharedAttr)
            .getInt());
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    auto created = ExecutionEngine::create(*module);
    if (!created) {
      llvm::consumeError(created.takeError());
      return failure();
    }
    engine = std::move(*created);
    attn::registerEmulatorSymbols(*engine);
    return success();
  }

  attn::emu::LaunchResult launch(StringRef kernel,
                                 attn::emu::LaunchConfig config,
                                 void **args) {
    auto fn = engine->lookupPacked(kernel);
    if (!fn) {
      attn::emu::LaunchResult failure;
      failure.ok = false;
      failure.error = llvm::toString(fn.takeError());
      return failure;
    }
    // As a launcher does: the kernel's attributes (what cuFuncGetAttribute
    // would report), exported by the rewrite, and the runtime's opt-in.
    auto exported =
        engine->lookup(attn::emu::kernelAttributesSymbol(kernel.str()));
    if (!exported) {
      attn::emu::LaunchResult failure;
      failure.ok = false;
      failure.error = llvm::toString(exported.takeError());
      return failure;
    }
    const auto &attributes =
        *static_cast<const attn::emu::KernelAttributes *>(*exported);
    EXPECT_EQ(attributes.staticSharedBytes, staticShared);
    config.kernelName = kernel.str();
    config.staticSharedBytes = attributes.staticSharedBytes;
    config.maxThreadsPerBlock =
        static_cast<uint32_t>(attributes.maxThreadsPerBlock);
    attn::emu::optInSharedMemory(config);
    return attn::emu::launch(config, *fn, args);
  }

  explicit operator bool() const { return static_cast<bool>(module); }

private:
  static DialectRegistry makeRegistry() {
    DialectRegistry registry;
    attn::registerGpuLoweringInterfaces(registry);
    attn::ptx::registerPTXTarget(registry);
    return registry;
  }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
  std::unique_ptr<ExecutionEngine> engine;
  size_t staticShared = 0;
};

/// A memref descriptor as lowered kernels take it, and the pointers to its
/// fields that the packed calling convention wants.
template <typename T, int Rank>
struct Memref {
  T *allocated, *aligned;
  int64_t offset = 0, sizes[Rank], strides[Rank];

  Memref(T *data, std::array<int64_t, Rank> shape)
      : allocated(data), aligned(data) {
    int64_t stride = 1;
    for (int d = Rank - 1; d >= 0; --d) {
      sizes[d] = shape[d];
      strides[d] = stride;
      stride *= shape[d];
    }
  }
  void appendArgs(std::vector<void *> &args) {
    args.push_back(&allocated);
    args.push_back(&aligned);
    args.push_back(&offset);
    for (int d = 0; d < Rank; ++d)
      args.push_back(&sizes[d]);
    for (int d = 0; d < Rank; ++d)
      args.push_back(&strides[d]);
  }
};

TEST(EmulatedKernel, BlockReductionMatchesTheCpu) {
  EmulatedModule module(kReduceKernel);
  ASSERT_TRUE(module);
  ASSERT_TRUE(succeeded(module.emulate()));

  std::vector<float> in(512), out(4, -1.0f);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (float &x : in)
    x = dist(rng);
  Memref<float, 1> inDesc(in.data(), {512}), outDesc(out.data(), {4});
  std::vector<void *> args;
  inDesc.appendArgs(args);
  outDesc.appendArgs(args);
  attn::emu::LaunchConfig config;
  config.grid = {4, 1, 1};
  config.block = {128, 1, 1};
  config.buffers = {{in.data(), 512 * 4, "in"}, {out.data(), 4 * 4, "out"}};
  attn::emu::LaunchResult result =
      module.launch("block_sum", config, args.data());
  ASSERT_TRUE(result.ok) << result.error;
  for (int b = 0; b < 4; ++b) {
    double expected = 0;
    for (int t = 0; t < 128; ++t)
      expected += in[b * 128 + t];
    EXPECT_NEAR(out[b], expected, 1e-4) << "block " << b;
  }
  // Five shuffles per warp, four warps per block; one barrier per block;
  // four partial sums per block through shared memory.
  EXPECT_EQ(result.counters.warpCollectives, 4u * 4 * 5);
  EXPECT_EQ(result.counters.barriers, 4u);
  EXPECT_EQ(result.counters.globalBytesRead, 512u * 4);
  EXPECT_EQ(result.counters.globalBytesWritten, 4u * 4);
  EXPECT_EQ(result.counters.sharedBytesWritten, 4u * 4 * 4);
  EXPECT_EQ(result.counters.sharedBytesRead, 4u * 4 * 4);
}

//===----------------------------------------------------------------------===//
// The mma.sync matmul
//===----------------------------------------------------------------------===//

std::string readKernel(const char *name) {
  std::ifstream in(std::string(ATTN_SOURCE_DIR) +
                   "/test/Target/Emulator/Inputs/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The matmul kernel with f16 or bf16 multiplicands.
std::string matmulKernel(bool bf16) {
  std::string text = readKernel("mma-matmul.mlir");
  if (bf16)
    for (size_t at = text.find("xf16"); at != std::string::npos;
         at = text.find("xf16", at + 5))
      text.replace(at, 4, "xbf16");
  return text;
}

struct MatmulRun {
  attn::emu::LaunchResult result;
  double maxError = 0;
};

/// Runs C = A*B (M x K times K x N) with random inputs rounded to the
/// element type, against an f64 reference on the rounded values.
MatmulRun runMatmul(EmulatedModule &module, bool bf16, int64_t m, int64_t n,
                    int64_t k) {
  std::mt19937 rng(static_cast<unsigned>(m * 131 + n * 7 + k));
  std::uniform_real_distribution<float> dist(-1, 1);
  auto round = [&](float x, uint16_t &bits) {
    bits = bf16 ? attn_test::toBf16Bits(x) : attn_test::toF16Bits(x);
    return bf16 ? attn_test::fromBf16Bits(bits) : attn_test::fromF16Bits(bits);
  };
  std::vector<uint16_t> a(m * k), b(k * n);
  std::vector<double> aExact(m * k), bExact(k * n);
  for (int64_t i = 0; i < m * k; ++i)
    aExact[i] = round(dist(rng), a[i]);
  for (int64_t i = 0; i < k * n; ++i)
    bExact[i] = round(dist(rng), b[i]);
  std::vector<float> c(m * n, std::nanf(""));
  Memref<uint16_t, 2> aDesc(a.data(), {m, k}), bDesc(b.data(), {k, n});
  Memref<float, 2> cDesc(c.data(), {m, n});
  std::vector<void *> args;
  aDesc.appendArgs(args);
  bDesc.appendArgs(args);
  cDesc.appendArgs(args);
  attn::emu::LaunchConfig config;
  config.grid = {static_cast<uint32_t>(n / 32), static_cast<uint32_t>(m / 32),
                 1};
  config.block = {128, 1, 1};
  config.buffers = {{a.data(), a.size() * 2, "A"},
                    {b.data(), b.size() * 2, "B"},
                    {c.data(), c.size() * 4, "C"}};
  MatmulRun run;
  run.result = module.launch("matmul", config, args.data());
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double expected = 0;
      for (int64_t kk = 0; kk < k; ++kk)
        expected += aExact[i * k + kk] * bExact[kk * n + j];
      double error = std::fabs(c[i * n + j] - expected);
      run.maxError = std::max(run.maxError, std::isnan(error) ? 1e30 : error);
    }
  return run;
}

class MmaMatmul : public ::testing::TestWithParam<bool> {};

TEST_P(MmaMatmul, MatchesTheReferenceWithCountsProportionalToTheWork) {
  bool bf16 = GetParam();
  EmulatedModule module(matmulKernel(bf16));
  ASSERT_TRUE(module);
  ASSERT_TRUE(succeeded(module.emulate()));
  for (auto [m, n, k] : {std::array<int64_t, 3>{32, 32, 16},
                         std::array<int64_t, 3>{64, 96, 48},
                         std::array<int64_t, 3>{96, 64, 128}}) {
    MatmulRun run = runMatmul(module, bf16, m, n, k);
    ASSERT_TRUE(run.result.ok) << run.result.error;
    // f32 accumulation of exact products, against f64.
    EXPECT_LT(run.maxError, 1e-5 * static_cast<double>(k))
        << m << "x" << n << "x" << k;
    uint64_t blocks = static_cast<uint64_t>(m / 32 * (n / 32));
    uint64_t steps = static_cast<uint64_t>(k / 16);
    const attn::emu::Counters &counters = run.result.counters;
    // Four warps, two mma and three ldmatrix per warp and k step.
    EXPECT_EQ(counters.mmaInstructions, blocks * 4 * steps * 2);
    EXPECT_EQ(counters.ldmatrixInstructions, blocks * 4 * steps * 3);
    EXPECT_EQ(counters.barriers, blocks * steps * 2);
    // Each block stages its 32 rows of A and 32 columns of B once.
    EXPECT_EQ(counters.cpAsyncBytes, blocks * 2 * 32 * k * 2);
    EXPECT_EQ(counters.globalBytesRead, blocks * 2 * 32 * k * 2);
    EXPECT_EQ(counters.globalBytesWritten, static_cast<uint64_t>(m * n * 4));
  }
}

INSTANTIATE_TEST_SUITE_P(Types, MmaMatmul, ::testing::Values(false, true),
                         [](const auto &info) {
                           return info.param ? "bf16" : "f16";
                         });

using attn_test::assemble;
using attn_test::findPtxas;

class OneLowering : public ::testing::TestWithParam<bool> {};

TEST_P(OneLowering, AssembledByPtxasAndEmulated) {
  bool bf16 = GetParam();
  EmulatedModule module(matmulKernel(bf16));
  ASSERT_TRUE(module);
  // PTX from the lowered module (emission works on a clone of it) ...
  auto ptx = attn::ptx::emitPTX(module.lowered());
  ASSERT_TRUE(succeeded(ptx));
  ASSERT_EQ(ptx->count("kernels"), 1u);
  const std::string &text = ptx->at("kernels");
  EXPECT_NE(text.find(bf16 ? "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32"
                           : "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32"),
            std::string::npos);
  EXPECT_NE(text.find("ldmatrix.sync.aligned.m8n8.x4.shared.b16"),
            std::string::npos);
  EXPECT_NE(text.find("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16"),
            std::string::npos);
  EXPECT_NE(text.find("cp.async.ca.shared.global"), std::string::npos);
  // ... and the very same module, rewritten, runs in the emulator.
  ASSERT_TRUE(succeeded(module.emulate()));
  MatmulRun run = runMatmul(module, bf16, 64, 64, 32);
  ASSERT_TRUE(run.result.ok) << run.result.error;
  EXPECT_LT(run.maxError, 1e-4);

  std::string ptxas = findPtxas();
  if (ptxas.empty())
    GTEST_SKIP() << "ptxas not found (install the CUDA toolkit or set "
                    "ATTN_PTXAS); the emulated half of the test ran";
  auto [rc, log] = assemble(ptxas, text, "sm_80");
  ASSERT_EQ(rc, 0) << log;
  EXPECT_NE(log.find("0 bytes spill stores, 0 bytes spill loads"),
            std::string::npos)
      << log;
  std::cout << "ptxas sm_80 (" << (bf16 ? "bf16" : "f16") << "): " << log;
}

INSTANTIATE_TEST_SUITE_P(Types, OneLowering, ::testing::Values(false, true),
                         [](const auto &info) {
                           return info.param ? "bf16" : "f16";
                         });

//===----------------------------------------------------------------------===//
// Broken kernels
//===----------------------------------------------------------------------===//

// Three bugs, one kernel each: neighbour_sum without its barrier, a store
// one element past the end, and a shuffle that half the warp executes in
// another mode.
const char *kBrokenKernels = R"mlir(
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @missing_barrier(%in: memref<64xf32>, %out: memref<64xf32>)
        workgroup(%s: memref<64xf32, #gpu.address_space<workgroup>>) kernel {
      %c1 = arith.constant 1 : index
      %c64 = arith.constant 64 : index
      %t = gpu.thread_id x
      %v = memref.load %in[%t] : memref<64xf32>
      memref.store %v, %s[%t] : memref<64xf32, #gpu.address_space<workgroup>>
      %n1 = arith.addi %t, %c1 : index
      %n = arith.remui %n1, %c64 : index
      %w = memref.load %s[%n] : memref<64xf32, #gpu.address_space<workgroup>>
      memref.store %w, %out[%t] : memref<64xf32>
      gpu.return
    }
    gpu.func @off_by_one(%in: memref<64xf32>, %out: memref<64xf32>) kernel {
      %c1 = arith.constant 1 : index
      %t = gpu.thread_id x
      %v = memref.load %in[%t] : memref<64xf32>
      %t1 = arith.addi %t, %c1 : index
      memref.store %v, %out[%t1] : memref<64xf32>
      gpu.return
    }
    gpu.func @divergent_shuffle(%in: memref<64xf32>, %out: memref<64xf32>) kernel {
      %c16 = arith.constant 16 : index
      %c32 = arith.constant 32 : index
      %one = arith.constant 1 : i32
      %width = arith.constant 32 : i32
      %t = gpu.thread_id x
      %v = memref.load %in[%t] : memref<64xf32>
      %lane = arith.remui %t, %c32 : index
      %low = arith.cmpi ult, %lane, %c16 : index
      %r = scf.if %low -> f32 {
        %x, %p = gpu.shuffle xor %v, %one, %width : f32
        scf.yield %x : f32
      } else {
        %x, %p = gpu.shuffle down %v, %one, %width : f32
        scf.yield %x : f32
      }
      memref.store %r, %out[%t] : memref<64xf32>
      gpu.return
    }
  }
}
)mlir";

std::string runBroken(EmulatedModule &module, StringRef kernel) {
  std::vector<float> in(64, 1.0f), out(64, 0.0f);
  Memref<float, 1> inDesc(in.data(), {64}), outDesc(out.data(), {64});
  std::vector<void *> args;
  inDesc.appendArgs(args);
  outDesc.appendArgs(args);
  attn::emu::LaunchConfig config;
  config.block = {64, 1, 1};
  config.buffers = {{in.data(), 256, "in"}, {out.data(), 256, "out"}};
  attn::emu::LaunchResult result = module.launch(kernel, config, args.data());
  EXPECT_FALSE(result.ok) << kernel.str() << " was not caught";
  return result.error;
}

// The kernel's known_block_size becomes its .maxntid; the rewrite exports
// it with the static shared bytes, and a launch beyond it is refused, as
// the driver refuses it, before any thread runs.
TEST(EmulatedKernel, LaunchBoundsComeFromTheKernel) {
  EmulatedModule module(kReduceKernel);
  ASSERT_TRUE(module);
  ASSERT_TRUE(succeeded(module.emulate()));
  std::vector<float> in(512, 1.0f), out(4, -1.0f);
  Memref<float, 1> inDesc(in.data(), {512}), outDesc(out.data(), {4});
  std::vector<void *> args;
  inDesc.appendArgs(args);
  outDesc.appendArgs(args);
  attn::emu::LaunchConfig config;
  config.grid = {2, 1, 1};
  config.block = {256, 1, 1};
  config.buffers = {{in.data(), 512 * 4, "in"}, {out.data(), 4 * 4, "out"}};
  attn::emu::LaunchResult result =
      module.launch("block_sum", config, args.data());
  ASSERT_FALSE(result.ok);
  EXPECT_NE(result.error.find("kernel 'block_sum' is launched with 256 "
                              "threads per block (256, 1, 1); it allows at "
                              "most 128 (its .maxntid)"),
            std::string::npos)
      << result.error;
  EXPECT_EQ(result.counters.globalBytesRead, 0u);
  EXPECT_EQ(out[0], -1.0f);
}

TEST(EmulatedKernel, BrokenKernelsAreCaught) {
  EmulatedModule module(kBrokenKernels);
  ASSERT_TRUE(module);
  ASSERT_TRUE(succeeded(module.emulate()));
  std::string race = runBroken(module, "missing_barrier");
  EXPECT_NE(race.find("shared-memory race at "), std::string::npos) << race;
  EXPECT_NE(race.find("kernel 'missing_barrier' block (0, 0, 0) thread "
                      "(1, 0, 0) writes a byte that thread (0, 0, 0) read "
                      "since the last barrier"),
            std::string::npos)
      << race;
  std::string oob = runBroken(module, "off_by_one");
  EXPECT_NE(oob.find("out-of-bounds global write of 4 bytes at "),
            std::string::npos)
      << oob;
  EXPECT_NE(oob.find("kernel 'off_by_one' block (0, 0, 0) thread (63, 0, 0): "
                     "256 bytes from the start of buffer 'out' (256 bytes)"),
            std::string::npos)
      << oob;
  std::string divergent = runBroken(module, "divergent_shuffle");
  EXPECT_NE(divergent.find("divergent warp collective: "), std::string::npos)
      << divergent;
}

} // namespace
