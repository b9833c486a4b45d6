//===- Numerics.cpp - Online-softmax numerics, emitted as IR ---*- C++ -*-===//
//
// See Numerics.h.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/Transforms/Numerics.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <limits>

using namespace mlir;

namespace mlir::attn::numerics {

Value f32Constant(OpBuilder &b, Location loc, double value) {
  return arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                        APFloat(static_cast<float>(value)));
}

Value initialRowMax(OpBuilder &b, Location loc) {
  return f32Constant(b, loc, std::numeric_limits<float>::lowest());
}

Value maskedScore(OpBuilder &b, Location loc) {
  return arith::ConstantFloatOp::create(
      b, loc, b.getF32Type(),
      APFloat::getInf(APFloat::IEEEsingle(), /*Negative=*/true));
}

Value sanitizeScore(OpBuilder &b, Location loc, Value t) {
  // minimumf keeps NaN (and -inf, already a masked score) and caps +inf.
  Value capped = arith::MinimumFOp::create(
      b, loc, t, f32Constant(b, loc, std::numeric_limits<float>::max()));
  Value isNaN =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, capped, capped);
  return arith::SelectOp::create(b, loc, isNaN, maskedScore(b, loc), capped);
}

Value rescaleFactor(OpBuilder &b, Location loc, Value mOld, Value mNew) {
  Value diff = arith::SubFOp::create(b, loc, mOld, mNew);
  return math::Exp2Op::create(b, loc, diff);
}

Value safeReciprocal(OpBuilder &b, Location loc, Value l) {
  Value zero = f32Constant(b, loc, 0.0);
  Value positive =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, l, zero);
  // Divide by 1 when l == 0 so that no inf is formed even transiently.
  Value safeL =
      arith::SelectOp::create(b, loc, positive, l, f32Constant(b, loc, 1.0));
  Value inv = arith::DivFOp::create(b, loc, f32Constant(b, loc, 1.0), safeL);
  return arith::SelectOp::create(b, loc, positive, inv, zero);
}

Value logSumExp(OpBuilder &b, Location loc, Value m, Value l) {
  Value zero = f32Constant(b, loc, 0.0);
  Value positive =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, l, zero);
  Value safeL =
      arith::SelectOp::create(b, loc, positive, l, f32Constant(b, loc, 1.0));
  Value natural = arith::AddFOp::create(
      b, loc, arith::MulFOp::create(b, loc, m, f32Constant(b, loc, kLn2)),
      math::LogOp::create(b, loc, safeL));
  return arith::SelectOp::create(b, loc, positive, natural,
                                 maskedScore(b, loc));
}

Value partialScore(OpBuilder &b, Location loc, Value lse) {
  return arith::MulFOp::create(b, loc, lse, f32Constant(b, loc, kLog2e));
}

} // namespace mlir::attn::numerics
