//===- Utils.h - Small IR-building helpers of the attn lowerings -*- C++
//-*-===//
//
// Helpers that attn-tile, attn-online-softmax and the linear-attention
// lowering share: constants, tensor and memref sizes, and scalar loops
// with an f32 reduction.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_TRANSFORMS_UTILS_H
#define ATTN_DIALECT_ATTN_TRANSFORMS_UTILS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"

namespace mlir::attn {

/// Marks attn-tile's grid of an attention whose kv loop reads a run-time
/// block layout (block_sparse), which attn-tile-to-gpu does not lower yet.
inline constexpr llvm::StringLiteral kRuntimeBlockLayoutAttr =
    "attn.runtime_block_layout";

Value indexConstant(OpBuilder &b, Location loc, int64_t value);

/// The size of dimension `dim` of a tensor or memref, as a constant when
/// static.
Value dimSize(OpBuilder &b, Location loc, Value shaped, int64_t dim);

/// min(tile, extent - begin): the rows or columns of a tile that lie inside
/// a sequence of length `extent`.
Value clippedExtent(OpBuilder &b, Location loc, int64_t tile, Value extent,
                    Value begin);

/// The kv head that query head `qHead` reads: qHead / (numQHeads /
/// numKVHeads) under grouped-query attention; MQA (one kv head) and MHA (a
/// kv head per query head) need no division.
Value kvHeadOfQueryHead(OpBuilder &b, Location loc, Value qHead,
                        int64_t numQHeads, int64_t numKVHeads);

/// Loads memref[indices], extended to f32.
Value loadAsF32(OpBuilder &b, Location loc, Value memref, ValueRange indices);

/// Stores an f32 into memref[indices], narrowed to its element type.
void storeFromF32(OpBuilder &b, Location loc, Value value, Value memref,
                  ValueRange indices);

/// for (iv = 0; iv < ub; ++iv) body(iv).
void buildForLoop(OpBuilder &b, Location loc, Value ub,
                  function_ref<void(OpBuilder &, Location, Value)> body);

/// for (iv = 0; iv < ub; ++iv) acc = body(iv, acc); returns the final acc.
Value buildReductionLoop(
    OpBuilder &b, Location loc, Value ub, Value init,
    function_ref<Value(OpBuilder &, Location, Value, Value)> body);

} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_UTILS_H
