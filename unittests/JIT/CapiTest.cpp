//===- CapiTest.cpp - The C API and the JIT's edges of its input ----------===//
//
// attn_last_error() is empty after any call that succeeded; a target that
// is not an attn_target is an error (not an invalid enum value); operands
// that are the same value (`attn.attention %x, %x, %v`) and HostArgs
// buffers that are the same pointer each give the right result, because
// the JIT maps arguments to roles by operand position; empty shapes are a
// compile error saying so; the error for a module without one attention
// has the module's location.
//
//===----------------------------------------------------------------------===//

#include "attn/JIT/Compiler.h"
#include "attn/JIT/attn.h"
#include "attn/Run/Reference.h"

#include "../Support/Dtypes.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

using namespace mlir::attn::jit;

namespace {

std::string tensor(int64_t s, int64_t d, const char *elt = "f32") {
  return "tensor<1x1x" + std::to_string(s) + "x" + std::to_string(d) + "x" +
         elt + ">";
}

/// `attn.attention %x, %x, %v`: query and key are one value.
std::string aliasedAttention(int64_t s, int64_t d, const char *elt = "f32") {
  std::string t = tensor(s, d, elt);
  return "func.func @f(%x: " + t + ", %v: " + t + ") -> " + t +
         " {\n  %o = attn.attention %x, %x, %v : " + t + ", " + t + ", " + t +
         " -> " + t + "\n  return %o : " + t + "\n}\n";
}

/// Single-head attention without a mask, by the f64 reference.
std::vector<double> reference(const std::vector<float> &q,
                              const std::vector<float> &k,
                              const std::vector<float> &v, int64_t s,
                              int64_t d) {
  std::vector<double> q64(q.begin(), q.end()), k64(k.begin(), k.end()),
      v64(v.begin(), v.end());
  mlir::attn::run::ReferenceShape shape;
  shape.seqQ = shape.seqKV = s;
  shape.headDimQK = shape.headDimV = d;
  mlir::attn::run::ReferenceInputs in;
  in.query = q64;
  in.key = k64;
  in.value = v64;
  in.scale = 1.0 / std::sqrt(double(d));
  return mlir::attn::run::referenceAttention(shape, in).output;
}

std::vector<float> random(std::mt19937 &rng, size_t n) {
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<float> t(n);
  for (float &x : t)
    x = dist(rng);
  return t;
}

/// The largest absolute difference.
double maxError(const std::vector<float> &got,
                const std::vector<double> &want) {
  double worst = 0;
  for (size_t i = 0; i < want.size(); ++i)
    worst = std::max(worst, std::abs(got[i] - want[i]));
  return std::isnan(worst) ? INFINITY : worst;
}

std::string errorOf(llvm::Error error) {
  return error ? llvm::toString(std::move(error)) : std::string();
}

// --- operands by position ----------------------------------------------------

TEST(JitArguments, AnOperandUsedTwiceTakesEachRolesBuffer) {
  constexpr int64_t s = 16, d = 16;
  std::mt19937 rng(1);
  std::vector<float> a = random(rng, s * d), b = random(rng, s * d),
                     v = random(rng, s * d), out(s * d);
  Compiler compiler;
  auto kernel = compiler.compileForHost(aliasedAttention(s, d));
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  HostArgs args;
  args.value = v.data();
  args.output = out.data();
  // The buffers the caller passes for query and key (the same tensor, in
  // the text) are each read for their role.
  args.query = a.data();
  args.key = a.data();
  ASSERT_EQ(errorOf((*kernel)->run(args)), "");
  EXPECT_LT(maxError(out, reference(a, a, v, s, d)), 1e-5);
  args.key = b.data();
  ASSERT_EQ(errorOf((*kernel)->run(args)), "");
  EXPECT_LT(maxError(out, reference(a, b, v, s, d)), 1e-5);
  args.query = b.data();
  args.key = a.data();
  ASSERT_EQ(errorOf((*kernel)->run(args)), "");
  EXPECT_LT(maxError(out, reference(b, a, v, s, d)), 1e-5);
}

TEST(JitArguments, TheSameBufferForQueryAndKeyIsRight) {
  constexpr int64_t s = 16, d = 16;
  std::mt19937 rng(2);
  std::vector<float> x = random(rng, s * d), v = random(rng, s * d), out(s * d);
  AttentionSpec spec;
  spec.seqQ = spec.seqKV = s;
  spec.headDimQK = spec.headDimV = d;
  Compiler compiler;
  auto kernel = compiler.compileForHost(spec);
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  HostArgs args;
  args.query = args.key = x.data();
  args.value = v.data();
  args.output = out.data();
  ASSERT_EQ(errorOf((*kernel)->run(args)), "");
  EXPECT_LT(maxError(out, reference(x, x, v, s, d)), 1e-5);
  // All three the same buffer.
  args.value = x.data();
  ASSERT_EQ(errorOf((*kernel)->run(args)), "");
  EXPECT_LT(maxError(out, reference(x, x, x, s, d)), 1e-5);
}

TEST(JitArguments, TheEmulatedGpuKernelTakesOperandsByPosition) {
  constexpr int64_t s = 64, d = 64;
  std::mt19937 rng(3);
  std::vector<float> a = random(rng, s * d), b = random(rng, s * d),
                     v = random(rng, s * d);
  auto toBits = [](std::vector<float> &t) {
    std::vector<uint16_t> bits;
    for (float &x : t) {
      bits.push_back(attn_test::toBf16Bits(x));
      x = attn_test::fromBf16Bits(bits.back());
    }
    return bits;
  };
  std::vector<uint16_t> aBits = toBits(a), bBits = toBits(b), vBits = toBits(v),
                        outBits(s * d);
  Compiler compiler;
  auto kernel = compiler.compileForEmulator(aliasedAttention(s, d, "bf16"));
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  HostArgs args;
  args.query = aBits.data();
  args.key = bBits.data();
  args.value = vBits.data();
  args.output = outBits.data();
  ASSERT_EQ(errorOf((*kernel)->run(args)), "");
  std::vector<float> out;
  for (uint16_t o : outBits)
    out.push_back(attn_test::fromBf16Bits(o));
  EXPECT_LT(maxError(out, reference(a, b, v, s, d)), 2e-2);
  // The GPU kernel's contract has a parameter per position, too.
  auto gpu = compiler.compileForGpu(aliasedAttention(s, d, "bf16"));
  ASSERT_TRUE(static_cast<bool>(gpu)) << llvm::toString(gpu.takeError());
}

// --- shapes and locations ----------------------------------------------------

TEST(JitInput, EmptyShapesAreACompileError) {
  Compiler compiler;
  AttentionSpec spec;
  spec.seqQ = 4;
  spec.seqKV = 0;
  spec.headDimQK = spec.headDimV = 8;
  auto host = compiler.compileForHost(spec);
  ASSERT_FALSE(static_cast<bool>(host));
  std::string message = llvm::toString(host.takeError());
  EXPECT_NE(message.find("the host JIT needs non-empty shapes; the key is "
                         "'tensor<1x1x0x8xf32>', which has no elements"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("attention:2:"), std::string::npos) << message;

  spec.seqKV = 8;
  spec.batch = 0;
  host = compiler.compileForHost(spec);
  ASSERT_FALSE(static_cast<bool>(host));
  message = llvm::toString(host.takeError());
  EXPECT_NE(message.find("needs non-empty shapes; the query is"),
            std::string::npos)
      << message;

  AttentionSpec gpuSpec;
  gpuSpec.elementType = ElementType::BF16;
  gpuSpec.seqQ = 0;
  gpuSpec.seqKV = 64;
  auto gpu = compiler.compileForGpu(gpuSpec);
  ASSERT_FALSE(static_cast<bool>(gpu));
  message = llvm::toString(gpu.takeError());
  EXPECT_NE(message.find("the GPU JIT needs non-empty shapes; the query is"),
            std::string::npos)
      << message;
  auto emulated = compiler.compileForEmulator(gpuSpec);
  ASSERT_FALSE(static_cast<bool>(emulated));
  message = llvm::toString(emulated.takeError());
  EXPECT_NE(message.find("needs non-empty shapes"), std::string::npos)
      << message;
}

TEST(JitInput, NoAttentionIsAnErrorAtTheModule) {
  Compiler compiler;
  auto none = compiler.compileForHost("func.func @f() {\n  return\n}\n");
  ASSERT_FALSE(static_cast<bool>(none));
  std::string message = llvm::toString(none.takeError());
  EXPECT_NE(message.find(
                "attention:1:1: error: expected exactly one "
                "attn.attention, attn.linear_attention or attn.merge, found 0"),
            std::string::npos)
      << message;

  std::string t = tensor(8, 8);
  std::string op = " = attn.attention %q, %q, %q : " + t + ", " + t + ", " + t +
                   " -> " + t + "\n";
  std::string two = "func.func @f(%q: " + t + ") -> " + t + " {\n  %a" + op +
                    "  %b" + op + "  return %b : " + t + "\n}\n";
  auto both = compiler.compileForGpu(two);
  ASSERT_FALSE(static_cast<bool>(both));
  message = llvm::toString(both.takeError());
  EXPECT_NE(message.find(
                "attention:1:1: error: expected exactly one "
                "attn.attention, attn.linear_attention or attn.merge, found 2"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("attention:2:8: note: one is here"), std::string::npos)
      << message;
  EXPECT_NE(message.find("attention:3:8: note: one is here"), std::string::npos)
      << message;
}

// --- the C API
// ----------------------------------------------------------------

TEST(CApi, ASuccessClearsTheLastError) {
  attn_compiler *compiler = attn_compiler_create();
  ASSERT_NE(compiler, nullptr);
  EXPECT_STREQ(attn_last_error(), "");
  attn_kernel *kernel = reinterpret_cast<attn_kernel *>(1);
  EXPECT_EQ(
      attn_compile(compiler, "not mlir", ATTN_TARGET_HOST, nullptr, &kernel),
      -1);
  EXPECT_EQ(kernel, nullptr);
  EXPECT_STRNE(attn_last_error(), "");

  constexpr int64_t s = 8, d = 8;
  ASSERT_EQ(attn_compile(compiler, aliasedAttention(s, d).c_str(),
                         ATTN_TARGET_HOST, nullptr, &kernel),
            0)
      << attn_last_error();
  EXPECT_STREQ(attn_last_error(), "");
  ASSERT_NE(kernel, nullptr);

  std::vector<float> x(s * d, 0.5f), v(s * d, 0.25f), out(s * d);
  attn_args args = {};
  args.query = x.data();
  args.key = x.data();
  args.value = v.data();
  EXPECT_EQ(attn_run(kernel, &args, nullptr), -1); // no output buffer
  EXPECT_NE(std::string(attn_last_error()).find("output buffer is required"),
            std::string::npos)
      << attn_last_error();
  args.output = out.data();
  EXPECT_EQ(attn_run(kernel, &args, nullptr), 0) << attn_last_error();
  EXPECT_STREQ(attn_last_error(), "");
  for (float o : out)
    EXPECT_FLOAT_EQ(o, 0.25f);

  EXPECT_EQ(attn_run(nullptr, &args, nullptr), -1);
  attn_kernel_destroy(kernel);
  EXPECT_STREQ(attn_last_error(), "");
  EXPECT_EQ(attn_compile(nullptr, "", ATTN_TARGET_HOST, nullptr, &kernel), -1);
  attn_compiler_destroy(compiler);
  EXPECT_STREQ(attn_last_error(), "");
}

TEST(CApi, ThreadCounts) {
  EXPECT_EQ(attn_compiler_create_with_threads(-3), nullptr);
  EXPECT_NE(std::string(attn_last_error()).find("num_threads is -3"),
            std::string::npos)
      << attn_last_error();
  constexpr int64_t s = 200, d = 16;
  std::vector<float> x(s * d), v(s * d);
  for (int64_t n = 0; n < s * d; ++n) {
    x[n] = static_cast<float>((n * 37) % 11) / 11.0f;
    v[n] = static_cast<float>((n * 13) % 7) / 7.0f;
  }
  std::vector<std::vector<float>> outs;
  for (int threads : {1, 3}) {
    attn_compiler *compiler = attn_compiler_create_with_threads(threads);
    ASSERT_NE(compiler, nullptr) << attn_last_error();
    attn_kernel *kernel = nullptr;
    ASSERT_EQ(attn_compile(compiler, aliasedAttention(s, d).c_str(),
                           ATTN_TARGET_HOST, nullptr, &kernel),
              0)
        << attn_last_error();
    outs.emplace_back(s * d);
    attn_args args = {};
    args.query = args.key = x.data();
    args.value = v.data();
    args.output = outs.back().data();
    EXPECT_EQ(attn_run(kernel, &args, nullptr), 0) << attn_last_error();
    attn_kernel_destroy(kernel);
    attn_compiler_destroy(compiler);
  }
  EXPECT_EQ(outs[0], outs[1]);
}

TEST(CApi, AnUnknownTargetIsAnError) {
  attn_compiler *compiler = attn_compiler_create();
  for (int target : {3, 7, -1, 1 << 30}) {
    SCOPED_TRACE(target);
    attn_kernel *kernel = reinterpret_cast<attn_kernel *>(1);
    EXPECT_EQ(attn_compile(compiler, aliasedAttention(8, 8).c_str(), target,
                           nullptr, &kernel),
              -1);
    EXPECT_EQ(kernel, nullptr);
    std::string message = attn_last_error();
    EXPECT_NE(
        message.find("attn_compile: unknown target " + std::to_string(target)),
        std::string::npos)
        << message;
  }
  attn_compiler_destroy(compiler);
}

TEST(CApi, EmptyShapesAreACompileError) {
  attn_compiler *compiler = attn_compiler_create();
  attn_kernel *kernel = nullptr;
  EXPECT_EQ(attn_compile(compiler, aliasedAttention(0, 8).c_str(),
                         ATTN_TARGET_HOST, nullptr, &kernel),
            -1);
  EXPECT_EQ(kernel, nullptr);
  std::string message = attn_last_error();
  EXPECT_NE(message.find("needs non-empty shapes; the query is "
                         "'tensor<1x1x0x8xf32>'"),
            std::string::npos)
      << message;
  attn_compiler_destroy(compiler);
}

} // namespace

// A spec with '?' lengths from C: one kernel, described by
// attn_kernel_arg, run at two lengths against the f64 reference; a
// missing length is an error.
TEST(CApi, RunTimeLengthsAndArguments) {
  EXPECT_EQ(attn_c_api_version(), ATTN_C_API_VERSION);
  const int64_t d = 16;
  std::string t = "tensor<1x1x?x16xf32>";
  std::string text = "func.func @f(%q: " + t + ", %k: " + t + ", %v: " + t +
                     ") -> " + t +
                     " {\n  %o = attn.attention %q, %k, %v : " + t + ", " + t +
                     ", " + t + " -> " + t + "\n  return %o : " + t + "\n}\n";
  attn_compiler *compiler = attn_compiler_create();
  attn_kernel *kernel = nullptr;
  ASSERT_EQ(
      attn_compile(compiler, text.c_str(), ATTN_TARGET_HOST, nullptr, &kernel),
      0)
      << attn_last_error();
  ASSERT_EQ(attn_kernel_num_args(kernel), 4u);
  attn_arg_info info;
  ASSERT_EQ(attn_kernel_arg(kernel, 1, &info), 0);
  EXPECT_EQ(info.role, ATTN_ARG_KEY);
  EXPECT_STREQ(info.name, "key");
  EXPECT_STREQ(info.element_type, "f32");
  ASSERT_EQ(info.rank, 4);
  EXPECT_EQ(info.shape[0], 1);
  EXPECT_EQ(info.shape[2], ATTN_DYNAMIC_DIM);
  EXPECT_EQ(info.shape[3], d);
  EXPECT_STREQ(info.run_size[2], "seqKV");
  EXPECT_STREQ(info.run_size[3], "");
  ASSERT_EQ(attn_kernel_arg(kernel, 3, &info), 0);
  EXPECT_EQ(info.role, ATTN_ARG_OUTPUT);
  EXPECT_STREQ(info.run_size[2], "seqQ");
  EXPECT_EQ(attn_kernel_arg(kernel, 4, &info), -1);
  EXPECT_NE(std::string(attn_last_error()).find("index 4 is out of range"),
            std::string::npos);

  std::mt19937 rng(3);
  for (int64_t s : {5, 77}) {
    std::vector<float> q = random(rng, s * d), k = random(rng, s * d),
                       v = random(rng, s * d), out(s * d, NAN);
    attn_args args = {};
    args.query = q.data();
    args.key = k.data();
    args.value = v.data();
    args.output = out.data();
    args.seq_q = args.seq_kv = s;
    ASSERT_EQ(attn_run(kernel, &args, nullptr), 0) << attn_last_error();
    EXPECT_LE(maxError(out, reference(q, k, v, s, d)), 1e-5) << "S=" << s;
    args.seq_kv = 0;
    EXPECT_EQ(attn_run(kernel, &args, nullptr), -1);
    EXPECT_NE(std::string(attn_last_error())
                  .find("seqKV is dynamic ('?' in its spec)"),
              std::string::npos)
        << attn_last_error();
  }
  attn_kernel_destroy(kernel);
  attn_compiler_destroy(compiler);
}

// attn.merge from C: merging one part is the identity (O and lse come back
// as they went in), and the kernel names its inputs.
TEST(CApi, MergeTakesItsPartials) {
  std::string text =
      "func.func @m(%po: tensor<1x1x2x?x16xf32>, %pl: tensor<1x1x2x?xf32>) "
      "-> (tensor<1x2x?x16xf32>, tensor<1x2x?xf32>) {\n"
      "  %o, %l = attn.merge %po, %pl : tensor<1x1x2x?x16xf32>, "
      "tensor<1x1x2x?xf32> -> tensor<1x2x?x16xf32>, tensor<1x2x?xf32>\n"
      "  return %o, %l : tensor<1x2x?x16xf32>, tensor<1x2x?xf32>\n}\n";
  attn_compiler *compiler = attn_compiler_create();
  attn_kernel *kernel = nullptr;
  ASSERT_EQ(
      attn_compile(compiler, text.c_str(), ATTN_TARGET_HOST, nullptr, &kernel),
      0)
      << attn_last_error();
  attn_arg_info info;
  ASSERT_EQ(attn_kernel_arg(kernel, 0, &info), 0);
  EXPECT_EQ(info.role, ATTN_ARG_PARTIALS);
  EXPECT_STREQ(info.run_size[3], "seqQ");
  ASSERT_EQ(attn_kernel_arg(kernel, 1, &info), 0);
  EXPECT_EQ(info.role, ATTN_ARG_PARTIAL_LSE);
  std::mt19937 rng(5);
  const int64_t s = 9;
  std::vector<float> parts = random(rng, 2 * s * 16), lse = random(rng, 2 * s);
  std::vector<float> out(parts.size(), NAN), outLse(lse.size(), NAN);
  attn_args args = {};
  args.partials = parts.data();
  args.partial_lse = lse.data();
  args.output = out.data();
  args.logsumexp = outLse.data();
  args.seq_q = s;
  ASSERT_EQ(attn_run(kernel, &args, nullptr), 0) << attn_last_error();
  for (size_t i = 0; i < parts.size(); ++i)
    EXPECT_NEAR(out[i], parts[i], 1e-6) << i;
  for (size_t i = 0; i < lse.size(); ++i)
    EXPECT_NEAR(outLse[i], lse[i], 1e-6) << i;
  attn_kernel_destroy(kernel);
  attn_compiler_destroy(compiler);
}

// Packed sequences from C: the offsets' roles and sizes ("batch + 1"),
// each sequence against its own attention, and offsets that decrease
// refused before the run.
TEST(CApi, VarlenTakesItsOffsets) {
  const int64_t d = 16;
  std::string t = "tensor<?x1x16xf32>", c = "tensor<?xi32>";
  std::string text =
      "func.func @f(%q: " + t + ", %k: " + t + ", %v: " + t + ", %cq: " + c +
      ", %ck: " + c + ") -> " + t +
      " {\n  %o = attn.attention %q, %k, %v varlen(%cq, %ck : " + c + ", " + c +
      ") : " + t + ", " + t + ", " + t + " -> " + t + "\n  return %o : " + t +
      "\n}\n";
  attn_compiler *compiler = attn_compiler_create();
  attn_kernel *kernel = nullptr;
  ASSERT_EQ(
      attn_compile(compiler, text.c_str(), ATTN_TARGET_HOST, nullptr, &kernel),
      0)
      << attn_last_error();
  ASSERT_EQ(attn_kernel_num_args(kernel), 6u);
  attn_arg_info info;
  ASSERT_EQ(attn_kernel_arg(kernel, 0, &info), 0);
  EXPECT_STREQ(info.run_size[0], "seqQ");
  ASSERT_EQ(attn_kernel_arg(kernel, 3, &info), 0);
  EXPECT_EQ(info.role, ATTN_ARG_CU_SEQLENS_Q);
  EXPECT_STREQ(info.element_type, "i32");
  EXPECT_STREQ(info.run_size[0], "batch + 1");
  ASSERT_EQ(attn_kernel_arg(kernel, 4, &info), 0);
  EXPECT_EQ(info.role, ATTN_ARG_CU_SEQLENS_K);

  std::mt19937 rng(9);
  const std::vector<int32_t> cu = {0, 3, 8};
  const int64_t tokens = cu.back();
  std::vector<float> q = random(rng, tokens * d), k = random(rng, tokens * d),
                     v = random(rng, tokens * d), out(tokens * d, NAN);
  attn_args args = {};
  args.query = q.data();
  args.key = k.data();
  args.value = v.data();
  args.output = out.data();
  args.cu_seqlens_q = cu.data();
  args.cu_seqlens_k = cu.data();
  args.batch = 2;
  args.seq_q = args.seq_kv = tokens;
  ASSERT_EQ(attn_run(kernel, &args, nullptr), 0) << attn_last_error();
  for (size_t b = 0; b + 1 < cu.size(); ++b) {
    int64_t s = cu[b + 1] - cu[b];
    auto rows = [&](const std::vector<float> &x) {
      return std::vector<float>(x.begin() + cu[b] * d,
                                x.begin() + cu[b + 1] * d);
    };
    EXPECT_LE(maxError(rows(out), reference(rows(q), rows(k), rows(v), s, d)),
              1e-5)
        << "sequence " << b;
  }
  const std::vector<int32_t> bad = {0, 5, 3};
  args.cu_seqlens_k = bad.data();
  EXPECT_EQ(attn_run(kernel, &args, nullptr), -1);
  EXPECT_NE(std::string(attn_last_error()).find("cu_seqlens_k[2] is 3"),
            std::string::npos)
      << attn_last_error();
  attn_kernel_destroy(kernel);
  attn_compiler_destroy(compiler);
}
