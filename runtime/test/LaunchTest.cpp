//===- LaunchTest.cpp - attn's CUDA runtime: the launch path, end to end --===//
//
// Plain C++ (no test framework), like RuntimeTest.cpp. It runs against a
// driver: in CI the stand-in fake-cuda/libcuda.so.1 (LD_LIBRARY_PATH), on
// a GPU machine the real one. It proves the runtime's launch rules on a
// hand-written kernel shaped like attn's D=128 kernels (1 byte of static
// shared memory, .maxntid 128): 48 KiB dynamic + 1 static launches
// through the runtime while the same launch straight through the driver
// API, without the opt-in, is refused; too many threads, too large a grid,
// too much shared memory and PTX with an unresolved extern are refused
// with messages naming the kernel and the numbers; a context the caller
// pushed is still current after every runtime call. Each PTX file on the
// command line is then loaded and every kernel of its launch contract
// (X.json beside X.ptx, as attn-ptx writes it) launched with tensors
// allocated from the driver. Exits 77 (ctest: skipped) when the stand-in
// has no ptxas to assemble with.
//
//===----------------------------------------------------------------------===//

#include "Json.h"

#include "attn/Runtime/Runtime.h"

#include <cuda.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

int failures = 0;

void expect(bool ok, const std::string &what) {
  if (!ok) {
    std::fprintf(stderr, "FAIL: %s\n  last error: %s\n", what.c_str(),
                 attn_rt_last_error());
    ++failures;
  } else {
    std::printf("ok: %s\n", what.c_str());
  }
}

bool errorContains(const std::string &text) {
  return std::strstr(attn_rt_last_error(), text.c_str()) != nullptr;
}

/// The driver, opened beside the runtime (dlopen returns the same
/// library), for what the test does behind the runtime's back.
struct RawDriver {
  decltype(&::cuDeviceGetAttribute) deviceGetAttribute = nullptr;
  decltype(&::cuCtxGetCurrent) ctxGetCurrent = nullptr;
  decltype(&::cuCtxCreate_v4) ctxCreate = nullptr;
  // Drivers before CUDA 12.5 have only cuCtxCreate_v2.
  CUresult(CUDAAPI *ctxCreateV2)(CUcontext *, unsigned, CUdevice) = nullptr;
  decltype(&::cuCtxDestroy_v2) ctxDestroy = nullptr;
  decltype(&::cuCtxPushCurrent_v2) ctxPushCurrent = nullptr;
  decltype(&::cuCtxPopCurrent_v2) ctxPopCurrent = nullptr;
  decltype(&::cuDevicePrimaryCtxRetain) primaryCtxRetain = nullptr;
  decltype(&::cuDevicePrimaryCtxRelease_v2) primaryCtxRelease = nullptr;
  decltype(&::cuModuleLoadDataEx) moduleLoadDataEx = nullptr;
  decltype(&::cuModuleUnload) moduleUnload = nullptr;
  decltype(&::cuModuleGetFunction) moduleGetFunction = nullptr;
  decltype(&::cuFuncSetAttribute) funcSetAttribute = nullptr;
  decltype(&::cuLaunchKernel) launchKernel = nullptr;
  // The stand-in's own export; absent from a real driver.
  unsigned long long (*launchCount)() = nullptr;
};

template <typename Fn> bool resolve(void *handle, Fn &fn, const char *name) {
  fn = reinterpret_cast<Fn>(dlsym(handle, name));
  return fn != nullptr;
}

bool openRawDriver(RawDriver &d) {
  void *handle = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return false;
  resolve(handle, d.launchCount, "attnFakeCudaLaunchCount");
  if (!resolve(handle, d.ctxCreate, "cuCtxCreate_v4") &&
      !resolve(handle, d.ctxCreateV2, "cuCtxCreate_v2"))
    return false;
  return resolve(handle, d.deviceGetAttribute, "cuDeviceGetAttribute") &&
         resolve(handle, d.ctxGetCurrent, "cuCtxGetCurrent") &&
         resolve(handle, d.ctxDestroy, "cuCtxDestroy_v2") &&
         resolve(handle, d.ctxPushCurrent, "cuCtxPushCurrent_v2") &&
         resolve(handle, d.ctxPopCurrent, "cuCtxPopCurrent_v2") &&
         resolve(handle, d.primaryCtxRetain, "cuDevicePrimaryCtxRetain") &&
         resolve(handle, d.primaryCtxRelease, "cuDevicePrimaryCtxRelease_v2") &&
         resolve(handle, d.moduleLoadDataEx, "cuModuleLoadDataEx") &&
         resolve(handle, d.moduleUnload, "cuModuleUnload") &&
         resolve(handle, d.moduleGetFunction, "cuModuleGetFunction") &&
         resolve(handle, d.funcSetAttribute, "cuFuncSetAttribute") &&
         resolve(handle, d.launchKernel, "cuLaunchKernel");
}

RawDriver raw;

CUcontext currentContext() {
  CUcontext ctx = nullptr;
  raw.ctxGetCurrent(&ctx);
  return ctx;
}

// A D=128 kernel's launch shape: one memref parameter (rank 1), .maxntid
// 128, and one byte of static shared memory that ptxas keeps because the
// kernel stores to it.
const char *kKernelPtx = R"(
.version 8.0
.target sm_80
.address_size 64

.shared .align 1 .b8 attn_static_byte[1];

.visible .entry attn_test_kernel(
	.param .u64 .ptr .global .align 1 attn_test_kernel_param_0,
	.param .u64 .ptr .global .align 1 attn_test_kernel_param_1,
	.param .u64 attn_test_kernel_param_2,
	.param .u64 attn_test_kernel_param_3,
	.param .u64 attn_test_kernel_param_4
)
.maxntid 128, 1, 1
{
	.reg .b16 %rs<2>;
	.reg .b32 %r<2>;
	mov.u32 %r1, %tid.x;
	cvt.u16.u32 %rs1, %r1;
	st.shared.u8 [attn_static_byte], %rs1;
	ret;
}
)";

// What attn's softcap lowering once emitted: a libdevice call that nothing
// links, which the driver's JIT refuses.
const char *kUnresolvedPtx = R"(
.version 8.0
.target sm_80
.address_size 64

.extern .func (.param .b32 func_retval0) __nv_tanhf(.param .b32 x);

.visible .entry uses_tanh(.param .u64 .ptr .align 4 out)
{
	.reg .b32 %f<3>;
	.reg .b64 %rd<2>;
	ld.param.u64 %rd1, [out];
	mov.b32 %f1, 0f3F000000;
	{
	.param .b32 param0;
	st.param.b32 [param0], %f1;
	.param .b32 retval0;
	call.uni (retval0), __nv_tanhf, (param0);
	ld.param.b32 %f2, [retval0];
	}
	st.global.f32 [%rd1], %f2;
	ret;
}
)";

const char *kSm90Ptx = R"(
.version 8.0
.target sm_90
.address_size 64

.visible .entry sm90_kernel()
{
	ret;
}
)";

//===----------------------------------------------------------------------===//
// The launch contract
//===----------------------------------------------------------------------===//

using attn_test::Json;
using attn_test::JsonReader;

bool readFile(const std::string &path, std::string &out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::stringstream text;
  text << in.rdbuf();
  out = text.str();
  return true;
}

bool ints(const Json *array, std::vector<long long> &out) {
  if (!array || array->kind != Json::Array)
    return false;
  for (const Json &v : array->items) {
    if (v.kind != Json::Number)
      return false;
    out.push_back(v.number);
  }
  return true;
}

long long elementBytes(const std::string &dtype) {
  static const std::map<std::string, long long> bytes = {
      {"f64", 8}, {"f32", 4}, {"f16", 2}, {"bf16", 2}, {"i64", 8},
      {"i32", 4}, {"i16", 2}, {"i8", 1},  {"i1", 1}};
  auto it = bytes.find(dtype);
  return it == bytes.end() ? 0 : it->second;
}

/// A device buffer for one tensor of the contract.
struct Buffer {
  attn_rt_tensor tensor{};
  long long bytes = 0;
};

bool makeBuffer(const std::vector<long long> &shape, long long bytesPerElement,
                long long bytes, Buffer &out, std::string &why) {
  if (shape.size() > 8) {
    why = "rank " + std::to_string(shape.size());
    return false;
  }
  long long elements = 1;
  out.tensor.rank = static_cast<int32_t>(shape.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0) {
      why = "dynamic size in dimension " + std::to_string(d) +
            " (the test launches static shapes only)";
      return false;
    }
    out.tensor.shape[d] = shape[d];
    elements *= shape[d];
  }
  out.bytes = bytes >= 0 ? bytes : elements * bytesPerElement;
  uint64_t pointer = 0;
  // The driver refuses empty allocations; an empty tensor gets one byte.
  if (attn_rt_alloc(0, static_cast<size_t>(out.bytes > 0 ? out.bytes : 1),
                    &pointer)) {
    why = attn_rt_last_error();
    return false;
  }
  out.tensor.device_pointer = pointer;
  return true;
}

/// Reads `ptxPath` and the contract beside it (X.json for X.ptx); `base`
/// gets the path without ".ptx".
bool readContract(const std::string &ptxPath, std::string &base,
                  std::string &ptx, Json &contract) {
  base = ptxPath;
  if (base.size() > 4 && base.compare(base.size() - 4, 4, ".ptx") == 0)
    base.resize(base.size() - 4);
  std::string jsonText;
  return readFile(ptxPath, ptx) && readFile(base + ".json", jsonText) &&
         JsonReader(jsonText).read(contract) && contract.kind == Json::Object;
}

/// Allocates a buffer for each entry of the contract's list `key`, named
/// `prefix` and its index ("arg0", "result1").
bool allocateTensors(const Json &contract, const char *key, const char *prefix,
                     std::map<std::string, Buffer> &buffers, std::string &why) {
  const Json *list = contract.get(key);
  if (!list || list->kind != Json::Array)
    return false;
  for (size_t i = 0; i < list->items.size(); ++i) {
    const Json &t = list->items[i];
    const Json *dtype = t.get("dtype");
    std::vector<long long> shape;
    long long bytes = dtype ? elementBytes(dtype->string) : 0;
    if (!ints(t.get("shape"), shape) || !bytes) {
      why = std::string(prefix) + std::to_string(i) + ": no shape or dtype";
      return false;
    }
    std::string name = prefix + std::to_string(i);
    if (!makeBuffer(shape, bytes, -1, buffers[name], why)) {
      why = name + ": " + why;
      return false;
    }
  }
  return true;
}

/// Allocates the contract's temporaries ("temp0", ...): temp_bytes[i]
/// bytes of shape temp_shapes[i].
bool allocateTemporaries(const Json &contract,
                         std::map<std::string, Buffer> &buffers,
                         std::string &why) {
  std::vector<long long> tempBytes;
  const Json *tempShapes = contract.get("temp_shapes");
  if (!ints(contract.get("temp_bytes"), tempBytes) || !tempShapes ||
      tempShapes->items.size() != tempBytes.size()) {
    why = "temp_bytes and temp_shapes missing or of different lengths";
    return false;
  }
  for (size_t i = 0; i < tempBytes.size(); ++i) {
    std::vector<long long> shape;
    std::string name = "temp" + std::to_string(i);
    if (!ints(&tempShapes->items[i], shape) ||
        !makeBuffer(shape, 1, tempBytes[i], buffers[name], why)) {
      why = name + ": " + why;
      return false;
    }
  }
  return true;
}

/// Launches each kernel of the contract in order with the buffers its
/// params name; returns how many launched.
size_t launchKernels(attn_rt_module *module, const Json &contract,
                     const std::map<std::string, Buffer> &buffers,
                     const std::string &ptxPath, const std::string &base) {
  const Json *kernels = contract.get("kernels");
  size_t launched = 0;
  for (size_t k = 0; kernels && k < kernels->items.size(); ++k) {
    const Json &kernel = kernels->items[k];
    const Json *name = kernel.get("name");
    const Json *shared = kernel.get("dynamic_shared_bytes");
    const Json *params = kernel.get("params");
    std::vector<long long> grid, block;
    if (!name || !shared || !params || !ints(kernel.get("grid"), grid) ||
        !ints(kernel.get("block"), block) || grid.size() != 3 ||
        block.size() != 3) {
      expect(false, "kernel " + std::to_string(k) + " of " + base +
                        ".json has a name, grid, block, shared memory and "
                        "params");
      continue;
    }
    std::vector<attn_rt_tensor> tensors;
    std::string missing;
    for (const Json &p : params->items) {
      auto it = buffers.find(p.string);
      if (it == buffers.end())
        missing += " " + p.string;
      else
        tensors.push_back(it->second.tensor);
    }
    int64_t g[3] = {grid[0], grid[1], grid[2]};
    int64_t b[3] = {block[0], block[1], block[2]};
    bool launchedOk = missing.empty() &&
                      attn_rt_launch_memrefs(
                          module, name->string.c_str(), g, b, shared->number,
                          nullptr, tensors.data(), tensors.size()) == 0;
    launched += launchedOk;
    expect(launchedOk,
           "launches " + name->string + " of " + ptxPath + " (" +
               std::to_string(shared->number) + " dynamic shared bytes)" +
               (missing.empty() ? "" : "; unknown params:" + missing));
  }
  return launched;
}

/// Loads `ptxPath`, allocates every tensor and temporary of the contract
/// beside it and launches each kernel in order.
void launchContract(const std::string &ptxPath) {
  std::string base, ptx;
  Json contract;
  if (!readContract(ptxPath, base, ptx, contract)) {
    expect(false, "reads " + ptxPath + " and its contract " + base + ".json");
    return;
  }
  attn_rt_module *module = nullptr;
  if (attn_rt_module_load(0, ptx.c_str(), &module)) {
    expect(false, "loads " + ptxPath);
    return;
  }
  std::map<std::string, Buffer> buffers;
  std::string why;
  bool ok = allocateTensors(contract, "arguments", "arg", buffers, why) &&
            allocateTensors(contract, "results", "result", buffers, why) &&
            allocateTemporaries(contract, buffers, why);
  expect(ok, "allocates the tensors of " + base + ".json" +
                 (why.empty() ? "" : ": " + why));
  unsigned long long launchesBefore = raw.launchCount ? raw.launchCount() : 0;
  size_t launched =
      ok ? launchKernels(module, contract, buffers, ptxPath, base) : 0;
  expect(attn_rt_synchronize(nullptr) == 0, "synchronizes after " + ptxPath);
  if (raw.launchCount)
    expect(raw.launchCount() - launchesBefore == launched,
           "the stand-in saw each of the contract's launches");
  for (auto &[name, buffer] : buffers)
    if (buffer.tensor.device_pointer)
      expect(attn_rt_free(buffer.tensor.device_pointer) == 0, "frees " + name);
  attn_rt_module_unload(module);
}

//===----------------------------------------------------------------------===//
// The launch rules on the hand-written kernel
//===----------------------------------------------------------------------===//

const int64_t kSingleBlock[3] = {1, 1, 1};
const int64_t kBlock128[3] = {128, 1, 1};
const int64_t kBlock256[3] = {256, 1, 1};
/// What attn's D=128 kernels ask for: all of the 48 KiB without opt-in as
/// dynamic memory, on top of their static byte.
constexpr int64_t kD128Shared = 48 * 1024;

/// Opens the driver beside the runtime and initializes the runtime; prints
/// device 0's chip and opt-in maximum. Returns 0, or the exit status.
int startUp(int &optin, int &major) {
  if (!openRawDriver(raw)) {
    std::fprintf(stderr,
                 "FAIL: no usable libcuda.so.1 (%s); run with "
                 "LD_LIBRARY_PATH=<build>/fake-cuda for the stand-in\n",
                 dlerror());
    return 1;
  }
  if (attn_rt_init() != 0) {
    std::fprintf(stderr, "FAIL: %s\n", attn_rt_last_error());
    return 1;
  }
  raw.deviceGetAttribute(
      &optin, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, 0);
  raw.deviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                         0);
  std::printf("device 0: sm_%d0, %d bytes of shared memory per block with "
              "opt-in%s\n",
              major, optin, raw.launchCount ? " (the stand-in driver)" : "");
  return 0;
}

/// Loads kKernelPtx through the runtime. Returns 0, or the exit status (77
/// when the stand-in has no ptxas).
int loadTestKernel(attn_rt_module *&module) {
  if (attn_rt_module_load(0, kKernelPtx, &module) != 0 &&
      errorContains("CUDA_ERROR_JIT_COMPILER_NOT_FOUND")) {
    std::printf("SKIP: the stand-in driver has no ptxas to assemble PTX "
                "with:\n%s\n",
                attn_rt_last_error());
    return 77;
  }
  expect(module != nullptr, "loads a kernel with 1 byte of static shared "
                            "memory and .maxntid 128");
  if (!module)
    return 1;
  expect(currentContext() == nullptr,
         "no context is left current by the runtime on a thread that had "
         "none");
  return 0;
}

void checkFunctionInfo(attn_rt_module *module) {
  attn_rt_function_info info{};
  bool gotInfo =
      attn_rt_function_info_get(module, "attn_test_kernel", &info) == 0;
  expect(gotInfo && info.static_shared_bytes == 1 &&
             info.max_threads_per_block == 128 &&
             info.max_dynamic_shared_bytes == 48 * 1024 - 1,
         "the driver reports 1 static shared byte, 128 threads and 48 KiB - 1 "
         "of dynamic shared memory (got " +
             std::to_string(info.static_shared_bytes) + ", " +
             std::to_string(info.max_threads_per_block) + ", " +
             std::to_string(info.max_dynamic_shared_bytes) + ")");
}

/// The launches of checkDriverOptIn on the kernel the driver loaded.
void checkDriverLaunches(CUfunction function, uint64_t data, int optin) {
  uint64_t pointers[2] = {data, data};
  int64_t integers[3] = {0, 64, 1};
  void *params[] = {&pointers[0], &pointers[1], &integers[0], &integers[1],
                    &integers[2]};
  CUresult without = raw.launchKernel(function, 1, 1, 1, 128, 1, 1, kD128Shared,
                                      nullptr, params, nullptr);
  expect(without == CUDA_ERROR_INVALID_VALUE,
         "the driver refuses 1 static + 49152 dynamic bytes without the "
         "opt-in (CUresult " +
             std::to_string(without) + ")");
  CUresult set = raw.funcSetAttribute(
      function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, kD128Shared);
  CUresult with = raw.launchKernel(function, 1, 1, 1, 128, 1, 1, kD128Shared,
                                   nullptr, params, nullptr);
  expect(set == CUDA_SUCCESS && with == CUDA_SUCCESS,
         "and accepts it after cuFuncSetAttribute(MAX_DYNAMIC_SHARED_"
         "SIZE_BYTES, 49152)");
  expect(raw.funcSetAttribute(function,
                              CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                              optin) == CUDA_ERROR_INVALID_VALUE,
         "the driver refuses an opt-in of the whole per-block maximum "
         "on top of static shared memory");
  if (raw.launchCount)
    expect(raw.launchKernel(function, 1, 1, 1, 128, 1, 1, 0, nullptr, nullptr,
                            nullptr) == CUDA_ERROR_INVALID_VALUE,
           "the stand-in refuses a launch without the kernel's 5 "
           "parameters");
}

/// The rule itself, straight through the driver: 1 static + 48 KiB
/// dynamic is refused without the opt-in and accepted with it.
void checkDriverOptIn(uint64_t data, int optin) {
  CUcontext primary = nullptr;
  raw.primaryCtxRetain(&primary, 0);
  raw.ctxPushCurrent(primary);
  char log[4096] = {0};
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {log, reinterpret_cast<void *>(sizeof(log))};
  CUmodule rawModule = nullptr;
  CUfunction function = nullptr;
  bool loaded = raw.moduleLoadDataEx(&rawModule, kKernelPtx, 2, options,
                                     values) == CUDA_SUCCESS &&
                raw.moduleGetFunction(&function, rawModule,
                                      "attn_test_kernel") == CUDA_SUCCESS;
  expect(loaded, "the driver loads the kernel directly");
  if (loaded) {
    checkDriverLaunches(function, data, optin);
    raw.moduleUnload(rawModule);
  }
  CUcontext popped;
  raw.ctxPopCurrent(&popped);
  raw.primaryCtxRelease(0);
}

/// The same launch through the runtime, which opts in.
void checkRuntimeOptIn(attn_rt_module *module, const attn_rt_tensor &tensor) {
  unsigned long long before = raw.launchCount ? raw.launchCount() : 0;
  expect(attn_rt_launch_memrefs(module, "attn_test_kernel", kSingleBlock,
                                kBlock128, kD128Shared, nullptr, &tensor,
                                1) == 0,
         "the runtime launches 1 static + 48 KiB dynamic shared memory (it "
         "opts in)");
  if (raw.launchCount)
    expect(raw.launchCount() == before + 1, "the stand-in saw the launch");
  attn_rt_function_info info{};
  expect(attn_rt_function_info_get(module, "attn_test_kernel", &info) == 0 &&
             info.max_dynamic_shared_bytes == kD128Shared,
         "the raised limit is remembered");
  expect(attn_rt_launch_memrefs(module, "attn_test_kernel", kSingleBlock,
                                kBlock128, 1024, nullptr, &tensor, 1) == 0,
         "a smaller launch after the opt-in");
}

/// Launches past the kernel's or the device's limits, refused with the
/// numbers.
void checkRefusedLaunches(attn_rt_module *module, const attn_rt_tensor &tensor,
                          int optin) {
  expect(attn_rt_launch_memrefs(module, "attn_test_kernel", kSingleBlock,
                                kBlock256, 0, nullptr, &tensor, 1) == -1 &&
             errorContains("kernel 'attn_test_kernel' is launched with 256 "
                           "threads per block") &&
             errorContains("at most 128"),
         "256 threads on a .maxntid 128 kernel are refused with the numbers");
  const int64_t gridZ[3] = {1, 1, 70000};
  expect(attn_rt_launch_memrefs(module, "attn_test_kernel", gridZ, kBlock128, 0,
                                nullptr, &tensor, 1) == -1 &&
             errorContains("grid (1, 1, 70000)") &&
             errorContains("at most 65535 blocks in z"),
         "a grid of 70000 in z is refused");
  std::string tooMuch = "kernel 'attn_test_kernel' needs 1 static + 250000 "
                        "dynamic bytes of shared memory; the device allows "
                        "at most " +
                        std::to_string(optin) + " per block";
  expect(attn_rt_launch_memrefs(module, "attn_test_kernel", kSingleBlock,
                                kBlock128, 250000, nullptr, &tensor, 1) == -1 &&
             errorContains(tooMuch),
         "250000 dynamic bytes are refused: " + tooMuch);
  expect(attn_rt_launch_memrefs(module, "attn_test_kernel", kSingleBlock,
                                kBlock128, optin, nullptr, &tensor, 1) == -1 &&
             errorContains("1 static + " + std::to_string(optin)),
         "the whole per-block maximum as dynamic memory is one byte too "
         "many");
  expect(attn_rt_launch_memrefs(module, "no_such_kernel", kSingleBlock,
                                kBlock128, 0, nullptr, &tensor, 1) == -1 &&
             errorContains("cuModuleGetFunction failed") &&
             errorContains("no_such_kernel"),
         "an unknown kernel is named in the error");
}

/// Tensors the runtime refuses before the driver sees them (and, on the
/// stand-in, a host pointer the driver refuses).
void checkRefusedTensors(attn_rt_module *module, const attn_rt_tensor &tensor) {
  attn_rt_tensor bad = tensor;
  bad.shape[0] = -3;
  expect(attn_rt_launch_memrefs(module, "attn_test_kernel", kSingleBlock,
                                kBlock128, 0, nullptr, &bad, 1) == -1 &&
             errorContains("size -3 in dimension 0"),
         "a negative size is refused");
  bad = tensor;
  bad.rank = 9;
  expect(attn_rt_launch_memrefs(module, "attn_test_kernel", kSingleBlock,
                                kBlock128, 0, nullptr, &bad, 1) == -1 &&
             errorContains("rank 9"),
         "rank 9 is refused");
  if (raw.launchCount) {
    int host = 0;
    attn_rt_tensor stray = tensor;
    stray.device_pointer = reinterpret_cast<uint64_t>(&host);
    expect(attn_rt_launch_memrefs(module, "attn_test_kernel", kSingleBlock,
                                  kBlock128, 0, nullptr, &stray, 1) == -1 &&
               errorContains("CUDA_ERROR_ILLEGAL_ADDRESS"),
           "the stand-in refuses a host pointer as a kernel's device pointer");
  }
}

/// PTX the driver's JIT refuses: an unresolved extern, and a .target above
/// the chip.
void checkRefusedModules(int major) {
  attn_rt_module *unresolved = nullptr;
  expect(attn_rt_module_load(0, kUnresolvedPtx, &unresolved) == -1 &&
             errorContains("cuModuleLoadDataEx failed") &&
             errorContains("Unresolved extern function '__nv_tanhf'"),
         "PTX calling an unresolved __nv_tanhf is refused with the JIT log");
  attn_rt_module *sm90 = nullptr;
  int sm90Loads = attn_rt_module_load(0, kSm90Ptx, &sm90);
  if (major < 9)
    expect(sm90Loads == -1 && errorContains("CUDA_ERROR_INVALID_PTX") &&
               errorContains(".target"),
           "sm_90 PTX is refused on an sm_80 device, with the JIT log");
  else
    expect(sm90Loads == 0, "sm_90 PTX loads on an sm_90 device");
  attn_rt_module_unload(sm90);
}

/// The caller's own context stays current through every runtime call.
void checkHostContextKept(attn_rt_module *module,
                          const attn_rt_tensor &tensor) {
  CUcontext own = nullptr;
  CUresult created = raw.ctxCreate ? raw.ctxCreate(&own, nullptr, 0, 0)
                                   : raw.ctxCreateV2(&own, 0, 0);
  expect(created == CUDA_SUCCESS && own,
         "the host creates (and makes current) its own context");
  uint64_t scratch = 0;
  float in[4] = {1, 2, 3, 4}, out[4] = {0, 0, 0, 0};
  attn_rt_module *other = nullptr;
  attn_rt_function_info info{};
  struct Step {
    const char *what;
    bool ok;
  } steps[] = {
      {"attn_rt_module_load", attn_rt_module_load(0, kKernelPtx, &other) == 0},
      {"attn_rt_launch_memrefs",
       attn_rt_launch_memrefs(module, "attn_test_kernel", kSingleBlock,
                              kBlock128, kD128Shared, nullptr, &tensor,
                              1) == 0},
      {"a refused launch",
       attn_rt_launch_memrefs(module, "attn_test_kernel", kSingleBlock,
                              kBlock256, 0, nullptr, &tensor, 1) == -1},
      {"attn_rt_function_info_get",
       attn_rt_function_info_get(other, "attn_test_kernel", &info) == 0},
      {"attn_rt_alloc", attn_rt_alloc(0, sizeof(in), &scratch) == 0},
      {"attn_rt_copy_to_device",
       attn_rt_copy_to_device(scratch, in, sizeof(in)) == 0},
      {"attn_rt_copy_to_host",
       attn_rt_copy_to_host(out, scratch, sizeof(out)) == 0 &&
           std::memcmp(in, out, sizeof(in)) == 0},
      {"attn_rt_synchronize", attn_rt_synchronize(nullptr) == 0},
      {"attn_rt_free", attn_rt_free(scratch) == 0},
  };
  for (const Step &step : steps) {
    expect(step.ok, std::string(step.what) + " with the host's context "
                                             "current");
  }
  expect(currentContext() == own,
         "the host's context is still current after the runtime's calls");
  attn_rt_module_unload(other);
  expect(currentContext() == own, "and after attn_rt_module_unload");
  if (own)
    raw.ctxDestroy(own);
}

/// The stand-in's checks of device memory, seen through the runtime.
void checkStandInMemory(uint64_t data) {
  char bytes[512] = {0};
  expect(attn_rt_copy_to_device(data, bytes, sizeof(bytes)) == -1 &&
             errorContains("cuMemcpyHtoD failed: CUDA_ERROR_INVALID_VALUE"),
         "the stand-in refuses a copy past the end of an allocation");
  expect(attn_rt_free(data + 4) == -1 &&
             errorContains("cuMemFree failed: CUDA_ERROR_INVALID_VALUE"),
         "the stand-in refuses to free what is not an allocation");
}

} // namespace

int main(int argc, char **argv) {
  int optin = 0, major = 0;
  if (int status = startUp(optin, major))
    return status;
  attn_rt_module *module = nullptr;
  if (int status = loadTestKernel(module))
    return status;
  checkFunctionInfo(module);

  uint64_t data = 0;
  expect(attn_rt_alloc(0, 64 * sizeof(float), &data) == 0, "allocates");
  attn_rt_tensor tensor{};
  tensor.device_pointer = data;
  tensor.rank = 1;
  tensor.shape[0] = 64;
  checkDriverOptIn(data, optin);
  checkRuntimeOptIn(module, tensor);
  checkRefusedLaunches(module, tensor, optin);
  checkRefusedTensors(module, tensor);
  checkRefusedModules(major);
  checkHostContextKept(module, tensor);
  if (raw.launchCount)
    checkStandInMemory(data);
  expect(attn_rt_free(data) == 0, "frees");
  attn_rt_module_unload(module);
  expect(currentContext() == nullptr, "no context is left current at the end");

  for (int i = 1; i < argc; ++i)
    launchContract(argv[i]);

  std::printf("%d failures\n", failures);
  return failures ? 1 : 0;
}
