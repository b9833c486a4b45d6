//===- HostTileKernel.h - One tile update as CPU vector code ----*- C++ -*-===//
//
// The host form of attn.tile_update: register-blocked vector kernels for
// Q.K^T and P.V, the online softmax on vectors, in the vector dialect that
// upstream lowers to the host's FMA instructions. The layout (the reasons
// are in docs/design.md, "Host kernels"):
//   Qt[d][r]      the query tile transposed, f32, padded with zero rows,
//                 scaled by scale*log2(e) when nothing modifies the scores;
//                 packed once per q tile, before the kv loop
//   S[c][r]       the tile's scores, a column of the tile per row of S, so
//                 that row maxima and sums are element-wise vector ops
//   K, V          read in place when f32 (K broadcast per element, V rows
//                 as vectors), widened per tile into f32 panels otherwise
//   acc[r][d]     the accumulator as tile_init allocated it
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_TRANSFORMS_HOSTTILEKERNEL_H
#define ATTN_DIALECT_ATTN_TRANSFORMS_HOSTTILEKERNEL_H

#include "attn/Dialect/Attn/IR/AttnOps.h"

namespace mlir::attn {

/// The f32 lanes of a vector over an extent: the largest power of two at
/// most `width` that divides `extent` (1 for an odd extent), so that every
/// vector of the extent is whole.
int64_t hostVectorLanes(int64_t extent, int64_t width);

/// Expands `op` (on memrefs) into vector code of `width` f32 lanes at its
/// place, with its buffers allocated at the start of the enclosing grid
/// iteration. Fails, having said why, when an emitter fails.
LogicalResult emitHostVectorTileUpdate(RewriterBase &rewriter, TileUpdateOp op,
                                       int64_t width);

} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_HOSTTILEKERNEL_H
