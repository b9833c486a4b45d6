//===- attn-run.cpp - Run and check an attention on the host --------------===//
//
// attn-run FILE.mlir: compiles the file's attn.attention for the host, runs
// it on seeded random inputs, checks it against a naive f64 reference and
// prints the errors, the kv tiles visited versus dense, and the timings.
// Without a file, the attention is stated with flags (--seq-q, --mask, ...).
// Exit code 0 when the check passes (or is skipped), 1 otherwise.
//
//===----------------------------------------------------------------------===//

#include "attn/JIT/Compiler.h"
#include "attn/Run/Runner.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

static cl::opt<std::string>
    inputFile(cl::Positional, cl::desc("[input .mlir file]"), cl::Optional);
static cl::opt<int64_t>
    tileQ("tile-q",
          cl::desc("Query tile size (--target=host; default: by shape)"),
          cl::init(0));
static cl::opt<int64_t>
    tileKV("tile-kv",
           cl::desc("Key/value tile size (--target=host; default: by shape)"),
           cl::init(0));
static cl::opt<int64_t> vectorWidth(
    "vector-width",
    cl::desc("f32 lanes of the host kernels' vectors (--target=host): -1 "
             "the host's widest, 0 scalar loops (debugging)"),
    cl::init(-1));
static cl::opt<int64_t>
    kvSplits("kv-splits",
             cl::desc("Split-KV parts of each query tile's kv range "
                      "(--target=host): 0 by the shape, 1 unsplit"),
             cl::init(0));
static cl::opt<bool> noPackGqaHeads(
    "no-pack-gqa-heads",
    cl::desc("Decode of grouped heads (--target=host): a tile per query head "
             "instead of one per kv head's query heads (for comparison)"),
    cl::init(false));
static cl::opt<std::string> kernelConfig(
    "kernel-config",
    cl::desc("GPU kernel configuration (--target=emulate): tile_q x tile_kv "
             "and warps, e.g. 128x64w4; default: the table's"));
static cl::opt<int64_t>
    documents("documents",
              cl::desc("With document ids: that many documents of equal length "
                       "(default: runs of random length)"),
              cl::init(0));
static cl::opt<uint64_t> seed("seed", cl::desc("Seed of the random inputs"),
                              cl::init(1));
static cl::opt<int> repetitions("repeat",
                                cl::desc("Timed kernel runs (median shown)"),
                                cl::init(3));
static cl::opt<bool> noCheck("no-check",
                             cl::desc("Skip the f64 reference check"));
static cl::opt<std::string>
    target("target",
           cl::desc("host (the host lowering) or emulate (the GPU kernel, "
                    "run in the emulator with its checks)"),
           cl::init("host"));

// The spec as flags, used when no file is given; --batch, --seq-q and
// --seq-kv also give the sizes of a file whose dims are '?'.
static cl::OptionCategory specCategory(
    "Attention spec (without a file; the sizes also for a file's '?' dims)");
static cl::opt<int64_t> batch("batch", cl::desc("Batch size"), cl::init(1),
                              cl::cat(specCategory));
static cl::opt<int64_t> headsQ("heads-q", cl::desc("Query heads"), cl::init(4),
                               cl::cat(specCategory));
static cl::opt<int64_t> headsKV("heads-kv",
                                cl::desc("Key/value heads (default: heads-q)"),
                                cl::init(0), cl::cat(specCategory));
static cl::opt<int64_t> seqQ("seq-q", cl::desc("Query length"), cl::init(256),
                             cl::cat(specCategory));
static cl::opt<int64_t> seqKV("seq-kv",
                              cl::desc("Key/value length (default: seq-q)"),
                              cl::init(0), cl::cat(specCategory));
static cl::opt<int64_t> dim("dim", cl::desc("Head dim of Q and K"),
                            cl::init(64), cl::cat(specCategory));
static cl::opt<int64_t> dimV("dim-v", cl::desc("Head dim of V (default: dim)"),
                             cl::init(0), cl::cat(specCategory));
static cl::opt<std::string> dtype("dtype", cl::desc("f32, f16 or bf16"),
                                  cl::init("f32"), cl::cat(specCategory));
static cl::opt<std::string>
    mask("mask", cl::desc("Mask attribute, e.g. '#attn.causal'"), cl::init(""),
         cl::cat(specCategory));
static cl::opt<std::string>
    scoreMod("score-mod",
             cl::desc("Score-mod attribute, e.g. '#attn.softcap<30.0>'"),
             cl::init(""), cl::cat(specCategory));
static cl::opt<bool> withBias("bias", cl::desc("Add an f32 bias operand"),
                              cl::cat(specCategory));
static cl::opt<bool> withSegments("segments",
                                  cl::desc("Add document-id operands"),
                                  cl::cat(specCategory));
static cl::opt<double> memoryBudgetGb(
    "memory-budget-gb",
    cl::desc("Refuse attentions whose buffers and f64 copies need more "
             "(default 8)"),
    cl::init(8.0));
static cl::opt<bool> withLse("lse", cl::desc("Also return the logsumexp"),
                             cl::cat(specCategory));
static cl::opt<int64_t> sparseBlock(
    "sparse-block",
    cl::desc("Add a run-time block layout (block_sparse) of N x N blocks"),
    cl::init(0), cl::cat(specCategory));
static cl::opt<bool>
    fullBlocks("full-blocks",
               cl::desc("With --sparse-block: also a full-block list"),
               cl::cat(specCategory));
static cl::opt<double> blockDensity(
    "block-density",
    cl::desc("The fraction of key blocks a block layout lists (default "
             "0.25; random from --seed)"),
    cl::init(0.25));

static cl::opt<int64_t> pageSize(
    "page-size",
    cl::desc("Keep K and V in a paged cache of pages of N keys (page table "
             "and lengths from --seed; the first sequence full)"),
    cl::init(0), cl::cat(specCategory));

static cl::opt<std::string> pageLayout(
    "page-layout",
    cl::desc("With --page-size: nhd ([pages, page_size, Hkv, D], default) "
             "or hnd ([pages, Hkv, page_size, D])"),
    cl::init("nhd"), cl::cat(specCategory));

/// The attention stated by the spec flags, as MLIR.
static llvm::Expected<std::string> specFromFlags() {
  mlir::attn::jit::AttentionSpec spec;
  spec.batch = batch;
  spec.numQHeads = headsQ;
  spec.numKVHeads = headsKV ? headsKV : headsQ;
  spec.seqQ = seqQ;
  spec.seqKV = seqKV ? seqKV : seqQ;
  spec.headDimQK = dim;
  spec.headDimV = dimV ? dimV : dim;
  if (dtype == "f32")
    spec.elementType = mlir::attn::jit::ElementType::F32;
  else if (dtype == "f16")
    spec.elementType = mlir::attn::jit::ElementType::F16;
  else if (dtype == "bf16")
    spec.elementType = mlir::attn::jit::ElementType::BF16;
  else
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "attn-run: unknown --dtype '" + dtype +
                                       "'; expected f32, f16 or bf16");
  spec.mask = mask;
  spec.scoreMod = scoreMod;
  spec.hasBias = withBias;
  spec.hasSegmentIds = withSegments;
  spec.withLogsumexp = withLse;
  if (sparseBlock < 0)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "attn-run: --sparse-block must not be "
                                   "negative");
  spec.sparseBlockQ = spec.sparseBlockKV = sparseBlock;
  spec.fullBlocks = fullBlocks;
  if (pageSize < 0 || pageSize >= (int64_t{1} << 31))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "attn-run: --page-size must be between 0 "
                                   "and 2^31");
  if (pageSize > 0) {
    // Pages enough for every sequence at the longest length.
    spec.pageSize = pageSize;
    spec.numPages = spec.batch * ((spec.seqKV + pageSize - 1) / pageSize);
    if (pageLayout != "nhd" && pageLayout != "hnd")
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "attn-run: --page-layout must be nhd or "
                                     "hnd, got '" +
                                         pageLayout + "'");
    spec.headsMajorPages = pageLayout == "hnd";
  }
  return spec.toMLIR();
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
                              "attn-run: run and check an attention\n");
  std::string text;
  if (inputFile.empty()) {
    llvm::Expected<std::string> spec = specFromFlags();
    if (!spec) {
      llvm::errs() << llvm::toString(spec.takeError()) << "\n";
      return 1;
    }
    text = *spec;
  } else {
    auto file = llvm::MemoryBuffer::getFileOrSTDIN(inputFile);
    if (!file) {
      llvm::errs() << "attn-run: cannot read " << inputFile << ": "
                   << file.getError().message() << "\n";
      return 1;
    }
    text = (*file)->getBuffer().str();
  }
  if ((tileQ.getNumOccurrences() && tileQ <= 0) ||
      (tileKV.getNumOccurrences() && tileKV <= 0)) {
    llvm::errs() << "attn-run: tile sizes must be positive\n";
    return 1;
  }
  mlir::attn::run::RunOptions options;
  if (target == "host") {
    options.target = mlir::attn::run::Target::Host;
  } else if (target == "emulate") {
    options.target = mlir::attn::run::Target::Emulate;
  } else {
    llvm::errs() << "attn-run: unknown --target '" << target
                 << "'; expected host or emulate\n";
    return 1;
  }
  options.tileQ = tileQ;
  options.tileKV = tileKV;
  options.kernelConfig = kernelConfig;
  options.vectorWidth = vectorWidth;
  options.kvSplits = kvSplits;
  options.packGqaHeads = !noPackGqaHeads;
  options.seed = seed;
  if (documents < 0) {
    llvm::errs() << "attn-run: --documents must not be negative\n";
    return 1;
  }
  options.documents = documents;
  if (!(blockDensity >= 0 && blockDensity <= 1)) {
    llvm::errs() << "attn-run: --block-density must be between 0 and 1\n";
    return 1;
  }
  options.blockDensity = blockDensity;
  options.repetitions = repetitions;
  options.check = !noCheck;
  if (!(memoryBudgetGb > 0) || memoryBudgetGb > 1e9) {
    llvm::errs() << "attn-run: --memory-budget-gb must be positive\n";
    return 1;
  }
  options.memoryBudgetBytes =
      static_cast<uint64_t>(memoryBudgetGb * double(1ull << 30));
  // A file whose batch or lengths are '?' runs at the spec flags' sizes.
  options.batch = batch;
  options.seqQ = seqQ;
  options.seqKV = seqKV ? seqKV : seqQ;
  auto report = mlir::attn::run::runAttention(text, options);
  if (!report) {
    llvm::errs() << llvm::toString(report.takeError()) << "\n";
    return 1;
  }
  report->print(llvm::outs());
  return report->checked && !report->passed ? 1 : 0;
}
