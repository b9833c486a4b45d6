//===- RunInputs.h - attn-run's seeded inputs and run-time data -*- C++ -*-===//
//
// What attn-run feeds an attention: seeded random Q, K, V, bias, document
// ids and captures in their element types (with their exact values for
// the f64 reference), NaN-poisoned outputs, and the run-time data some
// forms take: a block_sparse layout, a paged cache's page table and
// lengths, packed sequences' offsets. Runner.cpp runs and checks them.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_RUN_RUNINPUTS_H
#define ATTN_LIB_RUN_RUNINPUTS_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/JIT/Compiler.h"
#include "attn/Run/Runner.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

namespace mlir::attn::run::detail {

/// A buffer in some element type plus the exact values it holds.
struct Buffer {
  std::vector<uint8_t> bytes;
  std::vector<double> exact;
  void *data() { return bytes.data(); }
};

/// A block_sparse layout's buffers and what each block of each row is.
struct BlockLayout {
  std::vector<int32_t> counts, indices, fullCounts, fullIndices;
  /// [row * kvBlocks + c]: 0 dropped, 1 listed (mask applies), 2 full.
  std::vector<uint8_t> kind;
  int64_t batch = 0, heads = 0, qBlocks = 0, kvBlocks = 0;
  int64_t blockQ = 1, blockKV = 1;

  int kindOf(int64_t b, int64_t h, int64_t i, int64_t j) const {
    int64_t row =
        ((batch == 1 ? 0 : b) * heads + (heads == 1 ? 0 : h)) * qBlocks +
        i / blockQ;
    return kind[row * kvBlocks + j / blockKV];
  }
};

/// A paged cache's page table and lengths, seeded: sequence b holds
/// kv_lengths[b] keys (the first sequence the most the table allows, the
/// others a random number, 0 included) in pages drawn without repeats
/// while the cache has unused ones, then at random.
struct PagedCache {
  std::vector<int32_t> table, lengths;
  int64_t slots = 0, pageSize = 0, numPages = 0;
  bool headsMajor = false; // pages [num_pages, Hkv, page_size, D]

  /// The page index that key j of sequence b is read from, clamped into
  /// the cache as the kernels clamp it.
  int64_t pageOf(int64_t b, int64_t j) const {
    int64_t page = table[b * slots + j / pageSize];
    return std::clamp<int64_t>(page, 0, numPages - 1);
  }
};

/// Packed sequences' offsets, seeded: the query tokens and the key tokens
/// each cut into B sequences at random points (empty ones included),
/// every token in one.
struct PackedBatch {
  std::vector<int32_t> cuQ, cuK;
  int64_t size() const { return static_cast<int64_t>(cuQ.size()) - 1; }
  int64_t lengthQ(int64_t b) const { return cuQ[b + 1] - cuQ[b]; }
  int64_t lengthK(int64_t b) const { return cuK[b + 1] - cuK[b]; }
};

/// The seeded random inputs of an attention and its poisoned outputs.
struct RunInputs {
  Buffer q, k, v, bias, qIds, kvIds;
  std::optional<BlockLayout> layout;
  std::optional<PagedCache> paged;
  std::optional<PackedBatch> packed;
  std::vector<Buffer> captures;
  std::vector<const void *> capturePointers; // into `captures`
  Buffer out;
  std::vector<float> lse;

  /// The buffers as the kernel takes them.
  jit::HostArgs hostArgs(AttentionOp op);
};

/// The seeded random inputs of `op` (options' seed, documents, block
/// density) and its poisoned outputs.
RunInputs makeInputs(AttentionOp op, const RunOptions &options);

/// Output element `n` of `buffer` (of element type `type`) as a double.
double readOutput(const Buffer &buffer, Type type, size_t n);

/// The keys (or values) of a paged cache as the reference reads them,
/// [B, Hkv, slots * page_size, D]; 0 past each sequence's length.
std::vector<double> gatherPages(const Buffer &pages, RankedTensorType type,
                                const PagedCache &cache);

/// Rows [start, start + n) of a packed tensor's exact values ([T, H, D])
/// as one sequence's [1, H, n, D].
std::vector<double> sequenceRows(const Buffer &t, RankedTensorType type,
                                 int64_t start, int64_t n);

} // namespace mlir::attn::run::detail

#endif // ATTN_LIB_RUN_RUNINPUTS_H
