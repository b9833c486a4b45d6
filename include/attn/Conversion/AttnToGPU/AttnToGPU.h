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
constexpr int64_t kGpuCodeVersion = 3;

/// Kernel attributes: the launch contract.
constexpr llvm::StringLiteral kGpuGridAttr = "attn.gpu.grid";
constexpr llvm::StringLiteral kGpuBlockAttr = "attn.gpu.block";
constexpr llvm::StringLiteral kGpuSharedAttr = "attn.gpu.dynamic_shared_bytes";
constexpr llvm::StringLiteral kGpuParamsAttr = "attn.gpu.params";
/// GPU module attributes: the kernels in launch order, and the byte sizes
/// of the temporaries (params `tempN`) the launcher allocates.
constexpr llvm::StringLiteral kGpuLaunchOrderAttr = "attn.gpu.launch_order";
constexpr llvm::StringLiteral kGpuTempBytesAttr = "attn.gpu.temp_bytes";
constexpr llvm::StringLiteral kGpuTempShapesAttr = "attn.gpu.temp_shapes";

/// One kernel's launch contract, read from its attributes.
struct KernelContract {
  std::string name;
  int64_t grid[3] = {1, 1, 1};
  int64_t block[3] = {1, 1, 1};
  int64_t dynamicSharedBytes = 0;
  /// Per parameter: `argN` (host function argument N), `resultN`, or
  /// `tempN` (a temporary of tempBytes[N] bytes the launcher allocates).
  SmallVector<std::string> params;
};
/// A GPU module's kernels in launch order and its temporaries.
struct ModuleContract {
  SmallVector<KernelContract> kernels;
  SmallVector<int64_t> tempBytes;
  SmallVector<SmallVector<int64_t>> tempShapes; // memref shapes
};
/// Reads the contract attn-tile-to-gpu recorded on `gpuModule`; fails with
/// a diagnostic when it is missing or malformed.
FailureOr<ModuleContract> readLaunchContract(gpu::GPUModuleOp gpuModule);

/// attn-tile, with `tiles` (default: supportedGpuTiles().front()), then
/// attn-tile-to-gpu, which refuses tile shapes it has no kernel for.
void buildAttnToGpuPipeline(OpPassManager &pm,
                            std::optional<GpuTileConfig> tiles = {});
/// Registers the `attn-to-gpu` pipeline (registerAttnToGPUPasses()
/// registers the pass).
void registerAttnToGpuPipeline();

#define GEN_PASS_DECL
#include "attn/Conversion/AttnToGPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "attn/Conversion/AttnToGPU/Passes.h.inc"

} // namespace mlir::attn

#endif // ATTN_CONVERSION_ATTNTOGPU_ATTNTOGPU_H
