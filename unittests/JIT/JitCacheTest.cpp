//===- JitCacheTest.cpp - The JIT's caches cannot be tricked, are bounded -===//
//
// The GPU disk cache (GpuOptions::cacheDirectory) uses an entry only when
// it is a regular file holding this compile's full key, PTX matching its
// SHA-256 and a launch contract within the driver's limits: substituted,
// truncated, empty, symlinked, hand-written and out-of-range entries are
// recompiled (the PTX equals a fresh compile's), counted and rewritten; a
// link planted at the entry's path is replaced, its target untouched; a
// directory that cannot be written is a warning, not a failed compile.
// The in-memory cache holds at most its limit of kernels, least recently
// used dropped first, while kernels callers hold stay alive. None of this
// needs a GPU: PTX is generated on any machine.
//
//===----------------------------------------------------------------------===//

#include "attn/JIT/Compiler.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <functional>
#include <unistd.h>

using namespace mlir::attn::jit;

namespace {

/// A small GPU spec: one 64 x 64 tile of bf16, `seq` rows.
AttentionSpec smallSpec(int64_t seq = 64) {
  AttentionSpec spec;
  spec.seqQ = spec.seqKV = seq;
  spec.elementType = ElementType::BF16;
  return spec;
}

/// A temporary directory, removed with everything in it at the end.
struct TempDir {
  llvm::SmallString<128> path;
  TempDir() {
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("attn-jit-cache", path));
  }
  ~TempDir() { llvm::sys::fs::remove_directories(path); }
  std::string str() const { return path.str().str(); }
  std::string file(llvm::StringRef name) const {
    return (path + "/" + name).str();
  }
  /// The names of the files in the directory (not following links).
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(path, ec, false), end;
         !ec && it != end; it.increment(ec))
      names.push_back(llvm::sys::path::filename(it->path()).str());
    std::sort(names.begin(), names.end());
    return names;
  }
};

std::string readFile(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  return buffer ? (*buffer)->getBuffer().str() : std::string("<unreadable>");
}

void writeFile(const std::string &path, llvm::StringRef content) {
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec);
  ASSERT_FALSE(ec) << ec.message();
  out << content;
}

std::string sha256Hex(llvm::StringRef data) {
  return llvm::toHex(llvm::SHA256::hash(llvm::arrayRefFromStringRef(data)),
                     /*LowerCase=*/true);
}

/// `entry` (a cache file's JSON) after `edit`.
std::string editJson(const std::string &entry,
                     const std::function<void(llvm::json::Object &)> &edit) {
  llvm::Expected<llvm::json::Value> value = llvm::json::parse(entry);
  EXPECT_TRUE(static_cast<bool>(value)) << llvm::toString(value.takeError());
  if (!value)
    return entry;
  edit(*value->getAsObject());
  std::string text;
  llvm::raw_string_ostream(text) << *value;
  return text;
}

/// The first kernel's object in an entry's contract.
llvm::json::Object &firstKernel(llvm::json::Object &root) {
  return *(*root.getObject("contract")->getArray("kernels"))[0].getAsObject();
}

class DiskCache : public ::testing::Test {
protected:
  void SetUp() override {
    options.cacheDirectory = dir.str();
    // The reference: a compile without any cache.
    Compiler fresh;
    auto kernel = fresh.compileForGpu(smallSpec());
    ASSERT_TRUE(static_cast<bool>(kernel))
        << llvm::toString(kernel.takeError());
    freshPtx = (*kernel)->ptx();
    // The entry for smallSpec(), written by a first compile.
    auto written = compiler.compileForGpu(smallSpec(), options);
    ASSERT_TRUE(static_cast<bool>(written))
        << llvm::toString(written.takeError());
    std::vector<std::string> names = dir.entries();
    ASSERT_EQ(names.size(), 1u);
    EXPECT_TRUE(llvm::StringRef(names[0]).starts_with("attn-"));
    EXPECT_TRUE(llvm::StringRef(names[0]).ends_with(".json"));
    entryPath = dir.file(names[0]);
    original = readFile(entryPath);
    ASSERT_FALSE(original.empty());
  }

  /// Compiles smallSpec() again past the in-memory cache; expects the
  /// entry to be rejected (or used, with `expectHit`), the PTX to be the
  /// fresh compile's, and the entry to be whole and usable afterwards.
  void expectRecompiled(bool expectHit = false) {
    int64_t hits = compiler.diskCacheHits();
    int64_t rejects = compiler.diskCacheRejects();
    compiler.clearCache();
    auto kernel = compiler.compileForGpu(smallSpec(), options);
    ASSERT_TRUE(static_cast<bool>(kernel))
        << llvm::toString(kernel.takeError());
    EXPECT_EQ((*kernel)->ptx(), freshPtx);
    EXPECT_EQ((*kernel)->launch().kernelName, "attn_entry_kernel");
    EXPECT_EQ((*kernel)->launch().grid[0], 1);
    EXPECT_EQ(compiler.diskCacheHits(), hits + (expectHit ? 1 : 0));
    EXPECT_EQ(compiler.diskCacheRejects(), rejects + (expectHit ? 0 : 1));
    if (expectHit)
      return;
    // Rewritten: a regular file again, used by the next compile.
    EXPECT_FALSE(llvm::sys::fs::is_symlink_file(entryPath));
    EXPECT_EQ(readFile(entryPath), original);
    compiler.clearCache();
    auto again = compiler.compileForGpu(smallSpec(), options);
    ASSERT_TRUE(static_cast<bool>(again));
    EXPECT_EQ(compiler.diskCacheHits(), hits + 1);
    EXPECT_EQ(compiler.diskCacheRejects(), rejects + 1);
  }

  TempDir dir;
  GpuOptions options;
  Compiler compiler;
  std::string freshPtx, entryPath, original;
};

TEST_F(DiskCache, AWholeEntryIsUsed) {
  EXPECT_EQ(compiler.diskCacheHits(), 0);
  EXPECT_EQ(compiler.diskCacheRejects(), 0);
  EXPECT_EQ(compiler.diskCacheWriteFailures(), 0);
  expectRecompiled(/*expectHit=*/true);
  // No temporaries are left behind.
  EXPECT_EQ(dir.entries().size(), 1u);
}

TEST_F(DiskCache, AnotherSpecsEntryCopiedOverIsRecompiled) {
  TempDir other;
  GpuOptions otherOptions;
  otherOptions.cacheDirectory = other.str();
  Compiler writer;
  auto kernel = writer.compileForGpu(smallSpec(128), otherOptions);
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  ASSERT_EQ(other.entries().size(), 1u);
  std::string otherEntry = readFile(other.file(other.entries()[0]));
  ASSERT_NE(otherEntry, original);
  writeFile(entryPath, otherEntry);
  testing::internal::CaptureStderr();
  expectRecompiled();
  std::string warning = testing::internal::GetCapturedStderr();
  EXPECT_NE(warning.find("attn: warning: the JIT cache entry"),
            std::string::npos)
      << warning;
  EXPECT_NE(warning.find("written for another spec"), std::string::npos)
      << warning;
}

TEST_F(DiskCache, ATruncatedEntryIsRecompiled) {
  writeFile(entryPath,
            llvm::StringRef(original).take_front(original.size() / 2));
  expectRecompiled();
}

TEST_F(DiskCache, AnEmptyEntryIsRecompiled) {
  writeFile(entryPath, "");
  expectRecompiled();
}

TEST_F(DiskCache, ASymlinkedEntryIsNotFollowed) {
  // A link to a copy that would pass every other check, elsewhere.
  TempDir elsewhere;
  std::string target = elsewhere.file("copy.json");
  writeFile(target, original);
  ASSERT_FALSE(llvm::sys::fs::remove(entryPath));
  ASSERT_FALSE(llvm::sys::fs::create_link(target, entryPath));
  ASSERT_TRUE(llvm::sys::fs::is_symlink_file(entryPath));
  testing::internal::CaptureStderr();
  expectRecompiled();
  std::string warning = testing::internal::GetCapturedStderr();
  EXPECT_NE(warning.find("symbolic link"), std::string::npos) << warning;
  EXPECT_EQ(readFile(target), original);
}

TEST_F(DiskCache, APlantedLinkToAnotherFileIsReplacedNotWrittenThrough) {
  // A link at the entry's path to a file of someone else's: the rewrite
  // replaces the link and leaves the file alone.
  TempDir elsewhere;
  std::string victim = elsewhere.file("victim.txt");
  writeFile(victim, "precious\n");
  ASSERT_FALSE(llvm::sys::fs::remove(entryPath));
  ASSERT_FALSE(llvm::sys::fs::create_link(victim, entryPath));
  expectRecompiled();
  EXPECT_EQ(readFile(victim), "precious\n");
  // Temporaries are created exclusively under unpredictable names, so
  // there is no path to plant a link at; none is left behind.
  EXPECT_EQ(dir.entries().size(), 1u);
}

TEST_F(DiskCache, AHandWrittenKernelIsRecompiled) {
  // Every JIT kernel used to be found by one name; a stand-in that only
  // traps must not be launched, whether or not its checksum is updated.
  std::string trap = ".version 8.0\n.target sm_80\n.address_size 64\n"
                     ".visible .entry attention_kernel() { trap; }\n";
  writeFile(entryPath, editJson(original, [&](llvm::json::Object &root) {
              root["ptx"] = trap;
            }));
  expectRecompiled();
  writeFile(entryPath, editJson(original, [&](llvm::json::Object &root) {
              root["ptx"] = trap;
              root["ptx_sha256"] = sha256Hex(trap);
            }));
  expectRecompiled();
  // Truncated PTX with a matching checksum: the kernel is not defined.
  std::string half = freshPtx.substr(0, freshPtx.find(".entry"));
  writeFile(entryPath, editJson(original, [&](llvm::json::Object &root) {
              root["ptx"] = half;
              root["ptx_sha256"] = sha256Hex(half);
            }));
  expectRecompiled();
}

TEST_F(DiskCache, AnEntryForAnotherChipIsRecompiled) {
  // The right key but sm_90 PTX (checksum updated).
  Compiler other;
  auto sm90 = other.compileForGpu(smallSpec(), [] {
    GpuOptions o;
    o.chip = "sm_90";
    return o;
  }());
  ASSERT_TRUE(static_cast<bool>(sm90)) << llvm::toString(sm90.takeError());
  writeFile(entryPath, editJson(original, [&](llvm::json::Object &root) {
              root["ptx"] = (*sm90)->ptx();
              root["ptx_sha256"] = sha256Hex((*sm90)->ptx());
            }));
  expectRecompiled();
}

TEST_F(DiskCache, OutOfRangeContractsAreRecompiled) {
  using Edit = std::function<void(llvm::json::Object &)>;
  std::vector<std::pair<std::string, Edit>> edits = {
      {"negative grid",
       [](llvm::json::Object &root) {
         firstKernel(root)["grid"] = llvm::json::Array{-1, 1, 1};
       }},
      {"zero grid",
       [](llvm::json::Object &root) {
         firstKernel(root)["grid"] = llvm::json::Array{1, 0, 1};
       }},
      {"grid.y beyond 65535",
       [](llvm::json::Object &root) {
         firstKernel(root)["grid"] = llvm::json::Array{1, 70000, 1};
       }},
      {"block of 2048 threads",
       [](llvm::json::Object &root) {
         firstKernel(root)["block"] = llvm::json::Array{2048, 1, 1};
       }},
      {"block of 32 x 64 threads",
       [](llvm::json::Object &root) {
         firstKernel(root)["block"] = llvm::json::Array{32, 64, 1};
       }},
      {"1e12 bytes of shared memory",
       [](llvm::json::Object &root) {
         firstKernel(root)["dynamic_shared_bytes"] = int64_t(1e12);
       }},
      {"negative shared memory",
       [](llvm::json::Object &root) {
         firstKernel(root)["dynamic_shared_bytes"] = -1;
       }},
      {"negative temporary bytes",
       [](llvm::json::Object &root) {
         (*root.getObject("contract"))["temp_bytes"] = llvm::json::Array{-8};
         (*root.getObject("contract"))["temp_shapes"] =
             llvm::json::Array{llvm::json::Array{2}};
         firstKernel(root).getArray("params")->push_back("temp0");
       }},
      {"a temporary without a shape",
       [](llvm::json::Object &root) {
         (*root.getObject("contract"))["temp_bytes"] = llvm::json::Array{8};
       }},
      {"a parameter past the arguments",
       [](llvm::json::Object &root) {
         (*firstKernel(root).getArray("params"))[0] = "arg99";
       }},
      {"a parameter naming a missing temporary",
       [](llvm::json::Object &root) {
         (*firstKernel(root).getArray("params"))[0] = "temp0";
       }},
      {"a parameter past the results",
       [](llvm::json::Object &root) {
         (*firstKernel(root).getArray("params"))[0] = "result9";
       }},
      {"a kernel of another name",
       [](llvm::json::Object &root) {
         firstKernel(root)["name"] = "attention_kernel";
       }},
      {"no kernel",
       [](llvm::json::Object &root) {
         (*root.getObject("contract"))["kernels"] = llvm::json::Array{};
       }},
      {"no contract", [](llvm::json::Object &root) { root.erase("contract"); }},
      {"another format",
       [](llvm::json::Object &root) {
         root["format"] = "attn-jit-gpu-cache/0";
       }},
  };
  for (const auto &[name, edit] : edits) {
    SCOPED_TRACE(name);
    writeFile(entryPath, editJson(original, edit));
    expectRecompiled();
  }
}

TEST_F(DiskCache, ADirectoryAtTheEntrysPathIsRejectedAndAWriteFailure) {
  ASSERT_FALSE(llvm::sys::fs::remove(entryPath));
  ASSERT_FALSE(llvm::sys::fs::create_directory(entryPath));
  compiler.clearCache();
  auto kernel = compiler.compileForGpu(smallSpec(), options);
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  EXPECT_EQ((*kernel)->ptx(), freshPtx);
  EXPECT_EQ(compiler.diskCacheRejects(), 1);
  EXPECT_EQ(compiler.diskCacheWriteFailures(), 1);
  // The temporary is cleaned up.
  EXPECT_EQ(dir.entries().size(), 1u);
}

TEST(DiskCacheWrites, FailuresAreWarnedOnceAndTheCompileSucceeds) {
  TempDir dir;
  std::string notADirectory = dir.file("file");
  writeFile(notADirectory, "x");
  GpuOptions options;
  options.cacheDirectory = notADirectory + "/cache";
  Compiler compiler;
  testing::internal::CaptureStderr();
  auto first = compiler.compileForGpu(smallSpec(), options);
  auto second = compiler.compileForGpu(smallSpec(128), options);
  std::string warnings = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(static_cast<bool>(first)) << llvm::toString(first.takeError());
  ASSERT_TRUE(static_cast<bool>(second)) << llvm::toString(second.takeError());
  EXPECT_EQ(compiler.diskCacheWriteFailures(), 2);
  EXPECT_EQ(compiler.diskCacheHits(), 0);
  EXPECT_EQ(compiler.diskCacheRejects(), 0);
  size_t at = warnings.find("attn: warning: cannot write the JIT cache entry");
  EXPECT_NE(at, std::string::npos) << warnings;
  EXPECT_EQ(warnings.find("attn: warning", at + 1), std::string::npos)
      << warnings;
}

// --- the in-memory cache ----------------------------------------------------

/// A host spec per `n`: distinct text, cheap to compile.
AttentionSpec hostSpec(int n) {
  AttentionSpec spec;
  spec.seqQ = 4 + n;
  spec.seqKV = 8;
  spec.headDimQK = spec.headDimV = 8;
  return spec;
}

TEST(MemoryCache, IsBoundedLeastRecentlyUsedFirst) {
  CompileOptions options;
  options.maxCachedKernels = 4;
  Compiler compiler(options);
  EXPECT_EQ(compiler.cacheLimit(), 4u);
  std::vector<std::shared_ptr<const HostKernel>> held;
  for (int n = 0; n < 20; ++n) {
    auto kernel = compiler.compileForHost(hostSpec(n));
    ASSERT_TRUE(static_cast<bool>(kernel))
        << llvm::toString(kernel.takeError());
    if (n == 0)
      held.push_back(*kernel);
    EXPECT_LE(compiler.cacheSize(), 4u);
  }
  EXPECT_EQ(compiler.cacheSize(), 4u);
  EXPECT_EQ(compiler.cacheMisses(), 20);
  EXPECT_EQ(compiler.cacheHits(), 0);

  // The four most recent are hits; touched in this order, 17 becomes the
  // least recently used.
  for (int n : {17, 18, 19, 16}) {
    int64_t hits = compiler.cacheHits();
    ASSERT_TRUE(static_cast<bool>(compiler.compileForHost(hostSpec(n))));
    EXPECT_EQ(compiler.cacheHits(), hits + 1) << n;
  }
  int64_t misses = compiler.cacheMisses();
  ASSERT_TRUE(static_cast<bool>(compiler.compileForHost(hostSpec(20))));
  EXPECT_EQ(compiler.cacheMisses(), misses + 1);
  int64_t hits = compiler.cacheHits();
  ASSERT_TRUE(static_cast<bool>(compiler.compileForHost(hostSpec(16))));
  EXPECT_EQ(compiler.cacheHits(), hits + 1); // recently used: kept
  misses = compiler.cacheMisses();
  ASSERT_TRUE(static_cast<bool>(compiler.compileForHost(hostSpec(17))));
  EXPECT_EQ(compiler.cacheMisses(), misses + 1); // the oldest: dropped
  EXPECT_EQ(compiler.cacheSize(), 4u);

  // An evicted kernel a caller holds still runs.
  const AttentionSpec spec = hostSpec(0);
  std::vector<float> q(spec.seqQ * spec.headDimQK, 0.5f),
      kv(spec.seqKV * spec.headDimQK, 0.25f), out(q.size(), -1.0f);
  HostArgs args;
  args.query = q.data();
  args.key = args.value = kv.data();
  args.output = out.data();
  llvm::Error err = held[0]->run(args);
  ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  for (float o : out)
    EXPECT_FLOAT_EQ(o, 0.25f);

  // A smaller limit drops the oldest now; clearCache drops all.
  compiler.setCacheLimit(2);
  EXPECT_EQ(compiler.cacheSize(), 2u);
  hits = compiler.cacheHits();
  ASSERT_TRUE(static_cast<bool>(compiler.compileForHost(hostSpec(17))));
  EXPECT_EQ(compiler.cacheHits(), hits + 1);
  compiler.clearCache();
  EXPECT_EQ(compiler.cacheSize(), 0u);
  misses = compiler.cacheMisses();
  ASSERT_TRUE(static_cast<bool>(compiler.compileForHost(hostSpec(17))));
  EXPECT_EQ(compiler.cacheMisses(), misses + 1);
}

TEST(MemoryCache, BoundsAllTargetsTogetherAndZeroKeepsNone) {
  CompileOptions options;
  options.maxCachedKernels = 2;
  Compiler compiler(options);
  ASSERT_TRUE(static_cast<bool>(compiler.compileForHost(hostSpec(0))));
  ASSERT_TRUE(static_cast<bool>(compiler.compileForGpu(smallSpec())));
  ASSERT_TRUE(static_cast<bool>(compiler.compileForGpu(smallSpec(128))));
  EXPECT_EQ(compiler.cacheSize(), 2u);
  int64_t misses = compiler.cacheMisses();
  ASSERT_TRUE(static_cast<bool>(compiler.compileForHost(hostSpec(0))));
  EXPECT_EQ(compiler.cacheMisses(), misses + 1);

  compiler.setCacheLimit(0);
  EXPECT_EQ(compiler.cacheSize(), 0u);
  auto kernel = compiler.compileForHost(hostSpec(1));
  ASSERT_TRUE(static_cast<bool>(kernel));
  EXPECT_EQ(compiler.cacheSize(), 0u);
  EXPECT_NE(kernel->get(), nullptr);
}

} // namespace
