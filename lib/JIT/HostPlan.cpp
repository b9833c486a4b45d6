//===- HostPlan.cpp - What a host kernel is compiled for --------*- C++ -*-===//
//
// Tiles, kv splits, lanes and threads of a host kernel. The tiles and
// splits depend on the attention's shape alone, never on the machine, so
// that a kernel's results are the same wherever it runs; lanes and threads
// come from the host (and change only the order of f32 sums within the
// documented bounds, or nothing: docs/design.md, "Host kernels").
//
//===----------------------------------------------------------------------===//

#include "HostPlan.h"

#include "Kernels.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/TargetParser/Host.h"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <optional>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::jit;
using namespace mlir::attn::jit::detail;

/// The widest host vector accepted: 4 zmm registers' worth of f32.
constexpr int64_t kMaxHostVectorWidth = 64;
/// The most threads a host kernel is compiled for.
constexpr int64_t kMaxHostThreads = 1024;
/// attn-tile's bound on kv-splits.
constexpr int64_t kMaxKvSplits = 256;

unsigned mlir::attn::jit::defaultHostThreads() {
  if (const char *env = std::getenv("ATTN_NUM_THREADS")) {
    unsigned threads = 0;
    if (!StringRef(env).getAsInteger(10, threads) && threads > 0 &&
        threads <= kMaxHostThreads)
      return threads;
  }
  // omp_get_num_procs: the cores this process may run on (its affinity
  // mask), as the OpenMP runtime that runs the grid counts them.
  return static_cast<unsigned>(std::max(1, omp_get_num_procs()));
}

int64_t mlir::attn::jit::hostVectorWidth() {
  static const int64_t width = [] {
    llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
    return features.lookup("avx512f") ? int64_t{16} : int64_t{8};
  }();
  return width;
}

llvm::Error
mlir::attn::jit::detail::checkHostOptions(const CompileOptions &options) {
  if (options.numThreads < 0 || options.numThreads > kMaxHostThreads)
    return makeError("attn: CompileOptions::numThreads is " +
                     Twine(options.numThreads) + "; expected 0 (the default: " +
                     "ATTN_NUM_THREADS, else the machine's cores) or 1 to " +
                     Twine(kMaxHostThreads));
  if (options.kvSplits < 0 || options.kvSplits > kMaxKvSplits)
    return makeError(
        "attn: CompileOptions::kvSplits is " + Twine(options.kvSplits) +
        "; expected 0 (chosen by the shape) or 1 to " + Twine(kMaxKvSplits));
  if (options.hostVectorWidth < CompileOptions::kHostVectorWidthAuto ||
      options.hostVectorWidth > kMaxHostVectorWidth)
    return makeError("attn: CompileOptions::hostVectorWidth is " +
                     Twine(options.hostVectorWidth) +
                     "; expected kHostVectorWidthAuto (-1), 0 (scalar loops) "
                     "or 1 to " +
                     Twine(kMaxHostVectorWidth) + " f32 lanes");
  return llvm::Error::success();
}

unsigned
mlir::attn::jit::detail::resolveHostThreads(const CompileOptions &options) {
  return options.numThreads > 0 ? static_cast<unsigned>(options.numThreads)
                                : defaultHostThreads();
}

int64_t
mlir::attn::jit::detail::resolveHostVectorWidth(const CompileOptions &options) {
  return options.hostVectorWidth == CompileOptions::kHostVectorWidthAuto
             ? hostVectorWidth()
             : options.hostVectorWidth;
}

/// The tiles by the query length: 64 x 64 for prefill (Qt, S, a V tile:
/// 16-32 KiB each, in L2 with room for K and V panels), and for decode
/// (Sq <= 4) q tiles of Sq rows by 256 keys, so that no row is padded and
/// each tile streams 64-128 KiB of K and V.
///
/// The kv splits: enough for 64 grid iterations (cyclic dealing keeps up
/// to 64 threads busy) while each split keeps at least 4 kv tiles.
TileShape
mlir::attn::jit::detail::chooseHostTiles(const CompileOptions &options,
                                         ModuleOp module) {
  constexpr int64_t kGridIterations = 64, kMinTilesPerSplit = 4;
  // Prefill's tiles unless an attn.attention says decode (attn.linear_
  // attention has no kv tiles to split).
  std::optional<AttentionShape> shape;
  // The query heads a tile holds (attn-tile's pack-gqa-heads, which the
  // host pipeline sets): a tile per kv head then.
  int64_t packedHeads = 0;
  module.walk([&](AttentionOp op) {
    shape = op.getShape();
    packedHeads = options.packGqaHeads ? packedQueryHeads(op) : 0;
  });
  bool decode = shape && shape->seqQ > 0 && shape->seqQ <= 4;
  TileShape tiles;
  tiles.q = options.tileQ > 0 ? options.tileQ : decode ? shape->seqQ : 64;
  tiles.kv = options.tileKV > 0 ? options.tileKV : decode ? 256 : 64;
  if (options.kvSplits > 0) {
    tiles.kvSplits = options.kvSplits;
    return tiles;
  }
  if (!shape || ShapedType::isDynamic(shape->batch) ||
      !shape->hasStaticSequences())
    return tiles; // Unsplit: no attention, or a grid of unknown size.
  int64_t grid = packedHeads ? shape->batch * shape->numKVHeads
                             : shape->batch * shape->numQHeads *
                                   llvm::divideCeil(shape->seqQ, tiles.q);
  int64_t kvTiles = llvm::divideCeil(shape->seqKV, tiles.kv);
  tiles.kvSplits =
      std::clamp<int64_t>(llvm::divideCeil(kGridIterations, grid), 1,
                          std::max<int64_t>(1, kvTiles / kMinTilesPerSplit));
  return tiles;
}
