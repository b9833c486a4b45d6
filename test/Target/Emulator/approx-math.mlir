// RUN: attn-opt %s --attn-emulate-nvvm | FileCheck %s

// Approximate-math ops and intrinsics call the runtime's models (with
// .ftz as a flag); libdevice calls go to its replacements; fences vanish
// (emulated threads interleave only at barriers and collectives, so every
// access is already ordered).
// CHECK-DAG:  llvm.func @attn_emu_nv_expf(f32) -> f32
// CHECK-LABEL: llvm.func @kernel
// CHECK:        %[[FTZ:.+]] = llvm.mlir.constant(1 : i32) : i32
// CHECK:        llvm.call @attn_emu_rcp_approx(%{{.+}}, %[[FTZ]])
// CHECK:        %[[NOFTZ:.+]] = llvm.mlir.constant(0 : i32) : i32
// CHECK:        llvm.call @attn_emu_ex2_approx(%{{.+}}, %[[NOFTZ]])
// CHECK:        llvm.call @attn_emu_nv_expf(
// CHECK-NOT:    nvvm.
// CHECK:        llvm.return
module attributes {gpu.container_module} {
  gpu.module @kernels {
    llvm.func @__nv_expf(f32) -> f32
    llvm.func @kernel(%x: f32, %out: !llvm.ptr) attributes {gpu.kernel, nvvm.kernel} {
      %0 = nvvm.rcp.approx.ftz.f %x : f32
      %1 = llvm.call_intrinsic "llvm.nvvm.ex2.approx.f"(%0) : (f32) -> f32
      nvvm.memory.barrier #nvvm.mem_scope<cta>
      %2 = llvm.call @__nv_expf(%1) : (f32) -> f32
      llvm.store %2, %out : f32, !llvm.ptr
      llvm.return
    }
  }
}
