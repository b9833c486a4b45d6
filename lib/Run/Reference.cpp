//===- Reference.cpp - The naive f64 attention kernels are checked against ===//
//
// Three passes over each row of scores, in f64 and in index order, so that
// the result does not depend on tiling, on the online softmax or on any
// rounding the kernels do: the scores and their maximum, the sum of their
// exponentials, then each output element.
//
//===----------------------------------------------------------------------===//

#include "attn/Run/Reference.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir::attn::run;

ReferenceResult mlir::attn::run::referenceAttention(const ReferenceShape &s,
                                                    const ReferenceInputs &in) {
  const double inf = std::numeric_limits<double>::infinity();
  int64_t group = s.numQHeads / s.numKVHeads;
  ReferenceResult result;
  result.output.assign(s.batch * s.numQHeads * s.seqQ * s.headDimV, 0.0);
  result.logsumexp.assign(s.batch * s.numQHeads * s.seqQ, -inf);
  std::vector<double> scores(s.seqKV);
  std::vector<char> kept(s.seqKV);
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t h = 0; h < s.numQHeads; ++h)
      for (int64_t i = 0; i < s.seqQ; ++i) {
        int64_t g = h / group;
        int64_t row = (b * s.numQHeads + h) * s.seqQ + i;
        double m = -inf;
        for (int64_t j = 0; j < s.seqKV; ++j) {
          kept[j] = !in.keep || in.keep(b, h, i, j);
          double dot = 0;
          for (int64_t d = 0; d < s.headDimQK; ++d)
            dot += in.query[row * s.headDimQK + d] *
                   in.key[((b * s.numKVHeads + g) * s.seqKV + j) * s.headDimQK +
                          d];
          double score = dot * in.scale;
          if (!in.bias.empty()) {
            int64_t bb = in.biasBatch == 1 ? 0 : b;
            int64_t bh = in.biasHeads == 1 ? 0 : h;
            score +=
                in.bias[((bb * in.biasHeads + bh) * s.seqQ + i) * s.seqKV + j];
          }
          if (in.modify)
            score = in.modify(score, b, h, i, j);
          scores[j] = score;
          if (kept[j])
            m = std::max(m, score);
        }
        double sum = 0;
        for (int64_t j = 0; j < s.seqKV; ++j)
          if (kept[j])
            sum += std::exp(scores[j] - m);
        if (sum == 0)
          continue; // no score kept: O = 0, lse = -inf
        result.logsumexp[row] = m + std::log(sum);
        for (int64_t d = 0; d < s.headDimV; ++d) {
          double acc = 0;
          for (int64_t j = 0; j < s.seqKV; ++j)
            if (kept[j])
              acc +=
                  std::exp(scores[j] - m) *
                  in.value[((b * s.numKVHeads + g) * s.seqKV + j) * s.headDimV +
                           d];
          result.output[row * s.headDimV + d] = acc / sum;
        }
      }
  return result;
}
