//===- CAPI.cpp - The attn JIT as a C API ---------------------------------===//

#include "attn/JIT/attn.h"

#include "attn/JIT/Compiler.h"

#include <memory>
#include <string>

using namespace mlir::attn::jit;

namespace {
thread_local std::string lastError;

int fail(llvm::Error error) {
  lastError = llvm::toString(std::move(error));
  return -1;
}
} // namespace

struct attn_compiler {
  Compiler compiler;
};

struct attn_kernel {
  std::shared_ptr<const HostKernel> host;
  std::shared_ptr<const EmulatedKernel> emulated;
  std::shared_ptr<const GpuKernel> gpu;
};

extern "C" {

const char *attn_last_error(void) { return lastError.c_str(); }

attn_compiler *attn_compiler_create(void) { return new attn_compiler(); }

void attn_compiler_destroy(attn_compiler *compiler) { delete compiler; }

int attn_compile(attn_compiler *compiler, const char *mlir_text,
                 attn_target target, const char *chip, attn_kernel **kernel) {
  if (!compiler || !mlir_text || !kernel) {
    lastError = "attn_compile: compiler, text and kernel are required";
    return -1;
  }
  auto result = std::make_unique<attn_kernel>();
  // Stores the compiled kernel in its slot, or reports the error.
  auto keep = [](auto compiled, auto &slot) {
    if (!compiled)
      return fail(compiled.takeError());
    slot = *compiled;
    return 0;
  };
  int status;
  switch (target) {
  case ATTN_TARGET_HOST:
    status = keep(compiler->compiler.compileForHost(mlir_text), result->host);
    break;
  case ATTN_TARGET_EMULATOR:
    status = keep(compiler->compiler.compileForEmulator(mlir_text),
                  result->emulated);
    break;
  case ATTN_TARGET_GPU: {
    GpuOptions options;
    if (chip)
      options.chip = chip;
    status = keep(compiler->compiler.compileForGpu(mlir_text, options),
                  result->gpu);
    break;
  }
  default:
    lastError = "attn_compile: unknown target";
    return -1;
  }
  if (status == 0)
    *kernel = result.release();
  return status;
}

int attn_run(const attn_kernel *kernel, const attn_args *args, void *stream) {
  if (!kernel || !args) {
    lastError = "attn_run: kernel and args are required";
    return -1;
  }
  HostArgs host;
  host.query = args->query;
  host.key = args->key;
  host.value = args->value;
  host.bias = args->bias;
  host.qSegmentIds = args->q_segment_ids;
  host.kvSegmentIds = args->kv_segment_ids;
  host.output = args->output;
  host.logsumexp = args->logsumexp;
  host.captures = args->captures;
  host.numCaptures = args->num_captures;
  llvm::Error err = kernel->host       ? kernel->host->run(host)
                    : kernel->emulated ? kernel->emulated->run(host)
                                       : kernel->gpu->run(host, stream);
  if (err)
    return fail(std::move(err));
  return 0;
}

void attn_kernel_destroy(attn_kernel *kernel) { delete kernel; }

} // extern "C"
