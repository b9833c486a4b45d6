//===- LowerKernelsToNVVM.cpp - Kernels to LLVM/NVVM in one conversion ----===//
//
// The lowering shared by PTX emission and the emulator. It composes the
// upstream pattern sets that attn-bf16-mma-to-nvvm, convert-nvgpu-to-nvvm,
// convert-scf-to-cf and convert-gpu-to-nvvm apply one after the other into
// one dialect conversion: the conversion's walk, its bookkeeping and the
// greedy pre-pass of convert-gpu-to-nvvm (which folds every op of the
// module) were about half of the lowering's time on an attention kernel.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/GPUToNVVM/GPUToNVVM.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ConvertToLLVM/ToLLVMInterface.h"
#include "mlir/Conversion/ConvertToLLVM/ToLLVMPass.h"
#include "mlir/Conversion/GPUCommon/GPUCommonPass.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/LLVMCommon/ConversionTarget.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Conversion/NVGPUToNVVM/NVGPUToNVVM.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/Transforms/Transforms.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNLOWERKERNELSTONVVM
#include "attn/Conversion/GPUToNVVM/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

class LowerKernelsToNVVMPass final
    : public attn::impl::AttnLowerKernelsToNVVMBase<LowerKernelsToNVVMPass> {
public:
  using AttnLowerKernelsToNVVMBase::AttnLowerKernelsToNVVMBase;

  void getDependentDialects(DialectRegistry &registry) const override {
    AttnLowerKernelsToNVVMBase::getDependentDialects(registry);
    registerConvertToLLVMDependentDialectLoading(registry);
  }

  void runOnOperation() override {
    gpu::GPUModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();

    // bf16 mma.sync, which convert-nvgpu-to-nvvm cannot type.
    SmallVector<Operation *> mmas;
    module.walk([&](nvgpu::MmaSyncOp op) { mmas.push_back(op); });
    for (Operation *op : mmas)
      if (failed(attn::rewriteBf16MmaSync(op)))
        return signalPassFailure();

    // The in-dialect rewrites convert-gpu-to-nvvm applies first, on the
    // ops they are for: GPU ops with a GPU-level expansion (all-reduce,
    // global ids, wide shuffles) and N-D vector.from_elements, which the
    // vector lowering takes in 1-D only; and what finalize-memref-to-llvm
    // needs expanded first: subviews (a query tile's output rows) and the
    // tile copies' flattened tensors into
    // offset arithmetic (expand-strided-metadata, lower-affine).
    SmallVector<Operation *> rewritten;
    module.walk([&](Operation *op) {
      auto fromElements = dyn_cast<vector::FromElementsOp>(op);
      if ((fromElements && fromElements.getType().getRank() > 1) ||
          isa<memref::SubViewOp, memref::CollapseShapeOp>(op) ||
          (isa<gpu::GPUDialect>(op->getDialect()) &&
           !isa<gpu::GPUFuncOp, gpu::ReturnOp, gpu::BarrierOp, gpu::ThreadIdOp,
                gpu::BlockIdOp, gpu::DynamicSharedMemoryOp>(op)))
        rewritten.push_back(op);
    });
    if (!rewritten.empty()) {
      RewritePatternSet patterns(ctx);
      populateGpuRewritePatterns(patterns);
      vector::populateVectorFromElementsUnrollPatterns(patterns);
      memref::populateExpandStridedMetadataPatterns(patterns);
      populateAffineToStdConversionPatterns(patterns);
      GreedyRewriteConfig config;
      config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
      if (failed(
              applyOpPatternsGreedily(rewritten, std::move(patterns), config)))
        return signalPassFailure();
    }

    // One conversion: the type conversions of convert-gpu-to-nvvm and
    // convert-nvgpu-to-nvvm, and all four passes' patterns.
    LowerToLLVMOptions options(
        ctx, DataLayout(cast<DataLayoutOpInterface>(module.getOperation())));
    LLVMTypeConverter converter(ctx, options);
    configureGpuToNVVMTypeConverter(converter);
    converter.addConversion([&](nvgpu::DeviceAsyncTokenType type) -> Type {
      return converter.convertType(IntegerType::get(type.getContext(), 32));
    });
    converter.addConversion([&](nvgpu::MBarrierTokenType type) -> Type {
      return converter.convertType(IntegerType::get(type.getContext(), 64));
    });
    RewritePatternSet patterns(ctx);
    LLVMConversionTarget target(*ctx);
    // As convert-gpu-to-nvvm: its patterns first, then every loaded
    // dialect's ConvertToLLVM patterns but math's (libdevice instead).
    populateGpuToNVVMConversionPatterns(converter, patterns, /*benefit=*/10);
    for (Dialect *dialect : ctx->getLoadedDialects()) {
      if (isa<math::MathDialect>(dialect))
        continue;
      if (auto *iface = dyn_cast<ConvertToLLVMPatternInterface>(dialect))
        iface->populateConvertToLLVMConversionPatterns(target, converter,
                                                       patterns);
    }
    populateNVGPUToNVVMConversionPatterns(converter, patterns);
    populateSCFToControlFlowConversionPatterns(patterns);
    configureGpuToNVVMConversionLegality(target);
    target.addIllegalDialect<nvgpu::NVGPUDialect, scf::SCFDialect>();
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();
    declareDynamicSharedMemory(module);
  }

  /// gpu.dynamic_shared_memory lowers to a zero-sized addrspace(3) global
  /// with internal linkage, which NVPTX emits as a 1-byte static `.shared`
  /// array: static + dynamic then exceeds 48 KiB for a kernel that asks
  /// for exactly 48 KiB, and the launch needs the opt-in. As an external
  /// declaration it is CUDA's `extern __shared__` array, `.extern .shared`
  /// in PTX, and takes no static space.
  static void declareDynamicSharedMemory(gpu::GPUModuleOp module) {
    for (auto global : module.getOps<LLVM::GlobalOp>()) {
      auto array = dyn_cast<LLVM::LLVMArrayType>(global.getGlobalType());
      if (global.getAddrSpace() != 3 || !array || array.getNumElements() != 0)
        continue;
      global.setLinkage(LLVM::Linkage::External);
      global.removeValueAttr();
    }
  }
};

} // namespace
