//===- Passes.td - attn dialect passes ---------------------*- tablegen -*-===//
//
// Passes over the attn dialect. Lowering passes (tiling, online softmax,
// host and GPU conversion) join this file as they are built.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TRANSFORMS_PASSES_TD
#define ATTN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnPrintTileMap : Pass<"attn-print-tile-map"> {
  let summary = "Print the tile map (empty/full/partial) of every attention";
  let description = [{
    For every `attn.attention` with static sequence lengths, prints the
    class of each (q tile, kv tile) of its score matrix as a picture, one
    row per q tile: `#` full (no per-element mask needed), `+` partial
    (masked element by element), `.` empty (skipped), followed by the
    fraction of tiles computed and of elements kept. It is the equivalent
    of printing a FlexAttention BlockMask. The IR is left unchanged.

    Example: `attn-opt in.mlir --attn-print-tile-map="tile-q=64 tile-kv=64"
    -o /dev/null`.
  }];
  let options = [
    Option<"tileQ", "tile-q", "int64_t", /*default=*/"64",
           "Rows of the score matrix per tile (query positions)">,
    Option<"tileKV", "tile-kv", "int64_t", /*default=*/"64",
           "Columns of the score matrix per tile (key positions)">,
    Option<"batch", "batch", "int64_t", /*default=*/"0",
           "Batch index to print, for masks that depend on it">,
    Option<"head", "head", "int64_t", /*default=*/"0",
           "Query head to print, for masks that depend on it">,
  ];
}

#endif // ATTN_TRANSFORMS_PASSES_TD
