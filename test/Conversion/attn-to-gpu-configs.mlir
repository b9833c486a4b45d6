// RUN: attn-opt %s --attn-to-gpu --canonicalize | FileCheck %s --check-prefixes=CHECK,TABLE
// RUN: attn-opt %s --attn-to-gpu="kernel-config=128x32" --canonicalize | FileCheck %s --check-prefixes=CHECK,TABLE
// RUN: attn-opt %s --attn-to-gpu="kernel-config=64x64w4" --canonicalize | FileCheck %s --check-prefixes=CHECK,ONE
// RUN: attn-opt %s --attn-to-gpu="kernel-config=128x64w8" --canonicalize | FileCheck %s --check-prefixes=CHECK,EIGHT

// The kernel configuration shapes the tiled IR and the kernel: the
// table's for head dim 128 (128 x 32 with 4 warps of two 16-row slabs;
// "128x32" chooses the same warps), the previous kernel's 64 x 64 with 4
// warps of one slab, and FlashAttention-2's 128 x 64 with 8 warps of one
// slab. The launch, the contract's tiles and the occupancy follow; in the
// kv loop, two slabs load two Q fragments per k step and feed every K
// fragment to four mma (two key tiles x two slabs), one slab to two.
// TABLE:       gpu.launch_func  @attn_kernels::@dense_kernel blocks in (%c2, %c2, %c1) threads in (%c128, %c1, %c1)  dynamic_shared_memory_size %c49152_i32
// ONE:         gpu.launch_func  @attn_kernels::@dense_kernel blocks in (%c4, %c2, %c1) threads in (%c128, %c1, %c1)  dynamic_shared_memory_size %c49152_i32
// EIGHT:       gpu.launch_func  @attn_kernels::@dense_kernel blocks in (%c2, %c2, %c1) threads in (%c256, %c1, %c1)  dynamic_shared_memory_size %c65536_i32
// TABLE:       tiles = [128, 32]
// ONE:         tiles = [64, 64]
// EIGHT:       tiles = [128, 64]
// CHECK:       gpu.func @dense_kernel(
// TABLE-SAME:    nvvm.minctasm = 2
// ONE-SAME:      nvvm.minctasm = 2
// EIGHT-SAME:    nvvm.minctasm = 1
// CHECK:         %[[Q:.+]] = memref.view %{{.+}}[%c0][]
// CHECK:         %[[K:.+]] = memref.view
// CHECK:         scf.for
// TABLE:           nvgpu.ldmatrix %[[Q]][
// TABLE-NOT:       nvgpu.mma.sync
// TABLE:           nvgpu.ldmatrix %[[Q]][
// TABLE-NOT:       nvgpu.mma.sync
// TABLE:           nvgpu.ldmatrix %[[K]][
// TABLE-COUNT-4:   nvgpu.mma.sync
// TABLE-NOT:       nvgpu.mma.sync
// TABLE:           nvgpu.ldmatrix %[[K]][
// ONE:             nvgpu.ldmatrix %[[Q]][
// ONE-NOT:         nvgpu.mma.sync
// ONE:             nvgpu.ldmatrix %[[K]][
// ONE-COUNT-2:     nvgpu.mma.sync
// ONE-NOT:         nvgpu.mma.sync
// ONE-NOT:         nvgpu.ldmatrix %[[Q]][
// ONE:             nvgpu.ldmatrix %[[K]][
// EIGHT:           nvgpu.ldmatrix %[[Q]][
// EIGHT-NOT:       nvgpu.mma.sync
// EIGHT:           nvgpu.ldmatrix %[[K]][
// EIGHT-COUNT-2:   nvgpu.mma.sync
// EIGHT-NOT:       nvgpu.mma.sync
// EIGHT:           nvgpu.ldmatrix %[[K]][
func.func @dense(%q: tensor<1x2x256x128xf16>, %k: tensor<1x2x256x128xf16>,
                 %v: tensor<1x2x256x128xf16>) -> tensor<1x2x256x128xf16> {
  %o = attn.attention %q, %k, %v
      : tensor<1x2x256x128xf16>, tensor<1x2x256x128xf16>, tensor<1x2x256x128xf16>
      -> tensor<1x2x256x128xf16>
  return %o : tensor<1x2x256x128xf16>
}
