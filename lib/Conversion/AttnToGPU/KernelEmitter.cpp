//===- KernelEmitter.cpp - The warp-level FlashAttention-2 body -----------===//

#include "KernelEmitter.h"

#include "attn/Dialect/Attn/Transforms/Numerics.h"
#include "attn/Dialect/Attn/Transforms/TileElements.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::gpu_kernel;
namespace nx = mlir::attn::numerics;

Value KernelEmitter::idx(OpBuilder &b, Location loc, int64_t v) {
  Value &c = constants[v];
  if (!c) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&kernel.getBody().front());
    c = arith::ConstantIndexOp::create(b, loc, v);
  }
  return c;
}

/// Whether `row` and `chunk`, integer forms of the lane values that
/// emitPrologue builds for an ldmatrix.x4 load, give every lane the region
/// row and chunk layout::x4LaneAddress assigns it.
template <typename Row, typename Chunk>
static constexpr bool isX4LaneAddress(const layout::X4Use &use, Row row,
                                      Chunk chunk) {
  for (int l = 0; l < layout::kWarpSize; ++l)
    if (layout::x4LaneAddress(use.order, l) != layout::Coord{row(l), chunk(l)})
      return false;
  return true;
}
static_assert(isX4LaneAddress(
    layout::kX4AFromMK, [](int l) { return l % 16; },
    [](int l) { return l / 16; }));
static_assert(isX4LaneAddress(
    layout::kX4BPairFromNK, [](int l) { return l % 8 + 8 * (l / 16); },
    [](int l) { return l / 8 % 2; }));
static_assert(isX4LaneAddress(
    layout::kX4BPairFromKN, [](int l) { return l % 8 + 8 * (l / 8 % 2); },
    [](int l) { return l / 16; }));

void KernelEmitter::emitPrologue(OpBuilder &b, Location loc) {
  tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value warp = divC(b, loc, tid, layout::kWarpSize);
  warpRow = mulC(b, loc, warp, layout::kMmaRows * slabs);
  lane = remC(b, loc, tid, layout::kWarpSize);
  g = divC(b, loc, lane, layout::kLanesPerGroup);  // layout::groupID
  t4 = remC(b, loc, lane, layout::kLanesPerGroup); // threadIDInGroup
  auto workgroup =
      gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  Value dynamic = gpu::DynamicSharedMemoryOp::create(
      b, loc,
      MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                      MemRefLayoutAttrInterface(), workgroup));
  auto view = [&](int64_t offset, int64_t rows, int64_t d) -> Value {
    auto type = MemRefType::get({rows * d}, elementType,
                                MemRefLayoutAttrInterface(), workgroup);
    return memref::ViewOp::create(b, loc, type, dynamic, idx(b, loc, offset),
                                  ValueRange{});
  };
  sharedQ = view(0, tileQ, dqk);
  sharedK = view(tileQ * dqk * 2, tileKV, dqk);
  sharedV = view((tileQ + tileKV) * dqk * 2, tileKV, dv);
  Type f32 = b.getF32Type();
  int64_t rowSlots = slabs * layout::kAccRowSlots;
  rowMax = memref::AllocaOp::create(b, loc, MemRefType::get({rowSlots}, f32));
  rowSum = memref::AllocaOp::create(b, loc, MemRefType::get({rowSlots}, f32));
  acc = memref::AllocaOp::create(b, loc,
                                 MemRefType::get({slabs * dv / 8}, accType()));
  loadedK =
      memref::AllocaOp::create(b, loc, MemRefType::get({1}, b.getIndexType()));

  // Per-lane addressing, once: the ldmatrix.x4 loads and the tile copies.
  // Lane l gives row l % 8 of matrix m = l / 8, which reads block
  // layout::x4Block(order, m) of a 16 x 16 region; the rows and chunks
  // below are layout::x4LaneAddress (checked by the static_asserts above).
  Value l16 = remC(b, loc, lane, layout::kX4Rows);
  Value l8 = remC(b, loc, lane, layout::kTileSize);
  Value lHalf = divC(b, loc, lane, layout::kX4Rows);                    // m / 2
  Value lPair = remC(b, loc, divC(b, loc, lane, layout::kTileSize), 2); // m % 2
  // A of QK^T from this warp's first 16 rows of Q (region i = slab i).
  fragQ = fragmentAccess(b, loc, sharedQ, dqk, layout::kX4AFromMK,
                         add(b, loc, warpRow, l16), lHalf);
  // B of QK^T, two key tiles, from K.
  fragK = fragmentAccess(
      b, loc, sharedK, dqk, layout::kX4BPairFromNK,
      add(b, loc, l8, mulC(b, loc, lHalf, layout::kTileSize)), lPair);
  // B of PV, two dim tiles, from V (transposed).
  fragV = fragmentAccess(
      b, loc, sharedV, dv, layout::kX4BPairFromKN,
      add(b, loc, l8, mulC(b, loc, lPair, layout::kTileSize)), lHalf);
  copyQ = tileCopy(b, loc, sharedQ, tileQ, dqk);
  copyK = tileCopy(b, loc, sharedK, tileKV, dqk);
  copyV = tileCopy(b, loc, sharedV, tileKV, dv);
}

Value KernelEmitter::swizzledOffset(OpBuilder &b, Location loc, Value row,
                                    Value chunk, int64_t d) {
  // layout::swizzleOf: (row / (8 / w)) % w.
  int64_t w = layout::swizzleChunks(d);
  Value rowPart = row;
  if (w != layout::kSwizzleRows)
    rowPart = divC(b, loc, rowPart, layout::kSwizzleRows / w);
  Value phys = arith::XOrIOp::create(b, loc, chunk, remC(b, loc, rowPart, w));
  return add(b, loc, mulC(b, loc, row, d),
             mulC(b, loc, phys, layout::kChunkElements));
}

KernelEmitter::FragmentAccess
KernelEmitter::fragmentAccess(OpBuilder &b, Location loc, Value smem, int64_t d,
                              const layout::X4Use &use, Value rowLane,
                              Value laneChunk) {
  FragmentAccess access;
  access.smem = smem;
  access.d = d;
  access.transpose = use.transpose;
  access.base = swizzledOffset(b, loc, rowLane, laneChunk, d);
  return access;
}

Value KernelEmitter::ldmatrix(OpBuilder &b, Location loc,
                              const FragmentAccess &access, int64_t i,
                              int64_t j) {
  layout::OffsetStep step = layout::x4RegionStep(i, j, access.d);
  Value base = access.base;
  if (step.xorMask)
    base = arith::XOrIOp::create(b, loc, base, idx(b, loc, step.xorMask));
  Value offset = addC(b, loc, base, step.add);
  return nvgpu::LdMatrixOp::create(b, loc, fragType(4), access.smem,
                                   ValueRange{offset}, access.transpose,
                                   /*numTiles=*/4);
}

KernelEmitter::TileCopy KernelEmitter::tileCopy(OpBuilder &b, Location loc,
                                                Value smem, int64_t rows,
                                                int64_t d) {
  TileCopy copy;
  copy.rows = rows;
  copy.d = d;
  copy.smem = smem;
  int64_t chunksPerRow = d / layout::kChunkElements;
  // The fewest threads per row (a multiple of the swizzle width dividing
  // the row) whose row step divides the tile.
  int64_t perRow = layout::swizzleChunks(d);
  while (rows % (threads / perRow) != 0 && chunksPerRow % (2 * perRow) == 0)
    perRow *= 2;
  int64_t rowStep = threads / perRow;
  // (perRow divides the row and the threads: the swizzle width does, and
  // a row has at most 32 chunks.)
  if (rows % rowStep != 0 || rowStep % layout::kSwizzleRows != 0)
    return copy; // copyTile addresses each chunk on its own
  copy.perRow = perRow;
  copy.rowStep = rowStep;
  copy.row = divC(b, loc, tid, perRow);
  Value chunk = remC(b, loc, tid, perRow);
  copy.col = mulC(b, loc, chunk, layout::kChunkElements);
  copy.shared = swizzledOffset(b, loc, copy.row, chunk, d);
  return copy;
}

Value KernelEmitter::copyTile(OpBuilder &b, Location loc, const TileCopy &copy,
                              Value global, Value batch, Value head,
                              Value row0) {
  auto type = cast<MemRefType>(global.getType());
  int64_t heads = type.getDimSize(1), seqLen = type.getDimSize(2), d = copy.d;
  int64_t chunksPerRow = d / layout::kChunkElements;
  bool ragged = seqLen % copy.rows != 0;
  // Chunks are read at element offsets into the flattened tensor.
  Value flat = memref::CollapseShapeOp::create(
      b, loc, global, ArrayRef<ReassociationIndices>{{0, 1, 2, 3}});
  Value rowsBefore =
      mulC(b, loc, add(b, loc, mulC(b, loc, batch, heads), head), seqLen);
  SmallVector<Value> tokens;
  // Rows at or past the sequence end copy nothing (zero fill) from a
  // valid address (row 0).
  auto clampRow = [&](Value &globalRow, Value &srcElements) {
    if (!ragged)
      return;
    Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                         globalRow, idx(b, loc, seqLen));
    globalRow =
        arith::SelectOp::create(b, loc, inside, globalRow, idx(b, loc, 0));
    srcElements = arith::SelectOp::create(
        b, loc, inside, idx(b, loc, layout::kChunkElements), idx(b, loc, 0));
  };
  auto copyChunk = [&](Value dst, Value offset, Value srcElements) {
    tokens.push_back(nvgpu::DeviceAsyncCopyOp::create(
        b, loc, nvgpu::DeviceAsyncTokenType::get(ctx), copy.smem,
        ValueRange{dst}, flat, ValueRange{offset},
        b.getIndexAttr(layout::kChunkElements), srcElements,
        /*bypassL1=*/UnitAttr::get(ctx)));
  };
  if (copy.shared) {
    // Per row step one global row offset; the chunks of the row at
    // constant distances from it, in shared memory too.
    for (int64_t i = 0; i < copy.rows / copy.rowStep; ++i) {
      Value globalRow =
          addC(b, loc, add(b, loc, row0, copy.row), i * copy.rowStep);
      Value srcElements;
      clampRow(globalRow, srcElements);
      Value rowOffset =
          add(b, loc, mulC(b, loc, add(b, loc, rowsBefore, globalRow), d),
              copy.col);
      for (int64_t g = 0; g < chunksPerRow / copy.perRow; ++g) {
        int64_t along = g * copy.perRow * layout::kChunkElements;
        copyChunk(addC(b, loc, copy.shared, i * copy.rowStep * d + along),
                  addC(b, loc, rowOffset, along), srcElements);
      }
    }
  } else {
    for (int64_t i = 0; i < copy.rows * chunksPerRow / threads; ++i) {
      Value id = addC(b, loc, tid, i * threads);
      Value row = divC(b, loc, id, chunksPerRow);
      Value chunk = remC(b, loc, id, chunksPerRow);
      Value globalRow = add(b, loc, row0, row), srcElements;
      clampRow(globalRow, srcElements);
      Value offset =
          add(b, loc, mulC(b, loc, add(b, loc, rowsBefore, globalRow), d),
              mulC(b, loc, chunk, layout::kChunkElements));
      copyChunk(swizzledOffset(b, loc, row, chunk, d), offset, srcElements);
    }
  }
  return nvgpu::DeviceAsyncCreateGroupOp::create(
      b, loc, nvgpu::DeviceAsyncTokenType::get(ctx), tokens);
}

std::pair<Value, Value> KernelEmitter::splitB(OpBuilder &b, Location loc,
                                              Value x4) {
  // Matrix m of the load fills register dst.reg of fragment dst.fragment.
  Value fragments[2];
  for (int64_t m = 0; m < 4; ++m) {
    layout::FragmentRegister dst =
        layout::x4Destination(layout::MmaOperand::B, static_cast<int>(m));
    Value &v = fragments[dst.fragment];
    if (!v)
      v = arith::ConstantOp::create(
          b, loc, fragType(2),
          DenseElementsAttr::get(fragType(2), b.getZeroAttr(elementType)));
    Value reg = vector::ExtractOp::create(b, loc, x4, m);
    v = vector::InsertOp::create(b, loc, reg, v, dst.reg);
  }
  return {fragments[0], fragments[1]};
}

void KernelEmitter::emitInit(TileInitOp op, Value batch, Value qHead,
                             Value qBegin, Value query) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value lowest = nx::initialRowMax(b, loc);
  Value zero = nx::f32Constant(b, loc, 0.0);
  for (int64_t r = 0; r < slabs * layout::kAccRowSlots; ++r) {
    storeState(b, loc, lowest, rowMax, {r});
    storeState(b, loc, zero, rowSum, {r});
  }
  Value zeroAcc = arith::ConstantOp::create(
      b, loc, accType(),
      DenseElementsAttr::get(accType(), b.getF32FloatAttr(0)));
  for (int64_t n = 0; n < slabs * dv / 8; ++n)
    storeState(b, loc, zeroAcc, acc, {n});
  // No K tile yet: kv_begin is never -1.
  memref::StoreOp::create(b, loc, arith::ConstantIndexOp::create(b, loc, -1),
                          loadedK, ValueRange{idx(b, loc, 0)});
  // The query tile, once per block; it lands together with the first K
  // tile (the first update waits for every group), or, kept in
  // registers, before the kv loop.
  copyTile(b, loc, copyQ, query, batch, qHead, qBegin);
  if (qInRegisters) {
    waitAllAndSync(b, loc);
    for (int64_t slab = 0; slab < slabs; ++slab) {
      queryFragments.emplace_back();
      for (int64_t ks = 0; ks < dqk / 16; ++ks)
        queryFragments.back().push_back(ldmatrix(b, loc, fragQ, slab, ks));
    }
  }
  op.erase();
}

namespace {
using NextTilePlan = KernelEmitter::NextTilePlan;

/// Whether `v`, in `loop`'s body, can be recomputed for another iteration:
/// defined outside the loop, the induction variable, or computed from
/// such values by region-free ops without memory effects or by loads of
/// kernel arguments and globals (tile tables, which the kernel only
/// reads).
bool recomputable(Value v, scf::ForOp loop, DenseMap<Value, bool> &memo) {
  if (v == loop.getInductionVar() || loop.isDefinedOutsideOfLoop(v))
    return true;
  auto it = memo.find(v);
  if (it != memo.end())
    return it->second;
  Operation *def = v.getDefiningOp();
  bool ok = def && def->getNumRegions() == 0;
  if (ok) {
    if (auto load = dyn_cast<memref::LoadOp>(def)) {
      Value mem = load.getMemRef();
      ok = isa<BlockArgument>(mem)
               ? cast<BlockArgument>(mem).getOwner()->isEntryBlock() &&
                     isa<gpu::GPUFuncOp>(
                         cast<BlockArgument>(mem).getOwner()->getParentOp())
               : isa_and_nonnull<memref::GetGlobalOp>(mem.getDefiningOp());
    } else {
      ok = isMemoryEffectFree(def);
    }
  }
  for (Value operand : ok ? def->getOperands() : ValueRange{})
    if (!(ok = recomputable(operand, loop, memo)))
      break;
  memo[v] = ok;
  return ok;
}

/// The plan for `op` when every value it needs is recomputable.
std::optional<NextTilePlan> nextTilePlan(TileUpdateOp op) {
  NextTilePlan plan;
  Operation *at = op;
  while (!plan.loop) {
    Operation *parent = at->getParentOp();
    if (auto loop = dyn_cast_or_null<scf::ForOp>(parent))
      plan.loop = loop;
    else if (auto ifOp = dyn_cast_or_null<scf::IfOp>(parent))
      plan.guards.push_back({ifOp.getCondition(),
                             at->getParentRegion() == &ifOp.getThenRegion()});
    else
      return std::nullopt;
    at = parent;
  }
  DenseMap<Value, bool> memo;
  if (!recomputable(op.getKvBegin(), plan.loop, memo))
    return std::nullopt;
  for (auto [condition, then] : plan.guards)
    if (!recomputable(condition, plan.loop, memo))
      return std::nullopt;
  int64_t updates = 0;
  plan.loop.getBody()->walk([&](TileUpdateOp) { ++updates; });
  plan.tracked = !plan.guards.empty() || updates != 1;
  return plan;
}

/// `v` for the loop iteration whose induction variable `mapping` maps
/// the loop's to, cloning what it is computed from at b's insertion point.
Value recompute(OpBuilder &b, Value v, scf::ForOp loop, IRMapping &mapping) {
  if (Value mapped = mapping.lookupOrNull(v))
    return mapped;
  if (loop.isDefinedOutsideOfLoop(v))
    return v;
  Operation *def = v.getDefiningOp();
  for (Value operand : def->getOperands())
    recompute(b, operand, loop, mapping);
  b.clone(*def, mapping);
  return mapping.lookup(v);
}
} // namespace

LogicalResult KernelEmitter::emitUpdate(TileUpdateOp op) {
  if (failed(checkTileMaskEmittable(op)))
    return failure();
  OpBuilder b(op);
  Location loc = op.getLoc();
  std::optional<NextTilePlan> plan = nextTilePlan(op);
  emitKVCopies(b, loc, op, plan);
  SmallVector<SmallVector<Value>> s = emitQK(b, loc);
  FailureOr<SmallVector<Value>> scores = emitTileScores(b, loc, op, s);
  if (failed(scores))
    return failure();
  // V(j) has landed, and every warp is past QK^T(j): K's buffer is free
  // for the next tile, which lands during the softmax and PV.
  waitAllAndSync(b, loc);
  emitPrefetchNextK(b, loc, op, plan);
  SmallVector<TileProbabilities> p;
  int64_t perSlab = tileKV / 2;
  for (int64_t slab = 0; slab < slabs; ++slab)
    p.push_back(emitSoftmax(
        b, loc, slab, ArrayRef<Value>(*scores).slice(slab * perSlab, perSlab),
        deferredScale(op)));
  emitPV(b, loc, p);
  op.erase();
  return success();
}

Value KernelEmitter::emitKVCopies(OpBuilder &b, Location loc, TileUpdateOp op,
                                  const std::optional<NextTilePlan> &plan) {
  // K's buffer is free here: the last reader was the previous tile's
  // QK^T, before that tile's second barrier. K(j) is copied unless the
  // previous iteration prefetched it.
  Value missing;
  if (plan && plan->tracked) {
    Value loaded = memref::LoadOp::create(b, loc, loadedK, idx(b, loc, 0));
    missing = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, loaded,
                                    op.getKvBegin());
    memref::StoreOp::create(b, loc, op.getKvBegin(), loadedK,
                            ValueRange{idx(b, loc, 0)});
  } else if (plan) {
    scf::ForOp loop = plan->loop;
    missing =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                              loop.getInductionVar(), loop.getLowerBound());
  }
  OpBuilder ib = b;
  if (missing) {
    auto ifOp = scf::IfOp::create(b, loc, missing, /*withElse=*/false);
    ib.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  }
  copyTile(ib, loc, copyK, op.getKey(), op.getBatch(), op.getKvHead(),
           op.getKvBegin());
  // K(j) (and, at the first tile, Q) has landed for every thread, and
  // every warp is past PV(j-1): V's buffer is free.
  waitAllAndSync(b, loc);
  return copyTile(b, loc, copyV, op.getValue(), op.getBatch(), op.getKvHead(),
                  op.getKvBegin());
}

void KernelEmitter::emitPrefetchNextK(OpBuilder &b, Location loc,
                                      TileUpdateOp op,
                                      const std::optional<NextTilePlan> &plan) {
  if (!plan)
    return; // the next tile copies its own K
  scf::ForOp loop = plan->loop;
  Value next = add(b, loc, loop.getInductionVar(), loop.getStep());
  Value more = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, next,
                                     loop.getUpperBound());
  auto ifMore = scf::IfOp::create(b, loc, more, /*withElse=*/false);
  OpBuilder ib(ifMore.thenBlock()->getTerminator());
  IRMapping mapping;
  mapping.map(loop.getInductionVar(), next);
  // The guards of the next iteration's update, outermost first: tables
  // are read only where the loop body reads them.
  for (auto [condition, then] : llvm::reverse(plan->guards)) {
    Value taken = recompute(ib, condition, loop, mapping);
    if (!then)
      taken = arith::XOrIOp::create(
          ib, loc, taken, arith::ConstantIntOp::create(ib, loc, 1, 1));
    auto ifTaken = scf::IfOp::create(ib, loc, taken, /*withElse=*/false);
    ib.setInsertionPoint(ifTaken.thenBlock()->getTerminator());
  }
  Value kvBegin = recompute(ib, op.getKvBegin(), loop, mapping);
  copyTile(ib, loc, copyK, op.getKey(), op.getBatch(), op.getKvHead(), kvBegin);
  if (plan->tracked)
    memref::StoreOp::create(ib, loc, kvBegin, loadedK,
                            ValueRange{idx(ib, loc, 0)});
}

SmallVector<SmallVector<Value>> KernelEmitter::emitQK(OpBuilder &b,
                                                      Location loc) {
  // S = Q K^T for this warp's slabs of 16 rows: tileKV / 8 n8 tiles of
  // keys each; every K fragment feeds one mma per slab.
  Value zeroAcc = arith::ConstantOp::create(
      b, loc, accType(),
      DenseElementsAttr::get(accType(), b.getF32FloatAttr(0)));
  SmallVector<SmallVector<Value>> s(slabs,
                                    SmallVector<Value>(tileKV / 8, zeroAcc));
  for (int64_t ks = 0; ks < dqk / 16; ++ks) {
    SmallVector<Value, 2> a;
    for (int64_t slab = 0; slab < slabs; ++slab)
      a.push_back(qInRegisters ? queryFragments[slab][ks]
                               : ldmatrix(b, loc, fragQ, slab, ks));
    for (int64_t jp = 0; jp < tileKV / 16; ++jp) {
      Value x4 = ldmatrix(b, loc, fragK, jp, ks);
      auto [b0, b1] = splitB(b, loc, x4);
      for (int64_t slab = 0; slab < slabs; ++slab) {
        s[slab][2 * jp] = mma(b, loc, a[slab], b0, s[slab][2 * jp]);
        s[slab][2 * jp + 1] = mma(b, loc, a[slab], b1, s[slab][2 * jp + 1]);
      }
    }
  }
  return s;
}

FailureOr<SmallVector<Value>>
KernelEmitter::emitTileScores(OpBuilder &b, Location loc, TileUpdateOp op,
                              ArrayRef<SmallVector<Value>> s) {
  // Base-2 scores: masked unless the tile is known full; a tile whose
  // fullness is known at run time branches around the scoring only.
  if (!op.mayBeMasked() || !op.getFull())
    return emitScores(b, loc, op, s, op.mayBeMasked());
  SmallVector<Type> types(slabs * tileKV / 2, b.getF32Type());
  auto ifOp = scf::IfOp::create(b, loc, types, op.getFull(), /*withElse=*/true);
  for (auto [block, applyMask] : {std::pair{ifOp.thenBlock(), false},
                                  std::pair{ifOp.elseBlock(), true}}) {
    OpBuilder ib = OpBuilder::atBlockEnd(block);
    FailureOr<SmallVector<Value>> t = emitScores(ib, loc, op, s, applyMask);
    if (failed(t))
      return failure();
    scf::YieldOp::create(ib, loc, *t);
  }
  return SmallVector<Value>(ifOp.getResults());
}

KernelEmitter::TileProbabilities
KernelEmitter::emitSoftmax(OpBuilder &b, Location loc, int64_t slab,
                           ArrayRef<Value> scores,
                           std::optional<double> scale) {
  // This lane's part of the row maxima.
  size_t nTiles = scores.size() / 4;
  SmallVector<SmallVector<Value, 4>> t(nTiles);
  Value rowTileMax[2] = {nx::maskedScore(b, loc), nx::maskedScore(b, loc)};
  for (size_t j = 0; j < nTiles; ++j)
    for (int64_t e = 0; e < 4; ++e) {
      Value v = scores[4 * j + e];
      t[j].push_back(v);
      int64_t slot = layout::accRowSlot(e);
      rowTileMax[slot] = arith::MaximumFOp::create(b, loc, rowTileMax[slot], v);
    }
  // Row maxima over the four lanes of a row; the rescale factors.
  Value alpha[2], mNew[2];
  Value factor = scale ? nx::f32Constant(b, loc, *scale) : Value();
  int64_t slot0 = slab * layout::kAccRowSlots;
  for (int64_t r = 0; r < 2; ++r) {
    Value m = rowTileMax[r];
    for (int32_t offset : {1, 2})
      m = arith::MaximumFOp::create(b, loc, m, shuffleXor(b, loc, m, offset));
    // The factor is positive: the maximum of the scaled scores is the
    // scaled maximum (-inf stays -inf).
    if (scale)
      m = arith::MulFOp::create(b, loc, m, factor);
    Value mOld = loadState(b, loc, rowMax, {slot0 + r});
    mNew[r] = arith::MaximumFOp::create(b, loc, mOld, m);
    alpha[r] = nx::rescaleFactor(b, loc, mOld, mNew[r]);
    storeState(b, loc, mNew[r], rowMax, {slot0 + r});
  }
  // P = exp2(t - m_new); this lane's part of the row sums (the four lanes
  // of a row are added up once, at the end).
  Value rowPartial[2] = {nx::f32Constant(b, loc, 0.0),
                         nx::f32Constant(b, loc, 0.0)};
  // With a deferred scale, the argument is fma(dot, scale, -m_new).
  Value negMax[2];
  if (scale)
    for (int64_t r = 0; r < 2; ++r)
      negMax[r] = arith::NegFOp::create(b, loc, mNew[r]);
  SmallVector<SmallVector<Value, 4>> p(t.size());
  for (size_t j = 0; j < t.size(); ++j)
    for (int64_t e = 0; e < 4; ++e) {
      int64_t slot = layout::accRowSlot(e);
      Value x =
          scale
              ? math::FmaOp::create(b, loc, t[j][e], factor, negMax[slot])
              : arith::SubFOp::create(b, loc, t[j][e], mNew[slot]).getResult();
      Value pe = math::Exp2Op::create(b, loc, x);
      p[j].push_back(pe);
      rowPartial[slot] = arith::AddFOp::create(b, loc, rowPartial[slot], pe);
    }
  // P's accumulator fragments of key tiles 2k and 2k+1 are exactly the A
  // fragment of k step k of PV: a0 a1 | a2 a3 | a4 a5 | a6 a7 =
  // P[2k][0,1] | P[2k][2,3] | P[2k+1][0,1] | P[2k+1][2,3]
  // (layout::aElementFromAccumulators).
  SmallVector<Value> a;
  for (size_t ks = 0; ks < t.size() / 2; ++ks) {
    SmallVector<Value, 8> aElems;
    for (int64_t i = 0; i < 8; ++i) {
      layout::AccumulatorElement from = layout::aElementFromAccumulators(i);
      aElems.push_back(arith::TruncFOp::create(
          b, loc, elementType, p[2 * ks + from.tile][from.element]));
    }
    a.push_back(vector::FromElementsOp::create(b, loc, fragType(4), aElems));
  }
  for (int64_t r = 0; r < 2; ++r) {
    Value l = loadState(b, loc, rowSum, {slot0 + r});
    storeState(b, loc,
               arith::AddFOp::create(b, loc,
                                     arith::MulFOp::create(b, loc, l, alpha[r]),
                                     rowPartial[r]),
               rowSum, {slot0 + r});
  }
  // The accumulator, rescaled.
  // Row slot r of an accumulator is its row r: one factor per row.
  SmallVector<Value, 4> alphaElems;
  for (int64_t e = 0; e < 4; ++e)
    alphaElems.push_back(alpha[layout::accRowSlot(e)]);
  Value alphaRows =
      vector::FromElementsOp::create(b, loc, accType(), alphaElems);
  SmallVector<Value> o;
  for (int64_t n = 0; n < dv / 8; ++n)
    o.push_back(arith::MulFOp::create(
        b, loc, loadState(b, loc, acc, {slab * dv / 8 + n}), alphaRows));
  return {std::move(a), std::move(o)};
}

void KernelEmitter::emitPV(OpBuilder &b, Location loc,
                           ArrayRef<TileProbabilities> probabilities) {
  SmallVector<SmallVector<Value>> o;
  for (const TileProbabilities &slab : probabilities)
    o.push_back(slab.acc);
  // O += P V; every V fragment feeds one mma per slab.
  for (int64_t ks = 0; ks < tileKV / 16; ++ks)
    for (int64_t dp = 0; dp < dv / 16; ++dp) {
      Value x4 = ldmatrix(b, loc, fragV, ks, dp);
      auto [b0, b1] = splitB(b, loc, x4);
      for (int64_t slab = 0; slab < slabs; ++slab) {
        Value a = probabilities[slab].a[ks];
        o[slab][2 * dp] = mma(b, loc, a, b0, o[slab][2 * dp]);
        o[slab][2 * dp + 1] = mma(b, loc, a, b1, o[slab][2 * dp + 1]);
      }
    }
  for (int64_t slab = 0; slab < slabs; ++slab)
    for (int64_t n = 0; n < dv / 8; ++n)
      storeState(b, loc, o[slab][n], acc, {slab * dv / 8 + n});
}

FailureOr<SmallVector<Value>>
KernelEmitter::emitScores(OpBuilder &b, Location loc, TileUpdateOp op,
                          ArrayRef<SmallVector<Value>> s, bool applyMask) {
  int64_t seqKV = cast<MemRefType>(op.getKey().getType()).getDimSize(2);
  int64_t seqQ = cast<MemRefType>(op.getQuery().getType()).getDimSize(2);
  ElementEmitContext elementCtx =
      tileElementContext(op, idx(b, loc, seqQ), idx(b, loc, seqKV),
                         op->getParentOfType<gpu::GPUModuleOp>());
  Value colBase =
      add(b, loc, op.getKvBegin(), mulC(b, loc, t4, layout::kLaneColumns));
  SmallVector<Value> scores;
  for (int64_t slab = 0; slab < slabs; ++slab) {
    Value rows[2] = {laneRow(b, loc, op.getQBegin(), slab, 0),
                     laneRow(b, loc, op.getQBegin(), slab, 1)};
    for (size_t j = 0; j < s[slab].size(); ++j)
      for (int64_t e = 0; e < 4; ++e) {
        int64_t slot = layout::accRowSlot(e), column = layout::accColumn(e);
        Value dot = vector::ExtractOp::create(b, loc, s[slab][j],
                                              ArrayRef<int64_t>{slot, column});
        Value col = addC(b, loc, colBase,
                         static_cast<int64_t>(layout::kTileSize * j) + column);
        // Rows and keys past the sequence ends are computed but never kept
        // or stored; the mask and score emitters (which may read ids, bias
        // or captured tensors at the position) see the last valid one.
        Value row = rows[slot], key = col;
        if (seqQ % tileQ != 0)
          row = arith::MinUIOp::create(b, loc, row, idx(b, loc, seqQ - 1));
        if (seqKV % tileKV != 0)
          key = arith::MinUIOp::create(b, loc, key, idx(b, loc, seqKV - 1));
        FailureOr<Value> score =
            emitTileScore(b, loc, op, elementCtx, dot, row, key, applyMask,
                          /*deferScale=*/true);
        if (failed(score))
          return failure();
        Value v = *score;
        if (seqKV % tileKV != 0) {
          Value inside = arith::CmpIOp::create(
              b, loc, arith::CmpIPredicate::ult, col, idx(b, loc, seqKV));
          v = arith::SelectOp::create(b, loc, inside, v,
                                      nx::maskedScore(b, loc));
        }
        scores.push_back(v);
      }
  }
  return scores;
}

void KernelEmitter::emitFinalize(TileFinalizeOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  // A block that visited no tile still has its Q copy in flight.
  NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);
  // The output and logsumexp are the query tile's rows; fewer than tile_q
  // (a dynamic size, or a static one when the grid has one query tile)
  // where the sequence ends inside the tile.
  auto outType = cast<MemRefType>(op.getOutput().getType());
  Value numRows;
  if (outType.isDynamicDim(0))
    numRows = memref::DimOp::create(b, loc, op.getOutput(), 0);
  else if (outType.getDimSize(0) < tileQ)
    numRows = idx(b, loc, outType.getDimSize(0));
  Value colBase = mulC(b, loc, t4, layout::kLaneColumns);
  Value firstOfRow = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, t4,
                                           idx(b, loc, 0));
  for (int64_t slab = 0; slab < slabs; ++slab)
    for (int64_t r = 0; r < 2; ++r) {
      int64_t slot = slab * layout::kAccRowSlots + r;
      Value l = loadState(b, loc, rowSum, {slot});
      for (int32_t offset : {1, 2})
        l = arith::AddFOp::create(b, loc, l, shuffleXor(b, loc, l, offset));
      Value m = loadState(b, loc, rowMax, {slot});
      Value inv = nx::safeReciprocal(b, loc, l);
      Value row = laneRow(b, loc, idx(b, loc, 0), slab, r);
      OpBuilder::InsertionGuard guard(b);
      if (numRows) {
        Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                             row, numRows);
        auto ifOp = scf::IfOp::create(b, loc, inside, /*withElse=*/false);
        b.setInsertionPointToStart(ifOp.thenBlock());
      }
      for (int64_t n = 0; n < dv / 8; ++n)
        for (int64_t e = 0; e < 4; ++e) {
          if (layout::accRowSlot(e) != r)
            continue;
          Value v = arith::MulFOp::create(
              b, loc,
              vector::ExtractOp::create(
                  b, loc, loadState(b, loc, acc, {slab * dv / 8 + n}),
                  ArrayRef<int64_t>{layout::accRowSlot(e),
                                    layout::accColumn(e)}),
              inv);
          Value col = addC(b, loc, colBase,
                           layout::kTileSize * n + layout::accColumn(e));
          memref::StoreOp::create(
              b, loc,
              arith::TruncFOp::create(b, loc, outType.getElementType(), v),
              op.getOutput(), ValueRange{row, col});
        }
      if (Value lse = op.getLogsumexp()) {
        auto ifOp = scf::IfOp::create(b, loc, firstOfRow, /*withElse=*/false);
        b.setInsertionPointToStart(ifOp.thenBlock());
        memref::StoreOp::create(b, loc, nx::logSumExp(b, loc, m, l), lse, row);
      }
    }
  op.erase();
}
