// RUN: not attn-ptx %s --split-input-file --print-ptx 2>&1 >/dev/null | FileCheck %s
// RUN: not attn-ptx %s --split-input-file --print-ptx 2>/dev/null | FileCheck %s --check-prefix=VALID

// What the launch contract cannot describe is an error at the offending
// argument, result or attention, never a crash or a kernel that does not
// run: each case below is compiled on its own.

// CHECK: error: the GPU path takes statically shaped tensors or memrefs as function arguments; argument 3 is 'i32'
func.func @scalar_argument(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>,
                           %v: tensor<1x4x128x64xf16>, %n: i32) -> tensor<1x4x128x64xf16> {
  %o = attn.attention %q, %k, %v
      : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
      -> tensor<1x4x128x64xf16>
  return %o : tensor<1x4x128x64xf16>
}

// -----

// CHECK: error: the GPU path takes statically shaped tensors or memrefs as function arguments; argument 3 is 'tensor<?xi32>'
func.func @dynamic_argument(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>,
                            %v: tensor<1x4x128x64xf16>, %n: tensor<?xi32>) -> tensor<1x4x128x64xf16> {
  %o = attn.attention %q, %k, %v
      : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
      -> tensor<1x4x128x64xf16>
  return %o : tensor<1x4x128x64xf16>
}

// -----

// An argument returned as a result would be a result no kernel writes.
// CHECK: error: the GPU path returns only results of attn.attention; result 1 is not one
func.func @returns_an_argument(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>,
                               %v: tensor<1x4x128x64xf16>)
    -> (tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>) {
  %o = attn.attention %q, %k, %v
      : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
      -> tensor<1x4x128x64xf16>
  return %o, %q : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
}

// -----

// CHECK: error: result 1 returns the same attention result twice
func.func @returns_twice(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>,
                         %v: tensor<1x4x128x64xf16>)
    -> (tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>) {
  %o = attn.attention %q, %k, %v
      : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
      -> tensor<1x4x128x64xf16>
  return %o, %o : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
}

// -----

// The grid is (query tiles, heads, batch); y and z are at most 65535.
// CHECK: error: attn-tile-to-gpu: the kernel's grid (1, 1, 70000) is outside the GPU's limits: 70000 batch in z, at most 65535
func.func @batch_beyond_the_grid(%q: tensor<70000x1x64x64xf16>, %k: tensor<70000x1x64x64xf16>,
                                 %v: tensor<70000x1x64x64xf16>) -> tensor<70000x1x64x64xf16> {
  %o = attn.attention %q, %k, %v
      : tensor<70000x1x64x64xf16>, tensor<70000x1x64x64xf16>, tensor<70000x1x64x64xf16>
      -> tensor<70000x1x64x64xf16>
  return %o : tensor<70000x1x64x64xf16>
}

// -----

// A valid case after the failing ones still compiles.
// VALID: .visible .entry valid_kernel(
func.func @valid(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>,
                 %v: tensor<1x4x128x64xf16>) -> tensor<1x4x128x64xf16> {
  %o = attn.attention %q, %k, %v
      : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
      -> tensor<1x4x128x64xf16>
  return %o : tensor<1x4x128x64xf16>
}
