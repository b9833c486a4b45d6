//===- AttnToHost.h - attn to host (CPU) code -------------------*- C++ -*-===//
//
// The attn-to-host pipeline: attn.attention through tiling and the online
// softmax down to the LLVM dialect, ready for MLIR's ExecutionEngine.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_ATTNTOHOST_ATTNTOHOST_H
#define ATTN_CONVERSION_ATTNTOHOST_ATTNTOHOST_H

#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::attn {

struct AttnToHostOptions : TileSizePipelineOptions<AttnToHostOptions> {
  ::mlir::detail::PassOptions::Option<bool> countVisits{
      *this, "count-visits",
      llvm::cl::desc("Count visited kv tiles in @attn_kv_tile_visits"),
      llvm::cl::init(false)};
  ::mlir::detail::PassOptions::Option<int64_t> vectorWidth{
      *this, "vector-width",
      llvm::cl::desc("f32 lanes of the tile kernels' vectors (16: AVX-512, "
                     "8: AVX2; the JIT takes its host's); 0: scalar loops, "
                     "for debugging"),
      llvm::cl::init(8)};
  ::mlir::detail::PassOptions::Option<unsigned> numThreads{
      *this, "num-threads",
      llvm::cl::desc("Threads of the grid: 1 runs it in order on the "
                     "caller's thread; more, through upstream's OpenMP "
                     "lowering (the code then calls LLVM's libomp), q tiles "
                     "dealt to threads in turn"),
      llvm::cl::init(1)};
  ::mlir::detail::PassOptions::Option<int64_t> kvSplits{
      *this, "kv-splits",
      llvm::cl::desc("Parts of each query tile's kv range, run as separate "
                     "grid iterations and merged by the logsumexp rule "
                     "(split-KV decode); 1: unsplit"),
      llvm::cl::init(1)};
  ::mlir::detail::PassOptions::Option<bool> packGqaHeads{
      *this, "pack-gqa-heads",
      llvm::cl::desc("Decode of grouped heads: one tile holds a kv head's "
                     "query heads, so K and V are read once per group"),
      llvm::cl::init(true)};
};

/// Adds attn-tile, attn-online-softmax, bufferization and the upstream
/// conversions to the LLVM dialect to `pm` (which runs on a module).
void buildAttnToHostPipeline(OpPassManager &pm,
                             const AttnToHostOptions &options);

/// Registers the pipeline as `attn-to-host`.
void registerAttnToHostPipeline();

} // namespace mlir::attn

#endif // ATTN_CONVERSION_ATTNTOHOST_ATTNTOHOST_H
