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

/* The buffers of one run, as HostArgs: row-major, contiguous. */
typedef struct {
  const void *query, *key, *value;
  const void *bias;                         /* when the attention has one */
  const void *q_segment_ids, *kv_segment_ids;
  void *output;
  float *logsumexp;                         /* when it returns it */
  const void *const *captures;
  size_t num_captures;
} attn_args;

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
void attn_kernel_destroy(attn_kernel *kernel);

#ifdef __cplusplus
}
#endif

#endif /* ATTN_JIT_ATTN_H */
