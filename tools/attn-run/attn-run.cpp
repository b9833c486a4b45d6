//===- attn-run.cpp - Run and check an attention on the host --------------===//
//
// attn-run FILE.mlir: compiles the file's attn.attention for the host, runs
// it on seeded random inputs, checks it against a naive f64 reference and
// prints the errors, the kv tiles visited versus dense, and the timings.
// Exit code 0 when the check passes (or is skipped), 1 otherwise.
//
//===----------------------------------------------------------------------===//

#include "attn/Run/Runner.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

static cl::opt<std::string>
    inputFile(cl::Positional, cl::desc("<input .mlir file>"), cl::Required);
static cl::opt<int64_t> tileQ("tile-q", cl::desc("Query tile size"),
                              cl::init(64));
static cl::opt<int64_t> tileKV("tile-kv", cl::desc("Key/value tile size"),
                               cl::init(64));
static cl::opt<uint64_t> seed("seed", cl::desc("Seed of the random inputs"),
                              cl::init(1));
static cl::opt<int> repetitions("repeat",
                                cl::desc("Timed kernel runs (median shown)"),
                                cl::init(3));
static cl::opt<bool> noCheck("no-check",
                             cl::desc("Skip the f64 reference check"));

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
                              "attn-run: run and check an attention\n");
  auto file = llvm::MemoryBuffer::getFileOrSTDIN(inputFile);
  if (!file) {
    llvm::errs() << "attn-run: cannot read " << inputFile << ": "
                 << file.getError().message() << "\n";
    return 1;
  }
  if (tileQ <= 0 || tileKV <= 0) {
    llvm::errs() << "attn-run: tile sizes must be positive\n";
    return 1;
  }
  mlir::attn::run::RunOptions options;
  options.tileQ = tileQ;
  options.tileKV = tileKV;
  options.seed = seed;
  options.repetitions = repetitions;
  options.check = !noCheck;
  auto report = mlir::attn::run::runAttention((*file)->getBuffer(), options);
  if (!report) {
    llvm::errs() << llvm::toString(report.takeError()) << "\n";
    return 1;
  }
  report->print(llvm::outs());
  return report->checked && !report->passed ? 1 : 0;
}
