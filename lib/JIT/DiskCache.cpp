//===- DiskCache.cpp - The JIT's on-disk cache of GPU kernels -------------===//
//
// What Compiler::compileForGpu keeps in GpuOptions::cacheDirectory: the
// entry format, its key, the checks an entry passes before it is used and
// the atomic write. Compiler.cpp decides when to read and write.
//
//===----------------------------------------------------------------------===//

#include "DiskCache.h"

#include "attn/Conversion/AttnToGPU/AttnToGPU.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/SHA256.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mlir;
using namespace mlir::attn;

namespace mlir::attn::jit::detail {

/// Larger files are not read (the kernels' PTX is well under 10 MiB).
static constexpr uint64_t kDiskCacheMaxBytes = 64ull << 20;

/// Everything the PTX and its contract depend on besides the code of attn
/// itself, which kGpuCodeVersion stands for (attn has no release version).
std::string diskCacheKey(StringRef text, const ptx::PTXOptions &options) {
  std::string key;
  llvm::raw_string_ostream os(key);
  os << kDiskCacheFormat << "\n"
     << "attn kernel generation " << kGpuCodeVersion << "\n"
     << "llvm " << LLVM_VERSION_STRING << "\n"
     << "chip " << options.chip << " features " << options.features << " opt "
     << options.optLevel << "\n"
     << "llvm pipeline " << options.llvmPipeline << "\n"
     << "cuda path " << options.cudaPath << "\n"
     << "kernel config "
     << (options.kernelConfig ? options.kernelConfig->str() : "auto") << "\n"
     << "spec\n"
     << text;
  return key;
}

std::string sha256Hex(StringRef data) {
  return llvm::toHex(llvm::SHA256::hash(llvm::arrayRefFromStringRef(data)),
                     /*LowerCase=*/true);
}

/// The contents of the regular file at `path`, read without following a
/// symbolic link (O_NOFOLLOW) and without blocking on a FIFO. nullopt with
/// `problem` empty when there is no file; with `problem` set when there is
/// one that is not trusted or cannot be read.
std::optional<std::string> readRegularFile(const std::string &path,
                                           std::string &problem) {
  problem.clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    int error = errno;
    if (error == ENOENT || error == ENOTDIR) // no entry (or no directory)
      return std::nullopt;
    problem = error == ELOOP
                  ? "it is a symbolic link"
                  : std::string("cannot open it: ") + std::strerror(error);
    return std::nullopt;
  }
  std::string content;
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    problem = std::string("cannot stat it: ") + std::strerror(errno);
  } else if (!S_ISREG(info.st_mode)) {
    problem = "it is not a regular file";
  } else if (static_cast<uint64_t>(info.st_size) > kDiskCacheMaxBytes) {
    problem = "it is larger than " + std::to_string(kDiskCacheMaxBytes >> 20) +
              " MiB";
  } else {
    content.resize(static_cast<size_t>(info.st_size));
    size_t done = 0;
    while (done < content.size()) {
      ssize_t n = ::read(fd, content.data() + done, content.size() - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        problem = n < 0 ? std::string("cannot read it: ") + std::strerror(errno)
                        : "it shrank while being read";
        break;
      }
      done += static_cast<size_t>(n);
    }
  }
  ::close(fd);
  if (!problem.empty())
    return std::nullopt;
  return content;
}

/// Why a launch could not take `compiled` (kernels of `ptxText` for
/// `chip` of an attention with `numOperands` operands and `numResults`
/// results), or empty when it can. The contract attribute has verified its
/// structure; these are the driver's limits on sm_80 and sm_90.
static std::string validateContract(const ptx::CompiledAttention &compiled,
                                    size_t numOperands, size_t numResults,
                                    StringRef ptxText, StringRef chip) {
  constexpr int64_t kMaxGridX = (int64_t(1) << 31) - 1, kMaxGridYZ = 65535;
  constexpr int64_t kMaxBlock[3] = {1024, 1024, 64};
  constexpr int64_t kMaxDynamicShared = 227 * 1024;
  constexpr int64_t kMaxTempBytes = int64_t(1) << 36; // 64 GiB
  LaunchContractAttr contract = compiled.contract;
  if (!ptxText.contains((".target " + chip).str()))
    return ("the PTX is not for " + chip).str();
  if (contract.getArguments().size() != numOperands ||
      contract.getResults().size() != numResults)
    return "it is for an attention of " +
           std::to_string(contract.getArguments().size()) + " operands and " +
           std::to_string(contract.getResults().size()) + " results";
  for (auto [t, temporary] : llvm::enumerate(contract.getTemporaries()))
    if (temporary.getBytes() > kMaxTempBytes)
      return "temporary " + std::to_string(t) + " is larger than 64 GiB";
  SmallVector<int64_t, 4> sizes = compiled.sizes();
  for (KernelLaunchAttr k : contract.getKernels()) {
    StringRef name = k.getName();
    if (!llvm::all_of(name, [](char c) {
          return llvm::isAlnum(c) || c == '_' || c == '$';
        }))
      return ("a kernel has the name '" + name + "'").str();
    // `.entry name(` (with or without white space before the parenthesis).
    std::string entry = (".entry " + name).str();
    bool declared = false;
    for (size_t at = ptxText.find(entry); at != StringRef::npos && !declared;
         at = ptxText.find(entry, at + 1)) {
      StringRef rest = ptxText.drop_front(at + entry.size()).ltrim();
      declared = rest.starts_with("(");
    }
    if (!declared)
      return ("the PTX does not define kernel " + name).str();
    std::string where = (" of kernel " + name).str();
    SmallVector<int64_t, 3> grid = k.evaluateGrid(sizes);
    if (grid.size() != 3 || grid[0] < 1 || grid[0] > kMaxGridX || grid[1] < 1 ||
        grid[1] > kMaxGridYZ || grid[2] < 1 || grid[2] > kMaxGridYZ)
      return "the grid" + where + " is out of range at the compiled sizes";
    for (int d = 0; d < 3; ++d)
      if (k.getBlock()[d] > kMaxBlock[d])
        return "the block" + where + " is out of range";
    if (k.getSharedBytes() > kMaxDynamicShared)
      return std::to_string(k.getSharedBytes()) +
             " bytes of dynamic shared memory" + where +
             " are out of range (0 to 227 KiB)";
  }
  return "";
}

/// The entry in `content` for `key`: its PTX and contract, or why it is
/// not to be used.
llvm::Expected<ptx::CompiledAttention>
parseDiskCacheEntry(StringRef content, StringRef key, size_t numOperands,
                    size_t numResults, StringRef chip, MLIRContext *context) {
  auto reject = [](const Twine &why) { return makeError(why); };
  if (content.empty())
    return reject("it is empty");
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(content);
  if (!parsed) {
    llvm::consumeError(parsed.takeError());
    return reject("it is not JSON (truncated or overwritten?)");
  }
  const llvm::json::Object *root = parsed->getAsObject();
  std::optional<StringRef> format =
      root ? root->getString("format") : std::nullopt;
  if (!format || *format != kDiskCacheFormat)
    return reject(Twine("it is not in the format ") + kDiskCacheFormat);
  std::optional<StringRef> storedKey = root->getString("key");
  if (!storedKey || *storedKey != key)
    return reject("it was written for another spec, chip or attn version");
  std::optional<StringRef> ptxText = root->getString("ptx");
  std::optional<StringRef> checksum = root->getString("ptx_sha256");
  if (!ptxText || !checksum || sha256Hex(*ptxText) != *checksum)
    return reject("its PTX does not match its SHA-256 checksum");
  const llvm::json::Value *contractJson = root->get("contract");
  if (!contractJson)
    return reject("it has no launch contract");
  std::string contractText;
  llvm::raw_string_ostream(contractText) << *contractJson;
  std::string contractChip;
  llvm::Expected<ptx::CompiledAttention> compiled =
      ptx::contractFromJson(contractText, context, contractChip);
  if (!compiled)
    return reject("its launch contract is malformed: " +
                  llvm::toString(compiled.takeError()));
  if (contractChip != chip)
    return reject("its launch contract is for " + contractChip);
  std::string problem =
      validateContract(*compiled, numOperands, numResults, *ptxText, chip);
  if (!problem.empty())
    return reject("its launch contract is invalid: " + problem);
  compiled->ptx = ptxText->str();
  return std::move(*compiled);
}

/// Writes `content` to `path` through an exclusively created temporary in
/// `directory` (never an existing file or a planted link), renamed over
/// `path`; the temporary is removed on every failure. The error says what
/// failed.
llvm::Error writeFileAtomically(const std::string &directory,
                                const std::string &path, StringRef content) {
  if (std::error_code ec = llvm::sys::fs::create_directories(directory))
    return makeError("cannot create the directory: " + ec.message());
  int fd = -1;
  llvm::SmallString<256> temporary;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(
          directory + "/attn-%%%%%%%%%%%%%%%%.tmp", fd, temporary,
          llvm::sys::fs::OF_None,
          llvm::sys::fs::owner_read | llvm::sys::fs::owner_write |
              llvm::sys::fs::group_read | llvm::sys::fs::others_read))
    return makeError("cannot create a temporary file: " + ec.message());
  std::error_code ec;
  {
    llvm::raw_fd_ostream out(fd, /*shouldClose=*/true);
    out << content;
    out.close();
    if (out.has_error()) {
      ec = out.error();
      out.clear_error();
    }
  }
  if (ec) {
    llvm::sys::fs::remove(temporary);
    return makeError("cannot write " + temporary + ": " + ec.message());
  }
  if ((ec = llvm::sys::fs::rename(temporary, path))) {
    llvm::sys::fs::remove(temporary);
    return makeError("cannot rename " + temporary +
                     " over it: " + ec.message());
  }
  return llvm::Error::success();
}

} // namespace mlir::attn::jit::detail
