//===- CAPI.cpp - The attn JIT as a C API ---------------------------------===//

#include "attn/JIT/attn.h"

#include "attn/JIT/Compiler.h"

#include <memory>
#include <string>
#include <vector>

using namespace mlir::attn::jit;

static_assert(static_cast<int>(KernelArgument::Role::Query) == ATTN_ARG_QUERY &&
                  static_cast<int>(KernelArgument::Role::Capture) ==
                      ATTN_ARG_CAPTURE &&
                  static_cast<int>(KernelArgument::Role::Logsumexp) ==
                      ATTN_ARG_LOGSUMEXP &&
                  static_cast<int>(KernelArgument::Role::PartialLogsumexp) ==
                      ATTN_ARG_PARTIAL_LSE &&
                  static_cast<int>(KernelArgument::Role::FullKvIndices) ==
                      ATTN_ARG_FULL_KV_INDICES &&
                  static_cast<int>(KernelArgument::Role::KvLengths) ==
                      ATTN_ARG_KV_LENGTHS &&
                  static_cast<int>(KernelArgument::Role::CuSeqlensK) ==
                      ATTN_ARG_CU_SEQLENS_K,
              "attn_arg_role follows KernelArgument::Role");
static_assert(KernelArgument::kDynamic == ATTN_DYNAMIC_DIM);

namespace {
thread_local std::string lastError;

int fail(llvm::Error error) {
  lastError = llvm::toString(std::move(error));
  return -1;
}
int fail(const char *message) {
  lastError = message;
  return -1;
}
/// Every call that succeeds clears the previous call's error.
int succeed() {
  lastError.clear();
  return 0;
}
} // namespace

struct attn_compiler {
  explicit attn_compiler(CompileOptions options = {}) : compiler(options) {}
  Compiler compiler;
};

struct attn_kernel {
  std::shared_ptr<const HostKernel> host;
  std::shared_ptr<const EmulatedKernel> emulated;
  std::shared_ptr<const GpuKernel> gpu;
  const std::vector<KernelArgument> &arguments() const {
    return host       ? host->arguments()
           : emulated ? emulated->arguments()
                      : gpu->arguments();
  }
};

extern "C" {

const char *attn_last_error(void) { return lastError.c_str(); }

int attn_c_api_version(void) { return ATTN_C_API_VERSION; }

attn_compiler *attn_compiler_create(void) {
  succeed();
  return new attn_compiler();
}

attn_compiler *attn_compiler_create_with_threads(int num_threads) {
  if (num_threads < 0) {
    lastError = "attn_compiler_create_with_threads: num_threads is " +
                std::to_string(num_threads) +
                "; expected 0 (the default) or a positive count";
    return nullptr;
  }
  succeed();
  CompileOptions options;
  options.numThreads = num_threads;
  return new attn_compiler(options);
}

void attn_compiler_destroy(attn_compiler *compiler) {
  delete compiler;
  succeed();
}

int attn_compile(attn_compiler *compiler, const char *mlir_text, int target,
                 const char *chip, attn_kernel **kernel) {
  if (kernel)
    *kernel = nullptr;
  if (!compiler || !mlir_text || !kernel)
    return fail("attn_compile: compiler, text and kernel are required");
  // `target` is an int, not an attn_target, so that an out-of-range value
  // from C is an error here rather than an invalid enum value.
  if (target != ATTN_TARGET_HOST && target != ATTN_TARGET_EMULATOR &&
      target != ATTN_TARGET_GPU) {
    lastError = "attn_compile: unknown target " + std::to_string(target) +
                "; expected ATTN_TARGET_HOST (0), ATTN_TARGET_EMULATOR (1) "
                "or ATTN_TARGET_GPU (2)";
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
  if (target == ATTN_TARGET_HOST) {
    status = keep(compiler->compiler.compileForHost(mlir_text), result->host);
  } else if (target == ATTN_TARGET_EMULATOR) {
    status = keep(compiler->compiler.compileForEmulator(mlir_text),
                  result->emulated);
  } else {
    GpuOptions options;
    if (chip)
      options.chip = chip;
    status =
        keep(compiler->compiler.compileForGpu(mlir_text, options), result->gpu);
  }
  if (status != 0)
    return status;
  *kernel = result.release();
  return succeed();
}

int attn_run(const attn_kernel *kernel, const attn_args *args, void *stream) {
  if (!kernel || !args)
    return fail("attn_run: kernel and args are required");
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
  host.batch = args->batch;
  host.seqQ = args->seq_q;
  host.seqKV = args->seq_kv;
  host.partials = args->partials;
  host.partialLogsumexp = args->partial_lse;
  host.kvNumBlocks = args->kv_num_blocks;
  host.kvIndices = args->kv_indices;
  host.fullKvNumBlocks = args->full_kv_num_blocks;
  host.fullKvIndices = args->full_kv_indices;
  host.pageTable = args->page_table;
  host.kvLengths = args->kv_lengths;
  host.cuSeqlensQ = args->cu_seqlens_q;
  host.cuSeqlensK = args->cu_seqlens_k;
  llvm::Error err = kernel->host       ? kernel->host->run(host)
                    : kernel->emulated ? kernel->emulated->run(host)
                                       : kernel->gpu->run(host, stream);
  if (err)
    return fail(std::move(err));
  return succeed();
}

size_t attn_kernel_num_args(const attn_kernel *kernel) {
  if (!kernel) {
    fail("attn_kernel_num_args: kernel is required");
    return 0;
  }
  succeed();
  return kernel->arguments().size();
}

int attn_kernel_arg(const attn_kernel *kernel, size_t index,
                    attn_arg_info *info) {
  if (!kernel || !info)
    return fail("attn_kernel_arg: kernel and info are required");
  const std::vector<KernelArgument> &args = kernel->arguments();
  if (index >= args.size()) {
    lastError = "attn_kernel_arg: index " + std::to_string(index) +
                " is out of range; the kernel takes " +
                std::to_string(args.size()) + " buffers";
    return -1;
  }
  const KernelArgument &arg = args[index];
  if (arg.shape.size() > ATTN_MAX_RANK)
    return fail("attn_kernel_arg: the buffer's rank exceeds ATTN_MAX_RANK");
  *info = attn_arg_info{};
  // KernelArgument::Role and attn_arg_role list the roles in one order.
  info->role = static_cast<int>(arg.role);
  info->name = arg.name.c_str();
  info->element_type = arg.elementType.c_str();
  info->rank = static_cast<int>(arg.shape.size());
  for (size_t d = 0; d < arg.shape.size(); ++d) {
    info->shape[d] = arg.shape[d];
    info->run_size[d] = arg.runSize[d].c_str();
  }
  info->capture_index = static_cast<int>(arg.captureIndex);
  return succeed();
}

void attn_kernel_destroy(attn_kernel *kernel) {
  delete kernel;
  succeed();
}

} // extern "C"
