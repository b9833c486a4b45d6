//===- Passes.h - attn dialect passes ---------------------------*- C++ -*-===//
//
// Declarations of the attn passes (generated from Passes.td) and of the
// named pipelines that attn-opt offers.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_H
#define ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassOptions.h"

#include <functional>

namespace mlir::attn {

#define GEN_PASS_DECL
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"

class AttentionOp;
class LinearAttentionOp;
class MergeOp;

/// A tile shape (tile_q, tile_kv) chosen for each attention.
using TileShapeFn = std::function<std::pair<int64_t, int64_t>(AttentionOp)>;
/// attn-tile with each attn.attention's tile shape from `shapeOf` instead
/// of the options (a back end's table: buildAttnToGpuPipeline); linear
/// attentions keep `options.tileQ`.
std::unique_ptr<Pass> createAttnTile(AttnTileOptions options,
                                     TileShapeFn shapeOf);

/// The query heads that attn-tile{pack-gqa-heads} puts in one tile of
/// `op`: Hq / Hkv for decode (a static Sq of 1 to 4) of grouped heads
/// whose kv loop does not depend on the head and whose tile rows fill
/// vectors (at most 4 rows, or a multiple of 4); else 0.
int64_t packedQueryHeads(AttentionOp op);

/// Lowers one attn.linear_attention in chunked form (chunks of `chunk`
/// queries); used by attn-tile.
void lowerLinearAttention(LinearAttentionOp op, int64_t chunk,
                          IRRewriter &rewriter);

/// Lowers one attn.merge to a grid over (batch, head, tile of `tileRows`
/// rows) of attn.tile_merge; used by attn-tile.
void lowerMerge(MergeOp op, int64_t tileRows, IRRewriter &rewriter);

/// Registers the named pipelines (attn-mask-report, attn-bufferize).
void registerAttnPipelines();

/// Bufferizes the tiled IR, the same way for both back ends: empty-tensor
/// elimination (a result materialized into a caller's buffer is written
/// there), one-shot bufferization of the module with its function
/// boundaries (identity layouts), then canonicalization, which drops the
/// kv loops' now unused iter_args and the self-copies of in-place
/// inserts. The result is the memref form of the tile ops.
void buildAttnBufferizePipeline(OpPassManager &pm);

/// The bufferization models that pipeline needs (the tile ops' own and
/// upstream's for arith, func, scf and tensor) and the deallocation models
/// of the host's buffer-deallocation pipeline (arith, cf, memref, scf).
void registerBufferizationModels(DialectRegistry &registry);

/// The tile-size options of a pipeline (`tile-q`, `tile-kv`): the one
/// declaration the pipelines of attn-opt share (attn-to-host,
/// attn-to-gpu, attn-mask-report).
template <typename Derived>
struct TileSizePipelineOptions : PassPipelineOptions<Derived> {
  ::mlir::detail::PassOptions::Option<int64_t> tileQ{
      *this, "tile-q", llvm::cl::desc("Query tile size"), llvm::cl::init(64)};
  ::mlir::detail::PassOptions::Option<int64_t> tileKV{
      *this, "tile-kv", llvm::cl::desc("Key/value tile size"),
      llvm::cl::init(64)};
};

} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_H
