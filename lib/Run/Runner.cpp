//===- Runner.cpp - Run an attention on random inputs and check it --------===//
//
// attn-run's engine, one function per step: compile the attention, make
// seeded inputs, run and time the kernel, then check it with the f64
// reference (Reference.h). The reference takes the mask's element
// predicate from the mask algebra (itself checked against brute force in
// unittests/Mask) and restates the score modifications, so it shares no
// code with the generated kernel's IR emitters. The tile sizes come from
// the tiled IR of the target's own pipeline, not from a constant here.
//
//===----------------------------------------------------------------------===//

#include "attn/Run/Runner.h"

#include "RunInputs.h"

#include "attn/Conversion/AttnToGPU/AttnToGPU.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/InitAll.h"
#include "attn/JIT/Compiler.h"
#include "attn/Mask/Mask.h"
#include "attn/Run/Reference.h"
#include "attn/Target/PTX/PTX.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/SourceMgr.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <random>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::run;
using namespace mlir::attn::run::detail;

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// What attn-run allocates for `op` (each operand and result in its
/// element type plus its exact f64 copy, the result's being the f64
/// reference's output; the reference's own rows are small), or failure
/// with the budget in the message: a shape of billions of elements is
/// refused before anything is allocated, instead of ending in an
/// out-of-memory abort.
llvm::Error checkMemoryBudget(AttentionOp op, uint64_t budget) {
  uint64_t total = 0;
  bool overflow = false;
  auto add = [&](Type type) {
    auto shaped = dyn_cast<ShapedType>(type);
    if (!shaped || !shaped.hasStaticShape())
      return;
    uint64_t elements = 1;
    for (int64_t d : shaped.getShape())
      elements = llvm::SaturatingMultiply(elements, static_cast<uint64_t>(d),
                                          &overflow);
    Type elt = shaped.getElementType();
    uint64_t eltBytes = elt.isIntOrFloat()
                            ? (elt.getIntOrFloatBitWidth() + 7) / 8
                            : 16; // the verifier refuses others
    uint64_t bytes =
        llvm::SaturatingMultiply(elements, uint64_t{8} + eltBytes, &overflow);
    total = llvm::SaturatingAdd(total, bytes, &overflow);
  };
  for (Value operand : op->getOperands())
    add(operand.getType());
  for (Value result : op->getResults())
    add(result.getType());
  if (!overflow && total <= budget)
    return llvm::Error::success();
  auto gib = [](uint64_t bytes) {
    return llvm::format("%.2f", static_cast<double>(bytes) / (1ull << 30));
  };
  std::string message;
  llvm::raw_string_ostream os(message);
  os << "attn-run: the attention's buffers and their f64 copies need ";
  if (overflow)
    os << "more than 2^64 bytes";
  else
    os << gib(total) << " GiB";
  os << ", above the memory budget of " << gib(budget)
     << " GiB (--memory-budget-gb)";
  return makeError(message);
}

/// Applies the score-modification attribute to a score, in f64. Returns
/// false for modifications the reference does not know.
bool applyScoreMod(Attribute mod, double &s, int64_t h, int64_t i, int64_t j,
                   int64_t numQHeads) {
  if (!mod)
    return true;
  if (auto alibi = dyn_cast<AlibiAttr>(mod)) {
    s -= alibi.getEffectiveSlopes(numQHeads)[h] * std::abs(double(i - j));
    return true;
  }
  if (auto cap = dyn_cast<SoftcapAttr>(mod)) {
    double c = cap.getCap().convertToDouble();
    s = c * std::tanh(s / c);
    return true;
  }
  if (auto chain = dyn_cast<ChainAttr>(mod)) {
    for (ScoreModAttrInterface m : chain.getMods())
      if (!applyScoreMod(m, s, h, i, j, numQHeads))
        return false;
    return true;
  }
  return false;
}

double millisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}

/// The one attn.attention of `module`, or an error counting them.
llvm::Expected<AttentionOp> findTheAttention(ModuleOp module) {
  SmallVector<AttentionOp> ops;
  module->walk([&](AttentionOp op) { ops.push_back(op); });
  if (ops.size() != 1)
    return makeError("attn-run: expected exactly one attn.attention, found " +
                     Twine(ops.size()));
  return ops.front();
}

/// Gives an attention with run-time sizes ('?') the sizes of this run:
/// each dynamic dim of its tensors becomes options' batch, seqQ or seqKV
/// by the tensor's role, so that the inputs and the reference see static
/// shapes. The kernel is compiled from the unchanged text.
llvm::Error specializeSizes(AttentionOp op, const RunOptions &options) {
  struct Size {
    const char *flag;
    int64_t value;
  };
  const Size batch{"--batch", options.batch}, seqQ{"--seq-q", options.seqQ},
      seqKV{"--seq-kv", options.seqKV},
      offsets{"--batch", options.batch > 0 ? options.batch + 1 : 0};
  // The size each dim stands for, by role (null: must be static).
  auto retype = [&](Value v, ArrayRef<const Size *> dims) -> llvm::Error {
    if (!v)
      return llvm::Error::success();
    auto type = cast<RankedTensorType>(v.getType());
    SmallVector<int64_t> shape(type.getShape());
    for (auto [d, size] : llvm::enumerate(shape)) {
      if (!ShapedType::isDynamic(size))
        continue;
      const Size *given = d < dims.size() ? dims[d] : nullptr;
      if (!given)
        return makeError("attn-run: only the batch and the sequence lengths "
                         "may be dynamic; got " +
                         llvm::formatv("{0}", v.getType()).str());
      if (given->value <= 0)
        return makeError(Twine("attn-run: the attention's sizes are dynamic "
                               "('?'); state them with ") +
                         given->flag + " (a positive size)");
      size = given->value;
    }
    v.setType(type.clone(shape));
    return llvm::Error::success();
  };
  const Size *qDims[] = {&batch, nullptr, &seqQ};
  const Size *kvDims[] = {&batch, nullptr, &seqKV};
  const Size *biasDims[] = {&batch, nullptr, &seqQ, &seqKV};
  const Size *qIdDims[] = {&batch, &seqQ};
  const Size *kvIdDims[] = {&batch, &seqKV};
  const Size *batchDims[] = {&batch, nullptr}; // page table, kv lengths
  // Packed sequences: the tokens, and B + 1 offsets.
  const Size *tokensQ[] = {&seqQ}, *tokensKV[] = {&seqKV};
  const Size *offsetDims[] = {&offsets};
  bool packed = op.isVarlen();
  ArrayRef<const Size *> q = packed ? ArrayRef(tokensQ) : ArrayRef(qDims);
  ArrayRef<const Size *> kv = packed ? ArrayRef(tokensKV) : ArrayRef(kvDims);
  for (auto [v, dims] : SmallVector<std::pair<Value, ArrayRef<const Size *>>>{
           {op.getQuery(), q},
           {op.getKey(), kv},
           {op.getValue(), kv},
           {op.getCuSeqlensQ(), offsetDims},
           {op.getCuSeqlensK(), offsetDims},
           {op.getBias(), biasDims},
           {op.getQSegmentIds(), qIdDims},
           {op.getKvSegmentIds(), kvIdDims},
           {op.getPageTable(), batchDims},
           {op.getKvLengths(), batchDims},
           {op.getOutput(), q},
           {op.getLogsumexp(), q}})
    if (llvm::Error err = retype(v, dims))
      return err;
  for (Value capture : op.getCaptures())
    if (llvm::Error err = retype(capture, {}))
      return err;
  // A size that contradicts a static dim of another tensor (a key of 150
  // rows against --seq-kv 99) makes the op invalid: the verifier says so.
  if (failed(mlir::verify(op)))
    return makeError("attn-run: the sizes given do not fit the attention's "
                     "static dims (a '?' takes --batch, --seq-q or "
                     "--seq-kv; the static dims stay)");
  return llvm::Error::success();
}

bool hasDynamicSizes(AttentionOp op) {
  return llvm::any_of(
      llvm::concat<Value>(op->getOperands(), op->getResults()), [](Value v) {
        return !cast<RankedTensorType>(v.getType()).hasStaticShape();
      });
}

/// The report's description of `op` and the target; no results yet.
RunReport describeAttention(AttentionOp op, const RunOptions &options) {
  AttentionShape shape = op.getShape();
  RunReport report;
  report.batch = shape.batch;
  report.numQHeads = shape.numQHeads;
  report.numKVHeads = shape.numKVHeads;
  report.seqQ = shape.seqQ;
  report.seqKV = shape.seqKV;
  // Packed sequences: the tokens of all of them (the "varlen:" line has
  // each one's).
  if (op.isVarlen()) {
    report.seqQ = op.getQuery().getType().getDimSize(0);
    report.seqKV = op.getKey().getType().getDimSize(0);
  }
  report.headDimQK = shape.headDimQK;
  report.headDimV = shape.headDimV;
  llvm::raw_string_ostream(report.elementType)
      << op.getQuery().getType().getElementType();
  llvm::raw_string_ostream(report.mask) << op.getEffectiveMask();
  if (options.target == Target::Emulate) {
    report.target = "emulate";
  } else {
    int64_t lanes =
        options.vectorWidth < 0 ? jit::hostVectorWidth() : options.vectorWidth;
    report.target = lanes == 0
                        ? std::string("host (scalar loops)")
                        : "host (" + std::to_string(lanes) + " f32 lanes)";
  }
  return report;
}

// --- compile -----------------------------------------------------------------

/// The kernel of one of the two targets.
struct Kernel {
  std::shared_ptr<const jit::HostKernel> host;
  std::shared_ptr<const jit::EmulatedKernel> emulated;
};

/// Compiles `text` for the target of `options`, counting tile visits on
/// the host; records the compile time in `report`.
llvm::Expected<Kernel> compileKernel(StringRef text, const RunOptions &options,
                                     RunReport &report) {
  jit::CompileOptions compileOptions;
  compileOptions.tileQ = options.tileQ;
  compileOptions.tileKV = options.tileKV;
  compileOptions.gpuKernelConfig = options.kernelConfig;
  compileOptions.hostVectorWidth = options.vectorWidth;
  compileOptions.kvSplits = options.kvSplits;
  compileOptions.packGqaHeads = options.packGqaHeads;
  compileOptions.countTileVisits = true;
  jit::Compiler compiler(compileOptions);
  auto start = std::chrono::steady_clock::now();
  Kernel kernel;
  if (options.target == Target::Emulate) {
    auto emulated = compiler.compileForEmulator(text);
    if (!emulated)
      return emulated.takeError();
    kernel.emulated = *emulated;
  } else {
    auto host = compiler.compileForHost(text);
    if (!host)
      return host.takeError();
    kernel.host = *host;
  }
  report.compileMs = millisecondsSince(start);
  return kernel;
}

// --- run and time ------------------------------------------------------------

/// The mma.sync the GPU kernel issues per visited (q tile, kv tile) block:
/// each of its warps (16 query rows each) runs m16n8k16 steps for QK^T
/// ((Dqk / 16) k steps x (tile-kv / 8) key columns) and for PV
/// ((tile-kv / 16) k steps x (Dv / 8) value columns).
uint64_t mmaPerVisitedTile(const jit::TileShape &tiles,
                           const RunReport &report) {
  // One mma per (16 query rows, n8 or k16 step), whatever the warps.
  return tiles.q / 16 *
         ((report.headDimQK / 16) * (tiles.kv / 8) +
          (tiles.kv / 16) * (report.headDimV / 8));
}

/// Runs `kernel` `options.repetitions` times (at least once), recording
/// the median time and what the last run counted: the tiles the host
/// kernel visited, the emulator's counters.
llvm::Error runTimed(const Kernel &kernel, const jit::HostArgs &args,
                     const RunOptions &options, RunReport &report) {
  std::vector<double> times;
  for (int r = 0; r < std::max(1, options.repetitions); ++r) {
    auto start = std::chrono::steady_clock::now();
    if (kernel.host) {
      if (llvm::Error err = kernel.host->run(args, &report.tilesVisited))
        return err;
    } else {
      emu::Counters counters;
      if (llvm::Error err = kernel.emulated->run(args, &counters,
                                                 /*hostThreads=*/2))
        return err;
      report.mmaInstructions = counters.mmaInstructions;
      report.globalBytesRead = counters.globalBytesRead;
      report.globalBytesWritten = counters.globalBytesWritten;
      report.barriers = counters.barriers;
    }
    times.push_back(millisecondsSince(start));
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2,
                   times.end());
  report.kernelMs = times[times.size() / 2];
  return llvm::Error::success();
}

/// Records the dense tile count for `tiles` and, for the emulator, the
/// tiles visited, inferred from its mma.sync count: each visited tile
/// costs the same.
void countTiles(const jit::TileShape &tiles, const RunOptions &options,
                RunReport &report) {
  if (options.target == Target::Emulate) {
    uint64_t perTile = mmaPerVisitedTile(tiles, report);
    report.tilesVisited =
        perTile ? static_cast<int64_t>(report.mmaInstructions / perTile) : 0;
  }
  int64_t qTiles = llvm::divideCeil(report.seqQ, tiles.q);
  int64_t kvTiles = llvm::divideCeil(report.seqKV, tiles.kv);
  report.tilesDense = report.batch * report.numQHeads * qTiles * kvTiles;
  report.tiles = tiles;
}

// --- check -------------------------------------------------------------------

/// Why the f64 reference cannot check `op`; nothing when it can.
std::optional<std::string> whyUnchecked(AttentionOp op,
                                        const RunOptions &options) {
  if (!options.check)
    return "--no-check";
  if (!op.getScoreModRegion().empty())
    return "the f64 reference cannot evaluate score_mod regions";
  if (maskContains<CustomMaskAttr>(op.getEffectiveMask()) &&
      failed(interpretMaskModRegion(op.getMaskMod())))
    return "the f64 reference can only evaluate mask_mod regions of integer "
           "arithmetic";
  // Whether a modification is known does not depend on the score.
  double score = 0;
  if (!applyScoreMod(op.getScoreModAttr(), score, 0, 0, 0,
                     op.getShape().numQHeads))
    return "unknown score modification";
  return std::nullopt;
}

/// Compares the kernel's output with the f64 reference (the mask from the
/// mask algebra, the modification restated) and records the errors and
/// the verdict.
void checkWithReference(AttentionOp op, const RunInputs &in,
                        RunReport &report) {
  auto start = std::chrono::steady_clock::now();
  AttentionShape shape = op.getShape();
  mask::MaskRef maskObj = op.buildMask();
  std::vector<int64_t> qIds64(in.qIds.exact.begin(), in.qIds.exact.end());
  std::vector<int64_t> kvIds64(in.kvIds.exact.begin(), in.kvIds.exact.end());
  mask::MaskContext mctx;
  mctx.seqQ = shape.seqQ;
  mctx.seqKV = shape.seqKV;
  mctx.qSegmentIds = qIds64.empty() ? nullptr : qIds64.data();
  mctx.kvSegmentIds = kvIds64.empty() ? nullptr : kvIds64.data();
  Attribute mod = op.getScoreModAttr();
  ReferenceInputs ref;
  ref.query = in.q.exact;
  ref.key = in.k.exact;
  ref.value = in.v.exact;
  std::vector<double> pagedKeys, pagedValues;
  if (in.paged) {
    pagedKeys = gatherPages(in.k, cast<RankedTensorType>(op.getKey().getType()),
                            *in.paged);
    pagedValues = gatherPages(
        in.v, cast<RankedTensorType>(op.getValue().getType()), *in.paged);
    ref.key = pagedKeys;
    ref.value = pagedValues;
  }
  if (op.getBias()) {
    ArrayRef<int64_t> biasShape =
        cast<RankedTensorType>(op.getBias().getType()).getShape();
    ref.bias = in.bias.exact;
    ref.biasBatch = biasShape[0];
    ref.biasHeads = biasShape[1];
  }
  ref.scale = op.getEffectiveScale();
  auto keep = [&](int64_t b, int64_t h, int64_t i, int64_t j) {
    if (in.layout) {
      int kind = in.layout->kindOf(b, h, i, j);
      if (kind != 1)
        return kind == 2;
    }
    if (!in.paged)
      return maskObj->isKept(mctx, b, h, i, j);
    // Each sequence's own length, for the keys and the mask.
    mask::MaskContext seq = mctx;
    seq.seqKV = in.paged->lengths[b];
    return j < seq.seqKV && maskObj->isKept(seq, b, h, i, j);
  };
  auto modify = [&](double s, int64_t, int64_t h, int64_t i, int64_t j) {
    applyScoreMod(mod, s, h, i, j, shape.numQHeads);
    return s;
  };
  ref.keep = keep;
  if (mod)
    ref.modify = modify;

  Type elt = op.getQuery().getType().getElementType();
  double errSq = 0, refSq = 0;
  // Output element n against the reference's `want`.
  auto compare = [&](double want, size_t n) {
    double got = readOutput(in.out, elt, n);
    double err = std::isfinite(got) ? std::abs(got - want)
                                    : std::numeric_limits<double>::infinity();
    report.maxAbsError = std::max(report.maxAbsError, err);
    errSq += err * err;
    refSq += want * want;
  };
  if (in.packed) {
    // Each sequence alone, [1, H, n, D], at its own lengths.
    auto qType = op.getQuery().getType(), kType = op.getKey().getType(),
         vType = op.getValue().getType();
    const PackedBatch &packed = *in.packed;
    for (int64_t b = 0; b < packed.size(); ++b) {
      int64_t nq = packed.lengthQ(b), nk = packed.lengthK(b);
      std::vector<double> qs = sequenceRows(in.q, qType, packed.cuQ[b], nq),
                          ks = sequenceRows(in.k, kType, packed.cuK[b], nk),
                          vs = sequenceRows(in.v, vType, packed.cuK[b], nk);
      ReferenceInputs seqRef = ref;
      seqRef.query = qs;
      seqRef.key = ks;
      seqRef.value = vs;
      mask::MaskContext seq = mctx;
      seq.seqQ = nq;
      seq.seqKV = nk;
      auto seqKeep = [&](int64_t, int64_t h, int64_t i, int64_t j) {
        return maskObj->isKept(seq, b, h, i, j);
      };
      seqRef.keep = seqKeep;
      ReferenceResult expected = referenceAttention(
          ReferenceShape{1, shape.numQHeads, shape.numKVHeads, nq, nk,
                         shape.headDimQK, shape.headDimV},
          seqRef);
      for (int64_t h = 0; h < shape.numQHeads; ++h)
        for (int64_t i = 0; i < nq; ++i)
          for (int64_t e = 0; e < shape.headDimV; ++e)
            compare(expected.output[(h * nq + i) * shape.headDimV + e],
                    ((packed.cuQ[b] + i) * shape.numQHeads + h) *
                            shape.headDimV +
                        e);
    }
  } else {
    ReferenceResult expected = referenceAttention(
        ReferenceShape{shape.batch, shape.numQHeads, shape.numKVHeads,
                       shape.seqQ, shape.seqKV, shape.headDimQK,
                       shape.headDimV},
        ref);
    for (size_t n = 0; n < expected.output.size(); ++n)
      compare(expected.output[n], n);
  }
  report.referenceMs = millisecondsSince(start);
  report.checked = true;
  report.relL2Error = refSq > 0 ? std::sqrt(errSq / refSq) : std::sqrt(errSq);
  report.bound = elt.isF32() ? 1e-5 : 1e-2;
  report.passed =
      std::isfinite(report.relL2Error) && report.relL2Error <= report.bound;
}

} // namespace

void RunReport::print(llvm::raw_ostream &os) const {
  os << "attention: B=" << batch << " Hq=" << numQHeads << " Hkv=" << numKVHeads
     << " Sq=" << seqQ << " Skv=" << seqKV << " D=" << headDimQK << "/"
     << headDimV << " " << elementType << "\n";
  os << "mask: " << mask << "\n";
  os << "target: " << target << "\n";
  if (!paged.empty())
    os << "paged: " << paged << "\n";
  if (!varlen.empty())
    os << "varlen: " << varlen << "\n";
  if (target == "emulate")
    os << "emulator: " << mmaInstructions << " mma.sync, " << globalBytesRead
       << " global bytes read, " << globalBytesWritten << " written, "
       << barriers << " barriers, all checks passed\n";
  os << "tiles: " << tiles.q << "x" << tiles.kv;
  if (tiles.kvSplits > 1)
    os << ", kv range split in " << tiles.kvSplits;
  os << "\n";
  os << "tiles visited: " << tilesVisited << " of " << tilesDense << " dense ("
     << llvm::format("%.1f%%",
                     tilesDense ? 100.0 * tilesVisited / tilesDense : 0.0)
     << ")\n";
  os << "time: compile " << llvm::format("%.1f", compileMs) << " ms, kernel "
     << llvm::format("%.3f", kernelMs) << " ms (median)";
  if (checked)
    os << ", f64 reference " << llvm::format("%.3f", referenceMs) << " ms";
  os << "\n";
  if (!checked) {
    os << "check: SKIPPED (" << uncheckedReason << ")\n";
    return;
  }
  os << "max abs error: " << llvm::format("%.3e", maxAbsError)
     << ", relative L2 error: " << llvm::format("%.3e", relL2Error)
     << " (bound " << llvm::format("%.0e", bound) << ")\n";
  os << "check: " << (passed ? "PASS" : "FAIL") << "\n";
}

llvm::Expected<RunReport>
mlir::attn::run::runAttention(StringRef text, const RunOptions &options) {
  // The JIT's dialects (regions may use scf, vector, index, ...), so that
  // a file means the same to attn-run as to the JIT. Diagnostics go to a
  // string for the whole run; only a parse error shows them.
  DialectRegistry registry;
  registerAllDialects(registry);
  MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  std::string diagnostics;
  llvm::raw_string_ostream diagOs(diagnostics);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(text, "input"), llvm::SMLoc());
  SourceMgrDiagnosticHandler handler(sourceMgr, &context, diagOs);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return makeError(diagnostics);
  llvm::Expected<AttentionOp> op = findTheAttention(*module);
  if (!op)
    return op.takeError();
  if (hasDynamicSizes(*op))
    if (llvm::Error err = specializeSizes(*op, options))
      return makeError(llvm::toString(std::move(err)) +
                       (diagnostics.empty() ? "" : "\n" + diagnostics));
  if (llvm::Error err = checkMemoryBudget(*op, options.memoryBudgetBytes))
    return std::move(err);

  RunReport report = describeAttention(*op, options);
  llvm::Expected<Kernel> kernel = compileKernel(text, options, report);
  if (!kernel)
    return kernel.takeError();
  RunInputs inputs = makeInputs(*op, options);
  if (const std::optional<PackedBatch> &packed = inputs.packed) {
    llvm::raw_string_ostream os(report.varlen);
    os << packed->size() << " sequences, query lengths [";
    for (int64_t b = 0; b < packed->size(); ++b)
      os << (b ? ", " : "") << packed->lengthQ(b);
    os << "], key lengths [";
    for (int64_t b = 0; b < packed->size(); ++b)
      os << (b ? ", " : "") << packed->lengthK(b);
    os << "]";
  }
  if (const std::optional<PagedCache> &cache = inputs.paged) {
    llvm::raw_string_ostream os(report.paged);
    os << cache->numPages << " pages of " << cache->pageSize
       << " keys, kv lengths [";
    llvm::interleaveComma(cache->lengths, os);
    os << "]";
  }
  if (llvm::Error err =
          runTimed(*kernel, inputs.hostArgs(*op), options, report))
    return std::move(err);
  // The tile shape the kernel was compiled with, from its tiled IR.
  jit::TileShape tiles =
      kernel->host ? kernel->host->tiles() : kernel->emulated->tiles();
  if (!tiles.q || !tiles.kv)
    return makeError("attn-run: the kernel's tiled IR has no attn.tile_update "
                     "to read the tile sizes from");
  countTiles(tiles, options, report);
  if (const std::optional<PackedBatch> &packed = inputs.packed) {
    // Dense is each sequence's own tiles.
    report.tilesDense = 0;
    for (int64_t b = 0; b < packed->size(); ++b)
      report.tilesDense += report.numQHeads *
                           llvm::divideCeil(packed->lengthQ(b), tiles.q) *
                           llvm::divideCeil(packed->lengthK(b), tiles.kv);
  }
  if (std::optional<std::string> reason = whyUnchecked(*op, options)) {
    report.uncheckedReason = *reason;
    return report;
  }
  checkWithReference(*op, inputs, report);
  return report;
}
