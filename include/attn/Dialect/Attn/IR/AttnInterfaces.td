//===- AttnInterfaces.td - Mask and score-mod interfaces ---*- tablegen -*-===//
//
// Every mask attribute implements MaskAttrInterface, which turns it into an
// object of the mask algebra (include/attn/Mask/Mask.h); every score
// modification implements ScoreModAttrInterface. Passes and verifiers talk
// to these interfaces, never to a switch over attribute kinds.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_INTERFACES_TD
#define ATTN_INTERFACES_TD

include "mlir/IR/OpBase.td"

def Attn_MaskAttrInterface : AttrInterface<"MaskAttrInterface"> {
  let cppNamespace = "::mlir::attn";
  let description = [{
    A mask pattern over the score matrix of an attention. It builds the
    mask-algebra object that answers element and tile queries, and checks
    itself against the static shape of the attention that uses it.
  }];
  let methods = [
    InterfaceMethod<
      "Builds the mask-algebra object for this pattern.",
      "::mlir::attn::mask::MaskRef", "buildMask",
      (ins "const ::mlir::attn::MaskBuildContext &":$ctx)>,
    InterfaceMethod<
      "Checks the pattern against the attention's shape; reports through "
      "`emitError` and fails when it cannot apply.",
      "::llvm::LogicalResult", "verifyForShape",
      (ins "const ::mlir::attn::AttentionShape &":$shape,
           "::llvm::function_ref<::mlir::InFlightDiagnostic()>":$emitError),
      /*methodBody=*/"", /*defaultImplementation=*/"return ::mlir::success();">,
    InterfaceMethod<
      "Emits IR computing whether the element at `ctx` is kept (an i1); "
      "fails with a diagnostic at `loc` when it cannot be emitted.",
      "::mlir::FailureOr<::mlir::Value>", "emitKept",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "const ::mlir::attn::ElementEmitContext &":$ctx)>,
  ];
}

def Attn_ScoreModAttrInterface : AttrInterface<"ScoreModAttrInterface"> {
  let cppNamespace = "::mlir::attn";
  let description = [{
    A modification of the scaled score `s = scale * q.k (+ bias)` applied
    elementwise before the softmax, e.g. ALiBi or a logit softcap.
  }];
  let methods = [
    InterfaceMethod<
      "Checks the modification against the attention's shape.",
      "::llvm::LogicalResult", "verifyForShape",
      (ins "const ::mlir::attn::AttentionShape &":$shape,
           "::llvm::function_ref<::mlir::InFlightDiagnostic()>":$emitError),
      /*methodBody=*/"", /*defaultImplementation=*/"return ::mlir::success();">,
    InterfaceMethod<
      "Emits IR applying the modification to the f32 score `score` of the "
      "element at `ctx`; returns the new score.",
      "::mlir::FailureOr<::mlir::Value>", "emitScoreMod",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "::mlir::Value":$score,
           "const ::mlir::attn::ElementEmitContext &":$ctx)>,
  ];
}

#endif // ATTN_INTERFACES_TD
