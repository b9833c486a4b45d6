// RUN: attn-opt %s -split-input-file -verify-diagnostics

// One malformed attention per split; each checks the verifier's or the
// parser's message.

// Q, K and V must be rank 4.
func.func @query_rank(%q: tensor<4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op query must be rank 4 [B, Hq, Sq, Dqk], got rank 3}}
  %o = attn.attention %q, %k, %v : tensor<4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @key_rank(%q: tensor<1x4x16x8xf32>, %k: tensor<1x1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op key must be rank 4 [B, Hkv, Skv, Dqk], got rank 5}}
  %o = attn.attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @value_rank(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op value must be rank 4 [B, Hkv, Skv, Dv], got rank 2}}
  %o = attn.attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Element types: f32, f16 or bf16 only.
func.func @f64_query(%q: tensor<1x4x16x8xf64>, %k: tensor<1x4x16x8xf64>, %v: tensor<1x4x16x8xf64>) {
  // expected-error @+1 {{'attn.attention' op unsupported query element type 'f64'; expected f32, f16 or bf16}}
  %o = attn.attention %q, %k, %v : tensor<1x4x16x8xf64>, tensor<1x4x16x8xf64>, tensor<1x4x16x8xf64> -> tensor<1x4x16x8xf64>
  return
}

// -----

func.func @i8_key(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xi8>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op unsupported key element type 'i8'; expected f32, f16 or bf16}}
  %o = attn.attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xi8>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @mixed_element_types(%q: tensor<1x4x16x8xf16>, %k: tensor<1x4x16x8xf16>, %v: tensor<1x4x16x8xbf16>) {
  // expected-error @+1 {{'attn.attention' op query, key and value must share one element type, got 'f16', 'f16' and 'bf16'}}
  %o = attn.attention %q, %k, %v : tensor<1x4x16x8xf16>, tensor<1x4x16x8xf16>, tensor<1x4x16x8xbf16> -> tensor<1x4x16x8xf16>
  return
}

// -----

// Head counts and head dims are static and non-zero.
func.func @dynamic_head_count(%q: tensor<1x?x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op query head count must be static}}
  %o = attn.attention %q, %k, %v : tensor<1x?x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @dynamic_head_dim(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x?xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op key head dim must be static}}
  %o = attn.attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x?xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @zero_head_count(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x0x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op value must have non-zero head count and head dim, got [1, 0, 16, 8]}}
  %o = attn.attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x0x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @zero_head_dim(%q: tensor<1x4x16x0xf32>, %k: tensor<1x4x16x0xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op query must have non-zero head count and head dim, got [1, 4, 16, 0]}}
  %o = attn.attention %q, %k, %v : tensor<1x4x16x0xf32>, tensor<1x4x16x0xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Sizes beyond 32-bit indexing.
func.func @dim_too_large(%q: tensor<1x4x3000000000x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op query dimension 3000000000 is too large; sizes must be below 2^31}}
  %o = attn.attention %q, %k, %v : tensor<1x4x3000000000x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Batch, head grouping, sequence and head-dim agreement.
func.func @batch_mismatch(%q: tensor<2x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op batch size mismatch: query [2, 4, 16, 8], key [1, 4, 16, 8], value [1, 4, 16, 8]}}
  %o = attn.attention %q, %k, %v : tensor<2x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<2x4x16x8xf32>
  return
}

// -----

func.func @batch_mismatch_kv_dynamic_q(%q: tensor<?x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<3x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op batch size mismatch: query [?, 4, 16, 8], key [2, 4, 16, 8], value [3, 4, 16, 8]}}
  %o = attn.attention %q, %k, %v : tensor<?x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<3x4x16x8xf32> -> tensor<?x4x16x8xf32>
  return
}

// -----

func.func @kv_head_mismatch(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x2x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op key has 4 heads but value has 2}}
  %o = attn.attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @gqa_not_divisible(%q: tensor<1x6x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op query heads (6) must be a multiple of key/value heads (4) for grouped-query attention}}
  %o = attn.attention %q, %k, %v : tensor<1x6x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x6x16x8xf32>
  return
}

// -----

func.func @kv_seq_mismatch(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x32x8xf32>, %v: tensor<1x4x31x8xf32>) {
  // expected-error @+1 {{'attn.attention' op key sequence length 32 differs from value sequence length 31}}
  %o = attn.attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x32x8xf32>, tensor<1x4x31x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @qk_head_dim_mismatch(%q: tensor<1x4x16x576xf32>, %k: tensor<1x4x16x512xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op query head dim 576 differs from key head dim 512}}
  %o = attn.attention %q, %k, %v : tensor<1x4x16x576xf32>, tensor<1x4x16x512xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// The output is [B, Hq, Sq, Dv] in the input element type.
func.func @output_element_type(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op output element type 'f16' differs from the input element type 'f32'}}
  %o = attn.attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf16>
  return
}

// -----

func.func @output_rank(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op output must have rank 4, got rank 3}}
  %o = attn.attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<4x16x8xf32>
  return
}

// -----

func.func @output_shape_heads(%q: tensor<1x8x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op output has shape [1, 4, 16, 8] but [1, 8, 16, 8] is expected}}
  %o = attn.attention %q, %k, %v : tensor<1x8x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Dv comes from V, not from Q.
func.func @output_shape_head_dim(%q: tensor<1x4x16x64xf32>, %k: tensor<1x4x16x64xf32>, %v: tensor<1x4x16x32xf32>) {
  // expected-error @+1 {{'attn.attention' op output has shape [1, 4, 16, 64] but [1, 4, 16, 32] is expected}}
  %o = attn.attention %q, %k, %v : tensor<1x4x16x64xf32>, tensor<1x4x16x64xf32>, tensor<1x4x16x32xf32> -> tensor<1x4x16x64xf32>
  return
}

// -----

func.func @output_shape_dynamic(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x8xf32>) {
  // expected-error @+1 {{'attn.attention' op output has shape [?, 4, ?, 16] but [?, 4, ?, 8] is expected}}
  %o = attn.attention %q, %k, %v : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x16xf32>
  return
}

// -----

// The logsumexp is [B, Hq, Sq] in f32.
func.func @lse_element_type(%q: tensor<1x4x16x8xf16>, %k: tensor<1x4x16x8xf16>, %v: tensor<1x4x16x8xf16>) {
  // expected-error @+1 {{'attn.attention' op logsumexp must have f32 elements, got 'f16'}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x4x16x8xf16>, tensor<1x4x16x8xf16>, tensor<1x4x16x8xf16> -> tensor<1x4x16x8xf16>, tensor<1x4x16xf16>
  return
}

// -----

func.func @lse_rank(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op logsumexp must have rank 3, got rank 4}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>, tensor<1x4x16x1xf32>
  return
}

// -----

func.func @lse_shape(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op logsumexp has shape [1, 4, 8] but [1, 4, 16] is expected}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

// The scale is positive and finite.
func.func @scale_negative(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op scale must be positive and finite, got -5.000000e-01}}
  %o = attn.attention %q, %k, %v {scale = -0.5 : f32} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @scale_zero(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op scale must be positive and finite, got 0}}
  %o = attn.attention %q, %k, %v {scale = 0.0 : f32} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// +inf
func.func @scale_inf(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op scale must be positive and finite, got INF}}
  %o = attn.attention %q, %k, %v {scale = 0x7F800000 : f32} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// NaN
func.func @scale_nan(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op scale must be positive and finite, got nan}}
  %o = attn.attention %q, %k, %v {scale = 0x7FC00000 : f32} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// The scale is an f32 attribute.
func.func @scale_f64(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{attribute 'scale' failed to satisfy constraint: 32-bit float attribute}}
  %o = attn.attention %q, %k, %v {scale = 0.5 : f64} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// The bias is f32 or the input element type.
func.func @bias_element_type(%q: tensor<1x4x16x8xbf16>, %k: tensor<1x4x16x8xbf16>, %v: tensor<1x4x16x8xbf16>, %b: tensor<1x4x16x16xf16>) {
  // expected-error @+1 {{'attn.attention' op bias element type 'f16' must be f32 or the query element type 'bf16'}}
  %o = attn.attention %q, %k, %v bias(%b : tensor<1x4x16x16xf16>) : tensor<1x4x16x8xbf16>, tensor<1x4x16x8xbf16>, tensor<1x4x16x8xbf16> -> tensor<1x4x16x8xbf16>
  return
}

// -----

func.func @bias_rank(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %b: tensor<16x16xf32>) {
  // expected-error @+1 {{'attn.attention' op bias must be rank 4 [B, Hq, Sq, Skv], got rank 2}}
  %o = attn.attention %q, %k, %v bias(%b : tensor<16x16xf32>) : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Hq may broadcast from 1, not from another count.
func.func @bias_shape_heads(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %b: tensor<1x2x16x16xf32>) {
  // expected-error @+1 {{'attn.attention' op bias has shape [1, 2, 16, 16] but [1, 4, 16, 16] is expected (B and Hq may be 1 to broadcast)}}
  %o = attn.attention %q, %k, %v bias(%b : tensor<1x2x16x16xf32>) : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Sq x Skv of the bias.
func.func @bias_shape_seq(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x32x8xf32>, %v: tensor<1x4x32x8xf32>, %b: tensor<1x4x16x16xf32>) {
  // expected-error @+1 {{'attn.attention' op bias has shape [1, 4, 16, 16] but [1, 4, 16, 32] is expected (B and Hq may be 1 to broadcast)}}
  %o = attn.attention %q, %k, %v bias(%b : tensor<1x4x16x16xf32>) : tensor<1x4x16x8xf32>, tensor<1x4x32x8xf32>, tensor<1x4x32x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Document ids and #attn.document go together.
func.func @segments_without_document(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %qi: tensor<1x16xi32>, %ki: tensor<1x16xi32>) {
  // expected-error @+1 {{'attn.attention' op segment ids are given but the mask does not use #attn.document}}
  %o = attn.attention %q, %k, %v segments(%qi, %ki : tensor<1x16xi32>, tensor<1x16xi32>) {mask = #attn.causal} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @document_without_segments(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op #attn.document mask needs segment ids: add 'segments(%q_ids, %kv_ids : ...)'}}
  %o = attn.attention %q, %k, %v {mask = #attn.intersection<[#attn.causal, #attn.document]>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// #attn.document is found under a complement too.
func.func @document_in_complement_without_segments(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op #attn.document mask needs segment ids}}
  %o = attn.attention %q, %k, %v {mask = #attn.complement<#attn.document>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Only the generic form can give one id operand.
func.func @segments_need_both(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %ids: tensor<1x16xi32>) {
  // expected-error @+1 {{'attn.attention' op segments need both query and key/value ids}}
  %o = "attn.attention"(%q, %k, %v, %ids) <{mask = #attn.document, operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>}> ({}, {}) : (tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x16xi32>) -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @segments_f32(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %qi: tensor<1x16xf32>, %ki: tensor<1x16xf32>) {
  // expected-error @+1 {{'attn.attention' op segment ids must be i32 or i64, got 'f32'}}
  %o = attn.attention %q, %k, %v segments(%qi, %ki : tensor<1x16xf32>, tensor<1x16xf32>) {mask = #attn.document} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @segments_mixed_types(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %qi: tensor<1x16xi32>, %ki: tensor<1x16xi64>) {
  // expected-error @+1 {{'attn.attention' op query and key/value segment ids differ in element type}}
  %o = attn.attention %q, %k, %v segments(%qi, %ki : tensor<1x16xi32>, tensor<1x16xi64>) {mask = #attn.document} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @query_segments_shape(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %qi: tensor<1x8xi32>, %ki: tensor<1x16xi32>) {
  // expected-error @+1 {{'attn.attention' op query segment ids has shape [1, 8] but [1, 16] is expected}}
  %o = attn.attention %q, %k, %v segments(%qi, %ki : tensor<1x8xi32>, tensor<1x16xi32>) {mask = #attn.document} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @kv_segments_rank(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %qi: tensor<1x16xi32>, %ki: tensor<16xi32>) {
  // expected-error @+1 {{'attn.attention' op key/value segment ids must have rank 2, got rank 1}}
  %o = attn.attention %q, %k, %v segments(%qi, %ki : tensor<1x16xi32>, tensor<16xi32>) {mask = #attn.document} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// #attn.custom and the mask_mod region go together.
func.func @custom_without_region(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op #attn.custom mask needs a mask_mod region}}
  %o = attn.attention %q, %k, %v {mask = #attn.union<[#attn.causal, #attn.custom]>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @region_without_custom(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op mask_mod region is unused: the mask must refer to it with #attn.custom}}
  %o = attn.attention %q, %k, %v {mask = #attn.causal} mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %t = arith.constant true
    attn.yield %t : i1
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @captures_without_region(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %t: tensor<4xf32>) {
  // expected-error @+1 {{'attn.attention' op captures are given but there is no mask_mod or score_mod region to read them}}
  %o = attn.attention %q, %k, %v captures(%t : tensor<4xf32>) {mask = #attn.causal} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// mask_mod takes (b, h, i, j : index).
func.func @mask_mod_arg_count(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op mask_mod region must take (b, h, i, j : index), got ('index', 'index', 'index')}}
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%h: index, %i: index, %j: index):
    %keep = arith.cmpi sle, %j, %i : index
    attn.yield %keep : i1
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @mask_mod_arg_types(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op mask_mod region must take (b, h, i, j : index), got ('index', 'index', 'i32', 'i32')}}
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: i32, %j: i32):
    %keep = arith.cmpi sle, %j, %i : i32
    attn.yield %keep : i1
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Each capture is an extra region argument.
func.func @mask_mod_missing_capture_arg(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %t: tensor<16xi1>) {
  // expected-error @+1 {{'attn.attention' op mask_mod region must take (b, h, i, j : index) followed by one argument per capture, got ('index', 'index', 'index', 'index')}}
  %o = attn.attention %q, %k, %v captures(%t : tensor<16xi1>) mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %keep = arith.cmpi sle, %j, %i : index
    attn.yield %keep : i1
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @mask_mod_capture_arg_type(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %t: tensor<16xi1>) {
  // expected-error @+1 {{'attn.attention' op mask_mod region must take (b, h, i, j : index) followed by one argument per capture, got ('index', 'index', 'index', 'index', 'tensor<16xi32>')}}
  %o = attn.attention %q, %k, %v captures(%t : tensor<16xi1>) mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index, %x: tensor<16xi32>):
    %keep = arith.cmpi sle, %j, %i : index
    attn.yield %keep : i1
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// score_mod takes (s : f32, b, h, i, j : index).
func.func @score_mod_signature(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op score_mod region must take (s : f32, b, h, i, j : index), got ('f16', 'index', 'index', 'index', 'index')}}
  %o = attn.attention %q, %k, %v score_mod {
  ^bb0(%s: f16, %b: index, %h: index, %i: index, %j: index):
    %f = arith.extf %s : f16 to f32
    attn.yield %f : f32
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// mask_mod yields one i1.
func.func @mask_mod_yield_type(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c = arith.constant 1 : i32
    // expected-error @+1 {{'attn.yield' op in mask_mod must yield exactly one 'i1'}}
    attn.yield %c : i32
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @mask_mod_yield_count(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %t = arith.constant true
    // expected-error @+1 {{'attn.yield' op in mask_mod must yield exactly one 'i1'}}
    attn.yield %t, %t : i1, i1
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// score_mod yields one f32.
func.func @score_mod_yield_none(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  %o = attn.attention %q, %k, %v score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    // expected-error @+1 {{'attn.yield' op in score_mod must yield exactly one 'f32'}}
    attn.yield
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @score_mod_yield_type(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  %o = attn.attention %q, %k, %v score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %t = arith.truncf %s : f32 to f16
    // expected-error @+1 {{'attn.yield' op in score_mod must yield exactly one 'f32'}}
    attn.yield %t : f16
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// A region ends with attn.yield, not another terminator.
func.func @mask_mod_wrong_terminator(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op mask_mod region must end with attn.yield}}
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %t = arith.constant true
    func.return %t : i1
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Regions have at most one block.
func.func @mask_mod_two_blocks(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op region #0 ('mask_mod') failed to verify constraint: region with at most 1 blocks}}
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %t = arith.constant true
    attn.yield %t : i1
  ^bb1:
    %f = arith.constant false
    attn.yield %f : i1
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// attn.yield only terminates attention regions.
func.func @yield_outside_attention() {
  %t = arith.constant true
  // expected-error @+1 {{'attn.yield' op expects parent op to be one of 'attn.attention, attn.tile_update'}}
  attn.yield %t : i1
}

// -----

// Window extents are non-negative and below 2^31.
func.func @window_negative_left(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{window left extent must be non-negative, got -1}}
  %o = attn.attention %q, %k, %v {mask = #attn.window<left = -1, right = 0>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @window_negative_right(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{window right extent must be non-negative, got -4}}
  %o = attn.attention %q, %k, %v {mask = #attn.window<left = 4, right = -4, alignment = bottom_right>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @window_too_large(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{window right extent 2147483648 is too large; it must be below 2^31}}
  %o = attn.attention %q, %k, %v {mask = #attn.window<left = 0, right = 2147483648>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Dilated windows: window and dilation are positive.
func.func @dilated_window_zero(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{dilated window must be positive, got 0}}
  %o = attn.attention %q, %k, %v {mask = #attn.dilated<window = 0, dilation = 2>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @dilation_zero(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{dilation must be positive, got 0}}
  %o = attn.attention %q, %k, %v {mask = #attn.dilated<window = 4, dilation = 0>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @dilation_too_large(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{dilation 4294967296 is too large; it must be below 2^31}}
  %o = attn.attention %q, %k, %v {mask = #attn.dilated<window = 4, dilation = 4294967296>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Global tokens: at least one, none negative, inside the sequence.
func.func @global_no_tokens(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{global mask selects no tokens: give 'first' or 'indices'}}
  %o = attn.attention %q, %k, %v {mask = #attn.global<first = 0>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @global_no_params(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{global mask selects no tokens: give 'first' or 'indices'}}
  %o = attn.attention %q, %k, %v {mask = #attn.global<>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @global_negative_first(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{number of leading global tokens must be non-negative, got -2}}
  %o = attn.attention %q, %k, %v {mask = #attn.global<first = -2>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @global_first_too_large(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{number of leading global tokens 2147483648 is too large; it must be below 2^31}}
  %o = attn.attention %q, %k, %v {mask = #attn.global<first = 2147483648>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @global_negative_index(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{global token index must be non-negative, got -1}}
  %o = attn.attention %q, %k, %v {mask = #attn.global<first = 1, indices = [3, -1]>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @global_index_too_large(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{global token index 2147483648 is too large; it must be below 2^31}}
  %o = attn.attention %q, %k, %v {mask = #attn.global<indices = [2147483648]>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @global_index_out_of_range(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op global token index 16 is out of range for sequence lengths 16 x 16}}
  %o = attn.attention %q, %k, %v {mask = #attn.global<first = 4, indices = [15, 16]>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Shape checks reach into combinators.
func.func @global_index_out_of_range_nested(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x32x8xf32>, %v: tensor<1x4x32x8xf32>) {
  // expected-error @+1 {{'attn.attention' op global token index 40 is out of range for sequence lengths 16 x 32}}
  %o = attn.attention %q, %k, %v {mask = #attn.intersection<[#attn.causal, #attn.complement<#attn.union<[#attn.window<left = 4, right = 0>, #attn.global<indices = [40]>]>>]>} : tensor<1x4x16x8xf32>, tensor<1x4x32x8xf32>, tensor<1x4x32x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Random blocks: block and per_row are positive.
func.func @random_blocks_zero_block(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{random block size must be positive, got 0}}
  %o = attn.attention %q, %k, %v {mask = #attn.random_blocks<block = 0, per_row = 1, seed = 0>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @random_blocks_zero_per_row(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{random blocks per row must be positive, got 0}}
  %o = attn.attention %q, %k, %v {mask = #attn.random_blocks<block = 4, per_row = 0, seed = 0>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @random_blocks_too_large(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{random blocks per row 2147483648 is too large; it must be below 2^31}}
  %o = attn.attention %q, %k, %v {mask = #attn.random_blocks<block = 4, per_row = 2147483648, seed = 0>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Block layouts: a non-empty rank-2 i1 matrix with one entry per block.
func.func @block_layout_element_type(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{block layout must have i1 elements, got 'i8'}}
  %o = attn.attention %q, %k, %v {mask = #attn.block_layout<block = [8, 8], layout = dense<1> : tensor<2x2xi8>>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @block_layout_rank(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{block layout must be rank 2 [q blocks, kv blocks], got rank 1}}
  %o = attn.attention %q, %k, %v {mask = #attn.block_layout<block = [8, 8], layout = dense<[true, false]> : tensor<2xi1>>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @block_layout_empty(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{block layout must not be empty}}
  %o = attn.attention %q, %k, %v {mask = #attn.block_layout<block = [8, 8], layout = dense<> : tensor<0x2xi1>>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @block_layout_zero_block(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{block layout block sizes must be positive, got [8, 0]}}
  %o = attn.attention %q, %k, %v {mask = #attn.block_layout<block = [8, 0], layout = dense<true> : tensor<2x2xi1>>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @block_layout_too_many_entries(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{block layout has 33554432 entries; at most 16777216 are supported (use larger blocks)}}
  %o = attn.attention %q, %k, %v {mask = #attn.block_layout<block = [1, 1], layout = dense<true> : tensor<4096x8192xi1>>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @block_layout_block_too_large(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{block layout block size 4294967296 is too large; it must be below 2^31}}
  %o = attn.attention %q, %k, %v {mask = #attn.block_layout<block = [8, 4294967296], layout = dense<true> : tensor<2x1xi1>>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// 16 x 32 in blocks of [8, 8] needs a 2 x 4 layout.
func.func @block_layout_shape(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x32x8xf32>, %v: tensor<1x4x32x8xf32>) {
  // expected-error @+1 {{'attn.attention' op block layout has shape [2, 2] but sequence lengths 16 x 32 with blocks of [8, 8] need [2, 4]}}
  %o = attn.attention %q, %k, %v {mask = #attn.block_layout<block = [8, 8], layout = dense<true> : tensor<2x2xi1>>} : tensor<1x4x16x8xf32>, tensor<1x4x32x8xf32>, tensor<1x4x32x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// The layout is an integer (i1) elements attribute.
func.func @block_layout_float(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+2 {{invalid kind of attribute specified}}
  // expected-error @+1 {{failed to parse Attn_BlockLayoutMaskAttr parameter 'layout'}}
  %o = attn.attention %q, %k, %v {mask = #attn.block_layout<block = [8, 8], layout = dense<1.0> : tensor<2x2xf32>>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Prefix-LM: the prefix is non-negative and below 2^31.
func.func @prefix_lm_negative(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{prefix length must be non-negative, got -8}}
  %o = attn.attention %q, %k, %v {mask = #attn.prefix_lm<prefix = -8>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @prefix_lm_too_large(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{prefix length 9223372036854775807 is too large; it must be below 2^31}}
  %o = attn.attention %q, %k, %v {mask = #attn.prefix_lm<prefix = 9223372036854775807>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Combinators need at least two operands.
func.func @union_one_operand(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{#attn.union needs at least two masks, got 1}}
  %o = attn.attention %q, %k, %v {mask = #attn.union<[#attn.causal]>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @intersection_one_operand(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{#attn.intersection needs at least two masks, got 1}}
  %o = attn.attention %q, %k, %v {mask = #attn.intersection<[#attn.window<left = 2, right = 2>]>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// A nested combinator is verified too; the enclosing attributes stop
// parsing without an error of their own.
func.func @nested_union_one_operand(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{#attn.union needs at least two masks, got 1}}
  %o = attn.attention %q, %k, %v {mask = #attn.complement<#attn.intersection<[#attn.causal, #attn.union<[#attn.none]>]>>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Softcap: a positive finite cap.
func.func @softcap_zero(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{softcap must be a positive finite value, got 0.000000e+00}}
  %o = attn.attention %q, %k, %v {score_mod = #attn.softcap<0.0>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @softcap_negative(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{softcap must be a positive finite value, got -2.500000e+00}}
  %o = attn.attention %q, %k, %v {score_mod = #attn.softcap<-2.5>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// +inf, spelled as the bits of a double.
func.func @softcap_inf(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{softcap must be a positive finite value, got INF}}
  %o = attn.attention %q, %k, %v {score_mod = #attn.softcap<0x7FF0000000000000>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// ALiBi: one slope per query head, all finite.
func.func @alibi_slope_count(%q: tensor<1x8x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op ALiBi has 4 slopes but the attention has 8 query heads}}
  %o = attn.attention %q, %k, %v {score_mod = #attn.alibi<slopes = [0.5, 0.25, 0.125, 0.0625]>} : tensor<1x8x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x8x16x8xf32>
  return
}

// -----

// Shape checks reach into chains.
func.func @alibi_slope_count_in_chain(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op ALiBi has 2 slopes but the attention has 4 query heads}}
  %o = attn.attention %q, %k, %v {score_mod = #attn.chain<[#attn.softcap<30.0>, #attn.alibi<slopes = [0.5, 0.25]>]>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @alibi_slope_not_finite(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{ALiBi slopes must be finite}}
  %o = attn.attention %q, %k, %v {score_mod = #attn.alibi<slopes = [0.5, 0x7FF0000000000000, 0.125, 0.0625]>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// An empty chain is refused.
func.func @chain_empty(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{#attn.chain needs at least one score modification}}
  %o = attn.attention %q, %k, %v {score_mod = #attn.chain<[]>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// A score modification is not a mask, and the other way round.
func.func @score_mod_as_mask(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op attribute 'mask' failed to satisfy constraint: mask attribute}}
  %o = attn.attention %q, %k, %v {mask = #attn.softcap<30.0>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @mask_as_score_mod(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op attribute 'score_mod' failed to satisfy constraint: score modification attribute}}
  %o = attn.attention %q, %k, %v {score_mod = #attn.causal} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @score_mod_in_union(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{expected a mask attribute, got #attn.softcap<1.0>}}
  %o = attn.attention %q, %k, %v {mask = #attn.union<[#attn.causal, #attn.softcap<1.0>]>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Malformed attribute syntax.
func.func @unknown_attribute(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{unknown attribute `foo` in dialect `attn`}}
  %o = attn.attention %q, %k, %v {mask = #attn.foo} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @window_missing_parameter(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{struct is missing required parameter: right}}
  %o = attn.attention %q, %k, %v {mask = #attn.window<left = 4>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @unknown_alignment(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+2 {{expected ::mlir::attn::Alignment to be one of: top_left, bottom_right}}
  // expected-error @+1 {{failed to parse Attn_CausalMaskAttr parameter 'alignment'}}
  %o = attn.attention %q, %k, %v {mask = #attn.causal<middle>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @unknown_feature_map(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+2 {{expected ::mlir::attn::FeatureMap to be one of: identity, relu, elu_plus_one}}
  // expected-error @+1 {{failed to parse Attn_FeatureMapAttr parameter 'value'}}
  %o = attn.linear_attention %q, %k, %v {feature_map = #attn.feature_map<sigmoid>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Linear attention shares the Q/K/V checks.
func.func @linear_gqa_not_divisible(%q: tensor<1x3x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op query heads (3) must be a multiple of key/value heads (2) for grouped-query attention}}
  %o = attn.linear_attention %q, %k, %v : tensor<1x3x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x3x16x8xf32>
  return
}

// -----

func.func @linear_output_shape(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x4xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op output has shape [1, 4, 16, 8] but [1, 4, 16, 4] is expected}}
  %o = attn.linear_attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x4xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @linear_causal_lengths(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x32x8xf32>, %v: tensor<1x4x32x8xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op causal linear attention needs equal query and key lengths, got 16 and 32}}
  %o = attn.linear_attention %q, %k, %v {causal} : tensor<1x4x16x8xf32>, tensor<1x4x32x8xf32>, tensor<1x4x32x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @linear_negative_epsilon(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op epsilon must be non-negative and finite, got -1}}
  %o = attn.linear_attention %q, %k, %v {normalize, epsilon = -1.0 : f32} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @linear_nan_epsilon(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op epsilon must be non-negative and finite, got nan}}
  %o = attn.linear_attention %q, %k, %v {epsilon = 0x7FC00000 : f32} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// An empty region body is diagnosed, not read past its end.
func.func @mask_mod_empty_block(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op mask_mod region must end with attn.yield}}
  %o = attn.attention %q, %k, %v {mask = #attn.custom} mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @score_mod_empty_block(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op score_mod region must end with attn.yield}}
  %o = attn.attention %q, %k, %v score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// The 2^31 size bound applies to the output too, not only to Q, K and V.
func.func @output_too_large(%q: tensor<1x4x?x8xf32>, %k: tensor<1x4x?x8xf32>, %v: tensor<1x4x?x8xf32>) {
  // expected-error @+1 {{'attn.attention' op output dimension 3000000000 is too large; sizes must be below 2^31}}
  %o = attn.attention %q, %k, %v : tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32> -> tensor<1x4x3000000000x8xf32>
  return
}

// -----

// Tile ops check their operands too: the expansion indexes them by rank.
func.func @tile_update_rank(%q: memref<2x16xf32>, %k: memref<1x1x16x16xf32>, %v: memref<1x1x16x16xf32>,
                            %m: memref<16xf32>, %l: memref<16xf32>, %acc: memref<16x16xf32>,
                            %i: index) {
  // expected-error @+1 {{'attn.tile_update' op query must have rank 4, got 'memref<2x16xf32>'}}
  attn.tile_update %q, %k, %v at(%i, %i, %i, %i, %i) state(%m, %l, %acc)
      {scale = 1.0 : f32, tile_q = 16, tile_kv = 16}
      : memref<2x16xf32>, memref<1x1x16x16xf32>, memref<1x1x16x16xf32>,
        memref<16xf32>, memref<16xf32>, memref<16x16xf32>
  return
}

// -----

// A full flag says whether the mask keeps a whole tile: without a mask
// there is nothing to flag.
func.func @tile_update_full_without_mask(%q: memref<1x1x16x16xf32>, %k: memref<1x1x16x16xf32>, %v: memref<1x1x16x16xf32>,
                                         %m: memref<16xf32>, %l: memref<16xf32>, %acc: memref<16x16xf32>,
                                         %i: index, %full: i1) {
  // expected-error @+1 {{'attn.tile_update' op a full flag needs a mask: without one every tile is full}}
  attn.tile_update %q, %k, %v at(%i, %i, %i, %i, %i) full(%full) state(%m, %l, %acc)
      {scale = 1.0 : f32, tile_q = 16, tile_kv = 16}
      : memref<1x1x16x16xf32>, memref<1x1x16x16xf32>, memref<1x1x16x16xf32>,
        memref<16xf32>, memref<16xf32>, memref<16x16xf32>
  return
}

// -----

// A tile op is on tensors or on memrefs, not on both.
func.func @tile_update_mixed_forms(%q: tensor<1x1x16x16xf32>, %k: tensor<1x1x16x16xf32>, %v: tensor<1x1x16x16xf32>,
                                   %m: memref<16xf32>, %l: memref<16xf32>, %acc: memref<16x16xf32>,
                                   %i: index) {
  // expected-error @+1 {{'attn.tile_update' op operands must be all tensors or all memrefs}}
  attn.tile_update %q, %k, %v at(%i, %i, %i, %i, %i) state(%m, %l, %acc)
      {scale = 1.0 : f32, tile_q = 16, tile_kv = 16}
      : tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>,
        memref<16xf32>, memref<16xf32>, memref<16x16xf32>
  return
}

// -----

func.func @tile_finalize_state(%m: memref<16xf32>, %l: memref<16xf32>, %acc: memref<16x8xf32>,
                               %o: memref<16x16xf32>) {
  // expected-error @+1 {{'attn.tile_finalize' op accumulator must have shape 16x16xf32, got 'memref<16x8xf32>'}}
  attn.tile_finalize state(%m, %l, %acc) into %o
      : memref<16xf32>, memref<16xf32>, memref<16x8xf32>, memref<16x16xf32>
  return
}

// -----

// The output is the tile's rows: no more than the tile has.
func.func @tile_finalize_rows(%m: memref<16xf32>, %l: memref<16xf32>, %acc: memref<16x8xf32>,
                              %o: memref<32x8xf32>) {
  // expected-error @+1 {{'attn.tile_finalize' op output has 32 rows, more than the tile's 16}}
  attn.tile_finalize state(%m, %l, %acc) into %o
      : memref<16xf32>, memref<16xf32>, memref<16x8xf32>, memref<32x8xf32>
  return
}

// -----

// On tensors it returns each destination written, in destination-passing
// style.
func.func @tile_finalize_results(%m: tensor<16xf32>, %l: tensor<16xf32>, %acc: tensor<16x8xf32>,
                                 %o: tensor<16x8xf32>) {
  // expected-error @+1 {{'attn.tile_finalize' op expected the number of tensor results (0) to be equal to the number of output tensors (1)}}
  attn.tile_finalize state(%m, %l, %acc) into %o
      : tensor<16xf32>, tensor<16xf32>, tensor<16x8xf32>, tensor<16x8xf32>
  return
}

// -----

// A merge's partials are [parts, rows, Dv] and [parts, rows].
func.func @tile_merge_parts(%po: memref<4x16x8x1xf16>, %pl: memref<4x16xf32>,
                            %o: memref<16x8xf32>) {
  // expected-error @+1 {{'attn.tile_merge' op partial output must be a 3-D [parts, rows, Dv] tensor or memref of f32, f16 or bf16, got 'memref<4x16x8x1xf16>'}}
  attn.tile_merge %po, %pl into %o : memref<4x16x8x1xf16>, memref<4x16xf32>, memref<16x8xf32>
  return
}

// -----

func.func @tile_merge_count(%po: memref<4x16x8xf32>, %pl: memref<3x16xf32>,
                            %o: memref<16x8xf32>) {
  // expected-error @+1 {{'attn.tile_merge' op partial output 'memref<4x16x8xf32>' and partial logsumexp 'memref<3x16xf32>' disagree on parts or rows}}
  attn.tile_merge %po, %pl into %o : memref<4x16x8xf32>, memref<3x16xf32>, memref<16x8xf32>
  return
}

// -----

func.func @tile_merge_head_dim(%po: memref<4x16x8xf32>, %pl: memref<4x16xf32>,
                               %o: memref<16x16xf16>) {
  // expected-error @+1 {{'attn.tile_merge' op output 'memref<16x16xf16>' must have the partials' static head dim 8}}
  attn.tile_merge %po, %pl into %o : memref<4x16x8xf32>, memref<4x16xf32>, memref<16x16xf16>
  return
}

// -----

func.func @tile_merge_lse(%po: tensor<4x16x8xf32>, %pl: tensor<4x16xf32>,
                          %o: tensor<16x8xf32>, %lse: tensor<8xf32>) {
  // expected-error @+1 {{'attn.tile_merge' op logsumexp has 8 rows, the output 16}}
  %r:2 = attn.tile_merge %po, %pl into %o, %lse
      : tensor<4x16x8xf32>, tensor<4x16xf32>, tensor<16x8xf32>, tensor<8xf32>
      -> tensor<16x8xf32>, tensor<8xf32>
  return
}

// -----

func.func @tile_merge_form(%po: tensor<4x16x8xf32>, %pl: tensor<4x16xf32>,
                           %o: memref<16x8xf32>) {
  // expected-error @+1 {{'attn.tile_merge' op operands must be all tensors or all memrefs}}
  attn.tile_merge %po, %pl into %o : tensor<4x16x8xf32>, tensor<4x16xf32>, memref<16x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Robustness (issue 12): what the back ends cannot handle is refused here,
// with the reason, instead of crashing a lowering.
//===----------------------------------------------------------------------===//

// The kernels multiply by scale * log2(e) in f32: 3e38 is a finite f32, the
// product is not.
func.func @scale_times_log2e_overflows(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op scale 3.000000e+38 times log2(e) is not a positive finite f32; the scale must be at most 2.358657e+38}}
  %o = attn.attention %q, %k, %v {scale = 3.0e38 : f32} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Every dim is below 2^31, but the element count is 2^93.
func.func @element_count_overflows(%q: tensor<2147483647x2147483647x2147483647x64xf16>, %k: tensor<2147483647x2147483647x2147483647x64xf16>, %v: tensor<2147483647x2147483647x2147483647x64xf16>) {
  // expected-error @+1 {{'attn.attention' op query of shape [2147483647, 2147483647, 2147483647, 64] has more elements than int64 can count}}
  %o = attn.attention %q, %k, %v : tensor<2147483647x2147483647x2147483647x64xf16>, tensor<2147483647x2147483647x2147483647x64xf16>, tensor<2147483647x2147483647x2147483647x64xf16> -> tensor<2147483647x2147483647x2147483647x64xf16>
  return
}

// -----

// 2^62 elements fit in int64, their 2^64 bytes of f32 do not.
func.func @byte_size_overflows(%q: tensor<1073741824x1x1073741824x4xf32>, %k: tensor<1073741824x1x16x4xf32>, %v: tensor<1073741824x1x16x4xf32>) {
  // expected-error @+1 {{'attn.attention' op query of shape [1073741824, 1, 1073741824, 4] x 'f32' has more bytes than int64 can count}}
  %o = attn.attention %q, %k, %v : tensor<1073741824x1x1073741824x4xf32>, tensor<1073741824x1x16x4xf32>, tensor<1073741824x1x16x4xf32> -> tensor<1073741824x1x1073741824x4xf32>
  return
}

// -----

// The same bound holds for a captured tensor.
func.func @capture_byte_size_overflows(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %t: tensor<2147483647x2147483647x2147483647xi32>) {
  // expected-error @+1 {{'attn.attention' op capture #0 of shape [2147483647, 2147483647, 2147483647] has more elements than int64 can count}}
  %o = attn.attention %q, %k, %v captures(%t : tensor<2147483647x2147483647x2147483647xi32>) mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index, %x: tensor<2147483647x2147483647x2147483647xi32>):
    %true = arith.constant true
    attn.yield %true : i1
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// The back ends marshal captured tensors of rank 8 at most.
func.func @capture_rank_9(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %t: tensor<1x1x1x1x1x1x1x1x2xi32>) {
  // expected-error @+1 {{'attn.attention' op capture #0 has rank 9; captured tensors have at most rank 8}}
  %o = attn.attention %q, %k, %v captures(%t : tensor<1x1x1x1x1x1x1x1x2xi32>) mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index, %x: tensor<1x1x1x1x1x1x1x1x2xi32>):
    %true = arith.constant true
    attn.yield %true : i1
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// A complex element (once a crash in the JIT's marshalling) is refused.
func.func @capture_complex(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %t: tensor<16xcomplex<f32>>) {
  // expected-error @+1 {{'attn.attention' op capture #0 has element type 'complex<f32>'; captured tensors hold signless integers (i1 to i64) or f16, bf16, f32, f64}}
  %o = attn.attention %q, %k, %v captures(%t : tensor<16xcomplex<f32>>) mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index, %x: tensor<16xcomplex<f32>>):
    %true = arith.constant true
    attn.yield %true : i1
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// index has no fixed size to marshal.
func.func @capture_index(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %s: tensor<16xi32>, %t: tensor<16xindex>) {
  // expected-error @+1 {{'attn.attention' op capture #1 has element type 'index'}}
  %o = attn.attention %q, %k, %v captures(%s, %t : tensor<16xi32>, tensor<16xindex>) mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index, %y: tensor<16xi32>, %x: tensor<16xindex>):
    %true = arith.constant true
    attn.yield %true : i1
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// A capture with no elements has nothing a region could read.
func.func @capture_empty(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>, %t: tensor<0xi32>) {
  // expected-error @+1 {{'attn.attention' op capture #0 of shape [0] has no elements for a region to read}}
  %o = attn.attention %q, %k, %v captures(%t : tensor<0xi32>) mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index, %x: tensor<0xi32>):
    %true = arith.constant true
    attn.yield %true : i1
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Regions are pure: memory is refused, naming the op.
func.func @region_alloc(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op mask_mod region may not contain 'memref.alloc'}}
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    // expected-note @+1 {{regions admit arith and math ops on scalars, scf.if, scf.for with a constant positive step, tensor.extract from a captured tensor (in a bufferized tile op, memref.load from its buffer) and attn.yield}}
    %m = memref.alloc() : memref<4xi1>
    %c0 = arith.constant 0 : index
    %x = memref.load %m[%c0] : memref<4xi1>
    attn.yield %x : i1
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// So are calls.
func.func private @keep(index, index) -> i1

func.func @region_call(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op score_mod region may not contain 'func.call'}}
  %o = attn.attention %q, %k, %v score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    // expected-note @+1 {{regions admit arith and math ops}}
    %keep = func.call @keep(%i, %j) : (index, index) -> i1
    %r = arith.select %keep, %s, %s : f32
    attn.yield %r : f32
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// scf.while may never end (and LLVM deletes an infinite loop as UB).
func.func @region_while(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op mask_mod region may not contain 'scf.while'}}
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    // expected-note @+1 {{regions admit arith and math ops}}
    %r = scf.while (%x = %i) : (index) -> index {
      %go = arith.cmpi sge, %x, %j : index
      scf.condition(%go) %x : index
    } do {
    ^bb0(%x: index):
      scf.yield %x : index
    }
    %keep = arith.cmpi eq, %r, %j : index
    attn.yield %keep : i1
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// scf.for needs a constant positive step: a zero step would never end.
func.func @region_for_dynamic_step(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op mask_mod region may not contain 'scf.for'}}
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c0 = arith.constant 0 : index
    %false = arith.constant false
    // expected-note @+1 {{scf.for needs a constant positive step, so that it ends}}
    %r = scf.for %x = %c0 to %i step %j iter_args(%acc = %false) -> (i1) {
      scf.yield %acc : i1
    }
    attn.yield %r : i1
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// tensor.extract reads captured tensors only, not a tensor made in the region.
func.func @region_extract_of_empty(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op mask_mod region may not contain 'tensor.empty'}}
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    // expected-note @+1 {{regions admit arith and math ops}}
    %t = tensor.empty() : tensor<16xi1>
    %x = tensor.extract %t[%j] : tensor<16xi1>
    attn.yield %x : i1
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Region values are scalars: a vector is refused.
func.func @region_vector(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op mask_mod region: 'arith.constant' computes with a value of type 'vector<4xi1>'; region values must be scalars (signless i1 to i64, index, f16, bf16, f32, f64)}}
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %m = arith.constant dense<true> : vector<4xi1>
    %x = vector.extract %m[0] : i1 from vector<4xi1>
    attn.yield %x : i1
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Integers wider than 64 bits are refused (the interpreter holds 64, the
// GPU back end has no wide division).
func.func @region_i128(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op mask_mod region: 'arith.constant' computes with a value of type 'i128'}}
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %big = arith.constant 18446744073709551616 : i128
    %zero = arith.constant 0 : i128
    %c = arith.cmpi eq, %big, %zero : i128
    attn.yield %c : i1
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// The index dialect is not lowered by the host pipeline: write arith on index.
func.func @region_index_dialect(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op mask_mod region may not contain 'index.sub'}}
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    // expected-note @+1 {{regions admit arith and math ops}}
    %d = index.sub %i, %j
    %c0 = arith.constant 0 : index
    %keep = arith.cmpi sge, %d, %c0 : index
    attn.yield %keep : i1
  } : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Combinators nest at most 64 levels: the parser stops at the 65th.
func.func @mask_nesting_65(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{#attn.complement nests deeper than 64 levels of unions, intersections, complements or chains}}
  %o = attn.attention %q, %k, %v {mask = #attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.complement<#attn.causal>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Nests built from aliases (each parsed at the top level) are bounded too.
#m0 = #attn.causal
#m1 = #attn.union<[#m0, #attn.global<first = 1>]>
#m2 = #attn.union<[#m1, #attn.global<first = 2>]>
#m3 = #attn.union<[#m2, #attn.global<first = 3>]>
#m4 = #attn.union<[#m3, #attn.global<first = 4>]>
#m5 = #attn.union<[#m4, #attn.global<first = 5>]>
#m6 = #attn.union<[#m5, #attn.global<first = 6>]>
#m7 = #attn.union<[#m6, #attn.global<first = 7>]>
#m8 = #attn.union<[#m7, #attn.global<first = 8>]>
#m9 = #attn.union<[#m8, #attn.global<first = 9>]>
#m10 = #attn.union<[#m9, #attn.global<first = 10>]>
#m11 = #attn.union<[#m10, #attn.global<first = 11>]>
#m12 = #attn.union<[#m11, #attn.global<first = 12>]>
#m13 = #attn.union<[#m12, #attn.global<first = 13>]>
#m14 = #attn.union<[#m13, #attn.global<first = 14>]>
#m15 = #attn.union<[#m14, #attn.global<first = 15>]>
#m16 = #attn.union<[#m15, #attn.global<first = 16>]>
#m17 = #attn.union<[#m16, #attn.global<first = 17>]>
#m18 = #attn.union<[#m17, #attn.global<first = 18>]>
#m19 = #attn.union<[#m18, #attn.global<first = 19>]>
#m20 = #attn.union<[#m19, #attn.global<first = 20>]>
#m21 = #attn.union<[#m20, #attn.global<first = 21>]>
#m22 = #attn.union<[#m21, #attn.global<first = 22>]>
#m23 = #attn.union<[#m22, #attn.global<first = 23>]>
#m24 = #attn.union<[#m23, #attn.global<first = 24>]>
#m25 = #attn.union<[#m24, #attn.global<first = 25>]>
#m26 = #attn.union<[#m25, #attn.global<first = 26>]>
#m27 = #attn.union<[#m26, #attn.global<first = 27>]>
#m28 = #attn.union<[#m27, #attn.global<first = 28>]>
#m29 = #attn.union<[#m28, #attn.global<first = 29>]>
#m30 = #attn.union<[#m29, #attn.global<first = 30>]>
#m31 = #attn.union<[#m30, #attn.global<first = 31>]>
#m32 = #attn.union<[#m31, #attn.global<first = 32>]>
#m33 = #attn.union<[#m32, #attn.global<first = 33>]>
#m34 = #attn.union<[#m33, #attn.global<first = 34>]>
#m35 = #attn.union<[#m34, #attn.global<first = 35>]>
#m36 = #attn.union<[#m35, #attn.global<first = 36>]>
#m37 = #attn.union<[#m36, #attn.global<first = 37>]>
#m38 = #attn.union<[#m37, #attn.global<first = 38>]>
#m39 = #attn.union<[#m38, #attn.global<first = 39>]>
#m40 = #attn.union<[#m39, #attn.global<first = 40>]>
#m41 = #attn.union<[#m40, #attn.global<first = 41>]>
#m42 = #attn.union<[#m41, #attn.global<first = 42>]>
#m43 = #attn.union<[#m42, #attn.global<first = 43>]>
#m44 = #attn.union<[#m43, #attn.global<first = 44>]>
#m45 = #attn.union<[#m44, #attn.global<first = 45>]>
#m46 = #attn.union<[#m45, #attn.global<first = 46>]>
#m47 = #attn.union<[#m46, #attn.global<first = 47>]>
#m48 = #attn.union<[#m47, #attn.global<first = 48>]>
#m49 = #attn.union<[#m48, #attn.global<first = 49>]>
#m50 = #attn.union<[#m49, #attn.global<first = 50>]>
#m51 = #attn.union<[#m50, #attn.global<first = 51>]>
#m52 = #attn.union<[#m51, #attn.global<first = 52>]>
#m53 = #attn.union<[#m52, #attn.global<first = 53>]>
#m54 = #attn.union<[#m53, #attn.global<first = 54>]>
#m55 = #attn.union<[#m54, #attn.global<first = 55>]>
#m56 = #attn.union<[#m55, #attn.global<first = 56>]>
#m57 = #attn.union<[#m56, #attn.global<first = 57>]>
#m58 = #attn.union<[#m57, #attn.global<first = 58>]>
#m59 = #attn.union<[#m58, #attn.global<first = 59>]>
#m60 = #attn.union<[#m59, #attn.global<first = 60>]>
#m61 = #attn.union<[#m60, #attn.global<first = 61>]>
#m62 = #attn.union<[#m61, #attn.global<first = 62>]>
#m63 = #attn.union<[#m62, #attn.global<first = 63>]>
#m64 = #attn.union<[#m63, #attn.global<first = 64>]>
// expected-error @+1 {{#attn.union nests deeper than 64 levels of unions, intersections, complements or chains}}
#m65 = #attn.union<[#m64, #attn.global<first = 65>]>
func.func @mask_nesting_aliases(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  %o = attn.attention %q, %k, %v {mask = #m65} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Chains of chains likewise.
func.func @chain_nesting_65(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{#attn.chain nests deeper than 64 levels}}
  %o = attn.attention %q, %k, %v {score_mod = #attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.chain<[#attn.softcap<30.0>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>]>} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// tile_update regions obey the same rules.
func.func @tile_update_region_alloc(%q: memref<1x1x16x16xf32>, %k: memref<1x1x16x16xf32>, %v: memref<1x1x16x16xf32>,
                                    %m: memref<16xf32>, %l: memref<16xf32>, %acc: memref<16x16xf32>,
                                    %i: index) {
  // expected-error @+1 {{'attn.tile_update' op mask_mod region may not contain 'memref.alloca'}}
  attn.tile_update %q, %k, %v at(%i, %i, %i, %i, %i) state(%m, %l, %acc)
      {scale = 1.0 : f32, tile_q = 16, tile_kv = 16, mask = #attn.custom} mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %kj: index):
    // expected-note @+1 {{regions admit arith and math ops}}
    %a = memref.alloca() : memref<i1>
    %x = memref.load %a[] : memref<i1>
    attn.yield %x : i1
  }
      : memref<1x1x16x16xf32>, memref<1x1x16x16xf32>, memref<1x1x16x16xf32>,
        memref<16xf32>, memref<16xf32>, memref<16x16xf32>
  return
}

// -----

func.func @tile_update_scale_overflows(%q: memref<1x1x16x16xf32>, %k: memref<1x1x16x16xf32>, %v: memref<1x1x16x16xf32>,
                                       %m: memref<16xf32>, %l: memref<16xf32>, %acc: memref<16x16xf32>,
                                       %i: index) {
  // expected-error @+1 {{'attn.tile_update' op scale 3.000000e+38 times log2(e) is not a positive finite f32}}
  attn.tile_update %q, %k, %v at(%i, %i, %i, %i, %i) state(%m, %l, %acc)
      {scale = 3.0e38 : f32, tile_q = 16, tile_kv = 16}
      : memref<1x1x16x16xf32>, memref<1x1x16x16xf32>, memref<1x1x16x16xf32>,
        memref<16xf32>, memref<16xf32>, memref<16x16xf32>
  return
}

// -----

// attn.merge: partials [parts, B, H, S, Dv] and [parts, B, H, S].
func.func @merge_rank(%po: tensor<2x1x4x16xf32>, %pl: tensor<2x1x4x16xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @+1 {{'attn.merge' op partial output must be a 5-D [parts, B, H, S, Dv] tensor of f32, f16 or bf16, got 'tensor<2x1x4x16xf32>'}}
  %o = attn.merge %po, %pl : tensor<2x1x4x16xf32>, tensor<2x1x4x16xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// -----

func.func @merge_lse_type(%po: tensor<2x1x4x16x8xf32>, %pl: tensor<2x1x4x16xf16>) -> tensor<1x4x16x8xf32> {
  // expected-error @+1 {{'attn.merge' op partial logsumexp must be a 4-D [parts, B, H, S] f32 tensor, got 'tensor<2x1x4x16xf16>'}}
  %o = attn.merge %po, %pl : tensor<2x1x4x16x8xf32>, tensor<2x1x4x16xf16> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// -----

func.func @merge_parts(%po: tensor<2x1x4x16x8xf32>, %pl: tensor<3x1x4x16xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @+1 {{'attn.merge' op partial output 'tensor<2x1x4x16x8xf32>' and partial logsumexp 'tensor<3x1x4x16xf32>' disagree in dimension 0}}
  %o = attn.merge %po, %pl : tensor<2x1x4x16x8xf32>, tensor<3x1x4x16xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// -----

func.func @merge_output(%po: tensor<2x1x4x16x8xf32>, %pl: tensor<2x1x4x16xf32>) -> tensor<1x4x32x8xf16> {
  // expected-error @+1 {{'attn.merge' op output 'tensor<1x4x32x8xf16>' does not match the partial output 'tensor<2x1x4x16x8xf32>' in dimension 2}}
  %o = attn.merge %po, %pl : tensor<2x1x4x16x8xf32>, tensor<2x1x4x16xf32> -> tensor<1x4x32x8xf16>
  return %o : tensor<1x4x32x8xf16>
}

// -----

func.func @merge_output_type(%po: tensor<2x1x4x16x8xf32>, %pl: tensor<2x1x4x16xf32>) -> tensor<1x4x16x8xi32> {
  // expected-error @+1 {{'attn.merge' op output must be a 4-D [B, H, S, Dv] tensor of f32, f16 or bf16, got 'tensor<1x4x16x8xi32>'}}
  %o = attn.merge %po, %pl : tensor<2x1x4x16x8xf32>, tensor<2x1x4x16xf32> -> tensor<1x4x16x8xi32>
  return %o : tensor<1x4x16x8xi32>
}

// -----

func.func @merge_head_dim(%po: tensor<2x1x4x16x?xf32>, %pl: tensor<2x1x4x16xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @+1 {{'attn.merge' op partial output 'tensor<2x1x4x16x?xf32>' must have a static head dim}}
  %o = attn.merge %po, %pl : tensor<2x1x4x16x?xf32>, tensor<2x1x4x16xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// -----

func.func @merge_lse(%po: tensor<2x1x4x16x8xf32>, %pl: tensor<2x1x4x16xf32>) -> (tensor<1x4x16x8xf32>, tensor<1x4x8xf32>) {
  // expected-error @+1 {{'attn.merge' op logsumexp 'tensor<1x4x8xf32>' does not match the output 'tensor<1x4x16x8xf32>' in dimension 2}}
  %o, %l = attn.merge %po, %pl : tensor<2x1x4x16x8xf32>, tensor<2x1x4x16xf32> -> tensor<1x4x16x8xf32>, tensor<1x4x8xf32>
  return %o, %l : tensor<1x4x16x8xf32>, tensor<1x4x8xf32>
}

// -----

// A run-time block layout needs its block size, and the size needs a layout.
func.func @block_sparse_without_size(%q: tensor<1x2x64x8xf32>, %n: tensor<1x2x2xi32>, %x: tensor<1x2x2x2xi32>) {
  // expected-error @+1 {{'attn.attention' op block_sparse needs sparse_block = array<i64: Bq, Bkv>, the layout's block size}}
  %o = attn.attention %q, %q, %q block_sparse(%n, %x : tensor<1x2x2xi32>, tensor<1x2x2x2xi32>) : tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32> -> tensor<1x2x64x8xf32>
  return
}

// -----

func.func @sparse_block_without_layout(%q: tensor<1x2x64x8xf32>) {
  // expected-error @+1 {{'attn.attention' op sparse_block is given without a block_sparse layout}}
  %o = attn.attention %q, %q, %q {sparse_block = array<i64: 32, 32>} : tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32> -> tensor<1x2x64x8xf32>
  return
}

// -----

func.func @sparse_block_not_positive(%q: tensor<1x2x64x8xf32>, %n: tensor<1x2x2xi32>, %x: tensor<1x2x2x2xi32>) {
  // expected-error @+1 {{'attn.attention' op sparse_block must be two positive sizes [Bq, Bkv] below 2^31}}
  %o = attn.attention %q, %q, %q block_sparse(%n, %x : tensor<1x2x2xi32>, tensor<1x2x2x2xi32>) {sparse_block = array<i64: 32, 0>} : tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32> -> tensor<1x2x64x8xf32>
  return
}

// -----

func.func @block_sparse_i64(%q: tensor<1x2x64x8xf32>, %n: tensor<1x2x2xi64>, %x: tensor<1x2x2x2xi32>) {
  // expected-error @+1 {{'attn.attention' op block_sparse counts and indices must be i32, got 'i64'}}
  %o = attn.attention %q, %q, %q block_sparse(%n, %x : tensor<1x2x2xi64>, tensor<1x2x2x2xi32>) {sparse_block = array<i64: 32, 32>} : tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32> -> tensor<1x2x64x8xf32>
  return
}

// -----

// 64 queries in blocks of 32 are 2 query blocks, not 3.
func.func @block_sparse_rows(%q: tensor<1x2x64x8xf32>, %n: tensor<1x2x3xi32>, %x: tensor<1x2x3x2xi32>) {
  // expected-error @+1 {{'attn.attention' op block_sparse has counts [1, 2, 3] and indices [1, 2, 3, 2] but [1, 2, 2] and [.., .., .., W >= 1] are expected (Qb = ceil(Sq / 32); B and Hq may be 1 to broadcast)}}
  %o = attn.attention %q, %q, %q block_sparse(%n, %x : tensor<1x2x3xi32>, tensor<1x2x3x2xi32>) {sparse_block = array<i64: 32, 32>} : tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32> -> tensor<1x2x64x8xf32>
  return
}

// -----

func.func @block_sparse_rank(%q: tensor<1x2x64x8xf32>, %n: tensor<1x2x2xi32>, %x: tensor<2x2x2xi32>) {
  // expected-error @+1 {{'attn.attention' op block_sparse needs counts [B, Hq, Qb] and indices [B, Hq, Qb, W], got ranks 3 and 3}}
  %o = attn.attention %q, %q, %q block_sparse(%n, %x : tensor<1x2x2xi32>, tensor<2x2x2xi32>) {sparse_block = array<i64: 32, 32>} : tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32> -> tensor<1x2x64x8xf32>
  return
}

// -----

func.func @full_blocks_shape(%q: tensor<1x2x64x8xf32>, %n: tensor<1x2x2xi32>, %x: tensor<1x2x2x2xi32>, %fx: tensor<1x3x2x2xi32>) {
  // expected-error @+1 {{'attn.attention' op full_blocks has counts [1, 2, 2] and indices [1, 3, 2, 2] but [1, 2, 2] and [.., .., .., W >= 1] are expected}}
  %o = attn.attention %q, %q, %q block_sparse(%n, %x : tensor<1x2x2xi32>, tensor<1x2x2x2xi32>) full_blocks(%n, %fx : tensor<1x2x2xi32>, tensor<1x3x2x2xi32>) {sparse_block = array<i64: 32, 32>} : tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32> -> tensor<1x2x64x8xf32>
  return
}

// -----

// Counts without their indices (the generic form can state it).
func.func @block_sparse_half_pair(%q: tensor<1x2x64x8xf32>, %n: tensor<1x2x2xi32>) {
  // expected-error @+1 {{'attn.attention' op a block layout needs both its counts and its indices (block_sparse, full_blocks)}}
  %o = "attn.attention"(%q, %q, %q, %n) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0>, sparse_block = array<i64: 32, 32>}> ({}, {}) : (tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x2xi32>) -> tensor<1x2x64x8xf32>
  return
}

// -----

func.func @block_sparse_zero_width(%q: tensor<1x2x64x8xf32>, %n: tensor<1x2x2xi32>, %x: tensor<1x2x2x0xi32>) {
  // expected-error @+1 {{'attn.attention' op block_sparse counts and indices must not have a zero-sized dim}}
  %o = attn.attention %q, %q, %q block_sparse(%n, %x : tensor<1x2x2xi32>, tensor<1x2x2x0xi32>) {sparse_block = array<i64: 32, 32>} : tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32> -> tensor<1x2x64x8xf32>
  return
}

// -----

func.func @paged_key_rank(%q: tensor<1x2x1x8xf32>, %k: tensor<4x16x8xf32>, %t: tensor<1x2xi32>, %n: tensor<1xi32>) {
  // expected-error @+1 {{'attn.attention' op key must be rank 4 [num_pages, page_size, Hkv, Dqk], got rank 3}}
  %o = attn.attention %q, %k, %k paged(%t, %n : tensor<1x2xi32>, tensor<1xi32>) : tensor<1x2x1x8xf32>, tensor<4x16x8xf32>, tensor<4x16x8xf32> -> tensor<1x2x1x8xf32>
  return
}

// -----

func.func @paged_table_type(%q: tensor<1x2x1x8xf32>, %k: tensor<4x16x1x8xf32>, %t: tensor<1x2xi64>, %n: tensor<1xi32>) {
  // expected-error @+1 {{'attn.attention' op page table must be a [B, max_pages] i32 tensor, got 'tensor<1x2xi64>'}}
  %o = attn.attention %q, %k, %k paged(%t, %n : tensor<1x2xi64>, tensor<1xi32>) : tensor<1x2x1x8xf32>, tensor<4x16x1x8xf32>, tensor<4x16x1x8xf32> -> tensor<1x2x1x8xf32>
  return
}

// -----

func.func @paged_dynamic_pages(%q: tensor<1x2x1x8xf32>, %k: tensor<?x16x1x8xf32>, %t: tensor<1x2xi32>, %n: tensor<1xi32>) {
  // expected-error @+1 {{'attn.attention' op paged key 'tensor<?x16x1x8xf32>' must have a static shape without zero-sized dims}}
  %o = attn.attention %q, %k, %k paged(%t, %n : tensor<1x2xi32>, tensor<1xi32>) : tensor<1x2x1x8xf32>, tensor<?x16x1x8xf32>, tensor<?x16x1x8xf32> -> tensor<1x2x1x8xf32>
  return
}

// -----

func.func @paged_value_pages(%q: tensor<1x2x1x8xf32>, %k: tensor<4x16x1x8xf32>, %v: tensor<4x8x1x8xf32>, %t: tensor<1x2xi32>, %n: tensor<1xi32>) {
  // expected-error @+1 {{'attn.attention' op paged key 'tensor<4x16x1x8xf32>' and value 'tensor<4x8x1x8xf32>' must have the same pages, page size and heads}}
  %o = attn.attention %q, %k, %v paged(%t, %n : tensor<1x2xi32>, tensor<1xi32>) : tensor<1x2x1x8xf32>, tensor<4x16x1x8xf32>, tensor<4x8x1x8xf32> -> tensor<1x2x1x8xf32>
  return
}

// -----

func.func @paged_dynamic_table(%q: tensor<1x2x1x8xf32>, %k: tensor<4x16x1x8xf32>, %t: tensor<1x?xi32>, %n: tensor<1xi32>) {
  // expected-error @+1 {{'attn.attention' op page table 'tensor<1x?xi32>' must have a static, non-zero page count}}
  %o = attn.attention %q, %k, %k paged(%t, %n : tensor<1x?xi32>, tensor<1xi32>) : tensor<1x2x1x8xf32>, tensor<4x16x1x8xf32>, tensor<4x16x1x8xf32> -> tensor<1x2x1x8xf32>
  return
}

// -----

func.func @paged_table_batch(%q: tensor<2x2x1x8xf32>, %k: tensor<4x16x1x8xf32>, %t: tensor<3x2xi32>, %n: tensor<2xi32>) {
  // expected-error @+1 {{'attn.attention' op batch size mismatch: query [2, 2, 1, 8], key [3, 1, 32, 8], value [3, 1, 32, 8]}}
  %o = attn.attention %q, %k, %k paged(%t, %n : tensor<3x2xi32>, tensor<2xi32>) : tensor<2x2x1x8xf32>, tensor<4x16x1x8xf32>, tensor<4x16x1x8xf32> -> tensor<2x2x1x8xf32>
  return
}

// -----

func.func @paged_lengths(%q: tensor<2x2x1x8xf32>, %k: tensor<4x16x1x8xf32>, %t: tensor<2x2xi32>, %n: tensor<3xi32>) {
  // expected-error @+1 {{'attn.attention' op kv lengths 'tensor<3xi32>' do not match the batch [2]}}
  %o = attn.attention %q, %k, %k paged(%t, %n : tensor<2x2xi32>, tensor<3xi32>) : tensor<2x2x1x8xf32>, tensor<4x16x1x8xf32>, tensor<4x16x1x8xf32> -> tensor<2x2x1x8xf32>
  return
}

// -----

func.func @paged_with_bias(%q: tensor<1x2x1x8xf32>, %k: tensor<4x16x1x8xf32>, %t: tensor<1x2xi32>, %n: tensor<1xi32>, %b: tensor<1x2x1x32xf32>) {
  // expected-error @+1 {{'attn.attention' op a paged KV cache does not combine with bias, segments or a block layout yet}}
  %o = attn.attention %q, %k, %k bias(%b : tensor<1x2x1x32xf32>) paged(%t, %n : tensor<1x2xi32>, tensor<1xi32>) : tensor<1x2x1x8xf32>, tensor<4x16x1x8xf32>, tensor<4x16x1x8xf32> -> tensor<1x2x1x8xf32>
  return
}


// -----

func.func @paged_bad_layout(%q: tensor<1x2x1x8xf32>, %k: tensor<4x1x16x8xf32>, %t: tensor<1x2xi32>, %n: tensor<1xi32>) {
  // expected-error @+1 {{'attn.attention' op kv_layout must be "nhd" ([num_pages, page_size, Hkv, D]) or "hnd" ([num_pages, Hkv, page_size, D]), got "hdn"}}
  %o = attn.attention %q, %k, %k paged(%t, %n : tensor<1x2xi32>, tensor<1xi32>) {kv_layout = "hdn"} : tensor<1x2x1x8xf32>, tensor<4x1x16x8xf32>, tensor<4x1x16x8xf32> -> tensor<1x2x1x8xf32>
  return
}

// -----

func.func @layout_without_pages(%q: tensor<1x2x16x8xf32>) {
  // expected-error @+1 {{'attn.attention' op kv_layout is given without a paged cache}}
  %o = attn.attention %q, %q, %q {kv_layout = "hnd"} : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return
}

// -----

func.func @heads_major_heads(%q: tensor<1x4x1x8xf32>, %k: tensor<4x3x16x8xf32>, %t: tensor<1x2xi32>, %n: tensor<1xi32>) {
  // expected-error @+1 {{'attn.attention' op query heads (4) must be a multiple of key/value heads (3) for grouped-query attention}}
  %o = attn.attention %q, %k, %k paged(%t, %n : tensor<1x2xi32>, tensor<1xi32>) {kv_layout = "hnd"} : tensor<1x4x1x8xf32>, tensor<4x3x16x8xf32>, tensor<4x3x16x8xf32> -> tensor<1x4x1x8xf32>
  return
}

// -----

func.func @varlen_query_rank(%q: tensor<1x10x2x8xf32>, %k: tensor<12x1x8xf32>, %c: tensor<3xi32>) {
  // expected-error @+1 {{'attn.attention' op query must be rank 3 [Tq, Hq, Dqk] (varlen), got rank 4}}
  %o = attn.attention %q, %k, %k varlen(%c, %c : tensor<3xi32>, tensor<3xi32>) : tensor<1x10x2x8xf32>, tensor<12x1x8xf32>, tensor<12x1x8xf32> -> tensor<1x10x2x8xf32>
  return
}

// -----

func.func @varlen_offsets_type(%q: tensor<10x2x8xf32>, %k: tensor<12x1x8xf32>, %c: tensor<3xi64>) {
  // expected-error @+1 {{'attn.attention' op varlen query offsets must be a [B + 1] i32 tensor (B >= 0), got 'tensor<3xi64>'}}
  %o = attn.attention %q, %k, %k varlen(%c, %c : tensor<3xi64>, tensor<3xi64>) : tensor<10x2x8xf32>, tensor<12x1x8xf32>, tensor<12x1x8xf32> -> tensor<10x2x8xf32>
  return
}

// -----

func.func @varlen_offsets_empty(%q: tensor<10x2x8xf32>, %k: tensor<12x1x8xf32>, %c: tensor<0xi32>) {
  // expected-error @+1 {{'attn.attention' op varlen query offsets must be a [B + 1] i32 tensor (B >= 0), got 'tensor<0xi32>'}}
  %o = attn.attention %q, %k, %k varlen(%c, %c : tensor<0xi32>, tensor<0xi32>) : tensor<10x2x8xf32>, tensor<12x1x8xf32>, tensor<12x1x8xf32> -> tensor<10x2x8xf32>
  return
}

// -----

func.func @varlen_offsets_lengths(%q: tensor<10x2x8xf32>, %k: tensor<12x1x8xf32>, %cq: tensor<3xi32>, %ck: tensor<4xi32>) {
  // expected-error @+1 {{'attn.attention' op varlen query offsets 'tensor<3xi32>' and key offsets 'tensor<4xi32>' must have one length, B + 1}}
  %o = attn.attention %q, %k, %k varlen(%cq, %ck : tensor<3xi32>, tensor<4xi32>) : tensor<10x2x8xf32>, tensor<12x1x8xf32>, tensor<12x1x8xf32> -> tensor<10x2x8xf32>
  return
}

// -----

func.func @varlen_value_tokens(%q: tensor<10x2x8xf32>, %k: tensor<12x1x8xf32>, %v: tensor<11x1x8xf32>, %c: tensor<3xi32>) {
  // expected-error @+1 {{'attn.attention' op varlen key 'tensor<12x1x8xf32>' and value 'tensor<11x1x8xf32>' must have the same tokens}}
  %o = attn.attention %q, %k, %v varlen(%c, %c : tensor<3xi32>, tensor<3xi32>) : tensor<10x2x8xf32>, tensor<12x1x8xf32>, tensor<11x1x8xf32> -> tensor<10x2x8xf32>
  return
}

// -----

func.func @varlen_output(%q: tensor<10x2x8xf32>, %k: tensor<12x1x8xf32>, %c: tensor<3xi32>) {
  // expected-error @+1 {{'attn.attention' op output has shape [12, 2, 8] but [10, 2, 8] is expected}}
  %o = attn.attention %q, %k, %k varlen(%c, %c : tensor<3xi32>, tensor<3xi32>) : tensor<10x2x8xf32>, tensor<12x1x8xf32>, tensor<12x1x8xf32> -> tensor<12x2x8xf32>
  return
}

// -----

func.func @varlen_lse(%q: tensor<10x2x8xf32>, %k: tensor<12x1x8xf32>, %c: tensor<3xi32>) {
  // expected-error @+1 {{'attn.attention' op logsumexp must have rank 2, got rank 3}}
  %o, %l = attn.attention %q, %k, %k varlen(%c, %c : tensor<3xi32>, tensor<3xi32>) : tensor<10x2x8xf32>, tensor<12x1x8xf32>, tensor<12x1x8xf32> -> tensor<10x2x8xf32>, tensor<1x2x10xf32>
  return
}

// -----

func.func @varlen_with_segments(%q: tensor<10x2x8xf32>, %k: tensor<12x1x8xf32>, %c: tensor<3xi32>, %s: tensor<2x10xi32>, %t: tensor<2x12xi32>) {
  // expected-error @+1 {{'attn.attention' op varlen does not combine with bias, segments, a block layout or paged yet}}
  %o = attn.attention %q, %k, %k segments(%s, %t : tensor<2x10xi32>, tensor<2x12xi32>) varlen(%c, %c : tensor<3xi32>, tensor<3xi32>) {mask = #attn.document} : tensor<10x2x8xf32>, tensor<12x1x8xf32>, tensor<12x1x8xf32> -> tensor<10x2x8xf32>
  return
}

// -----

func.func @varlen_gqa(%q: tensor<10x3x8xf32>, %k: tensor<12x2x8xf32>, %c: tensor<3xi32>) {
  // expected-error @+1 {{'attn.attention' op query heads (3) must be a multiple of key/value heads (2) for grouped-query attention}}
  %o = attn.attention %q, %k, %k varlen(%c, %c : tensor<3xi32>, tensor<3xi32>) : tensor<10x3x8xf32>, tensor<12x2x8xf32>, tensor<12x2x8xf32> -> tensor<10x3x8xf32>
  return
}

// -----

// Packed sequences' tile updates need all three of tokens(...): the
// expansion reads each (the generic form could state one alone).
func.func @tile_update_partial_tokens(%q: memref<?x2x16xf32>, %k: memref<?x2x16xf32>, %v: memref<?x2x16xf32>, %i: index, %m: memref<8xf32>, %a: memref<8x16xf32>) {
  // expected-error @+1 {{'attn.tile_update' op tokens need a query start, a query length and a key start}}
  "attn.tile_update"(%q, %k, %v, %i, %i, %i, %i, %i, %i, %i, %m, %m, %a) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1>, scale = 1.0 : f32, tile_q = 8 : i64, tile_kv = 8 : i64}> ({}, {}) : (memref<?x2x16xf32>, memref<?x2x16xf32>, memref<?x2x16xf32>, index, index, index, index, index, index, index, memref<8xf32>, memref<8xf32>, memref<8x16xf32>) -> ()
  return
}

// -----

func.func @tile_update_key_start_alone(%q: memref<1x2x8x16xf32>, %k: memref<1x2x8x16xf32>, %i: index, %m: memref<8xf32>, %a: memref<8x16xf32>) {
  // expected-error @+1 {{'attn.tile_update' op tokens need a query start, a query length and a key start}}
  "attn.tile_update"(%q, %k, %k, %i, %i, %i, %i, %i, %i, %i, %m, %m, %a) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 1, 1, 1>, scale = 1.0 : f32, tile_q = 8 : i64, tile_kv = 8 : i64}> ({}, {}) : (memref<1x2x8x16xf32>, memref<1x2x8x16xf32>, memref<1x2x8x16xf32>, index, index, index, index, index, index, index, memref<8xf32>, memref<8xf32>, memref<8x16xf32>) -> ()
  return
}

// -----

func.func @tile_update_packed_tokens(%q: memref<9x2x16xf32>, %k: memref<12x2x16xf32>, %v: memref<11x2x16xf32>, %i: index, %m: memref<8xf32>, %a: memref<8x16xf32>) {
  // expected-error @+1 {{'attn.tile_update' op packed key and value need the same tokens}}
  attn.tile_update %q, %k, %v at(%i, %i, %i, %i, %i) kv_length(%i) tokens(%i, %i, %i) state(%m, %m, %a)
      {scale = 1.0 : f32, tile_q = 8, tile_kv = 8}
      : memref<9x2x16xf32>, memref<12x2x16xf32>, memref<11x2x16xf32>, memref<8xf32>, memref<8xf32>, memref<8x16xf32>
  return
}

// -----

// Packed query heads: a tile of q_heads heads, each with all its Sq
// queries.
func.func @tile_update_q_heads(%q: memref<1x8x2x16xf32>, %k: memref<1x2x64x16xf32>, %i: index, %m: memref<8xf32>, %a: memref<8x16xf32>) {
  // expected-error @+1 {{'attn.tile_update' op q_heads = 3 needs a positive count, a static query length and tile_q = q_heads * Sq, without tokens}}
  attn.tile_update %q, %k, %k at(%i, %i, %i, %i, %i) state(%m, %m, %a)
      {scale = 1.0 : f32, tile_q = 8, tile_kv = 8, q_heads = 3}
      : memref<1x8x2x16xf32>, memref<1x2x64x16xf32>, memref<1x2x64x16xf32>, memref<8xf32>, memref<8xf32>, memref<8x16xf32>
  return
}
