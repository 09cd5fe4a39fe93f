// test_matmul_lowbit.c: runtime/matmul.c with every low-bit weight type (Q2_K, TQ1_0, TQ2_0,
// Q2_0C, STQ1_0; Q8_0 for comparison). For a random weight matrix packed by the type's
// from_float and random activations:
//  - the decode path (n = 1 row at a time: vec_dot with Q8_K activations) and the prefill path
//    (n = 24 rows: dequantized tiles x sgemm, or vec_dot, per matmul.c's policy) both equal
//    plain double arithmetic on the dequantized weights and the Q8_K-rounded activations
//    (to_float(from_float(x))), within 1e-5 of the output's scale;
//  - results are bitwise identical for 1 and 3 threads.
// The expected values use only the type table's to_float/from_float, never the matmul code.
#include "matmul.h"
#include "lb_types.h"
#include "model.h"
#include "test_util.h"
#include <math.h>
#include <stdint.h>

#define M 300     // weight rows (not a multiple of the sgemm tile or the thread chunks)
#define K 1024    // fits 256 and 512 blocks
#define N 24      // activation rows of the prefill call (>= LB_MATMUL_SGEMM_MIN_N)

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float frand(void) {   // roughly N(0,1): sum of 4 uniforms
    float s = 0;
    for (int i = 0; i < 4; i++) {
        rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
        s += (float)((rng >> 11) * 0x1.0p-53) - 0.5f;
    }
    return s * 1.732f;
}

static int check_type(uint32_t type) {
    const lb_type_traits *tr = lb_type_get(type);
    CHECK(tr && tr->from_float && tr->to_float && tr->vec_dot, "type %u has no kernels", type);
    const lb_type_traits *vt = lb_type_get(tr->vec_dot_type);
    const size_t row = lb_row_size(type, K), xrow = lb_row_size(tr->vec_dot_type, K);
    float *wf = malloc(sizeof(float) * M * K), *wd = malloc(sizeof(float) * M * K);
    float *x = malloc(sizeof(float) * N * K), *xr = malloc(sizeof(float) * N * K);
    void *wq = malloc(row * M), *xq = malloc(xrow);
    float *out_pre = malloc(sizeof(float) * N * M), *out_dec = malloc(sizeof(float) * N * M), *out_t3 = malloc(sizeof(float) * N * M);
    CHECK(wf && wd && x && xr && wq && xq && out_pre && out_dec && out_t3, "oom");
    for (int i = 0; i < M * K; i++) wf[i] = frand() * 0.05f;
    for (int i = 0; i < N * K; i++) x[i] = frand();
    for (int r = 0; r < M; r++) tr->from_float(wf + (size_t)r * K, (char *)wq + (size_t)r * row, K);
    for (int r = 0; r < M; r++) tr->to_float((char *)wq + (size_t)r * row, wd + (size_t)r * K, K);
    for (int t = 0; t < N; t++) {   // the activations as the weight type's kernels see them
        vt->from_float(x + (size_t)t * K, xq, K);
        vt->to_float(xq, xr + (size_t)t * K, K);
    }
    lb_tensor w = {.type = type, .n_dims = 2, .ne = {K, M, 1, 1}, .data = wq, .nbytes = row * M};
    snprintf(w.name, sizeof w.name, "w_%s", tr->name);
    lb_err err = {{0}};
    CHECK(lb_matmul_check_weight(&w, K, M, "test", &err) == 0, "%s", err.msg);

    lb_matmul_ctx c1, c3;
    CHECK(lb_matmul_ctx_build(&c1, 1, N, K, &err) == 0 && lb_matmul_ctx_build(&c3, 3, N, K, &err) == 0, "%s", err.msg);
    CHECK(lb_matmul(&c1, out_pre, M, x, N, &w, &err) == 0, "%s", err.msg);
    CHECK(lb_matmul(&c3, out_t3, M, x, N, &w, &err) == 0, "%s", err.msg);
    for (int t = 0; t < N; t++) CHECK(lb_matmul(&c3, out_dec + (size_t)t * M, M, x + (size_t)t * K, 1, &w, &err) == 0, "%s", err.msg);
    CHECK(memcmp(out_pre, out_t3, sizeof(float) * N * M) == 0, "%s: 1 and 3 threads differ", tr->name);

    double scale = 0, worst_pre = 0, worst_dec = 0;
    double *ref = malloc(sizeof(double) * N * M);
    CHECK(ref, "oom");
    for (int t = 0; t < N; t++)
        for (int r = 0; r < M; r++) {
            double s = 0;
            for (int k = 0; k < K; k++) s += (double)wd[(size_t)r * K + k] * xr[(size_t)t * K + k];
            ref[t * M + r] = s;
            scale = fmax(scale, fabs(s));
        }
    for (int i = 0; i < N * M; i++) {
        worst_pre = fmax(worst_pre, fabs(out_pre[i] - ref[i]) / scale);
        worst_dec = fmax(worst_dec, fabs(out_dec[i] - ref[i]) / scale);
    }
    printf("matmul %-6s x %-4s: prefill (n=%d) %.2e, decode (n=1) %.2e of max|out| %.3f; 1 vs 3 threads identical\n",
           tr->name, vt->name, N, worst_pre, worst_dec, scale);
    CHECK(worst_pre < 1e-5 && worst_dec < 1e-5, "%s: off the reference", tr->name);
    free(ref);
    lb_matmul_ctx_free(&c1);
    lb_matmul_ctx_free(&c3);
    free(wf); free(wd); free(x); free(xr); free(wq); free(xq); free(out_pre); free(out_dec); free(out_t3);
    return 0;
}

int main(void) {
    const uint32_t types[] = {LB_TYPE_Q8_0, LB_TYPE_Q2_K, LB_TYPE_TQ1_0, LB_TYPE_TQ2_0, LB_TYPE_Q2_0C, LB_TYPE_STQ1_0};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (check_type(types[i])) return 1;
    printf("matmul_lowbit: PASS\n");
    return 0;
}
