//===- ContractJsonTest.cpp - The launch contract's JSON codec ------------===//
//
// contractToJson / contractFromJson: a compiled attention with a run-time
// tile table (two kernels, one temporary) round-trips to the same
// #attn.launch_contract, host signature and sizes; a file whose derived
// fields disagree with its attribute, or whose attribute does not verify,
// is refused with the reason.
//
//===----------------------------------------------------------------------===//

#include "attn/InitAll.h"
#include "attn/Target/PTX/PTX.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/JSON.h"

#include "gtest/gtest.h"

#include <functional>

using namespace mlir;

namespace {

constexpr const char *kDocuments = R"mlir(
func.func @attention(%q: tensor<1x4x100x64xbf16>, %k: tensor<1x2x100x64xbf16>,
                     %v: tensor<1x2x100x64xbf16>, %qi: tensor<1x100xi32>,
                     %ki: tensor<1x100xi32>) -> tensor<1x4x100x64xbf16> {
  %o = attn.attention %q, %k, %v segments(%qi, %ki : tensor<1x100xi32>, tensor<1x100xi32>)
      {mask = #attn.document}
      : tensor<1x4x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>
      -> tensor<1x4x100x64xbf16>
  return %o : tensor<1x4x100x64xbf16>
}
)mlir";

class ContractJson : public ::testing::Test {
protected:
  void SetUp() override {
    DialectRegistry registry;
    attn::registerAllDialects(registry);
    context = std::make_unique<MLIRContext>(registry);
    context->loadAllAvailableDialects();
    OwningOpRef<ModuleOp> module =
        parseSourceString<ModuleOp>(kDocuments, context.get());
    ASSERT_TRUE(module);
    auto compiled = attn::ptx::compileAttention(*module);
    ASSERT_TRUE(succeeded(compiled));
    original = std::move(*compiled);
    text = attn::ptx::contractToJson(original, "sm_80");
  }

  /// contractFromJson of `text` after `edit`; the error text, or "" when it
  /// was accepted.
  std::string readEdited(std::function<void(llvm::json::Object &)> edit) {
    llvm::Expected<llvm::json::Value> root = llvm::json::parse(text);
    EXPECT_TRUE(static_cast<bool>(root));
    edit(*root->getAsObject());
    std::string edited;
    llvm::raw_string_ostream(edited) << *root;
    std::string chip;
    auto read = attn::ptx::contractFromJson(edited, context.get(), chip);
    return read ? "" : llvm::toString(read.takeError());
  }

  std::unique_ptr<MLIRContext> context;
  attn::ptx::CompiledAttention original;
  std::string text;
};

TEST_F(ContractJson, RoundTrips) {
  attn::LaunchContractAttr contract = original.contract;
  ASSERT_EQ(contract.getKernels().size(), 2u);
  ASSERT_EQ(contract.getTemporaries().size(), 1u);
  EXPECT_EQ(contract.getTemporaries()[0].getBytes(), 1 * 4 * 1 * 4);
  EXPECT_EQ(original.sizes(), (SmallVector<int64_t, 4>{1, 4, 100, 100}));
  // The tile shape of the tiled IR (the table's 128 x 32 for head dim
  // 64), which the grids divide by.
  EXPECT_EQ(contract.getTiles(), (ArrayRef<int64_t>{128, 32}));
  // (batch, heads, q tiles, kv tiles) = 16 tiles: one block of 128; the
  // attention: 1 query tile x 4 heads x 1.
  EXPECT_EQ(contract.getKernels()[0].evaluateGrid(original.sizes()),
            (SmallVector<int64_t, 3>{1, 1, 1}));
  EXPECT_EQ(contract.getKernels()[1].evaluateGrid(original.sizes()),
            (SmallVector<int64_t, 3>{1, 4, 1}));
  // One run-time length more: the grid follows without a recompile.
  EXPECT_EQ(contract.getKernels()[1].evaluateGrid({3, 4, 1000, 1000}),
            (SmallVector<int64_t, 3>{8, 4, 3}));

  std::string chip;
  auto read = attn::ptx::contractFromJson(text, context.get(), chip);
  ASSERT_TRUE(static_cast<bool>(read)) << llvm::toString(read.takeError());
  EXPECT_EQ(chip, "sm_80");
  EXPECT_EQ(read->contract, contract);
  EXPECT_EQ(read->sizes(), original.sizes());
  ASSERT_EQ(read->arguments.size(), original.arguments.size());
  for (auto [a, b] : llvm::zip(read->arguments, original.arguments)) {
    EXPECT_EQ(a.shape, b.shape);
    EXPECT_EQ(a.elementType, b.elementType);
  }
  EXPECT_EQ(attn::ptx::contractToJson(*read, chip), text);
}

TEST_F(ContractJson, DerivedFieldsMustAgreeWithTheAttribute) {
  auto kernel = [](llvm::json::Object &root) -> llvm::json::Object & {
    return *(*root.getArray("kernels"))[1].getAsObject();
  };
  std::pair<const char *, std::function<void(llvm::json::Object &)>> edits[] = {
      {"grid",
       [&](auto &root) {
         kernel(root)["grid"] = llvm::json::Array{9, 4, 1};
       }},
      {"params",
       [&](auto &root) { (*kernel(root).getArray("params"))[1] = "arg2"; }},
      {"temp_bytes",
       [](auto &root) { root["temp_bytes"] = llvm::json::Array{17}; }},
      {"role",
       [](auto &root) {
         (*(*root.getArray("arguments"))[0].getAsObject())["role"] = "key";
       }},
      {"sizes",
       [](auto &root) {
         root["sizes"] = llvm::json::Array{1, 4, 99, 100};
       }},
      {"tiles",
       [](auto &root) {
         root["tiles"] = llvm::json::Array{32, 64};
       }},
  };
  for (const auto &[name, edit] : edits) {
    SCOPED_TRACE(name);
    EXPECT_NE(readEdited(edit).find("are not those its #attn.launch_contract "
                                    "states"),
              std::string::npos);
  }
}

TEST_F(ContractJson, TheAttributeIsParsedAndVerified) {
  std::string missing =
      readEdited([](llvm::json::Object &root) { root.erase("contract"); });
  EXPECT_NE(missing.find("no chip or no #attn.launch_contract"),
            std::string::npos)
      << missing;
  std::string garbage = readEdited([](llvm::json::Object &root) {
    root["contract"] = "#attn.launch_contract<arguments = [], results = [], "
                       "tiles = [64, 64], kernels = []>";
  });
  EXPECT_NE(garbage.find("a launch contract needs at least one kernel"),
            std::string::npos)
      << garbage;
  std::string other = readEdited(
      [](llvm::json::Object &root) { root["contract"] = "#attn.causal"; });
  EXPECT_NE(other.find("does not parse as #attn.launch_contract"),
            std::string::npos)
      << other;
}

} // namespace
