//===- PtxMatrixTest.cpp - Every GPU kernel of the matrix through ptxas ---===//
//
// Each kernel of the test matrix (every mask family, score modifications,
// MHA/GQA/MQA, f16 and bf16, head dims 64, 128, 192/128 and 256, ragged
// lengths, Sq = 1) is compiled to PTX for sm_80 and sm_90; the PTX must use
// the tensor-core path (mma.sync m16n8k16, ldmatrix, cp.async), call no
// external function and, when ptxas is available, assemble with no
// register spills and no static shared memory. Registers and shared memory
// per kernel are printed (docs/benchmarks.md records them). The matrix and
// bench/gpu are also emitted by attn-ptx in a scrubbed environment, and
// launched through the runtime under the driver's rules (on the stand-in
// driver in CI).
//
//===----------------------------------------------------------------------===//

#include "attn/InitAll.h"
#include "attn/JIT/Compiler.h"
#include "attn/Target/PTX/PTX.h"

#include "../Support/Ptxas.h"

#include "attn/Runtime/Runtime.h"

#include "mlir/Parser/Parser.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <fstream>
#include <regex>

using namespace mlir;
using mlir::attn::jit::AttentionSpec;
using mlir::attn::jit::ElementType;

namespace {

struct Kernel {
  std::string name;
  AttentionSpec spec;
};

std::vector<Kernel> matrix() {
  struct Mask {
    std::string name, attr, maskMod;
    bool segments = false;
    std::string scoreMod = "", scoreModBody = "";
    int shape = -1; // index into shapes; -1: the next of the first three
  };
  std::vector<Mask> masks = {
      {"none", "", ""},
      {"causal", "#attn.causal", ""},
      {"causal_bottom_right", "#attn.causal<bottom_right>", ""},
      {"window", "#attn.window<left = 48, right = 16>", ""},
      {"dilated", "#attn.dilated<window = 64, dilation = 2>", ""},
      {"global", "#attn.union<[#attn.causal, #attn.global<first = 4>]>", ""},
      // 130 x 130 (the first shape): 3 x 3 blocks of 64.
      {"block_layout",
       "#attn.block_layout<block = [64, 64], layout = dense<[[true, false, "
       "false], [true, true, false], [false, true, true]]> : tensor<3x3xi1>>",
       ""},
      {"random_blocks",
       "#attn.random_blocks<block = 32, per_row = 2, seed = 7>", ""},
      {"prefix_lm", "#attn.prefix_lm<prefix = 40>", ""},
      {"document", "#attn.document", "", true},
      {"mask_mod", "",
       "      %le = arith.cmpi ule, %j, %i : index\n"
       "      attn.yield %le : i1"},
      // Score modifications: softcap (tanh.approx), ALiBi, and a region
      // calling erf, which only libdevice implements.
      {"softcap", "#attn.causal", "", false, "#attn.softcap<30.0>", "", 3},
      {"alibi", "#attn.causal", "", false, "#attn.alibi"},
      {"score_mod_erf", "", "", false, "",
       "      %e = math.erf %s : f32\n"
       "      attn.yield %e : f32"},
  };
  struct Shape {
    int64_t hq, hkv, dqk, dv, sq, skv;
  };
  std::vector<Shape> shapes = {{4, 4, 64, 64, 130, 130},
                               {8, 2, 128, 128, 1, 190},
                               {4, 1, 192, 128, 100, 160},
                               {2, 2, 256, 256, 70, 70}};
  std::vector<Kernel> kernels;
  int index = 0;
  for (const Mask &m : masks) {
    Shape s = shapes[m.shape >= 0 ? m.shape : index % 3];
    ElementType type = index % 2 ? ElementType::BF16 : ElementType::F16;
    ++index;
    Kernel k;
    k.spec.batch = 2;
    k.spec.numQHeads = s.hq;
    k.spec.numKVHeads = s.hkv;
    k.spec.headDimQK = s.dqk;
    k.spec.headDimV = s.dv;
    k.spec.seqQ = s.sq;
    k.spec.seqKV = s.skv;
    k.spec.elementType = type;
    k.spec.mask = m.attr;
    k.spec.maskModBody = m.maskMod;
    k.spec.hasSegmentIds = m.segments;
    k.spec.scoreMod = m.scoreMod;
    k.spec.scoreModBody = m.scoreModBody;
    k.spec.withLogsumexp = index % 3 == 0;
    k.name = m.name + (type == ElementType::BF16 ? "_bf16" : "_f16") + "_d" +
             std::to_string(s.dqk) + "_" + std::to_string(s.dv) + "_hq" +
             std::to_string(s.hq) + "_hkv" + std::to_string(s.hkv);
    kernels.push_back(k);
  }
  return kernels;
}

using attn_test::assemble;
using attn_test::findPtxas;

/// What the driver needs of PTX beyond assembling: no function left to
/// link (libdevice is linked into the module), the dynamic shared memory
/// as CUDA's extern array, no IEEE division in the kernel.
void expectLoadable(const std::string &ptx) {
  EXPECT_EQ(ptx.find(".extern .func"), std::string::npos) << ptx;
  if (ptx.find("__dynamic_shmem__") != std::string::npos)
    EXPECT_NE(ptx.find(".extern .shared .align 16 .b8 __dynamic_shmem__0[];"),
              std::string::npos);
  EXPECT_EQ(ptx.find("div.rn.f32"), std::string::npos);
}

/// ptxas -v reports "N bytes smem" for static shared memory, and nothing
/// when there is none: the kernels have only dynamic shared memory, so
/// 48 KiB of it launches without the opt-in.
void expectNoStaticSharedMemory(const std::string &log) {
  std::regex smem("(\\d+) bytes smem");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), smem);
       it != std::sregex_iterator(); ++it)
    EXPECT_EQ((*it)[1].str(), "0") << log;
}

/// The benchmark kernels of bench/gpu, as MLIR text.
std::vector<std::pair<std::string, std::string>> benchKernels() {
  std::vector<std::pair<std::string, std::string>> kernels;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(ATTN_SOURCE_DIR "/bench/gpu", ec),
       end;
       !ec && it != end; it.increment(ec)) {
    if (!llvm::StringRef(it->path()).ends_with(".mlir"))
      continue;
    auto buffer = llvm::MemoryBuffer::getFile(it->path());
    if (buffer)
      kernels.emplace_back(llvm::sys::path::stem(it->path()).str(),
                           (*buffer)->getBuffer().str());
  }
  std::sort(kernels.begin(), kernels.end());
  return kernels;
}

/// Every kernel the tests compile: the matrix and bench/gpu.
std::vector<std::pair<std::string, std::string>> allKernels() {
  std::vector<std::pair<std::string, std::string>> kernels;
  for (const Kernel &k : matrix())
    kernels.emplace_back(k.name, k.spec.toMLIR());
  std::vector<std::pair<std::string, std::string>> bench = benchKernels();
  EXPECT_GE(bench.size(), 7u) << "bench/gpu not found at " ATTN_SOURCE_DIR;
  kernels.insert(kernels.end(), bench.begin(), bench.end());
  return kernels;
}

TEST(PtxMatrix, TensorCoreKernelsAssembleWithoutSpills) {
  DialectRegistry registry;
  attn::registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  std::string ptxas = findPtxas();
  for (const Kernel &k : matrix()) {
    SCOPED_TRACE(k.name);
    OwningOpRef<ModuleOp> module =
        parseSourceString<ModuleOp>(k.spec.toMLIR(), &context);
    ASSERT_TRUE(module) << k.spec.toMLIR();
    for (std::string chip : {"sm_80", "sm_90"}) {
      attn::ptx::PTXOptions options;
      options.chip = chip;
      options.verifyPasses = true;
      auto compiled = attn::ptx::compileAttention(*module, options);
      ASSERT_TRUE(succeeded(compiled)) << k.spec.toMLIR();
      const std::string &ptx = compiled->ptx;
      EXPECT_NE(ptx.find(".target " + chip), std::string::npos);
      std::string mmaType =
          k.spec.elementType == ElementType::BF16 ? "bf16" : "f16";
      EXPECT_NE(ptx.find("mma.sync.aligned.m16n8k16.row.col.f32." + mmaType +
                         "." + mmaType + ".f32"),
                std::string::npos);
      EXPECT_NE(ptx.find("ldmatrix.sync.aligned.m8n8.x4.shared.b16"),
                std::string::npos);
      EXPECT_NE(ptx.find("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16"),
                std::string::npos);
      EXPECT_NE(ptx.find("cp.async.cg.shared.global"), std::string::npos);
      expectLoadable(ptx);
      if (ptxas.empty())
        continue;
      auto [rc, log] = assemble(ptxas, ptx, chip);
      ASSERT_EQ(rc, 0) << log;
      expectNoStaticSharedMemory(log);
      std::regex spills("(\\d+) bytes spill stores, (\\d+) bytes spill loads");
      for (auto it = std::sregex_iterator(log.begin(), log.end(), spills);
           it != std::sregex_iterator(); ++it) {
        EXPECT_EQ((*it)[1].str(), "0") << log;
        EXPECT_EQ((*it)[2].str(), "0") << log;
      }
      std::regex used("Compiling entry function '(\\w+)'[\\s\\S]*?Used (\\d+) "
                      "registers[^\\n]*");
      for (auto it = std::sregex_iterator(log.begin(), log.end(), used);
           it != std::sregex_iterator(); ++it) {
        int64_t shared = 0;
        for (attn::KernelLaunchAttr kc : compiled->contract.getKernels())
          if (kc.getName() == (*it)[1].str())
            shared = kc.getSharedBytes();
        std::cout << "ptxas " << chip << " " << k.name << " " << (*it)[1]
                  << ": " << (*it)[2] << " registers, " << shared
                  << " bytes dynamic shared memory\n";
      }
    }
  }
  if (ptxas.empty())
    GTEST_SKIP() << "ptxas not found (install the CUDA toolkit or set "
                    "ATTN_PTXAS); the PTX was checked, not assembled";
}

// What a user's machine may lack: attn-ptx in a scrubbed environment
// (env -i: no CUDA_HOME, no PATH) on every kernel still links libdevice
// where a kernel calls it, and ptxas assembles the result.
TEST(PtxMatrix, ScrubbedEnvironmentEmitsLoadablePtx) {
  std::string ptxas = findPtxas();
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("attn-env-i", dir));
  for (const auto &[name, text] : allKernels()) {
    SCOPED_TRACE(name);
    std::string mlir = (dir + "/" + name + ".mlir").str();
    {
      std::ofstream out(mlir);
      out << text;
    }
    for (std::string chip : {"sm_80", "sm_90"}) {
      std::string prefix = (dir + "/" + name + "." + chip).str();
      std::string log = prefix + ".log";
      std::optional<llvm::StringRef> redirects[] = {std::nullopt, log, log};
      std::string chipFlag = "--chip=" + chip;
      int rc = llvm::sys::ExecuteAndWait(
          ATTN_PTX_TOOL, {ATTN_PTX_TOOL, mlir, "-o", prefix, chipFlag},
          /*Env=*/llvm::ArrayRef<llvm::StringRef>{}, redirects);
      auto errors = llvm::MemoryBuffer::getFile(log);
      ASSERT_EQ(rc, 0) << (errors ? (*errors)->getBuffer().str() : "");
      auto ptx = llvm::MemoryBuffer::getFile(prefix + ".ptx");
      ASSERT_TRUE(static_cast<bool>(ptx));
      std::string text = (*ptx)->getBuffer().str();
      expectLoadable(text);
      if (ptxas.empty())
        continue;
      auto [asRc, asLog] = assemble(ptxas, text, chip);
      EXPECT_EQ(asRc, 0) << asLog;
      expectNoStaticSharedMemory(asLog);
    }
  }
  llvm::sys::fs::remove_directories(dir);
  if (ptxas.empty())
    GTEST_SKIP() << "ptxas not found: the PTX was checked, not assembled";
}

/// A tensor of the host signature in device memory of the runtime.
struct DeviceTensor {
  uint64_t pointer = 0;
  attn_rt_tensor descriptor{};
  DeviceTensor(llvm::ArrayRef<int64_t> shape, llvm::StringRef dtype) {
    int64_t bytes = dtype == "f32" || dtype == "i32" ? 4
                    : dtype == "i1" || dtype == "i8" ? 1
                                                     : 2;
    descriptor.rank = static_cast<int32_t>(shape.size());
    for (size_t d = 0; d < shape.size(); ++d) {
      descriptor.shape[d] = shape[d];
      bytes *= shape[d];
    }
    EXPECT_EQ(attn_rt_alloc(0, static_cast<size_t>(bytes), &pointer), 0)
        << attn_rt_last_error();
    descriptor.device_pointer = pointer;
  }
  DeviceTensor(const DeviceTensor &) = delete;
  ~DeviceTensor() {
    if (pointer)
      attn_rt_free(pointer);
  }
};

// Every kernel of the matrix and of bench/gpu (D = 64, 128, 192/128, 256)
// loads and launches through attn's runtime under the driver's rules: on
// the stand-in driver (AttnPtxLaunchTests: ptxas at module load, the 48 KiB
// default without opt-in, .maxntid, grid limits) in CI, on a real driver
// where there is one (the kernels do not compute anything meaningful here:
// scripts/gpu-check checks numbers).
TEST(PtxLaunch, EveryKernelLaunchesUnderTheDriversRules) {
  int devices = 0;
  if (attn_rt_device_count(&devices) != 0 || devices == 0)
    GTEST_SKIP() << "no CUDA driver (" << attn_rt_last_error()
                 << "); AttnPtxLaunchTests runs this on the stand-in driver";
  DialectRegistry registry;
  attn::registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  for (const auto &[name, text] : allKernels()) {
    SCOPED_TRACE(name);
    OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, &context);
    ASSERT_TRUE(module);
    for (std::string chip : {"sm_80", "sm_90"}) {
      attn::ptx::PTXOptions options;
      options.chip = chip;
      auto compiled = attn::ptx::compileAttention(*module, options);
      ASSERT_TRUE(succeeded(compiled));
      attn_rt_module *loaded = nullptr;
      ASSERT_EQ(attn_rt_module_load(0, compiled->ptx.c_str(), &loaded), 0)
          << attn_rt_last_error();
      std::vector<std::unique_ptr<DeviceTensor>> args, results, temps;
      for (const auto &t : compiled->arguments)
        args.push_back(std::make_unique<DeviceTensor>(t.shape, t.elementType));
      for (const auto &t : compiled->results)
        results.push_back(
            std::make_unique<DeviceTensor>(t.shape, t.elementType));
      attn::LaunchContractAttr contract = compiled->contract;
      for (attn::TemporaryAttr t : contract.getTemporaries())
        temps.push_back(std::make_unique<DeviceTensor>(
            llvm::ArrayRef<int64_t>(t.getBytes()), "i8"));
      // Each parameter is bound by its role: a host buffer of the
      // contract's arguments or results, or a temporary in its shape.
      auto bind = [&](attn::KernelParamAttr p) -> attn_rt_tensor {
        if (p.isTemporary()) {
          attn_rt_tensor descriptor = temps[p.getIndex()]->descriptor;
          llvm::ArrayRef<int64_t> shape =
              contract.getTemporaries()[p.getIndex()].getShape();
          descriptor.rank = static_cast<int32_t>(shape.size());
          for (size_t d = 0; d < shape.size(); ++d)
            descriptor.shape[d] = shape[d];
          return descriptor;
        }
        auto *arg = llvm::find(contract.getArguments(), p);
        if (arg != contract.getArguments().end())
          return args[arg - contract.getArguments().begin()]->descriptor;
        auto *res = llvm::find(contract.getResults(), p);
        EXPECT_NE(res, contract.getResults().end()) << p.getName();
        return results[res - contract.getResults().begin()]->descriptor;
      };
      for (attn::KernelLaunchAttr kernel : contract.getKernels()) {
        std::vector<attn_rt_tensor> params;
        for (attn::KernelParamAttr p : kernel.getParams())
          params.push_back(bind(p));
        llvm::SmallVector<int64_t, 3> grid =
            kernel.evaluateGrid(compiled->sizes());
        ASSERT_EQ(grid.size(), 3u) << kernel.getName().str();
        std::string name = kernel.getName().str();
        EXPECT_EQ(attn_rt_launch_memrefs(loaded, name.c_str(), grid.data(),
                                         kernel.getBlock().data(),
                                         kernel.getSharedBytes(), nullptr,
                                         params.data(), params.size()),
                  0)
            << chip << " " << name << ": " << attn_rt_last_error();
      }
      EXPECT_EQ(attn_rt_synchronize(nullptr), 0) << attn_rt_last_error();
      attn_rt_module_unload(loaded);
    }
  }
}

} // namespace
