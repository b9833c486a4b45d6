//===- AttnOps.cpp - attn.attention, linear_attention and merge -*- C++ -*-===//
//
// Verifiers and helpers of the attn ops (the tile ops' are in TileOps.cpp). The
// verifier is the user's first line of defence: every malformed attention gets
// a precise message here, so no pass downstream has to cope with bad shapes or
// types.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "Verify.h"

#include "mlir/IR/PatternMatch.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;
namespace am = ::mlir::attn::mask;

#define GET_OP_CLASSES
#include "attn/Dialect/Attn/IR/AttnOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Shape checks shared by both ops
//===----------------------------------------------------------------------===//

static std::string formatDims(ArrayRef<int64_t> dims) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << '[';
  llvm::interleaveComma(dims, os, [&](int64_t d) {
    if (ShapedType::isDynamic(d))
      os << '?';
    else
      os << d;
  });
  os << ']';
  return text;
}

/// Kernels index with 32-bit integers (as FlashAttention does); larger
/// sizes are rejected up front so no pass has to reason about overflow.
constexpr int64_t kMaxDimSize = int64_t{1} << 31;

/// Rejects static dims of `type` that are not below kMaxDimSize, and
/// shapes whose element count or byte size (of the static dims) does not
/// fit in int64: the back ends compute both, and would wrap.
static LogicalResult verifyDimSizes(Operation *op, StringRef what,
                                    RankedTensorType type) {
  for (int64_t dim : type.getShape())
    if (!ShapedType::isDynamic(dim) && dim >= kMaxDimSize)
      return op->emitOpError() << what << " dimension " << dim
                               << " is too large; sizes must be below 2^31";
  int64_t elements = 1;
  for (int64_t dim : type.getShape())
    if (!ShapedType::isDynamic(dim) &&
        llvm::MulOverflow(elements, dim, elements))
      return op->emitOpError()
             << what << " of shape " << formatDims(type.getShape())
             << " has more elements than int64 can count";
  Type elt = type.getElementType();
  if (elt.isIntOrFloat()) {
    int64_t bytes = 0;
    int64_t eltBytes = (elt.getIntOrFloatBitWidth() + 7) / 8;
    if (llvm::MulOverflow(elements, eltBytes, bytes))
      return op->emitOpError()
             << what << " of shape " << formatDims(type.getShape()) << " x "
             << elt << " has more bytes than int64 can count";
  }
  return success();
}

/// The scale is folded with log2(e) into one f32 factor (the kernels
/// compute in base 2), which must be positive and finite too.
LogicalResult mlir::attn::detail::verifyScale(Operation *op, double scale) {
  if (!std::isfinite(scale) || scale <= 0.0)
    return op->emitOpError()
           << "scale must be positive and finite, got " << scale;
  constexpr double kLog2e = 1.4426950408889634;
  float folded = static_cast<float>(scale * kLog2e);
  if (!std::isfinite(folded) || folded <= 0.0f)
    return op->emitOpError()
           << "scale " << scale
           << " times log2(e) is not a positive finite f32; the scale must "
              "be at most "
           << std::numeric_limits<float>::max() / kLog2e;
  return success();
}

/// The most dims a captured tensor may have: what the back ends marshal.
constexpr int64_t kMaxCaptureRank = 8;

/// Captured tensors: bounded rank, element types the back ends marshal and
/// the regions compute with, sizes as for every operand.
static LogicalResult verifyCaptures(Operation *op, ValueRange captures) {
  for (auto [k, capture] : llvm::enumerate(captures)) {
    auto type = cast<RankedTensorType>(capture.getType());
    std::string what = "capture #" + std::to_string(k);
    if (type.getRank() > kMaxCaptureRank)
      return op->emitOpError()
             << what << " has rank " << type.getRank()
             << "; captured tensors have at most rank " << kMaxCaptureRank;
    Type elt = type.getElementType();
    auto integer = dyn_cast<IntegerType>(elt);
    bool supported =
        (integer && integer.isSignless() && integer.getWidth() <= 64) ||
        elt.isF16() || elt.isBF16() || elt.isF32() || elt.isF64();
    if (!supported)
      return op->emitOpError()
             << what << " has element type " << elt
             << "; captured tensors hold signless integers (i1 to i64) or "
                "f16, bf16, f32, f64";
    if (llvm::is_contained(type.getShape(), 0))
      return op->emitOpError()
             << what << " of shape " << formatDims(type.getShape())
             << " has no elements for a region to read";
    if (failed(verifyDimSizes(op, what, type)))
      return failure();
  }
  return success();
}

bool mlir::attn::detail::isSupportedElementType(Type type) {
  return type.isF32() || type.isF16() || type.isBF16();
}

bool mlir::attn::detail::compatibleDim(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// Checks that `type` has `expected` dims (dynamic entries match anything).
static LogicalResult verifyDims(Operation *op, StringRef what,
                                RankedTensorType type,
                                ArrayRef<int64_t> expected) {
  if (type.getRank() != static_cast<int64_t>(expected.size()))
    return op->emitOpError() << what << " must have rank " << expected.size()
                             << ", got rank " << type.getRank();
  if (failed(verifyDimSizes(op, what, type)))
    return failure();
  for (auto [actual, want] : llvm::zip(type.getShape(), expected))
    if (!compatibleDim(actual, want))
      return op->emitOpError()
             << what << " has shape " << formatDims(type.getShape()) << " but "
             << formatDims(expected) << " is expected";
  return success();
}

/// The dims of a paged K or V (`[num_pages, page_size, Hkv, D]`, or with
/// heads-major pages `[num_pages, Hkv, page_size, D]`) as the attention
/// reads them, `[B, Hkv, M * page_size, D]` for a page table `[B, M]`;
/// other keys and values as they are.
static SmallVector<int64_t> logicalKvDims(ArrayRef<int64_t> dims,
                                          Value pageTable, bool headsMajor) {
  if (!pageTable || dims.size() != 4)
    return SmallVector<int64_t>(dims);
  ArrayRef<int64_t> table =
      cast<RankedTensorType>(pageTable.getType()).getShape();
  if (table.size() != 2)
    return SmallVector<int64_t>(dims);
  int64_t pageSize = headsMajor ? dims[2] : dims[1];
  int64_t heads = headsMajor ? dims[1] : dims[2];
  int64_t seq = ShapedType::isDynamic(table[1]) ? ShapedType::kDynamic
                                                : table[1] * pageSize;
  return {table[0], heads, seq, dims[3]};
}

/// The dims of a packed (varlen) Q, K or V `[T, H, D]` as the attention
/// reads them, `[B, H, ?, D]` for offsets `[B + 1]`: each sequence has its
/// own length. Other dims as they are.
static SmallVector<int64_t> logicalPackedDims(ArrayRef<int64_t> dims,
                                              Value cuSeqlens) {
  if (!cuSeqlens || dims.size() != 3)
    return SmallVector<int64_t>(dims);
  ArrayRef<int64_t> offsets =
      cast<RankedTensorType>(cuSeqlens.getType()).getShape();
  int64_t batch = offsets.size() == 1 && !ShapedType::isDynamic(offsets[0]) &&
                          offsets[0] > 0
                      ? offsets[0] - 1
                      : ShapedType::kDynamic;
  return {batch, dims[1], ShapedType::kDynamic, dims[2]};
}

/// Verifies Q, K, V of an attention and computes its shape. Shared by
/// attn.attention and attn.linear_attention. With a page table, K and V
/// are a paged cache (verifyPaged checks the table itself).
static FailureOr<AttentionShape> verifyQKV(Operation *op, Value query,
                                           Value key, Value value,
                                           Value pageTable = Value(),
                                           bool headsMajor = false,
                                           Value cuSeqlens = Value()) {
  auto qType = cast<RankedTensorType>(query.getType());
  auto kType = cast<RankedTensorType>(key.getType());
  auto vType = cast<RankedTensorType>(value.getType());

  bool paged = static_cast<bool>(pageTable);
  bool packed = static_cast<bool>(cuSeqlens);
  int64_t rank = packed ? 3 : 4;
  for (auto [name, type, layout] :
       {std::tuple{"query", qType,
                   packed ? "[Tq, Hq, Dqk]" : "[B, Hq, Sq, Dqk]"},
        std::tuple{"key", kType,
                   packed       ? "[Tk, Hkv, Dqk]"
                   : !paged     ? "[B, Hkv, Skv, Dqk]"
                   : headsMajor ? "[num_pages, Hkv, page_size, Dqk]"
                                : "[num_pages, page_size, Hkv, Dqk]"},
        std::tuple{"value", vType,
                   packed       ? "[Tk, Hkv, Dv]"
                   : !paged     ? "[B, Hkv, Skv, Dv]"
                   : headsMajor ? "[num_pages, Hkv, page_size, Dv]"
                                : "[num_pages, page_size, Hkv, Dv]"}}) {
    if (type.getRank() != rank)
      return op->emitOpError()
             << name << " must be rank " << rank << " " << layout
             << (packed ? " (varlen)" : "") << ", got rank " << type.getRank();
    if (failed(verifyDimSizes(op, name, type)))
      return failure();
    if (!isSupportedElementType(type.getElementType()))
      return op->emitOpError()
             << "unsupported " << name << " element type "
             << type.getElementType() << "; expected f32, f16 or bf16";
  }
  if (kType.getElementType() != qType.getElementType() ||
      vType.getElementType() != qType.getElementType())
    return op->emitOpError()
           << "query, key and value must share one element type, got "
           << qType.getElementType() << ", " << kType.getElementType()
           << " and " << vType.getElementType();

  if (paged) {
    auto table = cast<RankedTensorType>(pageTable.getType());
    if (table.getRank() != 2 || !table.getElementType().isSignlessInteger(32))
      return op->emitOpError()
             << "page table must be a [B, max_pages] i32 tensor, got " << table;
    for (auto [name, type] : {std::pair{"key", kType}, {"value", vType}})
      if (!type.hasStaticShape() || llvm::is_contained(type.getShape(), 0))
        return op->emitOpError()
               << "paged " << name << " " << type
               << " must have a static shape without zero-sized dims";
    if (kType.getDimSize(0) != vType.getDimSize(0) ||
        kType.getDimSize(1) != vType.getDimSize(1) ||
        kType.getDimSize(2) != vType.getDimSize(2))
      return op->emitOpError()
             << "paged key " << kType << " and value " << vType
             << " must have the same pages, page size and heads";
    if (table.isDynamicDim(1) || table.getDimSize(1) == 0)
      return op->emitOpError() << "page table " << table
                               << " must have a static, non-zero page count";
    if (failed(verifyDimSizes(op, "page table", table)))
      return failure();
    int64_t pageSize = kType.getDimSize(headsMajor ? 2 : 1);
    if (table.getDimSize(1) * pageSize >= kMaxDimSize)
      return op->emitOpError() << "page table " << table << " of pages of "
                               << pageSize << " keys holds 2^31 keys or more";
  }
  if (packed && !compatibleDim(kType.getDimSize(0), vType.getDimSize(0)))
    return op->emitOpError() << "varlen key " << kType << " and value " << vType
                             << " must have the same tokens";
  SmallVector<int64_t> qDims = logicalPackedDims(qType.getShape(), cuSeqlens);
  SmallVector<int64_t> kDims = logicalPackedDims(
      logicalKvDims(kType.getShape(), pageTable, headsMajor), cuSeqlens);
  SmallVector<int64_t> vDims = logicalPackedDims(
      logicalKvDims(vType.getShape(), pageTable, headsMajor), cuSeqlens);
  ArrayRef<int64_t> q = qDims, k = kDims, v = vDims;
  for (auto [name, dims] :
       {std::pair{"query", q}, std::pair{"key", k}, std::pair{"value", v}}) {
    if (ShapedType::isDynamic(dims[1]))
      return op->emitOpError() << name << " head count must be static";
    if (ShapedType::isDynamic(dims[3]))
      return op->emitOpError() << name << " head dim must be static";
    if (dims[1] == 0 || dims[3] == 0)
      return op->emitOpError()
             << name << " must have non-zero head count and head dim, got "
             << formatDims(dims);
  }
  if (!compatibleDim(q[0], k[0]) || !compatibleDim(q[0], v[0]) ||
      !compatibleDim(k[0], v[0]))
    return op->emitOpError()
           << "batch size mismatch: query " << formatDims(q) << ", key "
           << formatDims(k) << ", value " << formatDims(v);
  if (k[1] != v[1])
    return op->emitOpError()
           << "key has " << k[1] << " heads but value has " << v[1];
  if (q[1] % k[1] != 0)
    return op->emitOpError()
           << "query heads (" << q[1] << ") must be a multiple of key/value "
           << "heads (" << k[1] << ") for grouped-query attention";
  if (!compatibleDim(k[2], v[2]))
    return op->emitOpError() << "key sequence length " << k[2]
                             << " differs from value sequence length " << v[2];
  if (q[3] != k[3])
    return op->emitOpError() << "query head dim " << q[3]
                             << " differs from key head dim " << k[3];

  AttentionShape shape;
  shape.batch = ShapedType::isDynamic(q[0]) ? k[0] : q[0];
  if (ShapedType::isDynamic(shape.batch))
    shape.batch = v[0];
  shape.numQHeads = q[1];
  shape.numKVHeads = k[1];
  shape.seqQ = q[2];
  shape.seqKV = ShapedType::isDynamic(k[2]) ? v[2] : k[2];
  shape.headDimQK = q[3];
  shape.headDimV = v[3];
  return shape;
}

/// Checks the output O [B, Hq, Sq, Dv] against the inputs; packed
/// (varlen, `tokens` = Tq) O [Tq, Hq, Dv].
static LogicalResult verifyOutput(Operation *op, Value output, Type eltType,
                                  const AttentionShape &shape,
                                  std::optional<int64_t> tokens = {}) {
  auto type = cast<RankedTensorType>(output.getType());
  if (type.getElementType() != eltType)
    return op->emitOpError()
           << "output element type " << type.getElementType()
           << " differs from the input element type " << eltType;
  if (tokens)
    return verifyDims(op, "output", type,
                      {*tokens, shape.numQHeads, shape.headDimV});
  return verifyDims(op, "output", type,
                    {shape.batch, shape.numQHeads, shape.seqQ, shape.headDimV});
}

static AttentionShape shapeOf(Value query, Value key, Value value,
                              Value pageTable = Value(),
                              bool headsMajor = false,
                              Value cuSeqlens = Value()) {
  auto dimsOf = [](Value v) {
    return cast<RankedTensorType>(v.getType()).getShape();
  };
  SmallVector<int64_t> q = logicalPackedDims(dimsOf(query), cuSeqlens);
  SmallVector<int64_t> k = logicalPackedDims(
      logicalKvDims(dimsOf(key), pageTable, headsMajor), cuSeqlens);
  SmallVector<int64_t> v = logicalPackedDims(
      logicalKvDims(dimsOf(value), pageTable, headsMajor), cuSeqlens);
  AttentionShape shape;
  shape.batch = q[0];
  shape.numQHeads = q[1];
  shape.numKVHeads = k[1];
  shape.seqQ = q[2];
  shape.seqKV = k[2];
  shape.headDimQK = q[3];
  shape.headDimV = v[3];
  return shape;
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

AttentionShape AttentionOp::getShape() {
  AttentionShape shape =
      shapeOf(getQuery(), getKey(), getValue(), getPageTable(),
              hasHeadsMajorPages(), getCuSeqlensQ());
  // A packed batch's B is its offsets' length minus one.
  if (ShapedType::isDynamic(shape.batch) && isVarlen())
    if (int64_t n = getCuSeqlensK().getType().getDimSize(0);
        !ShapedType::isDynamic(n) && n > 0)
      shape.batch = n - 1;
  // Q may be the one with a dynamic batch.
  if (ShapedType::isDynamic(shape.batch) && isPaged())
    shape.batch =
        cast<RankedTensorType>(getPageTable().getType()).getDimSize(0);
  return shape;
}

double AttentionOp::getEffectiveScale() {
  if (std::optional<APFloat> scale = getScale())
    return scale->convertToDouble();
  return 1.0 / std::sqrt(static_cast<double>(getShape().headDimQK));
}

MaskAttrInterface AttentionOp::getEffectiveMask() {
  if (MaskAttrInterface mask = getMaskAttr())
    return mask;
  if (!getMaskMod().empty())
    return CustomMaskAttr::get(getContext());
  return NoneMaskAttr::get(getContext());
}

am::MaskRef AttentionOp::buildMask() {
  MaskBuildContext ctx;
  if (!getMaskMod().empty()) {
    FailureOr<am::Predicate> pred = interpretMaskModRegion(getMaskMod());
    if (succeeded(pred)) {
      ctx.customPredicate = *pred;
      ctx.customIsExact = true;
    }
    Block &body = getMaskMod().front();
    ctx.customDependsOnBatchOrHead = body.getNumArguments() < 2 ||
                                     !body.getArgument(0).use_empty() ||
                                     !body.getArgument(1).use_empty();
  }
  return getEffectiveMask().buildMask(ctx);
}

/// Checks a region's entry block: `leading` arguments followed by one per
/// capture, a single yielded value of type `yieldType`.
static LogicalResult verifyRegionSignature(AttentionOp op, Region &region,
                                           StringRef name,
                                           ArrayRef<Type> leading,
                                           StringRef signature,
                                           Type yieldType) {
  Block &block = region.front();
  // Checked before MLIR's own terminator check runs, so an empty block
  // must not reach getTerminator().
  if (block.empty() || !isa<YieldOp>(block.back()))
    return op.emitOpError() << name << " region must end with attn.yield";
  SmallVector<Type> expected(leading);
  llvm::append_range(expected, op.getCaptures().getTypes());
  if (block.getArgumentTypes() != ArrayRef<Type>(expected)) {
    InFlightDiagnostic diag = op.emitOpError()
                              << name << " region must take " << signature;
    if (!op.getCaptures().empty())
      diag << " followed by one argument per capture";
    diag << ", got (";
    llvm::interleaveComma(block.getArgumentTypes(), diag);
    return diag << ")";
  }
  auto yield = cast<YieldOp>(block.back());
  if (yield.getValues().size() != 1 ||
      yield.getValues().front().getType() != yieldType)
    return yield.emitOpError()
           << "in " << name << " must yield exactly one " << yieldType;
  return success();
}

LogicalResult mlir::attn::detail::verifyAttrNesting(Operation *op,
                                                    Attribute mask,
                                                    Attribute scoreMod) {
  for (auto [attr, name] :
       {std::pair{mask, "mask"}, std::pair{scoreMod, "score_mod"}})
    if (attr && attrNestingDepth(attr) > kMaxAttrNesting)
      return op->emitOpError()
             << name << " nests deeper than " << kMaxAttrNesting
             << " levels of unions, intersections, complements or chains";
  return success();
}

/// The logsumexp result: f32, [B, Hq, Sq]; packed (varlen) [Tq, Hq].
static LogicalResult verifyLogsumexp(Operation *op, Value lse,
                                     const AttentionShape &shape,
                                     std::optional<int64_t> tokens = {}) {
  auto type = cast<RankedTensorType>(lse.getType());
  if (!type.getElementType().isF32())
    return op->emitOpError()
           << "logsumexp must have f32 elements, got " << type.getElementType();
  if (tokens)
    return verifyDims(op, "logsumexp", type, {*tokens, shape.numQHeads});
  return verifyDims(op, "logsumexp", type,
                    {shape.batch, shape.numQHeads, shape.seqQ});
}

/// The bias: f32 or the query's element type, [B, Hq, Sq, Skv] with B and
/// Hq possibly 1 to broadcast.
static LogicalResult verifyBias(Operation *op, Value bias, Type eltType,
                                const AttentionShape &shape) {
  auto type = cast<RankedTensorType>(bias.getType());
  if (type.getElementType() != eltType && !type.getElementType().isF32())
    return op->emitOpError()
           << "bias element type " << type.getElementType()
           << " must be f32 or the query element type " << eltType;
  if (type.getRank() != 4)
    return op->emitOpError()
           << "bias must be rank 4 [B, Hq, Sq, Skv], got rank "
           << type.getRank();
  if (failed(verifyDimSizes(op, "bias", type)))
    return failure();
  ArrayRef<int64_t> dims = type.getShape();
  if ((dims[0] != 1 && !compatibleDim(dims[0], shape.batch)) ||
      (dims[1] != 1 && !compatibleDim(dims[1], shape.numQHeads)) ||
      !compatibleDim(dims[2], shape.seqQ) ||
      !compatibleDim(dims[3], shape.seqKV))
    return op->emitOpError() << "bias has shape " << formatDims(dims) << " but "
                             << formatDims({shape.batch, shape.numQHeads,
                                            shape.seqQ, shape.seqKV})
                             << " is expected (B and Hq may be 1 to broadcast)";
  return success();
}

/// Document ids: both or neither, present exactly when the mask uses
/// #attn.document, i32 or i64, [B, Sq] and [B, Skv].
static LogicalResult verifySegmentIds(AttentionOp op,
                                      const AttentionShape &shape) {
  bool usesDocument = maskContains<DocumentMaskAttr>(op.getEffectiveMask());
  Value qIds = op.getQSegmentIds(), kvIds = op.getKvSegmentIds();
  if (static_cast<bool>(qIds) != static_cast<bool>(kvIds))
    return op.emitOpError() << "segments need both query and key/value ids";
  if (usesDocument && !qIds)
    return op.emitOpError() << "#attn.document mask needs segment ids: add "
                               "'segments(%q_ids, %kv_ids : ...)'";
  if (!usesDocument && qIds)
    return op.emitOpError()
           << "segment ids are given but the mask does not use #attn.document";
  if (!qIds)
    return success();
  auto qt = cast<RankedTensorType>(qIds.getType());
  auto kt = cast<RankedTensorType>(kvIds.getType());
  for (auto type : {qt, kt})
    if (!type.getElementType().isSignlessInteger(32) &&
        !type.getElementType().isSignlessInteger(64))
      return op.emitOpError()
             << "segment ids must be i32 or i64, got " << type.getElementType();
  if (qt.getElementType() != kt.getElementType())
    return op.emitOpError() << "query and key/value segment ids differ in "
                               "element type";
  if (failed(
          verifyDims(op, "query segment ids", qt, {shape.batch, shape.seqQ})) ||
      failed(verifyDims(op, "key/value segment ids", kt,
                        {shape.batch, shape.seqKV})))
    return failure();
  return success();
}

/// The run-time block layout: both operands of each pair, the full pair
/// only with the partial one, `sparse_block` exactly with them; i32 counts
/// [B|1, Hq|1, Qb] and indices [B|1, Hq|1, Qb, W] with Qb = ceil(Sq / Bq).
static LogicalResult verifyBlockLayout(AttentionOp op,
                                       const AttentionShape &shape) {
  std::optional<ArrayRef<int64_t>> block = op.getSparseBlock();
  if (static_cast<bool>(op.getKvNumBlocks()) !=
          static_cast<bool>(op.getKvIndices()) ||
      static_cast<bool>(op.getFullKvNumBlocks()) !=
          static_cast<bool>(op.getFullKvIndices()))
    return op.emitOpError() << "a block layout needs both its counts and "
                               "its indices (block_sparse, full_blocks)";
  if (static_cast<bool>(op.getKvNumBlocks()) != block.has_value())
    return op.emitOpError()
           << (block ? "sparse_block is given without a block_sparse layout"
                     : "block_sparse needs sparse_block = array<i64: Bq, "
                       "Bkv>, the layout's block size");
  if (op.getFullKvNumBlocks() && !op.getKvNumBlocks())
    return op.emitOpError() << "full_blocks needs block_sparse";
  if (!block)
    return success();
  if (block->size() != 2 || (*block)[0] <= 0 || (*block)[1] <= 0 ||
      (*block)[0] >= kMaxDimSize || (*block)[1] >= kMaxDimSize)
    return op.emitOpError()
           << "sparse_block must be two positive sizes [Bq, Bkv] below 2^31";
  int64_t qBlocks = ShapedType::isDynamic(shape.seqQ)
                        ? ShapedType::kDynamic
                        : llvm::divideCeil(shape.seqQ, (*block)[0]);
  for (auto [counts, indices, name] :
       {std::tuple{op.getKvNumBlocks(), op.getKvIndices(), "block_sparse"},
        std::tuple{op.getFullKvNumBlocks(), op.getFullKvIndices(),
                   "full_blocks"}}) {
    if (!counts)
      continue;
    auto ct = cast<RankedTensorType>(counts.getType());
    auto it = cast<RankedTensorType>(indices.getType());
    for (RankedTensorType type : {ct, it})
      if (!type.getElementType().isSignlessInteger(32))
        return op.emitOpError() << name << " counts and indices must be i32, "
                                << "got " << type.getElementType();
    if (ct.getRank() != 3 || it.getRank() != 4)
      return op.emitOpError()
             << name << " needs counts [B, Hq, Qb] and indices [B, Hq, Qb, "
             << "W], got ranks " << ct.getRank() << " and " << it.getRank();
    if (failed(verifyDimSizes(op, name, ct)) ||
        failed(verifyDimSizes(op, name, it)))
      return failure();
    if (llvm::is_contained(ct.getShape(), 0) ||
        llvm::is_contained(it.getShape(), 0))
      return op.emitOpError() << name << " counts and indices must not have "
                              << "a zero-sized dim";
    ArrayRef<int64_t> c = ct.getShape(), x = it.getShape();
    bool ok = (c[0] == 1 || compatibleDim(c[0], shape.batch)) &&
              (c[1] == 1 || compatibleDim(c[1], shape.numQHeads)) &&
              compatibleDim(c[2], qBlocks) &&
              llvm::all_of(llvm::seq(0, 3),
                           [&](int d) { return compatibleDim(x[d], c[d]); }) &&
              x[3] != 0;
    if (!ok)
      return op.emitOpError()
             << name << " has counts " << formatDims(c) << " and indices "
             << formatDims(x) << " but "
             << formatDims({shape.batch, shape.numQHeads, qBlocks})
             << " and [.., .., .., W >= 1] are expected (Qb = ceil(Sq / "
             << (*block)[0] << "); B and Hq may be 1 to broadcast)";
  }
  return success();
}

/// The paged cache's page layout, which the shape checks read.
static LogicalResult verifyKvLayout(AttentionOp op) {
  std::optional<StringRef> layout = op.getKvLayout();
  if (!layout)
    return success();
  if (!op.isPaged())
    return op.emitOpError("kv_layout is given without a paged cache");
  if (*layout != "nhd" && *layout != "hnd")
    return op.emitOpError() << "kv_layout must be \"nhd\" ([num_pages, "
                               "page_size, Hkv, D]) or \"hnd\" ([num_pages, "
                               "Hkv, page_size, D]), got \""
                            << *layout << "\"";
  return success();
}

/// The paged KV cache's kv lengths (i32 [B]) and what it does not combine
/// with; verifyQKV has checked the pages and the page table.
static LogicalResult verifyPaged(AttentionOp op, const AttentionShape &shape) {
  if (static_cast<bool>(op.getPageTable()) !=
      static_cast<bool>(op.getKvLengths()))
    return op.emitOpError("paged needs a page table and kv lengths");
  if (!op.isPaged())
    return success();
  auto lengths = cast<RankedTensorType>(op.getKvLengths().getType());
  if (lengths.getRank() != 1 || !lengths.getElementType().isSignlessInteger(32))
    return op.emitOpError()
           << "kv lengths must be a [B] i32 tensor, got " << lengths;
  if (!compatibleDim(lengths.getDimSize(0), shape.batch))
    return op.emitOpError() << "kv lengths " << lengths << " do not match "
                            << "the batch " << formatDims({shape.batch});
  if (op.getBias() || op.getQSegmentIds() || op.hasBlockLayout())
    return op.emitOpError("a paged KV cache does not combine with bias, "
                          "segments or a block layout yet");
  return success();
}

/// A packed batch's offsets (i32 [B + 1], the same for queries and keys)
/// and what it does not combine with; verifyQKV has checked Q, K, V.
static LogicalResult verifyVarlen(AttentionOp op) {
  if (static_cast<bool>(op.getCuSeqlensQ()) !=
      static_cast<bool>(op.getCuSeqlensK()))
    return op.emitOpError("varlen needs query and key offsets");
  if (!op.isVarlen())
    return success();
  auto q = cast<RankedTensorType>(op.getCuSeqlensQ().getType());
  auto k = cast<RankedTensorType>(op.getCuSeqlensK().getType());
  for (auto [name, type] : {std::pair{"query", q}, {"key", k}})
    if (type.getRank() != 1 || !type.getElementType().isSignlessInteger(32) ||
        type.getDimSize(0) == 0)
      return op.emitOpError()
             << "varlen " << name
             << " offsets must be a [B + 1] i32 tensor (B >= 0), got " << type;
  if (!compatibleDim(q.getDimSize(0), k.getDimSize(0)))
    return op.emitOpError()
           << "varlen query offsets " << q << " and key offsets " << k
           << " must have one length, B + 1";
  if (op.getBias() || op.getQSegmentIds() || op.hasBlockLayout() ||
      op.isPaged())
    return op.emitOpError("varlen does not combine with bias, segments, a "
                          "block layout or paged yet");
  return success();
}

/// The mask_mod and score_mod regions and the captures they read: a
/// mask_mod exactly when the mask uses #attn.custom, captures only with a
/// region to read them, each region's signature and body.
static LogicalResult verifyModRegions(AttentionOp op) {
  bool usesCustom = maskContains<CustomMaskAttr>(op.getEffectiveMask());
  bool hasMaskMod = !op.getMaskMod().empty();
  if (usesCustom && !hasMaskMod)
    return op.emitOpError() << "#attn.custom mask needs a mask_mod region";
  if (hasMaskMod && !usesCustom)
    return op.emitOpError() << "mask_mod region is unused: the mask must "
                               "refer to it with #attn.custom";
  if (!op.getCaptures().empty() && !hasMaskMod &&
      op.getScoreModRegion().empty())
    return op.emitOpError() << "captures are given but there is no mask_mod "
                               "or score_mod region to read them";
  if (failed(verifyCaptures(op, op.getCaptures())))
    return failure();
  Builder b(op.getContext());
  Type index = b.getIndexType();
  if (hasMaskMod &&
      (failed(verifyRegionSignature(op, op.getMaskMod(), "mask_mod",
                                    {index, index, index, index},
                                    "(b, h, i, j : index)", b.getI1Type())) ||
       failed(verifyRegionBody(op, op.getMaskMod(), "mask_mod", 4))))
    return failure();
  if (!op.getScoreModRegion().empty() &&
      (failed(verifyRegionSignature(
           op, op.getScoreModRegion(), "score_mod",
           {b.getF32Type(), index, index, index, index},
           "(s : f32, b, h, i, j : index)", b.getF32Type())) ||
       failed(verifyRegionBody(op, op.getScoreModRegion(), "score_mod", 5))))
    return failure();
  return success();
}

LogicalResult AttentionOp::verify() {
  if (failed(verifyAttrNesting(*this, getMaskAttr(), getScoreModAttr())))
    return failure();
  if (failed(verifyKvLayout(*this)))
    return failure();
  FailureOr<AttentionShape> maybeShape =
      verifyQKV(*this, getQuery(), getKey(), getValue(), getPageTable(),
                hasHeadsMajorPages(), getCuSeqlensQ());
  if (failed(maybeShape))
    return failure();
  const AttentionShape &shape = *maybeShape;
  if (failed(verifyPaged(*this, shape)) || failed(verifyVarlen(*this)))
    return failure();
  Type eltType = getQuery().getType().getElementType();
  Operation *op = getOperation();

  std::optional<int64_t> tokens;
  if (isVarlen())
    tokens = getQuery().getType().getDimSize(0);
  if (failed(verifyOutput(op, getOutput(), eltType, shape, tokens)))
    return failure();
  if (Value lse = getLogsumexp())
    if (failed(verifyLogsumexp(op, lse, shape, tokens)))
      return failure();
  if (std::optional<APFloat> scale = getScale())
    if (failed(verifyScale(op, scale->convertToDouble())))
      return failure();
  if (Value bias = getBias())
    if (failed(verifyBias(op, bias, eltType, shape)))
      return failure();
  if (failed(verifySegmentIds(*this, shape)) ||
      failed(verifyModRegions(*this)) ||
      failed(verifyBlockLayout(*this, shape)))
    return failure();

  // The mask's and the score_mod's own rules for this shape.
  auto emitError = [&]() { return emitOpError(); };
  if (failed(getEffectiveMask().verifyForShape(shape, emitError)))
    return failure();
  if (ScoreModAttrInterface mod = getScoreModAttr())
    if (failed(mod.verifyForShape(shape, emitError)))
      return failure();
  return success();
}

/// Replaces the random-block masks that keep everything at the attention's
/// static key length (a row of at most per_row blocks keeps them all) by
/// #attn.none, without building their tables. Recursion is bounded by the
/// verified nesting depth.
static MaskAttrInterface foldKeepAllRandomBlocks(MaskAttrInterface mask,
                                                 const AttentionShape &shape) {
  MLIRContext *ctx = mask.getContext();
  auto foldAll = [&](ArrayRef<MaskAttrInterface> masks) {
    return llvm::map_to_vector(masks, [&](MaskAttrInterface m) {
      return foldKeepAllRandomBlocks(m, shape);
    });
  };
  if (auto random = dyn_cast<RandomBlocksMaskAttr>(mask)) {
    if (!ShapedType::isDynamic(shape.seqKV) &&
        static_cast<int64_t>(llvm::divideCeil(
            shape.seqKV, random.getBlock())) <= random.getPerRow())
      return NoneMaskAttr::get(ctx);
    return mask;
  }
  if (auto u = dyn_cast<UnionMaskAttr>(mask))
    return UnionMaskAttr::get(ctx, foldAll(u.getMasks()));
  if (auto i = dyn_cast<IntersectionMaskAttr>(mask))
    return IntersectionMaskAttr::get(ctx, foldAll(i.getMasks()));
  if (auto c = dyn_cast<ComplementMaskAttr>(mask))
    return ComplementMaskAttr::get(ctx,
                                   foldKeepAllRandomBlocks(c.getMask(), shape));
  return mask;
}

namespace {
/// Replaces the mask with its simplified form (see simplifyMask), after
/// folding what the attention's static shape decides.
struct SimplifyAttentionMask final : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    MaskAttrInterface mask = op.getMaskAttr();
    if (!mask)
      return failure();
    MaskAttrInterface simplified =
        simplifyMask(foldKeepAllRandomBlocks(mask, op.getShape()));
    // The region and the segment operands belong to #attn.custom and
    // #attn.document; a simplification that absorbs them (e.g. a union
    // with #attn.none) would leave them dangling, or, with the mask
    // removed, make the region the mask. Keep such masks as they are.
    if ((maskContains<CustomMaskAttr>(mask) &&
         !maskContains<CustomMaskAttr>(simplified)) ||
        (maskContains<DocumentMaskAttr>(mask) &&
         !maskContains<DocumentMaskAttr>(simplified)))
      return failure();
    if (isa<NoneMaskAttr>(simplified)) {
      rewriter.modifyOpInPlace(op, [&] { op.removeMaskAttr(); });
      return success();
    }
    if (simplified == mask)
      return failure();
    rewriter.modifyOpInPlace(op, [&] { op.setMaskAttr(simplified); });
    return success();
  }
};
} // namespace

void AttentionOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *context) {
  results.add<SimplifyAttentionMask>(context);
}

//===----------------------------------------------------------------------===//
// LinearAttentionOp
//===----------------------------------------------------------------------===//

AttentionShape LinearAttentionOp::getShape() {
  return shapeOf(getQuery(), getKey(), getValue());
}

LogicalResult LinearAttentionOp::verify() {
  FailureOr<AttentionShape> shape =
      verifyQKV(*this, getQuery(), getKey(), getValue());
  if (failed(shape))
    return failure();
  if (failed(verifyOutput(*this, getOutput(),
                          getQuery().getType().getElementType(), *shape)))
    return failure();
  if (getCausal() && !compatibleDim(shape->seqQ, shape->seqKV))
    return emitOpError() << "causal linear attention needs equal query and "
                            "key lengths, got "
                         << shape->seqQ << " and " << shape->seqKV;
  double eps = getEpsilon().convertToDouble();
  if (!std::isfinite(eps) || eps < 0.0)
    return emitOpError() << "epsilon must be non-negative and finite, got "
                         << eps;
  return success();
}

LogicalResult MergeOp::verify() {
  auto parts = cast<RankedTensorType>(getPartialOutput().getType());
  auto partLse = cast<RankedTensorType>(getPartialLogsumexp().getType());
  auto out = cast<RankedTensorType>(getOutput().getType());
  if (parts.getRank() != 5 || !isSupportedElementType(parts.getElementType()))
    return emitOpError() << "partial output must be a 5-D [parts, B, H, S, "
                            "Dv] tensor of f32, f16 or bf16, got "
                         << parts;
  if (partLse.getRank() != 4 || !partLse.getElementType().isF32())
    return emitOpError() << "partial logsumexp must be a 4-D [parts, B, H, "
                            "S] f32 tensor, got "
                         << partLse;
  if (out.getRank() != 4 || !isSupportedElementType(out.getElementType()))
    return emitOpError() << "output must be a 4-D [B, H, S, Dv] tensor of "
                            "f32, f16 or bf16, got "
                         << out;
  if (parts.isDynamicDim(4))
    return emitOpError() << "partial output " << parts
                         << " must have a static head dim";
  for (int64_t d = 0; d < 4; ++d)
    if (!compatibleDim(parts.getDimSize(d), partLse.getDimSize(d)))
      return emitOpError() << "partial output " << parts
                           << " and partial logsumexp " << partLse
                           << " disagree in dimension " << d;
  for (int64_t d = 0; d < 4; ++d)
    if (!compatibleDim(out.getDimSize(d), parts.getDimSize(d + 1)))
      return emitOpError() << "output " << out << " does not match the "
                           << "partial output " << parts << " in dimension "
                           << d;
  if (Value lse = getLogsumexp()) {
    auto lseType = cast<RankedTensorType>(lse.getType());
    if (lseType.getRank() != 3 || !lseType.getElementType().isF32())
      return emitOpError() << "logsumexp must be a 3-D [B, H, S] f32 tensor, "
                              "got "
                           << lseType;
    for (int64_t d = 0; d < 3; ++d)
      if (!compatibleDim(lseType.getDimSize(d), out.getDimSize(d)))
        return emitOpError() << "logsumexp " << lseType << " does not match "
                             << "the output " << out << " in dimension " << d;
  }
  return success();
}
