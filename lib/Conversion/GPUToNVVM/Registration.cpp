//===- Registration.cpp - The GPU lowering's registrations and pipeline ---===//
//
// convert-gpu-to-nvvm lowers arith, memref, control flow, math and index
// through their ConvertToLLVM interfaces; a registry without them leaves
// unrealized casts behind (DESIGN.md §8). One function registers them for
// attn-opt, the tests and the JIT (through attn/InitAll.h). Also the
// attn-lower-gpu-to-nvvm pipeline.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/GPUToNVVM/GPUToNVVM.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVM.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/PassRegistry.h"

void mlir::attn::registerGpuLoweringInterfaces(DialectRegistry &registry) {
  registry.insert<arith::ArithDialect, cf::ControlFlowDialect, gpu::GPUDialect,
                  index::IndexDialect, LLVM::LLVMDialect, math::MathDialect,
                  memref::MemRefDialect, nvgpu::NVGPUDialect, NVVM::NVVMDialect,
                  scf::SCFDialect, vector::VectorDialect>();
  arith::registerConvertArithToLLVMInterface(registry);
  cf::registerConvertControlFlowToLLVMInterface(registry);
  registerConvertFuncToLLVMInterface(registry);
  index::registerConvertIndexToLLVMInterface(registry);
  registerConvertMathToLLVMInterface(registry);
  registerConvertMemRefToLLVMInterface(registry);
  registerConvertNVVMToLLVMInterface(registry);
  ub::registerConvertUBToLLVMInterface(registry);
  vector::registerConvertVectorToLLVMInterface(registry);
}

void mlir::attn::buildLowerGpuToNVVMPipeline(OpPassManager &pm) {
  pm.addNestedPass<gpu::GPUModuleOp>(createAttnLowerKernelsToNVVM());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::attn::registerLowerGpuToNVVMPipeline() {
  PassPipelineRegistration<>(
      "attn-lower-gpu-to-nvvm",
      "Lower gpu.modules to the LLVM and NVVM dialects "
      "(attn-lower-kernels-to-nvvm, reconcile-unrealized-casts): the IR that "
      "both PTX emission and the emulator take",
      buildLowerGpuToNVVMPipeline);
}
