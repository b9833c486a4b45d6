//===- DiskCache.h - The JIT's on-disk cache of GPU kernels -----*- C++ -*-===//
//
// The on-disk GPU cache (GpuOptions::cacheDirectory). One file per entry,
// attn-<first 128 bits of SHA-256(key), hex>.json:
//
//   {"format": kDiskCacheFormat, "key": <the full key>,
//    "ptx_sha256": <hex>, "contract": <ptx::contractToJson>, "ptx": <text>}
//
// written to a temporary created exclusively in the directory and renamed
// over the entry, so that readers see a whole file or none. An entry is
// used only when it is a regular file (not a symbolic link, not a device),
// its key is this compile's key in full, the PTX matches its checksum and
// declares the contract's kernels for the chip, and the contract is one a
// launch can take; otherwise it is recompiled and rewritten. The checks
// catch stale, substituted, truncated and edited entries; they are no
// defence against someone who may write the directory and recomputes the
// checksum (docs/gpu.md).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_JIT_DISKCACHE_H
#define ATTN_LIB_JIT_DISKCACHE_H

#include "Kernels.h"

#include "attn/Target/PTX/PTX.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>

namespace mlir::attn::jit::detail {

constexpr llvm::StringLiteral kDiskCacheFormat = "attn-jit-gpu-cache/3";

/// Everything the PTX and its contract depend on besides the code of attn
/// itself, which kGpuCodeVersion stands for (attn has no release version).
std::string diskCacheKey(llvm::StringRef text, const ptx::PTXOptions &options);

/// SHA-256 of `data`, lower-case hex.
std::string sha256Hex(llvm::StringRef data);

/// The contents of the regular file at `path`, read without following a
/// symbolic link and without blocking on a FIFO. nullopt with `problem`
/// empty when there is no file; with `problem` set when there is one that
/// is not trusted or cannot be read.
std::optional<std::string> readRegularFile(const std::string &path,
                                           std::string &problem);

/// The entry in `content` for `key`: its PTX and contract (parsed in
/// `context`), or why it is not to be used.
llvm::Expected<ptx::CompiledAttention>
parseDiskCacheEntry(llvm::StringRef content, llvm::StringRef key,
                    size_t numOperands, size_t numResults, llvm::StringRef chip,
                    MLIRContext *context);

/// Writes `content` to `path` through an exclusively created temporary in
/// `directory`, renamed over `path`; the temporary is removed on every
/// failure. The error says what failed.
llvm::Error writeFileAtomically(const std::string &directory,
                                const std::string &path,
                                llvm::StringRef content);

} // namespace mlir::attn::jit::detail

#endif // ATTN_LIB_JIT_DISKCACHE_H
