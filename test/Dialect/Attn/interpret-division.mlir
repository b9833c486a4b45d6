// RUN: attn-opt %s --attn-print-tile-map="tile-q=1 tile-kv=1" -split-input-file -o /dev/null | FileCheck %s

// The compile-time interpreter of mask_mod regions follows attn's
// definition of integer division where MLIR leaves it undefined: x / 0 = 0,
// x % 0 = x, INT_MIN / -1 = INT_MIN, INT_MIN % -1 = 0 (see attn.attention;
// the lowerings guard the same ops to the same values, which
// test/Robustness/region-division.test checks end to end). With 1 x 1
// tiles, each character of the map is one element: '#' kept, '.' dropped.

// Signed, d = i - j: j / d == 0 and j % d == j. Off the diagonal that is
// j < i / 2; on it (d = 0) j / 0 = 0 and j % 0 = j, so it is kept.
// CHECK-LABEL: tile map: 8 x 8 tiles of 1 x 1 (q x kv)
// CHECK-NEXT: {{^}}#.......{{$}}
// CHECK-NEXT: {{^}}##......{{$}}
// CHECK-NEXT: {{^}}#.#.....{{$}}
// CHECK-NEXT: {{^}}##.#....{{$}}
// CHECK-NEXT: {{^}}##..#...{{$}}
// CHECK-NEXT: {{^}}###..#..{{$}}
// CHECK-NEXT: {{^}}###...#.{{$}}
// CHECK-NEXT: {{^}}####...#{{$}}
// CHECK-NEXT: kept elements 24 / 64
func.func @signed_by_zero(%q: tensor<1x1x8x8xf32>, %k: tensor<1x1x8x8xf32>, %v: tensor<1x1x8x8xf32>) -> tensor<1x1x8x8xf32> {
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %d = arith.subi %i, %j : index
    %c0 = arith.constant 0 : index
    %quot = arith.divsi %j, %d : index
    %rem = arith.remsi %j, %d : index
    %q0 = arith.cmpi eq, %quot, %c0 : index
    %rj = arith.cmpi eq, %rem, %j : index
    %keep = arith.andi %q0, %rj : i1
    attn.yield %keep : i1
  } : tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32> -> tensor<1x1x8x8xf32>
  return %o : tensor<1x1x8x8xf32>
}

// -----

// Unsigned, d = i - j: ceildiv(i, d) == 0 and i % d == i. For d != 0 that
// holds only for i = 0 (the first row); for d = 0 (the diagonal) by the
// definition.
// CHECK-LABEL: tile map: 8 x 8 tiles of 1 x 1 (q x kv)
// CHECK-NEXT: {{^}}########{{$}}
// CHECK-NEXT: {{^}}.#......{{$}}
// CHECK-NEXT: {{^}}..#.....{{$}}
// CHECK-NEXT: {{^}}...#....{{$}}
// CHECK-NEXT: {{^}}....#...{{$}}
// CHECK-NEXT: {{^}}.....#..{{$}}
// CHECK-NEXT: {{^}}......#.{{$}}
// CHECK-NEXT: {{^}}.......#{{$}}
// CHECK-NEXT: kept elements 15 / 64
func.func @unsigned_by_zero(%q: tensor<1x1x8x8xf32>, %k: tensor<1x1x8x8xf32>, %v: tensor<1x1x8x8xf32>) -> tensor<1x1x8x8xf32> {
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %d = arith.subi %i, %j : index
    %c0 = arith.constant 0 : index
    %quot = arith.ceildivui %i, %d : index
    %rem = arith.remui %i, %d : index
    %q0 = arith.cmpi eq, %quot, %c0 : index
    %ri = arith.cmpi eq, %rem, %i : index
    %keep = arith.andi %q0, %ri : i1
    attn.yield %keep : i1
  } : tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32> -> tensor<1x1x8x8xf32>
  return %o : tensor<1x1x8x8xf32>
}

// -----

// Signed overflow wraps: INT_MIN / -1 = INT_MIN and INT_MIN % -1 = 0, so
// with the divisor -1 for j <= i and 2 above, the map is causal.
// CHECK-LABEL: tile map: 8 x 8 tiles of 1 x 1 (q x kv)
// CHECK-NEXT: {{^}}#.......{{$}}
// CHECK-NEXT: {{^}}##......{{$}}
// CHECK-NEXT: {{^}}###.....{{$}}
// CHECK-NEXT: {{^}}####....{{$}}
// CHECK-NEXT: {{^}}#####...{{$}}
// CHECK-NEXT: {{^}}######..{{$}}
// CHECK-NEXT: {{^}}#######.{{$}}
// CHECK-NEXT: {{^}}########{{$}}
// CHECK-NEXT: kept elements 36 / 64
func.func @signed_overflow(%q: tensor<1x1x8x8xf32>, %k: tensor<1x1x8x8xf32>, %v: tensor<1x1x8x8xf32>) -> tensor<1x1x8x8xf32> {
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %min = arith.constant -9223372036854775808 : i64
    %m1 = arith.constant -1 : i64
    %c2 = arith.constant 2 : i64
    %c0 = arith.constant 0 : i64
    %below = arith.cmpi sle, %j, %i : index
    %d = arith.select %below, %m1, %c2 : i64
    %quot = arith.divsi %min, %d : i64
    %rem = arith.remsi %min, %d : i64
    %wrapped = arith.cmpi eq, %quot, %min : i64
    %r0 = arith.cmpi eq, %rem, %c0 : i64
    %keep = arith.andi %wrapped, %r0 : i1
    attn.yield %keep : i1
  } : tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32> -> tensor<1x1x8x8xf32>
  return %o : tensor<1x1x8x8xf32>
}

// -----

// floordivsi and ceildivsi by zero are 0 too: d / d is 1 off the diagonal
// and 0 on it.
// CHECK-LABEL: tile map: 8 x 8 tiles of 1 x 1 (q x kv)
// CHECK-NEXT: {{^}}#.......{{$}}
// CHECK-NEXT: {{^}}.#......{{$}}
// CHECK-NEXT: {{^}}..#.....{{$}}
// CHECK-NEXT: {{^}}...#....{{$}}
// CHECK-NEXT: {{^}}....#...{{$}}
// CHECK-NEXT: {{^}}.....#..{{$}}
// CHECK-NEXT: {{^}}......#.{{$}}
// CHECK-NEXT: {{^}}.......#{{$}}
// CHECK-NEXT: kept elements 8 / 64
func.func @floor_ceil_by_zero(%q: tensor<1x1x8x8xf32>, %k: tensor<1x1x8x8xf32>, %v: tensor<1x1x8x8xf32>) -> tensor<1x1x8x8xf32> {
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %d = arith.subi %i, %j : index
    %c0 = arith.constant 0 : index
    %f = arith.floordivsi %d, %d : index
    %c = arith.ceildivsi %d, %d : index
    %sum = arith.addi %f, %c : index
    %keep = arith.cmpi eq, %sum, %c0 : index
    attn.yield %keep : i1
  } : tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32> -> tensor<1x1x8x8xf32>
  return %o : tensor<1x1x8x8xf32>
}
