//===- LaunchContract.td - How compiled kernels are launched -*- tablegen -*-===//
//
// The launch contract: what attn-tile-to-gpu states about the kernels it
// outlines and every launcher reads (attn-ptx's JSON, the JIT's CUDA and
// emulated launchers, scripts/gpu-check). Parameters are typed by role;
// grids are functions of the run-time sizes.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LAUNCH_CONTRACT_TD
#define ATTN_LAUNCH_CONTRACT_TD

include "attn/Dialect/Attn/IR/AttnBase.td"

// A bracketed list of attributes of one kind, `[#attn.param<query>, ...]`.
class Attn_AttrListParam<string attr, string desc>
    : ArrayRefParameter<attr, desc> {
  let parser = "::mlir::attn::parseAttrList<" # attr # ">($_parser)";
  let printer = "::mlir::attn::printAttrList<" # attr # ">($_printer, $_self)";
}
class Attn_OptionalAttrListParam<string attr, string desc>
    : OptionalArrayRefParameter<attr, desc> {
  let parser = "::mlir::attn::parseAttrList<" # attr # ">($_parser)";
  let printer = "::mlir::attn::printAttrList<" # attr # ">($_printer, $_self)";
}

def Attn_ParamRole : I32EnumAttr<"ParamRole",
    "what a kernel parameter or host buffer stands for", [
      I32EnumAttrCase<"Query", 0, "query">,
      I32EnumAttrCase<"Key", 1, "key">,
      I32EnumAttrCase<"Value", 2, "value">,
      I32EnumAttrCase<"Bias", 3, "bias">,
      I32EnumAttrCase<"QSegmentIds", 4, "q_segment_ids">,
      I32EnumAttrCase<"KvSegmentIds", 5, "kv_segment_ids">,
      I32EnumAttrCase<"Capture", 6, "capture">,
      I32EnumAttrCase<"Output", 7, "output">,
      I32EnumAttrCase<"Lse", 8, "lse">,
      I32EnumAttrCase<"Temporary", 9, "temporary">,
      // attn.merge's inputs (host buffers only so far).
      I32EnumAttrCase<"Partials", 10, "partials">,
      I32EnumAttrCase<"PartialLse", 11, "partial_lse">,
      // attn.attention's run-time block layout (host buffers only so far).
      I32EnumAttrCase<"KvNumBlocks", 12, "kv_num_blocks">,
      I32EnumAttrCase<"KvIndices", 13, "kv_indices">,
      I32EnumAttrCase<"FullKvNumBlocks", 14, "full_kv_num_blocks">,
      I32EnumAttrCase<"FullKvIndices", 15, "full_kv_indices">,
      // attn.attention's paged KV cache (host buffers only so far): the
      // pages of K and V, the page table and the sequences' key lengths.
      I32EnumAttrCase<"KeyPages", 16, "key_pages">,
      I32EnumAttrCase<"ValuePages", 17, "value_pages">,
      I32EnumAttrCase<"PageTable", 18, "page_table">,
      I32EnumAttrCase<"KvLengths", 19, "kv_lengths">,
      // attn.attention's packed sequences (varlen; host buffers only so
      // far): the offsets of each sequence's query and key rows.
      I32EnumAttrCase<"CuSeqlensQ", 20, "cu_seqlens_q">,
      I32EnumAttrCase<"CuSeqlensK", 21, "cu_seqlens_k">]> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
}

def Attn_KernelParamAttr : Attn_Attr<"KernelParam", "param"> {
  let summary = "One kernel parameter or host buffer, by role";
  let description = [{
    `#attn.param<query>`, ..., `#attn.param<capture 1>` (the second
    captured tensor), `#attn.param<temporary 0>` (the contract's first
    temporary, which the launcher allocates). Only captures and
    temporaries carry an index.
  }];
  let parameters = (ins EnumParameter<Attn_ParamRole>:$role,
                        DefaultValuedParameter<"int64_t", "0">:$index);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// "query", ..., "capture1", "temp0": the name messages and the JSON
    /// codec use.
    std::string getName() const;
    bool isTemporary() const { return getRole() == ParamRole::Temporary; }
  }];
}

def Attn_TemporaryAttr : Attn_Attr<"Temporary", "temporary"> {
  let summary = "A buffer the launcher allocates for the kernels";
  let description = [{
    A row-major buffer of `shape` and `element_type` (a run-time tile
    table: i8 classes per (batch, head, q tile, kv tile)) that one kernel
    writes and a later one reads.

    ```mlir
    #attn.temporary<shape = [1, 4, 2, 2], element_type = i8>
    ```
  }];
  let parameters = (ins Attn_Int64ListParam:$shape, "Type":$elementType);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    int64_t getBytes() const;
  }];
}

def Attn_KernelLaunchAttr : Attn_Attr<"KernelLaunch", "kernel"> {
  let summary = "How one kernel is launched";
  let description = [{
    The kernel `name` in the GPU module, launched with `block` threads per
    block and `shared_bytes` of dynamic shared memory on a grid that is a
    function of the run-time sizes: `grid` maps the symbols
    `[batch, heads, seq_q, seq_kv]` (query heads; the query and key/value
    sequence lengths) to the (x, y, z) block counts. Its parameters, in
    order, are `params`.

    ```mlir
    #attn.kernel<name = "attention_kernel",
                 grid = affine_map<()[s0, s1, s2, s3] -> (s2 ceildiv 64, s1, s0)>,
                 block = [128, 1, 1], shared_bytes = 24576,
                 params = [#attn.param<query>, #attn.param<key>,
                           #attn.param<value>, #attn.param<output>]>
    ```
  }];
  let parameters = (ins StringRefParameter<"kernel name">:$name,
                        "AffineMap":$grid,
                        Attn_Int64ListParam:$block,
                        "int64_t":$sharedBytes,
                        Attn_AttrListParam<"KernelParamAttr", "parameters">:$params);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The grid at the given sizes (batch, heads, seq_q, seq_kv).
    SmallVector<int64_t, 3> evaluateGrid(ArrayRef<int64_t> sizes) const;
  }];
}

def Attn_LaunchContractAttr : Attn_Attr<"LaunchContract", "launch_contract"> {
  let summary = "The kernels of one attention in launch order";
  let description = [{
    What a launcher needs: the host function's `arguments` and `results`
    by role (the buffers a caller passes, in order), the `tiles` the
    attention was tiled with (`[tile_q, tile_kv]`, from its tile ops; the
    grids and the kernels' shape follow from them), the `kernels` in
    launch order (tile-table builders first), and the `temporaries` they
    share. attn-tile-to-gpu attaches it to `gpu.module @attn_kernels` as
    `attn.launch_contract`; attn-ptx writes it as JSON
    (docs/gpu.md, "The launch contract").

    ```mlir
    #attn.launch_contract<
        arguments = [#attn.param<query>, #attn.param<key>, #attn.param<value>],
        results = [#attn.param<output>], tiles = [64, 64],
        kernels = [#attn.kernel<...>], temporaries = []>
    ```
  }];
  let parameters = (ins
      Attn_AttrListParam<"KernelParamAttr", "host arguments">:$arguments,
      Attn_AttrListParam<"KernelParamAttr", "host results">:$results,
      Attn_Int64ListParam:$tiles,
      Attn_AttrListParam<"KernelLaunchAttr", "kernels">:$kernels,
      Attn_OptionalAttrListParam<"TemporaryAttr", "temporaries">:$temporaries);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // ATTN_LAUNCH_CONTRACT_TD
