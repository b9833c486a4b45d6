//===- Passes.h - The emulation target --------------------------*- C++ -*-===//
//
// The attn-emulate-nvvm pass (Passes.td) and the name of the module
// attribute that carries the static shared-memory size.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TARGET_EMULATOR_PASSES_H
#define ATTN_TARGET_EMULATOR_PASSES_H

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace mlir::attn {

/// Module attribute: bytes of static shared memory per block.
constexpr llvm::StringLiteral kEmuStaticSharedAttr =
    "attn.emu.static_shared_bytes";

/// Registers the ConvertToLLVM interfaces that convert-gpu-to-nvvm needs
/// for the dialects inside kernels (arith, memref, cf, math, index, ...).
void registerGpuLoweringInterfaces(DialectRegistry &registry);

/// scf-to-cf and convert-gpu-to-nvvm on every gpu.module (the PTX path's
/// lowering), then attn-emulate-nvvm and reconcile-unrealized-casts.
void buildEmulateGpuPipeline(OpPassManager &pm);
/// Registers that pipeline as `attn-emulate-gpu`.
void registerEmulateGpuPipeline();

#define GEN_PASS_DECL
#include "attn/Target/Emulator/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "attn/Target/Emulator/Passes.h.inc"

} // namespace mlir::attn

#endif // ATTN_TARGET_EMULATOR_PASSES_H
