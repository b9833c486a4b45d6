//===- AttnToGPU.cpp - Tiled attention to tensor-core GPU kernels ---------===//
//
// attn-tile-to-gpu (see Passes.td for the kernel's structure). The forall
// that attn-tile builds is outlined into a gpu.func whose block ids replace
// the forall's induction variables; its body, block-sparse kv loop
// included, is cloned unchanged, and only the attn.tile_* ops and their
// state buffers are rewritten into warp-level code: the state lives in
// per-thread fragments (private arrays with constant indices, which LLVM
// promotes to registers).
//
// Fragment layouts (PTX ISA, mma.m16n8k16): with g = lane / 4 and
// t = lane % 4, accumulator element e of an n8 tile sits at row
// g + 8 * (e / 2), column 2t + e % 2.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/AttnToGPU/AttnToGPU.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Numerics.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "attn/Dialect/Attn/Transforms/TileElements.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNTILETOGPU
#include "attn/Conversion/AttnToGPU/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;
namespace nx = mlir::attn::numerics;

namespace {


/// Builds the warp-level code of one kernel.
class KernelEmitter {
public:
  KernelEmitter(gpu::GPUFuncOp kernel, Type elementType, int64_t headDimQK,
                int64_t headDimV)
      : kernel(kernel), ctx(kernel.getContext()), elementType(elementType),
        dqk(headDimQK), dv(headDimV) {}

  /// Thread ids, shared-memory views and the private state, at the kernel
  /// entry.
  void emitPrologue(OpBuilder &b, Location loc);
  void emitInit(TileInitOp op, Value batch, Value qHead, Value qBegin,
                Value query);
  /// Expands `op` at `at` (the op itself, or the scf.if holding it and
  /// `masked`, its partial-tile twin: then only the scoring differs
  /// between the two, under `isFull`, and the tile body is emitted once).
  LogicalResult emitUpdate(TileUpdateOp op, Operation *at,
                           TileUpdateOp masked = {}, Value isFull = {});
  /// The 32 base-2 scores of this lane from the QK^T accumulators.
  FailureOr<SmallVector<Value>> emitScores(OpBuilder &b, Location loc,
                                           TileUpdateOp op,
                                           ArrayRef<Value> s);
  void emitFinalize(TileFinalizeOp op);

  int64_t sharedBytes() const {
    return (kGpuTileQ * dqk + kGpuTileKV * dqk + kGpuTileKV * dv) * 2;
  }

private:
  // Small builders.
  Value idx(OpBuilder &b, Location loc, int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v);
  }
  Value add(OpBuilder &b, Location loc, Value x, Value y) {
    return arith::AddIOp::create(b, loc, x, y);
  }
  Value addC(OpBuilder &b, Location loc, Value x, int64_t c) {
    return c ? add(b, loc, x, idx(b, loc, c)) : x;
  }
  Value mulC(OpBuilder &b, Location loc, Value x, int64_t c) {
    return arith::MulIOp::create(b, loc, x, idx(b, loc, c));
  }
  Value divC(OpBuilder &b, Location loc, Value x, int64_t c) {
    return arith::DivUIOp::create(b, loc, x, idx(b, loc, c));
  }
  Value remC(OpBuilder &b, Location loc, Value x, int64_t c) {
    return arith::RemUIOp::create(b, loc, x, idx(b, loc, c));
  }
  VectorType fragType(int64_t rows) {
    return VectorType::get({rows, 2}, elementType);
  }
  VectorType accType() { return VectorType::get({2, 2}, Float32Type::get(ctx)); }

  /// Issues the cp.async copies of rows [row0, row0 + 64) of
  /// memref[batch, head, :, :] (head dim d) into the swizzled tile `smem`;
  /// rows at or past the sequence end are zero-filled. Commits one group
  /// and returns its token.
  Value copyTile(OpBuilder &b, Location loc, Value global, Value batch,
                Value head, Value row0, int64_t d, Value smem);
  /// The physical column of 16-byte chunk `chunk` in row `row`.
  Value swizzledColumn(OpBuilder &b, Location loc, Value row, Value chunk);
  Value ldmatrix(OpBuilder &b, Location loc, Value smem, Value row,
                 Value chunk, int64_t d, bool transpose);
  /// The two B fragments (vector<2x2xT>) in an ldmatrix.x4 result.
  std::pair<Value, Value> splitB(OpBuilder &b, Location loc, Value x4);
  Value mma(OpBuilder &b, Location loc, Value a, Value bFrag, Value c) {
    return nvgpu::MmaSyncOp::create(b, loc, a, bFrag, c,
                                    b.getI64ArrayAttr({16, 8, 16}));
  }
  Value shuffleXor(OpBuilder &b, Location loc, Value v, int32_t offset) {
    Value off = arith::ConstantIntOp::create(b, loc, offset, 32);
    Value width = arith::ConstantIntOp::create(b, loc, 32, 32);
    return gpu::ShuffleOp::create(b, loc, v, off, width,
                                  gpu::ShuffleMode::XOR)
        .getShuffleResult();
  }
  Value loadState(OpBuilder &b, Location loc, Value mem,
                  ArrayRef<int64_t> at) {
    SmallVector<Value> indices;
    for (int64_t i : at)
      indices.push_back(idx(b, loc, i));
    return memref::LoadOp::create(b, loc, mem, indices);
  }
  void storeState(OpBuilder &b, Location loc, Value v, Value mem,
                  ArrayRef<int64_t> at) {
    SmallVector<Value> indices;
    for (int64_t i : at)
      indices.push_back(idx(b, loc, i));
    memref::StoreOp::create(b, loc, v, mem, indices);
  }
  /// The absolute query row of accumulator rows r = 0, 1 of this lane.
  Value laneRow(OpBuilder &b, Location loc, Value qBegin, int64_t r) {
    return addC(b, loc, add(b, loc, qBegin, add(b, loc, warpRow, g)), 8 * r);
  }

  gpu::GPUFuncOp kernel;
  MLIRContext *ctx;
  Type elementType;
  int64_t dqk, dv;
  Value tid, warpRow, lane, g, t4;
  Value sharedQ, sharedK, sharedV;
  Value rowMax, rowSum, acc; // private: [2], [2], [dv / 8, 4]
};

void KernelEmitter::emitPrologue(OpBuilder &b, Location loc) {
  tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value warp = divC(b, loc, tid, 32);
  warpRow = mulC(b, loc, warp, 16);
  lane = remC(b, loc, tid, 32);
  g = divC(b, loc, lane, 4);
  t4 = remC(b, loc, lane, 4);
  auto workgroup = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  Value dynamic = gpu::DynamicSharedMemoryOp::create(
      b, loc,
      MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                      MemRefLayoutAttrInterface(), workgroup));
  auto view = [&](int64_t offset, int64_t rows, int64_t d) -> Value {
    auto type =
        MemRefType::get({rows, d}, elementType, MemRefLayoutAttrInterface(),
                        workgroup);
    return memref::ViewOp::create(b, loc, type, dynamic, idx(b, loc, offset),
                                  ValueRange{});
  };
  sharedQ = view(0, kGpuTileQ, dqk);
  sharedK = view(kGpuTileQ * dqk * 2, kGpuTileKV, dqk);
  sharedV = view((kGpuTileQ + kGpuTileKV) * dqk * 2, kGpuTileKV, dv);
  Type f32 = b.getF32Type();
  rowMax = memref::AllocaOp::create(b, loc, MemRefType::get({2}, f32));
  rowSum = memref::AllocaOp::create(b, loc, MemRefType::get({2}, f32));
  acc = memref::AllocaOp::create(b, loc, MemRefType::get({dv / 8, 4}, f32));
}

Value KernelEmitter::swizzledColumn(OpBuilder &b, Location loc, Value row,
                                    Value chunk) {
  // 16-byte chunk c of row r lives at chunk c ^ (r % 8): the eight rows an
  // ldmatrix phase reads hit eight different bank groups.
  Value phys = arith::XOrIOp::create(b, loc, chunk, remC(b, loc, row, 8));
  return mulC(b, loc, phys, 8);
}

Value KernelEmitter::copyTile(OpBuilder &b, Location loc, Value global,
                             Value batch, Value head, Value row0, int64_t d,
                             Value smem) {
  auto type = cast<MemRefType>(global.getType());
  int64_t seqLen = type.getDimSize(2);
  int64_t chunksPerRow = d / 8;
  int64_t perThread = kGpuTileKV * chunksPerRow / kGpuThreads;
  SmallVector<Value> tokens;
  for (int64_t i = 0; i < perThread; ++i) {
    Value id = addC(b, loc, tid, i * kGpuThreads);
    Value row = divC(b, loc, id, chunksPerRow);
    Value chunk = remC(b, loc, id, chunksPerRow);
    Value globalRow = add(b, loc, row0, row);
    Value srcElements;
    if (seqLen % kGpuTileKV != 0) {
      // Rows past the end copy nothing (zero fill) from a valid address.
      Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                           globalRow, idx(b, loc, seqLen));
      globalRow = arith::SelectOp::create(b, loc, inside, globalRow,
                                          idx(b, loc, 0));
      srcElements =
          arith::SelectOp::create(b, loc, inside, idx(b, loc, 8), idx(b, loc, 0));
    }
    Value col = mulC(b, loc, chunk, 8);
    Value dstCol = swizzledColumn(b, loc, row, chunk);
    tokens.push_back(nvgpu::DeviceAsyncCopyOp::create(
        b, loc, nvgpu::DeviceAsyncTokenType::get(ctx), smem,
        ValueRange{row, dstCol}, global,
        ValueRange{batch, head, globalRow, col}, b.getIndexAttr(8),
        srcElements, /*bypassL1=*/UnitAttr()));
  }
  return nvgpu::DeviceAsyncCreateGroupOp::create(
      b, loc, nvgpu::DeviceAsyncTokenType::get(ctx), tokens);
}

Value KernelEmitter::ldmatrix(OpBuilder &b, Location loc, Value smem,
                              Value row, Value chunk, int64_t d,
                              bool transpose) {
  Value col = swizzledColumn(b, loc, row, chunk);
  return nvgpu::LdMatrixOp::create(b, loc, fragType(4), smem,
                                   ValueRange{row, col}, transpose,
                                   /*numTiles=*/4);
}

std::pair<Value, Value> KernelEmitter::splitB(OpBuilder &b, Location loc,
                                              Value x4) {
  auto half = [&](int64_t first) -> Value {
    Value v = arith::ConstantOp::create(
        b, loc, fragType(2),
        DenseElementsAttr::get(fragType(2), b.getZeroAttr(elementType)));
    for (int64_t r = 0; r < 2; ++r) {
      Value row = vector::ExtractOp::create(b, loc, x4, first + r);
      v = vector::InsertOp::create(b, loc, row, v, r);
    }
    return v;
  };
  return {half(0), half(2)};
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
  Value group = copyTile(b, loc, query, batch, qHead, qBegin, dqk, sharedQ);
  nvgpu::DeviceAsyncWaitOp::create(b, loc, group, b.getI32IntegerAttr(0));
  gpu::BarrierOp::create(b, loc);
  op.erase();
}

LogicalResult KernelEmitter::emitUpdate(TileUpdateOp op, Operation *at,
                                        TileUpdateOp masked, Value isFull) {
  if (failed(checkTileMaskEmittable(op)) ||
      (masked && failed(checkTileMaskEmittable(masked))))
    return failure();
  OpBuilder b(at);
  Location loc = op.getLoc();

  // K and V tiles in two groups: V lands while QK^T runs. The barrier
  // keeps the copies from overwriting the previous tile under its readers.
  gpu::BarrierOp::create(b, loc);
  copyTile(b, loc, op.getKey(), op.getBatch(), op.getKvHead(), op.getKvBegin(),
           dqk, sharedK);
  Value vGroup = copyTile(b, loc, op.getValue(), op.getBatch(),
                          op.getKvHead(), op.getKvBegin(), dv, sharedV);
  nvgpu::DeviceAsyncWaitOp::create(b, loc, vGroup, b.getI32IntegerAttr(1));
  gpu::BarrierOp::create(b, loc);

  // S = Q K^T for this warp's 16 rows: eight n8 tiles of 64 keys.
  Value zeroAcc = arith::ConstantOp::create(
      b, loc, accType(), DenseElementsAttr::get(accType(), b.getF32FloatAttr(0)));
  SmallVector<Value> s(kGpuTileKV / 8, zeroAcc);
  Value l16 = remC(b, loc, lane, 16), l8 = remC(b, loc, lane, 8);
  Value lHalf = divC(b, loc, lane, 16);
  Value lPair = remC(b, loc, divC(b, loc, lane, 8), 2);
  for (int64_t ks = 0; ks < dqk / 16; ++ks) {
    Value a = ldmatrix(b, loc, sharedQ, add(b, loc, warpRow, l16),
                       addC(b, loc, lHalf, 2 * ks), dqk, false);
    for (int64_t jp = 0; jp < kGpuTileKV / 16; ++jp) {
      // Matrices: keys 16jp+0..7 / dims 16ks+0..7, +8 dims, +8 keys, both.
      Value row = addC(b, loc, add(b, loc, l8, mulC(b, loc, lHalf, 8)), 16 * jp);
      Value x4 = ldmatrix(b, loc, sharedK, row, addC(b, loc, lPair, 2 * ks),
                          dqk, false);
      auto [b0, b1] = splitB(b, loc, x4);
      s[2 * jp] = mma(b, loc, a, b0, s[2 * jp]);
      s[2 * jp + 1] = mma(b, loc, a, b1, s[2 * jp + 1]);
    }
  }

  // Base-2 scores (masked on partial tiles), and this lane's part of the
  // row maxima.
  SmallVector<Value> scores;
  if (!masked) {
    FailureOr<SmallVector<Value>> t = emitScores(b, loc, op, s);
    if (failed(t))
      return failure();
    scores = *t;
  } else {
    SmallVector<Type> types(4 * s.size(), b.getF32Type());
    auto ifOp = scf::IfOp::create(b, loc, types, isFull, /*withElse=*/true);
    for (auto [block, variant] :
         {std::pair<Block *, TileUpdateOp>{ifOp.thenBlock(), op},
          std::pair<Block *, TileUpdateOp>{ifOp.elseBlock(), masked}}) {
      OpBuilder ib = OpBuilder::atBlockEnd(block);
      FailureOr<SmallVector<Value>> t = emitScores(ib, loc, variant, s);
      if (failed(t))
        return failure();
      scf::YieldOp::create(ib, loc, *t);
    }
    scores.assign(ifOp.getResults().begin(), ifOp.getResults().end());
  }
  SmallVector<SmallVector<Value, 4>> t(s.size());
  Value rowTileMax[2] = {nx::maskedScore(b, loc), nx::maskedScore(b, loc)};
  for (size_t j = 0; j < s.size(); ++j)
    for (int64_t e = 0; e < 4; ++e) {
      Value v = scores[4 * j + e];
      t[j].push_back(v);
      rowTileMax[e / 2] =
          arith::MaximumFOp::create(b, loc, rowTileMax[e / 2], v);
    }

  // Row maxima over the four lanes of a row; the rescale factors.
  Value alpha[2], mNew[2];
  for (int64_t r = 0; r < 2; ++r) {
    Value m = rowTileMax[r];
    for (int32_t offset : {1, 2})
      m = arith::MaximumFOp::create(b, loc, m, shuffleXor(b, loc, m, offset));
    Value mOld = loadState(b, loc, rowMax, {r});
    mNew[r] = arith::MaximumFOp::create(b, loc, mOld, m);
    alpha[r] = nx::rescaleFactor(b, loc, mOld, mNew[r]);
    storeState(b, loc, mNew[r], rowMax, {r});
  }
  // P = exp2(t - m_new); this lane's part of the row sums (the four lanes
  // of a row are added up once, at the end).
  Value rowPartial[2] = {nx::f32Constant(b, loc, 0.0),
                         nx::f32Constant(b, loc, 0.0)};
  SmallVector<SmallVector<Value, 4>> p(t.size());
  for (size_t j = 0; j < t.size(); ++j)
    for (int64_t e = 0; e < 4; ++e) {
      Value pe = math::Exp2Op::create(
          b, loc, arith::SubFOp::create(b, loc, t[j][e], mNew[e / 2]));
      p[j].push_back(pe);
      rowPartial[e / 2] = arith::AddFOp::create(b, loc, rowPartial[e / 2], pe);
    }
  for (int64_t r = 0; r < 2; ++r) {
    Value l = loadState(b, loc, rowSum, {r});
    storeState(b, loc,
               arith::AddFOp::create(
                   b, loc, arith::MulFOp::create(b, loc, l, alpha[r]),
                   rowPartial[r]),
               rowSum, {r});
  }
  // The accumulator, rescaled.
  SmallVector<Value> o;
  for (int64_t n = 0; n < dv / 8; ++n) {
    SmallVector<Value, 4> elems;
    for (int64_t e = 0; e < 4; ++e)
      elems.push_back(arith::MulFOp::create(
          b, loc, loadState(b, loc, acc, {n, e}), alpha[e / 2]));
    o.push_back(vector::FromElementsOp::create(b, loc, accType(), elems));
  }

  // O += P V once V has landed. P's accumulator fragments of key tiles 2k
  // and 2k+1 are exactly the A fragment of k step k.
  nvgpu::DeviceAsyncWaitOp::create(b, loc, vGroup, b.getI32IntegerAttr(0));
  gpu::BarrierOp::create(b, loc);
  for (int64_t ks = 0; ks < kGpuTileKV / 16; ++ks) {
    SmallVector<Value, 8> aElems;
    // a0 a1 | a2 a3 | a4 a5 | a6 a7 = P[2k][0,1] | P[2k][2,3] |
    // P[2k+1][0,1] | P[2k+1][2,3].
    for (int64_t tile : {2 * ks, 2 * ks + 1})
      for (int64_t e = 0; e < 4; ++e)
        aElems.push_back(
            arith::TruncFOp::create(b, loc, elementType, p[tile][e]));
    Value a = vector::FromElementsOp::create(b, loc, fragType(4), aElems);
    // Matrices: keys 16ks+0..7 / dims 16dp+0..7, +8 keys, +8 dims, both.
    Value row = addC(b, loc, add(b, loc, l8, mulC(b, loc, lPair, 8)), 16 * ks);
    for (int64_t dp = 0; dp < dv / 16; ++dp) {
      Value x4 = ldmatrix(b, loc, sharedV, row, addC(b, loc, lHalf, 2 * dp),
                          dv, true);
      auto [b0, b1] = splitB(b, loc, x4);
      o[2 * dp] = mma(b, loc, a, b0, o[2 * dp]);
      o[2 * dp + 1] = mma(b, loc, a, b1, o[2 * dp + 1]);
    }
  }
  for (int64_t n = 0; n < dv / 8; ++n)
    for (int64_t e = 0; e < 4; ++e)
      storeState(b, loc,
                 vector::ExtractOp::create(b, loc, o[n],
                                           ArrayRef<int64_t>{e / 2, e % 2}),
                 acc, {n, e});
  if (at != op.getOperation())
    at->erase(); // the scf.if with both variants
  else
    op.erase();
  return success();
}

FailureOr<SmallVector<Value>>
KernelEmitter::emitScores(OpBuilder &b, Location loc, TileUpdateOp op,
                          ArrayRef<Value> s) {
  int64_t seqKV = cast<MemRefType>(op.getKey().getType()).getDimSize(2);
  int64_t seqQ = cast<MemRefType>(op.getQuery().getType()).getDimSize(2);
  ElementEmitContext elementCtx =
      tileElementContext(op, idx(b, loc, seqQ), idx(b, loc, seqKV),
                         op->getParentOfType<gpu::GPUModuleOp>());
  Value rows[2] = {laneRow(b, loc, op.getQBegin(), 0),
                   laneRow(b, loc, op.getQBegin(), 1)};
  Value colBase = add(b, loc, op.getKvBegin(), mulC(b, loc, t4, 2));
  SmallVector<Value> scores;
  for (size_t j = 0; j < s.size(); ++j)
    for (int64_t e = 0; e < 4; ++e) {
      Value dot = vector::ExtractOp::create(b, loc, s[j],
                                            ArrayRef<int64_t>{e / 2, e % 2});
      Value col = addC(b, loc, colBase, static_cast<int64_t>(8 * j) + e % 2);
      // Rows and keys past the sequence ends are computed but never kept
      // or stored; the mask and score emitters (which may read ids, bias
      // or captured tensors at the position) see the last valid one.
      Value row = rows[e / 2], key = col;
      if (seqQ % kGpuTileQ != 0)
        row = arith::MinUIOp::create(b, loc, row, idx(b, loc, seqQ - 1));
      if (seqKV % kGpuTileKV != 0)
        key = arith::MinUIOp::create(b, loc, key, idx(b, loc, seqKV - 1));
      FailureOr<Value> score =
          emitTileScore(b, loc, op, elementCtx, dot, row, key);
      if (failed(score))
        return failure();
      Value v = *score;
      if (seqKV % kGpuTileKV != 0) {
        Value inside = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::ult, col, idx(b, loc, seqKV));
        v = arith::SelectOp::create(b, loc, inside, v, nx::maskedScore(b, loc));
      }
      scores.push_back(v);
    }
  return scores;
}

void KernelEmitter::emitFinalize(TileFinalizeOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto outType = cast<MemRefType>(op.getOutput().getType());
  int64_t seqQ = outType.getDimSize(2);
  Value inv[2], m[2], l[2], rows[2];
  for (int64_t r = 0; r < 2; ++r) {
    l[r] = loadState(b, loc, rowSum, {r});
    for (int32_t offset : {1, 2})
      l[r] = arith::AddFOp::create(b, loc, l[r], shuffleXor(b, loc, l[r], offset));
    m[r] = loadState(b, loc, rowMax, {r});
    inv[r] = nx::safeReciprocal(b, loc, l[r]);
    rows[r] = laneRow(b, loc, op.getQBegin(), r);
  }
  Value colBase = mulC(b, loc, t4, 2);
  Value firstOfRow = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                           t4, idx(b, loc, 0));
  for (int64_t r = 0; r < 2; ++r) {
    OpBuilder::InsertionGuard guard(b);
    if (seqQ % kGpuTileQ != 0) {
      Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                           rows[r], idx(b, loc, seqQ));
      auto ifOp = scf::IfOp::create(b, loc, inside, /*withElse=*/false);
      b.setInsertionPointToStart(ifOp.thenBlock());
    }
    for (int64_t n = 0; n < dv / 8; ++n)
      for (int64_t e = 2 * r; e < 2 * r + 2; ++e) {
        Value v = arith::MulFOp::create(b, loc, loadState(b, loc, acc, {n, e}),
                                        inv[r]);
        Value col = addC(b, loc, colBase, 8 * n + e % 2);
        memref::StoreOp::create(
            b, loc, arith::TruncFOp::create(b, loc, outType.getElementType(), v),
            op.getOutput(),
            ValueRange{op.getBatch(), op.getQHead(), rows[r], col});
      }
    if (Value lse = op.getLogsumexp()) {
      auto ifOp = scf::IfOp::create(b, loc, firstOfRow, /*withElse=*/false);
      b.setInsertionPointToStart(ifOp.thenBlock());
      memref::StoreOp::create(b, loc, nx::logSumExp(b, loc, m[r], l[r]), lse,
                              ValueRange{op.getBatch(), op.getQHead(), rows[r]});
    }
  }
  op.erase();
}

/// What a kernel parameter stands for on the host: `argN` for a function
/// argument (a memref argument, or a tensor one through
/// bufferization.to_buffer), `resultN` for a result (through
/// bufferization.to_tensor), or empty when neither.
std::string parameterOrigin(Value value, func::FuncOp func) {
  if (auto arg = dyn_cast<BlockArgument>(value))
    if (arg.getOwner() == &func.getBody().front())
      return "arg" + std::to_string(arg.getArgNumber());
  if (auto toBuffer = value.getDefiningOp<bufferization::ToBufferOp>())
    if (auto arg = dyn_cast<BlockArgument>(toBuffer.getTensor()))
      if (arg.getOwner() == &func.getBody().front())
        return "arg" + std::to_string(arg.getArgNumber());
  if (value.getDefiningOp<memref::AllocOp>()) {
    for (Operation *user : value.getUsers()) {
      auto toTensor = dyn_cast<bufferization::ToTensorOp>(user);
      if (!toTensor)
        continue;
      for (OpOperand &use : toTensor.getResult().getUses())
        if (isa<func::ReturnOp>(use.getOwner()))
          return "result" + std::to_string(use.getOperandNumber());
    }
  }
  return "";
}

/// Whether `v` is computed from constants by side-effect-free ops only, so
/// that the kernel can recompute it instead of taking it as a parameter.
bool isRematerializable(Value v) {
  Operation *def = v.getDefiningOp();
  if (!def || def->getNumRegions() != 0 || !isMemoryEffectFree(def))
    return false;
  return llvm::all_of(def->getOperands(), isRematerializable);
}

/// Clones the computation of `v` (isRematerializable) at `b`.
Value rematerialize(OpBuilder &b, Value v, IRMapping &mapping) {
  if (Value known = mapping.lookupOrNull(v))
    return known;
  Operation *def = v.getDefiningOp();
  for (Value operand : def->getOperands())
    rematerialize(b, operand, mapping);
  Operation *clone = b.clone(*def, mapping);
  return clone->getResult(cast<OpResult>(v).getResultNumber());
}

class AttnTileToGPUPass final
    : public mlir::attn::impl::AttnTileToGPUBase<AttnTileToGPUPass> {
public:
  using AttnTileToGPUBase::AttnTileToGPUBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Foralls of attn-tile in program order: tile-table builders and the
    // attention grids. Nested foralls are left to their parents.
    SmallVector<scf::ForallOp> foralls;
    module.walk<WalkOrder::PreOrder>([&](scf::ForallOp forall) {
      if (forall->getParentOfType<scf::ForallOp>())
        return WalkResult::skip();
      foralls.push_back(forall);
      return WalkResult::skip();
    });
    for (scf::ForallOp forall : foralls) {
      bool attention = !forall.getBody()->getOps<TileInitOp>().empty();
      if (failed(attention ? outline(forall) : outlineTable(forall)))
        return signalPassFailure();
    }
    if (gpu::GPUModuleOp gpuModule =
            module.lookupSymbol<gpu::GPUModuleOp>("attn_kernels")) {
      Builder b(&getContext());
      gpuModule->setAttr(kGpuLaunchOrderAttr, b.getArrayAttr(launchOrder));
      gpuModule->setAttr(kGpuTempBytesAttr,
                         b.getDenseI64ArrayAttr(tempBytes));
      SmallVector<Attribute> shapes;
      for (ArrayRef<int64_t> shape : tempShapes)
        shapes.push_back(b.getDenseI64ArrayAttr(shape));
      gpuModule->setAttr(kGpuTempShapesAttr, b.getArrayAttr(shapes));
    }
  }

private:
  gpu::GPUModuleOp kernelModule(ModuleOp module) {
    if (auto existing = module.lookupSymbol<gpu::GPUModuleOp>("attn_kernels"))
      return existing;
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    UnitAttr::get(module.getContext()));
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    return gpu::GPUModuleOp::create(b, module.getLoc(), "attn_kernels");
  }

  /// A gpu.func for `forall` taking the memrefs its body uses from the
  /// host (recorded with their origins) and recomputing the rest; the
  /// mapping leads from host values to kernel values, the builder is at
  /// the start of the kernel body.
  struct Outlined {
    gpu::GPUFuncOp kernel;
    SmallVector<Value> params;
    IRMapping mapping;
  };
  FailureOr<Outlined> createKernel(scf::ForallOp forall, StringRef suffix,
                                   OpBuilder &b);
  /// Copies the host constant tables the kernel reads into the GPU module.
  void copyGlobals(gpu::GPUFuncOp kernel);
  /// Records the launch contract and replaces `forall` with the launch.
  void launch(scf::ForallOp forall, Outlined &outlined,
              ArrayRef<int64_t> grid, int64_t sharedBytes);
  /// The origin of a kernel parameter; host allocations that are not
  /// results become temporaries (tempN) the launcher allocates.
  std::string originOf(Value v, func::FuncOp func);

  LogicalResult outline(scf::ForallOp forall);
  LogicalResult outlineTable(scf::ForallOp forall);

  SmallVector<Attribute> launchOrder;
  SmallVector<int64_t> tempBytes;
  SmallVector<SmallVector<int64_t>> tempShapes;
  DenseMap<Value, unsigned> temps;
  unsigned kernelCount = 0;
};

std::string AttnTileToGPUPass::originOf(Value v, func::FuncOp func) {
  std::string origin = parameterOrigin(v, func);
  if (!origin.empty())
    return origin;
  auto alloc = v.getDefiningOp<memref::AllocOp>();
  auto type = cast<MemRefType>(v.getType());
  if (!alloc || !type.hasStaticShape())
    return "";
  auto [it, inserted] = temps.try_emplace(v, tempBytes.size());
  if (inserted) {
    tempBytes.push_back(type.getNumElements() *
                        ((type.getElementTypeBitWidth() + 7) / 8));
    tempShapes.emplace_back(type.getShape());
  }
  return "temp" + std::to_string(it->second);
}

FailureOr<AttnTileToGPUPass::Outlined>
AttnTileToGPUPass::createKernel(scf::ForallOp forall, StringRef suffix,
                                OpBuilder &b) {
  auto func = forall->getParentOfType<func::FuncOp>();
  if (!func)
    return forall.emitError("attn-tile-to-gpu: expected the forall in a "
                            "func.func");
  // The kernel's parameters: the values the forall uses from outside,
  // except those computed from constants, which are recomputed.
  llvm::SetVector<Value> used;
  getUsedValuesDefinedAbove(forall.getRegion(), used);
  Outlined outlined;
  SmallVector<Attribute> origins;
  // Captured tensors reach the regions as bufferization.to_tensor of a
  // memref: the kernel takes the memref and rebuilds the tensor view.
  SmallVector<std::pair<Value, bufferization::ToTensorOp>> tensorViews;
  for (Value v : used) {
    if (isRematerializable(v))
      continue;
    if (auto toTensor = v.getDefiningOp<bufferization::ToTensorOp>()) {
      Value memref = toTensor.getBuffer();
      std::string origin = originOf(memref, func);
      if (origin.empty())
        return forall.emitError("attn-tile-to-gpu: a captured tensor is not "
                                "an argument of the function");
      tensorViews.push_back({v, toTensor});
      outlined.params.push_back(memref);
      origins.push_back(StringAttr::get(&getContext(), origin));
      continue;
    }
    if (!isa<MemRefType>(v.getType()))
      return forall.emitError("attn-tile-to-gpu: the kernel would take a "
                              "non-memref value from the host: ")
             << v;
    std::string origin = originOf(v, func);
    if (origin.empty())
      return forall.emitError("attn-tile-to-gpu: a kernel buffer is neither "
                              "an argument nor a result of the function, "
                              "nor a static host allocation");
    outlined.params.push_back(v);
    origins.push_back(StringAttr::get(&getContext(), origin));
  }

  ModuleOp module = getOperation();
  gpu::GPUModuleOp gpuModule = kernelModule(module);
  b.setInsertionPointToEnd(gpuModule.getBody());
  Location loc = forall.getLoc();
  SmallVector<Type> paramTypes;
  for (Value v : outlined.params)
    paramTypes.push_back(v.getType());
  std::string name = (func.getSymName() + "_" + suffix +
                      (kernelCount ? "_" + std::to_string(kernelCount) : ""))
                         .str();
  ++kernelCount;
  auto kernel = gpu::GPUFuncOp::create(b, loc, name,
                                       b.getFunctionType(paramTypes, {}));
  kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  kernel.setKnownBlockSizeAttr(
      b.getDenseI32ArrayAttr({static_cast<int32_t>(kGpuThreads), 1, 1}));
  kernel->setAttr(kGpuParamsAttr, b.getArrayAttr(origins));
  Block &entry = kernel.getBody().front();
  b.setInsertionPointToStart(&entry);
  for (auto [v, arg] : llvm::zip(outlined.params, entry.getArguments()))
    outlined.mapping.map(v, arg);
  for (auto &[tensor, toTensor] : tensorViews)
    outlined.mapping.map(
        tensor, bufferization::ToTensorOp::create(
                    b, loc, tensor.getType(),
                    outlined.mapping.lookup(toTensor.getBuffer()),
                    /*restrict=*/true));
  for (Value v : used)
    if (!outlined.mapping.contains(v))
      rematerialize(b, v, outlined.mapping);
  outlined.kernel = kernel;
  return outlined;
}

void AttnTileToGPUPass::copyGlobals(gpu::GPUFuncOp kernel) {
  ModuleOp module = getOperation();
  auto gpuModule = kernel->getParentOfType<gpu::GPUModuleOp>();
  SymbolTable gpuSymbols(gpuModule);
  kernel.walk([&](memref::GetGlobalOp get) {
    if (gpuSymbols.lookup(get.getName()))
      return;
    if (auto global = module.lookupSymbol<memref::GlobalOp>(get.getName())) {
      OpBuilder gb = OpBuilder::atBlockBegin(gpuModule.getBody());
      gpuSymbols.insert(gb.clone(*global));
    }
  });
}

/// tensor.extract from a captured tensor's view becomes a load of its
/// memref (the GPU pipeline does not bufferize).
void loadCapturedTensors(gpu::GPUFuncOp kernel) {
  SmallVector<tensor::ExtractOp> extracts;
  kernel.walk([&](tensor::ExtractOp op) {
    if (op.getTensor().getDefiningOp<bufferization::ToTensorOp>())
      extracts.push_back(op);
  });
  for (tensor::ExtractOp op : extracts) {
    OpBuilder b(op);
    auto view = op.getTensor().getDefiningOp<bufferization::ToTensorOp>();
    Value load = memref::LoadOp::create(b, op.getLoc(), view.getBuffer(),
                                        op.getIndices());
    op.getResult().replaceAllUsesWith(load);
    op.erase();
  }
  kernel.walk([&](bufferization::ToTensorOp op) {
    if (op->use_empty())
      op.erase();
  });
}

void AttnTileToGPUPass::launch(scf::ForallOp forall, Outlined &outlined,
                               ArrayRef<int64_t> grid, int64_t sharedBytes) {
  gpu::GPUFuncOp kernel = outlined.kernel;
  loadCapturedTensors(kernel);
  Builder b(&getContext());
  kernel->setAttr(kGpuGridAttr, b.getDenseI64ArrayAttr(grid));
  kernel->setAttr(kGpuBlockAttr, b.getDenseI64ArrayAttr({kGpuThreads, 1, 1}));
  kernel->setAttr(kGpuSharedAttr, b.getI64IntegerAttr(sharedBytes));
  launchOrder.push_back(b.getStringAttr(kernel.getName()));
  OpBuilder hb(forall);
  Location loc = forall.getLoc();
  auto c = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(hb, loc, v);
  };
  Value smem = arith::ConstantIntOp::create(hb, loc, sharedBytes, 32);
  gpu::LaunchFuncOp::create(hb, loc, kernel,
                            gpu::KernelDim3{c(grid[0]), c(grid[1]), c(grid[2])},
                            gpu::KernelDim3{c(kGpuThreads), c(1), c(1)}, smem,
                            outlined.params);
  forall.erase();
}

/// A run-time tile table: a forall over (batch, head, q tile, kv tile) that
/// counts each tile's kept elements. One thread per tile.
LogicalResult AttnTileToGPUPass::outlineTable(scf::ForallOp forall) {
  std::optional<SmallVector<int64_t>> bounds =
      getConstantIntValues(forall.getMixedUpperBound());
  SmallVector<int64_t> dims;
  // The bounds are the table's (static) shape.
  forall.walk([&](memref::StoreOp store) {
    auto type = cast<MemRefType>(store.getMemRef().getType());
    if (type.hasStaticShape() && type.getRank() == forall.getRank())
      dims = SmallVector<int64_t>(type.getShape());
  });
  if (bounds)
    dims = *bounds;
  if (dims.size() != static_cast<size_t>(forall.getRank()) ||
      forall.getRank() != 4)
    return forall.emitError("attn-tile-to-gpu: expected a tile-table forall "
                            "over (batch, head, q tile, kv tile) with a "
                            "static shape");
  OpBuilder b(&getContext());
  FailureOr<Outlined> outlined = createKernel(forall, "tile_table", b);
  if (failed(outlined))
    return failure();
  Location loc = forall.getLoc();
  int64_t total = dims[0] * dims[1] * dims[2] * dims[3];
  auto c = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value bid = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value id = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, bid, c(kGpuThreads)), tid);
  Value inside =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, id, c(total));
  auto ifOp = scf::IfOp::create(b, loc, inside, /*withElse=*/false);
  gpu::ReturnOp::create(b, loc);
  b.setInsertionPointToStart(ifOp.thenBlock());
  // Delinearise (row-major over the table).
  SmallVector<Value> ivs(forall.getInductionVars());
  Value rest = id;
  for (int d = 3; d >= 0; --d) {
    outlined->mapping.map(ivs[d],
                          arith::RemUIOp::create(b, loc, rest, c(dims[d])));
    rest = arith::DivUIOp::create(b, loc, rest, c(dims[d]));
  }
  for (Operation &op : forall.getBody()->without_terminator())
    b.clone(op, outlined->mapping);
  copyGlobals(outlined->kernel);
  launch(forall, *outlined, {(total + kGpuThreads - 1) / kGpuThreads, 1, 1},
         0);
  return success();
}

LogicalResult AttnTileToGPUPass::outline(scf::ForallOp forall) {
  auto func = forall->getParentOfType<func::FuncOp>();
  Block *body = forall.getBody();
  auto inits = llvm::to_vector(body->getOps<TileInitOp>());
  auto finals = llvm::to_vector(body->getOps<TileFinalizeOp>());
  SmallVector<TileUpdateOp> updates;
  forall.walk([&](TileUpdateOp op) { updates.push_back(op); });
  if (!func || forall.getRank() != 3 || inits.size() != 1 ||
      finals.size() != 1 || updates.empty())
    return forall.emitError("attn-tile-to-gpu: expected the forall of "
                            "attn-tile (batch, head, query tile) with one "
                            "tile_init, tile updates and one tile_finalize");
  TileUpdateOp first = updates.front();
  auto qType = cast<MemRefType>(first.getQuery().getType());
  auto kType = cast<MemRefType>(first.getKey().getType());
  auto vType = cast<MemRefType>(first.getValue().getType());
  Type elementType = qType.getElementType();
  if (!elementType.isF16() && !elementType.isBF16())
    return first.emitError("attn-tile-to-gpu: the GPU path takes f16 or bf16 "
                           "inputs, not ")
           << elementType;
  if (!qType.hasStaticShape() || !kType.hasStaticShape() ||
      !vType.hasStaticShape())
    return first.emitError("attn-tile-to-gpu: the GPU path needs static "
                           "shapes");
  int64_t dqk = qType.getDimSize(3), dv = vType.getDimSize(3);
  if (dqk % 64 != 0 || dv % 64 != 0 || dqk > 256 || dv > 256)
    return first.emitError("attn-tile-to-gpu: head dimensions must be "
                           "multiples of 64 up to 256, not ")
           << dqk << " and " << dv;
  for (TileUpdateOp op : updates)
    if (op.getTileQ() != kGpuTileQ || op.getTileKv() != kGpuTileKV)
      return op.emitError("attn-tile-to-gpu: the GPU kernels use 64 x 64 "
                          "tiles (attn-tile tile-q=64 tile-kv=64)");

  OpBuilder b(&getContext());
  FailureOr<Outlined> outlined = createKernel(forall, "kernel", b);
  if (failed(outlined))
    return failure();
  gpu::GPUFuncOp kernel = outlined->kernel;
  IRMapping &mapping = outlined->mapping;
  Location loc = forall.getLoc();
  KernelEmitter emitter(kernel, elementType, dqk, dv);
  emitter.emitPrologue(b, loc);

  // Block ids: x the query tile, y the head, z the batch.
  SmallVector<Value> ivs(forall.getInductionVars());
  mapping.map(ivs[0], gpu::BlockIdOp::create(b, loc, gpu::Dimension::z));
  mapping.map(ivs[1], gpu::BlockIdOp::create(b, loc, gpu::Dimension::y));
  mapping.map(ivs[2], gpu::BlockIdOp::create(b, loc, gpu::Dimension::x));
  for (Operation &op : body->without_terminator())
    b.clone(op, mapping);
  gpu::ReturnOp::create(b, loc);
  copyGlobals(kernel);

  // Rewrite the cloned tile ops; their state buffers go away.
  TileInitOp kInit;
  TileFinalizeOp kFinal;
  SmallVector<TileUpdateOp> kUpdates;
  kernel.walk([&](Operation *op) {
    if (auto i = dyn_cast<TileInitOp>(op))
      kInit = i;
    else if (auto f = dyn_cast<TileFinalizeOp>(op))
      kFinal = f;
    else if (auto u = dyn_cast<TileUpdateOp>(op))
      kUpdates.push_back(u);
  });
  llvm::SetVector<Operation *> stateBuffers;
  for (Value v : {kInit.getRowMax(), kInit.getRowSum(), kInit.getAcc()})
    stateBuffers.insert(v.getDefiningOp());
  for (TileUpdateOp u : kUpdates)
    stateBuffers.insert(u.getScratch().getDefiningOp());
  // The query tile is loaded at tile_init, with the first update's indices.
  TileUpdateOp kFirst = kUpdates.front();
  DominanceInfo dominance(kernel);
  for (Value v : SmallVector<Value>{kFirst.getBatch(), kFirst.getQHead(),
                                    kFirst.getQBegin(), kFirst.getQuery()})
    if (!dominance.properlyDominates(v, kInit))
      return first.emitError("attn-tile-to-gpu: the query tile's indices are "
                             "not known at tile_init");
  emitter.emitInit(kInit, kFirst.getBatch(), kFirst.getQHead(),
                   kFirst.getQBegin(), kFirst.getQuery());
  // A full tile and its partial twin under one scf.if share one body.
  DenseSet<Operation *> done;
  for (TileUpdateOp u : kUpdates) {
    if (done.contains(u))
      continue;
    auto ifOp = dyn_cast<scf::IfOp>(u->getParentOp());
    TileUpdateOp twin;
    if (ifOp && !u.getMask() && ifOp.getNumResults() == 0 &&
        &ifOp.getThenRegion() == u->getParentRegion() &&
        !ifOp.getElseRegion().empty()) {
      // attn-tile computes the tile's start in each branch: such pure ops
      // move in front of the scf.if, so that one body can serve both.
      bool simple = true;
      for (Region *region : {&ifOp.getThenRegion(), &ifOp.getElseRegion()})
        for (Operation &op : region->front().without_terminator())
          if (!isa<TileUpdateOp>(op) &&
              (op.getNumRegions() || !isMemoryEffectFree(&op)))
            simple = false;
      auto updates = llvm::to_vector(
          ifOp.getElseRegion().front().getOps<TileUpdateOp>());
      auto thenUpdates = llvm::to_vector(
          ifOp.getThenRegion().front().getOps<TileUpdateOp>());
      if (simple && updates.size() == 1 && thenUpdates.size() == 1 &&
          updates[0].getMask()) {
        for (Region *region : {&ifOp.getThenRegion(), &ifOp.getElseRegion()})
          for (Operation &op : llvm::make_early_inc_range(
                   region->front().without_terminator()))
            if (!isa<TileUpdateOp>(op))
              op.moveBefore(ifOp);
        twin = updates[0];
      }
    }
    if (twin) {
      done.insert(twin);
      if (failed(emitter.emitUpdate(u, ifOp, twin, ifOp.getCondition())))
        return failure();
    } else if (failed(emitter.emitUpdate(u, u))) {
      return failure();
    }
  }
  emitter.emitFinalize(kFinal);
  for (Operation *alloc : stateBuffers) {
    if (!alloc)
      continue;
    for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
      if (isa<memref::DeallocOp>(user))
        user->erase();
    if (alloc->use_empty())
      alloc->erase();
  }

  // exp2 and log as the approximate instructions FlashAttention uses.
  kernel.walk([&](Operation *op) {
    OpBuilder rb(op);
    Type f32 = rb.getF32Type();
    if (auto exp2 = dyn_cast<math::Exp2Op>(op); exp2 && exp2.getType() == f32) {
      auto call = LLVM::CallIntrinsicOp::create(
          rb, op->getLoc(), f32, rb.getStringAttr("llvm.nvvm.ex2.approx.ftz.f"),
          ValueRange{exp2.getOperand()});
      exp2.replaceAllUsesWith(call.getResult(0));
      exp2.erase();
    } else if (auto log = dyn_cast<math::LogOp>(op);
               log && log.getType() == f32) {
      auto call = LLVM::CallIntrinsicOp::create(
          rb, op->getLoc(), f32, rb.getStringAttr("llvm.nvvm.lg2.approx.f"),
          ValueRange{log.getOperand()});
      Value ln = arith::MulFOp::create(rb, op->getLoc(), call.getResult(0),
                                       nx::f32Constant(rb, op->getLoc(), nx::kLn2));
      log.replaceAllUsesWith(ln);
      log.erase();
    }
  });

  // The launch contract, and the launch itself in place of the forall.
  SmallVector<int64_t> grid = {(qType.getDimSize(2) + kGpuTileQ - 1) / kGpuTileQ,
                               qType.getDimSize(1), qType.getDimSize(0)};
  launch(forall, *outlined, grid, emitter.sharedBytes());
  return success();
}

} // namespace

FailureOr<ModuleContract>
mlir::attn::readLaunchContract(gpu::GPUModuleOp gpuModule) {
  auto order = gpuModule->getAttrOfType<ArrayAttr>(kGpuLaunchOrderAttr);
  auto temps = gpuModule->getAttrOfType<DenseI64ArrayAttr>(kGpuTempBytesAttr);
  auto shapes = gpuModule->getAttrOfType<ArrayAttr>(kGpuTempShapesAttr);
  if (!order || !temps || !shapes || order.empty() ||
      static_cast<int64_t>(shapes.size()) != temps.size())
    return gpuModule.emitError("no attn-tile-to-gpu launch contract");
  ModuleContract contract;
  contract.tempBytes.assign(temps.asArrayRef().begin(),
                            temps.asArrayRef().end());
  for (Attribute shape : shapes) {
    auto dims = dyn_cast<DenseI64ArrayAttr>(shape);
    if (!dims)
      return gpuModule.emitError("malformed temporary shapes");
    contract.tempShapes.emplace_back(dims.asArrayRef());
  }
  for (Attribute nameAttr : order) {
    auto name = dyn_cast<StringAttr>(nameAttr);
    auto kernel =
        name ? gpuModule.lookupSymbol<gpu::GPUFuncOp>(name) : gpu::GPUFuncOp();
    auto grid = kernel ? kernel->getAttrOfType<DenseI64ArrayAttr>(kGpuGridAttr)
                       : DenseI64ArrayAttr();
    auto block = kernel
                     ? kernel->getAttrOfType<DenseI64ArrayAttr>(kGpuBlockAttr)
                     : DenseI64ArrayAttr();
    auto shared = kernel ? kernel->getAttrOfType<IntegerAttr>(kGpuSharedAttr)
                         : IntegerAttr();
    auto params = kernel ? kernel->getAttrOfType<ArrayAttr>(kGpuParamsAttr)
                         : ArrayAttr();
    if (!grid || !block || !shared || !params || grid.size() != 3 ||
        block.size() != 3 ||
        params.size() != kernel.getNumArguments())
      return gpuModule.emitError("malformed launch contract for kernel ")
             << nameAttr;
    KernelContract k;
    k.name = name.str();
    for (int d = 0; d < 3; ++d) {
      k.grid[d] = grid[d];
      k.block[d] = block[d];
    }
    k.dynamicSharedBytes = shared.getInt();
    for (auto p : params.getAsRange<StringAttr>())
      k.params.push_back(p.str());
    contract.kernels.push_back(std::move(k));
  }
  return contract;
}

void mlir::attn::buildAttnToGpuPipeline(OpPassManager &pm) {
  AttnTileOptions tile;
  tile.tileQ = kGpuTileQ;
  tile.tileKV = kGpuTileKV;
  pm.addPass(createAttnTile(tile));
  pm.addPass(createAttnTileToGPU());
}

void mlir::attn::registerAttnToGpuPipeline() {
  PassPipelineRegistration<>(
      "attn-to-gpu",
      "Tile attn.attention (64 x 64) and outline it into tensor-core GPU "
      "kernels (attn-tile, attn-tile-to-gpu)",
      buildAttnToGpuPipeline);
}
