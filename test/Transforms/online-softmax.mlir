// RUN: attn-opt %s --attn-online-softmax=vector-width=0 -split-input-file | FileCheck %s

// The scalar loops (vector-width=0, a debugging form); the vector kernels
// of the host pipeline are in online-softmax-vector.mlir.

// The running maximum starts at the lowest finite f32, not -inf, so that a
// fully masked tile never computes exp2(-inf - -inf); sum and accumulator
// start at 0.
// CHECK-LABEL: func.func @init
// CHECK-DAG:   %[[LOWEST:.+]] = arith.constant -3.40282347E+38 : f32
// CHECK-DAG:   %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK:       scf.for %[[R:.+]] =
// CHECK:         memref.store %[[LOWEST]], %arg0[%[[R]]]
// CHECK:         memref.store %[[ZERO]], %arg1[%[[R]]]
// CHECK:         scf.for %[[D:.+]] =
// CHECK:           memref.store %[[ZERO]], %arg2[%[[R]], %[[D]]]
// CHECK-NOT:   attn.tile_init
func.func @init(%m: memref<32xf32>, %l: memref<32xf32>, %acc: memref<32x16xf32>) {
  attn.tile_init state(%m, %l, %acc) : memref<32xf32>, memref<32xf32>, memref<32x16xf32>
  return
}

// -----

// A partial tile: scores scaled by scale * log2(e) (one multiplication), dropped elements set to
// -inf by the mask's predicate (causal: j <= i), the new row maximum, and
// the state rescaled by exp2(m_old - m_new).
// The tile's scores go through a buffer of the expansion's own.
// CHECK-LABEL: func.func @partial
// CHECK:       %[[SCORES:.+]] = memref.alloc() : memref<32x32xf32>
// CHECK:       scf.for %[[R:.+]] =
// CHECK:         %[[I:.+]] = arith.addi %{{.+}}, %[[R]] : index
// CHECK:         %[[MOLD:.+]] = memref.load %arg3[%[[R]]]
// CHECK:         %[[MNEW:.+]] = scf.for %[[C:.+]] = {{.+}} iter_args(%[[RUNNING:.+]] = %[[MOLD]])
// CHECK:           %[[J:.+]] = arith.addi %{{.+}}, %[[C]] : index
// CHECK:           %[[DOT:.+]] = scf.for
// No score modification: scale and log2(e) are one constant, 0.25 * log2(e).
// CHECK:           %[[SCALE:.+]] = arith.constant 0.360673755 : f32
// CHECK:           %[[T:.+]] = arith.mulf %[[DOT]], %[[SCALE]]
// CHECK:           %[[DIST:.+]] = arith.subi %[[J]], %[[I]] : index
// CHECK:           %[[KEPT:.+]] = arith.cmpi sle, %[[DIST]], %{{.+}} : index
// CHECK:           %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK:           %[[MASKED:.+]] = arith.select %[[KEPT]], %[[T]], %[[NEGINF]]
// CHECK:           memref.store %[[MASKED]], %[[SCORES]][%[[R]], %[[C]]]
// CHECK:           %[[MAX:.+]] = arith.maximumf %[[RUNNING]], %[[MASKED]]
// CHECK:           scf.yield %[[MAX]]
// CHECK:         %[[DIFF:.+]] = arith.subf %[[MOLD]], %[[MNEW]] : f32
// CHECK:         %[[ALPHA:.+]] = math.exp2 %[[DIFF]] : f32
// CHECK:         scf.for
// CHECK:           arith.subf %{{.+}}, %[[MNEW]]
// CHECK:           math.exp2
// CHECK:         %[[LOLD:.+]] = memref.load %arg4[%[[R]]]
// CHECK:         %[[LSCALED:.+]] = arith.mulf %[[LOLD]], %[[ALPHA]]
// CHECK:         memref.store %[[MNEW]], %arg3[%[[R]]]
// CHECK:         scf.for
// CHECK:           %[[A:.+]] = memref.load %arg5
// CHECK:           arith.mulf %[[A]], %[[ALPHA]]
// CHECK-NOT:   attn.tile_update
func.func @partial(%q: memref<1x2x64x16xf32>, %k: memref<1x2x64x16xf32>,
                   %v: memref<1x2x64x16xf32>, %m: memref<32xf32>,
                   %l: memref<32xf32>, %acc: memref<32x16xf32>,
                   %h: index, %q0: index, %k0: index) {
  %c0 = arith.constant 0 : index
  attn.tile_update %q, %k, %v at(%c0, %h, %h, %q0, %k0) state(%m, %l, %acc)
      {mask = #attn.causal, scale = 0.25 : f32, tile_q = 32, tile_kv = 32}
      : memref<1x2x64x16xf32>, memref<1x2x64x16xf32>, memref<1x2x64x16xf32>,
        memref<32xf32>, memref<32xf32>, memref<32x16xf32>
  return
}

// -----

// A full tile evaluates no mask: no -inf select at all.
// CHECK-LABEL: func.func @full
// CHECK-NOT:   0xFF800000
// CHECK-NOT:   arith.select
// CHECK:       math.exp2
// CHECK-NOT:   arith.select
// CHECK:       return
func.func @full(%q: memref<1x2x64x16xf32>, %k: memref<1x2x64x16xf32>,
                %v: memref<1x2x64x16xf32>, %m: memref<32xf32>,
                %l: memref<32xf32>, %acc: memref<32x16xf32>,
                %h: index, %q0: index, %k0: index) {
  %c0 = arith.constant 0 : index
  attn.tile_update %q, %k, %v at(%c0, %h, %h, %q0, %k0) state(%m, %l, %acc)
      {scale = 0.25 : f32, tile_q = 32, tile_kv = 32}
      : memref<1x2x64x16xf32>, memref<1x2x64x16xf32>, memref<1x2x64x16xf32>,
        memref<32xf32>, memref<32xf32>, memref<32x16xf32>
  return
}

// -----

// With a score modification between them, the scale applies before it and
// log2(e) after: softcap sees the scaled score.
// CHECK-LABEL: func.func @modified
// CHECK:       %[[SCALE:.+]] = arith.constant 2.500000e-01 : f32
// CHECK:       %[[S:.+]] = arith.mulf %{{.+}}, %[[SCALE]]
// CHECK:       %[[CAP:.+]] = arith.constant 3.000000e+01 : f32
// CHECK:       %[[INV:.+]] = arith.constant 0.0333333351 : f32
// CHECK-NOT:   arith.divf
// CHECK:       %[[X:.+]] = arith.mulf %[[S]], %[[INV]]
// CHECK:       %[[TANH:.+]] = math.tanh %[[X]]
// CHECK:       %[[CAPPED:.+]] = arith.mulf %[[CAP]], %[[TANH]]
// CHECK:       %[[LOG2E:.+]] = arith.constant 1.44269502 : f32
// CHECK:       arith.mulf %[[CAPPED]], %[[LOG2E]]
func.func @modified(%q: memref<1x2x64x16xf32>, %k: memref<1x2x64x16xf32>,
                    %v: memref<1x2x64x16xf32>, %m: memref<32xf32>,
                    %l: memref<32xf32>, %acc: memref<32x16xf32>,
                    %h: index, %q0: index, %k0: index) {
  %c0 = arith.constant 0 : index
  attn.tile_update %q, %k, %v at(%c0, %h, %h, %q0, %k0) state(%m, %l, %acc)
      {scale = 0.25 : f32, score_mod = #attn.softcap<30.0>,
                   tile_q = 32, tile_kv = 32}
      : memref<1x2x64x16xf32>, memref<1x2x64x16xf32>, memref<1x2x64x16xf32>,
        memref<32xf32>, memref<32xf32>, memref<32x16xf32>
  return
}

// -----

// Finalize: O = acc / l with 1/l replaced by 0 when l == 0, narrowed to
// f16; lse = m ln 2 + log(l), or -inf for a row that kept nothing. The
// output and logsumexp are the tile's rows (views of the attention's
// results), as many as the view has.
// CHECK-LABEL: func.func @finalize
// CHECK:       %[[ROWS:.+]] = memref.dim %arg3, %c0
// CHECK:       scf.for %[[R:.+]] = %{{.+}} to %[[ROWS]]
// CHECK:         %[[M:.+]] = memref.load %arg0[%[[R]]]
// CHECK:         %[[L:.+]] = memref.load %arg1[%[[R]]]
// CHECK:         %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[POS:.+]] = arith.cmpf ogt, %[[L]], %[[ZERO]]
// CHECK:         %[[INV:.+]] = arith.divf
// CHECK:         %[[SAFEINV:.+]] = arith.select %[[POS]], %[[INV]], %[[ZERO]]
// CHECK:         scf.for %[[D:.+]] =
// CHECK:           %[[O:.+]] = arith.mulf %{{.+}}, %[[SAFEINV]]
// CHECK:           %[[O16:.+]] = arith.truncf %[[O]] : f32 to f16
// CHECK:           memref.store %[[O16]], %arg3[%[[R]], %[[D]]]
// CHECK:         %[[LN2:.+]] = arith.constant 0.693147182 : f32
// CHECK:         %[[MLN2:.+]] = arith.mulf %[[M]], %[[LN2]]
// CHECK:         %[[LOG:.+]] = math.log
// CHECK:         %[[NAT:.+]] = arith.addf %[[MLN2]], %[[LOG]]
// CHECK:         %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK:         %[[LSE:.+]] = arith.select %{{.+}}, %[[NAT]], %[[NEGINF]]
// CHECK:         memref.store %[[LSE]], %arg4[%[[R]]]
func.func @finalize(%m: memref<32xf32>, %l: memref<32xf32>,
                    %acc: memref<32x16xf32>,
                    %o: memref<?x16xf16, strided<[16, 1], offset: ?>>,
                    %lse: memref<?xf32, strided<[1], offset: ?>>) {
  attn.tile_finalize state(%m, %l, %acc) into %o, %lse
      : memref<32xf32>, memref<32xf32>, memref<32x16xf32>,
        memref<?x16xf16, strided<[16, 1], offset: ?>>,
        memref<?xf32, strided<[1], offset: ?>>
  return
}
