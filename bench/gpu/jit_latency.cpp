//===- jit_latency.cpp - Spec -> PTX latency of the JIT, cold and cached --===//
//
// attn-bench-jit FILE.mlir...: for each attention, Compiler::compileForGpu
// on a fresh compiler (cold: attn-to-gpu, NVVM lowering, PTX emission) and
// then again on the same compiler (a cache hit), five times each; prints
// the medians per file and over all files.
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

int main(int argc, char **argv) {
  std::vector<double> colds, hits;
  llvm::outs() << llvm::format("%-40s %12s %12s\n", "kernel", "cold ms",
                               "cache hit ms");
  for (int a = 1; a < argc; ++a) {
    auto file = llvm::MemoryBuffer::getFile(argv[a]);
    if (!file) {
      llvm::errs() << "cannot read " << argv[a] << "\n";
      return 1;
    }
    std::string text = (*file)->getBuffer().str();
    std::vector<double> cold, hit;
    for (int r = 0; r < 5; ++r) {
      Compiler compiler;
      auto start = std::chrono::steady_clock::now();
      auto kernel = compiler.compileForGpu(text);
      auto mid = std::chrono::steady_clock::now();
      auto again = compiler.compileForGpu(text);
      auto end = std::chrono::steady_clock::now();
      if (!kernel || !again) {
        llvm::errs() << (kernel ? llvm::toString(again.takeError())
                                : llvm::toString(kernel.takeError()))
                     << "\n";
        return 1;
      }
      cold.push_back(std::chrono::duration<double, std::milli>(mid - start)
                         .count());
      hit.push_back(
          std::chrono::duration<double, std::milli>(end - mid).count());
    }
    colds.push_back(median(cold));
    hits.push_back(median(hit));
    std::string name = llvm::StringRef(argv[a]).rsplit('/').second.str();
    llvm::outs() << llvm::format("%-40s %12.1f %12.4f\n", name.c_str(),
                                 colds.back(), hits.back());
  }
  if (!colds.empty())
    llvm::outs() << llvm::format("%-40s %12.1f %12.4f\n", "median",
                                 median(colds), median(hits));
  return 0;
}
