//===- TileElements.cpp - One score element of an attn.tile_update --------===//

#include "attn/Dialect/Attn/Transforms/TileElements.h"

#include "attn/Dialect/Attn/Transforms/Numerics.h"
#include "attn/Dialect/Attn/Transforms/Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::attn;
namespace nx = mlir::attn::numerics;

ElementEmitContext mlir::attn::tileElementContext(TileUpdateOp op, Value seqQ,
                                                  Value seqKV,
                                                  Operation *symbolTable) {
  ElementEmitContext ctx;
  ctx.batch = op.getBatch();
  ctx.qHead = op.getQHead();
  ctx.seqQ = seqQ;
  ctx.seqKV = seqKV;
  ctx.qSegmentIds = op.getQSegmentIds();
  ctx.kvSegmentIds = op.getKvSegmentIds();
  ctx.numQHeads = cast<MemRefType>(op.getQuery().getType()).getDimSize(1);
  ctx.symbolTable = symbolTable;
  return ctx;
}

/// `length` clamped into [0, `stored`] (0 when `stored` is negative: a
/// start past the tokens).
static Value clampLength(OpBuilder &b, Location loc, Value length,
                         Value stored) {
  Value zero = indexConstant(b, loc, 0);
  length = arith::MaxSIOp::create(b, loc, length, zero);
  return arith::MinSIOp::create(b, loc, length,
                                arith::MaxSIOp::create(b, loc, stored, zero));
}

Value mlir::attn::tileQueryLength(OpBuilder &b, Location loc, TileUpdateOp op) {
  if (!op.getQStart())
    return dimSize(b, loc, op.getQuery(), 2);
  Value stored = arith::SubIOp::create(
      b, loc, dimSize(b, loc, op.getQuery(), 0), op.getQStart());
  return clampLength(b, loc, op.getQLength(), stored);
}

SmallVector<Value> mlir::attn::tileQueryIndices(OpBuilder &b, Location loc,
                                                TileUpdateOp op, Value head,
                                                Value i, Value d) {
  if (Value start = op.getQStart())
    return {arith::AddIOp::create(b, loc, start, i), head, d};
  return {op.getBatch(), head, i, d};
}

std::pair<Value, Value> mlir::attn::tileRowQuery(OpBuilder &b, Location loc,
                                                 TileUpdateOp op, Value r) {
  if (!op.getQHeads())
    return {op.getQHead(), arith::AddIOp::create(b, loc, op.getQBegin(), r)};
  Value seqQ = indexConstant(
      b, loc, cast<ShapedType>(op.getQuery().getType()).getDimSize(2));
  Value group = arith::DivUIOp::create(b, loc, r, seqQ);
  return {arith::AddIOp::create(b, loc, op.getQHead(), group),
          arith::RemUIOp::create(b, loc, r, seqQ)};
}

Value mlir::attn::tileValidRows(OpBuilder &b, Location loc, TileUpdateOp op) {
  if (op.getQHeads())
    return indexConstant(b, loc, op.getTileQ());
  return clippedExtent(b, loc, op.getTileQ(), tileQueryLength(b, loc, op),
                       op.getQBegin());
}

Value mlir::attn::tileKeyLength(OpBuilder &b, Location loc, TileUpdateOp op) {
  Value length = op.getKvLength();
  if (Value start = op.getKvStart())
    return clampLength(
        b, loc, length,
        arith::SubIOp::create(b, loc, dimSize(b, loc, op.getKey(), 0), start));
  Value stored = dimSize(b, loc, op.getKey(), 2);
  if (!length)
    return stored;
  // Clamped into [0, the keys stored]: a paged cache's table holds
  // slots * page_size of them.
  if (Value table = op.getPageTable()) {
    auto type = cast<ShapedType>(op.getKey().getType());
    int64_t pageSize = type.getDimSize(op.getKvLayout() == "hnd" ? 2 : 1);
    stored = arith::MulIOp::create(b, loc, dimSize(b, loc, table, 1),
                                   indexConstant(b, loc, pageSize));
  }
  return clampLength(b, loc, length, stored);
}

SmallVector<Value> mlir::attn::tileKvIndices(OpBuilder &b, Location loc,
                                             TileUpdateOp op, Value source,
                                             Value j, Value d) {
  if (Value start = op.getKvStart())
    return {arith::AddIOp::create(b, loc, start, j), op.getKvHead(), d};
  if (!op.getPageTable())
    return {op.getBatch(), op.getKvHead(), j, d};
  auto [page, row] = tilePageRow(b, loc, op, j);
  return tilePagedIndices(op, page, row, d);
}

std::pair<Value, Value> mlir::attn::tilePageRow(OpBuilder &b, Location loc,
                                                TileUpdateOp op, Value j) {
  auto type = cast<ShapedType>(op.getKey().getType());
  bool headsMajor = op.getKvLayout() == "hnd";
  Value pageSize = indexConstant(b, loc, type.getDimSize(headsMajor ? 2 : 1));
  Value slot = arith::DivUIOp::create(b, loc, j, pageSize);
  Value page = memref::LoadOp::create(b, loc, op.getPageTable(),
                                      ValueRange{op.getBatch(), slot});
  page = arith::IndexCastOp::create(b, loc, b.getIndexType(), page);
  // A bad page index reads a page of the cache, never past it.
  page = arith::MinSIOp::create(
      b, loc, arith::MaxSIOp::create(b, loc, page, indexConstant(b, loc, 0)),
      indexConstant(b, loc, type.getDimSize(0) - 1));
  return {page, arith::RemUIOp::create(b, loc, j, pageSize)};
}

SmallVector<Value> mlir::attn::tilePagedIndices(TileUpdateOp op, Value page,
                                                Value row, Value d) {
  if (op.getKvLayout() == "hnd")
    return {page, op.getKvHead(), row, d};
  return {page, row, op.getKvHead(), d};
}

LogicalResult mlir::attn::checkTileMaskEmittable(TileUpdateOp op) {
  MaskAttrInterface mask = op.getMaskAttr();
  if (mask && maskContains<RandomBlocksMaskAttr>(mask) &&
      (op.getQStart() ||
       cast<MemRefType>(op.getQuery().getType()).isDynamicDim(2) ||
       cast<MemRefType>(op.getKey().getType()).isDynamicDim(2) ||
       op.getKvLength()))
    return op.emitError("#attn.random_blocks needs static sequence lengths "
                        "to be lowered");
  return success();
}

std::optional<double> mlir::attn::deferredScale(TileUpdateOp op) {
  if (op.getBias() || op.getScoreModAttr() || !op.getScoreModRegion().empty())
    return std::nullopt;
  return op.getScale().convertToDouble() * nx::kLog2e;
}

FailureOr<Value> mlir::attn::emitTileScore(OpBuilder &b, Location loc,
                                           TileUpdateOp op,
                                           const ElementEmitContext &ctx,
                                           Value dot, Value i, Value j,
                                           bool applyMask, bool deferScale) {
  double scale = op.getScale().convertToDouble();
  std::optional<double> factor = deferredScale(op);
  bool modified = !factor;
  // Without a modification between them, the scale and the base-2
  // conversion are one multiplication (as FlashAttention's
  // softmax_scale_log2): one rounding instead of two; or none here, when
  // the caller folds it into the exponent's argument.
  Value s = deferScale && factor
                ? dot
                : arith::MulFOp::create(
                      b, loc, dot,
                      nx::f32Constant(b, loc, modified ? scale : *factor));
  if (Value biasMemref = op.getBias()) {
    // Broadcast dims of the bias read index 0.
    auto type = cast<MemRefType>(biasMemref.getType());
    auto at = [&](int64_t dim, Value full) {
      return type.getDimSize(dim) == 1 ? indexConstant(b, loc, 0) : full;
    };
    Value bias = loadAsF32(b, loc, biasMemref,
                           {at(0, op.getBatch()), at(1, ctx.qHead), i, j});
    s = arith::AddFOp::create(b, loc, s, bias);
  }
  ElementEmitContext elt = ctx;
  elt.qIndex = i;
  elt.kvIndex = j;
  if (!op.getMaskMod().empty())
    elt.emitCustom = [op, head = ctx.qHead, i, j](OpBuilder &b,
                                                  Location) mutable {
      return inlineRegionWithSemantics(b, op.getMaskMod(),
                                       {op.getBatch(), head, i, j});
    };
  if (ScoreModAttrInterface mod = op.getScoreModAttr()) {
    FailureOr<Value> modded = mod.emitScoreMod(b, loc, s, elt);
    if (failed(modded))
      return failure();
    s = *modded;
  }
  if (!op.getScoreModRegion().empty())
    s = inlineRegionWithSemantics(b, op.getScoreModRegion(),
                                  {s, op.getBatch(), ctx.qHead, i, j});
  Value t = modified ? arith::MulFOp::create(
                           b, loc, s, nx::f32Constant(b, loc, nx::kLog2e))
                     : s;
  // A bias or a score_mod region may produce NaN or +inf (a bias of inf, a
  // region that divides 0.0 by 0.0): defined as a dropped element and the
  // largest finite score, in base 2 after the multiplication that could
  // overflow. The attribute modifications (softcap, ALiBi) keep a finite
  // score finite and pay nothing.
  if (op.getBias() || !op.getScoreModRegion().empty())
    t = nx::sanitizeScore(b, loc, t);
  if (MaskAttrInterface mask = op.getMaskAttr(); mask && applyMask) {
    FailureOr<Value> kept = mask.emitKept(b, loc, elt);
    if (failed(kept))
      return failure();
    t = arith::SelectOp::create(b, loc, *kept, t, nx::maskedScore(b, loc));
  }
  return t;
}
