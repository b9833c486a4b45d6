//===- jit_latency.cpp - The JIT's compile latency, cold and cached -------===//
//
// attn-bench-jit [--host] FILE.mlir...: for each attention, the medians of
// five compiles of each kind:
//   fresh  Compiler::compileForGpu on a new compiler (attn-to-gpu, NVVM
//          lowering, PTX emission; the compiler's MLIRContext is new too);
//   warm   the same on a compiler that has compiled before but keeps no
//          kernel (setCacheLimit(0)): a new variant in a running server;
//   hit    the same spec again on a compiler that keeps it (a cache hit).
// --host times Compiler::compileForHost instead (attn-to-host, LLVM
// optimisation, machine code). The process's very first compile also
// initialises LLVM's native target and is not counted.
//
//===----------------------------------------------------------------------===//

#include "attn/JIT/Compiler.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <vector>

using namespace mlir::attn::jit;

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// Compiles `text` for the GPU or the host, dropping the kernel.
static llvm::Error compile(Compiler &compiler, const std::string &text,
                           bool host) {
  if (host)
    return compiler.compileForHost(text).takeError();
  return compiler.compileForGpu(text).takeError();
}

static double msSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}

int main(int argc, char **argv) {
  int first = 1;
  bool host = argc > 1 && llvm::StringRef(argv[1]) == "--host";
  if (host)
    ++first;
  std::vector<std::string> texts, names;
  for (int a = first; a < argc; ++a) {
    auto file = llvm::MemoryBuffer::getFile(argv[a]);
    if (!file) {
      llvm::errs() << "cannot read " << argv[a] << "\n";
      return 1;
    }
    texts.push_back((*file)->getBuffer().str());
    names.push_back(llvm::StringRef(argv[a]).rsplit('/').second.str());
  }
  Compiler warm;
  warm.setCacheLimit(0);
  if (!texts.empty())
    llvm::consumeError(compile(warm, texts.front(), host));

  std::vector<double> freshes, warms, hits;
  llvm::outs() << llvm::format("%-40s %10s %10s %10s\n", "kernel", "fresh ms",
                               "warm ms", "hit ms");
  for (size_t f = 0; f < texts.size(); ++f) {
    std::vector<double> fresh, again, hit;
    for (int r = 0; r < 5; ++r) {
      Compiler compiler;
      auto start = std::chrono::steady_clock::now();
      llvm::Error error = compile(compiler, texts[f], host);
      fresh.push_back(msSince(start));
      if (!error) {
        start = std::chrono::steady_clock::now();
        error = compile(compiler, texts[f], host);
        hit.push_back(msSince(start));
      }
      if (!error) {
        start = std::chrono::steady_clock::now();
        error = compile(warm, texts[f], host);
        again.push_back(msSince(start));
      }
      if (error) {
        llvm::errs() << names[f] << ": " << llvm::toString(std::move(error))
                     << "\n";
        return 1;
      }
    }
    freshes.push_back(median(fresh));
    warms.push_back(median(again));
    hits.push_back(median(hit));
    llvm::outs() << llvm::format("%-40s %10.1f %10.1f %10.4f\n",
                                 names[f].c_str(), freshes.back(), warms.back(),
                                 hits.back());
  }
  if (!freshes.empty())
    llvm::outs() << llvm::format("%-40s %10.1f %10.1f %10.4f\n", "median",
                                 median(freshes), median(warms), median(hits));
  return 0;
}
