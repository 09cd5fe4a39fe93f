// bench_q8_0_dot.c: Q8_0 x Q8_0 row dots (the decode matmul inner loop) of lowbit's kernel
// variants vs ggml's own kernel, in the same process, interleaved round by round so that load
// from other processes hits every variant alike. Reports the best round of each, as weight
// GB/s and as a ratio to ggml. A benchmark, not a test.
//
//   bench_q8_0_dot [GGML_CPU_SO] [ROWS] [K] [ROUNDS]
//   defaults: no ggml, 32000 x 768 (the 125M Llama's output matrix: 26 MB, out of cache), 20
//   GGML_CPU_SO: e.g. tests/peer/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/
//                libggml-cpu-sapphirerapids.so (the variant matching this CPU)
#define _GNU_SOURCE
#include "q8_0.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void (*ggml_vec_dot_fn)(int n, float *s, size_t bs, const void *x, size_t bx, const void *y, size_t by, int nrc);
struct ggml_cpu_traits { void *from_float; ggml_vec_dot_fn vec_dot; int vec_dot_type; int64_t nrows; };
static ggml_vec_dot_fn ggml_dot;

static void dot_ggml(int64_t n, float *s, const void *x, const void *y) { ggml_dot((int)n, s, 0, x, 0, y, 0, 1); }

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

int main(int argc, char **argv) {
    const char *so = argc > 1 && argv[1][0] ? argv[1] : NULL;
    const int64_t M = argc > 2 ? atoll(argv[2]) : 32000, K = argc > 3 ? atoll(argv[3]) : 768;
    const int R = argc > 4 ? atoi(argv[4]) : 20;
    if (so) {
        void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
        if (!h) { fprintf(stderr, "bench: %s\n", dlerror()); return 1; }
        void (*init)(void) = (void (*)(void))dlsym(h, "ggml_cpu_init");
        const struct ggml_cpu_traits *(*traits)(int) = (const struct ggml_cpu_traits *(*)(int))dlsym(h, "ggml_get_type_traits_cpu");
        if (!init || !traits) { fprintf(stderr, "bench: %s lacks ggml_cpu_init/ggml_get_type_traits_cpu\n", so); return 1; }
        init();
        ggml_dot = traits(8)->vec_dot;   // GGML_TYPE_Q8_0 = 8
    }
    struct { const char *name; void (*fn)(int64_t, float *, const void *, const void *); double best; float check; } v[] = {
        {"lowbit scalar ref", lb_vec_dot_q8_0_ref, 1e30, 0}, {"lowbit avx2", lb_vec_dot_q8_0_avx2, 1e30, 0},
        {"lowbit avx512", lb_vec_dot_q8_0_avx512, 1e30, 0}, {"ggml", dot_ggml, 1e30, 0},
    };
    const int nv = so ? 4 : 3;
    const size_t row = (size_t)(K / LB_QK8_0) * sizeof(block_q8_0);
    char *w = malloc(row * M);
    float *xf = malloc(K * sizeof(float)), *wf = malloc(K * sizeof(float)), *out = malloc(M * sizeof(float));
    block_q8_0 *xq = malloc(row);
    srand(1);
    for (int64_t r = 0; r < M; r++) {
        for (int64_t i = 0; i < K; i++) wf[i] = (float)rand() / RAND_MAX - 0.5f;
        lb_q8_0_from_float(wf, w + r * row, K);
    }
    for (int64_t i = 0; i < K; i++) xf[i] = (float)rand() / RAND_MAX - 0.5f;
    lb_q8_0_from_float(xf, xq, K);
    for (int round = 0; round < R; round++)
        for (int i = 0; i < nv; i++) {
            if (i == 0 && round % 4) continue;   // the scalar reference is slow: a few rounds suffice
            const double t0 = now();
            for (int64_t r = 0; r < M; r++) v[i].fn(K, &out[r], w + r * row, xq);
            const double dt = now() - t0;
            if (dt < v[i].best) v[i].best = dt;
            double sum = 0;
            for (int64_t r = 0; r < M; r++) sum += out[r];
            v[i].check = (float)sum;
        }
    printf("q8_0 x q8_0 dots: %lld rows x %lld (%.1f MB of weights), best of %d rounds, 1 thread\n", (long long)M,
           (long long)K, row * M / 1e6, R);
    // bitwise comparison with ggml, row by row
    int n_diff[4] = {0};
    float *ref = malloc(M * sizeof(float));
    if (so) for (int64_t r = 0; r < M; r++) dot_ggml(K, &ref[r], w + r * row, xq);
    for (int i = 0; so && i < nv; i++)
        for (int64_t r = 0; r < M; r++) {
            float o;
            v[i].fn(K, &o, w + r * row, xq);
            n_diff[i] += memcmp(&o, &ref[r], sizeof o) != 0;
        }
    free(ref);
    for (int i = 0; i < nv; i++)
        printf("  %-18s %8.3f ms  %6.2f GB/s  %5.2fx ggml  rows != ggml bitwise: %d\n", v[i].name, v[i].best * 1e3,
               row * M / v[i].best / 1e9, so ? v[3].best / v[i].best : 0.0, n_diff[i]);
    free(w); free(xf); free(wf); free(out); free(xq);
    return 0;
}
