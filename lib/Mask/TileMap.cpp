//===- TileMap.cpp - Tile maps of a mask and their pictures ---------------===//
//
// The tile map of one (batch, head): the class of every (q tile, kv tile),
// the kept-element count, and the text picture that attn-print-tile-map
// and docs/masks.md show. Built on Mask::classify and Mask::isKept.
//
//===----------------------------------------------------------------------===//

#include "attn/Mask/Mask.h"

#include <algorithm>
#include <cstdio>

namespace mlir::attn::mask {

/// Tiles needed to cover `n >= 0` elements.
static int64_t tilesFor(int64_t n, int64_t tile) {
  return (n + tile - 1) / tile;
}

int64_t TileMap::count(TileClass c) const {
  return std::count(classes.begin(), classes.end(), c);
}

double TileMap::nonEmptyTileFraction() const {
  if (classes.empty())
    return 0.0;
  return static_cast<double>(classes.size() - count(TileClass::Empty)) /
         static_cast<double>(classes.size());
}

TileMap computeTileMap(const Mask &mask, const MaskContext &ctx, int64_t tileQ,
                       int64_t tileKV, int64_t batch, int64_t head) {
  TileMap map;
  map.tileQ = tileQ;
  map.tileKV = tileKV;
  map.numQTiles = tilesFor(std::max<int64_t>(ctx.seqQ, 0), tileQ);
  map.numKVTiles = tilesFor(std::max<int64_t>(ctx.seqKV, 0), tileKV);
  map.classes.reserve(static_cast<size_t>(map.numQTiles * map.numKVTiles));
  for (int64_t qi = 0; qi < map.numQTiles; ++qi) {
    for (int64_t kj = 0; kj < map.numKVTiles; ++kj) {
      TileRect r;
      r.batch = batch;
      r.head = head;
      r.qBegin = qi * tileQ;
      r.qEnd = r.qBegin + tileQ;
      r.kvBegin = kj * tileKV;
      r.kvEnd = r.kvBegin + tileKV;
      map.classes.push_back(mask.classify(ctx, r));
    }
  }
  return map;
}

int64_t countKeptElements(const Mask &mask, const MaskContext &ctx,
                          const TileMap &map, int64_t batch, int64_t head) {
  int64_t kept = 0;
  for (int64_t qi = 0; qi < map.numQTiles; ++qi) {
    int64_t q0 = qi * map.tileQ, q1 = std::min(q0 + map.tileQ, ctx.seqQ);
    for (int64_t kj = 0; kj < map.numKVTiles; ++kj) {
      int64_t k0 = kj * map.tileKV, k1 = std::min(k0 + map.tileKV, ctx.seqKV);
      if (q0 >= q1 || k0 >= k1)
        continue;
      switch (map.at(qi, kj)) {
      case TileClass::Empty:
        break;
      case TileClass::Full:
        kept += (q1 - q0) * (k1 - k0);
        break;
      case TileClass::Partial:
        for (int64_t i = q0; i < q1; ++i)
          for (int64_t j = k0; j < k1; ++j)
            kept += mask.isKept(ctx, batch, head, i, j);
        break;
      }
    }
  }
  return kept;
}

std::string renderTileMap(const TileMap &map, int64_t keptElements,
                          int64_t totalElements) {
  std::string out = "tile map: " + std::to_string(map.numQTiles) + " x " +
                    std::to_string(map.numKVTiles) + " tiles of " +
                    std::to_string(map.tileQ) + " x " +
                    std::to_string(map.tileKV) + " (q x kv)\n";
  for (int64_t qi = 0; qi < map.numQTiles; ++qi) {
    for (int64_t kj = 0; kj < map.numKVTiles; ++kj)
      out += tileClassChar(map.at(qi, kj));
    out += '\n';
  }
  char summary[256];
  std::snprintf(summary, sizeof(summary),
                "full %lld, partial %lld, empty %lld of %lld tiles; computed "
                "%.2f%%; ",
                static_cast<long long>(map.count(TileClass::Full)),
                static_cast<long long>(map.count(TileClass::Partial)),
                static_cast<long long>(map.count(TileClass::Empty)),
                static_cast<long long>(map.classes.size()),
                100.0 * map.nonEmptyTileFraction());
  out += summary;
  if (keptElements < 0)
    return out + "kept elements unknown until run time\n";
  double keptPercent = totalElements == 0
                           ? 0.0
                           : 100.0 * static_cast<double>(keptElements) /
                                 static_cast<double>(totalElements);
  std::snprintf(summary, sizeof(summary),
                "kept elements %lld / %lld (%.2f%%)\n",
                static_cast<long long>(keptElements),
                static_cast<long long>(totalElements), keptPercent);
  return out + summary;
}

char tileClassChar(TileClass c) {
  switch (c) {
  case TileClass::Empty:
    return '.';
  case TileClass::Full:
    return '#';
  case TileClass::Partial:
    return '+';
  }
  return '?';
}

const char *tileClassName(TileClass c) {
  switch (c) {
  case TileClass::Empty:
    return "empty";
  case TileClass::Full:
    return "full";
  case TileClass::Partial:
    return "partial";
  }
  return "unknown";
}

} // namespace mlir::attn::mask
