//===- TileOps.cpp - The tiled attention ops' verifiers -------------------===//
//
// attn.tile_init, tile_update, tile_finalize and tile_merge: what attn-tile
// emits and the back ends expand, on tensors or memrefs (docs/dialect.md).
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "Verify.h"

#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

/// Checks that `value` (a tensor or memref) has rank `rank` and an f32,
/// f16 or bf16 (or, when `integer`, i32/i64) element type.
static LogicalResult verifyTileOperand(Operation *op, StringRef name,
                                       Value value, int64_t rank,
                                       bool integer = false) {
  auto type = cast<ShapedType>(value.getType());
  if (type.getRank() != rank)
    return op->emitOpError()
           << name << " must have rank " << rank << ", got " << type;
  Type elt = type.getElementType();
  bool ok = integer ? (elt.isSignlessInteger(32) || elt.isSignlessInteger(64))
                    : isSupportedElementType(elt);
  if (!ok)
    return op->emitOpError() << name << " has unsupported element type " << elt;
  return success();
}

/// A tile op is on tensors (as attn-tile emits it) or on memrefs (after
/// bufferization), not on a mix.
static LogicalResult verifyOneForm(Operation *op) {
  auto dps = cast<DestinationStyleOpInterface>(op);
  if (!dps.hasPureTensorSemantics() && !dps.hasPureBufferSemantics())
    return op->emitOpError("operands must be all tensors or all memrefs");
  return success();
}

/// Checks the running state of one q tile: row_max and row_sum [tile_q],
/// acc [tile_q, dv].
static LogicalResult verifyTileState(Operation *op, Value rowMax, Value rowSum,
                                     Value acc, int64_t tileQ,
                                     int64_t headDimV) {
  if (failed(verifyOneForm(op)))
    return failure();
  if (tileQ <= 0)
    return op->emitOpError() << "tile_q must be positive, got " << tileQ;
  for (Value v : {rowMax, rowSum})
    if (cast<ShapedType>(v.getType()).getShape() != ArrayRef<int64_t>{tileQ})
      return op->emitOpError() << "row state must have shape " << tileQ
                               << "xf32, got " << v.getType();
  if (cast<ShapedType>(acc.getType()).getShape() !=
      ArrayRef<int64_t>{tileQ, headDimV})
    return op->emitOpError() << "accumulator must have shape " << tileQ << "x"
                             << headDimV << "xf32, got " << acc.getType();
  return success();
}

MutableOperandRange TileUpdateOp::getStateMutable() {
  return MutableOperandRange(getOperation(),
                             getRowMaxMutable().getOperandNumber(), 3);
}

LogicalResult TileUpdateOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyAttrNesting(op, getMaskAttr(), getScoreModAttr())) ||
      failed(verifyScale(op, getScale().convertToDouble())))
    return failure();
  // Packed sequences (tokens) are [T, H, D].
  bool packed = static_cast<bool>(getQStart());
  int64_t rank = packed ? 3 : 4;
  if (failed(verifyTileOperand(op, "query", getQuery(), rank)) ||
      failed(verifyTileOperand(op, "key", getKey(), rank)) ||
      failed(verifyTileOperand(op, "value", getValue(), rank)))
    return failure();
  if (packed != static_cast<bool>(getQLength()) ||
      packed != static_cast<bool>(getKvStart()))
    return emitOpError("tokens need a query start, a query length and a key "
                       "start");
  if (packed && (!getKvLength() || getPageTable()))
    return emitOpError("tokens need a kv_length and no pages");
  if (packed &&
      !compatibleDim(cast<ShapedType>(getKey().getType()).getDimSize(0),
                     cast<ShapedType>(getValue().getType()).getDimSize(0)))
    return emitOpError("packed key and value need the same tokens");
  if (getBias() && failed(verifyTileOperand(op, "bias", getBias(), 4)))
    return failure();
  if (static_cast<bool>(getQSegmentIds()) !=
      static_cast<bool>(getKvSegmentIds()))
    return emitOpError("segments need both query and key/value ids");
  if (getQSegmentIds() &&
      (failed(verifyTileOperand(op, "query segment ids", getQSegmentIds(), 2,
                                /*integer=*/true)) ||
       failed(verifyTileOperand(op, "key/value segment ids", getKvSegmentIds(),
                                2, /*integer=*/true))))
    return failure();
  if (getPageTable()) {
    if (failed(verifyTileOperand(op, "page table", getPageTable(), 2,
                                 /*integer=*/true)))
      return failure();
    if (!getKvLength())
      return emitOpError("pages need a kv_length");
    auto k = cast<ShapedType>(getKey().getType());
    auto v = cast<ShapedType>(getValue().getType());
    for (int64_t d = 0; d < 3; ++d)
      if (k.isDynamicDim(d) || k.getDimSize(d) == 0 ||
          k.getDimSize(d) != v.getDimSize(d))
        return emitOpError() << "paged key " << k << " and value " << v
                             << " need the same static, non-zero pages, "
                                "page size and heads";
  }
  if (std::optional<StringRef> layout = getKvLayout();
      layout && (!getPageTable() || (*layout != "nhd" && *layout != "hnd")))
    return emitOpError("kv_layout is \"nhd\" or \"hnd\", with pages");
  auto q = cast<ShapedType>(getQuery().getType());
  auto k = cast<ShapedType>(getKey().getType());
  auto v = cast<ShapedType>(getValue().getType());
  int64_t last = rank - 1;
  if (q.isDynamicDim(1) || q.isDynamicDim(last) || k.isDynamicDim(last) ||
      v.isDynamicDim(last) || q.getDimSize(last) != k.getDimSize(last))
    return emitOpError("query and key need one static head dim and static "
                       "head counts");
  // The attributes are signless 64-bit; read them as signed sizes.
  int64_t tileQ = static_cast<int64_t>(getTileQ());
  int64_t tileKV = static_cast<int64_t>(getTileKv());
  if (tileKV <= 0)
    return emitOpError() << "tile_kv must be positive, got " << tileKV;
  if (std::optional<int64_t> heads = getQHeads()) {
    // The attribute is signless 64-bit; read it as a signed count.
    int64_t g = static_cast<int64_t>(*heads);
    if (g < 1 || packed || q.isDynamicDim(2) || g * q.getDimSize(2) != tileQ)
      return emitOpError()
             << "q_heads = " << g
             << " needs a positive count, a static query length and "
                "tile_q = q_heads * Sq, without tokens";
  }
  if (getFull() && !getMaskAttr())
    return emitOpError("a full flag needs a mask: without one every tile is "
                       "full");
  if (getMaskAttr() && maskContains<DocumentMaskAttr>(getMaskAttr()) &&
      !getQSegmentIds())
    return emitOpError("#attn.document mask needs segment ids");
  if (getMaskAttr() && maskContains<CustomMaskAttr>(getMaskAttr()) &&
      getMaskMod().empty())
    return emitOpError("#attn.custom mask needs a mask_mod region");
  for (auto [region, count, name] :
       {std::tuple{&getMaskMod(), 4u, "mask_mod"},
        std::tuple{&getScoreModRegion(), 5u, "score_mod"}}) {
    if (region->empty())
      continue;
    Block &block = region->front();
    if (block.getNumArguments() != count || block.empty() ||
        !isa<YieldOp>(block.back()) || block.back().getNumOperands() != 1)
      return emitOpError() << name << " region must take " << count
                           << " arguments and yield one value";
    if (failed(verifyRegionBody(op, *region, name, count)))
      return failure();
  }
  return verifyTileState(op, getRowMax(), getRowSum(), getAcc(), tileQ,
                         v.getDimSize(last));
}

bool TileUpdateOp::isAlwaysFull() {
  return getFull() && matchPattern(getFull(), m_One());
}

/// The optional logsumexp result of a tile's rows: 1-D f32, one per row
/// of `out`.
static LogicalResult verifyRowLogsumexp(Operation *op, Value logsumexp,
                                        ShapedType out) {
  if (!logsumexp)
    return success();
  auto lse = cast<ShapedType>(logsumexp.getType());
  if (lse.getRank() != 1 || !lse.getElementType().isF32())
    return op->emitOpError()
           << "logsumexp must be a 1-D f32 tensor or memref, got " << lse;
  if (!compatibleDim(lse.getDimSize(0), out.getDimSize(0)))
    return op->emitOpError() << "logsumexp has " << lse.getDimSize(0)
                             << " rows, the output " << out.getDimSize(0);
  return success();
}

LogicalResult TileFinalizeOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyTileOperand(op, "output", getOutput(), 2)))
    return failure();
  auto out = cast<ShapedType>(getOutput().getType());
  auto acc = cast<ShapedType>(getAcc().getType());
  int64_t tileQ = cast<ShapedType>(getRowMax().getType()).getDimSize(0);
  if (out.isDynamicDim(1))
    return emitOpError("output head dim must be static");
  if (!out.isDynamicDim(0) && out.getDimSize(0) > acc.getDimSize(0))
    return emitOpError() << "output has " << out.getDimSize(0)
                         << " rows, more than the tile's " << acc.getDimSize(0);
  if (failed(verifyRowLogsumexp(op, getLogsumexp(), out)))
    return failure();
  if (ShapedType::isDynamic(tileQ))
    return emitOpError("row state must have a static size");
  return verifyTileState(op, getRowMax(), getRowSum(), getAcc(), tileQ,
                         out.getDimSize(1));
}

LogicalResult TileMergeOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyOneForm(op)) ||
      failed(verifyTileOperand(op, "output", getOutput(), 2)))
    return failure();
  auto parts = cast<ShapedType>(getPartialOutput().getType());
  auto partLse = cast<ShapedType>(getPartialLogsumexp().getType());
  auto out = cast<ShapedType>(getOutput().getType());
  if (parts.getRank() != 3 || !isSupportedElementType(parts.getElementType()))
    return emitOpError() << "partial output must be a 3-D [parts, rows, Dv] "
                            "tensor or memref of f32, f16 or bf16, got "
                         << parts;
  if (partLse.getRank() != 2 || !partLse.getElementType().isF32())
    return emitOpError() << "partial logsumexp must be a 2-D f32 [parts, "
                            "rows] tensor or memref, got "
                         << partLse;
  if (!compatibleDim(parts.getDimSize(0), partLse.getDimSize(0)) ||
      !compatibleDim(parts.getDimSize(1), partLse.getDimSize(1)))
    return emitOpError() << "partial output " << parts
                         << " and partial logsumexp " << partLse
                         << " disagree on parts or rows";
  if (out.isDynamicDim(1) || out.getDimSize(1) != parts.getDimSize(2))
    return emitOpError() << "output " << out << " must have the partials' "
                         << "static head dim " << parts.getDimSize(2);
  if (!compatibleDim(out.getDimSize(0), parts.getDimSize(1)))
    return emitOpError() << "output has " << out.getDimSize(0)
                         << " rows, the partials " << parts.getDimSize(1);
  if (failed(verifyRowLogsumexp(op, getLogsumexp(), out)))
    return failure();
  return success();
}

LogicalResult TileInitOp::verify() {
  int64_t rows = cast<ShapedType>(getRowMax().getType()).getDimSize(0);
  if (ShapedType::isDynamic(rows))
    return emitOpError("row state must have a static size");
  return verifyTileState(getOperation(), getRowMax(), getRowSum(), getAcc(),
                         rows,
                         cast<ShapedType>(getAcc().getType()).getDimSize(1));
}
