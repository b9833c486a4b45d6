//===- attn-opt.cpp - The attn optimizer driver ----------------*- C++ -*-===//
//
// mlir-opt with the attn dialect, its passes and pipelines, and the
// upstream dialects that attention regions and lowerings use
// (attn/InitAll.h).
//
//===----------------------------------------------------------------------===//

#include "attn/InitAll.h"

#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::attn::registerAllPasses();
  mlir::DialectRegistry registry;
  mlir::attn::registerAllDialects(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "attn optimizer driver\n", registry));
}
