//===- MaskAttrTest.cpp - Mask attributes against their definitions ------===//
//
// Parses attentions with every mask attribute and checks the mask-algebra
// object each builds (MaskAttrInterface::buildMask) against a reference
// predicate written here from the attribute's documented definition, on
// random sequence lengths: element by element, and tile by tile for
// safety (and exactness for the leaf patterns). This catches a wrong
// mapping from attribute to mask (swapped parameters, lost alignment) and
// checks the mask_mod interpreter against plain C++.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

#include "gtest/gtest.h"

#include <cmath>
#include <functional>
#include <random>

using namespace mlir;
namespace am = ::mlir::attn::mask;

namespace {

using RefFn =
    std::function<bool(int64_t sq, int64_t skv, int64_t i, int64_t j)>;

struct MaskCase {
  const char *name;
  std::string mask;   // the `mask` attribute, or "" for none
  std::string region; // a mask_mod region body, or ""
  RefFn ref;
  bool exact; // tile classification must be exact
};

class MaskAttrTest : public ::testing::Test {
protected:
  MaskAttrTest() {
    ctx.loadDialect<attn::AttnDialect, arith::ArithDialect, func::FuncDialect,
                    tensor::TensorDialect>();
  }

  /// Parses an attention of the given lengths with `c`'s mask.
  OwningOpRef<ModuleOp> parse(const MaskCase &c, int64_t sq, int64_t skv) {
    std::string q = "tensor<1x2x" + std::to_string(sq) + "x8xf32>";
    std::string kv = "tensor<1x2x" + std::to_string(skv) + "x8xf32>";
    std::string attrs = c.mask.empty() ? "" : "{mask = " + c.mask + "}";
    std::string region =
        c.region.empty()
            ? ""
            : "mask_mod {\n^bb0(%b: index, %h: index, %i: index, %j: "
              "index):\n" +
                  c.region + "\n}";
    std::string text = "func.func @f(%q: " + q + ", %k: " + kv + ", %v: " + kv +
                       ") -> " + q +
                       " {\n  %o = attn.attention %q, %k, "
                       "%v " +
                       attrs + " " + region + " : " + q + ", " + kv + ", " +
                       kv + " -> " + q + "\n  return %o : " + q + "\n}\n";
    return parseSourceString<ModuleOp>(text, &ctx);
  }

  MLIRContext ctx;
};

std::vector<MaskCase> maskCases() {
  auto inWindow = [](int64_t d, int64_t left, int64_t right) {
    return -left <= d && d <= right;
  };
  auto isGlobal = [](int64_t x) { return x < 3 || x == 40 || x == 77; };
  // A 3x3 layout over 32x16 blocks.
  auto layout = [](int64_t i, int64_t j) {
    static const bool bits[3][3] = {
        {true, false, false}, {false, true, true}, {true, false, true}};
    return bits[i / 32][j / 16];
  };
  return {
      {"none", "#attn.none", "",
       [](int64_t, int64_t, int64_t, int64_t) { return true; }, true},
      {"causal", "#attn.causal", "",
       [](int64_t, int64_t, int64_t i, int64_t j) { return j <= i; }, true},
      {"causal_br", "#attn.causal<bottom_right>", "",
       [](int64_t sq, int64_t skv, int64_t i, int64_t j) {
         return j <= i + skv - sq;
       },
       true},
      {"window", "#attn.window<left = 13, right = 2>", "",
       [=](int64_t, int64_t, int64_t i, int64_t j) {
         return inWindow(j - i, 13, 2);
       },
       true},
      {"window_br",
       "#attn.window<left = 5, right = 0, alignment = "
       "bottom_right>",
       "",
       [=](int64_t sq, int64_t skv, int64_t i, int64_t j) {
         return inWindow(j - (i + skv - sq), 5, 0);
       },
       true},
      {"dilated", "#attn.dilated<window = 3, dilation = 4>", "",
       [](int64_t, int64_t, int64_t i, int64_t j) {
         int64_t d = j - i;
         return d % 4 == 0 && std::abs(d) <= 12;
       },
       true},
      {"global", "#attn.global<first = 3, indices = [77, 40]>", "",
       [=](int64_t, int64_t, int64_t i, int64_t j) {
         return isGlobal(i) || isGlobal(j);
       },
       true},
      {"prefix_lm", "#attn.prefix_lm<prefix = 21>", "",
       [](int64_t, int64_t, int64_t i, int64_t j) { return j < 21 || j <= i; },
       true},
      {"block_layout",
       "#attn.block_layout<block = [32, 16], layout = dense<[[true, false, "
       "false], [false, true, true], [true, false, true]]> : tensor<3x3xi1>>",
       "", [=](int64_t, int64_t, int64_t i, int64_t j) { return layout(i, j); },
       true},
      {"union",
       "#attn.union<[#attn.window<left = 4, right = 4>, "
       "#attn.global<first = 3, indices = [40, 77]>]>",
       "",
       [=](int64_t, int64_t, int64_t i, int64_t j) {
         return inWindow(j - i, 4, 4) || isGlobal(i) || isGlobal(j);
       },
       false},
      {"intersection",
       "#attn.intersection<[#attn.causal, "
       "#attn.window<left = 9, right = 9>]>",
       "",
       [=](int64_t, int64_t, int64_t i, int64_t j) {
         return j <= i && inWindow(j - i, 9, 9);
       },
       false},
      {"complement", "#attn.complement<#attn.prefix_lm<prefix = 10>>", "",
       [](int64_t, int64_t, int64_t i, int64_t j) {
         return !(j < 10 || j <= i);
       },
       false},
      {"custom_only", "",
       "  %c16 = arith.constant 16 : index\n"
       "  %bi = arith.divui %i, %c16 : index\n"
       "  %bj = arith.divui %j, %c16 : index\n"
       "  %same = arith.cmpi eq, %bi, %bj : index\n"
       "  attn.yield %same : i1",
       [](int64_t, int64_t, int64_t i, int64_t j) { return i / 16 == j / 16; },
       true},
      {"custom_in_intersection",
       "#attn.intersection<[#attn.causal, #attn.custom]>",
       // Keeps j with (i - j) mod 3 != 1, via i64 casts, remsi and select.
       "  %i64 = arith.index_cast %i : index to i64\n"
       "  %j64 = arith.index_cast %j : index to i64\n"
       "  %d = arith.subi %i64, %j64 : i64\n"
       "  %c3 = arith.constant 3 : i64\n"
       "  %r = arith.remsi %d, %c3 : i64\n"
       "  %c1 = arith.constant 1 : i64\n"
       "  %is1 = arith.cmpi eq, %r, %c1 : i64\n"
       "  %t = arith.constant true\n"
       "  %f = arith.constant false\n"
       "  %keep = arith.select %is1, %f, %t : i1\n"
       "  attn.yield %keep : i1",
       [](int64_t, int64_t, int64_t i, int64_t j) {
         return j <= i && (i - j) % 3 != 1;
       },
       false},
  };
}

TEST_F(MaskAttrTest, BuiltMasksMatchTheirDefinitions) {
  std::mt19937_64 rng(20261125);
  std::uniform_int_distribution<int64_t> seqDist(1, 96), tileDist(1, 40);
  for (const MaskCase &c : maskCases()) {
    for (int trial = 0; trial < 12; ++trial) {
      std::string name = c.name;
      int64_t sq = seqDist(rng), skv = seqDist(rng);
      // block_layout's 3x3 layout of 32x16 blocks fixes the lengths' range;
      // global token 77 must lie inside the sequence.
      if (name == "block_layout") {
        sq = 65 + sq % 32;
        skv = 33 + skv % 16;
      } else if (name == "global" || name == "union") {
        sq += 77;
        skv += 77;
      }
      SCOPED_TRACE(std::string(c.name) + " sq=" + std::to_string(sq) +
                   " skv=" + std::to_string(skv));
      OwningOpRef<ModuleOp> module = parse(c, sq, skv);
      ASSERT_TRUE(module) << "does not parse";
      attn::AttentionOp op;
      module->walk([&](attn::AttentionOp a) { op = a; });
      ASSERT_TRUE(succeeded(mlir::verify(*module)));
      am::MaskRef mask = op.buildMask();
      am::MaskContext mctx;
      mctx.seqQ = sq;
      mctx.seqKV = skv;

      for (int64_t i = 0; i < sq; ++i)
        for (int64_t j = 0; j < skv; ++j)
          ASSERT_EQ(mask->isKept(mctx, 0, 0, i, j), c.ref(sq, skv, i, j))
              << "element (" << i << ", " << j << ")";

      int64_t tq = tileDist(rng), tk = tileDist(rng);
      am::TileMap map = am::computeTileMap(*mask, mctx, tq, tk);
      for (int64_t qi = 0; qi < map.numQTiles; ++qi) {
        for (int64_t kj = 0; kj < map.numKVTiles; ++kj) {
          int64_t kept = 0, total = 0;
          for (int64_t i = qi * tq; i < std::min(sq, (qi + 1) * tq); ++i)
            for (int64_t j = kj * tk; j < std::min(skv, (kj + 1) * tk); ++j) {
              kept += c.ref(sq, skv, i, j);
              ++total;
            }
          am::TileClass cls = map.at(qi, kj);
          std::string where = "tile (" + std::to_string(qi) + ", " +
                              std::to_string(kj) + ") of " +
                              std::to_string(tq) + "x" + std::to_string(tk);
          if (cls == am::TileClass::Empty)
            ASSERT_EQ(kept, 0) << where << " classified empty";
          if (cls == am::TileClass::Full)
            ASSERT_EQ(kept, total) << where << " classified full";
          if (c.exact && cls == am::TileClass::Partial)
            ASSERT_TRUE(kept > 0 && kept < total)
                << where << " classified partial";
        }
      }
    }
  }
}

// A mask_mod region that reads a captured tensor cannot be interpreted at
// compile time: its tiles must all be partial (never wrongly skipped).
TEST_F(MaskAttrTest, CapturedRegionIsNotInterpreted) {
  const char *text = R"mlir(
    func.func @f(%q: tensor<1x1x32x8xf32>, %k: tensor<1x1x32x8xf32>,
                 %v: tensor<1x1x32x8xf32>, %t: tensor<32xi32>)
        -> tensor<1x1x32x8xf32> {
      %o = attn.attention %q, %k, %v captures(%t : tensor<32xi32>)
          mask_mod {
          ^bb0(%b: index, %h: index, %i: index, %j: index, %cap: tensor<32xi32>):
            %e = tensor.extract %cap[%i] : tensor<32xi32>
            %x = arith.index_cast %e : i32 to index
            %keep = arith.cmpi ule, %j, %x : index
            attn.yield %keep : i1
          }
          : tensor<1x1x32x8xf32>, tensor<1x1x32x8xf32>, tensor<1x1x32x8xf32>
          -> tensor<1x1x32x8xf32>
      return %o : tensor<1x1x32x8xf32>
    })mlir";
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, &ctx);
  ASSERT_TRUE(module);
  attn::AttentionOp op;
  module->walk([&](attn::AttentionOp a) { op = a; });
  EXPECT_TRUE(failed(attn::interpretMaskModRegion(op.getMaskMod())));
  am::MaskContext mctx;
  mctx.seqQ = 32;
  mctx.seqKV = 32;
  am::TileMap map = am::computeTileMap(*op.buildMask(), mctx, 8, 8);
  EXPECT_EQ(map.count(am::TileClass::Partial), 16);
}

// The standard ALiBi slopes of Press et al. (their reference get_slopes):
// 2^(-8 (h + 1) / n) for a power of two n, else those of the closest lower
// power of two followed by every other slope of the next one.
TEST_F(MaskAttrTest, AlibiStandardSlopes) {
  auto alibi = attn::AlibiAttr::get(&ctx, {});
  SmallVector<double> eight = alibi.getEffectiveSlopes(8);
  ASSERT_EQ(eight.size(), 8u);
  for (int h = 0; h < 8; ++h)
    EXPECT_DOUBLE_EQ(eight[h], std::pow(2.0, -(h + 1)));
  SmallVector<double> twelve = alibi.getEffectiveSlopes(12);
  ASSERT_EQ(twelve.size(), 12u);
  for (int h = 0; h < 8; ++h)
    EXPECT_DOUBLE_EQ(twelve[h], std::pow(2.0, -(h + 1)));
  for (int h = 0; h < 4; ++h)
    EXPECT_DOUBLE_EQ(twelve[8 + h], std::pow(2.0, -0.5 - h));
}

} // namespace
