// RUN: attn-opt %s --attn-to-host="tile-q=32 tile-kv=32" | FileCheck %s --implicit-check-not=llvm.intr.exp2
// RUN: attn-opt %s --attn-to-host="count-visits=true" | FileCheck %s --check-prefix=COUNT
// RUN: attn-opt %s --attn-to-host="num-threads=3" | FileCheck %s --check-prefix=OMP

// The whole host pipeline leaves only the LLVM dialect: no attn, scf,
// memref, arith or math op survives; log and softcap's tanh become LLVM
// intrinsics, exp2 upstream's polynomial (floor, fma: no libm call, no
// llvm.intr.exp2 left); the tile kernels are vectors of 8 f32 lanes (the
// pipeline's default); the per-tile state is heap-allocated per grid step.
// CHECK-NOT:   attn.
// CHECK-DAG:   llvm.func @malloc(i64) -> !llvm.ptr
// CHECK-DAG:   llvm.func @free(!llvm.ptr)
// CHECK:       llvm.func @softcap_gqa
// CHECK-NOT:   {{(attn|scf|memref|arith|math|cf)\.}}
// CHECK:       llvm.intr.tanh
// CHECK-NOT:   {{(attn|scf|memref|arith|math|cf)\.}}
// CHECK:       llvm.intr.fma{{.+}}vector<8xf32>
// CHECK-NOT:   {{(attn|scf|memref|arith|math|cf)\.}}
// CHECK:       llvm.intr.floor{{.+}}vector<8xf32>
// CHECK-NOT:   {{(attn|scf|memref|arith|math|cf)\.}}
// CHECK:       llvm.intr.log
// CHECK-NOT:   {{(attn|scf|memref|arith|math|cf)\.}}
// CHECK:       llvm.return

// With num-threads, the grid (batch x head x q tile, collapsed) is an
// OpenMP work-sharing loop of that many threads, q tiles dealt in turn
// (schedule(static, 1)).
// OMP:         llvm.func @softcap_gqa
// OMP-DAG:     %[[THREADS:.+]] = llvm.mlir.constant(3 : i32) : i32
// OMP-DAG:     %[[ONE:.+]] = llvm.mlir.constant(1 : i32) : i32
// OMP:         omp.parallel num_threads(%[[THREADS]] : i32)
// OMP-NEXT:      omp.wsloop schedule(static = %[[ONE]] : i32)
// OMP-NEXT:        omp.loop_nest ({{.+}}) : i64 = {{.+}} collapse(3)

// With count-visits, each kv tile adds 1 to a public counter.
// COUNT:       llvm.mlir.global external @attn_kv_tile_visits
// COUNT:       llvm.func @softcap_gqa
// COUNT:       llvm.mlir.addressof @attn_kv_tile_visits
// COUNT:       llvm.atomicrmw add
func.func @softcap_gqa(%q: tensor<1x4x70x32xbf16>, %k: tensor<1x2x70x32xbf16>,
                       %v: tensor<1x2x70x32xbf16>)
    -> (tensor<1x4x70x32xbf16>, tensor<1x4x70xf32>) {
  %o, %lse = attn.attention %q, %k, %v
      {mask = #attn.causal, score_mod = #attn.softcap<20.0>}
      : tensor<1x4x70x32xbf16>, tensor<1x2x70x32xbf16>, tensor<1x2x70x32xbf16>
      -> tensor<1x4x70x32xbf16>, tensor<1x4x70xf32>
  return %o, %lse : tensor<1x4x70x32xbf16>, tensor<1x4x70xf32>
}
