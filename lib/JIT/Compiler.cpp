//===- Compiler.cpp - The attn JIT API for host applications ---*- C++ -*-===//
//
// Spec -> MLIR -> entry function on memrefs around the one attn.attention,
// then per target: attn-to-host and the ExecutionEngine; attn-to-gpu, the
// NVVM lowering and the emulator rewrite; or, from an entry function on
// tensors, ptx::compileAttention to PTX. The memref entry function reads
// the caller's buffers in place (bufferization.to_tensor) and writes the
// results straight into the caller's output buffers
// (materialize_in_destination), so a host run copies nothing. Compiled
// kernels are kept in a bounded LRU cache; PTX also in an on-disk cache
// whose entries are checked before use (docs/gpu.md). The kernel objects
// handed out live in Kernels.cpp, the host kernel's tiles, splits, lanes
// and threads are chosen in HostPlan.cpp, and AttentionSpec's text is
// printed in AttentionSpec.cpp.
//
//===----------------------------------------------------------------------===//

#include "attn/JIT/Compiler.h"

#include "DiskCache.h"
#include "HostPlan.h"
#include "Kernels.h"

#include "attn/Conversion/AttnToGPU/AttnToGPU.h"
#include "attn/Conversion/AttnToHost/AttnToHost.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/InitAll.h"
#include "attn/Target/Emulator/Passes.h"
#include "attn/Target/PTX/PTX.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/SourceMgr.h"

#include <algorithm>
#include <list>
#include <mutex>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::jit;

using namespace mlir::attn::jit::detail;

namespace {

DialectRegistry makeRegistry() {
  DialectRegistry registry;
  // The host pipeline's dialects are a subset of the GPU path's.
  registerAllDialects(registry);
  // The host grid on threads: omp ops, translated by the ExecutionEngine.
  registry.insert<omp::OpenMPDialect>();
  registerOpenMPDialectTranslation(registry);
  return registry;
}

/// A least-recently-used map from keys to kernels of any of the three
/// kinds (the key says which), holding at most `limit` of them.
class KernelCache {
public:
  explicit KernelCache(size_t limit) : limit(limit) {}

  /// The kernel under `key`, now the most recently used; null if none.
  std::shared_ptr<const void> find(StringRef key) {
    auto it = index.find(key);
    if (it == index.end())
      return nullptr;
    order.splice(order.begin(), order, it->second);
    return it->second->second;
  }
  void insert(StringRef key, std::shared_ptr<const void> kernel) {
    auto it = index.find(key);
    if (it != index.end()) {
      order.erase(it->second);
      index.erase(it);
    }
    order.emplace_front(key.str(), std::move(kernel));
    index[key] = order.begin();
    evict();
  }
  void setLimit(size_t newLimit) {
    limit = newLimit;
    evict();
  }
  size_t getLimit() const { return limit; }
  size_t size() const { return order.size(); }
  void clear() {
    index.clear();
    order.clear();
  }

private:
  /// Drops least recently used kernels beyond the limit; callers holding
  /// them keep them alive (shared_ptr).
  void evict() {
    while (order.size() > limit) {
      index.erase(order.back().first);
      order.pop_back();
    }
  }

  size_t limit;
  std::list<std::pair<std::string, std::shared_ptr<const void>>> order;
  llvm::StringMap<decltype(order)::iterator> index;
};

} // namespace

struct Compiler::Impl {
  explicit Impl(CompileOptions options)
      : options(options), cache(options.maxCachedKernels),
        context(makeRegistry()) {
    context.loadAllAvailableDialects();
    // Errors carry the message and location; the generic form of the op
    // would only repeat the user's input less readably.
    context.printOpOnDiagnostic(false);
  }

  llvm::Expected<std::shared_ptr<const HostKernel>> compile(StringRef text);
  FailureOr<std::shared_ptr<const HostKernel>>
  compileLocked(StringRef text, llvm::raw_ostream &diagnostics);

  /// The entry function (attn_entry) around a clone of the one attention
  /// in `text`, and the roles of its buffers: the op's operands, then its
  /// results. On memrefs it takes the results' buffers as arguments after
  /// the operands (host, emulator); on tensors it returns them, as
  /// ptx::compileAttention takes it (the contract's resultN).
  enum class EntrySignature { Memrefs, Tensors };
  struct Entry {
    OwningOpRef<ModuleOp> module;
    SmallVector<std::pair<ParamRole, ArgShape>> roles;
    /// A causal linear attention: its run-time lengths must be equal.
    bool sameLengths = false;
  };
  FailureOr<Entry>
  buildEntry(llvm::SourceMgr &sourceMgr, StringRef text, StringRef target,
             EntrySignature signature = EntrySignature::Memrefs);

  llvm::Expected<std::shared_ptr<const EmulatedKernel>>
  compileEmulated(StringRef text);
  FailureOr<std::shared_ptr<const EmulatedKernel>>
  compileEmulatedLocked(StringRef text, llvm::raw_ostream &diagnostics);
  /// CompileOptions::gpuKernelConfig parsed (unset when empty); an error
  /// at `loc` when it does not parse.
  FailureOr<std::optional<GpuKernelConfig>> gpuKernelConfig(Location loc) {
    if (options.gpuKernelConfig.empty())
      return std::optional<GpuKernelConfig>();
    if (std::optional<GpuKernelConfig> config =
            parseGpuKernelConfig(options.gpuKernelConfig))
      return config;
    emitError(loc) << "the GPU kernel configuration '"
                   << options.gpuKernelConfig << "' is not "
                   << kGpuKernelConfigSyntax;
    return failure();
  }

  llvm::Expected<std::shared_ptr<const GpuKernel>>
  compileGpu(StringRef text, const GpuOptions &gpu);
  /// The entry of the disk cache at `path` for `key`, counted as a hit or
  /// (when there is a file that fails a check) a reject; failure when
  /// there is none to use.
  FailureOr<ptx::CompiledAttention>
  loadFromDisk(const std::string &path, StringRef key, size_t numOperands,
               size_t numResults, StringRef chip);
  void storeOnDisk(const std::string &directory, const std::string &path,
                   StringRef key, const ptx::CompiledAttention &compiled,
                   const ptx::PTXOptions &options);
  int64_t diskHits = 0, diskRejects = 0, diskWriteFailures = 0;
  bool warnedReject = false, warnedWrite = false;

  CompileOptions options;
  /// The kernels of all three targets, keyed "host\n", "emulator\n" or
  /// "gpu\n" + text + options.
  KernelCache cache;
  MLIRContext context;
  mutable std::mutex mutex;
  int64_t hits = 0, misses = 0;

  /// The kernel cached under `key`, counting the hit or the miss; null on
  /// a miss.
  template <typename Kernel>
  std::shared_ptr<const Kernel> lookup(StringRef key) {
    std::shared_ptr<const void> found = cache.find(key);
    if (!found) {
      ++misses;
      return nullptr;
    }
    ++hits;
    return std::static_pointer_cast<const Kernel>(found);
  }
  template <typename Kernel>
  void remember(StringRef key, const std::shared_ptr<const Kernel> &kernel) {
    cache.insert(key, std::static_pointer_cast<const void>(kernel));
  }
};

llvm::Expected<std::shared_ptr<const HostKernel>>
Compiler::Impl::compile(StringRef text) {
  std::lock_guard<std::mutex> lock(mutex);
  if (llvm::Error error = checkHostOptions(options))
    return std::move(error);
  std::string key =
      ("host\n" + text + "\n// tile " + Twine(options.tileQ) + "x" +
       Twine(options.tileKV) + " lanes " +
       Twine(resolveHostVectorWidth(options)) + " threads " +
       Twine(resolveHostThreads(options)) + " splits " +
       Twine(options.kvSplits) + (options.packGqaHeads ? "" : " unpacked") +
       (options.countTileVisits ? " counted" : ""))
          .str();
  if (auto cached = lookup<HostKernel>(key))
    return cached;
  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  FailureOr<std::shared_ptr<const HostKernel>> kernel = compileLocked(text, os);
  if (failed(kernel))
    return makeError("attn: cannot compile the attention:\n" + diagnostics);
  remember(key, *kernel);
  return *kernel;
}

/// The one attention (linear attention, merge) of `input`; with static shapes
/// unless `runTimeSizes` (entryRoles checks which dims may be dynamic
/// then). Fails with a diagnostic.
static FailureOr<Operation *> findSource(ModuleOp input, StringRef target,
                                         bool runTimeSizes) {
  SmallVector<Operation *> ops;
  input->walk([&](Operation *op) {
    if (isa<AttentionOp, LinearAttentionOp, MergeOp>(op))
      ops.push_back(op);
  });
  if (ops.size() != 1) {
    // The module's location; the parser gives an implicit module line 0.
    Location where = input->getLoc();
    if (auto file = dyn_cast<FileLineColLoc>(where);
        file && file.getLine() == 0)
      where = FileLineColLoc::get(file.getFilename(), 1, 1);
    InFlightDiagnostic diag =
        emitError(where)
        << "expected exactly one attn.attention, attn.linear_attention or "
           "attn.merge, found "
        << ops.size();
    for (Operation *op : ops)
      diag.attachNote(op->getLoc()) << "one is here";
    return failure();
  }
  Operation *source = ops.front();
  if (!runTimeSizes)
    for (Value v :
         llvm::concat<Value>(source->getOperands(), source->getResults()))
      if (!cast<RankedTensorType>(v.getType()).hasStaticShape()) {
        source->emitError("the ")
            << target << " JIT needs static shapes; got " << v.getType();
        return failure();
      }

  return source;
}

/// The entry function's buffers: the op's operands, then its results, by
/// role; fails with a diagnostic on a tensor without elements.
static FailureOr<SmallVector<std::pair<ParamRole, ArgShape>>>
entryRoles(Operation *source, StringRef target) {
  SmallVector<std::pair<ParamRole, ArgShape>> roles;
  // The first argument with no elements, if any.
  std::optional<std::pair<ParamRole, RankedTensorType>> emptyShape;
  // The first dynamic dim that cannot be a run-time size, if any.
  std::optional<std::pair<ParamRole, RankedTensorType>> fixedDim;
  // Packed sequences' Q, K, V, O and logsumexp are [T, H(, D)].
  bool packed = false;
  auto addArg = [&](ParamRole role, Type tensor) {
    auto type = cast<RankedTensorType>(tensor);
    ArgShape shape;
    shape.packed =
        packed && (role == ParamRole::Query || role == ParamRole::Key ||
                   role == ParamRole::Value || role == ParamRole::Output ||
                   role == ParamRole::Lse);
    for (auto [d, size] : llvm::enumerate(type.getShape())) {
      if (size == 0 && !emptyShape)
        emptyShape = {role, type};
      if (ShapedType::isDynamic(size) && !runSizeOf(role, d, shape.packed) &&
          !fixedDim)
        fixedDim = {role, type};
      shape.dims.push_back(size);
    }
    shape.elementBytes = (type.getElementTypeBitWidth() + 7) / 8;
    llvm::raw_string_ostream(shape.elementType) << type.getElementType();
    roles.push_back({role, shape});
  };
  if (auto attention = dyn_cast<AttentionOp>(source)) {
    bool paged = attention.isPaged();
    packed = attention.isVarlen();
    addArg(ParamRole::Query, attention.getQuery().getType());
    addArg(paged ? ParamRole::KeyPages : ParamRole::Key,
           attention.getKey().getType());
    addArg(paged ? ParamRole::ValuePages : ParamRole::Value,
           attention.getValue().getType());
    if (attention.getBias())
      addArg(ParamRole::Bias, attention.getBias().getType());
    if (attention.getQSegmentIds()) {
      addArg(ParamRole::QSegmentIds, attention.getQSegmentIds().getType());
      addArg(ParamRole::KvSegmentIds, attention.getKvSegmentIds().getType());
    }
    for (auto [k, capture] : llvm::enumerate(attention.getCaptures())) {
      addArg(ParamRole::Capture, capture.getType());
      roles.back().second.captureIndex = k;
    }
    if (attention.hasBlockLayout()) {
      // Its block counts are static, so the lengths must be too.
      AttentionShape shape = attention.getShape();
      if (!shape.hasStaticSequences()) {
        source->emitError("the ")
            << target
            << " JIT needs static sequence lengths with a block_sparse "
               "layout (its block counts are static)";
        return failure();
      }
      addArg(ParamRole::KvNumBlocks, attention.getKvNumBlocks().getType());
      addArg(ParamRole::KvIndices, attention.getKvIndices().getType());
    }
    if (attention.getFullKvNumBlocks()) {
      addArg(ParamRole::FullKvNumBlocks,
             attention.getFullKvNumBlocks().getType());
      addArg(ParamRole::FullKvIndices, attention.getFullKvIndices().getType());
    }
    if (paged) {
      addArg(ParamRole::PageTable, attention.getPageTable().getType());
      addArg(ParamRole::KvLengths, attention.getKvLengths().getType());
    }
    if (packed) {
      addArg(ParamRole::CuSeqlensQ, attention.getCuSeqlensQ().getType());
      addArg(ParamRole::CuSeqlensK, attention.getCuSeqlensK().getType());
    }
    addArg(ParamRole::Output, attention.getOutput().getType());
    if (attention.getLogsumexp())
      addArg(ParamRole::Lse, attention.getLogsumexp().getType());
  } else if (auto merge = dyn_cast<MergeOp>(source)) {
    addArg(ParamRole::Partials, merge.getPartialOutput().getType());
    addArg(ParamRole::PartialLse, merge.getPartialLogsumexp().getType());
    addArg(ParamRole::Output, merge.getOutput().getType());
    if (merge.getLogsumexp())
      addArg(ParamRole::Lse, merge.getLogsumexp().getType());
  } else {
    auto linear = cast<LinearAttentionOp>(source);
    addArg(ParamRole::Query, linear.getQuery().getType());
    addArg(ParamRole::Key, linear.getKey().getType());
    addArg(ParamRole::Value, linear.getValue().getType());
    addArg(ParamRole::Output, linear.getOutput().getType());
  }
  if (fixedDim) {
    source->emitError("the ")
        << target
        << " JIT takes the batch and the sequence lengths at run time; the "
           "head counts, head dims, captured tensors and block layouts' "
           "block counts must be static, but the "
        << roleName(fixedDim->first) << " is " << fixedDim->second;
    return failure();
  }
  // The kernels index every tensor; one without elements would reach them
  // only as a null buffer.
  if (emptyShape) {
    source->emitError("the ")
        << target << " JIT needs non-empty shapes; the "
        << roleName(emptyShape->first) << " is " << emptyShape->second
        << ", which has no elements";
    return failure();
  }

  return roles;
}

FailureOr<Compiler::Impl::Entry>
Compiler::Impl::buildEntry(llvm::SourceMgr &sourceMgr, StringRef text,
                           StringRef target, EntrySignature signature) {
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(text, "attention"), llvm::SMLoc());
  OwningOpRef<ModuleOp> input = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!input)
    return failure();
  // Only the host kernels take their sizes at run time so far.
  FailureOr<Operation *> found =
      findSource(*input, target, /*runTimeSizes=*/target == "host");
  if (failed(found))
    return failure();
  Operation *source = *found;
  FailureOr<SmallVector<std::pair<ParamRole, ArgShape>>> roles =
      entryRoles(source, target);
  if (failed(roles))
    return failure();
  auto linear = dyn_cast<LinearAttentionOp>(source);
  bool sameLengths = linear && linear.getCausal();

  // The entry function on memrefs around a clone of the attention. Its
  // arguments follow the op's operands, then its results.
  OwningOpRef<ModuleOp> module = ModuleOp::create(source->getLoc());
  OpBuilder b = OpBuilder::atBlockBegin(module->getBody());
  Location loc = source->getLoc();
  SmallVector<Type> argTypes;
  for (Value v :
       llvm::concat<Value>(source->getOperands(), source->getResults())) {
    auto type = cast<RankedTensorType>(v.getType());
    argTypes.push_back(MemRefType::get(type.getShape(), type.getElementType()));
  }
  // Operand i of the clone is argument i, by position: an operand that
  // appears twice (`attn.attention %x, %x, %v`) still takes each role's own
  // buffer, as HostArgs names them. (A mapping by value would give both
  // positions the last argument mapped.) Region bodies may only use block
  // arguments and constants, but the mapping covers them too.
  unsigned numInputs = source->getNumOperands();
  auto cloneByPosition = [&](ArrayRef<Value> inputs) {
    IRMapping mapping;
    for (auto [operand, input] : llvm::zip(source->getOperands(), inputs))
      mapping.map(operand, input);
    Operation *clone = b.clone(*source, mapping);
    for (auto [i, input] : llvm::enumerate(inputs))
      clone->setOperand(i, input);
    return clone;
  };
  if (signature == EntrySignature::Tensors) {
    auto func = func::FuncOp::create(
        b, loc, "attn_entry",
        b.getFunctionType(source->getOperandTypes(), source->getResultTypes()));
    Block *body = func.addEntryBlock();
    b.setInsertionPointToStart(body);
    Operation *clone =
        cloneByPosition(SmallVector<Value>(body->getArguments()));
    func::ReturnOp::create(b, loc, clone->getResults());
    return Entry{std::move(module), std::move(*roles), sameLengths};
  }
  auto func = func::FuncOp::create(b, loc, "attn_entry",
                                   b.getFunctionType(argTypes, {}));
  func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  Block *body = func.addEntryBlock();
  b.setInsertionPointToStart(body);
  SmallVector<Value> inputs;
  for (unsigned i = 0; i < numInputs; ++i)
    inputs.push_back(bufferization::ToTensorOp::create(
        b, loc, source->getOperand(i).getType(), body->getArgument(i),
        /*restrict=*/true));
  Operation *clone = cloneByPosition(inputs);
  for (auto [i, result] : llvm::enumerate(clone->getResults()))
    bufferization::MaterializeInDestinationOp::create(
        b, loc, Type(), result, body->getArgument(numInputs + i),
        b.getUnitAttr(), b.getUnitAttr());
  func::ReturnOp::create(b, loc);
  return Entry{std::move(module), std::move(*roles), sameLengths};
}

namespace {
/// Records the tile shape of the first attn.tile_update a module pass
/// leaves in the IR: attn-tile writes it there, later passes lower the op
/// away. (Nested passes may run in parallel; they are not looked at.)
class TileShapeRecorder final : public PassInstrumentation {
public:
  explicit TileShapeRecorder(TileShape &shape) : shape(shape) {}
  void runAfterPass(Pass *, Operation *op) override {
    if (shape.q || !isa<ModuleOp>(op))
      return;
    op->walk([&](TileUpdateOp update) {
      shape = TileShape{static_cast<int64_t>(update.getTileQ()),
                        static_cast<int64_t>(update.getTileKv())};
      return WalkResult::interrupt();
    });
  }

private:
  TileShape &shape;
};
} // namespace

FailureOr<std::shared_ptr<const HostKernel>>
Compiler::Impl::compileLocked(StringRef text, llvm::raw_ostream &diagnostics) {
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context, diagnostics);
  FailureOr<Entry> entryModule = buildEntry(sourceMgr, text, "host");
  if (failed(entryModule))
    return failure();
  OwningOpRef<ModuleOp> module = std::move(entryModule->module);
  SmallVector<std::pair<ParamRole, ArgShape>> roles =
      std::move(entryModule->roles);

  PassManager pm(&context);
  AttnToHostOptions pipeline;
  TileShape chosen = chooseHostTiles(options, *module);
  pipeline.tileQ = chosen.q;
  pipeline.tileKV = chosen.kv;
  pipeline.kvSplits = chosen.kvSplits;
  pipeline.packGqaHeads = options.packGqaHeads;
  pipeline.countVisits = options.countTileVisits;
  pipeline.vectorWidth = resolveHostVectorWidth(options);
  pipeline.numThreads = resolveHostThreads(options);
  buildAttnToHostPipeline(pm, pipeline);
  // The parser verified the input and the lit tests run this pipeline
  // with the verifier after every pass; here it runs once, on what
  // reaches LLVM (after each of ~40 passes it was a sixth of a cold
  // compile).
  pm.enableVerifier(false);
  TileShape tiles;
  pm.addInstrumentation(std::make_unique<TileShapeRecorder>(tiles));
  if (failed(pm.run(*module)) || failed(verify(*module)))
    return failure();
  tiles.kvSplits = pipeline.kvSplits;

  auto engine = createEngine(*module, kHostLLVMPipeline);
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
                        std::move(roles), tiles, entryModule->sameLengths);
}

llvm::Expected<std::shared_ptr<const EmulatedKernel>>
Compiler::Impl::compileEmulated(StringRef text) {
  std::lock_guard<std::mutex> lock(mutex);
  std::string key = ("emulator\n" + text).str();
  if (auto cached = lookup<EmulatedKernel>(key))
    return cached;
  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  auto kernel = compileEmulatedLocked(text, os);
  if (failed(kernel))
    return makeError("attn: cannot compile the attention for the "
                     "emulator:\n" +
                     diagnostics);
  remember(key, *kernel);
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
  FailureOr<std::optional<GpuKernelConfig>> config =
      gpuKernelConfig(entry->module->getLoc());
  if (failed(config))
    return failure();
  PassManager pm(&context);
  // The emulator runs the sm_80 kernels.
  buildAttnToGpuPipeline(pm, *config, "sm_80");
  if (failed(pm.run(*entry->module)))
    return failure();

  // The kernels in launch order and their contracts.
  gpu::GPUModuleOp gpuModule;
  entry->module->walk([&](gpu::GPUModuleOp m) { gpuModule = m; });
  if (!gpuModule) {
    emitError(entry->module->getLoc()) << "attn-to-gpu produced no kernel";
    return failure();
  }
  FailureOr<LaunchContractAttr> contract = readLaunchContract(gpuModule);
  if (failed(contract))
    return failure();
  auto launches = resolveLaunches(*contract, entry->roles);
  if (!launches) {
    diagnostics << "error: " << llvm::toString(launches.takeError()) << "\n";
    return failure();
  }
  SmallVector<int64_t> tempBytes = temporaryBytes(*contract);

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

  auto engine = createEngine(*device, "default<O2>");
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
                            std::move(tempBytes), tilesOf(*contract),
                            entry->roles);
}

llvm::Expected<std::shared_ptr<const GpuKernel>>
Compiler::Impl::compileGpu(StringRef text, const GpuOptions &gpu) {
  std::lock_guard<std::mutex> lock(mutex);
  std::string key = ("gpu\n" + text + "\n// gpu " + gpu.chip + " device " +
                     Twine(gpu.device) + " cuda " + gpu.cudaPath)
                        .str();
  if (auto cached = lookup<GpuKernel>(key))
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
  FailureOr<Entry> entry =
      buildEntry(sourceMgr, text, "GPU", EntrySignature::Tensors);
  if (failed(entry))
    return fail();
  size_t numResults = llvm::count_if(entry->roles, [](const auto &role) {
    return role.first == ParamRole::Output || role.first == ParamRole::Lse;
  });
  size_t numOperands = entry->roles.size() - numResults;
  ptx::PTXOptions options;
  options.chip = gpu.chip;
  options.cudaPath = gpu.cudaPath;
  FailureOr<std::optional<GpuKernelConfig>> config =
      gpuKernelConfig(UnknownLoc::get(&context));
  if (failed(config))
    return fail();
  options.kernelConfig = *config;
  // The on-disk cache: the entry named by a hash of the full key, which
  // the entry stores and which is compared on load.
  std::string diskKey, diskPath;
  if (!gpu.cacheDirectory.empty()) {
    diskKey = diskCacheKey(text, options);
    diskPath = gpu.cacheDirectory + "/attn-" +
               sha256Hex(diskKey).substr(0, 32) + ".json";
  }
  FailureOr<ptx::CompiledAttention> compiled = failure();
  if (!diskPath.empty())
    compiled =
        loadFromDisk(diskPath, diskKey, numOperands, numResults, options.chip);
  if (failed(compiled)) {
    compiled = ptx::compileAttention(*entry->module, options);
    if (failed(compiled))
      return fail();
    if (!diskPath.empty())
      storeOnDisk(gpu.cacheDirectory, diskPath, diskKey, *compiled, options);
  }
  auto launches = resolveLaunches(compiled->contract, entry->roles);
  if (!launches)
    return launches.takeError();
  auto kernel = makeGpuKernel(std::move(compiled->ptx), std::move(*launches),
                              temporaryBytes(compiled->contract), gpu.device,
                              tilesOf(compiled->contract), entry->roles);
  remember(key, kernel);
  return kernel;
}

FailureOr<ptx::CompiledAttention>
Compiler::Impl::loadFromDisk(const std::string &path, StringRef key,
                             size_t numOperands, size_t numResults,
                             StringRef chip) {
  std::string problem;
  std::optional<std::string> content = readRegularFile(path, problem);
  llvm::Expected<ptx::CompiledAttention> entry =
      content ? parseDiskCacheEntry(*content, key, numOperands, numResults,
                                    chip, &context)
              : makeError(problem);
  if (entry) {
    ++diskHits;
    return std::move(*entry);
  }
  problem = llvm::toString(entry.takeError());
  if (!content && problem.empty())
    return failure(); // no entry yet
  ++diskRejects;
  if (!warnedReject) {
    warnedReject = true;
    llvm::errs() << "attn: warning: the JIT cache entry " << path
                 << " is not used, " << problem
                 << "; recompiling (further rejected entries are counted by "
                    "Compiler::diskCacheRejects, not reported)\n";
  }
  return failure();
}

void Compiler::Impl::storeOnDisk(const std::string &directory,
                                 const std::string &path, StringRef key,
                                 const ptx::CompiledAttention &compiled,
                                 const ptx::PTXOptions &options) {
  llvm::Expected<llvm::json::Value> contract =
      llvm::json::parse(ptx::contractToJson(compiled, options.chip));
  llvm::Error error = contract.takeError();
  if (!error) {
    llvm::json::Object root{{"format", kDiskCacheFormat},
                            {"key", key},
                            {"ptx_sha256", sha256Hex(compiled.ptx)},
                            {"contract", std::move(*contract)},
                            {"ptx", compiled.ptx}};
    std::string text;
    llvm::raw_string_ostream(text)
        << llvm::json::Value(std::move(root)) << "\n";
    error = writeFileAtomically(directory, path, text);
  }
  if (!error)
    return;
  ++diskWriteFailures;
  std::string message = llvm::toString(std::move(error));
  if (!warnedWrite) {
    warnedWrite = true;
    llvm::errs() << "attn: warning: cannot write the JIT cache entry " << path
                 << ": " << message
                 << "; the kernel is compiled but not cached (further "
                    "failures are counted by "
                    "Compiler::diskCacheWriteFailures, not reported)\n";
  }
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

int64_t Compiler::cacheHits() const {
  std::lock_guard<std::mutex> lock(impl->mutex);
  return impl->hits;
}
int64_t Compiler::cacheMisses() const {
  std::lock_guard<std::mutex> lock(impl->mutex);
  return impl->misses;
}
size_t Compiler::cacheSize() const {
  std::lock_guard<std::mutex> lock(impl->mutex);
  return impl->cache.size();
}
size_t Compiler::cacheLimit() const {
  std::lock_guard<std::mutex> lock(impl->mutex);
  return impl->cache.getLimit();
}
void Compiler::setCacheLimit(size_t maxKernels) {
  std::lock_guard<std::mutex> lock(impl->mutex);
  impl->cache.setLimit(maxKernels);
}
void Compiler::clearCache() {
  std::lock_guard<std::mutex> lock(impl->mutex);
  impl->cache.clear();
}
int64_t Compiler::diskCacheHits() const {
  std::lock_guard<std::mutex> lock(impl->mutex);
  return impl->diskHits;
}
int64_t Compiler::diskCacheRejects() const {
  std::lock_guard<std::mutex> lock(impl->mutex);
  return impl->diskRejects;
}
int64_t Compiler::diskCacheWriteFailures() const {
  std::lock_guard<std::mutex> lock(impl->mutex);
  return impl->diskWriteFailures;
}
