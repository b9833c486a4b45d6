// Packed sequences: several documents share one 512-token row; each token
// attends causally within its own document only (the ids are run-time
// operands). f16, 4 heads, head dim 64.
func.func @document_packing(%q: tensor<2x4x512x64xf16>,
                            %k: tensor<2x4x512x64xf16>,
                            %v: tensor<2x4x512x64xf16>,
                            %q_ids: tensor<2x512xi32>,
                            %kv_ids: tensor<2x512xi32>)
    -> tensor<2x4x512x64xf16> {
  %o = attn.attention %q, %k, %v
      segments(%q_ids, %kv_ids : tensor<2x512xi32>, tensor<2x512xi32>)
      {mask = #attn.intersection<[#attn.causal, #attn.document]>}
      : tensor<2x4x512x64xf16>, tensor<2x4x512x64xf16>, tensor<2x4x512x64xf16>
      -> tensor<2x4x512x64xf16>
  return %o : tensor<2x4x512x64xf16>
}
