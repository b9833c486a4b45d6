//===- TileKvPlan.cpp - attn-tile's kv loop plans -------------------------===//
//
// Block sparsity: which kv tiles one query tile visits and which of them
// are full, decided from the mask algebra. A band gives affine loop bounds
// in the query tile; another static mask a compile-time tile table (like
// FlexAttention's BlockMask); a mask known only at run time (document ids)
// a run-time table built before the grid; anything else every kv tile.
// With kv splits, a grid iteration keeps its even share of the plan.
//
//===----------------------------------------------------------------------===//

#include "Tiler.h"

#include "attn/Dialect/Attn/Transforms/Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

namespace {

/// A private constant i32 table in the module, returned by get_global.
Value i32Table(OpBuilder &b, Location loc, ModuleOp module,
               ArrayRef<int32_t> values, StringRef prefix) {
  auto type = RankedTensorType::get({static_cast<int64_t>(values.size())},
                                    b.getI32Type());
  return getConstantTable(b, loc, module, DenseElementsAttr::get(type, values),
                          prefix);
}

Value loadIndex(OpBuilder &b, Location loc, Value table, Value index) {
  Value v = memref::LoadOp::create(b, loc, table, ValueRange{index});
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
}

/// Tile classes as stored in run-time tables.
enum RuntimeTileClass : int8_t { kEmpty = 0, kFull = 1, kPartial = 2 };

} // namespace

KvPlan Tiler::planBand(OpBuilder &b, const mask::Band &band, Value qBegin) {
  // A kv tile [k0, k0 + Tk) is non-empty for rows [q0, qLast] iff some
  // d = j - (i + off) lies in [lo, hi]: its largest d reaches lo and its
  // smallest d does not pass hi. Both ends are affine in q0.
  Value off = band.align == mask::Alignment::BottomRight
                  ? arith::SubIOp::create(b, loc, seqKV, seqQ).getResult()
                  : indexConstant(b, loc, 0);
  Value rows = clippedExtent(b, loc, tileQ, seqQ, qBegin);
  Value qLast =
      arith::SubIOp::create(b, loc, arith::AddIOp::create(b, loc, qBegin, rows),
                            indexConstant(b, loc, 1));
  Value tk = indexConstant(b, loc, tileKV);
  bool unboundedBelow = band.lo <= -mask::Band::kUnbounded;
  bool unboundedAbove = band.hi >= mask::Band::kUnbounded;
  // First tile: the one holding j = q0 + off + lo.
  Value lower = indexConstant(b, loc, 0);
  if (!unboundedBelow) {
    Value x = arith::AddIOp::create(b, loc,
                                    arith::AddIOp::create(b, loc, qBegin, off),
                                    indexConstant(b, loc, band.lo));
    lower = arith::MaxSIOp::create(b, loc, lower,
                                   arith::FloorDivSIOp::create(b, loc, x, tk));
  }
  // Last tile: the one holding j = qLast + off + hi.
  Value upper = numKVTiles;
  if (!unboundedAbove) {
    Value y =
        arith::AddIOp::create(b, loc, arith::AddIOp::create(b, loc, qLast, off),
                              indexConstant(b, loc, band.hi));
    Value last = arith::FloorDivSIOp::create(b, loc, y, tk);
    upper = arith::MinSIOp::create(
        b, loc, numKVTiles,
        arith::AddIOp::create(b, loc, last, indexConstant(b, loc, 1)));
    upper = arith::MaxSIOp::create(b, loc, upper, lower);
  }

  KvPlan plan;
  plan.lower = lower;
  plan.upper = upper;
  plan.kvTile = [](OpBuilder &, Location, Value iv) { return iv; };
  plan.alwaysFull = unboundedBelow && unboundedAbove;
  int64_t lo = band.lo, hi = band.hi;
  int64_t tq = tileKV;
  plan.isFull = [=](OpBuilder &b, Location loc, Value kt) -> Value {
    // Full iff the smallest d >= lo and the largest d <= hi.
    Value k0 = arith::MulIOp::create(b, loc, kt, indexConstant(b, loc, tq));
    Value kLast = arith::SubIOp::create(
        b, loc,
        arith::MinSIOp::create(
            b, loc,
            arith::AddIOp::create(b, loc, k0, indexConstant(b, loc, tq)),
            seqKV),
        indexConstant(b, loc, 1));
    Value dMin = arith::SubIOp::create(
        b, loc, k0, arith::AddIOp::create(b, loc, qLast, off));
    Value dMax = arith::SubIOp::create(
        b, loc, kLast, arith::AddIOp::create(b, loc, qBegin, off));
    Value full = arith::ConstantIntOp::create(b, loc, 1, 1);
    if (!unboundedBelow)
      full = arith::AndIOp::create(
          b, loc, full,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, dMin,
                                indexConstant(b, loc, lo)));
    if (!unboundedAbove)
      full = arith::AndIOp::create(
          b, loc, full,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, dMax,
                                indexConstant(b, loc, hi)));
    return full;
  };
  return plan;
}

KvPlan Tiler::planTable(OpBuilder &b, const mask::TileMap &map, Value qTile) {
  // CSR over q tiles: offsets[qt] .. offsets[qt + 1] index the non-empty kv
  // tiles of row qt and whether each is full.
  SmallVector<int32_t> offsets{0}, kvTiles, full;
  for (int64_t qi = 0; qi < map.numQTiles; ++qi) {
    for (int64_t kj = 0; kj < map.numKVTiles; ++kj) {
      mask::TileClass c = map.at(qi, kj);
      if (c == mask::TileClass::Empty)
        continue;
      kvTiles.push_back(static_cast<int32_t>(kj));
      full.push_back(c == mask::TileClass::Full ? 1 : 0);
    }
    offsets.push_back(static_cast<int32_t>(kvTiles.size()));
  }
  // Empty tables still need one element to form a memref.
  if (kvTiles.empty()) {
    kvTiles.push_back(0);
    full.push_back(0);
  }
  Value offsetTable = i32Table(b, loc, module, offsets, "__attn_kv_offsets");
  Value tileTable = i32Table(b, loc, module, kvTiles, "__attn_kv_tiles");
  Value fullTable = i32Table(b, loc, module, full, "__attn_kv_full");
  KvPlan plan;
  plan.lower = loadIndex(b, loc, offsetTable, qTile);
  plan.upper =
      loadIndex(b, loc, offsetTable,
                arith::AddIOp::create(b, loc, qTile, indexConstant(b, loc, 1)));
  plan.kvTile = [=](OpBuilder &b, Location loc, Value iv) {
    return loadIndex(b, loc, tileTable, iv);
  };
  plan.isFull = [=](OpBuilder &b, Location loc, Value iv) -> Value {
    Value v = memref::LoadOp::create(b, loc, fullTable, ValueRange{iv});
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, v,
                                 arith::ConstantIntOp::create(b, loc, 0, 32));
  };
  return plan;
}

KvPlan Tiler::planDense(OpBuilder &b) {
  KvPlan plan;
  plan.lower = indexConstant(b, loc, 0);
  plan.upper = numKVTiles;
  plan.kvTile = [](OpBuilder &, Location, Value iv) { return iv; };
  plan.isFull = [](OpBuilder &b, Location loc, Value) -> Value {
    return arith::ConstantIntOp::create(b, loc, 0, 1);
  };
  return plan;
}

Value Tiler::emitKept(OpBuilder &b, Location loc, Value bIv, Value hIv, Value i,
                      Value j) {
  ElementEmitContext ctx;
  ctx.batch = bIv;
  ctx.qHead = hIv;
  ctx.qIndex = i;
  ctx.kvIndex = j;
  ctx.seqQ = seqQ;
  ctx.seqKV = seqKV;
  ctx.qSegmentIds = qIds;
  ctx.kvSegmentIds = kvIds;
  ctx.numQHeads = op.getShape().numQHeads;
  ctx.symbolTable = module;
  if (!op.getMaskMod().empty())
    ctx.emitCustom = [&](OpBuilder &b, Location) {
      SmallVector<Value> args{bIv, hIv, i, j};
      llvm::append_range(args, op.getCaptures());
      return inlineRegionWithSemantics(b, op.getMaskMod(), args);
    };
  FailureOr<Value> kept = op.getEffectiveMask().emitKept(b, loc, ctx);
  if (succeeded(kept))
    return *kept;
  // The emitter has reported why; run() fails the pass. A placeholder keeps
  // the loop being built well formed until then.
  emitFailed = true;
  return arith::ConstantIntOp::create(b, loc, 1, 1);
}

/// A run-time tile table [B, Hq, q tiles, kv tiles] of RuntimeTileClass,
/// computed before the attention by counting the kept elements of every
/// tile (what FlexAttention's create_block_mask does, here on the device
/// of the attention itself). Cheap next to the attention: no head-dim loop.
Value Tiler::buildRuntimeTable(OpBuilder &b, Value batch, Value numQTiles) {
  AttentionShape shape = op.getShape();
  int64_t heads = shape.numQHeads;
  // Static when the shapes are (the GPU path allocates it as a buffer).
  Value table;
  if (shape.hasStaticSequences() && !ShapedType::isDynamic(shape.batch)) {
    auto type =
        MemRefType::get({shape.batch, heads, (shape.seqQ + tileQ - 1) / tileQ,
                         (shape.seqKV + tileKV - 1) / tileKV},
                        b.getI8Type());
    table = memref::AllocOp::create(b, loc, type);
  } else {
    auto type = MemRefType::get({ShapedType::kDynamic, heads,
                                 ShapedType::kDynamic, ShapedType::kDynamic},
                                b.getI8Type());
    table = memref::AllocOp::create(b, loc, type,
                                    ValueRange{batch, numQTiles, numKVTiles});
  }
  SmallVector<OpFoldResult> ubs{batch, b.getIndexAttr(heads), numQTiles,
                                numKVTiles};
  auto forall = scf::ForallOp::create(b, loc, ubs, ValueRange(), std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  Value bIv = forall.getInductionVar(0), hIv = forall.getInductionVar(1);
  Value qt = forall.getInductionVar(2), kt = forall.getInductionVar(3);
  Value q0 = arith::MulIOp::create(b, loc, qt, indexConstant(b, loc, tileQ));
  Value k0 = arith::MulIOp::create(b, loc, kt, indexConstant(b, loc, tileKV));
  Value rows = clippedExtent(b, loc, tileQ, seqQ, q0);
  Value cols = clippedExtent(b, loc, tileKV, seqKV, k0);
  Value zero = indexConstant(b, loc, 0), one = indexConstant(b, loc, 1);
  auto countLoop =
      [&](OpBuilder &b, Location loc, Value ub, Value init,
          function_ref<Value(OpBuilder &, Location, Value, Value)> body) {
        auto loop = scf::ForOp::create(
            b, loc, zero, ub, one, ValueRange{init},
            [&](OpBuilder &nb, Location nloc, Value iv, ValueRange args) {
              scf::YieldOp::create(nb, nloc, body(nb, nloc, iv, args[0]));
            });
        return loop.getResult(0);
      };
  Value kept = countLoop(
      b, loc, rows, zero,
      [&](OpBuilder &b, Location loc, Value r, Value count) -> Value {
        Value i = arith::AddIOp::create(b, loc, q0, r);
        return countLoop(
            b, loc, cols, count,
            [&](OpBuilder &b, Location loc, Value c, Value count) -> Value {
              Value j = arith::AddIOp::create(b, loc, k0, c);
              Value bit = arith::IndexCastUIOp::create(
                  b, loc, b.getIndexType(), emitKept(b, loc, bIv, hIv, i, j));
              return arith::AddIOp::create(b, loc, count, bit);
            });
      });
  Value area = arith::MulIOp::create(b, loc, rows, cols);
  auto i8 = [&](int64_t v) {
    return arith::ConstantIntOp::create(b, loc, v, 8);
  };
  Value isEmpty =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, kept, zero);
  Value isFull =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, kept, area);
  Value cls = arith::SelectOp::create(
      b, loc, isEmpty, i8(kEmpty),
      arith::SelectOp::create(b, loc, isFull, i8(kFull), i8(kPartial)));
  memref::StoreOp::create(b, loc, cls, table, ValueRange{bIv, hIv, qt, kt});
  return table;
}

KvPlan Tiler::planRuntimeTable(OpBuilder &b, Value table, Value qTile,
                               const std::optional<mask::Band> &bound) {
  KvPlan plan = bound ? planBand(b, *bound, qBegin) : planDense(b);
  plan.alwaysFull = false;
  auto load = [=](OpBuilder &b, Location loc, Value kt) -> Value {
    return memref::LoadOp::create(b, loc, table,
                                  ValueRange{batchIv, headIv, qTile, kt});
  };
  // The band and dense plans iterate over kv tiles directly (iv == kt).
  plan.isNonEmpty = [=](OpBuilder &b, Location loc, Value kt) -> Value {
    return arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::ne, load(b, loc, kt),
        arith::ConstantIntOp::create(b, loc, kEmpty, 8));
  };
  plan.isFull = [=](OpBuilder &b, Location loc, Value kt) -> Value {
    return arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq, load(b, loc, kt),
        arith::ConstantIntOp::create(b, loc, kFull, 8));
  };
  return plan;
}

KvPlan Tiler::planBlockLayout(OpBuilder &b) {
  ArrayRef<int64_t> block = *op.getSparseBlock();
  int64_t perBlock = block[1] / tileKV; // kv tiles per key block
  Value zero = indexConstant(b, loc, 0), one = indexConstant(b, loc, 1);
  Value numKVBlocks = arith::CeilDivUIOp::create(
      b, loc, seqKV, indexConstant(b, loc, block[1]));
  Value qBlock =
      arith::DivUIOp::create(b, loc, qBegin, indexConstant(b, loc, block[0]));
  // One list of the layout (partial or full blocks) for this query tile:
  // where its row is (batch and head 0 where the layout broadcasts) and
  // how many entries it has, clamped into [0, width]. A query block past
  // the layout's rows (a run-time length the layout was not made for) has
  // none, and every read stays inside the tensors.
  struct List {
    Value indices, width, count;
    SmallVector<Value> row;
  };
  auto rowOf = [&](Value layout) {
    auto type = cast<RankedTensorType>(layout.getType());
    Value last = arith::SubIOp::create(b, loc, dimSize(b, loc, layout, 2), one);
    return SmallVector<Value>{type.getDimSize(0) == 1 ? zero : batchIv,
                              type.getDimSize(1) == 1 ? zero : headIv,
                              arith::MinUIOp::create(b, loc, qBlock, last)};
  };
  auto list = [&](Value counts, Value indices) {
    List l;
    l.indices = indices;
    l.row = rowOf(indices);
    l.width = dimSize(b, loc, indices, 3);
    Value n = tensor::ExtractOp::create(b, loc, counts, rowOf(counts));
    n = arith::IndexCastOp::create(b, loc, b.getIndexType(), n);
    n = arith::MinSIOp::create(b, loc, arith::MaxSIOp::create(b, loc, n, zero),
                               l.width);
    Value inLayout = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::ult, qBlock,
        arith::MinUIOp::create(b, loc, dimSize(b, loc, counts, 2),
                               dimSize(b, loc, indices, 2)));
    l.count = arith::SelectOp::create(b, loc, inLayout, n, zero);
    return l;
  };
  List partial = list(op.getKvNumBlocks(), op.getKvIndices());
  std::optional<List> full;
  if (op.getFullKvNumBlocks())
    full = list(op.getFullKvNumBlocks(), op.getFullKvIndices());
  Value blocks = full
                     ? arith::AddIOp::create(b, loc, partial.count, full->count)
                           .getResult()
                     : partial.count;
  KvPlan plan;
  plan.lower = zero;
  plan.upper =
      arith::MulIOp::create(b, loc, blocks, indexConstant(b, loc, perBlock));
  // Loop iteration iv is kv tile iv % perBlock of entry iv / perBlock,
  // which is in the partial list below its count, else in the full one.
  auto entry = [=](OpBuilder &b, Location loc, Value iv) {
    return arith::DivUIOp::create(b, loc, iv, indexConstant(b, loc, perBlock));
  };
  auto inPartial = [=](OpBuilder &b, Location loc, Value iv) -> Value {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                 entry(b, loc, iv), partial.count);
  };
  // The entry of `l` at `at`, clamped into the list so that the read stays
  // inside it whichever list the entry is in.
  auto read = [=](OpBuilder &b, Location loc, const List &l, Value at) {
    Value last = arith::SubIOp::create(b, loc, l.width, one);
    at = arith::MinSIOp::create(b, loc,
                                arith::MaxSIOp::create(b, loc, at, zero), last);
    SmallVector<Value> index(l.row);
    index.push_back(at);
    Value v = tensor::ExtractOp::create(b, loc, l.indices, index);
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), v).getResult();
  };
  auto keyBlock = [=](OpBuilder &b, Location loc, Value iv) -> Value {
    Value e = entry(b, loc, iv);
    Value blk = read(b, loc, partial, e);
    if (!full)
      return blk;
    Value fullBlk =
        read(b, loc, *full, arith::SubIOp::create(b, loc, e, partial.count));
    return arith::SelectOp::create(b, loc, inPartial(b, loc, iv), blk, fullBlk);
  };
  plan.kvTile = [=](OpBuilder &b, Location loc, Value iv) -> Value {
    Value sub =
        arith::RemUIOp::create(b, loc, iv, indexConstant(b, loc, perBlock));
    return arith::AddIOp::create(
        b, loc,
        arith::MulIOp::create(b, loc, keyBlock(b, loc, iv),
                              indexConstant(b, loc, perBlock)),
        sub);
  };
  // A listed index outside the key blocks, or a tile past the keys in the
  // last block, is skipped.
  Value kvTiles = numKVTiles;
  plan.isNonEmpty = [=](OpBuilder &b, Location loc, Value iv) -> Value {
    Value blk = keyBlock(b, loc, iv);
    Value inRange = arith::AndIOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, blk, zero),
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, blk,
                              numKVBlocks));
    // Only computed for blocks in range, where it cannot overflow.
    Value kt = arith::AddIOp::create(
        b, loc,
        arith::MulIOp::create(b, loc, blk, indexConstant(b, loc, perBlock)),
        arith::RemUIOp::create(b, loc, iv, indexConstant(b, loc, perBlock)));
    return arith::AndIOp::create(
        b, loc, inRange,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, kt, kvTiles));
  };
  // Without a mask every listed block is kept whole; with one, the full
  // list's blocks are (the mask is evaluated in the partial ones).
  plan.alwaysFull = isa<NoneMaskAttr>(op.getEffectiveMask());
  bool hasFull = full.has_value();
  plan.isFull = [=](OpBuilder &b, Location loc, Value iv) -> Value {
    if (!hasFull)
      return arith::ConstantIntOp::create(b, loc, 0, 1);
    return arith::XOrIOp::create(b, loc, inPartial(b, loc, iv),
                                 arith::ConstantIntOp::create(b, loc, 1, 1));
  };
  return plan;
}

FailureOr<Tiler::KvPlanChoice> Tiler::chooseKvPlan(OpBuilder &b) {
  AttentionShape shape = op.getShape();
  KvPlanChoice choice;
  if (op.hasBlockLayout()) {
    choice.blockLayout = true;
    return choice;
  }
  choice.mask = op.buildMask();
  choice.band = choice.mask->band();
  // A paged cache's key lengths and packed sequences' lengths are per
  // sequence, known in the grid: a band is planned there; any other mask is
  // tested in every tile its bounding band leaves.
  if (op.isPaged() || op.isVarlen()) {
    choice.perElement = !choice.band;
    return choice;
  }
  if (!choice.band && shape.hasStaticSequences() &&
      !choice.mask->needsRuntimeData() &&
      !choice.mask->dependsOnBatchOrHead()) {
    mask::MaskContext ctx;
    ctx.seqQ = shape.seqQ;
    ctx.seqKV = shape.seqKV;
    choice.map = mask::computeTileMap(*choice.mask, ctx, tileQ, tileKV);
  }

  // Masks that are neither bands nor classifiable at compile time (run-time
  // data, dynamic lengths, dependence on batch or head) get a run-time
  // tile table, computed before the attention.
  if (!choice.band && !choice.map)
    choice.runtimeTable = buildRuntimeTable(b, batch, numQTiles);
  if (emitFailed)
    return failure();
  return choice;
}

KvPlan Tiler::planKvLoop(OpBuilder &b, const KvPlanChoice &choice) {
  if (choice.blockLayout)
    return planBlockLayout(b);
  if (choice.band)
    return planBand(b, *choice.band, qBegin);
  if (choice.perElement) {
    std::optional<mask::Band> bound = choice.mask->boundingBand();
    KvPlan plan = bound ? planBand(b, *bound, qBegin) : planDense(b);
    plan.alwaysFull = false;
    plan.isFull = [](OpBuilder &b, Location loc, Value) -> Value {
      return arith::ConstantIntOp::create(b, loc, 0, 1);
    };
    return plan;
  }
  if (choice.map)
    return planTable(b, *choice.map, qTile);
  return planRuntimeTable(b, choice.runtimeTable, qTile,
                          choice.mask->boundingBand());
}

void Tiler::restrictToSplit(OpBuilder &b, KvPlan &plan) {
  if (kvSplits <= 1)
    return;
  // Split s of N visits [lower + s * per, lower + (s + 1) * per) within
  // the plan's range, per = ceil(visited / N): the same number of visited
  // tiles per split, whatever the plan (band bounds, a table's row), up to
  // rounding; a split past the end visits none.
  Value count = arith::SubIOp::create(b, loc, plan.upper, plan.lower);
  Value per = arith::CeilDivUIOp::create(b, loc, count,
                                         indexConstant(b, loc, kvSplits));
  Value lower = arith::MinUIOp::create(
      b, loc, plan.upper,
      arith::AddIOp::create(b, loc, plan.lower,
                            arith::MulIOp::create(b, loc, splitIv, per)));
  plan.upper = arith::MinUIOp::create(
      b, loc, plan.upper, arith::AddIOp::create(b, loc, lower, per));
  plan.lower = lower;
}
