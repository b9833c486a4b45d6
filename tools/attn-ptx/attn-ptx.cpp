//===- attn-ptx.cpp - Compile an attention to PTX and a launch contract ---===//
//
// attn-ptx in.mlir -o out [--chip=sm_80]: writes out.ptx (the kernels of
// attn-to-gpu through MLIR's NVVM target and LLVM's NVPTX backend) and
// out.json (kernels in launch order with grid, block, dynamic shared
// memory and parameters; temporaries; the host signature). This is what
// the CUDA runtime (runtime/) loads and what scripts/gpu-check carries to a
// GPU machine. --print-ptx writes the PTX to stdout instead.
//
//===----------------------------------------------------------------------===//

#include "attn/InitAll.h"
#include "attn/Target/PTX/PTX.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include <chrono>

namespace cl = llvm::cl;
using namespace mlir;

static cl::opt<std::string>
    inputFile(cl::Positional, cl::desc("<input .mlir file>"), cl::init("-"));
static cl::opt<std::string>
    outputPrefix("o",
                 cl::desc("Output prefix: writes <prefix>.ptx and "
                          "<prefix>.json"),
                 cl::value_desc("prefix"));
static cl::opt<std::string> chip("chip", cl::desc("sm_80 or sm_90"),
                                 cl::init("sm_80"));
static cl::opt<bool> printPtx("print-ptx", cl::desc("Print the PTX to stdout"));
static cl::opt<unsigned> optLevel("O",
                                  cl::desc("LLVM optimisation level for the "
                                           "NVPTX backend (0-3)"),
                                  cl::init(3));
static cl::opt<bool> splitInput(
    "split-input-file",
    cl::desc("With --print-ptx: compile each '// -----' chunk of the input "
             "on its own (for lit tests)"));
static cl::opt<bool>
    printTime("time",
              cl::desc("Print the in-process compile time (attn-to-gpu, "
                       "lowering, PTX emission) to stderr"));

static cl::opt<bool>
    passTiming("pass-timing",
               cl::desc("Print MLIR pass timing of each pipeline to stderr"));

static cl::opt<std::string> llvmPasses(
    "llvm-passes",
    cl::desc("LLVM IR pipeline before NVPTX code generation (PassBuilder "
             "syntax, e.g. default<O3>); the default is attn's own"),
    cl::init(attn::ptx::kDefaultLLVMPipeline));
static cl::opt<bool> verifyEach(
    "verify-each",
    cl::desc("Verify the IR after every pass (slower; for debugging and "
             "tests)"));

static cl::opt<std::string> cudaPath(
    "cuda-path",
    cl::desc("CUDA toolkit whose nvvm/libdevice to link (default: "
             "ATTN_CUDA_PATH, CUDA_ROOT, CUDA_HOME, CUDA_PATH, then the "
             "toolkit found when attn was configured)"));

static cl::opt<std::string> kernelConfig(
    "kernel-config",
    cl::desc("The kernel configuration: tile_q x tile_kv and warps "
             "(128x64w4; 128x64 chooses the warps); default: the table's "
             "for the attention's head dimensions and --chip"));

static bool writeFile(const std::string &path, const std::string &text) {
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_Text);
  if (ec) {
    llvm::errs() << "attn-ptx: cannot write " << path << ": " << ec.message()
                 << "\n";
    return false;
  }
  out.os() << text;
  out.keep();
  return true;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
                              "attn-ptx: compile an attention to PTX\n");
  if (!attn::ptx::isSupportedChip(chip)) {
    llvm::errs() << "attn-ptx: unsupported --chip '" << chip
                 << "'; expected sm_80 or sm_90\n";
    return 1;
  }
  if (!printPtx && outputPrefix.empty()) {
    llvm::errs() << "attn-ptx: give -o <prefix> or --print-ptx\n";
    return 1;
  }
  DialectRegistry registry;
  attn::registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  context.printOpOnDiagnostic(false);
  std::string error;
  auto buffer = openInputFile(inputFile, &error);
  if (!buffer) {
    llvm::errs() << "attn-ptx: " << error << "\n";
    return 1;
  }
  attn::ptx::PTXOptions options;
  options.chip = chip;
  options.features = "+ptx80";
  options.optLevel = optLevel;
  options.passTiming = passTiming;
  options.verifyPasses = verifyEach;
  options.llvmPipeline = llvmPasses;
  options.cudaPath = cudaPath;
  if (!kernelConfig.empty()) {
    options.kernelConfig = attn::parseGpuKernelConfig(kernelConfig);
    if (!options.kernelConfig) {
      llvm::errs() << "attn-ptx: --kernel-config '" << kernelConfig
                   << "' is not " << attn::kGpuKernelConfigSyntax << "\n";
      return 1;
    }
  }
  SmallVector<StringRef> chunks;
  if (splitInput && printPtx)
    buffer->getBuffer().split(chunks, "// -----");
  else
    chunks.push_back(buffer->getBuffer());
  // Every chunk is compiled, as mlir-opt --split-input-file does: a
  // failing one reports its diagnostics and the exit code says so.
  bool anyFailed = false;
  for (StringRef chunk : chunks) {
    llvm::SourceMgr sourceMgr;
    sourceMgr.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBufferCopy(chunk, inputFile), llvm::SMLoc());
    SourceMgrDiagnosticHandler handler(sourceMgr, &context);
    OwningOpRef<ModuleOp> module =
        parseSourceFile<ModuleOp>(sourceMgr, &context);
    if (!module) {
      anyFailed = true;
      continue;
    }
    auto start = std::chrono::steady_clock::now();
    auto compiled = attn::ptx::compileAttention(*module, options);
    if (failed(compiled)) {
      anyFailed = true;
      continue;
    }
    if (printTime)
      llvm::errs() << "attn-ptx: compiled in "
                   << llvm::format("%.1f",
                                   std::chrono::duration<double, std::milli>(
                                       std::chrono::steady_clock::now() - start)
                                       .count())
                   << " ms\n";
    if (printPtx) {
      llvm::outs() << compiled->ptx;
      if (chunks.size() > 1)
        llvm::outs() << "// -----\n";
      continue;
    }
    if (!writeFile(outputPrefix + ".ptx", compiled->ptx) ||
        !writeFile(outputPrefix + ".json",
                   attn::ptx::contractToJson(*compiled, options.chip)))
      return 1;
  }
  return anyFailed ? 1 : 0;
}
