//===- FakeCuda.cpp - A stand-in libcuda.so.1 for CI without a GPU --------===//
//
// Built as fake-cuda/libcuda.so.1 and found by the runtime's dlopen through
// LD_LIBRARY_PATH, it lets the tests walk attn's whole launch path on a
// machine with no GPU and no driver. It is strict where the real driver is
// strict and a kernel would otherwise fail only on a GPU: modules are
// assembled by the real ptxas (malformed PTX, unresolved externs and a
// .target above the chip fail as in the driver's JIT, with ptxas's log),
// each kernel's static shared memory and registers come from `ptxas -v`,
// and cuLaunchKernel applies the driver's launch rules (48 KiB of shared
// memory per block, static + dynamic, without the opt-in; the opt-in
// maximum; .maxntid; grid and block limits; a current context that owns
// the kernel; parameters present and pointers into device memory). It
// never runs a kernel. Device memory is host memory.
//
// The emulated chip is ATTN_FAKE_CUDA_CHIP (sm_80: A100's limits; sm_90,
// the default: H100's); ATTN_FAKE_CUDA_DEVICES sets the device count (0:
// cuInit fails with CUDA_ERROR_NO_DEVICE, as the driver does on a machine
// without a GPU); ATTN_FAKE_CUDA_PTXAS names ptxas (default: the one CMake
// found, else ptxas on PATH). Every refusal is also explained on stderr.
//
// This file holds the driver's entry points and state; the module side
// (PTX parsing, running ptxas, its -v report, the JIT logs) is Module.cpp,
// and the error names and descriptions are Errors.cpp.
//
//===----------------------------------------------------------------------===//

#include <cuda.h>

// cuda.h maps the unversioned name to _v2; the unversioned symbol exists
// in the real driver too (for binaries built against older headers).
#undef cuDevicePrimaryCtxRelease
extern "C" CUresult CUDAAPI cuDevicePrimaryCtxRelease(CUdevice dev);

#include "Module.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

using attn_fake_cuda::Entry;
using attn_fake_cuda::Param;

namespace {

/// The limits of the emulated chip.
struct Chip {
  const char *name;      // ATTN_FAKE_CUDA_CHIP
  const char *ptxasArch; // what the driver's JIT would compile for
  const char *product;
  int major, minor;
  int multiprocessors;
  int sharedPerBlockOptin;
  int sharedPerMultiprocessor;
};

// sm_90 assembles for sm_90a: an H100's driver loads `.target sm_90a` PTX,
// and sm_90a accepts every lower target.
const Chip kChips[] = {
    {"sm_80", "sm_80", "A100", 8, 0, 108, 163 * 1024, 164 * 1024},
    {"sm_90", "sm_90a", "H100", 9, 0, 132, 227 * 1024, 228 * 1024},
};

constexpr int kSharedPerBlock = 48 * 1024; // without opt-in
constexpr int kThreadsPerBlock = 1024;
constexpr int kBlockDim[3] = {1024, 1024, 64};
constexpr int kGridDim[3] = {0x7fffffff, 65535, 65535};
constexpr int kRegistersPerBlock = 64 * 1024;

void explain(const char *format, ...) {
  va_list args;
  va_start(args, format);
  std::fputs("fake-cuda: ", stderr);
  std::vfprintf(stderr, format, args);
  std::fputc('\n', stderr);
  va_end(args);
}

} // namespace

struct CUctx_st {
  int device;
  bool primary;
};

struct CUmod_st {
  CUcontext context;
  int ptxVersion;
  std::map<std::string, std::unique_ptr<CUfunc_st>> functions;
};

struct CUfunc_st {
  CUmod_st *module;
  std::string name;
  Entry entry;
  int maxDynamicShared; // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
  int threadsByNtid;    // .maxntid, or the device's limit
  int threadsByRegisters;
};

namespace {

struct State {
  std::mutex mutex;
  bool initialized = false;
  const Chip *chip = nullptr;
  int devices = 0;
  std::vector<std::unique_ptr<CUctx_st>> primaries;
  std::vector<int> primaryRefs;
  std::set<CUcontext> contexts; // every live context
  std::set<CUmodule> modules;
  std::set<CUfunction> functions;
  std::map<CUdeviceptr, size_t> allocations; // base -> bytes
  unsigned long long launches = 0;
};

// Never destroyed: a host may call the driver from static destructors.
State &state = *new State;
thread_local std::vector<CUcontext> contextStack;

CUcontext current() {
  return contextStack.empty() ? nullptr : contextStack.back();
}

bool validDevice(CUdevice dev) { return dev >= 0 && dev < state.devices; }

/// The allocation holding [pointer, pointer + bytes), or none.
bool inDeviceMemory(CUdeviceptr pointer, size_t bytes) {
  auto it = state.allocations.upper_bound(pointer);
  if (it == state.allocations.begin())
    return false;
  --it;
  return pointer - it->first <= it->second &&
         bytes <= it->second - (pointer - it->first);
}

} // namespace

//===----------------------------------------------------------------------===//
// The driver API
//===----------------------------------------------------------------------===//

#define FAKE_CUDA_API extern "C" __attribute__((visibility("default")))

#define REQUIRE_INIT()                                                         \
  std::lock_guard<std::mutex> lock(state.mutex);                               \
  if (!state.initialized)                                                      \
    return CUDA_ERROR_NOT_INITIALIZED;

FAKE_CUDA_API CUresult CUDAAPI cuInit(unsigned int flags) {
  std::lock_guard<std::mutex> lock(state.mutex);
  if (flags != 0)
    return CUDA_ERROR_INVALID_VALUE;
  if (state.initialized)
    return CUDA_SUCCESS;
  const char *chipName = std::getenv("ATTN_FAKE_CUDA_CHIP");
  if (!chipName || !*chipName)
    chipName = "sm_90";
  for (const Chip &chip : kChips)
    if (std::strcmp(chip.name, chipName) == 0)
      state.chip = &chip;
  if (!state.chip) {
    explain("ATTN_FAKE_CUDA_CHIP='%s' is neither sm_80 nor sm_90", chipName);
    return CUDA_ERROR_INVALID_VALUE;
  }
  int devices = 1;
  if (const char *count = std::getenv("ATTN_FAKE_CUDA_DEVICES"))
    devices = std::atoi(count);
  if (devices <= 0)
    return CUDA_ERROR_NO_DEVICE;
  state.devices = std::min(devices, 16);
  for (int d = 0; d < state.devices; ++d) {
    state.primaries.push_back(std::make_unique<CUctx_st>(CUctx_st{d, true}));
    state.contexts.insert(state.primaries.back().get());
  }
  state.primaryRefs.assign(static_cast<size_t>(state.devices), 0);
  state.initialized = true;
  return CUDA_SUCCESS;
}

FAKE_CUDA_API CUresult CUDAAPI cuDriverGetVersion(int *driverVersion) {
  if (!driverVersion)
    return CUDA_ERROR_INVALID_VALUE;
  *driverVersion = CUDA_VERSION;
  return CUDA_SUCCESS;
}

FAKE_CUDA_API CUresult CUDAAPI cuDeviceGetCount(int *count) {
  REQUIRE_INIT();
  if (!count)
    return CUDA_ERROR_INVALID_VALUE;
  *count = state.devices;
  return CUDA_SUCCESS;
}

FAKE_CUDA_API CUresult CUDAAPI cuDeviceGet(CUdevice *device, int ordinal) {
  REQUIRE_INIT();
  if (!device)
    return CUDA_ERROR_INVALID_VALUE;
  if (!validDevice(ordinal))
    return CUDA_ERROR_INVALID_DEVICE;
  *device = ordinal;
  return CUDA_SUCCESS;
}

FAKE_CUDA_API CUresult CUDAAPI cuDeviceGetName(char *name, int len,
                                               CUdevice dev) {
  REQUIRE_INIT();
  if (!name || len <= 0)
    return CUDA_ERROR_INVALID_VALUE;
  if (!validDevice(dev))
    return CUDA_ERROR_INVALID_DEVICE;
  std::snprintf(name, static_cast<size_t>(len),
                "attn fake-cuda (%s limits, %s)", state.chip->product,
                state.chip->name);
  return CUDA_SUCCESS;
}

FAKE_CUDA_API CUresult CUDAAPI cuDeviceGetAttribute(int *pi,
                                                    CUdevice_attribute attrib,
                                                    CUdevice dev) {
  REQUIRE_INIT();
  if (!pi)
    return CUDA_ERROR_INVALID_VALUE;
  if (!validDevice(dev))
    return CUDA_ERROR_INVALID_DEVICE;
  const Chip &chip = *state.chip;
  switch (attrib) {
  case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK:
    *pi = kThreadsPerBlock;
    break;
  case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X:
  case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y:
  case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z:
    *pi = kBlockDim[attrib - CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X];
    break;
  case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X:
  case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y:
  case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z:
    *pi = kGridDim[attrib - CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X];
    break;
  case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK:
    *pi = kSharedPerBlock;
    break;
  case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN:
    *pi = chip.sharedPerBlockOptin;
    break;
  case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR:
    *pi = chip.sharedPerMultiprocessor;
    break;
  case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT:
    *pi = chip.multiprocessors;
    break;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR:
    *pi = chip.major;
    break;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR:
    *pi = chip.minor;
    break;
  case CU_DEVICE_ATTRIBUTE_WARP_SIZE:
    *pi = 32;
    break;
  case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK:
  case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR:
    *pi = kRegistersPerBlock;
    break;
  case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR:
    *pi = 2048;
    break;
  case CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY:
    *pi = 64 * 1024;
    break;
  case CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING:
    *pi = 1;
    break;
  default:
    explain("cuDeviceGetAttribute: attribute %d is not modelled",
            static_cast<int>(attrib));
    return CUDA_ERROR_NOT_SUPPORTED;
  }
  return CUDA_SUCCESS;
}

FAKE_CUDA_API CUresult CUDAAPI cuDevicePrimaryCtxRetain(CUcontext *pctx,
                                                        CUdevice dev) {
  REQUIRE_INIT();
  if (!pctx)
    return CUDA_ERROR_INVALID_VALUE;
  if (!validDevice(dev))
    return CUDA_ERROR_INVALID_DEVICE;
  ++state.primaryRefs[static_cast<size_t>(dev)];
  *pctx = state.primaries[static_cast<size_t>(dev)].get();
  return CUDA_SUCCESS;
}

FAKE_CUDA_API CUresult CUDAAPI cuDevicePrimaryCtxRelease_v2(CUdevice dev) {
  REQUIRE_INIT();
  if (!validDevice(dev))
    return CUDA_ERROR_INVALID_DEVICE;
  int &refs = state.primaryRefs[static_cast<size_t>(dev)];
  if (refs == 0)
    return CUDA_ERROR_INVALID_CONTEXT;
  --refs; // the handle stays valid: the driver reuses it on the next retain
  return CUDA_SUCCESS;
}

FAKE_CUDA_API CUresult CUDAAPI cuDevicePrimaryCtxRelease(CUdevice dev) {
  return cuDevicePrimaryCtxRelease_v2(dev);
}

FAKE_CUDA_API CUresult CUDAAPI cuCtxCreate_v4(CUcontext *pctx,
                                              CUctxCreateParams *, unsigned int,
                                              CUdevice dev) {
  REQUIRE_INIT();
  if (!pctx)
    return CUDA_ERROR_INVALID_VALUE;
  if (!validDevice(dev))
    return CUDA_ERROR_INVALID_DEVICE;
  CUcontext ctx = new CUctx_st{dev, false};
  state.contexts.insert(ctx);
  contextStack.push_back(ctx); // a new context is made current
  *pctx = ctx;
  return CUDA_SUCCESS;
}

FAKE_CUDA_API CUresult CUDAAPI cuCtxDestroy_v2(CUcontext ctx) {
  REQUIRE_INIT();
  if (!state.contexts.count(ctx) || ctx->primary)
    return CUDA_ERROR_INVALID_CONTEXT;
  state.contexts.erase(ctx);
  // Only this thread's stack is visible here; it is all the tests use.
  for (auto it = contextStack.begin(); it != contextStack.end();)
    it = *it == ctx ? contextStack.erase(it) : it + 1;
  delete ctx;
  return CUDA_SUCCESS;
}

FAKE_CUDA_API CUresult CUDAAPI cuCtxGetCurrent(CUcontext *pctx) {
  REQUIRE_INIT();
  if (!pctx)
    return CUDA_ERROR_INVALID_VALUE;
  *pctx = current();
  return CUDA_SUCCESS;
}

FAKE_CUDA_API CUresult CUDAAPI cuCtxSetCurrent(CUcontext ctx) {
  REQUIRE_INIT();
  if (!ctx) {
    if (!contextStack.empty())
      contextStack.pop_back();
    return CUDA_SUCCESS;
  }
  if (!state.contexts.count(ctx))
    return CUDA_ERROR_INVALID_CONTEXT;
  if (contextStack.empty())
    contextStack.push_back(ctx);
  else
    contextStack.back() = ctx;
  return CUDA_SUCCESS;
}

FAKE_CUDA_API CUresult CUDAAPI cuCtxPushCurrent_v2(CUcontext ctx) {
  REQUIRE_INIT();
  if (!ctx || !state.contexts.count(ctx))
    return CUDA_ERROR_INVALID_CONTEXT;
  contextStack.push_back(ctx);
  return CUDA_SUCCESS;
}

FAKE_CUDA_API CUresult CUDAAPI cuCtxPopCurrent_v2(CUcontext *pctx) {
  REQUIRE_INIT();
  if (contextStack.empty())
    return CUDA_ERROR_INVALID_CONTEXT;
  if (pctx)
    *pctx = contextStack.back();
  contextStack.pop_back();
  return CUDA_SUCCESS;
}

FAKE_CUDA_API CUresult CUDAAPI cuCtxSynchronize(void) {
  REQUIRE_INIT();
  return current() ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
}

FAKE_CUDA_API CUresult CUDAAPI cuModuleLoadDataEx(CUmodule *module,
                                                  const void *image,
                                                  unsigned int numOptions,
                                                  CUjit_option *options,
                                                  void **optionValues) {
  REQUIRE_INIT();
  if (!module || !image || (numOptions && (!options || !optionValues)))
    return CUDA_ERROR_INVALID_VALUE;
  if (!current())
    return CUDA_ERROR_INVALID_CONTEXT;
  const char *text = static_cast<const char *>(image);
  if (std::strncmp(text,
                   "\x7f"
                   "ELF",
                   4) == 0) {
    // A cubin or fatbin: the stand-in can only check PTX.
    explain("cuModuleLoadDataEx: only PTX images are supported");
    return CUDA_ERROR_NOT_SUPPORTED;
  }
  std::string ptx(text);
  std::string log;
  // On failure, what the driver's JIT (ptxas inside the driver) reports:
  // CUDA_ERROR_INVALID_PTX with ptxas's messages in the error log, which
  // covers malformed PTX, an unresolved `.extern .func` and a `.target`
  // above the device ("SM version specified by .target is higher than
  // default SM version assumed"). The driver gives NO_BINARY_FOR_GPU only
  // for cubins and fatbins without a matching image, which this stand-in
  // does not load.
  CUresult result = attn_fake_cuda::assemble(ptx, state.chip->ptxasArch, log);
  if (result != CUDA_SUCCESS) {
    attn_fake_cuda::fillLog(log, numOptions, options, optionValues,
                            CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES);
    attn_fake_cuda::fillLog("", numOptions, options, optionValues,
                            CU_JIT_INFO_LOG_BUFFER,
                            CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES);
    return result;
  }
  attn_fake_cuda::fillLog("", numOptions, options, optionValues,
                          CU_JIT_ERROR_LOG_BUFFER,
                          CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES);
  attn_fake_cuda::fillLog(log, numOptions, options, optionValues,
                          CU_JIT_INFO_LOG_BUFFER,
                          CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES);
  auto loaded = std::make_unique<CUmod_st>();
  loaded->context = current();
  std::map<std::string, Entry> entries =
      attn_fake_cuda::parseEntries(ptx, loaded->ptxVersion);
  attn_fake_cuda::readPtxasInfo(log, entries);
  for (auto &[name, entry] : entries) {
    auto f = std::make_unique<CUfunc_st>();
    f->module = loaded.get();
    f->name = name;
    f->entry = entry;
    f->maxDynamicShared = std::max(0, kSharedPerBlock - entry.staticShared);
    f->threadsByNtid = entry.maxntid ? std::min(entry.maxntid, kThreadsPerBlock)
                                     : kThreadsPerBlock;
    // Registers are allocated per warp in units of 256 (8 per thread); a
    // block's warps share the 64K-register file.
    int perThread = (entry.registers + 7) / 8 * 8;
    f->threadsByRegisters =
        perThread ? std::min(kThreadsPerBlock,
                             kRegistersPerBlock / (perThread * 32) * 32)
                  : kThreadsPerBlock;
    state.functions.insert(f.get());
    loaded->functions[name] = std::move(f);
  }
  *module = loaded.release();
  state.modules.insert(*module);
  return CUDA_SUCCESS;
}

FAKE_CUDA_API CUresult CUDAAPI cuModuleLoadData(CUmodule *module,
                                                const void *image) {
  return cuModuleLoadDataEx(module, image, 0, nullptr, nullptr);
}

FAKE_CUDA_API CUresult CUDAAPI cuModuleUnload(CUmodule hmod) {
  REQUIRE_INIT();
  if (!state.modules.erase(hmod))
    return CUDA_ERROR_INVALID_HANDLE;
  for (auto &entry : hmod->functions)
    state.functions.erase(entry.second.get());
  delete hmod;
  return CUDA_SUCCESS;
}

FAKE_CUDA_API CUresult CUDAAPI cuModuleGetFunction(CUfunction *hfunc,
                                                   CUmodule hmod,
                                                   const char *name) {
  REQUIRE_INIT();
  if (!hfunc || !name)
    return CUDA_ERROR_INVALID_VALUE;
  if (!state.modules.count(hmod))
    return CUDA_ERROR_INVALID_HANDLE;
  auto it = hmod->functions.find(name);
  if (it == hmod->functions.end())
    return CUDA_ERROR_NOT_FOUND;
  *hfunc = it->second.get();
  return CUDA_SUCCESS;
}

FAKE_CUDA_API CUresult CUDAAPI cuFuncGetAttribute(int *pi,
                                                  CUfunction_attribute attrib,
                                                  CUfunction hfunc) {
  REQUIRE_INIT();
  if (!pi)
    return CUDA_ERROR_INVALID_VALUE;
  if (!state.functions.count(hfunc))
    return CUDA_ERROR_INVALID_HANDLE;
  const Entry &e = hfunc->entry;
  switch (attrib) {
  case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK:
    *pi = std::min(hfunc->threadsByNtid, hfunc->threadsByRegisters);
    break;
  case CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES:
    *pi = e.staticShared;
    break;
  case CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES:
    *pi = 0;
    break;
  case CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES:
    *pi = e.stackBytes;
    break;
  case CU_FUNC_ATTRIBUTE_NUM_REGS:
    *pi = e.registers;
    break;
  case CU_FUNC_ATTRIBUTE_PTX_VERSION:
    *pi = hfunc->module->ptxVersion;
    break;
  case CU_FUNC_ATTRIBUTE_BINARY_VERSION:
    *pi = state.chip->major * 10 + state.chip->minor;
    break;
  case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES:
    *pi = hfunc->maxDynamicShared;
    break;
  default:
    explain("cuFuncGetAttribute: attribute %d is not modelled",
            static_cast<int>(attrib));
    return CUDA_ERROR_NOT_SUPPORTED;
  }
  return CUDA_SUCCESS;
}

FAKE_CUDA_API CUresult CUDAAPI cuFuncSetAttribute(CUfunction hfunc,
                                                  CUfunction_attribute attrib,
                                                  int value) {
  REQUIRE_INIT();
  if (!state.functions.count(hfunc))
    return CUDA_ERROR_INVALID_HANDLE;
  switch (attrib) {
  case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES:
    if (value < 0 || hfunc->entry.staticShared + static_cast<long long>(value) >
                         state.chip->sharedPerBlockOptin) {
      explain("cuFuncSetAttribute('%s'): %d static + %d dynamic bytes of "
              "shared memory exceed the device's %d per block",
              hfunc->name.c_str(), hfunc->entry.staticShared, value,
              state.chip->sharedPerBlockOptin);
      return CUDA_ERROR_INVALID_VALUE;
    }
    hfunc->maxDynamicShared = value;
    return CUDA_SUCCESS;
  case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT:
    return value >= -1 && value <= 100 ? CUDA_SUCCESS
                                       : CUDA_ERROR_INVALID_VALUE;
  default:
    explain("cuFuncSetAttribute: attribute %d is not modelled",
            static_cast<int>(attrib));
    return CUDA_ERROR_NOT_SUPPORTED;
  }
}

FAKE_CUDA_API CUresult CUDAAPI cuLaunchKernel(
    CUfunction f, unsigned int gridDimX, unsigned int gridDimY,
    unsigned int gridDimZ, unsigned int blockDimX, unsigned int blockDimY,
    unsigned int blockDimZ, unsigned int sharedMemBytes, CUstream hStream,
    void **kernelParams, void **extra) {
  REQUIRE_INIT();
  CUcontext ctx = current();
  if (!ctx)
    return CUDA_ERROR_INVALID_CONTEXT;
  if (!state.functions.count(f))
    return CUDA_ERROR_INVALID_HANDLE;
  const char *name = f->name.c_str();
  // A kernel belongs to the context its module was loaded into; the
  // driver refuses it from any other.
  if (f->module->context != ctx) {
    explain("cuLaunchKernel('%s'): the current context is not the one the "
            "module was loaded into",
            name);
    return CUDA_ERROR_INVALID_CONTEXT;
  }
  if (hStream && hStream != CU_STREAM_LEGACY && hStream != CU_STREAM_PER_THREAD)
    return CUDA_ERROR_INVALID_HANDLE; // the stand-in has no other streams
  const unsigned grid[3] = {gridDimX, gridDimY, gridDimZ};
  const unsigned block[3] = {blockDimX, blockDimY, blockDimZ};
  for (int d = 0; d < 3; ++d) {
    if (grid[d] == 0 || grid[d] > static_cast<unsigned>(kGridDim[d]) ||
        block[d] == 0 || block[d] > static_cast<unsigned>(kBlockDim[d])) {
      explain("cuLaunchKernel('%s'): grid (%u, %u, %u) or block (%u, %u, %u) "
              "is outside the device's limits",
              name, grid[0], grid[1], grid[2], block[0], block[1], block[2]);
      return CUDA_ERROR_INVALID_VALUE;
    }
  }
  unsigned long long threads = 1ull * blockDimX * blockDimY * blockDimZ;
  if (threads > static_cast<unsigned long long>(f->threadsByNtid) ||
      (f->entry.reqntid &&
       threads != static_cast<unsigned long long>(f->entry.maxntid))) {
    explain("cuLaunchKernel('%s'): %llu threads per block; its .maxntid, "
            ".reqntid or the device allows %d",
            name, threads, f->threadsByNtid);
    return CUDA_ERROR_INVALID_VALUE;
  }
  if (threads > static_cast<unsigned long long>(f->threadsByRegisters)) {
    explain("cuLaunchKernel('%s'): %llu threads of %d registers exceed the "
            "block's %d registers",
            name, threads, f->entry.registers, kRegistersPerBlock);
    return CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES;
  }
  // The rule attn's D=128 kernels meet: without cuFuncSetAttribute the
  // limit is 48 KiB - static, so 48 KiB dynamic + 1 byte static fails.
  if (sharedMemBytes > static_cast<unsigned>(f->maxDynamicShared)) {
    explain("cuLaunchKernel('%s'): %d static + %u dynamic bytes of shared "
            "memory; its MAX_DYNAMIC_SHARED_SIZE_BYTES is %d%s",
            name, f->entry.staticShared, sharedMemBytes, f->maxDynamicShared,
            f->maxDynamicShared + f->entry.staticShared <= kSharedPerBlock
                ? " (no opt-in)"
                : "");
    return CUDA_ERROR_INVALID_VALUE;
  }
  const std::vector<Param> &params = f->entry.params;
  if (extra) {
    explain("cuLaunchKernel('%s'): the stand-in reads kernelParams, not extra",
            name);
    return kernelParams ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_NOT_SUPPORTED;
  }
  if (!params.empty() && !kernelParams) {
    explain("cuLaunchKernel('%s'): %zu parameters but no kernelParams", name,
            params.size());
    return CUDA_ERROR_INVALID_VALUE;
  }
  for (size_t i = 0; i < params.size(); ++i) {
    if (!kernelParams[i]) {
      explain("cuLaunchKernel('%s'): parameter %zu is a null pointer", name, i);
      return CUDA_ERROR_INVALID_VALUE;
    }
    if (!params[i].pointer || params[i].bytes != sizeof(CUdeviceptr))
      continue;
    CUdeviceptr value;
    std::memcpy(&value, kernelParams[i], sizeof(value));
    // On a GPU this is a fault when the kernel dereferences it, reported
    // by a later synchronize; the stand-in says so at the launch.
    if (!inDeviceMemory(value, 0)) {
      explain("cuLaunchKernel('%s'): pointer parameter %zu (0x%llx) is not "
              "in device memory",
              name, i, static_cast<unsigned long long>(value));
      return CUDA_ERROR_ILLEGAL_ADDRESS;
    }
  }
  ++state.launches;
  return CUDA_SUCCESS;
}

FAKE_CUDA_API CUresult CUDAAPI cuStreamSynchronize(CUstream hStream) {
  REQUIRE_INIT();
  if (hStream && hStream != CU_STREAM_LEGACY && hStream != CU_STREAM_PER_THREAD)
    return CUDA_ERROR_INVALID_HANDLE;
  return current() ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
}

FAKE_CUDA_API CUresult CUDAAPI cuMemAlloc_v2(CUdeviceptr *dptr,
                                             size_t bytesize) {
  REQUIRE_INIT();
  if (!current())
    return CUDA_ERROR_INVALID_CONTEXT;
  if (!dptr || bytesize == 0)
    return CUDA_ERROR_INVALID_VALUE;
  // The driver's allocations are 256-byte aligned.
  size_t rounded = (bytesize + 255) / 256 * 256;
  void *memory = std::aligned_alloc(256, rounded);
  if (!memory)
    return CUDA_ERROR_OUT_OF_MEMORY;
  *dptr = reinterpret_cast<CUdeviceptr>(memory);
  state.allocations[*dptr] = bytesize;
  return CUDA_SUCCESS;
}

FAKE_CUDA_API CUresult CUDAAPI cuMemFree_v2(CUdeviceptr dptr) {
  REQUIRE_INIT();
  if (!current())
    return CUDA_ERROR_INVALID_CONTEXT;
  if (!dptr)
    return CUDA_SUCCESS;
  auto it = state.allocations.find(dptr);
  if (it == state.allocations.end()) {
    explain("cuMemFree: 0x%llx is not an allocation's base",
            static_cast<unsigned long long>(dptr));
    return CUDA_ERROR_INVALID_VALUE;
  }
  std::free(reinterpret_cast<void *>(dptr));
  state.allocations.erase(it);
  return CUDA_SUCCESS;
}

namespace {
CUresult checkRange(const char *call, CUdeviceptr pointer, size_t bytes) {
  if (inDeviceMemory(pointer, bytes))
    return CUDA_SUCCESS;
  explain("%s: [0x%llx, +%zu) is not in device memory", call,
          static_cast<unsigned long long>(pointer), bytes);
  return CUDA_ERROR_INVALID_VALUE;
}
} // namespace

FAKE_CUDA_API CUresult CUDAAPI cuMemcpyHtoD_v2(CUdeviceptr dstDevice,
                                               const void *srcHost,
                                               size_t ByteCount) {
  REQUIRE_INIT();
  if (!current())
    return CUDA_ERROR_INVALID_CONTEXT;
  if (ByteCount == 0)
    return CUDA_SUCCESS;
  if (!srcHost)
    return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = checkRange("cuMemcpyHtoD", dstDevice, ByteCount))
    return r;
  std::memcpy(reinterpret_cast<void *>(dstDevice), srcHost, ByteCount);
  return CUDA_SUCCESS;
}

FAKE_CUDA_API CUresult CUDAAPI cuMemcpyDtoH_v2(void *dstHost,
                                               CUdeviceptr srcDevice,
                                               size_t ByteCount) {
  REQUIRE_INIT();
  if (!current())
    return CUDA_ERROR_INVALID_CONTEXT;
  if (ByteCount == 0)
    return CUDA_SUCCESS;
  if (!dstHost)
    return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = checkRange("cuMemcpyDtoH", srcDevice, ByteCount))
    return r;
  std::memcpy(dstHost, reinterpret_cast<const void *>(srcDevice), ByteCount);
  return CUDA_SUCCESS;
}

FAKE_CUDA_API CUresult CUDAAPI cuMemsetD8_v2(CUdeviceptr dstDevice,
                                             unsigned char uc, size_t N) {
  REQUIRE_INIT();
  if (!current())
    return CUDA_ERROR_INVALID_CONTEXT;
  if (N == 0)
    return CUDA_SUCCESS;
  if (CUresult r = checkRange("cuMemsetD8", dstDevice, N))
    return r;
  std::memset(reinterpret_cast<void *>(dstDevice), uc, N);
  return CUDA_SUCCESS;
}

/// Not a driver entry point: how many launches the stand-in accepted, for
/// tests (found with dlsym, so a real driver simply lacks it).
FAKE_CUDA_API unsigned long long attnFakeCudaLaunchCount(void) {
  std::lock_guard<std::mutex> lock(state.mutex);
  return state.launches;
}
