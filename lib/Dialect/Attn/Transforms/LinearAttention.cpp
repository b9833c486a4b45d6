//===- LinearAttention.cpp - Chunked lowering of linear attention ---------===//
//
// attn.linear_attention in chunked form, never through the Sq x Skv matrix:
// per (batch, head), a running state S = sum_j phi(k_j)^T v_j (Dk x Dv) and
// z = sum_j phi(k_j) (Dk). Causal: each chunk of C queries combines the
// state of the previous chunks (phi(q) S) with a quadratic C x C term
// inside the chunk, then folds its keys into the state. Non-causal: the
// state of all keys, then phi(q) S for every query. Called by attn-tile.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "attn/Dialect/Attn/Transforms/Utils.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::attn;

namespace {

/// phi(x) for the feature maps of linear attention.
Value featureMap(OpBuilder &b, Location loc, FeatureMap map, Value x) {
  Value zero =
      arith::ConstantFloatOp::create(b, loc, b.getF32Type(), APFloat(0.0f));
  switch (map) {
  case FeatureMap::Identity:
    return x;
  case FeatureMap::Relu:
    return arith::MaximumFOp::create(b, loc, x, zero);
  case FeatureMap::EluPlusOne: {
    // elu(x) + 1 = x + 1 for x > 0, exp(x) otherwise.
    Value one =
        arith::ConstantFloatOp::create(b, loc, b.getF32Type(), APFloat(1.0f));
    Value positive =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x, zero);
    return arith::SelectOp::create(b, loc, positive,
                                   arith::AddFOp::create(b, loc, x, one),
                                   math::ExpOp::create(b, loc, x));
  }
  }
  return x;
}

class LinearLowering {
public:
  LinearLowering(LinearAttentionOp op, int64_t chunk)
      : op(op), chunk(chunk), loc(op.getLoc()), map(op.getFeatureMap()) {}

  void run(IRRewriter &rewriter);

private:
  /// phi(X[b, head, row, d]) as f32.
  Value phi(OpBuilder &b, Location loc, Value x, Value head, Value row,
            Value d) {
    return featureMap(b, loc, map, loadAsF32(b, loc, x, {batch, head, row, d}));
  }
  /// phi(q_i) . phi(k_j)
  Value qk(OpBuilder &b, Location loc, Value i, Value j) {
    Value zero = f32(b, loc, 0.0);
    return buildReductionLoop(
        b, loc, indexConstant(b, loc, headDimQK), zero,
        [&](OpBuilder &b, Location loc, Value d, Value sum) -> Value {
          Value p = arith::MulFOp::create(b, loc, phi(b, loc, Q, qHead, i, d),
                                          phi(b, loc, K, kvHead, j, d));
          return arith::AddFOp::create(b, loc, sum, p);
        });
  }
  Value f32(OpBuilder &b, Location loc, double v) {
    return arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                          APFloat(static_cast<float>(v)));
  }
  /// Folds keys [begin, begin + count) into the state.
  void accumulateState(OpBuilder &b, Value begin, Value count);
  /// Writes O[i] from the state (plus `intra` terms when given).
  void emitRow(OpBuilder &b, Value i, Value chunkBegin, Value rowInChunk,
               bool causal);

  LinearAttentionOp op;
  int64_t chunk;
  Location loc;
  FeatureMap map;
  int64_t headDimQK = 0, headDimV = 0;
  Value Q, K, V, O, batch, qHead, kvHead, state, zState, scores;
};

void LinearLowering::accumulateState(OpBuilder &b, Value begin, Value count) {
  buildForLoop(b, loc, count, [&](OpBuilder &b, Location loc, Value c) {
    Value j = arith::AddIOp::create(b, loc, begin, c);
    buildForLoop(
        b, loc, indexConstant(b, loc, headDimQK),
        [&](OpBuilder &b, Location loc, Value d) {
          Value pk = phi(b, loc, K, kvHead, j, d);
          Value z = memref::LoadOp::create(b, loc, zState, d);
          memref::StoreOp::create(b, loc, arith::AddFOp::create(b, loc, z, pk),
                                  zState, d);
          buildForLoop(
              b, loc, indexConstant(b, loc, headDimV),
              [&](OpBuilder &b, Location loc, Value e) {
                Value v = loadAsF32(b, loc, V, {batch, kvHead, j, e});
                Value s =
                    memref::LoadOp::create(b, loc, state, ValueRange{d, e});
                Value upd = arith::AddFOp::create(
                    b, loc, s, arith::MulFOp::create(b, loc, pk, v));
                memref::StoreOp::create(b, loc, upd, state, ValueRange{d, e});
              });
        });
  });
}

void LinearLowering::emitRow(OpBuilder &b, Value i, Value chunkBegin,
                             Value rowInChunk, bool causal) {
  Value zero = f32(b, loc, 0.0);
  Value dk = indexConstant(b, loc, headDimQK);
  // Inter-chunk (or, non-causal, all) keys through the state.
  Value den = buildReductionLoop(
      b, loc, dk, zero, [&](OpBuilder &b, Location loc, Value d, Value acc) {
        Value z = memref::LoadOp::create(b, loc, zState, d);
        return arith::AddFOp::create(
            b, loc, acc,
            arith::MulFOp::create(b, loc, phi(b, loc, Q, qHead, i, d), z));
      });
  Value cols;
  if (causal) {
    // The row's causal part of the chunk: keys chunkBegin .. i.
    cols = arith::AddIOp::create(b, loc, rowInChunk, indexConstant(b, loc, 1));
    den = buildReductionLoop(
        b, loc, cols, den,
        [&](OpBuilder &b, Location loc, Value c, Value acc) -> Value {
          Value a =
              memref::LoadOp::create(b, loc, scores, ValueRange{rowInChunk, c});
          return arith::AddFOp::create(b, loc, acc, a);
        });
  }
  Value scale = f32(b, loc, 1.0);
  if (op.getNormalize())
    scale = arith::DivFOp::create(
        b, loc, scale,
        arith::AddFOp::create(b, loc, den,
                              f32(b, loc, op.getEpsilon().convertToDouble())));
  buildForLoop(
      b, loc, indexConstant(b, loc, headDimV),
      [&](OpBuilder &b, Location loc, Value e) {
        Value num = buildReductionLoop(
            b, loc, dk, zero,
            [&](OpBuilder &b, Location loc, Value d, Value acc) -> Value {
              Value s = memref::LoadOp::create(b, loc, state, ValueRange{d, e});
              return arith::AddFOp::create(
                  b, loc, acc,
                  arith::MulFOp::create(b, loc, phi(b, loc, Q, qHead, i, d),
                                        s));
            });
        if (causal)
          num = buildReductionLoop(
              b, loc, cols, num,
              [&](OpBuilder &b, Location loc, Value c, Value acc) -> Value {
                Value a = memref::LoadOp::create(b, loc, scores,
                                                 ValueRange{rowInChunk, c});
                Value j = arith::AddIOp::create(b, loc, chunkBegin, c);
                Value v = loadAsF32(b, loc, V, {batch, kvHead, j, e});
                return arith::AddFOp::create(
                    b, loc, acc, arith::MulFOp::create(b, loc, a, v));
              });
        storeFromF32(b, loc, arith::MulFOp::create(b, loc, num, scale), O,
                     {batch, qHead, i, e});
      });
}

void LinearLowering::run(IRRewriter &rewriter) {
  OpBuilder &b = rewriter;
  b.setInsertionPoint(op);
  AttentionShape shape = op.getShape();
  headDimQK = shape.headDimQK;
  headDimV = shape.headDimV;
  // Scalar loops on buffers: the operands are read through to_buffer and
  // the output is written into a new buffer, given back as a tensor;
  // one-shot bufferization resolves both.
  auto bufferOf = [&](Value tensor) -> Value {
    auto type = cast<RankedTensorType>(tensor.getType());
    return bufferization::ToBufferOp::create(
        b, loc, MemRefType::get(type.getShape(), type.getElementType()), tensor,
        /*read_only=*/true);
  };
  Q = bufferOf(op.getQuery());
  K = bufferOf(op.getKey());
  V = bufferOf(op.getValue());
  Value numBatch = dimSize(b, loc, Q, 0);
  Value seqQ = dimSize(b, loc, Q, 2);
  Value seqKV = dimSize(b, loc, K, 2);
  auto outType = cast<RankedTensorType>(op.getOutput().getType());
  SmallVector<Value> outSizes;
  if (outType.isDynamicDim(0))
    outSizes.push_back(numBatch);
  if (outType.isDynamicDim(2))
    outSizes.push_back(seqQ);
  O = memref::AllocOp::create(
      b, loc, MemRefType::get(outType.getShape(), outType.getElementType()),
      outSizes);

  SmallVector<OpFoldResult> ubs{numBatch, b.getIndexAttr(shape.numQHeads)};
  auto forall = scf::ForallOp::create(b, loc, ubs, ValueRange(), std::nullopt);
  b.setInsertionPointToStart(forall.getBody());
  batch = forall.getInductionVar(0);
  qHead = forall.getInductionVar(1);
  kvHead = kvHeadOfQueryHead(b, loc, qHead, shape.numQHeads, shape.numKVHeads);
  Type f32Type = b.getF32Type();
  state = memref::AllocOp::create(
      b, loc, MemRefType::get({headDimQK, headDimV}, f32Type));
  zState =
      memref::AllocOp::create(b, loc, MemRefType::get({headDimQK}, f32Type));
  scores =
      memref::AllocOp::create(b, loc, MemRefType::get({chunk, chunk}, f32Type));
  Value zero = f32(b, loc, 0.0);
  buildForLoop(
      b, loc, indexConstant(b, loc, headDimQK),
      [&](OpBuilder &b, Location loc, Value d) {
        memref::StoreOp::create(b, loc, zero, zState, d);
        buildForLoop(
            b, loc, indexConstant(b, loc, headDimV),
            [&](OpBuilder &b, Location loc, Value e) {
              memref::StoreOp::create(b, loc, zero, state, ValueRange{d, e});
            });
      });

  Value c = indexConstant(b, loc, chunk);
  Value zeroIdx = indexConstant(b, loc, 0);
  if (op.getCausal()) {
    auto chunks = scf::ForOp::create(b, loc, zeroIdx, seqQ, c);
    b.setInsertionPointToStart(chunks.getBody());
    Value c0 = chunks.getInductionVar();
    Value rows = clippedExtent(b, loc, chunk, seqQ, c0);
    // A[r][c] = phi(q) . phi(k) within the chunk, for c <= r.
    buildForLoop(b, loc, rows, [&](OpBuilder &b, Location loc, Value r) {
      Value cols = arith::AddIOp::create(b, loc, r, indexConstant(b, loc, 1));
      buildForLoop(b, loc, cols, [&](OpBuilder &b, Location loc, Value cc) {
        Value i = arith::AddIOp::create(b, loc, c0, r);
        Value j = arith::AddIOp::create(b, loc, c0, cc);
        memref::StoreOp::create(b, loc, qk(b, loc, i, j), scores,
                                ValueRange{r, cc});
      });
    });
    buildForLoop(b, loc, rows, [&](OpBuilder &b, Location loc, Value r) {
      emitRow(b, arith::AddIOp::create(b, loc, c0, r), c0, r,
              /*causal=*/true);
    });
    accumulateState(b, c0, rows);
    b.setInsertionPointAfter(chunks);
  } else {
    // The state of all keys, chunk by chunk, then every query.
    auto chunks = scf::ForOp::create(b, loc, zeroIdx, seqKV, c);
    b.setInsertionPointToStart(chunks.getBody());
    accumulateState(
        b, chunks.getInductionVar(),
        clippedExtent(b, loc, chunk, seqKV, chunks.getInductionVar()));
    b.setInsertionPointAfter(chunks);
    buildForLoop(b, loc, seqQ, [&](OpBuilder &b, Location loc, Value i) {
      emitRow(b, i, Value(), Value(), /*causal=*/false);
    });
  }
  b.setInsertionPointAfter(forall);
  rewriter.replaceOp(op, bufferization::ToTensorOp::create(b, loc, outType, O,
                                                           /*restrict=*/true,
                                                           /*writable=*/true));
}

} // namespace

void mlir::attn::lowerLinearAttention(LinearAttentionOp op, int64_t chunk,
                                      IRRewriter &rewriter) {
  LinearLowering(op, chunk).run(rewriter);
}
