//===- Runtime.h - Run GPU kernels on the CPU, thread by thread -*- C++ -*-===//
//
// The emulation runtime (issue 5): a kernel compiled for the host from the
// same NVVM-level IR that becomes PTX calls into this library for every
// NVVM operation (special registers, barriers, warp collectives). Each
// block's threads run as fibers that switch at barriers and collectives,
// so the kernel code itself is plain sequential host code. Blocks run one
// after another. No MLIR dependency.
//
// Errors (a barrier some threads never reach, a warp collective the lanes
// reach with different arguments, a deadlock) fail the launch with a
// message naming the block and thread; they never abort the process.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_EMULATOR_RUNTIME_H
#define ATTN_EMULATOR_RUNTIME_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace mlir::attn::emu {

struct Dim3 {
  uint32_t x = 1, y = 1, z = 1;
  uint64_t count() const { return uint64_t{x} * y * z; }
};

/// What one launch did, for tests that prove work was skipped.
struct Counters {
  uint64_t barriers = 0;        // block-wide barrier completions
  uint64_t warpCollectives = 0; // completed warp collectives (shfl, ...)
};

struct LaunchConfig {
  Dim3 grid, block;
  size_t dynamicSharedBytes = 0;
  /// Static shared memory (the kernel's addrspace(3) globals, laid out by
  /// the emulation rewrite).
  size_t staticSharedBytes = 0;
  /// Stack of each emulated thread.
  size_t stackBytes = 64 * 1024;
};

/// A kernel entry in the packed calling convention (a pointer to each
/// argument), as MLIR's ExecutionEngine produces it.
using KernelFn = void (*)(void **args);

struct LaunchResult {
  bool ok = true;
  std::string error; // the first error, with block and thread
  Counters counters;
};

/// Runs `kernel` over the grid; every thread of a block runs as a fiber.
LaunchResult launch(const LaunchConfig &config, KernelFn kernel, void **args);

} // namespace mlir::attn::emu

//===----------------------------------------------------------------------===//
// The C ABI that emulated kernels call (one function per NVVM operation).
// Only valid inside a launch.
//===----------------------------------------------------------------------===//

extern "C" {
uint32_t attn_emu_tid(uint32_t dim);    // threadIdx.{x,y,z} for dim 0..2
uint32_t attn_emu_ntid(uint32_t dim);   // blockDim
uint32_t attn_emu_ctaid(uint32_t dim);  // blockIdx
uint32_t attn_emu_nctaid(uint32_t dim); // gridDim
uint32_t attn_emu_laneid();
uint32_t attn_emu_warpid();
/// bar.sync 0 / barrier0: waits for every thread of the block.
void attn_emu_barrier0();
/// shfl.sync.{idx,up,down,bfly}.b32 (mode 0..3): returns the value of the
/// source lane (or the own value when the source is out of range) and sets
/// *inRange as PTX's predicate output. `clamp` is PTX's c operand (segment
/// mask in bits 8-12, clamp value in bits 0-4). The lanes of `memberMask`
/// must all execute the same shuffle.
uint32_t attn_emu_shfl_sync(uint32_t mode, uint32_t memberMask, uint32_t value,
                            uint32_t laneOrOffset, uint32_t clamp,
                            bool *inRange);
/// shfl.sync with both results packed for generated code: the value in
/// bits 0-31, the predicate in bit 32.
uint64_t attn_emu_shfl_sync_packed(uint32_t mode, uint32_t memberMask,
                                   uint32_t value, uint32_t laneOrOffset,
                                   uint32_t clamp);
/// The running block's dynamic shared memory.
void *attn_emu_dynamic_shared();
/// The running block's static shared memory.
void *attn_emu_static_shared();
}

#endif // ATTN_EMULATOR_RUNTIME_H
