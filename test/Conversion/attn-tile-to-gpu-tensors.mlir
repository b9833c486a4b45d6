// RUN: attn-opt %s --attn-tile --attn-tile-to-gpu -verify-diagnostics

// The GPU conversion takes the bufferized tiled IR: the tensor form that
// attn-tile emits is refused with what to run first.
func.func @not_bufferized(%q: tensor<1x2x128x64xf16>, %k: tensor<1x2x128x64xf16>,
                          %v: tensor<1x2x128x64xf16>) -> tensor<1x2x128x64xf16> {
  // expected-error @+1 {{attn-tile-to-gpu: expects the tile ops on memrefs; bufferize the tiled IR first (attn-bufferize)}}
  %o = attn.attention %q, %k, %v
      : tensor<1x2x128x64xf16>, tensor<1x2x128x64xf16>, tensor<1x2x128x64xf16>
      -> tensor<1x2x128x64xf16>
  return %o : tensor<1x2x128x64xf16>
}
