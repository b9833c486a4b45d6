//===- JITSymbols.cpp - Link emulated kernels against the runtime ---------===//
//
// The runtime's functions live in the host executable, whose symbols the
// JIT does not search by default; they are handed to it explicitly.
//
//===----------------------------------------------------------------------===//

#include "attn/Emulator/Runtime.h"
#include "attn/Target/Emulator/Passes.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"

void mlir::attn::registerEmulatorSymbols(ExecutionEngine &engine) {
  engine.registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    for (const emu::Symbol &symbol : emu::runtimeSymbols())
      symbols[interner(symbol.name)] = {
          llvm::orc::ExecutorAddr::fromPtr(symbol.address),
          llvm::JITSymbolFlags::Exported};
    return symbols;
  });
}
