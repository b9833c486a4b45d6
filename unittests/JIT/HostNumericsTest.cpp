//===- HostNumericsTest.cpp - Host JIT against an f64 reference ----------===//
//
// Every attention variant runs through the whole host path (attn-tile,
// attn-online-softmax, attn-to-host, ExecutionEngine) and is compared with
// the naive f64 attention of attn/Run/Reference.h, which shares no code
// with the compiler: masks and score modifications are restated here from
// their documented definitions. Bounds: relative L2 error <= 1e-5 for f32 and
// <= 1e-2 for f16/bf16 (inputs are rounded to the dtype first, so the
// bound measures the kernel, not the input quantisation); NaN never
// passes. The matrix is sampled so that every value of every axis appears.
//
//===----------------------------------------------------------------------===//

#include "attn/JIT/Compiler.h"
#include "attn/Mask/Mask.h"
#include "attn/Run/Reference.h"

#include "../Support/Dtypes.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <thread>

using namespace mlir::attn::jit;

namespace {

using attn_test::fromBf16Bits;
using attn_test::fromF16Bits;
using attn_test::toBf16Bits;
using attn_test::toF16Bits;

/// A tensor in the kernel's element type plus the exact values it holds.
struct Tensor {
  std::vector<float> f32;
  std::vector<uint16_t> half;
  std::vector<double> exact;
  const void *data() const {
    return half.empty() ? static_cast<const void *>(f32.data())
                        : static_cast<const void *>(half.data());
  }
};

Tensor randomTensor(std::mt19937_64 &rng, size_t n, ElementType type,
                    double range) {
  std::uniform_real_distribution<float> dist(-range, range);
  Tensor t;
  for (size_t i = 0; i < n; ++i) {
    float x = dist(rng);
    if (type == ElementType::F32) {
      t.f32.push_back(x);
      t.exact.push_back(x);
    } else if (type == ElementType::F16) {
      t.half.push_back(toF16Bits(x));
      t.exact.push_back(fromF16Bits(t.half.back()));
    } else {
      t.half.push_back(toBf16Bits(x));
      t.exact.push_back(fromBf16Bits(t.half.back()));
    }
  }
  return t;
}

// --- the reference ---------------------------------------------------------

using KeepFn = std::function<bool(int64_t b, int64_t h, int64_t i, int64_t j)>;
using ModFn =
    std::function<double(double s, int64_t b, int64_t h, int64_t i, int64_t j)>;

struct Case {
  std::string name;
  AttentionSpec spec;
  KeepFn keep; // null: keep everything
  ModFn mod;   // null: identity
  double inputRange = 1.0;
};

/// The f64 reference on the exact inputs: O and lse for every (b, h, i).
void reference(const Case &c, const Tensor &q, const Tensor &k, const Tensor &v,
               const std::vector<float> &bias, std::vector<double> &out,
               std::vector<double> &lse) {
  const AttentionSpec &s = c.spec;
  std::vector<double> biasExact(bias.begin(), bias.end());
  mlir::attn::run::ReferenceInputs in;
  in.query = q.exact;
  in.key = k.exact;
  in.value = v.exact;
  if (s.hasBias)
    in.bias = biasExact;
  in.biasBatch = s.batch;
  in.biasHeads = s.numQHeads;
  in.scale = s.scale ? *s.scale : 1.0 / std::sqrt(double(s.headDimQK));
  if (c.keep)
    in.keep = c.keep;
  if (c.mod)
    in.modify = c.mod;
  mlir::attn::run::ReferenceResult result = mlir::attn::run::referenceAttention(
      {s.batch, s.numQHeads, s.numKVHeads, s.seqQ, s.seqKV, s.headDimQK,
       s.headDimV},
      in);
  out = std::move(result.output);
  lse = std::move(result.logsumexp);
}

double outputValue(const Case &c, const std::vector<float> &f32,
                   const std::vector<uint16_t> &half, size_t idx) {
  switch (c.spec.elementType) {
  case ElementType::F32:
    return f32[idx];
  case ElementType::F16:
    return fromF16Bits(half[idx]);
  case ElementType::BF16:
    return fromBf16Bits(half[idx]);
  }
  return 0;
}

/// Expects the kernel's O (in `outF32` or `outHalf`) and lse to match the
/// reference's within the bounds of the case's element type.
void expectNearReference(const Case &c, const std::vector<float> &outF32,
                         const std::vector<uint16_t> &outHalf,
                         const std::vector<float> &lse,
                         const std::vector<double> &refOut,
                         const std::vector<double> &refLse) {
  const AttentionSpec &s = c.spec;
  size_t outSize = refOut.size();
  double errSq = 0, refSq = 0;
  for (size_t n = 0; n < outSize; ++n) {
    double got = outputValue(c, outF32, outHalf, n);
    ASSERT_TRUE(std::isfinite(got)) << "output " << n << " is " << got;
    errSq += (got - refOut[n]) * (got - refOut[n]);
    refSq += refOut[n] * refOut[n];
  }
  double bound = s.elementType == ElementType::F32 ? 1e-5 : 1e-2;
  double relErr = refSq > 0 ? std::sqrt(errSq / refSq) : std::sqrt(errSq);
  EXPECT_LE(relErr, bound) << "relative L2 error of the output";
  if (s.withLogsumexp)
    for (size_t n = 0; n < lse.size(); ++n) {
      if (std::isinf(refLse[n])) {
        EXPECT_TRUE(std::isinf(lse[n]) && lse[n] < 0)
            << "lse " << n << " of a fully masked row is " << lse[n];
        continue;
      }
      ASSERT_TRUE(std::isfinite(lse[n])) << "lse " << n << " is " << lse[n];
      EXPECT_NEAR(lse[n], refLse[n],
                  (s.elementType == ElementType::F32 ? 1e-4 : 2e-2) *
                      std::max(1.0, std::abs(refLse[n])))
          << "lse " << n;
    }
}

/// `n` NaNs of `type` (quiet NaN bits for f16 and bf16): a buffer whose
/// unwritten or unread elements show.
Tensor nanTensor(size_t n, ElementType type) {
  Tensor t;
  if (type == ElementType::F32)
    t.f32.assign(n, std::nanf(""));
  else
    t.half.assign(n, type == ElementType::F16 ? 0x7e00 : 0x7fc0);
  return t;
}

/// dst[to] = src[from], in their (shared) element type.
void copyElement(const Tensor &src, size_t from, Tensor &dst, size_t to) {
  if (!src.f32.empty())
    dst.f32[to] = src.f32[from];
  else
    dst.half[to] = src.half[from];
}

/// NaN-filled output buffers of `outSize` elements (f32, or 16-bit for
/// f16 and bf16: a quiet NaN in both) and `lseSize` logsumexp values, so
/// that an element the kernel does not write shows.
struct OutputBuffers {
  std::vector<float> f32, lse;
  std::vector<uint16_t> half;
  OutputBuffers(size_t outSize, size_t lseSize)
      : f32(outSize, std::nanf("")), lse(lseSize, std::nanf("")),
        half(outSize, 0x7e00) {}
  /// Points `args`' output and logsumexp at these.
  void bind(HostArgs &args, ElementType type) {
    args.output = type == ElementType::F32 ? static_cast<void *>(f32.data())
                                           : static_cast<void *>(half.data());
    args.logsumexp = lse.data();
  }
};

enum class Target { Host, Emulator };

/// Compiles and runs one case on `target`, returns the relative L2 error of
/// O (and checks lse), failing the test on NaN or compile errors. Emulated
/// runs report their counters in `counters`.
void runCase(Compiler &compiler, const Case &c, uint64_t seed,
             Target target = Target::Host,
             mlir::attn::emu::Counters *counters = nullptr) {
  SCOPED_TRACE(c.name);
  if (getenv("ATTN_TEST_VERBOSE"))
    fprintf(stderr, "case %s\n", c.name.c_str());
  const AttentionSpec &s = c.spec;
  std::shared_ptr<const HostKernel> hostKernel;
  std::shared_ptr<const EmulatedKernel> emulatedKernel;
  if (target == Target::Host) {
    auto kernel = compiler.compileForHost(s);
    ASSERT_TRUE(static_cast<bool>(kernel))
        << llvm::toString(kernel.takeError()) << "\n"
        << s.toMLIR();
    hostKernel = *kernel;
  } else {
    auto kernel = compiler.compileForEmulator(s);
    ASSERT_TRUE(static_cast<bool>(kernel))
        << llvm::toString(kernel.takeError()) << "\n"
        << s.toMLIR();
    emulatedKernel = *kernel;
  }
  std::mt19937_64 rng(seed);
  Tensor q = randomTensor(rng, s.batch * s.numQHeads * s.seqQ * s.headDimQK,
                          s.elementType, c.inputRange);
  Tensor k = randomTensor(rng, s.batch * s.numKVHeads * s.seqKV * s.headDimQK,
                          s.elementType, c.inputRange);
  Tensor v = randomTensor(rng, s.batch * s.numKVHeads * s.seqKV * s.headDimV,
                          s.elementType, 1.0);
  std::vector<float> bias;
  if (s.hasBias) {
    std::uniform_real_distribution<float> dist(-2, 2);
    for (int64_t n = 0; n < s.batch * s.numQHeads * s.seqQ * s.seqKV; ++n)
      bias.push_back(dist(rng));
  }
  // Packed documents: runs of random length.
  std::vector<int32_t> qIds, kvIds;
  if (s.hasSegmentIds) {
    for (int64_t b = 0; b < s.batch; ++b) {
      int32_t doc = 0;
      for (int64_t i = 0; i < s.seqQ; ++i) {
        if (rng() % 23 == 0)
          ++doc;
        qIds.push_back(doc);
      }
      doc = 0;
      for (int64_t j = 0; j < s.seqKV; ++j) {
        if (rng() % 23 == 0)
          ++doc;
        kvIds.push_back(doc);
      }
    }
  }
  size_t outSize = s.batch * s.numQHeads * s.seqQ * s.headDimV;
  // Poison the outputs so that unwritten elements cannot pass.
  std::vector<float> outF32(outSize, std::nanf(""));
  std::vector<uint16_t> outHalf(outSize, 0x7e00);
  std::vector<float> lse(s.batch * s.numQHeads * s.seqQ, std::nanf(""));
  HostArgs args;
  args.query = q.data();
  args.key = k.data();
  args.value = v.data();
  args.bias = s.hasBias ? bias.data() : nullptr;
  args.qSegmentIds = s.hasSegmentIds ? qIds.data() : nullptr;
  args.kvSegmentIds = s.hasSegmentIds ? kvIds.data() : nullptr;
  args.output = s.elementType == ElementType::F32
                    ? static_cast<void *>(outF32.data())
                    : static_cast<void *>(outHalf.data());
  args.logsumexp = s.withLogsumexp ? lse.data() : nullptr;
  if (s.dynamicSizes) {
    args.batch = s.batch;
    args.seqQ = s.seqQ;
    args.seqKV = s.seqKV;
  }
  llvm::Error err = hostKernel ? hostKernel->run(args)
                               : emulatedKernel->run(args, counters,
                                                     /*hostThreads=*/2);
  std::string message = err ? llvm::toString(std::move(err)) : "";
  if (!message.empty())
    fprintf(stderr, "run error: %s\n", message.c_str());
  ASSERT_TRUE(message.empty()) << message;

  Case withIds = c;
  if (s.hasSegmentIds) {
    KeepFn inner = c.keep;
    withIds.keep = [&, inner](int64_t b, int64_t h, int64_t i, int64_t j) {
      bool same = qIds[b * s.seqQ + i] == kvIds[b * s.seqKV + j];
      return same && (!inner || inner(b, h, i, j));
    };
  }
  std::vector<double> refOut, refLse;
  reference(withIds, q, k, v, bias, refOut, refLse);

  expectNearReference(c, outF32, outHalf, lse, refOut, refLse);
}

// --- the matrix --------------------------------------------------------------

struct Shape {
  int64_t numQHeads, numKVHeads, headDimQK, headDimV, seqQ, seqKV;
};

AttentionSpec makeSpec(const Shape &shape, ElementType type) {
  AttentionSpec spec;
  spec.batch = 1;
  spec.numQHeads = shape.numQHeads;
  spec.numKVHeads = shape.numKVHeads;
  spec.headDimQK = shape.headDimQK;
  spec.headDimV = shape.headDimV;
  spec.seqQ = shape.seqQ;
  spec.seqKV = shape.seqKV;
  spec.elementType = type;
  spec.withLogsumexp = true;
  return spec;
}

struct MaskCase {
  std::string name, mask, maskModBody;
  bool segments = false;
  std::function<KeepFn(const AttentionSpec &)> keep;
  /// Builds the mask text from the spec when it depends on the lengths.
  std::function<std::string(const AttentionSpec &)> maskFor;
};

/// A block layout of 16 x 16 blocks sized to the sequence, keeping block
/// (r, c) iff (r + 2c) % 3 != 1.
std::string blockLayoutFor(const AttentionSpec &s) {
  int64_t rows = (s.seqQ + 15) / 16, cols = (s.seqKV + 15) / 16;
  std::string text = "#attn.block_layout<block = [16, 16], layout = dense<[";
  for (int64_t r = 0; r < rows; ++r) {
    text += r ? ", [" : "[";
    for (int64_t c = 0; c < cols; ++c)
      text += std::string(c ? ", " : "") +
              ((r + 2 * c) % 3 != 1 ? "true" : "false");
    text += "]";
  }
  return text + "]> : tensor<" + std::to_string(rows) + "x" +
         std::to_string(cols) + "xi1>>";
}

std::vector<MaskCase> maskCases() {
  auto band = [](int64_t lo, int64_t hi, bool bottomRight) {
    return [=](const AttentionSpec &s) -> KeepFn {
      int64_t off = bottomRight ? s.seqKV - s.seqQ : 0;
      return [=](int64_t, int64_t, int64_t i, int64_t j) {
        int64_t d = j - (i + off);
        return lo <= d && d <= hi;
      };
    };
  };
  const int64_t inf = int64_t{1} << 40;
  return {
      {"none", "", "", false, nullptr, nullptr},
      {"causal", "#attn.causal", "", false, band(-inf, 0, false), nullptr},
      {"causal_bottom_right", "#attn.causal<bottom_right>", "", false,
       band(-inf, 0, true), nullptr},
      {"window", "#attn.window<left = 40, right = 3>", "", false,
       band(-40, 3, false), nullptr},
      {"dilated", "#attn.dilated<window = 5, dilation = 3>", "", false,
       [](const AttentionSpec &) -> KeepFn {
         return [](int64_t, int64_t, int64_t i, int64_t j) {
           int64_t d = j - i;
           return d % 3 == 0 && std::abs(d) <= 15;
         };
       },
       nullptr},
      {"global",
       "#attn.union<[#attn.window<left = 8, right = 8>, "
       "#attn.global<first = 2>]>",
       "", false,
       [](const AttentionSpec &) -> KeepFn {
         return [](int64_t, int64_t, int64_t i, int64_t j) {
           return std::abs(j - i) <= 8 || i < 2 || j < 2;
         };
       },
       nullptr},
      {"block_layout", "", "", false,
       [](const AttentionSpec &) -> KeepFn {
         return [](int64_t, int64_t, int64_t i, int64_t j) {
           return (i / 16 + 2 * (j / 16)) % 3 != 1;
         };
       },
       blockLayoutFor},
      // The blocks a seed selects are defined by the mask algebra's
      // generator (checked on its own in unittests/Mask); the reference
      // takes the selection from there and does the rest independently.
      {"random_blocks",
       "#attn.random_blocks<block = 16, per_row = 2, seed = 9>", "", false,
       [](const AttentionSpec &s) -> KeepFn {
         auto blocks = mlir::attn::mask::makeRandomBlocks(16, 2, 9);
         mlir::attn::mask::MaskContext ctx;
         ctx.seqQ = s.seqQ;
         ctx.seqKV = s.seqKV;
         return [=](int64_t, int64_t, int64_t i, int64_t j) {
           return blocks->isKept(ctx, 0, 0, i, j);
         };
       },
       nullptr},
      {"prefix_lm", "#attn.prefix_lm<prefix = 20>", "", false,
       [](const AttentionSpec &) -> KeepFn {
         return [](int64_t, int64_t, int64_t i, int64_t j) {
           return j < 20 || j <= i;
         };
       },
       nullptr},
      {"document", "#attn.intersection<[#attn.causal, #attn.document]>", "",
       true, band(-inf, 0, false), nullptr},
      {"intersection",
       "#attn.intersection<[#attn.causal, "
       "#attn.complement<#attn.window<left = 4, right = 0>>]>",
       "", false,
       [](const AttentionSpec &) -> KeepFn {
         return [](int64_t, int64_t, int64_t i, int64_t j) {
           return j <= i && !(j - i >= -4);
         };
       },
       nullptr},
      {"mask_mod", "",
       "      %c16 = arith.constant 16 : index\n"
       "      %bi = arith.divui %i, %c16 : index\n"
       "      %bj = arith.divui %j, %c16 : index\n"
       "      %le = arith.cmpi ule, %bj, %bi : index\n"
       "      %h0 = arith.constant 0 : index\n"
       "      %head0 = arith.cmpi eq, %h, %h0 : index\n"
       "      %keep = arith.ori %le, %head0 : i1\n"
       "      attn.yield %keep : i1",
       false,
       [](const AttentionSpec &) -> KeepFn {
         return [](int64_t, int64_t h, int64_t i, int64_t j) {
           return j / 16 <= i / 16 || h == 0;
         };
       },
       nullptr},
  };
}

/// Gives `c` (its spec's shape already set) the mask of `m` and the
/// matching reference predicate.
void applyMask(Case &c, const MaskCase &m) {
  c.spec.mask = m.maskFor ? m.maskFor(c.spec) : m.mask;
  c.spec.maskModBody = m.maskModBody;
  c.spec.hasSegmentIds = m.segments;
  c.keep = m.keep ? m.keep(c.spec) : nullptr;
}

/// The case of maskCases() called `name`.
MaskCase maskCase(const std::string &name) {
  for (MaskCase &m : maskCases())
    if (m.name == name)
      return m;
  ADD_FAILURE() << "no mask case " << name;
  return {};
}

TEST(HostNumerics, MaskMatrix) {
  // Each mask runs on several (heads, dims, lengths, dtype) combinations,
  // rotating through every value of every axis.
  std::vector<Shape> heads = {
      {4, 4, 0, 0, 0, 0}, {8, 2, 0, 0, 0, 0}, {4, 1, 0, 0, 0, 0}};
  std::vector<std::pair<int64_t, int64_t>> dims = {
      {64, 64}, {128, 128}, {192, 128}};
  std::vector<std::pair<int64_t, int64_t>> lengths = {
      {1, 1}, {17, 17}, {127, 127}, {33, 70}, {1, 300}, {300, 129}};
  std::vector<ElementType> types = {ElementType::F32, ElementType::F16,
                                    ElementType::BF16};
  Compiler compiler(CompileOptions{32, 32});
  uint64_t seed = 1;
  int index = 0;
  for (const MaskCase &m : maskCases()) {
    for (int rep = 0; rep < 3; ++rep, ++index) {
      Shape shape = heads[index % heads.size()];
      std::tie(shape.headDimQK, shape.headDimV) = dims[(index / 3) % 3];
      std::tie(shape.seqQ, shape.seqKV) = lengths[index % lengths.size()];
      ElementType type = types[(index + rep) % types.size()];
      Case c;
      c.spec = makeSpec(shape, type);
      applyMask(c, m);
      c.name = m.name + " Hq=" + std::to_string(shape.numQHeads) +
               " Hkv=" + std::to_string(shape.numKVHeads) +
               " D=" + std::to_string(shape.headDimQK) + "/" +
               std::to_string(shape.headDimV) +
               " S=" + std::to_string(shape.seqQ) + "x" +
               std::to_string(shape.seqKV) +
               " dtype=" + std::to_string(static_cast<int>(type));
      runCase(compiler, c, seed++);
    }
  }
}

// One kernel for every length: a spec with '?' for the batch and both
// lengths compiles once and runs at three sizes, each against the f64
// reference, for every mask family whose tile map does not need the
// lengths at compile time (GQA, a head dim pair, f32 and bf16).
TEST(HostNumerics, RunTimeSizes) {
  const std::vector<std::tuple<int64_t, int64_t, int64_t>> sizes = {
      {1, 37, 200}, {2, 64, 64}, {1, 130, 17}};
  Compiler compiler(CompileOptions{32, 32});
  uint64_t seed = 7;
  int64_t specs = 0;
  for (const MaskCase &m : maskCases()) {
    if (m.maskFor || m.name == "random_blocks")
      continue; // tile tables built from the lengths at compile time
    for (ElementType type : {ElementType::F32, ElementType::BF16}) {
      ++specs;
      for (auto [batch, seqQ, seqKV] : sizes) {
        Case c;
        c.spec = makeSpec({4, 2, 64, 32, seqQ, seqKV}, type);
        c.spec.batch = batch;
        c.spec.dynamicSizes = true;
        applyMask(c, m);
        c.name = m.name + " B=" + std::to_string(batch) +
                 " S=" + std::to_string(seqQ) + "x" + std::to_string(seqKV) +
                 " dtype=" + std::to_string(static_cast<int>(type));
        runCase(compiler, c, seed++);
      }
    }
  }
  EXPECT_GE(specs, 20);
  // Each spec compiled once; its other two sizes were cache hits.
  EXPECT_EQ(compiler.cacheMisses(), specs);
  EXPECT_EQ(compiler.cacheHits(), 2 * specs);
}

// What a kernel with run-time sizes says of its buffers, and the errors
// for sizes that are missing, negative or contradict the spec.
TEST(HostJIT, RunTimeSizesAreChecked) {
  AttentionSpec spec;
  spec.numQHeads = 2;
  spec.numKVHeads = 1;
  spec.headDimQK = spec.headDimV = 32;
  spec.withLogsumexp = true;
  spec.hasSegmentIds = true;
  spec.mask = "#attn.document";
  spec.dynamicSizes = true;
  Compiler compiler;
  auto kernel = compiler.compileForHost(spec);
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  const std::vector<KernelArgument> &args = (*kernel)->arguments();
  ASSERT_EQ(args.size(), 7u);
  const int64_t dyn = KernelArgument::kDynamic;
  EXPECT_EQ(args[0].name, "query");
  EXPECT_EQ(args[0].elementType, "f32");
  EXPECT_EQ(args[0].shape, (std::vector<int64_t>{dyn, 2, dyn, 32}));
  EXPECT_EQ(args[0].runSize,
            (std::vector<std::string>{"batch", "", "seqQ", ""}));
  EXPECT_EQ(args[1].role, KernelArgument::Role::Key);
  EXPECT_EQ(args[1].shape, (std::vector<int64_t>{dyn, 1, dyn, 32}));
  EXPECT_EQ(args[1].runSize[2], "seqKV");
  EXPECT_EQ(args[3].role, KernelArgument::Role::QSegmentIds);
  EXPECT_EQ(args[3].elementType, "i32");
  EXPECT_EQ(args[4].runSize, (std::vector<std::string>{"batch", "seqKV"}));
  EXPECT_EQ(args[6].role, KernelArgument::Role::Logsumexp);
  EXPECT_EQ(args[6].shape, (std::vector<int64_t>{dyn, 2, dyn}));

  std::vector<float> q(2 * 2 * 5 * 32), k(2 * 3 * 32), v(2 * 3 * 32);
  std::vector<float> out(q.size()), lse(2 * 2 * 5);
  std::vector<int32_t> ids(2 * 5);
  HostArgs host;
  host.query = q.data();
  host.key = k.data();
  host.value = v.data();
  host.qSegmentIds = host.kvSegmentIds = ids.data();
  host.output = out.data();
  host.logsumexp = lse.data();
  auto message = [&](const HostArgs &a) {
    llvm::Error err = (*kernel)->run(a);
    return err ? llvm::toString(std::move(err)) : std::string();
  };
  EXPECT_NE(message(host).find("this kernel's batch is dynamic ('?' in its "
                               "spec); HostArgs::batch must state it"),
            std::string::npos);
  host.batch = 2;
  host.seqQ = 5;
  host.seqKV = -3;
  EXPECT_NE(message(host).find("HostArgs::seqKV is -3"), std::string::npos);
  host.seqKV = 3;
  EXPECT_EQ(message(host), "");

  // A static spec takes 0 or its own sizes, nothing else.
  spec.dynamicSizes = false;
  spec.batch = 2;
  spec.seqQ = 5;
  spec.seqKV = 3;
  auto fixed = compiler.compileForHost(spec);
  ASSERT_TRUE(static_cast<bool>(fixed)) << llvm::toString(fixed.takeError());
  EXPECT_EQ((*fixed)->arguments()[0].shape,
            (std::vector<int64_t>{2, 2, 5, 32}));
  auto fixedMessage = [&](const HostArgs &a) {
    llvm::Error err = (*fixed)->run(a);
    return err ? llvm::toString(std::move(err)) : std::string();
  };
  EXPECT_EQ(fixedMessage(host), "");
  host.seqQ = 6;
  EXPECT_NE(fixedMessage(host).find("HostArgs::seqQ is 6 but this kernel was "
                                    "compiled for 5"),
            std::string::npos);
  host.batch = host.seqQ = host.seqKV = 0;
  EXPECT_EQ(fixedMessage(host), "");

  // A '?' next to a static dim of another buffer takes the static size:
  // a stated size must match it (the key's 2 x .. x 150, the bias's 8 x 8;
  // the bias's batch 1 broadcasts), else the kernel would read past them.
  auto mixedMessage = [&](const std::string &text, int64_t batch, int64_t seqQ,
                          int64_t seqKV) {
    auto k = compiler.compileForHost(text);
    if (!k)
      return "compile: " + llvm::toString(k.takeError());
    std::vector<float> buf(4 * 4 * 200 * 64);
    HostArgs a;
    a.query = a.key = a.value = a.bias = buf.data();
    a.output = buf.data();
    a.batch = batch;
    a.seqQ = seqQ;
    a.seqKV = seqKV;
    llvm::Error err = (*k)->run(a);
    return err ? llvm::toString(std::move(err)) : std::string();
  };
  std::string staticKey = R"mlir(
    func.func @f(%q: tensor<?x4x?x64xf32>, %k: tensor<2x2x150x64xf32>,
                 %v: tensor<?x2x?x64xf32>) -> tensor<?x4x?x64xf32> {
      %o = attn.attention %q, %k, %v : tensor<?x4x?x64xf32>,
          tensor<2x2x150x64xf32>, tensor<?x2x?x64xf32> -> tensor<?x4x?x64xf32>
      return %o : tensor<?x4x?x64xf32>
    })mlir";
  EXPECT_NE(mixedMessage(staticKey, 3, 37, 0)
                .find("HostArgs::batch is 3 but this kernel was compiled "
                      "for 2"),
            std::string::npos);
  EXPECT_NE(mixedMessage(staticKey, 2, 37, 99)
                .find("HostArgs::seqKV is 99 but this kernel was compiled "
                      "for 150"),
            std::string::npos);
  EXPECT_EQ(mixedMessage(staticKey, 2, 37, 0), "");
  std::string staticBias = R"mlir(
    func.func @f(%q: tensor<?x2x?x16xf32>, %k: tensor<?x2x?x16xf32>,
                 %v: tensor<?x2x?x16xf32>, %b: tensor<1x1x8x8xf32>)
        -> tensor<?x2x?x16xf32> {
      %o = attn.attention %q, %k, %v bias(%b : tensor<1x1x8x8xf32>)
          : tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>
          -> tensor<?x2x?x16xf32>
      return %o : tensor<?x2x?x16xf32>
    })mlir";
  EXPECT_NE(mixedMessage(staticBias, 3, 3000, 3000)
                .find("HostArgs::seqQ is 3000 but this kernel was compiled "
                      "for 8"),
            std::string::npos);
  EXPECT_EQ(mixedMessage(staticBias, 3, 8, 8), "");

  // Only the batch and the lengths may be dynamic (the verifier refuses
  // dynamic head counts and head dims; a captured table stays static), and
  // only on the host.
  std::string dynamicCapture = R"mlir(
    func.func @f(%q: tensor<1x2x?x32xf32>, %k: tensor<1x2x?x32xf32>,
                 %v: tensor<1x2x?x32xf32>, %kb: tensor<?xf32>)
        -> tensor<1x2x?x32xf32> {
      %o = attn.attention %q, %k, %v captures(%kb : tensor<?xf32>)
          score_mod {
          ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index,
               %x: tensor<?xf32>):
            %xj = tensor.extract %x[%j] : tensor<?xf32>
            %t = arith.addf %s, %xj : f32
            attn.yield %t : f32
          }
          : tensor<1x2x?x32xf32>, tensor<1x2x?x32xf32>, tensor<1x2x?x32xf32>
          -> tensor<1x2x?x32xf32>
      return %o : tensor<1x2x?x32xf32>
    })mlir";
  auto captured = compiler.compileForHost(dynamicCapture);
  ASSERT_FALSE(static_cast<bool>(captured));
  std::string capturedError = llvm::toString(captured.takeError());
  EXPECT_NE(capturedError.find(
                "attention:5:12: error: the host JIT takes the batch and the "
                "sequence lengths at run time; the head counts, head dims, "
                "captured tensors and block layouts' block counts must be "
                "static, but the captured tensor is 'tensor<?xf32>'"),
            std::string::npos)
      << capturedError;
  spec.dynamicSizes = true;
  spec.elementType = ElementType::F16;
  spec.hasSegmentIds = false;
  spec.mask.clear();
  auto emulated = compiler.compileForEmulator(spec);
  ASSERT_FALSE(static_cast<bool>(emulated));
  std::string emulatedError = llvm::toString(emulated.takeError());
  EXPECT_NE(emulatedError.find("the GPU JIT needs static shapes"),
            std::string::npos)
      << emulatedError;
}

// A causal linear attention takes equal lengths at run time.
TEST(HostJIT, RunTimeSizesOfCausalLinearAttention) {
  std::string text =
      "func.func @f(%q: tensor<1x2x?x16xf32>, %k: tensor<1x2x?x16xf32>, "
      "%v: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {\n"
      "  %o = attn.linear_attention %q, %k, %v {feature_map = "
      "#attn.feature_map<elu_plus_one>, causal} : "
      "tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32> -> "
      "tensor<1x2x?x16xf32>\n"
      "  return %o : tensor<1x2x?x16xf32>\n}\n";
  Compiler compiler;
  auto kernel = compiler.compileForHost(text);
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  std::vector<float> q(2 * 9 * 16, 0.5f), out(q.size());
  HostArgs host;
  host.query = host.key = host.value = q.data();
  host.output = out.data();
  host.seqQ = 9;
  host.seqKV = 8;
  llvm::Error err = (*kernel)->run(host);
  ASSERT_TRUE(static_cast<bool>(err));
  EXPECT_NE(llvm::toString(std::move(err))
                .find("a causal linear attention needs equal lengths"),
            std::string::npos);
  host.seqKV = 9;
  EXPECT_FALSE(static_cast<bool>((*kernel)->run(host)));
}

// Cascade attention through the JIT: one attention kernel with run-time
// lengths computes the parts over two disjoint key ranges (40 and 73
// keys), each writing O and lse straight into its slice of the partial
// buffers, and one attn.merge kernel (batch and length '?' too) merges
// them; the result matches the f64 attention over all 113 keys. In f32
// and bf16.
TEST(HostNumerics, CascadeThroughMerge) {
  for (ElementType type : {ElementType::F32, ElementType::BF16}) {
    const char *elt = type == ElementType::F32 ? "f32" : "bf16";
    SCOPED_TRACE(elt);
    const int64_t batch = 2, heads = 4, kvHeads = 2, d = 32, seqQ = 19;
    const int64_t part[2] = {40, 73};
    AttentionSpec spec = makeSpec({heads, kvHeads, d, d, seqQ, 1}, type);
    spec.dynamicSizes = true;
    std::string t = std::string("x") + elt;
    std::string merge = "func.func @m(%po: tensor<2x?x4x?x32" + t +
                        ">, %pl: tensor<2x?x4x?xf32>) -> (tensor<?x4x?x32" + t +
                        ">, tensor<?x4x?xf32>) {\n"
                        "  %o, %l = attn.merge %po, %pl : tensor<2x?x4x?x32" +
                        t + ">, tensor<2x?x4x?xf32> -> tensor<?x4x?x32" + t +
                        ">, tensor<?x4x?xf32>\n"
                        "  return %o, %l : tensor<?x4x?x32" +
                        t + ">, tensor<?x4x?xf32>\n}\n";
    Compiler compiler;
    auto attention = compiler.compileForHost(spec);
    ASSERT_TRUE(static_cast<bool>(attention))
        << llvm::toString(attention.takeError());
    auto merger = compiler.compileForHost(merge);
    ASSERT_TRUE(static_cast<bool>(merger))
        << llvm::toString(merger.takeError());
    const std::vector<KernelArgument> &mergeArgs = (*merger)->arguments();
    ASSERT_EQ(mergeArgs.size(), 4u);
    EXPECT_EQ(mergeArgs[0].role, KernelArgument::Role::Partials);
    EXPECT_EQ(mergeArgs[0].runSize,
              (std::vector<std::string>{"", "batch", "", "seqQ", ""}));
    EXPECT_EQ(mergeArgs[1].role, KernelArgument::Role::PartialLogsumexp);

    std::mt19937_64 rng(11);
    const size_t outSize = batch * heads * seqQ * d,
                 lseSize = batch * heads * seqQ;
    Tensor q = randomTensor(rng, outSize, type, 1.0);
    Tensor k = randomTensor(rng, batch * kvHeads * 113 * d, type, 1.0);
    Tensor v = randomTensor(rng, batch * kvHeads * 113 * d, type, 1.0);
    // The parts' keys, copied out of the full K and V by key range.
    std::vector<float> partialsF32(2 * outSize);
    std::vector<uint16_t> partialsHalf(2 * outSize);
    std::vector<float> partialLse(2 * lseSize);
    for (int n = 0; n < 2; ++n) {
      int64_t first = n == 0 ? 0 : part[0];
      Tensor kn, vn;
      for (int64_t bh = 0; bh < batch * kvHeads; ++bh)
        for (int64_t j = first; j < first + part[n]; ++j)
          for (int64_t c = 0; c < d; ++c) {
            size_t at = (bh * 113 + j) * d + c;
            for (auto [from, to] : {std::pair{&k, &kn}, std::pair{&v, &vn}}) {
              if (type == ElementType::F32)
                to->f32.push_back(from->f32[at]);
              else
                to->half.push_back(from->half[at]);
            }
          }
      HostArgs args;
      args.query = q.data();
      args.key = kn.data();
      args.value = vn.data();
      args.output = type == ElementType::F32
                        ? static_cast<void *>(&partialsF32[n * outSize])
                        : static_cast<void *>(&partialsHalf[n * outSize]);
      args.logsumexp = &partialLse[n * lseSize];
      args.batch = batch;
      args.seqQ = seqQ;
      args.seqKV = part[n];
      llvm::Error err = (*attention)->run(args);
      ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
    }
    std::vector<float> outF32(outSize, std::nanf("")), lse(lseSize);
    std::vector<uint16_t> outHalf(outSize, 0x7e00);
    HostArgs args;
    args.partials = type == ElementType::F32
                        ? static_cast<const void *>(partialsF32.data())
                        : static_cast<const void *>(partialsHalf.data());
    args.partialLogsumexp = partialLse.data();
    args.output = type == ElementType::F32
                      ? static_cast<void *>(outF32.data())
                      : static_cast<void *>(outHalf.data());
    args.logsumexp = lse.data();
    args.batch = batch;
    args.seqQ = seqQ;
    llvm::Error err = (*merger)->run(args);
    ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
    // A merge has no key/value length to state.
    args.seqKV = 113;
    err = (*merger)->run(args);
    ASSERT_TRUE(static_cast<bool>(err));
    EXPECT_NE(llvm::toString(std::move(err))
                  .find("HostArgs::seqKV is 113 but this kernel has no seqKV"),
              std::string::npos);

    Case whole;
    whole.spec = spec;
    whole.spec.batch = batch;
    whole.spec.seqKV = 113;
    std::vector<double> refOut, refLse;
    reference(whole, q, k, v, {}, refOut, refLse);
    // bf16 parts are rounded once more than a single attention's output.
    expectNearReference(whole, outF32, outHalf, lse, refOut, refLse);
  }
}

// A run-time block layout (FlexAttention's BlockMask as operands): random
// key blocks per (batch, head, query block) in any order, rows with none
// (O = 0, lse = -inf), an index outside the keys (skipped), a count beyond
// the width (clamped), a layout broadcast over heads; with and without a
// full-block list and a causal mask; blocks the tiles divide (32 x 32 in
// 32 x 32 tiles) and blocks made of several tiles (16 x 48: 16 x 16
// tiles). Against the f64 attention with the same kept elements, and the
// kernel visits exactly the listed tiles.
TEST(HostNumerics, RunTimeBlockLayout) {
  struct Config {
    int64_t bq, bkv;
    bool full, causal, headBroadcast;
    ElementType type;
  };
  const std::vector<Config> configs = {
      {32, 32, false, false, false, ElementType::F32},
      {32, 32, true, true, false, ElementType::BF16},
      {16, 48, true, false, true, ElementType::F32},
      {16, 48, false, true, false, ElementType::F16},
  };
  const int64_t batch = 2, heads = 4, kvHeads = 2, d = 32, seqQ = 100,
                seqKV = 130;
  Compiler compiler(CompileOptions{0, 0, /*countTileVisits=*/true});
  uint64_t seed = 21;
  for (const Config &cfg : configs) {
    std::mt19937_64 rng(seed++);
    const int64_t qb = (seqQ + cfg.bq - 1) / cfg.bq,
                  kvb = (seqKV + cfg.bkv - 1) / cfg.bkv, width = kvb;
    const int64_t lh = cfg.headBroadcast ? 1 : heads;
    SCOPED_TRACE("blocks " + std::to_string(cfg.bq) + "x" +
                 std::to_string(cfg.bkv) + (cfg.full ? " full" : "") +
                 (cfg.causal ? " causal" : ""));
    // Each (b, h, r) row: a shuffled subset of the key blocks, split into
    // partial and full ones.
    std::vector<int32_t> counts(batch * lh * qb),
        indices(counts.size() * width, -7);
    std::vector<int32_t> fullCounts(counts.size()),
        fullIndices(indices.size(), -7);
    // kept[(row * kvb) + c]: 0 dropped, 1 partial, 2 full.
    std::vector<int> kind(counts.size() * kvb, 0);
    for (size_t row = 0; row < counts.size(); ++row) {
      std::vector<int32_t> blocks(kvb);
      for (int64_t c = 0; c < kvb; ++c)
        blocks[c] = static_cast<int32_t>(c);
      std::shuffle(blocks.begin(), blocks.end(), rng);
      int64_t n = row % 5 == 3 ? 0 : 1 + rng() % kvb; // some rows empty
      int64_t nFull = cfg.full ? n / 2 : 0;
      for (int64_t e = 0; e < n - nFull; ++e) {
        indices[row * width + e] = blocks[e];
        kind[row * kvb + blocks[e]] = 1;
      }
      for (int64_t e = 0; e < nFull; ++e) {
        fullIndices[row * width + e] = blocks[n - nFull + e];
        kind[row * kvb + blocks[n - nFull + e]] = 2;
      }
      counts[row] = static_cast<int32_t>(n - nFull);
      fullCounts[row] = static_cast<int32_t>(nFull);
      // An index outside the keys (past them, or negative) in a free slot
      // is skipped.
      if (row % 3 == 1 && n - nFull < width) {
        indices[row * width + (n - nFull)] =
            row % 2 ? static_cast<int32_t>(kvb + 3) : -1;
        ++counts[row];
      }
      // A count beyond the width means the whole row (all W entries).
      if (row % 11 == 5 && n - nFull == width)
        counts[row] = static_cast<int32_t>(width + 9);
    }
    auto kindOf = [&](int64_t b, int64_t h, int64_t i, int64_t j) {
      int64_t row = (b * lh + (cfg.headBroadcast ? 0 : h)) * qb + i / cfg.bq;
      return kind[row * kvb + j / cfg.bkv];
    };

    std::string elt = cfg.type == ElementType::F32   ? "f32"
                      : cfg.type == ElementType::F16 ? "f16"
                                                     : "bf16";
    auto t4 = [&](int64_t a, int64_t b2, int64_t c, int64_t e,
                  const std::string &et) {
      return "tensor<" + std::to_string(a) + "x" + std::to_string(b2) + "x" +
             std::to_string(c) + "x" + std::to_string(e) + "x" + et + ">";
    };
    std::string qT = t4(batch, heads, seqQ, d, elt),
                kT = t4(batch, kvHeads, seqKV, d, elt);
    std::string cT = "tensor<" + std::to_string(batch) + "x" +
                     std::to_string(lh) + "x" + std::to_string(qb) + "xi32>";
    std::string iT = t4(batch, lh, qb, width, "i32");
    std::string lseT = "tensor<" + std::to_string(batch) + "x" +
                       std::to_string(heads) + "x" + std::to_string(seqQ) +
                       "xf32>";
    std::string text =
        "func.func @f(%q: " + qT + ", %k: " + kT + ", %v: " + kT +
        ", %n: " + cT + ", %x: " + iT +
        (cfg.full ? ", %fn: " + cT + ", %fx: " + iT : "") + ") -> (" + qT +
        ", " + lseT + ") {\n  %o, %l = attn.attention %q, %k, %v " +
        "block_sparse(%n, %x : " + cT + ", " + iT + ")" +
        (cfg.full ? " full_blocks(%fn, %fx : " + cT + ", " + iT + ")" : "") +
        " {" + (cfg.causal ? "mask = #attn.causal, " : "") +
        "sparse_block = array<i64: " + std::to_string(cfg.bq) + ", " +
        std::to_string(cfg.bkv) + ">} : " + qT + ", " + kT + ", " + kT +
        " -> " + qT + ", " + lseT + "\n  return %o, %l : " + qT + ", " + lseT +
        "\n}\n";
    SCOPED_TRACE(text);
    auto kernel = compiler.compileForHost(text);
    ASSERT_TRUE(static_cast<bool>(kernel))
        << llvm::toString(kernel.takeError());
    TileShape tiles = (*kernel)->tiles();
    EXPECT_EQ(cfg.bq % tiles.q, 0);
    EXPECT_EQ(cfg.bkv % tiles.kv, 0);

    Case c;
    c.spec = makeSpec({heads, kvHeads, d, d, seqQ, seqKV}, cfg.type);
    c.spec.batch = batch;
    bool causal = cfg.causal;
    c.keep = [&, causal](int64_t b, int64_t h, int64_t i, int64_t j) {
      int k = kindOf(b, h, i, j);
      return k == 2 || (k == 1 && (!causal || j <= i));
    };
    Tensor q = randomTensor(rng, batch * heads * seqQ * d, cfg.type, 1.0);
    Tensor k = randomTensor(rng, batch * kvHeads * seqKV * d, cfg.type, 1.0);
    Tensor v = randomTensor(rng, batch * kvHeads * seqKV * d, cfg.type, 1.0);
    OutputBuffers out(batch * heads * seqQ * d, batch * heads * seqQ);
    HostArgs args;
    args.query = q.data();
    args.key = k.data();
    args.value = v.data();
    out.bind(args, cfg.type);
    args.kvNumBlocks = counts.data();
    args.kvIndices = indices.data();
    if (cfg.full) {
      args.fullKvNumBlocks = fullCounts.data();
      args.fullKvIndices = fullIndices.data();
    }
    int64_t visits = 0;
    llvm::Error err = (*kernel)->run(args, &visits);
    ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
    std::vector<double> refOut, refLse;
    reference(c, q, k, v, {}, refOut, refLse);
    expectNearReference(c, out.f32, out.half, out.lse, refOut, refLse);
    // The tiles of the listed blocks inside the keys, per query tile.
    int64_t expected = 0;
    const int64_t numKvTiles = (seqKV + tiles.kv - 1) / tiles.kv;
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t h = 0; h < heads; ++h)
        for (int64_t i0 = 0; i0 < seqQ; i0 += tiles.q)
          for (int64_t kt = 0; kt < numKvTiles; ++kt)
            expected += kindOf(b, h, i0, kt * tiles.kv) != 0;
    EXPECT_EQ(visits, expected);
  }
  // The layout's block counts are static, so the JIT takes no '?' length
  // with it (a stale layout would otherwise drop rows silently).
  AttentionSpec spec = makeSpec({2, 2, 32, 32, 64, 64}, ElementType::F32);
  spec.sparseBlockQ = spec.sparseBlockKV = 32;
  spec.dynamicSizes = true;
  auto dynamic = compiler.compileForHost(spec);
  ASSERT_FALSE(static_cast<bool>(dynamic));
  EXPECT_NE(llvm::toString(dynamic.takeError())
                .find("needs static sequence lengths with a block_sparse "
                      "layout"),
            std::string::npos);
}

// A paged KV cache (vLLM's layout) against the f64 attention over each
// sequence's own keys: lengths 0, 1, 17, one page exactly and one that
// ends inside its last page; pages shuffled over the cache; spare pages
// and the unused rows of the last page hold NaN, unused table slots
// indices outside the cache (none of them may be read); page sizes 1, 16
// and 64, tiles larger and smaller than a page; pages [num_pages,
// page_size, Hkv, D] and heads-major [num_pages, Hkv, page_size, D]; decode (Sq
// = 1) and a chunk of queries (Sq = 5) under bottom-right masks that end at
// each sequence's length, a band and a mask tested per element; f32, f16 and
// bf16; host kv splits; run-time batch and query length.
TEST(HostNumerics, PagedKV) {
  struct Config {
    int64_t pageSize, seqQ;
    std::string mask;
    ElementType type;
    int64_t splits, tileKV;
    bool dynamic, headsMajor;
  };
  const std::vector<Config> configs = {
      {1, 1, "none", ElementType::F32, 0, 0, false, false},
      {16, 1, "causal", ElementType::BF16, 0, 0, false, false},
      {16, 5, "window", ElementType::F16, 0, 0, false, true},
      {64, 5, "causal", ElementType::F32, 3, 0, false, false},
      {64, 1, "union", ElementType::BF16, 4, 0, false, true},
      {16, 5, "union", ElementType::F32, 0, 32, false, true},
      {1, 5, "causal", ElementType::F16, 2, 16, false, false},
      {64, 5, "none", ElementType::F16, 0, 16, true, false},
      {16, 1, "causal", ElementType::F32, 0, 0, true, true},
  };
  const int64_t batch = 5, heads = 4, kvHeads = 2, d = 32, longest = 150;
  const std::vector<int32_t> lengths = {17, 0, 1, 150, 64};
  const std::string window =
      "#attn.window<left = 8, right = 0, alignment = bottom_right>";
  uint64_t seed = 300;
  for (const Config &cfg : configs) {
    SCOPED_TRACE("page size " + std::to_string(cfg.pageSize) + " Sq " +
                 std::to_string(cfg.seqQ) + " " + cfg.mask + " splits " +
                 std::to_string(cfg.splits) + " tile-kv " +
                 std::to_string(cfg.tileKV) + (cfg.dynamic ? " dynamic" : "") +
                 (cfg.headsMajor ? " hnd" : " nhd"));
    std::mt19937_64 rng(seed++);
    const int64_t p = cfg.pageSize, slots = (longest + p - 1) / p,
                  logical = slots * p;
    // Each sequence's pages, shuffled over the cache, with spares.
    int64_t used = 0;
    for (int32_t n : lengths)
      used += (n + p - 1) / p;
    const int64_t numPages = used + 3;
    std::vector<int32_t> order(numPages);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<int32_t> table(batch * slots);
    int64_t next = 0;
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t s = 0; s < slots; ++s)
        table[b * slots + s] =
            s < (lengths[b] + p - 1) / p
                ? order[next++]
                : (s % 2 ? -3 : static_cast<int32_t>(numPages + 5));

    Case c;
    c.spec = makeSpec({heads, kvHeads, d, d, cfg.seqQ, logical}, cfg.type);
    c.spec.batch = batch;
    std::string maskText =
        cfg.mask == "causal"   ? "#attn.causal<bottom_right>"
        : cfg.mask == "window" ? window
        : cfg.mask == "union"
            ? "#attn.union<[" + window + ", #attn.global<first = 2>]>"
            : "";
    const std::string mask = cfg.mask;
    const int64_t seqQ = cfg.seqQ;
    c.keep = [&, mask, seqQ](int64_t b, int64_t, int64_t i, int64_t j) {
      int64_t n = lengths[b], dist = j - (i + n - seqQ);
      bool inWindow = dist >= -8 && dist <= 0;
      return j < n && (mask == "none" || (mask == "causal" && dist <= 0) ||
                       (mask == "window" && inWindow) ||
                       (mask == "union" && (inWindow || i < 2 || j < 2)));
    };
    Tensor q = randomTensor(rng, batch * heads * cfg.seqQ * d, cfg.type, 1.0);
    Tensor k = randomTensor(rng, batch * kvHeads * logical * d, cfg.type, 1.0);
    Tensor v = randomTensor(rng, batch * kvHeads * logical * d, cfg.type, 1.0);
    // The pages of `t` ([B, Hkv, logical, d]): NaN where no key is.
    auto paged = [&](const Tensor &t) {
      Tensor pages = nanTensor(numPages * p * kvHeads * d, cfg.type);
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t h = 0; h < kvHeads; ++h)
          for (int64_t j = 0; j < lengths[b]; ++j)
            for (int64_t e = 0; e < d; ++e) {
              size_t from = ((b * kvHeads + h) * logical + j) * d + e;
              int64_t page = table[b * slots + j / p];
              size_t to = (cfg.headsMajor ? (page * kvHeads + h) * p + j % p
                                          : (page * p + j % p) * kvHeads + h) *
                              d +
                          e;
              copyElement(t, from, pages, to);
            }
      return pages;
    };
    Tensor kPages = paged(k), vPages = paged(v);

    AttentionSpec spec = c.spec;
    spec.seqKV = longest;
    spec.pageSize = p;
    spec.numPages = numPages;
    spec.mask = maskText;
    spec.dynamicSizes = cfg.dynamic;
    spec.headsMajorPages = cfg.headsMajor;
    CompileOptions options{0, cfg.tileKV};
    options.kvSplits = cfg.splits;
    Compiler compiler(options);
    auto kernel = compiler.compileForHost(spec);
    ASSERT_TRUE(static_cast<bool>(kernel))
        << llvm::toString(kernel.takeError()) << "\n"
        << spec.toMLIR();
    OutputBuffers out(batch * heads * cfg.seqQ * d, batch * heads * cfg.seqQ);
    HostArgs args;
    args.query = q.data();
    args.key = kPages.data();
    args.value = vPages.data();
    args.pageTable = table.data();
    args.kvLengths = lengths.data();
    out.bind(args, cfg.type);
    if (cfg.dynamic) {
      args.batch = batch;
      args.seqQ = cfg.seqQ;
    }
    llvm::Error err = (*kernel)->run(args);
    ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
    std::vector<double> refOut, refLse;
    reference(c, q, k, v, {}, refOut, refLse);
    expectNearReference(c, out.f32, out.half, out.lse, refOut, refLse);
  }
}

// Packed sequences of different lengths (FlashAttention's varlen form)
// against the f64 attention of each sequence alone: query lengths 0, 1,
// 17, 1000, 3 (with no keys) and 20 (with 6 keys: under bottom-right masks
// its first rows keep nothing) in one batch, key lengths apart from them;
// top-left and bottom-right causal, a bottom-right window, a window with global
// tokens (tested per element) and a mask_mod region of the sequence index and
// sequence-local positions; f32, f16 and bf16; static and run-time sizes. Two
// token rows past the last sequence belong to none and must stay unwritten.
TEST(HostNumerics, Varlen) {
  struct Config {
    std::string mask;
    ElementType type;
    bool dynamic;
    int64_t tileQ, tileKV;
  };
  const std::vector<Config> configs = {
      {"none", ElementType::F32, false, 0, 0},
      {"causal", ElementType::F16, true, 0, 0},
      {"causal_br", ElementType::F32, true, 16, 32},
      {"window", ElementType::BF16, false, 0, 0},
      {"union", ElementType::F32, true, 32, 16},
      {"region", ElementType::F16, false, 0, 0},
  };
  const int64_t heads = 4, kvHeads = 2, d = 32;
  const std::vector<int64_t> lenQ = {0, 1, 17, 1000, 3, 20};
  const std::vector<int64_t> lenK = {5, 40, 17, 1000, 0, 6};
  const int64_t batch = lenQ.size(), maxQ = 1000, maxK = 1000, spare = 2;
  std::vector<int32_t> cuQ{0}, cuK{0};
  for (int64_t b = 0; b < batch; ++b) {
    cuQ.push_back(cuQ.back() + lenQ[b]);
    cuK.push_back(cuK.back() + lenK[b]);
  }
  const int64_t tokQ = cuQ.back() + spare, tokK = cuK.back();
  const std::string window =
      "#attn.window<left = 8, right = 0, alignment = bottom_right>";
  uint64_t seed = 700;
  for (const Config &cfg : configs) {
    SCOPED_TRACE(cfg.mask + (cfg.dynamic ? " dynamic" : " static") + " tiles " +
                 std::to_string(cfg.tileQ) + "x" + std::to_string(cfg.tileKV));
    std::mt19937_64 rng(seed++);
    std::string elt = cfg.type == ElementType::F32   ? "f32"
                      : cfg.type == ElementType::F16 ? "f16"
                                                     : "bf16";
    auto dim = [&](int64_t n) {
      return cfg.dynamic ? std::string("?") : std::to_string(n);
    };
    std::string qT = "tensor<" + dim(tokQ) + "x" + std::to_string(heads) + "x" +
                     std::to_string(d) + "x" + elt + ">";
    std::string kT = "tensor<" + dim(tokK) + "x" + std::to_string(kvHeads) +
                     "x" + std::to_string(d) + "x" + elt + ">";
    std::string lT =
        "tensor<" + dim(tokQ) + "x" + std::to_string(heads) + "xf32>";
    std::string cT = "tensor<" + dim(batch + 1) + "xi32>";
    std::string attrs =
        cfg.mask == "causal"      ? "{mask = #attn.causal}"
        : cfg.mask == "causal_br" ? "{mask = #attn.causal<bottom_right>}"
        : cfg.mask == "window"    ? "{mask = " + window + "}"
        : cfg.mask == "union"
            ? "{mask = #attn.union<[" + window + ", #attn.global<first = 2>]>}"
            : "";
    std::string region =
        cfg.mask != "region"
            ? ""
            : " mask_mod {\n  ^bb0(%b: index, %h: index, %i: index, %j: "
              "index):\n    %c2 = arith.constant 2 : index\n    %c3 = "
              "arith.constant 3 : index\n    %c0 = arith.constant 0 : "
              "index\n    %t = arith.muli %j, %c2 : index\n    %u = "
              "arith.addi %i, %t : index\n    %w = arith.addi %u, %b : "
              "index\n    %r = arith.remui %w, %c3 : index\n    %keep = "
              "arith.cmpi ne, %r, %c0 : index\n    attn.yield %keep : i1\n  }";
    std::string text = "func.func @f(%q: " + qT + ", %k: " + kT +
                       ", %v: " + kT + ", %cq: " + cT + ", %ck: " + cT +
                       ") -> (" + qT + ", " + lT +
                       ") {\n  %o, %l = attn.attention %q, %k, %v varlen(%cq, "
                       "%ck : " +
                       cT + ", " + cT + ") " + attrs + region + " : " + qT +
                       ", " + kT + ", " + kT + " -> " + qT + ", " + lT +
                       "\n  return %o, %l : " + qT + ", " + lT + "\n}\n";
    SCOPED_TRACE(text);
    CompileOptions options{cfg.tileQ, cfg.tileKV};
    Compiler compiler(options);
    auto kernel = compiler.compileForHost(text);
    ASSERT_TRUE(static_cast<bool>(kernel))
        << llvm::toString(kernel.takeError());

    // Each sequence padded to the longest for the reference, [B, H, S, d].
    Case c;
    c.spec = makeSpec({heads, kvHeads, d, d, maxQ, maxK}, cfg.type);
    c.spec.batch = batch;
    const std::string mask = cfg.mask;
    c.keep = [&, mask](int64_t b, int64_t, int64_t i, int64_t j) {
      int64_t nq = lenQ[b], nk = lenK[b], dist = j - (i + nk - nq);
      bool inWindow = dist >= -8 && dist <= 0;
      return i < nq && j < nk &&
             (mask == "none" || (mask == "causal" && j <= i) ||
              (mask == "causal_br" && dist <= 0) ||
              (mask == "window" && inWindow) ||
              (mask == "union" && (inWindow || i < 2 || j < 2)) ||
              (mask == "region" && (i + 2 * j + b) % 3 != 0));
    };
    Tensor q = randomTensor(rng, batch * heads * maxQ * d, cfg.type, 1.0);
    Tensor k = randomTensor(rng, batch * kvHeads * maxK * d, cfg.type, 1.0);
    Tensor v = randomTensor(rng, batch * kvHeads * maxK * d, cfg.type, 1.0);
    // The sequences packed [T, H, d]: row cu[b] + i is (b, i).
    auto pack = [&](const Tensor &t, int64_t h, int64_t s,
                    const std::vector<int32_t> &cu,
                    const std::vector<int64_t> &len, int64_t tokens) {
      Tensor packed = nanTensor(tokens * h * d, cfg.type);
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t hh = 0; hh < h; ++hh)
          for (int64_t i = 0; i < len[b]; ++i)
            for (int64_t e = 0; e < d; ++e) {
              size_t from = ((b * h + hh) * s + i) * d + e;
              size_t to = ((cu[b] + i) * h + hh) * d + e;
              copyElement(t, from, packed, to);
            }
      return packed;
    };
    Tensor qp = pack(q, heads, maxQ, cuQ, lenQ, tokQ);
    Tensor kp = pack(k, kvHeads, maxK, cuK, lenK, tokK);
    Tensor vp = pack(v, kvHeads, maxK, cuK, lenK, tokK);
    OutputBuffers out(tokQ * heads * d, tokQ * heads);
    HostArgs args;
    args.query = qp.data();
    args.key = kp.data();
    args.value = vp.data();
    args.cuSeqlensQ = cuQ.data();
    args.cuSeqlensK = cuK.data();
    out.bind(args, cfg.type);
    if (cfg.dynamic) {
      args.batch = batch;
      args.seqQ = tokQ;
      args.seqKV = tokK;
    }
    llvm::Error err = (*kernel)->run(args);
    ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
    // The rows of no sequence are untouched.
    for (int64_t t = cuQ.back(); t < tokQ; ++t)
      for (int64_t n = t * heads; n < (t + 1) * heads; ++n) {
        EXPECT_TRUE(std::isnan(out.lse[n])) << "lse of spare token " << t;
        EXPECT_TRUE(cfg.type == ElementType::F32 ? std::isnan(out.f32[n * d])
                                                 : out.half[n * d] == 0x7e00)
            << "output of spare token " << t;
      }
    // Unpacked: padded rows are the reference's fully masked rows.
    std::vector<float> unF32(batch * heads * maxQ * d, 0.0f);
    std::vector<uint16_t> unHalf(unF32.size(), 0);
    std::vector<float> unLse(batch * heads * maxQ,
                             -std::numeric_limits<float>::infinity());
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t h = 0; h < heads; ++h)
        for (int64_t i = 0; i < lenQ[b]; ++i) {
          size_t row = (b * heads + h) * maxQ + i,
                 packedRow = (cuQ[b] + i) * heads + h;
          unLse[row] = out.lse[packedRow];
          for (int64_t e = 0; e < d; ++e) {
            unF32[row * d + e] = out.f32[packedRow * d + e];
            unHalf[row * d + e] = out.half[packedRow * d + e];
          }
        }
    std::vector<double> refOut, refLse;
    reference(c, q, k, v, {}, refOut, refLse);
    expectNearReference(c, unF32, unHalf, unLse, refOut, refLse);
  }
}

// A varlen kernel states its buffers (the packed tokens as seqQ / seqKV,
// the offsets as batch + 1), refuses offsets that do not start at 0,
// decrease or pass the tokens, and runs one compiled kernel at three
// batches of different lengths.
TEST(HostJIT, VarlenArgumentsAreChecked) {
  AttentionSpec spec = makeSpec({2, 1, 32, 32, 0, 0}, ElementType::F32);
  spec.varlen = true;
  spec.dynamicSizes = true;
  spec.withLogsumexp = false;
  spec.mask = "#attn.causal";
  const std::string text = spec.toMLIR();
  SCOPED_TRACE(text);
  Compiler compiler;
  auto kernel = compiler.compileForHost(text);
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  std::vector<KernelArgument> described = (*kernel)->arguments();
  ASSERT_EQ(described.size(), 6u);
  EXPECT_EQ(described[0].runSize[0], "seqQ");
  EXPECT_EQ(described[1].runSize[0], "seqKV");
  EXPECT_EQ(described[3].role, KernelArgument::Role::CuSeqlensQ);
  EXPECT_EQ(described[3].runSize[0], "batch + 1");
  EXPECT_EQ(described[4].role, KernelArgument::Role::CuSeqlensK);
  EXPECT_EQ(described[5].runSize[0], "seqQ");

  std::mt19937_64 rng(77);
  auto run = [&](const std::vector<int32_t> &cuQ,
                 const std::vector<int32_t> &cuK, int64_t tokQ,
                 int64_t tokK) -> std::string {
    Tensor q = randomTensor(rng, tokQ * 2 * 32, ElementType::F32, 1.0);
    Tensor k = randomTensor(rng, tokK * 32, ElementType::F32, 1.0);
    Tensor v = randomTensor(rng, tokK * 32, ElementType::F32, 1.0);
    std::vector<float> out(tokQ * 2 * 32, std::nanf(""));
    HostArgs args;
    args.query = q.data();
    args.key = k.data();
    args.value = v.data();
    args.output = out.data();
    args.cuSeqlensQ = cuQ.data();
    args.cuSeqlensK = cuK.data();
    args.batch = static_cast<int64_t>(cuQ.size()) - 1;
    args.seqQ = tokQ;
    args.seqKV = tokK;
    llvm::Error err = (*kernel)->run(args);
    if (err)
      return llvm::toString(std::move(err));
    // Each sequence against its own f64 causal attention.
    for (size_t b = 0; b + 1 < cuQ.size(); ++b) {
      int64_t nq = cuQ[b + 1] - cuQ[b], nk = cuK[b + 1] - cuK[b];
      for (int64_t h = 0; h < 2; ++h)
        for (int64_t i = 0; i < nq; ++i) {
          std::vector<double> w;
          double m = -INFINITY, sum = 0;
          for (int64_t j = 0; j <= std::min(i, nk - 1); ++j) {
            double s = 0;
            for (int64_t e = 0; e < 32; ++e)
              s += q.exact[((cuQ[b] + i) * 2 + h) * 32 + e] *
                   k.exact[(cuK[b] + j) * 32 + e];
            w.push_back(s / std::sqrt(32.0));
            m = std::max(m, w.back());
          }
          for (double &x : w)
            sum += (x = std::exp(x - m));
          for (int64_t e = 0; e < 32; ++e) {
            double o = 0;
            for (size_t j = 0; j < w.size(); ++j)
              o += w[j] / sum * v.exact[(cuK[b] + j) * 32 + e];
            EXPECT_NEAR(out[((cuQ[b] + i) * 2 + h) * 32 + e], o, 1e-5)
                << "sequence " << b << " row " << i;
          }
        }
    }
    return "";
  };
  EXPECT_EQ(run({0, 3, 3, 70}, {0, 5, 9, 80}, 70, 80), "");
  EXPECT_EQ(run({0, 130}, {0, 130}, 130, 130), "");
  EXPECT_EQ(run({0, 1, 2, 3, 4, 5, 6}, {0, 7, 14, 21, 28, 35, 42}, 6, 42), "");
  EXPECT_EQ(compiler.cacheMisses(), 1);
  for (auto [cuQ, message] :
       {std::pair{std::vector<int32_t>{1, 3, 70}, "cu_seqlens_q[0] is 1"},
        std::pair{std::vector<int32_t>{0, 40, 30}, "cu_seqlens_q[2] is 30"},
        std::pair{std::vector<int32_t>{0, 3, 71}, "cu_seqlens_q[2] is 71"}}) {
    std::string error = run(cuQ, {0, 5, 80}, 70, 80);
    EXPECT_NE(error.find(message), std::string::npos) << error;
    EXPECT_NE(error.find("must start at 0 and not decrease"), std::string::npos)
        << error;
  }
}

// A paged kernel describes its buffers by their paged roles and refuses a
// run without its page table or lengths, or with a key length stated
// (its lengths are per sequence).
TEST(HostJIT, PagedArgumentsAreChecked) {
  AttentionSpec spec = makeSpec({4, 2, 32, 32, 1, 100}, ElementType::F16);
  spec.batch = 3;
  spec.pageSize = 16;
  spec.numPages = 20;
  spec.dynamicSizes = true;
  Compiler compiler;
  auto kernel = compiler.compileForHost(spec);
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  std::vector<KernelArgument> described = (*kernel)->arguments();
  ASSERT_EQ(described.size(), 7u); // and the output and logsumexp
  EXPECT_EQ(described[1].role, KernelArgument::Role::KeyPages);
  EXPECT_EQ(described[1].shape, (std::vector<int64_t>{20, 16, 2, 32}));
  EXPECT_EQ(described[2].role, KernelArgument::Role::ValuePages);
  EXPECT_EQ(described[3].role, KernelArgument::Role::PageTable);
  EXPECT_EQ(described[3].shape,
            (std::vector<int64_t>{KernelArgument::kDynamic, 7}));
  EXPECT_EQ(described[3].runSize[0], "batch");
  EXPECT_EQ(described[4].role, KernelArgument::Role::KvLengths);
  EXPECT_EQ(described[4].elementType, "i32");

  std::vector<uint16_t> q(3 * 4 * 32), pages(20 * 16 * 2 * 32), out(q.size());
  std::vector<int32_t> table(3 * 7, 0), lengths = {5, 0, 100};
  std::vector<float> lse(3 * 4);
  HostArgs args;
  args.query = q.data();
  args.key = args.value = pages.data();
  args.output = out.data();
  args.logsumexp = lse.data();
  args.pageTable = table.data();
  args.kvLengths = lengths.data();
  args.batch = 3;
  args.seqQ = 1;
  llvm::Error ok = (*kernel)->run(args);
  EXPECT_FALSE(static_cast<bool>(ok)) << llvm::toString(std::move(ok));
  auto expectError = [&](HostArgs bad, const std::string &text) {
    llvm::Error err = (*kernel)->run(bad);
    ASSERT_TRUE(static_cast<bool>(err));
    std::string message = llvm::toString(std::move(err));
    EXPECT_NE(message.find(text), std::string::npos) << message;
  };
  HostArgs noTable = args;
  noTable.pageTable = nullptr;
  expectError(noTable, "page table");
  HostArgs noLengths = args;
  noLengths.kvLengths = nullptr;
  expectError(noLengths, "kv lengths");
  HostArgs seqKV = args;
  seqKV.seqKV = 100;
  expectError(seqKV, "this kernel has no seqKV");
}

// The host tile kernels at every vector width (the scalar loops, 1 lane,
// SSE's 4, AVX2's 8, AVX-512's 16) and at tile shapes that no width
// divides evenly (40x24: 8 lanes over rows, 3x5: 1 lane), with head dims
// whose vectors are narrower than the width (40: 8 lanes, 24/8) and
// lengths that clip the last tile.
TEST(HostNumerics, VectorWidthsAndTiles) {
  struct Tiles {
    int64_t q, kv;
  };
  std::vector<std::string> masks = {"causal", "window", "document", "mask_mod"};
  std::vector<Shape> shapes = {
      {4, 2, 64, 64, 77, 77}, {2, 1, 40, 24, 33, 90}, {2, 2, 128, 128, 1, 70}};
  std::vector<ElementType> types = {ElementType::F32, ElementType::BF16,
                                    ElementType::F16};
  uint64_t seed = 500;
  int index = 0;
  for (int64_t width : {0, 1, 4, 8, 16}) {
    for (Tiles tiles : {Tiles{32, 32}, Tiles{40, 24}, Tiles{3, 5}}) {
      CompileOptions options{tiles.q, tiles.kv};
      options.hostVectorWidth = width;
      Compiler compiler(options);
      for (const std::string &mask : masks) {
        ++index;
        Shape shape = shapes[index % shapes.size()];
        ElementType type = types[index % types.size()];
        Case c;
        c.spec = makeSpec(shape, type);
        applyMask(c, maskCase(mask));
        c.name = mask + " lanes=" + std::to_string(width) +
                 " tiles=" + std::to_string(tiles.q) + "x" +
                 std::to_string(tiles.kv) +
                 " D=" + std::to_string(shape.headDimQK) + "/" +
                 std::to_string(shape.headDimV) +
                 " dtype=" + std::to_string(static_cast<int>(type));
        runCase(compiler, c, seed++);
      }
    }
  }
}

TEST(HostJIT, VectorWidthIsChecked) {
  for (int64_t width : {-2, 65}) {
    CompileOptions options;
    options.hostVectorWidth = width;
    Compiler compiler(options);
    auto kernel = compiler.compileForHost(
        makeSpec({1, 1, 16, 16, 8, 8}, ElementType::F32));
    ASSERT_FALSE(static_cast<bool>(kernel));
    std::string message = llvm::toString(kernel.takeError());
    EXPECT_NE(message.find("hostVectorWidth is " + std::to_string(width)),
              std::string::npos)
        << message;
  }
}

// The GPU kernel (attn-to-gpu: tensor cores, cp.async, ldmatrix) runs in
// the emulator with all its checks on, against the same f64 reference and
// bounds, for every mask family, MHA/GQA/MQA, f16 and bf16, head dims from
// 32 to 256 (multiples of 32: both swizzles) and 192/128, each with the
// table's kernel configuration, lengths that are not tile multiples and
// Sq = 1.
TEST(EmulatedNumerics, MaskMatrix) {
  std::vector<Shape> heads = {
      {4, 4, 0, 0, 0, 0}, {8, 2, 0, 0, 0, 0}, {4, 1, 0, 0, 0, 0}};
  std::vector<std::pair<int64_t, int64_t>> dims = {
      {64, 64}, {128, 128}, {192, 128}, {96, 96},
      {32, 32}, {160, 160}, {224, 224}, {128, 64}};
  std::vector<std::pair<int64_t, int64_t>> lengths = {
      {1, 1}, {17, 17}, {127, 127}, {33, 70}, {1, 300}, {130, 129}};
  std::vector<ElementType> types = {ElementType::F16, ElementType::BF16};
  Compiler compiler;
  uint64_t seed = 100;
  int index = 0;
  const char *only = getenv("ATTN_EMULATED_CASE");
  for (const MaskCase &m : maskCases()) {
    if (only && m.name != only)
      continue;
    Shape shape = heads[index % heads.size()];
    std::tie(shape.headDimQK, shape.headDimV) = dims[index % dims.size()];
    std::tie(shape.seqQ, shape.seqKV) = lengths[index % lengths.size()];
    ElementType type = types[index % types.size()];
    ++index;
    Case c;
    c.spec = makeSpec(shape, type);
    c.spec.numQHeads = std::min<int64_t>(c.spec.numQHeads, 4);
    c.spec.numKVHeads = std::min(c.spec.numKVHeads, c.spec.numQHeads);
    applyMask(c, m);
    c.name = "emulated " + m.name + " Hq=" + std::to_string(c.spec.numQHeads) +
             " Hkv=" + std::to_string(c.spec.numKVHeads) +
             " D=" + std::to_string(shape.headDimQK) + "/" +
             std::to_string(shape.headDimV) +
             " S=" + std::to_string(shape.seqQ) + "x" +
             std::to_string(shape.seqKV) +
             " dtype=" + std::to_string(static_cast<int>(type));
    runCase(compiler, c, seed++, Target::Emulator);
  }
}

// Head dim 256: 32 chunks per row, so each thread's tile copies alternate
// between two swizzle residues (its rows step by 4), a path of the copy
// addressing that head dims 64 and 128 (rows stepping by 16 and 8) do not
// take; 192 addresses each chunk on its own.
TEST(EmulatedNumerics, HeadDim256) {
  Compiler compiler;
  Case c;
  c.spec = makeSpec({2, 1, 256, 256, 70, 130}, ElementType::BF16);
  applyMask(c, maskCase("causal_bottom_right"));
  c.name = "emulated D=256 bottom-right causal";
  runCase(compiler, c, 31, Target::Emulator);
}

// The emulator's counters prove that the GPU kernel skips the tiles a mask
// empties: tensor-core instructions and K/V bytes staged by cp.async are
// proportional to the visited (q tile, kv tile) blocks, counted here by
// brute force over the elements.
int64_t nonEmptyBlocks(int64_t seqQ, int64_t seqKV, int64_t tileQ,
                       int64_t tileKV, const KeepFn &keep);

TEST(EmulatedNumerics, WorkIsProportionalToKeptTiles) {
  struct Config {
    const char *text;
    int64_t tileQ, tileKV, warps;
    bool qInRegisters;
  };
  // The table's for head dim 64 (Q in registers), one slab per warp,
  // eight warps.
  for (Config config :
       {Config{"", 128, 32, 4, true}, Config{"64x64w4", 64, 64, 4, false},
        Config{"128x32w8", 128, 32, 8, false}}) {
    CompileOptions options;
    options.gpuKernelConfig = config.text;
    Compiler compiler(options);
    struct Variant {
      std::string mask;
      KeepFn keep;
    };
    const int64_t s = 256, d = 64, heads = 2;
    std::vector<Variant> variants = {
        {"", nullptr},
        {"#attn.causal",
         [](int64_t, int64_t, int64_t i, int64_t j) { return j <= i; }},
        {"#attn.window<left = 64, right = 0>",
         [](int64_t, int64_t, int64_t i, int64_t j) {
           return j <= i && i - j <= 64;
         }},
    };
    for (const Variant &v : variants) {
      Case c;
      c.spec.batch = 1;
      c.spec.numQHeads = heads;
      c.spec.numKVHeads = 1;
      c.spec.seqQ = c.spec.seqKV = s;
      c.spec.headDimQK = c.spec.headDimV = d;
      c.spec.elementType = ElementType::F16;
      c.spec.mask = v.mask;
      c.keep = v.keep;
      c.name = "work " + (v.mask.empty() ? std::string("dense") : v.mask) +
               " config " + config.text;
      mlir::attn::emu::Counters counters;
      runCase(compiler, c, 7, Target::Emulator, &counters);
      int64_t tq = config.tileQ, tkv = config.tileKV;
      int64_t blocks =
          heads * nonEmptyBlocks(
                      s, s, tq, tkv,
                      v.keep ? v.keep : [](int64_t, int64_t, int64_t, int64_t) {
                        return true;
                      });
      // Per visited block and 16 query rows (one slab of a warp): QK^T is
      // (d/16) k steps x (tile_kv/8) key tiles, PV is (tile_kv/16) k steps
      // x (d/8) value tiles, whatever the warps.
      uint64_t perBlock = tq / 16 * ((d / 16) * (tkv / 8) + tkv / 16 * (d / 8));
      EXPECT_EQ(counters.mmaInstructions, perBlock * blocks) << c.name;
      // cp.async: Q once per (q tile, head), K and V once per visited block
      // (the next tile's K is prefetched only when that tile is visited).
      uint64_t qBytes = heads * (s / tq) * tq * d * 2;
      EXPECT_EQ(counters.cpAsyncBytes, qBytes + blocks * 2 * tkv * d * 2)
          << c.name;
      // Two block barriers per visited tile, and one per block before the
      // kv loop with Q in registers.
      int64_t qBlocks = heads * (s / tq);
      EXPECT_EQ(counters.barriers,
                2 * blocks + (config.qInRegisters ? qBlocks : 0))
          << c.name;
    }
  }
}

// Every configuration of the table, and ones it does not choose (both
// slab counts, 2 to 8 warps, Q in registers or shared memory), on the
// mask kinds whose kv loops differ:
// band bounds (causal, window), a compile-time tile table (prefix LM) and
// a run-time one (documents), with ragged lengths: the pipelined K
// prefetch follows each loop to its next visited tile.
TEST(EmulatedNumerics, EveryKernelConfiguration) {
  struct Config {
    const char *text;
    int64_t headDim;
  };
  std::vector<Config> configs = {
      {"128x64w4", 64}, {"128x32w4", 128}, {"128x64w8", 192},
      {"64x64w4", 256}, {"64x64w4", 64},   {"64x32w2", 64},
      {"32x64w2", 64},  {"128x128w8", 64}, {"128x16w4", 128},
      {"128x32w4", 64}, {"64x64w4q", 128}};
  // Each configuration: a band loop and a table loop, alternating.
  std::vector<std::string> masks = {"causal_bottom_right", "prefix_lm",
                                    "window", "document"};
  uint64_t seed = 400;
  for (size_t i = 0; i < configs.size(); ++i) {
    const Config &config = configs[i];
    CompileOptions options;
    options.gpuKernelConfig = config.text;
    Compiler compiler(options);
    for (size_t m : {i % 2 * 2, i % 2 * 2 + 1}) {
      const std::string &mask = masks[m];
      Case c;
      c.spec = makeSpec({2, 1, config.headDim, config.headDim, 150, 181},
                        seed % 2 ? ElementType::BF16 : ElementType::F16);
      applyMask(c, maskCase(mask));
      c.name = std::string("config ") + config.text +
               " D=" + std::to_string(config.headDim) + " " + mask;
      runCase(compiler, c, seed++, Target::Emulator);
    }
  }
}

TEST(HostNumerics, LongSequence) {
  // 1000 tokens, causal GQA in bf16 and a window in f32.
  Compiler compiler;
  Case c;
  c.spec = makeSpec({8, 2, 64, 64, 1000, 1000}, ElementType::BF16);
  c.spec.mask = "#attn.causal";
  c.keep = [](int64_t, int64_t, int64_t i, int64_t j) { return j <= i; };
  c.name = "causal 1000 bf16";
  runCase(compiler, c, 7);
  c.spec = makeSpec({2, 2, 128, 128, 1000, 1000}, ElementType::F32);
  c.spec.mask = "#attn.window<left = 100, right = 0>";
  c.keep = [](int64_t, int64_t, int64_t i, int64_t j) {
    return j <= i && j >= i - 100;
  };
  c.name = "window 1000 f32";
  runCase(compiler, c, 8);
}

/// The score modifications: ALiBi (causal), softcap, bias and a score_mod
/// region, each on `target` (the emulated GPU kernel needs f16/bf16).
void scoreModificationCases(Target target) {
  bool gpu = target == Target::Emulator;
  // Small host tiles put several tiles in one sequence; the GPU kernels
  // have their own shape (other tile sizes are refused there).
  Compiler compiler(gpu ? CompileOptions{} : CompileOptions{16, 16});
  Shape shape{4, 2, 64, 64, 45, 60};
  // ALiBi with the standard slopes of 4 heads: 2^-2, 2^-4, 2^-6, 2^-8.
  Case alibi;
  alibi.spec = makeSpec(shape, gpu ? ElementType::BF16 : ElementType::F32);
  alibi.spec.scoreMod = "#attn.alibi";
  alibi.spec.mask = "#attn.causal";
  alibi.keep = [](int64_t, int64_t, int64_t i, int64_t j) { return j <= i; };
  alibi.mod = [](double s, int64_t, int64_t h, int64_t i, int64_t j) {
    return s - std::pow(2.0, -2.0 * (h + 1)) * std::abs(double(i - j));
  };
  alibi.name = "alibi";
  runCase(compiler, alibi, 11, target);

  Case softcap;
  softcap.spec = makeSpec(shape, ElementType::F16);
  softcap.spec.scoreMod = "#attn.softcap<5.0>";
  softcap.spec.scale = 2.0;
  softcap.mod = [](double s, int64_t, int64_t, int64_t, int64_t) {
    return 5.0 * std::tanh(s / 5.0);
  };
  softcap.name = "softcap";
  runCase(compiler, softcap, 12, target);

  Case bias;
  bias.spec = makeSpec(shape, ElementType::BF16);
  bias.spec.hasBias = true;
  bias.name = "bias";
  runCase(compiler, bias, 13, target);

  Case region;
  region.spec = makeSpec(shape, gpu ? ElementType::F16 : ElementType::F32);
  region.spec.scoreModBody = "      %hf = arith.index_cast %h : index to i64\n"
                             "      %hs = arith.sitofp %hf : i64 to f32\n"
                             "      %t = arith.mulf %s, %hs : f32\n"
                             "      attn.yield %t : f32";
  region.mod = [](double s, int64_t, int64_t h, int64_t, int64_t) {
    return s * double(h);
  };
  region.name = "score_mod region";
  runCase(compiler, region, 14, target);

  // Scores a modification makes non-finite, as the dialect defines them:
  // NaN drops the element (the reference's -inf), +inf is the largest
  // finite score, FLT_MAX in base 2 (the element takes the whole row, lse
  // is FLT_MAX ln 2). O and lse stay finite.
  Case nonFinite;
  nonFinite.spec = makeSpec(shape, gpu ? ElementType::F16 : ElementType::F32);
  nonFinite.spec.scoreModBody =
      "      %c0 = arith.constant 0 : index\n"
      "      %c1 = arith.constant 1 : index\n"
      "      %c3 = arith.constant 3 : index\n"
      "      %c5 = arith.constant 5 : index\n"
      "      %ij = arith.addi %i, %j : index\n"
      "      %r3 = arith.remui %ij, %c3 : index\n"
      "      %r5 = arith.remui %i, %c5 : index\n"
      "      %isNaN = arith.cmpi eq, %r3, %c0 : index\n"
      "      %diag = arith.cmpi eq, %i, %j : index\n"
      "      %one = arith.cmpi eq, %r5, %c1 : index\n"
      "      %isInf = arith.andi %diag, %one : i1\n"
      "      %z = arith.constant 0.0 : f32\n"
      "      %nan = arith.divf %z, %z : f32\n"
      "      %inf = arith.constant 0x7F800000 : f32\n"
      "      %a = arith.select %isInf, %inf, %s : f32\n"
      "      %t = arith.select %isNaN, %nan, %a : f32\n"
      "      attn.yield %t : f32";
  nonFinite.mod = [](double s, int64_t, int64_t, int64_t i, int64_t j) {
    if ((i + j) % 3 == 0)
      return -std::numeric_limits<double>::infinity();
    if (i == j && i % 5 == 1) // the largest finite base-2 score
      return double(std::numeric_limits<float>::max()) / 1.4426950408889634;
    return s;
  };
  nonFinite.name = "non-finite score_mod";
  runCase(compiler, nonFinite, 15, target);
}

TEST(HostNumerics, ScoreModifications) { scoreModificationCases(Target::Host); }

// The same score modifications in the GPU kernel, emulated: ALiBi, softcap
// (tanh through libdevice), a bias read per element (with ragged edges)
// and a score_mod region.
TEST(EmulatedNumerics, ScoreModifications) {
  scoreModificationCases(Target::Emulator);
}

TEST(HostNumerics, EdgeCases) {
  Compiler compiler(CompileOptions{16, 16});
  // Bottom-right causal with more queries than keys: the first rows see no
  // key at all and must give O = 0, lse = -inf.
  Case empty;
  empty.spec = makeSpec({2, 1, 64, 64, 40, 25}, ElementType::F32);
  applyMask(empty, maskCase("causal_bottom_right"));
  empty.name = "fully masked rows";
  runCase(compiler, empty, 21);

  // Extreme logits: scores around +-1e4.
  Case extreme;
  extreme.spec = makeSpec({2, 2, 64, 64, 50, 50}, ElementType::F32);
  extreme.spec.scale = 1e4 / 8.0;
  extreme.spec.mask = "#attn.causal";
  extreme.keep = [](int64_t, int64_t, int64_t i, int64_t j) { return j <= i; };
  extreme.name = "extreme logits";
  runCase(compiler, extreme, 22);
}

TEST(HostJIT, CacheAndErrors) {
  Compiler compiler;
  AttentionSpec spec = makeSpec({2, 2, 64, 64, 10, 10}, ElementType::F32);
  ASSERT_TRUE(static_cast<bool>(compiler.compileForHost(spec)));
  ASSERT_TRUE(static_cast<bool>(compiler.compileForHost(spec)));
  EXPECT_EQ(compiler.cacheMisses(), 1);
  EXPECT_EQ(compiler.cacheHits(), 1);

  // A GQA ratio that does not divide comes back as the verifier's message.
  spec.numQHeads = 3;
  auto bad = compiler.compileForHost(spec);
  ASSERT_FALSE(static_cast<bool>(bad));
  std::string message = llvm::toString(bad.takeError());
  EXPECT_NE(message.find("query heads (3) must be a multiple of key/value "
                         "heads (2)"),
            std::string::npos)
      << message;

  // Missing buffers are reported, not dereferenced.
  spec.numQHeads = 2;
  auto kernel = compiler.compileForHost(spec);
  ASSERT_TRUE(static_cast<bool>(kernel));
  llvm::Error err = (*kernel)->run(HostArgs());
  ASSERT_TRUE(static_cast<bool>(err));
  EXPECT_NE(llvm::toString(std::move(err)).find("query buffer"),
            std::string::npos);
}

/// The output (and lse) of a causal GQA bf16 attention with a document
/// mask, compiled for `threads` threads, on fixed inputs.
struct ThreadedRun {
  std::vector<uint16_t> out;
  std::vector<float> lse;
};
AttentionSpec threadedSpec() {
  AttentionSpec spec = makeSpec({8, 2, 64, 64, 300, 300}, ElementType::BF16);
  spec.mask = "#attn.intersection<[#attn.causal, #attn.document]>";
  spec.hasSegmentIds = true;
  spec.withLogsumexp = true;
  return spec;
}
struct ThreadedInputs {
  std::vector<uint16_t> q, k, v;
  std::vector<int32_t> ids;
  explicit ThreadedInputs(const AttentionSpec &s) {
    std::mt19937_64 rng(77);
    auto fill = [&](int64_t n) {
      return randomTensor(rng, n, ElementType::BF16, 2.0).half;
    };
    q = fill(s.numQHeads * s.seqQ * s.headDimQK);
    k = fill(s.numKVHeads * s.seqKV * s.headDimQK);
    v = fill(s.numKVHeads * s.seqKV * s.headDimV);
    for (int64_t i = 0; i < s.seqQ; ++i)
      ids.push_back(static_cast<int32_t>(i / 70));
  }
};
void runThreaded(const HostKernel &kernel, const ThreadedInputs &in,
                 const AttentionSpec &s, ThreadedRun &result) {
  result.out.assign(s.numQHeads * s.seqQ * s.headDimV, 0);
  result.lse.assign(s.numQHeads * s.seqQ, 0.0f);
  HostArgs args;
  args.query = in.q.data();
  args.key = in.k.data();
  args.value = in.v.data();
  args.qSegmentIds = args.kvSegmentIds = in.ids.data();
  args.output = result.out.data();
  args.logsumexp = result.lse.data();
  llvm::Error err = kernel.run(args);
  ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
}

// Each q tile is computed by one thread with the same code whatever the
// thread count, so 1, 2 and 7 threads (more than this machine's cores)
// give bit-identical results; the 1-thread kernel is checked against the
// f64 reference by the matrix above.
TEST(HostJIT, ThreadCountsGiveIdenticalResults) {
  AttentionSpec spec = threadedSpec();
  ThreadedInputs inputs(spec);
  std::vector<ThreadedRun> runs;
  for (int64_t threads : {1, 2, 7}) {
    CompileOptions options;
    options.numThreads = threads;
    Compiler compiler(options);
    auto kernel = compiler.compileForHost(spec);
    ASSERT_TRUE(static_cast<bool>(kernel))
        << llvm::toString(kernel.takeError());
    runs.emplace_back();
    runThreaded(**kernel, inputs, spec, runs.back());
  }
  for (size_t n = 1; n < runs.size(); ++n) {
    EXPECT_EQ(runs[n].out, runs[0].out) << "run " << n;
    EXPECT_EQ(0, std::memcmp(runs[n].lse.data(), runs[0].lse.data(),
                             runs[0].lse.size() * sizeof(float)))
        << "run " << n;
  }
}

// One kernel run from several host threads at once, each with its own
// buffers (each run forks its own OpenMP team): every result is the
// single-run result.
TEST(HostJIT, ConcurrentRunsOfOneKernel) {
  AttentionSpec spec = threadedSpec();
  ThreadedInputs inputs(spec);
  CompileOptions options;
  options.numThreads = 2;
  Compiler compiler(options);
  auto kernel = compiler.compileForHost(spec);
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  ThreadedRun expected;
  runThreaded(**kernel, inputs, spec, expected);
  constexpr int kCallers = 4, kRunsEach = 3;
  std::vector<std::vector<ThreadedRun>> results(kCallers);
  std::vector<std::thread> callers;
  for (int t = 0; t < kCallers; ++t)
    callers.emplace_back([&, t] {
      for (int r = 0; r < kRunsEach; ++r) {
        results[t].emplace_back();
        runThreaded(**kernel, inputs, spec, results[t].back());
      }
    });
  for (std::thread &caller : callers)
    caller.join();
  for (int t = 0; t < kCallers; ++t)
    for (const ThreadedRun &run : results[t]) {
      EXPECT_EQ(run.out, expected.out) << "caller " << t;
      EXPECT_EQ(run.lse, expected.lse) << "caller " << t;
    }
}

// Split-KV: each query tile's kv range in N parts, merged by the
// logsumexp rule. Decode, GQA and MQA, every mask kind of kv plan (band
// bounds, run-time tables whose splits may hold only empty tiles, rows that
// keep nothing), splits beyond the number of kv tiles, all dtypes.
TEST(HostNumerics, KvSplits) {
  std::vector<std::string> masks = {"none",     "causal_bottom_right",
                                    "window",   "document",
                                    "mask_mod", "block_layout"};
  std::vector<Shape> shapes = {{8, 2, 128, 128, 1, 700},
                               {4, 1, 64, 64, 3, 1000},
                               {2, 2, 64, 64, 40, 25},
                               {4, 4, 40, 24, 70, 300}};
  std::vector<ElementType> types = {ElementType::F32, ElementType::BF16,
                                    ElementType::F16};
  uint64_t seed = 900;
  int index = 0;
  for (int64_t splits : {2, 3, 7, 16}) {
    for (int64_t tileKV : {0, 32}) {
      CompileOptions options{0, tileKV};
      options.kvSplits = splits;
      options.numThreads = 2;
      Compiler compiler(options);
      for (const std::string &mask : masks) {
        ++index;
        Shape shape = shapes[index % shapes.size()];
        ElementType type = types[index % types.size()];
        Case c;
        c.spec = makeSpec(shape, type);
        applyMask(c, maskCase(mask));
        c.name = mask + " splits=" + std::to_string(splits) +
                 " tile-kv=" + std::to_string(tileKV) +
                 " Sq=" + std::to_string(shape.seqQ) +
                 " Skv=" + std::to_string(shape.seqKV) +
                 " dtype=" + std::to_string(static_cast<int>(type));
        runCase(compiler, c, seed++);
      }
    }
  }
}

// Decode of grouped heads with one tile per kv head (the host's default,
// CompileOptions::packGqaHeads): the tile's rows are the group's query
// heads, each with its Sq queries, and K/V are read once per group. MLA's
// shape (Dqk = 576, Dv = 512, one kv head, 16 query heads), GQA 32:8 and
// 4:1, Sq from 1 to 4, against the f64 reference: bottom-right causal and
// window masks, ALiBi and a score_mod region that depend on the query
// head (so every row must see its own head), softcap, kv splits; f32,
// f16, bf16. The tile shapes show the packing; with the
// option off the same shapes run a tile per query head.
TEST(HostNumerics, PackedGqaDecode) {
  struct Config {
    Shape shape;
    std::string mask, mod;
    ElementType type;
    int64_t splits;
  };
  const std::vector<Config> configs = {
      {{16, 1, 576, 512, 1, 2000},
       "causal_bottom_right",
       "",
       ElementType::BF16,
       0},
      {{16, 1, 576, 512, 2, 700}, "window", "", ElementType::F32, 0},
      {{32, 8, 128, 128, 1, 600},
       "causal_bottom_right",
       "alibi",
       ElementType::F16,
       0},
      {{8, 2, 64, 64, 4, 700}, "none", "region", ElementType::F32, 3},
      {{4, 1, 64, 64, 3, 500}, "window", "softcap", ElementType::BF16, 2},
  };
  uint64_t seed = 1200;
  for (bool pack : {true, false}) {
    for (const Config &cfg : configs) {
      CompileOptions options;
      options.packGqaHeads = pack;
      options.kvSplits = cfg.splits;
      Compiler compiler(options);
      Case c;
      c.spec = makeSpec(cfg.shape, cfg.type);
      c.spec.batch = 2;
      applyMask(c, maskCase(cfg.mask));
      const int64_t heads = cfg.shape.numQHeads;
      if (cfg.mod == "alibi") {
        c.spec.scoreMod = "#attn.alibi";
        c.mod = [heads](double s, int64_t, int64_t h, int64_t i, int64_t j) {
          return s - std::pow(2.0, -8.0 * (h + 1) / heads) *
                         std::abs(double(i - j));
        };
      } else if (cfg.mod == "softcap") {
        c.spec.scoreMod = "#attn.softcap<5.0>";
        c.mod = [](double s, int64_t, int64_t, int64_t, int64_t) {
          return 5.0 * std::tanh(s / 5.0);
        };
      } else if (cfg.mod == "region") {
        c.spec.scoreModBody = "      %hf = arith.index_cast %h : index to "
                              "i64\n      %hs = arith.sitofp %hf : i64 to "
                              "f32\n      %t = arith.mulf %s, %hs : f32\n"
                              "      attn.yield %t : f32";
        c.mod = [](double s, int64_t, int64_t h, int64_t, int64_t) {
          return s * double(h);
        };
      }
      c.name = cfg.mask + " " + cfg.mod + " Hq=" + std::to_string(heads) +
               " D=" + std::to_string(cfg.shape.headDimQK) +
               " Sq=" + std::to_string(cfg.shape.seqQ) +
               (pack ? " packed" : " unpacked");
      runCase(compiler, c, seed++);
      auto kernel = compiler.compileForHost(c.spec);
      ASSERT_TRUE(static_cast<bool>(kernel))
          << llvm::toString(kernel.takeError());
      int64_t group = heads / cfg.shape.numKVHeads;
      EXPECT_EQ((*kernel)->tiles().q, (pack ? group : 1) * cfg.shape.seqQ)
          << c.name;
    }
  }
}

TEST(HostJIT, KvSplitsByShape) {
  // Decode with one head: the kv range is split so that the grid has work
  // for many threads; a prefill grid with many q tiles is not split. The
  // choice does not depend on the threads.
  for (int64_t threads : {1, 2, 7}) {
    CompileOptions options;
    options.numThreads = threads;
    Compiler compiler(options);
    auto decode = compiler.compileForHost(
        makeSpec({1, 1, 64, 64, 1, 32768}, ElementType::F32));
    ASSERT_TRUE(static_cast<bool>(decode))
        << llvm::toString(decode.takeError());
    EXPECT_EQ((*decode)->tiles().kvSplits, 32);
    auto prefill = compiler.compileForHost(
        makeSpec({8, 8, 64, 64, 1024, 1024}, ElementType::F32));
    ASSERT_TRUE(static_cast<bool>(prefill))
        << llvm::toString(prefill.takeError());
    EXPECT_EQ((*prefill)->tiles().kvSplits, 1);
  }
}

TEST(HostJIT, KvSplitsAreChecked) {
  for (int64_t splits : {-1, 257}) {
    CompileOptions options;
    options.kvSplits = splits;
    Compiler compiler(options);
    auto kernel = compiler.compileForHost(
        makeSpec({1, 1, 16, 16, 8, 8}, ElementType::F32));
    ASSERT_FALSE(static_cast<bool>(kernel));
    std::string message = llvm::toString(kernel.takeError());
    EXPECT_NE(message.find("kvSplits is " + std::to_string(splits)),
              std::string::npos)
        << message;
  }
}

TEST(HostJIT, ThreadCountIsChecked) {
  CompileOptions options;
  options.numThreads = -1;
  Compiler compiler(options);
  auto kernel =
      compiler.compileForHost(makeSpec({1, 1, 16, 16, 8, 8}, ElementType::F32));
  ASSERT_FALSE(static_cast<bool>(kernel));
  std::string message = llvm::toString(kernel.takeError());
  EXPECT_NE(message.find("numThreads is -1"), std::string::npos) << message;
}

} // namespace

namespace {

/// The (q tile, kv tile) blocks that hold at least one kept element,
/// counted by brute force over the elements (independent of the mask
/// algebra and of the tiler).
int64_t nonEmptyBlocks(int64_t seqQ, int64_t seqKV, int64_t tileQ,
                       int64_t tileKV, const KeepFn &keep) {
  int64_t count = 0;
  for (int64_t q0 = 0; q0 < seqQ; q0 += tileQ)
    for (int64_t k0 = 0; k0 < seqKV; k0 += tileKV) {
      bool any = false;
      for (int64_t i = q0; i < std::min(seqQ, q0 + tileQ) && !any; ++i)
        for (int64_t j = k0; j < std::min(seqKV, k0 + tileKV) && !any; ++j)
          any = keep(0, 0, i, j);
      count += any;
    }
  return count;
}

// Work is proportional to the kept fraction: the kernel visits exactly the
// kv tiles that hold a kept element, for band masks (loop bounds) and for
// other static masks (compile-time tile tables).
TEST(HostJIT, VisitsOnlyNonEmptyTiles) {
  const int64_t tile = 64, seq = 1024, heads = 2;
  Compiler compiler(CompileOptions{tile, tile, /*countTileVisits=*/true});
  struct VisitCase {
    std::string mask;
    KeepFn keep;
  };
  std::vector<VisitCase> cases = {
      {"", [](int64_t, int64_t, int64_t, int64_t) { return true; }},
      {"#attn.causal",
       [](int64_t, int64_t, int64_t i, int64_t j) { return j <= i; }},
      {"#attn.window<left = 256, right = 0>",
       [](int64_t, int64_t, int64_t i, int64_t j) {
         return j <= i && i - j <= 256;
       }},
      {"#attn.prefix_lm<prefix = 100>",
       [](int64_t, int64_t, int64_t i, int64_t j) {
         return j < 100 || j <= i;
       }},
      {"#attn.union<[#attn.window<left = 64, right = 64>, "
       "#attn.global<first = 8>]>",
       [](int64_t, int64_t, int64_t i, int64_t j) {
         return std::abs(i - j) <= 64 || i < 8 || j < 8;
       }},
  };
  int64_t dense = (seq / tile) * (seq / tile) * heads;
  for (const VisitCase &c : cases) {
    SCOPED_TRACE(c.mask);
    AttentionSpec spec =
        makeSpec({heads, heads, 64, 64, seq, seq}, ElementType::F32);
    spec.mask = c.mask;
    spec.withLogsumexp = false;
    auto kernel = compiler.compileForHost(spec);
    ASSERT_TRUE(static_cast<bool>(kernel))
        << llvm::toString(kernel.takeError());
    std::vector<float> q(heads * seq * 64, 0.5f), out(heads * seq * 64);
    HostArgs args;
    args.query = args.key = args.value = q.data();
    args.output = out.data();
    int64_t visits = -1;
    llvm::Error err = (*kernel)->run(args, &visits);
    ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
    int64_t expected = heads * nonEmptyBlocks(seq, seq, tile, tile, c.keep);
    EXPECT_EQ(visits, expected) << "of " << dense << " dense";
    if (c.mask == "#attn.causal") // 16 q tiles: 1 + 2 + ... + 16 each
      EXPECT_EQ(visits, heads * 136);
    if (c.mask == "#attn.window<left = 256, right = 0>") // w / Tk + 1 (+1)
      EXPECT_LE(visits, heads * (seq / tile) * (256 / tile + 2));
  }
}

} // namespace

namespace {

// Linear attention through the chunked lowering against the quadratic
// f64 formula: O_i = sum_j (phi(q_i).phi(k_j)) v_j [/ (sum_j phi(q_i).
// phi(k_j) + eps)], j <= i when causal.
struct LinearCase {
  std::string featureMap;
  bool causal, normalize;
  ElementType type;
  int64_t heads, kvHeads, seqQ, seqKV, dk, dv;
};

double phi(const std::string &map, double x) {
  if (map == "relu")
    return std::max(x, 0.0);
  if (map == "elu_plus_one")
    return x > 0 ? x + 1 : std::exp(x);
  return x;
}

TEST(HostNumerics, LinearAttention) {
  std::vector<LinearCase> cases = {
      {"elu_plus_one", true, true, ElementType::F32, 4, 2, 100, 100, 32, 16},
      {"elu_plus_one", false, true, ElementType::BF16, 2, 2, 37, 90, 16, 24},
      {"relu", true, false, ElementType::F16, 2, 1, 70, 70, 16, 16},
      {"identity", false, false, ElementType::F32, 2, 2, 33, 65, 8, 8},
      {"identity", true, false, ElementType::F32, 1, 1, 1, 1, 8, 8},
  };
  Compiler compiler(CompileOptions{16, 16});
  uint64_t seed = 100;
  for (const LinearCase &c : cases) {
    std::string elt = c.type == ElementType::F32   ? "f32"
                      : c.type == ElementType::F16 ? "f16"
                                                   : "bf16";
    auto tensor = [&](int64_t h, int64_t s, int64_t d) {
      return "tensor<1x" + std::to_string(h) + "x" + std::to_string(s) + "x" +
             std::to_string(d) + "x" + elt + ">";
    };
    std::string qT = tensor(c.heads, c.seqQ, c.dk),
                kT = tensor(c.kvHeads, c.seqKV, c.dk),
                vT = tensor(c.kvHeads, c.seqKV, c.dv),
                oT = tensor(c.heads, c.seqQ, c.dv);
    std::string attrs = "feature_map = #attn.feature_map<" + c.featureMap +
                        ">" + (c.causal ? ", causal" : "") +
                        (c.normalize ? ", normalize" : "");
    std::string text = "func.func @f(%q: " + qT + ", %k: " + kT +
                       ", %v: " + vT + ") -> " + oT +
                       " {\n  %o = attn.linear_attention %q, %k, %v {" + attrs +
                       "} : " + qT + ", " + kT + ", " + vT + " -> " + oT +
                       "\n  return %o : " + oT + "\n}\n";
    SCOPED_TRACE(text);
    auto kernel = compiler.compileForHost(text);
    ASSERT_TRUE(static_cast<bool>(kernel))
        << llvm::toString(kernel.takeError());
    std::mt19937_64 rng(seed++);
    Tensor q = randomTensor(rng, c.heads * c.seqQ * c.dk, c.type, 1.0);
    Tensor k = randomTensor(rng, c.kvHeads * c.seqKV * c.dk, c.type, 1.0);
    Tensor v = randomTensor(rng, c.kvHeads * c.seqKV * c.dv, c.type, 1.0);
    size_t outSize = c.heads * c.seqQ * c.dv;
    std::vector<float> outF32(outSize, std::nanf(""));
    std::vector<uint16_t> outHalf(outSize, 0x7e00);
    HostArgs args;
    args.query = q.data();
    args.key = k.data();
    args.value = v.data();
    args.output = c.type == ElementType::F32
                      ? static_cast<void *>(outF32.data())
                      : static_cast<void *>(outHalf.data());
    llvm::Error err = (*kernel)->run(args);
    ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));

    Case view;
    view.spec.elementType = c.type;
    double errSq = 0, refSq = 0;
    int64_t group = c.heads / c.kvHeads;
    for (int64_t h = 0; h < c.heads; ++h)
      for (int64_t i = 0; i < c.seqQ; ++i) {
        int64_t g = h / group;
        std::vector<double> num(c.dv, 0.0);
        double den = 0;
        for (int64_t j = 0; j < c.seqKV; ++j) {
          if (c.causal && j > i)
            continue;
          double a = 0;
          for (int64_t d = 0; d < c.dk; ++d)
            a += phi(c.featureMap, q.exact[(h * c.seqQ + i) * c.dk + d]) *
                 phi(c.featureMap, k.exact[(g * c.seqKV + j) * c.dk + d]);
          den += a;
          for (int64_t e = 0; e < c.dv; ++e)
            num[e] += a * v.exact[(g * c.seqKV + j) * c.dv + e];
        }
        for (int64_t e = 0; e < c.dv; ++e) {
          double ref = c.normalize ? num[e] / (den + 1e-6) : num[e];
          size_t n = (h * c.seqQ + i) * c.dv + e;
          double got = outputValue(view, outF32, outHalf, n);
          ASSERT_TRUE(std::isfinite(got)) << "output " << n;
          errSq += (got - ref) * (got - ref);
          refSq += ref * ref;
        }
      }
    double bound = c.type == ElementType::F32 ? 1e-5 : 1e-2;
    EXPECT_LE(std::sqrt(errSq / refSq), bound);
  }
}

} // namespace

namespace {

// Run-time tile tables: with document ids (packed sequences) the kernel
// visits exactly the tiles whose kept set is non-empty, as counted from
// the ids by brute force; the causal band bounds the rest.
TEST(HostJIT, RuntimeTableVisitsOnlyNonEmptyTiles) {
  const int64_t tile = 32, seq = 300, heads = 2;
  Compiler compiler(CompileOptions{tile, tile, /*countTileVisits=*/true});
  AttentionSpec spec =
      makeSpec({heads, heads, 32, 32, seq, seq}, ElementType::F32);
  spec.batch = 2;
  spec.mask = "#attn.intersection<[#attn.causal, #attn.document]>";
  spec.hasSegmentIds = true;
  spec.withLogsumexp = false;
  auto kernel = compiler.compileForHost(spec);
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  // Documents of 40..90 tokens; batch 1 is one document.
  std::vector<int32_t> ids;
  std::mt19937_64 rng(5);
  for (int64_t b = 0; b < spec.batch; ++b) {
    int32_t doc = 0;
    int64_t left = 40 + rng() % 50;
    for (int64_t i = 0; i < seq; ++i) {
      if (b == 0 && --left == 0) {
        ++doc;
        left = 40 + rng() % 50;
      }
      ids.push_back(doc);
    }
  }
  std::vector<float> x(spec.batch * heads * seq * 32, 0.25f), out(x.size());
  HostArgs args;
  args.query = args.key = args.value = x.data();
  args.qSegmentIds = args.kvSegmentIds = ids.data();
  args.output = out.data();
  int64_t visits = -1;
  llvm::Error err = (*kernel)->run(args, &visits);
  ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  int64_t expected = 0;
  for (int64_t b = 0; b < spec.batch; ++b)
    expected +=
        heads * nonEmptyBlocks(seq, seq, tile, tile,
                               [&](int64_t, int64_t, int64_t i, int64_t j) {
                                 return j <= i &&
                                        ids[b * seq + i] == ids[b * seq + j];
                               });
  EXPECT_EQ(visits, expected);
  // Batch 1 is one causal document: 1 + 2 + ... + 10 tiles per head.
  EXPECT_LT(visits, spec.batch * heads * 55);
}

} // namespace

namespace {

// Regions that read captured tensors (FlexAttention's captured tensors): a
// per-head window length read by mask_mod and a per-key bias read by
// score_mod. Their tiles are classified at run time.
/// An attention whose regions read captured tensors: a per-head window
/// length (mask_mod) and a per-key bias (score_mod), over 60 tokens with
/// 4 query heads on 2 kv heads; `elt` and `dim` pick the element type and
/// head dimension.
std::string capturedTensorsText(const std::string &elt, int64_t dim) {
  std::string text = R"mlir(
    func.func @f(%q: tensor<1x4x60xDxELT>, %k: tensor<1x2x60xDxELT>,
                 %v: tensor<1x2x60xDxELT>, %win: tensor<4xi32>,
                 %kb: tensor<60xf32>) -> tensor<1x4x60xDxELT> {
      %o = attn.attention %q, %k, %v
          captures(%win, %kb : tensor<4xi32>, tensor<60xf32>)
          mask_mod {
          ^bb0(%b: index, %h: index, %i: index, %j: index,
               %w: tensor<4xi32>, %x: tensor<60xf32>):
            %wi = tensor.extract %w[%h] : tensor<4xi32>
            %wl = arith.index_cast %wi : i32 to index
            %causal = arith.cmpi ule, %j, %i : index
            %d = arith.subi %i, %j : index
            %near = arith.cmpi ule, %d, %wl : index
            %keep = arith.andi %causal, %near : i1
            attn.yield %keep : i1
          }
          score_mod {
          ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index,
               %w: tensor<4xi32>, %x: tensor<60xf32>):
            %xj = tensor.extract %x[%j] : tensor<60xf32>
            %t = arith.addf %s, %xj : f32
            attn.yield %t : f32
          }
          : tensor<1x4x60xDxELT>, tensor<1x2x60xDxELT>, tensor<1x2x60xDxELT>
          -> tensor<1x4x60xDxELT>
      return %o : tensor<1x4x60xDxELT>
    })mlir";
  for (size_t at = text.find("xDxELT"); at != std::string::npos;
       at = text.find("xDxELT", at))
    text.replace(at, 6, "x" + std::to_string(dim) + "x" + elt);
  return text;
}

/// Runs the captured-tensor attention (f32, D = 32 on the host; f16,
/// D = 64 in the emulated GPU kernel, whose head dims are multiples of 64)
/// against the f64 reference. Returns the kernel's error, if any.
std::string runCapturedTensors(Compiler &compiler, Target target,
                               size_t numCaptures) {
  bool gpu = target == Target::Emulator;
  ElementType type = gpu ? ElementType::F16 : ElementType::F32;
  int64_t dim = gpu ? 64 : 32;
  std::string text = capturedTensorsText(gpu ? "f16" : "f32", dim);
  std::shared_ptr<const HostKernel> host;
  std::shared_ptr<const EmulatedKernel> emulated;
  if (gpu) {
    auto kernel = compiler.compileForEmulator(text);
    if (!kernel)
      return llvm::toString(kernel.takeError());
    emulated = *kernel;
  } else {
    auto kernel = compiler.compileForHost(text);
    if (!kernel)
      return llvm::toString(kernel.takeError());
    host = *kernel;
  }
  Case c;
  c.spec = makeSpec({4, 2, dim, dim, 60, 60}, type);
  std::vector<int32_t> window = {0, 5, 17, 100};
  std::vector<float> keyBias(60);
  for (int j = 0; j < 60; ++j)
    keyBias[j] = 0.05f * static_cast<float>(j % 7) - 0.1f;
  c.keep = [&](int64_t, int64_t h, int64_t i, int64_t j) {
    return j <= i && i - j <= window[h];
  };
  c.mod = [&](double s, int64_t, int64_t, int64_t, int64_t j) {
    return s + keyBias[j];
  };
  std::mt19937_64 rng(31);
  Tensor q = randomTensor(rng, 4 * 60 * dim, type, 1.0);
  Tensor k = randomTensor(rng, 2 * 60 * dim, type, 1.0);
  Tensor v = randomTensor(rng, 2 * 60 * dim, type, 1.0);
  std::vector<float> outF32(4 * 60 * dim, std::nanf(""));
  std::vector<uint16_t> outHalf(4 * 60 * dim, 0x7e00);
  const void *captures[] = {window.data(), keyBias.data()};
  HostArgs args;
  args.query = q.data();
  args.key = k.data();
  args.value = v.data();
  args.output = gpu ? static_cast<void *>(outHalf.data())
                    : static_cast<void *>(outF32.data());
  args.captures = captures;
  args.numCaptures = numCaptures;
  llvm::Error err = gpu ? emulated->run(args) : host->run(args);
  if (err)
    return llvm::toString(std::move(err));
  std::vector<double> ref, lse;
  reference(c, q, k, v, {}, ref, lse);
  double errSq = 0, refSq = 0;
  for (size_t n = 0; n < ref.size(); ++n) {
    double got = gpu ? fromF16Bits(outHalf[n]) : outF32[n];
    EXPECT_TRUE(std::isfinite(got)) << n;
    errSq += (got - ref[n]) * (got - ref[n]);
    refSq += ref[n] * ref[n];
  }
  EXPECT_LE(std::sqrt(errSq / refSq), gpu ? 1e-2 : 1e-5);
  return "";
}

TEST(HostNumerics, CapturedTensors) {
  Compiler compiler(CompileOptions{16, 16});
  std::string error = runCapturedTensors(compiler, Target::Host, 2);
  EXPECT_TRUE(error.empty()) << error;
  // Too few captures are reported, not read out of bounds.
  error = runCapturedTensors(compiler, Target::Host, 1);
  EXPECT_NE(error.find("numCaptures is 1"), std::string::npos) << error;
}

// The same captured tensors in the GPU kernel, emulated: the regions make
// the tile table a run-time one, built by its own kernel that reads the
// captures too.
TEST(EmulatedNumerics, CapturedTensors) {
  Compiler compiler;
  std::string error = runCapturedTensors(compiler, Target::Emulator, 2);
  EXPECT_TRUE(error.empty()) << error;
}

} // namespace
