//===- Ptxas.h - Running ptxas from tests -----------------------*- C++ -*-===//
//
// Finds ptxas (ATTN_PTXAS, PATH, /usr/local/cuda/bin) and assembles PTX
// text with -v, returning the exit code and ptxas's report (registers,
// spills). Tests skip the assembly, saying so, when ptxas is missing.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_UNITTESTS_SUPPORT_PTXAS_H
#define ATTN_UNITTESTS_SUPPORT_PTXAS_H

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"

#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <utility>

namespace attn_test {

/// ptxas from the CUDA toolkit, or empty.
inline std::string findPtxas() {
  if (const char *env = std::getenv("ATTN_PTXAS"))
    return env;
  if (auto path = llvm::sys::findProgramByName("ptxas"))
    return *path;
  if (llvm::sys::fs::can_execute("/usr/local/cuda/bin/ptxas"))
    return "/usr/local/cuda/bin/ptxas";
  return "";
}

/// Assembles `ptx` for `chip` (e.g. "sm_80"); returns the exit code and
/// the -v output.
inline std::pair<int, std::string> assemble(const std::string &ptxas,
                                            const std::string &ptx,
                                            const std::string &chip) {
  llvm::SmallString<128> ptxPath, logPath, cubinPath;
  if (llvm::sys::fs::createTemporaryFile("attn", "ptx", ptxPath) ||
      llvm::sys::fs::createTemporaryFile("attn", "log", logPath) ||
      llvm::sys::fs::createTemporaryFile("attn", "cubin", cubinPath))
    return {-1, "cannot create temporary files"};
  {
    std::ofstream out(ptxPath.c_str());
    out << ptx;
  }
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, logPath.str(),
                                                logPath.str()};
  std::string arch = "-arch=" + chip;
  int rc = llvm::sys::ExecuteAndWait(
      ptxas, {ptxas, arch, "-v", ptxPath.str(), "-o", cubinPath.str()},
      std::nullopt, redirects);
  auto log = llvm::MemoryBuffer::getFile(logPath);
  std::string text = log ? (*log)->getBuffer().str() : "";
  llvm::sys::fs::remove(ptxPath);
  llvm::sys::fs::remove(logPath);
  llvm::sys::fs::remove(cubinPath);
  return {rc, text};
}

} // namespace attn_test

#endif // ATTN_UNITTESTS_SUPPORT_PTXAS_H
