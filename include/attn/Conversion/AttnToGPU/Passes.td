//===- Passes.td - attn to GPU kernels ---------------------*- tablegen -*-===//

#ifndef ATTN_CONVERSION_ATTNTOGPU_PASSES_TD
#define ATTN_CONVERSION_ATTNTOGPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnTileToGPU : Pass<"attn-tile-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Outline tiled attentions into tensor-core GPU kernels";
  let description = [{
    Takes the tiled IR of `attn-tile`, bufferized (`attn-bufferize`: the
    tile ops on memrefs, the function on memref arguments). The kernel's
    configuration (`GpuKernelConfig`, docs/gpu.md "Kernel configurations")
    is the tile ops' `tile_q` x `tile_kv` with `warps` warps (the option;
    0: `defaultGpuWarps`), checked for the head dimensions and `chip`
    (rows per warp 16 or 32, the accumulators' register budget, shared
    memory per block); one that does not fit is refused with the reason.
    Each `scf.forall` over (batch, query head, query tile) holding
    `attn.tile_*` ops becomes a `gpu.func` in `gpu.module @attn_kernels`,
    launched by a `gpu.launch_func` over the grid (query tiles, query
    heads, batch) with 32 x warps threads per block. The forall body, with
    its block-sparse kv loop (band bounds or tile tables), is kept as is;
    the tile ops are expanded FlashAttention-2 style: each warp owns one
    or two 16-row slabs of the query tile (with two, each K and V fragment
    feeds two mma); Q, K and V tiles are staged in dynamic shared memory
    by `cp.async.cg` (rows past the sequence zero-filled; 16-byte chunks
    XOR swizzled against bank conflicts). K and V are pipelined across kv
    tiles with two block barriers per tile: V(j) is copied while QK^T(j)
    runs, and K of the tile the next iteration updates (recomputed from
    the loop's induction variable, tile tables included, when its guards
    hold) while softmax(j) and PV(j) run; fragments come from `ldmatrix`
    (V transposed); QK^T and PV run on `mma.sync m16n8k16` with f32
    accumulators; the online softmax keeps its state in registers, with row
    maxima and sums combined by warp shuffles; P is converted to the input
    type in registers for PV. A tile whose `full` flag is set runs without
    a mask (the kernel branches around the scoring only); other masked
    tiles apply it per fragment element through the same emitters as the host
    path (TileElements.h, Numerics.h); keys past the sequence end are
    masked. exp2 and log become `ex2.approx.ftz` and `lg2.approx`.

    The kernel carries its launch contract as attributes:
    `attn.gpu.grid`, `attn.gpu.block`, `attn.gpu.dynamic_shared_bytes` and
    `attn.gpu.params` (for each parameter, `argN` or `resultN` of the host
    function it stands for). Requires f16 or bf16 inputs, static shapes, and
    head dimensions that are multiples of 32 up to 256.
  }];
  let options = [
    Option<"warps", "warps", "int64_t", /*default=*/"0",
           "Warps per block (tile_q / warps query rows each: 16 or 32); "
           "0 chooses them">,
    Option<"qInRegisters", "q-in-registers", "bool", /*default=*/"false",
           "Keep Q's fragments in registers for the whole kv loop (with "
           "warps = 0, also where the table does)">,
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_80\"",
           "The chip the configuration is checked for (shared memory per "
           "block)">,
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::nvgpu::NVGPUDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::vector::VectorDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::arith::ArithDialect"
  ];
}

#endif // ATTN_CONVERSION_ATTNTOGPU_PASSES_TD
