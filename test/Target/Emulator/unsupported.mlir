// RUN: attn-opt %s --attn-emulate-nvvm -verify-diagnostics

// An NVVM op without an emulation is an error naming it, never a silent
// miscompile.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    llvm.func @kernel() attributes {gpu.kernel, nvvm.kernel} {
      // expected-error @+1 {{attn-emulate-nvvm: no emulation for 'nvvm.read.ptx.sreg.clock'}}
      %0 = nvvm.read.ptx.sreg.clock : i32
      llvm.return
    }
  }
}
