//===- Tiler.h - attn-tile's lowering of one attention ----------*- C++ -*-===//
//
// Private to attn-tile: the Tiler emits the tiled IR of one attn.attention.
// Tile.cpp has the grid, the per-tile state, the tile updates and the
// split-KV merge; TileKvPlan.cpp plans each query tile's kv loop from the
// mask (affine band bounds, a compile-time tile table, a run-time tile
// table or every tile) and restricts it to a grid iteration's kv split.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_DIALECT_ATTN_TRANSFORMS_TILER_H
#define ATTN_LIB_DIALECT_ATTN_TRANSFORMS_TILER_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Mask/Mask.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"

#include <functional>
#include <optional>

namespace mlir::attn::detail {

/// How the kv loop of one query tile is bounded and how each visited
/// tile's class (full or partial) is found.
struct KvPlan {
  Value lower, upper; // kv-tile loop bounds
  std::function<Value(OpBuilder &, Location, Value)> kvTile; // loop iv -> kt
  std::function<Value(OpBuilder &, Location, Value)> isFull; // loop iv -> i1
  /// Set when the bounds may include empty tiles (run-time tables): loop
  /// iv -> i1, false for a tile to skip.
  std::function<Value(OpBuilder &, Location, Value)> isNonEmpty;
  bool alwaysFull = false;
};

/// A query tile's rows of a grid's shared output, and where they are.
struct RowSlice {
  Value slice;
  SmallVector<OpFoldResult> offsets, sizes, strides;
  /// Packed query heads: `slice` is the rows [heads * Sq(, Dv)] collapsed
  /// from the extracted [heads, Sq(, Dv)] of this type, which the rows go
  /// back as.
  RankedTensorType extracted;
};

/// The tiled IR of one attn.attention: `run` replaces the op with its grid
/// (and, with kv splits, the merge grid after it).
class Tiler {
public:
  Tiler(AttentionOp op, int64_t tileQ, int64_t tileKV, int64_t kvSplits,
        bool countVisits, bool packGqaHeads = false)
      : op(op), tileQ(tileQ), tileKV(tileKV), kvSplits(kvSplits),
        countVisits(countVisits), packGqaHeads(packGqaHeads), loc(op.getLoc()),
        module(op->getParentOfType<ModuleOp>()) {}

  LogicalResult run(IRRewriter &rewriter);

private:
  /// What the kv loops are planned from: the mask's band, else its
  /// compile-time tile map, else a run-time tile table.
  struct KvPlanChoice {
    mask::MaskRef mask;
    std::optional<mask::Band> band;
    std::optional<mask::TileMap> map;
    Value runtimeTable;
    /// The op's run-time block layout (block_sparse) lists the kv blocks.
    bool blockLayout = false;
    /// Every tile the mask's bounding band leaves is tested element by
    /// element (a paged cache's per-sequence lengths, no band).
    bool perElement = false;
  };

  LogicalResult checkSupported();
  /// Binds the operands and the sequence lengths.
  void bindOperands(OpBuilder &b);
  /// In the grid, for a paged cache or packed sequences (varlen): this
  /// sequence's lengths (and starts) and kv tile count in place of the
  /// longest's.
  void bindSequenceLength(OpBuilder &b);
  /// Sequence `index` of packed offsets `cu` over `tokens` rows: its
  /// start and length, clamped so that it lies in [0, tokens).
  std::pair<Value, Value> packedSpan(OpBuilder &b, Value cu, Value index,
                                     Value tokens);
  /// The longest of the packed query sequences (the grid's q tiles).
  Value longestPackedQuery(OpBuilder &b);
  void emitTileCounts(OpBuilder &b);
  FailureOr<KvPlanChoice> chooseKvPlan(OpBuilder &b);
  /// The parallel grid over (batch, query head, query tile) -- with kv
  /// splits, (batch, query head, query tile x split); with packed query
  /// heads, (batch, kv head, 1 (x split)) -- whose shared
  /// outputs are the attention's results, or the splits' partial results;
  /// leaves the builder in its body.
  scf::ForallOp emitGrid(OpBuilder &b);
  /// The kv loop bounds of this grid iteration's split of `plan`.
  void restrictToSplit(OpBuilder &b, KvPlan &plan);
  void emitTileState(OpBuilder &b);
  KvPlan planKvLoop(OpBuilder &b, const KvPlanChoice &choice);
  /// The kv loop of one query tile; leaves the builder after it.
  void emitKvLoop(IRRewriter &rewriter, const KvPlan &plan);
  /// The finalization of one query tile into its rows of the grid's shared
  /// outputs.
  void emitTileEnd(OpBuilder &b, scf::ForallOp forall);
  /// After a split grid: a second grid over (batch, query head, query
  /// tile) that merges the splits' partials into the attention's results.
  scf::ForallOp emitMerge(OpBuilder &b, scf::ForallOp splitGrid);
  /// Empty tensors of the attention's results.
  SmallVector<Value> resultInits(OpBuilder &b);
  /// The rows of query tile `qBegin` in `shared` ([B, (N,) Hq, Sq(, Dv)])
  /// at (batchIv, headIv) and, when `part` is set, that part; without it
  /// every part of a partial result ([N, rows(, Dv)]). With packed query
  /// heads (packedRows) the rows of the tile's heads, [heads * Sq(, Dv)];
  /// of packed sequences, [Tq, Hq(, Dv)] rows from the sequence's start.
  RowSlice sliceRows(OpBuilder &b, Value shared, Value qBegin, bool hasParts,
                     Value part = Value());

  KvPlan planBand(OpBuilder &b, const mask::Band &band, Value qBegin);
  KvPlan planTable(OpBuilder &b, const mask::TileMap &map, Value qTile);
  KvPlan planDense(OpBuilder &b);
  /// The kv tiles of the blocks the run-time block layout lists for this
  /// query tile: its partial blocks, then its full ones.
  KvPlan planBlockLayout(OpBuilder &b);
  KvPlan planRuntimeTable(OpBuilder &b, Value table, Value qTile,
                          const std::optional<mask::Band> &bound);
  Value buildRuntimeTable(OpBuilder &b, Value batch, Value numQTiles);
  Value emitKept(OpBuilder &b, Location loc, Value bIv, Value hIv, Value i,
                 Value j);
  /// The one tile_update of kv tile `kt` on `state`; `full` is its full
  /// flag (null: every element may be tested). Returns the new state.
  ValueRange emitUpdate(OpBuilder &b, Value kt, Value full, ValueRange state);
  void cloneRegionBindingCaptures(Region &from, Region &to,
                                  unsigned numLeading);

  void emitVisitCount(OpBuilder &b);

  AttentionOp op;
  int64_t tileQ, tileKV;
  /// Parts of each query tile's kv range (1: unsplit).
  int64_t kvSplits;
  bool countVisits;
  bool packGqaHeads;
  /// Query heads per tile when they are packed (pack-gqa-heads and
  /// packedQueryHeads), else 0;
  /// `packedRows` while the grid whose tiles hold them is emitted.
  int64_t qHeadsPerTile = 0;
  bool packedRows = false;
  bool emitFailed = false;
  Location loc;
  ModuleOp module;
  // Set while emitting one attention.
  Value Q, K, V, bias, qIds, kvIds, pageTable;
  /// The sequence's key length where it is per sequence (paged, varlen),
  /// else null.
  Value kvLength;
  /// Packed sequences (varlen): the offsets, and in the grid the
  /// sequence's first query and key rows and its query count.
  Value cuQ, cuK, qStart, qLength, kvStart;
  Value batch, seqQ, seqKV, tileQSize, numQTiles, numKVTiles;
  Value batchIv, headIv, qTile, kvHead, qBegin;
  /// The grid iteration's kv split (kvSplits > 1).
  Value splitIv;
  /// The running state (row_max, row_sum, acc) of the query tile.
  SmallVector<Value, 3> state;
};

} // namespace mlir::attn::detail

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_TILER_H
