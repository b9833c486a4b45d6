//===- Tile.cpp - Tile attn.attention into q-tile and kv-tile loops -------===//
//
// attn-tile: the first lowering step. An attn.attention becomes a parallel
// loop over (batch, query head, query tile) with a sequential loop over the
// kv tiles the mask leaves non-empty, each an attn.tile_update that is
// masked only when the tile is partial. Block sparsity is decided here,
// from the mask algebra: bands give affine loop bounds, other static masks
// a compile-time tile table (like FlexAttention's BlockMask), and anything
// else visits every kv tile with the mask on.
//
//===----------------------------------------------------------------------===//

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

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNTILE
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

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

/// The grids are mapped for the GPU: (batch, head, query tile) to blocks
/// (z, y, x). The host lowering runs them as parallel loops.
ArrayAttr gridMapping(OpBuilder &b) {
  MLIRContext *ctx = b.getContext();
  return b.getArrayAttr(
      {gpu::GPUBlockMappingAttr::get(ctx, gpu::MappingId::DimZ),
       gpu::GPUBlockMappingAttr::get(ctx, gpu::MappingId::DimY),
       gpu::GPUBlockMappingAttr::get(ctx, gpu::MappingId::DimX)});
}

/// Tile classes as stored in run-time tables.
enum RuntimeTileClass : int8_t { kEmpty = 0, kFull = 1, kPartial = 2 };

/// A query tile's rows of a grid's shared output, and where they are.
struct RowSlice {
  Value slice;
  SmallVector<OpFoldResult> offsets, sizes, strides;
};

/// Inserts each of `values` into the matching shared output of `forall`
/// at its slice's position, in the forall's terminator.
static void insertIntoShared(OpBuilder &b, Location loc, scf::ForallOp forall,
                             ValueRange values, ArrayRef<RowSlice> slices) {
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(forall.getTerminator().getBody());
  for (auto [i, shared] : llvm::enumerate(forall.getRegionIterArgs()))
    tensor::ParallelInsertSliceOp::create(b, loc, values[i], shared,
                                          slices[i].offsets, slices[i].sizes,
                                          slices[i].strides);
}

class Tiler {
public:
  Tiler(AttentionOp op, int64_t tileQ, int64_t tileKV, int64_t kvSplits,
        bool countVisits)
      : op(op), tileQ(tileQ), tileKV(tileKV), kvSplits(kvSplits),
        countVisits(countVisits), loc(op.getLoc()),
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
  };

  LogicalResult checkSupported();
  /// Binds the operands and the sequence lengths.
  void bindOperands(OpBuilder &b);
  void emitTileCounts(OpBuilder &b);
  FailureOr<KvPlanChoice> chooseKvPlan(OpBuilder &b);
  /// The parallel grid over (batch, query head, query tile) -- with kv
  /// splits, (batch, query head, query tile x split) -- whose shared
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
  /// The rows of query tile `qBegin` in `shared` ([B, Hq, (N,) Sq(, Dv)])
  /// at (batchIv, headIv) and, when `part` is set, that part; without it
  /// every part of a partial result ([N, rows(, Dv)]).
  RowSlice sliceRows(OpBuilder &b, Value shared, Value qBegin, bool hasParts,
                     Value part = Value());

  KvPlan planBand(OpBuilder &b, const mask::Band &band, Value qBegin);
  KvPlan planTable(OpBuilder &b, const mask::TileMap &map, Value qTile);
  KvPlan planDense(OpBuilder &b);
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
  bool emitFailed = false;
  Location loc;
  ModuleOp module;
  // Set while emitting one attention.
  Value Q, K, V, bias, qIds, kvIds;
  Value batch, seqQ, seqKV, tileQSize, numQTiles, numKVTiles;
  Value batchIv, headIv, qTile, kvHead, qBegin;
  /// The grid iteration's kv split (kvSplits > 1).
  Value splitIv;
  /// The running state (row_max, row_sum, acc) of the query tile.
  SmallVector<Value, 3> state;
};

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

/// The global tile-visit counter's name; attn-run and the JIT read it.
constexpr StringLiteral kVisitCounter = "attn_kv_tile_visits";

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
  memref::AtomicRMWOp::create(b, loc, arith::AtomicRMWKind::addi,
                              arith::ConstantIntOp::create(b, loc, 1, 64),
                              counter, ValueRange{indexConstant(b, loc, 0)});
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

ValueRange Tiler::emitUpdate(OpBuilder &b, Value kt, Value full,
                             ValueRange state) {
  Value kvBegin =
      arith::MulIOp::create(b, loc, kt, indexConstant(b, loc, tileKV));
  MaskAttrInterface mask = op.getEffectiveMask();
  bool masked = !isa<NoneMaskAttr>(mask);
  auto update = TileUpdateOp::create(
      b, loc, state.getTypes(), Q, K, V, bias, qIds, kvIds, batchIv, headIv,
      kvHead, qBegin, kvBegin, masked ? full : Value(), state[0], state[1],
      state[2], b.getF32FloatAttr(static_cast<float>(op.getEffectiveScale())),
      b.getI64IntegerAttr(tileQ), b.getI64IntegerAttr(tileKV),
      masked ? mask : MaskAttrInterface(), op.getScoreModAttr());
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
      !op.getShape().hasStaticSequences())
    return op.emitError("attn-tile: #attn.random_blocks needs static "
                        "sequence lengths");
  return success();
}

void Tiler::bindOperands(OpBuilder &b) {
  Q = op.getQuery();
  K = op.getKey();
  V = op.getValue();
  bias = op.getBias();
  qIds = op.getQSegmentIds();
  kvIds = op.getKvSegmentIds();
  batch = dimSize(b, loc, Q, 0);
  seqQ = dimSize(b, loc, Q, 2);
  seqKV = dimSize(b, loc, K, 2);
}

void Tiler::emitTileCounts(OpBuilder &b) {
  tileQSize = indexConstant(b, loc, tileQ);
  numQTiles = arith::CeilDivUIOp::create(b, loc, seqQ, tileQSize);
  numKVTiles =
      arith::CeilDivUIOp::create(b, loc, seqKV, indexConstant(b, loc, tileKV));
}

FailureOr<Tiler::KvPlanChoice> Tiler::chooseKvPlan(OpBuilder &b) {
  AttentionShape shape = op.getShape();
  KvPlanChoice choice;
  choice.mask = op.buildMask();
  choice.band = choice.mask->band();
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

SmallVector<Value> Tiler::resultInits(OpBuilder &b) {
  SmallVector<Value> inits;
  for (Value result : op->getResults()) {
    auto type = cast<RankedTensorType>(result.getType());
    SmallVector<Value> sizes;
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
  SmallVector<OpFoldResult> ubs{batch, b.getIndexAttr(shape.numQHeads),
                                lastDim};
  // The shared outputs: the output and logsumexp, each query tile writing
  // its rows; with splits, the partial output [B, Hq, N, Sq, Dv] and
  // logsumexp [B, Hq, N, Sq] in f32, each split writing its part.
  SmallVector<Value> outputs;
  if (!split) {
    outputs = resultInits(b);
  } else {
    SmallVector<int64_t> partShape{shape.batch, shape.numQHeads, kvSplits,
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
  kvHead = kvHeadOfQueryHead(b, loc, headIv, shape.numQHeads, shape.numKVHeads);
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

KvPlan Tiler::planKvLoop(OpBuilder &b, const KvPlanChoice &choice) {
  if (choice.band)
    return planBand(b, *choice.band, qBegin);
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
  result.offsets = {batchIv, headIv};
  result.sizes = {one, one};
  SmallVector<int64_t> sliceShape;
  if (hasParts) {
    result.offsets.push_back(part ? OpFoldResult(part) : zero);
    result.sizes.push_back(part ? one : b.getIndexAttr(kvSplits));
    if (!part)
      sliceShape.push_back(kvSplits);
  }
  result.offsets.push_back(qBegin);
  result.sizes.push_back(rows);
  sliceShape.push_back(clipped ? ShapedType::kDynamic : tileQ);
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
  bindOperands(b);
  emitTileCounts(b);
  FailureOr<KvPlanChoice> choice = chooseKvPlan(b);
  if (failed(choice))
    return failure();

  scf::ForallOp forall = emitGrid(b);
  emitTileState(b);
  KvPlan plan = planKvLoop(b, *choice);
  restrictToSplit(b, plan);
  emitKvLoop(rewriter, plan);
  emitTileEnd(b, forall);
  if (kvSplits > 1)
    forall = emitMerge(b, forall);
  rewriter.replaceOp(op, forall.getResults());
  return success();
}

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
      if (badSizes(op, q, kv) ||
          failed(Tiler(op, q, kv, kvSplits, countVisits).run(rewriter)))
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
