//===- PTX.h - GPU modules to PTX text ---------------------------*- C++
//-*-===//
//
// The last step of the GPU path: gpu.modules already lowered to the LLVM
// and NVVM dialects (attn-lower-gpu-to-nvvm) go through MLIR's NVVM target
// (nvvm-attach-target, gpu-module-to-binary{format=isa}) and LLVM's NVPTX
// backend to PTX text, in memory. The emulator takes the same lowered IR.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TARGET_PTX_PTX_H
#define ATTN_TARGET_PTX_PTX_H

#include "attn/Conversion/AttnToGPU/AttnToGPU.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <map>
#include <string>

namespace mlir::attn::ptx {

/// The LLVM IR optimisation before NVPTX code generation (PassBuilder
/// syntax). The kernels arrive fully unrolled, in vector and tensor-core
/// operations, with their state in private arrays: they need inlining of
/// libdevice, SROA, instruction combining, CSE and loop-invariant code
/// motion, not the whole default<O3> pipeline. On the benchmark kernels
/// this gives the same or fewer SASS instructions as default<O3> in about
/// a third of its time (docs/benchmarks.md).
inline constexpr const char *kDefaultLLVMPipeline =
    "always-inline,function(sroa,early-cse,instcombine<no-verify-fixpoint>,"
    "simplifycfg,loop-mssa(licm),early-cse<memssa>,"
    "instcombine<no-verify-fixpoint>,adce,simplifycfg)";

/// The chips the kernels are built for: sm_80 and sm_90.
bool isSupportedChip(StringRef chip);

struct PTXOptions {
  std::string chip = "sm_80";
  std::string features = "+ptx80";
  /// NVPTX code generation level (0-3); at 0 the IR is not optimised.
  unsigned optLevel = 3;
  /// The LLVM IR pipeline at optLevel > 0; "default<O3>" for LLVM's.
  std::string llvmPipeline = kDefaultLLVMPipeline;
  /// Print MLIR pass timing of each pipeline (attn-to-gpu, the NVVM
  /// lowering, PTX emission) to stderr: for compile-latency work.
  bool passTiming = false;
  /// Verify the IR after every pass of the pipelines (the input is always
  /// verified when parsed). Off by default: it costs about a twentieth of
  /// the compile, and the tests that exercise the pipelines (lit through
  /// attn-opt, the PTX matrix) verify every step.
  bool verifyPasses = false;
  /// The CUDA toolkit whose libdevice (nvvm/libdevice/libdevice.10.bc)
  /// kernels calling __nv_* math functions link; only this one when set.
  /// Empty: ATTN_CUDA_PATH alone when that is set, else the first of
  /// CUDA_ROOT, CUDA_HOME, CUDA_PATH and the toolkit found when attn was
  /// configured (kDefaultCudaPath) that has libdevice. Kernels that call
  /// no libdevice function link nothing and need none.
  std::string cudaPath;
  /// The kernel configuration (CompileOptions::gpuKernelConfig in the
  /// JIT); attn-tile-to-gpu refuses one that does not fit. Unset: the
  /// table's for the attention and chip (defaultGpuKernelConfig).
  std::optional<GpuKernelConfig> kernelConfig;
};

/// The CUDA toolkit CMake found when attn was configured (the CMake cache
/// variable ATTN_CUDA_TOOLKIT_PATH); empty when none was.
extern const char *const kDefaultCudaPath;

/// libdevice's path for `options`, or failure with `searched` listing
/// every place looked at, in order.
FailureOr<std::string> findLibdevice(const PTXOptions &options,
                                     std::string &searched);

/// Registers what PTX emission needs: the NVVM target attribute's
/// serialisation interface and the LLVM IR translations.
void registerPTXTarget(DialectRegistry &registry);

/// PTX text per gpu.module name, for the gpu.modules of `module` (which is
/// left unchanged: emission works on a clone). Errors go to the context's
/// diagnostic handler.
FailureOr<std::map<std::string, std::string>>
emitPTX(ModuleOp module, const PTXOptions &options = {});

/// An attention compiled to PTX: the text (all kernels of its GPU module),
/// the launch contract, and the host function's signature (in the order
/// of the contract's arguments and results).
struct CompiledAttention {
  std::string ptx;
  LaunchContractAttr contract;
  struct Tensor {
    SmallVector<int64_t> shape;
    std::string elementType; // "f16", "bf16", "f32", "i32", ...
  };
  SmallVector<Tensor> arguments, results;
  /// The static sizes [batch, heads, seq_q, seq_kv] (from the query and
  /// key shapes) at which the contract's grids are evaluated.
  SmallVector<int64_t, 4> sizes() const;
};

/// attn-to-gpu on a clone of `module` (one function with one
/// attn.attention), attn-lower-gpu-to-nvvm, and PTX emission.
FailureOr<CompiledAttention> compileAttention(ModuleOp module,
                                              const PTXOptions &options = {});

/// The launch contract as JSON (docs/gpu.md, "The launch contract"): the
/// #attn.launch_contract itself ("contract"), and derived from it for
/// launchers without MLIR (runtime/, scripts/gpu_check.py) the host
/// signature with roles, the kernels in launch order with their grids at
/// the compiled sizes and their parameters as host positions (argN,
/// resultN, tempN), and the temporaries' bytes and shapes.
std::string contractToJson(const CompiledAttention &compiled, StringRef chip);

/// Reads contractToJson's text back (the JIT's on-disk cache): the
/// attribute parsed and verified, the derived fields checked against it.
/// `ptx` is left empty; `chip` receives the chip. The error says what is
/// wrong.
llvm::Expected<CompiledAttention>
contractFromJson(StringRef json, MLIRContext *context, std::string &chip);

} // namespace mlir::attn::ptx

#endif // ATTN_TARGET_PTX_PTX_H
