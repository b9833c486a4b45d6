// RUN: attn-opt %s --attn-to-gpu --canonicalize --cse -split-input-file | FileCheck %s

// Causal MQA (two query heads over one key/value head), S = 256, D = 64,
// in the table's configuration for head dim 64 (128 x 32, 4 warps of two
// 16-row slabs, Q in registers): the forall of attn-tile becomes a launch over (2 query
// tiles, 2 heads, 1 batch) of 128 threads with 24 KiB of dynamic shared
// memory (a 128 x 64 Q tile, 32 x 64 K and V tiles of f16), and a kernel
// that carries the same contract.
// CHECK-LABEL: func.func @causal_mqa
// CHECK:         gpu.launch_func  @attn_kernels::@causal_mqa_kernel blocks in (%c2, %c2, %c1) threads in (%c128, %c1, %c1)  dynamic_shared_memory_size %c24576_i32
// CHECK-SAME:      args(%{{.+}} : memref<1x2x256x64xf16>, %{{.+}} : memref<1x1x256x64xf16>, %{{.+}} : memref<1x1x256x64xf16>, %{{.+}} : memref<1x2x256x64xf16>)
// The launch contract: host buffers and kernel parameters by role, the grid
// as a function of [batch, heads, seq_q, seq_kv] (here (2, 2, 1)).
// CHECK:       gpu.module @attn_kernels attributes {attn.launch_contract = #attn.launch_contract<arguments = [#attn.param<query>, #attn.param<key>, #attn.param<value>], results = [#attn.param<output>],
// CHECK-SAME:      tiles = [128, 32], kernels = [#attn.kernel<name = "causal_mqa_kernel", grid = ()[s0, s1, s2, s3] -> (s2 ceildiv 128, s1, s0), block = [128, 1, 1], sharedBytes = 24576, params = [#attn.param<query>, #attn.param<key>, #attn.param<value>, #attn.param<output>]>]>}
// CHECK:         gpu.func @causal_mqa_kernel(
// CHECK-SAME:      known_block_size = array<i32: 128, 1, 1>
// Two blocks per SM for ptxas (.minnctapersm), and the lanes' shared-memory
// addressing computed once at the entry.
// CHECK-SAME:      nvvm.minctasm = 2 : i32
// CHECK:           gpu.thread_id  x
// The query tile is staged once per block (eight 16-byte cp.async.cg per
// thread from one offset into the flattened tensor), before the kv loop,
// and its A fragments loaded into registers once it has landed: two slabs
// x four k steps.
// CHECK:           %[[QT:.+]] = gpu.block_id  x
// CHECK:           %[[Q0:.+]] = arith.muli %[[QT]], %c128
// CHECK:           %[[QFLAT:.+]] = memref.collapse_shape %arg0 {{\[\[}}0, 1, 2, 3]]
// CHECK-COUNT-8:   nvgpu.device_async_copy %[[QFLAT]][%{{.+}}], %{{.+}}[%{{.+}}], 8 {bypassL1}
// CHECK:           nvvm.cp.async.wait.group 0
// CHECK-NEXT:      gpu.barrier
// CHECK-COUNT-8:   nvgpu.ldmatrix %[[QVIEW:[a-z0-9_]+]][{{.+}}] {numTiles = 4 : i32, transpose = false} : memref<8192xf16, #gpu.address_space<workgroup>>
// Empty tiles are skipped: the kv loop ends at the diagonal of this query
// tile (band bounds computed from the block id).
// CHECK:           arith.subi %c256, %[[Q0]]
// CHECK:           %[[UB:.+]] = arith.maxsi
// CHECK:           scf.for %[[J:.+]] = %c0 to %[[UB]] step %c1 {
// No lane arithmetic in the loop: fragments and copies address shared
// memory (a 1-D view of the tile) from the entry's per-lane bases.
// CHECK-NOT:         arith.remui
// CHECK-NOT:         arith.divui
// One tile body serves full and partial tiles. Pipelined as
// FlashAttention-2, two barriers per tile: K(j) is copied here only by
// the first iteration (the previous one prefetched it otherwise); once it
// has landed and every warp is past PV(j-1), V(j) is issued and lands
// during QK^T. MQA reads key/value head 0.
// CHECK:             %[[FULL:.+]] = arith.cmpi sle
// CHECK:             %[[FIRST:.+]] = arith.cmpi eq, %[[J]], %c0
// CHECK:             scf.if %[[FIRST]] {
// CHECK:               %[[KFLAT:.+]] = memref.collapse_shape %arg1
// CHECK-COUNT-2:       nvgpu.device_async_copy %[[KFLAT]]
// CHECK:               nvgpu.device_async_create_group
// CHECK-NEXT:        }
// CHECK-NEXT:        nvvm.cp.async.wait.group 0
// CHECK-NEXT:        gpu.barrier
// CHECK-NOT:         arith.remui
// CHECK-NOT:         arith.divui
// CHECK:             %[[VFLAT:.+]] = memref.collapse_shape %arg2
// CHECK-COUNT-2:     nvgpu.device_async_copy %[[VFLAT]]
// CHECK-NOT:         gpu.barrier
// No Q fragment is loaded in the loop; each K fragment feeds four mma (two
// key tiles x two slabs): 2 slabs x 4 key tiles x 4 k steps.
// CHECK-NOT:         nvgpu.ldmatrix %[[QVIEW]][
// CHECK:             nvgpu.ldmatrix %{{.+}}[%{{[^,]+}}] {numTiles = 4 : i32, transpose = false} : memref<2048xf16, #gpu.address_space<workgroup>>
// CHECK-COUNT-4:     nvgpu.mma.sync
// CHECK-NOT:         nvgpu.ldmatrix %[[QVIEW]][
// CHECK-COUNT-28:    nvgpu.mma.sync
// CHECK-NOT:         nvgpu.mma.sync
// Only the scoring differs: full tiles (below the diagonal) test no mask,
// partial ones (on it) the causal predicate per element.
// CHECK:             %{{.+}}:32 = scf.if %[[FULL]] -> (f32,
// CHECK-NOT:           arith.cmpi
// CHECK:               scf.yield
// CHECK-NEXT:        } else {
// CHECK:               arith.cmpi sle
// CHECK:               arith.select
// CHECK:               scf.yield
// CHECK-NEXT:        }
// V(j) has landed and every warp is past QK^T(j): the next tile's K is
// issued now, before the softmax and PV it overlaps.
// CHECK-NEXT:        nvvm.cp.async.wait.group 0
// CHECK-NEXT:        gpu.barrier
// CHECK-NEXT:        %[[NEXT:.+]] = arith.addi %[[J]], %c1
// CHECK-NEXT:        %[[MORE:.+]] = arith.cmpi slt, %[[NEXT]], %[[UB]]
// CHECK-NEXT:        scf.if %[[MORE]] {
// CHECK:               %[[KNEXT:.+]] = memref.collapse_shape %arg1
// CHECK-COUNT-2:       nvgpu.device_async_copy %[[KNEXT]]
// CHECK:               nvgpu.device_async_create_group
// CHECK-NEXT:        }
// Softmax as FlashAttention-2 does it without a score modification: the
// scores are the dot products (no multiplication per score), the row
// maximum is taken on them and scaled once per row, and each exponent's
// argument is one fma(dot, scale * log2(e), -m): 16 per slab.
// CHECK:             gpu.shuffle  xor %{{.+}}, %c1_i32, %c32_i32 : f32
// CHECK:             gpu.shuffle  xor %{{.+}}, %c2_i32, %c32_i32 : f32
// CHECK:             arith.mulf %{{.+}}, %[[SCALE:.+]] : f32
// CHECK:             llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// CHECK-COUNT-16:    llvm.intr.fma(%{{.+}}, %[[SCALE]], %{{.+}}) : (f32, f32, f32) -> f32
// CHECK:             gpu.shuffle  xor
// CHECK-COUNT-16:    llvm.intr.fma(%{{.+}}, %[[SCALE]], %{{.+}}) : (f32, f32, f32) -> f32
// CHECK-NOT:         llvm.intr.fma
// PV right after, no barrier: each V fragment feeds two mma (2 slabs x 2
// k steps x 8 value tiles).
// CHECK-NOT:         gpu.barrier
// CHECK:             nvgpu.ldmatrix %{{.+}} {numTiles = 4 : i32, transpose = true}
// CHECK-COUNT-32:    nvgpu.mma.sync
// CHECK-NOT:         nvgpu.mma.sync
// CHECK-NOT:         gpu.barrier
// CHECK:           }
// The epilogue: row sums across the four lanes of a row, O = acc / l,
// into the query tile's rows of the output: a subview (all 128 rows, 256
// being a multiple of 128).
// CHECK:           %[[ROWS:.+]] = memref.subview %arg3[{{.+}}] [1, 1, 128, 64] [1, 1, 1, 1] : memref<1x2x256x64xf16> to memref<128x64xf16, strided<[64, 1], offset: ?>>
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
// temporary of 1 x 4 x 1 x 4 bytes (128 x 32 tiles), which the attention
// kernel reads to skip empty tiles; bf16 and GQA (4 query heads over 2 kv
// heads); rows past the 100-token end are not stored.
// CHECK-LABEL: func.func @document_gqa
// CHECK:         %[[TABLE:.+]] = memref.alloc() : memref<1x4x1x4xi8>
// CHECK:         gpu.launch_func  @attn_kernels::@document_gqa_tile_table blocks in (%c1, %c1, %c1) threads in (%c128, %c1, %c1)
// CHECK-SAME:      args({{.*}}%[[TABLE]] : memref<1x4x1x4xi8>)
// CHECK:         gpu.launch_func  @attn_kernels::@document_gqa_kernel_1 blocks in (%c1, %c4, %c1)
// The table kernel first (one thread per tile: 16 tiles in one block of
// 128), then the attention, sharing temporary 0 (16 bytes).
// CHECK:       gpu.module @attn_kernels attributes {attn.launch_contract = #attn.launch_contract<arguments = [#attn.param<query>, #attn.param<key>, #attn.param<value>, #attn.param<q_segment_ids>, #attn.param<kv_segment_ids>], results = [#attn.param<output>],
// CHECK-SAME:      tiles = [128, 32], kernels = [#attn.kernel<name = "document_gqa_tile_table", grid = ()[s0, s1, s2, s3] -> ((((s0 * s1) * (s2 ceildiv 128)) * (s3 ceildiv 32)) ceildiv 128, 1, 1), block = [128, 1, 1], sharedBytes = 0, params = [#attn.param<q_segment_ids>, #attn.param<kv_segment_ids>, #attn.param<temporary 0>]>,
// CHECK-SAME:                 #attn.kernel<name = "document_gqa_kernel_1", grid = ()[s0, s1, s2, s3] -> (s2 ceildiv 128, s1, s0), block = [128, 1, 1], sharedBytes = 24576, params = [#attn.param<temporary 0>, #attn.param<query>, #attn.param<key>, #attn.param<value>, #attn.param<q_segment_ids>, #attn.param<kv_segment_ids>, #attn.param<output>]>],
// CHECK-SAME:      temporaries = [#attn.temporary<shape = [1, 4, 1, 4], elementType = i8>]>}
// CHECK:         gpu.func @document_gqa_tile_table(
// CHECK:         gpu.func @document_gqa_kernel_1(
// The kv loop visits the tiles the table keeps; the K tile in shared
// memory is tracked (an iteration may skip its update), and the next
// tile's K is prefetched only when the table keeps that tile.
// CHECK:           scf.for %[[J:[^ ]+]] =
// CHECK:             %[[KEEP:.+]] = memref.load %arg0[
// CHECK:             scf.if %{{.+}} {
// CHECK:               %[[LOADED:.+]] = memref.load %[[TRACK:.+]][%c0] : memref<1xindex>
// CHECK:               %[[MISSING:.+]] = arith.cmpi ne, %[[LOADED]], %[[K0:[^ ]+]]
// CHECK:               memref.store %[[K0]], %[[TRACK]][%c0]
// CHECK:               scf.if %[[MISSING]] {
// CHECK:               nvvm.cp.async.wait.group 0
// CHECK-NEXT:          gpu.barrier
// CHECK:               nvvm.cp.async.wait.group 0
// CHECK-NEXT:          gpu.barrier
// CHECK-NEXT:          %[[NEXT:.+]] = arith.addi %[[J]], %c1
// CHECK-NEXT:          arith.cmpi slt, %[[NEXT]]
// CHECK-NEXT:          scf.if
// CHECK:                 memref.load %arg0[{{.*}}%[[NEXT]]]
// CHECK:                 scf.if
// CHECK:                   nvgpu.device_async_copy
// CHECK:                   memref.store %{{.+}}, %[[TRACK]][%c0]
// The tile has 100 of 128 rows (a subview of 100 rows once canonicalized),
// and a lane stores only rows inside it.
// CHECK:           %[[ROWS:.+]] = memref.subview %arg6[{{.+}}] [1, 1, 100, 64] [1, 1, 1, 1] : memref<1x4x100x64xbf16> to memref<100x64xbf16, strided<[64, 1], offset: ?>>
// CHECK:           arith.cmpi ult, %{{.+}}, %c100
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
