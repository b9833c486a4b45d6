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
struct MaskReportOptions : PassPipelineOptions<MaskReportOptions> {
  Option<int64_t> tileQ{*this, "tile-q", llvm::cl::desc("Query tile size"),
                        llvm::cl::init(64)};
  Option<int64_t> tileKV{*this, "tile-kv",
                         llvm::cl::desc("Key/value tile size"),
                         llvm::cl::init(64)};
};
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
