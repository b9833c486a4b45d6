//===- Pipeline.cpp - Running an LLVM IR pass pipeline --------------------===//

#include "attn/Target/LLVM/Pipeline.h"

#include "llvm/IR/Module.h"

llvm::Error
mlir::attn::runLLVMPipeline(llvm::Module &module, llvm::StringRef pipeline,
                            llvm::TargetMachine *machine,
                            const llvm::PipelineTuningOptions &tuning) {
  llvm::PassBuilder builder(machine, tuning);
  llvm::LoopAnalysisManager loops;
  llvm::FunctionAnalysisManager functions;
  llvm::CGSCCAnalysisManager sccs;
  llvm::ModuleAnalysisManager modules;
  builder.registerModuleAnalyses(modules);
  builder.registerCGSCCAnalyses(sccs);
  builder.registerFunctionAnalyses(functions);
  builder.registerLoopAnalyses(loops);
  builder.crossRegisterProxies(loops, functions, sccs, modules);
  llvm::ModulePassManager passes;
  if (llvm::Error error = builder.parsePassPipeline(passes, pipeline))
    return llvm::createStringError("bad LLVM pass pipeline '" + pipeline +
                                   "': " + llvm::toString(std::move(error)));
  passes.run(module, modules);
  return llvm::Error::success();
}
