//===- Runtime.cpp - Load attn's PTX and launch it on a CUDA GPU ---------===//
//
// The driver API is resolved with dlsym from libcuda.so.1 at first use:
// cuda.h provides the types and the versioned entry points' signatures,
// nothing is linked. All state is behind one mutex; errors are kept per
// thread.
//
//===----------------------------------------------------------------------===//

#include "attn/Runtime/Runtime.h"

#include <cuda.h>

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

/// The driver entry points attn uses, by their versioned symbol names.
struct Driver {
  void *handle = nullptr;
  decltype(&::cuInit) init = nullptr;
  decltype(&::cuDeviceGetCount) deviceGetCount = nullptr;
  decltype(&::cuDeviceGet) deviceGet = nullptr;
  decltype(&::cuDevicePrimaryCtxRetain) primaryCtxRetain = nullptr;
  decltype(&::cuCtxSetCurrent) ctxSetCurrent = nullptr;
  decltype(&::cuCtxGetCurrent) ctxGetCurrent = nullptr;
  decltype(&::cuModuleLoadDataEx) moduleLoadDataEx = nullptr;
  decltype(&::cuModuleUnload) moduleUnload = nullptr;
  decltype(&::cuModuleGetFunction) moduleGetFunction = nullptr;
  decltype(&::cuFuncSetAttribute) funcSetAttribute = nullptr;
  decltype(&::cuLaunchKernel) launchKernel = nullptr;
  decltype(&::cuStreamSynchronize) streamSynchronize = nullptr;
  decltype(&::cuMemAlloc_v2) memAlloc = nullptr;
  decltype(&::cuMemFree_v2) memFree = nullptr;
  decltype(&::cuMemcpyHtoD_v2) memcpyHtoD = nullptr;
  decltype(&::cuMemcpyDtoH_v2) memcpyDtoH = nullptr;
  decltype(&::cuGetErrorName) getErrorName = nullptr;
  decltype(&::cuGetErrorString) getErrorString = nullptr;
  std::vector<CUcontext> contexts; // primary contexts, per device
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
                  dlerror() +
                  "); a GPU run needs the NVIDIA driver installed");
  }
  bool ok = resolve(driver.init, "cuInit") &&
            resolve(driver.deviceGetCount, "cuDeviceGetCount") &&
            resolve(driver.deviceGet, "cuDeviceGet") &&
            resolve(driver.primaryCtxRetain, "cuDevicePrimaryCtxRetain") &&
            resolve(driver.ctxSetCurrent, "cuCtxSetCurrent") &&
            resolve(driver.ctxGetCurrent, "cuCtxGetCurrent") &&
            resolve(driver.moduleLoadDataEx, "cuModuleLoadDataEx") &&
            resolve(driver.moduleUnload, "cuModuleUnload") &&
            resolve(driver.moduleGetFunction, "cuModuleGetFunction") &&
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
  driver.contexts.assign(static_cast<size_t>(count), nullptr);
  driver.initialized = true;
  return 0;
}

/// Makes `device`'s primary context current on this thread.
int useDevice(int device) {
  if (initLocked())
    return -1;
  if (device < 0 || static_cast<size_t>(device) >= driver.contexts.size())
    return fail("attn runtime: no CUDA device " + std::to_string(device) +
                " (" + std::to_string(driver.contexts.size()) +
                " devices present)");
  CUcontext &ctx = driver.contexts[static_cast<size_t>(device)];
  if (!ctx) {
    CUdevice dev;
    if (CUresult r = driver.deviceGet(&dev, device))
      return driverError("cuDeviceGet", r);
    if (CUresult r = driver.primaryCtxRetain(&ctx, dev))
      return driverError("cuDevicePrimaryCtxRetain", r);
  }
  if (CUresult r = driver.ctxSetCurrent(ctx))
    return driverError("cuCtxSetCurrent", r);
  return 0;
}

/// Makes sure some context is current for calls that take device pointers
/// (the caller's, e.g. PyTorch's, or device 0's primary context).
int ensureContext() {
  if (initLocked())
    return -1;
  CUcontext current = nullptr;
  if (driver.ctxGetCurrent(&current) == CUDA_SUCCESS && current)
    return 0;
  return useDevice(0);
}

} // namespace

struct attn_rt_module {
  int device;
  CUmodule module;
  /// Kernels resolved by earlier launches, with the dynamic shared memory
  /// limit already raised for them: a launch after the first is one
  /// cuLaunchKernel.
  struct Function {
    CUfunction function;
    int64_t sharedLimit;
  };
  std::map<std::string, Function, std::less<>> functions;
};

extern "C" {

const char *attn_rt_last_error(void) { return lastError.c_str(); }

int attn_rt_init(void) {
  std::lock_guard<std::mutex> lock(mutex);
  return initLocked();
}

int attn_rt_device_count(int *count) {
  std::lock_guard<std::mutex> lock(mutex);
  *count = 0;
  if (initLocked())
    return -1;
  *count = static_cast<int>(driver.contexts.size());
  return 0;
}

int attn_rt_module_load(int device, const char *ptx, attn_rt_module **out) {
  if (!ptx || !out)
    return fail("attn runtime: attn_rt_module_load needs PTX text and an "
                "output pointer");
  std::lock_guard<std::mutex> lock(mutex);
  if (useDevice(device))
    return -1;
  char log[8192] = {0};
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {log, reinterpret_cast<void *>(sizeof(log))};
  CUmodule module;
  if (CUresult r =
          driver.moduleLoadDataEx(&module, ptx, 2, options, values))
    return driverError("cuModuleLoadDataEx", r,
                       std::string("PTX JIT log: ") + log);
  *out = new attn_rt_module{device, module, {}};
  return 0;
}

void attn_rt_module_unload(attn_rt_module *module) {
  if (!module)
    return;
  std::lock_guard<std::mutex> lock(mutex);
  if (driver.initialized && useDevice(module->device) == 0)
    driver.moduleUnload(module->module);
  delete module;
}

int attn_rt_launch(attn_rt_module *module, const char *kernel,
                   const int64_t grid[3], const int64_t block[3],
                   int64_t dynamic_shared_bytes, void *stream, void **params,
                   size_t num_params) {
  if (!module || !kernel)
    return fail("attn runtime: attn_rt_launch needs a module and a kernel "
                "name");
  for (int d = 0; d < 3; ++d)
    if (grid[d] <= 0 || block[d] <= 0 || grid[d] > 0x7fffffff ||
        block[d] > 1024)
      return fail("attn runtime: bad launch size for '" +
                  std::string(kernel) + "': grid (" + std::to_string(grid[0]) +
                  ", " + std::to_string(grid[1]) + ", " +
                  std::to_string(grid[2]) + "), block (" +
                  std::to_string(block[0]) + ", " + std::to_string(block[1]) +
                  ", " + std::to_string(block[2]) + ")");
  if (block[0] * block[1] * block[2] > 1024)
    return fail("attn runtime: a block of more than 1024 threads for '" +
                std::string(kernel) + "'");
  if (dynamic_shared_bytes < 0 || dynamic_shared_bytes > 227 * 1024)
    return fail("attn runtime: " + std::to_string(dynamic_shared_bytes) +
                " bytes of dynamic shared memory for '" + kernel +
                "' is outside [0, 227 KiB]");
  if (num_params && !params)
    return fail("attn runtime: parameters missing");
  std::lock_guard<std::mutex> lock(mutex);
  if (useDevice(module->device))
    return -1;
  auto cached = module->functions.find(std::string_view(kernel));
  if (cached == module->functions.end()) {
    CUfunction function;
    if (CUresult r =
            driver.moduleGetFunction(&function, module->module, kernel))
      return driverError("cuModuleGetFunction", r,
                         std::string("kernel '") + kernel + "'");
    cached = module->functions.emplace(kernel, attn_rt_module::Function{
                                                   function, 48 * 1024})
                 .first;
  }
  CUfunction function = cached->second.function;
  if (dynamic_shared_bytes > cached->second.sharedLimit) {
    if (CUresult r = driver.funcSetAttribute(
            function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
            static_cast<int>(dynamic_shared_bytes)))
      return driverError("cuFuncSetAttribute", r,
                         "raising the dynamic shared memory limit to " +
                             std::to_string(dynamic_shared_bytes) + " bytes");
    cached->second.sharedLimit = dynamic_shared_bytes;
  }
  if (CUresult r = driver.launchKernel(
          function, static_cast<unsigned>(grid[0]),
          static_cast<unsigned>(grid[1]), static_cast<unsigned>(grid[2]),
          static_cast<unsigned>(block[0]), static_cast<unsigned>(block[1]),
          static_cast<unsigned>(block[2]),
          static_cast<unsigned>(dynamic_shared_bytes),
          static_cast<CUstream>(stream), params, nullptr))
    return driverError("cuLaunchKernel", r,
                       std::string("kernel '") + kernel + "'");
  return 0;
}

int attn_rt_launch_memrefs(attn_rt_module *module, const char *kernel,
                           const int64_t grid[3], const int64_t block[3],
                           int64_t dynamic_shared_bytes, void *stream,
                           const attn_rt_tensor *tensors, size_t num_tensors) {
  // Storage for every field, then a pointer to each.
  std::vector<uint64_t> pointers;
  std::vector<int64_t> integers;
  for (size_t t = 0; t < num_tensors; ++t) {
    const attn_rt_tensor &tensor = tensors[t];
    if (tensor.rank < 0 || tensor.rank > 8)
      return fail("attn runtime: tensor " + std::to_string(t) + " has rank " +
                  std::to_string(tensor.rank));
    if (!tensor.device_pointer)
      return fail("attn runtime: tensor " + std::to_string(t) +
                  " has a null device pointer");
    pointers.push_back(tensor.device_pointer);
    pointers.push_back(tensor.device_pointer);
    integers.push_back(0); // offset
    for (int32_t d = 0; d < tensor.rank; ++d)
      integers.push_back(tensor.shape[d]);
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
  std::lock_guard<std::mutex> lock(mutex);
  if (useDevice(device))
    return -1;
  CUdeviceptr ptr;
  if (CUresult r = driver.memAlloc(&ptr, bytes))
    return driverError("cuMemAlloc", r, std::to_string(bytes) + " bytes");
  *device_pointer = ptr;
  return 0;
}

int attn_rt_free(uint64_t device_pointer) {
  std::lock_guard<std::mutex> lock(mutex);
  if (ensureContext())
    return -1;
  if (CUresult r = driver.memFree(device_pointer))
    return driverError("cuMemFree", r);
  return 0;
}

int attn_rt_copy_to_device(uint64_t device_pointer, const void *host,
                           size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex);
  if (ensureContext())
    return -1;
  if (CUresult r = driver.memcpyHtoD(device_pointer, host, bytes))
    return driverError("cuMemcpyHtoD", r);
  return 0;
}

int attn_rt_copy_to_host(void *host, uint64_t device_pointer, size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex);
  if (ensureContext())
    return -1;
  if (CUresult r = driver.memcpyDtoH(host, device_pointer, bytes))
    return driverError("cuMemcpyDtoH", r);
  return 0;
}

int attn_rt_synchronize(void *stream) {
  std::lock_guard<std::mutex> lock(mutex);
  if (ensureContext())
    return -1;
  if (CUresult r = driver.streamSynchronize(static_cast<CUstream>(stream)))
    return driverError("cuStreamSynchronize", r);
  return 0;
}

} // extern "C"
