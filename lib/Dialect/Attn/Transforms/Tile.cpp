//===- Tile.cpp - Tile attn.attention into q-tile and kv-tile loops -------===//
//
// attn-tile: the first lowering step. An attn.attention becomes a parallel
// loop over (batch, query head, query tile) (with packed query heads,
// (batch, kv head, 1); with kv splits, times the splits; of packed
// sequences, (sequence, query head, query tile)) with a sequential loop over
// the kv tiles the mask leaves non-empty, each an attn.tile_update that is
// masked only when the tile is partial. Block sparsity is decided here,
// from the mask algebra: bands give affine loop bounds, other static masks
// a compile-time tile table (like FlexAttention's BlockMask), and anything
// else visits every kv tile with the mask on.
//
//===----------------------------------------------------------------------===//

#include "Tiler.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "attn/Dialect/Attn/Transforms/Utils.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"

#include <numeric>

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNTILE
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

namespace {

/// The grids are mapped for the GPU: (batch, head, query tile) to blocks
/// (z, y, x). The host lowering runs them as parallel loops.
ArrayAttr gridMapping(OpBuilder &b) {
  MLIRContext *ctx = b.getContext();
  return b.getArrayAttr(
      {gpu::GPUBlockMappingAttr::get(ctx, gpu::MappingId::DimZ),
       gpu::GPUBlockMappingAttr::get(ctx, gpu::MappingId::DimY),
       gpu::GPUBlockMappingAttr::get(ctx, gpu::MappingId::DimX)});
}

/// Inserts each of `values` into the matching shared output of `forall`
/// at its slice's position, in the forall's terminator.
/// The reassociation between a tile's packed-head rows [heads * Sq(, Dv)]
/// and their place [heads, Sq(, Dv)] in a result of rank `rank`.
static SmallVector<ReassociationIndices> headRowsReassociation(int64_t rank) {
  if (rank == 3)
    return {{0, 1}, {2}};
  return {{0, 1}};
}

static void insertIntoShared(OpBuilder &b, Location loc, scf::ForallOp forall,
                             ValueRange values, ArrayRef<RowSlice> slices) {
  OpBuilder::InsertionGuard guard(b);
  // Packed query heads' rows go back as [heads, Sq(, Dv)].
  SmallVector<Value> inserted(values);
  b.setInsertionPoint(forall.getTerminator());
  for (auto [value, slice] : llvm::zip(inserted, slices))
    if (slice.extracted)
      value = tensor::ExpandShapeOp::create(
          b, loc, slice.extracted, value,
          headRowsReassociation(slice.extracted.getRank()));
  b.setInsertionPointToEnd(forall.getTerminator().getBody());
  for (auto [i, shared] : llvm::enumerate(forall.getRegionIterArgs()))
    tensor::ParallelInsertSliceOp::create(b, loc, inserted[i], shared,
                                          slices[i].offsets, slices[i].sizes,
                                          slices[i].strides);
}

/// The global tile-visit counter's name; attn-run and the JIT read it.
constexpr StringLiteral kVisitCounter = "attn_kv_tile_visits";

} // namespace

void Tiler::emitVisitCount(OpBuilder &b) {
  auto type = MemRefType::get({1}, b.getI64Type());
  if (!SymbolTable(module).lookup(kVisitCounter)) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    memref::GlobalOp::create(
        b, loc, kVisitCounter, b.getStringAttr("public"), type,
        DenseElementsAttr::get(RankedTensorType::get({1}, b.getI64Type()),
                               ArrayRef<int64_t>{0}),
        /*constant=*/false, IntegerAttr());
  }
  Value counter = memref::GetGlobalOp::create(b, loc, type, kVisitCounter);
  // A tile of packed query heads counts once per head: the counter is of
  // (query head, q tile, kv tile) blocks.
  memref::AtomicRMWOp::create(
      b, loc, arith::AtomicRMWKind::addi,
      arith::ConstantIntOp::create(b, loc, std::max<int64_t>(1, qHeadsPerTile),
                                   64),
      counter, ValueRange{indexConstant(b, loc, 0)});
}

ValueRange Tiler::emitUpdate(OpBuilder &b, Value kt, Value full,
                             ValueRange state) {
  Value kvBegin =
      arith::MulIOp::create(b, loc, kt, indexConstant(b, loc, tileKV));
  MaskAttrInterface mask = op.getEffectiveMask();
  bool masked = !isa<NoneMaskAttr>(mask);
  auto update = TileUpdateOp::create(
      b, loc, state.getTypes(), Q, K, V, bias, qIds, kvIds, pageTable, batchIv,
      headIv, kvHead, qBegin, kvBegin, kvLength, qStart, qLength, kvStart,
      masked ? full : Value(), state[0], state[1], state[2],
      b.getF32FloatAttr(static_cast<float>(op.getEffectiveScale())),
      b.getI64IntegerAttr(tileQ), b.getI64IntegerAttr(tileKV),
      masked ? mask : MaskAttrInterface(), op.getScoreModAttr(),
      op.getKvLayoutAttr(),
      qHeadsPerTile ? b.getI64IntegerAttr(qHeadsPerTile) : IntegerAttr());
  cloneRegionBindingCaptures(op.getMaskMod(), update.getMaskMod(),
                             /*numLeading=*/4);
  cloneRegionBindingCaptures(op.getScoreModRegion(), update.getScoreModRegion(),
                             /*numLeading=*/5);
  return update.getResults();
}

/// Clones an attention region into a tile op, where the captured tensors
/// are plain SSA values in scope: the capture arguments are replaced by the
/// attention's capture operands, leaving the `numLeading` index/score
/// arguments.
void Tiler::cloneRegionBindingCaptures(Region &from, Region &to,
                                       unsigned numLeading) {
  if (from.empty())
    return;
  IRMapping mapping;
  from.cloneInto(&to, mapping);
  Block &block = to.front();
  for (unsigned k = block.getNumArguments(); k-- > numLeading;) {
    block.getArgument(k).replaceAllUsesWith(op.getCaptures()[k - numLeading]);
    block.eraseArgument(k);
  }
}

LogicalResult Tiler::checkSupported() {
  if (!module)
    return op.emitError("attn-tile: the attention must be inside a module");
  if (maskContains<RandomBlocksMaskAttr>(op.getEffectiveMask()) &&
      (!op.getShape().hasStaticSequences() || op.isPaged()))
    return op.emitError("attn-tile: #attn.random_blocks needs static "
                        "sequence lengths (a paged cache's and packed "
                        "sequences' are per sequence)");
  if (op.isVarlen() && kvSplits > 1)
    return op.emitError("attn-tile: kv-splits > 1 with packed sequences "
                        "(varlen) is not supported yet; tile with "
                        "kv-splits=1");
  return success();
}

int64_t mlir::attn::packedQueryHeads(AttentionOp op) {
  // Decode (a few static queries) of grouped heads, whose kv loop is the
  // same for every head: a band, a paged cache's per-element test, or a
  // compile-time tile map (never of the head); not a run-time table or
  // block layout, which are per head. The host kernels' rows are vector
  // lanes: up to 4 rows are scored by dot products, more need rows in
  // multiples of 4 (7 heads would run 1-lane vectors, slower than a tile
  // per head).
  constexpr int64_t kMaxPackedQueries = 4, kDotRows = 4, kMinLanes = 4;
  AttentionShape shape = op.getShape();
  if (op.isVarlen() || op.hasBlockLayout() ||
      shape.numQHeads == shape.numKVHeads ||
      ShapedType::isDynamic(shape.seqQ) || shape.seqQ < 1 ||
      shape.seqQ > kMaxPackedQueries)
    return 0;
  int64_t group = shape.numQHeads / shape.numKVHeads;
  int64_t rows = group * shape.seqQ;
  if (rows > kDotRows && rows % kMinLanes != 0)
    return 0;
  mask::MaskRef mask = op.buildMask();
  bool sameForEveryHead =
      mask->band() || op.isPaged() ||
      (shape.hasStaticSequences() && !mask->needsRuntimeData() &&
       !mask->dependsOnBatchOrHead());
  return sameForEveryHead ? group : 0;
}

void Tiler::bindOperands(OpBuilder &b) {
  Q = op.getQuery();
  K = op.getKey();
  V = op.getValue();
  bias = op.getBias();
  qIds = op.getQSegmentIds();
  kvIds = op.getKvSegmentIds();
  pageTable = op.getPageTable();
  cuQ = op.getCuSeqlensQ();
  cuK = op.getCuSeqlensK();
  if (cuQ) {
    // B sequences from B + 1 offsets; the grid's q tiles cover the
    // longest, each iteration its own (bindSequenceLength).
    // The shorter offsets bound it (the verifier checks static lengths;
    // dynamic ones that differ read no offset past either).
    Value offsets = arith::MinSIOp::create(b, loc, dimSize(b, loc, cuQ, 0),
                                           dimSize(b, loc, cuK, 0));
    batch = arith::MaxSIOp::create(
        b, loc,
        arith::SubIOp::create(b, loc, offsets, indexConstant(b, loc, 1)),
        indexConstant(b, loc, 0));
    seqQ = longestPackedQuery(b);
    seqKV = dimSize(b, loc, K, 0);
    return;
  }
  batch = dimSize(b, loc, Q, 0);
  seqQ = dimSize(b, loc, Q, 2);
  // A paged cache's longest sequence: its page table's pages (each
  // sequence's own length is read in the grid, bindSequenceLength).
  seqKV = pageTable ? indexConstant(b, loc, op.getShape().seqKV)
                    : dimSize(b, loc, K, 2);
}

std::pair<Value, Value> Tiler::packedSpan(OpBuilder &b, Value cu, Value index,
                                          Value tokens) {
  auto offset = [&](Value i) -> Value {
    Value v = tensor::ExtractOp::create(b, loc, cu, i);
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
  };
  auto clamp = [&](Value v, Value lo) -> Value {
    return arith::MinSIOp::create(b, loc, arith::MaxSIOp::create(b, loc, v, lo),
                                  tokens);
  };
  Value start = clamp(offset(index), indexConstant(b, loc, 0));
  Value next = arith::AddIOp::create(b, loc, index, indexConstant(b, loc, 1));
  Value end = clamp(offset(next), start);
  return {start, arith::SubIOp::create(b, loc, end, start)};
}

Value Tiler::longestPackedQuery(OpBuilder &b) {
  Value tokens = dimSize(b, loc, Q, 0);
  auto loop = scf::ForOp::create(
      b, loc, indexConstant(b, loc, 0), batch, indexConstant(b, loc, 1),
      ValueRange{indexConstant(b, loc, 0)},
      [&](OpBuilder &b, Location loc, Value i, ValueRange longest) {
        Value length = packedSpan(b, cuQ, i, tokens).second;
        scf::YieldOp::create(
            b, loc,
            ValueRange{arith::MaxSIOp::create(b, loc, longest[0], length)});
      });
  return loop.getResult(0);
}

void Tiler::bindSequenceLength(OpBuilder &b) {
  if (cuQ) {
    std::tie(qStart, qLength) =
        packedSpan(b, cuQ, batchIv, dimSize(b, loc, Q, 0));
    std::tie(kvStart, kvLength) =
        packedSpan(b, cuK, batchIv, dimSize(b, loc, K, 0));
    seqQ = qLength;
    seqKV = kvLength;
  } else if (pageTable) {
    // kv_lengths[b] clamped into [0, the table's keys]: a bad length reads
    // no page past the table.
    Value n = tensor::ExtractOp::create(b, loc, op.getKvLengths(), batchIv);
    n = arith::IndexCastOp::create(b, loc, b.getIndexType(), n);
    n = arith::MaxSIOp::create(b, loc, n, indexConstant(b, loc, 0));
    seqKV = arith::MinSIOp::create(b, loc, n, seqKV);
    kvLength = seqKV;
  } else {
    return;
  }
  numKVTiles =
      arith::CeilDivUIOp::create(b, loc, seqKV, indexConstant(b, loc, tileKV));
}

void Tiler::emitTileCounts(OpBuilder &b) {
  tileQSize = indexConstant(b, loc, tileQ);
  numQTiles = arith::CeilDivUIOp::create(b, loc, seqQ, tileQSize);
  numKVTiles =
      arith::CeilDivUIOp::create(b, loc, seqKV, indexConstant(b, loc, tileKV));
}

SmallVector<Value> Tiler::resultInits(OpBuilder &b) {
  SmallVector<Value> inits;
  for (Value result : op->getResults()) {
    auto type = cast<RankedTensorType>(result.getType());
    SmallVector<Value> sizes;
    // Packed results are [Tq, Hq(, Dv)], Tq the query's.
    if (cuQ) {
      if (type.isDynamicDim(0))
        sizes.push_back(dimSize(b, loc, Q, 0));
      inits.push_back(tensor::EmptyOp::create(b, loc, type, sizes));
      continue;
    }
    if (type.isDynamicDim(0))
      sizes.push_back(batch);
    if (type.isDynamicDim(2))
      sizes.push_back(seqQ);
    inits.push_back(tensor::EmptyOp::create(b, loc, type, sizes));
  }
  return inits;
}

scf::ForallOp Tiler::emitMerge(OpBuilder &b, scf::ForallOp splitGrid) {
  b.setInsertionPointAfter(splitGrid);
  // The merge runs per query head, whatever the split grid's tiles held.
  packedRows = false;
  SmallVector<OpFoldResult> ubs{batch, b.getIndexAttr(op.getShape().numQHeads),
                                numQTiles};
  auto merge =
      scf::ForallOp::create(b, loc, ubs, resultInits(b), gridMapping(b));
  b.setInsertionPointToStart(merge.getBody());
  batchIv = merge.getInductionVar(0);
  headIv = merge.getInductionVar(1);
  Value q0 = arith::MulIOp::create(b, loc, merge.getInductionVar(2), tileQSize);
  RowSlice parts = sliceRows(b, splitGrid.getResult(0), q0, /*hasParts=*/true);
  RowSlice partLse =
      sliceRows(b, splitGrid.getResult(1), q0, /*hasParts=*/true);
  SmallVector<RowSlice> slices;
  SmallVector<Value> dests;
  for (Value shared : merge.getRegionIterArgs()) {
    slices.push_back(sliceRows(b, shared, q0, /*hasParts=*/false));
    dests.push_back(slices.back().slice);
  }
  auto tileMerge = TileMergeOp::create(b, loc, ValueRange(dests).getTypes(),
                                       parts.slice, partLse.slice, dests[0],
                                       dests.size() > 1 ? dests[1] : Value());
  insertIntoShared(b, loc, merge, tileMerge.getResults(), slices);
  return merge;
}

scf::ForallOp Tiler::emitGrid(OpBuilder &b) {
  AttentionShape shape = op.getShape();
  bool split = kvSplits > 1;
  Value splitCount = indexConstant(b, loc, kvSplits);
  Value lastDim =
      split ? arith::MulIOp::create(b, loc, numQTiles, splitCount).getResult()
            : numQTiles;
  // Packed query heads: one tile per kv head.
  SmallVector<OpFoldResult> ubs{
      batch, b.getIndexAttr(qHeadsPerTile ? shape.numKVHeads : shape.numQHeads),
      lastDim};
  // The shared outputs: the output and logsumexp, each query tile writing
  // its rows; with splits, the partial output [B, N, Hq, Sq, Dv] (a split's
  // heads contiguous, as packed query heads write them) and logsumexp [B, N,
  // Hq, Sq] in f32, each split writing its part.
  SmallVector<Value> outputs;
  if (!split) {
    outputs = resultInits(b);
  } else {
    SmallVector<int64_t> partShape{shape.batch, kvSplits, shape.numQHeads,
                                   shape.seqQ, shape.headDimV};
    SmallVector<Value> sizes;
    if (ShapedType::isDynamic(shape.batch))
      sizes.push_back(batch);
    if (ShapedType::isDynamic(shape.seqQ))
      sizes.push_back(seqQ);
    Type f32 = b.getF32Type();
    outputs.push_back(tensor::EmptyOp::create(b, loc, partShape, f32, sizes));
    outputs.push_back(tensor::EmptyOp::create(
        b, loc, ArrayRef(partShape).drop_back(), f32, sizes));
  }
  auto forall = scf::ForallOp::create(b, loc, ubs, outputs, gridMapping(b));
  b.setInsertionPointToStart(forall.getBody());
  batchIv = forall.getInductionVar(0);
  headIv = forall.getInductionVar(1);
  qTile = forall.getInductionVar(2);
  if (split) {
    splitIv = arith::RemUIOp::create(b, loc, qTile, splitCount);
    qTile = arith::DivUIOp::create(b, loc, qTile, splitCount);
  }
  if (qHeadsPerTile) {
    // The tile's first query head.
    kvHead = headIv;
    headIv = arith::MulIOp::create(b, loc, kvHead,
                                   indexConstant(b, loc, qHeadsPerTile));
  } else {
    kvHead =
        kvHeadOfQueryHead(b, loc, headIv, shape.numQHeads, shape.numKVHeads);
  }
  qBegin = arith::MulIOp::create(b, loc, qTile, tileQSize);
  return forall;
}

void Tiler::emitTileState(OpBuilder &b) {
  Type f32 = b.getF32Type();
  // The per-tile state lives for one grid iteration. The host lowering
  // bufferizes it to buffers of the iteration; the GPU lowering maps it to
  // registers.
  auto row = RankedTensorType::get({tileQ}, f32);
  auto accType = RankedTensorType::get({tileQ, op.getShape().headDimV}, f32);
  Value m = tensor::EmptyOp::create(b, loc, row, ValueRange());
  Value l = tensor::EmptyOp::create(b, loc, row, ValueRange());
  Value a = tensor::EmptyOp::create(b, loc, accType, ValueRange());
  auto init = TileInitOp::create(b, loc, TypeRange{row, row, accType}, m, l, a);
  state.assign(init.getResults().begin(), init.getResults().end());
}

void Tiler::emitKvLoop(IRRewriter &rewriter, const KvPlan &plan) {
  OpBuilder &b = rewriter;
  // The state is carried through the loop; a tile the run-time table says
  // is empty passes it on unchanged.
  auto loop = scf::ForOp::create(b, loc, plan.lower, plan.upper,
                                 indexConstant(b, loc, 1), state);
  b.setInsertionPointToStart(loop.getBody());
  Value iv = loop.getInductionVar();
  ValueRange carried = loop.getRegionIterArgs();
  Value kt = plan.kvTile(b, loc, iv);
  scf::IfOp nonEmpty;
  if (plan.isNonEmpty) {
    nonEmpty = scf::IfOp::create(b, loc, carried.getTypes(),
                                 plan.isNonEmpty(b, loc, iv),
                                 /*withElseRegion=*/true);
    b.setInsertionPointToStart(nonEmpty.elseBlock());
    scf::YieldOp::create(b, loc, carried);
    b.setInsertionPointToStart(nonEmpty.thenBlock());
  }
  if (countVisits)
    emitVisitCount(b);
  // One update per kv tile, flagged full where the plan knows it: always
  // (a constant), per tile, or never (no flag).
  Value full;
  if (plan.alwaysFull)
    full = arith::ConstantIntOp::create(b, loc, 1, 1);
  else if (Value isFull = plan.isFull(b, loc, iv);
           !matchPattern(isFull, m_Zero()))
    full = isFull;
  else
    rewriter.eraseOp(isFull.getDefiningOp());
  ValueRange updated = emitUpdate(b, kt, full, carried);
  if (full && full.use_empty())
    rewriter.eraseOp(full.getDefiningOp());
  if (nonEmpty) {
    scf::YieldOp::create(b, loc, updated);
    b.setInsertionPointAfter(nonEmpty);
    updated = nonEmpty.getResults();
  }
  scf::YieldOp::create(b, loc, updated);
  b.setInsertionPointAfter(loop);
  state.assign(loop.getResults().begin(), loop.getResults().end());
}

RowSlice Tiler::sliceRows(OpBuilder &b, Value shared, Value qBegin,
                          bool hasParts, Value part) {
  // The tile's rows: all tile_q of them unless the sequence may end inside
  // the tile.
  AttentionShape shape = op.getShape();
  bool clipped = ShapedType::isDynamic(shape.seqQ) || shape.seqQ % tileQ != 0;
  OpFoldResult rows = b.getIndexAttr(tileQ);
  if (clipped)
    rows = clippedExtent(b, loc, tileQ, seqQ, qBegin);
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  auto type = cast<RankedTensorType>(shared.getType());
  RowSlice result;
  SmallVector<int64_t> sliceShape;
  int64_t heads = packedRows ? qHeadsPerTile : 1;
  if (cuQ) {
    // Packed sequences [Tq, Hq(, Dv)]: the sequence's rows from qStart; a
    // q tile past a short sequence has none.
    rows = arith::MaxSIOp::create(b, loc, cast<Value>(rows),
                                  indexConstant(b, loc, 0))
               .getResult();
    result.offsets = {arith::AddIOp::create(b, loc, qStart, qBegin).getResult(),
                      headIv};
    result.sizes = {rows, one};
    sliceShape.push_back(ShapedType::kDynamic);
  } else {
    // [B, (N,) Hq, Sq(, Dv)]: the batch, the part (or every part), the
    // head (or, packed, the tile's heads, each with its Sq rows), the
    // rows.
    result.offsets = {batchIv};
    result.sizes = {one};
    if (hasParts) {
      result.offsets.push_back(part ? OpFoldResult(part) : zero);
      result.sizes.push_back(part ? one : b.getIndexAttr(kvSplits));
      if (!part)
        sliceShape.push_back(kvSplits);
    }
    result.offsets.push_back(headIv);
    result.sizes.push_back(b.getIndexAttr(heads));
    if (packedRows) {
      sliceShape.push_back(heads);
      rows = b.getIndexAttr(shape.seqQ);
      clipped = false;
    }
    result.offsets.push_back(qBegin);
    result.sizes.push_back(rows);
    sliceShape.push_back(clipped      ? ShapedType::kDynamic
                         : packedRows ? shape.seqQ
                                      : tileQ);
  }
  if (result.offsets.size() < static_cast<size_t>(type.getRank())) {
    int64_t headDim = type.getShape().back();
    result.offsets.push_back(zero);
    result.sizes.push_back(b.getIndexAttr(headDim));
    sliceShape.push_back(headDim);
  }
  result.strides.assign(type.getRank(), one);
  auto sliceType = RankedTensorType::get(sliceShape, type.getElementType());
  result.slice = tensor::ExtractSliceOp::create(
      b, loc, sliceType, shared, result.offsets, result.sizes, result.strides);
  if (packedRows) {
    // The tile's rows: [heads * Sq(, Dv)], contiguous in the result.
    result.extracted = sliceType;
    SmallVector<int64_t> rowsShape{heads * shape.seqQ};
    if (sliceType.getRank() == 3)
      rowsShape.push_back(sliceType.getShape().back());
    result.slice = tensor::CollapseShapeOp::create(
        b, loc, RankedTensorType::get(rowsShape, type.getElementType()),
        result.slice, headRowsReassociation(sliceType.getRank()));
  }
  return result;
}

void Tiler::emitTileEnd(OpBuilder &b, scf::ForallOp forall) {
  // The tile's rows of the output [B, Hq, Sq, Dv] and logsumexp [B, Hq,
  // Sq], or of this split's part of the partials.
  SmallVector<RowSlice> slices;
  for (Value shared : forall.getRegionIterArgs())
    slices.push_back(
        sliceRows(b, shared, qBegin, /*hasParts=*/kvSplits > 1, splitIv));
  SmallVector<Value> dests =
      llvm::map_to_vector(slices, [](const RowSlice &s) { return s.slice; });
  auto finalize = TileFinalizeOp::create(b, loc, ValueRange(dests).getTypes(),
                                         state[0], state[1], state[2], dests[0],
                                         dests.size() > 1 ? dests[1] : Value());
  insertIntoShared(b, loc, forall, finalize.getResults(), slices);
}

/// The steps of one attention, in the order their IR is emitted: sizes
/// and tile counts before the attention, a run-time tile table if the mask
/// needs one, then the grid, whose body is the per-tile state, the kv loop
/// and the finalization, and whose results replace the attention's.
LogicalResult Tiler::run(IRRewriter &rewriter) {
  if (failed(checkSupported()))
    return failure();
  OpBuilder &b = rewriter;
  b.setInsertionPoint(op);
  // A tile of a group's heads, each with all its queries.
  qHeadsPerTile = packGqaHeads ? packedQueryHeads(op) : 0;
  if (qHeadsPerTile) {
    tileQ = qHeadsPerTile * op.getShape().seqQ;
    packedRows = true;
  }
  bindOperands(b);
  emitTileCounts(b);
  FailureOr<KvPlanChoice> choice = chooseKvPlan(b);
  if (failed(choice))
    return failure();

  scf::ForallOp forall = emitGrid(b);
  bindSequenceLength(b);
  // The GPU lowering does not read run-time layouts yet; it refuses grids
  // marked so.
  if (choice->blockLayout)
    forall->setAttr(kRuntimeBlockLayoutAttr, b.getUnitAttr());
  emitTileState(b);
  KvPlan plan = planKvLoop(b, *choice);
  // A q tile past its packed sequence's queries visits no kv tile.
  if (cuQ)
    plan.upper = arith::SelectOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, qBegin,
                              qLength),
        plan.upper, plan.lower);
  restrictToSplit(b, plan);
  emitKvLoop(rewriter, plan);
  emitTileEnd(b, forall);
  if (kvSplits > 1)
    forall = emitMerge(b, forall);
  rewriter.replaceOp(op, forall.getResults());
  return success();
}

namespace {

class TilePass final : public mlir::attn::impl::AttnTileBase<TilePass> {
public:
  using AttnTileBase::AttnTileBase;
  TilePass(AttnTileOptions options, TileShapeFn shapeOf)
      : AttnTileBase(std::move(options)), shapeOf(std::move(shapeOf)) {}

  void runOnOperation() override {
    // A tile's scratch scores are tile-q x tile-kv f32 per block: 4096 x
    // 4096 is 64 MiB, far beyond any useful tile, and bounds what a typo
    // on the command line can allocate.
    constexpr int64_t kMaxTileSize = 4096;
    auto badSizes = [&](Operation *at, int64_t q, int64_t kv) {
      if (q > 0 && kv > 0 && q <= kMaxTileSize && kv <= kMaxTileSize)
        return false;
      at->emitError() << "attn-tile: tile sizes must be between 1 and "
                      << kMaxTileSize << ", got " << q << " x " << kv;
      return true;
    };
    if (badSizes(getOperation(), tileQ, tileKV))
      return signalPassFailure();
    // Each split is a grid iteration with its own partial output rows.
    constexpr int64_t kMaxKvSplits = 256;
    if (kvSplits < 1 || kvSplits > kMaxKvSplits) {
      getOperation()->emitError()
          << "attn-tile: kv-splits must be between 1 and " << kMaxKvSplits
          << ", got " << static_cast<int64_t>(kvSplits);
      return signalPassFailure();
    }
    SmallVector<AttentionOp> ops;
    getOperation()->walk([&](AttentionOp op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (AttentionOp op : ops) {
      auto [q, kv] = shapeOf ? shapeOf(op)
                             : std::pair{tileQ.getValue(), tileKV.getValue()};
      // A run-time block layout is visited block by block: each tile lies
      // in one block (the largest tiles dividing both).
      if (std::optional<ArrayRef<int64_t>> block = op.getSparseBlock();
          block && q > 0 && kv > 0) {
        q = std::gcd(q, (*block)[0]);
        kv = std::gcd(kv, (*block)[1]);
      }
      if (badSizes(op, q, kv) ||
          failed(Tiler(op, q, kv, kvSplits, countVisits, packGqaHeads)
                     .run(rewriter)))
        return signalPassFailure();
    }
    // Linear attention: chunks of tile-q queries.
    SmallVector<LinearAttentionOp> linearOps;
    getOperation()->walk(
        [&](LinearAttentionOp op) { linearOps.push_back(op); });
    for (LinearAttentionOp op : linearOps)
      lowerLinearAttention(op, tileQ, rewriter);
    // Merges of partial attentions: tiles of tile-q rows.
    SmallVector<MergeOp> merges;
    getOperation()->walk([&](MergeOp op) { merges.push_back(op); });
    for (MergeOp op : merges)
      lowerMerge(op, tileQ, rewriter);
  }

private:
  TileShapeFn shapeOf;
};

} // namespace

std::unique_ptr<Pass> mlir::attn::createAttnTile(AttnTileOptions options,
                                                 TileShapeFn shapeOf) {
  return std::make_unique<TilePass>(std::move(options), std::move(shapeOf));
}
