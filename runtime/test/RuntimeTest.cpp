//===- RuntimeTest.cpp - attn's CUDA runtime: errors, and launches on a GPU ===//
//
// Plain C++ (no test framework), so that it builds on a GPU machine with
// only a compiler, CMake and cuda.h. Without a driver every call must fail
// with a message that says so; bad arguments are refused before the driver
// is touched. With a GPU (and a PTX file from attn-ptx as the first
// argument) it loads the PTX, rejects bad PTX with the JIT's log, and
// launches the first kernel for real.
//
//===----------------------------------------------------------------------===//

#include "attn/Runtime/Runtime.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

static int failures = 0;

static void expect(bool ok, const std::string &what) {
  if (!ok) {
    std::fprintf(stderr, "FAIL: %s\n  last error: %s\n", what.c_str(),
                 attn_rt_last_error());
    ++failures;
  } else {
    std::printf("ok: %s\n", what.c_str());
  }
}

static bool errorContains(const char *text) {
  return std::strstr(attn_rt_last_error(), text) != nullptr;
}

int main(int argc, char **argv) {
  // Argument checks come before the driver.
  const int64_t grid[3] = {1, 1, 1}, badBlock[3] = {2048, 1, 1};
  expect(attn_rt_launch(nullptr, "k", grid, grid, 0, nullptr, nullptr, 0) ==
                 -1 &&
             errorContains("needs a module and a kernel name"),
         "a launch without a module is refused");
  attn_rt_module *none = nullptr;
  expect(attn_rt_module_load(0, nullptr, &none) == -1 &&
             errorContains("needs PTX text"),
         "loading null PTX is refused");

  int count = -1;
  if (attn_rt_device_count(&count) != 0) {
    // No driver on this machine: every call says so, nothing crashes.
    expect(count == 0, "no devices without a driver");
    expect(errorContains("no CUDA driver") ||
               errorContains("cuInit failed"),
           std::string("the error names the missing driver: ") +
               attn_rt_last_error());
    expect(attn_rt_init() == -1, "init fails again, cleanly");
    expect(attn_rt_module_load(0, ".version 8.0", &none) == -1 &&
               (errorContains("no CUDA driver") ||
                errorContains("cuInit failed")),
           "module load fails with the driver message");
    uint64_t ptr = 0;
    expect(attn_rt_alloc(0, 16, &ptr) == -1, "alloc fails without a driver");
    std::printf("%d failures (no GPU: only the error paths ran)\n", failures);
    return failures ? 1 : 0;
  }

  std::printf("%d CUDA device(s)\n", count);
  expect(count > 0, "a driver reports its devices");
  expect(attn_rt_module_load(0, "this is not PTX", &none) == -1 &&
             errorContains("cuModuleLoadDataEx failed"),
         "bad PTX is rejected with the JIT's message");
  uint64_t ptr = 0;
  expect(attn_rt_alloc(0, 256, &ptr) == 0 && ptr != 0, "device allocation");
  char host[256], back[256];
  for (int i = 0; i < 256; ++i)
    host[i] = static_cast<char>(i);
  expect(attn_rt_copy_to_device(ptr, host, 256) == 0 &&
             attn_rt_copy_to_host(back, ptr, 256) == 0 &&
             std::memcmp(host, back, 256) == 0,
         "round trip through device memory");
  expect(attn_rt_free(ptr) == 0, "free");
  if (argc > 1) {
    std::ifstream in(argv[1]);
    std::stringstream ptx;
    ptx << in.rdbuf();
    attn_rt_module *module = nullptr;
    expect(attn_rt_module_load(0, ptx.str().c_str(), &module) == 0,
           std::string("loads ") + argv[1]);
    const int64_t block[3] = {128, 1, 1};
    expect(attn_rt_launch(module, "no_such_kernel", grid, block, 0, nullptr,
                          nullptr, 0) == -1 &&
               errorContains("cuModuleGetFunction failed"),
           "an unknown kernel name is an error");
    expect(attn_rt_launch(module, "k", grid, badBlock, 0, nullptr, nullptr,
                          0) == -1 &&
               errorContains("bad launch size"),
           "a block of 2048 threads is refused");
    attn_rt_module_unload(module);
  }
  std::printf("%d failures\n", failures);
  return failures ? 1 : 0;
}
