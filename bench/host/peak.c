/* The machine's peers for bench/host/compare: the f32 FMA peak (AVX-512 and
 * AVX2, one chain of 12 independent FMAs per thread) and the read bandwidth
 * (a 1 GiB array summed with AVX2 loads), on N threads (OpenMP).
 *   cc -O3 -fopenmp peak.c -o peak && ./peak THREADS
 * Prints one JSON object. */
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

#define CHAINS 12
#define STEPS 20000000L

__attribute__((target("avx512f"))) static float fma512(void) {
  __m512 a[CHAINS];
  for (int i = 0; i < CHAINS; i++)
    a[i] = _mm512_set1_ps((float)i);
  __m512 b = _mm512_set1_ps(1.0001f), c = _mm512_set1_ps(0.9999f);
  for (long k = 0; k < STEPS; k++)
    for (int i = 0; i < CHAINS; i++)
      a[i] = _mm512_fmadd_ps(a[i], b, c);
  float s = 0;
  for (int i = 0; i < CHAINS; i++)
    s += _mm512_reduce_add_ps(a[i]);
  return s;
}

__attribute__((target("avx2,fma"))) static float fma256(void) {
  __m256 a[CHAINS];
  for (int i = 0; i < CHAINS; i++)
    a[i] = _mm256_set1_ps((float)i);
  __m256 b = _mm256_set1_ps(1.0001f), c = _mm256_set1_ps(0.9999f);
  for (long k = 0; k < STEPS; k++)
    for (int i = 0; i < CHAINS; i++)
      a[i] = _mm256_fmadd_ps(a[i], b, c);
  float v[8], s = 0;
  for (int i = 0; i < CHAINS; i++) {
    _mm256_storeu_ps(v, a[i]);
    s += v[0];
  }
  return s;
}

/* GFLOP/s of `fn` on `threads` threads, the best of 3. */
static double flops(float (*fn)(void), int lanes, int threads) {
  double best = 0;
  for (int rep = 0; rep < 3; rep++) {
    volatile float sink = 0;
    double t = now();
#pragma omp parallel num_threads(threads)
    sink += fn();
    t = now() - t;
    double g = threads * (double)STEPS * CHAINS * lanes * 2 / t / 1e9;
    if (g > best)
      best = g;
  }
  return best;
}

__attribute__((target("avx2"))) static double readBandwidth(int threads) {
  size_t n = (size_t)1 << 28; /* 1 GiB of f32 */
  float *x = aligned_alloc(64, n * sizeof(float));
#pragma omp parallel for num_threads(threads)
  for (size_t i = 0; i < n; i++)
    x[i] = 1.0f;
  double best = 0;
  for (int rep = 0; rep < 5; rep++) {
    float total = 0;
    double t = now();
#pragma omp parallel for num_threads(threads) reduction(+ : total)
    for (size_t i = 0; i < n; i += 32) {
      __m256 s = _mm256_add_ps(
          _mm256_add_ps(_mm256_load_ps(x + i), _mm256_load_ps(x + i + 8)),
          _mm256_add_ps(_mm256_load_ps(x + i + 16),
                        _mm256_load_ps(x + i + 24)));
      float v[8];
      _mm256_storeu_ps(v, s);
      total += v[0];
    }
    t = now() - t;
    if (total == 1234.5f)
      printf(" ");
    double gbs = n * sizeof(float) / t / 1e9;
    if (gbs > best)
      best = gbs;
  }
  free(x);
  return best;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  int avx512 = __builtin_cpu_supports("avx512f");
  printf("{\"threads\": %d, \"avx512_gflops\": %.1f, \"avx2_gflops\": %.1f, "
         "\"read_gbs\": %.1f}\n",
         threads, avx512 ? flops(fma512, 16, threads) : 0.0,
         flops(fma256, 8, threads), readBandwidth(threads));
  return 0;
}
