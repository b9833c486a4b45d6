// RUN: attn-opt %s --attn-tile="tile-q=40 tile-kv=64" --attn-bufferize --attn-tile-to-gpu -split-input-file -verify-diagnostics
// RUN: attn-opt %s --attn-to-gpu="kernel-config=40x64" -split-input-file -verify-diagnostics
// RUN: not attn-opt %s --attn-to-gpu="kernel-config=128by64" 2>&1 | FileCheck %s --check-prefix=SYNTAX

// SYNTAX: attn-to-gpu: kernel-config '128by64' is not tile_q x tile_kv with optional warps and q ("128x64w4", "128x32w4q", "128x64") or "auto"

// The GPU conversion reads the tile shape from the tiled IR and refuses
// a configuration that does not fit, saying why.
func.func @unsupported_tiles(%q: tensor<1x2x256x64xf16>, %k: tensor<1x2x256x64xf16>,
                             %v: tensor<1x2x256x64xf16>) -> tensor<1x2x256x64xf16> {
  // expected-error @+1 {{attn-tile-to-gpu: no GPU kernel 40x64w2 (tile_q x tile_kv, warps) for head dimensions 64/64 on sm_80: each warp owns tile_q / warps query rows, which must be 16 or 32, not 40 / 2}}
  %o = attn.attention %q, %k, %v {mask = #attn.causal}
      : tensor<1x2x256x64xf16>, tensor<1x2x256x64xf16>, tensor<1x2x256x64xf16>
      -> tensor<1x2x256x64xf16>
  return %o : tensor<1x2x256x64xf16>
}
