//===- LaunchContract.cpp - The launch contract's attributes --------------===//
//
// #attn.param, #attn.temporary, #attn.kernel and #attn.launch_contract
// (LaunchContract.td): their custom syntax, verifiers and the evaluation
// of a kernel's grid at run-time sizes.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::attn;

using EmitErrorFn = function_ref<InFlightDiagnostic()>;

//===----------------------------------------------------------------------===//
// #attn.param
//===----------------------------------------------------------------------===//

/// Captures and temporaries are numbered; the other roles are unique.
static bool isIndexed(ParamRole role) {
  return role == ParamRole::Capture || role == ParamRole::Temporary;
}

Attribute KernelParamAttr::parse(AsmParser &parser, Type) {
  StringRef keyword;
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseLess() || parser.parseKeyword(&keyword))
    return {};
  std::optional<ParamRole> role = symbolizeParamRole(keyword);
  if (!role) {
    parser.emitError(loc) << "unknown parameter role '" << keyword
                          << "'; expected query, key, value, bias, "
                             "q_segment_ids, kv_segment_ids, capture, output, "
                             "lse or temporary";
    return {};
  }
  int64_t index = 0;
  OptionalParseResult parsedIndex = parser.parseOptionalInteger(index);
  if (parsedIndex.has_value() && failed(*parsedIndex))
    return {};
  if (isIndexed(*role) && !parsedIndex.has_value()) {
    parser.emitError(parser.getCurrentLocation())
        << "a " << keyword << " parameter needs its index";
    return {};
  }
  if (parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    *role, index);
}

void KernelParamAttr::print(AsmPrinter &printer) const {
  printer << '<' << stringifyParamRole(getRole());
  if (isIndexed(getRole()))
    printer << ' ' << getIndex();
  printer << '>';
}

LogicalResult KernelParamAttr::verify(EmitErrorFn emitError, ParamRole role,
                                      int64_t index) {
  if (index < 0 || (!isIndexed(role) && index != 0))
    return emitError() << "parameter " << stringifyParamRole(role)
                       << " takes no index other than 0, got " << index;
  return success();
}

std::string KernelParamAttr::getName() const {
  switch (getRole()) {
  case ParamRole::Capture:
    return "capture" + std::to_string(getIndex());
  case ParamRole::Temporary:
    return "temp" + std::to_string(getIndex());
  default:
    return stringifyParamRole(getRole()).str();
  }
}

//===----------------------------------------------------------------------===//
// #attn.temporary
//===----------------------------------------------------------------------===//

LogicalResult TemporaryAttr::verify(EmitErrorFn emitError,
                                    ArrayRef<int64_t> shape, Type elementType) {
  if (shape.empty() || llvm::any_of(shape, [](int64_t d) { return d <= 0; }))
    return emitError() << "a temporary needs a non-empty shape of positive "
                          "sizes";
  if (!elementType.isIntOrFloat())
    return emitError() << "a temporary holds integers or floats, not "
                       << elementType;
  // At most 2^40 bytes, so that its size is an int64_t.
  uint64_t bytes = (elementType.getIntOrFloatBitWidth() + 7) / 8;
  bool overflow = false;
  for (int64_t d : shape)
    bytes =
        llvm::SaturatingMultiply(bytes, static_cast<uint64_t>(d), &overflow);
  if (overflow || bytes > (uint64_t{1} << 40))
    return emitError() << "a temporary of more than 2^40 bytes";
  return success();
}

int64_t TemporaryAttr::getBytes() const {
  int64_t elements = 1;
  for (int64_t d : getShape())
    elements *= d;
  return elements * ((getElementType().getIntOrFloatBitWidth() + 7) / 8);
}

//===----------------------------------------------------------------------===//
// #attn.kernel
//===----------------------------------------------------------------------===//

LogicalResult KernelLaunchAttr::verify(EmitErrorFn emitError, StringRef name,
                                       AffineMap grid, ArrayRef<int64_t> block,
                                       int64_t sharedBytes,
                                       ArrayRef<KernelParamAttr> params) {
  constexpr unsigned kSymbols = static_cast<unsigned>(GridSymbol::Count);
  if (name.empty())
    return emitError() << "a kernel needs a name";
  if (!grid || grid.getNumDims() != 0 || grid.getNumSymbols() != kSymbols ||
      grid.getNumResults() != 3)
    return emitError() << "kernel '" << name << "': the grid must map the "
                       << kSymbols
                       << " symbols [batch, heads, seq_q, seq_kv] to 3 block "
                          "counts, got "
                       << (grid ? AffineMapAttr::get(grid) : Attribute());
  if (block.size() != 3 ||
      llvm::any_of(block, [](int64_t d) { return d <= 0; }))
    return emitError() << "kernel '" << name
                       << "': the block needs 3 positive sizes";
  if (block[0] * block[1] * block[2] > 1024)
    return emitError() << "kernel '" << name
                       << "': " << block[0] * block[1] * block[2]
                       << " threads per block, more than 1024";
  if (sharedBytes < 0)
    return emitError() << "kernel '" << name
                       << "': negative dynamic shared memory";
  llvm::SmallSet<std::pair<int32_t, int64_t>, 8> seen;
  for (KernelParamAttr p : params)
    if (!seen.insert({static_cast<int32_t>(p.getRole()), p.getIndex()}).second)
      return emitError() << "kernel '" << name << "': parameter " << p.getName()
                         << " appears twice";
  return success();
}

SmallVector<int64_t, 3>
KernelLaunchAttr::evaluateGrid(ArrayRef<int64_t> sizes) const {
  SmallVector<Attribute> operands;
  Builder b(getContext());
  for (int64_t s : sizes)
    operands.push_back(b.getIndexAttr(s));
  SmallVector<Attribute> folded;
  SmallVector<int64_t, 3> grid;
  if (sizes.size() != getGrid().getNumSymbols() ||
      failed(getGrid().constantFold(operands, folded)))
    return grid;
  for (Attribute a : folded)
    grid.push_back(cast<IntegerAttr>(a).getInt());
  return grid;
}

//===----------------------------------------------------------------------===//
// #attn.launch_contract
//===----------------------------------------------------------------------===//

LogicalResult LaunchContractAttr::verify(EmitErrorFn emitError,
                                         ArrayRef<KernelParamAttr> arguments,
                                         ArrayRef<KernelParamAttr> results,
                                         ArrayRef<int64_t> tiles,
                                         ArrayRef<KernelLaunchAttr> kernels,
                                         ArrayRef<TemporaryAttr> temporaries) {
  if (tiles.size() != 2 || tiles[0] <= 0 || tiles[1] <= 0)
    return emitError() << "tiles must be [tile_q, tile_kv], both positive";
  // The host buffers: each role once; results are outputs (which may
  // also be arguments, written in place), temporaries are never host's.
  llvm::SmallSet<std::pair<int32_t, int64_t>, 8> host;
  for (auto [list, isResult] :
       {std::pair{arguments, false}, std::pair{results, true}})
    for (KernelParamAttr p : list) {
      bool output =
          p.getRole() == ParamRole::Output || p.getRole() == ParamRole::Lse;
      if (p.isTemporary() || (isResult && !output))
        return emitError() << p.getName() << " cannot be a host "
                           << (isResult ? "result" : "argument");
      if (!host.insert({static_cast<int32_t>(p.getRole()), p.getIndex()})
               .second)
        return emitError() << "host buffer " << p.getName() << " appears twice";
    }
  if (kernels.empty())
    return emitError() << "a launch contract needs at least one kernel";
  llvm::SmallSet<StringRef, 4> names;
  for (KernelLaunchAttr k : kernels) {
    if (!names.insert(k.getName()).second)
      return emitError() << "kernel '" << k.getName() << "' appears twice";
    for (KernelParamAttr p : k.getParams()) {
      if (p.isTemporary()
              ? p.getIndex() >= static_cast<int64_t>(temporaries.size())
              : !host.contains(
                    {static_cast<int32_t>(p.getRole()), p.getIndex()}))
        return emitError() << "kernel '" << k.getName() << "' takes "
                           << p.getName()
                           << ", which is neither a host buffer nor one of the "
                           << temporaries.size() << " temporaries";
    }
  }
  return success();
}
