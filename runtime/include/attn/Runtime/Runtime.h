/*===- Runtime.h - Load attn's PTX and launch it on a CUDA GPU ----*- C -*-===*
 *
 * The C API of attn's CUDA runtime: no MLIR, no link-time CUDA dependency.
 * The driver (libcuda.so.1) is opened with dlopen on first use; without
 * it, or without a GPU, every call fails with a message saying so. Every
 * driver error comes back as a message naming the call and the driver's
 * own description. The runtime works in the device's primary context, the
 * one the CUDA runtime API (and PyTorch) use, so that device pointers from
 * either can be passed straight to attn_rt_launch.
 *
 * Kernels take each memref as its descriptor's fields, in order: allocated
 * pointer, aligned pointer, offset (i64), sizes[rank] (i64), strides[rank]
 * (i64). attn_rt_launch_memrefs builds these from (pointer, shape) pairs of
 * contiguous row-major tensors.
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

/* Loads `ptx` (NUL-terminated PTX text) with the driver's JIT on `device`;
 * the JIT log is part of the error message when it fails. */
ATTN_RT_API int attn_rt_module_load(int device, const char *ptx, attn_rt_module **module);
ATTN_RT_API void attn_rt_module_unload(attn_rt_module *module);

/* Launches `kernel` of `module` on `stream` (a CUstream; 0 for the default
 * stream) with the driver's parameter array (a pointer to each kernel
 * parameter). Dynamic shared memory above 48 KiB is opted into first. */
ATTN_RT_API int attn_rt_launch(attn_rt_module *module, const char *kernel,
                   const int64_t grid[3], const int64_t block[3],
                   int64_t dynamic_shared_bytes, void *stream,
                   void **params, size_t num_params);

/* A contiguous row-major tensor in device memory. */
typedef struct {
  uint64_t device_pointer;
  int32_t rank;
  int64_t shape[8];
} attn_rt_tensor;

/* Launches `kernel` with memref-descriptor parameters built from
 * `tensors` (in the kernel's parameter order). */
ATTN_RT_API int attn_rt_launch_memrefs(attn_rt_module *module, const char *kernel,
                           const int64_t grid[3], const int64_t block[3],
                           int64_t dynamic_shared_bytes, void *stream,
                           const attn_rt_tensor *tensors, size_t num_tensors);

/* Device memory, for tests and temporaries (tile tables). */
ATTN_RT_API int attn_rt_alloc(int device, size_t bytes, uint64_t *device_pointer);
ATTN_RT_API int attn_rt_free(uint64_t device_pointer);
ATTN_RT_API int attn_rt_copy_to_device(uint64_t device_pointer, const void *host,
                           size_t bytes);
ATTN_RT_API int attn_rt_copy_to_host(void *host, uint64_t device_pointer, size_t bytes);
ATTN_RT_API int attn_rt_synchronize(void *stream);

#ifdef __cplusplus
}
#endif

#endif /* ATTN_RUNTIME_RUNTIME_H */
