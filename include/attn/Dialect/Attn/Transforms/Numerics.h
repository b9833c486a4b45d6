//===- Numerics.h - Online-softmax numerics, emitted as IR ------*- C++ -*-===//
//
// The numerics contract of DESIGN.md §3 in one place: base-2 scaling, the
// finite initial row maximum, the rescale factor, the l == 0 guard and the
// logsumexp. The host expansion (attn-online-softmax) and the GPU lowering
// both emit these, so the two paths cannot drift apart.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_TRANSFORMS_NUMERICS_H
#define ATTN_DIALECT_ATTN_TRANSFORMS_NUMERICS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"

namespace mlir::attn::numerics {

/// log2(e): scores are multiplied by it so that exp(x) = exp2(x * log2e).
constexpr double kLog2e = 1.4426950408889634;
/// ln(2): converts the base-2 running maximum back to natural log units.
constexpr double kLn2 = 0.6931471805599453;

Value f32Constant(OpBuilder &b, Location loc, double value);
/// The initial running maximum: the lowest finite f32, not -inf, so that a
/// fully masked tile computes exp2(-inf - lowest) = 0, never NaN.
Value initialRowMax(OpBuilder &b, Location loc);
/// -inf: the base-2 score of a masked element.
Value maskedScore(OpBuilder &b, Location loc);
/// A modified base-2 score as the online softmax can take it (the
/// dialect's definition): NaN drops the element (maskedScore), +inf
/// becomes the largest finite f32, so that O and lse stay finite.
Value sanitizeScore(OpBuilder &b, Location loc, Value t);
/// exp2(mOld - mNew): the factor that rescales the state to a new maximum.
Value rescaleFactor(OpBuilder &b, Location loc, Value mOld, Value mNew);
/// 1 / l, or 0 when l == 0 (a row that kept no element).
Value safeReciprocal(OpBuilder &b, Location loc, Value l);
/// The natural logsumexp of a row from its base-2 maximum m and sum l:
/// m ln 2 + log(l), or -inf when l == 0.
Value logSumExp(OpBuilder &b, Location loc, Value m, Value l);

/// A partial result's logsumexp (natural log) as a base-2 score: merging
/// the partials of one row by the logsumexp rule is an online softmax over
/// the parts, each a "key" with this score and its partial output as the
/// value (initialRowMax, rescaleFactor, safeReciprocal and logSumExp then
/// give the exact merge, -inf parts weighing 0).
Value partialScore(OpBuilder &b, Location loc, Value lse);

} // namespace mlir::attn::numerics

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_NUMERICS_H
