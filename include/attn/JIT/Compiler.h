//===- Compiler.h - The attn JIT API for host applications ------*- C++ -*-===//
//
// Build an attention spec in C++ (or hand over MLIR text with one
// attn.attention), compile it, and run it on caller-owned buffers. Compiled
// kernels are cached in memory by the spec and the compile options (at
// most CompileOptions::maxCachedKernels, least recently used dropped
// first). Bad specs come back as llvm::Error carrying the verifier's
// message, never as an abort. The host target JIT-compiles the host
// lowering through MLIR's ExecutionEngine; the emulate target runs the GPU
// kernel's NVVM IR on the CPU through the emulator; the GPU target joins
// this API with the CUDA runtime.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_JIT_COMPILER_H
#define ATTN_JIT_COMPILER_H

#include "attn/Emulator/Runtime.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlir::attn::jit {

enum class ElementType { F32, F16, BF16 };

/// An attention, stated with the same vocabulary as attn.attention. Masks
/// and score modifications are given in the dialect's attribute syntax;
/// regions as their body text over %b, %h, %i, %j (and %s for score_mod)
/// ending in attn.yield.
struct AttentionSpec {
  int64_t batch = 1;
  int64_t numQHeads = 1;
  int64_t numKVHeads = 1;
  int64_t seqQ = 1;
  int64_t seqKV = 1;
  int64_t headDimQK = 64;
  int64_t headDimV = 64;
  ElementType elementType = ElementType::F32;
  std::optional<double> scale; // default 1/sqrt(headDimQK)
  std::string mask;            // e.g. "#attn.causal"; empty: none
  std::string scoreMod;        // e.g. "#attn.softcap<30.0>"; empty: none
  std::string maskModBody;     // mask_mod region body; empty: none
  std::string scoreModBody;    // score_mod region body; empty: none
  bool hasBias = false;        // f32 bias [B, Hq, Sq, Skv]
  bool hasSegmentIds = false;  // i32 ids [B, Sq] and [B, Skv]
  bool withLogsumexp = false;  // also compute lse [B, Hq, Sq] (f32)
  /// The batch and both sequence lengths as '?' (the host target): one
  /// kernel serves every length, stated at run time in HostArgs (batch,
  /// seqQ, seqKV); `batch`, `seqQ` and `seqKV` above are then not part of
  /// the spec. Masks whose tile table is built at compile time
  /// (#attn.random_blocks, #attn.block_layout) need static lengths.
  bool dynamicSizes = false;
  /// A run-time block layout of blocks sparseBlockQ x sparseBlockKV (0: none):
  /// i32 kv_num_blocks [B, Hq, Qb] and kv_indices [B, Hq, Qb, KVb] in
  /// HostArgs, FlexAttention's BlockMask; with `fullBlocks` also the full
  /// lists. Needs static lengths.
  int64_t sparseBlockQ = 0, sparseBlockKV = 0;
  bool fullBlocks = false;
  /// A paged KV cache of `numPages` pages of `pageSize` keys (0: none): K
  /// and V [numPages, pageSize, Hkv, D], and in HostArgs an i32 page table
  /// [B, ceil(seqKV / pageSize)] and i32 kv lengths [B] (each at most the
  /// table's keys). `seqKV` is the longest sequence the table holds; the
  /// batch and seqQ may be dynamic, `numPages` is static.
  int64_t pageSize = 0, numPages = 0;
  /// Pages [numPages, Hkv, pageSize, D] (kv_layout = "hnd", FlashInfer's
  /// HND: a head's keys of a page contiguous) instead.
  bool headsMajorPages = false;
  /// Packed sequences (varlen, FlashAttention's varlen form): Q [seqQ,
  /// Hq, Dqk], K and V [seqKV, Hkv, D], O [seqQ, Hq, Dv] and the
  /// logsumexp [seqQ, Hq], `seqQ` and `seqKV` being the tokens of all
  /// `batch` sequences; in HostArgs the i32 offsets cuSeqlensQ and
  /// cuSeqlensK [batch + 1]. With `dynamicSizes` all three are stated at
  /// run time (each at least 1: a stated 0 means the spec's size). Not
  /// with bias, segment ids, a block layout, pages or kvSplits > 1.
  bool varlen = false;

  /// The spec as MLIR text: one function holding one attn.attention.
  std::string toMLIR() const;
};

/// Tile sizes and other compile options; part of the cache key.
struct CompileOptions {
  /// The host kernels' tile shape; 0 chooses by the attention's shape
  /// (64 x 64 for prefill, Sq x 256 for decode with Sq <= 4; decode of
  /// grouped heads packs a kv head's query heads, (Hq / Hkv * Sq) x 256,
  /// whatever tileQ says, unless packGqaHeads is false).
  int64_t tileQ = 0;
  int64_t tileKV = 0;
  /// Instrument the kernel to count the kv tiles it visits (see
  /// HostKernel::run); costs an atomic add per tile.
  bool countTileVisits = false;
  /// The most kernels the compiler keeps in memory, of all targets
  /// together; beyond it the least recently used one is dropped (callers
  /// still holding it keep it alive). 0 keeps none. Not part of the key;
  /// Compiler::setCacheLimit changes it later.
  size_t maxCachedKernels = 256;
  /// The GPU (and emulated) kernels' configuration, tile_q x tile_kv and
  /// warps ("128x64w4"; "128x64" chooses the warps); empty: the table's
  /// for the attention and chip (docs/gpu.md, "Kernel configurations").
  /// One that does not fit the attention is a compile error.
  std::string gpuKernelConfig{};
  /// The host kernels' f32 vector lanes: kHostVectorWidthAuto (the JIT
  /// host's widest, hostVectorWidth()), 0 for the scalar loops (a
  /// debugging form, far slower), or a positive number of lanes.
  int64_t hostVectorWidth = kHostVectorWidthAuto;
  static constexpr int64_t kHostVectorWidthAuto = -1;
  /// Threads a host kernel runs its grid on (batch x head x q tile; q
  /// tiles dealt in turn, so that causal and banded grids are balanced):
  /// 0 for defaultHostThreads(), 1 for the caller's thread only. Results
  /// are identical for every count. The grid runs on LLVM's OpenMP runtime
  /// (libomp), one team per concurrent run.
  int64_t numThreads = 0;
  /// Split-KV on the host: each query tile's kv tiles in this many parts,
  /// run as separate grid iterations and merged exactly by the logsumexp
  /// rule; 0 chooses by the shape alone (docs/design.md, "Host kernels"),
  /// so that results do not depend on the machine or the thread count.
  int64_t kvSplits = 0;
  /// Decode (Sq <= 4) of grouped heads on the host: one tile holds a kv
  /// head's query heads, so K and V are read once per group instead of
  /// once per query head (attn-tile's pack-gqa-heads). False: a tile per
  /// query head, for comparison.
  bool packGqaHeads = true;
};

/// ATTN_NUM_THREADS when it is a positive integer, else the cores this
/// process may run on.
unsigned defaultHostThreads();

/// The f32 lanes of this machine's widest vector FMA, as LLVM detects the
/// host CPU: 16 with AVX-512F, 8 otherwise (AVX2, or narrower vectors that
/// LLVM splits).
int64_t hostVectorWidth();

/// Caller-owned, contiguous row-major buffers of the attention's shapes.
/// f16 and bf16 tensors are arrays of 16-bit values.
struct HostArgs {
  const void *query = nullptr;
  const void *key = nullptr;
  const void *value = nullptr;
  const void *bias = nullptr;        // when the attention has a bias
  const void *qSegmentIds = nullptr; // when it has segment ids
  const void *kvSegmentIds = nullptr;
  void *output = nullptr;
  float *logsumexp = nullptr; // when it returns the logsumexp
  /// The tensors captured by mask_mod / score_mod regions, in operand order.
  const void *const *captures = nullptr;
  size_t numCaptures = 0;
  /// The run-time sizes of a spec compiled with dynamic dims ('?' in the
  /// batch, query-length or key/value-length dim of its tensors): 0 takes
  /// the spec's static size; a dynamic one must be stated (>= 1), and a
  /// stated size must equal the spec's where that is static. Every buffer
  /// then has the shape these sizes give it (HostKernel::arguments()).
  int64_t batch = 0;
  int64_t seqQ = 0;
  int64_t seqKV = 0;
  /// An attn.merge's inputs: the parts' outputs and their logsumexp (its
  /// results are `output` and `logsumexp`).
  const void *partials = nullptr;
  const float *partialLogsumexp = nullptr;
  /// A run-time block layout (block_sparse, full_blocks): FlexAttention's
  /// BlockMask kv_num_blocks, kv_indices, full_kv_num_blocks,
  /// full_kv_indices (i32).
  const int32_t *kvNumBlocks = nullptr;
  const int32_t *kvIndices = nullptr;
  const int32_t *fullKvNumBlocks = nullptr;
  const int32_t *fullKvIndices = nullptr;
  /// A paged KV cache (paged): `key` and `value` are then the pages
  /// [num_pages, page_size, Hkv, D]; the page table [B, max_pages] and
  /// each sequence's key length [B] (i32).
  const int32_t *pageTable = nullptr;
  const int32_t *kvLengths = nullptr;
  /// Packed sequences (varlen): `query` is then [Tq, Hq, Dqk], `key` and
  /// `value` [Tk, Hkv, D], `output` [Tq, Hq, Dv] and `logsumexp` [Tq, Hq];
  /// the offsets of each sequence's query and key rows [batch + 1] (i32:
  /// from 0, non-decreasing, at most Tq and Tk; checked). `seqQ` and
  /// `seqKV` state Tq and Tk where they are dynamic, `batch` the number
  /// of sequences.
  const int32_t *cuSeqlensQ = nullptr;
  const int32_t *cuSeqlensK = nullptr;
};

/// One buffer a compiled kernel takes, as HostArgs names it: what a host
/// or a binding checks before a run.
struct KernelArgument {
  enum class Role {
    Query,
    Key,
    Value,
    Bias,
    QSegmentIds,
    KvSegmentIds,
    Capture,
    Output,
    Logsumexp,
    Partials,         // attn.merge: the parts' outputs [N, B, H, S, Dv]
    PartialLogsumexp, // attn.merge: the parts' logsumexp [N, B, H, S], f32
    KvNumBlocks,      // block_sparse: i32 [B, Hq, Qb]
    KvIndices,        // block_sparse: i32 [B, Hq, Qb, W]
    FullKvNumBlocks,  // full_blocks
    FullKvIndices,
    KeyPages,   // paged: K [num_pages, page_size, Hkv, Dqk] (HostArgs::key)
    ValuePages, // paged: V [num_pages, page_size, Hkv, Dv] (HostArgs::value)
    PageTable,  // paged: i32 [B, max_pages]
    KvLengths,  // paged: i32 [B]
    CuSeqlensQ, // varlen: i32 [B + 1]
    CuSeqlensK  // varlen: i32 [B + 1]
  };
  Role role = Role::Query;
  /// "query", "key", ..., "captured tensor", "output", "logsumexp".
  std::string name;
  /// The element type as MLIR spells it: "f32", "f16", "bf16", "i32", ...
  std::string elementType;
  /// Row-major dims; kDynamic where HostArgs states the size at run time
  /// (the batch, seqQ or seqKV named by `runSize`).
  std::vector<int64_t> shape;
  static constexpr int64_t kDynamic = -1;
  /// For each dim: "batch", "seqQ", "seqKV" for a dynamic one ("batch + 1"
  /// for varlen offsets; a packed tensor's tokens are "seqQ" or "seqKV"),
  /// else empty.
  std::vector<std::string> runSize;
  /// For Role::Capture: its index in HostArgs::captures.
  unsigned captureIndex = 0;
};

/// The tile shape of the tiled IR a kernel was compiled from: attn-tile's
/// tile_q x tile_kv, as the tile ops state it (0 x 0 for a linear
/// attention, which has none).
struct TileShape {
  int64_t q = 0, kv = 0;
  /// Parts each query tile's kv range is split into (1: unsplit).
  int64_t kvSplits = 1;
};

/// A compiled host kernel. Thread-safe to run concurrently.
class HostKernel {
public:
  virtual ~HostKernel();
  virtual TileShape tiles() const = 0;
  /// The buffers it takes, in the entry's order (the operands of the
  /// attention, then its results).
  virtual const std::vector<KernelArgument> &arguments() const = 0;
  /// Runs the attention; fails if a buffer the attention needs is null.
  /// With CompileOptions::countTileVisits, `tileVisits` receives the number
  /// of (q tile, kv tile) blocks computed (runs must then not overlap).
  virtual llvm::Error run(const HostArgs &args,
                          int64_t *tileVisits = nullptr) const = 0;
};

/// How a GPU kernel is launched: the same contract for the emulator and
/// the CUDA runtime (from the kernel's attn.gpu.* attributes).
struct GpuLaunch {
  std::string kernelName;
  int64_t grid[3] = {1, 1, 1};
  int64_t block[3] = {1, 1, 1};
  int64_t dynamicSharedBytes = 0;
};

/// A GPU kernel compiled for the emulator: the NVVM-level IR that becomes
/// PTX, rewritten for the host (docs/emulator.md). Thread-safe to run
/// concurrently.
class EmulatedKernel {
public:
  virtual ~EmulatedKernel();
  virtual TileShape tiles() const = 0;
  virtual const std::vector<KernelArgument> &arguments() const = 0;
  virtual const GpuLaunch &launch() const = 0;
  /// Runs the kernel with the emulator's checks on (bounds against the
  /// HostArgs buffers, races, uninitialised shared memory, barriers,
  /// divergence); a failed check is an error naming kernel, block, thread
  /// and address. The launch's counters go to `counters`.
  virtual llvm::Error run(const HostArgs &args,
                          emu::Counters *counters = nullptr,
                          unsigned hostThreads = 1) const = 0;
};

/// A GPU kernel compiled to PTX, launched through runtime/ (the CUDA
/// driver, opened at first use). Thread-safe to run concurrently.
class GpuKernel {
public:
  virtual ~GpuKernel();
  virtual TileShape tiles() const = 0;
  virtual const std::vector<KernelArgument> &arguments() const = 0;
  /// The attention kernel's launch (tile-table kernels may run first).
  virtual const GpuLaunch &launch() const = 0;
  virtual const std::string &ptx() const = 0;
  /// Launches on `stream` (a CUstream; null: the default stream), without
  /// waiting. The pointers in `deviceArgs` are device pointers (in the
  /// current context, e.g. PyTorch's) of contiguous row-major tensors of
  /// the spec's shapes. Temporaries (run-time tile tables) are allocated
  /// on the first launch on a stream and kept for later launches there
  /// until the kernel is destroyed, which must not happen while its
  /// launches still run. Without a CUDA driver this fails with the
  /// runtime's "no CUDA driver" message.
  virtual llvm::Error run(const HostArgs &deviceArgs,
                          void *stream = nullptr) const = 0;
};

struct GpuOptions {
  std::string chip = "sm_80"; // or "sm_90"
  int device = 0;
  /// When set, compiled PTX and its launch contract are also kept in this
  /// directory (one file per kernel, attn-<hash>.json) and reused across
  /// processes. An entry is used only when it is a regular file, stores
  /// this compile's full key (spec, chip, LLVM pipeline, kernel
  /// generation), its PTX matches its SHA-256 and its launch contract is
  /// valid; any other is recompiled and rewritten (diskCacheRejects).
  /// A failure to write is a warning; the compile still succeeds.
  std::string cacheDirectory;
  /// The CUDA toolkit whose libdevice kernels calling __nv_* functions
  /// link (ptx::PTXOptions::cudaPath); empty: ATTN_CUDA_PATH, the CUDA_*
  /// variables, then the toolkit found when attn was configured.
  std::string cudaPath;
};

class Compiler {
public:
  explicit Compiler(CompileOptions options = {});
  ~Compiler();
  Compiler(const Compiler &) = delete;
  Compiler &operator=(const Compiler &) = delete;

  llvm::Expected<std::shared_ptr<const HostKernel>>
  compileForHost(const AttentionSpec &spec);
  /// `mlirText` holds exactly one attn.attention, attn.linear_attention or
  /// attn.merge;
  /// its batch and sequence-length dims may be dynamic ('?', stated at run
  /// time in HostArgs), its head counts and head dims are static.
  llvm::Expected<std::shared_ptr<const HostKernel>>
  compileForHost(llvm::StringRef mlirText);

  /// The GPU kernel (attn-to-gpu: f16/bf16, static shapes, head dims
  /// multiples of 64) compiled for the emulator.
  llvm::Expected<std::shared_ptr<const EmulatedKernel>>
  compileForEmulator(const AttentionSpec &spec);
  llvm::Expected<std::shared_ptr<const EmulatedKernel>>
  compileForEmulator(llvm::StringRef mlirText);

  /// The GPU kernel as PTX (cached in memory by spec and chip).
  llvm::Expected<std::shared_ptr<const GpuKernel>>
  compileForGpu(const AttentionSpec &spec, const GpuOptions &options = {});
  llvm::Expected<std::shared_ptr<const GpuKernel>>
  compileForGpu(llvm::StringRef mlirText, const GpuOptions &options = {});

  int64_t cacheHits() const;
  int64_t cacheMisses() const;
  /// The kernels held in memory now (at most cacheLimit()).
  size_t cacheSize() const;
  size_t cacheLimit() const;
  /// Changes CompileOptions::maxCachedKernels, dropping the least recently
  /// used kernels beyond it.
  void setCacheLimit(size_t maxKernels);
  /// Drops every kernel held in memory (kernels callers hold stay alive).
  void clearCache();
  /// Compilations answered from GpuOptions::cacheDirectory.
  int64_t diskCacheHits() const;
  /// Entries in GpuOptions::cacheDirectory that were there but not used
  /// (not a regular file, another key, PTX not matching its checksum, an
  /// invalid contract) and were recompiled. The first is reported on
  /// stderr as a warning.
  int64_t diskCacheRejects() const;
  /// Entries that could not be written (the first is a warning on stderr).
  int64_t diskCacheWriteFailures() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace mlir::attn::jit

#endif // ATTN_JIT_COMPILER_H
