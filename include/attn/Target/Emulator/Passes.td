//===- Passes.td - The emulation target --------------------*- tablegen -*-===//
//
// Rewrites the NVVM-level IR of GPU kernels for the host, so that the very
// IR that becomes PTX also runs on the CPU through the emulation runtime.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TARGET_EMULATOR_PASSES_TD
#define ATTN_TARGET_EMULATOR_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnEmulateNVVM : Pass<"attn-emulate-nvvm", "::mlir::ModuleOp"> {
  let summary = "Rewrite NVVM kernels into host code calling the emulator";
  let description = [{
    Takes the `gpu.module`s of a module after `convert-gpu-to-nvvm` (the
    LLVM + NVVM dialect IR that `gpu-module-to-binary` turns into PTX) and
    moves their functions into the host module, with every NVVM operation
    replaced by a call into the emulation runtime (`emulator/`): special
    registers (`attn_emu_tid`, ...), `barrier0`, `shfl.sync`. Shared-memory
    globals (address space 3) become offsets into a per-block buffer that
    the runtime provides; their total size is recorded in the module
    attribute `attn.emu.static_shared_bytes`. An NVVM operation without an
    emulation is an error naming it.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // ATTN_TARGET_EMULATOR_PASSES_TD
