//===- GPUToNVVM.h - attn's GPU kernels to LLVM + NVVM ----------*- C++ -*-===//
//
// attn-lower-kernels-to-nvvm and attn-bf16-mma-to-nvvm (Passes.td), the
// attn-lower-gpu-to-nvvm pipeline, and the dialect interfaces the
// lowering needs: the step after attn-tile-to-gpu that PTX emission
// (lib/Target/PTX) and the emulator (lib/Target/Emulator) share.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_GPUTONVVM_GPUTONVVM_H
#define ATTN_CONVERSION_GPUTONVVM_GPUTONVVM_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace mlir::attn {

/// Registers the dialects that GPU kernels are written in (gpu, nvgpu,
/// nvvm, arith, memref, scf, cf, math, index, vector) and the ConvertToLLVM
/// interfaces that convert-gpu-to-nvvm needs for them.
void registerGpuLoweringInterfaces(DialectRegistry &registry);

/// Rewrites one nvgpu.mma.sync with bf16 multiplicands into nvvm.mma.sync
/// (attn-bf16-mma-to-nvvm); others are left alone.
LogicalResult rewriteBf16MmaSync(Operation *mmaSync);

/// attn-lower-kernels-to-nvvm on every gpu.module, then
/// reconcile-unrealized-casts: the IR that PTX emission and the emulator
/// both take.
void buildLowerGpuToNVVMPipeline(OpPassManager &pm);
/// Registers that pipeline as `attn-lower-gpu-to-nvvm`.
void registerLowerGpuToNVVMPipeline();

#define GEN_PASS_DECL
#include "attn/Conversion/GPUToNVVM/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "attn/Conversion/GPUToNVVM/Passes.h.inc"

} // namespace mlir::attn

#endif // ATTN_CONVERSION_GPUTONVVM_GPUTONVVM_H
