//===- AttnToHost.cpp - attn to host (CPU) code ----------------*- C++ -*-===//
//
// Assembles the host pipeline from attn's own passes and upstream
// conversions: the tiled, online-softmax IR becomes scf/memref/arith code,
// then LLVM dialect that the ExecutionEngine JIT-compiles. The tile
// kernels are vector code (attn-online-softmax's vector-width) lowered by
// upstream's vector-to-llvm.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/AttnToHost/AttnToHost.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/OpenMPToLLVM/ConvertOpenMPToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/SCFToOpenMP/SCFToOpenMP.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::attn::buildAttnToHostPipeline(OpPassManager &pm,
                                         const AttnToHostOptions &options) {
  AttnTileOptions tile;
  tile.tileQ = options.tileQ;
  tile.tileKV = options.tileKV;
  tile.countVisits = options.countVisits;
  tile.kvSplits = options.kvSplits;
  tile.packGqaHeads = options.packGqaHeads;
  pm.addPass(createAttnTile(tile));
  pm.addPass(createAttnClampCapturedReads());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // Functions on tensors become functions on memrefs; the JIT's entry
  // points are on memrefs already and pass through unchanged.
  buildAttnBufferizePipeline(pm);
  AttnOnlineSoftmaxOptions softmax;
  softmax.vectorWidth = options.vectorWidth;
  pm.addPass(createAttnOnlineSoftmax(softmax));
  pm.addPass(createAttnApproximateMath());
  // The grid iteration's state and the run-time tile tables are freed by
  // upstream's deallocation pipeline.
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createForallToParallelLoopPass());
  if (options.numThreads != 1) {
    ConvertSCFToOpenMPPassOptions openmp;
    openmp.numThreads = options.numThreads;
    pm.addPass(createConvertSCFToOpenMPPass(openmp));
    pm.addPass(createAttnCyclicGridSchedule());
    // The memref.alloca_scope upstream wraps the loop body in holds no
    // alloca (the tiles' buffers are on the heap): inlined, before the
    // body's loops become blocks that a scope may not hold.
    pm.addPass(createCanonicalizerPass());
  }
  pm.addPass(createSCFToControlFlowPass());
  // Subviews (a query tile's output rows) become offset arithmetic.
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  if (options.numThreads != 1)
    pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

void mlir::attn::registerAttnToHostPipeline() {
  PassPipelineRegistration<AttnToHostOptions>(
      "attn-to-host",
      "Lower attn.attention to LLVM dialect for the host: tile, online "
      "softmax, bufferize, convert to LLVM",
      buildAttnToHostPipeline);
}
