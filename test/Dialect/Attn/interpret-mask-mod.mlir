// RUN: attn-opt %s --attn-print-tile-map="tile-q=4 tile-kv=4" -split-input-file -o /dev/null | FileCheck %s

// mask_mod regions that only compute on (b, h, i, j) with arith ops are
// interpreted at compile time, so attn-print-tile-map classifies their tiles
// exactly (checked here character by character, against a brute-force
// evaluation of each predicate); a region that reads a captured tensor is
// classified at run time.

// `j <= i` (arith.cmpi sle): interpreted, the region classifies like
// #attn.causal: diagonal tiles partial, tiles below full, above empty.
// CHECK: {{^}}mask: #attn.custom{{$}}
// CHECK-NEXT: {{^}}sequence lengths: 16 x 16 (q x kv){{$}}
// CHECK-NEXT: {{^}}tile map: 4 x 4 tiles of 4 x 4 (q x kv){{$}}
// CHECK-NEXT: {{^}}+...{{$}}
// CHECK-NEXT: {{^}}#+..{{$}}
// CHECK-NEXT: {{^}}##+.{{$}}
// CHECK-NEXT: {{^}}###+{{$}}
// CHECK-NEXT: {{^}}full 6, partial 4, empty 6 of 16 tiles; computed 62.50%; kept elements 136 / 256 (53.12%){{$}}
func.func @causal(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %keep = arith.cmpi sle, %j, %i : index
    attn.yield %keep : i1
  } : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

// Block-diagonal documents of 6 tokens (arith.divsi): a tile inside one
// document is full, one straddling a boundary partial.
// CHECK: {{^}}mask: #attn.custom{{$}}
// CHECK-NEXT: {{^}}sequence lengths: 16 x 16 (q x kv){{$}}
// CHECK-NEXT: {{^}}tile map: 4 x 4 tiles of 4 x 4 (q x kv){{$}}
// CHECK-NEXT: {{^}}#+..{{$}}
// CHECK-NEXT: {{^}}+++.{{$}}
// CHECK-NEXT: {{^}}.+#.{{$}}
// CHECK-NEXT: {{^}}...#{{$}}
// CHECK-NEXT: {{^}}full 3, partial 5, empty 8 of 16 tiles; computed 50.00%; kept elements 88 / 256 (34.38%){{$}}
func.func @block_diagonal(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c6 = arith.constant 6 : index
    %bi = arith.divsi %i, %c6 : index
    %bj = arith.divsi %j, %c6 : index
    %keep = arith.cmpi eq, %bi, %bj : index
    attn.yield %keep : i1
  } : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

// A non-square map (8 x 24): 4 attention sinks, then a window of keys
// i + 10 ..= i + 16, chosen with arith.select; arith.addi and arith.andi.
// CHECK: {{^}}mask: #attn.custom{{$}}
// CHECK-NEXT: {{^}}sequence lengths: 8 x 24 (q x kv){{$}}
// CHECK-NEXT: {{^}}tile map: 2 x 6 tiles of 4 x 4 (q x kv){{$}}
// CHECK-NEXT: {{^}}#.+++.{{$}}
// CHECK-NEXT: {{^}}#..+++{{$}}
// CHECK-NEXT: {{^}}full 2, partial 6, empty 4 of 12 tiles; computed 66.67%; kept elements 88 / 192 (45.83%){{$}}
func.func @select_sinks_window(%q: tensor<1x2x8x8xf32>, %k: tensor<1x2x24x8xf32>, %v: tensor<1x2x24x8xf32>) -> tensor<1x2x8x8xf32> {
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c4 = arith.constant 4 : index
    %c10 = arith.constant 10 : index
    %c16 = arith.constant 16 : index
    %true = arith.constant true
    %sink = arith.cmpi slt, %j, %c4 : index
    %hi = arith.addi %i, %c16 : index
    %lo = arith.addi %i, %c10 : index
    %below = arith.cmpi sle, %j, %hi : index
    %above = arith.cmpi sge, %j, %lo : index
    %window = arith.andi %below, %above : i1
    %keep = arith.select %sink, %true, %window : i1
    attn.yield %keep : i1
  } : tensor<1x2x8x8xf32>, tensor<1x2x24x8xf32>, tensor<1x2x24x8xf32> -> tensor<1x2x8x8xf32>
  return %o : tensor<1x2x8x8xf32>
}

// -----

// Composed with a built-in mask; index_cast to i32, subi, remsi: every
// fourth key at or before the query.
// CHECK: {{^}}mask: #attn.intersection<[#attn.causal, #attn.custom]>{{$}}
// CHECK-NEXT: {{^}}sequence lengths: 16 x 16 (q x kv){{$}}
// CHECK-NEXT: {{^}}tile map: 4 x 4 tiles of 4 x 4 (q x kv){{$}}
// CHECK-NEXT: {{^}}+...{{$}}
// CHECK-NEXT: {{^}}++..{{$}}
// CHECK-NEXT: {{^}}+++.{{$}}
// CHECK-NEXT: {{^}}++++{{$}}
// CHECK-NEXT: {{^}}full 0, partial 10, empty 6 of 16 tiles; computed 62.50%; kept elements 40 / 256 (15.62%){{$}}
func.func @strided_causal_i32(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %o = attn.attention %q, %k, %v {mask = #attn.intersection<[#attn.causal, #attn.custom]>} mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %i32 = arith.index_cast %i : index to i32
    %j32 = arith.index_cast %j : index to i32
    %c4 = arith.constant 4 : i32
    %c0 = arith.constant 0 : i32
    %d = arith.subi %i32, %j32 : i32
    %r = arith.remsi %d, %c4 : i32
    %keep = arith.cmpi eq, %r, %c0 : i32
    attn.yield %keep : i1
  } : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

// A capture the region does not read does not stop the interpretation;
// `i - j <u 8` (arith.cmpi ult on wrapped differences) is a causal window.
// CHECK: {{^}}mask: #attn.custom{{$}}
// CHECK-NEXT: {{^}}sequence lengths: 16 x 16 (q x kv){{$}}
// CHECK-NEXT: {{^}}tile map: 4 x 4 tiles of 4 x 4 (q x kv){{$}}
// CHECK-NEXT: {{^}}+...{{$}}
// CHECK-NEXT: {{^}}#+..{{$}}
// CHECK-NEXT: {{^}}+#+.{{$}}
// CHECK-NEXT: {{^}}.+#+{{$}}
// CHECK-NEXT: {{^}}full 3, partial 6, empty 7 of 16 tiles; computed 56.25%; kept elements 100 / 256 (39.06%){{$}}
func.func @unused_capture(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %t: tensor<16xi32>) -> tensor<1x2x16x8xf32> {
  %o = attn.attention %q, %k, %v captures(%t : tensor<16xi32>) mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index, %ids: tensor<16xi32>):
    %c8 = arith.constant 8 : index
    %d = arith.subi %i, %j : index
    %a = arith.cmpi ult, %d, %c8 : index
    attn.yield %a : i1
  } : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

// A region that reads a captured tensor cannot be evaluated at compile
// time: every tile is partial and the kept count is unknown.
// CHECK: {{^}}mask: #attn.custom{{$}}
// CHECK-NEXT: {{^}}sequence lengths: 16 x 16 (q x kv){{$}}
// CHECK-NEXT: {{^}}tile map: 4 x 4 tiles of 4 x 4 (q x kv){{$}}
// CHECK-NEXT: {{^}}++++{{$}}
// CHECK-NEXT: {{^}}++++{{$}}
// CHECK-NEXT: {{^}}++++{{$}}
// CHECK-NEXT: {{^}}++++{{$}}
// CHECK-NEXT: {{^}}full 0, partial 16, empty 0 of 16 tiles; computed 100.00%; kept elements unknown until run time{{$}}
func.func @capture(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %t: tensor<16xi32>) -> tensor<1x2x16x8xf32> {
  %o = attn.attention %q, %k, %v captures(%t : tensor<16xi32>) mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index, %ids: tensor<16xi32>):
    %x = tensor.extract %ids[%i] : tensor<16xi32>
    %y = tensor.extract %ids[%j] : tensor<16xi32>
    %keep = arith.cmpi eq, %x, %y : i32
    attn.yield %keep : i1
  } : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

