//===- Pipeline.h - Running an LLVM IR pass pipeline ------------*- C++ -*-===//
//
// The one place attn runs LLVM IR passes: the PTX target before NVPTX code
// generation and the host JIT before x86 code generation both run a
// pipeline given in PassBuilder's textual syntax (e.g. "default<O3>"), so
// that each states which passes its kernels need and a user can swap them.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TARGET_LLVM_PIPELINE_H
#define ATTN_TARGET_LLVM_PIPELINE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/Error.h"

namespace llvm {
class Module;
class TargetMachine;
} // namespace llvm

namespace mlir::attn {

/// Runs `pipeline` (PassBuilder syntax) on `module`, with the target
/// information of `machine` (none when null) and `tuning`. A pipeline that
/// does not parse is an error naming it.
llvm::Error runLLVMPipeline(llvm::Module &module, llvm::StringRef pipeline,
                            llvm::TargetMachine *machine,
                            const llvm::PipelineTuningOptions &tuning = {});

} // namespace mlir::attn

#endif // ATTN_TARGET_LLVM_PIPELINE_H
