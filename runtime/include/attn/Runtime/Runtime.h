/*===- Runtime.h - Load attn's PTX and launch it on a CUDA GPU ----*- C -*-===*
 *
 * The C API of attn's CUDA runtime: no MLIR, no link-time CUDA dependency.
 * The driver (libcuda.so.1) is opened with dlopen on first use; without
 * it, or without a GPU, every call fails with a message saying so. Every
 * driver error comes back as a message naming the call and the driver's
 * own description.
 *
 * Contexts: modules are loaded into, and kernels launched in, the device's
 * primary context, the one the CUDA runtime API (and PyTorch) use, so that
 * device pointers and streams from either can be passed straight in. Each
 * call pushes the context it needs and pops it before returning: a host
 * that has its own context current finds it still current afterwards.
 * Calls that take only device pointers (free, copies, synchronize) run in
 * the caller's current context when there is one, else in device 0's
 * primary context.
 *
 * Launch rules, checked before the driver sees the launch, each failure a
 * message naming the kernel and the numbers: static + dynamic shared
 * memory at most the device's opt-in maximum per block (the runtime opts
 * into more than 48 KiB itself, whenever static + dynamic exceeds it);
 * threads per block at most the kernel's maximum (its .maxntid, or fewer
 * when its registers allow fewer) and the device's; block and grid
 * dimensions within the device's limits.
 *
 * Kernels take each memref as its descriptor's fields, in order: allocated
 * pointer, aligned pointer, offset (i64), sizes[rank] (i64), strides[rank]
 * (i64). attn_rt_launch_memrefs builds these from (pointer, shape) pairs.
 *
 *===----------------------------------------------------------------------===*/

#ifndef ATTN_RUNTIME_RUNTIME_H
#define ATTN_RUNTIME_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define ATTN_RT_API __attribute__((visibility("default")))
#else
#define ATTN_RT_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Every function returns 0 on success and -1 on failure; the message of
 * the last failure on this thread is attn_rt_last_error(). */
ATTN_RT_API const char *attn_rt_last_error(void);

/* Opens the driver and initialises it; idempotent. */
ATTN_RT_API int attn_rt_init(void);
/* The number of CUDA devices (0 when there is no driver). */
ATTN_RT_API int attn_rt_device_count(int *count);

typedef struct attn_rt_module attn_rt_module;

/* Loads `ptx` (NUL-terminated PTX text) with the driver's JIT into
 * `device`'s primary context; the JIT log is part of the error message
 * when it fails. */
ATTN_RT_API int attn_rt_module_load(int device, const char *ptx,
                                    attn_rt_module **module);
ATTN_RT_API void attn_rt_module_unload(attn_rt_module *module);

/* What the driver says about a kernel once it is loaded. */
typedef struct {
  int32_t static_shared_bytes;      /* .shared variables, from ptxas */
  int32_t max_threads_per_block;    /* .maxntid, or less for registers */
  int32_t num_registers;            /* per thread */
  int32_t max_dynamic_shared_bytes; /* the limit the runtime has raised */
} attn_rt_function_info;

ATTN_RT_API int attn_rt_function_info_get(attn_rt_module *module,
                                          const char *kernel,
                                          attn_rt_function_info *info);

/* Launches `kernel` of `module` on `stream` (a CUstream of the device's
 * primary context; 0 for the default stream) with the driver's parameter
 * array (a pointer to each kernel parameter). Shared memory beyond 48 KiB
 * (static + dynamic) is opted into first; the launch rules above are
 * checked before the driver is called. */
ATTN_RT_API int attn_rt_launch(attn_rt_module *module, const char *kernel,
                               const int64_t grid[3], const int64_t block[3],
                               int64_t dynamic_shared_bytes, void *stream,
                               void **params, size_t num_params);

/* A tensor in device memory: `shape[0..rank)`, rank <= 8, sizes >= 0. */
typedef struct {
  uint64_t device_pointer;
  int32_t rank;
  int64_t shape[8];
} attn_rt_tensor;

/* Launches `kernel` with memref-descriptor parameters built from
 * `tensors` (in the kernel's parameter order, the launch contract's
 * `params`). The descriptors' strides are derived from the shapes, offset
 * 0: every tensor must be contiguous and row-major (a transposed or sliced
 * view has to be copied to a contiguous one first). A rank above 8 or a
 * negative size is refused. */
ATTN_RT_API int
attn_rt_launch_memrefs(attn_rt_module *module, const char *kernel,
                       const int64_t grid[3], const int64_t block[3],
                       int64_t dynamic_shared_bytes, void *stream,
                       const attn_rt_tensor *tensors, size_t num_tensors);

/* Device memory, for tests and temporaries (tile tables). attn_rt_alloc
 * allocates in `device`'s primary context. */
ATTN_RT_API int attn_rt_alloc(int device, size_t bytes,
                              uint64_t *device_pointer);
ATTN_RT_API int attn_rt_free(uint64_t device_pointer);
ATTN_RT_API int attn_rt_copy_to_device(uint64_t device_pointer,
                                       const void *host, size_t bytes);
ATTN_RT_API int attn_rt_copy_to_host(void *host, uint64_t device_pointer,
                                     size_t bytes);
/* Waits for `stream`; for 0, for the null stream of every device's primary
 * context that attn has used (where attn_rt_launch with stream 0 ran). */
ATTN_RT_API int attn_rt_synchronize(void *stream);

#ifdef __cplusplus
}
#endif

#endif /* ATTN_RUNTIME_RUNTIME_H */
