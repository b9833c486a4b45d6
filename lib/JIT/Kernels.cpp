//===- Kernels.cpp - The JIT's compiled-kernel objects --------------------===//
//
// Running what the JIT compiled: the host kernel through its packed entry,
// the emulated GPU kernels through the emulator, the PTX through runtime/.
// Each maps HostArgs to the kernel's memref descriptors by argument role.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "attn/Runtime/Runtime.h"
#include "attn/Target/LLVM/Pipeline.h"

#include "llvm/Support/TargetSelect.h"

#include <array>
#include <map>
#include <mutex>
#include <vector>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::jit;
using namespace mlir::attn::jit::detail;

namespace {

/// A memref descriptor as the C interface passes it: allocated and aligned
/// pointers, offset, sizes[rank], strides[rank] (rank at most 8).
struct Descriptor {
  void *allocated = nullptr;
  void *aligned = nullptr;
  int64_t offset = 0;
  int64_t sizesAndStrides[16] = {};
};

Descriptor describe(const void *data, ArrayRef<int64_t> dims) {
  Descriptor d;
  d.allocated = d.aligned = const_cast<void *>(data);
  size_t rank = dims.size();
  int64_t stride = 1;
  for (size_t k = rank; k-- > 0;) {
    d.sizesAndStrides[k] = dims[k];
    d.sizesAndStrides[rank + k] = stride;
    stride *= dims[k];
  }
  return d;
}

/// The most a run-time size may be: every index the kernels compute stays
/// far from overflowing int64.
constexpr int64_t kMaxRunSize = int64_t{1} << 31;

/// A kernel's run-time sizes, by RunSize: the static size of its spec,
/// kDynamic where the spec has '?', 0 where no buffer has the size (an
/// attn.merge has no key/value length). Every buffer's static dims count
/// (the verifier made them agree), but for the batch of a bias or a block
/// layout that is 1 to broadcast.
std::array<int64_t, kNumRunSizes>
staticRunSizes(ArrayRef<std::pair<ParamRole, ArgShape>> args) {
  std::array<int64_t, kNumRunSizes> sizes;
  sizes.fill(0);
  for (const auto &[role, shape] : args) {
    bool broadcasts =
        role == ParamRole::Bias || role == ParamRole::KvNumBlocks ||
        role == ParamRole::KvIndices || role == ParamRole::FullKvNumBlocks ||
        role == ParamRole::FullKvIndices;
    for (auto [d, size] : llvm::enumerate(shape.dims))
      if (std::optional<RunSize> which = runSizeOf(role, d, shape.packed)) {
        if (broadcasts && *which == RunSize::Batch && size == 1)
          continue;
        int64_t &known = sizes[static_cast<unsigned>(*which)];
        if (!ShapedType::isDynamic(size))
          known = size - runSizeExcess(role); // the verifier made every
                                              // static one agree
        else if (known == 0)
          known = size;
      }
  }
  return sizes;
}

/// The sizes of a run: HostArgs' stated sizes checked against the
/// kernel's static ones.
llvm::Expected<std::array<int64_t, kNumRunSizes>>
runSizes(const HostArgs &host, const std::array<int64_t, kNumRunSizes> &fixed,
         bool sameLengths) {
  const int64_t stated[kNumRunSizes] = {host.batch, host.seqQ, host.seqKV};
  std::array<int64_t, kNumRunSizes> sizes;
  for (unsigned k = 0; k < kNumRunSizes; ++k) {
    const char *name = runSizeName(static_cast<RunSize>(k));
    if (stated[k] < 0 || stated[k] > kMaxRunSize)
      return makeError(Twine("attn: HostArgs::") + name + " is " +
                       Twine(stated[k]) + "; expected 0 (the spec's size) " +
                       "or 1 to " + Twine(kMaxRunSize));
    if (fixed[k] == 0) {
      if (stated[k] != 0)
        return makeError(Twine("attn: HostArgs::") + name + " is " +
                         Twine(stated[k]) + " but this kernel has no " + name +
                         "; expected 0");
      sizes[k] = 0;
      continue;
    }
    if (ShapedType::isDynamic(fixed[k])) {
      if (stated[k] == 0)
        return makeError(Twine("attn: this kernel's ") + name +
                         " is dynamic ('?' in its spec); HostArgs::" + name +
                         " must state it");
      sizes[k] = stated[k];
      continue;
    }
    if (stated[k] != 0 && stated[k] != fixed[k])
      return makeError(Twine("attn: HostArgs::") + name + " is " +
                       Twine(stated[k]) + " but this kernel was compiled for " +
                       Twine(fixed[k]) + " (0 takes the spec's size)");
    sizes[k] = fixed[k];
  }
  if (sameLengths && sizes[1] != sizes[2])
    return makeError("attn: a causal linear attention needs equal lengths; "
                     "HostArgs::seqQ is " +
                     Twine(sizes[1]) + " and seqKV " + Twine(sizes[2]));
  return sizes;
}

/// A buffer's dims at the run's sizes.
SmallVector<int64_t, 4> dimsAt(ParamRole role, const ArgShape &shape,
                               const std::array<int64_t, kNumRunSizes> &sizes) {
  SmallVector<int64_t, 4> dims(shape.dims);
  for (auto [d, size] : llvm::enumerate(dims))
    if (ShapedType::isDynamic(size))
      size = sizes[static_cast<unsigned>(*runSizeOf(role, d, shape.packed))] +
             runSizeExcess(role);
  return dims;
}

/// Checks a packed batch's offsets: `count` + 1 of them from `data`, from
/// 0 and non-decreasing up to at most `tokens` (what the kernel's clamping
/// would otherwise make overlapping or empty sequences).
llvm::Error checkPackedOffsets(ParamRole role, const int32_t *data,
                               int64_t count, int64_t tokens) {
  int64_t previous = 0;
  for (int64_t k = 0; k <= count; ++k) {
    int64_t offset = data[k];
    if ((k == 0 && offset != 0) || offset < previous || offset > tokens)
      return makeError(Twine("attn: ") + roleName(role) + "[" + Twine(k) +
                       "] is " + Twine(offset) +
                       "; the offsets must start at 0 and not decrease, "
                       "up to the " +
                       Twine(tokens) + " tokens");
    previous = offset;
  }
  return llvm::Error::success();
}

/// The buffer of a role, for both kernel kinds.
const void *bufferFor(const HostArgs &host, ParamRole role,
                      const ArgShape &shape) {
  switch (role) {
  case ParamRole::Capture:
    return host.captures && shape.captureIndex < host.numCaptures
               ? host.captures[shape.captureIndex]
               : nullptr;
  case ParamRole::Query:
    return host.query;
  case ParamRole::Key:
    return host.key;
  case ParamRole::Value:
    return host.value;
  case ParamRole::Bias:
    return host.bias;
  case ParamRole::QSegmentIds:
    return host.qSegmentIds;
  case ParamRole::KvSegmentIds:
    return host.kvSegmentIds;
  case ParamRole::Output:
    return host.output;
  case ParamRole::Lse:
    return host.logsumexp;
  case ParamRole::Partials:
    return host.partials;
  case ParamRole::PartialLse:
    return host.partialLogsumexp;
  case ParamRole::KvNumBlocks:
    return host.kvNumBlocks;
  case ParamRole::KvIndices:
    return host.kvIndices;
  case ParamRole::FullKvNumBlocks:
    return host.fullKvNumBlocks;
  case ParamRole::FullKvIndices:
    return host.fullKvIndices;
  case ParamRole::KeyPages:
    return host.key;
  case ParamRole::ValuePages:
    return host.value;
  case ParamRole::PageTable:
    return host.pageTable;
  case ParamRole::KvLengths:
    return host.kvLengths;
  case ParamRole::CuSeqlensQ:
    return host.cuSeqlensQ;
  case ParamRole::CuSeqlensK:
    return host.cuSeqlensK;
  case ParamRole::Temporary: // the launcher's, not the caller's
    return nullptr;
  }
  return nullptr;
}

/// The error for a buffer the attention needs that the caller left null.
llvm::Error missingBuffer(ParamRole role) {
  return makeError(Twine("attn: the ") + roleName(role) +
                   " buffer is required by this attention but is null");
}

class HostKernelImpl final : public HostKernel {
public:
  using PackedEntry = void (*)(void **);

  HostKernelImpl(std::unique_ptr<ExecutionEngine> engine, PackedEntry entry,
                 int64_t *visitCounter,
                 SmallVector<std::pair<ParamRole, ArgShape>> args,
                 TileShape tileShape, bool sameLengths)
      : engine(std::move(engine)), entry(entry), visitCounter(visitCounter),
        args(std::move(args)), tileShape(tileShape),
        described(describeArguments(this->args)),
        fixedSizes(staticRunSizes(this->args)), sameLengths(sameLengths) {}

  TileShape tiles() const override { return tileShape; }
  const std::vector<KernelArgument> &arguments() const override {
    return described;
  }

  llvm::Error run(const HostArgs &host, int64_t *tileVisits) const override {
    if (tileVisits && !visitCounter)
      return makeError("attn: tile visits were requested but the kernel was "
                       "compiled without CompileOptions::countTileVisits");
    llvm::Expected<std::array<int64_t, kNumRunSizes>> sizes =
        runSizes(host, fixedSizes, sameLengths);
    if (!sizes)
      return sizes.takeError();
    SmallVector<Descriptor, 8> descriptors;
    for (const auto &[role, shape] : args) {
      if (role == ParamRole::Capture && shape.captureIndex >= host.numCaptures)
        return makeError("attn: the attention captures " +
                         Twine(shape.captureIndex + 1) +
                         " tensors or more but HostArgs::numCaptures is " +
                         Twine(host.numCaptures));
      const void *data = bufferFor(host, role, shape);
      if (!data)
        return missingBuffer(role);
      SmallVector<int64_t, 4> dims = dimsAt(role, shape, *sizes);
      if (role == ParamRole::CuSeqlensQ || role == ParamRole::CuSeqlensK) {
        RunSize tokens =
            role == ParamRole::CuSeqlensQ ? RunSize::SeqQ : RunSize::SeqKV;
        if (llvm::Error error = checkPackedOffsets(
                role, static_cast<const int32_t *>(data), dims[0] - 1,
                (*sizes)[static_cast<unsigned>(tokens)]))
          return error;
      }
      descriptors.push_back(describe(data, dims));
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
  SmallVector<std::pair<ParamRole, ArgShape>> args;
  TileShape tileShape;
  std::vector<KernelArgument> described;
  std::array<int64_t, kNumRunSizes> fixedSizes;
  bool sameLengths;
};

} // namespace

/// A contract parameter bound to the entry function's buffer of its role,
/// or to its temporary.
static llvm::Expected<LaunchParam>
bindParam(KernelParamAttr p, LaunchContractAttr contract,
          ArrayRef<std::pair<ParamRole, ArgShape>> roles) {
  LaunchParam param;
  if (p.isTemporary()) {
    TemporaryAttr t = contract.getTemporaries()[p.getIndex()];
    param.temp = static_cast<unsigned>(p.getIndex());
    param.shape.dims.assign(t.getShape().begin(), t.getShape().end());
    param.shape.elementBytes =
        (t.getElementType().getIntOrFloatBitWidth() + 7) / 8;
    return param;
  }
  ParamRole role = p.getRole();
  for (const auto &[r, shape] : roles)
    if (r == role &&
        (role != ParamRole::Capture ||
         shape.captureIndex == static_cast<unsigned>(p.getIndex()))) {
      param.role = r;
      param.shape = shape;
      return param;
    }
  return makeError("attn: a kernel takes " + p.getName() +
                   ", which the entry function does not have");
}

llvm::Expected<SmallVector<KernelLaunch>>
mlir::attn::jit::detail::resolveLaunches(
    LaunchContractAttr contract,
    ArrayRef<std::pair<ParamRole, ArgShape>> roles) {
  // The run-time sizes the grids are functions of.
  SmallVector<int64_t, 4> sizes(static_cast<size_t>(GridSymbol::Count), 0);
  for (const auto &[role, shape] : roles) {
    if (role == ParamRole::Query && shape.dims.size() == 4)
      llvm::copy(ArrayRef<int64_t>(shape.dims).take_front(3), sizes.begin());
    if (role == ParamRole::Key && shape.dims.size() == 4)
      sizes[3] = shape.dims[2];
  }
  SmallVector<KernelLaunch> launches;
  for (KernelLaunchAttr k : contract.getKernels()) {
    KernelLaunch launch;
    launch.info.kernelName = k.getName().str();
    SmallVector<int64_t, 3> grid = k.evaluateGrid(sizes);
    if (grid.size() != 3)
      return makeError("attn: the grid of kernel " + k.getName() +
                       " does not evaluate at the attention's sizes");
    for (int d = 0; d < 3; ++d) {
      launch.info.grid[d] = grid[d];
      launch.info.block[d] = k.getBlock()[d];
    }
    launch.info.dynamicSharedBytes = k.getSharedBytes();
    for (KernelParamAttr p : k.getParams()) {
      llvm::Expected<LaunchParam> param = bindParam(p, contract, roles);
      if (!param)
        return param.takeError();
      launch.params.push_back(*param);
    }
    launches.push_back(std::move(launch));
  }
  return launches;
}

/// The byte sizes of the contract's temporaries, in order.
SmallVector<int64_t>
mlir::attn::jit::detail::temporaryBytes(LaunchContractAttr contract) {
  SmallVector<int64_t> bytes;
  for (TemporaryAttr t : contract.getTemporaries())
    bytes.push_back(t.getBytes());
  return bytes;
}

llvm::Expected<std::unique_ptr<ExecutionEngine>>
mlir::attn::jit::detail::createEngine(ModuleOp module,
                                      llvm::StringRef llvmPipeline) {
  static std::once_flag targetInit;
  std::call_once(targetInit, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  // ExecutionEngine::create runs it before returning.
  std::function<llvm::Error(llvm::Module *)> optimize =
      [llvmPipeline](llvm::Module *m) {
        return runLLVMPipeline(*m, llvmPipeline, /*machine=*/nullptr);
      };
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = optimize;
  return ExecutionEngine::create(module, engineOptions);
}

namespace {

class EmulatedKernelImpl final : public EmulatedKernel {
public:
  EmulatedKernelImpl(std::unique_ptr<ExecutionEngine> engine,
                     SmallVector<KernelLaunch> launches,
                     SmallVector<int64_t> tempBytes, TileShape tileShape,
                     ArrayRef<std::pair<ParamRole, ArgShape>> roles)
      : engine(std::move(engine)), launches(std::move(launches)),
        tempBytes(std::move(tempBytes)), tileShape(tileShape),
        described(describeArguments(roles)), fixedSizes(staticRunSizes(roles)) {
    // What the driver would report of each kernel (cuFuncGetAttribute),
    // exported by the emulation rewrite.
    for (const KernelLaunch &launch : this->launches) {
      std::string symbol = emu::kernelAttributesSymbol(launch.info.kernelName);
      llvm::Expected<void *> address = this->engine->lookup(symbol);
      if (!address) {
        llvm::consumeError(address.takeError());
        attributesError = "attn: the emulated kernel '" +
                          launch.info.kernelName + "' has no " + symbol;
        break;
      }
      attributes.push_back(
          *static_cast<const emu::KernelAttributes *>(*address));
    }
  }

  const GpuLaunch &launch() const override { return launches.back().info; }
  TileShape tiles() const override { return tileShape; }
  const std::vector<KernelArgument> &arguments() const override {
    return described;
  }

  llvm::Error run(const HostArgs &host, emu::Counters *counters,
                  unsigned hostThreads) const override {
    if (auto sizes = runSizes(host, fixedSizes, false); !sizes)
      return sizes.takeError();
    // Temporaries start as garbage, as device allocations do.
    std::vector<std::vector<uint8_t>> temps;
    for (int64_t bytes : tempBytes)
      temps.emplace_back(static_cast<size_t>(bytes), 0xa5);
    if (!attributesError.empty())
      return makeError(attributesError);
    emu::Counters total;
    for (auto [launch, kernelAttributes] : llvm::zip(launches, attributes)) {
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
      // The driver's launch rules, for sm_80 (compileForEmulator takes no
      // chip; its limits are the stricter), and the opt-in the runtime
      // makes for more than 48 KiB of shared memory.
      config.chip = emu::Chip::SM80;
      config.maxThreadsPerBlock = static_cast<uint32_t>(
          std::min<uint64_t>(kernelAttributes.maxThreadsPerBlock, UINT32_MAX));
      config.staticSharedBytes =
          static_cast<size_t>(kernelAttributes.staticSharedBytes);
      emu::optInSharedMemory(config);
      config.hostThreads = hostThreads;
      // The lowered kernel takes each memref as its descriptor's fields.
      SmallVector<Descriptor, 8> descriptors;
      for (const LaunchParam &param : launch.params) {
        const void *data = param.temp
                               ? temps[*param.temp].data()
                               : bufferFor(host, param.role, param.shape);
        if (!data)
          return missingBuffer(param.role);
        descriptors.push_back(describe(data, param.shape.dims));
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
  TileShape tileShape;
  std::vector<KernelArgument> described;
  std::array<int64_t, kNumRunSizes> fixedSizes;
  /// Per launch, the kernel's attributes; or why they are missing.
  SmallVector<emu::KernelAttributes> attributes;
  std::string attributesError;
};

class GpuKernelImpl final : public GpuKernel {
public:
  GpuKernelImpl(std::string ptxText, SmallVector<KernelLaunch> launches,
                SmallVector<int64_t> tempBytes, int device, TileShape tileShape,
                ArrayRef<std::pair<ParamRole, ArgShape>> roles)
      : ptxText(std::move(ptxText)), launches(std::move(launches)),
        tempBytes(std::move(tempBytes)), device(device), tileShape(tileShape),
        described(describeArguments(roles)), fixedSizes(staticRunSizes(roles)) {
  }
  TileShape tiles() const override { return tileShape; }
  const std::vector<KernelArgument> &arguments() const override {
    return described;
  }
  ~GpuKernelImpl() override {
    for (const auto &entry : tempsByStream)
      for (uint64_t t : entry.second)
        attn_rt_free(t);
    if (module)
      attn_rt_module_unload(module);
  }

  const GpuLaunch &launch() const override { return launches.back().info; }
  const std::string &ptx() const override { return ptxText; }

  llvm::Error run(const HostArgs &args, void *stream) const override {
    if (auto sizes = runSizes(args, fixedSizes, false); !sizes)
      return sizes.takeError();
    SmallVector<uint64_t> temps;
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!module && attn_rt_module_load(device, ptxText.c_str(), &module))
        return makeError(attn_rt_last_error());
      llvm::Expected<SmallVector<uint64_t>> streamTemps =
          temporariesFor(stream);
      if (!streamTemps)
        return streamTemps.takeError();
      temps = std::move(*streamTemps);
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
          return missingBuffer(param.role);
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
    return llvm::Error::success();
  }

private:
  /// The temporaries (run-time tile tables) of launches on `stream`,
  /// allocated on the first launch there and kept until the kernel is
  /// destroyed: launches on one stream run in order, so they can share
  /// them without a synchronisation, while two streams never share a
  /// table one of them is still writing. Called with `mutex` held.
  llvm::Expected<SmallVector<uint64_t>> temporariesFor(void *stream) const {
    auto found = tempsByStream.find(stream);
    if (found != tempsByStream.end())
      return found->second;
    SmallVector<uint64_t> temps;
    for (int64_t bytes : tempBytes) {
      uint64_t ptr = 0;
      if (attn_rt_alloc(device, static_cast<size_t>(bytes), &ptr)) {
        std::string message = attn_rt_last_error();
        for (uint64_t t : temps)
          attn_rt_free(t);
        return makeError(message);
      }
      temps.push_back(ptr);
    }
    tempsByStream.emplace(stream, temps);
    return temps;
  }

  std::string ptxText;
  SmallVector<KernelLaunch> launches;
  SmallVector<int64_t> tempBytes;
  int device;
  TileShape tileShape;
  std::vector<KernelArgument> described;
  std::array<int64_t, kNumRunSizes> fixedSizes;
  mutable std::mutex mutex;
  mutable attn_rt_module *module = nullptr;
  mutable std::map<void *, SmallVector<uint64_t>> tempsByStream;
};

} // namespace

int64_t mlir::attn::jit::detail::runSizeExcess(ParamRole role) {
  return role == ParamRole::CuSeqlensQ || role == ParamRole::CuSeqlensK;
}

std::optional<RunSize>
mlir::attn::jit::detail::runSizeOf(ParamRole role, unsigned dim, bool packed) {
  // Packed [T, H(, D)]: the tokens of all sequences.
  if (packed)
    return dim != 0 ? std::nullopt
           : role == ParamRole::Key || role == ParamRole::Value
               ? std::optional(RunSize::SeqKV)
               : std::optional(RunSize::SeqQ);
  switch (role) {
  case ParamRole::Query:
  case ParamRole::Output:
  case ParamRole::Lse:
    return dim == 0   ? std::optional(RunSize::Batch)
           : dim == 2 ? std::optional(RunSize::SeqQ)
                      : std::nullopt;
  case ParamRole::Key:
  case ParamRole::Value:
    return dim == 0   ? std::optional(RunSize::Batch)
           : dim == 2 ? std::optional(RunSize::SeqKV)
                      : std::nullopt;
  case ParamRole::Bias: // [B, Hq, Sq, Skv]
    return dim == 0   ? std::optional(RunSize::Batch)
           : dim == 2 ? std::optional(RunSize::SeqQ)
           : dim == 3 ? std::optional(RunSize::SeqKV)
                      : std::nullopt;
  case ParamRole::QSegmentIds: // [B, Sq]
    return dim == 0 ? RunSize::Batch : RunSize::SeqQ;
  case ParamRole::Partials:   // [N, B, H, S, Dv]
  case ParamRole::PartialLse: // [N, B, H, S]
    return dim == 1   ? std::optional(RunSize::Batch)
           : dim == 3 ? std::optional(RunSize::SeqQ)
                      : std::nullopt;
  case ParamRole::KvSegmentIds:
    return dim == 0 ? RunSize::Batch : RunSize::SeqKV;
  case ParamRole::KvNumBlocks: // [B, Hq, Qb(, W)]: block counts stay static
  case ParamRole::KvIndices:
  case ParamRole::FullKvNumBlocks:
  case ParamRole::FullKvIndices:
  case ParamRole::PageTable:  // [B, max_pages]
  case ParamRole::KvLengths:  // [B]
  case ParamRole::CuSeqlensQ: // [B + 1]
  case ParamRole::CuSeqlensK:
    return dim == 0 ? std::optional(RunSize::Batch) : std::nullopt;
  case ParamRole::KeyPages: // [num_pages, page_size, Hkv, D]: static
  case ParamRole::ValuePages:
  case ParamRole::Capture:
  case ParamRole::Temporary:
    return std::nullopt;
  }
  return std::nullopt;
}

const char *mlir::attn::jit::detail::runSizeName(RunSize size) {
  switch (size) {
  case RunSize::Batch:
    return "batch";
  case RunSize::SeqQ:
    return "seqQ";
  case RunSize::SeqKV:
    return "seqKV";
  }
  return "?";
}

std::vector<KernelArgument> mlir::attn::jit::detail::describeArguments(
    ArrayRef<std::pair<ParamRole, ArgShape>> roles) {
  std::vector<KernelArgument> described;
  for (const auto &[role, shape] : roles) {
    KernelArgument arg;
    switch (role) {
    case ParamRole::Query:
      arg.role = KernelArgument::Role::Query;
      break;
    case ParamRole::Key:
      arg.role = KernelArgument::Role::Key;
      break;
    case ParamRole::Value:
      arg.role = KernelArgument::Role::Value;
      break;
    case ParamRole::Bias:
      arg.role = KernelArgument::Role::Bias;
      break;
    case ParamRole::QSegmentIds:
      arg.role = KernelArgument::Role::QSegmentIds;
      break;
    case ParamRole::KvSegmentIds:
      arg.role = KernelArgument::Role::KvSegmentIds;
      break;
    case ParamRole::Capture:
      arg.role = KernelArgument::Role::Capture;
      break;
    case ParamRole::Output:
      arg.role = KernelArgument::Role::Output;
      break;
    case ParamRole::Lse:
      arg.role = KernelArgument::Role::Logsumexp;
      break;
    case ParamRole::Partials:
      arg.role = KernelArgument::Role::Partials;
      break;
    case ParamRole::PartialLse:
      arg.role = KernelArgument::Role::PartialLogsumexp;
      break;
    case ParamRole::KvNumBlocks:
      arg.role = KernelArgument::Role::KvNumBlocks;
      break;
    case ParamRole::KvIndices:
      arg.role = KernelArgument::Role::KvIndices;
      break;
    case ParamRole::FullKvNumBlocks:
      arg.role = KernelArgument::Role::FullKvNumBlocks;
      break;
    case ParamRole::FullKvIndices:
      arg.role = KernelArgument::Role::FullKvIndices;
      break;
    case ParamRole::KeyPages:
      arg.role = KernelArgument::Role::KeyPages;
      break;
    case ParamRole::ValuePages:
      arg.role = KernelArgument::Role::ValuePages;
      break;
    case ParamRole::PageTable:
      arg.role = KernelArgument::Role::PageTable;
      break;
    case ParamRole::KvLengths:
      arg.role = KernelArgument::Role::KvLengths;
      break;
    case ParamRole::CuSeqlensQ:
      arg.role = KernelArgument::Role::CuSeqlensQ;
      break;
    case ParamRole::CuSeqlensK:
      arg.role = KernelArgument::Role::CuSeqlensK;
      break;
    case ParamRole::Temporary: // never an entry argument
      continue;
    }
    arg.name = roleName(role);
    arg.elementType = shape.elementType;
    arg.captureIndex = shape.captureIndex;
    for (auto [d, size] : llvm::enumerate(shape.dims)) {
      bool dynamic = ShapedType::isDynamic(size);
      arg.shape.push_back(dynamic ? KernelArgument::kDynamic : size);
      std::string name =
          dynamic ? runSizeName(*runSizeOf(role, d, shape.packed)) : "";
      if (dynamic && runSizeExcess(role))
        name += " + 1";
      arg.runSize.push_back(name);
    }
    described.push_back(std::move(arg));
  }
  return described;
}

const char *mlir::attn::jit::detail::roleName(ParamRole role) {
  switch (role) {
  case ParamRole::Query:
    return "query";
  case ParamRole::Key:
    return "key";
  case ParamRole::Value:
    return "value";
  case ParamRole::Bias:
    return "bias";
  case ParamRole::QSegmentIds:
    return "query segment ids";
  case ParamRole::KvSegmentIds:
    return "key/value segment ids";
  case ParamRole::Capture:
    return "captured tensor";
  case ParamRole::Output:
    return "output";
  case ParamRole::Lse:
    return "logsumexp";
  case ParamRole::Temporary:
    return "temporary";
  case ParamRole::Partials:
    return "partial outputs";
  case ParamRole::PartialLse:
    return "partial logsumexp";
  case ParamRole::KvNumBlocks:
    return "kv_num_blocks";
  case ParamRole::KvIndices:
    return "kv_indices";
  case ParamRole::FullKvNumBlocks:
    return "full_kv_num_blocks";
  case ParamRole::FullKvIndices:
    return "full_kv_indices";
  case ParamRole::KeyPages:
    return "key pages";
  case ParamRole::ValuePages:
    return "value pages";
  case ParamRole::PageTable:
    return "page table";
  case ParamRole::KvLengths:
    return "kv lengths";
  case ParamRole::CuSeqlensQ:
    return "cu_seqlens_q";
  case ParamRole::CuSeqlensK:
    return "cu_seqlens_k";
  }
  return "?";
}

std::shared_ptr<const HostKernel> mlir::attn::jit::detail::makeHostKernel(
    std::unique_ptr<ExecutionEngine> engine, void (*entry)(void **),
    int64_t *visitCounter, SmallVector<std::pair<ParamRole, ArgShape>> roles,
    TileShape tiles, bool sameLengths) {
  return std::make_shared<HostKernelImpl>(std::move(engine), entry,
                                          visitCounter, std::move(roles), tiles,
                                          sameLengths);
}

std::shared_ptr<const EmulatedKernel>
mlir::attn::jit::detail::makeEmulatedKernel(
    std::unique_ptr<ExecutionEngine> engine, SmallVector<KernelLaunch> launches,
    SmallVector<int64_t> tempBytes, TileShape tiles,
    ArrayRef<std::pair<ParamRole, ArgShape>> roles) {
  return std::make_shared<EmulatedKernelImpl>(
      std::move(engine), std::move(launches), std::move(tempBytes), tiles,
      roles);
}

std::shared_ptr<const GpuKernel> mlir::attn::jit::detail::makeGpuKernel(
    std::string ptx, SmallVector<KernelLaunch> launches,
    SmallVector<int64_t> tempBytes, int device, TileShape tiles,
    ArrayRef<std::pair<ParamRole, ArgShape>> roles) {
  return std::make_shared<GpuKernelImpl>(std::move(ptx), std::move(launches),
                                         std::move(tempBytes), device, tiles,
                                         roles);
}

TileShape mlir::attn::jit::detail::tilesOf(LaunchContractAttr contract) {
  return TileShape{contract.getTiles()[0], contract.getTiles()[1]};
}

HostKernel::~HostKernel() = default;
EmulatedKernel::~EmulatedKernel() = default;
GpuKernel::~GpuKernel() = default;
