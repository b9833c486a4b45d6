//===- KernelEmitter.cpp - The warp-level FlashAttention-2 body -----------===//

#include "KernelEmitter.h"

#include "attn/Dialect/Attn/Transforms/Numerics.h"
#include "attn/Dialect/Attn/Transforms/TileElements.h"

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
  warpRow = mulC(b, loc, warp, layout::kMmaRows);
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
  rowMax = memref::AllocaOp::create(b, loc, MemRefType::get({2}, f32));
  rowSum = memref::AllocaOp::create(b, loc, MemRefType::get({2}, f32));
  acc = memref::AllocaOp::create(b, loc, MemRefType::get({dv / 8, 4}, f32));

  // Per-lane addressing, once: the ldmatrix.x4 loads and the tile copies.
  // Lane l gives row l % 8 of matrix m = l / 8, which reads block
  // layout::x4Block(order, m) of a 16 x 16 region; the rows and chunks
  // below are layout::x4LaneAddress (checked by the static_asserts above).
  Value l16 = remC(b, loc, lane, layout::kX4Rows);
  Value l8 = remC(b, loc, lane, layout::kTileSize);
  Value lHalf = divC(b, loc, lane, layout::kX4Rows);                    // m / 2
  Value lPair = remC(b, loc, divC(b, loc, lane, layout::kTileSize), 2); // m % 2
  // A of QK^T from this warp's 16 rows of Q.
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
  Value phys = arith::XOrIOp::create(b, loc, chunk,
                                     remC(b, loc, row, layout::kSwizzleRows));
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
  if (threads % chunksPerRow != 0)
    return copy; // copyTile addresses each chunk on its own
  int64_t rowStep = threads / chunksPerRow;
  int64_t perThread = rows * chunksPerRow / threads;
  copy.row = divC(b, loc, tid, chunksPerRow);
  Value chunk = remC(b, loc, tid, chunksPerRow);
  copy.col = mulC(b, loc, chunk, layout::kChunkElements);
  // The swizzle repeats every 8 rows: row + i * rowStep is placed like
  // row + (i * rowStep) % 8, whole 8-row groups further.
  DenseMap<int64_t, Value> byResidue;
  for (int64_t i = 0; i < perThread; ++i) {
    int64_t residue = i * rowStep % layout::kSwizzleRows;
    Value &lanePart = byResidue[residue];
    if (!lanePart)
      lanePart =
          swizzledOffset(b, loc, addC(b, loc, copy.row, residue), chunk, d);
    // The offset of row + (i * rowStep) % 8 already counts those rows.
    copy.shared.push_back(lanePart);
  }
  return copy;
}

Value KernelEmitter::copyTile(OpBuilder &b, Location loc, const TileCopy &copy,
                              Value global, Value batch, Value head,
                              Value row0) {
  auto type = cast<MemRefType>(global.getType());
  int64_t seqLen = type.getDimSize(2), d = copy.d;
  int64_t chunksPerRow = d / layout::kChunkElements;
  int64_t perThread = copy.rows * chunksPerRow / threads;
  SmallVector<Value> tokens;
  for (int64_t i = 0; i < perThread; ++i) {
    Value row, col, dst;
    if (!copy.shared.empty()) {
      int64_t rowStep = threads / chunksPerRow;
      row = addC(b, loc, copy.row, i * rowStep);
      col = copy.col;
      int64_t groups = i * rowStep / layout::kSwizzleRows;
      dst = addC(b, loc, copy.shared[i], groups * layout::kSwizzleRows * d);
    } else {
      Value id = addC(b, loc, tid, i * threads);
      row = divC(b, loc, id, chunksPerRow);
      Value chunk = remC(b, loc, id, chunksPerRow);
      col = mulC(b, loc, chunk, layout::kChunkElements);
      dst = swizzledOffset(b, loc, row, chunk, d);
    }
    Value globalRow = add(b, loc, row0, row);
    Value srcElements;
    if (seqLen % copy.rows != 0) {
      // Rows past the end copy nothing (zero fill) from a valid address.
      Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                           globalRow, idx(b, loc, seqLen));
      globalRow =
          arith::SelectOp::create(b, loc, inside, globalRow, idx(b, loc, 0));
      srcElements = arith::SelectOp::create(
          b, loc, inside, idx(b, loc, layout::kChunkElements), idx(b, loc, 0));
    }
    tokens.push_back(nvgpu::DeviceAsyncCopyOp::create(
        b, loc, nvgpu::DeviceAsyncTokenType::get(ctx), copy.smem,
        ValueRange{dst}, global, ValueRange{batch, head, globalRow, col},
        b.getIndexAttr(layout::kChunkElements), srcElements,
        /*bypassL1=*/UnitAttr()));
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
  for (int64_t r = 0; r < 2; ++r) {
    storeState(b, loc, lowest, rowMax, {r});
    storeState(b, loc, zero, rowSum, {r});
  }
  for (int64_t n = 0; n < dv / 8; ++n)
    for (int64_t e = 0; e < 4; ++e)
      storeState(b, loc, zero, acc, {n, e});
  // The query tile, once per block.
  Value group = copyTile(b, loc, copyQ, query, batch, qHead, qBegin);
  nvgpu::DeviceAsyncWaitOp::create(b, loc, group, b.getI32IntegerAttr(0));
  gpu::BarrierOp::create(b, loc);
  op.erase();
}

LogicalResult KernelEmitter::emitUpdate(TileUpdateOp op) {
  if (failed(checkTileMaskEmittable(op)))
    return failure();
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value vGroup = emitKVCopies(b, loc, op);
  SmallVector<Value> s = emitQK(b, loc);
  FailureOr<SmallVector<Value>> scores = emitTileScores(b, loc, op, s);
  if (failed(scores))
    return failure();
  TileProbabilities p = emitSoftmax(b, loc, *scores, deferredScale(op));
  emitPV(b, loc, p, vGroup);
  op.erase();
  return success();
}

Value KernelEmitter::emitKVCopies(OpBuilder &b, Location loc, TileUpdateOp op) {
  // K and V tiles in two groups: V lands while QK^T runs. The barrier
  // keeps the copies from overwriting the previous tile under its readers.
  gpu::BarrierOp::create(b, loc);
  copyTile(b, loc, copyK, op.getKey(), op.getBatch(), op.getKvHead(),
           op.getKvBegin());
  Value vGroup = copyTile(b, loc, copyV, op.getValue(), op.getBatch(),
                          op.getKvHead(), op.getKvBegin());
  nvgpu::DeviceAsyncWaitOp::create(b, loc, vGroup, b.getI32IntegerAttr(1));
  gpu::BarrierOp::create(b, loc);
  return vGroup;
}

SmallVector<Value> KernelEmitter::emitQK(OpBuilder &b, Location loc) {
  // S = Q K^T for this warp's 16 rows: tileKV / 8 n8 tiles of keys.
  Value zeroAcc = arith::ConstantOp::create(
      b, loc, accType(),
      DenseElementsAttr::get(accType(), b.getF32FloatAttr(0)));
  SmallVector<Value> s(tileKV / 8, zeroAcc);
  for (int64_t ks = 0; ks < dqk / 16; ++ks) {
    Value a = ldmatrix(b, loc, fragQ, 0, ks);
    for (int64_t jp = 0; jp < tileKV / 16; ++jp) {
      Value x4 = ldmatrix(b, loc, fragK, jp, ks);
      auto [b0, b1] = splitB(b, loc, x4);
      s[2 * jp] = mma(b, loc, a, b0, s[2 * jp]);
      s[2 * jp + 1] = mma(b, loc, a, b1, s[2 * jp + 1]);
    }
  }
  return s;
}

FailureOr<SmallVector<Value>> KernelEmitter::emitTileScores(OpBuilder &b,
                                                            Location loc,
                                                            TileUpdateOp op,
                                                            ArrayRef<Value> s) {
  // Base-2 scores: masked unless the tile is known full; a tile whose
  // fullness is known at run time branches around the scoring only.
  if (!op.mayBeMasked() || !op.getFull())
    return emitScores(b, loc, op, s, op.mayBeMasked());
  SmallVector<Type> types(4 * s.size(), b.getF32Type());
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
KernelEmitter::emitSoftmax(OpBuilder &b, Location loc, ArrayRef<Value> scores,
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
  for (int64_t r = 0; r < 2; ++r) {
    Value m = rowTileMax[r];
    for (int32_t offset : {1, 2})
      m = arith::MaximumFOp::create(b, loc, m, shuffleXor(b, loc, m, offset));
    // The factor is positive: the maximum of the scaled scores is the
    // scaled maximum (-inf stays -inf).
    if (scale)
      m = arith::MulFOp::create(b, loc, m, factor);
    Value mOld = loadState(b, loc, rowMax, {r});
    mNew[r] = arith::MaximumFOp::create(b, loc, mOld, m);
    alpha[r] = nx::rescaleFactor(b, loc, mOld, mNew[r]);
    storeState(b, loc, mNew[r], rowMax, {r});
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
  for (int64_t r = 0; r < 2; ++r) {
    Value l = loadState(b, loc, rowSum, {r});
    storeState(b, loc,
               arith::AddFOp::create(b, loc,
                                     arith::MulFOp::create(b, loc, l, alpha[r]),
                                     rowPartial[r]),
               rowSum, {r});
  }
  // The accumulator, rescaled.
  SmallVector<Value> o;
  for (int64_t n = 0; n < dv / 8; ++n) {
    SmallVector<Value, 4> elems;
    for (int64_t e = 0; e < 4; ++e)
      elems.push_back(arith::MulFOp::create(b, loc,
                                            loadState(b, loc, acc, {n, e}),
                                            alpha[layout::accRowSlot(e)]));
    o.push_back(vector::FromElementsOp::create(b, loc, accType(), elems));
  }
  return {std::move(p), std::move(o)};
}

void KernelEmitter::emitPV(OpBuilder &b, Location loc,
                           const TileProbabilities &probabilities,
                           Value vGroup) {
  const auto &p = probabilities.p;
  SmallVector<Value> o = probabilities.acc;
  // O += P V once V has landed. P's accumulator fragments of key tiles 2k
  // and 2k+1 are exactly the A fragment of k step k.
  nvgpu::DeviceAsyncWaitOp::create(b, loc, vGroup, b.getI32IntegerAttr(0));
  gpu::BarrierOp::create(b, loc);
  for (int64_t ks = 0; ks < tileKV / 16; ++ks) {
    SmallVector<Value, 8> aElems;
    // a0 a1 | a2 a3 | a4 a5 | a6 a7 = P[2k][0,1] | P[2k][2,3] |
    // P[2k+1][0,1] | P[2k+1][2,3] (layout::aElementFromAccumulators).
    for (int64_t i = 0; i < 8; ++i) {
      layout::AccumulatorElement from = layout::aElementFromAccumulators(i);
      aElems.push_back(arith::TruncFOp::create(
          b, loc, elementType, p[2 * ks + from.tile][from.element]));
    }
    Value a = vector::FromElementsOp::create(b, loc, fragType(4), aElems);
    for (int64_t dp = 0; dp < dv / 16; ++dp) {
      Value x4 = ldmatrix(b, loc, fragV, ks, dp);
      auto [b0, b1] = splitB(b, loc, x4);
      o[2 * dp] = mma(b, loc, a, b0, o[2 * dp]);
      o[2 * dp + 1] = mma(b, loc, a, b1, o[2 * dp + 1]);
    }
  }
  for (int64_t n = 0; n < dv / 8; ++n)
    for (int64_t e = 0; e < 4; ++e)
      storeState(
          b, loc,
          vector::ExtractOp::create(
              b, loc, o[n],
              ArrayRef<int64_t>{layout::accRowSlot(e), layout::accColumn(e)}),
          acc, {n, e});
}

FailureOr<SmallVector<Value>>
KernelEmitter::emitScores(OpBuilder &b, Location loc, TileUpdateOp op,
                          ArrayRef<Value> s, bool applyMask) {
  int64_t seqKV = cast<MemRefType>(op.getKey().getType()).getDimSize(2);
  int64_t seqQ = cast<MemRefType>(op.getQuery().getType()).getDimSize(2);
  ElementEmitContext elementCtx =
      tileElementContext(op, idx(b, loc, seqQ), idx(b, loc, seqKV),
                         op->getParentOfType<gpu::GPUModuleOp>());
  Value rows[2] = {laneRow(b, loc, op.getQBegin(), 0),
                   laneRow(b, loc, op.getQBegin(), 1)};
  Value colBase =
      add(b, loc, op.getKvBegin(), mulC(b, loc, t4, layout::kLaneColumns));
  SmallVector<Value> scores;
  for (size_t j = 0; j < s.size(); ++j)
    for (int64_t e = 0; e < 4; ++e) {
      int64_t slot = layout::accRowSlot(e), column = layout::accColumn(e);
      Value dot = vector::ExtractOp::create(b, loc, s[j],
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
        Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                             col, idx(b, loc, seqKV));
        v = arith::SelectOp::create(b, loc, inside, v, nx::maskedScore(b, loc));
      }
      scores.push_back(v);
    }
  return scores;
}

void KernelEmitter::emitFinalize(TileFinalizeOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  // The output and logsumexp are the query tile's rows; fewer than tile_q
  // (a dynamic size) where the sequence ends inside the tile.
  auto outType = cast<MemRefType>(op.getOutput().getType());
  Value numRows;
  if (outType.isDynamicDim(0))
    numRows = memref::DimOp::create(b, loc, op.getOutput(), 0);
  Value inv[2], m[2], l[2], rows[2];
  for (int64_t r = 0; r < 2; ++r) {
    l[r] = loadState(b, loc, rowSum, {r});
    for (int32_t offset : {1, 2})
      l[r] =
          arith::AddFOp::create(b, loc, l[r], shuffleXor(b, loc, l[r], offset));
    m[r] = loadState(b, loc, rowMax, {r});
    inv[r] = nx::safeReciprocal(b, loc, l[r]);
    rows[r] = laneRow(b, loc, idx(b, loc, 0), r);
  }
  Value colBase = mulC(b, loc, t4, layout::kLaneColumns);
  Value firstOfRow = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, t4,
                                           idx(b, loc, 0));
  for (int64_t r = 0; r < 2; ++r) {
    OpBuilder::InsertionGuard guard(b);
    if (numRows) {
      Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                           rows[r], numRows);
      auto ifOp = scf::IfOp::create(b, loc, inside, /*withElse=*/false);
      b.setInsertionPointToStart(ifOp.thenBlock());
    }
    for (int64_t n = 0; n < dv / 8; ++n)
      for (int64_t e = 0; e < 4; ++e) {
        if (layout::accRowSlot(e) != r)
          continue;
        Value v = arith::MulFOp::create(b, loc, loadState(b, loc, acc, {n, e}),
                                        inv[r]);
        Value col =
            addC(b, loc, colBase, layout::kTileSize * n + layout::accColumn(e));
        memref::StoreOp::create(
            b, loc,
            arith::TruncFOp::create(b, loc, outType.getElementType(), v),
            op.getOutput(), ValueRange{rows[r], col});
      }
    if (Value lse = op.getLogsumexp()) {
      auto ifOp = scf::IfOp::create(b, loc, firstOfRow, /*withElse=*/false);
      b.setInsertionPointToStart(ifOp.thenBlock());
      memref::StoreOp::create(b, loc, nx::logSumExp(b, loc, m[r], l[r]), lse,
                              rows[r]);
    }
  }
  op.erase();
}
