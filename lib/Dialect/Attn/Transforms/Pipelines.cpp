//===- Pipelines.cpp - Named attn pass pipelines ---------------*- C++ -*-===//
//
// The named pipelines attn-opt offers beside the individual passes.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/Transforms/BufferizableOpInterfaceImpl.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Arith/Transforms/BufferDeallocationOpInterfaceImpl.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/Transforms/BufferDeallocationOpInterfaceImpl.h"
#include "mlir/Dialect/MemRef/Transforms/AllocationOpInterfaceImpl.h"
#include "mlir/Dialect/SCF/Transforms/BufferDeallocationOpInterfaceImpl.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace {
struct MaskReportOptions
    : mlir::attn::TileSizePipelineOptions<MaskReportOptions> {};
} // namespace

void mlir::attn::buildAttnBufferizePipeline(OpPassManager &pm) {
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
}

void mlir::attn::registerBufferizationModels(DialectRegistry &registry) {
  registerBufferizableOpInterfaceExternalModels(registry);
  arith::registerBufferizableOpInterfaceExternalModels(registry);
  bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(
      registry);
  scf::registerBufferizableOpInterfaceExternalModels(registry);
  tensor::registerBufferizableOpInterfaceExternalModels(registry);
  // What the host's deallocation pipeline needs to see through the grid,
  // the kv loops and the branches: without these models it frees nothing.
  arith::registerBufferDeallocationOpInterfaceExternalModels(registry);
  cf::registerBufferDeallocationOpInterfaceExternalModels(registry);
  memref::registerAllocationOpInterfaceExternalModels(registry);
  scf::registerBufferDeallocationOpInterfaceExternalModels(registry);
}

void mlir::attn::registerAttnPipelines() {
  PassPipelineRegistration<>(
      "attn-bufferize",
      "Bufferize the tiled IR (tensor tile ops to memref tile ops): "
      "empty-tensor elimination, one-shot bufferization with function "
      "boundaries, canonicalization",
      buildAttnBufferizePipeline);
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
