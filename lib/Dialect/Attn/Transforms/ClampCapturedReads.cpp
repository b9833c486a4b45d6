//===- ClampCapturedReads.cpp - Captured-tensor reads kept in bounds ------===//
//
// The host lowering's guard for region code: after attn-tile, the mask_mod
// and score_mod regions read the attention's captured tensors with
// tensor.extract at computed indices. Each index is clamped into its
// dimension, so that a wrong index never reads memory outside the tensor
// on the host (the emulator reports the same read on the GPU path).
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNCLAMPCAPTUREDREADS
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

class ClampCapturedReadsPass final
    : public attn::impl::AttnClampCapturedReadsBase<ClampCapturedReadsPass> {
public:
  using AttnClampCapturedReadsBase::AttnClampCapturedReadsBase;

  void runOnOperation() override {
    getOperation()->walk([](tensor::ExtractOp read) {
      OpBuilder b(read);
      Location loc = read.getLoc();
      auto type = cast<RankedTensorType>(read.getTensor().getType());
      Value zero = arith::ConstantIndexOp::create(b, loc, 0);
      SmallVector<Value> indices;
      for (auto [d, index] : llvm::enumerate(read.getIndices())) {
        // size - 1; a zero-sized dimension has no element to read, and
        // the verifier refuses captured tensors with one.
        Value last =
            type.isDynamicDim(d)
                ? arith::SubIOp::create(
                      b, loc, tensor::DimOp::create(b, loc, read.getTensor(), d),
                      arith::ConstantIndexOp::create(b, loc, 1))
                      .getResult()
                : arith::ConstantIndexOp::create(
                      b, loc, std::max<int64_t>(type.getDimSize(d) - 1, 0))
                      .getResult();
        Value low = arith::MaxSIOp::create(b, loc, index, zero);
        indices.push_back(arith::MinSIOp::create(b, loc, low, last));
      }
      read.getIndicesMutable().assign(indices);
    });
  }
};

} // namespace
