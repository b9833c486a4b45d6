// RUN: attn-ptx %s --print-ptx | FileCheck %s --check-prefix=SM80
// RUN: attn-ptx %s --print-ptx --chip=sm_90 | FileCheck %s --check-prefix=SM90
// RUN: attn-ptx %s -o %t && FileCheck %s --check-prefix=JSON < %t.json
// RUN: FileCheck %s --check-prefix=SM80 < %t.ptx
// RUN: not attn-ptx %s --chip=sm_75 -o %t 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: env -i attn-ptx %s --print-ptx | FileCheck %s --check-prefix=LAUNCH

// The sliding-window GQA attention of the examples to PTX: tensor cores
// (mma.sync m16n8k16, bf16), ldmatrix (transposed for V), cp.async staging
// and the approximate exp2 of the online softmax, for sm_80 and sm_90.
// SM80:      .target sm_80
// SM80-LABEL: .visible .entry attention_kernel(
// SM80-DAG:  cp.async.cg.shared.global
// SM80-DAG:  ldmatrix.sync.aligned.m8n8.x4.shared.b16
// SM80-DAG:  mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// SM80-DAG:  ex2.approx.ftz.f32
// SM80-DAG:  ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// SM90:      .target sm_90

// Launch rules and fast math (also under env -i): the dynamic shared memory
// is CUDA's extern array, so the kernel has no static shared memory and
// 48 KiB of it need no opt-in; softcap is a multiply by 1/cap and
// tanh.approx, with no IEEE division and no libdevice call.
// LAUNCH:     .extern .shared .align 16 .b8 __dynamic_shmem__0[];
// LAUNCH-NOT: .extern .func
// LAUNCH-NOT: div.rn
// LAUNCH:     tanh.approx.f32
// LAUNCH-NOT: .extern .func
// LAUNCH-NOT: div.rn

// The launch contract next to the PTX: the #attn.launch_contract itself,
// and derived from it the host signature by role, the grid at the compiled
// sizes [batch, heads, seq_q, seq_kv] beside its map, and the parameters
// as host positions.
// JSON:      "arguments": [
// JSON:          "role": "query",
// JSON:          "role": "key",
// JSON:          "role": "value",
// JSON:      "chip": "sm_80"
// JSON:      "contract": "#attn.launch_contract<arguments = [#attn.param<query>, #attn.param<key>, #attn.param<value>], results = [#attn.param<output>], tiles = [128, 32], kernels = [#attn.kernel<name = \"attention_kernel\", grid = ()[s0, s1, s2, s3] -> (s2 ceildiv 128, s1, s0), block = [128, 1, 1], sharedBytes = 24576,
// JSON:      "kernels": [
// JSON:          "block": [
// JSON-NEXT:       128,
// JSON:          "dynamic_shared_bytes": 24576,
// JSON:          "grid": [
// JSON-NEXT:       2,
// JSON-NEXT:       8,
// JSON-NEXT:       1
// JSON:          "grid_map": "affine_map<()[s0, s1, s2, s3] -> (s2 ceildiv 128, s1, s0)>",
// JSON:          "name": "attention_kernel",
// JSON:          "params": [
// JSON-NEXT:       "arg0",
// JSON-NEXT:       "arg1",
// JSON-NEXT:       "arg2",
// JSON-NEXT:       "result0"
// JSON:      "results": [
// JSON:          "dtype": "bf16",
// JSON:          "role": "output",

// CHIP: attn-ptx: unsupported --chip 'sm_75'; expected sm_80 or sm_90
func.func @attention(%q: tensor<1x8x256x64xbf16>, %k: tensor<1x2x256x64xbf16>,
                     %v: tensor<1x2x256x64xbf16>) -> tensor<1x8x256x64xbf16> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.intersection<[#attn.causal,
                #attn.union<[#attn.window<left = 128, right = 0>,
                             #attn.global<first = 4>]>]>,
       score_mod = #attn.softcap<30.0>}
      : tensor<1x8x256x64xbf16>, tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16>
      -> tensor<1x8x256x64xbf16>
  return %o : tensor<1x8x256x64xbf16>
}
