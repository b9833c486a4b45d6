//===- Passes.td - attn to GPU kernels ---------------------*- tablegen -*-===//

#ifndef ATTN_CONVERSION_ATTNTOGPU_PASSES_TD
#define ATTN_CONVERSION_ATTNTOGPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnTileToGPU : Pass<"attn-tile-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Outline tiled attentions into tensor-core GPU kernels";
  let description = [{
    Takes the tiled IR of `attn-tile`, bufferized (`attn-bufferize`: the
    tile ops on memrefs, the function on memref arguments), with a tile
    shape the kernels are
    built for (`tile_q` x `tile_kv` of the tile ops; today 64 x 64, any
    other is refused with the supported list): each
    `scf.forall` over (batch, query head, query tile) holding `attn.tile_*`
    ops becomes a `gpu.func` in `gpu.module @attn_kernels`, launched by a
    `gpu.launch_func` over the grid (query tiles, query heads, batch) with
    128 threads (4 warps) per block. The forall body, with its block-sparse
    kv loop (band bounds or tile tables), is kept as is; the tile ops are
    expanded FlashAttention-2 style: each warp owns 16 rows of the 64-row
    query tile; Q, K and V tiles are staged in dynamic shared memory by
    `cp.async` (rows past the sequence zero-filled; 16-byte chunks XOR
    swizzled against bank conflicts), K and V in separate groups so that
    the V copy overlaps QK^T; fragments come from `ldmatrix` (V
    transposed); QK^T and PV run on `mma.sync m16n8k16` with f32
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
    head dimensions that are multiples of 64.
  }];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::nvgpu::NVGPUDialect",
    "::mlir::vector::VectorDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::arith::ArithDialect"
  ];
}

#endif // ATTN_CONVERSION_ATTNTOGPU_PASSES_TD
