// RUN: attn-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{unknown parameter role 'queries'; expected query, key, value, bias, q_segment_ids, kv_segment_ids, capture, output, lse or temporary}}
module attributes {p = #attn.param<queries>} {}

// -----

// expected-error @+1 {{parameter key takes no index other than 0, got 2}}
module attributes {p = #attn.param<key 2>} {}

// -----

// expected-error @+1 {{a capture parameter needs its index}}
module attributes {p = #attn.param<capture>} {}

// -----

// expected-error @+1 {{a temporary needs a non-empty shape of positive sizes}}
module attributes {t = #attn.temporary<shape = [4, 0], elementType = i8>} {}

// -----

// expected-error @+1 {{a temporary of more than 2^40 bytes}}
module attributes {t = #attn.temporary<shape = [1048576, 1048576, 2], elementType = i8>} {}

// -----

// expected-error @+1 {{kernel 'k': the grid must map the 4 symbols [batch, heads, seq_q, seq_kv] to 3 block counts, got affine_map<()[s0] -> (s0, 1, 1)>}}
module attributes {k = #attn.kernel<name = "k", grid = ()[s0] -> (s0, 1, 1), block = [128, 1, 1], sharedBytes = 0, params = []>} {}

// -----

// expected-error @+1 {{kernel 'k': 2048 threads per block, more than 1024}}
module attributes {k = #attn.kernel<name = "k", grid = ()[s0, s1, s2, s3] -> (1, 1, 1), block = [1024, 2, 1], sharedBytes = 0, params = []>} {}

// -----

// expected-error @+1 {{kernel 'k': parameter query appears twice}}
module attributes {k = #attn.kernel<name = "k", grid = ()[s0, s1, s2, s3] -> (1, 1, 1), block = [128, 1, 1], sharedBytes = 0, params = [#attn.param<query>, #attn.param<query>]>} {}

// -----

// expected-error @+1 {{kernel 'k' takes temp0, which is neither a host buffer nor one of the 0 temporaries}}
module attributes {c = #attn.launch_contract<arguments = [#attn.param<query>], results = [#attn.param<output>], tiles = [64, 64], kernels = [#attn.kernel<name = "k", grid = ()[s0, s1, s2, s3] -> (1, 1, 1), block = [128, 1, 1], sharedBytes = 0, params = [#attn.param<query>, #attn.param<temporary 0>]>]>} {}

// -----

// expected-error @+1 {{kernel 'k' takes bias, which is neither a host buffer nor one of the 0 temporaries}}
module attributes {c = #attn.launch_contract<arguments = [#attn.param<query>], results = [#attn.param<output>], tiles = [64, 64], kernels = [#attn.kernel<name = "k", grid = ()[s0, s1, s2, s3] -> (1, 1, 1), block = [128, 1, 1], sharedBytes = 0, params = [#attn.param<bias>]>]>} {}

// -----

// expected-error @+1 {{query cannot be a host result}}
module attributes {c = #attn.launch_contract<arguments = [], results = [#attn.param<query>], tiles = [64, 64], kernels = [#attn.kernel<name = "k", grid = ()[s0, s1, s2, s3] -> (1, 1, 1), block = [128, 1, 1], sharedBytes = 0, params = []>]>} {}

// -----

// expected-error @+1 {{host buffer key appears twice}}
module attributes {c = #attn.launch_contract<arguments = [#attn.param<key>, #attn.param<key>], results = [], tiles = [64, 64], kernels = [#attn.kernel<name = "k", grid = ()[s0, s1, s2, s3] -> (1, 1, 1), block = [128, 1, 1], sharedBytes = 0, params = []>]>} {}

// -----

// expected-error @+1 {{a launch contract needs at least one kernel}}
module attributes {c = #attn.launch_contract<arguments = [], results = [], tiles = [64, 64], kernels = []>} {}

// -----

// expected-error @+1 {{kernel 'k' appears twice}}
module attributes {c = #attn.launch_contract<arguments = [], results = [], tiles = [64, 64], kernels = [#attn.kernel<name = "k", grid = ()[s0, s1, s2, s3] -> (1, 1, 1), block = [128, 1, 1], sharedBytes = 0, params = []>, #attn.kernel<name = "k", grid = ()[s0, s1, s2, s3] -> (1, 1, 1), block = [128, 1, 1], sharedBytes = 0, params = []>]>} {}

// -----

// expected-error @+1 {{tiles must be [tile_q, tile_kv], both positive}}
module attributes {c = #attn.launch_contract<arguments = [], results = [], tiles = [64, 0], kernels = [#attn.kernel<name = "k", grid = ()[s0, s1, s2, s3] -> (1, 1, 1), block = [128, 1, 1], sharedBytes = 0, params = []>]>} {}
