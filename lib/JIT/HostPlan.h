//===- HostPlan.h - What a host kernel is compiled for ----------*- C++ -*-===//
//
// The host kernel's tile shape, kv splits, vector lanes and threads, from
// CompileOptions where they state them and otherwise by the rules of
// docs/design.md, "Host kernels". Internal to lib/JIT.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_JIT_HOSTPLAN_H
#define ATTN_LIB_JIT_HOSTPLAN_H

#include "attn/JIT/Compiler.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

namespace mlir::attn::jit::detail {

/// CompileOptions' host fields checked against their ranges: an error that
/// names the field, its value and what is accepted.
llvm::Error checkHostOptions(const CompileOptions &options);

/// CompileOptions::numThreads with the default substituted.
unsigned resolveHostThreads(const CompileOptions &options);

/// CompileOptions::hostVectorWidth with the host's substituted.
int64_t resolveHostVectorWidth(const CompileOptions &options);

/// The tile shape and kv splits for the one attention in `module`.
TileShape chooseHostTiles(const CompileOptions &options, ModuleOp module);

} // namespace mlir::attn::jit::detail

#endif // ATTN_LIB_JIT_HOSTPLAN_H
