//===- AttnDialect.cpp - attn dialect registration -------------*- C++ -*-===//
//
// Registers the attn dialect's ops and attributes and holds the parsers and
// printers of attribute parameters that ODS cannot generate (bracketed
// integer and float lists).
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace mlir;
using namespace mlir::attn;

#include "attn/Dialect/Attn/IR/AttnDialect.cpp.inc"
#include "attn/Dialect/Attn/IR/AttnEnums.cpp.inc"
#include "attn/Dialect/Attn/IR/AttnInterfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "attn/Dialect/Attn/IR/AttnAttrs.cpp.inc"

void AttnDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "attn/Dialect/Attn/IR/AttnOps.cpp.inc"
      >();
  registerAttributes();
}

void AttnDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "attn/Dialect/Attn/IR/AttnAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Parameter parsers and printers
//===----------------------------------------------------------------------===//

FailureOr<SmallVector<int64_t>> mlir::attn::parseInt64List(AsmParser &parser) {
  SmallVector<int64_t> values;
  if (parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, [&] {
        return parser.parseInteger(values.emplace_back());
      }))
    return failure();
  return values;
}

void mlir::attn::printInt64List(AsmPrinter &printer, ArrayRef<int64_t> values) {
  printer << '[';
  llvm::interleaveComma(values, printer);
  printer << ']';
}

FailureOr<APFloat> mlir::attn::parseF64(AsmParser &parser) {
  double value = 0.0;
  if (parser.parseFloat(value))
    return failure();
  return APFloat(value);
}

void mlir::attn::printF64(AsmPrinter &printer, const APFloat &value) {
  // The shortest decimal that reads back to the same double, always with a
  // '.' so that it lexes as an MLIR float literal ("1e-06" would not).
  double v = value.convertToDouble();
  char text[64];
  int digits = 1;
  for (; digits <= 17; ++digits) {
    std::snprintf(text, sizeof(text), "%.*g", digits, v);
    if (std::strtod(text, nullptr) == v)
      break;
  }
  // %g switches to an exponent when the digits run out before the point
  // (30 -> "3e+01"); write moderate magnitudes positionally instead.
  double magnitude = std::fabs(v);
  if (std::strchr(text, 'e') && magnitude >= 1e-4 && magnitude < 1e16) {
    int exponent = static_cast<int>(std::floor(std::log10(magnitude)));
    int decimals = std::max(1, digits - 1 - exponent);
    std::snprintf(text, sizeof(text), "%.*f", decimals, v);
  }
  std::string out = text;
  if (std::isfinite(v) && out.find('.') == std::string::npos)
    out.insert(std::min(out.find_first_of("eE"), out.size()), ".0");
  printer << out;
}

FailureOr<SmallVector<APFloat>> mlir::attn::parseF64List(AsmParser &parser) {
  SmallVector<APFloat> values;
  if (parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, [&] {
        FailureOr<APFloat> value = parseF64(parser);
        if (failed(value))
          return failure();
        values.push_back(*value);
        return success();
      }))
    return failure();
  return values;
}

void mlir::attn::printF64List(AsmPrinter &printer, ArrayRef<APFloat> values) {
  printer << '[';
  llvm::interleaveComma(
      values, printer, [&](const APFloat &value) { printF64(printer, value); });
  printer << ']';
}

::mlir::attn::mask::Alignment mlir::attn::toMaskAlignment(Alignment alignment) {
  return alignment == Alignment::BottomRight
             ? ::mlir::attn::mask::Alignment::BottomRight
             : ::mlir::attn::mask::Alignment::TopLeft;
}
