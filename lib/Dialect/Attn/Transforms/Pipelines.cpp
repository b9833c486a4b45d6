//===- Pipelines.cpp - Named attn pass pipelines ---------------*- C++ -*-===//
//
// The named pipelines attn-opt offers beside the individual passes.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace {
struct MaskReportOptions
    : mlir::attn::TileSizePipelineOptions<MaskReportOptions> {};
} // namespace

void mlir::attn::registerAttnPipelines() {
  PassPipelineRegistration<MaskReportOptions>(
      "attn-mask-report",
      "Simplify masks (canonicalize), then print every attention's tile map",
      [](OpPassManager &pm, const MaskReportOptions &options) {
        pm.addPass(createCanonicalizerPass());
        AttnPrintTileMapOptions printOptions;
        printOptions.tileQ = options.tileQ;
        printOptions.tileKV = options.tileKV;
        pm.addPass(createAttnPrintTileMap(printOptions));
      });
}
