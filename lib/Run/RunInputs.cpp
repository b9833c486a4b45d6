//===- RunInputs.cpp - attn-run's seeded inputs and run-time data
//----------===//
//
// See RunInputs.h.
//
//===----------------------------------------------------------------------===//

#include "RunInputs.h"

#include "attn/Mask/Mask.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/Support/MathExtras.h"

#include <numeric>
#include <random>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::run;
using namespace mlir::attn::run::detail;

/// Rounds `x` to `type` and appends its storage and exact value.
static void append(Buffer &buffer, Type type, double x) {
  auto push = [&](const void *p, size_t n) {
    auto *b = static_cast<const uint8_t *>(p);
    buffer.bytes.insert(buffer.bytes.end(), b, b + n);
  };
  if (type.isF32()) {
    float f = static_cast<float>(x);
    push(&f, 4);
    buffer.exact.push_back(f);
  } else if (type.isF16() || type.isBF16()) {
    APFloat value(x);
    bool lost = false;
    value.convert(type.isF16() ? APFloat::IEEEhalf() : APFloat::BFloat(),
                  APFloat::rmNearestTiesToEven, &lost);
    uint16_t bits =
        static_cast<uint16_t>(value.bitcastToAPInt().getZExtValue());
    push(&bits, 2);
    APFloat widened = value;
    widened.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
    buffer.exact.push_back(widened.convertToDouble());
  } else if (type.isInteger(32)) {
    int32_t i = static_cast<int32_t>(x);
    push(&i, 4);
    buffer.exact.push_back(i);
  } else {
    int64_t i = static_cast<int64_t>(x);
    push(&i, 8);
    buffer.exact.push_back(static_cast<double>(i));
  }
}

static Buffer randomBuffer(std::mt19937_64 &rng, Type tensorType,
                           double range) {
  auto type = cast<RankedTensorType>(tensorType);
  std::uniform_real_distribution<double> dist(-range, range);
  Buffer buffer;
  for (int64_t n = 0; n < type.getNumElements(); ++n)
    append(buffer, type.getElementType(), dist(rng));
  return buffer;
}

/// Document ids: per batch row, runs of random length (packed documents),
/// or `documents` runs of equal length (the same for queries and keys).
static Buffer segmentBuffer(std::mt19937_64 &rng, Type tensorType,
                            int64_t documents) {
  auto type = cast<RankedTensorType>(tensorType);
  Buffer buffer;
  for (int64_t b = 0; b < type.getDimSize(0); ++b) {
    int64_t doc = 0;
    for (int64_t i = 0; i < type.getDimSize(1); ++i) {
      if (documents > 0)
        doc = i * documents / type.getDimSize(1);
      else if (rng() % 97 == 0)
        ++doc;
      append(buffer, type.getElementType(), static_cast<double>(doc));
    }
  }
  return buffer;
}

double mlir::attn::run::detail::readOutput(const Buffer &buffer, Type type,
                                           size_t n) {
  if (type.isF32()) {
    float f;
    std::memcpy(&f, buffer.bytes.data() + 4 * n, 4);
    return f;
  }
  uint16_t bits;
  std::memcpy(&bits, buffer.bytes.data() + 2 * n, 2);
  APFloat value(type.isF16() ? APFloat::IEEEhalf() : APFloat::BFloat(),
                APInt(16, bits));
  bool lost = false;
  value.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
  return value.convertToDouble();
}

/// The layout of `op`'s block_sparse operands (static shapes): block c of
/// row `row` is listed iff splitmix64(seed * 2^40 + row * kvBlocks + c) /
/// 2^64 < density, in ascending order, alternately partial and full when
/// there is a full list, as far as the lists' widths allow.
static BlockLayout makeBlockLayout(AttentionOp op, const RunOptions &options) {
  BlockLayout l;
  auto counts = cast<RankedTensorType>(op.getKvNumBlocks().getType());
  int64_t width =
      cast<RankedTensorType>(op.getKvIndices().getType()).getDimSize(3);
  int64_t fullWidth =
      op.getFullKvIndices()
          ? cast<RankedTensorType>(op.getFullKvIndices().getType())
                .getDimSize(3)
          : 0;
  l.batch = counts.getDimSize(0);
  l.heads = counts.getDimSize(1);
  l.qBlocks = counts.getDimSize(2);
  l.blockQ = (*op.getSparseBlock())[0];
  l.blockKV = (*op.getSparseBlock())[1];
  l.kvBlocks = llvm::divideCeil(op.getShape().seqKV, l.blockKV);
  int64_t rows = l.batch * l.heads * l.qBlocks;
  l.counts.assign(rows, 0);
  l.indices.assign(rows * width, 0);
  l.fullCounts.assign(fullWidth ? rows : 0, 0);
  l.fullIndices.assign(rows * fullWidth, 0);
  l.kind.assign(rows * l.kvBlocks, 0);
  for (int64_t row = 0; row < rows; ++row) {
    int64_t listed = 0;
    for (int64_t c = 0; c < l.kvBlocks; ++c) {
      uint64_t state =
          (options.seed << 40) + static_cast<uint64_t>(row * l.kvBlocks + c);
      double u = static_cast<double>(mask::splitmix64(state) >> 11) * 0x1.0p-53;
      if (u >= options.blockDensity)
        continue;
      bool toFull = fullWidth && listed++ % 2 == 1;
      int32_t &n = toFull ? l.fullCounts[row] : l.counts[row];
      if (n >= (toFull ? fullWidth : width))
        continue;
      (toFull ? l.fullIndices[row * fullWidth + n]
              : l.indices[row * width + n]) = static_cast<int32_t>(c);
      ++n;
      l.kind[row * l.kvBlocks + c] = toFull ? 2 : 1;
    }
  }
  return l;
}

static PagedCache makePagedCache(AttentionOp op, std::mt19937_64 &rng) {
  PagedCache cache;
  auto tableType = cast<RankedTensorType>(op.getPageTable().getType());
  auto keyType = cast<RankedTensorType>(op.getKey().getType());
  int64_t batch = tableType.getDimSize(0);
  cache.slots = tableType.getDimSize(1);
  cache.headsMajor = op.hasHeadsMajorPages();
  cache.pageSize = keyType.getDimSize(cache.headsMajor ? 2 : 1);
  cache.numPages = keyType.getDimSize(0);
  std::vector<int32_t> free(cache.numPages);
  std::iota(free.begin(), free.end(), 0);
  std::shuffle(free.begin(), free.end(), rng);
  int64_t most = cache.slots * cache.pageSize;
  for (int64_t b = 0; b < batch; ++b) {
    int64_t n = b == 0 ? most : static_cast<int64_t>(rng() % (most + 1));
    cache.lengths.push_back(static_cast<int32_t>(n));
    for (int64_t s = 0; s < cache.slots; ++s) {
      int32_t page = static_cast<int32_t>(rng() % cache.numPages);
      if (s * cache.pageSize < n && !free.empty()) {
        page = free.back();
        free.pop_back();
      }
      cache.table.push_back(page);
    }
  }
  return cache;
}

/// The keys (or values) of a paged cache as the reference reads them,
/// [B, Hkv, slots * page_size, D]; 0 past each sequence's length.
std::vector<double>
mlir::attn::run::detail::gatherPages(const Buffer &pages, RankedTensorType type,
                                     const PagedCache &cache) {
  int64_t heads = type.getDimSize(cache.headsMajor ? 1 : 2),
          depth = type.getDimSize(3);
  int64_t batch = static_cast<int64_t>(cache.lengths.size());
  int64_t keys = cache.slots * cache.pageSize;
  std::vector<double> out(batch * heads * keys * depth, 0.0);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t j = 0; j < cache.lengths[b]; ++j) {
        int64_t page = cache.pageOf(b, j), slot = j % cache.pageSize;
        int64_t row = cache.headsMajor
                          ? (page * heads + h) * cache.pageSize + slot
                          : (page * cache.pageSize + slot) * heads + h;
        std::copy_n(pages.exact.begin() + row * depth, depth,
                    out.begin() + ((b * heads + h) * keys + j) * depth);
      }
  return out;
}

static PackedBatch makePackedBatch(AttentionOp op, std::mt19937_64 &rng) {
  int64_t batch = op.getCuSeqlensQ().getType().getDimSize(0) - 1;
  auto cut = [&](int64_t tokens) {
    std::vector<int32_t> cu{0};
    for (int64_t b = 1; b < batch; ++b)
      cu.push_back(static_cast<int32_t>(rng() % (tokens + 1)));
    std::sort(cu.begin() + 1, cu.end());
    if (batch > 0) // no sequence: the one offset 0
      cu.push_back(static_cast<int32_t>(tokens));
    return cu;
  };
  PackedBatch packed;
  packed.cuQ = cut(op.getQuery().getType().getDimSize(0));
  packed.cuK = cut(op.getKey().getType().getDimSize(0));
  return packed;
}

/// Rows [start, start + n) of a packed tensor's exact values ([T, H, D])
/// as one sequence's [1, H, n, D].
std::vector<double> mlir::attn::run::detail::sequenceRows(const Buffer &t,
                                                          RankedTensorType type,
                                                          int64_t start,
                                                          int64_t n) {
  int64_t heads = type.getDimSize(1), depth = type.getDimSize(2);
  std::vector<double> out(heads * n * depth);
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < n; ++i)
      std::copy_n(t.exact.begin() + ((start + i) * heads + h) * depth, depth,
                  out.begin() + (h * n + i) * depth);
  return out;
}

RunInputs mlir::attn::run::detail::makeInputs(AttentionOp op,
                                              const RunOptions &options) {
  uint64_t seed = options.seed;
  std::mt19937_64 rng(seed);
  RunInputs in;
  in.q = randomBuffer(rng, op.getQuery().getType(), 1.0);
  in.k = randomBuffer(rng, op.getKey().getType(), 1.0);
  in.v = randomBuffer(rng, op.getValue().getType(), 1.0);
  if (op.getBias())
    in.bias = randomBuffer(rng, op.getBias().getType(), 2.0);
  if (op.getQSegmentIds()) {
    in.qIds =
        segmentBuffer(rng, op.getQSegmentIds().getType(), options.documents);
    in.kvIds =
        segmentBuffer(rng, op.getKvSegmentIds().getType(), options.documents);
  }
  // Captured tensors: small non-negative integers (usable as lengths or
  // indices) or floats in [-1, 1].
  for (Value capture : op.getCaptures()) {
    auto type = cast<RankedTensorType>(capture.getType());
    Buffer buffer;
    for (int64_t n = 0; n < type.getNumElements(); ++n)
      append(buffer, type.getElementType(),
             isa<FloatType>(type.getElementType())
                 ? std::uniform_real_distribution<double>(-1, 1)(rng)
                 : static_cast<double>(rng() % 64));
    in.captures.push_back(std::move(buffer));
  }
  for (Buffer &buffer : in.captures)
    in.capturePointers.push_back(buffer.data());
  if (op.hasBlockLayout())
    in.layout = makeBlockLayout(op, options);
  if (op.isPaged())
    in.paged = makePagedCache(op, rng);
  if (op.isVarlen())
    in.packed = makePackedBatch(op, rng);
  Type elt = op.getQuery().getType().getElementType();
  auto outType = cast<RankedTensorType>(op.getOutput().getType());
  in.out.bytes.assign(outType.getNumElements() * (elt.isF32() ? 4 : 2),
                      0xff); // NaN in every element type
  if (Value lse = op.getLogsumexp())
    in.lse.resize(cast<RankedTensorType>(lse.getType()).getNumElements());
  return in;
}

jit::HostArgs mlir::attn::run::detail::RunInputs::hostArgs(AttentionOp op) {
  jit::HostArgs args;
  args.query = q.data();
  args.key = k.data();
  args.value = v.data();
  args.bias = op.getBias() ? bias.data() : nullptr;
  args.qSegmentIds = op.getQSegmentIds() ? qIds.data() : nullptr;
  args.kvSegmentIds = op.getQSegmentIds() ? kvIds.data() : nullptr;
  args.output = out.data();
  args.logsumexp = lse.empty() ? nullptr : lse.data();
  args.captures = capturePointers.data();
  if (layout) {
    args.kvNumBlocks = layout->counts.data();
    args.kvIndices = layout->indices.data();
    if (!layout->fullCounts.empty()) {
      args.fullKvNumBlocks = layout->fullCounts.data();
      args.fullKvIndices = layout->fullIndices.data();
    }
  }
  // The sizes of this run, for a kernel compiled with '?' sizes (a static
  // one takes its own).
  if (paged) {
    args.pageTable = paged->table.data();
    args.kvLengths = paged->lengths.data();
  }
  AttentionShape shape = op.getShape();
  args.batch = shape.batch;
  args.seqQ = shape.seqQ;
  // A paged cache's lengths are per sequence, in kvLengths.
  args.seqKV = paged ? 0 : shape.seqKV;
  // Packed sequences: the tokens of all of them.
  if (packed) {
    args.cuSeqlensQ = packed->cuQ.data();
    args.cuSeqlensK = packed->cuK.data();
    args.seqQ = op.getQuery().getType().getDimSize(0);
    args.seqKV = op.getKey().getType().getDimSize(0);
  }
  args.numCaptures = capturePointers.size();
  return args;
}
