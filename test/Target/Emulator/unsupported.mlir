// RUN: attn-opt %s --attn-emulate-nvvm -verify-diagnostics -split-input-file

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

// -----

// mma.sync with f16 accumulators is not emulated (the GPU path uses f32).
module attributes {gpu.container_module} {
  gpu.module @kernels {
    llvm.func @kernel(%a: vector<2xf16>, %b: vector<2xf16>, %c: vector<2xf16>) attributes {gpu.kernel, nvvm.kernel} {
      // expected-error @+1 {{attn-emulate-nvvm: only f32 accumulators are emulated for mma.sync}}
      %0 = nvvm.mma.sync A[%a, %a, %a, %a] B[%b, %b] C[%c, %c] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (vector<2xf16>, vector<2xf16>, vector<2xf16>) -> !llvm.struct<(vector<2xf16>, vector<2xf16>)>
      llvm.return
    }
  }
}

// -----

// A libdevice function without an emulation is named.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    // expected-error @+1 {{attn-emulate-nvvm: libdevice function '__nv_j0f' has no emulation}}
    llvm.func @__nv_j0f(f32) -> f32
    llvm.func @kernel(%x: f32) attributes {gpu.kernel, nvvm.kernel} {
      %0 = llvm.call @__nv_j0f(%x) : (f32) -> f32
      llvm.return
    }
  }
}

// -----

// So is any other external function: the JIT would not find it.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    // expected-error @+1 {{attn-emulate-nvvm: external function 'vprintf' has no emulation}}
    llvm.func @vprintf(!llvm.ptr, !llvm.ptr) -> i32
  }
}

// -----

// An NVVM intrinsic called by name must have an emulation too.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    llvm.func @kernel(%x: f32) attributes {gpu.kernel, nvvm.kernel} {
      // expected-error @+1 {{attn-emulate-nvvm: no emulation for intrinsic 'llvm.nvvm.sin.approx.f'}}
      %0 = llvm.call_intrinsic "llvm.nvvm.sin.approx.f"(%x) : (f32) -> f32
      llvm.return
    }
  }
}

// -----

// ldmatrix of 8-bit elements is not emulated.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    llvm.func @kernel(%p: !llvm.ptr<3>) attributes {gpu.kernel, nvvm.kernel} {
      // expected-error @+1 {{attn-emulate-nvvm: only ldmatrix .m8n8 .b16 is emulated}}
      %0 = nvvm.ldmatrix %p {num = 1 : i32, layout = #nvvm.mma_layout<col>, shape = #nvvm.ld_st_matrix_shape<m = 16, n = 16>, eltType = #nvvm.ld_st_matrix_elt_type<b8>} : (!llvm.ptr<3>) -> !llvm.struct<(i32, i32)>
      llvm.return
    }
  }
}
