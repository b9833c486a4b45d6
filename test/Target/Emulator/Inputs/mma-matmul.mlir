module attributes {gpu.container_module} {
  gpu.module @kernels {
    // C[M,N] (f32) = A[M,K] * B[K,N] (f16, row-major). Block tile 32x32 with
    // four warps, each a 16x16 slab (two m16n8k16 tiles); A and B 16-wide
    // k slices staged in shared memory by cp.async (threads 0-63 copy A,
    // 64-127 copy B, 16 bytes each), double-buffered; fragments loaded by
    // ldmatrix (A: x4, B: two x2.trans).
    gpu.func @matmul(%A: memref<?x?xf16>, %B: memref<?x?xf16>, %C: memref<?x?xf32>)
        workgroup(%sa: memref<2x32x16xf16, #gpu.address_space<workgroup>>,
                  %sb: memref<2x16x32xf16, #gpu.address_space<workgroup>>)
        kernel {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c2 = arith.constant 2 : index
      %c4 = arith.constant 4 : index
      %c8 = arith.constant 8 : index
      %c16 = arith.constant 16 : index
      %c32 = arith.constant 32 : index
      %c64 = arith.constant 64 : index
      %tid = gpu.thread_id x
      %bx = gpu.block_id x
      %by = gpu.block_id y
      %warp = arith.divui %tid, %c32 : index
      %lane = arith.remui %tid, %c32 : index
      %bm = arith.muli %by, %c32 : index
      %bn = arith.muli %bx, %c32 : index
      %K = memref.dim %A, %c1 : memref<?x?xf16>
      %numK = arith.divui %K, %c16 : index
      // The 8-element chunk this thread stages: A row tid/2, column
      // 8*(tid%2); or B row (tid-64)/4, column 8*((tid-64)%4).
      %isA = arith.cmpi ult, %tid, %c64 : index
      %ar = arith.divui %tid, %c2 : index
      %ac2 = arith.remui %tid, %c2 : index
      %ac = arith.muli %ac2, %c8 : index
      %garow = arith.addi %bm, %ar : index
      %ib = arith.subi %tid, %c64 : index
      %br = arith.divui %ib, %c4 : index
      %bc4 = arith.remui %ib, %c4 : index
      %bc = arith.muli %bc4, %c8 : index
      %gbcol = arith.addi %bn, %bc : index
      %zero = arith.constant dense<0.0> : vector<2x2xf32>
      %t0 = scf.if %isA -> !nvgpu.device.async.token {
        %t = nvgpu.device_async_copy %A[%garow, %ac], %sa[%c0, %ar, %ac], 8 : memref<?x?xf16> to memref<2x32x16xf16, #gpu.address_space<workgroup>>
        scf.yield %t : !nvgpu.device.async.token
      } else {
        %t = nvgpu.device_async_copy %B[%br, %gbcol], %sb[%c0, %br, %bc], 8 : memref<?x?xf16> to memref<2x16x32xf16, #gpu.address_space<workgroup>>
        scf.yield %t : !nvgpu.device.async.token
      }
      %g0 = nvgpu.device_async_create_group %t0
      %w2 = arith.divui %warp, %c2 : index
      %wr = arith.muli %w2, %c16 : index
      %wm = arith.remui %warp, %c2 : index
      %wc = arith.muli %wm, %c16 : index
      %wc8 = arith.addi %wc, %c8 : index
      %l16 = arith.remui %lane, %c16 : index
      %lh = arith.divui %lane, %c16 : index
      %arow = arith.addi %wr, %l16 : index
      %acol = arith.muli %lh, %c8 : index
      %acc:2 = scf.for %kt = %c0 to %numK step %c1 iter_args(%acc0 = %zero, %acc1 = %zero) -> (vector<2x2xf32>, vector<2x2xf32>) {
        %buf = arith.remui %kt, %c2 : index
        %next = arith.addi %kt, %c1 : index
        %more = arith.cmpi ult, %next, %numK : index
        scf.if %more {
          %nbuf = arith.subi %c1, %buf : index
          %k0 = arith.muli %next, %c16 : index
          %t = scf.if %isA -> !nvgpu.device.async.token {
            %col = arith.addi %k0, %ac : index
            %t1 = nvgpu.device_async_copy %A[%garow, %col], %sa[%nbuf, %ar, %ac], 8 : memref<?x?xf16> to memref<2x32x16xf16, #gpu.address_space<workgroup>>
            scf.yield %t1 : !nvgpu.device.async.token
          } else {
            %row = arith.addi %k0, %br : index
            %t1 = nvgpu.device_async_copy %B[%row, %gbcol], %sb[%nbuf, %br, %bc], 8 : memref<?x?xf16> to memref<2x16x32xf16, #gpu.address_space<workgroup>>
            scf.yield %t1 : !nvgpu.device.async.token
          }
          %g = nvgpu.device_async_create_group %t
          nvgpu.device_async_wait %g {numGroups = 1 : i32}
        } else {
          nvgpu.device_async_wait %g0 {numGroups = 0 : i32}
        }
        gpu.barrier
        %a = nvgpu.ldmatrix %sa[%buf, %arow, %acol] {numTiles = 4 : i32, transpose = false} : memref<2x32x16xf16, #gpu.address_space<workgroup>> -> vector<4x2xf16>
        %b0 = nvgpu.ldmatrix %sb[%buf, %l16, %wc] {numTiles = 2 : i32, transpose = true} : memref<2x16x32xf16, #gpu.address_space<workgroup>> -> vector<2x2xf16>
        %b1 = nvgpu.ldmatrix %sb[%buf, %l16, %wc8] {numTiles = 2 : i32, transpose = true} : memref<2x16x32xf16, #gpu.address_space<workgroup>> -> vector<2x2xf16>
        %d0 = nvgpu.mma.sync (%a, %b0, %acc0) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
        %d1 = nvgpu.mma.sync (%a, %b1, %acc1) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
        gpu.barrier
        scf.yield %d0, %d1 : vector<2x2xf32>, vector<2x2xf32>
      }
      // Accumulator c_i sits at row g + 8*(i/2), column 2t + i%2 of the
      // warp's 16x8 tile (g = lane/4, t = lane%4).
      %g = arith.divui %lane, %c4 : index
      %t4 = arith.remui %lane, %c4 : index
      %tc = arith.muli %t4, %c2 : index
      %row0 = arith.addi %bm, %wr : index
      %r0 = arith.addi %row0, %g : index
      %r1 = arith.addi %r0, %c8 : index
      %col0 = arith.addi %bn, %wc : index
      %n0 = arith.addi %col0, %tc : index
      %n1 = arith.addi %n0, %c1 : index
      %n2 = arith.addi %n0, %c8 : index
      %n3 = arith.addi %n2, %c1 : index
      %x00 = vector.extract %acc#0[0, 0] : f32 from vector<2x2xf32>
      %x01 = vector.extract %acc#0[0, 1] : f32 from vector<2x2xf32>
      %x10 = vector.extract %acc#0[1, 0] : f32 from vector<2x2xf32>
      %x11 = vector.extract %acc#0[1, 1] : f32 from vector<2x2xf32>
      memref.store %x00, %C[%r0, %n0] : memref<?x?xf32>
      memref.store %x01, %C[%r0, %n1] : memref<?x?xf32>
      memref.store %x10, %C[%r1, %n0] : memref<?x?xf32>
      memref.store %x11, %C[%r1, %n1] : memref<?x?xf32>
      %y00 = vector.extract %acc#1[0, 0] : f32 from vector<2x2xf32>
      %y01 = vector.extract %acc#1[0, 1] : f32 from vector<2x2xf32>
      %y10 = vector.extract %acc#1[1, 0] : f32 from vector<2x2xf32>
      %y11 = vector.extract %acc#1[1, 1] : f32 from vector<2x2xf32>
      memref.store %y00, %C[%r0, %n2] : memref<?x?xf32>
      memref.store %y01, %C[%r0, %n3] : memref<?x?xf32>
      memref.store %y10, %C[%r1, %n2] : memref<?x?xf32>
      memref.store %y11, %C[%r1, %n3] : memref<?x?xf32>
      gpu.return
    }
  }
}
