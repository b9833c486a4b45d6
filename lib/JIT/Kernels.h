//===- Kernels.h - The JIT's compiled-kernel objects ------------*- C++ -*-===//
//
// What Compiler.cpp hands out (HostKernel, EmulatedKernel, GpuKernel) and
// the pieces both need: the roles of the entry function's arguments, GPU
// launches resolved against them, and the host JIT engine. Internal to
// lib/JIT.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_JIT_KERNELS_H
#define ATTN_LIB_JIT_KERNELS_H

#include "attn/Conversion/AttnToGPU/AttnToGPU.h"
#include "attn/JIT/Compiler.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"

#include <memory>
#include <optional>

namespace mlir::attn::jit::detail {

inline llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The shape of one entry-function argument.
struct ArgShape {
  /// ShapedType::kDynamic for a size stated at run time (runSizeOf).
  SmallVector<int64_t, 4> dims;
  unsigned captureIndex = 0; // for ParamRole::Capture
  /// A packed (varlen) Q, K, V, O or logsumexp: dim 0 is the tokens.
  bool packed = false;
  int64_t elementBytes = 1;
  std::string elementType; // as MLIR prints it
};

/// The sizes a host kernel may take at run time (HostArgs::batch, seqQ,
/// seqKV).
enum class RunSize : unsigned { Batch, SeqQ, SeqKV };
inline constexpr unsigned kNumRunSizes = 3;
/// Which run-time size dim `dim` of a role's tensor is: the batch (dim 0),
/// the query or key/value length; none for head counts, head dims and
/// captured tensors, which stay static.
/// A packed tensor's dim 0 is its tokens (seqQ or seqKV); varlen offsets
/// have batch + 1 entries (runSizeExcess).
std::optional<RunSize> runSizeOf(ParamRole role, unsigned dim,
                                 bool packed = false);
/// What a role's run-time sized dims exceed their size by: 1 for varlen
/// offsets ([batch + 1]), else 0.
int64_t runSizeExcess(ParamRole role);
/// HostArgs' name of a run-time size ("seqQ").
const char *runSizeName(RunSize size);

/// The entry's buffers as the API describes them.
std::vector<KernelArgument>
describeArguments(ArrayRef<std::pair<ParamRole, ArgShape>> roles);

/// The entry function's buffers are typed by the launch contract's roles
/// (#attn.param): query ... lse; Temporary is never an entry argument.
/// A role's name, for messages ("query", "captured tensor", ...).
const char *roleName(ParamRole role);

/// One parameter of a GPU kernel launch: a caller buffer (by role) or a
/// temporary the launcher allocates.
struct LaunchParam {
  ParamRole role = ParamRole::Query;
  ArgShape shape;
  std::optional<unsigned> temp;
};

/// One kernel launch of a compiled attention, in order (tile-table
/// builders, then the attention). `fn` is set for the emulator.
struct KernelLaunch {
  GpuLaunch info;
  SmallVector<LaunchParam> params;
  emu::KernelFn fn = nullptr;
};

/// The launches of a launch contract, their grids evaluated at the entry
/// function's sizes and their parameters bound to its buffers by role (or
/// to temporaries).
llvm::Expected<SmallVector<KernelLaunch>>
resolveLaunches(LaunchContractAttr contract,
                ArrayRef<std::pair<ParamRole, ArgShape>> roles);
/// The byte sizes of the contract's temporaries, in order.
SmallVector<int64_t> temporaryBytes(LaunchContractAttr contract);

/// The LLVM passes the host kernels get before code generation (textual
/// new-pass-manager syntax). The tiled IR reaches LLVM vectorised, with its
/// tile loops unrolled by the vector lowering; what is left to do is to
/// promote and fold the memref descriptors, share subexpressions and hoist
/// loop invariants. O3's inliner, unroller and vectorisers found nothing to
/// gain (same kernel times on every bench/host shape) and cost 50-70 ms of
/// a cold compile (docs/design.md, "Compile time").
inline constexpr llvm::StringLiteral kHostLLVMPipeline =
    "function(sroa,early-cse<memssa>,instcombine<no-verify-fixpoint>,"
    "simplifycfg,loop-mssa(licm),gvn,instcombine<no-verify-fixpoint>,"
    "simplifycfg)";

/// A JIT for a module in the LLVM dialect, its LLVM IR optimised by
/// `llvmPipeline` (textual new-pass-manager syntax, e.g. "default<O2>").
llvm::Expected<std::unique_ptr<ExecutionEngine>>
createEngine(ModuleOp module, llvm::StringRef llvmPipeline);

/// The host kernel: `entry` is the packed _mlir_ciface_attn_entry;
/// `visitCounter` the kernel's tile-visit counter or null. With
/// `sameLengths` (a causal linear attention) the run-time query and
/// key/value lengths must be equal.
std::shared_ptr<const HostKernel>
makeHostKernel(std::unique_ptr<ExecutionEngine> engine, void (*entry)(void **),
               int64_t *visitCounter,
               SmallVector<std::pair<ParamRole, ArgShape>> roles,
               TileShape tiles, bool sameLengths);
/// The emulated GPU kernels (their `fn`s set), in launch order.
std::shared_ptr<const EmulatedKernel>
makeEmulatedKernel(std::unique_ptr<ExecutionEngine> engine,
                   SmallVector<KernelLaunch> launches,
                   SmallVector<int64_t> tempBytes, TileShape tiles,
                   ArrayRef<std::pair<ParamRole, ArgShape>> roles);
/// The GPU kernels as PTX, launched through runtime/ on `device`.
std::shared_ptr<const GpuKernel>
makeGpuKernel(std::string ptx, SmallVector<KernelLaunch> launches,
              SmallVector<int64_t> tempBytes, int device, TileShape tiles,
              ArrayRef<std::pair<ParamRole, ArgShape>> roles);

/// The tile shape a launch contract states.
TileShape tilesOf(LaunchContractAttr contract);

} // namespace mlir::attn::jit::detail

#endif // ATTN_LIB_JIT_KERNELS_H
