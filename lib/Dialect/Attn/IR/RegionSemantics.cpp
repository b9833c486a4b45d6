//===- RegionSemantics.cpp - What mask_mod and score_mod regions mean -----===//
//
// A mask_mod or score_mod region is user code that attn evaluates in three
// places: the compile-time interpreter (MaskModInterpreter.cpp) classifies
// tiles with it, and the host and GPU lowerings inline it into partial
// tiles and run-time tile tables. This file states, once, what such a
// region may contain (verifyRegionBody, called by the op verifiers) and
// gives the inlined ops attn's definition where MLIR leaves a result
// undefined (applyRegionSemantics): integer division by zero and signed
// overflow would otherwise trap (x86 idiv raises SIGFPE), and they and
// over-wide shifts would differ between the interpreter and the kernels.
// (Reads of captured tensors are kept in bounds by attn-clamp-captured-reads
// on the host.)
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::attn;

//===----------------------------------------------------------------------===//
// Admission
//===----------------------------------------------------------------------===//

/// The value types a region computes with: what the interpreter and every
/// back end handle.
static bool isRegionScalar(Type type) {
  if (type.isIndex() || type.isF16() || type.isBF16() || type.isF32() ||
      type.isF64())
    return true;
  auto integer = dyn_cast<IntegerType>(type);
  return integer && integer.isSignless() && integer.getWidth() <= 64;
}

static constexpr StringLiteral kAdmitted =
    "regions admit arith and math ops on scalars, scf.if, scf.for with a "
    "constant positive step, tensor.extract from a captured tensor (in a "
    "bufferized tile op, memref.load from its buffer) and attn.yield";

LogicalResult mlir::attn::verifyRegionBody(Operation *owner, Region &region,
                                           StringRef name,
                                           unsigned numLeading) {
  Block &entry = region.front();
  // A captured tensor: an entry argument after the leading ones, or (in a
  // tile op, whose captures are bound to the attention's operands) a value
  // from above the region.
  auto isCapture = [&](Value v) {
    if (!region.isAncestor(v.getParentRegion()))
      return true;
    auto arg = dyn_cast<BlockArgument>(v);
    return arg && arg.getOwner() == &entry && arg.getArgNumber() >= numLeading;
  };
  auto reject = [&](Operation *inner) {
    InFlightDiagnostic diag = owner->emitOpError()
                              << name << " region may not contain '"
                              << inner->getName() << "'";
    return diag;
  };
  // Admits `inner` when `ok`, else says why (`note`, at the op).
  auto admitIf = [&](Operation *inner, bool ok, StringRef note) {
    if (!ok)
      reject(inner).attachNote(inner->getLoc()) << note;
    return ok;
  };

  // Pre-order, so that a refused op is named before what it holds.
  WalkResult result = region.walk<WalkOrder::PreOrder>([&](Operation *inner)
                                                           -> WalkResult {
    bool admitted =
        llvm::TypeSwitch<Operation *, bool>(inner)
            .Case<YieldOp, scf::IfOp, scf::YieldOp>([](auto) { return true; })
            .Case([&](scf::ForOp loop) {
              std::optional<int64_t> step = getConstantIntValue(loop.getStep());
              return admitIf(inner, step && *step > 0,
                             "scf.for needs a constant positive step, so "
                             "that it ends");
            })
            .Case([&](tensor::ExtractOp extract) {
              return admitIf(inner, isCapture(extract.getTensor()),
                             "tensor.extract may only read a captured tensor "
                             "(a region argument)");
            })
            .Case([&](memref::LoadOp load) {
              // What a captured tensor's tensor.extract becomes when the
              // tile op is bufferized.
              auto tile = dyn_cast<TileUpdateOp>(owner);
              return admitIf(
                  inner,
                  tile && tile.hasBufferSemantics() &&
                      !region.isAncestor(load.getMemRef().getParentRegion()),
                  kAdmitted);
            })
            .Default([&](Operation *op) {
              StringRef dialect = op->getName().getDialectNamespace();
              return admitIf(inner, dialect == "arith" || dialect == "math",
                             kAdmitted);
            });
    if (!admitted)
      return WalkResult::interrupt();
    // Scalars only, but for the tensor a tensor.extract reads (or the
    // buffer a memref.load reads).
    auto isTensorSource = [&](OpOperand &use) {
      return isa<tensor::ExtractOp, memref::LoadOp>(inner) &&
             use.getOperandNumber() == 0;
    };
    SmallVector<Type> types;
    for (OpOperand &use : inner->getOpOperands())
      if (!isTensorSource(use))
        types.push_back(use.get().getType());
    llvm::append_range(types, inner->getResultTypes());
    for (Type type : types)
      if (!isRegionScalar(type)) {
        owner->emitOpError()
            << name << " region: '" << inner->getName()
            << "' computes with a value of type " << type
            << "; region values must be scalars (signless i1 to i64, index, "
               "f16, bf16, f32, f64)";
        return WalkResult::interrupt();
      }
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

//===----------------------------------------------------------------------===//
// Defined semantics of inlined region ops
//===----------------------------------------------------------------------===//

namespace {

/// Replaces the uses of `from` (but in `except`) by `to`, and `from` by
/// `to` among the values a caller holds on to (the region's result).
struct Replacer {
  MutableArrayRef<Value> live;
  void operator()(Value from, Value to, Operation *except = nullptr) {
    if (except)
      from.replaceAllUsesExcept(to, except);
    else
      from.replaceAllUsesWith(to);
    for (Value &v : live)
      if (v == from)
        v = to;
  }
};

/// The bit width of an integer-like type as the interpreter sees it
/// (index is 64 bits).
unsigned bitWidth(Type type) {
  return type.isIndex() ? 64 : type.getIntOrFloatBitWidth();
}

Value intConstant(OpBuilder &b, Location loc, Type type, const APInt &value) {
  return arith::ConstantOp::create(b, loc, type, b.getIntegerAttr(type, value));
}

Value intConstant(OpBuilder &b, Location loc, Type type, int64_t value) {
  return intConstant(b, loc, type,
                     APInt(bitWidth(type), value, /*isSigned=*/true));
}

enum class DivKind { Quotient, Remainder };

/// x / 0 = 0, x % 0 = x; INT_MIN / -1 = INT_MIN and INT_MIN % -1 = 0 for
/// the signed ops. The division runs on a divisor replaced by 1 where
/// either case holds (so it never traps: x / 1 = x and x % 1 = 0 give the
/// overflow results), then a select puts the zero-divisor result in.
void guardDivision(OpBuilder &b, Replacer &replace, Operation *op, DivKind kind,
                   bool isSigned) {
  Location loc = op->getLoc();
  b.setInsertionPoint(op);
  Value x = op->getOperand(0), y = op->getOperand(1);
  Type type = x.getType();
  unsigned width = bitWidth(type);
  Value zero = intConstant(b, loc, type, 0);
  Value yIsZero =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, y, zero);
  Value whenZero = kind == DivKind::Quotient ? zero : x;
  if (width == 1) {
    // i1: the only non-zero divisor is 1 (-1 when signed), and
    // x / 1 = x, x % 1 = 0 (signed: x / -1 wraps to x, x % -1 = 0).
    Value nonZeroResult = kind == DivKind::Quotient ? x : zero;
    Value result =
        arith::SelectOp::create(b, loc, yIsZero, whenZero, nonZeroResult);
    replace(op->getResult(0), result);
    op->erase();
    return;
  }
  Value replaceDivisor = yIsZero;
  if (isSigned) {
    Value min = intConstant(b, loc, type, APInt::getSignedMinValue(width));
    Value minusOne = intConstant(b, loc, type, -1);
    Value overflow = arith::AndIOp::create(
        b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, x, min),
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, y, minusOne));
    replaceDivisor = arith::OrIOp::create(b, loc, yIsZero, overflow);
  }
  Value safeY = arith::SelectOp::create(b, loc, replaceDivisor,
                                        intConstant(b, loc, type, 1), y);
  op->setOperand(1, safeY);
  b.setInsertionPointAfter(op);
  auto select =
      arith::SelectOp::create(b, loc, yIsZero, whenZero, op->getResult(0));
  replace(op->getResult(0), select, select);
}

enum class ShiftKind { Left, RightUnsigned, RightSigned };

/// A shift by the bit width or more: 0 for shli and shrui, the sign for
/// shrsi (the shift itself is poison in LLVM; the select never picks it).
void guardShift(OpBuilder &b, Replacer &replace, Operation *op,
                ShiftKind kind) {
  Location loc = op->getLoc();
  b.setInsertionPointAfter(op);
  Value x = op->getOperand(0), y = op->getOperand(1);
  Type type = x.getType();
  unsigned width = bitWidth(type);
  Value tooFar =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, y,
                            intConstant(b, loc, type, APInt(width, width)));
  Value overflowResult =
      kind == ShiftKind::RightSigned
          ? arith::ShRSIOp::create(
                b, loc, x, intConstant(b, loc, type, APInt(width, width - 1)))
                .getResult()
          : intConstant(b, loc, type, 0);
  auto select =
      arith::SelectOp::create(b, loc, tooFar, overflowResult, op->getResult(0));
  replace(op->getResult(0), select, select);
}

} // namespace

void mlir::attn::applyRegionSemantics(OpBuilder &b, ArrayRef<Operation *> ops,
                                      MutableArrayRef<Value> results) {
  OpBuilder::InsertionGuard guard(b);
  Replacer replace{results};
  // Collected first: the guards insert and erase ops.
  SmallVector<Operation *> worklist;
  for (Operation *op : ops)
    op->walk([&](Operation *inner) {
      if (isa<arith::DivSIOp, arith::DivUIOp, arith::RemSIOp, arith::RemUIOp,
              arith::FloorDivSIOp, arith::CeilDivSIOp, arith::CeilDivUIOp,
              arith::ShLIOp, arith::ShRUIOp, arith::ShRSIOp>(inner) &&
          !isa<ShapedType>(inner->getResult(0).getType()))
        worklist.push_back(inner);
    });
  for (Operation *op : worklist)
    llvm::TypeSwitch<Operation *>(op)
        .Case<arith::DivSIOp, arith::FloorDivSIOp, arith::CeilDivSIOp>(
            [&](Operation *op) {
              guardDivision(b, replace, op, DivKind::Quotient,
                            /*isSigned=*/true);
            })
        .Case<arith::DivUIOp, arith::CeilDivUIOp>([&](Operation *op) {
          guardDivision(b, replace, op, DivKind::Quotient, /*isSigned=*/false);
        })
        .Case([&](arith::RemSIOp op) {
          guardDivision(b, replace, op, DivKind::Remainder, /*isSigned=*/true);
        })
        .Case([&](arith::RemUIOp op) {
          guardDivision(b, replace, op, DivKind::Remainder, /*isSigned=*/false);
        })
        .Case([&](arith::ShLIOp op) {
          guardShift(b, replace, op, ShiftKind::Left);
        })
        .Case([&](arith::ShRUIOp op) {
          guardShift(b, replace, op, ShiftKind::RightUnsigned);
        })
        .Case([&](arith::ShRSIOp op) {
          guardShift(b, replace, op, ShiftKind::RightSigned);
        });
}

Value mlir::attn::inlineRegionWithSemantics(OpBuilder &b, Region &region,
                                            ValueRange args) {
  Block &body = region.front();
  IRMapping mapping;
  for (auto [arg, value] : llvm::zip(body.getArguments(), args))
    mapping.map(arg, value);
  SmallVector<Operation *> cloned;
  for (Operation &inner : body.without_terminator())
    cloned.push_back(b.clone(inner, mapping));
  Value result = mapping.lookup(body.getTerminator()->getOperand(0));
  applyRegionSemantics(b, cloned, result);
  return result;
}
