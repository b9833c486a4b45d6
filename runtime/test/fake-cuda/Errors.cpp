//===- Errors.cpp - The stand-in driver's error names and texts -----------===//
//
// cuGetErrorName and cuGetErrorString of fake-cuda's libcuda.so.1: the
// driver's own names and descriptions, so that the runtime's messages read
// the same on the stand-in as on a GPU. Stateless, like the real calls
// (they work before cuInit); FakeCuda.cpp holds the rest of the driver.
//
//===----------------------------------------------------------------------===//

#include <cuda.h>

#define FAKE_CUDA_API extern "C" __attribute__((visibility("default")))

namespace {
struct ErrorText {
  CUresult code;
  const char *name;
  const char *text;
};
// The driver's own names and descriptions, for the codes the stand-in
// returns and a few a host commonly meets.
const ErrorText kErrors[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED",
     "initialization error"},
    {CUDA_ERROR_DEINITIALIZED, "CUDA_ERROR_DEINITIALIZED",
     "driver shutting down"},
    {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE",
     "no CUDA-capable device is detected"},
    {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE",
     "invalid device ordinal"},
    {CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE",
     "device kernel image is invalid"},
    {CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT",
     "invalid device context"},
    {CUDA_ERROR_NO_BINARY_FOR_GPU, "CUDA_ERROR_NO_BINARY_FOR_GPU",
     "no kernel image is available for execution on the device"},
    {CUDA_ERROR_INVALID_PTX, "CUDA_ERROR_INVALID_PTX",
     "a PTX JIT compilation failed"},
    {CUDA_ERROR_JIT_COMPILER_NOT_FOUND, "CUDA_ERROR_JIT_COMPILER_NOT_FOUND",
     "PTX JIT compiler library not found"},
    {CUDA_ERROR_UNSUPPORTED_PTX_VERSION, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
     "the provided PTX was compiled with an unsupported toolchain."},
    {CUDA_ERROR_OPERATING_SYSTEM, "CUDA_ERROR_OPERATING_SYSTEM",
     "OS call failed or operation not supported on this OS"},
    {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE",
     "invalid resource handle"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_ILLEGAL_ADDRESS, "CUDA_ERROR_ILLEGAL_ADDRESS",
     "an illegal memory access was encountered"},
    {CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
     "too many resources requested for launch"},
    {CUDA_ERROR_NOT_SUPPORTED, "CUDA_ERROR_NOT_SUPPORTED",
     "operation not supported"},
    {CUDA_ERROR_UNKNOWN, "CUDA_ERROR_UNKNOWN", "unknown error"},
};

/// Sets *pStr to `field` of the code's entry, as both calls do (null and
/// CUDA_ERROR_INVALID_VALUE for a code the table lacks).
CUresult lookUp(CUresult error, const char **pStr,
                const char *ErrorText::*field) {
  if (!pStr)
    return CUDA_ERROR_INVALID_VALUE;
  for (const ErrorText &e : kErrors)
    if (e.code == error) {
      *pStr = e.*field;
      return CUDA_SUCCESS;
    }
  *pStr = nullptr;
  return CUDA_ERROR_INVALID_VALUE;
}
} // namespace

FAKE_CUDA_API CUresult CUDAAPI cuGetErrorName(CUresult error,
                                              const char **pStr) {
  return lookUp(error, pStr, &ErrorText::name);
}

FAKE_CUDA_API CUresult CUDAAPI cuGetErrorString(CUresult error,
                                                const char **pStr) {
  return lookUp(error, pStr, &ErrorText::text);
}
