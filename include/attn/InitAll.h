//===- InitAll.h - Register attn's dialects, passes and pipelines -*- C++
//-*-===//
//
// The one place that says what attn's tools load: attn-opt, attn-run,
// attn-ptx, the JIT and the tests build their registries from here (as
// upstream's mlir/InitAllDialects.h and InitAllPasses.h do for mlir-opt).
// Header-only: each user links the libraries it registers (the AttnInitAll
// CMake target brings them all), and the libraries themselves (PTX
// emission, the host lowering, the emulator) stay independent of each
// other.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_INITALL_H
#define ATTN_INITALL_H

#include "attn/Conversion/AttnToGPU/AttnToGPU.h"
#include "attn/Conversion/AttnToHost/AttnToHost.h"
#include "attn/Conversion/GPUToNVVM/GPUToNVVM.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "attn/Target/Emulator/Passes.h"
#include "attn/Target/PTX/PTX.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Transforms/Passes.h"

namespace mlir::attn {

/// The attn dialect, the dialects its inputs and regions use (func,
/// tensor, bufferization, arith, math, memref, scf), the models both
/// pipelines bufferize with, the GPU lowering's dialects and ConvertToLLVM
/// interfaces, and the PTX target's serialisation and translations.
inline void registerAllDialects(DialectRegistry &registry) {
  registry.insert<AttnDialect, arith::ArithDialect,
                  bufferization::BufferizationDialect, func::FuncDialect,
                  math::MathDialect, memref::MemRefDialect, scf::SCFDialect,
                  tensor::TensorDialect>();
  registerBufferizationModels(registry);
  registerGpuLoweringInterfaces(registry);
  ptx::registerPTXTarget(registry);
}

/// attn's passes and pipelines, and the upstream ones attn-opt offers
/// with them (the generic transforms; nvvm-attach-target and
/// gpu-module-to-binary, for PTX by hand).
inline void registerAllPasses() {
  registerTransformsPasses();
  registerGPUPasses();
  registerAttnPasses();
  registerAttnPipelines();
  registerAttnToHostPipeline();
  registerAttnToGPUPasses();
  registerAttnToGpuPipeline();
  registerAttnGPUToNVVMPasses();
  registerLowerGpuToNVVMPipeline();
  registerAttnEmulatorPasses();
  registerEmulateGpuPipeline();
}

} // namespace mlir::attn

#endif // ATTN_INITALL_H
