//===- AttnOps.td - attn dialect operations ----------------*- tablegen -*-===//
//
// attn.attention and attn.linear_attention state one attention each; the
// transforms under lib/Dialect/Attn/Transforms lower them.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_OPS_TD
#define ATTN_OPS_TD

include "attn/Dialect/Attn/IR/AttnAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"

def Attn_MaskAttr : Attr<
    CPred<"::llvm::isa<::mlir::attn::MaskAttrInterface>($_self)">,
    "mask attribute"> {
  let storageType = "::mlir::attn::MaskAttrInterface";
  let returnType = "::mlir::attn::MaskAttrInterface";
  let convertFromStorage = "$_self";
}

def Attn_ScoreModAttr : Attr<
    CPred<"::llvm::isa<::mlir::attn::ScoreModAttrInterface>($_self)">,
    "score modification attribute"> {
  let storageType = "::mlir::attn::ScoreModAttrInterface";
  let returnType = "::mlir::attn::ScoreModAttrInterface";
  let convertFromStorage = "$_self";
}

def Attn_AttentionOp : Attn_Op<"attention", [
    AttrSizedOperandSegments, IsolatedFromAbove, RecursiveMemoryEffects]> {
  let summary = "Scaled dot-product attention with masks and score mods";
  let description = [{
    Computes, for every batch `b`, query head `h` and query `i`:

    ```
    s[j]  = score_mod(scale * Q[b,h,i,:] . K[b,g(h),j,:] + bias[b,h,i,j])
    O[b,h,i,:] = sum_j softmax(s)[j] * V[b,g(h),j,:]    over kept j
    lse[b,h,i] = log(sum_j exp(s[j]))                    over kept j
    ```

    Shapes: Q `[B, Hq, Sq, Dqk]`, K `[B, Hkv, Skv, Dqk]`, V
    `[B, Hkv, Skv, Dv]`, O `[B, Hq, Sq, Dv]`, optional logsumexp
    `[B, Hq, Sq]` (f32). `Hq` must be a multiple of `Hkv`: query head `h`
    reads key/value head `g(h) = h / (Hq / Hkv)` (GQA; MQA when `Hkv = 1`).
    `B`, `Sq` and `Skv` may be dynamic; head counts and head dims are
    static. Element types: f32, f16 or bf16, the same for Q, K, V and O.

    Attributes: `scale` (default `1/sqrt(Dqk)`; positive, and small enough
    that `scale * log2(e)`, the factor the kernels multiply by, is a finite
    f32), `mask` (a mask attribute, default none), `score_mod` (a
    score-modification attribute).

    Sizes: static dims are below 2^31, and every tensor's element count and
    byte size fit in int64.

    Optional operands, in this order:
    - `bias(%t : tensor<BxHqxSqxSkv>)`: an additive bias; `B` and `Hq` may
      be 1 to broadcast.
    - `segments(%q_ids, %kv_ids : tensor<BxSqxi32>, tensor<BxSkvxi32>)`:
      document ids for `#attn.document`.
    - `captures(%a, ... : types)`: tensors the regions may read; they are
      appended to each region's arguments. At most rank 8 (what the back
      ends marshal), no zero-sized dim; elements signless integers (i1 to
      i64) or f16, bf16, f32, f64.
    - `block_sparse(%kv_num_blocks, %kv_indices : tensor<BxHxQbxi32>,
      tensor<BxHxQbxWxi32>)` with `sparse_block = array<i64: Bq, Bkv>`: a
      block layout given at run time, FlexAttention's BlockMask
      (`kv_num_blocks`, `kv_indices`). Query block `r = i / Bq` of (b, h)
      visits the key blocks `kv_indices[b, h, r, 0 : kv_num_blocks[b, h,
      r]]`; every other key block is dropped. `Qb = ceil(Sq / Bq)`, no dim
      is 0; `B`
      and `H` (= Hq) may be 1 to broadcast; `W` is any width (counts are
      clamped to it, and to 0 from below). Listed blocks keep what the
      `mask` (and `mask_mod`) keeps; without a mask they are kept whole.
      An index outside `[0, ceil(Skv / Bkv))` is skipped; an index listed
      twice counts twice (as in FlexAttention, indices are distinct).
    - `full_blocks(%full_kv_num_blocks, %full_kv_indices : ...)`, with
      `block_sparse`: further key blocks, of the same shapes, that are
      kept whole without evaluating the mask (FlexAttention's
      `full_kv_num_blocks` / `full_kv_indices`).
    - `paged(%page_table, %kv_lengths : tensor<BxMxi32>, tensor<Bxi32>)`:
      a paged KV cache (vLLM's and FlashInfer's layout). K is then
      `[num_pages, page_size, Hkv, Dqk]` and V `[num_pages, page_size,
      Hkv, Dv]`, both static; key `j` of sequence `b` is row
      `j % page_size` of page `page_table[b, j / page_size]`, and
      sequence `b` has `kv_lengths[b]` keys. `Skv` above is `M *
      page_size`, the most keys a sequence may have; masks see each
      sequence's own length (bottom-right alignment ends at
      `kv_lengths[b]`). Bad contents are safe: a length is clamped into
      `[0, M * page_size]` and a page index into `[0, num_pages)`, so
      no read leaves a tensor. Not combined with `bias`, `segments` or
      a block layout. With `kv_layout = "hnd"` (FlashInfer's HND) the
      pages are `[num_pages, Hkv, page_size, D]`, so that one head's keys
      of a page are contiguous; `"nhd"` is the default.
    - `varlen(%cu_seqlens_q, %cu_seqlens_k : tensor<(B+1)xi32>,
      tensor<(B+1)xi32>)`: a packed batch of sequences of different
      lengths (FlashAttention's varlen form). Q is then `[Tq, Hq, Dqk]`,
      K `[Tk, Hkv, Dqk]`, V `[Tk, Hkv, Dv]`, O `[Tq, Hq, Dv]` and the
      logsumexp `[Tq, Hq]`; sequence `b` is the query rows
      `[cu_seqlens_q[b], cu_seqlens_q[b + 1])` and the key rows
      `[cu_seqlens_k[b], cu_seqlens_k[b + 1])`, so `B` is the offsets'
      length minus one. `Sq` and `Skv` above are each sequence's own
      lengths: masks and regions see sequence-local positions and
      lengths (bottom-right alignment ends at the sequence's last key),
      `b` is the sequence. Sequences may be empty. Bad offsets are safe:
      each is clamped into `[0, T]` and each end to at least its start,
      so no read leaves a tensor (offsets that decrease make sequences
      overlap; the JIT refuses them). Output rows of no sequence are not
      written. Not combined with `bias`, `segments`, a block layout or
      `paged`.

    Optional regions:
    - `mask_mod`: `(b, h, i, j : index, captures...) -> i1`, referred to by
      `#attn.custom` (the default mask when the region is present).
    - `score_mod`: `(s : f32, b, h, i, j : index, captures...) -> f32`,
      applied after the `score_mod` attribute.

    Regions compute a pure function of their arguments: every element may
    be evaluated any number of times, in any order, or not at all (a tile
    classified at compile time is never evaluated). A region admits only
    - `arith` and `math` ops on scalars (signless i1 to i64, `index`, f16,
      bf16, f32, f64),
    - `scf.if`, and `scf.for` with a constant positive step (so it ends;
      `scf.while`, which may not, is rejected), with `scf.yield`,
    - `tensor.extract` from a captured tensor (a region argument),
    - the terminator `attn.yield`.
    Anything else (memory, calls, other tensor ops, `index` dialect ops:
    write them with `arith` on `index`) is rejected by the verifier.

    Region arithmetic is total; where MLIR leaves a result undefined, attn
    defines it, and the compile-time interpreter of `mask_mod` (tile
    classification) and the host and GPU lowerings of both regions follow
    it:
    - `x / 0 = 0` for `divsi`, `divui`, `floordivsi`, `ceildivsi`,
      `ceildivui`; `x % 0 = x` for `remsi`, `remui` (so that
      `x == (x / y) * y + x % y` for every y);
    - signed overflow wraps: `INT_MIN / -1 = INT_MIN`, `INT_MIN % -1 = 0`;
    - shifts by the bit width or more: `shli`, `shrui` give 0, `shrsi`
      gives the sign (0 or -1).
    An index of `tensor.extract` outside the captured tensor is clamped
    into it on the host (`attn-clamp-captured-reads`); the emulator reports
    such a read on the GPU path.

    Scores: a score that the bias or a score modification makes NaN drops
    its element, as if the mask did; +inf is clamped to the largest finite
    f32 (in the kernels' base-2 units, after `log2(e)`) and -inf drops the
    element. So O and lse stay finite, and a row
    whose scores are all NaN is fully masked.

    A fully masked query row yields O = 0 and lse = -inf.

    Example:

    ```mlir
    %o, %lse = attn.attention %q, %k, %v
        {mask = #attn.union<[#attn.window<left = 256, right = 0>,
                             #attn.global<first = 4>]>,
         score_mod = #attn.softcap<30.0>}
        : tensor<2x32x4096x128xbf16>, tensor<2x8x4096x128xbf16>,
          tensor<2x8x4096x128xbf16>
        -> tensor<2x32x4096x128xbf16>, tensor<2x32x4096xf32>
    ```
  }];

  let arguments = (ins
    AnyRankedTensor:$query,
    AnyRankedTensor:$key,
    AnyRankedTensor:$value,
    Optional<AnyRankedTensor>:$bias,
    Optional<AnyRankedTensor>:$q_segment_ids,
    Optional<AnyRankedTensor>:$kv_segment_ids,
    Variadic<AnyRankedTensor>:$captures,
    Optional<AnyRankedTensor>:$kv_num_blocks,
    Optional<AnyRankedTensor>:$kv_indices,
    Optional<AnyRankedTensor>:$full_kv_num_blocks,
    Optional<AnyRankedTensor>:$full_kv_indices,
    Optional<AnyRankedTensor>:$page_table,
    Optional<AnyRankedTensor>:$kv_lengths,
    Optional<AnyRankedTensor>:$cu_seqlens_q,
    Optional<AnyRankedTensor>:$cu_seqlens_k,
    OptionalAttr<F32Attr>:$scale,
    OptionalAttr<Attn_MaskAttr>:$mask,
    OptionalAttr<Attn_ScoreModAttr>:$score_mod,
    OptionalAttr<DenseI64ArrayAttr>:$sparse_block,
    OptionalAttr<StrAttr>:$kv_layout
  );
  let results = (outs AnyRankedTensor:$output,
                      Optional<AnyRankedTensor>:$logsumexp);
  let regions = (region MaxSizedRegion<1>:$mask_mod,
                        MaxSizedRegion<1>:$score_mod_region);

  let assemblyFormat = [{
    $query `,` $key `,` $value
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`segments` `(` $q_segment_ids^ `,` $kv_segment_ids `:`
        type($q_segment_ids) `,` type($kv_segment_ids) `)`)?
    (`captures` `(` $captures^ `:` type($captures) `)`)?
    (`block_sparse` `(` $kv_num_blocks^ `,` $kv_indices `:`
        type($kv_num_blocks) `,` type($kv_indices) `)`)?
    (`full_blocks` `(` $full_kv_num_blocks^ `,` $full_kv_indices `:`
        type($full_kv_num_blocks) `,` type($full_kv_indices) `)`)?
    (`paged` `(` $page_table^ `,` $kv_lengths `:`
        type($page_table) `,` type($kv_lengths) `)`)?
    (`varlen` `(` $cu_seqlens_q^ `,` $cu_seqlens_k `:`
        type($cu_seqlens_q) `,` type($cu_seqlens_k) `)`)?
    attr-dict
    (`mask_mod` $mask_mod^)?
    (`score_mod` $score_mod_region^)?
    `:` type($query) `,` type($key) `,` type($value)
    `->` type($output) (`,` type($logsumexp)^)?
  }];

  let hasVerifier = 1;
  let hasCanonicalizer = 1;

  let extraClassDeclaration = [{
    /// Static and dynamic sizes of this attention.
    ::mlir::attn::AttentionShape getShape();
    /// The scale applied to Q.K: the `scale` attribute or 1/sqrt(Dqk).
    double getEffectiveScale();
    /// The mask attribute, or #attn.custom when only a mask_mod region is
    /// given, or #attn.none.
    ::mlir::attn::MaskAttrInterface getEffectiveMask();
    /// Builds the mask-algebra object for the effective mask. A mask_mod
    /// region that only does index arithmetic is interpreted, so its tiles
    /// classify exactly; otherwise its tiles are partial.
    ::mlir::attn::mask::MaskRef buildMask();
    /// Whether a run-time block layout (block_sparse) is given.
    bool hasBlockLayout() { return static_cast<bool>(getKvNumBlocks()); }
    /// Whether K and V are a paged cache (paged).
    bool isPaged() { return static_cast<bool>(getPageTable()); }
    /// Whether a paged cache's pages are [num_pages, Hkv, page_size, D]
    /// (kv_layout = "hnd").
    bool hasHeadsMajorPages() { return getKvLayout() == "hnd"; }
    /// Whether Q, K and V are packed sequences of different lengths
    /// (varlen): [T, H, D] with cumulative offsets.
    bool isVarlen() { return static_cast<bool>(getCuSeqlensQ()); }
  }];
}

def Attn_LinearAttentionOp : Attn_Op<"linear_attention", [Pure]> {
  let summary = "Kernelised linear attention";
  let description = [{
    Computes `O[i] = sum_j phi(Q[i]) . phi(K[j]) V[j]` over kept `j`
    (`j <= i` when `causal`), divided by `sum_j phi(Q[i]) . phi(K[j]) + eps`
    when `normalize` is set. `phi` is the `feature_map`. Shapes and GQA
    grouping are as for `attn.attention`. Lowered in chunked form (quadratic
    within a chunk, a running state across chunks), never through the full
    Sq x Skv matrix.

    ```mlir
    %o = attn.linear_attention %q, %k, %v
        {feature_map = #attn.feature_map<elu_plus_one>, causal, normalize}
        : tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32>,
          tensor<1x8x1024x64xf32> -> tensor<1x8x1024x64xf32>
    ```
  }];

  let arguments = (ins
    AnyRankedTensor:$query,
    AnyRankedTensor:$key,
    AnyRankedTensor:$value,
    DefaultValuedAttr<Attn_FeatureMapAttr,
                      "::mlir::attn::FeatureMap::EluPlusOne">:$feature_map,
    UnitAttr:$causal,
    UnitAttr:$normalize,
    DefaultValuedAttr<F32Attr, "1.0e-6">:$epsilon
  );
  let results = (outs AnyRankedTensor:$output);

  let assemblyFormat = [{
    $query `,` $key `,` $value attr-dict
    `:` type($query) `,` type($key) `,` type($value) `->` type($output)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::attn::AttentionShape getShape();
  }];
}


def Attn_MergeOp : Attn_Op<"merge", [Pure]> {
  let summary = "Merges partial attentions of the same queries";
  let description = [{
    The attentions of the same queries over `N` disjoint parts of the keys,
    each given as its normalized output `O_s` and logsumexp `lse_s` (what
    `attn.attention` returns with a `logsumexp` result), merged exactly
    into the attention over all the keys:

        lse = log(sum_s exp(lse_s))
        O   = sum_s exp(lse_s - lse) * O_s

    computed against `max_s lse_s` so that nothing overflows. A part that
    kept no key (`lse_s = -inf`) has weight 0; a row where every part is
    `-inf` gets O = 0 and lse = -inf, never NaN. It is the building block
    of cascade attention (a shared prefix and per-request suffixes,
    FlashInfer's `merge_state`) and of ring or context-parallel attention.

    `partial_output` is `[N, B, H, S, Dv]` and `partial_logsumexp`
    `[N, B, H, S]` f32; the results are the output `[B, H, S, Dv]` and,
    when asked for, its logsumexp `[B, H, S]` f32. Outputs and partial
    outputs are f32, f16 or bf16, the arithmetic f32. attn-tile lowers it
    to a grid over (b, h, row tile) of `attn.tile_merge`.

    ```mlir
    %o, %lse = attn.merge %parts, %part_lse
        : tensor<2x1x8x128x64xf32>, tensor<2x1x8x128xf32>
          -> tensor<1x8x128x64xf16>, tensor<1x8x128xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$partial_output,
                       AnyRankedTensor:$partial_logsumexp);
  let results = (outs AnyRankedTensor:$output,
                      Optional<AnyRankedTensor>:$logsumexp);
  let assemblyFormat = [{
    $partial_output `,` $partial_logsumexp attr-dict
    `:` type($partial_output) `,` type($partial_logsumexp)
    `->` type($output) (`,` type($logsumexp)^)?
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Tiled attention: what attn-tile produces and the back ends expand. The
// ops are in destination-passing style: attn-tile emits them on tensors
// (the running state carried by the kv loop, the output rows of a query
// tile inserted into the grid's shared outputs), one-shot bufferization
// turns them into the same ops on memrefs (BufferizableOpInterface,
// BufferizableOpInterfaceImpl.cpp), and the host and GPU lowerings expand
// the memref form.
//===----------------------------------------------------------------------===//

def Attn_TiledOperand : AnyTypeOf<[AnyRankedTensor, AnyMemRef],
                                  "ranked tensor or memref">;
def Attn_RowState : AnyTypeOf<[TensorRankOf<[F32], [1]>,
                               MemRefRankOf<[F32], [1]>],
                              "1-D f32 tensor or memref">;
def Attn_AccState : AnyTypeOf<[TensorRankOf<[F32], [2]>,
                               MemRefRankOf<[F32], [2]>],
                              "2-D f32 tensor or memref">;

class Attn_TileOp<string mnemonic, list<Trait> traits = []>
    : Attn_Op<mnemonic, !listconcat(traits, [
        DestinationStyleOpInterface])> {
  code tileOpClassDeclaration = [{
    /// True for the memref form (after bufferization), false for the
    /// tensor form that attn-tile emits.
    bool hasBufferSemantics() {
      return ::mlir::cast<::mlir::DestinationStyleOpInterface>(
          getOperation()).hasPureBufferSemantics();
    }
  }];
}

def Attn_TileInitOp : Attn_TileOp<"tile_init"> {
  let summary = "Initialises the online-softmax state of one query tile";
  let description = [{
    Sets the running row maximum to the lowest finite f32 (not -inf, so that
    a fully masked tile never computes `exp2(-inf - -inf)`), the running row
    sum to 0 and the output accumulator to 0. The state operands are its
    destinations (not read); on tensors the op returns the initialised
    state.

    ```mlir
    %m, %l, %acc = attn.tile_init state(%m0, %l0, %acc0)
        : tensor<64xf32>, tensor<64xf32>, tensor<64x128xf32>
        -> tensor<64xf32>, tensor<64xf32>, tensor<64x128xf32>
    attn.tile_init state(%m, %l, %acc) : memref<64xf32>, memref<64xf32>, memref<64x128xf32>
    ```
  }];
  let arguments = (ins Attn_RowState:$row_max, Attn_RowState:$row_sum,
                       Attn_AccState:$acc);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    `state` `(` $row_max `,` $row_sum `,` $acc `)` attr-dict
    `:` type($row_max) `,` type($row_sum) `,` type($acc)
    (`->` type($results)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = tileOpClassDeclaration # [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return ::mlir::MutableOperandRange(getOperation(), 0, 3);
    }
  }];
}

def Attn_TileUpdateOp : Attn_TileOp<"tile_update", [AttrSizedOperandSegments]> {
  let summary = "Folds one (q tile, kv tile) block into the online softmax";
  let description = [{
    For the rows `[q_begin, q_begin + tile_q)` of query head `q_head` and the
    keys `[kv_begin, kv_begin + tile_kv)` of key/value head `kv_head` (both
    clipped to the sequence lengths), computes the scores
    `s = scale * Q.K^T (+ bias)`, applies the score modifications, drops
    the elements the `mask` does not keep; then updates the running state:
    `m' = max(m, rowmax(s))`, `l' = l * exp(m - m') + rowsum(exp(s - m'))`,
    `acc' = acc * exp(m - m') + exp(s - m') V`. The state operands are its
    destinations (read and written); on tensors the op returns the updated
    state, which the kv loop carries.

    There is one `tile_update` per visited kv tile. It carries the
    attention's mask (absent only when the attention has none) and, as the
    optional `full` flag, whether the mask keeps every element of this
    tile: when `full` is true at run time no element is tested, and a
    constant `true` states that every visited tile is full. Without `full`
    every element of a masked tile is tested. A back end chooses how to
    serve the two cases (the host expands both under one `scf.if`; the
    GPU kernel branches only around the scoring).

    `kv_length`, when given, is the number of keys of this batch's
    sequence, in place of the key's dim 2: keys at or past it are
    dropped, and masks see it as the key length (clamped into `[0, the
    keys stored]`: K's dim 2, or the page table's pages times the page
    size). `pages(%page_table)`
    reads K and V from a paged cache `[num_pages, page_size, Hkv, D]`:
    key `j` is row `j % page_size` of page `page_table[batch, j /
    page_size]` (clamped into `[0, num_pages)`); it needs `kv_length`.
    `kv_layout = "hnd"` states pages `[num_pages, Hkv, page_size, D]`.
    `tokens(%q_start, %q_length, %kv_start)` reads packed sequences
    (attn.attention's varlen): Q is `[Tq, Hq, Dqk]` and K, V `[Tk, Hkv,
    D]`; query `i` of the tile's sequence is row `q_start + i`, key `j`
    row `kv_start + j`; the sequence has `q_length` queries (clamped into
    `[0, Tq - q_start]`) and `kv_length` keys (needed; clamped into `[0,
    Tk - kv_start]`). The starts are in `[0, T]`.
    `q_heads = g` packs query heads into the tile (grouped-query decode):
    row `r` is query `r % Sq` of query head `q_head + r / Sq`, the tile
    holds all `Sq` queries (static) of `g` heads (`tile_q = g * Sq`,
    `q_begin = 0`), and all of them read kv head `kv_head`.
    `tile_q` and `tile_kv`
    are the tile sizes attn-tile chose; the back ends read them from here.
    `attn-online-softmax` expands it on the host, `attn-tile-to-gpu` on the
    GPU.

    ```mlir
    %m1, %l1, %acc1 = attn.tile_update %Q, %K, %V
        at(%b, %h, %kvh, %q0, %k0) full(%isFull) state(%m, %l, %acc)
        {scale = 0.125 : f32, tile_q = 64, tile_kv = 64, mask = #attn.causal}
        : tensor<1x8x512x64xf16>, tensor<1x2x512x64xf16>,
          tensor<1x2x512x64xf16>, tensor<64xf32>, tensor<64xf32>,
          tensor<64x64xf32> -> tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>
    ```
  }];
  let arguments = (ins
    Attn_TiledOperand:$query, Attn_TiledOperand:$key,
    Attn_TiledOperand:$value,
    Optional<Attn_TiledOperand>:$bias,
    Optional<Attn_TiledOperand>:$q_segment_ids,
    Optional<Attn_TiledOperand>:$kv_segment_ids,
    Optional<Attn_TiledOperand>:$page_table,
    Index:$batch, Index:$q_head, Index:$kv_head,
    Index:$q_begin, Index:$kv_begin,
    Optional<Index>:$kv_length,
    Optional<Index>:$q_start, Optional<Index>:$q_length,
    Optional<Index>:$kv_start,
    Optional<I1>:$full,
    Attn_RowState:$row_max,
    Attn_RowState:$row_sum,
    Attn_AccState:$acc,
    F32Attr:$scale,
    I64Attr:$tile_q,
    I64Attr:$tile_kv,
    OptionalAttr<Attn_MaskAttr>:$mask,
    OptionalAttr<Attn_ScoreModAttr>:$score_mod,
    OptionalAttr<StrAttr>:$kv_layout,
    OptionalAttr<I64Attr>:$q_heads
  );
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region MaxSizedRegion<1>:$mask_mod,
                        MaxSizedRegion<1>:$score_mod_region);
  let assemblyFormat = [{
    $query `,` $key `,` $value
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`segments` `(` $q_segment_ids^ `,` $kv_segment_ids `:`
        type($q_segment_ids) `,` type($kv_segment_ids) `)`)?
    (`pages` `(` $page_table^ `:` type($page_table) `)`)?
    `at` `(` $batch `,` $q_head `,` $kv_head `,` $q_begin `,` $kv_begin `)`
    (`kv_length` `(` $kv_length^ `)`)?
    (`tokens` `(` $q_start^ `,` $q_length `,` $kv_start `)`)?
    (`full` `(` $full^ `)`)?
    `state` `(` $row_max `,` $row_sum `,` $acc `)`
    attr-dict
    (`mask_mod` $mask_mod^)?
    (`score_mod` $score_mod_region^)?
    `:` type($query) `,` type($key) `,` type($value) `,` type($row_max) `,`
        type($row_sum) `,` type($acc)
    (`->` type($results)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = tileOpClassDeclaration # [{
    /// Whether the flag states that every visited tile is full (a constant
    /// true `full`): the mask is never tested.
    bool isAlwaysFull();
    /// Whether some element of a visited tile may be tested against the
    /// mask: a mask and no constant-true `full`.
    bool mayBeMasked() { return getMaskAttr() && !isAlwaysFull(); }
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return getStateMutable();
    }
    /// The running state (row_max, row_sum, acc): the op's destinations.
    ::mlir::MutableOperandRange getStateMutable();
  }];
}

def Attn_TileFinalizeOp : Attn_TileOp<"tile_finalize"> {
  let summary = "Writes one query tile's output rows and logsumexp";
  let description = [{
    `O[r, :] = acc[r, :] / l[r]` and `lse[r] = m[r] * ln 2 + log(l[r])`
    (the state is in base 2) for the rows `r` of `output`: the query
    tile's rows inside the sequence (at most `tile_q`), as attn-tile
    slices them from the attention's output `[B, Hq, Sq, Dv]` and
    logsumexp `[B, Hq, Sq]`. A row that kept no element (`l = 0`) gets
    O = 0 and lse = -inf, never NaN. `output` and `logsumexp` are its
    destinations (not read); on tensors the op returns them written.

    ```mlir
    %o, %lse = attn.tile_finalize state(%m, %l, %acc) into %Orows, %LSErows
        : tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>,
          tensor<?x64xf16>, tensor<?xf32> -> tensor<?x64xf16>, tensor<?xf32>
    ```
  }];
  let arguments = (ins
    Attn_RowState:$row_max,
    Attn_RowState:$row_sum,
    Attn_AccState:$acc,
    Attn_TiledOperand:$output,
    Optional<Attn_TiledOperand>:$logsumexp
  );
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    `state` `(` $row_max `,` $row_sum `,` $acc `)` `into` $output
    (`,` $logsumexp^)? attr-dict
    `:` type($row_max) `,` type($row_sum) `,` type($acc) `,` type($output)
    (`,` type($logsumexp)^)?
    (`->` type($results)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = tileOpClassDeclaration # [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return ::mlir::MutableOperandRange(getOperation(), 3,
                                         getNumOperands() - 3);
    }
  }];
}

def Attn_TileMergeOp : Attn_TileOp<"tile_merge"> {
  let summary = "Merges the partial outputs of one query tile's kv splits";
  let description = [{
    Split-KV (flash-decoding): when attn-tile splits a query tile's kv
    range into `N` parts, each part is finalized on its own into a
    normalized partial output `O_s` and its logsumexp `lse_s`; this op
    merges them exactly by the logsumexp rule for the rows `r` of
    `output`:

        lse[r] = log(sum_s exp(lse_s[r]))
        O[r, :] = sum_s exp(lse_s[r] - lse[r]) * O_s[r, :]

    computed against `m = max_s lse_s[r]` so that no exponent overflows.
    A part that kept nothing (`lse_s = -inf`) has weight 0; a row where
    every part is `-inf` gets O = 0 and lse = -inf, never NaN.
    `partial_output` is `[N, rows, Dv]` (f32 from attn-tile's splits; f16
    or bf16 from `attn.merge`, widened as read) and `partial_logsumexp`
    `[N, rows]` f32, both only read; `output` and `logsumexp` are its
    destinations (not read); on tensors the op returns them written.

    ```mlir
    %o, %lse = attn.tile_merge %Oparts, %LSEparts into %Orows, %LSErows
        : tensor<4x?x128xf32>, tensor<4x?xf32>, tensor<?x128xf16>,
          tensor<?xf32> -> tensor<?x128xf16>, tensor<?xf32>
    ```
  }];
  let arguments = (ins
    Attn_TiledOperand:$partial_output,
    Attn_TiledOperand:$partial_logsumexp,
    Attn_TiledOperand:$output,
    Optional<Attn_TiledOperand>:$logsumexp
  );
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    $partial_output `,` $partial_logsumexp `into` $output
    (`,` $logsumexp^)? attr-dict
    `:` type($partial_output) `,` type($partial_logsumexp) `,` type($output)
    (`,` type($logsumexp)^)?
    (`->` type($results)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = tileOpClassDeclaration # [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return ::mlir::MutableOperandRange(getOperation(), 2,
                                         getNumOperands() - 2);
    }
  }];
}

def Attn_YieldOp : Attn_Op<"yield", [
    Pure, Terminator, ReturnLike, ParentOneOf<["AttentionOp", "TileUpdateOp"]>]> {
  let summary = "Returns the value of a mask_mod or score_mod region";
  let description = [{
    ```mlir
    attn.yield %keep : i1
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
}

#endif // ATTN_OPS_TD
