//===- AttnToGPU.h - attn to tensor-core GPU kernels ------------*- C++ -*-===//
//
// attn-tile-to-gpu (Passes.td) and the attn-to-gpu pipeline: attn.attention
// through attn-tile (tiles of a GpuKernelConfig) into gpu.func kernels launched
// by gpu.launch_func. The kernels then go through attn-lower-gpu-to-nvvm to PTX
// (lib/Target/PTX) or to the emulator (lib/Target/Emulator).
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

/// How one attention kernel is shaped, as FlashAttention-2's kernel traits
/// (csrc/flash_attn/src/kernel_traits.h): tile_q query rows per block,
/// tile_kv keys per kv tile, and `warps` warps, each owning tile_q / warps
/// query rows: one m16 slab (16 rows) or two (32 rows, so that every K and
/// V fragment a warp loads feeds two mma); with `qInRegisters`, each warp
/// loads its Q fragments once per block instead of once per kv tile.
/// attn-tile builds the tiled IR with tile_q x tile_kv; attn-tile-to-gpu
/// reads them from the tile ops and takes the warps and the Q placement as
/// options. Written "128x64w4", "128x32w4q" with Q in registers.
struct GpuKernelConfig {
  int64_t tileQ = 0, tileKV = 0, warps = 0;
  bool qInRegisters = false;
  int64_t threads() const { return 32 * warps; }
  int64_t rowsPerWarp() const { return warps > 0 ? tileQ / warps : 0; }
  int64_t slabs() const { return rowsPerWarp() / 16; }
  /// The blocks per SM the kernel is built for (.minnctapersm): two of
  /// four warps leave ptxas 255 registers per thread, as does one of
  /// eight.
  int64_t minBlocksPerSM() const { return warps <= 4 ? 2 : 1; }
  /// Dynamic shared memory: the Q, K and V tiles.
  int64_t sharedBytes(int64_t headDimQK, int64_t headDimV) const {
    return (tileQ * headDimQK + tileKV * (headDimQK + headDimV)) * 2;
  }
  /// f32 accumulator registers per thread: S (tile_kv / 2 per slab) and O
  /// (head_dim_v / 2 per slab).
  int64_t accumulatorRegisters(int64_t headDimV) const {
    return slabs() * (tileKV + headDimV) / 2;
  }
  /// 32-bit registers per thread holding Q's A fragments (qInRegisters):
  /// four per slab and k16 step.
  int64_t queryRegisters(int64_t headDimQK) const {
    return qInRegisters ? slabs() * headDimQK / 4 : 0;
  }
  std::string str() const;
  bool operator==(const GpuKernelConfig &o) const {
    return tileQ == o.tileQ && tileKV == o.tileKV && warps == o.warps &&
           qInRegisters == o.qInRegisters;
  }
};

/// "128x64w4", "128x64" with warps = 0 (chosen by defaultGpuWarps), each
/// with an optional "q" (Q in registers).
std::optional<GpuKernelConfig> parseGpuKernelConfig(StringRef text);
/// What parseGpuKernelConfig takes, for the diagnostics of every front end
/// ("'TEXT' is not " + this).
constexpr llvm::StringLiteral kGpuKernelConfigSyntax =
    "tile_q x tile_kv with optional warps and q (\"128x64w4\", "
    "\"128x32w4q\", \"128x64\")";

/// The table (docs/gpu.md, "Kernel configurations"), by the larger head
/// dimension, after FlashAttention-2's on A100 and H100 (sm_80, sm_90).
GpuKernelConfig defaultGpuKernelConfig(int64_t headDimQK, int64_t headDimV,
                                       StringRef chip);
/// The warps for a tile shape given without them: the table's where its
/// tile shape is this one, else two slabs per warp where the accumulators
/// fit the register budget, else one.
int64_t defaultGpuWarps(int64_t tileQ, int64_t tileKV, int64_t headDimQK,
                        int64_t headDimV, StringRef chip);
/// Why `config` cannot be built for these head dimensions on `chip`
/// (rows per warp, tile multiples, the register budget of the
/// accumulators, shared memory per block, copies that divide evenly);
/// empty when it can.
std::string checkGpuKernelConfig(const GpuKernelConfig &config,
                                 int64_t headDimQK, int64_t headDimV,
                                 StringRef chip);
/// The most f32 accumulator registers per thread (and Q fragment
/// registers, with Q in registers) a configuration may take: ptxas needs
/// the rest of its 255 for the other fragments, addresses and the softmax.
/// Measured: 160 (128 x 32 at head dim 128, two slabs) fits without
/// spills, 192 (128 x 64 there, FlashAttention-2's) spills.
constexpr int64_t kGpuAccumulatorBudget = 160;
/// Dynamic shared memory a block may opt in to on `chip`.
int64_t gpuSharedBytesPerBlock(StringRef chip);
/// The head dimensions the GPU kernels take: multiples of this up to
/// kGpuMaxHeadDim, for Dqk and Dv independently.
constexpr int64_t kGpuHeadDimMultiple = 32;
constexpr int64_t kGpuMaxHeadDim = 256;

/// The generation of the kernels attn-to-gpu emits: part of the JIT's
/// on-disk cache key. Bump it when the generated code changes.
constexpr int64_t kGpuCodeVersion = 6;

/// The gpu.module attribute holding the #attn.launch_contract of its
/// kernels.
constexpr llvm::StringLiteral kGpuLaunchContractAttr = "attn.launch_contract";

/// The contract attn-tile-to-gpu recorded on `gpuModule`, its kernels
/// checked against the module's gpu.funcs; fails with a diagnostic when
/// it is missing or does not match.
FailureOr<LaunchContractAttr> readLaunchContract(gpu::GPUModuleOp gpuModule);

/// attn-tile, attn-bufferize and attn-tile-to-gpu for `chip`, with
/// `config`, or without one each attention's defaultGpuKernelConfig;
/// attn-tile-to-gpu refuses a configuration checkGpuKernelConfig rejects.
void buildAttnToGpuPipeline(OpPassManager &pm,
                            std::optional<GpuKernelConfig> config = {},
                            StringRef chip = "sm_80");
/// The `attn-to-gpu` pipeline's options.
struct AttnToGpuOptions : PassPipelineOptions<AttnToGpuOptions> {
  Option<std::string> kernelConfig{
      *this, "kernel-config",
      llvm::cl::desc("The kernel configuration, tile_q x tile_kv and warps "
                     "(\"128x64w4\"; \"128x64\" chooses the warps); "
                     "\"auto\": the table's for each attention"),
      llvm::cl::init("auto")};
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("The chip the configuration is "
                                          "chosen and checked for"),
                           llvm::cl::init("sm_80")};
};

/// Registers the `attn-to-gpu` pipeline (registerAttnToGPUPasses()
/// registers the pass).
void registerAttnToGpuPipeline();

#define GEN_PASS_DECL
#include "attn/Conversion/AttnToGPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "attn/Conversion/AttnToGPU/Passes.h.inc"

} // namespace mlir::attn

#endif // ATTN_CONVERSION_ATTNTOGPU_ATTNTOGPU_H
