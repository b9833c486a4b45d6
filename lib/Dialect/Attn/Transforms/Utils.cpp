//===- Utils.cpp - Small IR-building helpers of the attn lowerings --------===//
//
// See Utils.h.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/Transforms/Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

Value mlir::attn::indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

Value mlir::attn::dimSize(OpBuilder &b, Location loc, Value shaped,
                          int64_t dim) {
  auto type = cast<ShapedType>(shaped.getType());
  if (!type.isDynamicDim(dim))
    return indexConstant(b, loc, type.getDimSize(dim));
  if (isa<MemRefType>(type))
    return memref::DimOp::create(b, loc, shaped, dim);
  return tensor::DimOp::create(b, loc, shaped, dim);
}

Value mlir::attn::clippedExtent(OpBuilder &b, Location loc, int64_t tile,
                                Value extent, Value begin) {
  return arith::MinSIOp::create(b, loc, indexConstant(b, loc, tile),
                                arith::SubIOp::create(b, loc, extent, begin));
}

Value mlir::attn::kvHeadOfQueryHead(OpBuilder &b, Location loc, Value qHead,
                                    int64_t numQHeads, int64_t numKVHeads) {
  if (numKVHeads == 1)
    return indexConstant(b, loc, 0);
  int64_t group = numQHeads / numKVHeads;
  if (group == 1)
    return qHead;
  return arith::DivUIOp::create(b, loc, qHead, indexConstant(b, loc, group));
}

Value mlir::attn::loadAsF32(OpBuilder &b, Location loc, Value memref,
                            ValueRange indices) {
  Value v = memref::LoadOp::create(b, loc, memref, indices);
  if (v.getType().isF32())
    return v;
  return arith::ExtFOp::create(b, loc, b.getF32Type(), v);
}

void mlir::attn::storeFromF32(OpBuilder &b, Location loc, Value value,
                              Value memref, ValueRange indices) {
  Type elt = cast<MemRefType>(memref.getType()).getElementType();
  if (elt != value.getType())
    value = arith::TruncFOp::create(b, loc, elt, value);
  memref::StoreOp::create(b, loc, value, memref, indices);
}

void mlir::attn::buildForLoop(
    OpBuilder &b, Location loc, Value ub,
    function_ref<void(OpBuilder &, Location, Value)> body) {
  scf::ForOp::create(b, loc, indexConstant(b, loc, 0), ub,
                     indexConstant(b, loc, 1), ValueRange(),
                     [&](OpBuilder &nb, Location nloc, Value iv, ValueRange) {
                       body(nb, nloc, iv);
                       scf::YieldOp::create(nb, nloc);
                     });
}

Value mlir::attn::buildReductionLoop(
    OpBuilder &b, Location loc, Value ub, Value init,
    function_ref<Value(OpBuilder &, Location, Value, Value)> body) {
  auto loop = scf::ForOp::create(
      b, loc, indexConstant(b, loc, 0), ub, indexConstant(b, loc, 1),
      ValueRange{init},
      [&](OpBuilder &nb, Location nloc, Value iv, ValueRange args) {
        scf::YieldOp::create(nb, nloc, body(nb, nloc, iv, args[0]));
      });
  return loop.getResult(0);
}
