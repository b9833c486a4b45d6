//===- Compiler.cpp - The attn JIT API for host applications ---*- C++ -*-===//
//
// Spec -> MLIR -> entry function on memrefs around the one attn.attention,
// then per target: attn-to-host and the ExecutionEngine; attn-to-gpu, the
// NVVM lowering and the emulator rewrite; or attn-to-gpu to PTX. The entry
// function reads the caller's buffers in place (bufferization.to_tensor)
// and writes the results straight into the caller's output buffers
// (materialize_in_destination), so a host run copies nothing. The kernel
// objects handed out live in Kernels.cpp.
//
//===----------------------------------------------------------------------===//

#include "attn/JIT/Compiler.h"

#include "Kernels.h"

#include "attn/Conversion/AttnToGPU/AttnToGPU.h"
#include "attn/Conversion/AttnToHost/AttnToHost.h"
#include "attn/Target/Emulator/Passes.h"
#include "attn/Target/PTX/PTX.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/xxhash.h"

#include <mutex>
#include <sstream>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::jit;

using namespace mlir::attn::jit::detail;

namespace {

const char *elementTypeName(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return "f32";
  case ElementType::F16:
    return "f16";
  case ElementType::BF16:
    return "bf16";
  }
  return "f32";
}

std::string tensorType(std::initializer_list<int64_t> dims, StringRef elt) {
  std::string s = "tensor<";
  for (int64_t d : dims)
    s += std::to_string(d) + "x";
  return s + elt.str() + ">";
}

DialectRegistry makeRegistry() {
  DialectRegistry registry;
  // The host pipeline's dialects are a subset of the GPU path's.
  ptx::registerAttentionToPTX(registry);
  return registry;
}

} // namespace

std::string AttentionSpec::toMLIR() const {
  std::string elt = elementTypeName(elementType);
  std::string q = tensorType({batch, numQHeads, seqQ, headDimQK}, elt);
  std::string k = tensorType({batch, numKVHeads, seqKV, headDimQK}, elt);
  std::string v = tensorType({batch, numKVHeads, seqKV, headDimV}, elt);
  std::string o = tensorType({batch, numQHeads, seqQ, headDimV}, elt);
  std::string lse = tensorType({batch, numQHeads, seqQ}, "f32");
  std::string biasType = tensorType({batch, numQHeads, seqQ, seqKV}, "f32");
  std::string qIds = tensorType({batch, seqQ}, "i32");
  std::string kvIds = tensorType({batch, seqKV}, "i32");

  std::ostringstream os;
  os << "func.func @attention(%q: " << q << ", %k: " << k << ", %v: " << v;
  if (hasBias)
    os << ", %bias: " << biasType;
  if (hasSegmentIds)
    os << ", %qids: " << qIds << ", %kvids: " << kvIds;
  os << ") -> (" << o << (withLogsumexp ? ", " + lse : "") << ") {\n  ";
  os << (withLogsumexp ? "%o, %lse" : "%o") << " = attn.attention %q, %k, %v";
  if (hasBias)
    os << " bias(%bias : " << biasType << ")";
  if (hasSegmentIds)
    os << " segments(%qids, %kvids : " << qIds << ", " << kvIds << ")";
  std::vector<std::string> attrs;
  if (scale) {
    std::ostringstream s;
    s.precision(9);
    s << std::scientific << *scale;
    attrs.push_back("scale = " + s.str() + " : f32");
  }
  if (!mask.empty())
    attrs.push_back("mask = " + mask);
  if (!scoreMod.empty())
    attrs.push_back("score_mod = " + scoreMod);
  if (!attrs.empty()) {
    os << " {";
    for (size_t i = 0; i < attrs.size(); ++i)
      os << (i ? ", " : "") << attrs[i];
    os << "}";
  }
  if (!maskModBody.empty())
    os << "\n    mask_mod {\n    ^bb0(%b: index, %h: index, %i: index, %j: "
          "index):\n"
       << maskModBody << "\n    }";
  if (!scoreModBody.empty())
    os << "\n    score_mod {\n    ^bb0(%s: f32, %b: index, %h: index, %i: "
          "index, %j: index):\n"
       << scoreModBody << "\n    }";
  os << "\n    : " << q << ", " << k << ", " << v << " -> " << o
     << (withLogsumexp ? ", " + lse : "") << "\n";
  os << "  return "
     << (withLogsumexp ? "%o, %lse : " + o + ", " + lse : "%o : " + o)
     << "\n}\n";
  return os.str();
}

struct Compiler::Impl {
  explicit Impl(CompileOptions options)
      : options(options), context(makeRegistry()) {
    context.loadAllAvailableDialects();
    // Errors carry the message and location; the generic form of the op
    // would only repeat the user's input less readably.
    context.printOpOnDiagnostic(false);
  }

  llvm::Expected<std::shared_ptr<const HostKernel>> compile(StringRef text);
  FailureOr<std::shared_ptr<const HostKernel>>
  compileLocked(StringRef text, llvm::raw_ostream &diagnostics);

  /// The entry function on memrefs (attn_entry) around a clone of the one
  /// attention in `text`, and the roles of its arguments.
  struct Entry {
    OwningOpRef<ModuleOp> module;
    SmallVector<std::pair<ArgRole, ArgShape>> roles;
  };
  FailureOr<Entry> buildEntry(llvm::SourceMgr &sourceMgr, StringRef text,
                              StringRef target);

  llvm::Expected<std::shared_ptr<const EmulatedKernel>>
  compileEmulated(StringRef text);
  FailureOr<std::shared_ptr<const EmulatedKernel>>
  compileEmulatedLocked(StringRef text, llvm::raw_ostream &diagnostics);
  llvm::StringMap<std::shared_ptr<const EmulatedKernel>> emulatedCache;

  llvm::Expected<std::shared_ptr<const GpuKernel>>
  compileGpu(StringRef text, const GpuOptions &gpu);
  llvm::StringMap<std::shared_ptr<const GpuKernel>> gpuCache;
  int64_t diskHits = 0;

  CompileOptions options;
  MLIRContext context;
  std::mutex mutex;
  llvm::StringMap<std::shared_ptr<const HostKernel>> cache;
  int64_t hits = 0, misses = 0;

  /// The kernel cached under `key` in one of the three caches, counting
  /// the hit or the miss; null on a miss.
  template <typename Kernel>
  std::shared_ptr<const Kernel>
  lookup(llvm::StringMap<std::shared_ptr<const Kernel>> &in, StringRef key) {
    auto it = in.find(key);
    if (it == in.end()) {
      ++misses;
      return nullptr;
    }
    ++hits;
    return it->second;
  }
};

llvm::Expected<std::shared_ptr<const HostKernel>>
Compiler::Impl::compile(StringRef text) {
  std::lock_guard<std::mutex> lock(mutex);
  std::string key =
      (text + "\n// tile " + Twine(options.tileQ) + "x" +
       Twine(options.tileKV) + (options.countTileVisits ? " counted" : ""))
          .str();
  if (auto cached = lookup(cache, key))
    return cached;
  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  FailureOr<std::shared_ptr<const HostKernel>> kernel = compileLocked(text, os);
  if (failed(kernel))
    return makeError("attn: cannot compile the attention:\n" + diagnostics);
  cache[key] = *kernel;
  return *kernel;
}

FailureOr<Compiler::Impl::Entry>
Compiler::Impl::buildEntry(llvm::SourceMgr &sourceMgr, StringRef text,
                           StringRef target) {
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(text, "attention"), llvm::SMLoc());
  OwningOpRef<ModuleOp> input = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!input)
    return failure();

  SmallVector<Operation *> ops;
  input->walk([&](Operation *op) {
    if (isa<AttentionOp, LinearAttentionOp>(op))
      ops.push_back(op);
  });
  if (ops.size() != 1) {
    emitError(UnknownLoc::get(&context))
        << "expected exactly one attn.attention or attn.linear_attention, "
           "found "
        << ops.size();
    return failure();
  }
  Operation *source = ops.front();
  for (Value v :
       llvm::concat<Value>(source->getOperands(), source->getResults()))
    if (!cast<RankedTensorType>(v.getType()).hasStaticShape()) {
      source->emitError("the ")
          << target << " JIT needs static shapes; got " << v.getType();
      return failure();
    }

  // The entry function on memrefs around a clone of the attention. Its
  // arguments follow the op's operands, then its results.
  OwningOpRef<ModuleOp> module = ModuleOp::create(source->getLoc());
  OpBuilder b = OpBuilder::atBlockBegin(module->getBody());
  Location loc = source->getLoc();
  SmallVector<std::pair<ArgRole, ArgShape>> roles;
  SmallVector<Type> argTypes;
  auto addArg = [&](ArgRole role, Type tensor) {
    auto type = cast<RankedTensorType>(tensor);
    argTypes.push_back(MemRefType::get(type.getShape(), type.getElementType()));
    ArgShape shape;
    shape.dims.assign(type.getShape().begin(), type.getShape().end());
    shape.elementBytes = (type.getElementTypeBitWidth() + 7) / 8;
    roles.push_back({role, shape});
  };
  if (auto attention = dyn_cast<AttentionOp>(source)) {
    addArg(ArgRole::Query, attention.getQuery().getType());
    addArg(ArgRole::Key, attention.getKey().getType());
    addArg(ArgRole::Value, attention.getValue().getType());
    if (attention.getBias())
      addArg(ArgRole::Bias, attention.getBias().getType());
    if (attention.getQSegmentIds()) {
      addArg(ArgRole::QIds, attention.getQSegmentIds().getType());
      addArg(ArgRole::KvIds, attention.getKvSegmentIds().getType());
    }
    for (auto [k, capture] : llvm::enumerate(attention.getCaptures())) {
      addArg(ArgRole::Capture, capture.getType());
      roles.back().second.captureIndex = k;
    }
    addArg(ArgRole::Output, attention.getOutput().getType());
    if (attention.getLogsumexp())
      addArg(ArgRole::Lse, attention.getLogsumexp().getType());
  } else {
    auto linear = cast<LinearAttentionOp>(source);
    addArg(ArgRole::Query, linear.getQuery().getType());
    addArg(ArgRole::Key, linear.getKey().getType());
    addArg(ArgRole::Value, linear.getValue().getType());
    addArg(ArgRole::Output, linear.getOutput().getType());
  }

  auto func = func::FuncOp::create(b, loc, "attn_entry",
                                   b.getFunctionType(argTypes, {}));
  func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  Block *body = func.addEntryBlock();
  b.setInsertionPointToStart(body);
  IRMapping mapping;
  unsigned numInputs = source->getNumOperands();
  for (unsigned i = 0; i < numInputs; ++i) {
    Value operand = source->getOperand(i);
    mapping.map(operand, bufferization::ToTensorOp::create(
                             b, loc, operand.getType(), body->getArgument(i),
                             /*restrict=*/true));
  }
  Operation *clone = b.clone(*source, mapping);
  for (auto [i, result] : llvm::enumerate(clone->getResults()))
    bufferization::MaterializeInDestinationOp::create(
        b, loc, Type(), result, body->getArgument(numInputs + i),
        b.getUnitAttr(), b.getUnitAttr());
  func::ReturnOp::create(b, loc);
  return Entry{std::move(module), std::move(roles)};
}

FailureOr<std::shared_ptr<const HostKernel>>
Compiler::Impl::compileLocked(StringRef text, llvm::raw_ostream &diagnostics) {
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context, diagnostics);
  FailureOr<Entry> entryModule = buildEntry(sourceMgr, text, "host");
  if (failed(entryModule))
    return failure();
  OwningOpRef<ModuleOp> module = std::move(entryModule->module);
  SmallVector<std::pair<ArgRole, ArgShape>> roles =
      std::move(entryModule->roles);

  PassManager pm(&context);
  AttnToHostOptions pipeline;
  pipeline.tileQ = options.tileQ;
  pipeline.tileKV = options.tileKV;
  pipeline.countVisits = options.countTileVisits;
  buildAttnToHostPipeline(pm, pipeline);
  if (failed(pm.run(*module)))
    return failure();

  auto engine = createEngine(*module, /*optLevel=*/3);
  if (!engine) {
    diagnostics << "error: " << llvm::toString(engine.takeError()) << "\n";
    return failure();
  }
  auto entry = (*engine)->lookupPacked("_mlir_ciface_attn_entry");
  if (!entry) {
    diagnostics << "error: " << llvm::toString(entry.takeError()) << "\n";
    return failure();
  }
  int64_t *visitCounter = nullptr;
  if (options.countTileVisits) {
    llvm::Expected<void *> counter = (*engine)->lookup("attn_kv_tile_visits");
    if (!counter) {
      diagnostics << "error: " << llvm::toString(counter.takeError()) << "\n";
      return failure();
    }
    visitCounter = static_cast<int64_t *>(*counter);
  }
  return makeHostKernel(std::move(*engine), *entry, visitCounter,
                        std::move(roles));
}

llvm::Expected<std::shared_ptr<const EmulatedKernel>>
Compiler::Impl::compileEmulated(StringRef text) {
  std::lock_guard<std::mutex> lock(mutex);
  if (auto cached = lookup(emulatedCache, text))
    return cached;
  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  auto kernel = compileEmulatedLocked(text, os);
  if (failed(kernel))
    return makeError("attn: cannot compile the attention for the "
                     "emulator:\n" +
                     diagnostics);
  emulatedCache[text] = *kernel;
  return *kernel;
}

FailureOr<std::shared_ptr<const EmulatedKernel>>
Compiler::Impl::compileEmulatedLocked(StringRef text,
                                      llvm::raw_ostream &diagnostics) {
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context, diagnostics);
  FailureOr<Entry> entry = buildEntry(sourceMgr, text, "GPU");
  if (failed(entry))
    return failure();
  if (!entry->module->getOps<func::FuncOp>().empty()) {
    auto func = *entry->module->getOps<func::FuncOp>().begin();
    bool linear = false;
    func.walk([&](LinearAttentionOp) { linear = true; });
    if (linear) {
      func.emitError("the GPU path does not lower attn.linear_attention yet");
      return failure();
    }
  }
  PassManager pm(&context);
  buildAttnToGpuPipeline(pm);
  if (failed(pm.run(*entry->module)))
    return failure();

  // The kernels in launch order and their contracts.
  gpu::GPUModuleOp gpuModule;
  entry->module->walk([&](gpu::GPUModuleOp m) { gpuModule = m; });
  if (!gpuModule) {
    emitError(entry->module->getLoc()) << "attn-to-gpu produced no kernel";
    return failure();
  }
  FailureOr<ModuleContract> contract = readLaunchContract(gpuModule);
  if (failed(contract))
    return failure();
  auto launches = resolveLaunches(*contract, entry->roles);
  if (!launches) {
    diagnostics << "error: " << llvm::toString(launches.takeError()) << "\n";
    return failure();
  }
  SmallVector<int64_t> tempBytes = contract->tempBytes;

  // Only the GPU module goes on: lowered as for PTX, then for the emulator.
  OwningOpRef<ModuleOp> device = ModuleOp::create(gpuModule.getLoc());
  (*device)->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                     UnitAttr::get(&context));
  OpBuilder b = OpBuilder::atBlockBegin(device->getBody());
  b.clone(*gpuModule);
  PassManager lower(&context);
  buildEmulateGpuPipeline(lower);
  if (failed(lower.run(*device)))
    return failure();

  auto engine = createEngine(*device, /*optLevel=*/2);
  if (!engine) {
    diagnostics << "error: " << llvm::toString(engine.takeError()) << "\n";
    return failure();
  }
  registerEmulatorSymbols(**engine);
  for (KernelLaunch &launch : *launches) {
    auto fn = (*engine)->lookupPacked(launch.info.kernelName);
    if (!fn) {
      diagnostics << "error: " << llvm::toString(fn.takeError()) << "\n";
      return failure();
    }
    launch.fn = *fn;
  }
  return makeEmulatedKernel(std::move(*engine), std::move(*launches),
                            std::move(tempBytes));
}

llvm::Expected<std::shared_ptr<const GpuKernel>>
Compiler::Impl::compileGpu(StringRef text, const GpuOptions &gpu) {
  std::lock_guard<std::mutex> lock(mutex);
  std::string key = (text + "\n// gpu " + gpu.chip + " device " +
                     Twine(gpu.device))
                        .str();
  if (auto cached = lookup(gpuCache, key))
    return cached;
  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context, os);
  auto fail = [&]() -> llvm::Error {
    return makeError("attn: cannot compile the attention for the GPU:\n" +
                     diagnostics);
  };
  if (!ptx::isSupportedChip(gpu.chip)) {
    emitError(UnknownLoc::get(&context))
        << "unsupported chip '" << gpu.chip << "'; expected sm_80 or sm_90";
    return fail();
  }
  FailureOr<Entry> entry = buildEntry(sourceMgr, text, "GPU");
  if (failed(entry))
    return fail();
  ptx::PTXOptions options;
  options.chip = gpu.chip;
  options.cudaPath = gpu.cudaPath;
  // The on-disk cache: PTX and contract by a hash of the text, the chip,
  // the LLVM pipeline and the kernel generation (kGpuCodeVersion), so that
  // a newer attn does not reuse an older one's kernels.
  std::string diskPath;
  if (!gpu.cacheDirectory.empty()) {
    uint64_t hash = llvm::xxh3_64bits(
        (text + "\n// attn gpu v" + llvm::Twine(kGpuCodeVersion) + " " +
         gpu.chip + " " + options.llvmPipeline)
            .str());
    diskPath = gpu.cacheDirectory + "/attn-" + llvm::utohexstr(hash);
  }
  FailureOr<ptx::CompiledAttention> compiled = failure();
  if (!diskPath.empty()) {
    auto ptxFile = llvm::MemoryBuffer::getFile(diskPath + ".ptx");
    auto jsonFile = llvm::MemoryBuffer::getFile(diskPath + ".json");
    if (ptxFile && jsonFile) {
      FailureOr<ModuleContract> contract =
          ptx::contractFromJson((*jsonFile)->getBuffer());
      if (succeeded(contract)) {
        ptx::CompiledAttention cached;
        cached.ptx = (*ptxFile)->getBuffer().str();
        cached.contract = std::move(*contract);
        compiled = std::move(cached);
        ++diskHits;
      }
    }
  }
  if (failed(compiled)) {
    compiled = ptx::compileAttention(*entry->module, options);
    if (failed(compiled))
      return fail();
    if (!diskPath.empty()) {
      // Written beside and renamed, so that readers never see half a file.
      llvm::sys::fs::create_directories(gpu.cacheDirectory);
      for (auto [suffix, content] :
           {std::pair<std::string, std::string>{".ptx", compiled->ptx},
            {".json", ptx::contractToJson(*compiled, options)}}) {
        std::string tmp = diskPath + suffix + ".tmp" +
                          std::to_string(llvm::sys::Process::getProcessId());
        std::error_code ec;
        {
          llvm::raw_fd_ostream out(tmp, ec);
          if (!ec)
            out << content;
        }
        if (!ec)
          llvm::sys::fs::rename(tmp, diskPath + suffix);
      }
    }
  }
  auto launches = resolveLaunches(compiled->contract, entry->roles);
  if (!launches)
    return launches.takeError();
  auto kernel = makeGpuKernel(std::move(compiled->ptx), std::move(*launches),
                              SmallVector<int64_t>(compiled->contract.tempBytes),
                              gpu.device);
  gpuCache[key] = kernel;
  return std::shared_ptr<const GpuKernel>(kernel);
}

llvm::Expected<std::shared_ptr<const GpuKernel>>
Compiler::compileForGpu(const AttentionSpec &spec, const GpuOptions &options) {
  return impl->compileGpu(spec.toMLIR(), options);
}

llvm::Expected<std::shared_ptr<const GpuKernel>>
Compiler::compileForGpu(StringRef mlirText, const GpuOptions &options) {
  return impl->compileGpu(mlirText, options);
}

llvm::Expected<std::shared_ptr<const EmulatedKernel>>
Compiler::compileForEmulator(const AttentionSpec &spec) {
  return impl->compileEmulated(spec.toMLIR());
}

llvm::Expected<std::shared_ptr<const EmulatedKernel>>
Compiler::compileForEmulator(StringRef mlirText) {
  return impl->compileEmulated(mlirText);
}

Compiler::Compiler(CompileOptions options)
    : impl(std::make_unique<Impl>(options)) {}
Compiler::~Compiler() = default;

llvm::Expected<std::shared_ptr<const HostKernel>>
Compiler::compileForHost(const AttentionSpec &spec) {
  return impl->compile(spec.toMLIR());
}

llvm::Expected<std::shared_ptr<const HostKernel>>
Compiler::compileForHost(StringRef mlirText) {
  return impl->compile(mlirText);
}

int64_t Compiler::cacheHits() const { return impl->hits; }
int64_t Compiler::cacheMisses() const { return impl->misses; }
int64_t Compiler::diskCacheHits() const { return impl->diskHits; }
