//===- CAPI.cpp - The attn JIT as a C API ---------------------------------===//

#include "attn/JIT/attn.h"

#include "attn/JIT/Compiler.h"

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
  auto *result = new attn_kernel();
  switch (target) {
  case ATTN_TARGET_HOST: {
    auto k = compiler->compiler.compileForHost(mlir_text);
    if (!k) {
      delete result;
      return fail(k.takeError());
    }
    result->host = *k;
    break;
  }
  case ATTN_TARGET_EMULATOR: {
    auto k = compiler->compiler.compileForEmulator(mlir_text);
    if (!k) {
      delete result;
      return fail(k.takeError());
    }
    result->emulated = *k;
    break;
  }
  case ATTN_TARGET_GPU: {
    GpuOptions options;
    if (chip)
      options.chip = chip;
    auto k = compiler->compiler.compileForGpu(mlir_text, options);
    if (!k) {
      delete result;
      return fail(k.takeError());
    }
    result->gpu = *k;
    break;
  }
  default:
    delete result;
    lastError = "attn_compile: unknown target";
    return -1;
  }
  *kernel = result;
  return 0;
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
