// RUN: attn-opt %s --attn-online-softmax=vector-width=16 --canonicalize --cse | FileCheck %s
// RUN: attn-opt %s --attn-online-softmax=vector-width=8 --canonicalize --cse | FileCheck %s --check-prefix=AVX2
// RUN: not attn-opt %s --attn-online-softmax=vector-width=-2 2>&1 | FileCheck %s --check-prefix=BAD

// The host tile kernels on vectors (the form attn-to-host uses). The query
// tile is packed transposed (Qt[d][r], scaled by 0.25 * log2(e)) once, before
// the kv loop; bf16 keys and values are widened into f32 panels per tile;
// S[c][r] = Qt . K as a register block of vector FMAs with K broadcast; the
// causal mask is tested only when the tile is not full; the softmax runs on
// vectors of rows; acc += P.V as a second register block.
// CHECK-LABEL: func.func @loop
// CHECK-DAG:   %[[QT:.+]] = memref.alloc() : memref<16x32xf32>
// CHECK-DAG:   %[[S:.+]] = memref.alloc() : memref<32x32xf32>
// CHECK-DAG:   %[[KP:.+]] = memref.alloc() : memref<32x16xf32>
// CHECK-DAG:   %[[FACTOR:.+]] = arith.constant 0.360673755 : f32
// CHECK:       scf.for
// CHECK:         scf.for
// CHECK:           memref.load %arg0
// CHECK:           arith.mulf %{{.+}}, %[[FACTOR]]
// CHECK:           memref.store %{{.+}}, %[[QT]]
// The kv loop starts after the packing.
// CHECK:       scf.for %{{.+}} = %c0 to %arg8
// CHECK:         vector.load %arg1{{.+}} vector<16xbf16>
// CHECK:         arith.extf %{{.+}} : vector<16xbf16> to vector<16xf32>
// CHECK:         vector.store %{{.+}}, %[[KP]]
// CHECK:         vector.load %arg2{{.+}} vector<16xbf16>
// Two row vectors by 8 keys: 16 accumulators.
// CHECK:         scf.for %{{.+}} step %c8
// CHECK:           scf.for {{.+}} iter_args({{.+}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK:             %[[Q0:.+]] = vector.load %[[QT]]{{.+}} vector<16xf32>
// CHECK:             %[[Q1:.+]] = vector.load %[[QT]]{{.+}} vector<16xf32>
// CHECK:             %[[K0:.+]] = memref.load %[[KP]]
// CHECK:             %[[KB:.+]] = vector.broadcast %[[K0]] : f32 to vector<16xf32>
// CHECK:             vector.fma %[[Q0]], %[[KB]]
// CHECK:             vector.fma %[[Q1]], %[[KB]]
// CHECK:           vector.store %{{.+}}, %[[S]]
// CHECK:         scf.if %{{.+}} {
// CHECK-NEXT:    } else {
// CHECK:           arith.cmpi sle
// CHECK:           arith.select %{{.+}}, %{{.+}}, %cst
// CHECK:         }
// CHECK:         scf.for {{.+}} -> (vector<16xf32>, vector<16xf32>)
// CHECK:           arith.maximumf {{.+}} fastmath<nnan,nsz> : vector<16xf32>
// CHECK:         scf.for {{.+}} -> (vector<16xf32>, vector<16xf32>)
// CHECK:           math.exp2 %{{.+}} : vector<16xf32>
// CHECK:         math.exp2 %{{.+}} : vector<16xf32>
// CHECK:         scf.for %{{.+}} step %c4
// CHECK:           scf.for {{.+}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK:             vector.load %[[VP:.+]][{{.+}} vector<16xf32>
// CHECK:             %[[P:.+]] = memref.load %[[S]]
// CHECK:             %[[PB:.+]] = vector.broadcast %[[P]]
// CHECK:             vector.fma %[[PB]]
// CHECK:       return
// CHECK-NOT:   attn.tile_update

// With AVX2's 8 lanes the blocks hold 8 accumulators: 4 row vectors of
// 8 by 2 keys.
// AVX2-LABEL: func.func @loop
// AVX2:       scf.for {{.+}} iter_args({{.+}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// AVX2-NOT:   vector<16xf32>

// BAD: vector-width must be 0 (scalar loops) or a positive number of f32 lanes, not -2
func.func @loop(%q: memref<1x2x100x16xbf16>, %k: memref<1x2x100x16xbf16>,
                %v: memref<1x2x100x16xbf16>, %m: memref<32xf32>,
                %l: memref<32xf32>, %acc: memref<32x16xf32>,
                %h: index, %q0: index, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  scf.for %t = %c0 to %n step %c1 {
    %k0 = arith.muli %t, %c32 : index
    %full = arith.cmpi slt, %k0, %q0 : index
    attn.tile_update %q, %k, %v at(%c0, %h, %h, %q0, %k0) full(%full) state(%m, %l, %acc)
        {mask = #attn.causal, scale = 0.25 : f32, tile_q = 32, tile_kv = 32}
        : memref<1x2x100x16xbf16>, memref<1x2x100x16xbf16>, memref<1x2x100x16xbf16>,
          memref<32xf32>, memref<32xf32>, memref<32x16xf32>
  }
  return
}
