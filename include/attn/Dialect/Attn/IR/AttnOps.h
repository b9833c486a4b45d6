//===- AttnOps.h - The attn dialect -----------------------------*- C++ -*-===//
//
// The one header for the attn dialect: its ops, attributes, interfaces and
// the small helper types they share (the attention's shape, the context a
// mask attribute needs to build its mask-algebra object).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_IR_ATTNOPS_H
#define ATTN_DIALECT_ATTN_IR_ATTNOPS_H

#include "attn/Mask/Mask.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/AttrTypeSubElements.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <functional>

namespace mlir::attn {

/// The sizes of an attention. Batch and sequence lengths may be
/// ShapedType::kDynamic; head counts and head dims are static once the op
/// verifies.
struct AttentionShape {
  int64_t batch = ShapedType::kDynamic;
  int64_t numQHeads = 0;
  int64_t numKVHeads = 0;
  int64_t seqQ = ShapedType::kDynamic;
  int64_t seqKV = ShapedType::kDynamic;
  int64_t headDimQK = 0;
  int64_t headDimV = 0;

  bool hasStaticSequences() const {
    return !ShapedType::isDynamic(seqQ) && !ShapedType::isDynamic(seqKV);
  }
};

/// What a mask attribute needs besides its own parameters to build its
/// mask-algebra object: the attention's mask_mod region as a predicate.
struct MaskBuildContext {
  /// Evaluates the mask_mod region; null when the attention has none.
  ::mlir::attn::mask::Predicate customPredicate;
  /// True when `customPredicate` is a faithful interpretation of the region
  /// (index arithmetic only), so its tiles may be classified exactly.
  bool customIsExact = false;
  /// False when the region ignores its batch and head arguments, so that
  /// one tile map serves every (batch, head).
  bool customDependsOnBatchOrHead = true;
};

/// Where an element of the score matrix is, for emitting its mask predicate
/// and score modifications as IR inside a tile (see emitKept and
/// emitScoreMod). All values are `index` unless said otherwise.
struct ElementEmitContext {
  Value batch, qHead, qIndex, kvIndex;
  Value seqQ, seqKV;
  /// Document ids, memrefs [B, Sq] and [B, Skv]; null without a document
  /// mask.
  Value qSegmentIds, kvSegmentIds;
  int64_t numQHeads = 0;
  /// Where constant tables (block layouts, ALiBi slopes) are placed: the
  /// enclosing module. Builders may be inside blocks not yet attached to
  /// it, so it is given rather than searched for.
  Operation *symbolTable = nullptr;
  /// Emits the attention's mask_mod region at this element (an i1), by
  /// inlineRegionWithSemantics; null when the attention has none.
  std::function<Value(OpBuilder &, Location)> emitCustom;
};

// Parsers and printers of attribute parameters (see AttnAttrs.td).
FailureOr<SmallVector<int64_t>> parseInt64List(AsmParser &parser);
void printInt64List(AsmPrinter &printer, ArrayRef<int64_t> values);
// Float parameters are APFloats holding doubles (APFloat, unlike double,
// can be hashed for attribute uniquing).
FailureOr<SmallVector<APFloat>> parseF64List(AsmParser &parser);
void printF64List(AsmPrinter &printer, ArrayRef<APFloat> values);
FailureOr<APFloat> parseF64(AsmParser &parser);
void printF64(AsmPrinter &printer, const APFloat &value);

} // namespace mlir::attn

#include "attn/Dialect/Attn/IR/AttnDialect.h.inc"
#include "attn/Dialect/Attn/IR/AttnEnums.h.inc"

namespace mlir::attn {
::mlir::attn::mask::Alignment toMaskAlignment(Alignment alignment);
} // namespace mlir::attn

#include "attn/Dialect/Attn/IR/AttnInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "attn/Dialect/Attn/IR/AttnAttrs.h.inc"

namespace mlir::attn {
/// A bracketed list of attributes of one kind, `[#attn.param<query>, ...]`
/// (the list parameters of the launch contract).
template <typename AttrT>
FailureOr<SmallVector<AttrT>> parseAttrList(AsmParser &parser) {
  SmallVector<AttrT> list;
  if (parser.parseCommaSeparatedList(AsmParser::Delimiter::Square,
                                     [&]() -> ParseResult {
                                       AttrT attr;
                                       if (parser.parseAttribute(attr))
                                         return failure();
                                       list.push_back(attr);
                                       return success();
                                     }))
    return failure();
  return list;
}
template <typename AttrT>
void printAttrList(AsmPrinter &printer, ArrayRef<AttrT> list) {
  printer << '[';
  llvm::interleaveComma(list, printer.getStream(),
                        [&](AttrT attr) { printer.printAttribute(attr); });
  printer << ']';
}
/// The symbols of a kernel grid map, in order.
enum class GridSymbol : unsigned { Batch, Heads, SeqQ, SeqKV, Count };
} // namespace mlir::attn

#define GET_OP_CLASSES
#include "attn/Dialect/Attn/IR/AttnOps.h.inc"

namespace mlir::attn {

/// Rewrites a mask into a simpler equivalent: nested unions and
/// intersections flattened, duplicates and neutral operands dropped,
/// double complements removed, single-operand combinators unwrapped.
MaskAttrInterface simplifyMask(MaskAttrInterface mask);

/// Interprets a mask_mod region as a predicate when it only does integer
/// and index arithmetic on its (b, h, i, j) arguments; fails otherwise
/// (e.g. when it reads a captured tensor).
FailureOr<::mlir::attn::mask::Predicate> interpretMaskModRegion(Region &region);

/// A memref.get_global of a private constant global in `module` (a symbol
/// table: a builtin or gpu module) holding `values`, named `prefix` plus a
/// hash of the values; an existing global with the same values is reused.
Value getConstantTable(OpBuilder &b, Location loc, Operation *module,
                       DenseElementsAttr values, StringRef prefix);

/// How deep unions, intersections, complements and chains may nest (a leaf
/// is level 0). Parsers stop at this depth before recursing further, so a
/// deep input cannot exhaust the stack; verifiers bound nests built through
/// aliases or builders, so every recursive walk of a verified mask (the
/// mask algebra, the emitters, the printer) stays shallow.
constexpr unsigned kMaxAttrNesting = 64;

/// The nesting depth of `attr` (see kMaxAttrNesting), computed without
/// recursion and without revisiting shared sub-attributes; stops counting
/// at `limit + 1`.
unsigned attrNestingDepth(Attribute attr, unsigned limit = kMaxAttrNesting);

/// Checks that `region` (a mask_mod or score_mod region of `owner`, named
/// `name`) holds only what the back ends lower and the dialect gives a
/// meaning to (see attn.attention's description): arith and math on
/// scalars, scf.if, scf.for with a constant positive step, tensor.extract
/// from a captured tensor, attn.yield. The first `numLeading` arguments of
/// its entry block are the index/score arguments; captured tensors are the
/// later arguments or values defined above the region.
LogicalResult verifyRegionBody(Operation *owner, Region &region, StringRef name,
                               unsigned numLeading);

/// Gives region ops inlined by a lowering attn's definition of what MLIR
/// leaves undefined: integer division and remainder by zero (x / 0 = 0,
/// x % 0 = x), signed overflow (INT_MIN / -1 = INT_MIN) and shifts by the
/// bit width or more (0, or the sign for shrsi). Rewrites `ops` and the
/// ops nested in them in place, with `b`; `results`, values of those ops
/// the caller holds (the region's yield), are updated to the rewritten
/// ones. The compile-time interpreter (interpretMaskModRegion) computes the
/// same values.
void applyRegionSemantics(OpBuilder &b, ArrayRef<Operation *> ops,
                          MutableArrayRef<Value> results);

/// Clones the entry block of `region` at `b`'s insertion point with its
/// arguments bound to `args`, applies applyRegionSemantics to the clone,
/// and returns the value it yields.
Value inlineRegionWithSemantics(OpBuilder &b, Region &region, ValueRange args);

/// Returns true if `mask` mentions an attribute of type AttrT anywhere.
template <typename AttrT> bool maskContains(MaskAttrInterface mask) {
  bool found = false;
  mask.walk([&](AttrT) { found = true; });
  return found;
}

} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_IR_ATTNOPS_H
