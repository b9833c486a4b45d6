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
//===----------------------------------------------------------------------===//

#include <cuda.h>

// cuda.h maps the unversioned name to _v2; the unversioned symbol exists
// in the real driver too (for binaries built against older headers).
#undef cuDevicePrimaryCtxRelease
extern "C" CUresult CUDAAPI cuDevicePrimaryCtxRelease(CUdevice dev);

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <spawn.h>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char **environ;

#ifndef ATTN_FAKE_CUDA_DEFAULT_PTXAS
#define ATTN_FAKE_CUDA_DEFAULT_PTXAS ""
#endif

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

/// One `.param` of a kernel, from the PTX.
struct Param {
  size_t bytes = 0;
  bool pointer = false; // `.ptr`: NVPTX marks a kernel's pointer params
};

/// A `.entry` of a module: from the PTX text and from `ptxas -v`.
struct Entry {
  std::vector<Param> params;
  int maxntid = 0; // product of .maxntid or .reqntid; 0: none
  bool reqntid = false;
  int registers = 0;
  int staticShared = 0;
  int stackBytes = 0;
};

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

//===----------------------------------------------------------------------===//
// PTX: the entries' parameters and thread limits
//===----------------------------------------------------------------------===//

std::string withoutComments(const std::string &text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 2, "//") == 0) {
      while (i < text.size() && text[i] != '\n')
        ++i;
      out += '\n';
    } else if (text.compare(i, 2, "/*") == 0) {
      size_t end = text.find("*/", i + 2);
      i = end == std::string::npos ? text.size() : end + 1;
      out += ' ';
    } else {
      out += text[i];
    }
  }
  return out;
}

bool isIdentifierChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
         c == '%' || c == '.';
}

size_t typeBytes(const std::string &type) {
  static const std::map<std::string, size_t> sizes = {
      {".b8", 1},  {".u8", 1},  {".s8", 1},  {".b16", 2},
      {".u16", 2}, {".s16", 2}, {".f16", 2}, {".b32", 4},
      {".u32", 4}, {".s32", 4}, {".f32", 4}, {".b64", 8},
      {".u64", 8}, {".s64", 8}, {".f64", 8}, {".b128", 16}};
  auto it = sizes.find(type);
  return it == sizes.end() ? 0 : it->second;
}

/// One parameter declaration: `.param .u64 .ptr .global .align 16 name`,
/// `.param .align 8 .b8 name[16]`.
Param parseParam(const std::string &text) {
  Param param;
  std::vector<std::string> words;
  std::string word;
  for (char c : text + " ") {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!word.empty())
        words.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  size_t element = 0, count = 1;
  for (const std::string &w : words) {
    if (w == ".ptr")
      param.pointer = true;
    else if (size_t bytes = typeBytes(w))
      element = bytes;
    else if (size_t open = w.find('['); open != std::string::npos)
      count = std::strtoull(w.c_str() + open + 1, nullptr, 10);
  }
  param.bytes = element * count;
  return param;
}

int parseDims(const std::string &text, size_t &i) {
  int product = 1;
  for (;;) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    if (i >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i])))
      break;
    product *= static_cast<int>(std::strtol(text.c_str() + i, nullptr, 10));
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])))
      ++i;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    if (i < text.size() && text[i] == ',')
      ++i;
    else
      break;
  }
  return product;
}

/// The `.entry` definitions of `ptx` (declarations without a body skipped).
std::map<std::string, Entry> parseEntries(const std::string &ptx,
                                          int &ptxVersion) {
  std::string text = withoutComments(ptx);
  std::map<std::string, Entry> entries;
  ptxVersion = 0;
  if (size_t v = text.find(".version"); v != std::string::npos) {
    char *end;
    long major = std::strtol(text.c_str() + v + 8, &end, 10);
    long minor = *end == '.' ? std::strtol(end + 1, nullptr, 10) : 0;
    ptxVersion = static_cast<int>(major * 10 + minor);
  }
  for (size_t at = text.find(".entry"); at != std::string::npos;
       at = text.find(".entry", at + 6)) {
    if ((at > 0 && isIdentifierChar(text[at - 1])) ||
        (at + 6 < text.size() && isIdentifierChar(text[at + 6])))
      continue;
    size_t i = at + 6;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    size_t nameStart = i;
    while (i < text.size() && isIdentifierChar(text[i]))
      ++i;
    std::string name = text.substr(nameStart, i - nameStart);
    Entry entry;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    if (i < text.size() && text[i] == '(') {
      size_t close = text.find(')', i);
      if (close == std::string::npos)
        break;
      std::string list = text.substr(i + 1, close - i - 1);
      size_t start = 0;
      while (start <= list.size()) {
        size_t comma = list.find(',', start);
        std::string one =
            list.substr(start, comma == std::string::npos ? std::string::npos
                                                          : comma - start);
        if (one.find(".param") != std::string::npos)
          entry.params.push_back(parseParam(one));
        if (comma == std::string::npos)
          break;
        start = comma + 1;
      }
      i = close + 1;
    }
    // Performance directives up to the body.
    size_t body = text.find_first_of("{;", i);
    if (body == std::string::npos || text[body] == ';')
      continue;
    std::string directives = text.substr(i, body - i);
    for (const char *directive : {".maxntid", ".reqntid"}) {
      size_t d = directives.find(directive);
      if (d == std::string::npos)
        continue;
      size_t pos = d + std::strlen(directive);
      entry.maxntid = parseDims(directives, pos);
      entry.reqntid = directive[1] == 'r';
    }
    entries[name] = entry;
  }
  return entries;
}

/// Fills registers, static shared memory and stack from `ptxas -v`:
///   ptxas info : Compiling entry function 'k' for 'sm_90a'
///   ptxas info : Function properties for k
///       0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
///   ptxas info : Used 6 registers, used 0 barriers, 1 bytes smem, ...
void readPtxasInfo(const std::string &log,
                   std::map<std::string, Entry> &entries) {
  Entry *entry = nullptr;
  size_t start = 0;
  while (start < log.size()) {
    size_t end = log.find('\n', start);
    if (end == std::string::npos)
      end = log.size();
    std::string line = log.substr(start, end - start);
    start = end + 1;
    if (size_t c = line.find("Compiling entry function '");
        c != std::string::npos) {
      size_t nameStart = c + std::strlen("Compiling entry function '");
      std::string name =
          line.substr(nameStart, line.find('\'', nameStart) - nameStart);
      auto it = entries.find(name);
      entry = it == entries.end() ? nullptr : &it->second;
      continue;
    }
    if (!entry)
      continue;
    if (size_t s = line.find(" bytes stack frame"); s != std::string::npos) {
      size_t n = line.find_last_not_of("0123456789", s - 1);
      entry->stackBytes = std::atoi(line.c_str() + n + 1);
    }
    if (size_t u = line.find("Used "); u != std::string::npos) {
      entry->registers = std::atoi(line.c_str() + u + 5);
      if (size_t s = line.find(" bytes smem"); s != std::string::npos) {
        size_t n = line.find_last_not_of("0123456789", s - 1);
        entry->staticShared = std::atoi(line.c_str() + n + 1);
      }
      entry = nullptr; // a function's figures end with this line
    }
  }
}

//===----------------------------------------------------------------------===//
// ptxas
//===----------------------------------------------------------------------===//

std::string readFile(const std::string &path) {
  std::string text;
  if (FILE *f = std::fopen(path.c_str(), "rb")) {
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0)
      text.append(buffer, n);
    std::fclose(f);
  }
  return text;
}

/// Assembles `ptx` for the chip, as the driver's JIT does; `log` gets
/// ptxas's output (the -v figures on success, the errors on failure).
CUresult assemble(const std::string &ptx, std::string &log) {
  const char *ptxas = std::getenv("ATTN_FAKE_CUDA_PTXAS");
  if (!ptxas || !*ptxas)
    ptxas =
        *ATTN_FAKE_CUDA_DEFAULT_PTXAS ? ATTN_FAKE_CUDA_DEFAULT_PTXAS : "ptxas";
  const char *tmp = std::getenv("TMPDIR");
  std::string dirTemplate =
      std::string(tmp && *tmp ? tmp : "/tmp") + "/attn-fake-cuda-XXXXXX";
  std::vector<char> dirName(dirTemplate.begin(), dirTemplate.end());
  dirName.push_back('\0');
  if (!mkdtemp(dirName.data())) {
    log = std::string("fake-cuda: cannot make a temporary directory ") +
          dirTemplate + ": " + std::strerror(errno);
    return CUDA_ERROR_OPERATING_SYSTEM;
  }
  std::string dir = dirName.data();
  std::string in = dir + "/module.ptx", out = dir + "/module.cubin",
              logPath = dir + "/ptxas.log";
  CUresult result = CUDA_SUCCESS;
  if (FILE *f = std::fopen(in.c_str(), "wb")) {
    bool written = std::fwrite(ptx.data(), 1, ptx.size(), f) == ptx.size();
    written &= std::fclose(f) == 0;
    if (!written) {
      log = "fake-cuda: cannot write " + in;
      result = CUDA_ERROR_OPERATING_SYSTEM;
    }
  } else {
    log = "fake-cuda: cannot create " + in;
    result = CUDA_ERROR_OPERATING_SYSTEM;
  }
  if (result == CUDA_SUCCESS) {
    std::string arch = std::string("-arch=") + state.chip->ptxasArch;
    std::vector<std::string> args = {ptxas, arch, "-v", in, "-o", out};
    std::vector<char *> argv;
    for (std::string &a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, logPath.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid;
    int spawned =
        posix_spawnp(&pid, ptxas, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
      log = std::string("fake-cuda: cannot run ptxas '") + ptxas +
            "': " + std::strerror(spawned) +
            " (set ATTN_FAKE_CUDA_PTXAS or put ptxas on PATH)";
      result = CUDA_ERROR_JIT_COMPILER_NOT_FOUND;
    } else {
      int status = 0;
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      log = readFile(logPath);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        result = CUDA_ERROR_INVALID_PTX;
    }
  }
  unlink(in.c_str());
  unlink(out.c_str());
  unlink(logPath.c_str());
  rmdir(dir.c_str());
  return result;
}

/// Copies `log` into a JIT log buffer option pair and reports the bytes
/// written back through the size option, as the driver does.
void fillLog(const std::string &log, unsigned numOptions, CUjit_option *options,
             void **values, CUjit_option bufferOption,
             CUjit_option sizeOption) {
  char *buffer = nullptr;
  size_t size = 0;
  int sizeIndex = -1;
  for (unsigned i = 0; i < numOptions; ++i) {
    if (options[i] == bufferOption)
      buffer = static_cast<char *>(values[i]);
    if (options[i] == sizeOption) {
      size = reinterpret_cast<size_t>(values[i]);
      sizeIndex = static_cast<int>(i);
    }
  }
  if (!buffer || size == 0)
    return;
  size_t n = std::min(log.size(), size - 1);
  std::memcpy(buffer, log.data(), n);
  buffer[n] = '\0';
  values[sizeIndex] = reinterpret_cast<void *>(n + 1);
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
  CUresult result = assemble(ptx, log);
  if (result != CUDA_SUCCESS) {
    fillLog(log, numOptions, options, optionValues, CU_JIT_ERROR_LOG_BUFFER,
            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES);
    fillLog("", numOptions, options, optionValues, CU_JIT_INFO_LOG_BUFFER,
            CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES);
    return result;
  }
  fillLog("", numOptions, options, optionValues, CU_JIT_ERROR_LOG_BUFFER,
          CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES);
  fillLog(log, numOptions, options, optionValues, CU_JIT_INFO_LOG_BUFFER,
          CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES);
  auto loaded = std::make_unique<CUmod_st>();
  loaded->context = current();
  std::map<std::string, Entry> entries = parseEntries(ptx, loaded->ptxVersion);
  readPtxasInfo(log, entries);
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

namespace {
struct ErrorText {
  CUresult code;
  const char *name;
  const char *text;
};
// The driver's own names and descriptions, for the codes the stand-in
// returns and a few a host commonly meets.
const ErrorText kErrors[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED",
     "initialization error"},
    {CUDA_ERROR_DEINITIALIZED, "CUDA_ERROR_DEINITIALIZED",
     "driver shutting down"},
    {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE",
     "no CUDA-capable device is detected"},
    {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE",
     "invalid device ordinal"},
    {CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE",
     "device kernel image is invalid"},
    {CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT",
     "invalid device context"},
    {CUDA_ERROR_NO_BINARY_FOR_GPU, "CUDA_ERROR_NO_BINARY_FOR_GPU",
     "no kernel image is available for execution on the device"},
    {CUDA_ERROR_INVALID_PTX, "CUDA_ERROR_INVALID_PTX",
     "a PTX JIT compilation failed"},
    {CUDA_ERROR_JIT_COMPILER_NOT_FOUND, "CUDA_ERROR_JIT_COMPILER_NOT_FOUND",
     "PTX JIT compiler library not found"},
    {CUDA_ERROR_UNSUPPORTED_PTX_VERSION, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
     "the provided PTX was compiled with an unsupported toolchain."},
    {CUDA_ERROR_OPERATING_SYSTEM, "CUDA_ERROR_OPERATING_SYSTEM",
     "OS call failed or operation not supported on this OS"},
    {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE",
     "invalid resource handle"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_ILLEGAL_ADDRESS, "CUDA_ERROR_ILLEGAL_ADDRESS",
     "an illegal memory access was encountered"},
    {CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
     "too many resources requested for launch"},
    {CUDA_ERROR_NOT_SUPPORTED, "CUDA_ERROR_NOT_SUPPORTED",
     "operation not supported"},
    {CUDA_ERROR_UNKNOWN, "CUDA_ERROR_UNKNOWN", "unknown error"},
};

const ErrorText *findError(CUresult error) {
  for (const ErrorText &e : kErrors)
    if (e.code == error)
      return &e;
  return nullptr;
}
} // namespace

FAKE_CUDA_API CUresult CUDAAPI cuGetErrorName(CUresult error,
                                              const char **pStr) {
  if (!pStr)
    return CUDA_ERROR_INVALID_VALUE;
  const ErrorText *e = findError(error);
  *pStr = e ? e->name : nullptr;
  return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

FAKE_CUDA_API CUresult CUDAAPI cuGetErrorString(CUresult error,
                                                const char **pStr) {
  if (!pStr)
    return CUDA_ERROR_INVALID_VALUE;
  const ErrorText *e = findError(error);
  *pStr = e ? e->text : nullptr;
  return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

/// Not a driver entry point: how many launches the stand-in accepted, for
/// tests (found with dlsym, so a real driver simply lacks it).
FAKE_CUDA_API unsigned long long attnFakeCudaLaunchCount(void) {
  std::lock_guard<std::mutex> lock(state.mutex);
  return state.launches;
}
