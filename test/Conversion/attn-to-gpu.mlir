// RUN: attn-opt %s --attn-to-gpu --canonicalize --cse -split-input-file | FileCheck %s

// Causal MQA (two query heads over one key/value head), S = 256, D = 64:
// the forall of attn-tile becomes a launch over (4 query tiles, 2 heads,
// 1 batch) of 128 threads with 24 KiB of dynamic shared memory (Q, K, V
// tiles of 64 x 64 f16), and a kernel that carries the same contract.
// CHECK-LABEL: func.func @causal_mqa
// CHECK:         gpu.launch_func  @attn_kernels::@causal_mqa_kernel blocks in (%c4, %c2, %c1) threads in (%c128, %c1, %c1)  dynamic_shared_memory_size %c24576_i32
// CHECK-SAME:      args(%{{.+}} : memref<1x2x256x64xf16>, %{{.+}} : memref<1x1x256x64xf16>, %{{.+}} : memref<1x1x256x64xf16>, %{{.+}} : memref<1x2x256x64xf16>)
// The launch contract: host buffers and kernel parameters by role, the grid
// as a function of [batch, heads, seq_q, seq_kv] (here (4, 2, 1)).
// CHECK:       gpu.module @attn_kernels attributes {attn.launch_contract = #attn.launch_contract<arguments = [#attn.param<query>, #attn.param<key>, #attn.param<value>], results = [#attn.param<output>],
// CHECK-SAME:      tiles = [64, 64], kernels = [#attn.kernel<name = "causal_mqa_kernel", grid = ()[s0, s1, s2, s3] -> (s2 ceildiv 64, s1, s0), block = [128, 1, 1], sharedBytes = 24576, params = [#attn.param<query>, #attn.param<key>, #attn.param<value>, #attn.param<output>]>]>}
// CHECK:         gpu.func @causal_mqa_kernel(
// CHECK-SAME:      known_block_size = array<i32: 128, 1, 1>
// Two blocks per SM for ptxas (.minnctapersm), and the lanes' shared-memory
// addressing computed once at the entry.
// CHECK-SAME:      nvvm.minctasm = 2 : i32
// CHECK:           gpu.thread_id  x
// The query tile is staged once per block (four 16-byte cp.async per
// thread), before the kv loop.
// CHECK:           %[[QT:.+]] = gpu.block_id  x
// CHECK:           %[[Q0:.+]] = arith.muli %[[QT]], %c64
// CHECK-COUNT-4:   nvgpu.device_async_copy %arg0[
// CHECK:           nvgpu.device_async_wait %{{.+}} {numGroups = 0 : i32}
// CHECK-NEXT:      gpu.barrier
// Empty tiles are skipped: the kv loop ends at the diagonal of this query
// tile (band bounds computed from the block id).
// CHECK-NEXT:      arith.subi %c256, %[[Q0]]
// CHECK:           %[[UB:.+]] = arith.maxsi
// CHECK:           scf.for %{{.+}} = %c0 to %[[UB]] step %c1 {
// No lane arithmetic in the loop: fragments and copies address shared
// memory (a 1-D view of the tile) from the entry's per-lane bases.
// CHECK-NOT:         arith.remui
// CHECK-NOT:         arith.divui
// One tile body serves full and partial tiles: MQA reads key/value head 0;
// K and V land in two cp.async groups, QK^T waiting only for K; only the
// scoring differs, full tiles (below the diagonal) testing no mask and
// partial ones (on it) the causal predicate per element.
// CHECK:             %[[FULL:.+]] = arith.cmpi sle
// CHECK:             gpu.barrier
// CHECK-NOT:         arith.remui
// CHECK-NOT:         arith.divui
// CHECK-COUNT-4:     nvgpu.device_async_copy %arg1[%{{.+}}, %c0,
// CHECK:             nvgpu.device_async_create_group
// CHECK-COUNT-4:     nvgpu.device_async_copy %arg2[%{{.+}}, %c0,
// CHECK:             nvgpu.device_async_wait %{{.+}} {numGroups = 1 : i32}
// CHECK-NEXT:        gpu.barrier
// CHECK-NOT:         arith.remui
// CHECK-NOT:         arith.divui
// CHECK:             nvgpu.ldmatrix %{{.+}}[%{{[^,]+}}] {numTiles = 4 : i32, transpose = false} : memref<4096xf16, #gpu.address_space<workgroup>>
// CHECK-COUNT-32:    nvgpu.mma.sync
// CHECK:             %{{.+}}:32 = scf.if %[[FULL]] -> (f32,
// CHECK-NOT:           arith.cmpi
// CHECK:               scf.yield
// CHECK-NEXT:        } else {
// CHECK:               arith.cmpi sle
// CHECK:               arith.select
// CHECK:               scf.yield
// CHECK-NEXT:        }
// Softmax as FlashAttention-2 does it without a score modification: the
// scores are the dot products (no multiplication per score), the row
// maximum is taken on them and scaled once per row, and each exponent's
// argument is one fma(dot, scale * log2(e), -m).
// CHECK:             gpu.shuffle  xor %{{.+}}, %c1_i32, %c32_i32 : f32
// CHECK:             gpu.shuffle  xor %{{.+}}, %c2_i32, %c32_i32 : f32
// CHECK:             arith.mulf %{{.+}}, %[[SCALE:.+]] : f32
// CHECK:             llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// CHECK-COUNT-32:    llvm.intr.fma(%{{.+}}, %[[SCALE]], %{{.+}}) : (f32, f32, f32) -> f32
// CHECK-NOT:         llvm.intr.fma
// CHECK:             nvgpu.device_async_wait %{{.+}} {numGroups = 0 : i32}
// CHECK-NEXT:        gpu.barrier
// CHECK:             nvgpu.ldmatrix %{{.+}} {numTiles = 4 : i32, transpose = true}
// CHECK-COUNT-32:    nvgpu.mma.sync
// CHECK-NOT:         nvgpu.mma.sync
// CHECK:           }
// The epilogue: row sums across the four lanes of a row, O = acc / l,
// into the query tile's rows of the output: a subview (all 64 rows, 256
// being a multiple of 64).
// CHECK:           %[[ROWS:.+]] = memref.subview %arg3[{{.+}}] [1, 1, 64, 64] [1, 1, 1, 1] : memref<1x2x256x64xf16> to memref<64x64xf16, strided<[64, 1], offset: ?>>
// CHECK:           gpu.shuffle  xor
// CHECK:           arith.divf
// CHECK-NOT:       arith.cmpi ult
// CHECK:           memref.store %{{.+}}, %[[ROWS]][
// CHECK:           gpu.return

func.func @causal_mqa(%q: tensor<1x2x256x64xf16>, %k: tensor<1x1x256x64xf16>,
                      %v: tensor<1x1x256x64xf16>) -> tensor<1x2x256x64xf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.causal}
      : tensor<1x2x256x64xf16>, tensor<1x1x256x64xf16>, tensor<1x1x256x64xf16>
      -> tensor<1x2x256x64xf16>
  return %o : tensor<1x2x256x64xf16>
}

// -----

// Document masks need run-time tile tables: a first kernel (one thread
// per (batch, head, q tile, kv tile)) classifies the tiles into a
// temporary of 1 x 4 x 2 x 2 bytes, which the attention kernel reads to
// skip empty tiles; bf16 and GQA (4 query heads over 2 kv heads); rows past
// the 100-token end are not stored.
// CHECK-LABEL: func.func @document_gqa
// CHECK:         %[[TABLE:.+]] = memref.alloc() : memref<1x4x2x2xi8>
// CHECK:         gpu.launch_func  @attn_kernels::@document_gqa_tile_table blocks in (%c1, %c1, %c1) threads in (%c128, %c1, %c1)
// CHECK-SAME:      args({{.*}}%[[TABLE]] : memref<1x4x2x2xi8>)
// CHECK:         gpu.launch_func  @attn_kernels::@document_gqa_kernel_1 blocks in (%c2, %c4, %c1)
// The table kernel first (one thread per tile: 16 tiles in one block of
// 128), then the attention, sharing temporary 0 (16 bytes).
// CHECK:       gpu.module @attn_kernels attributes {attn.launch_contract = #attn.launch_contract<arguments = [#attn.param<query>, #attn.param<key>, #attn.param<value>, #attn.param<q_segment_ids>, #attn.param<kv_segment_ids>], results = [#attn.param<output>],
// CHECK-SAME:      tiles = [64, 64], kernels = [#attn.kernel<name = "document_gqa_tile_table", grid = ()[s0, s1, s2, s3] -> ((((s0 * s1) * (s2 ceildiv 64)) * (s3 ceildiv 64)) ceildiv 128, 1, 1), block = [128, 1, 1], sharedBytes = 0, params = [#attn.param<q_segment_ids>, #attn.param<kv_segment_ids>, #attn.param<temporary 0>]>,
// CHECK-SAME:                 #attn.kernel<name = "document_gqa_kernel_1", grid = ()[s0, s1, s2, s3] -> (s2 ceildiv 64, s1, s0), block = [128, 1, 1], sharedBytes = 24576, params = [#attn.param<temporary 0>, #attn.param<query>, #attn.param<key>, #attn.param<value>, #attn.param<q_segment_ids>, #attn.param<kv_segment_ids>, #attn.param<output>]>],
// CHECK-SAME:      temporaries = [#attn.temporary<shape = [1, 4, 2, 2], elementType = i8>]>}
// CHECK:         gpu.func @document_gqa_tile_table(
// CHECK:         gpu.func @document_gqa_kernel_1(
// CHECK:           memref.load %arg0[
// The last query tile has 100 - 64 = 36 rows: the rows are a dynamic
// subview, and a lane stores only rows inside it.
// CHECK:           %[[ROWS:.+]] = memref.subview %arg6[{{.+}}] [1, 1, %[[N:[^,]+]], 64] [1, 1, 1, 1] : memref<1x4x100x64xbf16> to memref<?x64xbf16, strided<[64, 1], offset: ?>>
// CHECK:           arith.cmpi ult, %{{.+}}, %[[N]]
// CHECK:           scf.if
// CHECK:             memref.store %{{.+}}, %[[ROWS]][
func.func @document_gqa(%q: tensor<1x4x100x64xbf16>, %k: tensor<1x2x100x64xbf16>,
                        %v: tensor<1x2x100x64xbf16>, %qids: tensor<1x100xi32>,
                        %kvids: tensor<1x100xi32>) -> tensor<1x4x100x64xbf16> {
  %o = attn.attention %q, %k, %v segments(%qids, %kvids : tensor<1x100xi32>, tensor<1x100xi32>)
      {mask = #attn.document}
      : tensor<1x4x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>
      -> tensor<1x4x100x64xbf16>
  return %o : tensor<1x4x100x64xbf16>
}
