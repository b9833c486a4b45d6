//===- Module.h - The stand-in driver's modules: PTX and ptxas --*- C++ -*-===//
//
// The module side of fake-cuda's libcuda.so.1: what cuModuleLoadDataEx
// learns from a PTX image. The PTX text gives each `.entry`'s parameters
// and its .maxntid/.reqntid; the real ptxas assembles the module for the
// emulated chip, as the driver's JIT does, and its `-v` report gives each
// kernel's registers, static shared memory and stack. The log it writes
// goes back to the host through the JIT log buffer options. FakeCuda.cpp
// holds the driver's entry points and state.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_FAKE_CUDA_MODULE_H
#define ATTN_FAKE_CUDA_MODULE_H

#include <cuda.h>

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace attn_fake_cuda {

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

// Not driver entry points: hidden from libcuda.so.1's exports. (The types
// above stay default: the driver's CUfunc_st holds an Entry.)
#pragma GCC visibility push(hidden)

/// The `.entry` definitions of `ptx` (declarations without a body skipped),
/// with their parameters and thread limits; `ptxVersion` gets `.version`
/// as major * 10 + minor (0: none).
std::map<std::string, Entry> parseEntries(const std::string &ptx,
                                          int &ptxVersion);

/// Fills registers, static shared memory and stack from `ptxas -v`:
///   ptxas info : Compiling entry function 'k' for 'sm_90a'
///   ptxas info : Function properties for k
///       0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
///   ptxas info : Used 6 registers, used 0 barriers, 1 bytes smem, ...
void readPtxasInfo(const std::string &log,
                   std::map<std::string, Entry> &entries);

/// Assembles `ptx` for `ptxasArch` (ptxas's -arch), as the driver's JIT
/// does; `log` gets ptxas's output (the -v figures on success, the errors on
/// failure). ptxas is ATTN_FAKE_CUDA_PTXAS, else the one CMake found, else
/// ptxas on PATH.
CUresult assemble(const std::string &ptx, const char *ptxasArch,
                  std::string &log);

/// Copies `log` into a JIT log buffer option pair and reports the bytes
/// written back through the size option, as the driver does.
void fillLog(const std::string &log, unsigned numOptions, CUjit_option *options,
             void **values, CUjit_option bufferOption, CUjit_option sizeOption);

#pragma GCC visibility pop

} // namespace attn_fake_cuda

#endif // ATTN_FAKE_CUDA_MODULE_H
