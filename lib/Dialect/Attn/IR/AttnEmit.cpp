//===- AttnEmit.cpp - Masks and score mods as element-level IR -*- C++ -*-===//
//
// The element predicate of every mask attribute and the arithmetic of every
// score modification, emitted as arith/math/memref IR at one element
// (b, h, i, j) of the score matrix. The tiled lowerings (host now, GPU
// later) call these from inside partial tiles, so each pattern's element
// semantics is written once here, mirroring the mask algebra's isKept.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/Support/xxhash.h"

using namespace mlir;
using namespace mlir::attn;

namespace {

Value cIndex(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

Value cBool(OpBuilder &b, Location loc, bool v) {
  return arith::ConstantIntOp::create(b, loc, v ? 1 : 0, 1);
}

Value cmp(OpBuilder &b, Location loc, arith::CmpIPredicate pred, Value lhs,
          Value rhs) {
  return arith::CmpIOp::create(b, loc, pred, lhs, rhs);
}

/// j - (i + offset): the diagonal distance, with the alignment offset of
/// causal-like patterns (0, or Skv - Sq for bottom-right).
Value diagonalDistance(OpBuilder &b, Location loc,
                       const ElementEmitContext &ctx, Alignment align) {
  Value i = ctx.qIndex;
  if (align == Alignment::BottomRight) {
    Value offset = arith::SubIOp::create(b, loc, ctx.seqKV, ctx.seqQ);
    i = arith::AddIOp::create(b, loc, i, offset);
  }
  return arith::SubIOp::create(b, loc, ctx.kvIndex, i);
}

/// lo <= d <= hi.
Value inRange(OpBuilder &b, Location loc, Value d, int64_t lo, int64_t hi) {
  Value geLo = cmp(b, loc, arith::CmpIPredicate::sge, d, cIndex(b, loc, lo));
  Value leHi = cmp(b, loc, arith::CmpIPredicate::sle, d, cIndex(b, loc, hi));
  return arith::AndIOp::create(b, loc, geLo, leHi);
}

/// A constant table for an element emitter, in the context's module.
FailureOr<Value> constantTable(OpBuilder &b, Location loc,
                               const ElementEmitContext &ctx,
                               DenseElementsAttr values) {
  if (!ctx.symbolTable || !ctx.symbolTable->hasTrait<OpTrait::SymbolTable>())
    return emitError(loc) << "attn: a constant table needs an enclosing module";
  return getConstantTable(b, loc, ctx.symbolTable, values, "__attn_table");
}

/// The f32 value of an index.
Value indexToF32(OpBuilder &b, Location loc, Value index) {
  Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), index);
  return arith::SIToFPOp::create(b, loc, b.getF32Type(), i64);
}

template <typename RangeT>
FailureOr<Value> emitCombined(OpBuilder &b, Location loc,
                              const ElementEmitContext &ctx, RangeT masks,
                              bool isUnion) {
  Value result;
  for (MaskAttrInterface mask : masks) {
    FailureOr<Value> kept = mask.emitKept(b, loc, ctx);
    if (failed(kept))
      return failure();
    if (!result)
      result = *kept;
    else if (isUnion)
      result = arith::OrIOp::create(b, loc, result, *kept);
    else
      result = arith::AndIOp::create(b, loc, result, *kept);
  }
  return result;
}

} // namespace

Value mlir::attn::getConstantTable(OpBuilder &b, Location loc,
                                   Operation *module, DenseElementsAttr values,
                                   StringRef prefix) {
  auto tensorType = cast<RankedTensorType>(values.getType());
  auto memrefType =
      MemRefType::get(tensorType.getShape(), tensorType.getElementType());
  // Named by a hash of the contents, not of the attribute's address, so
  // that the same spec gives the same symbols (and PTX) in every process.
  std::string base =
      (prefix + "_" +
       std::to_string(llvm::xxh3_64bits(
           StringRef(values.getRawData().data(), values.getRawData().size()))))
          .str();
  // Reuse a global only if it holds the same values: names come from a
  // hash, and a collision must not alias two different tables.
  SymbolTable symbols(module);
  std::string name = base;
  for (int suffix = 1;; ++suffix) {
    auto existing = symbols.lookup<memref::GlobalOp>(name);
    if (!existing)
      break;
    if (existing.getInitialValue() == Attribute(values))
      return memref::GetGlobalOp::create(b, loc, memrefType, name);
    name = base + "_" + std::to_string(suffix);
  }
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&module->getRegion(0).front());
    memref::GlobalOp::create(b, loc, name, b.getStringAttr("private"),
                             memrefType, values, /*constant=*/true,
                             /*alignment=*/IntegerAttr());
  }
  return memref::GetGlobalOp::create(b, loc, memrefType, name);
}

//===----------------------------------------------------------------------===//
// Masks
//===----------------------------------------------------------------------===//

FailureOr<Value> NoneMaskAttr::emitKept(OpBuilder &b, Location loc,
                                        const ElementEmitContext &) const {
  return cBool(b, loc, true);
}

FailureOr<Value> CausalMaskAttr::emitKept(OpBuilder &b, Location loc,
                                          const ElementEmitContext &ctx) const {
  Value d = diagonalDistance(b, loc, ctx, getAlignment());
  return cmp(b, loc, arith::CmpIPredicate::sle, d, cIndex(b, loc, 0));
}

FailureOr<Value> WindowMaskAttr::emitKept(OpBuilder &b, Location loc,
                                          const ElementEmitContext &ctx) const {
  Value d = diagonalDistance(b, loc, ctx, getAlignment());
  return inRange(b, loc, d, -getLeft(), getRight());
}

FailureOr<Value>
DilatedMaskAttr::emitKept(OpBuilder &b, Location loc,
                          const ElementEmitContext &ctx) const {
  Value d = diagonalDistance(b, loc, ctx, getAlignment());
  int64_t bound = getWindow() * getDilation();
  Value rem = arith::RemSIOp::create(b, loc, d, cIndex(b, loc, getDilation()));
  Value onGrid = cmp(b, loc, arith::CmpIPredicate::eq, rem, cIndex(b, loc, 0));
  return arith::AndIOp::create(b, loc, onGrid,
                               inRange(b, loc, d, -bound, bound))
      .getResult();
}

FailureOr<Value> GlobalMaskAttr::emitKept(OpBuilder &b, Location loc,
                                          const ElementEmitContext &ctx) const {
  auto isGlobal = [&](Value x) {
    Value result =
        cmp(b, loc, arith::CmpIPredicate::slt, x, cIndex(b, loc, getFirst()));
    for (int64_t index : getIndices())
      result = arith::OrIOp::create(
          b, loc, result,
          cmp(b, loc, arith::CmpIPredicate::eq, x, cIndex(b, loc, index)));
    return result;
  };
  return arith::OrIOp::create(b, loc, isGlobal(ctx.qIndex),
                              isGlobal(ctx.kvIndex))
      .getResult();
}

FailureOr<Value>
PrefixLMMaskAttr::emitKept(OpBuilder &b, Location loc,
                           const ElementEmitContext &ctx) const {
  Value inPrefix = cmp(b, loc, arith::CmpIPredicate::slt, ctx.kvIndex,
                       cIndex(b, loc, getPrefix()));
  Value causal =
      cmp(b, loc, arith::CmpIPredicate::sle, ctx.kvIndex, ctx.qIndex);
  return arith::OrIOp::create(b, loc, inPrefix, causal).getResult();
}

/// layout[i / bq][j / bk], false outside the layout: the layout is an i8
/// constant table in the module.
static FailureOr<Value> emitBlockLookup(OpBuilder &b, Location loc,
                                        const ElementEmitContext &ctx,
                                        int64_t blockQ, int64_t blockKV,
                                        int64_t rows, int64_t cols,
                                        ArrayRef<int8_t> bits) {
  auto type = RankedTensorType::get({rows, cols}, b.getI8Type());
  FailureOr<Value> table =
      constantTable(b, loc, ctx, DenseElementsAttr::get(type, bits));
  if (failed(table))
    return failure();
  Value r = arith::DivUIOp::create(b, loc, ctx.qIndex, cIndex(b, loc, blockQ));
  Value c =
      arith::DivUIOp::create(b, loc, ctx.kvIndex, cIndex(b, loc, blockKV));
  Value inside = arith::AndIOp::create(
      b, loc, cmp(b, loc, arith::CmpIPredicate::ult, r, cIndex(b, loc, rows)),
      cmp(b, loc, arith::CmpIPredicate::ult, c, cIndex(b, loc, cols)));
  // Clamp so that the load stays in bounds; `inside` masks the result.
  Value rc = arith::MinUIOp::create(b, loc, r, cIndex(b, loc, rows - 1));
  Value cc = arith::MinUIOp::create(b, loc, c, cIndex(b, loc, cols - 1));
  Value bit = memref::LoadOp::create(b, loc, *table, ValueRange{rc, cc});
  Value set = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, bit,
                                    arith::ConstantIntOp::create(b, loc, 0, 8));
  return arith::AndIOp::create(b, loc, inside, set).getResult();
}

FailureOr<Value>
BlockLayoutMaskAttr::emitKept(OpBuilder &b, Location loc,
                              const ElementEmitContext &ctx) const {
  ArrayRef<int64_t> shape = getLayout().getType().getShape();
  SmallVector<int8_t> bits;
  for (const APInt &bit : getLayout().getValues<APInt>())
    bits.push_back(bit.isZero() ? 0 : 1);
  return emitBlockLookup(b, loc, ctx, getBlockQ(), getBlockKv(), shape[0],
                         shape[1], bits);
}

FailureOr<Value>
RandomBlocksMaskAttr::emitKept(OpBuilder &b, Location loc,
                               const ElementEmitContext &ctx) const {
  // The chosen blocks depend on the number of block columns, so the table
  // is built from the mask algebra for static lengths.
  std::optional<int64_t> seqQ = getConstantIntValue(ctx.seqQ);
  std::optional<int64_t> seqKV = getConstantIntValue(ctx.seqKV);
  if (!seqQ || !seqKV)
    return emitError(loc) << "#attn.random_blocks needs static sequence "
                             "lengths to be lowered";
  int64_t rows = llvm::divideCeil(*seqQ, getBlock());
  int64_t cols = llvm::divideCeil(*seqKV, getBlock());
  // A row of no more than per_row blocks keeps them all (the mask
  // algebra's rule): no table to build.
  if (cols <= getPerRow())
    return cBool(b, loc, true);
  mask::MaskRef mask = buildMask(MaskBuildContext());
  mask::MaskContext mctx;
  mctx.seqQ = *seqQ;
  mctx.seqKV = *seqKV;
  SmallVector<int8_t> bits;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      bits.push_back(
          mask->isKept(mctx, 0, 0, r * getBlock(), c * getBlock()) ? 1 : 0);
  return emitBlockLookup(b, loc, ctx, getBlock(), getBlock(), rows, cols, bits);
}

FailureOr<Value>
DocumentMaskAttr::emitKept(OpBuilder &b, Location loc,
                           const ElementEmitContext &ctx) const {
  if (!ctx.qSegmentIds || !ctx.kvSegmentIds)
    return emitError(loc) << "#attn.document needs segment ids";
  // The ids are tensors in the tiled IR (the run-time tile table reads
  // them before bufferization) and memrefs in the tile expansions.
  auto read = [&](Value ids, Value index) -> Value {
    if (isa<TensorType>(ids.getType()))
      return tensor::ExtractOp::create(b, loc, ids,
                                       ValueRange{ctx.batch, index});
    return memref::LoadOp::create(b, loc, ids, ValueRange{ctx.batch, index});
  };
  return cmp(b, loc, arith::CmpIPredicate::eq,
             read(ctx.qSegmentIds, ctx.qIndex),
             read(ctx.kvSegmentIds, ctx.kvIndex));
}

FailureOr<Value> CustomMaskAttr::emitKept(OpBuilder &b, Location loc,
                                          const ElementEmitContext &ctx) const {
  if (!ctx.emitCustom)
    return emitError(loc) << "#attn.custom needs a mask_mod region";
  // Every emitCustom inlines the region with inlineRegionWithSemantics:
  // attn's definition of division by zero and the like, the one the
  // compile-time interpreter follows, so no kernel traps on them.
  return ctx.emitCustom(b, loc);
}

FailureOr<Value> UnionMaskAttr::emitKept(OpBuilder &b, Location loc,
                                         const ElementEmitContext &ctx) const {
  return emitCombined(b, loc, ctx, getMasks(), /*isUnion=*/true);
}

FailureOr<Value>
IntersectionMaskAttr::emitKept(OpBuilder &b, Location loc,
                               const ElementEmitContext &ctx) const {
  return emitCombined(b, loc, ctx, getMasks(), /*isUnion=*/false);
}

FailureOr<Value>
ComplementMaskAttr::emitKept(OpBuilder &b, Location loc,
                             const ElementEmitContext &ctx) const {
  FailureOr<Value> kept = getMask().emitKept(b, loc, ctx);
  if (failed(kept))
    return failure();
  return arith::XOrIOp::create(b, loc, *kept, cBool(b, loc, true)).getResult();
}

//===----------------------------------------------------------------------===//
// Score modifications
//===----------------------------------------------------------------------===//

FailureOr<Value> AlibiAttr::emitScoreMod(OpBuilder &b, Location loc,
                                         Value score,
                                         const ElementEmitContext &ctx) const {
  SmallVector<float> slopes;
  for (double slope : getEffectiveSlopes(ctx.numQHeads))
    slopes.push_back(static_cast<float>(slope));
  auto type = RankedTensorType::get({static_cast<int64_t>(slopes.size())},
                                    b.getF32Type());
  FailureOr<Value> table = constantTable(
      b, loc, ctx, DenseElementsAttr::get(type, ArrayRef(slopes)));
  if (failed(table))
    return failure();
  Value slope = memref::LoadOp::create(b, loc, *table, ValueRange{ctx.qHead});
  // -slope * |i - j|
  Value diff = arith::SubIOp::create(b, loc, ctx.qIndex, ctx.kvIndex);
  Value dist = math::AbsFOp::create(b, loc, indexToF32(b, loc, diff));
  Value bias = arith::MulFOp::create(b, loc, slope, dist);
  return arith::SubFOp::create(b, loc, score, bias).getResult();
}

FailureOr<Value> SoftcapAttr::emitScoreMod(OpBuilder &b, Location loc,
                                           Value score,
                                           const ElementEmitContext &) const {
  // cap * tanh(score / cap), the division as a multiplication by the
  // reciprocal: no IEEE division per score (the GPU's div.rn is a
  // subroutine), within an ulp of the quotient.
  double capValue = getCap().convertToDouble();
  Value cap = arith::ConstantFloatOp::create(
      b, loc, b.getF32Type(), APFloat(static_cast<float>(capValue)));
  Value inverse = arith::ConstantFloatOp::create(
      b, loc, b.getF32Type(), APFloat(static_cast<float>(1.0 / capValue)));
  Value scaled = arith::MulFOp::create(b, loc, score, inverse);
  Value tanh = math::TanhOp::create(b, loc, scaled);
  return arith::MulFOp::create(b, loc, cap, tanh).getResult();
}

FailureOr<Value> ChainAttr::emitScoreMod(OpBuilder &b, Location loc,
                                         Value score,
                                         const ElementEmitContext &ctx) const {
  for (ScoreModAttrInterface mod : getMods()) {
    FailureOr<Value> next = mod.emitScoreMod(b, loc, score, ctx);
    if (failed(next))
      return failure();
    score = *next;
  }
  return score;
}
