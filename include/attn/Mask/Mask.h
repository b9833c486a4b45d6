//===- Mask.h - The attention mask algebra ----------------------*- C++ -*-===//
//
// Every mask pattern of the attn dialect answers two questions:
//   1. element: is score (b, h, i, j) kept?
//   2. tile: for the rectangle [qBegin, qEnd) x [kvBegin, kvEnd) of the score
//      matrix, are no elements kept (Empty), all kept (Full), or some
//      (Partial)?
// The tile answer is always *safe* (Empty implies no element kept, Full
// implies every element kept) and *exact* for causal, window, block layout,
// prefix-LM and global patterns. The verifier, the tiler, the host and GPU
// lowerings and the tile-map printer all ask these questions here, so the
// algebra lives in one place. This library has no MLIR dependency.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_MASK_MASK_H
#define ATTN_MASK_MASK_H

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlir::attn::mask {

enum class TileClass : uint8_t { Empty, Full, Partial };

/// How a causal-like pattern lines up queries with keys when Sq != Skv.
/// TopLeft: query i sees key j iff j <= i. BottomRight: iff
/// j <= i + (Skv - Sq), so the last query sees the last key (decode).
enum class Alignment : uint8_t { TopLeft, BottomRight };

/// The sizes and run-time data a mask is evaluated against.
struct MaskContext {
  int64_t seqQ = 0;
  int64_t seqKV = 0;
  /// Per-token document ids, row-major [batch][seqQ] and [batch][seqKV].
  /// Only document masks read them; null means "not known yet" (compile
  /// time), in which case a document mask classifies every tile Partial.
  const int64_t *qSegmentIds = nullptr;
  const int64_t *kvSegmentIds = nullptr;

  /// Offset added to the query index for bottom-right alignment.
  int64_t alignmentOffset(Alignment a) const {
    return a == Alignment::BottomRight ? seqKV - seqQ : 0;
  }
};

/// A rectangle of the score matrix: rows [qBegin, qEnd), columns
/// [kvBegin, kvEnd), for one (batch, head). Callers clip it to the sequence
/// lengths; an empty rectangle classifies Empty.
struct TileRect {
  int64_t batch = 0;
  int64_t head = 0;
  int64_t qBegin = 0, qEnd = 0;
  int64_t kvBegin = 0, kvEnd = 0;
  bool isEmpty() const { return qBegin >= qEnd || kvBegin >= kvEnd; }
};

class Mask;
using MaskRef = std::shared_ptr<const Mask>;

/// A diagonal band: the mask keeps (i, j) iff
/// lo <= j - (i + offset) <= hi, with the offset of `align`. The kv tiles a
/// band leaves non-empty for a q tile form one range whose ends are affine
/// in the q tile, so loops can be bounded even for dynamic lengths.
struct Band {
  /// Stands for an infinite bound; far from overflow when combined with
  /// sequence positions (which are below 2^31).
  static constexpr int64_t kUnbounded = int64_t{1} << 40;
  int64_t lo = -kUnbounded;
  int64_t hi = kUnbounded;
  Alignment align = Alignment::TopLeft;
};

/// A mask pattern. Immutable; shared between combinators.
class Mask {
public:
  enum class Kind : uint8_t {
    All, // no mask: every element kept
    Causal,
    Window,
    Dilated,
    Global,
    RandomBlocks,
    BlockLayout,
    PrefixLM,
    Document,
    Predicate, // custom: a callback (e.g. an interpreted mask_mod region)
    Union,
    Intersection,
    Complement,
  };

  explicit Mask(Kind kind) : kind(kind) {}
  virtual ~Mask();
  Kind getKind() const { return kind; }

  /// Is element (b, h, i, j) kept? Indices are within the sequence lengths.
  virtual bool isKept(const MaskContext &ctx, int64_t b, int64_t h, int64_t i,
                      int64_t j) const = 0;

  /// Classifies a rectangle of the score matrix; `rect` is clipped to the
  /// sequence lengths of `ctx` first. Safe for every mask.
  TileClass classify(const MaskContext &ctx, TileRect rect) const;

  /// True when the tile classes can differ between (batch, head) pairs
  /// (document ids vary per batch, a predicate may read the head).
  virtual bool dependsOnBatchOrHead() const { return false; }

  /// True when the mask needs run-time data (document ids) to classify
  /// exactly; such masks get their tile classes from a run-time table.
  virtual bool needsRuntimeData() const { return false; }

  /// A one-line description in the attn dialect's attribute syntax.
  virtual std::string str() const = 0;

  /// The band this mask keeps exactly, if it is one (no mask, causal,
  /// window, and intersections of bands with one alignment).
  virtual std::optional<Band> band() const { return std::nullopt; }

  /// A band that holds every kept element (a superset of the mask), if
  /// one is known: the band itself for band masks, the intersection of the
  /// operands' bounding bands for an intersection. It bounds the kv loop of
  /// masks classified at run time (e.g. causal within documents).
  virtual std::optional<Band> boundingBand() const { return band(); }

protected:
  /// Classifies a non-empty rectangle already clipped to the sequence.
  virtual TileClass classifyClipped(const MaskContext &ctx,
                                    const TileRect &rect) const = 0;

private:
  Kind kind;
};

//===----------------------------------------------------------------------===//
// Constructors. Parameters are validated by the dialect's verifiers; these
// functions assume them valid (documented per function).
//===----------------------------------------------------------------------===//

/// Every element kept (bidirectional attention).
MaskRef makeAll();
/// j <= i + offset, offset from `align`.
MaskRef makeCausal(Alignment align = Alignment::TopLeft);
/// -left <= j - (i + offset) <= right; left, right >= 0.
MaskRef makeWindow(int64_t left, int64_t right,
                   Alignment align = Alignment::TopLeft);
/// d = j - (i + offset): d % dilation == 0 and |d| <= window * dilation.
/// window >= 0, dilation >= 1 (Longformer's dilated sliding window).
MaskRef makeDilated(int64_t window, int64_t dilation,
                    Alignment align = Alignment::TopLeft);
/// Global tokens: the first `first` positions and the listed indices attend
/// everywhere and are attended by everyone: kept iff g(i) || g(j), where g
/// tests the position index (the same index space for queries and keys).
MaskRef makeGlobal(int64_t first, std::vector<int64_t> indices = {});
/// BigBird random blocks: the score matrix is cut into blockSize x blockSize
/// blocks; each query block row keeps `perRow` distinct key block columns
/// chosen by a deterministic generator from (seed, row). When the row has
/// no more than `perRow` blocks, all are kept. blockSize >= 1, perRow >= 0.
MaskRef makeRandomBlocks(int64_t blockSize, int64_t perRow, uint64_t seed);
/// splitmix64: advances `state` and returns the next value. Tiny,
/// well-defined and identical on every platform (and in bench/host/compare),
/// so that random layouts are reproduced bit for bit.
uint64_t splitmix64(uint64_t &state);
/// An explicit block-sparse layout: element (i, j) is kept iff
/// layout[(i / blockQ) * numCols + j / blockKV] is set. The layout has
/// numRows x numCols entries, row-major; indices beyond it are not kept.
MaskRef makeBlockLayout(int64_t blockQ, int64_t blockKV, int64_t numRows,
                        int64_t numCols, std::vector<bool> layout);
/// Prefix-LM: j < prefix || j <= i (bidirectional prefix, causal rest).
MaskRef makePrefixLM(int64_t prefix);
/// Document masking: kept iff qSegmentIds[b][i] == kvSegmentIds[b][j].
MaskRef makeDocument();
/// A custom predicate. When `exactTiles` is true the mask classifies a tile
/// by evaluating the predicate on every element (the predicate only does
/// index arithmetic); otherwise every non-empty tile is Partial.
using Predicate =
    std::function<bool(int64_t b, int64_t h, int64_t i, int64_t j)>;
MaskRef makePredicate(Predicate pred, bool exactTiles,
                      std::string description = "#attn.custom",
                      bool dependsOnBatchOrHead = true);
MaskRef makeUnion(std::vector<MaskRef> children);
MaskRef makeIntersection(std::vector<MaskRef> children);
MaskRef makeComplement(MaskRef child);

//===----------------------------------------------------------------------===//
// Tile maps.
//===----------------------------------------------------------------------===//

/// The classes of every (q tile, kv tile) of one (batch, head).
struct TileMap {
  int64_t tileQ = 0, tileKV = 0;
  int64_t numQTiles = 0, numKVTiles = 0;
  std::vector<TileClass> classes; // row-major [numQTiles][numKVTiles]

  TileClass at(int64_t qi, int64_t kj) const {
    return classes[qi * numKVTiles + kj];
  }
  int64_t count(TileClass c) const;
  /// Non-empty tiles over all tiles: the work a tiled kernel does.
  double nonEmptyTileFraction() const;
};

/// Classifies every tile of size tileQ x tileKV. Sizes must be positive.
TileMap computeTileMap(const Mask &mask, const MaskContext &ctx, int64_t tileQ,
                       int64_t tileKV, int64_t batch = 0, int64_t head = 0);

/// Counts the kept elements of the score matrix of one (batch, head).
/// Full tiles count whole; partial tiles are evaluated element by element.
int64_t countKeptElements(const Mask &mask, const MaskContext &ctx,
                          const TileMap &map, int64_t batch = 0,
                          int64_t head = 0);

/// Renders a tile map as text: one row per q tile, one character per kv
/// tile ('#' full, '+' partial, '.' empty), followed by a summary line.
/// A negative `keptElements` means the count is unknown at compile time
/// (the mask reads run-time data).
std::string renderTileMap(const TileMap &map, int64_t keptElements,
                          int64_t totalElements);

char tileClassChar(TileClass c);
const char *tileClassName(TileClass c);

} // namespace mlir::attn::mask

#endif // ATTN_MASK_MASK_H
