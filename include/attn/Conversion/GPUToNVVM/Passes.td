//===- Passes.td - GPU kernels to LLVM + NVVM --------------*- tablegen -*-===//
//
// The lowering of attn's gpu.func kernels to the LLVM and NVVM dialects:
// the IR that PTX emission (lib/Target/PTX) and the emulator
// (lib/Target/Emulator) both take.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_GPUTONVVM_PASSES_TD
#define ATTN_CONVERSION_GPUTONVVM_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnBf16MmaToNVVM : Pass<"attn-bf16-mma-to-nvvm"> {
  let summary = "Lower bf16 nvgpu.mma.sync to nvvm.mma.sync";
  let description = [{
    `convert-nvgpu-to-nvvm` (MLIR 22) cannot deduce the PTX types of an
    `nvgpu.mma.sync` with bf16 multiplicands. This pass (also the first
    step of `attn-lower-kernels-to-nvvm`) rewrites such an op (shapes
    m16n8k16 and m16n8k8, f32 accumulators) into `nvvm.mma.sync` with its
    A and B registers as `i32` (two bf16 each, as `ldmatrix` delivers them)
    and `multiplicandAPtxType`/`multiplicandBPtxType = bf16`: PTX's
    `mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32`.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::vector::VectorDialect"];
}

def AttnLowerKernelsToNVVM
    : Pass<"attn-lower-kernels-to-nvvm", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Lower a gpu.module's kernels to the LLVM and NVVM dialects "
                "in one dialect conversion";
  let description = [{
    What `attn-bf16-mma-to-nvvm`, `convert-nvgpu-to-nvvm`,
    `convert-scf-to-cf` and `convert-gpu-to-nvvm` do in sequence, in one
    `applyPartialConversion` with the union of their patterns (the same
    upstream pattern sets: GPU to NVVM with libdevice math, NVGPU to NVVM,
    SCF to CF, and the ConvertToLLVM interfaces of the loaded dialects).
    The in-dialect rewrites that `convert-gpu-to-nvvm` applies greedily to
    the whole module (GPU rewrites, N-D `vector.from_elements` unrolling)
    are applied to the ops they concern only. One walk of the IR instead
    of four, and no greedy folding of every op: the kernels' IR arrives
    without foldable ops, and LLVM folds what remains.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::cf::ControlFlowDialect",
                           "::mlir::vector::VectorDialect"];
}

#endif // ATTN_CONVERSION_GPUTONVVM_PASSES_TD
