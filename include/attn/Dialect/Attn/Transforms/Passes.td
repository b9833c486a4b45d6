//===- Passes.td - attn dialect passes ---------------------*- tablegen -*-===//
//
// Passes over the attn dialect. Lowering passes (tiling, online softmax,
// host and GPU conversion) join this file as they are built.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TRANSFORMS_PASSES_TD
#define ATTN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnPrintTileMap : Pass<"attn-print-tile-map"> {
  let summary = "Print the tile map (empty/full/partial) of every attention";
  let description = [{
    For every `attn.attention` with static sequence lengths, prints the
    class of each (q tile, kv tile) of its score matrix as a picture, one
    row per q tile: `#` full (no per-element mask needed), `+` partial
    (masked element by element), `.` empty (skipped), followed by the
    fraction of tiles computed and of elements kept. It is the equivalent
    of printing a FlexAttention BlockMask. The IR is left unchanged.

    Example: `attn-opt in.mlir --attn-print-tile-map="tile-q=64 tile-kv=64"
    -o /dev/null`.
  }];
  let options = [
    Option<"tileQ", "tile-q", "int64_t", /*default=*/"64",
           "Rows of the score matrix per tile (query positions)">,
    Option<"tileKV", "tile-kv", "int64_t", /*default=*/"64",
           "Columns of the score matrix per tile (key positions)">,
    Option<"batch", "batch", "int64_t", /*default=*/"0",
           "Batch index to print, for masks that depend on it">,
    Option<"head", "head", "int64_t", /*default=*/"0",
           "Query head to print, for masks that depend on it">,
  ];
}

def AttnTile : Pass<"attn-tile", "::mlir::ModuleOp"> {
  let summary = "Tile attn.attention into q-tile and kv-tile loops";
  let description = [{
    Rewrites every `attn.attention` into a parallel `scf.forall` over
    (batch, query head, query tile) and, inside it, a sequential `scf.for`
    over the kv tiles that the mask leaves non-empty for that query tile:
    loop bounds affine in the query tile for band masks (causal, sliding
    window and their intersections), a compile-time tile table for other
    static masks, every kv tile otherwise. Each visited kv tile is one
    `attn.tile_update` carrying the mask, its `full` flag (computed from
    the band, read from the tile table, or a constant) and the tile sizes
    as attributes; `attn.tile_init` and `attn.tile_finalize` bracket the
    loop. Query head `h` reads key/value head `h / (Hq / Hkv)` in place
    (GQA/MQA without copies). The result stays on tensors, in
    destination-passing style: the kv loop carries the running state, each
    query tile's `attn.tile_finalize` writes its rows of the output and
    logsumexp, inserted into the grid's shared outputs. `attn-bufferize`
    (one-shot bufferization; the tile ops implement
    BufferizableOpInterface) turns it into the memref form the back ends
    expand, writing a result that is materialized into a caller's buffer
    in place.

    With `kv-splits=N` (N > 1; flash-decoding's split-KV) the grid is over
    (batch, query head, query tile x split): split `s` visits the `s`-th
    of N equal runs of the query tile's kv loop and finalizes them into a
    partial output `[B, N, Hq, Sq, Dv]` and logsumexp `[B, N, Hq, Sq]`
    (f32); a second grid over (batch, query head, query tile) merges them
    by the logsumexp rule (`attn.tile_merge`) into the results. Decode,
    with few (batch, head, query tile) iterations and long kv loops, then
    keeps every thread busy.

    With `pack-gqa-heads` (decode: a static Sq of 1 to 4, query heads
    grouped over fewer kv heads, `Hq / Hkv * Sq` at most 4 or a multiple
    of 4, a kv loop the same for every head: a band, a paged cache, or a
    compile-time table of a mask that reads neither b nor h) the grid is
    over (batch, kv head): one tile holds the
    `Hq / Hkv` query heads of a group, each with all its Sq queries
    (`q_heads` on the tile updates), so K and V are read once per group
    instead of once per query head.

    `attn.linear_attention` is lowered here too, in chunked form: chunks of
    `tile-q` queries, a quadratic term inside each chunk (causal) and a
    running `Dk x Dv` state across chunks; no `Sq x Skv` matrix is formed.
    So is `attn.merge`: a grid over (batch, head, tile of `tile-q` rows)
    whose body merges its rows' parts with `attn.tile_merge`.
  }];
  let options = [
    Option<"tileQ", "tile-q", "int64_t", /*default=*/"64",
           "Query rows per tile">,
    Option<"tileKV", "tile-kv", "int64_t", /*default=*/"64",
           "Key/value rows per tile">,
    Option<"countVisits", "count-visits", "bool", /*default=*/"false",
           "Count the kv tiles visited in the public i64 global "
           "@attn_kv_tile_visits (for tests and attn-run)">,
    Option<"kvSplits", "kv-splits", "int64_t", /*default=*/"1",
           "Split each query tile's kv tiles into this many parts, merged "
           "by attn.tile_merge (split-KV decode; host only for now)">,
    Option<"packGqaHeads", "pack-gqa-heads", "bool", /*default=*/"false",
           "Decode of grouped heads: one tile holds a kv head's query "
           "heads (host only)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::gpu::GPUDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
  ];
}

def AttnOnlineSoftmax : Pass<"attn-online-softmax", "::mlir::ModuleOp"> {
  let summary = "Expand tile ops into the online (FlashAttention) softmax";
  let description = [{
    Expands `attn.tile_init`, `attn.tile_update` and `attn.tile_finalize`,
    on memrefs (after `attn-bufferize`; the tensor form is refused), into
    loops that keep a running row maximum `m` (initialised to the
    lowest finite f32), a running row sum `l` and an f32 accumulator.
    Scores are scaled by `scale * log2(e)` so that every exponential is an
    `exp2`; each kv tile rescales the state by `exp2(m_old - m_new)`. The
    final output is `acc / l` and the logsumexp `m ln 2 + log(l)`; a row
    with `l = 0` (fully masked) yields 0 and -inf. Mask predicates are
    evaluated only in tiles that carry a mask (partial tiles). A tile's
    scores are kept in a `tile-q x tile-kv` f32 heap buffer allocated at
    the start of the grid iteration (the host pipeline frees it with
    upstream's deallocation pipeline).

    With `vector-width` > 0 (the host pipeline's form) a tile update is
    vector code of that many f32 lanes instead: the query tile packed
    transposed once per q tile, `S = Q.K^T` and `acc += P.V` as
    register-blocked vector FMAs, the softmax on vectors of rows (see
    docs/design.md, "Host kernels"). `vector-width=0` keeps the scalar
    loops, a debugging form.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"8",
           "f32 lanes of the host tile kernels' vectors (16: AVX-512, "
           "8: AVX2); 0: scalar loops">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def AttnApproximateMath : Pass<"attn-approximate-math", "::mlir::ModuleOp"> {
  let summary = "exp2 and exp as upstream's polynomial approximation (host)";
  let description = [{
    Rewrites `math.exp2(x)` as `math.exp(x * ln 2)` (upstream's math
    expansion) and `math.exp` as upstream's polynomial approximation
    (Cephes' range reduction and degree-6 polynomial, f32, scalars and
    vectors alike), so that the host tile kernels' exponentials are vector
    code instead of one libm call per lane. The bound, measured over
    x in [-126, 0] against the f64 exp2 (unittests: HostMathTest), is
    stated in docs/design.md, "Host kernels"; exp2(-inf) is exactly 0 and
    results below 2^-126 flush to 0.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def AttnCyclicGridSchedule
    : Pass<"attn-cyclic-grid-schedule", "::mlir::ModuleOp"> {
  let summary = "Deal the host grid's q tiles to threads in turn";
  let description = [{
    Sets every `omp.wsloop` (the host grid after upstream's
    `convert-scf-to-openmp`) to `schedule(static, 1)`: iteration `g` runs
    on thread `g mod T`. The grid's last dimension is the q tile, whose
    cost grows along a causal mask and varies along bands and tables;
    handing out consecutive q tiles in turn gives every thread the same
    mix, where the default static schedule would give one thread the
    first (cheapest) half. Each q tile is computed by one thread with the
    same code whatever T is, so results do not depend on the thread count.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::omp::OpenMPDialect",
  ];
}

def AttnClampCapturedReads
    : Pass<"attn-clamp-captured-reads", "::mlir::ModuleOp"> {
  let summary = "Clamp reads of captured tensors into their bounds (host)";
  let description = [{
    Regions read the tensors an attention captures with `tensor.extract`
    at indices they compute, which may be out of bounds for a wrong index
    or a wrong table. On the host such a read would touch arbitrary
    memory; this pass clamps every index of every `tensor.extract` into
    `[0, size - 1]` of its dimension (two compares and selects per read),
    so that a bad index reads the nearest element instead. The GPU
    lowering does not clamp: the emulator reports the out-of-bounds read
    with the block, thread and address. Run by `attn-to-host` after
    tiling, before bufferization (it rewrites `tensor.extract`).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::tensor::TensorDialect",
  ];
}

#endif // ATTN_TRANSFORMS_PASSES_TD
