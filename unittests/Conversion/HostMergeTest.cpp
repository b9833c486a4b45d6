//===- HostMergeTest.cpp - attn.merge on the host against f64 -------------===//
//
// attn.merge through attn-to-host and the ExecutionEngine, measured against
// an f64 merge of the same parts by the logsumexp rule, with the edge cases
// the op promises: a part that kept nothing (lse = -inf) has weight 0, a
// row where every part is -inf gets O = 0 and lse = -inf, parts whose lse
// differ by far more than exp's range do not overflow. The parts are
// themselves the attentions of disjoint key ranges (f64, computed here),
// so that the merged result is also checked against attention over all
// the keys.
//
//===----------------------------------------------------------------------===//

#include "../Support/Dtypes.h"

#include "attn/Conversion/AttnToHost/AttnToHost.h"
#include "attn/InitAll.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/Support/TargetSelect.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace mlir;

namespace {

constexpr int64_t kParts = 3, kHeads = 2, kRows = 40, kDim = 16;
constexpr double kInf = std::numeric_limits<double>::infinity();

/// The module: attn.merge of f32 parts into an `outType` output (f32 or
/// f16) and its logsumexp, on memrefs.
std::string mergeModule(const std::string &outType) {
  std::string parts = "3x1x2x40x16xf32", partLse = "3x1x2x40xf32",
              out = "1x2x40x16x" + outType, lse = "1x2x40xf32";
  return "func.func @merge(%po: memref<" + parts + ">, %pl: memref<" + partLse +
         ">, %o: memref<" + out + ">, %l: memref<" + lse +
         ">) attributes {llvm.emit_c_interface} {\n"
         "  %tpo = bufferization.to_tensor %po restrict : memref<" +
         parts + "> to tensor<" + parts +
         ">\n"
         "  %tpl = bufferization.to_tensor %pl restrict : memref<" +
         partLse + "> to tensor<" + partLse +
         ">\n"
         "  %ro, %rl = attn.merge %tpo, %tpl : tensor<" +
         parts + ">, tensor<" + partLse + "> -> tensor<" + out + ">, tensor<" +
         lse +
         ">\n"
         "  bufferization.materialize_in_destination %ro in restrict "
         "writable %o : (tensor<" +
         out + ">, memref<" + out +
         ">) -> ()\n"
         "  bufferization.materialize_in_destination %rl in restrict "
         "writable %l : (tensor<" +
         lse + ">, memref<" + lse +
         ">) -> ()\n"
         "  return\n}\n";
}

template <typename T, int N>
StridedMemRefType<T, N> descriptor(T *data, const int64_t (&shape)[N]) {
  StridedMemRefType<T, N> d;
  d.basePtr = d.data = data;
  d.offset = 0;
  int64_t stride = 1;
  for (int i = N - 1; i >= 0; --i) {
    d.sizes[i] = shape[i];
    d.strides[i] = stride;
    stride *= shape[i];
  }
  return d;
}

struct Merged {
  std::vector<double> out, lse;
};

/// Runs the compiled merge; the output is returned widened to double.
Merged runMerge(const std::string &outType, const std::vector<float> &parts,
                const std::vector<float> &partLse) {
  DialectRegistry registry;
  attn::registerAllDialects(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  MLIRContext context(registry);
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(mergeModule(outType), &context);
  EXPECT_TRUE(module);
  if (!module)
    return {};
  PassManager pm(&context);
  attn::AttnToHostOptions options;
  options.tileQ = 16;
  options.vectorWidth = 8;
  options.numThreads = 1;
  attn::buildAttnToHostPipeline(pm, options);
  EXPECT_TRUE(succeeded(pm.run(*module)));
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto engine = ExecutionEngine::create(*module);
  EXPECT_TRUE(static_cast<bool>(engine));
  if (!engine) {
    llvm::consumeError(engine.takeError());
    return {};
  }
  std::vector<float> p = parts, pl = partLse;
  std::vector<float> lse(kHeads * kRows, 7.0f);
  std::vector<float> out32(kHeads * kRows * kDim, 7.0f);
  std::vector<uint16_t> out16(kHeads * kRows * kDim, 0x7e00);
  auto po = descriptor<float, 5>(p.data(), {kParts, 1, kHeads, kRows, kDim});
  auto plD = descriptor<float, 4>(pl.data(), {kParts, 1, kHeads, kRows});
  auto lD = descriptor<float, 3>(lse.data(), {1, kHeads, kRows});
  auto o32 = descriptor<float, 4>(out32.data(), {1, kHeads, kRows, kDim});
  auto o16 = descriptor<uint16_t, 4>(out16.data(), {1, kHeads, kRows, kDim});
  void *poPtr = &po, *plPtr = &plD, *lPtr = &lD;
  void *oPtr = outType == "f32" ? static_cast<void *>(&o32) : &o16;
  void *args[] = {&poPtr, &plPtr, &oPtr, &lPtr};
  llvm::Error error = (*engine)->invokePacked("_mlir_ciface_merge", args);
  EXPECT_FALSE(error) << llvm::toString(std::move(error));
  Merged merged;
  for (size_t i = 0; i < out32.size(); ++i)
    merged.out.push_back(outType == "f32" ? out32[i]
                                          : attn_test::fromF16Bits(out16[i]));
  merged.lse.assign(lse.begin(), lse.end());
  return merged;
}

/// The test's attention: per (head, row), kParts disjoint key ranges of 8
/// keys each; scores and values are random, and some ranges keep nothing.
struct Problem {
  std::vector<float> parts, partLse;
  Merged exact; // the f64 attention over all kept keys
};

Problem makeProblem() {
  constexpr int64_t kKeys = 8;
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  Problem p;
  p.parts.assign(kParts * kHeads * kRows * kDim, 0.0f);
  p.partLse.assign(kParts * kHeads * kRows, 0.0f);
  p.exact.out.assign(kHeads * kRows * kDim, 0.0);
  p.exact.lse.assign(kHeads * kRows, 0.0);
  for (int64_t h = 0; h < kHeads; ++h)
    for (int64_t r = 0; r < kRows; ++r) {
      int64_t row = h * kRows + r;
      // Score offsets per part: ordinary rows; rows where part 1 is far
      // above the others (exp of the difference underflows in f32); a row
      // where part 0 kept nothing; a row where no part kept anything.
      double shift[kParts] = {0.0, 0.0, 0.0};
      bool kept[kParts] = {true, true, true};
      if (r % 10 == 3)
        shift[1] = 200.0;
      if (r % 10 == 5)
        kept[0] = false;
      if (r == 7)
        kept[0] = kept[1] = kept[2] = false;
      double all = -kInf;
      std::vector<double> s(kParts * kKeys), v(kParts * kKeys * kDim);
      for (int64_t q = 0; q < kParts; ++q)
        for (int64_t j = 0; j < kKeys; ++j) {
          s[q * kKeys + j] = 3.0 * uniform(rng) + shift[q];
          for (int64_t d = 0; d < kDim; ++d)
            v[(q * kKeys + j) * kDim + d] = uniform(rng);
          if (kept[q])
            all = std::max(all, s[q * kKeys + j]);
        }
      double total = 0;
      std::vector<double> acc(kDim, 0.0);
      for (int64_t q = 0; q < kParts; ++q) {
        int64_t at = (q * kHeads + h) * kRows + r;
        if (!kept[q]) {
          p.partLse[at] = -std::numeric_limits<float>::infinity();
          continue; // its output is whatever the part wrote: 0 here
        }
        double m = -kInf;
        for (int64_t j = 0; j < kKeys; ++j)
          m = std::max(m, s[q * kKeys + j]);
        double l = 0;
        std::vector<double> o(kDim, 0.0);
        for (int64_t j = 0; j < kKeys; ++j) {
          double w = std::exp(s[q * kKeys + j] - m);
          l += w;
          total += std::exp(s[q * kKeys + j] - all);
          for (int64_t d = 0; d < kDim; ++d) {
            o[d] += w * v[(q * kKeys + j) * kDim + d];
            acc[d] += std::exp(s[q * kKeys + j] - all) *
                      v[(q * kKeys + j) * kDim + d];
          }
        }
        p.partLse[at] = static_cast<float>(m + std::log(l));
        for (int64_t d = 0; d < kDim; ++d)
          p.parts[at * kDim + d] = static_cast<float>(o[d] / l);
      }
      p.exact.lse[row] = total > 0 ? all + std::log(total) : -kInf;
      for (int64_t d = 0; d < kDim; ++d)
        p.exact.out[row * kDim + d] = total > 0 ? acc[d] / total : 0.0;
    }
  return p;
}

void expectMerged(const Merged &got, const Merged &exact, double outTol) {
  ASSERT_EQ(got.out.size(), exact.out.size());
  ASSERT_EQ(got.lse.size(), exact.lse.size());
  double worstOut = 0, worstLse = 0;
  for (size_t i = 0; i < exact.out.size(); ++i) {
    ASSERT_FALSE(std::isnan(got.out[i])) << "output element " << i;
    worstOut = std::max(worstOut, std::abs(got.out[i] - exact.out[i]));
  }
  for (size_t i = 0; i < exact.lse.size(); ++i) {
    if (std::isinf(exact.lse[i])) {
      EXPECT_TRUE(std::isinf(got.lse[i]) && got.lse[i] < 0) << "row " << i;
      continue;
    }
    worstLse = std::max(worstLse, std::abs(got.lse[i] - exact.lse[i]) /
                                      std::max(1.0, std::abs(exact.lse[i])));
  }
  EXPECT_LE(worstOut, outTol);
  EXPECT_LE(worstLse, 1e-6);
}

TEST(HostMerge, F32MatchesF64) {
  Problem p = makeProblem();
  Merged got = runMerge("f32", p.parts, p.partLse);
  expectMerged(got, p.exact, 1e-6);
  // The row where every part kept nothing: O = 0 exactly.
  for (int64_t d = 0; d < kDim; ++d)
    EXPECT_EQ(got.out[7 * kDim + d], 0.0);
}

TEST(HostMerge, F16OutputMatchesF64) {
  Problem p = makeProblem();
  // f16 has 11 significant bits: |O| <= 1 rounds to within 2^-11.
  expectMerged(runMerge("f16", p.parts, p.partLse), p.exact, 1.0 / 2048);
}

} // namespace
