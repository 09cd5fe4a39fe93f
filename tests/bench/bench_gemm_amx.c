// bench_gemm_amx.c: libtrain's gemm_amx against OpenBLAS's cblas_sgemm on the matrix products
// of the QAT step that tests/bench/bench_train.sh times (Llama dim 512, ffn 1536, vocab 32000,
// 8 x 256 tokens), one process, same threads. A benchmark, not a test.
//
//   bench_gemm_amx [-t THREADS] [-r REPS] [-n ROUNDS]     defaults: 2 threads, 3 rounds x 3 reps
//
// Per product: the best time of each side and the ratio (sgemm time / gemm_amx time). The block
// linears' forward and input-gradient products run on coded SEQ 2-bit weights (what libtrain
// gives them in QAT: one bf16 part), against sgemm on the same weights in fp32 (what
// op_linear would hand OpenBLAS). The rest are fp32 on both sides. Then the sum over one step
// (each product times its count in the step). Each round times every product on gemm_amx, then
// every product on sgemm (OpenBLAS's idle threads spin for a while after a call and would slow
// gemm_amx if the two were interleaved product by product); the best time over the rounds counts.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cblas.h>
#include <omp.h>
#include "gemm_amx.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

enum { FP32, CODED_NT, CODED_NN };
typedef struct { const char *name; int kind, M, N, K, ta, tb, per_step; } shape;

// the step's products (per layer x 8 layers, and the head once); M = tokens = 2048 unless dW
static const shape shapes[] = {
    {"fwd q/k/v/o (coded)", CODED_NT, 2048, 512, 512, 0, 1, 32},
    {"fwd gate/up (coded)", CODED_NT, 2048, 1536, 512, 0, 1, 16},
    {"fwd down (coded)", CODED_NT, 2048, 512, 1536, 0, 1, 8},
    {"dx q/k/v/o (coded)", CODED_NN, 2048, 512, 512, 0, 0, 32},
    {"dx gate/up (coded)", CODED_NN, 2048, 512, 1536, 0, 0, 16},
    {"dx down (coded)", CODED_NN, 2048, 1536, 512, 0, 0, 8},
    {"dW q/k/v/o", FP32, 512, 512, 2048, 1, 0, 32},
    {"dW gate/up", FP32, 1536, 512, 2048, 1, 0, 16},
    {"dW down", FP32, 512, 1536, 2048, 1, 0, 8},
    {"head forward", FP32, 2048, 32000, 512, 0, 1, 1},
    {"head dx", FP32, 2048, 512, 32000, 0, 0, 1},
    {"head dW", FP32, 32000, 512, 2048, 1, 0, 1},
};
#define NSHAPES (int)(sizeof shapes / sizeof shapes[0])

typedef struct { float *A, *B, *C, *step; int8_t *codes; } operands;

static int make(operands *o, const shape *s) {
    const size_t na = (size_t)s->M * s->K, nb = (size_t)s->N * s->K, nc = (size_t)s->M * s->N;
    const int rows = s->kind == CODED_NN ? s->K : s->N;   // rows of the weight
    o->A = malloc(na * sizeof(float));
    o->B = malloc(nb * sizeof(float));
    o->C = malloc(nc * sizeof(float));
    o->codes = malloc(nb);
    o->step = malloc((size_t)rows * sizeof(float));
    if (!o->A || !o->B || !o->C || !o->codes || !o->step) return -1;
    uint64_t r = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < na; i++) {   // uniform in [-1, 1] in steps of 1e-3
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        o->A[i] = (float)((int)(r >> 40) % 2001 - 1000) * 1e-3f;
    }
    for (int i = 0; i < rows; i++) o->step[i] = 0.01f + 1e-5f * (float)i;
    const int cols = (int)(nb / (size_t)rows);
    for (size_t i = 0; i < nb; i++) {   // SEQ 2-bit codes -2..1; B = w_eff = (2c + 1) step[row]
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        o->codes[i] = (int8_t)((r >> 40) % 4) - 2;
        o->B[i] = s->kind == FP32 ? (float)((int)(r >> 20) % 2001 - 1000) * 1e-3f
                                  : (float)(2 * o->codes[i] + 1) * o->step[i / (size_t)cols];
    }
    return 0;
}

static void drop(operands *o) { free(o->A); free(o->B); free(o->C); free(o->codes); free(o->step); }

static double time_amx(const shape *s, operands *o, int reps) {
    const gemm_coded W = {o->codes, o->step, 2, 1};
    double best = 1e30;
    for (int r = 0; r <= reps; r++) {
        const double t0 = now_s();
        int rc;
        if (s->kind == CODED_NT) rc = gemm_amx_coded_nt(o->C, s->N, 0.0f, o->A, s->K, &W, s->M, s->N, s->K);
        else if (s->kind == CODED_NN) rc = gemm_amx_coded_nn(o->C, s->N, 0.0f, o->A, s->K, &W, s->M, s->N, s->K);
        else rc = gemm_amx(o->C, s->N, 0.0f, o->A, s->ta ? s->M : s->K, s->ta, o->B, s->tb ? s->K : s->N, s->tb, s->M,
                           s->N, s->K);
        const double dt = now_s() - t0;
        if (rc) return -1;
        if (r > 0 && dt < best) best = dt;   // r == 0 warms caches and the workspace up
    }
    return best;
}

static double time_sgemm(const shape *s, operands *o, int reps) {
    double best = 1e30;
    for (int r = 0; r <= reps; r++) {
        const double t0 = now_s();
        cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans, s->M, s->N,
                    s->K, 1.0f, o->A, s->ta ? s->M : s->K, o->B, s->tb ? s->K : s->N, 0.0f, o->C, s->N);
        const double dt = now_s() - t0;
        if (r > 0 && dt < best) best = dt;
    }
    return best;
}

int main(int argc, char **argv) {
    int threads = 2, reps = 3, rounds = 3, opt;
    while ((opt = getopt(argc, argv, "t:r:n:h")) != -1) {
        if (opt == 't') threads = atoi(optarg);
        else if (opt == 'r') reps = atoi(optarg);
        else if (opt == 'n') rounds = atoi(optarg);
        else { fprintf(stderr, "usage: bench_gemm_amx [-t THREADS] [-r REPS] [-n ROUNDS]\n"); return opt == 'h' ? 0 : 2; }
    }
    if (threads < 1 || reps < 1 || rounds < 1) { fprintf(stderr, "bench_gemm_amx: -t, -r and -n must be >= 1\n"); return 2; }
    if (!gemm_amx_available()) { fprintf(stderr, "bench_gemm_amx: this CPU (or kernel) has no AMX-BF16\n"); return 1; }
    omp_set_num_threads(threads);
    openblas_set_num_threads(threads);
    double t_amx[NSHAPES], t_blas[NSHAPES];
    for (int i = 0; i < NSHAPES; i++) t_amx[i] = t_blas[i] = 1e30;
    // rounds of (every product on gemm_amx, then every product on sgemm); the best time of each
    // product over all rounds counts, so a moment of load on the shared machine hits both sides
    for (int round = 0; round < rounds; round++)
        for (int pass = 0; pass < 2; pass++) {
            usleep(200000);   // OpenBLAS's threads stop spinning, the other side starts fresh
            for (int i = 0; i < NSHAPES; i++) {
                operands o;
                if (make(&o, &shapes[i])) { fprintf(stderr, "bench_gemm_amx: out of memory\n"); return 1; }
                const double t = pass == 0 ? time_amx(&shapes[i], &o, reps) : time_sgemm(&shapes[i], &o, reps);
                drop(&o);
                if (t < 0) { fprintf(stderr, "bench_gemm_amx: gemm_amx failed\n"); return 1; }
                double *best = pass == 0 ? &t_amx[i] : &t_blas[i];
                if (t < *best) *best = t;
            }
        }
    printf("threads %d, best of %d rounds x %d reps; GFLOP/s = 2 M N K / time\n", threads, rounds, reps);
    printf("%-22s %5s %5s %5s  %9s %9s  %6s\n", "product", "M", "N", "K", "amx GF/s", "blas GF/s", "ratio");
    double step_amx = 0, step_blas = 0;
    for (int i = 0; i < NSHAPES; i++) {
        const shape *s = &shapes[i];
        const double f = 2.0 * s->M * (double)s->N * s->K * 1e-9;
        printf("%-22s %5d %5d %5d  %9.1f %9.1f  %6.2f\n", s->name, s->M, s->N, s->K, f / t_amx[i], f / t_blas[i],
               t_blas[i] / t_amx[i]);
        step_amx += s->per_step * t_amx[i];
        step_blas += s->per_step * t_blas[i];
    }
    printf("SUMMARY: one step's products: gemm_amx %.3f s, sgemm %.3f s, ratio %.2fx\n", step_amx, step_blas,
           step_blas / step_amx);
    return 0;
}
