// RUN: attn-opt %S/Inputs/mma-matmul.mlir --attn-lower-gpu-to-nvvm | FileCheck %s --check-prefix=NVVM
// RUN: attn-opt %S/Inputs/mma-matmul.mlir --attn-emulate-gpu | FileCheck %s

// The tensor-core matmul after the lowering that PTX emission takes: only
// these NVVM ops remain beside plain LLVM ...
// NVVM-DAG:  nvvm.cp.async.shared.global {{.*}}, 16, cache = ca
// NVVM-DAG:  nvvm.cp.async.commit.group
// NVVM-DAG:  nvvm.cp.async.wait.group 1
// NVVM-DAG:  nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<row>, num = 4 : i32
// NVVM-DAG:  nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<col>, num = 2 : i32
// NVVM-DAG:  nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {{.*}}shape = #nvvm.shape<m = 16, n = 8, k = 16>
// NVVM-DAG:  nvvm.barrier0

// ... and the emulation rewrite turns each into a runtime call: fragments
// pass through per-function scratch arrays (four i32/f32 slots each,
// allocated once in the entry block), cp.async keeps its copy size, the
// transposed ldmatrix (layout col) passes trans = 1.
// CHECK:      module attributes {attn.emu.static_shared_bytes = 4096 : i64
// CHECK-DAG:  llvm.func @attn_emu_mma(i32, i32, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr)
// CHECK-DAG:  llvm.func @attn_emu_ldmatrix(!llvm.ptr, i32, i32, !llvm.ptr)
// CHECK-DAG:  llvm.func @attn_emu_cp_async(!llvm.ptr, !llvm.ptr, i32, i32)
// CHECK-DAG:  llvm.func @attn_emu_cp_async_commit()
// CHECK-DAG:  llvm.func @attn_emu_cp_async_wait(i32)
// CHECK:      llvm.func @matmul(
// CHECK-COUNT-4: llvm.alloca %{{.+}} x {{i32|f32}} {alignment = 16 : i64}
// CHECK-NOT:  llvm.alloca
// CHECK:      %[[SIXTEEN:.+]] = llvm.mlir.constant(16 : i32) : i32
// CHECK:      llvm.call @attn_emu_cp_async(%{{.+}}, %{{.+}}, %[[SIXTEEN]], %[[SIXTEEN]])
// CHECK:      llvm.call @attn_emu_cp_async_commit()
// CHECK:      %[[KEEP:.+]] = llvm.mlir.constant(1 : i32) : i32
// CHECK:      llvm.call @attn_emu_cp_async_wait(%[[KEEP]])
// CHECK:      %[[X4:.+]] = llvm.mlir.constant(4 : i32) : i32
// CHECK:      %[[NOTRANS:.+]] = llvm.mlir.constant(0 : i32) : i32
// CHECK:      llvm.call @attn_emu_ldmatrix(%{{.+}}, %[[X4]], %[[NOTRANS]], %{{.+}})
// CHECK:      %[[X2:.+]] = llvm.mlir.constant(2 : i32) : i32
// CHECK:      %[[TRANS:.+]] = llvm.mlir.constant(1 : i32) : i32
// CHECK:      llvm.call @attn_emu_ldmatrix(%{{.+}}, %[[X2]], %[[TRANS]], %{{.+}})
// CHECK:      %[[K16:.+]] = llvm.mlir.constant(0 : i32) : i32
// CHECK:      %[[F16:.+]] = llvm.mlir.constant(0 : i32) : i32
// CHECK:      llvm.call @attn_emu_mma(%[[K16]], %[[F16]],
// CHECK-NOT:  nvvm.
