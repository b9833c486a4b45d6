//===- BufferizableOpInterfaceImpl.cpp - Bufferizing the tile ops ---------===//
//
// The tile ops are in destination-passing style: their destinations (the
// running state, a query tile's output rows) bufferize in place, the other
// tensor operands (query, key, value, bias, segment ids) are only read.
// Bufferizing one replaces it by the same op on the operands' buffers,
// without results, its regions moved over.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/Transforms/BufferizableOpInterfaceImpl.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::bufferization;

namespace {

template <typename OpTy>
struct TileOpInterface final
    : DstBufferizableOpInterfaceExternalModel<TileOpInterface<OpTy>, OpTy> {
  /// Every input is read; a destination only by tile_update, which folds
  /// a kv tile into the state it is given. tile_init, tile_finalize and
  /// tile_merge overwrite theirs, so that they may be fresh (tensor.empty).
  bool bufferizesToMemoryRead(Operation *op, OpOperand &operand,
                              const AnalysisState &) const {
    return !cast<DestinationStyleOpInterface>(op).isDpsInit(&operand) ||
           isa<attn::TileUpdateOp>(op);
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto dps = cast<DestinationStyleOpInterface>(op);
    rewriter.setInsertionPoint(op);
    SmallVector<Value> operands, destinations;
    for (OpOperand &operand : op->getOpOperands()) {
      Value value = operand.get();
      if (isa<TensorType>(value.getType())) {
        FailureOr<Value> buffer = getBuffer(rewriter, value, options, state);
        if (failed(buffer))
          return failure();
        value = *buffer;
      }
      operands.push_back(value);
      if (dps.isDpsInit(&operand))
        destinations.push_back(value);
    }
    OperationState bufferized(op->getLoc(), op->getName(), operands,
                              TypeRange(), op->getAttrs());
    for (unsigned i = 0, e = op->getNumRegions(); i < e; ++i)
      bufferized.addRegion();
    Operation *newOp = rewriter.create(bufferized);
    for (auto [from, to] : llvm::zip(op->getRegions(), newOp->getRegions()))
      rewriter.inlineRegionBefore(from, to, to.end());
    replaceOpWithBufferizedValues(rewriter, op, destinations);
    return success();
  }
};

} // namespace

void mlir::attn::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, AttnDialect *) {
    TileInitOp::attachInterface<TileOpInterface<TileInitOp>>(*ctx);
    TileUpdateOp::attachInterface<TileOpInterface<TileUpdateOp>>(*ctx);
    TileFinalizeOp::attachInterface<TileOpInterface<TileFinalizeOp>>(*ctx);
    TileMergeOp::attachInterface<TileOpInterface<TileMergeOp>>(*ctx);
  });
}
