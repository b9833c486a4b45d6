//===- Runtime.h - Run GPU kernels on the CPU, thread by thread -*- C++ -*-===//
//
// The emulation runtime (issue 5): a kernel compiled for the host from the
// same NVVM-level IR that becomes PTX calls into this library for every
// NVVM operation (special registers, barriers, warp collectives, tensor-core
// ops, asynchronous copies) and, before each load and store it cannot prove
// local, for a memory check. Each block's threads run as fibers that switch
// at barriers and warp collectives, so the kernel code itself is plain
// sequential host code. No MLIR dependency.
//
// A launch the CUDA driver would refuse (shared memory beyond the chip's
// limit or beyond 48 KiB without the opt-in, more threads than the
// kernel's .maxntid or the chip allows, grid or block dimensions out of
// range) fails before any thread runs, with the numbers in the message.
//
// Errors (an out-of-bounds access, a shared-memory race, a read of
// uninitialised shared memory, a barrier some threads never reach, a warp
// collective the lanes reach with different arguments, a deadlock) fail the
// launch with a message naming the kernel, block, thread and address; they
// never abort the process.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_EMULATOR_RUNTIME_H
#define ATTN_EMULATOR_RUNTIME_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::attn::emu {

struct Dim3 {
  uint32_t x = 1, y = 1, z = 1;
  uint64_t count() const { return uint64_t{x} * y * z; }
};

/// What one launch did, for tests that prove work was skipped.
struct Counters {
  uint64_t barriers = 0;        // block-wide barrier completions
  uint64_t warpCollectives = 0; // completed shfl/vote/ldmatrix/mma (per warp)
  uint64_t mmaInstructions = 0; // tensor-core mma.sync, per warp
  uint64_t ldmatrixInstructions = 0; // per warp
  uint64_t cpAsyncBytes = 0;         // bytes requested by cp.async
  uint64_t globalBytesRead = 0, globalBytesWritten = 0;
  uint64_t sharedBytesRead = 0, sharedBytesWritten = 0;

  Counters &operator+=(const Counters &other);
};

/// A global-memory buffer the kernel may access; with `LaunchConfig::buffers`
/// non-empty, every global access must fall inside one of them.
struct Buffer {
  const void *base = nullptr;
  size_t bytes = 0;
  std::string name;
};

/// The checks made while emulating (all on by default).
struct Checks {
  bool bounds = true;              // global and shared bounds
  bool races = true;               // shared-memory races between barriers
  bool uninitializedShared = true; // reads of never-written shared bytes
};

/// The chips attn compiles for.
enum class Chip { SM80, SM90 };

/// What the CUDA driver lets a launch on a chip use (its
/// cuDeviceGetAttribute values; runtime/lib/Runtime.cpp checks the same).
struct ChipLimits {
  const char *name; // "sm_80"
  const char *gpu;  // "A100"
  /// MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: static + dynamic shared memory of
  /// a block whose kernel opted in (163 KiB on sm_80, 227 KiB on sm_90).
  size_t sharedPerBlockOptin;
  /// MAX_SHARED_MEMORY_PER_BLOCK: the same without the opt-in, and the
  /// most static shared memory ptxas accepts (48 KiB).
  size_t sharedPerBlock;
  uint32_t threadsPerBlock; // 1024
  uint32_t maxBlock[3];     // 1024, 1024, 64
  uint32_t maxGrid[3];      // 2^31 - 1, 65535, 65535
};
const ChipLimits &limitsOf(Chip chip);
/// "sm_80" or "sm_90" (attn's chip names); nullopt for anything else.
std::optional<Chip> chipNamed(const std::string &name);

/// A kernel's attributes as the driver reports them (cuFuncGetAttribute).
/// The emulation rewrite exports them for each kernel `k` as a constant
/// global named kernelAttributesSymbol(k), for launchers to read.
struct KernelAttributes {
  uint64_t maxThreadsPerBlock = 1024; // .maxntid (known_block_size), or 1024
  uint64_t staticSharedBytes = 0;     // SHARED_SIZE_BYTES
};
std::string kernelAttributesSymbol(const std::string &kernel);

struct LaunchConfig {
  Dim3 grid, block;
  size_t dynamicSharedBytes = 0;
  /// Static shared memory (the kernel's addrspace(3) globals, laid out by
  /// the emulation rewrite). Dynamic shared memory follows it, 16-aligned.
  size_t staticSharedBytes = 0;
  /// The chip whose launch limits apply. Kernels that are not compiled for
  /// a particular chip get sm_80's, the stricter.
  Chip chip = Chip::SM80;
  /// The kernel's .maxntid (threads of its block, x * y * z), as
  /// KernelAttributes::maxThreadsPerBlock; 1024 when it has none.
  uint32_t maxThreadsPerBlock = 1024;
  /// The launcher's opt-in: CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
  /// as cuFuncSetAttribute would set it (static + this may not exceed the
  /// chip's sharedPerBlockOptin). Unset: the driver's default, 48 KiB
  /// minus the static bytes. See optInSharedMemory.
  std::optional<size_t> maxDynamicSharedBytes;
  /// Stack of each emulated thread.
  size_t stackBytes = 64 * 1024;
  /// Host threads running blocks (blocks are independent, as on the GPU).
  unsigned hostThreads = 1;
  /// For messages.
  std::string kernelName = "kernel";
  std::vector<Buffer> buffers;
  Checks checks;
};

/// The dynamic shared memory `config` may launch with: its opt-in, or the
/// driver's default (48 KiB minus the static bytes, at least 0).
size_t maxDynamicSharedBytes(const LaunchConfig &config);

/// Opts in as attn's runtime does (attn_rt_launch): when static + dynamic
/// shared memory exceed 48 KiB, raises maxDynamicSharedBytes to the
/// dynamic size. Launchers call it before launch().
void optInSharedMemory(LaunchConfig &config);

/// The driver's launch rules for `config`: an empty string when it would
/// launch, else why not (kernel name and numbers). launch() checks them
/// first.
std::string checkLaunchRules(const LaunchConfig &config);

/// A kernel entry in the packed calling convention (a pointer to each
/// argument), as MLIR's ExecutionEngine produces it.
using KernelFn = void (*)(void **args);

struct LaunchResult {
  bool ok = true;
  std::string error; // the first error, with kernel, block and thread
  Counters counters;
};

/// Runs `kernel` over the grid; every thread of a block runs as a fiber.
/// A launch that breaks the driver's rules (checkLaunchRules) fails before
/// any thread runs.
LaunchResult launch(const LaunchConfig &config, KernelFn kernel, void **args);

/// Every function of the C ABI below, and the libdevice (`__nv_*`)
/// replacements under their `attn_emu_nv_*` names, for a JIT's symbol map.
struct Symbol {
  const char *name;
  void *address;
};
const std::vector<Symbol> &runtimeSymbols();

/// Whether libdevice function `name` (e.g. "__nv_expf") has an emulation;
/// the rewrite calls `attn_emu_nv_<name without __nv_>` instead.
bool hasLibdeviceEmulation(const std::string &name);

/// mma.sync shapes and multiplicand types, as attn_emu_mma takes them.
enum class MmaShape : uint32_t { M16N8K16 = 0, M16N8K8 = 1 };
enum class MmaType : uint32_t { F16 = 0, BF16 = 1 };
/// vote.sync kinds.
enum class VoteKind : uint32_t { All = 0, Any = 1, Uni = 2, Ballot = 3 };
/// Address spaces as NVVM numbers them (attn_emu_access's `space`).
enum AddressSpace : uint32_t {
  Generic = 0,
  Global = 1,
  Shared = 3,
  Constant = 4,
  Local = 5
};

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
/// vote.sync (VoteKind): the ballot mask, or 0/1.
uint32_t attn_emu_vote_sync(uint32_t kind, uint32_t memberMask, uint32_t pred);
/// ldmatrix.sync.aligned.m8n8.x{1,2,4}[.trans].shared.b16: `rowAddress` is
/// this lane's row pointer (lanes 8i..8i+7 give matrix i's rows); writes
/// `num` registers of two b16 elements each to `out`.
void attn_emu_ldmatrix(const void *rowAddress, uint32_t num, uint32_t trans,
                       uint32_t *out);
/// mma.sync.aligned.{m16n8k16,m16n8k8}.row.col.f32.{f16,bf16}.{..}.f32:
/// this lane's A and B registers (two 16-bit elements each) and four f32
/// accumulators; writes the four f32 results to `d`.
void attn_emu_mma(uint32_t shape, uint32_t type, const uint32_t *a,
                  const uint32_t *b, const float *c, float *d);
/// cp.async.ca/cg.shared.global: copies `srcBytes` of `bytes` from global to
/// shared (the rest zero-filled) when a later wait completes its group.
void attn_emu_cp_async(void *dst, const void *src, uint32_t bytes,
                       uint32_t srcBytes);
void attn_emu_cp_async_commit();
/// cp.async.wait_group n: completes all but the n most recent groups.
void attn_emu_cp_async_wait(uint32_t n);
/// A load or store of `bytes` at `address` (flags bit 0: write) through a
/// pointer of NVVM address space `space`: bounds, race and initialisation
/// checks, and the byte counters.
void attn_emu_access(const void *address, uint64_t bytes, uint32_t flags,
                     uint32_t space);
/// ex2.approx.f32, rcp.approx.f32 and lg2.approx.f32 (ftz: flush subnormals to
/// zero), with errors at the bounds the PTX ISA documents.
float attn_emu_ex2_approx(float x, uint32_t ftz);
float attn_emu_rcp_approx(float x, uint32_t ftz);
float attn_emu_lg2_approx(float x, uint32_t ftz);
/// tanh.approx.f32 (what NVPTX selects for llvm.tanh with afn), at the
/// error bound the PTX ISA documents.
float attn_emu_tanh_approx(float x);
/// The running block's dynamic shared memory.
void *attn_emu_dynamic_shared();
/// The running block's static shared memory.
void *attn_emu_static_shared();
}

#endif // ATTN_EMULATOR_RUNTIME_H
