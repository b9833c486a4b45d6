//===- EmulatedKernelTest.cpp - A GPU kernel, emulated on the CPU --------===//
//
// A block reduction written in the gpu dialect goes through the upstream
// GPU-to-NVVM lowering (the IR that becomes PTX), attn-emulate-nvvm and the
// ExecutionEngine, and runs on the emulation runtime: thread ids, warp
// shuffles, shared memory and barriers must all behave as on the GPU.
//
//===----------------------------------------------------------------------===//

#include "attn/Emulator/Runtime.h"
#include "attn/Target/Emulator/Passes.h"

#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/Support/TargetSelect.h"

#include "gtest/gtest.h"

#include <random>

using namespace mlir;

namespace {

// Sums 128 floats per block: a butterfly reduction in each warp, the four
// warp sums through shared memory, thread 0 adds them.
const char *kReduceKernel = R"mlir(
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @block_sum(%in: memref<512xf32>, %out: memref<4xf32>)
        workgroup(%partial: memref<4xf32, #gpu.address_space<workgroup>>)
        kernel {
      %c0 = arith.constant 0 : index
      %c32 = arith.constant 32 : index
      %c128 = arith.constant 128 : index
      %tid = gpu.thread_id x
      %bid = gpu.block_id x
      %base = arith.muli %bid, %c128 : index
      %g = arith.addi %base, %tid : index
      %v0 = memref.load %in[%g] : memref<512xf32>
      %w = arith.constant 32 : i32
      %o16 = arith.constant 16 : i32
      %o8 = arith.constant 8 : i32
      %o4 = arith.constant 4 : i32
      %o2 = arith.constant 2 : i32
      %o1 = arith.constant 1 : i32
      %s16, %p16 = gpu.shuffle xor %v0, %o16, %w : f32
      %v1 = arith.addf %v0, %s16 : f32
      %s8, %p8 = gpu.shuffle xor %v1, %o8, %w : f32
      %v2 = arith.addf %v1, %s8 : f32
      %s4, %p4 = gpu.shuffle xor %v2, %o4, %w : f32
      %v3 = arith.addf %v2, %s4 : f32
      %s2, %p2 = gpu.shuffle xor %v3, %o2, %w : f32
      %v4 = arith.addf %v3, %s2 : f32
      %s1, %p1 = gpu.shuffle xor %v4, %o1, %w : f32
      %v5 = arith.addf %v4, %s1 : f32
      %lane = arith.remui %tid, %c32 : index
      %warp = arith.divui %tid, %c32 : index
      %first = arith.cmpi eq, %lane, %c0 : index
      scf.if %first {
        memref.store %v5, %partial[%warp] : memref<4xf32, #gpu.address_space<workgroup>>
      }
      gpu.barrier
      %t0 = arith.cmpi eq, %tid, %c0 : index
      scf.if %t0 {
        %c1 = arith.constant 1 : index
        %c2 = arith.constant 2 : index
        %c3 = arith.constant 3 : index
        %a = memref.load %partial[%c0] : memref<4xf32, #gpu.address_space<workgroup>>
        %b = memref.load %partial[%c1] : memref<4xf32, #gpu.address_space<workgroup>>
        %c = memref.load %partial[%c2] : memref<4xf32, #gpu.address_space<workgroup>>
        %d = memref.load %partial[%c3] : memref<4xf32, #gpu.address_space<workgroup>>
        %ab = arith.addf %a, %b : f32
        %cd = arith.addf %c, %d : f32
        %sum = arith.addf %ab, %cd : f32
        memref.store %sum, %out[%bid] : memref<4xf32>
      }
      gpu.return
    }
  }
}
)mlir";

/// A rank-1 memref descriptor as the lowered kernel takes it.
struct Memref1D {
  float *allocated, *aligned;
  int64_t offset, size, stride;
};

TEST(EmulatedKernel, BlockReductionMatchesTheCpu) {
  DialectRegistry registry;
  registry.insert<arith::ArithDialect, cf::ControlFlowDialect, gpu::GPUDialect,
                  LLVM::LLVMDialect, memref::MemRefDialect, NVVM::NVVMDialect,
                  scf::SCFDialect>();
  attn::registerGpuLoweringInterfaces(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  MLIRContext context(registry);
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(kReduceKernel, &context);
  ASSERT_TRUE(module);

  PassManager pm(&context);
  attn::buildEmulateGpuPipeline(pm);
  ASSERT_TRUE(succeeded(pm.run(*module)));
  auto shared =
      (*module)->getAttrOfType<IntegerAttr>(attn::kEmuStaticSharedAttr);
  ASSERT_TRUE(shared);
  EXPECT_EQ(shared.getInt(), 16); // four f32 partial sums

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto engine = ExecutionEngine::create(*module);
  ASSERT_TRUE(static_cast<bool>(engine)) << llvm::toString(engine.takeError());
  attn::registerEmulatorSymbols(**engine);
  auto kernel = (*engine)->lookupPacked("block_sum");
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());

  std::vector<float> in(512), out(4, -1.0f);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (float &x : in)
    x = dist(rng);
  Memref1D inDesc{in.data(), in.data(), 0, 512, 1};
  Memref1D outDesc{out.data(), out.data(), 0, 4, 1};
  void *args[] = {&inDesc.allocated, &inDesc.aligned, &inDesc.offset,
                  &inDesc.size,      &inDesc.stride,  &outDesc.allocated,
                  &outDesc.aligned,  &outDesc.offset, &outDesc.size,
                  &outDesc.stride};
  attn::emu::LaunchConfig config;
  config.grid = {4, 1, 1};
  config.block = {128, 1, 1};
  config.staticSharedBytes = static_cast<size_t>(shared.getInt());
  attn::emu::LaunchResult result = attn::emu::launch(config, *kernel, args);
  ASSERT_TRUE(result.ok) << result.error;
  for (int b = 0; b < 4; ++b) {
    double expected = 0;
    for (int t = 0; t < 128; ++t)
      expected += in[b * 128 + t];
    EXPECT_NEAR(out[b], expected, 1e-4) << "block " << b;
  }
  // Five shuffles per warp, four warps per block; one barrier per block.
  EXPECT_EQ(result.counters.warpCollectives, 4u * 4 * 5);
  EXPECT_EQ(result.counters.barriers, 4u);
}

} // namespace
