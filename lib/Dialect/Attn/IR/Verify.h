//===- Verify.h - Checks shared by the attn ops' verifiers ------*- C++ -*-===//
//
// Private to lib/Dialect/Attn/IR: AttnOps.cpp (the attention ops) and
// TileOps.cpp (the tile ops) check element types, sizes and scales alike.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_DIALECT_ATTN_IR_VERIFY_H
#define ATTN_LIB_DIALECT_ATTN_IR_VERIFY_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/Operation.h"
#include "mlir/IR/Types.h"

namespace mlir::attn::detail {

/// f32, f16 or bf16: the element types the kernels compute with.
bool isSupportedElementType(Type type);
/// Two sizes that may be equal: either is dynamic, or they are the same.
bool compatibleDim(int64_t a, int64_t b);
/// The scale is folded with log2(e) into one f32 factor (the kernels
/// compute in base 2), which must be positive and finite too.
LogicalResult verifyScale(Operation *op, double scale);
/// Bounds the nesting of the mask and score_mod attributes before anything
/// walks them recursively (attributes built by a builder are not verified
/// on their own).
LogicalResult verifyAttrNesting(Operation *op, Attribute mask,
                                Attribute scoreMod);

} // namespace mlir::attn::detail

#endif // ATTN_LIB_DIALECT_ATTN_IR_VERIFY_H
