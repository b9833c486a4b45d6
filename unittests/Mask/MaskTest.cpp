//===- MaskTest.cpp - Tests of the attention mask algebra -----------------===//
//
// Checks the mask algebra of attn/Mask/Mask.h against brute force: every
// tile class the library reports is compared with an element-by-element
// evaluation of isKept over the clipped tile, over many random shapes, tile
// sizes and mask parameters. A wrong Empty or Full would make a kernel skip
// or fail to mask real scores, so safety is checked for every mask and
// exactness wherever the library promises it. Element-level semantics, the
// attribute printer and the tile-map renderer are pinned by hand-written
// expectations derived from the definitions.
//
//===----------------------------------------------------------------------===//

#include "attn/Mask/Mask.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <set>
#include <sstream>

using namespace mlir::attn::mask;

namespace {

//===----------------------------------------------------------------------===//
// Brute-force oracle.
//===----------------------------------------------------------------------===//

/// Kept-element counts of one (batch, head) as 2-D prefix sums, so that the
/// truth for any rectangle is O(1) and the fuzzers can afford tiny tiles.
class Truth {
public:
  Truth(const Mask &mask, const MaskContext &ctx, int64_t b, int64_t h)
      : seqQ(ctx.seqQ), seqKV(ctx.seqKV),
        sum(static_cast<size_t>((seqQ + 1) * (seqKV + 1)), 0) {
    for (int64_t i = 0; i < seqQ; ++i)
      for (int64_t j = 0; j < seqKV; ++j)
        at(i + 1, j + 1) = at(i, j + 1) + at(i + 1, j) - at(i, j) +
                           (mask.isKept(ctx, b, h, i, j) ? 1 : 0);
  }

  /// Kept elements and area of `r` clipped to the sequence.
  std::pair<int64_t, int64_t> count(const TileRect &r) const {
    int64_t q0 = std::max<int64_t>(r.qBegin, 0);
    int64_t q1 = std::min(r.qEnd, seqQ);
    int64_t k0 = std::max<int64_t>(r.kvBegin, 0);
    int64_t k1 = std::min(r.kvEnd, seqKV);
    if (q0 >= q1 || k0 >= k1)
      return {0, 0};
    int64_t kept = get(q1, k1) - get(q0, k1) - get(q1, k0) + get(q0, k0);
    return {kept, (q1 - q0) * (k1 - k0)};
  }
  int64_t total() const { return get(seqQ, seqKV); }

private:
  int64_t &at(int64_t i, int64_t j) {
    return sum[static_cast<size_t>(i * (seqKV + 1) + j)];
  }
  int64_t get(int64_t i, int64_t j) const {
    return sum[static_cast<size_t>(i * (seqKV + 1) + j)];
  }

  int64_t seqQ, seqKV;
  std::vector<int64_t> sum;
};

TileClass expectedClass(std::pair<int64_t, int64_t> keptAndArea) {
  if (keptAndArea.first == 0)
    return TileClass::Empty;
  if (keptAndArea.first == keptAndArea.second)
    return TileClass::Full;
  return TileClass::Partial;
}

std::string describe(const Mask &mask, const MaskContext &ctx,
                     const TileRect &r) {
  std::ostringstream os;
  os << mask.str() << " seqQ=" << ctx.seqQ << " seqKV=" << ctx.seqKV
     << " b=" << r.batch << " h=" << r.head << " rect=[" << r.qBegin << ", "
     << r.qEnd << ") x [" << r.kvBegin << ", " << r.kvEnd << ")";
  return os.str();
}

/// Checks one classification; returns false (after reporting) on a failure
/// so the fuzzers can stop before flooding the log.
bool checkRect(const Mask &mask, const MaskContext &ctx, const Truth &truth,
               const TileRect &r, TileClass got, bool exact) {
  std::pair<int64_t, int64_t> ka = truth.count(r);
  TileClass want = expectedClass(ka);
  if (got == TileClass::Empty && ka.first != 0) {
    ADD_FAILURE() << "unsafe Empty (" << ka.first << " of " << ka.second
                  << " kept): " << describe(mask, ctx, r);
    return false;
  }
  if (got == TileClass::Full && ka.first != ka.second) {
    ADD_FAILURE() << "unsafe Full (" << ka.first << " of " << ka.second
                  << " kept): " << describe(mask, ctx, r);
    return false;
  }
  if (exact && got != want) {
    ADD_FAILURE() << "inexact: got " << tileClassName(got) << ", want "
                  << tileClassName(want) << ": " << describe(mask, ctx, r);
    return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Random problem generation.
//===----------------------------------------------------------------------===//

using Rng = std::mt19937_64;

int64_t uniform(Rng &rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}
bool coin(Rng &rng, double p = 0.5) {
  return std::bernoulli_distribution(p)(rng);
}
Alignment randomAlign(Rng &rng) {
  return coin(rng) ? Alignment::TopLeft : Alignment::BottomRight;
}

/// Sequence lengths in 1..maxSeq, biased towards the shapes that break
/// diagonal arithmetic: a single query (decode), square, and very skewed.
std::pair<int64_t, int64_t> randomShape(Rng &rng, int64_t maxSeq) {
  int64_t seqKV = uniform(rng, 1, maxSeq);
  switch (uniform(rng, 0, 5)) {
  case 0:
    return {1, seqKV};
  case 1:
    return {seqKV, seqKV};
  case 2:
    return {uniform(rng, 1, maxSeq), 1};
  default:
    return {uniform(rng, 1, maxSeq), seqKV};
  }
}

/// Packed-document segment ids for `batches` rows of length `len`: runs of
/// equal, increasing ids, occasionally arbitrary small ids so that a tile
/// can see the same id in non-adjacent runs.
std::vector<int64_t> randomSegmentIds(Rng &rng, int64_t batches, int64_t len) {
  std::vector<int64_t> ids;
  for (int64_t b = 0; b < batches; ++b) {
    bool scattered = coin(rng, 0.2);
    int64_t maxRun = uniform(rng, 1, 100);
    int64_t id = uniform(rng, 0, 2);
    for (int64_t pos = 0; pos < len;) {
      int64_t run = uniform(rng, 1, maxRun);
      int64_t value = scattered ? uniform(rng, 0, 3) : id++;
      for (int64_t k = 0; k < run && pos < len; ++k, ++pos)
        ids.push_back(value);
    }
  }
  return ids;
}

std::vector<int64_t> randomIndices(Rng &rng, int64_t maxIndex) {
  std::vector<int64_t> idx;
  int64_t n = uniform(rng, 1, 8);
  for (int64_t k = 0; k < n; ++k)
    idx.push_back(uniform(rng, 0, maxIndex));
  if (coin(rng)) // duplicates must be tolerated
    idx.push_back(idx.front());
  return idx;
}

MaskRef randomBlockLayout(Rng &rng, int64_t seqQ, int64_t seqKV) {
  int64_t blockQ = uniform(rng, 1, 90), blockKV = uniform(rng, 1, 90);
  int64_t needRows = (seqQ + blockQ - 1) / blockQ;
  int64_t needCols = (seqKV + blockKV - 1) / blockKV;
  // Sometimes smaller than the matrix: the uncovered part is not kept.
  int64_t rows = coin(rng, 0.3) ? uniform(rng, 1, needRows) : needRows;
  int64_t cols = coin(rng, 0.3) ? uniform(rng, 1, needCols) : needCols;
  double density = std::uniform_real_distribution<double>(0, 1)(rng);
  if (coin(rng, 0.15))
    density = coin(rng) ? 0.0 : 1.0;
  std::vector<bool> layout;
  for (int64_t k = 0; k < rows * cols; ++k)
    layout.push_back(coin(rng, density));
  return makeBlockLayout(blockQ, blockKV, rows, cols, std::move(layout));
}

/// A random window side: zero, small, around the sequence length, or huge.
int64_t randomReach(Rng &rng, int64_t seqLen) {
  switch (uniform(rng, 0, 3)) {
  case 0:
    return 0;
  case 1:
    return uniform(rng, 1, 8);
  case 2:
    return uniform(rng, 0, seqLen + 10);
  default:
    return int64_t(1) << 40;
  }
}

/// Any mask that does not need run-time data, with random parameters.
MaskRef randomLeaf(Rng &rng, int64_t seqQ, int64_t seqKV) {
  int64_t seqMax = std::max(seqQ, seqKV);
  switch (uniform(rng, 0, 9)) {
  case 0:
    return makeAll();
  case 1:
    return makeCausal(randomAlign(rng));
  case 2:
    return makeWindow(randomReach(rng, seqMax), randomReach(rng, seqMax),
                      randomAlign(rng));
  case 3:
    return makeDilated(uniform(rng, 0, 8), uniform(rng, 1, 6),
                       randomAlign(rng));
  case 4:
    return makeGlobal(uniform(rng, 0, 20), randomIndices(rng, seqMax));
  case 5:
    return makeRandomBlocks(uniform(rng, 1, 70), uniform(rng, 0, 4), rng());
  case 6:
    return randomBlockLayout(rng, seqQ, seqKV);
  case 7:
    return makePrefixLM(uniform(rng, 0, seqKV + 5));
  case 8: {
    int64_t m = uniform(rng, 2, 9);
    return makePredicate(
        [m](int64_t, int64_t h, int64_t i, int64_t j) {
          return (i * 3 + j * 5 + h) % m == 0;
        },
        coin(rng), "#attn.custom");
  }
  default:
    return makeGlobal(uniform(rng, 0, 4));
  }
}

MaskRef randomTree(Rng &rng, int64_t seqQ, int64_t seqKV, int depth) {
  if (depth == 0 || coin(rng, 0.3))
    return randomLeaf(rng, seqQ, seqKV);
  switch (uniform(rng, 0, 2)) {
  case 0:
  case 1: {
    std::vector<MaskRef> children;
    for (int64_t k = 0, n = uniform(rng, 1, 3); k < n; ++k)
      children.push_back(randomTree(rng, seqQ, seqKV, depth - 1));
    return coin(rng) ? makeUnion(std::move(children))
                     : makeIntersection(std::move(children));
  }
  default:
    return makeComplement(randomTree(rng, seqQ, seqKV, depth - 1));
  }
}

//===----------------------------------------------------------------------===//
// The fuzz driver.
//===----------------------------------------------------------------------===//

using Factory = std::function<MaskRef(Rng &, int64_t seqQ, int64_t seqKV)>;

struct FuzzOptions {
  bool exact = true;
  int shapes = 30;
  int64_t maxSeq = 300;
  /// Segment ids for document masks: none (null pointers) or random.
  bool withIds = false;
  int64_t batches = 1, heads = 1;
  int tileSizesPerShape = 3;
  int randomRects = 60;
};

/// For random shapes and masks from `make`: checks every tile of several
/// tile maps, some unclipped random rectangles, and countKeptElements.
void fuzz(uint64_t seed, const Factory &make, FuzzOptions opts = {}) {
  Rng rng(seed);
  for (int s = 0; s < opts.shapes; ++s) {
    auto [seqQ, seqKV] = randomShape(rng, opts.maxSeq);
    MaskRef mask = make(rng, seqQ, seqKV);
    MaskContext ctx;
    ctx.seqQ = seqQ;
    ctx.seqKV = seqKV;
    std::vector<int64_t> qIds, kvIds;
    if (opts.withIds) {
      qIds = randomSegmentIds(rng, opts.batches, seqQ);
      kvIds = seqQ == seqKV && coin(rng, 0.7)
                  ? qIds
                  : randomSegmentIds(rng, opts.batches, seqKV);
      ctx.qSegmentIds = qIds.data();
      ctx.kvSegmentIds = kvIds.data();
    }
    for (int64_t b = 0; b < opts.batches; ++b) {
      for (int64_t h = 0; h < opts.heads; ++h) {
        Truth truth(*mask, ctx, b, h);
        for (int t = 0; t < opts.tileSizesPerShape; ++t) {
          int64_t tileQ = uniform(rng, 1, 80), tileKV = uniform(rng, 1, 80);
          TileMap map = computeTileMap(*mask, ctx, tileQ, tileKV, b, h);
          ASSERT_EQ(map.numQTiles, (seqQ + tileQ - 1) / tileQ);
          ASSERT_EQ(map.numKVTiles, (seqKV + tileKV - 1) / tileKV);
          ASSERT_EQ(map.classes.size(),
                    static_cast<size_t>(map.numQTiles * map.numKVTiles));
          for (int64_t qi = 0; qi < map.numQTiles; ++qi) {
            for (int64_t kj = 0; kj < map.numKVTiles; ++kj) {
              TileRect r{b,           h,
                         qi * tileQ,  (qi + 1) * tileQ,
                         kj * tileKV, (kj + 1) * tileKV};
              if (!checkRect(*mask, ctx, truth, r, map.at(qi, kj), opts.exact))
                return;
            }
          }
          ASSERT_EQ(countKeptElements(*mask, ctx, map, b, h), truth.total())
              << mask->str() << " seqQ=" << seqQ << " seqKV=" << seqKV;
        }
        // Rectangles that overhang the matrix or are empty exercise the
        // clipping in Mask::classify.
        for (int k = 0; k < opts.randomRects; ++k) {
          TileRect r;
          r.batch = b;
          r.head = h;
          r.qBegin = uniform(rng, -10, seqQ + 5);
          r.qEnd = r.qBegin + uniform(rng, -2, 120);
          r.kvBegin = uniform(rng, -10, seqKV + 5);
          r.kvEnd = r.kvBegin + uniform(rng, -2, 120);
          if (!checkRect(*mask, ctx, truth, r, mask->classify(ctx, r),
                         opts.exact))
            return;
        }
      }
    }
  }
}

//===----------------------------------------------------------------------===//
// Fuzz tests, one per mask kind.
//===----------------------------------------------------------------------===//

TEST(MaskFuzz, All) {
  fuzz(1, [](Rng &, int64_t, int64_t) { return makeAll(); });
}

TEST(MaskFuzz, CausalTopLeft) {
  fuzz(2,
       [](Rng &, int64_t, int64_t) { return makeCausal(Alignment::TopLeft); });
}

TEST(MaskFuzz, CausalBottomRight) {
  fuzz(3, [](Rng &, int64_t, int64_t) {
    return makeCausal(Alignment::BottomRight);
  });
}

TEST(MaskFuzz, Window) {
  fuzz(4, [](Rng &rng, int64_t seqQ, int64_t seqKV) {
    int64_t seqMax = std::max(seqQ, seqKV);
    return makeWindow(randomReach(rng, seqMax), randomReach(rng, seqMax),
                      randomAlign(rng));
  });
}

TEST(MaskFuzz, WindowEdgeCases) {
  // left = 0 and/or right = 0 degenerate to a diagonal band or a causal
  // pattern; both alignments.
  for (Alignment a : {Alignment::TopLeft, Alignment::BottomRight}) {
    fuzz(5, [a](Rng &, int64_t, int64_t) { return makeWindow(0, 0, a); });
    fuzz(6, [a](Rng &rng, int64_t, int64_t) {
      return makeWindow(0, uniform(rng, 1, 40), a);
    });
    fuzz(7, [a](Rng &rng, int64_t, int64_t) {
      return makeWindow(uniform(rng, 1, 40), 0, a);
    });
  }
}

TEST(MaskFuzz, Dilated) {
  fuzz(8, [](Rng &rng, int64_t, int64_t) {
    return makeDilated(uniform(rng, 0, 10), uniform(rng, 1, 7),
                       randomAlign(rng));
  });
}

TEST(MaskFuzz, GlobalFirstOnly) {
  fuzz(9, [](Rng &rng, int64_t seqQ, int64_t seqKV) {
    return makeGlobal(uniform(rng, 0, std::max(seqQ, seqKV) + 3));
  });
}

TEST(MaskFuzz, GlobalIndicesOnly) {
  fuzz(10, [](Rng &rng, int64_t seqQ, int64_t seqKV) {
    return makeGlobal(0, randomIndices(rng, std::max(seqQ, seqKV) + 3));
  });
}

TEST(MaskFuzz, GlobalFirstAndIndices) {
  fuzz(11, [](Rng &rng, int64_t seqQ, int64_t seqKV) {
    int64_t seqMax = std::max(seqQ, seqKV);
    return makeGlobal(uniform(rng, 0, 30), randomIndices(rng, seqMax + 3));
  });
}

TEST(MaskFuzz, RandomBlocks) {
  fuzz(12, [](Rng &rng, int64_t, int64_t) {
    return makeRandomBlocks(uniform(rng, 1, 70), uniform(rng, 0, 5), rng());
  });
}

TEST(MaskFuzz, RandomBlocksManyPerRow) {
  // perRow beyond 32 takes the heap-backed shuffle path, which is slow to
  // brute-force, so fewer and smaller shapes.
  FuzzOptions opts;
  opts.shapes = 6;
  opts.maxSeq = 100;
  fuzz(
      25,
      [](Rng &rng, int64_t, int64_t) {
        return makeRandomBlocks(uniform(rng, 1, 3), uniform(rng, 33, 45),
                                rng());
      },
      opts);
}

TEST(MaskFuzz, BlockLayout) {
  fuzz(13, [](Rng &rng, int64_t seqQ, int64_t seqKV) {
    return randomBlockLayout(rng, seqQ, seqKV);
  });
}

TEST(MaskFuzz, PrefixLM) {
  fuzz(14, [](Rng &rng, int64_t, int64_t seqKV) {
    return makePrefixLM(uniform(rng, 0, seqKV + 5));
  });
}

TEST(MaskFuzz, DocumentWithIds) {
  FuzzOptions opts;
  opts.withIds = true;
  opts.batches = 2;
  fuzz(
      15, [](Rng &, int64_t, int64_t) { return makeDocument(); }, opts);
}

TEST(MaskFuzz, DocumentWithoutIds) {
  // Only safety is promised: every non-empty tile is Partial.
  FuzzOptions opts;
  opts.exact = false;
  fuzz(
      16, [](Rng &, int64_t, int64_t) { return makeDocument(); }, opts);
}

TEST(MaskFuzz, PredicateExact) {
  FuzzOptions opts;
  opts.heads = 2;
  fuzz(
      17,
      [](Rng &rng, int64_t, int64_t) {
        int64_t band = uniform(rng, 1, 40);
        return makePredicate(
            [band](int64_t, int64_t h, int64_t i, int64_t j) {
              // Block-diagonal causal, shifted by head.
              return j <= i + h && (i + h) / band == j / band;
            },
            /*exactTiles=*/true, "#attn.custom<blockdiag>");
      },
      opts);
}

TEST(MaskFuzz, PredicateNotExact) {
  FuzzOptions opts;
  opts.exact = false;
  fuzz(
      18,
      [](Rng &, int64_t, int64_t) {
        return makePredicate(
            [](int64_t, int64_t, int64_t i, int64_t j) { return j <= i; },
            /*exactTiles=*/false);
      },
      opts);
}

/// Zero to four random leaf masks: the operands of a combinator.
std::vector<MaskRef> randomLeaves(Rng &rng, int64_t seqQ, int64_t seqKV) {
  std::vector<MaskRef> leaves;
  for (int64_t k = 0, n = uniform(rng, 0, 4); k < n; ++k)
    leaves.push_back(randomLeaf(rng, seqQ, seqKV));
  return leaves;
}

TEST(MaskFuzz, Union) {
  FuzzOptions opts;
  opts.exact = false;
  fuzz(
      19,
      [](Rng &rng, int64_t seqQ, int64_t seqKV) {
        return makeUnion(randomLeaves(rng, seqQ, seqKV));
      },
      opts);
}

TEST(MaskFuzz, Intersection) {
  FuzzOptions opts;
  opts.exact = false;
  fuzz(
      20,
      [](Rng &rng, int64_t seqQ, int64_t seqKV) {
        return makeIntersection(randomLeaves(rng, seqQ, seqKV));
      },
      opts);
}

TEST(MaskFuzz, Complement) {
  FuzzOptions opts;
  opts.exact = false;
  fuzz(
      21,
      [](Rng &rng, int64_t seqQ, int64_t seqKV) {
        return makeComplement(randomLeaf(rng, seqQ, seqKV));
      },
      opts);
}

TEST(MaskFuzz, NestedCombinators) {
  FuzzOptions opts;
  opts.exact = false;
  opts.shapes = 40;
  fuzz(
      22,
      [](Rng &rng, int64_t seqQ, int64_t seqKV) {
        return randomTree(rng, seqQ, seqKV, 3);
      },
      opts);
}

TEST(MaskFuzz, NestedCombinatorsWithDocument) {
  FuzzOptions opts;
  opts.exact = false;
  opts.withIds = true;
  opts.batches = 2;
  opts.shapes = 20;
  fuzz(
      23,
      [](Rng &rng, int64_t seqQ, int64_t seqKV) {
        std::vector<MaskRef> children{makeDocument(),
                                      randomTree(rng, seqQ, seqKV, 2)};
        return coin(rng) ? makeIntersection(std::move(children))
                         : makeUnion(std::move(children));
      },
      opts);
}

/// Combinators over exact children whose results are not mixed are exact
/// too: Complement of an exact mask, and a one-child Union/Intersection.
TEST(MaskFuzz, CombinatorsOfOneExactChildAreExact) {
  fuzz(24, [](Rng &rng, int64_t seqQ, int64_t seqKV) {
    MaskRef leaf = coin(rng) ? makeCausal(randomAlign(rng))
                             : randomBlockLayout(rng, seqQ, seqKV);
    switch (uniform(rng, 0, 2)) {
    case 0:
      return makeComplement(leaf);
    case 1:
      return makeUnion({leaf});
    default:
      return makeIntersection({leaf});
    }
  });
}

//===----------------------------------------------------------------------===//
// Element semantics from the definitions.
//===----------------------------------------------------------------------===//

MaskContext context(int64_t seqQ, int64_t seqKV) {
  MaskContext ctx;
  ctx.seqQ = seqQ;
  ctx.seqKV = seqKV;
  return ctx;
}

/// The kept set of a (batch 0, head 0) matrix as rows of '1'/'0'.
std::vector<std::string> keptRows(const Mask &mask, const MaskContext &ctx,
                                  int64_t b = 0, int64_t h = 0) {
  std::vector<std::string> rows;
  for (int64_t i = 0; i < ctx.seqQ; ++i) {
    std::string row;
    for (int64_t j = 0; j < ctx.seqKV; ++j)
      row += mask.isKept(ctx, b, h, i, j) ? '1' : '0';
    rows.push_back(row);
  }
  return rows;
}

using Rows = std::vector<std::string>;

TEST(MaskSemantics, All) {
  EXPECT_EQ(keptRows(*makeAll(), context(2, 3)), (Rows{"111", "111"}));
}

TEST(MaskSemantics, CausalTopLeft) {
  EXPECT_EQ(keptRows(*makeCausal(), context(3, 4)),
            (Rows{"1000", "1100", "1110"}));
}

TEST(MaskSemantics, CausalBottomRight) {
  // The last query sees the last key: (0, j) kept for j <= 3.
  EXPECT_EQ(keptRows(*makeCausal(Alignment::BottomRight), context(2, 5)),
            (Rows{"11110", "11111"}));
  // More queries than keys: the first queries see nothing.
  EXPECT_EQ(keptRows(*makeCausal(Alignment::BottomRight), context(4, 2)),
            (Rows{"00", "00", "10", "11"}));
}

TEST(MaskSemantics, Window) {
  EXPECT_EQ(keptRows(*makeWindow(1, 0), context(4, 4)),
            (Rows{"1000", "1100", "0110", "0011"}));
  EXPECT_EQ(keptRows(*makeWindow(0, 2), context(3, 5)),
            (Rows{"11100", "01110", "00111"}));
  EXPECT_EQ(keptRows(*makeWindow(0, 0), context(3, 3)),
            (Rows{"100", "010", "001"}));
  // Bottom-right: offset seqKV - seqQ = 2.
  EXPECT_EQ(keptRows(*makeWindow(1, 0, Alignment::BottomRight), context(2, 4)),
            (Rows{"0110", "0011"}));
}

TEST(MaskSemantics, Dilated) {
  // d = j - i in {-4, -2, 0, 2, 4}.
  EXPECT_EQ(keptRows(*makeDilated(2, 2), context(1, 7)), (Rows{"1010100"}));
  EXPECT_EQ(keptRows(*makeDilated(2, 2), context(7, 7))[4], "1010101");
  EXPECT_EQ(keptRows(*makeDilated(0, 3), context(2, 2)), (Rows{"10", "01"}));
  // Bottom-right with seqQ = 1: d = j - 6.
  EXPECT_EQ(keptRows(*makeDilated(1, 3, Alignment::BottomRight), context(1, 7)),
            (Rows{"0001001"}));
}

TEST(MaskSemantics, Global) {
  // g = {0, 5, 10}: those rows and columns are fully kept.
  auto rows = keptRows(*makeGlobal(1, {10, 5, 10}), context(12, 12));
  EXPECT_EQ(rows[0], "111111111111");
  EXPECT_EQ(rows[5], "111111111111");
  EXPECT_EQ(rows[3], "100001000010");
  EXPECT_EQ(rows[11], "100001000010");
  EXPECT_EQ(keptRows(*makeGlobal(2), context(4, 4)),
            (Rows{"1111", "1111", "1100", "1100"}));
}

TEST(MaskSemantics, PrefixLM) {
  EXPECT_EQ(keptRows(*makePrefixLM(2), context(4, 5)),
            (Rows{"11000", "11000", "11100", "11110"}));
  EXPECT_EQ(keptRows(*makePrefixLM(0), context(2, 2)), (Rows{"10", "11"}));
}

TEST(MaskSemantics, BlockLayout) {
  // 2 x 2 layout of 2 x 3 blocks, diagonal; rows >= 4 and columns >= 6 are
  // past the layout and not kept.
  MaskRef m = makeBlockLayout(2, 3, 2, 2, {true, false, false, true});
  EXPECT_EQ(keptRows(*m, context(5, 7)),
            (Rows{"1110000", "1110000", "0001110", "0001110", "0000000"}));
  MaskContext ctx = context(5, 7);
  EXPECT_EQ(m->classify(ctx, {0, 0, 0, 2, 0, 3}), TileClass::Full);
  EXPECT_EQ(m->classify(ctx, {0, 0, 2, 4, 3, 7}), TileClass::Partial);
  EXPECT_EQ(m->classify(ctx, {0, 0, 2, 4, 3, 6}), TileClass::Full);
  EXPECT_EQ(m->classify(ctx, {0, 0, 4, 5, 0, 7}), TileClass::Empty);
  EXPECT_EQ(m->classify(ctx, {0, 0, 0, 2, 3, 7}), TileClass::Empty);
}

TEST(MaskSemantics, Document) {
  std::vector<int64_t> q{0, 0, 1, 1, /*batch 1*/ 5, 5, 5, 5};
  std::vector<int64_t> kv{0, 1, 1, /*batch 1*/ 5, 6, 5};
  MaskContext ctx = context(4, 3);
  ctx.qSegmentIds = q.data();
  ctx.kvSegmentIds = kv.data();
  MaskRef m = makeDocument();
  EXPECT_EQ(keptRows(*m, ctx, 0), (Rows{"100", "100", "011", "011"}));
  EXPECT_EQ(keptRows(*m, ctx, 1), (Rows{"101", "101", "101", "101"}));
  EXPECT_EQ(m->classify(ctx, {0, 0, 0, 2, 0, 1}), TileClass::Full);
  EXPECT_EQ(m->classify(ctx, {0, 0, 0, 2, 1, 3}), TileClass::Empty);
  EXPECT_EQ(m->classify(ctx, {0, 0, 0, 4, 0, 3}), TileClass::Partial);
  EXPECT_EQ(m->classify(ctx, {1, 0, 0, 4, 0, 1}), TileClass::Full);
  EXPECT_EQ(m->classify(ctx, {1, 0, 0, 4, 1, 2}), TileClass::Empty);
  // Without ids nothing is known at compile time.
  MaskContext noIds = context(4, 3);
  EXPECT_EQ(m->classify(noIds, {0, 0, 0, 2, 0, 1}), TileClass::Partial);
  EXPECT_EQ(m->classify(noIds, {0, 0, 0, 0, 0, 1}), TileClass::Empty);
}

TEST(MaskSemantics, Combinators) {
  MaskContext ctx = context(3, 3);
  MaskRef causal = makeCausal();
  MaskRef diag = makeWindow(0, 0);
  EXPECT_EQ(keptRows(*makeComplement(causal), ctx),
            (Rows{"011", "001", "000"}));
  EXPECT_EQ(keptRows(*makeUnion({makeComplement(causal), diag}), ctx),
            (Rows{"111", "011", "001"}));
  EXPECT_EQ(keptRows(*makeIntersection({causal, makeComplement(diag)}), ctx),
            (Rows{"000", "100", "110"}));
  // The empty union keeps nothing, the empty intersection everything.
  EXPECT_EQ(keptRows(*makeUnion({}), ctx), (Rows{"000", "000", "000"}));
  EXPECT_EQ(keptRows(*makeIntersection({}), ctx), (Rows{"111", "111", "111"}));
  TileRect whole{0, 0, 0, 3, 0, 3};
  EXPECT_EQ(makeUnion({})->classify(ctx, whole), TileClass::Empty);
  EXPECT_EQ(makeIntersection({})->classify(ctx, whole), TileClass::Full);
  EXPECT_EQ(makeUnion({causal, makeAll()})->classify(ctx, whole),
            TileClass::Full);
  EXPECT_EQ(makeIntersection({causal, makeComplement(makeAll())})
                ->classify(ctx, whole),
            TileClass::Empty);
}

TEST(MaskSemantics, PredicateReceivesBatchAndHead) {
  MaskRef m =
      makePredicate([](int64_t b, int64_t h, int64_t i,
                       int64_t j) { return b == 1 && h == 2 && i == j; },
                    /*exactTiles=*/true);
  MaskContext ctx = context(2, 2);
  EXPECT_EQ(keptRows(*m, ctx, 1, 2), (Rows{"10", "01"}));
  EXPECT_EQ(keptRows(*m, ctx, 0, 2), (Rows{"00", "00"}));
  EXPECT_EQ(m->classify(ctx, {1, 2, 0, 1, 0, 1}), TileClass::Full);
  EXPECT_EQ(m->classify(ctx, {0, 2, 0, 1, 0, 1}), TileClass::Empty);
  MaskRef inexact = makePredicate(
      [](int64_t, int64_t, int64_t, int64_t) { return true; }, false);
  EXPECT_EQ(inexact->classify(ctx, {0, 0, 0, 2, 0, 2}), TileClass::Partial);
}

TEST(MaskSemantics, ClassifyClipsTheRectangle) {
  MaskContext ctx = context(4, 4);
  MaskRef causal = makeCausal();
  // Only row 0, column 0 lies inside: kept.
  EXPECT_EQ(causal->classify(ctx, {0, 0, -5, 1, -5, 1}), TileClass::Full);
  // Rows 3.., columns 0..: the overhang must not make it Partial.
  EXPECT_EQ(causal->classify(ctx, {0, 0, 3, 100, 0, 4}), TileClass::Full);
  EXPECT_EQ(causal->classify(ctx, {0, 0, 0, 1, 1, 100}), TileClass::Empty);
  // Entirely outside or empty.
  EXPECT_EQ(makeAll()->classify(ctx, {0, 0, 4, 8, 0, 4}), TileClass::Empty);
  EXPECT_EQ(makeAll()->classify(ctx, {0, 0, 2, 2, 0, 4}), TileClass::Empty);
  EXPECT_EQ(makeAll()->classify(ctx, {0, 0, 0, 4, -3, 0}), TileClass::Empty);
}

//===----------------------------------------------------------------------===//
// Random blocks.
//===----------------------------------------------------------------------===//

/// The kept column blocks of each block row, checking that every block is
/// uniformly kept or dropped.
std::vector<std::set<int64_t>> keptBlocks(const Mask &m, const MaskContext &ctx,
                                          int64_t block) {
  std::vector<std::set<int64_t>> rows;
  for (int64_t r = 0; r * block < ctx.seqQ; ++r) {
    std::set<int64_t> cols;
    for (int64_t c = 0; c * block < ctx.seqKV; ++c) {
      bool first = m.isKept(ctx, 0, 0, r * block, c * block);
      for (int64_t i = r * block; i < std::min((r + 1) * block, ctx.seqQ); ++i)
        for (int64_t j = c * block; j < std::min((c + 1) * block, ctx.seqKV);
             ++j)
          EXPECT_EQ(m.isKept(ctx, 0, 0, i, j), first)
              << "block (" << r << ", " << c << ") not uniform";
      if (first)
        cols.insert(c);
    }
    rows.push_back(cols);
  }
  return rows;
}

TEST(RandomBlocks, PerRowCountAndDeterminism) {
  MaskContext ctx = context(200, 250); // 13 x 16 blocks, last ones partial
  MaskRef a = makeRandomBlocks(16, 3, 42);
  MaskRef b = makeRandomBlocks(16, 3, 42);
  auto blocksA = keptBlocks(*a, ctx, 16);
  ASSERT_EQ(blocksA.size(), 13u);
  for (const auto &row : blocksA)
    EXPECT_EQ(row.size(), 3u);
  EXPECT_EQ(blocksA, keptBlocks(*b, ctx, 16));
  // Rows differ from each other and seeds differ from each other.
  std::set<std::set<int64_t>> distinctRows(blocksA.begin(), blocksA.end());
  EXPECT_GT(distinctRows.size(), 1u);
  EXPECT_NE(blocksA, keptBlocks(*makeRandomBlocks(16, 3, 43), ctx, 16));
  // Many columns per row (the heap-backed shuffle path).
  for (const auto &row :
       keptBlocks(*makeRandomBlocks(2, 40, 9), context(10, 250), 2))
    EXPECT_EQ(row.size(), 40u);
  // Evaluation order does not matter (nothing is cached).
  EXPECT_EQ(a->isKept(ctx, 0, 0, 199, 249), b->isKept(ctx, 0, 0, 199, 249));
}

TEST(RandomBlocks, ShortRowsKeepEverything) {
  MaskContext ctx = context(100, 48); // 3 column blocks of 16
  TileRect whole{0, 0, 0, 100, 0, 48};
  EXPECT_EQ(makeRandomBlocks(16, 3, 7)->classify(ctx, whole), TileClass::Full);
  EXPECT_EQ(makeRandomBlocks(16, 5, 7)->classify(ctx, whole), TileClass::Full);
  EXPECT_EQ(makeRandomBlocks(16, 2, 7)->classify(ctx, whole),
            TileClass::Partial);
  EXPECT_EQ(makeRandomBlocks(16, 0, 7)->classify(ctx, whole), TileClass::Empty);
  for (const auto &row : keptBlocks(*makeRandomBlocks(16, 2, 7), ctx, 16))
    EXPECT_EQ(row.size(), 2u);
}

//===----------------------------------------------------------------------===//
// Tile maps and rendering.
//===----------------------------------------------------------------------===//

TEST(TileMap, CausalRender) {
  MaskContext ctx = context(256, 256);
  MaskRef causal = makeCausal();
  TileMap map = computeTileMap(*causal, ctx, 64, 64);
  EXPECT_EQ(map.count(TileClass::Full), 6);
  EXPECT_EQ(map.count(TileClass::Partial), 4);
  EXPECT_EQ(map.count(TileClass::Empty), 6);
  EXPECT_DOUBLE_EQ(map.nonEmptyTileFraction(), 10.0 / 16.0);
  int64_t kept = countKeptElements(*causal, ctx, map);
  EXPECT_EQ(kept, 256 * 257 / 2);
  EXPECT_EQ(renderTileMap(map, kept, 256 * 256),
            "tile map: 4 x 4 tiles of 64 x 64 (q x kv)\n"
            "+...\n"
            "#+..\n"
            "##+.\n"
            "###+\n"
            "full 6, partial 4, empty 6 of 16 tiles; computed 62.50%; kept "
            "elements 32896 / 65536 (50.20%)\n");
}

TEST(TileMap, RaggedAndEmptyMaps) {
  // 5 x 3 with 2 x 2 tiles: 3 x 2 tiles, the last row and column ragged.
  MaskContext ctx = context(5, 3);
  MaskRef causal = makeCausal();
  TileMap map = computeTileMap(*causal, ctx, 2, 2);
  EXPECT_EQ(map.numQTiles, 3);
  EXPECT_EQ(map.numKVTiles, 2);
  int64_t kept = countKeptElements(*causal, ctx, map);
  EXPECT_EQ(kept, 1 + 2 + 3 + 3 + 3);
  EXPECT_EQ(renderTileMap(map, kept, 15),
            "tile map: 3 x 2 tiles of 2 x 2 (q x kv)\n"
            "+.\n"
            "##\n"
            "##\n"
            "full 4, partial 1, empty 1 of 6 tiles; computed 83.33%; kept "
            "elements 12 / 15 (80.00%)\n");

  TileMap none = computeTileMap(*causal, context(0, 7), 4, 4);
  EXPECT_EQ(none.numQTiles, 0);
  EXPECT_EQ(none.numKVTiles, 2);
  EXPECT_TRUE(none.classes.empty());
  EXPECT_EQ(none.nonEmptyTileFraction(), 0.0);
  EXPECT_EQ(countKeptElements(*causal, context(0, 7), none), 0);
  EXPECT_EQ(renderTileMap(none, 0, 0),
            "tile map: 0 x 2 tiles of 4 x 4 (q x kv)\n"
            "full 0, partial 0, empty 0 of 0 tiles; computed 0.00%; kept "
            "elements 0 / 0 (0.00%)\n");
}

TEST(TileMap, ClassNamesAndChars) {
  EXPECT_EQ(tileClassChar(TileClass::Full), '#');
  EXPECT_EQ(tileClassChar(TileClass::Partial), '+');
  EXPECT_EQ(tileClassChar(TileClass::Empty), '.');
  EXPECT_STREQ(tileClassName(TileClass::Full), "full");
  EXPECT_STREQ(tileClassName(TileClass::Partial), "partial");
  EXPECT_STREQ(tileClassName(TileClass::Empty), "empty");
}

/// The structured masks must classify a 128k x 128k map without touching
/// elements; a per-element implementation would not finish in time here.
TEST(TileMap, LongSequencesAreCheap) {
  const int64_t n = 131072, tile = 256, t = n / tile;
  MaskContext ctx = context(n, n);
  TileMap causal = computeTileMap(*makeCausal(), ctx, tile, tile);
  EXPECT_EQ(causal.count(TileClass::Partial), t);
  EXPECT_EQ(causal.count(TileClass::Full), t * (t - 1) / 2);
  EXPECT_EQ(causal.count(TileClass::Empty), t * (t - 1) / 2);

  TileMap window = computeTileMap(*makeWindow(512, 0), ctx, tile, tile);
  // Per q tile: partial diagonal, full tile one left, partial two left.
  EXPECT_EQ(window.count(TileClass::Full), t - 1);
  EXPECT_EQ(window.count(TileClass::Partial), t + (t - 2));

  TileRect whole{0, 0, 0, n, 0, n};
  std::vector<int64_t> idx;
  for (int64_t k = 0; k < 1000; ++k)
    idx.push_back(k * 97);
  for (const MaskRef &m :
       {makeCausal(Alignment::BottomRight), makeWindow(5, 5), makeDilated(8, 4),
        makePrefixLM(1000), makeGlobal(16, idx)})
    EXPECT_EQ(m->classify(ctx, whole), TileClass::Partial) << m->str();
  // Tile row 0 holds only global queries: full across the whole row.
  TileMap global = computeTileMap(*makeGlobal(tile, idx), ctx, tile, tile);
  for (int64_t kj = 0; kj < t; ++kj)
    ASSERT_EQ(global.at(0, kj), TileClass::Full);
}

//===----------------------------------------------------------------------===//
// Printing and flags.
//===----------------------------------------------------------------------===//

TEST(MaskStr, AttributeSyntax) {
  EXPECT_EQ(makeAll()->str(), "#attn.none");
  EXPECT_EQ(makeCausal()->str(), "#attn.causal");
  EXPECT_EQ(makeCausal(Alignment::BottomRight)->str(),
            "#attn.causal<bottom_right>");
  EXPECT_EQ(makeWindow(256, 0)->str(), "#attn.window<left = 256, right = 0>");
  EXPECT_EQ(makeWindow(3, 4, Alignment::BottomRight)->str(),
            "#attn.window<left = 3, right = 4, alignment = bottom_right>");
  EXPECT_EQ(makeDilated(4, 2)->str(),
            "#attn.dilated<window = 4, dilation = 2>");
  EXPECT_EQ(
      makeDilated(4, 2, Alignment::BottomRight)->str(),
      "#attn.dilated<window = 4, dilation = 2, alignment = bottom_right>");
  EXPECT_EQ(makeGlobal(4, {200, 100, 200})->str(),
            "#attn.global<first = 4, indices = [100, 200]>");
  EXPECT_EQ(makeGlobal(4)->str(), "#attn.global<first = 4>");
  EXPECT_EQ(makeGlobal(0, {7})->str(), "#attn.global<indices = [7]>");
  EXPECT_EQ(makeRandomBlocks(64, 3, 42)->str(),
            "#attn.random_blocks<block = 64, per_row = 3, seed = 42>");
  EXPECT_EQ(makeBlockLayout(64, 64, 4, 4, std::vector<bool>(16, true))->str(),
            "#attn.block_layout<block = [64, 64], rows = 4, cols = 4>");
  EXPECT_EQ(makePrefixLM(128)->str(), "#attn.prefix_lm<prefix = 128>");
  EXPECT_EQ(makeDocument()->str(), "#attn.document");
  EXPECT_EQ(makePredicate(
                [](int64_t, int64_t, int64_t, int64_t) { return true; }, true)
                ->str(),
            "#attn.custom");
  EXPECT_EQ(
      makePredicate([](int64_t, int64_t, int64_t, int64_t) { return true; },
                    true, "#my.mask")
          ->str(),
      "#my.mask");
  EXPECT_EQ(makeUnion({makeCausal(), makeDocument()})->str(),
            "#attn.union<[#attn.causal, #attn.document]>");
  EXPECT_EQ(makeIntersection({makeCausal(), makeWindow(1, 2)})->str(),
            "#attn.intersection<[#attn.causal, #attn.window<left = 1, right = "
            "2>]>");
  EXPECT_EQ(makeComplement(makeUnion({makeCausal()}))->str(),
            "#attn.complement<#attn.union<[#attn.causal]>>");
}

TEST(MaskFlags, KindsAndRuntimeDependence) {
  EXPECT_EQ(makeAll()->getKind(), Mask::Kind::All);
  EXPECT_EQ(makeDilated(1, 1)->getKind(), Mask::Kind::Dilated);
  EXPECT_EQ(makeComplement(makeAll())->getKind(), Mask::Kind::Complement);
  EXPECT_FALSE(makeCausal()->dependsOnBatchOrHead());
  EXPECT_FALSE(makeCausal()->needsRuntimeData());
  EXPECT_TRUE(makeDocument()->dependsOnBatchOrHead());
  EXPECT_TRUE(makeDocument()->needsRuntimeData());
  auto truePred = [](int64_t, int64_t, int64_t, int64_t) { return true; };
  EXPECT_TRUE(makePredicate(truePred, true)->dependsOnBatchOrHead());
  EXPECT_FALSE(
      makePredicate(truePred, true, "#p", false)->dependsOnBatchOrHead());
  EXPECT_FALSE(makePredicate(truePred, true)->needsRuntimeData());
  MaskRef nested = makeUnion({makeCausal(), makeComplement(makeIntersection(
                                                {makeAll(), makeDocument()}))});
  EXPECT_TRUE(nested->dependsOnBatchOrHead());
  EXPECT_TRUE(nested->needsRuntimeData());
  MaskRef plain = makeIntersection({makeCausal(), makeWindow(1, 1)});
  EXPECT_FALSE(plain->dependsOnBatchOrHead());
  EXPECT_FALSE(plain->needsRuntimeData());
}

} // namespace

// A negative kept-element count (run-time data) renders as unknown rather
// than as a negative number.
TEST(RenderTileMap, UnknownKeptElements) {
  MaskContext ctx;
  ctx.seqQ = 8;
  ctx.seqKV = 8;
  TileMap map = computeTileMap(*makeDocument(), ctx, 4, 4);
  EXPECT_EQ(renderTileMap(map, -1, 64),
            "tile map: 2 x 2 tiles of 4 x 4 (q x kv)\n"
            "++\n"
            "++\n"
            "full 0, partial 4, empty 0 of 4 tiles; computed 100.00%; kept "
            "elements unknown until run time\n");
}

// band() describes exactly the elements a band mask keeps, and is absent
// for masks that are not bands.
TEST(MaskBand, BandsMatchElements) {
  std::vector<MaskRef> bands = {
      makeAll(),
      makeCausal(),
      makeCausal(Alignment::BottomRight),
      makeWindow(5, 0),
      makeWindow(3, 7, Alignment::BottomRight),
      makeIntersection({makeCausal(), makeWindow(6, 6)}),
      makeIntersection({makeAll(), makeCausal(Alignment::BottomRight)}),
      makeIntersection({makeWindow(2, 2), makeWindow(9, 0)}),
  };
  for (const MaskRef &mask : bands) {
    std::optional<Band> band = mask->band();
    ASSERT_TRUE(band) << mask->str();
    for (int64_t seqQ : {1, 7, 20})
      for (int64_t seqKV : {1, 13, 20}) {
        MaskContext ctx;
        ctx.seqQ = seqQ;
        ctx.seqKV = seqKV;
        for (int64_t i = 0; i < seqQ; ++i)
          for (int64_t j = 0; j < seqKV; ++j) {
            int64_t d = j - (i + ctx.alignmentOffset(band->align));
            EXPECT_EQ(mask->isKept(ctx, 0, 0, i, j),
                      band->lo <= d && d <= band->hi)
                << mask->str() << " at (" << i << ", " << j << ")";
          }
      }
  }
  EXPECT_FALSE(makePrefixLM(4)->band());
  EXPECT_FALSE(makeUnion({makeCausal(), makeWindow(1, 1)})->band());
  EXPECT_FALSE(
      makeIntersection({makeCausal(), makeCausal(Alignment::BottomRight)})
          ->band());
}

// boundingBand() holds every kept element; for an intersection it is the
// tightest band among its operands' (causal within documents: causal).
TEST(MaskBand, BoundingBandsContainTheMask) {
  std::vector<MaskRef> masks = {
      makeIntersection({makeCausal(), makeDocument()}),
      makeIntersection({makeWindow(4, 2), makePrefixLM(3)}),
      makeIntersection({makeCausal(), makeWindow(6, 6), makeGlobal(2)}),
  };
  std::vector<int64_t> docs = {0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 4};
  for (const MaskRef &mask : masks) {
    std::optional<Band> band = mask->boundingBand();
    ASSERT_TRUE(band) << mask->str();
    MaskContext ctx;
    ctx.seqQ = ctx.seqKV = static_cast<int64_t>(docs.size());
    ctx.qSegmentIds = ctx.kvSegmentIds = docs.data();
    for (int64_t i = 0; i < ctx.seqQ; ++i)
      for (int64_t j = 0; j < ctx.seqKV; ++j)
        if (mask->isKept(ctx, 0, 0, i, j)) {
          int64_t d = j - i;
          EXPECT_TRUE(band->lo <= d && d <= band->hi)
              << mask->str() << " keeps (" << i << ", " << j
              << ") outside its bounding band";
        }
  }
  EXPECT_EQ(masks[0]->boundingBand()->hi, 0);
  EXPECT_FALSE(makeDocument()->boundingBand());
  EXPECT_FALSE(makeComplement(makeCausal())->boundingBand());
}
