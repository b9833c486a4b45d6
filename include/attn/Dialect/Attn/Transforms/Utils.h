//===- Utils.h - Small IR-building helpers of the attn lowerings -*- C++
//-*-===//
//
// Helpers that attn-tile, attn-online-softmax and the linear-attention
// lowering share: constants, memref sizes, tensor/memref boundaries, and
// scalar loops with an f32 reduction.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_TRANSFORMS_UTILS_H
#define ATTN_DIALECT_ATTN_TRANSFORMS_UTILS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"

#include <utility>

namespace mlir::attn {

Value indexConstant(OpBuilder &b, Location loc, int64_t value);

/// The size of dimension `dim` of a memref, as a constant when static.
Value memrefDimSize(OpBuilder &b, Location loc, Value memref, int64_t dim);

/// min(tile, extent - begin): the rows or columns of a tile that lie inside
/// a sequence of length `extent`.
Value clippedExtent(OpBuilder &b, Location loc, int64_t tile, Value extent,
                    Value begin);

/// The kv head that query head `qHead` reads: qHead / (numQHeads /
/// numKVHeads) under grouped-query attention; MQA (one kv head) and MHA (a
/// kv head per query head) need no division.
Value kvHeadOfQueryHead(OpBuilder &b, Location loc, Value qHead,
                        int64_t numQHeads, int64_t numKVHeads);

/// The memref behind a tensor operand: the memref it was made from when it
/// comes from bufferization.to_tensor, else a read-only to_buffer.
Value operandMemref(OpBuilder &b, Location loc, Value tensor);

/// Where a tensor result goes: the writable memref it is only materialized
/// into (that op is returned, for erasure), or a new allocation whose
/// dynamic sizes are taken from `dynamicSizes` (indexed by dimension).
std::pair<Value, Operation *> resultMemref(OpBuilder &b, Location loc,
                                           Value result,
                                           ArrayRef<Value> dynamicSizes);

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
