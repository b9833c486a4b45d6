//===- TileElements.h - One score element of an attn.tile_update -*- C++
//-*-===//
//
// What happens to one element of a tile between the dot product q.k and the
// online softmax: scale, bias, score modifications (attribute and region),
// conversion to base 2, and, on partial tiles, the mask. The host expansion
// (attn-online-softmax) and the GPU lowering (attn-tile-to-gpu) both call
// these, per scalar element or per tensor-core fragment element.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_TRANSFORMS_TILEELEMENTS_H
#define ATTN_DIALECT_ATTN_TRANSFORMS_TILEELEMENTS_H

#include "attn/Dialect/Attn/IR/AttnOps.h"

namespace mlir::attn {

/// The emission context of `op`'s elements, with the sequence lengths and
/// the symbol table (a module or gpu.module) for constant tables.
ElementEmitContext tileElementContext(TileUpdateOp op, Value seqQ, Value seqKV,
                                      Operation *symbolTable);

/// The number of queries of `op`'s sequence: the query's dim 2, or its
/// q_length for packed sequences (tokens), clamped into the tokens after
/// q_start.
Value tileQueryLength(OpBuilder &b, Location loc, TileUpdateOp op);

/// Where `op` reads element `d` of query `i` of query head `head`:
/// [batch, head, i, d], or [q_start + i, head, d] for packed sequences.
SmallVector<Value> tileQueryIndices(OpBuilder &b, Location loc, TileUpdateOp op,
                                    Value head, Value i, Value d);

/// The query head and the query of row `r` of `op`'s tile: (q_head,
/// q_begin + r), or with q_heads (q_head + r / Sq, r % Sq).
std::pair<Value, Value> tileRowQuery(OpBuilder &b, Location loc,
                                     TileUpdateOp op, Value r);

/// The rows of `op`'s tile that hold queries: min(tile_q, Sq - q_begin)
/// (at most; past a packed sequence it is negative), or all tile_q with
/// q_heads.
Value tileValidRows(OpBuilder &b, Location loc, TileUpdateOp op);

/// The number of keys of `op`'s sequence: its kv_length (clamped into the
/// keys stored), else the key's dim 2.
Value tileKeyLength(OpBuilder &b, Location loc, TileUpdateOp op);

/// Where `op` reads element `d` of key (or value) `j` of its kv head in
/// `source` (the op's key or value): [batch, kv_head, j, d], [kv_start +
/// j, kv_head, d] for packed sequences, or through its page table at
/// tilePagedIndices(tilePageRow(j), d).
SmallVector<Value> tileKvIndices(OpBuilder &b, Location loc, TileUpdateOp op,
                                 Value source, Value j, Value d);

/// The page of key `j` in `op`'s paged cache (`page_table[batch, j /
/// page_size]`, clamped into the cache) and its row in the page.
std::pair<Value, Value> tilePageRow(OpBuilder &b, Location loc, TileUpdateOp op,
                                    Value j);

/// The indices of element `d` of row `row` of page `page` for `op`'s kv
/// head: [page, row, kv_head, d], or [page, kv_head, row, d] for
/// kv_layout = "hnd".
SmallVector<Value> tilePagedIndices(TileUpdateOp op, Value page, Value row,
                                    Value d);

/// Fails, with a diagnostic, if `op`'s mask cannot be emitted (a
/// random-blocks mask over dynamic lengths).
LogicalResult checkTileMaskEmittable(TileUpdateOp op);

/// The base-2 score of element (i, j) (absolute query and key positions) of
/// query head `ctx.qHead`
/// from its dot product: scale * dot (+ bias), score mods, times log2(e);
/// -inf where `op`'s mask drops the element, if `applyMask` (false: the
/// tile is known full and no element is tested). With `deferScale`, for an
/// op without modifications (deferredScale), the dot itself, masked: the
/// caller multiplies by the factor later.
FailureOr<Value> emitTileScore(OpBuilder &b, Location loc, TileUpdateOp op,
                               const ElementEmitContext &ctx, Value dot,
                               Value i, Value j, bool applyMask,
                               bool deferScale = false);

/// scale * log2(e) when `op` has no bias and no score modification: then
/// the base-2 score is that one factor times the dot product, and the
/// row maximum may be taken on the dot products (the factor is positive),
/// so that exp2(score - m) is one fused multiply-add (FlashAttention's
/// softmax_scale_log2). None otherwise.
std::optional<double> deferredScale(TileUpdateOp op);

} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_TILEELEMENTS_H
