//===- Compiler.cpp - The attn JIT API for host applications ---*- C++ -*-===//
//
// Spec -> MLIR -> entry function on memrefs around the one attn.attention ->
// attn-to-host pipeline -> ExecutionEngine. The entry function reads the
// caller's buffers in place (bufferization.to_tensor) and writes the
// results straight into the caller's output buffers (materialize_in_
// destination), so a run copies nothing.
//
//===----------------------------------------------------------------------===//

#include "attn/JIT/Compiler.h"

#include "attn/Conversion/AttnToGPU/AttnToGPU.h"
#include "attn/Conversion/AttnToHost/AttnToHost.h"
#include "attn/Runtime/Runtime.h"
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
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/xxhash.h"
#include "llvm/Support/TargetSelect.h"

#include <mutex>
#include <sstream>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::jit;

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

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

/// A memref descriptor as the C interface passes it: allocated and aligned
/// pointers, offset, sizes[rank], strides[rank] (rank at most 8).
struct Descriptor {
  void *allocated = nullptr;
  void *aligned = nullptr;
  int64_t offset = 0;
  int64_t sizesAndStrides[16] = {};
};

/// The shape of one entry-function argument.
struct ArgShape {
  SmallVector<int64_t, 4> dims;
  unsigned captureIndex = 0; // for ArgRole::Capture
  int64_t elementBytes = 1;
};

Descriptor describe(const void *data, const ArgShape &shape) {
  Descriptor d;
  d.allocated = d.aligned = const_cast<void *>(data);
  size_t rank = shape.dims.size();
  int64_t stride = 1;
  for (size_t k = rank; k-- > 0;) {
    d.sizesAndStrides[k] = shape.dims[k];
    d.sizesAndStrides[rank + k] = stride;
    stride *= shape.dims[k];
  }
  return d;
}

/// Which buffers the entry function takes, in order.
enum class ArgRole {
  Query,
  Key,
  Value,
  Bias,
  QIds,
  KvIds,
  Capture,
  Output,
  Lse
};

/// The buffer of a role, for both kernel kinds.
const void *bufferFor(const HostArgs &host, ArgRole role,
                      const ArgShape &shape) {
  switch (role) {
  case ArgRole::Capture:
    return host.captures && shape.captureIndex < host.numCaptures
               ? host.captures[shape.captureIndex]
               : nullptr;
  case ArgRole::Query:
    return host.query;
  case ArgRole::Key:
    return host.key;
  case ArgRole::Value:
    return host.value;
  case ArgRole::Bias:
    return host.bias;
  case ArgRole::QIds:
    return host.qSegmentIds;
  case ArgRole::KvIds:
    return host.kvSegmentIds;
  case ArgRole::Output:
    return host.output;
  case ArgRole::Lse:
    return host.logsumexp;
  }
  return nullptr;
}

/// A role's name, for messages.
const char *roleName(ArgRole role) {
  switch (role) {
  case ArgRole::Query:
    return "query";
  case ArgRole::Key:
    return "key";
  case ArgRole::Value:
    return "value";
  case ArgRole::Bias:
    return "bias";
  case ArgRole::QIds:
    return "query segment id";
  case ArgRole::KvIds:
    return "key/value segment id";
  case ArgRole::Capture:
    return "captured tensor";
  case ArgRole::Output:
    return "output";
  case ArgRole::Lse:
    return "logsumexp";
  }
  return "?";
}


class HostKernelImpl final : public HostKernel {
public:
  using PackedEntry = void (*)(void **);

  HostKernelImpl(std::unique_ptr<ExecutionEngine> engine, PackedEntry entry,
                 int64_t *visitCounter,
                 SmallVector<std::pair<ArgRole, ArgShape>> args)
      : engine(std::move(engine)), entry(entry), visitCounter(visitCounter),
        args(std::move(args)) {}

  llvm::Error run(const HostArgs &host, int64_t *tileVisits) const override {
    if (tileVisits && !visitCounter)
      return makeError("attn: tile visits were requested but the kernel was "
                       "compiled without CompileOptions::countTileVisits");
    SmallVector<Descriptor, 8> descriptors;
    for (const auto &[role, shape] : args) {
      if (role == ArgRole::Capture && shape.captureIndex >= host.numCaptures)
        return makeError("attn: the attention captures " +
                         Twine(shape.captureIndex + 1) +
                         " tensors or more but HostArgs::numCaptures is " +
                         Twine(host.numCaptures));
      const void *data = bufferFor(host, role, shape);
      if (!data)
        return makeError(Twine("attn: the ") + roleName(role) +
                         " buffer is required by this attention but is null");
      descriptors.push_back(describe(data, shape));
    }
    // The packed interface takes a pointer to each argument, and each
    // argument of the C interface is a pointer to a descriptor.
    SmallVector<void *, 8> pointers, packed;
    for (Descriptor &d : descriptors)
      pointers.push_back(&d);
    for (void *&p : pointers)
      packed.push_back(&p);
    if (tileVisits)
      *visitCounter = 0;
    entry(packed.data());
    if (tileVisits)
      *tileVisits = *visitCounter;
    return llvm::Error::success();
  }

private:
  std::unique_ptr<ExecutionEngine> engine;
  PackedEntry entry;
  /// The kernel's @attn_kv_tile_visits counter (its memref's data), or
  /// null when not instrumented.
  int64_t *visitCounter;
  SmallVector<std::pair<ArgRole, ArgShape>> args;
};

/// One parameter of a GPU kernel launch: a caller buffer (by role) or a
/// temporary the launcher allocates.
struct LaunchParam {
  ArgRole role = ArgRole::Query;
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

/// The launches of a launch contract with their parameters resolved to
/// the entry function's roles (argN) or temporaries (tempN).
llvm::Expected<SmallVector<KernelLaunch>>
resolveLaunches(const ModuleContract &contract,
                ArrayRef<std::pair<ArgRole, ArgShape>> roles) {
  SmallVector<KernelLaunch> launches;
  for (const KernelContract &k : contract.kernels) {
    KernelLaunch launch;
    launch.info.kernelName = k.name;
    for (int d = 0; d < 3; ++d) {
      launch.info.grid[d] = k.grid[d];
      launch.info.block[d] = k.block[d];
    }
    launch.info.dynamicSharedBytes = k.dynamicSharedBytes;
    for (const std::string &originString : k.params) {
      StringRef origin = originString;
      LaunchParam param;
      unsigned index = 0;
      if (origin.consume_front("temp") && !origin.getAsInteger(10, index) &&
          index < contract.tempBytes.size()) {
        param.temp = index;
        const SmallVector<int64_t> &dims = contract.tempShapes[index];
        param.shape.dims.assign(dims.begin(), dims.end());
        int64_t elements = 1;
        for (int64_t d : dims)
          elements *= d;
        param.shape.elementBytes =
            elements ? contract.tempBytes[index] / elements : 1;
      } else if (origin.consume_front("arg") &&
                 !origin.getAsInteger(10, index) && index < roles.size()) {
        param.role = roles[index].first;
        param.shape = roles[index].second;
      } else {
        return makeError("attn: unexpected kernel parameter origin '" +
                         originString + "' in kernel " + k.name);
      }
      launch.params.push_back(param);
    }
    launches.push_back(std::move(launch));
  }
  return launches;
}

/// A JIT for a module in the LLVM dialect, optimised at `optLevel`.
llvm::Expected<std::unique_ptr<ExecutionEngine>> createEngine(ModuleOp module,
                                                             unsigned optLevel) {
  static std::once_flag targetInit;
  std::call_once(targetInit, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  std::function<llvm::Error(llvm::Module *)> optimize =
      makeOptimizingTransformer(optLevel, /*sizeLevel=*/0,
                                /*targetMachine=*/nullptr);
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = optimize;
  return ExecutionEngine::create(module, engineOptions);
}

class EmulatedKernelImpl final : public EmulatedKernel {
public:
  EmulatedKernelImpl(std::unique_ptr<ExecutionEngine> engine,
                     SmallVector<KernelLaunch> launches,
                     SmallVector<int64_t> tempBytes)
      : engine(std::move(engine)), launches(std::move(launches)),
        tempBytes(std::move(tempBytes)) {}

  const GpuLaunch &launch() const override { return launches.back().info; }

  llvm::Error run(const HostArgs &host, emu::Counters *counters,
                  unsigned hostThreads) const override {
    // Temporaries start as garbage, as device allocations do.
    std::vector<std::vector<uint8_t>> temps;
    for (int64_t bytes : tempBytes)
      temps.emplace_back(static_cast<size_t>(bytes), 0xa5);
    emu::Counters total;
    for (const KernelLaunch &launch : launches) {
      emu::LaunchConfig config;
      config.kernelName = launch.info.kernelName;
      config.grid = {static_cast<uint32_t>(launch.info.grid[0]),
                     static_cast<uint32_t>(launch.info.grid[1]),
                     static_cast<uint32_t>(launch.info.grid[2])};
      config.block = {static_cast<uint32_t>(launch.info.block[0]),
                      static_cast<uint32_t>(launch.info.block[1]),
                      static_cast<uint32_t>(launch.info.block[2])};
      config.dynamicSharedBytes =
          static_cast<size_t>(launch.info.dynamicSharedBytes);
      config.hostThreads = hostThreads;
      // The lowered kernel takes each memref as its descriptor's fields.
      SmallVector<Descriptor, 8> descriptors;
      for (const LaunchParam &param : launch.params) {
        const void *data =
            param.temp ? temps[*param.temp].data()
                       : bufferFor(host, param.role, param.shape);
        if (!data)
          return makeError(Twine("attn: the ") + roleName(param.role) +
                           " buffer is required by this attention but is "
                           "null");
        descriptors.push_back(describe(data, param.shape));
        int64_t elements = 1;
        for (int64_t d : param.shape.dims)
          elements *= d;
        config.buffers.push_back(
            {data, static_cast<size_t>(elements * param.shape.elementBytes),
             param.temp ? "temporary " + std::to_string(*param.temp)
                        : std::string(roleName(param.role))});
      }
      SmallVector<void *, 64> fields;
      for (auto [param, d] : llvm::zip(launch.params, descriptors)) {
        size_t rank = param.shape.dims.size();
        fields.push_back(&d.allocated);
        fields.push_back(&d.aligned);
        fields.push_back(&d.offset);
        for (size_t k = 0; k < 2 * rank; ++k)
          fields.push_back(&d.sizesAndStrides[k]);
      }
      emu::LaunchResult result = emu::launch(config, launch.fn, fields.data());
      total += result.counters;
      if (!result.ok)
        return makeError("attn: emulated kernel failed: " + result.error);
    }
    if (counters)
      *counters = total;
    return llvm::Error::success();
  }

private:
  std::unique_ptr<ExecutionEngine> engine;
  SmallVector<KernelLaunch> launches;
  SmallVector<int64_t> tempBytes;
};

class GpuKernelImpl final : public GpuKernel {
public:
  GpuKernelImpl(std::string ptxText, SmallVector<KernelLaunch> launches,
                SmallVector<int64_t> tempBytes, int device)
      : ptxText(std::move(ptxText)), launches(std::move(launches)),
        tempBytes(std::move(tempBytes)), device(device) {}
  ~GpuKernelImpl() override {
    if (module)
      attn_rt_module_unload(module);
  }

  const GpuLaunch &launch() const override { return launches.back().info; }
  const std::string &ptx() const override { return ptxText; }

  llvm::Error run(const HostArgs &args, void *stream) const override {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!module && attn_rt_module_load(device, ptxText.c_str(), &module))
        return makeError(attn_rt_last_error());
    }
    SmallVector<uint64_t> temps;
    llvm::scope_exit freeTemps([&] {
      for (uint64_t t : temps)
        attn_rt_free(t);
    });
    for (int64_t bytes : tempBytes) {
      uint64_t ptr = 0;
      if (attn_rt_alloc(device, static_cast<size_t>(bytes), &ptr))
        return makeError(attn_rt_last_error());
      temps.push_back(ptr);
    }
    for (const KernelLaunch &launch : launches) {
      SmallVector<attn_rt_tensor> tensors;
      for (const LaunchParam &param : launch.params) {
        attn_rt_tensor t{};
        const void *data = param.temp
                               ? reinterpret_cast<const void *>(
                                     static_cast<uintptr_t>(temps[*param.temp]))
                               : bufferFor(args, param.role, param.shape);
        if (!data)
          return makeError(Twine("attn: the ") + roleName(param.role) +
                           " buffer is required by this attention but is "
                           "null");
        t.device_pointer = reinterpret_cast<uintptr_t>(data);
        t.rank = static_cast<int32_t>(param.shape.dims.size());
        for (size_t d = 0; d < param.shape.dims.size(); ++d)
          t.shape[d] = param.shape.dims[d];
        tensors.push_back(t);
      }
      if (attn_rt_launch_memrefs(module, launch.info.kernelName.c_str(),
                                 launch.info.grid, launch.info.block,
                                 launch.info.dynamicSharedBytes, stream,
                                 tensors.data(), tensors.size()))
        return makeError(attn_rt_last_error());
    }
    // Temporaries must outlive the kernels that read them.
    if (!temps.empty() && attn_rt_synchronize(stream))
      return makeError(attn_rt_last_error());
    return llvm::Error::success();
  }

private:
  std::string ptxText;
  SmallVector<KernelLaunch> launches;
  SmallVector<int64_t> tempBytes;
  int device;
  mutable std::mutex mutex;
  mutable attn_rt_module *module = nullptr;
};

DialectRegistry makeRegistry() {
  DialectRegistry registry;
  // The host pipeline's dialects are a subset of the GPU path's.
  ptx::registerAttentionToPTX(registry);
  return registry;
}

} // namespace

HostKernel::~HostKernel() = default;

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
};

llvm::Expected<std::shared_ptr<const HostKernel>>
Compiler::Impl::compile(StringRef text) {
  std::lock_guard<std::mutex> lock(mutex);
  std::string key =
      (text + "\n// tile " + Twine(options.tileQ) + "x" +
       Twine(options.tileKV) + (options.countTileVisits ? " counted" : ""))
          .str();
  auto it = cache.find(key);
  if (it != cache.end()) {
    ++hits;
    return it->second;
  }
  ++misses;
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
  return std::shared_ptr<const HostKernel>(std::make_shared<HostKernelImpl>(
      std::move(*engine), *entry, visitCounter, std::move(roles)));
}

llvm::Expected<std::shared_ptr<const EmulatedKernel>>
Compiler::Impl::compileEmulated(StringRef text) {
  std::lock_guard<std::mutex> lock(mutex);
  auto it = emulatedCache.find(text);
  if (it != emulatedCache.end()) {
    ++hits;
    return it->second;
  }
  ++misses;
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
  return std::shared_ptr<const EmulatedKernel>(
      std::make_shared<EmulatedKernelImpl>(
          std::move(*engine), std::move(*launches), std::move(tempBytes)));
}

llvm::Expected<std::shared_ptr<const GpuKernel>>
Compiler::Impl::compileGpu(StringRef text, const GpuOptions &gpu) {
  std::lock_guard<std::mutex> lock(mutex);
  std::string key = (text + "\n// gpu " + gpu.chip + " device " +
                     Twine(gpu.device))
                        .str();
  auto it = gpuCache.find(key);
  if (it != gpuCache.end()) {
    ++hits;
    return it->second;
  }
  ++misses;
  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context, os);
  auto fail = [&]() -> llvm::Error {
    return makeError("attn: cannot compile the attention for the GPU:\n" +
                     diagnostics);
  };
  if (gpu.chip != "sm_80" && gpu.chip != "sm_90") {
    emitError(UnknownLoc::get(&context))
        << "unsupported chip '" << gpu.chip << "'; expected sm_80 or sm_90";
    return fail();
  }
  FailureOr<Entry> entry = buildEntry(sourceMgr, text, "GPU");
  if (failed(entry))
    return fail();
  ptx::PTXOptions options;
  options.chip = gpu.chip;
  // The on-disk cache: PTX and contract by a hash of the text and chip.
  std::string diskPath;
  if (!gpu.cacheDirectory.empty()) {
    uint64_t hash = llvm::xxh3_64bits(
        (text + "\n// attn gpu v1 " + gpu.chip).str());
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
  auto kernel = std::make_shared<GpuKernelImpl>(
      std::move(compiled->ptx), std::move(*launches),
      SmallVector<int64_t>(compiled->contract.tempBytes), gpu.device);
  gpuCache[key] = kernel;
  return std::shared_ptr<const GpuKernel>(kernel);
}

GpuKernel::~GpuKernel() = default;

llvm::Expected<std::shared_ptr<const GpuKernel>>
Compiler::compileForGpu(const AttentionSpec &spec, const GpuOptions &options) {
  return impl->compileGpu(spec.toMLIR(), options);
}

llvm::Expected<std::shared_ptr<const GpuKernel>>
Compiler::compileForGpu(StringRef mlirText, const GpuOptions &options) {
  return impl->compileGpu(mlirText, options);
}

EmulatedKernel::~EmulatedKernel() = default;

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
