//===- Merge.cpp - attn.merge as a grid of tile merges --------------------===//
//
// attn.merge in the tiled IR: a grid over (batch, head, row tile), as for
// an attention, whose body merges its rows' parts with attn.tile_merge,
// the op attn-tile's split-KV merge uses. The host and GPU lowerings of
// tile_merge serve both. Called by attn-tile.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "attn/Dialect/Attn/Transforms/Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::attn;

void mlir::attn::lowerMerge(MergeOp op, int64_t tileRows,
                            IRRewriter &rewriter) {
  OpBuilder &b = rewriter;
  Location loc = op.getLoc();
  b.setInsertionPoint(op);
  Value parts = op.getPartialOutput(), partLse = op.getPartialLogsumexp();
  auto partsType = cast<RankedTensorType>(parts.getType());
  // [N, B, H, S] of the partials, as index values.
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < 4; ++d)
    sizes.push_back(dimSize(b, loc, parts, d));
  int64_t headDimV = partsType.getDimSize(4);
  int64_t seq = partsType.getDimSize(3);

  // The results, [B, H, S, Dv] and [B, H, S], written row tile by row tile.
  SmallVector<Value> inits;
  for (Value result : op->getResults()) {
    auto type = cast<RankedTensorType>(result.getType());
    SmallVector<Value> dynamic;
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (type.isDynamicDim(d))
        dynamic.push_back(d < 3 ? sizes[d + 1]
                                : indexConstant(b, loc, headDimV));
    inits.push_back(tensor::EmptyOp::create(b, loc, type, dynamic));
  }
  Value tile = indexConstant(b, loc, tileRows);
  Value numTiles = arith::CeilDivUIOp::create(b, loc, sizes[3], tile);
  SmallVector<OpFoldResult> ubs{sizes[1], sizes[2], numTiles};
  auto grid = scf::ForallOp::create(b, loc, ubs, inits, std::nullopt);

  b.setInsertionPointToStart(grid.getBody());
  Value batchIv = grid.getInductionVar(0), headIv = grid.getInductionVar(1);
  Value rowBegin = arith::MulIOp::create(b, loc, grid.getInductionVar(2), tile);
  bool clipped = ShapedType::isDynamic(seq) || seq % tileRows != 0;
  OpFoldResult rows = b.getIndexAttr(tileRows);
  if (clipped)
    rows = clippedExtent(b, loc, tileRows, sizes[3], rowBegin);
  int64_t staticRows = clipped ? ShapedType::kDynamic : tileRows;
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  OpFoldResult numParts = getAsOpFoldResult(sizes[0]);
  int64_t staticParts = partsType.getDimSize(0);

  // The rows' parts, [N, rows, Dv] and [N, rows].
  SmallVector<OpFoldResult> partOffsets{zero, batchIv, headIv, rowBegin, zero};
  SmallVector<OpFoldResult> partSizes{numParts, one, one, rows,
                                      b.getIndexAttr(headDimV)};
  SmallVector<OpFoldResult> strides(5, one);
  Value rowParts = tensor::ExtractSliceOp::create(
      b, loc,
      RankedTensorType::get({staticParts, staticRows, headDimV},
                            partsType.getElementType()),
      parts, partOffsets, partSizes, strides);
  Value rowPartLse = tensor::ExtractSliceOp::create(
      b, loc, RankedTensorType::get({staticParts, staticRows}, b.getF32Type()),
      partLse, ArrayRef(partOffsets).drop_back(),
      ArrayRef(partSizes).drop_back(), ArrayRef(strides).drop_back());

  // The rows of each result, [rows, Dv] and [rows].
  SmallVector<OpFoldResult> offsets{batchIv, headIv, rowBegin, zero};
  SmallVector<OpFoldResult> resultSizes{one, one, rows,
                                        b.getIndexAttr(headDimV)};
  SmallVector<Value> dests;
  SmallVector<int64_t> ranks;
  for (Value shared : grid.getRegionIterArgs()) {
    auto type = cast<RankedTensorType>(shared.getType());
    int64_t rank = type.getRank();
    ranks.push_back(rank);
    SmallVector<int64_t> sliceShape{staticRows};
    if (rank == 4)
      sliceShape.push_back(headDimV);
    dests.push_back(tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get(sliceShape, type.getElementType()),
        shared, ArrayRef(offsets).take_front(rank),
        ArrayRef(resultSizes).take_front(rank),
        ArrayRef(strides).take_front(rank)));
  }
  auto merge = TileMergeOp::create(b, loc, ValueRange(dests).getTypes(),
                                   rowParts, rowPartLse, dests[0],
                                   dests.size() > 1 ? dests[1] : Value());
  b.setInsertionPointToEnd(grid.getTerminator().getBody());
  for (auto [i, shared] : llvm::enumerate(grid.getRegionIterArgs()))
    tensor::ParallelInsertSliceOp::create(
        b, loc, merge.getResult(i), shared,
        ArrayRef(offsets).take_front(ranks[i]),
        ArrayRef(resultSizes).take_front(ranks[i]),
        ArrayRef(strides).take_front(ranks[i]));
  rewriter.replaceOp(op, grid.getResults());
}
