//===- AttnAttrs.td - Mask and score-mod attributes --------*- tablegen -*-===//
//
// The mask patterns and score modifications a user composes on an
// attn.attention. Each mask attribute implements MaskAttrInterface and maps
// one-to-one onto a constructor of the mask algebra (include/attn/Mask).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_ATTRS_TD
#define ATTN_ATTRS_TD

include "attn/Dialect/Attn/IR/AttnBase.td"
include "attn/Dialect/Attn/IR/AttnInterfaces.td"

//===----------------------------------------------------------------------===//
// Enums and parameters
//===----------------------------------------------------------------------===//

def Attn_Alignment : I32EnumAttr<"Alignment",
    "how queries line up with keys when Sq != Skv", [
      I32EnumAttrCase<"TopLeft", 0, "top_left">,
      I32EnumAttrCase<"BottomRight", 1, "bottom_right">]> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
}

def Attn_AlignmentParam : EnumParameter<Attn_Alignment> {
  let defaultValue = "::mlir::attn::Alignment::TopLeft";
}

def Attn_FeatureMap : I32EnumAttr<"FeatureMap",
    "feature map phi of linear attention", [
      I32EnumAttrCase<"Identity", 0, "identity">,
      I32EnumAttrCase<"Relu", 1, "relu">,
      I32EnumAttrCase<"EluPlusOne", 2, "elu_plus_one">]> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
}

def Attn_FeatureMapAttr : EnumAttr<Attn_Dialect, Attn_FeatureMap, "feature_map"> {
  let assemblyFormat = "`<` $value `>`";
}

// A list of integers spelled `[1, 2, 3]`.
def Attn_Int64ListParam : OptionalArrayRefParameter<"int64_t", "integer list"> {
  let parser = "::mlir::attn::parseInt64List($_parser)";
  let printer = "::mlir::attn::printInt64List($_printer, $_self)";
}

// A list of floats spelled `[0.5, 0.25]`.
def Attn_F64ListParam : OptionalArrayRefParameter<"::llvm::APFloat", "float list"> {
  let parser = "::mlir::attn::parseF64List($_parser)";
  let printer = "::mlir::attn::printF64List($_printer, $_self)";
}

def Attn_F64Param : APFloatParameter<"a float"> {
  let parser = "::mlir::attn::parseF64($_parser)";
  let printer = "::mlir::attn::printF64($_printer, $_self)";
}

class Attn_MaskAttr<string name, string attrMnemonic>
    : Attn_Attr<name, attrMnemonic, [
        DeclareAttrInterfaceMethods<Attn_MaskAttrInterface,
                                    ["verifyForShape"]>]>;

class Attn_PlainMaskAttr<string name, string attrMnemonic>
    : Attn_Attr<name, attrMnemonic, [
        DeclareAttrInterfaceMethods<Attn_MaskAttrInterface>]>;

//===----------------------------------------------------------------------===//
// Masks
//===----------------------------------------------------------------------===//

def Attn_NoneMaskAttr : Attn_PlainMaskAttr<"NoneMask", "none"> {
  let summary = "No mask: bidirectional attention";
  let description = [{
    Every query attends to every key. The same as omitting `mask`.

    ```mlir
    mask = #attn.none
    ```
  }];
}

def Attn_CausalMaskAttr : Attn_PlainMaskAttr<"CausalMask", "causal"> {
  let summary = "Causal mask: a query sees itself and earlier keys";
  let description = [{
    Keeps `(i, j)` iff `j <= i + offset`. With the default `top_left`
    alignment `offset = 0`; with `bottom_right` (FlashAttention's convention
    for `Sq != Skv`, e.g. decode) `offset = Skv - Sq`, so the last query
    sees every key.

    ```mlir
    mask = #attn.causal
    mask = #attn.causal<bottom_right>
    ```
  }];
  let parameters = (ins Attn_AlignmentParam:$alignment);
  let assemblyFormat = "(`<` $alignment^ `>`)?";
}

def Attn_WindowMaskAttr : Attn_PlainMaskAttr<"WindowMask", "window"> {
  let summary = "Sliding window (local) attention";
  let description = [{
    Keeps `(i, j)` iff `-left <= j - (i + offset) <= right`, where the
    alignment offset is as for `#attn.causal`. `right = 0` is a causal
    sliding window (Mistral); `left = right` a symmetric local window.

    ```mlir
    mask = #attn.window<left = 256, right = 0>
    mask = #attn.window<left = 128, right = 128, alignment = bottom_right>
    ```
  }];
  let parameters = (ins "int64_t":$left, "int64_t":$right,
                        Attn_AlignmentParam:$alignment);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Attn_DilatedMaskAttr : Attn_PlainMaskAttr<"DilatedMask", "dilated"> {
  let summary = "Dilated sliding window (Longformer)";
  let description = [{
    With `d = j - (i + offset)`: keeps `(i, j)` iff `d` is a multiple of
    `dilation` and `|d| <= window * dilation`, i.e. `window` keys on each
    side, `dilation` apart.

    ```mlir
    mask = #attn.dilated<window = 8, dilation = 4>
    ```
  }];
  let parameters = (ins "int64_t":$window, "int64_t":$dilation,
                        Attn_AlignmentParam:$alignment);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Attn_GlobalMaskAttr : Attn_Attr<"GlobalMask", "global", [
    DeclareAttrInterfaceMethods<Attn_MaskAttrInterface, ["verifyForShape"]>]> {
  let summary = "Global tokens (Longformer, BigBird)";
  let description = [{
    A global token attends to every position and every position attends to
    it: keeps `(i, j)` iff `g(i) || g(j)`, where `g(x)` holds for the first
    `first` positions and for the listed `indices`. Usually combined with a
    window through `#attn.union`.

    ```mlir
    mask = #attn.global<first = 4>
    mask = #attn.global<first = 1, indices = [511, 1023]>
    ```
  }];
  let parameters = (ins DefaultValuedParameter<"int64_t", "0">:$first,
                        Attn_Int64ListParam:$indices);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Attn_RandomBlocksMaskAttr
    : Attn_PlainMaskAttr<"RandomBlocksMask", "random_blocks"> {
  let summary = "Random blocks with a seed (BigBird)";
  let description = [{
    Cuts the score matrix into `block x block` blocks; each row of blocks
    keeps `per_row` distinct block columns drawn by a deterministic
    generator from `(seed, row)`. The same seed always gives the same
    pattern, so tiles are classified at compile time. A row with no more
    than `per_row` blocks keeps them all; canonicalization then replaces
    the mask by `#attn.none` when the key length is static.

    ```mlir
    mask = #attn.random_blocks<block = 64, per_row = 3, seed = 42>
    ```
  }];
  let parameters = (ins "int64_t":$block, "int64_t":$per_row,
                        "int64_t":$seed);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Attn_BlockLayoutMaskAttr : Attn_Attr<"BlockLayoutMask", "block_layout", [
    DeclareAttrInterfaceMethods<Attn_MaskAttrInterface, ["verifyForShape"]>]> {
  let summary = "Explicit block-sparse layout";
  let description = [{
    A dense `i1` matrix over blocks of `block = [bq, bkv]` elements:
    `(i, j)` is kept iff `layout[i / bq][j / bkv]`. With static sequence
    lengths the layout must have `ceildiv(Sq, bq) x ceildiv(Skv, bkv)`
    entries.

    ```mlir
    mask = #attn.block_layout<block = [64, 64],
             layout = dense<[[true, false], [true, true]]> : tensor<2x2xi1>>
    ```
  }];
  let parameters = (ins "int64_t":$block_q, "int64_t":$block_kv,
                        "::mlir::DenseIntElementsAttr":$layout);
  let assemblyFormat = [{
    `<` `block` `=` `[` $block_q `,` $block_kv `]` `,` `layout` `=` $layout `>`
  }];
  let genVerifyDecl = 1;
}

def Attn_PrefixLMMaskAttr : Attn_PlainMaskAttr<"PrefixLMMask", "prefix_lm"> {
  let summary = "Prefix-LM: bidirectional prefix, causal rest";
  let description = [{
    Keeps `(i, j)` iff `j < prefix || j <= i`.

    ```mlir
    mask = #attn.prefix_lm<prefix = 128>
    ```
  }];
  let parameters = (ins "int64_t":$prefix);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Attn_DocumentMaskAttr : Attn_PlainMaskAttr<"DocumentMask", "document"> {
  let summary = "Document (segment id) masking for packed sequences";
  let description = [{
    Keeps `(b, h, i, j)` iff `q_segment_ids[b][i] == kv_segment_ids[b][j]`.
    The ids are run-time operands of the attention (`segments(...)`), so
    tiles are classified at run time from a block table.

    ```mlir
    mask = #attn.intersection<[#attn.causal, #attn.document]>
    ```
  }];
}

def Attn_CustomMaskAttr : Attn_PlainMaskAttr<"CustomMask", "custom"> {
  let summary = "The attention's mask_mod region";
  let description = [{
    Refers to the `mask_mod` region of the enclosing attention, so a custom
    predicate composes with the built-in patterns. An attention with a
    `mask_mod` region and no `mask` attribute uses `#attn.custom`.

    ```mlir
    mask = #attn.intersection<[#attn.causal, #attn.custom]>
    ```
  }];
}

// Combinators nest: their parsers count the nesting and stop at
// kMaxAttrNesting (64) levels with a located error, so a deep input cannot
// exhaust the parser's stack, and their verifiers bound the depth of nests
// built through aliases. Hence a custom syntax (the generated one cannot
// count).
class Attn_CombinatorMaskAttr<string name, string attrMnemonic>
    : Attn_MaskAttr<name, attrMnemonic> {
  let parameters = (ins ArrayRefParameter<"::mlir::attn::MaskAttrInterface",
                                          "operand masks">:$masks);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

def Attn_UnionMaskAttr : Attn_CombinatorMaskAttr<"UnionMask", "union"> {
  let summary = "Keeps an element if any operand mask keeps it";
  let description = [{
    Syntax: `#attn.union<[mask, mask, ...]>`, at least two operands.
    Unions, intersections and complements nest at most 64 levels deep
    (a leaf mask is level 0).

    ```mlir
    mask = #attn.union<[#attn.window<left = 256, right = 0>,
                        #attn.global<first = 4>]>
    ```
  }];
}

def Attn_IntersectionMaskAttr
    : Attn_CombinatorMaskAttr<"IntersectionMask", "intersection"> {
  let summary = "Keeps an element if every operand mask keeps it";
  let description = [{
    Syntax: `#attn.intersection<[mask, mask, ...]>`, at least two operands;
    nesting as for `#attn.union`.

    ```mlir
    mask = #attn.intersection<[#attn.causal, #attn.document]>
    ```
  }];
}

def Attn_ComplementMaskAttr : Attn_MaskAttr<"ComplementMask", "complement"> {
  let summary = "Keeps exactly the elements its operand drops";
  let description = [{
    Syntax: `#attn.complement<mask>`; nesting as for `#attn.union`.

    ```mlir
    mask = #attn.complement<#attn.window<left = 4, right = 4>>
    ```
  }];
  let parameters = (ins "::mlir::attn::MaskAttrInterface":$mask);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

//===----------------------------------------------------------------------===//
// Score modifications
//===----------------------------------------------------------------------===//

def Attn_AlibiAttr : Attn_Attr<"Alibi", "alibi", [
    DeclareAttrInterfaceMethods<Attn_ScoreModAttrInterface, ["verifyForShape"]>]> {
  let summary = "ALiBi positional bias";
  let description = [{
    Adds `-slope[h] * |i - j|` to the score of query head `h`. Without
    `slopes`, the standard geometric slopes of Press et al. for `Hq` heads
    are used (`2^(-8 (h + 1) / Hq)` for a power-of-two `Hq`).

    ```mlir
    score_mod = #attn.alibi
    score_mod = #attn.alibi<slopes = [0.5, 0.25]>
    ```
  }];
  let parameters = (ins Attn_F64ListParam:$slopes);
  let assemblyFormat = "(`<` struct(params)^ `>`)?";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The slope of each of `numHeads` query heads: the given ones or the
    /// standard geometric sequence.
    ::llvm::SmallVector<double> getEffectiveSlopes(int64_t numHeads) const;
  }];
}

def Attn_SoftcapAttr : Attn_Attr<"Softcap", "softcap", [
    DeclareAttrInterfaceMethods<Attn_ScoreModAttrInterface>]> {
  let summary = "Logit softcapping (Gemma 2, Grok)";
  let description = [{
    Replaces a score `s` by `cap * tanh(s / cap)`.

    ```mlir
    score_mod = #attn.softcap<30.0>
    ```
  }];
  let parameters = (ins Attn_F64Param:$cap);
  let assemblyFormat = "`<` $cap `>`";
  let genVerifyDecl = 1;
}

def Attn_ChainAttr : Attn_Attr<"Chain", "chain", [
    DeclareAttrInterfaceMethods<Attn_ScoreModAttrInterface, ["verifyForShape"]>]> {
  let summary = "Score modifications applied in order";
  let description = [{
    Syntax: `#attn.chain<[mod, mod, ...]>`, at least one modification.
    Chains nest at most 64 levels deep.

    ```mlir
    score_mod = #attn.chain<[#attn.alibi, #attn.softcap<50.0>]>
    ```
  }];
  let parameters = (ins ArrayRefParameter<"::mlir::attn::ScoreModAttrInterface",
                                          "modifications">:$mods);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

include "attn/Dialect/Attn/IR/LaunchContract.td"

#endif // ATTN_ATTRS_TD
