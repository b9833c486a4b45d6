//===- AttnAttrs.cpp - Mask and score-mod attributes -----------*- C++ -*-===//
//
// Verifiers of the mask and score-modification attributes, their mapping
// onto the mask algebra (MaskAttrInterface::buildMask), their checks against
// an attention's shape, and the mask simplifier used by canonicalization.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/bit.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attn;
namespace am = ::mlir::attn::mask;

using EmitErrorFn = function_ref<InFlightDiagnostic()>;

//===----------------------------------------------------------------------===//
// Verifiers
//===----------------------------------------------------------------------===//

/// Mask parameters are positions or extents in a sequence, which attn
/// bounds by 2^31 (see the op verifier); bounding them too keeps every
/// index computation of the mask algebra far from int64 overflow.
static LogicalResult verifyExtent(EmitErrorFn emitError, StringRef what,
                                  int64_t value) {
  if (value >= (int64_t{1} << 31))
    return emitError() << what << " " << value
                       << " is too large; it must be below 2^31";
  return success();
}

LogicalResult WindowMaskAttr::verify(EmitErrorFn emitError, int64_t left,
                                     int64_t right, Alignment) {
  if (left < 0)
    return emitError() << "window left extent must be non-negative, got "
                       << left;
  if (right < 0)
    return emitError() << "window right extent must be non-negative, got "
                       << right;
  if (failed(verifyExtent(emitError, "window left extent", left)) ||
      failed(verifyExtent(emitError, "window right extent", right)))
    return failure();
  return success();
}

LogicalResult DilatedMaskAttr::verify(EmitErrorFn emitError, int64_t window,
                                      int64_t dilation, Alignment) {
  if (window <= 0)
    return emitError() << "dilated window must be positive, got " << window;
  if (dilation <= 0)
    return emitError() << "dilation must be positive, got " << dilation;
  if (failed(verifyExtent(emitError, "dilated window", window)) ||
      failed(verifyExtent(emitError, "dilation", dilation)))
    return failure();
  return success();
}

LogicalResult GlobalMaskAttr::verify(EmitErrorFn emitError, int64_t first,
                                     ArrayRef<int64_t> indices) {
  if (first < 0)
    return emitError() << "number of leading global tokens must be "
                          "non-negative, got "
                       << first;
  if (failed(verifyExtent(emitError, "number of leading global tokens", first)))
    return failure();
  for (int64_t index : indices) {
    if (index < 0)
      return emitError() << "global token index must be non-negative, got "
                         << index;
    if (failed(verifyExtent(emitError, "global token index", index)))
      return failure();
  }
  if (first == 0 && indices.empty())
    return emitError() << "global mask selects no tokens: give 'first' or "
                          "'indices'";
  return success();
}

LogicalResult GlobalMaskAttr::verifyForShape(const AttentionShape &shape,
                                             EmitErrorFn emitError) const {
  int64_t limit = std::max(shape.seqQ, shape.seqKV);
  if (!shape.hasStaticSequences())
    return success();
  for (int64_t index : getIndices())
    if (index >= limit)
      return emitError() << "global token index " << index
                         << " is out of range for sequence lengths "
                         << shape.seqQ << " x " << shape.seqKV;
  return success();
}

LogicalResult RandomBlocksMaskAttr::verify(EmitErrorFn emitError, int64_t block,
                                           int64_t perRow, int64_t seed) {
  (void)seed;
  if (block <= 0)
    return emitError() << "random block size must be positive, got " << block;
  if (perRow <= 0)
    return emitError() << "random blocks per row must be positive, got "
                       << perRow;
  if (failed(verifyExtent(emitError, "random block size", block)) ||
      failed(verifyExtent(emitError, "random blocks per row", perRow)))
    return failure();
  return success();
}

LogicalResult BlockLayoutMaskAttr::verify(EmitErrorFn emitError, int64_t blockQ,
                                          int64_t blockKV,
                                          DenseIntElementsAttr layout) {
  if (blockQ <= 0 || blockKV <= 0)
    return emitError() << "block layout block sizes must be positive, got ["
                       << blockQ << ", " << blockKV << "]";
  if (failed(verifyExtent(emitError, "block layout block size",
                          std::max(blockQ, blockKV))))
    return failure();
  auto type = layout.getType();
  if (!type.getElementType().isInteger(1))
    return emitError() << "block layout must have i1 elements, got "
                       << type.getElementType();
  if (type.getRank() != 2)
    return emitError() << "block layout must be rank 2 [q blocks, kv blocks], "
                          "got rank "
                       << type.getRank();
  if (type.getNumElements() == 0)
    return emitError() << "block layout must not be empty";
  // A splat may state a huge layout in a few bytes; the mask algebra
  // expands it, so bound it.
  constexpr int64_t kMaxLayoutEntries = int64_t{1} << 24;
  if (type.getNumElements() > kMaxLayoutEntries)
    return emitError() << "block layout has " << type.getNumElements()
                       << " entries; at most " << kMaxLayoutEntries
                       << " are supported (use larger blocks)";
  return success();
}

LogicalResult BlockLayoutMaskAttr::verifyForShape(const AttentionShape &shape,
                                                  EmitErrorFn emitError) const {
  if (!shape.hasStaticSequences())
    return success();
  int64_t rows = llvm::divideCeil(shape.seqQ, getBlockQ());
  int64_t cols = llvm::divideCeil(shape.seqKV, getBlockKv());
  ArrayRef<int64_t> actual = getLayout().getType().getShape();
  if (actual[0] != rows || actual[1] != cols)
    return emitError() << "block layout has shape [" << actual[0] << ", "
                       << actual[1] << "] but sequence lengths " << shape.seqQ
                       << " x " << shape.seqKV << " with blocks of ["
                       << getBlockQ() << ", " << getBlockKv() << "] need ["
                       << rows << ", " << cols << "]";
  return success();
}

LogicalResult PrefixLMMaskAttr::verify(EmitErrorFn emitError, int64_t prefix) {
  if (prefix < 0)
    return emitError() << "prefix length must be non-negative, got " << prefix;
  return verifyExtent(emitError, "prefix length", prefix);
}

/// Bounds the nesting of a combinator `name` over `children`: the parser
/// bounds what it reads itself, this catches nests built from aliases (each
/// parsed at the top level) and by builders.
template <typename RangeT>
static LogicalResult verifyNesting(EmitErrorFn emitError, StringRef name,
                                   RangeT children) {
  for (Attribute child : children)
    if (attrNestingDepth(child) + 1 > kMaxAttrNesting)
      return emitError() << "#attn." << name << " nests deeper than "
                         << kMaxAttrNesting
                         << " levels of unions, intersections, complements "
                            "or chains";
  return success();
}

static LogicalResult verifyCombinator(EmitErrorFn emitError, StringRef name,
                                      ArrayRef<MaskAttrInterface> masks) {
  if (masks.size() < 2)
    return emitError() << "#attn." << name << " needs at least two masks, got "
                       << masks.size();
  return verifyNesting(emitError, name, masks);
}

LogicalResult UnionMaskAttr::verify(EmitErrorFn emitError,
                                    ArrayRef<MaskAttrInterface> masks) {
  return verifyCombinator(emitError, "union", masks);
}

LogicalResult IntersectionMaskAttr::verify(EmitErrorFn emitError,
                                           ArrayRef<MaskAttrInterface> masks) {
  return verifyCombinator(emitError, "intersection", masks);
}

LogicalResult ComplementMaskAttr::verify(EmitErrorFn emitError,
                                         MaskAttrInterface mask) {
  return verifyNesting(emitError, "complement", ArrayRef<Attribute>{mask});
}

LogicalResult AlibiAttr::verify(EmitErrorFn emitError,
                                ArrayRef<APFloat> slopes) {
  for (const APFloat &slope : slopes)
    if (!slope.isFinite())
      return emitError() << "ALiBi slopes must be finite";
  return success();
}

LogicalResult SoftcapAttr::verify(EmitErrorFn emitError, APFloat cap) {
  if (!cap.isFinite() || cap.isNegative() || cap.isZero())
    return emitError() << "softcap must be a positive finite value, got "
                       << cap.convertToDouble();
  return success();
}

LogicalResult ChainAttr::verify(EmitErrorFn emitError,
                                ArrayRef<ScoreModAttrInterface> mods) {
  if (mods.empty())
    return emitError() << "#attn.chain needs at least one score modification";
  return verifyNesting(emitError, "chain", mods);
}

//===----------------------------------------------------------------------===//
// Nesting
//===----------------------------------------------------------------------===//

/// Calls `fn` on the immediate operands of a combinator or chain.
static void forEachNestedOperand(Attribute attr,
                                 function_ref<void(Attribute)> fn) {
  if (auto u = dyn_cast<UnionMaskAttr>(attr))
    llvm::for_each(u.getMasks(), fn);
  else if (auto i = dyn_cast<IntersectionMaskAttr>(attr))
    llvm::for_each(i.getMasks(), fn);
  else if (auto c = dyn_cast<ComplementMaskAttr>(attr))
    fn(c.getMask());
  else if (auto chain = dyn_cast<ChainAttr>(attr))
    llvm::for_each(chain.getMods(), fn);
}

unsigned mlir::attn::attrNestingDepth(Attribute attr, unsigned limit) {
  // Level by level, each level without duplicates: shared operands are
  // visited once per level, so a DAG with exponentially many paths costs
  // at most (depth x distinct attributes).
  SmallVector<Attribute> level{attr};
  for (unsigned depth = 0;; ++depth) {
    llvm::SetVector<Attribute> next;
    for (Attribute a : level)
      forEachNestedOperand(a, [&](Attribute child) { next.insert(child); });
    if (next.empty() || depth + 1 > limit)
      return next.empty() ? depth : depth + 1;
    level.assign(next.begin(), next.end());
  }
}

namespace {
/// How many combinators the parser of this thread is inside of (MLIR
/// parses one input on one thread).
thread_local unsigned parseNesting = 0;
} // namespace

/// Parses `<` body `>` one nesting level down, refusing to recurse past
/// kMaxAttrNesting levels.
static ParseResult parseNested(AsmParser &parser, StringRef mnemonic,
                               function_ref<ParseResult()> body) {
  if (parseNesting >= kMaxAttrNesting)
    return parser.emitError(parser.getCurrentLocation())
           << "#attn." << mnemonic << " nests deeper than " << kMaxAttrNesting
           << " levels of unions, intersections, complements or chains";
  ++parseNesting;
  llvm::scope_exit restore([] { --parseNesting; });
  return failure(parser.parseLess() || body() || parser.parseGreater());
}

/// Parses one attribute that must be an AttrT (`what` names it).
template <typename AttrT>
static ParseResult parseAttrOf(AsmParser &parser, AttrT &result,
                               StringRef what) {
  SMLoc loc = parser.getCurrentLocation();
  Attribute attr;
  if (parser.parseAttribute(attr))
    return failure();
  result = dyn_cast<AttrT>(attr);
  if (!result)
    return parser.emitError(loc) << "expected " << what << ", got " << attr;
  return success();
}

/// `<[a, b, ...]>` of AttrT operands.
template <typename AttrT>
static FailureOr<SmallVector<AttrT>>
parseNestedList(AsmParser &parser, StringRef mnemonic, StringRef what) {
  SmallVector<AttrT> operands;
  if (parseNested(parser, mnemonic, [&] {
        return parser.parseCommaSeparatedList(
            AsmParser::Delimiter::Square,
            [&] { return parseAttrOf(parser, operands.emplace_back(), what); });
      }))
    return failure();
  return operands;
}

/// An emitError for getChecked at `loc`.
static std::function<InFlightDiagnostic()> emitErrorAt(AsmParser &parser,
                                                       SMLoc loc) {
  return [&parser, loc] { return parser.emitError(loc); };
}

template <typename RangeT>
static void printNestedList(AsmPrinter &printer, RangeT operands) {
  printer << "<[";
  llvm::interleaveComma(operands, printer,
                        [&](Attribute a) { printer.printAttribute(a); });
  printer << "]>";
}

/// `<[mask, ...]>` of a union or an intersection, depth-counted.
template <typename AttrT> static Attribute parseMaskList(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  FailureOr<SmallVector<MaskAttrInterface>> masks =
      parseNestedList<MaskAttrInterface>(parser, AttrT::getMnemonic(),
                                         "a mask attribute");
  if (failed(masks))
    return {};
  return AttrT::getChecked(emitErrorAt(parser, loc), parser.getContext(),
                           ArrayRef<MaskAttrInterface>(*masks));
}

Attribute UnionMaskAttr::parse(AsmParser &parser, Type) {
  return parseMaskList<UnionMaskAttr>(parser);
}

void UnionMaskAttr::print(AsmPrinter &printer) const {
  printNestedList(printer, getMasks());
}

Attribute IntersectionMaskAttr::parse(AsmParser &parser, Type) {
  return parseMaskList<IntersectionMaskAttr>(parser);
}

void IntersectionMaskAttr::print(AsmPrinter &printer) const {
  printNestedList(printer, getMasks());
}

Attribute ComplementMaskAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  MaskAttrInterface mask;
  if (parseNested(parser, getMnemonic(), [&] {
        return parseAttrOf(parser, mask, "a mask attribute");
      }))
    return {};
  return getChecked(emitErrorAt(parser, loc), parser.getContext(), mask);
}

void ComplementMaskAttr::print(AsmPrinter &printer) const {
  printer << '<';
  printer.printAttribute(getMask());
  printer << '>';
}

Attribute ChainAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  FailureOr<SmallVector<ScoreModAttrInterface>> mods =
      parseNestedList<ScoreModAttrInterface>(parser, getMnemonic(),
                                             "a score modification attribute");
  if (failed(mods))
    return {};
  return getChecked(emitErrorAt(parser, loc), parser.getContext(),
                    ArrayRef<ScoreModAttrInterface>(*mods));
}

void ChainAttr::print(AsmPrinter &printer) const {
  printNestedList(printer, getMods());
}

//===----------------------------------------------------------------------===//
// Shape checks of combinators and score modifications
//===----------------------------------------------------------------------===//

template <typename RangeT>
static LogicalResult verifyAllForShape(RangeT children,
                                       const AttentionShape &shape,
                                       EmitErrorFn emitError) {
  for (auto child : children)
    if (failed(child.verifyForShape(shape, emitError)))
      return failure();
  return success();
}

LogicalResult UnionMaskAttr::verifyForShape(const AttentionShape &shape,
                                            EmitErrorFn emitError) const {
  return verifyAllForShape(getMasks(), shape, emitError);
}

LogicalResult
IntersectionMaskAttr::verifyForShape(const AttentionShape &shape,
                                     EmitErrorFn emitError) const {
  return verifyAllForShape(getMasks(), shape, emitError);
}

LogicalResult ComplementMaskAttr::verifyForShape(const AttentionShape &shape,
                                                 EmitErrorFn emitError) const {
  return getMask().verifyForShape(shape, emitError);
}

LogicalResult ChainAttr::verifyForShape(const AttentionShape &shape,
                                        EmitErrorFn emitError) const {
  return verifyAllForShape(getMods(), shape, emitError);
}

LogicalResult AlibiAttr::verifyForShape(const AttentionShape &shape,
                                        EmitErrorFn emitError) const {
  if (!getSlopes().empty() &&
      static_cast<int64_t>(getSlopes().size()) != shape.numQHeads)
    return emitError() << "ALiBi has " << getSlopes().size()
                       << " slopes but the attention has " << shape.numQHeads
                       << " query heads";
  return success();
}

SmallVector<double> AlibiAttr::getEffectiveSlopes(int64_t numHeads) const {
  if (!getSlopes().empty())
    return llvm::map_to_vector(
        getSlopes(), [](const APFloat &s) { return s.convertToDouble(); });
  // Press et al.: for n heads, n a power of two, slope_h = 2^(-8 (h+1) / n).
  // Otherwise take the slopes of the closest lower power of two and fill up
  // with every other slope of the next power of two (the reference code).
  auto powerOfTwoSlopes = [](int64_t n) {
    SmallVector<double> slopes;
    for (int64_t h = 0; h < n; ++h)
      slopes.push_back(std::exp2(-8.0 * static_cast<double>(h + 1) /
                                 static_cast<double>(n)));
    return slopes;
  };
  int64_t lower =
      static_cast<int64_t>(llvm::bit_floor(static_cast<uint64_t>(numHeads)));
  SmallVector<double> slopes = powerOfTwoSlopes(lower);
  if (lower == numHeads)
    return slopes;
  SmallVector<double> extra = powerOfTwoSlopes(2 * lower);
  for (int64_t h = 0; static_cast<int64_t>(slopes.size()) < numHeads; ++h)
    slopes.push_back(extra[2 * h]);
  return slopes;
}

//===----------------------------------------------------------------------===//
// Mask algebra
//===----------------------------------------------------------------------===//

am::MaskRef NoneMaskAttr::buildMask(const MaskBuildContext &) const {
  return am::makeAll();
}

am::MaskRef CausalMaskAttr::buildMask(const MaskBuildContext &) const {
  return am::makeCausal(toMaskAlignment(getAlignment()));
}

am::MaskRef WindowMaskAttr::buildMask(const MaskBuildContext &) const {
  return am::makeWindow(getLeft(), getRight(), toMaskAlignment(getAlignment()));
}

am::MaskRef DilatedMaskAttr::buildMask(const MaskBuildContext &) const {
  return am::makeDilated(getWindow(), getDilation(),
                         toMaskAlignment(getAlignment()));
}

am::MaskRef GlobalMaskAttr::buildMask(const MaskBuildContext &) const {
  return am::makeGlobal(getFirst(), std::vector<int64_t>(getIndices().begin(),
                                                         getIndices().end()));
}

am::MaskRef RandomBlocksMaskAttr::buildMask(const MaskBuildContext &) const {
  return am::makeRandomBlocks(getBlock(), getPerRow(),
                              static_cast<uint64_t>(getSeed()));
}

am::MaskRef BlockLayoutMaskAttr::buildMask(const MaskBuildContext &) const {
  ArrayRef<int64_t> shape = getLayout().getType().getShape();
  std::vector<bool> bits;
  bits.reserve(getLayout().getNumElements());
  for (const APInt &bit : getLayout().getValues<APInt>())
    bits.push_back(!bit.isZero());
  return am::makeBlockLayout(getBlockQ(), getBlockKv(), shape[0], shape[1],
                             std::move(bits));
}

am::MaskRef PrefixLMMaskAttr::buildMask(const MaskBuildContext &) const {
  return am::makePrefixLM(getPrefix());
}

am::MaskRef DocumentMaskAttr::buildMask(const MaskBuildContext &) const {
  return am::makeDocument();
}

am::MaskRef CustomMaskAttr::buildMask(const MaskBuildContext &ctx) const {
  if (!ctx.customPredicate)
    // Verified attentions always provide the region; an unverified caller
    // gets a mask that keeps everything but never classifies a tile Full or
    // Empty.
    return am::makePredicate(
        [](int64_t, int64_t, int64_t, int64_t) { return true; },
        /*exactTiles=*/false);
  return am::makePredicate(ctx.customPredicate, ctx.customIsExact,
                           "#attn.custom", ctx.customDependsOnBatchOrHead);
}

template <typename RangeT>
static std::vector<am::MaskRef> buildChildren(RangeT masks,
                                              const MaskBuildContext &ctx) {
  std::vector<am::MaskRef> children;
  for (MaskAttrInterface mask : masks)
    children.push_back(mask.buildMask(ctx));
  return children;
}

am::MaskRef UnionMaskAttr::buildMask(const MaskBuildContext &ctx) const {
  return am::makeUnion(buildChildren(getMasks(), ctx));
}

am::MaskRef IntersectionMaskAttr::buildMask(const MaskBuildContext &ctx) const {
  return am::makeIntersection(buildChildren(getMasks(), ctx));
}

am::MaskRef ComplementMaskAttr::buildMask(const MaskBuildContext &ctx) const {
  return am::makeComplement(getMask().buildMask(ctx));
}

//===----------------------------------------------------------------------===//
// Simplification
//===----------------------------------------------------------------------===//

/// Simplifies the operands of a union (isUnion) or intersection: flattens
/// nested combinators of the same kind, drops the neutral element and
/// duplicates, and recognises the absorbing element (#attn.none absorbs a
/// union). Returns the simplified mask.
static MaskAttrInterface simplifyCombinator(MLIRContext *ctx,
                                            ArrayRef<MaskAttrInterface> masks,
                                            bool isUnion) {
  llvm::SetVector<MaskAttrInterface> operands;
  std::function<void(MaskAttrInterface)> add = [&](MaskAttrInterface mask) {
    mask = simplifyMask(mask);
    if (auto u = dyn_cast<UnionMaskAttr>(mask); u && isUnion) {
      llvm::for_each(u.getMasks(), add);
      return;
    }
    if (auto i = dyn_cast<IntersectionMaskAttr>(mask); i && !isUnion) {
      llvm::for_each(i.getMasks(), add);
      return;
    }
    operands.insert(mask);
  };
  llvm::for_each(masks, add);

  bool hasNone = llvm::any_of(
      operands, [](MaskAttrInterface mask) { return isa<NoneMaskAttr>(mask); });
  if (hasNone && isUnion)
    return NoneMaskAttr::get(ctx);
  if (hasNone)
    operands.remove_if(
        [](MaskAttrInterface mask) { return isa<NoneMaskAttr>(mask); });

  if (operands.empty())
    return NoneMaskAttr::get(ctx);
  if (operands.size() == 1)
    return operands.front();
  if (isUnion)
    return UnionMaskAttr::get(ctx, operands.getArrayRef());
  return IntersectionMaskAttr::get(ctx, operands.getArrayRef());
}

MaskAttrInterface mlir::attn::simplifyMask(MaskAttrInterface mask) {
  MLIRContext *ctx = mask.getContext();
  if (auto u = dyn_cast<UnionMaskAttr>(mask))
    return simplifyCombinator(ctx, u.getMasks(), /*isUnion=*/true);
  if (auto i = dyn_cast<IntersectionMaskAttr>(mask))
    return simplifyCombinator(ctx, i.getMasks(), /*isUnion=*/false);
  if (auto c = dyn_cast<ComplementMaskAttr>(mask)) {
    MaskAttrInterface inner = simplifyMask(c.getMask());
    if (auto twice = dyn_cast<ComplementMaskAttr>(inner))
      return twice.getMask();
    return ComplementMaskAttr::get(ctx, inner);
  }
  return mask;
}
