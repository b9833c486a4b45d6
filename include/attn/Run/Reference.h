//===- Reference.h - The naive f64 attention kernels are checked against -===//
//
// One softmax attention in f64, written from the definition: scores
// q.k * scale (+ bias), modified, masked, softmax, times V. attn-run and
// the numerics tests compare every kernel with it. It shares no code with
// the compiler and takes no MLIR type: the caller states the mask as a
// predicate and the score modification as a function, each from its
// documented definition (or, for attn-run, from the mask algebra, which
// unittests/Mask checks against brute force).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUN_REFERENCE_H
#define ATTN_RUN_REFERENCE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <cstdint>
#include <vector>

namespace mlir::attn::run {

struct ReferenceShape {
  int64_t batch = 1, numQHeads = 1, numKVHeads = 1, seqQ = 1, seqKV = 1;
  int64_t headDimQK = 1, headDimV = 1;
};

/// The exact values of the inputs, contiguous row-major: query
/// [B, Hq, Sq, Dqk], key [B, Hkv, Skv, Dqk], value [B, Hkv, Skv, Dv];
/// query head h reads kv head h / (Hq / Hkv).
struct ReferenceInputs {
  llvm::ArrayRef<double> query, key, value;
  /// [biasBatch, biasHeads, Sq, Skv], an extent of 1 broadcasting over
  /// batch or query heads; empty when there is no bias.
  llvm::ArrayRef<double> bias;
  int64_t biasBatch = 1, biasHeads = 1;
  double scale = 1.0;
  /// Whether score (b, h, i, j) takes part; null keeps every score.
  llvm::function_ref<bool(int64_t b, int64_t h, int64_t i, int64_t j)> keep;
  /// The score modification, applied after scale and bias; null: none.
  /// A dropped score is -inf.
  llvm::function_ref<double(double s, int64_t b, int64_t h, int64_t i,
                            int64_t j)>
      modify;
};

struct ReferenceResult {
  /// [B, Hq, Sq, Dv]; a row that keeps no score is 0.
  std::vector<double> output;
  /// [B, Hq, Sq]; -inf for a row that keeps no score.
  std::vector<double> logsumexp;
};

/// The attention of `inputs`, naively: every score of a row, its maximum,
/// the sum of exponentials, then each output element.
ReferenceResult referenceAttention(const ReferenceShape &shape,
                                   const ReferenceInputs &inputs);

} // namespace mlir::attn::run

#endif // ATTN_RUN_REFERENCE_H
