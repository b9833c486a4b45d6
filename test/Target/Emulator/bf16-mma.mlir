// RUN: attn-opt %s --pass-pipeline='builtin.module(gpu.module(attn-bf16-mma-to-nvvm))' | FileCheck %s
// RUN: attn-opt %s --attn-emulate-gpu | FileCheck %s --check-prefix=EMU

// A bf16 nvgpu.mma.sync becomes nvvm.mma.sync on i32 registers with
// explicit bf16 PTX types; f16 ones are left to convert-nvgpu-to-nvvm.
// CHECK-LABEL: gpu.func @bf16
// CHECK:         %[[A0:.+]] = vector.extract %{{.+}}[0] : vector<2xbf16> from vector<4x2xbf16>
// CHECK:         %[[A0I:.+]] = vector.bitcast %[[A0]] : vector<2xbf16> to vector<1xi32>
// CHECK:         vector.extract %[[A0I]][0] : i32 from vector<1xi32>
// CHECK:         %[[D:.+]] = nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK:         vector.from_elements {{.*}} : vector<2x2xf32>
// CHECK-LABEL: gpu.func @f16
// CHECK:         nvgpu.mma.sync

// The emulator takes the bf16 op as multiplicand type 1.
// EMU-LABEL: llvm.func @bf16(
// EMU:         %[[K16:.+]] = llvm.mlir.constant(0 : i32) : i32
// EMU:         %[[BF16:.+]] = llvm.mlir.constant(1 : i32) : i32
// EMU:         llvm.call @attn_emu_mma(%[[K16]], %[[BF16]],
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @bf16(%a: vector<4x2xbf16>, %b: vector<2x2xbf16>, %c: vector<2x2xf32>, %out: memref<2x2xf32>) kernel {
      %d = nvgpu.mma.sync (%a, %b, %c) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>) -> vector<2x2xf32>
      %c0 = arith.constant 0 : index
      vector.store %d, %out[%c0, %c0] : memref<2x2xf32>, vector<2x2xf32>
      gpu.return
    }
    gpu.func @f16(%a: vector<4x2xf16>, %b: vector<2x2xf16>, %c: vector<2x2xf32>, %out: memref<2x2xf32>) kernel {
      %d = nvgpu.mma.sync (%a, %b, %c) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
      %c0 = arith.constant 0 : index
      vector.store %d, %out[%c0, %c0] : memref<2x2xf32>, vector<2x2xf32>
      gpu.return
    }
  }
}
