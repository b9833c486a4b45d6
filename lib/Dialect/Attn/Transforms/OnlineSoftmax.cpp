//===- OnlineSoftmax.cpp - Expand tile ops into the online softmax --------===//
//
// attn-online-softmax: turns attn.tile_init / tile_update / tile_finalize
// into scalar loops over one tile that keep FlashAttention's running state
// (row maximum m in base 2, row sum l, f32 accumulator). This is the host
// form of the tile computation; the GPU lowering will expand the same ops
// onto tensor cores, calling the same numerics helpers (Numerics.h) and the
// same mask and score-mod emitters (MaskAttrInterface::emitKept).
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/HostTileKernel.h"
#include "attn/Dialect/Attn/Transforms/Numerics.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "attn/Dialect/Attn/Transforms/TileElements.h"
#include "attn/Dialect/Attn/Transforms/Utils.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNONLINESOFTMAX
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;
namespace nx = mlir::attn::numerics;

namespace {

struct ExpandTileInit final : OpRewritePattern<TileInitOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TileInitOp op,
                                PatternRewriter &b) const override {
    Location loc = op.getLoc();
    Value rows = dimSize(b, loc, op.getRowMax(), 0);
    Value cols = dimSize(b, loc, op.getAcc(), 1);
    Value lowest = nx::initialRowMax(b, loc);
    Value zero = nx::f32Constant(b, loc, 0.0);
    buildForLoop(b, loc, rows, [&](OpBuilder &b, Location loc, Value r) {
      memref::StoreOp::create(b, loc, lowest, op.getRowMax(), r);
      memref::StoreOp::create(b, loc, zero, op.getRowSum(), r);
      buildForLoop(b, loc, cols, [&](OpBuilder &b, Location loc, Value d) {
        memref::StoreOp::create(b, loc, zero, op.getAcc(), ValueRange{r, d});
      });
    });
    b.eraseOp(op);
    return success();
  }
};

/// The scalar loops of one tile update at `b`, testing the mask when
/// `applyMask`; the tile's scores go through `scores` (tile_q x tile_kv).
/// False when an emitter failed (it has said why).
bool emitTileLoops(OpBuilder &b, TileUpdateOp op, Value scores,
                   bool applyMask) {
  Location loc = op.getLoc();
  int64_t tileKV = op.getTileKv();
  auto qType = cast<MemRefType>(op.getQuery().getType());
  auto vType = cast<MemRefType>(op.getValue().getType());
  int64_t headDimQK = qType.getShape().back();
  int64_t headDimV = vType.getShape().back();
  Value seqQ = tileQueryLength(b, loc, op);
  Value seqKV = tileKeyLength(b, loc, op);
  Value rows = tileValidRows(b, loc, op);
  Value cols = clippedExtent(b, loc, tileKV, seqKV, op.getKvBegin());
  Value zero = nx::f32Constant(b, loc, 0.0);
  ElementEmitContext ctx =
      tileElementContext(op, seqQ, seqKV, op->getParentOfType<ModuleOp>());

  bool failedEmit = false;
  buildForLoop(b, loc, rows, [&](OpBuilder &b, Location loc, Value r) {
    Value head, i;
    std::tie(head, i) = tileRowQuery(b, loc, op, r);
    ElementEmitContext rowCtx = ctx;
    rowCtx.qHead = head;
    Value mOld = memref::LoadOp::create(b, loc, op.getRowMax(), r);
    // Scores of row r in base 2, masked elements -inf; their maximum.
    Value mNew = buildReductionLoop(
        b, loc, cols, mOld,
        [&](OpBuilder &b, Location loc, Value c, Value runningMax) {
          Value j = arith::AddIOp::create(b, loc, op.getKvBegin(), c);
          Value dot = buildReductionLoop(
              b, loc, indexConstant(b, loc, headDimQK), zero,
              [&](OpBuilder &b, Location loc, Value d, Value sum) -> Value {
                Value q = loadAsF32(b, loc, op.getQuery(),
                                    tileQueryIndices(b, loc, op, head, i, d));
                Value k =
                    loadAsF32(b, loc, op.getKey(),
                              tileKvIndices(b, loc, op, op.getKey(), j, d));
                return arith::AddFOp::create(
                    b, loc, sum, arith::MulFOp::create(b, loc, q, k));
              });
          FailureOr<Value> score =
              emitTileScore(b, loc, op, rowCtx, dot, i, j, applyMask);
          if (failed(score)) {
            failedEmit = true;
            score = zero;
          }
          Value t = *score;
          memref::StoreOp::create(b, loc, t, scores, ValueRange{r, c});
          return arith::MaximumFOp::create(b, loc, runningMax, t);
        });
    // p = exp2(t - m_new), summed; the state is rescaled to m_new.
    Value alpha = nx::rescaleFactor(b, loc, mOld, mNew);
    Value rowSum = buildReductionLoop(
        b, loc, cols, zero,
        [&](OpBuilder &b, Location loc, Value c, Value sum) -> Value {
          Value t = memref::LoadOp::create(b, loc, scores, ValueRange{r, c});
          Value p = math::Exp2Op::create(
              b, loc, arith::SubFOp::create(b, loc, t, mNew));
          memref::StoreOp::create(b, loc, p, scores, ValueRange{r, c});
          return arith::AddFOp::create(b, loc, sum, p);
        });
    Value lOld = memref::LoadOp::create(b, loc, op.getRowSum(), r);
    Value lNew = arith::AddFOp::create(
        b, loc, arith::MulFOp::create(b, loc, lOld, alpha), rowSum);
    memref::StoreOp::create(b, loc, lNew, op.getRowSum(), r);
    memref::StoreOp::create(b, loc, mNew, op.getRowMax(), r);
    // acc[r, :] = acc[r, :] * alpha + P[r, :] V
    buildForLoop(
        b, loc, indexConstant(b, loc, headDimV),
        [&](OpBuilder &b, Location loc, Value d) {
          Value a =
              memref::LoadOp::create(b, loc, op.getAcc(), ValueRange{r, d});
          Value init = arith::MulFOp::create(b, loc, a, alpha);
          Value updated = buildReductionLoop(
              b, loc, cols, init,
              [&](OpBuilder &b, Location loc, Value c, Value sum) -> Value {
                Value p =
                    memref::LoadOp::create(b, loc, scores, ValueRange{r, c});
                Value j = arith::AddIOp::create(b, loc, op.getKvBegin(), c);
                Value v =
                    loadAsF32(b, loc, op.getValue(),
                              tileKvIndices(b, loc, op, op.getValue(), j, d));
                return arith::AddFOp::create(
                    b, loc, sum, arith::MulFOp::create(b, loc, p, v));
              });
          memref::StoreOp::create(b, loc, updated, op.getAcc(),
                                  ValueRange{r, d});
        });
  });
  return !failedEmit;
}

struct ExpandTileUpdate final : OpRewritePattern<TileUpdateOp> {
  ExpandTileUpdate(MLIRContext *context, int64_t vectorWidth)
      : OpRewritePattern(context), vectorWidth(vectorWidth) {}

  LogicalResult matchAndRewrite(TileUpdateOp op,
                                PatternRewriter &rewriter) const override {
    // The one mask that cannot be emitted is said so before any IR is
    // built.
    if (failed(checkTileMaskEmittable(op)))
      return failure();
    if (vectorWidth > 0) {
      if (failed(emitHostVectorTileUpdate(rewriter, op, vectorWidth)))
        return failure();
      rewriter.eraseOp(op);
      return success();
    }
    Value scores;
    // The tile's scores: a heap buffer per grid iteration, like the state
    // (a stack buffer in the grid loop, lowered sequentially, would grow
    // the stack); upstream's deallocation pipeline frees it.
    Location loc = op.getLoc();
    {
      OpBuilder::InsertionGuard guard(rewriter);
      if (auto grid = op->getParentOfType<scf::ForallOp>())
        rewriter.setInsertionPointToStart(grid.getBody());
      scores = memref::AllocOp::create(
          rewriter, loc,
          MemRefType::get({static_cast<int64_t>(op.getTileQ()),
                           static_cast<int64_t>(op.getTileKv())},
                          rewriter.getF32Type()));
    }
    OpBuilder &b = rewriter;
    bool emitted;
    if (!op.mayBeMasked() || !op.getFull()) {
      emitted = emitTileLoops(b, op, scores, op.mayBeMasked());
    } else {
      // A tile that may be full or partial: the loops twice, the full
      // variant without a single mask test.
      auto ifOp = scf::IfOp::create(b, loc, op.getFull(),
                                    /*withElseRegion=*/true);
      OpBuilder full = ifOp.getThenBodyBuilder();
      OpBuilder partial = ifOp.getElseBodyBuilder();
      emitted = emitTileLoops(full, op, scores, /*applyMask=*/false) &&
                emitTileLoops(partial, op, scores, /*applyMask=*/true);
    }
    if (!emitted)
      return failure();
    rewriter.eraseOp(op);
    return success();
  }

private:
  /// f32 lanes of the vector kernels; 0 for the scalar loops.
  int64_t vectorWidth;
};

struct ExpandTileFinalize final : OpRewritePattern<TileFinalizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TileFinalizeOp op,
                                PatternRewriter &b) const override {
    Location loc = op.getLoc();
    Value rows = dimSize(b, loc, op.getOutput(), 0);
    Value headDimV = dimSize(b, loc, op.getAcc(), 1);
    buildForLoop(b, loc, rows, [&](OpBuilder &b, Location loc, Value r) {
      Value m = memref::LoadOp::create(b, loc, op.getRowMax(), r);
      Value l = memref::LoadOp::create(b, loc, op.getRowSum(), r);
      Value inv = nx::safeReciprocal(b, loc, l);
      buildForLoop(b, loc, headDimV, [&](OpBuilder &b, Location loc, Value d) {
        Value a = memref::LoadOp::create(b, loc, op.getAcc(), ValueRange{r, d});
        storeFromF32(b, loc, arith::MulFOp::create(b, loc, a, inv),
                     op.getOutput(), {r, d});
      });
      if (op.getLogsumexp())
        memref::StoreOp::create(b, loc, nx::logSumExp(b, loc, m, l),
                                op.getLogsumexp(), r);
    });
    b.eraseOp(op);
    return success();
  }
};

/// The merge of a query tile's split partials: per row an online softmax
/// over the parts (Numerics.h, partialScore), its weights kept in a
/// buffer so that each is computed once per row.
struct ExpandTileMerge final : OpRewritePattern<TileMergeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TileMergeOp op,
                                PatternRewriter &b) const override {
    Location loc = op.getLoc();
    Value partOut = op.getPartialOutput(), partLse = op.getPartialLogsumexp();
    Value parts = dimSize(b, loc, partLse, 0);
    Value rows = dimSize(b, loc, op.getOutput(), 0);
    Value headDimV = dimSize(b, loc, op.getOutput(), 1);
    // At the op: attn-tile emits it once per grid iteration, not in a loop.
    Value weights = memref::AllocOp::create(
        b, loc, MemRefType::get({ShapedType::kDynamic}, b.getF32Type()),
        ValueRange{parts});
    Value zero = nx::f32Constant(b, loc, 0.0);
    buildForLoop(b, loc, rows, [&](OpBuilder &b, Location loc, Value r) {
      auto score = [&](OpBuilder &b, Location loc, Value s) {
        return nx::partialScore(
            b, loc, memref::LoadOp::create(b, loc, partLse, ValueRange{s, r}));
      };
      Value m = buildReductionLoop(
          b, loc, parts, nx::initialRowMax(b, loc),
          [&](OpBuilder &b, Location loc, Value s, Value running) -> Value {
            return arith::MaximumFOp::create(b, loc, running, score(b, loc, s));
          });
      Value l = buildReductionLoop(
          b, loc, parts, zero,
          [&](OpBuilder &b, Location loc, Value s, Value sum) -> Value {
            Value w = nx::rescaleFactor(b, loc, score(b, loc, s), m);
            memref::StoreOp::create(b, loc, w, weights, s);
            return arith::AddFOp::create(b, loc, sum, w);
          });
      Value inv = nx::safeReciprocal(b, loc, l);
      buildForLoop(b, loc, headDimV, [&](OpBuilder &b, Location loc, Value d) {
        Value o = buildReductionLoop(
            b, loc, parts, zero,
            [&](OpBuilder &b, Location loc, Value s, Value sum) -> Value {
              Value w = memref::LoadOp::create(b, loc, weights, s);
              Value x = loadAsF32(b, loc, partOut, {s, r, d});
              return arith::AddFOp::create(b, loc, sum,
                                           arith::MulFOp::create(b, loc, w, x));
            });
        storeFromF32(b, loc, arith::MulFOp::create(b, loc, o, inv),
                     op.getOutput(), {r, d});
      });
      if (op.getLogsumexp())
        memref::StoreOp::create(b, loc, nx::logSumExp(b, loc, m, l),
                                op.getLogsumexp(), r);
    });
    b.eraseOp(op);
    return success();
  }
};

class OnlineSoftmaxPass final
    : public mlir::attn::impl::AttnOnlineSoftmaxBase<OnlineSoftmaxPass> {
public:
  using AttnOnlineSoftmaxBase::AttnOnlineSoftmaxBase;

  void runOnOperation() override {
    // The expansion is of the memref form; the tensor form is bufferized
    // first (attn-bufferize).
    WalkResult onTensors = getOperation()->walk([](Operation *op) {
      auto tileOp = dyn_cast<DestinationStyleOpInterface>(op);
      if (isa<TileInitOp, TileUpdateOp, TileFinalizeOp, TileMergeOp>(op) &&
          !tileOp.hasPureBufferSemantics()) {
        op->emitError("attn-online-softmax: expands tile ops on memrefs; "
                      "bufferize the tensor form first (attn-bufferize)");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (onTensors.wasInterrupted())
      return signalPassFailure();
    // Each tile op expands once into code without tile ops: one walk.
    RewritePatternSet patterns(&getContext());
    if (vectorWidth < 0) {
      getOperation()->emitError("attn-online-softmax: vector-width must be "
                                "0 (scalar loops) or a positive number of "
                                "f32 lanes, not ")
          << static_cast<int64_t>(vectorWidth);
      return signalPassFailure();
    }
    patterns.add<ExpandTileInit, ExpandTileFinalize, ExpandTileMerge>(
        &getContext());
    patterns.add<ExpandTileUpdate>(&getContext(), vectorWidth);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
    // A tile op left over could not be expanded; its emitter has said why.
    WalkResult left = getOperation()->walk([](Operation *op) {
      return isa<TileInitOp, TileUpdateOp, TileFinalizeOp, TileMergeOp>(op)
                 ? WalkResult::interrupt()
                 : WalkResult::advance();
    });
    if (left.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
