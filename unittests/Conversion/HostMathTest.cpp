//===- HostMathTest.cpp - The host kernels' exp2 against f64 --------------===//
//
// The host tile kernels' exponential is upstream's: attn-approximate-math
// expands exp2(x) into exp(x ln 2) and exp into its polynomial. This test
// JIT-compiles it on vectors, as the tile kernels use it, and measures it
// against the f64 exp2 over the range the online softmax feeds it
// (x = score - running max <= 0), so that the bound docs/design.md states
// is a measured one.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/Support/TargetSelect.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

using namespace mlir;

namespace {

constexpr int64_t kCount = 1 << 16;

/// exp2 of 16 lanes at a time over memref<kCount x f32>.
constexpr const char *kModule = R"mlir(
func.func @exp2v(%x: memref<65536xf32>, %y: memref<65536xf32>)
    attributes {llvm.emit_c_interface} {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %n = arith.constant 65536 : index
  scf.for %i = %c0 to %n step %c16 {
    %v = vector.load %x[%i] : memref<65536xf32>, vector<16xf32>
    %e = math.exp2 %v : vector<16xf32>
    vector.store %e, %y[%i] : memref<65536xf32>, vector<16xf32>
  }
  return
}
)mlir";

struct Descriptor {
  float *allocated, *aligned;
  int64_t offset, size, stride;
};

/// Runs the approximated exp2 over `x`.
std::vector<float> approximateExp2(const std::vector<float> &x) {
  DialectRegistry registry;
  registry
      .insert<arith::ArithDialect, func::FuncDialect, math::MathDialect,
              memref::MemRefDialect, scf::SCFDialect, vector::VectorDialect>();
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  MLIRContext context(registry);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(kModule, &context);
  EXPECT_TRUE(module);
  PassManager pm(&context);
  pm.addPass(attn::createAttnApproximateMath());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  EXPECT_TRUE(succeeded(pm.run(*module)));
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  std::function<llvm::Error(llvm::Module *)> optimize =
      makeOptimizingTransformer(3, 0, nullptr);
  ExecutionEngineOptions options;
  options.transformer = optimize;
  auto engine = ExecutionEngine::create(*module, options);
  EXPECT_TRUE(static_cast<bool>(engine));
  std::vector<float> y(x.size());
  Descriptor in{const_cast<float *>(x.data()), const_cast<float *>(x.data()), 0,
                kCount, 1};
  Descriptor out{y.data(), y.data(), 0, kCount, 1};
  Descriptor *inPtr = &in, *outPtr = &out;
  void *args[] = {&inPtr, &outPtr};
  llvm::Error error = (*engine)->invokePacked("_mlir_ciface_exp2v", args);
  EXPECT_FALSE(error) << llvm::toString(std::move(error));
  return y;
}

TEST(HostMath, Exp2Bound) {
  // x from -126 to 0 (where exp2 is normal), plus the special points.
  std::vector<float> x(kCount);
  for (int64_t n = 0; n < kCount - 4; ++n)
    x[n] = static_cast<float>(-126.0 * n / (kCount - 5));
  x[kCount - 4] = -std::numeric_limits<float>::infinity();
  x[kCount - 3] = 0.0f;
  x[kCount - 2] = -150.0f; // below the normals: flushed to 0
  x[kCount - 1] = -1e-7f;
  std::vector<float> y = approximateExp2(x);
  // The bound: x ln 2 is rounded once before the polynomial, so the
  // relative error grows with |x|: |y - 2^x| <= (3e-7 + 5e-8 |x|) 2^x. For
  // the softmax what counts is the absolute error, at most 1e-7 (measured
  // 4.9e-8; 2^x |x| <= 0.54 for x <= 0),
  // against a row sum of at least 1 (the maximum's own term).
  double worstExcess = 0, worstAt = 0, worstAbs = 0, worstRel = 0;
  for (int64_t n = 0; n < kCount - 4; ++n) {
    double exact = std::exp2(static_cast<double>(x[n]));
    double err = std::abs(y[n] - exact);
    double bound = (3e-7 + 5e-8 * std::abs(x[n])) * exact;
    if (err / bound > worstExcess) {
      worstExcess = err / bound;
      worstAt = x[n];
    }
    worstAbs = std::max(worstAbs, err);
    worstRel = std::max(worstRel, err / exact);
  }
  EXPECT_LE(worstExcess, 1.0) << "at x = " << worstAt;
  EXPECT_LE(worstAbs, 1e-7); // measured 4.9e-8
  if (getenv("ATTN_TEST_VERBOSE"))
    fprintf(stderr,
            "exp2: worst error %.3g of the bound at x = %.6g; worst "
            "absolute %.3g, worst relative %.3g\n",
            worstExcess, worstAt, worstAbs, worstRel);
  EXPECT_EQ(y[kCount - 4], 0.0f) << "exp2(-inf) must be exactly 0";
  EXPECT_EQ(y[kCount - 3], 1.0f);
  EXPECT_EQ(y[kCount - 2], 0.0f);
  EXPECT_NEAR(y[kCount - 1], 1.0f, 2e-7f);
}

} // namespace
