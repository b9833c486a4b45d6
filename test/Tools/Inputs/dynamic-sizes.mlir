// Batch and lengths stated at run time: attn-run takes them from --batch,
// --seq-q and --seq-kv (test/Tools/attn-run-dynamic.test).
func.func @dynamic(%q: tensor<?x4x?x64xf32>, %k: tensor<?x2x?x64xf32>,
                   %v: tensor<?x2x?x64xf32>, %qids: tensor<?x?xi32>,
                   %kvids: tensor<?x?xi32>)
    -> (tensor<?x4x?x64xf32>, tensor<?x4x?xf32>) {
  %o, %lse = attn.attention %q, %k, %v
      segments(%qids, %kvids : tensor<?x?xi32>, tensor<?x?xi32>)
      {mask = #attn.intersection<[#attn.causal<bottom_right>, #attn.document]>}
      : tensor<?x4x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32>
      -> tensor<?x4x?x64xf32>, tensor<?x4x?xf32>
  return %o, %lse : tensor<?x4x?x64xf32>, tensor<?x4x?xf32>
}
