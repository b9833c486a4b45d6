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

    Attributes: `scale` (default `1/sqrt(Dqk)`), `mask` (a mask attribute,
    default none), `score_mod` (a score-modification attribute).

    Optional operands, in this order:
    - `bias(%t : tensor<BxHqxSqxSkv>)`: an additive bias; `B` and `Hq` may
      be 1 to broadcast.
    - `segments(%q_ids, %kv_ids : tensor<BxSqxi32>, tensor<BxSkvxi32>)`:
      document ids for `#attn.document`.
    - `captures(%a, ... : types)`: tensors the regions may read; they are
      appended to each region's arguments.

    Optional regions:
    - `mask_mod`: `(b, h, i, j : index, captures...) -> i1`, referred to by
      `#attn.custom` (the default mask when the region is present).
    - `score_mod`: `(s : f32, b, h, i, j : index, captures...) -> f32`,
      applied after the `score_mod` attribute.

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
    OptionalAttr<F32Attr>:$scale,
    OptionalAttr<Attn_MaskAttr>:$mask,
    OptionalAttr<Attn_ScoreModAttr>:$score_mod
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

def Attn_YieldOp : Attn_Op<"yield", [
    Pure, Terminator, ReturnLike, ParentOneOf<["AttentionOp"]>]> {
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
