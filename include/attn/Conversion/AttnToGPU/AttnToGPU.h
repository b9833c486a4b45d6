//===- AttnToGPU.h - attn to tensor-core GPU kernels ------------*- C++ -*-===//
//
// attn-tile-to-gpu (Passes.td) and the attn-to-gpu pipeline: attn.attention
// through attn-tile (64 x 64 tiles) into gpu.func kernels launched by
// gpu.launch_func. The kernels then go through attn-lower-gpu-to-nvvm to
// PTX (lib/Target/PTX) or to the emulator (lib/Target/Emulator).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_ATTNTOGPU_ATTNTOGPU_H
#define ATTN_CONVERSION_ATTNTOGPU_ATTNTOGPU_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace mlir::attn {

/// The tile shape of one attention kernel. attn-tile chooses it; the
/// kernel emitter reads it from the tiled IR (attn.tile_update's tile_q
/// and tile_kv). Each warp owns 16 query rows.
struct GpuTileConfig {
  int64_t tileQ = 0, tileKV = 0;
  int64_t warps() const { return tileQ / 16; }
  int64_t threads() const { return 32 * warps(); }
  bool operator==(const GpuTileConfig &o) const {
    return tileQ == o.tileQ && tileKV == o.tileKV;
  }
};
/// The tile shapes the kernel emitter builds; the first is the default of
/// the attn-to-gpu pipeline.
ArrayRef<GpuTileConfig> supportedGpuTiles();
/// The supported tile shapes as text for diagnostics ("64 x 64").
std::string supportedGpuTilesText();
/// The occupancy the kernels are built for (.minnctapersm).
constexpr int64_t kGpuMinBlocksPerSM = 2;
/// The generation of the kernels attn-to-gpu emits: part of the JIT's
/// on-disk cache key. Bump it when the generated code changes.
constexpr int64_t kGpuCodeVersion = 5;

/// The gpu.module attribute holding the #attn.launch_contract of its
/// kernels.
constexpr llvm::StringLiteral kGpuLaunchContractAttr = "attn.launch_contract";

/// The contract attn-tile-to-gpu recorded on `gpuModule`, its kernels
/// checked against the module's gpu.funcs; fails with a diagnostic when
/// it is missing or does not match.
FailureOr<LaunchContractAttr> readLaunchContract(gpu::GPUModuleOp gpuModule);

/// attn-tile, with `tiles` (default: supportedGpuTiles().front()), then
/// attn-tile-to-gpu, which refuses tile shapes it has no kernel for.
void buildAttnToGpuPipeline(OpPassManager &pm,
                            std::optional<GpuTileConfig> tiles = {});
/// The `attn-to-gpu` pipeline's options: the tile shape.
struct AttnToGpuOptions : TileSizePipelineOptions<AttnToGpuOptions> {};

/// Registers the `attn-to-gpu` pipeline (registerAttnToGPUPasses()
/// registers the pass).
void registerAttnToGpuPipeline();

#define GEN_PASS_DECL
#include "attn/Conversion/AttnToGPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "attn/Conversion/AttnToGPU/Passes.h.inc"

} // namespace mlir::attn

#endif // ATTN_CONVERSION_ATTNTOGPU_ATTNTOGPU_H
