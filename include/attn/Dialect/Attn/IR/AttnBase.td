//===- AttnBase.td - The attn dialect definition -----------*- tablegen -*-===//
//
// The attn dialect states *which* attention a user wants; the passes of attn
// decide how to compute it. This file defines the dialect and the shared
// base classes of its ops and attributes.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_BASE_TD
#define ATTN_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let cppNamespace = "::mlir::attn";
  let summary = "Declarative attention: shapes, masks, score modifications";
  let description = [{
    The `attn` dialect describes an attention computation declaratively:
    the shapes and element types of Q, K and V (with GQA/MQA head grouping
    implied by the head counts), a mask pattern built from composable mask
    attributes, and score modifications. Lowering passes tile the
    computation, skip the tiles that the mask empties, and rewrite softmax
    into its online form.

    Masks answer two questions (see `docs/masks.md`): whether an element
    `(b, h, i, j)` of the score matrix is kept, and, for a tile of the score
    matrix, whether it is empty, full or partial.
  }];
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
}

class Attn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Attn_Dialect, mnemonic, traits>;

class Attn_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Attn_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

#endif // ATTN_BASE_TD
