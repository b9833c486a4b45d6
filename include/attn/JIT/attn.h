/*===- attn.h - The attn JIT as a C API ---------------------------*- C -*-===*
 *
 * A C mirror of include/attn/JIT/Compiler.h for host applications in C or
 * other languages: compile one attention (MLIR text holding one
 * attn.attention) for the host, the emulator or the GPU, and run it on
 * caller-owned buffers (device pointers for the GPU). Functions return 0 on
 * success and -1 on failure; attn_last_error() has the message of the
 * calling thread's last call (the verifier's, or the driver's), and is
 * empty after a call that succeeded.
 *
 *===----------------------------------------------------------------------===*/

#ifndef ATTN_JIT_ATTN_H
#define ATTN_JIT_ATTN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct attn_compiler attn_compiler;
typedef struct attn_kernel attn_kernel;

typedef enum {
  ATTN_TARGET_HOST = 0,
  ATTN_TARGET_EMULATOR = 1,
  ATTN_TARGET_GPU = 2
} attn_target;

/* The version of this header's structs. attn_args grows at its end from
 * one version to the next: zero-initialise it, set what you use, and
 * build against the header of the library you link (attn_c_api_version()
 * returns the library's). */
#define ATTN_C_API_VERSION 5
int attn_c_api_version(void);

/* The buffers of one run, as HostArgs: row-major, contiguous. The sizes
 * are those of a spec with dynamic dims ('?' in the batch or a sequence
 * length; host target): 0 takes the spec's static size, a dynamic one
 * must be stated (>= 1), a stated one must equal a static one. A
 * zero-initialised attn_args states none. */
typedef struct {
  const void *query, *key, *value;
  const void *bias; /* when the attention has one */
  const void *q_segment_ids, *kv_segment_ids;
  void *output;
  float *logsumexp; /* when it returns it */
  const void *const *captures;
  size_t num_captures;
  int64_t batch, seq_q, seq_kv;
  /* An attn.merge's inputs (its results: output, logsumexp). */
  const void *partials;
  const float *partial_lse;
  /* A run-time block layout (block_sparse / full_blocks; i32). */
  const int32_t *kv_num_blocks, *kv_indices;
  const int32_t *full_kv_num_blocks, *full_kv_indices;
  /* A paged KV cache (paged; i32): key and value are then its pages. */
  const int32_t *page_table, *kv_lengths;
  /* Packed sequences (varlen; i32 [batch + 1]): seq_q and seq_kv are then
   * the query and key tokens of all sequences. */
  const int32_t *cu_seqlens_q, *cu_seqlens_k;
} attn_args;

/* The role of a kernel argument (KernelArgument::Role). */
typedef enum {
  ATTN_ARG_QUERY = 0,
  ATTN_ARG_KEY = 1,
  ATTN_ARG_VALUE = 2,
  ATTN_ARG_BIAS = 3,
  ATTN_ARG_Q_SEGMENT_IDS = 4,
  ATTN_ARG_KV_SEGMENT_IDS = 5,
  ATTN_ARG_CAPTURE = 6,
  ATTN_ARG_OUTPUT = 7,
  ATTN_ARG_LOGSUMEXP = 8,
  ATTN_ARG_PARTIALS = 9,
  ATTN_ARG_PARTIAL_LSE = 10,
  ATTN_ARG_KV_NUM_BLOCKS = 11,
  ATTN_ARG_KV_INDICES = 12,
  ATTN_ARG_FULL_KV_NUM_BLOCKS = 13,
  ATTN_ARG_FULL_KV_INDICES = 14,
  ATTN_ARG_KEY_PAGES = 15,
  ATTN_ARG_VALUE_PAGES = 16,
  ATTN_ARG_PAGE_TABLE = 17,
  ATTN_ARG_KV_LENGTHS = 18,
  ATTN_ARG_CU_SEQLENS_Q = 19,
  ATTN_ARG_CU_SEQLENS_K = 20
} attn_arg_role;

/* A dim stated at run time (attn_args' batch, seq_q or seq_kv). */
#define ATTN_DYNAMIC_DIM (-1)
#define ATTN_MAX_RANK 8

/* One buffer a compiled kernel takes. The strings live as long as the
 * kernel. */
typedef struct {
  int role;                 /* an attn_arg_role */
  const char *name;         /* "query", ..., "captured tensor" */
  const char *element_type; /* "f32", "f16", "bf16", "i32", ... */
  int rank;
  int64_t shape[ATTN_MAX_RANK]; /* ATTN_DYNAMIC_DIM where dynamic */
  /* Per dim, "batch", "seqQ" or "seqKV" where dynamic ("batch + 1" for
   * varlen offsets), else "". */
  const char *run_size[ATTN_MAX_RANK];
  int capture_index; /* for ATTN_ARG_CAPTURE */
} attn_arg_info;

const char *attn_last_error(void);
attn_compiler *attn_compiler_create(void);
/* A compiler whose host kernels run their grid on `num_threads` threads (0:
 * ATTN_NUM_THREADS, else the machine's cores; 1: the caller's thread only).
 * Null, with the error set, for a negative count. */
attn_compiler *attn_compiler_create_with_threads(int num_threads);
void attn_compiler_destroy(attn_compiler *compiler);
/* `target` is an attn_target; any other value is an error. `chip` ("sm_80",
 * "sm_90") is used by ATTN_TARGET_GPU only (NULL: sm_80). On failure
 * *kernel is set to NULL. Shapes must be static and non-empty. */
int attn_compile(attn_compiler *compiler, const char *mlir_text, int target,
                 const char *chip, attn_kernel **kernel);
/* `stream` is a CUstream for ATTN_TARGET_GPU, ignored otherwise. */
int attn_run(const attn_kernel *kernel, const attn_args *args, void *stream);
/* The number of buffers `kernel` takes; 0 with the error set for NULL. */
size_t attn_kernel_num_args(const attn_kernel *kernel);
/* Describes buffer `index` (in attention operand order, then results). */
int attn_kernel_arg(const attn_kernel *kernel, size_t index,
                    attn_arg_info *info);
void attn_kernel_destroy(attn_kernel *kernel);

#ifdef __cplusplus
}
#endif

#endif /* ATTN_JIT_ATTN_H */
