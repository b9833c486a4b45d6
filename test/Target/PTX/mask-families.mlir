// RUN: attn-ptx %s --print-ptx --split-input-file --verify-each | FileCheck %s

// Every mask family, in f16 and bf16, MHA, GQA and MQA, becomes
// tensor-core PTX: cp.async staging, ldmatrix (V transposed) and
// mma.sync m16n8k16 with the input type. (AttnPtxMatrixTests also
// assembles the matrix with ptxas; test/Conversion/attn-to-gpu.mlir shows
// the skipped tiles in the GPU IR.) A custom mask_mod region is the last.

// CHECK-LABEL: .visible .entry none_kernel
// CHECK-DAG:   cp.async.cg.shared.global
// CHECK-DAG:   ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK-DAG:   ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// CHECK-DAG:   mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
func.func @none(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>, %v: tensor<1x4x128x64xf16>) -> tensor<1x4x128x64xf16> {
  %o = attn.attention %q, %k, %v 
      : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16> -> tensor<1x4x128x64xf16>
  return %o : tensor<1x4x128x64xf16>
}

// -----

// CHECK-LABEL: .visible .entry causal_kernel
// CHECK-DAG:   cp.async.cg.shared.global
// CHECK-DAG:   ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK-DAG:   ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// CHECK-DAG:   mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
func.func @causal(%q: tensor<1x8x128x64xbf16>, %k: tensor<1x2x128x64xbf16>, %v: tensor<1x2x128x64xbf16>) -> tensor<1x8x128x64xbf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.causal}
      : tensor<1x8x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16> -> tensor<1x8x128x64xbf16>
  return %o : tensor<1x8x128x64xbf16>
}

// -----

// CHECK-LABEL: .visible .entry causal_bottom_right_kernel
// CHECK-DAG:   cp.async.cg.shared.global
// CHECK-DAG:   ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK-DAG:   ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// CHECK-DAG:   mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
func.func @causal_bottom_right(%q: tensor<1x4x128x64xf16>, %k: tensor<1x1x128x64xf16>, %v: tensor<1x1x128x64xf16>) -> tensor<1x4x128x64xf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.causal<bottom_right>}
      : tensor<1x4x128x64xf16>, tensor<1x1x128x64xf16>, tensor<1x1x128x64xf16> -> tensor<1x4x128x64xf16>
  return %o : tensor<1x4x128x64xf16>
}

// -----

// CHECK-LABEL: .visible .entry window_kernel
// CHECK-DAG:   cp.async.cg.shared.global
// CHECK-DAG:   ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK-DAG:   ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// CHECK-DAG:   mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
func.func @window(%q: tensor<1x4x128x64xbf16>, %k: tensor<1x4x128x64xbf16>, %v: tensor<1x4x128x64xbf16>) -> tensor<1x4x128x64xbf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.window<left = 48, right = 16>}
      : tensor<1x4x128x64xbf16>, tensor<1x4x128x64xbf16>, tensor<1x4x128x64xbf16> -> tensor<1x4x128x64xbf16>
  return %o : tensor<1x4x128x64xbf16>
}

// -----

// CHECK-LABEL: .visible .entry dilated_kernel
// CHECK-DAG:   cp.async.cg.shared.global
// CHECK-DAG:   ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK-DAG:   ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// CHECK-DAG:   mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
func.func @dilated(%q: tensor<1x8x128x64xf16>, %k: tensor<1x2x128x64xf16>, %v: tensor<1x2x128x64xf16>) -> tensor<1x8x128x64xf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.dilated<window = 64, dilation = 2>}
      : tensor<1x8x128x64xf16>, tensor<1x2x128x64xf16>, tensor<1x2x128x64xf16> -> tensor<1x8x128x64xf16>
  return %o : tensor<1x8x128x64xf16>
}

// -----

// CHECK-LABEL: .visible .entry global_kernel
// CHECK-DAG:   cp.async.cg.shared.global
// CHECK-DAG:   ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK-DAG:   ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// CHECK-DAG:   mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
func.func @global(%q: tensor<1x4x128x64xbf16>, %k: tensor<1x1x128x64xbf16>, %v: tensor<1x1x128x64xbf16>) -> tensor<1x4x128x64xbf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.union<[#attn.causal, #attn.global<first = 4>]>}
      : tensor<1x4x128x64xbf16>, tensor<1x1x128x64xbf16>, tensor<1x1x128x64xbf16> -> tensor<1x4x128x64xbf16>
  return %o : tensor<1x4x128x64xbf16>
}

// -----

// CHECK-LABEL: .visible .entry block_layout_kernel
// CHECK-DAG:   cp.async.cg.shared.global
// CHECK-DAG:   ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK-DAG:   ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// CHECK-DAG:   mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
func.func @block_layout(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>, %v: tensor<1x4x128x64xf16>) -> tensor<1x4x128x64xf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.block_layout<block = [64, 64], layout = dense<[[true, false], [true, true]]> : tensor<2x2xi1>>}
      : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16> -> tensor<1x4x128x64xf16>
  return %o : tensor<1x4x128x64xf16>
}

// -----

// CHECK-LABEL: .visible .entry random_blocks_kernel
// CHECK-DAG:   cp.async.cg.shared.global
// CHECK-DAG:   ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK-DAG:   ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// CHECK-DAG:   mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
func.func @random_blocks(%q: tensor<1x8x128x64xbf16>, %k: tensor<1x2x128x64xbf16>, %v: tensor<1x2x128x64xbf16>) -> tensor<1x8x128x64xbf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.random_blocks<block = 32, per_row = 2, seed = 7>}
      : tensor<1x8x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16> -> tensor<1x8x128x64xbf16>
  return %o : tensor<1x8x128x64xbf16>
}

// -----

// CHECK-LABEL: .visible .entry prefix_lm_kernel
// CHECK-DAG:   cp.async.cg.shared.global
// CHECK-DAG:   ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK-DAG:   ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// CHECK-DAG:   mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
func.func @prefix_lm(%q: tensor<1x4x128x64xf16>, %k: tensor<1x1x128x64xf16>, %v: tensor<1x1x128x64xf16>) -> tensor<1x4x128x64xf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.prefix_lm<prefix = 40>}
      : tensor<1x4x128x64xf16>, tensor<1x1x128x64xf16>, tensor<1x1x128x64xf16> -> tensor<1x4x128x64xf16>
  return %o : tensor<1x4x128x64xf16>
}

// -----

// CHECK-LABEL: .visible .entry document_kernel
// CHECK-DAG:   cp.async.cg.shared.global
// CHECK-DAG:   ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK-DAG:   ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// CHECK-DAG:   mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
func.func @document(%q: tensor<1x4x128x64xbf16>, %k: tensor<1x4x128x64xbf16>, %v: tensor<1x4x128x64xbf16>, %qi: tensor<1x128xi32>, %ki: tensor<1x128xi32>) -> tensor<1x4x128x64xbf16> {
  %o = attn.attention %q, %k, %v segments(%qi, %ki : tensor<1x128xi32>, tensor<1x128xi32>) {mask = #attn.document}
      : tensor<1x4x128x64xbf16>, tensor<1x4x128x64xbf16>, tensor<1x4x128x64xbf16> -> tensor<1x4x128x64xbf16>
  return %o : tensor<1x4x128x64xbf16>
}

// -----

// CHECK-LABEL: .visible .entry complement_kernel
// CHECK-DAG:   cp.async.cg.shared.global
// CHECK-DAG:   ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK-DAG:   ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// CHECK-DAG:   mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
func.func @complement(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>, %v: tensor<1x4x128x64xf16>) -> tensor<1x4x128x64xf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.complement<#attn.window<left = 8, right = 8>>}
      : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16> -> tensor<1x4x128x64xf16>
  return %o : tensor<1x4x128x64xf16>
}

// -----

// CHECK-LABEL: .visible .entry mask_mod_kernel
// CHECK-DAG:   cp.async.cg.shared.global
// CHECK-DAG:   ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// CHECK-DAG:   mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
func.func @mask_mod(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>, %v: tensor<1x4x128x64xf16>) -> tensor<1x4x128x64xf16> {
  %o = attn.attention %q, %k, %v
      mask_mod {
      ^bb0(%b: index, %h: index, %i: index, %j: index):
        %le = arith.cmpi ule, %j, %i : index
        attn.yield %le : i1
      }
      : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16> -> tensor<1x4x128x64xf16>
  return %o : tensor<1x4x128x64xf16>
}
