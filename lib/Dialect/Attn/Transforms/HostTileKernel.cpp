//===- HostTileKernel.cpp - One tile update as CPU vector code ------------===//
//
// See HostTileKernel.h. Every loop here has whole vectors: a vector's lanes
// divide the extent it runs along (hostVectorLanes), the tile's rows are
// padded to tile_q in Qt and S, and a clipped tile reads its last valid
// key instead of one past the sequence (the column is never used).
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/Transforms/HostTileKernel.h"

#include "attn/Dialect/Attn/Transforms/Numerics.h"
#include "attn/Dialect/Attn/Transforms/TileElements.h"
#include "attn/Dialect/Attn/Transforms/Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;
using namespace mlir::attn;
namespace nx = mlir::attn::numerics;

int64_t mlir::attn::hostVectorLanes(int64_t extent, int64_t width) {
  int64_t lanes = 1;
  while (lanes * 2 <= width && extent % (lanes * 2) == 0)
    lanes *= 2;
  return lanes;
}

namespace {

/// The largest of 8, 4, 2 and 1 that divides `n` and is at most `most`: a
/// register block of whole steps.
int64_t blockOf(int64_t n, int64_t most) {
  for (int64_t block : {8, 4, 2, 1})
    if (block <= most && n % block == 0)
      return block;
  return 1;
}

/// The outermost operation around `op`, inside its grid iteration or
/// function, that every value of `needed` is defined outside of: where the
/// per-q-tile work of `op` can run once, before the kv loop.
Operation *hoistPoint(Operation *op, ArrayRef<Value> needed) {
  Operation *at = op;
  for (Operation *parent = at->getParentOp(); parent;
       parent = parent->getParentOp()) {
    if (isa<scf::ForallOp, FunctionOpInterface>(parent) ||
        parent->hasTrait<OpTrait::IsIsolatedFromAbove>())
      break;
    if (llvm::any_of(needed, [&](Value v) {
          return parent->isAncestor(v.getParentRegion()->getParentOp());
        }))
      break;
    at = parent;
  }
  return at;
}

class TileKernel {
public:
  TileKernel(RewriterBase &rewriter, TileUpdateOp op, int64_t width)
      : b(rewriter), op(op), loc(op.getLoc()), width(width),
        tileQ(op.getTileQ()), tileKV(op.getTileKv()),
        dqk(cast<MemRefType>(op.getQuery().getType()).getShape().back()),
        dv(cast<MemRefType>(op.getValue().getType()).getShape().back()),
        rowLanes(hostVectorLanes(tileQ, width)), rowVectors(tileQ / rowLanes),
        factor(deferredScale(op)),
        // Accumulators a register block may hold: half the vector
        // registers (32 with AVX-512, 16 with AVX2).
        accBudget(width >= 16 ? 16 : 8) {}

  LogicalResult emit();

private:
  VectorType vectorOf(int64_t lanes, Type elt = {}) {
    return VectorType::get({lanes}, elt ? elt : b.getF32Type());
  }
  Value index(int64_t value) { return indexConstant(b, loc, value); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, int64_t y) {
    return arith::MulIOp::create(b, loc, x, index(y));
  }
  Value splat(int64_t lanes, Value scalar) {
    return vector::BroadcastOp::create(b, loc, vectorOf(lanes), scalar);
  }
  /// max without NaN handling: the scores are never NaN (sanitizeScore).
  Value maximum(Value x, Value y) {
    auto op = arith::MaximumFOp::create(b, loc, x, y);
    op.setFastmath(arith::FastMathFlags::nnan | arith::FastMathFlags::nsz);
    return op;
  }
  /// ceil(n / step) * step.
  Value roundUp(Value n, int64_t step) {
    if (step == 1)
      return n;
    Value up = arith::AddIOp::create(b, loc, n, index(step - 1));
    return mul(arith::DivUIOp::create(b, loc, up, index(step)), step);
  }
  /// for (iv = 0; iv < ub; iv += step) with `inits` carried; `body` yields.
  SmallVector<Value>
  loop(Value ub, int64_t step, ValueRange inits,
       function_ref<SmallVector<Value>(Value, ValueRange)> body);

  /// A tile of at most kDotRows rows (decode): S by dot products along d,
  /// since vectors over its rows would be 1 to 4 lanes wide.
  static constexpr int64_t kDotRows = 4;
  bool fewRows() const { return tileQ <= kDotRows && width > tileQ; }

  void allocate();
  void packQuery();
  void packPanels();
  void scoreTile();
  void scoreTileByDots();
  LogicalResult modifyScores();
  void softmax();
  void accumulate();

  /// Row `c` of the tile of `global` (K or V), from `panel` when widened:
  /// the element at `d`, or with `lanes` > 0 the vector of lanes there.
  Value tileLoad(Value global, Value panel, Value c, Value d,
                 int64_t lanes = 0);
  /// Where the per-q-tile work runs: before the kv loop (hoistPoint).
  Operation *qTilePoint() {
    SmallVector<Value> needed{op.getQuery(), op.getBatch(), op.getQHead(),
                              op.getQBegin()};
    if (op.getQStart())
      needed.append({op.getQStart(), op.getQLength()});
    return hoistPoint(op, needed);
  }

  RewriterBase &b;
  TileUpdateOp op;
  Location loc;
  int64_t width, tileQ, tileKV, dqk, dv;
  int64_t rowLanes, rowVectors;
  std::optional<double> factor;
  int64_t accBudget;
  Value qT, qRows, scores, alpha, kPanel, vPanel;
  /// f32 keys and values of a paged cache, read in place: the page and
  /// the row in it of each of the tile's keys.
  Value cachePages, cacheRows;
  /// The tile's rows and columns inside the sequences.
  Value rows, cols;
};

SmallVector<Value>
TileKernel::loop(Value ub, int64_t step, ValueRange inits,
                 function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  auto forOp = scf::ForOp::create(
      b, loc, index(0), ub, index(step), inits,
      [&](OpBuilder &, Location, Value iv, ValueRange iterArgs) {
        // The body builds through `b`, which the loop set to its body.
        scf::YieldOp::create(b, loc, body(iv, iterArgs));
      });
  return SmallVector<Value>(forOp.getResults());
}

void TileKernel::allocate() {
  // Heap buffers per grid iteration, like the state (upstream's
  // deallocation pipeline frees them); without a grid, before the
  // per-q-tile work.
  OpBuilder::InsertionGuard guard(b);
  if (auto grid = op->getParentOfType<scf::ForallOp>())
    b.setInsertionPointToStart(grid.getBody());
  else
    b.setInsertionPoint(qTilePoint());
  auto buffer = [&](ArrayRef<int64_t> shape) -> Value {
    return memref::AllocOp::create(b, loc,
                                   MemRefType::get(shape, b.getF32Type()));
  };
  qT = buffer({dqk, tileQ});
  if (fewRows())
    qRows = buffer({tileQ, dqk});
  scores = buffer({tileKV, tileQ});
  alpha = buffer({tileQ});
  auto elementOf = [](Value v) {
    return cast<MemRefType>(v.getType()).getElementType();
  };
  if (!elementOf(op.getKey()).isF32())
    kPanel = buffer({tileKV, dqk});
  if (!elementOf(op.getValue()).isF32())
    vPanel = buffer({tileKV, dv});
  // f32 rows of a paged cache are read where they are: each row's page is
  // looked up once per tile. (Narrower ones are gathered into the panels
  // as they are widened.)
  if (op.getPageTable() && (!kPanel || !vPanel)) {
    auto rowsType = MemRefType::get({tileKV}, b.getIndexType());
    cachePages = memref::AllocOp::create(b, loc, rowsType);
    cacheRows = memref::AllocOp::create(b, loc, rowsType);
  }
}

void TileKernel::packQuery() {
  // Qt[d][r] = Q[i][d] (times the deferred factor), 0 for the rows past the
  // sequence; once per q tile, before the kv loop.
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(qTilePoint());
  Value validRows = tileValidRows(b, loc, op);
  // A q tile past a packed sequence's queries has no row to read (and its
  // kv loop visits no tile).
  if (op.getQStart()) {
    Value any = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt,
                                      validRows, index(0));
    auto ifOp = scf::IfOp::create(b, loc, any, /*withElseRegion=*/false);
    b.setInsertionPointToStart(ifOp.thenBlock());
  }
  Value last = arith::SubIOp::create(b, loc, validRows, index(1));
  Value zero = nx::f32Constant(b, loc, 0.0);
  loop(index(tileQ), 1, {}, [&](Value r, ValueRange) {
    Value head, i;
    std::tie(head, i) =
        tileRowQuery(b, loc, op, arith::MinSIOp::create(b, loc, r, last));
    Value valid =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, r, validRows);
    loop(index(dqk), 1, {}, [&](Value d, ValueRange) {
      Value q = loadAsF32(b, loc, op.getQuery(),
                          tileQueryIndices(b, loc, op, head, i, d));
      if (factor)
        q = arith::MulFOp::create(b, loc, q, nx::f32Constant(b, loc, *factor));
      q = arith::SelectOp::create(b, loc, valid, q, zero);
      memref::StoreOp::create(b, loc, q, qT, ValueRange{d, r});
      if (qRows)
        memref::StoreOp::create(b, loc, q, qRows, ValueRange{r, d});
      return SmallVector<Value>{};
    });
    return SmallVector<Value>{};
  });
}

void TileKernel::packPanels() {
  // f16/bf16 keys and values widened into f32 panels, and the rows of a
  // paged cache gathered, once per tile.
  auto pack = [&](Value source, Value panel, int64_t depth) {
    int64_t lanes = hostVectorLanes(depth, width);
    Type elt = cast<MemRefType>(source.getType()).getElementType();
    loop(cols, 1, {}, [&](Value c, ValueRange) {
      SmallVector<Value> at =
          tileKvIndices(b, loc, op, source, add(op.getKvBegin(), c), index(0));
      loop(index(depth), lanes, {}, [&](Value d, ValueRange) {
        at.back() = d;
        Value wide =
            vector::LoadOp::create(b, loc, vectorOf(lanes, elt), source, at);
        if (!elt.isF32())
          wide = arith::ExtFOp::create(b, loc, vectorOf(lanes), wide);
        vector::StoreOp::create(b, loc, wide, panel, ValueRange{c, d});
        return SmallVector<Value>{};
      });
      return SmallVector<Value>{};
    });
  };
  if (kPanel)
    pack(op.getKey(), kPanel, dqk);
  if (vPanel)
    pack(op.getValue(), vPanel, dv);
  if (cacheRows)
    loop(cols, 1, {}, [&](Value c, ValueRange) {
      auto [page, row] = tilePageRow(b, loc, op, add(op.getKvBegin(), c));
      memref::StoreOp::create(b, loc, page, cachePages, ValueRange{c});
      memref::StoreOp::create(b, loc, row, cacheRows, ValueRange{c});
      return SmallVector<Value>{};
    });
}

Value TileKernel::tileLoad(Value global, Value panel, Value c, Value d,
                           int64_t lanes) {
  Value source = panel ? panel : global;
  SmallVector<Value> indices;
  if (panel) {
    indices = {c, d};
  } else if (cacheRows) {
    indices = tilePagedIndices(
        op, memref::LoadOp::create(b, loc, cachePages, ValueRange{c}),
        memref::LoadOp::create(b, loc, cacheRows, ValueRange{c}), d);
  } else {
    indices = tileKvIndices(b, loc, op, global, add(op.getKvBegin(), c), d);
  }
  if (lanes == 0)
    return memref::LoadOp::create(b, loc, source, indices);
  return vector::LoadOp::create(b, loc, vectorOf(lanes), source, indices);
}

void TileKernel::scoreTile() {
  // S[c][r] = sum_d Qt[d][r] K[c][d]: a block of `rg` row vectors by `cb`
  // columns in registers, a Qt vector load and a K broadcast per step.
  int64_t rg = blockOf(rowVectors, 4);
  int64_t cb = blockOf(tileKV, accBudget / rg);
  Value last = arith::SubIOp::create(b, loc, cols, index(1));
  Value zeros = splat(rowLanes, nx::f32Constant(b, loc, 0.0));
  loop(roundUp(cols, cb), cb, {}, [&](Value c0, ValueRange) {
    SmallVector<Value> keyRows;
    for (int64_t cc = 0; cc < cb; ++cc)
      keyRows.push_back(
          arith::MinSIOp::create(b, loc, add(c0, index(cc)), last));
    loop(index(rowVectors), rg, {}, [&](Value g, ValueRange) {
      SmallVector<Value> offsets;
      for (int64_t k = 0; k < rg; ++k)
        offsets.push_back(mul(add(g, index(k)), rowLanes));
      SmallVector<Value> inits(rg * cb, zeros);
      SmallVector<Value> dots =
          loop(index(dqk), 1, inits, [&](Value d, ValueRange accs) {
            SmallVector<Value> q, next;
            for (int64_t k = 0; k < rg; ++k)
              q.push_back(vector::LoadOp::create(b, loc, vectorOf(rowLanes), qT,
                                                 ValueRange{d, offsets[k]}));
            for (int64_t cc = 0; cc < cb; ++cc) {
              Value key = splat(rowLanes,
                                tileLoad(op.getKey(), kPanel, keyRows[cc], d));
              for (int64_t k = 0; k < rg; ++k)
                next.push_back(vector::FMAOp::create(b, loc, q[k], key,
                                                     accs[cc * rg + k]));
            }
            return next;
          });
      for (int64_t cc = 0; cc < cb; ++cc)
        for (int64_t k = 0; k < rg; ++k)
          vector::StoreOp::create(b, loc, dots[cc * rg + k], scores,
                                  ValueRange{add(c0, index(cc)), offsets[k]});
      return SmallVector<Value>{};
    });
    return SmallVector<Value>{};
  });
}

void TileKernel::scoreTileByDots() {
  // S[c][r] = reduce(sum over d vectors of Q[r][d] K[c][d]): `cb` columns
  // by the tile's rows of vector accumulators along d, one horizontal sum
  // each at the end; K is read once, as unit-stride vectors (decode
  // streams K at memory speed instead of broadcasting it per row).
  int64_t lanes = hostVectorLanes(dqk, width);
  int64_t cb = blockOf(tileKV, 4);
  Value last = arith::SubIOp::create(b, loc, cols, index(1));
  Value zeros = splat(lanes, nx::f32Constant(b, loc, 0.0));
  loop(roundUp(cols, cb), cb, {}, [&](Value c0, ValueRange) {
    SmallVector<Value> keyRows;
    for (int64_t cc = 0; cc < cb; ++cc)
      keyRows.push_back(
          arith::MinSIOp::create(b, loc, add(c0, index(cc)), last));
    SmallVector<Value> inits(tileQ * cb, zeros);
    SmallVector<Value> dots =
        loop(index(dqk), lanes, inits, [&](Value d, ValueRange accs) {
          SmallVector<Value> q, next;
          for (int64_t r = 0; r < tileQ; ++r)
            q.push_back(vector::LoadOp::create(b, loc, vectorOf(lanes), qRows,
                                               ValueRange{index(r), d}));
          for (int64_t cc = 0; cc < cb; ++cc) {
            Value key = tileLoad(op.getKey(), kPanel, keyRows[cc], d, lanes);
            for (int64_t r = 0; r < tileQ; ++r)
              next.push_back(vector::FMAOp::create(b, loc, q[r], key,
                                                   accs[cc * tileQ + r]));
          }
          return next;
        });
    for (int64_t cc = 0; cc < cb; ++cc)
      for (int64_t r = 0; r < tileQ; ++r) {
        // reassoc: a tree of shuffles and adds (log2 lanes deep) instead
        // of an ordered chain of one add per lane.
        Value dot = vector::ReductionOp::create(
            b, loc, vector::CombiningKind::ADD, dots[cc * tileQ + r],
            arith::FastMathFlags::reassoc);
        memref::StoreOp::create(b, loc, dot, scores,
                                ValueRange{add(c0, index(cc)), index(r)});
      }
    return SmallVector<Value>{};
  });
}

LogicalResult TileKernel::modifyScores() {
  // What is not one factor (bias, score mods) and the mask, per element of
  // the valid rows and columns; a full tile of an unmodified attention
  // skips this entirely.
  bool modified = !factor;
  if (!modified && !op.mayBeMasked())
    return success();
  Value seqQ = tileQueryLength(b, loc, op);
  Value seqKV = tileKeyLength(b, loc, op);
  ElementEmitContext ctx =
      tileElementContext(op, seqQ, seqKV, op->getParentOfType<ModuleOp>());
  bool failedEmit = false;
  auto elements = [&](bool applyMask) {
    loop(cols, 1, {}, [&](Value c, ValueRange) {
      Value j = add(op.getKvBegin(), c);
      loop(rows, 1, {}, [&](Value r, ValueRange) {
        ElementEmitContext row = ctx;
        auto [head, i] = tileRowQuery(b, loc, op, r);
        row.qHead = head;
        Value dot = memref::LoadOp::create(b, loc, scores, ValueRange{c, r});
        FailureOr<Value> t = emitTileScore(b, loc, op, row, dot, i, j,
                                           applyMask, /*deferScale=*/true);
        if (failed(t)) {
          failedEmit = true;
          return SmallVector<Value>{};
        }
        memref::StoreOp::create(b, loc, *t, scores, ValueRange{c, r});
        return SmallVector<Value>{};
      });
      return SmallVector<Value>{};
    });
  };
  if (!op.mayBeMasked() || !op.getFull()) {
    elements(op.mayBeMasked());
  } else {
    // A tile that may be full: tested only when it is not.
    auto ifOp = scf::IfOp::create(b, loc, op.getFull(),
                                  /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    if (modified) {
      b.setInsertionPointToStart(ifOp.thenBlock());
      elements(/*applyMask=*/false);
    }
    b.setInsertionPointToStart(ifOp.elseBlock());
    elements(/*applyMask=*/true);
  }
  return failure(failedEmit);
}

void TileKernel::softmax() {
  // Per vector of rows: m' = max(m, max_c S[c]); alpha = exp2(m - m');
  // P = exp2(S - m') in place; l' = l alpha + sum_c P.
  int64_t sg = blockOf(rowVectors, 4);
  Value zeros = splat(rowLanes, nx::f32Constant(b, loc, 0.0));
  loop(index(rowVectors), sg, {}, [&](Value g, ValueRange) {
    SmallVector<Value> offsets, mOld, lOld;
    for (int64_t k = 0; k < sg; ++k) {
      offsets.push_back(mul(add(g, index(k)), rowLanes));
      mOld.push_back(vector::LoadOp::create(b, loc, vectorOf(rowLanes),
                                            op.getRowMax(), offsets[k]));
      lOld.push_back(vector::LoadOp::create(b, loc, vectorOf(rowLanes),
                                            op.getRowSum(), offsets[k]));
    }
    SmallVector<Value> mNew = loop(cols, 1, mOld, [&](Value c, ValueRange m) {
      SmallVector<Value> next;
      for (int64_t k = 0; k < sg; ++k)
        next.push_back(maximum(
            m[k], vector::LoadOp::create(b, loc, vectorOf(rowLanes), scores,
                                         ValueRange{c, offsets[k]})));
      return next;
    });
    SmallVector<Value> sums(sg, zeros);
    sums = loop(cols, 1, sums, [&](Value c, ValueRange s) {
      SmallVector<Value> next;
      for (int64_t k = 0; k < sg; ++k) {
        Value t = vector::LoadOp::create(b, loc, vectorOf(rowLanes), scores,
                                         ValueRange{c, offsets[k]});
        Value p = math::Exp2Op::create(
            b, loc, arith::SubFOp::create(b, loc, t, mNew[k]));
        vector::StoreOp::create(b, loc, p, scores, ValueRange{c, offsets[k]});
        next.push_back(arith::AddFOp::create(b, loc, s[k], p));
      }
      return next;
    });
    for (int64_t k = 0; k < sg; ++k) {
      Value a = nx::rescaleFactor(b, loc, mOld[k], mNew[k]);
      vector::StoreOp::create(b, loc, a, alpha, offsets[k]);
      Value l = arith::AddFOp::create(
          b, loc, arith::MulFOp::create(b, loc, lOld[k], a), sums[k]);
      vector::StoreOp::create(b, loc, l, op.getRowSum(), offsets[k]);
      vector::StoreOp::create(b, loc, mNew[k], op.getRowMax(), offsets[k]);
    }
    return SmallVector<Value>{};
  });
}

void TileKernel::accumulate() {
  // acc[r][d] = acc[r][d] alpha[r] + sum_c P[c][r] V[c][d]: `rb` rows by
  // `dg` vectors of d in registers, a V vector load and a P broadcast per
  // step.
  int64_t dvLanes = hostVectorLanes(dv, width);
  int64_t dvVectors = dv / dvLanes;
  int64_t rb = blockOf(tileQ, 4);
  int64_t dg = blockOf(dvVectors, accBudget / rb);
  loop(roundUp(rows, rb), rb, {}, [&](Value r0, ValueRange) {
    SmallVector<Value> rowIdx, scale;
    for (int64_t rr = 0; rr < rb; ++rr) {
      rowIdx.push_back(add(r0, index(rr)));
      scale.push_back(
          splat(dvLanes, memref::LoadOp::create(b, loc, alpha, rowIdx.back())));
    }
    loop(index(dvVectors), dg, {}, [&](Value g, ValueRange) {
      SmallVector<Value> offsets, inits;
      for (int64_t k = 0; k < dg; ++k)
        offsets.push_back(mul(add(g, index(k)), dvLanes));
      for (int64_t rr = 0; rr < rb; ++rr)
        for (int64_t k = 0; k < dg; ++k)
          inits.push_back(arith::MulFOp::create(
              b, loc,
              vector::LoadOp::create(b, loc, vectorOf(dvLanes), op.getAcc(),
                                     ValueRange{rowIdx[rr], offsets[k]}),
              scale[rr]));
      SmallVector<Value> sums =
          loop(cols, 1, inits, [&](Value c, ValueRange accs) {
            SmallVector<Value> v, next;
            for (int64_t k = 0; k < dg; ++k)
              v.push_back(
                  tileLoad(op.getValue(), vPanel, c, offsets[k], dvLanes));
            for (int64_t rr = 0; rr < rb; ++rr) {
              Value p = splat(
                  dvLanes, memref::LoadOp::create(b, loc, scores,
                                                  ValueRange{c, rowIdx[rr]}));
              for (int64_t k = 0; k < dg; ++k)
                next.push_back(
                    vector::FMAOp::create(b, loc, p, v[k], accs[rr * dg + k]));
            }
            return next;
          });
      for (int64_t rr = 0; rr < rb; ++rr)
        for (int64_t k = 0; k < dg; ++k)
          vector::StoreOp::create(b, loc, sums[rr * dg + k], op.getAcc(),
                                  ValueRange{rowIdx[rr], offsets[k]});
      return SmallVector<Value>{};
    });
    return SmallVector<Value>{};
  });
}

LogicalResult TileKernel::emit() {
  allocate();
  packQuery();
  rows = tileValidRows(b, loc, op);
  cols =
      clippedExtent(b, loc, tileKV, tileKeyLength(b, loc, op), op.getKvBegin());
  packPanels();
  if (fewRows())
    scoreTileByDots();
  else
    scoreTile();
  if (failed(modifyScores()))
    return failure();
  softmax();
  accumulate();
  return success();
}

} // namespace

LogicalResult mlir::attn::emitHostVectorTileUpdate(RewriterBase &rewriter,
                                                   TileUpdateOp op,
                                                   int64_t width) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  return TileKernel(rewriter, op, width).emit();
}
