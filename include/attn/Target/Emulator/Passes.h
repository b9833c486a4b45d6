//===- Passes.h - The emulation target --------------------------*- C++ -*-===//
//
// The attn-emulate-nvvm pass (Passes.td) and the name of the module
// attribute that carries the static shared-memory size.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TARGET_EMULATOR_PASSES_H
#define ATTN_TARGET_EMULATOR_PASSES_H

#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace mlir {
class ExecutionEngine;
} // namespace mlir

namespace mlir::attn {

/// Module attribute: bytes of static shared memory per block.
constexpr llvm::StringLiteral kEmuStaticSharedAttr =
    "attn.emu.static_shared_bytes";

/// Registers the dialects that GPU kernels are written in (gpu, nvgpu,
/// nvvm, arith, memref, scf, cf, math, index, vector) and the ConvertToLLVM
/// interfaces that convert-gpu-to-nvvm needs for them.
void registerGpuLoweringInterfaces(DialectRegistry &registry);

/// Registers the emulation runtime's functions (emu::runtimeSymbols) with
/// a JIT, so that rewritten kernels link against them.
void registerEmulatorSymbols(ExecutionEngine &engine);

/// Rewrites one nvgpu.mma.sync with bf16 multiplicands into nvvm.mma.sync
/// (attn-bf16-mma-to-nvvm); others are left alone.
LogicalResult rewriteBf16MmaSync(Operation *mmaSync);

/// attn-lower-kernels-to-nvvm on every gpu.module, then
/// reconcile-unrealized-casts: the IR that PTX emission and the emulator
/// both take.
void buildLowerGpuToNVVMPipeline(OpPassManager &pm);
/// That lowering, then attn-emulate-nvvm and reconcile-unrealized-casts.
void buildEmulateGpuPipeline(OpPassManager &pm);
/// Registers both pipelines (`attn-lower-gpu-to-nvvm`, `attn-emulate-gpu`).
void registerEmulateGpuPipeline();

#define GEN_PASS_DECL
#include "attn/Target/Emulator/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "attn/Target/Emulator/Passes.h.inc"

} // namespace mlir::attn

#endif // ATTN_TARGET_EMULATOR_PASSES_H
