//===- Registration.cpp - What the GPU lowering needs registered ----------===//
//
// convert-gpu-to-nvvm lowers arith, memref, control flow, math and index
// through their ConvertToLLVM interfaces; a registry without them leaves
// unrealized casts behind (DESIGN.md §8). One function registers them for
// attn-opt, the tests and the JIT.
//
//===----------------------------------------------------------------------===//

#include "attn/Target/Emulator/Passes.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"

void mlir::attn::registerGpuLoweringInterfaces(DialectRegistry &registry) {
  arith::registerConvertArithToLLVMInterface(registry);
  cf::registerConvertControlFlowToLLVMInterface(registry);
  registerConvertFuncToLLVMInterface(registry);
  index::registerConvertIndexToLLVMInterface(registry);
  registerConvertMathToLLVMInterface(registry);
  registerConvertMemRefToLLVMInterface(registry);
  registerConvertNVVMToLLVMInterface(registry);
  ub::registerConvertUBToLLVMInterface(registry);
}

#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

void mlir::attn::buildEmulateGpuPipeline(OpPassManager &pm) {
  // The lowering that precedes gpu-module-to-binary on the PTX path ...
  pm.addNestedPass<gpu::GPUModuleOp>(createSCFToControlFlowPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createConvertGpuOpsToNVVMOps());
  // ... then the emulation rewrite instead of PTX emission.
  pm.addPass(createAttnEmulateNVVM());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::attn::registerEmulateGpuPipeline() {
  PassPipelineRegistration<>(
      "attn-emulate-gpu",
      "Lower gpu.modules to NVVM as for PTX, then rewrite them for the "
      "emulator (host code calling the emulation runtime)",
      buildEmulateGpuPipeline);
}
