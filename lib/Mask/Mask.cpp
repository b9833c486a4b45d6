//===- Mask.cpp - The attention mask algebra ------------------------------===//
//
// Implements every mask pattern of Mask.h: the element predicate, the tile
// classifier and the attribute-syntax printer of each pattern, plus tile-map
// computation and rendering. Structured patterns (causal, window, dilated,
// prefix-LM, global) classify a tile in O(1) or O(log #indices) from the
// range of j - i over the tile, since tiling 128k x 128k score matrices must
// not touch individual elements; block patterns scan only the blocks a tile
// overlaps.
//
//===----------------------------------------------------------------------===//

#include "attn/Mask/Mask.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <unordered_map>
#include <utility>

using namespace mlir::attn::mask;

Mask::~Mask() = default;

namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

/// a * b for non-negative operands, saturated so that "effectively
/// unbounded" parameters do not overflow into nonsense.
int64_t saturatingMul(int64_t a, int64_t b) {
  if (a == 0 || b == 0)
    return 0;
  if (a > kInt64Max / b)
    return kInt64Max;
  return a * b;
}

/// Floor and ceiling division for a positive divisor; C++ division truncates
/// toward zero, which is wrong for the negative differences j - i.
int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}
int64_t ceilDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && a > 0) ? q + 1 : q;
}

/// Combines "is some element kept" and "is some element dropped" into a
/// class; callers guarantee the rectangle is non-empty.
TileClass fromFlags(bool anyKept, bool anyDropped) {
  if (!anyKept)
    return TileClass::Empty;
  if (!anyDropped)
    return TileClass::Full;
  return TileClass::Partial;
}

/// Classifies by testing every cell of [row0, row1) x [col0, col1) with
/// `kept`, stopping at the first mix of kept and dropped cells; `anyDropped`
/// says whether cells outside the scanned range are already dropped.
template <typename KeptFn>
TileClass classifyByScan(int64_t row0, int64_t row1, int64_t col0, int64_t col1,
                         bool anyDropped, KeptFn kept) {
  bool anyKept = false;
  for (int64_t row = row0; row < row1; ++row)
    for (int64_t col = col0; col < col1; ++col) {
      if (kept(row, col))
        anyKept = true;
      else
        anyDropped = true;
      if (anyKept && anyDropped)
        return TileClass::Partial;
    }
  return fromFlags(anyKept, anyDropped);
}

const char *alignName(Alignment a) {
  return a == Alignment::BottomRight ? "bottom_right" : "top_left";
}

/// The difference d = j - (i + offset) over a clipped rectangle takes every
/// integer value in [lo, hi]: moving one row or one column changes it by
/// one. Exactness of the diagonal patterns rests on that.
struct DiffRange {
  int64_t lo, hi;
};
DiffRange diffRange(const TileRect &r, int64_t offset) {
  return {r.kvBegin - (r.qEnd - 1) - offset, (r.kvEnd - 1) - r.qBegin - offset};
}

//===----------------------------------------------------------------------===//
// Structured patterns.
//===----------------------------------------------------------------------===//

class AllMask final : public Mask {
public:
  AllMask() : Mask(Kind::All) {}
  bool isKept(const MaskContext &, int64_t, int64_t, int64_t,
              int64_t) const override {
    return true;
  }
  std::optional<Band> band() const override { return Band{}; }
  std::string str() const override { return "#attn.none"; }

protected:
  TileClass classifyClipped(const MaskContext &,
                            const TileRect &) const override {
    return TileClass::Full;
  }
};

class CausalMask final : public Mask {
public:
  explicit CausalMask(Alignment align) : Mask(Kind::Causal), align(align) {}
  bool isKept(const MaskContext &ctx, int64_t, int64_t, int64_t i,
              int64_t j) const override {
    return j <= i + ctx.alignmentOffset(align);
  }
  std::optional<Band> band() const override {
    return Band{-Band::kUnbounded, 0, align};
  }
  std::string str() const override {
    return align == Alignment::TopLeft ? "#attn.causal"
                                       : "#attn.causal<bottom_right>";
  }

protected:
  TileClass classifyClipped(const MaskContext &ctx,
                            const TileRect &r) const override {
    DiffRange d = diffRange(r, ctx.alignmentOffset(align));
    // Kept iff d <= 0.
    return fromFlags(d.lo <= 0, d.hi > 0);
  }

private:
  Alignment align;
};

/// Ends the attribute text of a causal-like pattern: its alignment when
/// not the default, then the closing '>'.
std::string closeWithAlignment(std::string text, Alignment align) {
  if (align != Alignment::TopLeft)
    text += std::string(", alignment = ") + alignName(align);
  return text + ">";
}

class WindowMask final : public Mask {
public:
  WindowMask(int64_t left, int64_t right, Alignment align)
      : Mask(Kind::Window), left(left), right(right), align(align) {}
  bool isKept(const MaskContext &ctx, int64_t, int64_t, int64_t i,
              int64_t j) const override {
    int64_t d = j - (i + ctx.alignmentOffset(align));
    return d >= -left && d <= right;
  }
  std::optional<Band> band() const override {
    return Band{-left, right, align};
  }
  std::string str() const override {
    return closeWithAlignment("#attn.window<left = " + std::to_string(left) +
                                  ", right = " + std::to_string(right),
                              align);
  }

protected:
  TileClass classifyClipped(const MaskContext &ctx,
                            const TileRect &r) const override {
    DiffRange d = diffRange(r, ctx.alignmentOffset(align));
    bool anyKept = d.hi >= -left && d.lo <= right;
    bool anyDropped = d.lo < -left || d.hi > right;
    return fromFlags(anyKept, anyDropped);
  }

private:
  int64_t left, right;
  Alignment align;
};

class DilatedMask final : public Mask {
public:
  DilatedMask(int64_t window, int64_t dilation, Alignment align)
      : Mask(Kind::Dilated), window(window), dilation(dilation), align(align),
        bound(saturatingMul(window, dilation)) {}
  bool isKept(const MaskContext &ctx, int64_t, int64_t, int64_t i,
              int64_t j) const override {
    int64_t d = j - (i + ctx.alignmentOffset(align));
    return d % dilation == 0 && d >= -bound && d <= bound;
  }
  std::string str() const override {
    return closeWithAlignment(
        "#attn.dilated<window = " + std::to_string(window) +
            ", dilation = " + std::to_string(dilation),
        align);
  }

protected:
  TileClass classifyClipped(const MaskContext &ctx,
                            const TileRect &r) const override {
    DiffRange d = diffRange(r, ctx.alignmentOffset(align));
    // Kept differences are the multiples of `dilation` in [-bound, bound];
    // since every d in [lo, hi] occurs, count those multiples analytically.
    int64_t lo = std::max(d.lo, -bound), hi = std::min(d.hi, bound);
    bool anyKept = lo <= hi && floorDiv(hi, dilation) >= ceilDiv(lo, dilation);
    bool allMultiples = dilation == 1 || (d.lo == d.hi && d.lo % dilation == 0);
    bool anyDropped = d.lo < -bound || d.hi > bound || !allMultiples;
    return fromFlags(anyKept, anyDropped);
  }

private:
  int64_t window, dilation;
  Alignment align;
  int64_t bound;
};

class PrefixLMMask final : public Mask {
public:
  explicit PrefixLMMask(int64_t prefix)
      : Mask(Kind::PrefixLM), prefix(prefix) {}
  bool isKept(const MaskContext &, int64_t, int64_t, int64_t i,
              int64_t j) const override {
    return j < prefix || j <= i;
  }
  std::string str() const override {
    return "#attn.prefix_lm<prefix = " + std::to_string(prefix) + ">";
  }

protected:
  TileClass classifyClipped(const MaskContext &,
                            const TileRect &r) const override {
    int64_t lastCol = r.kvEnd - 1, lastRow = r.qEnd - 1;
    // Some element is kept via the prefix or via the causal part (the
    // bottom-left corner is the most likely causal hit).
    bool anyKept = r.kvBegin < prefix || r.kvBegin <= lastRow;
    // The top-right corner is the least likely hit of both parts.
    bool anyDropped = lastCol >= prefix && lastCol > r.qBegin;
    return fromFlags(anyKept, anyDropped);
  }

private:
  int64_t prefix;
};

class GlobalMask final : public Mask {
public:
  GlobalMask(int64_t first, std::vector<int64_t> idx)
      : Mask(Kind::Global), first(first), indices(std::move(idx)) {
    std::sort(indices.begin(), indices.end());
    indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
  }
  bool isKept(const MaskContext &, int64_t, int64_t, int64_t i,
              int64_t j) const override {
    return isGlobal(i) || isGlobal(j);
  }
  std::string str() const override {
    std::string body;
    if (first != 0)
      body = "first = " + std::to_string(first);
    if (!indices.empty()) {
      if (!body.empty())
        body += ", ";
      body += "indices = [";
      for (size_t k = 0; k < indices.size(); ++k)
        body += (k ? ", " : "") + std::to_string(indices[k]);
      body += "]";
    }
    return body.empty() ? "#attn.global" : "#attn.global<" + body + ">";
  }

protected:
  TileClass classifyClipped(const MaskContext &,
                            const TileRect &r) const override {
    int64_t rows = r.qEnd - r.qBegin, cols = r.kvEnd - r.kvBegin;
    int64_t globalRows = countGlobal(r.qBegin, r.qEnd);
    int64_t globalCols = countGlobal(r.kvBegin, r.kvEnd);
    // A dropped element needs a non-global row and a non-global column;
    // any global row or column keeps a whole line of the rectangle.
    bool anyKept = globalRows > 0 || globalCols > 0;
    bool anyDropped = globalRows < rows && globalCols < cols;
    return fromFlags(anyKept, anyDropped);
  }

private:
  bool isGlobal(int64_t x) const {
    return x < first || std::binary_search(indices.begin(), indices.end(), x);
  }
  /// Number of global positions in [begin, end).
  int64_t countGlobal(int64_t begin, int64_t end) const {
    int64_t n = std::max<int64_t>(0, std::min(end, first) - begin);
    int64_t from = std::max(begin, first);
    if (from < end)
      n += std::lower_bound(indices.begin(), indices.end(), end) -
           std::lower_bound(indices.begin(), indices.end(), from);
    return n;
  }

  int64_t first;
  std::vector<int64_t> indices; // sorted, unique
};

//===----------------------------------------------------------------------===//
// Block patterns.
//===----------------------------------------------------------------------===//

class RandomBlocksMask final : public Mask {
public:
  RandomBlocksMask(int64_t blockSize, int64_t perRow, uint64_t seed)
      : Mask(Kind::RandomBlocks), blockSize(blockSize), perRow(perRow),
        seed(seed) {}

  bool isKept(const MaskContext &ctx, int64_t, int64_t, int64_t i,
              int64_t j) const override {
    int64_t numCols = numColBlocks(ctx);
    if (numCols <= perRow)
      return true;
    int64_t col = j / blockSize;
    bool kept = false;
    forEachColumn(i / blockSize, numCols, [&](int64_t c) {
      kept = c == col;
      return !kept;
    });
    return kept;
  }
  std::string str() const override {
    return "#attn.random_blocks<block = " + std::to_string(blockSize) +
           ", per_row = " + std::to_string(perRow) +
           ", seed = " + std::to_string(seed) + ">";
  }

protected:
  TileClass classifyClipped(const MaskContext &ctx,
                            const TileRect &r) const override {
    int64_t numCols = numColBlocks(ctx);
    if (numCols <= perRow)
      return TileClass::Full;
    // Every overlapped block is kept or dropped as a whole, so counting the
    // chosen columns in the overlapped column range of each row is exact.
    int64_t c0 = r.kvBegin / blockSize, c1 = (r.kvEnd - 1) / blockSize;
    bool anyKept = false, anyDropped = false;
    for (int64_t row = r.qBegin / blockSize, lastRow = (r.qEnd - 1) / blockSize;
         row <= lastRow && !(anyKept && anyDropped); ++row) {
      int64_t hits = 0;
      forEachColumn(row, numCols, [&](int64_t c) {
        hits += c >= c0 && c <= c1;
        return true;
      });
      anyKept |= hits > 0;
      anyDropped |= hits < c1 - c0 + 1;
    }
    return fromFlags(anyKept, anyDropped);
  }

private:
  int64_t numColBlocks(const MaskContext &ctx) const {
    return ceilDiv(ctx.seqKV, blockSize);
  }

  /// Calls `fn(column)` for the `perRow` columns of block row `row`
  /// (numCols > perRow) until it returns false. The columns are a partial
  /// Fisher-Yates shuffle of [0, numCols) driven by splitmix64 seeded from
  /// (seed, row). Only displaced slots of the shuffled array are stored, so
  /// the cost does not grow with the row length; nothing is cached, so the
  /// mask stays immutable and thread-safe.
  template <typename Fn>
  void forEachColumn(int64_t row, int64_t numCols, Fn &&fn) const {
    uint64_t s = seed;
    uint64_t state =
        splitmix64(s) ^ (static_cast<uint64_t>(row) * 0xD1B54A32D192ED03ULL);
    // isKept runs per element, so the common small perRow avoids the heap.
    constexpr int64_t kInline = 32;
    std::pair<int64_t, int64_t> inlineSlots[kInline];
    int64_t numInline = 0;
    std::unordered_map<int64_t, int64_t> mapSlots;
    bool useMap = perRow > kInline;
    auto slot = [&](int64_t k) {
      if (useMap) {
        auto it = mapSlots.find(k);
        return it == mapSlots.end() ? k : it->second;
      }
      // The latest write wins: scan backwards.
      for (int64_t n = numInline; n-- > 0;)
        if (inlineSlots[n].first == k)
          return inlineSlots[n].second;
      return k;
    };
    for (int64_t k = 0; k < perRow; ++k) {
      int64_t t = k + static_cast<int64_t>(splitmix64(state) %
                                           static_cast<uint64_t>(numCols - k));
      int64_t vk = slot(k), vt = slot(t);
      if (!fn(vt))
        return;
      // Slot k is never read again; only t keeps the swapped-out value.
      if (useMap)
        mapSlots[t] = vk;
      else
        inlineSlots[numInline++] = {t, vk};
    }
  }

  int64_t blockSize, perRow;
  uint64_t seed;
};

class BlockLayoutMask final : public Mask {
public:
  BlockLayoutMask(int64_t blockQ, int64_t blockKV, int64_t numRows,
                  int64_t numCols, std::vector<bool> layout)
      : Mask(Kind::BlockLayout), blockQ(blockQ), blockKV(blockKV),
        numRows(numRows), numCols(numCols), layout(std::move(layout)) {}

  bool isKept(const MaskContext &, int64_t, int64_t, int64_t i,
              int64_t j) const override {
    return isSet(i / blockQ, j / blockKV);
  }
  std::string str() const override {
    return "#attn.block_layout<block = [" + std::to_string(blockQ) + ", " +
           std::to_string(blockKV) + "], rows = " + std::to_string(numRows) +
           ", cols = " + std::to_string(numCols) + ">";
  }

protected:
  TileClass classifyClipped(const MaskContext &,
                            const TileRect &r) const override {
    // Elements past the layout are dropped; scan only the covered part.
    int64_t qEnd = std::min(r.qEnd, saturatingMul(numRows, blockQ));
    int64_t kvEnd = std::min(r.kvEnd, saturatingMul(numCols, blockKV));
    bool anyDropped = qEnd < r.qEnd || kvEnd < r.kvEnd;
    if (r.qBegin >= qEnd || r.kvBegin >= kvEnd)
      return fromFlags(false, anyDropped);
    // Scan the layout blocks the covered part overlaps.
    return classifyByScan(
        r.qBegin / blockQ, (qEnd - 1) / blockQ + 1, r.kvBegin / blockKV,
        (kvEnd - 1) / blockKV + 1, anyDropped,
        [&](int64_t row, int64_t col) { return isSet(row, col); });
  }

private:
  bool isSet(int64_t row, int64_t col) const {
    if (row >= numRows || col >= numCols)
      return false;
    size_t idx = static_cast<size_t>(row * numCols + col);
    return idx < layout.size() && layout[idx];
  }

  int64_t blockQ, blockKV, numRows, numCols;
  std::vector<bool> layout;
};

//===----------------------------------------------------------------------===//
// Run-time and custom patterns.
//===----------------------------------------------------------------------===//

class DocumentMask final : public Mask {
public:
  DocumentMask() : Mask(Kind::Document) {}

  /// Without ids every token is taken to be in one document, i.e. kept;
  /// tile classification stays Partial in that case, so this only affects
  /// element-level evaluation at compile time.
  bool isKept(const MaskContext &ctx, int64_t b, int64_t, int64_t i,
              int64_t j) const override {
    if (!ctx.qSegmentIds || !ctx.kvSegmentIds)
      return true;
    return ctx.qSegmentIds[b * ctx.seqQ + i] ==
           ctx.kvSegmentIds[b * ctx.seqKV + j];
  }
  bool dependsOnBatchOrHead() const override { return true; }
  bool needsRuntimeData() const override { return true; }
  std::string str() const override { return "#attn.document"; }

protected:
  TileClass classifyClipped(const MaskContext &ctx,
                            const TileRect &r) const override {
    if (!ctx.qSegmentIds || !ctx.kvSegmentIds)
      return TileClass::Partial;
    const int64_t *q = ctx.qSegmentIds + r.batch * ctx.seqQ;
    const int64_t *kv = ctx.kvSegmentIds + r.batch * ctx.seqKV;
    std::vector<int64_t> qIds(q + r.qBegin, q + r.qEnd);
    std::vector<int64_t> kvIds(kv + r.kvBegin, kv + r.kvEnd);
    std::sort(qIds.begin(), qIds.end());
    qIds.erase(std::unique(qIds.begin(), qIds.end()), qIds.end());
    std::sort(kvIds.begin(), kvIds.end());
    kvIds.erase(std::unique(kvIds.begin(), kvIds.end()), kvIds.end());
    // Full needs one shared id on both sides: two distinct query ids cannot
    // both match every key.
    if (qIds.size() == 1 && kvIds.size() == 1 && qIds[0] == kvIds[0])
      return TileClass::Full;
    // Each common id is attained by some row and some column.
    size_t a = 0, b = 0;
    while (a < qIds.size() && b < kvIds.size()) {
      if (qIds[a] == kvIds[b])
        return TileClass::Partial;
      if (qIds[a] < kvIds[b])
        ++a;
      else
        ++b;
    }
    return TileClass::Empty;
  }
};

class PredicateMask final : public Mask {
public:
  PredicateMask(Predicate pred, bool exactTiles, std::string description,
                bool dependsOnBH)
      : Mask(Kind::Predicate), pred(std::move(pred)), exactTiles(exactTiles),
        description(std::move(description)), dependsOnBH(dependsOnBH) {}

  bool isKept(const MaskContext &, int64_t b, int64_t h, int64_t i,
              int64_t j) const override {
    return pred(b, h, i, j);
  }
  bool dependsOnBatchOrHead() const override { return dependsOnBH; }
  std::string str() const override { return description; }

protected:
  TileClass classifyClipped(const MaskContext &,
                            const TileRect &r) const override {
    if (!exactTiles)
      return TileClass::Partial;
    return classifyByScan(r.qBegin, r.qEnd, r.kvBegin, r.kvEnd,
                          /*anyDropped=*/false, [&](int64_t i, int64_t j) {
                            return pred(r.batch, r.head, i, j);
                          });
  }

private:
  Predicate pred;
  bool exactTiles;
  std::string description;
  bool dependsOnBH;
};

//===----------------------------------------------------------------------===//
// Combinators.
//===----------------------------------------------------------------------===//

class CombinatorMask : public Mask {
public:
  CombinatorMask(Kind kind, std::vector<MaskRef> children)
      : Mask(kind), children(std::move(children)) {}
  bool dependsOnBatchOrHead() const override {
    return std::any_of(children.begin(), children.end(), [](const MaskRef &m) {
      return m->dependsOnBatchOrHead();
    });
  }
  bool needsRuntimeData() const override {
    return std::any_of(children.begin(), children.end(),
                       [](const MaskRef &m) { return m->needsRuntimeData(); });
  }

protected:
  std::string joinChildren() const {
    std::string s;
    for (size_t k = 0; k < children.size(); ++k)
      s += (k ? ", " : "") + children[k]->str();
    return s;
  }

  std::vector<MaskRef> children;
};

/// Union and intersection are duals: for a union a Full operand decides the
/// tile and Empty is neutral; for an intersection the other way round.
class NaryMask final : public CombinatorMask {
public:
  NaryMask(bool isUnion, std::vector<MaskRef> children)
      : CombinatorMask(isUnion ? Kind::Union : Kind::Intersection,
                       std::move(children)),
        isUnion(isUnion) {}
  bool isKept(const MaskContext &ctx, int64_t b, int64_t h, int64_t i,
              int64_t j) const override {
    auto kept = [&](const MaskRef &m) { return m->isKept(ctx, b, h, i, j); };
    return isUnion ? std::any_of(children.begin(), children.end(), kept)
                   : std::all_of(children.begin(), children.end(), kept);
  }
  /// The intersection of bands with one alignment is a band (a mask
  /// without an alignment of its own, i.e. no mask, fits any).
  std::optional<Band> band() const override {
    if (isUnion)
      return std::nullopt;
    Band result;
    bool aligned = false;
    for (const MaskRef &m : children) {
      std::optional<Band> b = m->band();
      if (!b)
        return std::nullopt;
      if (b->lo == -Band::kUnbounded && b->hi == Band::kUnbounded)
        continue;
      if (aligned && b->align != result.align)
        return std::nullopt;
      aligned = true;
      result.align = b->align;
      result.lo = std::max(result.lo, b->lo);
      result.hi = std::min(result.hi, b->hi);
    }
    return result;
  }
  std::optional<Band> boundingBand() const override {
    if (isUnion)
      return band();
    // Any operand's bounding band bounds the intersection; combine those
    // that share the first one's alignment.
    std::optional<Band> result;
    for (const MaskRef &m : children) {
      std::optional<Band> b = m->boundingBand();
      if (!b || (b->lo == -Band::kUnbounded && b->hi == Band::kUnbounded))
        continue;
      if (!result) {
        result = b;
        continue;
      }
      if (b->align != result->align)
        continue;
      result->lo = std::max(result->lo, b->lo);
      result->hi = std::min(result->hi, b->hi);
    }
    return result;
  }
  std::string str() const override {
    return std::string(isUnion ? "#attn.union<[" : "#attn.intersection<[") +
           joinChildren() + "]>";
  }

protected:
  TileClass classifyClipped(const MaskContext &ctx,
                            const TileRect &r) const override {
    TileClass absorbing = isUnion ? TileClass::Full : TileClass::Empty;
    TileClass neutral = isUnion ? TileClass::Empty : TileClass::Full;
    bool allNeutral = true;
    for (const MaskRef &m : children) {
      TileClass c = m->classify(ctx, r);
      if (c == absorbing)
        return absorbing;
      allNeutral &= c == neutral;
    }
    return allNeutral ? neutral : TileClass::Partial;
  }

private:
  bool isUnion;
};

class ComplementMask final : public CombinatorMask {
public:
  explicit ComplementMask(MaskRef child)
      : CombinatorMask(Kind::Complement, {std::move(child)}) {}
  bool isKept(const MaskContext &ctx, int64_t b, int64_t h, int64_t i,
              int64_t j) const override {
    return !children[0]->isKept(ctx, b, h, i, j);
  }
  std::string str() const override {
    return "#attn.complement<" + children[0]->str() + ">";
  }

protected:
  TileClass classifyClipped(const MaskContext &ctx,
                            const TileRect &r) const override {
    switch (children[0]->classify(ctx, r)) {
    case TileClass::Empty:
      return TileClass::Full;
    case TileClass::Full:
      return TileClass::Empty;
    case TileClass::Partial:
      break;
    }
    return TileClass::Partial;
  }
};

} // namespace

//===----------------------------------------------------------------------===//
// Mask and constructors.
//===----------------------------------------------------------------------===//

TileClass Mask::classify(const MaskContext &ctx, TileRect rect) const {
  rect.qBegin = std::max<int64_t>(rect.qBegin, 0);
  rect.kvBegin = std::max<int64_t>(rect.kvBegin, 0);
  rect.qEnd = std::min(rect.qEnd, ctx.seqQ);
  rect.kvEnd = std::min(rect.kvEnd, ctx.seqKV);
  if (rect.isEmpty())
    return TileClass::Empty;
  return classifyClipped(ctx, rect);
}

namespace mlir::attn::mask {

uint64_t splitmix64(uint64_t &state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

MaskRef makeAll() { return std::make_shared<AllMask>(); }

MaskRef makeCausal(Alignment align) {
  return std::make_shared<CausalMask>(align);
}

MaskRef makeWindow(int64_t left, int64_t right, Alignment align) {
  return std::make_shared<WindowMask>(left, right, align);
}

MaskRef makeDilated(int64_t window, int64_t dilation, Alignment align) {
  return std::make_shared<DilatedMask>(window, dilation, align);
}

MaskRef makeGlobal(int64_t first, std::vector<int64_t> indices) {
  return std::make_shared<GlobalMask>(first, std::move(indices));
}

MaskRef makeRandomBlocks(int64_t blockSize, int64_t perRow, uint64_t seed) {
  return std::make_shared<RandomBlocksMask>(blockSize, perRow, seed);
}

MaskRef makeBlockLayout(int64_t blockQ, int64_t blockKV, int64_t numRows,
                        int64_t numCols, std::vector<bool> layout) {
  return std::make_shared<BlockLayoutMask>(blockQ, blockKV, numRows, numCols,
                                           std::move(layout));
}

MaskRef makePrefixLM(int64_t prefix) {
  return std::make_shared<PrefixLMMask>(prefix);
}

MaskRef makeDocument() { return std::make_shared<DocumentMask>(); }

MaskRef makePredicate(Predicate pred, bool exactTiles, std::string description,
                      bool dependsOnBatchOrHead) {
  return std::make_shared<PredicateMask>(std::move(pred), exactTiles,
                                         std::move(description),
                                         dependsOnBatchOrHead);
}

MaskRef makeUnion(std::vector<MaskRef> children) {
  return std::make_shared<NaryMask>(/*isUnion=*/true, std::move(children));
}

MaskRef makeIntersection(std::vector<MaskRef> children) {
  return std::make_shared<NaryMask>(/*isUnion=*/false, std::move(children));
}

MaskRef makeComplement(MaskRef child) {
  return std::make_shared<ComplementMask>(std::move(child));
}

} // namespace mlir::attn::mask
