// test_gemm_amx.c: libtrain's AMX GEMM (three-way bf16 split) against a float64 reference and
// against OpenBLAS's sgemm on the same inputs. For each shape, transpose combination and beta:
//   err = max over C of |C - C_ref| / (|beta C0| + sum_k |a_mk b_kn|)   (float64 reference)
// must be below 1e-6 (sgemm-class: fp32's unit roundoff is 6e-8) and at most 2x OpenBLAS's err
// + 1e-7. Also: beta = 0 never reads C (NaN there stays out), a NaN in A poisons exactly its
// row, and 1, 2, 4 and 8 threads give the same bits. The coded-weight products (W = diag(step) (mul c + add),
// one bf16 part) are held to the same bounds against the fp32 W_eff = step * value that the
// fake quant hands OpenBLAS. Skips (77) on a CPU without AMX-BF16.
#include <math.h>
#include <pthread.h>
#include <cblas.h>
#include <omp.h>
#include "test_util.h"
#include "gemm_amx.h"

static unsigned long long rng = 88172645463325252ull;
static float frand(void) {   // xorshift64, uniform in [-1, 1) times a spread of magnitudes
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    const float u = (float)((rng >> 40) & 0xFFFFFF) / 8388608.0f - 1.0f;
    return u * ((rng & 3) == 0 ? 1e-3f : 1.0f);
}

// op(X)[i][j] of a row-major X with leading dimension ld
static double at(const float *X, int ld, int t, int i, int j) { return t ? X[(size_t)j * ld + i] : X[(size_t)i * ld + j]; }

// max normalized error of C against the float64 product
static double norm_err(const float *C, int ldc, const float *C0, float beta, const float *A, int lda, int ta,
                       const float *B, int ldb, int tb, int M, int N, int K) {
    double worst = 0.0;
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double s = beta != 0.0f ? (double)beta * C0[(size_t)m * ldc + n] : 0.0, mag = fabs(s);
            for (int k = 0; k < K; k++) {
                const double p = at(A, lda, ta, m, k) * at(B, ldb, tb, k, n);
                s += p;
                mag += fabs(p);
            }
            const double e = fabs((double)C[(size_t)m * ldc + n] - s) / (mag > 0 ? mag : 1.0);
            if (!(e <= worst)) worst = e;   // NaN propagates as the worst
        }
    return worst;
}

static int check_shape(int M, int N, int K, int ta, int tb, float beta) {
    const int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 5, ldc = N + 2;
    const size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb, nc = (size_t)M * ldc;
    float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B), *C0 = malloc(nc * sizeof *C0);
    float *C = malloc(nc * sizeof *C), *Cb = malloc(nc * sizeof *Cb);
    CHECK(A && B && C0 && C && Cb, "out of memory");
    for (size_t i = 0; i < na; i++) A[i] = frand();
    for (size_t i = 0; i < nb; i++) B[i] = frand();
    for (size_t i = 0; i < nc; i++) C0[i] = beta == 0.0f ? NAN : frand();   // beta 0 must not read C
    memcpy(C, C0, nc * sizeof *C);
    memcpy(Cb, C0, nc * sizeof *C);
    CHECK(gemm_amx(C, ldc, beta, A, lda, ta, B, ldb, tb, M, N, K) == 0, "gemm_amx failed");
    if (beta == 0.0f) for (size_t i = 0; i < nc; i++) Cb[i] = 0.0f;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A, lda,
                B, ldb, beta, Cb, ldc);
    const double ea = norm_err(C, ldc, C0, beta, A, lda, ta, B, ldb, tb, M, N, K);
    const double eb = norm_err(Cb, ldc, C0, beta, A, lda, ta, B, ldb, tb, M, N, K);
    printf("M %4d N %4d K %4d ta %d tb %d beta %.1f: amx err %.2e, openblas err %.2e\n", M, N, K, ta, tb, beta, ea, eb);
    int fail = !(ea < 1e-6) || !(ea <= 2.0 * eb + 1e-7);
    // the padding columns of C (ldc > N) are not written
    for (int m = 0; m < M && !fail; m++)
        for (int n = N; n < ldc; n++)
            if (memcmp(&C[(size_t)m * ldc + n], &C0[(size_t)m * ldc + n], sizeof(float))) fail = 1;
    free(A); free(B); free(C0); free(C); free(Cb);
    CHECK(!fail, "M %d N %d K %d ta %d tb %d beta %.1f: err %.3e (openblas %.3e) or padding written", M, N, K, ta, tb,
          beta, ea, eb);
    return 0;
}

// a coded weight W (rows, cols): codes in [lo, hi], steps > 0 but every 7th row 0; W_eff in fp32
// as lb_fq_forward computes it, (float)(mul c + add) * step
static int check_coded(int M, int N, int K, int nt, int mul, int add, int lo, int hi, float beta) {
    const int rows = nt ? N : K, cols = nt ? K : N, lda = K + 1, ldc = N;
    int8_t *codes = malloc((size_t)rows * cols);
    float *step = malloc(sizeof(float) * rows), *weff = malloc(sizeof(float) * rows * cols);
    float *A = malloc(sizeof(float) * M * lda), *C0 = malloc(sizeof(float) * M * ldc);
    float *C = malloc(sizeof(float) * M * ldc), *Cb = malloc(sizeof(float) * M * ldc);
    CHECK(codes && step && weff && A && C0 && C && Cb, "out of memory");
    for (int r = 0; r < rows; r++) step[r] = r % 7 == 3 ? 0.0f : 0.01f + 0.05f * fabsf(frand());
    for (int i = 0; i < rows * cols; i++) {
        codes[i] = (int8_t)(lo + (int)((rng = rng * 6364136223846793005ull + 1442695040888963407ull) >> 33) % (hi - lo + 1));
        weff[i] = (float)(mul * codes[i] + add) * step[i / cols];
    }
    for (int i = 0; i < M * lda; i++) A[i] = frand();
    for (int i = 0; i < M * ldc; i++) C0[i] = beta == 0.0f ? NAN : frand();
    memcpy(C, C0, sizeof(float) * M * ldc);
    memcpy(Cb, C0, sizeof(float) * M * ldc);
    const gemm_coded W = {codes, step, mul, add};
    CHECK((nt ? gemm_amx_coded_nt : gemm_amx_coded_nn)(C, ldc, beta, A, lda, &W, M, N, K) == 0, "coded gemm failed");
    if (beta == 0.0f) for (int i = 0; i < M * ldc; i++) Cb[i] = 0.0f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, nt ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A, lda, weff, cols, beta,
                Cb, ldc);
    const double ea = norm_err(C, ldc, C0, beta, A, lda, 0, weff, cols, nt, M, N, K);
    const double eb = norm_err(Cb, ldc, C0, beta, A, lda, 0, weff, cols, nt, M, N, K);
    printf("coded %s mul %d add %d M %4d N %4d K %4d beta %.1f: amx err %.2e, openblas err %.2e\n", nt ? "nt" : "nn",
           mul, add, M, N, K, beta, ea, eb);
    free(codes); free(step); free(weff); free(A); free(C0); free(C); free(Cb);
    CHECK(ea < 1e-6 && ea <= 2.0 * eb + 1e-7, "coded product: err %.3e (openblas %.3e)", ea, eb);
    return 0;
}

// two threads calling gemm_amx at once (they share one workspace behind a lock) must each get
// the bits of the same call made alone
typedef struct { int M, N, K; float *A, *B, *C, *want; int bad; } concurrent_job;

static void *concurrent_worker(void *arg) {
    concurrent_job *j = arg;
    for (int it = 0; it < 20 && !j->bad; it++) {
        if (gemm_amx(j->C, j->N, 0.0f, j->A, j->K, 0, j->B, j->N, 0, j->M, j->N, j->K) != 0 ||
            memcmp(j->C, j->want, sizeof(float) * j->M * j->N) != 0)
            j->bad = 1;
    }
    return NULL;
}

static int check_concurrent(void) {
    concurrent_job jobs[2] = {{300, 200, 700, 0, 0, 0, 0, 0}, {64, 1100, 520, 0, 0, 0, 0, 0}};
    for (int t = 0; t < 2; t++) {
        concurrent_job *j = &jobs[t];
        j->A = malloc(sizeof(float) * j->M * j->K);
        j->B = malloc(sizeof(float) * j->K * j->N);
        j->C = malloc(sizeof(float) * j->M * j->N);
        j->want = malloc(sizeof(float) * j->M * j->N);
        CHECK(j->A && j->B && j->C && j->want, "out of memory");
        for (int i = 0; i < j->M * j->K; i++) j->A[i] = frand();
        for (int i = 0; i < j->K * j->N; i++) j->B[i] = frand();
        CHECK(gemm_amx(j->want, j->N, 0.0f, j->A, j->K, 0, j->B, j->N, 0, j->M, j->N, j->K) == 0, "gemm_amx failed");
    }
    pthread_t th[2];
    for (int t = 0; t < 2; t++) CHECK(pthread_create(&th[t], NULL, concurrent_worker, &jobs[t]) == 0, "pthread_create");
    for (int t = 0; t < 2; t++) pthread_join(th[t], NULL);
    const int bad = jobs[0].bad | jobs[1].bad;
    for (int t = 0; t < 2; t++) { free(jobs[t].A); free(jobs[t].B); free(jobs[t].C); free(jobs[t].want); }
    CHECK(!bad, "concurrent callers got other bits than a lone call");
    printf("2 threads calling at once, 20 products each: the bits of a lone call\n");
    return 0;
}

int main(void) {
    if (!gemm_amx_available()) {
        fprintf(stderr, "skipped: this CPU (or kernel) has no AMX-BF16; gemm_amx is not used here\n");
        return TEST_SKIP;
    }
    // K chunks: 512 (K 600 .. 1536: the last one partial); K = 2600 over a narrow N: 1024
    const int shapes[][3] = {{1, 1, 1}, {17, 5, 33}, {33, 31, 600}, {64, 48, 512}, {100, 513, 1100}, {70, 1030, 47},
                             {40, 96, 1536}, {33, 70, 2600}, {20, 1100, 1500}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int t = 0; t < 4; t++)
            for (int bi = 0; bi < 2; bi++)
                if (check_shape(shapes[s][0], shapes[s][1], shapes[s][2], t & 1, t >> 1, bi ? 1.0f : 0.0f)) return 1;
    if (check_shape(45, 77, 130, 1, 0, 0.5f)) return 1;
    const int cshapes[][3] = {{1, 3, 5}, {37, 70, 600}, {130, 96, 512}, {64, 2100, 40}, {35, 40, 2600}};
    for (size_t s = 0; s < sizeof cshapes / sizeof cshapes[0]; s++)
        for (int nt = 0; nt < 2; nt++)
            for (int bi = 0; bi < 2; bi++)
                if (check_coded(cshapes[s][0], cshapes[s][1], cshapes[s][2], nt, 2, 1, -2, 1, bi ? 1.0f : 0.0f) ||
                    check_coded(cshapes[s][0], cshapes[s][1], cshapes[s][2], nt, 1, 0, -8, 7, bi ? 1.0f : 0.0f))
                    return 1;

    // a NaN in row 3 of A gives NaN in row 3 of C and nowhere else
    {
        const int M = 40, N = 50, K = 70;
        float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N), *C = malloc(sizeof(float) * M * N);
        CHECK(A && B && C, "out of memory");
        for (int i = 0; i < M * K; i++) A[i] = frand();
        for (int i = 0; i < K * N; i++) B[i] = frand();
        A[3 * K + 10] = NAN;
        CHECK(gemm_amx(C, N, 0.0f, A, K, 0, B, N, 0, M, N, K) == 0, "gemm_amx failed");
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++)
                CHECK(isnan(C[m * N + n]) == (m == 3), "NaN in A row 3: C[%d][%d] = %g", m, n, C[m * N + n]);
        free(A); free(B); free(C);
        printf("a NaN in A row 3 poisons C row 3 only\n");
    }

    // 1, 2, 4 and 8 threads: the same bits
    {
        const int M = 300, N = 700, K = 900;
        float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * N * K);
        float *C1 = malloc(sizeof(float) * M * N), *C2 = malloc(sizeof(float) * M * N);
        CHECK(A && B && C1 && C2, "out of memory");
        for (int i = 0; i < M * K; i++) A[i] = frand();
        for (int i = 0; i < N * K; i++) B[i] = frand();
        const int saved = omp_get_max_threads();
        omp_set_num_threads(1);
        CHECK(gemm_amx(C1, N, 0.0f, A, K, 0, B, K, 1, M, N, K) == 0, "gemm_amx failed");
        for (int t = 2; t <= 8; t *= 2) {   // 4 and 8 threads also cut M into smaller chunks
            omp_set_num_threads(t);
            CHECK(gemm_amx(C2, N, 0.0f, A, K, 0, B, K, 1, M, N, K) == 0, "gemm_amx failed");
            CHECK(!memcmp(C1, C2, sizeof(float) * M * N), "1 and %d threads differ", t);
        }
        omp_set_num_threads(saved);
        free(A); free(B); free(C1); free(C2);
        printf("1, 2, 4 and 8 threads: identical bits\n");
    }
    if (check_concurrent()) return 1;
    printf("gemm_amx: all checks passed\n");
    return 0;
}
