//===- Runner.h - Run an attention on random inputs and check it -*- C++ -*-=//
//
// What attn-run does, as a library: compile an attention for the host (or
// its GPU kernel for the emulator), run it on seeded random inputs,
// compare it with the naive f64 reference (Reference.h), and report
// errors, tiles visited versus dense, and timings.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUN_RUNNER_H
#define ATTN_RUN_RUNNER_H

#include "attn/JIT/Compiler.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>

namespace mlir::attn::run {

enum class Target { Host, Emulate };

struct RunOptions {
  /// Host: the host lowering, tiled tileQ x tileKV. Emulate: the GPU
  /// kernel in the emulator, all checks on, of kernelConfig (empty: the
  /// table's; see jit::CompileOptions::gpuKernelConfig).
  Target target = Target::Host;
  int64_t tileQ = 0; // 0: the JIT's choice (jit::CompileOptions::tileQ)
  int64_t tileKV = 0;
  std::string kernelConfig;
  /// Host: the tile kernels' f32 lanes (jit::CompileOptions::hostVectorWidth:
  /// -1 the host's widest, 0 the scalar loops).
  int64_t vectorWidth = -1;
  /// Host: split-KV parts (jit::CompileOptions::kvSplits: 0 by the shape).
  int64_t kvSplits = 0;
  /// Host: one tile per kv head's query heads in decode
  /// (jit::CompileOptions::packGqaHeads).
  bool packGqaHeads = true;
  uint64_t seed = 1;
  /// Document ids (attentions with segment ids): 0 for runs of random
  /// length, else that many documents of equal length.
  int64_t documents = 0;
  /// A block_sparse layout: the fraction of key blocks each query block
  /// lists, chosen per (row, block) by splitmix64 from the seed (every
  /// second listed block goes to the full list when there is one).
  double blockDensity = 0.25;
  int repetitions = 3; // timed runs of the kernel; the median is reported
  bool check = true;   // compare with the f64 reference
  /// The most attn-run allocates for buffers and their exact f64 copies
  /// (about 8 + element bytes per element of every operand and result);
  /// larger attentions are refused before anything is allocated.
  uint64_t memoryBudgetBytes = uint64_t{8} << 30;
  /// The sizes of a spec with '?' in its batch or sequence-length dims:
  /// the kernel is compiled from the text as it is (one kernel for every
  /// length) and run at these. A dynamic size left 0 is an error.
  int64_t batch = 0, seqQ = 0, seqKV = 0;
};

struct RunReport {
  /// A paged cache: its pages and the lengths attn-run chose; else empty.
  std::string paged;
  /// Packed sequences (varlen): the lengths attn-run chose; else empty.
  std::string varlen;
  std::string mask;
  int64_t batch = 0, numQHeads = 0, numKVHeads = 0, seqQ = 0, seqKV = 0;
  int64_t headDimQK = 0, headDimV = 0;
  std::string elementType;
  double compileMs = 0, kernelMs = 0, referenceMs = 0;
  int64_t tilesVisited = 0, tilesDense = 0;
  /// The kernel's tile shape and kv splits.
  jit::TileShape tiles;
  bool checked = false;
  std::string uncheckedReason;
  double maxAbsError = 0, relL2Error = 0, bound = 0;
  bool passed = false;
  std::string target = "host";
  /// Emulate target: the launch's counters.
  uint64_t mmaInstructions = 0, globalBytesRead = 0, globalBytesWritten = 0;
  uint64_t barriers = 0;

  void print(llvm::raw_ostream &os) const;
};

/// Compiles the one attn.attention in `mlirText` for the host, runs and
/// checks it. Errors (parse, verify, compile) come back as llvm::Error.
llvm::Expected<RunReport> runAttention(llvm::StringRef mlirText,
                                       const RunOptions &options);

} // namespace mlir::attn::run

#endif // ATTN_RUN_RUNNER_H
