// RUN: attn-opt %s | attn-opt | FileCheck %s

// The launch contract round-trips: typed parameters (captures and
// temporaries numbered), grids as maps of [batch, heads, seq_q, seq_kv],
// temporaries with shape and element type.
// CHECK: module attributes {attn.launch_contract = #attn.launch_contract<arguments = [#attn.param<query>, #attn.param<key>, #attn.param<value>, #attn.param<capture 0>], results = [#attn.param<output>, #attn.param<lse>], tiles = [64, 64], kernels = [#attn.kernel<name = "table", grid = ()[s0, s1, s2, s3] -> ((s0 * s1) ceildiv 128, 1, 1), block = [128, 1, 1], sharedBytes = 0, params = [#attn.param<capture 0>, #attn.param<temporary 0>]>, #attn.kernel<name = "attention", grid = ()[s0, s1, s2, s3] -> (s2 ceildiv 64, s1, s0), block = [128, 1, 1], sharedBytes = 24576, params = [#attn.param<temporary 0>, #attn.param<query>, #attn.param<key>, #attn.param<value>, #attn.param<output>, #attn.param<lse>]>], temporaries = [#attn.temporary<shape = [1, 4, 2, 2], elementType = i8>]>}
module attributes {attn.launch_contract = #attn.launch_contract<
    arguments = [#attn.param<query>, #attn.param<key>, #attn.param<value>,
                 #attn.param<capture 0>],
    results = [#attn.param<output>, #attn.param<lse>], tiles = [64, 64],
    kernels = [
      #attn.kernel<name = "table",
                   grid = ()[s0, s1, s2, s3] -> ((s0 * s1) ceildiv 128, 1, 1),
                   block = [128, 1, 1], sharedBytes = 0,
                   params = [#attn.param<capture 0>, #attn.param<temporary 0>]>,
      #attn.kernel<name = "attention",
                   grid = ()[s0, s1, s2, s3] -> (s2 ceildiv 64, s1, s0),
                   block = [128, 1, 1], sharedBytes = 24576,
                   params = [#attn.param<temporary 0>, #attn.param<query>,
                             #attn.param<key>, #attn.param<value>,
                             #attn.param<output>, #attn.param<lse>]>],
    temporaries = [#attn.temporary<shape = [1, 4, 2, 2], elementType = i8>]>} {
}
