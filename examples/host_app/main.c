/* A host application: compiles a causal GQA attention (8 query heads over
 * 2 key/value heads, S = 256, D = 64, bf16) with attn's C API and runs it
 * on the GPU when one is present, on the host otherwise; the result is
 * checked against the host kernel (and, for the host run, that it is
 * finite). Exit code 0 on success.
 *
 * --launch-only: on a driver that loads and launches but does not compute
 * (the stand-in libcuda.so.1 of attn's tests), run the whole GPU path but
 * skip the comparison of the GPU's output. */

#include "attn/JIT/attn.h"
#include "attn/Runtime/Runtime.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define B 1
#define HQ 8
#define HKV 2
#define S 256
#define D 64

static const char *kAttention =
    "func.func @attention(%q: tensor<1x8x256x64xbf16>,\n"
    "                     %k: tensor<1x2x256x64xbf16>,\n"
    "                     %v: tensor<1x2x256x64xbf16>)\n"
    "    -> tensor<1x8x256x64xbf16> {\n"
    "  %o = attn.attention %q, %k, %v {mask = #attn.causal}\n"
    "      : tensor<1x8x256x64xbf16>, tensor<1x2x256x64xbf16>,\n"
    "        tensor<1x2x256x64xbf16> -> tensor<1x8x256x64xbf16>\n"
    "  return %o : tensor<1x8x256x64xbf16>\n"
    "}\n";

static uint16_t to_bf16(float x) {
  uint32_t bits;
  memcpy(&bits, &x, 4);
  return (uint16_t)((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
}

static float from_bf16(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float x;
  memcpy(&x, &bits, 4);
  return x;
}

static void fill(uint16_t *data, size_t n, unsigned *seed) {
  for (size_t i = 0; i < n; ++i) {
    *seed = *seed * 1103515245u + 12345u;
    data[i] = to_bf16((float)((*seed >> 8) & 0xffff) / 32768.0f - 1.0f);
  }
}

int main(int argc, char **argv) {
  int launchOnly = argc > 1 && strcmp(argv[1], "--launch-only") == 0;
  size_t nq = (size_t)B * HQ * S * D, nkv = (size_t)B * HKV * S * D;
  uint16_t *q = malloc(nq * 2), *k = malloc(nkv * 2), *v = malloc(nkv * 2);
  uint16_t *o = malloc(nq * 2), *reference = malloc(nq * 2);
  unsigned seed = 7;
  fill(q, nq, &seed);
  fill(k, nkv, &seed);
  fill(v, nkv, &seed);

  attn_compiler *compiler = attn_compiler_create();
  attn_kernel *host = NULL;
  if (attn_compile(compiler, kAttention, ATTN_TARGET_HOST, NULL, &host)) {
    fprintf(stderr, "compile (host): %s\n", attn_last_error());
    return 1;
  }
  attn_args args = {0};
  args.query = q;
  args.key = k;
  args.value = v;
  args.output = reference;
  if (attn_run(host, &args, NULL)) {
    fprintf(stderr, "run (host): %s\n", attn_last_error());
    return 1;
  }

  int devices = 0;
  if (attn_rt_device_count(&devices) != 0 || devices == 0) {
    printf("no GPU (%s): ran on the host\n", attn_last_error()[0]
                                                 ? attn_last_error()
                                                 : attn_rt_last_error());
    for (size_t i = 0; i < nq; ++i)
      if (!isfinite(from_bf16(reference[i]))) {
        fprintf(stderr, "non-finite output at %zu\n", i);
        return 1;
      }
    double sum = 0;
    for (size_t i = 0; i < nq; ++i)
      sum += from_bf16(reference[i]);
    printf("host output checksum %.6f over %zu elements\n", sum, nq);
    return 0;
  }

  attn_kernel *gpu = NULL;
  if (attn_compile(compiler, kAttention, ATTN_TARGET_GPU, "sm_80", &gpu)) {
    fprintf(stderr, "compile (gpu): %s\n", attn_last_error());
    return 1;
  }
  uint64_t dq, dk, dv, dout;
  if (attn_rt_alloc(0, nq * 2, &dq) || attn_rt_alloc(0, nkv * 2, &dk) ||
      attn_rt_alloc(0, nkv * 2, &dv) || attn_rt_alloc(0, nq * 2, &dout) ||
      attn_rt_copy_to_device(dq, q, nq * 2) ||
      attn_rt_copy_to_device(dk, k, nkv * 2) ||
      attn_rt_copy_to_device(dv, v, nkv * 2)) {
    fprintf(stderr, "device memory: %s\n", attn_rt_last_error());
    return 1;
  }
  attn_args dargs = {0};
  dargs.query = (const void *)(uintptr_t)dq;
  dargs.key = (const void *)(uintptr_t)dk;
  dargs.value = (const void *)(uintptr_t)dv;
  dargs.output = (void *)(uintptr_t)dout;
  if (attn_run(gpu, &dargs, NULL) || attn_rt_synchronize(NULL) ||
      attn_rt_copy_to_host(o, dout, nq * 2)) {
    fprintf(stderr, "run (gpu): %s%s\n", attn_last_error(),
            attn_rt_last_error());
    return 1;
  }
  if (launchOnly) {
    printf("launched on the GPU (--launch-only: output not compared)\n");
    return 0;
  }
  double err = 0, ref = 0;
  for (size_t i = 0; i < nq; ++i) {
    double a = from_bf16(o[i]), r = from_bf16(reference[i]);
    err += (a - r) * (a - r);
    ref += r * r;
  }
  double rel = sqrt(err / ref);
  printf("ran on the GPU: relative L2 difference to the host kernel %.3e\n",
         rel);
  return rel <= 1e-2 ? 0 : 1;
}
