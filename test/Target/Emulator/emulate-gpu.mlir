// RUN: attn-opt %s --attn-emulate-gpu | FileCheck %s

// A kernel with thread ids, a shuffle, workgroup memory and a barrier: the
// GPU module is gone, the kernel is a host function whose NVVM ops are
// calls into the emulation runtime, and its workgroup buffer an offset in
// the per-block static shared memory (recorded on the module). Every load
// and store through a kernel argument or shared memory is announced to the
// runtime's memory checks with its size, direction and address space.
// CHECK:       module attributes {attn.emu.static_shared_bytes = 512 : i64
// CHECK-NOT:   gpu.module
// CHECK-DAG:   llvm.func @attn_emu_tid(i32) -> i32
// CHECK-DAG:   llvm.func @attn_emu_ctaid(i32) -> i32
// CHECK-DAG:   llvm.func @attn_emu_barrier0()
// CHECK-DAG:   llvm.func @attn_emu_shfl_sync_packed(i32, i32, i32, i32, i32) -> i64
// CHECK-DAG:   llvm.func @attn_emu_static_shared() -> !llvm.ptr
// CHECK:       llvm.func @kernel(
// CHECK-NOT:   nvvm.
// CHECK:         %[[BASE:.+]] = llvm.call @attn_emu_static_shared()
// CHECK:         %[[AT:.+]] = llvm.getelementptr %[[BASE]][0] : (!llvm.ptr) -> !llvm.ptr, i8
// CHECK:         llvm.addrspacecast %[[AT]] : !llvm.ptr to !llvm.ptr<3>
// CHECK:         %[[X:.+]] = llvm.mlir.constant(0 : i32) : i32
// CHECK:         llvm.call @attn_emu_tid(%[[X]]) : (i32) -> i32
// CHECK:         %[[IN:.+]] = llvm.getelementptr inbounds|nuw
// CHECK:         %[[FOUR:.+]] = llvm.mlir.constant(4 : i64) : i64
// CHECK:         %[[READ:.+]] = llvm.mlir.constant(0 : i32) : i32
// CHECK:         %[[GENERIC:.+]] = llvm.mlir.constant(0 : i32) : i32
// CHECK:         llvm.call @attn_emu_access(%[[IN]], %[[FOUR]], %[[READ]], %[[GENERIC]])
// CHECK-NEXT:    llvm.load %[[IN]]
// CHECK:         %[[SH:.+]] = llvm.getelementptr inbounds|nuw {{.*}} : (!llvm.ptr<3>, i64)
// CHECK:         %[[SHG:.+]] = llvm.addrspacecast %[[SH]] : !llvm.ptr<3> to !llvm.ptr
// CHECK:         %[[WRITE:.+]] = llvm.mlir.constant(1 : i32) : i32
// CHECK:         %[[SHARED:.+]] = llvm.mlir.constant(3 : i32) : i32
// CHECK:         llvm.call @attn_emu_access(%[[SHG]], %{{.+}}, %[[WRITE]], %[[SHARED]])
// CHECK-NEXT:    llvm.store %{{.+}}, %[[SH]] : f32, !llvm.ptr<3>
// CHECK:         llvm.call @attn_emu_barrier0() : () -> ()
// CHECK:         %[[BFLY:.+]] = llvm.mlir.constant(3 : i32) : i32
// CHECK:         %[[P:.+]] = llvm.call @attn_emu_shfl_sync_packed(%[[BFLY]],
// CHECK:         llvm.trunc %[[P]] : i64 to i32
// CHECK-NOT:   nvvm.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @kernel(%in: memref<128xf32>, %out: memref<4xf32>)
        workgroup(%buf: memref<128xf32, #gpu.address_space<workgroup>>) kernel {
      %tid = gpu.thread_id x
      %bid = gpu.block_id x
      %v = memref.load %in[%tid] : memref<128xf32>
      memref.store %v, %buf[%tid] : memref<128xf32, #gpu.address_space<workgroup>>
      gpu.barrier
      %c1 = arith.constant 1 : i32
      %c32 = arith.constant 32 : i32
      %s, %valid = gpu.shuffle xor %v, %c1, %c32 : f32
      %c0 = arith.constant 0 : index
      %w = memref.load %buf[%c0] : memref<128xf32, #gpu.address_space<workgroup>>
      %r = arith.addf %s, %w : f32
      memref.store %r, %out[%bid] : memref<4xf32>
      gpu.return
    }
  }
}
