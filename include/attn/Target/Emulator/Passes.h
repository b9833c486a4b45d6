//===- Passes.h - The emulation target --------------------------*- C++ -*-===//
//
// The attn-emulate-nvvm pass (Passes.td), the attn-emulate-gpu pipeline
// and the name of the module attribute that carries the static
// shared-memory size. The NVVM lowering before it is
// lib/Conversion/GPUToNVVM's.
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

/// Registers the emulation runtime's functions (emu::runtimeSymbols) with
/// a JIT, so that rewritten kernels link against them.
void registerEmulatorSymbols(ExecutionEngine &engine);

/// attn-lower-gpu-to-nvvm (GPUToNVVM.h), then attn-emulate-nvvm and
/// reconcile-unrealized-casts.
void buildEmulateGpuPipeline(OpPassManager &pm);
/// Registers it as `attn-emulate-gpu`.
void registerEmulateGpuPipeline();

#define GEN_PASS_DECL
#include "attn/Target/Emulator/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "attn/Target/Emulator/Passes.h.inc"

} // namespace mlir::attn

#endif // ATTN_TARGET_EMULATOR_PASSES_H
