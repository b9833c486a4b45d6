//===- attn-opt.cpp - The attn optimizer driver ----------------*- C++ -*-===//
//
// mlir-opt with the attn dialect, its passes and pipelines, and the
// upstream dialects that attention regions and lowerings use.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/AttnToGPU/AttnToGPU.h"
#include "attn/Conversion/AttnToHost/AttnToHost.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "attn/Target/Emulator/Passes.h"
#include "attn/Target/PTX/PTX.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses();
  mlir::attn::registerAttnPasses();
  mlir::attn::registerAttnPipelines();
  mlir::attn::registerAttnToHostPipeline();
  mlir::attn::registerAttnEmulatorPasses();
  mlir::attn::registerEmulateGpuPipeline();
  mlir::attn::registerAttnToGPUPasses();
  mlir::attn::registerAttnToGpuPipeline();
  // nvvm-attach-target and gpu-module-to-binary, for PTX by hand.
  mlir::registerGPUPasses();

  mlir::DialectRegistry registry;
  registry.insert<mlir::attn::AttnDialect, mlir::arith::ArithDialect,
                  mlir::bufferization::BufferizationDialect,
                  mlir::func::FuncDialect, mlir::gpu::GPUDialect,
                  mlir::LLVM::LLVMDialect, mlir::NVVM::NVVMDialect,
                  mlir::math::MathDialect, mlir::memref::MemRefDialect,
                  mlir::scf::SCFDialect, mlir::tensor::TensorDialect>();
  mlir::attn::registerAttnToHostInterfaces(registry);
  mlir::attn::registerGpuLoweringInterfaces(registry);
  mlir::attn::ptx::registerPTXTarget(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "attn optimizer driver\n", registry));
}
