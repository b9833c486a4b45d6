// Packed sequences with run-time sizes: attn-run runs them at its default
// batch and token counts (--batch, --seq-q, --seq-kv) from one kernel; the
// GPU JIT takes static shapes only.
// OK-opt
// OK-run
// EXPECT-emulate: the GPU JIT needs static shapes
// EXPECT-ptx: the GPU path takes statically shaped tensors
func.func @attention(%q: tensor<?x2x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x2x16xf32>,
                     %cq: tensor<?xi32>, %ck: tensor<?xi32>) -> tensor<?x2x16xf32> {
  %o = attn.attention %q, %k, %v varlen(%cq, %ck : tensor<?xi32>, tensor<?xi32>) {mask = #attn.causal}
      : tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32> -> tensor<?x2x16xf32>
  return %o : tensor<?x2x16xf32>
}
