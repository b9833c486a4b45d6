// Character-for-character tile maps of the mask guide's causal and window
// examples (docs/masks/), and the pass's errors.
// RUN: attn-opt %attn_src_root/docs/masks/causal.mlir --attn-print-tile-map -o /dev/null | FileCheck %s --check-prefix=CAUSAL
// RUN: attn-opt %attn_src_root/docs/masks/window.mlir --attn-print-tile-map -o /dev/null | FileCheck %s --check-prefix=WINDOW
// RUN: attn-opt %attn_src_root/docs/masks/window.mlir --attn-print-tile-map="tile-q=128 tile-kv=32" -o /dev/null | FileCheck %s --check-prefix=WINDOW-RECT
// RUN: attn-opt %s --attn-print-tile-map -split-input-file -verify-diagnostics -o /dev/null
// RUN: not attn-opt %attn_src_root/docs/masks/causal.mlir --attn-print-tile-map="tile-q=0" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD-TILE

// Causal: diagonal tiles partial, below full, above skipped.
// CAUSAL:      mask: #attn.causal
// CAUSAL-NEXT: sequence lengths: 512 x 512 (q x kv)
// CAUSAL-NEXT: tile map: 8 x 8 tiles of 64 x 64 (q x kv)
// CAUSAL-NEXT: {{^}}+.......{{$}}
// CAUSAL-NEXT: {{^}}#+......{{$}}
// CAUSAL-NEXT: {{^}}##+.....{{$}}
// CAUSAL-NEXT: {{^}}###+....{{$}}
// CAUSAL-NEXT: {{^}}####+...{{$}}
// CAUSAL-NEXT: {{^}}#####+..{{$}}
// CAUSAL-NEXT: {{^}}######+.{{$}}
// CAUSAL-NEXT: {{^}}#######+{{$}}
// CAUSAL-NEXT: full 28, partial 8, empty 28 of 64 tiles; computed 56.25%; kept elements 131328 / 262144 (50.10%)

// A causal window of 128 keys: each q tile computes its diagonal tile, two
// full tiles and one partial tile at the window's far edge.
// WINDOW:      mask: #attn.window<left = 128, right = 0>
// WINDOW:      tile map: 8 x 8 tiles of 64 x 64 (q x kv)
// WINDOW-NEXT: {{^}}+.......{{$}}
// WINDOW-NEXT: {{^}}#+......{{$}}
// WINDOW-NEXT: {{^}}+#+.....{{$}}
// WINDOW-NEXT: {{^}}.+#+....{{$}}
// WINDOW-NEXT: {{^}}..+#+...{{$}}
// WINDOW-NEXT: {{^}}...+#+..{{$}}
// WINDOW-NEXT: {{^}}....+#+.{{$}}
// WINDOW-NEXT: {{^}}.....+#+{{$}}
// WINDOW-NEXT: full 7, partial 14, empty 43 of 64 tiles

// Non-square tiles: 4 q tiles of 128 over 16 kv tiles of 32.
// WINDOW-RECT:      tile map: 4 x 16 tiles of 128 x 32 (q x kv)
// WINDOW-RECT-NEXT: {{^}}++++............{{$}}
// WINDOW-RECT-NEXT: {{^}}++++++++........{{$}}
// WINDOW-RECT-NEXT: {{^}}....++++++++....{{$}}
// WINDOW-RECT-NEXT: {{^}}........++++++++{{$}}

// BAD-TILE: error: attn-print-tile-map: tile sizes must be positive, got 0 x 64

func.func @dynamic(%q: tensor<1x1x?x16xf32>, %k: tensor<1x1x?x16xf32>,
                   %v: tensor<1x1x?x16xf32>) -> tensor<1x1x?x16xf32> {
  // expected-error @+1 {{attn-print-tile-map needs static sequence lengths}}
  %o = attn.attention %q, %k, %v {mask = #attn.causal}
      : tensor<1x1x?x16xf32>, tensor<1x1x?x16xf32>, tensor<1x1x?x16xf32>
      -> tensor<1x1x?x16xf32>
  return %o : tensor<1x1x?x16xf32>
}
