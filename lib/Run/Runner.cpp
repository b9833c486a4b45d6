//===- Runner.cpp - Run an attention on random inputs and check it --------===//
//
// attn-run's engine. The reference is a naive f64 attention; it takes the
// mask's element predicate from the mask algebra (itself checked against
// brute force in unittests/Mask) and restates the score modifications, so
// it shares no code with the generated kernel's IR emitters.
//
//===----------------------------------------------------------------------===//

#include "attn/Run/Runner.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/JIT/Compiler.h"
#include "attn/InitAll.h"
#include "attn/Target/PTX/PTX.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/SourceMgr.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::run;

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// What attn-run allocates for `op` (each operand and result in its
/// element type plus its exact f64 copy; the f64 reference's own rows are
/// small), or failure with the budget in the message: a shape of billions
/// of elements is refused before anything is allocated, instead of ending
/// in an out-of-memory abort.
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
    uint64_t eltBytes = elt.isIntOrFloat() ? (elt.getIntOrFloatBitWidth() + 7) / 8
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

/// A buffer in some element type plus the exact values it holds.
struct Buffer {
  std::vector<uint8_t> bytes;
  std::vector<double> exact;
  void *data() { return bytes.data(); }
};

/// Rounds `x` to `type` and appends its storage and exact value.
void append(Buffer &buffer, Type type, double x) {
  auto push = [&](const void *p, size_t n) {
    auto *b = static_cast<const uint8_t *>(p);
    buffer.bytes.insert(buffer.bytes.end(), b, b + n);
  };
  if (type.isF32()) {
    float f = static_cast<float>(x);
    push(&f, 4);
    buffer.exact.push_back(f);
  } else if (type.isF16() || type.isBF16()) {
    APFloat value(x);
    bool lost = false;
    value.convert(type.isF16() ? APFloat::IEEEhalf() : APFloat::BFloat(),
                  APFloat::rmNearestTiesToEven, &lost);
    uint16_t bits =
        static_cast<uint16_t>(value.bitcastToAPInt().getZExtValue());
    push(&bits, 2);
    APFloat widened = value;
    widened.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
    buffer.exact.push_back(widened.convertToDouble());
  } else if (type.isInteger(32)) {
    int32_t i = static_cast<int32_t>(x);
    push(&i, 4);
    buffer.exact.push_back(i);
  } else {
    int64_t i = static_cast<int64_t>(x);
    push(&i, 8);
    buffer.exact.push_back(static_cast<double>(i));
  }
}

Buffer randomBuffer(std::mt19937_64 &rng, Type tensorType, double range) {
  auto type = cast<RankedTensorType>(tensorType);
  std::uniform_real_distribution<double> dist(-range, range);
  Buffer buffer;
  for (int64_t n = 0; n < type.getNumElements(); ++n)
    append(buffer, type.getElementType(), dist(rng));
  return buffer;
}

/// Document ids: per batch row, runs of random length (packed documents).
Buffer segmentBuffer(std::mt19937_64 &rng, Type tensorType) {
  auto type = cast<RankedTensorType>(tensorType);
  Buffer buffer;
  for (int64_t b = 0; b < type.getDimSize(0); ++b) {
    int64_t doc = 0;
    for (int64_t i = 0; i < type.getDimSize(1); ++i) {
      if (rng() % 97 == 0)
        ++doc;
      append(buffer, type.getElementType(), static_cast<double>(doc));
    }
  }
  return buffer;
}

double readOutput(const Buffer &buffer, Type type, size_t n) {
  if (type.isF32()) {
    float f;
    std::memcpy(&f, buffer.bytes.data() + 4 * n, 4);
    return f;
  }
  uint16_t bits;
  std::memcpy(&bits, buffer.bytes.data() + 2 * n, 2);
  APFloat value(type.isF16() ? APFloat::IEEEhalf() : APFloat::BFloat(),
                APInt(16, bits));
  bool lost = false;
  value.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
  return value.convertToDouble();
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

} // namespace

void RunReport::print(llvm::raw_ostream &os) const {
  os << "attention: B=" << batch << " Hq=" << numQHeads << " Hkv=" << numKVHeads
     << " Sq=" << seqQ << " Skv=" << seqKV << " D=" << headDimQK << "/"
     << headDimV << " " << elementType << "\n";
  os << "mask: " << mask << "\n";
  os << "target: " << target << "\n";
  if (target == "emulate")
    os << "emulator: " << mmaInstructions << " mma.sync, "
       << globalBytesRead << " global bytes read, " << globalBytesWritten
       << " written, " << barriers << " barriers, all checks passed\n";
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
  // a file means the same to attn-run as to the JIT.
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
  SmallVector<AttentionOp> ops;
  module->walk([&](AttentionOp op) { ops.push_back(op); });
  if (ops.size() != 1)
    return makeError("attn-run: expected exactly one attn.attention, found " +
                     Twine(ops.size()));
  AttentionOp op = ops.front();
  AttentionShape shape = op.getShape();
  Type elt = op.getQuery().getType().getElementType();
  if (llvm::Error err = checkMemoryBudget(op, options.memoryBudgetBytes))
    return std::move(err);

  RunReport report;
  report.batch = shape.batch;
  report.numQHeads = shape.numQHeads;
  report.numKVHeads = shape.numKVHeads;
  report.seqQ = shape.seqQ;
  report.seqKV = shape.seqKV;
  report.headDimQK = shape.headDimQK;
  report.headDimV = shape.headDimV;
  llvm::raw_string_ostream(report.elementType) << elt;
  llvm::raw_string_ostream(report.mask) << op.getEffectiveMask();

  bool emulate = options.target == Target::Emulate;
  report.target = emulate ? "emulate" : "host";
  int64_t tileQ = emulate ? 64 : options.tileQ;
  int64_t tileKV = emulate ? 64 : options.tileKV;
  jit::Compiler compiler(jit::CompileOptions{options.tileQ, options.tileKV,
                                             /*countTileVisits=*/true});
  auto start = std::chrono::steady_clock::now();
  std::shared_ptr<const jit::HostKernel> hostKernel;
  std::shared_ptr<const jit::EmulatedKernel> emulatedKernel;
  if (emulate) {
    auto kernel = compiler.compileForEmulator(text);
    if (!kernel)
      return kernel.takeError();
    emulatedKernel = *kernel;
  } else {
    auto kernel = compiler.compileForHost(text);
    if (!kernel)
      return kernel.takeError();
    hostKernel = *kernel;
  }
  report.compileMs = millisecondsSince(start);

  std::mt19937_64 rng(options.seed);
  Buffer q = randomBuffer(rng, op.getQuery().getType(), 1.0);
  Buffer k = randomBuffer(rng, op.getKey().getType(), 1.0);
  Buffer v = randomBuffer(rng, op.getValue().getType(), 1.0);
  Buffer bias, qIds, kvIds;
  if (op.getBias())
    bias = randomBuffer(rng, op.getBias().getType(), 2.0);
  if (op.getQSegmentIds()) {
    qIds = segmentBuffer(rng, op.getQSegmentIds().getType());
    kvIds = segmentBuffer(rng, op.getKvSegmentIds().getType());
  }
  // Captured tensors: small non-negative integers (usable as lengths or
  // indices) or floats in [-1, 1].
  std::vector<Buffer> captureBuffers;
  std::vector<const void *> capturePointers;
  for (Value capture : op.getCaptures()) {
    auto type = cast<RankedTensorType>(capture.getType());
    Buffer buffer;
    for (int64_t n = 0; n < type.getNumElements(); ++n)
      append(buffer, type.getElementType(),
             isa<FloatType>(type.getElementType())
                 ? std::uniform_real_distribution<double>(-1, 1)(rng)
                 : static_cast<double>(rng() % 64));
    captureBuffers.push_back(std::move(buffer));
  }
  for (Buffer &buffer : captureBuffers)
    capturePointers.push_back(buffer.data());
  auto outType = cast<RankedTensorType>(op.getOutput().getType());
  Buffer out;
  out.bytes.assign(outType.getNumElements() * (elt.isF32() ? 4 : 2),
                   0xff); // NaN in every element type
  std::vector<float> lse(
      op.getLogsumexp() ? shape.batch * shape.numQHeads * shape.seqQ : 0);
  jit::HostArgs args;
  args.query = q.data();
  args.key = k.data();
  args.value = v.data();
  args.bias = op.getBias() ? bias.data() : nullptr;
  args.qSegmentIds = op.getQSegmentIds() ? qIds.data() : nullptr;
  args.kvSegmentIds = op.getQSegmentIds() ? kvIds.data() : nullptr;
  args.output = out.data();
  args.logsumexp = lse.empty() ? nullptr : lse.data();
  args.captures = capturePointers.data();
  args.numCaptures = capturePointers.size();

  std::vector<double> times;
  for (int r = 0; r < std::max(1, options.repetitions); ++r) {
    auto runStart = std::chrono::steady_clock::now();
    if (hostKernel) {
      if (llvm::Error err = hostKernel->run(args, &report.tilesVisited))
        return std::move(err);
    } else {
      emu::Counters counters;
      if (llvm::Error err = emulatedKernel->run(args, &counters,
                                                /*hostThreads=*/2))
        return std::move(err);
      // Each visited (q tile, kv tile) block runs a fixed number of
      // mma.sync per warp (four warps): QK^T and PV.
      uint64_t perBlock = 4 * ((shape.headDimQK / 16) * 8 +
                               4 * (shape.headDimV / 8));
      report.tilesVisited =
          static_cast<int64_t>(counters.mmaInstructions / perBlock);
      report.mmaInstructions = counters.mmaInstructions;
      report.globalBytesRead = counters.globalBytesRead;
      report.globalBytesWritten = counters.globalBytesWritten;
      report.barriers = counters.barriers;
    }
    times.push_back(millisecondsSince(runStart));
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2,
                   times.end());
  report.kernelMs = times[times.size() / 2];
  int64_t qTiles = llvm::divideCeil(shape.seqQ, tileQ);
  int64_t kvTiles = llvm::divideCeil(shape.seqKV, tileKV);
  report.tilesDense = shape.batch * shape.numQHeads * qTiles * kvTiles;

  if (!options.check) {
    report.uncheckedReason = "--no-check";
    return report;
  }
  if (!op.getScoreModRegion().empty()) {
    report.uncheckedReason = "the f64 reference cannot evaluate score_mod "
                             "regions";
    return report;
  }
  if (maskContains<CustomMaskAttr>(op.getEffectiveMask()) &&
      failed(interpretMaskModRegion(op.getMaskMod()))) {
    report.uncheckedReason = "the f64 reference can only evaluate mask_mod "
                             "regions of integer arithmetic";
    return report;
  }

  // The naive f64 reference.
  start = std::chrono::steady_clock::now();
  mask::MaskRef maskObj = op.buildMask();
  std::vector<int64_t> qIds64(qIds.exact.begin(), qIds.exact.end());
  std::vector<int64_t> kvIds64(kvIds.exact.begin(), kvIds.exact.end());
  mask::MaskContext mctx;
  mctx.seqQ = shape.seqQ;
  mctx.seqKV = shape.seqKV;
  mctx.qSegmentIds = qIds64.empty() ? nullptr : qIds64.data();
  mctx.kvSegmentIds = kvIds64.empty() ? nullptr : kvIds64.data();
  double scale = op.getEffectiveScale();
  int64_t group = shape.numQHeads / shape.numKVHeads;
  ArrayRef<int64_t> biasShape =
      op.getBias() ? cast<RankedTensorType>(op.getBias().getType()).getShape()
                   : ArrayRef<int64_t>();
  double errSq = 0, refSq = 0;
  std::vector<double> scores(shape.seqKV);
  std::vector<char> kept(shape.seqKV);
  for (int64_t b = 0; b < shape.batch; ++b)
    for (int64_t h = 0; h < shape.numQHeads; ++h)
      for (int64_t i = 0; i < shape.seqQ; ++i) {
        int64_t g = h / group;
        double m = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < shape.seqKV; ++j) {
          double dot = 0;
          for (int64_t d = 0; d < shape.headDimQK; ++d)
            dot += q.exact[((b * shape.numQHeads + h) * shape.seqQ + i) *
                               shape.headDimQK +
                           d] *
                   k.exact[((b * shape.numKVHeads + g) * shape.seqKV + j) *
                               shape.headDimQK +
                           d];
          double s = dot * scale;
          if (op.getBias()) {
            int64_t bb = biasShape[0] == 1 ? 0 : b;
            int64_t bh = biasShape[1] == 1 ? 0 : h;
            s += bias.exact[((bb * biasShape[1] + bh) * shape.seqQ + i) *
                                shape.seqKV +
                            j];
          }
          if (!applyScoreMod(op.getScoreModAttr(), s, h, i, j,
                             shape.numQHeads)) {
            report.uncheckedReason = "unknown score modification";
            return report;
          }
          scores[j] = s;
          kept[j] = maskObj->isKept(mctx, b, h, i, j);
          if (kept[j])
            m = std::max(m, s);
        }
        double sum = 0;
        for (int64_t j = 0; j < shape.seqKV; ++j)
          if (kept[j])
            sum += std::exp(scores[j] - m);
        for (int64_t d = 0; d < shape.headDimV; ++d) {
          double ref = 0;
          if (sum > 0) {
            for (int64_t j = 0; j < shape.seqKV; ++j)
              if (kept[j])
                ref += std::exp(scores[j] - m) *
                       v.exact[((b * shape.numKVHeads + g) * shape.seqKV + j) *
                                   shape.headDimV +
                               d];
            ref /= sum;
          }
          size_t n =
              ((b * shape.numQHeads + h) * shape.seqQ + i) * shape.headDimV + d;
          double got = readOutput(out, elt, n);
          double err = std::isfinite(got)
                           ? std::abs(got - ref)
                           : std::numeric_limits<double>::infinity();
          report.maxAbsError = std::max(report.maxAbsError, err);
          errSq += err * err;
          refSq += ref * ref;
        }
      }
  report.referenceMs = millisecondsSince(start);
  report.checked = true;
  report.relL2Error = refSq > 0 ? std::sqrt(errSq / refSq) : std::sqrt(errSq);
  report.bound = elt.isF32() ? 1e-5 : 1e-2;
  report.passed =
      std::isfinite(report.relL2Error) && report.relL2Error <= report.bound;
  return report;
}
