// RUN: attn-opt %s --attn-tile="tile-q=32 tile-kv=64" --attn-bufferize --attn-tile-to-gpu -split-input-file -verify-diagnostics
// RUN: attn-opt %s --attn-to-gpu="tile-q=32 tile-kv=64" -split-input-file -verify-diagnostics

// The GPU conversion reads the tile shape from the tiled IR and refuses
// one it has no kernel for, naming those it has.
func.func @unsupported_tiles(%q: tensor<1x2x256x64xf16>, %k: tensor<1x2x256x64xf16>,
                             %v: tensor<1x2x256x64xf16>) -> tensor<1x2x256x64xf16> {
  // expected-error @+1 {{attn-tile-to-gpu: no GPU kernel for 32 x 64 tiles (tile_q x tile_kv); the GPU kernels are built for 64 x 64}}
  %o = attn.attention %q, %k, %v {mask = #attn.causal}
      : tensor<1x2x256x64xf16>, tensor<1x2x256x64xf16>, tensor<1x2x256x64xf16>
      -> tensor<1x2x256x64xf16>
  return %o : tensor<1x2x256x64xf16>
}
