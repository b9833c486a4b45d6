//===- Pipeline.cpp - The attn-emulate-gpu pipeline -----------------------===//
//
// The NVVM lowering that PTX emission uses (lib/Conversion/GPUToNVVM),
// then the emulation rewrite instead of PTX emission.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/GPUToNVVM/GPUToNVVM.h"
#include "attn/Target/Emulator/Passes.h"

#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

void mlir::attn::buildEmulateGpuPipeline(OpPassManager &pm) {
  // The lowering that precedes gpu-module-to-binary on the PTX path ...
  buildLowerGpuToNVVMPipeline(pm);
  // ... then the emulation rewrite instead of PTX emission.
  pm.addPass(createAttnEmulateNVVM());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::attn::registerEmulateGpuPipeline() {
  PassPipelineRegistration<>(
      "attn-emulate-gpu",
      "attn-lower-gpu-to-nvvm as for PTX, then rewrite the kernels for the "
      "emulator (host code calling the emulation runtime)",
      buildEmulateGpuPipeline);
}
