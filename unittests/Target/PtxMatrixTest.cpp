//===- PtxMatrixTest.cpp - Every GPU kernel of the matrix through ptxas ---===//
//
// Each kernel of the test matrix (every mask family, MHA/GQA/MQA, f16 and
// bf16, head dims 64, 128 and 192/128, ragged lengths, Sq = 1) is compiled
// to PTX for sm_80 and sm_90; the PTX must use the tensor-core path
// (mma.sync m16n8k16, ldmatrix, cp.async) and, when ptxas is available,
// assemble with no register spills. Registers and shared memory per kernel
// are printed (docs/benchmarks.md records them).
//
//===----------------------------------------------------------------------===//

#include "attn/JIT/Compiler.h"
#include "attn/Target/PTX/PTX.h"

#include "../Support/Ptxas.h"

#include "mlir/Parser/Parser.h"

#include "gtest/gtest.h"

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
  };
  struct Shape {
    int64_t hq, hkv, dqk, dv, sq, skv;
  };
  std::vector<Shape> shapes = {{4, 4, 64, 64, 130, 130},
                               {8, 2, 128, 128, 1, 190},
                               {4, 1, 192, 128, 100, 160}};
  std::vector<Kernel> kernels;
  int index = 0;
  for (const Mask &m : masks) {
    Shape s = shapes[index % shapes.size()];
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

TEST(PtxMatrix, TensorCoreKernelsAssembleWithoutSpills) {
  DialectRegistry registry;
  attn::ptx::registerAttentionToPTX(registry);
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
      EXPECT_NE(ptx.find("cp.async.ca.shared.global"), std::string::npos);
      if (ptxas.empty())
        continue;
      auto [rc, log] = assemble(ptxas, ptx, chip);
      ASSERT_EQ(rc, 0) << log;
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
        for (const attn::KernelContract &kc : compiled->contract.kernels)
          if (kc.name == (*it)[1].str())
            shared = kc.dynamicSharedBytes;
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

} // namespace
