//===- Runtime.cpp - Load attn's PTX and launch it on a CUDA GPU ---------===//
//
// The driver API is resolved with dlsym from libcuda.so.1 at first use:
// cuda.h provides the types and the versioned entry points' signatures,
// nothing is linked. All state is behind one mutex; errors are kept per
// thread. The launch rules the driver applies (shared memory with and
// without opt-in, threads, grid) are applied here first, from limits the
// driver reports, so a refused launch says which number is too large
// instead of the driver's bare CUDA_ERROR_INVALID_VALUE.
//
//===----------------------------------------------------------------------===//

#include "attn/Runtime/Runtime.h"

#include <cuda.h>

#include <climits>
#include <dlfcn.h>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace {

thread_local std::string lastError;

int fail(std::string message) {
  lastError = std::move(message);
  return -1;
}

/// Shared memory a block gets without opting in (cuFuncSetAttribute), on
/// every chip attn targets.
constexpr int64_t kDefaultSharedPerBlock = 48 * 1024;

/// The limits a launch is checked against, read once per device.
struct DeviceLimits {
  int sharedPerBlockOptin = 0;
  int threadsPerBlock = 0;
  int blockDim[3] = {0, 0, 0};
  int gridDim[3] = {0, 0, 0};
};

struct Device {
  CUcontext primary = nullptr; // retained on first use, for the process
  DeviceLimits limits;
};

/// The driver entry points attn uses, by their versioned symbol names.
struct Driver {
  void *handle = nullptr;
  decltype(&::cuInit) init = nullptr;
  decltype(&::cuDeviceGetCount) deviceGetCount = nullptr;
  decltype(&::cuDeviceGet) deviceGet = nullptr;
  decltype(&::cuDeviceGetAttribute) deviceGetAttribute = nullptr;
  decltype(&::cuDevicePrimaryCtxRetain) primaryCtxRetain = nullptr;
  decltype(&::cuCtxGetCurrent) ctxGetCurrent = nullptr;
  decltype(&::cuCtxPushCurrent_v2) ctxPushCurrent = nullptr;
  decltype(&::cuCtxPopCurrent_v2) ctxPopCurrent = nullptr;
  decltype(&::cuModuleLoadDataEx) moduleLoadDataEx = nullptr;
  decltype(&::cuModuleUnload) moduleUnload = nullptr;
  decltype(&::cuModuleGetFunction) moduleGetFunction = nullptr;
  decltype(&::cuFuncGetAttribute) funcGetAttribute = nullptr;
  decltype(&::cuFuncSetAttribute) funcSetAttribute = nullptr;
  decltype(&::cuLaunchKernel) launchKernel = nullptr;
  decltype(&::cuStreamSynchronize) streamSynchronize = nullptr;
  decltype(&::cuMemAlloc_v2) memAlloc = nullptr;
  decltype(&::cuMemFree_v2) memFree = nullptr;
  decltype(&::cuMemcpyHtoD_v2) memcpyHtoD = nullptr;
  decltype(&::cuMemcpyDtoH_v2) memcpyDtoH = nullptr;
  decltype(&::cuGetErrorName) getErrorName = nullptr;
  decltype(&::cuGetErrorString) getErrorString = nullptr;
  std::vector<Device> devices;
  bool initialized = false;
};

std::mutex mutex;
Driver driver;

template <typename Fn> bool resolve(Fn &fn, const char *name) {
  fn = reinterpret_cast<Fn>(dlsym(driver.handle, name));
  return fn != nullptr;
}

/// "cuX failed: CUDA_ERROR_Y (description)".
int driverError(const char *call, CUresult result, std::string detail = "") {
  const char *name = nullptr, *text = nullptr;
  if (driver.getErrorName)
    driver.getErrorName(result, &name);
  if (driver.getErrorString)
    driver.getErrorString(result, &text);
  std::string message = std::string("attn runtime: ") + call + " failed: " +
                        (name ? name : "CUDA error " + std::to_string(result));
  if (text)
    message += std::string(" (") + text + ")";
  if (!detail.empty())
    message += "\n" + detail;
  return fail(message);
}

int initLocked() {
  if (driver.initialized)
    return 0;
  if (!driver.handle) {
    driver.handle = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!driver.handle)
      return fail(std::string("attn runtime: no CUDA driver: cannot open "
                              "libcuda.so.1 (") +
                  dlerror() + "); a GPU run needs the NVIDIA driver installed");
  }
  bool ok = resolve(driver.init, "cuInit") &&
            resolve(driver.deviceGetCount, "cuDeviceGetCount") &&
            resolve(driver.deviceGet, "cuDeviceGet") &&
            resolve(driver.deviceGetAttribute, "cuDeviceGetAttribute") &&
            resolve(driver.primaryCtxRetain, "cuDevicePrimaryCtxRetain") &&
            resolve(driver.ctxGetCurrent, "cuCtxGetCurrent") &&
            resolve(driver.ctxPushCurrent, "cuCtxPushCurrent_v2") &&
            resolve(driver.ctxPopCurrent, "cuCtxPopCurrent_v2") &&
            resolve(driver.moduleLoadDataEx, "cuModuleLoadDataEx") &&
            resolve(driver.moduleUnload, "cuModuleUnload") &&
            resolve(driver.moduleGetFunction, "cuModuleGetFunction") &&
            resolve(driver.funcGetAttribute, "cuFuncGetAttribute") &&
            resolve(driver.funcSetAttribute, "cuFuncSetAttribute") &&
            resolve(driver.launchKernel, "cuLaunchKernel") &&
            resolve(driver.streamSynchronize, "cuStreamSynchronize") &&
            resolve(driver.memAlloc, "cuMemAlloc_v2") &&
            resolve(driver.memFree, "cuMemFree_v2") &&
            resolve(driver.memcpyHtoD, "cuMemcpyHtoD_v2") &&
            resolve(driver.memcpyDtoH, "cuMemcpyDtoH_v2") &&
            resolve(driver.getErrorName, "cuGetErrorName") &&
            resolve(driver.getErrorString, "cuGetErrorString");
  if (!ok)
    return fail("attn runtime: libcuda.so.1 lacks a driver entry point attn "
                "needs (driver too old?)");
  if (CUresult r = driver.init(0))
    return driverError("cuInit", r);
  int count = 0;
  if (CUresult r = driver.deviceGetCount(&count))
    return driverError("cuDeviceGetCount", r);
  driver.devices.assign(static_cast<size_t>(count), Device());
  driver.initialized = true;
  return 0;
}

int queryLimits(CUdevice dev, DeviceLimits &limits) {
  struct Query {
    CUdevice_attribute attribute;
    const char *name;
    int *value;
  } queries[] = {
      {CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
       "MAX_SHARED_MEMORY_PER_BLOCK_OPTIN", &limits.sharedPerBlockOptin},
      {CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, "MAX_THREADS_PER_BLOCK",
       &limits.threadsPerBlock},
      {CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X, "MAX_BLOCK_DIM_X",
       &limits.blockDim[0]},
      {CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y, "MAX_BLOCK_DIM_Y",
       &limits.blockDim[1]},
      {CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z, "MAX_BLOCK_DIM_Z",
       &limits.blockDim[2]},
      {CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X, "MAX_GRID_DIM_X",
       &limits.gridDim[0]},
      {CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y, "MAX_GRID_DIM_Y",
       &limits.gridDim[1]},
      {CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z, "MAX_GRID_DIM_Z",
       &limits.gridDim[2]},
  };
  for (const Query &q : queries)
    if (CUresult r = driver.deviceGetAttribute(q.value, q.attribute, dev))
      return driverError("cuDeviceGetAttribute", r,
                         std::string("CU_DEVICE_ATTRIBUTE_") + q.name);
  return 0;
}

/// `device`'s state, its primary context retained and its limits read on
/// first use.
int openDevice(int device, Device *&out) {
  if (initLocked())
    return -1;
  if (device < 0 || static_cast<size_t>(device) >= driver.devices.size())
    return fail("attn runtime: no CUDA device " + std::to_string(device) +
                " (" + std::to_string(driver.devices.size()) +
                " devices present)");
  Device &state = driver.devices[static_cast<size_t>(device)];
  if (!state.primary) {
    CUdevice dev;
    if (CUresult r = driver.deviceGet(&dev, device))
      return driverError("cuDeviceGet", r);
    DeviceLimits limits;
    if (queryLimits(dev, limits))
      return -1;
    CUcontext primary;
    if (CUresult r = driver.primaryCtxRetain(&primary, dev))
      return driverError("cuDevicePrimaryCtxRetain", r);
    state.limits = limits;
    state.primary = primary;
  }
  out = &state;
  return 0;
}

/// Makes a context current for one entry point and restores the caller's
/// afterwards: pushes on enter, pops on leaving the scope. Pushing rather
/// than cuCtxSetCurrent leaves a host's own context (and its context
/// stack) as it was.
class ContextScope {
public:
  ContextScope() = default;
  ContextScope(const ContextScope &) = delete;
  ContextScope &operator=(const ContextScope &) = delete;
  ~ContextScope() {
    // A pop can only fail if the caller popped our context from under us
    // (another thread cannot: the stack is per thread); there is no one
    // to report it to.
    if (pushed) {
      CUcontext popped;
      driver.ctxPopCurrent(&popped);
    }
  }

  /// Makes `device`'s primary context current.
  int enter(int device, Device *&state) {
    if (openDevice(device, state))
      return -1;
    if (CUresult r = driver.ctxPushCurrent(state->primary))
      return driverError("cuCtxPushCurrent", r,
                         "the primary context of device " +
                             std::to_string(device));
    pushed = true;
    return 0;
  }

  /// Keeps the caller's current context, or makes device 0's primary
  /// context current when there is none: for calls that take only device
  /// pointers, which (with unified addressing) any context can use.
  int enterCurrentOrDefault() {
    if (initLocked())
      return -1;
    CUcontext current = nullptr;
    if (driver.ctxGetCurrent(&current) == CUDA_SUCCESS && current)
      return 0;
    Device *state;
    return enter(0, state);
  }

private:
  bool pushed = false;
};

std::string dims(const int64_t d[3]) {
  return "(" + std::to_string(d[0]) + ", " + std::to_string(d[1]) + ", " +
         std::to_string(d[2]) + ")";
}

} // namespace

struct attn_rt_module {
  int device;
  CUmodule module;
  /// Kernels resolved by earlier calls, with what the driver said about
  /// them and the dynamic shared memory limit already raised: a launch
  /// after the first is one cuLaunchKernel.
  struct Function {
    CUfunction function;
    int staticShared;
    int maxThreads;
    int numRegs;
    int64_t dynamicLimit; // raised with cuFuncSetAttribute; 0: not raised
  };
  std::map<std::string, Function, std::less<>> functions;
};

namespace {

/// `kernel` of `module`, its attributes queried on first resolution. The
/// module's context must be current.
int resolveFunction(attn_rt_module *module, const char *kernel,
                    attn_rt_module::Function *&out) {
  auto cached = module->functions.find(std::string_view(kernel));
  if (cached == module->functions.end()) {
    attn_rt_module::Function f{};
    if (CUresult r =
            driver.moduleGetFunction(&f.function, module->module, kernel))
      return driverError("cuModuleGetFunction", r,
                         std::string("kernel '") + kernel + "'");
    struct Query {
      CUfunction_attribute attribute;
      const char *name;
      int *value;
    } queries[] = {
        {CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, "SHARED_SIZE_BYTES",
         &f.staticShared},
        {CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, "MAX_THREADS_PER_BLOCK",
         &f.maxThreads},
        {CU_FUNC_ATTRIBUTE_NUM_REGS, "NUM_REGS", &f.numRegs},
    };
    for (const Query &q : queries)
      if (CUresult r =
              driver.funcGetAttribute(q.value, q.attribute, f.function))
        return driverError("cuFuncGetAttribute", r,
                           std::string("CU_FUNC_ATTRIBUTE_") + q.name +
                               " of kernel '" + kernel + "'");
    cached = module->functions.emplace(kernel, f).first;
  }
  out = &cached->second;
  return 0;
}

/// The driver's launch rules, with the numbers in the message.
int checkLaunch(const char *kernel, const attn_rt_module::Function &f,
                const DeviceLimits &limits, const int64_t grid[3],
                const int64_t block[3], int64_t dynamicShared) {
  std::string name = std::string("kernel '") + kernel + "'";
  int64_t shared = f.staticShared + dynamicShared;
  if (shared > limits.sharedPerBlockOptin)
    return fail("attn runtime: " + name + " needs " +
                std::to_string(f.staticShared) + " static + " +
                std::to_string(dynamicShared) +
                " dynamic bytes of shared memory; the device allows at most " +
                std::to_string(limits.sharedPerBlockOptin) + " per block");
  static const char axis[] = "xyz";
  for (int d = 0; d < 3; ++d) {
    if (block[d] > limits.blockDim[d])
      return fail("attn runtime: " + name + " is launched with block " +
                  dims(block) + "; the device allows at most " +
                  std::to_string(limits.blockDim[d]) + " threads in " +
                  axis[d]);
    if (grid[d] > limits.gridDim[d])
      return fail("attn runtime: " + name + " is launched with grid " +
                  dims(grid) + "; the device allows at most " +
                  std::to_string(limits.gridDim[d]) + " blocks in " + axis[d]);
  }
  int64_t threads = block[0] * block[1] * block[2];
  if (threads > f.maxThreads)
    return fail("attn runtime: " + name + " is launched with " +
                std::to_string(threads) + " threads per block " + dims(block) +
                "; it allows at most " + std::to_string(f.maxThreads) +
                " (its .maxntid, or fewer for its " +
                std::to_string(f.numRegs) + " registers per thread)");
  if (threads > limits.threadsPerBlock)
    return fail("attn runtime: " + name + " is launched with " +
                std::to_string(threads) + " threads per block " + dims(block) +
                "; the device allows at most " +
                std::to_string(limits.threadsPerBlock));
  return 0;
}

} // namespace

extern "C" {

const char *attn_rt_last_error(void) { return lastError.c_str(); }

int attn_rt_init(void) {
  std::lock_guard<std::mutex> lock(mutex);
  return initLocked();
}

int attn_rt_device_count(int *count) {
  if (!count)
    return fail("attn runtime: attn_rt_device_count needs an output pointer");
  std::lock_guard<std::mutex> lock(mutex);
  *count = 0;
  if (initLocked())
    return -1;
  *count = static_cast<int>(driver.devices.size());
  return 0;
}

int attn_rt_module_load(int device, const char *ptx, attn_rt_module **out) {
  if (!ptx || !out)
    return fail("attn runtime: attn_rt_module_load needs PTX text and an "
                "output pointer");
  std::lock_guard<std::mutex> lock(mutex);
  ContextScope scope;
  Device *state;
  if (scope.enter(device, state))
    return -1;
  char log[8192] = {0};
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {log, reinterpret_cast<void *>(sizeof(log))};
  CUmodule module;
  if (CUresult r = driver.moduleLoadDataEx(&module, ptx, 2, options, values))
    return driverError("cuModuleLoadDataEx", r,
                       std::string("PTX JIT log: ") + log);
  *out = new attn_rt_module{device, module, {}};
  return 0;
}

void attn_rt_module_unload(attn_rt_module *module) {
  if (!module)
    return;
  std::lock_guard<std::mutex> lock(mutex);
  ContextScope scope;
  Device *state;
  if (driver.initialized && scope.enter(module->device, state) == 0)
    driver.moduleUnload(module->module);
  delete module;
}

int attn_rt_function_info_get(attn_rt_module *module, const char *kernel,
                              attn_rt_function_info *info) {
  if (!module || !kernel || !info)
    return fail("attn runtime: attn_rt_function_info_get needs a module, a "
                "kernel name and an output pointer");
  std::lock_guard<std::mutex> lock(mutex);
  ContextScope scope;
  Device *state;
  attn_rt_module::Function *f;
  if (scope.enter(module->device, state) || resolveFunction(module, kernel, f))
    return -1;
  info->static_shared_bytes = f->staticShared;
  info->max_threads_per_block = f->maxThreads;
  info->num_registers = f->numRegs;
  info->max_dynamic_shared_bytes = static_cast<int32_t>(
      f->dynamicLimit ? f->dynamicLimit
                      : kDefaultSharedPerBlock - f->staticShared);
  return 0;
}

int attn_rt_launch(attn_rt_module *module, const char *kernel,
                   const int64_t grid[3], const int64_t block[3],
                   int64_t dynamic_shared_bytes, void *stream, void **params,
                   size_t num_params) {
  if (!module || !kernel)
    return fail("attn runtime: attn_rt_launch needs a module and a kernel "
                "name");
  if (!grid || !block)
    return fail("attn runtime: attn_rt_launch of '" + std::string(kernel) +
                "' needs a grid and a block");
  // Sizes no CUDA device accepts, refused before the driver is opened.
  for (int d = 0; d < 3; ++d)
    if (grid[d] <= 0 || block[d] <= 0 || grid[d] > 0x7fffffff ||
        block[d] > 1024)
      return fail("attn runtime: bad launch size for '" + std::string(kernel) +
                  "': grid " + dims(grid) + ", block " + dims(block));
  if (block[0] * block[1] * block[2] > 1024)
    return fail("attn runtime: a block of more than 1024 threads for '" +
                std::string(kernel) + "'");
  if (dynamic_shared_bytes < 0 || dynamic_shared_bytes > INT_MAX)
    return fail("attn runtime: " + std::to_string(dynamic_shared_bytes) +
                " bytes of dynamic shared memory for '" + kernel +
                "' is not a size");
  if (num_params && !params)
    return fail("attn runtime: parameters missing for '" + std::string(kernel) +
                "'");
  std::lock_guard<std::mutex> lock(mutex);
  ContextScope scope;
  Device *state;
  attn_rt_module::Function *f;
  if (scope.enter(module->device, state) || resolveFunction(module, kernel, f))
    return -1;
  if (checkLaunch(kernel, *f, state->limits, grid, block, dynamic_shared_bytes))
    return -1;
  // Without the opt-in the driver refuses a block whose static + dynamic
  // shared memory exceeds 48 KiB, even by the static part alone.
  if (f->staticShared + dynamic_shared_bytes > kDefaultSharedPerBlock &&
      f->dynamicLimit < dynamic_shared_bytes) {
    if (CUresult r = driver.funcSetAttribute(
            f->function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
            static_cast<int>(dynamic_shared_bytes)))
      return driverError("cuFuncSetAttribute", r,
                         "raising the dynamic shared memory limit of kernel '" +
                             std::string(kernel) + "' to " +
                             std::to_string(dynamic_shared_bytes) + " bytes (" +
                             std::to_string(f->staticShared) + " static)");
    f->dynamicLimit = dynamic_shared_bytes;
  }
  if (CUresult r = driver.launchKernel(
          f->function, static_cast<unsigned>(grid[0]),
          static_cast<unsigned>(grid[1]), static_cast<unsigned>(grid[2]),
          static_cast<unsigned>(block[0]), static_cast<unsigned>(block[1]),
          static_cast<unsigned>(block[2]),
          static_cast<unsigned>(dynamic_shared_bytes),
          static_cast<CUstream>(stream), params, nullptr))
    return driverError("cuLaunchKernel", r,
                       std::string("kernel '") + kernel + "', grid " +
                           dims(grid) + ", block " + dims(block) + ", " +
                           std::to_string(f->staticShared) + " static + " +
                           std::to_string(dynamic_shared_bytes) +
                           " dynamic bytes of shared memory");
  return 0;
}

int attn_rt_launch_memrefs(attn_rt_module *module, const char *kernel,
                           const int64_t grid[3], const int64_t block[3],
                           int64_t dynamic_shared_bytes, void *stream,
                           const attn_rt_tensor *tensors, size_t num_tensors) {
  if (num_tensors && !tensors)
    return fail("attn runtime: attn_rt_launch_memrefs needs its tensors");
  // Storage for every field, then a pointer to each.
  std::vector<uint64_t> pointers;
  std::vector<int64_t> integers;
  for (size_t t = 0; t < num_tensors; ++t) {
    const attn_rt_tensor &tensor = tensors[t];
    if (tensor.rank < 0 || tensor.rank > 8)
      return fail("attn runtime: tensor " + std::to_string(t) + " has rank " +
                  std::to_string(tensor.rank) + "; ranks 0 to 8 are supported");
    for (int32_t d = 0; d < tensor.rank; ++d)
      if (tensor.shape[d] < 0)
        return fail("attn runtime: tensor " + std::to_string(t) + " has size " +
                    std::to_string(tensor.shape[d]) + " in dimension " +
                    std::to_string(d) + "; sizes must be >= 0");
    if (!tensor.device_pointer)
      return fail("attn runtime: tensor " + std::to_string(t) +
                  " has a null device pointer");
    pointers.push_back(tensor.device_pointer);
    pointers.push_back(tensor.device_pointer);
    integers.push_back(0); // offset
    for (int32_t d = 0; d < tensor.rank; ++d)
      integers.push_back(tensor.shape[d]);
    // Contiguous row-major: the header's contract for these tensors.
    int64_t stride = 1;
    std::vector<int64_t> strides(static_cast<size_t>(tensor.rank));
    for (int32_t d = tensor.rank - 1; d >= 0; --d) {
      strides[static_cast<size_t>(d)] = stride;
      stride *= tensor.shape[d];
    }
    integers.insert(integers.end(), strides.begin(), strides.end());
  }
  std::vector<void *> params;
  size_t p = 0, i = 0;
  for (size_t t = 0; t < num_tensors; ++t) {
    params.push_back(&pointers[p++]);
    params.push_back(&pointers[p++]);
    for (int32_t k = 0; k < 1 + 2 * tensors[t].rank; ++k)
      params.push_back(&integers[i++]);
  }
  return attn_rt_launch(module, kernel, grid, block, dynamic_shared_bytes,
                        stream, params.data(), params.size());
}

int attn_rt_alloc(int device, size_t bytes, uint64_t *device_pointer) {
  if (!device_pointer)
    return fail("attn runtime: attn_rt_alloc needs an output pointer");
  std::lock_guard<std::mutex> lock(mutex);
  ContextScope scope;
  Device *state;
  if (scope.enter(device, state))
    return -1;
  CUdeviceptr ptr;
  if (CUresult r = driver.memAlloc(&ptr, bytes))
    return driverError("cuMemAlloc", r,
                       std::to_string(bytes) + " bytes on device " +
                           std::to_string(device));
  *device_pointer = ptr;
  return 0;
}

int attn_rt_free(uint64_t device_pointer) {
  std::lock_guard<std::mutex> lock(mutex);
  ContextScope scope;
  if (scope.enterCurrentOrDefault())
    return -1;
  if (CUresult r = driver.memFree(device_pointer))
    return driverError("cuMemFree", r);
  return 0;
}

int attn_rt_copy_to_device(uint64_t device_pointer, const void *host,
                           size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex);
  ContextScope scope;
  if (scope.enterCurrentOrDefault())
    return -1;
  if (CUresult r = driver.memcpyHtoD(device_pointer, host, bytes))
    return driverError("cuMemcpyHtoD", r, std::to_string(bytes) + " bytes");
  return 0;
}

int attn_rt_copy_to_host(void *host, uint64_t device_pointer, size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex);
  ContextScope scope;
  if (scope.enterCurrentOrDefault())
    return -1;
  if (CUresult r = driver.memcpyDtoH(host, device_pointer, bytes))
    return driverError("cuMemcpyDtoH", r, std::to_string(bytes) + " bytes");
  return 0;
}

int attn_rt_synchronize(void *stream) {
  std::lock_guard<std::mutex> lock(mutex);
  if (stream) {
    // A stream knows its context; any current one will do for the call.
    ContextScope scope;
    if (scope.enterCurrentOrDefault())
      return -1;
    if (CUresult r = driver.streamSynchronize(static_cast<CUstream>(stream)))
      return driverError("cuStreamSynchronize", r);
    return 0;
  }
  // The null stream is per context: attn launched on the primary
  // contexts' null streams, not on the caller's current context's.
  if (initLocked())
    return -1;
  for (size_t d = 0; d < driver.devices.size(); ++d) {
    if (!driver.devices[d].primary)
      continue;
    ContextScope scope;
    Device *state;
    if (scope.enter(static_cast<int>(d), state))
      return -1;
    if (CUresult r = driver.streamSynchronize(nullptr))
      return driverError("cuStreamSynchronize", r,
                         "the null stream of device " + std::to_string(d));
  }
  return 0;
}

} // extern "C"
