// RUN: attn-opt %s --attn-online-softmax -split-input-file -verify-diagnostics

// The expansion is of the memref form: the tensor form that attn-tile
// emits is bufferized first.
func.func @tensor_form(%m: tensor<32xf32>, %l: tensor<32xf32>,
                       %acc: tensor<32x16xf32>) -> tensor<32x16xf32> {
  // expected-error @below {{attn-online-softmax: expands tile ops on memrefs; bufferize the tensor form first (attn-bufferize)}}
  %0:3 = attn.tile_init state(%m, %l, %acc)
      : tensor<32xf32>, tensor<32xf32>, tensor<32x16xf32>
      -> tensor<32xf32>, tensor<32xf32>, tensor<32x16xf32>
  return %0#2 : tensor<32x16xf32>
}
