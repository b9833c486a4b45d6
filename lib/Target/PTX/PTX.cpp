//===- PTX.cpp - GPU modules to PTX text ----------------------------------===//

#include "attn/Target/PTX/PTX.h"

#include "attn/Conversion/GPUToNVVM/GPUToNVVM.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Target/LLVM/Pipeline.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVM/NVVM/Utils.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Target/TargetMachine.h"

#include <chrono>
#include <cstdlib>

using namespace mlir;

void mlir::attn::ptx::registerPTXTarget(DialectRegistry &registry) {
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registerBuiltinDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
}

#ifndef ATTN_DEFAULT_CUDA_PATH
#define ATTN_DEFAULT_CUDA_PATH ""
#endif
const char *const mlir::attn::ptx::kDefaultCudaPath = ATTN_DEFAULT_CUDA_PATH;

FailureOr<std::string> mlir::attn::ptx::findLibdevice(const PTXOptions &options,
                                                      std::string &searched) {
  // An explicit choice (the option, else ATTN_CUDA_PATH) is the only place
  // looked at: a wrong one is an error, not a silent fallback. Otherwise
  // the variables MLIR reads, then the toolkit found at configure time.
  SmallVector<std::pair<std::string, std::string>> roots;
  const char *attnPath = std::getenv("ATTN_CUDA_PATH");
  if (!options.cudaPath.empty()) {
    roots.push_back({"the CUDA path option", options.cudaPath});
  } else if (attnPath && *attnPath) {
    roots.push_back({"ATTN_CUDA_PATH", attnPath});
  } else {
    for (const char *var : {"CUDA_ROOT", "CUDA_HOME", "CUDA_PATH"})
      if (const char *value = std::getenv(var); value && *value)
        roots.push_back({var, value});
    if (*kDefaultCudaPath)
      roots.push_back(
          {"the toolkit found when attn was configured", kDefaultCudaPath});
  }
  searched.clear();
  llvm::raw_string_ostream os(searched);
  for (const auto &[origin, root] : roots) {
    SmallString<256> path(root);
    llvm::sys::path::append(path, "nvvm", "libdevice", "libdevice.10.bc");
    if (llvm::sys::fs::is_regular_file(path))
      return std::string(path);
    os << "\n  " << path << " (" << origin << "): not found";
  }
  if (roots.empty())
    os << "\n  nothing: no CUDA path option, none of ATTN_CUDA_PATH, "
          "CUDA_ROOT, CUDA_HOME and CUDA_PATH set, and no toolkit found "
          "when attn was configured";
  return failure();
}

namespace {
/// MLIR's module-to-object flow (translation to LLVM IR, linking, the
/// NVPTX target machine and its code generation) with attn's own LLVM
/// optimisation pipeline (PTXOptions::llvmPipeline), libdevice linked only
/// into kernels that call it and found without the environment
/// (findLibdevice), and the PTX text as the object, refused when it still
/// has unresolved external functions (the driver's JIT would refuse it).
/// NVVM::SerializeGPUModuleBase is not the base: its constructor looks for
/// libdevice through the environment alone and reports a bad CUDA_HOME as
/// an error even for kernels that need no libdevice.
class PTXSerializer : public LLVM::ModuleToObject {
public:
  PTXSerializer(Operation &module, NVVM::NVVMTargetAttr target,
                const attn::ptx::PTXOptions &options)
      : ModuleToObject(module, target.getTriple(), target.getChip(),
                       target.getFeatures(), target.getO()),
        options(options) {}

protected:
  std::optional<SmallVector<std::unique_ptr<llvm::Module>>>
  loadBitcodeFiles(llvm::Module &module) override {
    SmallVector<std::unique_ptr<llvm::Module>> libraries;
    std::string calls;
    for (llvm::Function &function : module)
      if (function.isDeclaration() && function.getName().starts_with("__nv_"))
        calls += (calls.empty() ? "" : ", ") + function.getName().str();
    if (calls.empty())
      return libraries;
    std::string searched;
    FailureOr<std::string> libdevice =
        attn::ptx::findLibdevice(options, searched);
    if (failed(libdevice)) {
      getOperation().emitError("attn-ptx: the kernel calls libdevice (")
          << calls
          << ") but no libdevice.10.bc was found; set ATTN_CUDA_PATH (or "
             "attn-ptx --cuda-path) to a CUDA toolkit. Searched:"
          << searched;
      return std::nullopt;
    }
    Attribute path = StringAttr::get(getOperation().getContext(), *libdevice);
    if (failed(loadBitcodeFilesFromList(module.getContext(), path, libraries)))
      return std::nullopt;
    return libraries;
  }

  LogicalResult optimizeModule(llvm::Module &module, int level) override {
    FailureOr<llvm::TargetMachine *> machine = getOrCreateTargetMachine();
    if (failed(machine))
      return getOperation().emitError("attn-ptx: no NVPTX target machine");
    (*machine)->setOptLevel(static_cast<llvm::CodeGenOptLevel>(level));
    if (level == 0)
      return success();
    llvm::PipelineTuningOptions tuning;
    tuning.LoopVectorization = false;
    tuning.SLPVectorization = false;
    if (llvm::Error error = attn::runLLVMPipeline(module, options.llvmPipeline,
                                                  *machine, tuning))
      return getOperation().emitError("attn-ptx: ")
             << llvm::toString(std::move(error));
    return success();
  }

  FailureOr<SmallVector<char, 0>>
  moduleToObject(llvm::Module &module) override {
    FailureOr<llvm::TargetMachine *> machine = getOrCreateTargetMachine();
    if (failed(machine))
      return getOperation().emitError("attn-ptx: no NVPTX target machine");
    FailureOr<SmallString<0>> ptx = translateModuleToISA(
        module, **machine, [&] { return getOperation().emitError(); });
    if (failed(ptx))
      return failure();
    if (std::string externs = unresolvedFunctions(*ptx); !externs.empty())
      return getOperation().emitError(
                 "attn-ptx: the PTX calls functions it does not define (")
             << externs
             << "); ptxas and the driver would refuse it, so it is not "
                "returned";
    return SmallVector<char, 0>(ptx->begin(), ptx->end());
  }

private:
  /// The names of the `.extern .func` declarations of `ptx`, comma
  /// separated.
  static std::string unresolvedFunctions(StringRef ptx) {
    std::string names;
    SmallVector<StringRef> lines;
    ptx.split(lines, '\n');
    for (StringRef line : lines) {
      line = line.trim();
      if (!line.consume_front(".extern .func"))
        continue;
      line = line.ltrim();
      // `.extern .func (.param .b32 retval) __nv_tanhf(` or
      // `.extern .func name(`: the name is the last token before '('.
      StringRef head = line.take_until([](char c) { return c == '('; });
      if (head.empty()) { // the return value's parameter list comes first
        line = line.drop_until([](char c) { return c == ')'; }).drop_front();
        head = line.take_until([](char c) { return c == '('; });
      }
      head = head.trim();
      StringRef name = head.substr(head.find_last_of(" \t") + 1);
      names += (names.empty() ? "" : ", ") + name.str();
    }
    return names;
  }

  const attn::ptx::PTXOptions &options;
};
} // namespace

bool mlir::attn::ptx::isSupportedChip(StringRef chip) {
  return chip == "sm_80" || chip == "sm_90";
}

FailureOr<std::map<std::string, std::string>>
mlir::attn::ptx::emitPTX(ModuleOp module, const PTXOptions &options) {
  if (!isSupportedChip(options.chip))
    return module.emitError("unsupported chip '")
           << options.chip << "'; expected sm_80 or sm_90";
  if (options.optLevel > 3)
    return module.emitError("optimisation level ")
           << options.optLevel << " is outside 0-3";
  NVVM::SerializeGPUModuleBase::init();
  std::map<std::string, std::string> result;
  for (auto gpuModule : module.getOps<gpu::GPUModuleOp>()) {
    auto target = NVVM::NVVMTargetAttr::get(
        module.getContext(), static_cast<int>(options.optLevel),
        "nvptx64-nvidia-cuda", options.chip, options.features);
    auto start = std::chrono::steady_clock::now();
    PTXSerializer serializer(*gpuModule, target, options);
    std::optional<SmallVector<char, 0>> ptx = serializer.run();
    if (!ptx)
      return failure();
    if (options.passTiming)
      llvm::errs() << "attn-ptx: " << gpuModule.getSymName()
                   << " to PTX (LLVM IR, optimisation, NVPTX) in "
                   << llvm::format("%.1f",
                                   std::chrono::duration<double, std::milli>(
                                       std::chrono::steady_clock::now() - start)
                                       .count())
                   << " ms\n";
    result[gpuModule.getSymName().str()] =
        std::string(ptx->begin(), ptx->end());
  }
  return result;
}

/// What the launch contract can describe: every argument a statically
/// shaped tensor the launcher passes as a device buffer, every result one
/// the kernels write (an attention's result, each returned once), so that
/// no argN or resultN stands for something the kernels never see.
static LogicalResult verifyHostSignature(func::FuncOp func) {
  if (func.isExternal())
    return func.emitError("the attention's function has no body");
  for (BlockArgument arg : func.getArguments()) {
    // Tensors (attn-ptx's input) or memrefs (the JIT's entry points).
    auto type = dyn_cast<ShapedType>(arg.getType());
    if (!type || !isa<RankedTensorType, MemRefType>(type) ||
        !type.hasStaticShape())
      return emitError(arg.getLoc(),
                       "the GPU path takes statically shaped tensors or "
                       "memrefs as function arguments; argument ")
             << arg.getArgNumber() << " is " << arg.getType();
  }
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  llvm::SmallPtrSet<Value, 4> returned;
  for (auto [index, value] : llvm::enumerate(ret.getOperands())) {
    if (!isa_and_nonnull<attn::AttentionOp>(value.getDefiningOp()))
      return ret.emitError("the GPU path returns only results of "
                           "attn.attention; result ")
             << index << " is not one";
    if (!returned.insert(value).second)
      return ret.emitError("result ")
             << index << " returns the same attention result twice";
  }
  return success();
}

FailureOr<mlir::attn::ptx::CompiledAttention>
mlir::attn::ptx::compileAttention(ModuleOp module, const PTXOptions &options) {
  OwningOpRef<ModuleOp> clone(module.clone());
  CompiledAttention compiled;
  auto funcs = llvm::to_vector(clone->getOps<func::FuncOp>());
  if (funcs.size() != 1)
    return module.emitError("expected one function holding the attention");
  if (failed(verifyHostSignature(funcs[0])))
    return failure();
  auto describe = [](Type type) {
    CompiledAttention::Tensor t;
    auto shaped = cast<ShapedType>(type);
    t.shape.assign(shaped.getShape().begin(), shaped.getShape().end());
    llvm::raw_string_ostream(t.elementType) << shaped.getElementType();
    return t;
  };
  for (Type t : funcs[0].getArgumentTypes())
    compiled.arguments.push_back(describe(t));
  for (Type t : funcs[0].getResultTypes())
    compiled.results.push_back(describe(t));

  PassManager pm(module.getContext());
  pm.enableVerifier(options.verifyPasses);
  if (options.passTiming)
    pm.enableTiming();
  buildAttnToGpuPipeline(pm, options.kernelConfig, options.chip);
  if (failed(pm.run(*clone)))
    return failure();
  auto gpuModules = llvm::to_vector(clone->getOps<gpu::GPUModuleOp>());
  if (gpuModules.size() != 1)
    return module.emitError("attn-to-gpu produced no GPU module");
  FailureOr<LaunchContractAttr> contract = readLaunchContract(gpuModules[0]);
  if (failed(contract))
    return failure();
  compiled.contract = *contract;

  // Only the GPU module goes on.
  OwningOpRef<ModuleOp> device = ModuleOp::create(module.getLoc());
  (*device)->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                     UnitAttr::get(module.getContext()));
  OpBuilder b = OpBuilder::atBlockBegin(device->getBody());
  b.clone(*gpuModules[0]);
  PassManager lower(module.getContext());
  lower.enableVerifier(options.verifyPasses);
  if (options.passTiming)
    lower.enableTiming();
  buildLowerGpuToNVVMPipeline(lower);
  if (failed(lower.run(*device)))
    return failure();
  FailureOr<std::map<std::string, std::string>> ptx = emitPTX(*device, options);
  if (failed(ptx) || ptx->size() != 1)
    return failure();
  compiled.ptx = ptx->begin()->second;
  return compiled;
}
