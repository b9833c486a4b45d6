//===- PrintTileMap.cpp - Print the tile map of attentions -----*- C++ -*-===//
//
// attn-print-tile-map shows, for each attention, which tiles of its score
// matrix the mask empties (skipped), fills (computed without a mask) or
// splits (masked element by element): the picture behind the block
// sparsity that the tiling pass exploits, computed by the same mask
// algebra.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "llvm/Support/raw_ostream.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNPRINTTILEMAP
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;
namespace am = ::mlir::attn::mask;

namespace {

/// Maps larger than this are refused: the picture would be unreadable and
/// classifying it slow.
constexpr int64_t kMaxTiles = 1 << 20;

class PrintTileMapPass final
    : public mlir::attn::impl::AttnPrintTileMapBase<PrintTileMapPass> {
public:
  using AttnPrintTileMapBase::AttnPrintTileMapBase;

  void runOnOperation() override {
    if (tileQ <= 0 || tileKV <= 0) {
      getOperation()->emitError()
          << "attn-print-tile-map: tile sizes must be positive, got "
          << tileQ.getValue() << " x " << tileKV.getValue();
      return signalPassFailure();
    }
    WalkResult result = getOperation()->walk([&](AttentionOp op) {
      return failed(printTileMap(op)) ? WalkResult::interrupt()
                                      : WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }

private:
  LogicalResult printTileMap(AttentionOp op) {
    AttentionShape shape = op.getShape();
    if (op.isVarlen())
      return op.emitError() << "attn-print-tile-map: packed sequences' "
                               "lengths (varlen) are run-time data; its tile "
                               "map is known only when the attention runs";
    if (!shape.hasStaticSequences())
      return op.emitError() << "attn-print-tile-map needs static sequence "
                               "lengths";
    if (op.hasBlockLayout())
      return op.emitError() << "attn-print-tile-map: the block_sparse layout "
                               "is run-time data; its tile map is known only "
                               "when the attention runs";
    if (op.isPaged())
      return op.emitError() << "attn-print-tile-map: a paged cache's key "
                               "lengths are run-time data; its tile map is "
                               "known only when the attention runs";
    if (batch < 0 ||
        (!ShapedType::isDynamic(shape.batch) && batch >= shape.batch) ||
        head < 0 || head >= shape.numQHeads)
      return op.emitError()
             << "attn-print-tile-map: batch " << batch.getValue() << " / head "
             << head.getValue() << " is outside the attention";
    int64_t numTiles = llvm::divideCeil(shape.seqQ, tileQ) *
                       llvm::divideCeil(shape.seqKV, tileKV);
    if (numTiles > kMaxTiles)
      return op.emitError() << "attn-print-tile-map: " << numTiles
                            << " tiles are too many to print; use larger "
                               "tiles";

    MaskAttrInterface maskAttr = op.getEffectiveMask();
    am::MaskRef mask = op.buildMask();
    am::MaskContext ctx;
    ctx.seqQ = shape.seqQ;
    ctx.seqKV = shape.seqKV;
    am::TileMap map =
        am::computeTileMap(*mask, ctx, tileQ, tileKV, batch, head);

    // Element counts need the predicate everywhere: unknown for run-time
    // data (document ids) and for mask_mod regions we cannot interpret.
    bool elementsKnown = !mask->needsRuntimeData() &&
                         !(maskContains<CustomMaskAttr>(maskAttr) &&
                           failed(interpretMaskModRegion(op.getMaskMod())));
    int64_t total = shape.seqQ * shape.seqKV;
    int64_t kept = elementsKnown
                       ? am::countKeptElements(*mask, ctx, map, batch, head)
                       : -1;

    llvm::raw_ostream &os = llvm::outs();
    os << "mask: " << maskAttr << "\n";
    os << "sequence lengths: " << shape.seqQ << " x " << shape.seqKV
       << " (q x kv)\n";
    if (mask->needsRuntimeData())
      os << "note: the mask reads run-time data; tiles are classified at "
            "run time\n";
    os << am::renderTileMap(map, kept, total);
    os.flush();
    return success();
  }
};

} // namespace
