// A custom mask_mod region: each query sees the keys of its own 128-token
// chunk (chunked attention, as in Llama 4). Index arithmetic only, so it is
// evaluated on the tile grid at compile time. Rendered into docs/masks.md by
// scripts/gen-mask-guide.py.
func.func @custom(%q: tensor<1x4x512x64xf16>, %k: tensor<1x4x512x64xf16>,
                  %v: tensor<1x4x512x64xf16>) -> tensor<1x4x512x64xf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.intersection<[#attn.causal, #attn.custom]>}
      mask_mod {
      ^bb0(%b: index, %h: index, %i: index, %j: index):
        %c128 = arith.constant 128 : index
        %ci = arith.divui %i, %c128 : index
        %cj = arith.divui %j, %c128 : index
        %same = arith.cmpi eq, %ci, %cj : index
        attn.yield %same : i1
      }
      : tensor<1x4x512x64xf16>, tensor<1x4x512x64xf16>, tensor<1x4x512x64xf16>
      -> tensor<1x4x512x64xf16>
  return %o : tensor<1x4x512x64xf16>
}
