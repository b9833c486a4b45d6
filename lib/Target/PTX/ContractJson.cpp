//===- ContractJson.cpp - The launch contract as JSON ---------------------===//
//
// The one JSON codec of #attn.launch_contract (attn-ptx's .json file, the
// JIT's on-disk cache, scripts/gpu-check). The attribute is the source of
// truth; the positional fields beside it are derived from it, and the
// reader re-derives them to check that a file agrees with itself.
//
//===----------------------------------------------------------------------===//

#include "attn/Target/PTX/PTX.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::ptx;
namespace json = llvm::json;

SmallVector<int64_t, 4> CompiledAttention::sizes() const {
  SmallVector<int64_t, 4> sizes(static_cast<size_t>(GridSymbol::Count), 0);
  for (auto [role, t] : llvm::zip(contract.getArguments(), arguments)) {
    if (role.getRole() == ParamRole::Query && t.shape.size() == 4) {
      sizes[0] = t.shape[0];
      sizes[1] = t.shape[1];
      sizes[2] = t.shape[2];
    } else if (role.getRole() == ParamRole::Key && t.shape.size() == 4) {
      sizes[3] = t.shape[2];
    }
  }
  return sizes;
}

static std::string attrText(Attribute attr) {
  std::string text;
  llvm::raw_string_ostream os(text);
  attr.print(os);
  return text;
}

/// A kernel parameter as a host position: argN, resultN or tempN.
static std::string position(KernelParamAttr param, LaunchContractAttr c) {
  if (param.isTemporary())
    return param.getName();
  for (auto [i, a] : llvm::enumerate(c.getArguments()))
    if (a == param)
      return "arg" + std::to_string(i);
  for (auto [i, r] : llvm::enumerate(c.getResults()))
    if (r == param)
      return "result" + std::to_string(i);
  return param.getName(); // the verifier rules this out
}

static json::Array tensorsJson(ArrayRef<KernelParamAttr> roles,
                               ArrayRef<CompiledAttention::Tensor> tensors) {
  json::Array array;
  for (auto [role, t] : llvm::zip(roles, tensors))
    array.push_back(json::Object{{"role", role.getName()},
                                 {"shape", json::Array(t.shape)},
                                 {"dtype", t.elementType}});
  return array;
}

static json::Object toJsonObject(const CompiledAttention &compiled,
                                 StringRef chip) {
  LaunchContractAttr c = compiled.contract;
  SmallVector<int64_t, 4> sizes = compiled.sizes();
  json::Array kernels;
  for (KernelLaunchAttr k : c.getKernels()) {
    json::Array params;
    for (KernelParamAttr p : k.getParams())
      params.push_back(position(p, c));
    kernels.push_back(
        json::Object{{"name", k.getName()},
                     {"grid", json::Array(k.evaluateGrid(sizes))},
                     {"grid_map", attrText(AffineMapAttr::get(k.getGrid()))},
                     {"block", json::Array(k.getBlock())},
                     {"dynamic_shared_bytes", k.getSharedBytes()},
                     {"params", std::move(params)}});
  }
  json::Array bytes, shapes;
  for (TemporaryAttr t : c.getTemporaries()) {
    bytes.push_back(t.getBytes());
    shapes.push_back(json::Array(t.getShape()));
  }
  return json::Object{
      {"chip", chip},
      {"contract", attrText(c)},
      {"sizes", json::Array(sizes)},
      {"tiles", json::Array(c.getTiles())},
      {"arguments", tensorsJson(c.getArguments(), compiled.arguments)},
      {"results", tensorsJson(c.getResults(), compiled.results)},
      {"kernels", std::move(kernels)},
      {"temp_bytes", std::move(bytes)},
      {"temp_shapes", std::move(shapes)}};
}

std::string mlir::attn::ptx::contractToJson(const CompiledAttention &compiled,
                                            StringRef chip) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", json::Value(toJsonObject(compiled, chip)));
  return text;
}

static llvm::Error malformed(const Twine &why) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), why);
}

/// The tensors of `array` (shape and dtype each).
static llvm::Expected<SmallVector<CompiledAttention::Tensor>>
tensorsFromJson(const json::Array *array, StringRef what) {
  if (!array)
    return malformed(Twine("no ") + what);
  SmallVector<CompiledAttention::Tensor> tensors;
  for (const json::Value &v : *array) {
    const json::Object *o = v.getAsObject();
    const json::Array *shape = o ? o->getArray("shape") : nullptr;
    std::optional<StringRef> dtype = o ? o->getString("dtype") : std::nullopt;
    if (!shape || !dtype)
      return malformed(Twine("a tensor of the ") + what +
                       " without shape or dtype");
    CompiledAttention::Tensor t;
    t.elementType = dtype->str();
    for (const json::Value &d : *shape) {
      std::optional<int64_t> size = d.getAsInteger();
      if (!size)
        return malformed(Twine("a shape of the ") + what +
                         " that is not integers");
      t.shape.push_back(*size);
    }
    tensors.push_back(std::move(t));
  }
  return tensors;
}

llvm::Expected<CompiledAttention>
mlir::attn::ptx::contractFromJson(StringRef text, MLIRContext *context,
                                  std::string &chip) {
  llvm::Expected<json::Value> parsed = json::parse(text);
  if (!parsed)
    return malformed("not JSON: " + llvm::toString(parsed.takeError()));
  const json::Object *root = parsed->getAsObject();
  std::optional<StringRef> chipText =
      root ? root->getString("chip") : std::nullopt;
  std::optional<StringRef> contractText =
      root ? root->getString("contract") : std::nullopt;
  if (!chipText || !contractText)
    return malformed("no chip or no #attn.launch_contract");
  // The attribute, parsed and verified; its diagnostic is the reason.
  std::string diagnostic;
  Attribute attr;
  {
    ScopedDiagnosticHandler handler(context, [&](Diagnostic &d) {
      diagnostic = d.str();
      return success();
    });
    attr = parseAttribute(*contractText, context);
  }
  auto contract = dyn_cast_or_null<LaunchContractAttr>(attr);
  if (!contract)
    return malformed("the contract does not parse as #attn.launch_contract" +
                     (diagnostic.empty() ? "" : ": " + diagnostic));
  CompiledAttention compiled;
  compiled.contract = contract;
  auto arguments = tensorsFromJson(root->getArray("arguments"), "arguments");
  if (!arguments)
    return arguments.takeError();
  auto results = tensorsFromJson(root->getArray("results"), "results");
  if (!results)
    return results.takeError();
  compiled.arguments = std::move(*arguments);
  compiled.results = std::move(*results);
  if (compiled.arguments.size() != contract.getArguments().size() ||
      compiled.results.size() != contract.getResults().size())
    return malformed("the host signature and the contract disagree on the "
                     "number of buffers");
  // Everything beside the attribute must be what it derives.
  if (json::Value(toJsonObject(compiled, *chipText)) != *parsed)
    return malformed("its grids, parameters or temporaries are not those "
                     "its #attn.launch_contract states");
  chip = chipText->str();
  return compiled;
}
