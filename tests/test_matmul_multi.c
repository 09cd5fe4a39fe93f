// test_matmul_multi.c: lb_matmul_multi (q/k/v and gate/up sharing one input) must give
// bitwise the results of separate lb_matmul calls, for decode (n = 1, 3) and prefill-sized
// n, for every weight type the runtime multiplies with, and for 1 and 2 threads.
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lb_types.h"
#include "matmul.h"
#include "test_util.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float frand(void) {   // xorshift64*, uniform in [-1, 1)
    rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
    return (float)((rng * 0x2545F4914F6CDD1Dull) >> 40) / (float)(1u << 23) - 1.0f;
}

// a K x M weight of `type` made from random floats through the type's own quantizer
static int make_weight(lb_tensor *t, uint32_t type, int64_t K, int64_t M, const char *name) {
    const lb_type_traits *tr = lb_type_get(type);
    if (!tr || !tr->from_float) return -1;
    size_t row = lb_row_size(type, K);
    if (!row) return -1;
    float *f = malloc(sizeof(float) * (size_t)K);
    uint8_t *data = malloc(row * (size_t)M);
    if (!f || !data) return -1;
    for (int64_t r = 0; r < M; r++) {
        for (int64_t i = 0; i < K; i++) f[i] = frand() * (1.0f + (float)(r % 7));
        tr->from_float(f, data + (size_t)r * row, K);
    }
    free(f);
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->type = type; t->n_dims = 2; t->ne[0] = K; t->ne[1] = M; t->ne[2] = t->ne[3] = 1;
    t->data = data; t->nbytes = row * (size_t)M;
    return 0;
}

int main(void) {
    const uint32_t types[] = {LB_TYPE_F32, LB_TYPE_F16, LB_TYPE_BF16, LB_TYPE_Q8_0, LB_TYPE_Q2_K,
                              LB_TYPE_TQ1_0, LB_TYPE_TQ2_0, LB_TYPE_Q2_0C, LB_TYPE_STQ1_0};
    const int64_t K = 1024;
    const int64_t Ms[3] = {96, 32, 160};   // q, k, v-like: different row counts
    const int ns[3] = {1, 3, 12};
    int checks = 0;
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        lb_tensor w[3];
        for (int i = 0; i < 3; i++)
            CHECK(make_weight(&w[i], types[ti], K, Ms[i], "w") == 0, "cannot build a %s weight", lb_type_get(types[ti])->name);
        for (int threads = 1; threads <= 2; threads++) {
            for (int ni = 0; ni < 3; ni++) {
                const int n = ns[ni];
                lb_matmul_ctx c;
                lb_err err = {{0}};
                CHECK(lb_matmul_ctx_build(&c, threads, n, K, &err) == 0, "%s", err.msg);
                float *x = malloc(sizeof(float) * (size_t)n * K);
                for (int64_t i = 0; i < n * K; i++) x[i] = frand();
                float *sep[3], *mul[3];
                int64_t ld[3];
                const lb_tensor *ws[3] = {&w[0], &w[1], &w[2]};
                for (int i = 0; i < 3; i++) {
                    ld[i] = Ms[i] + 5;   // a padded leading dimension, as the forward pass may use
                    sep[i] = calloc((size_t)n * ld[i], sizeof(float));
                    mul[i] = calloc((size_t)n * ld[i], sizeof(float));
                    CHECK(lb_matmul(&c, sep[i], ld[i], x, n, &w[i], &err) == 0, "%s", err.msg);
                }
                CHECK(lb_matmul_multi(&c, 3, mul, ld, x, n, ws, &err) == 0, "%s", err.msg);
                for (int i = 0; i < 3; i++) {
                    double maxabs = 0;
                    for (int64_t j = 0; j < n * ld[i]; j++) maxabs = fmax(maxabs, fabs(sep[i][j]));
                    CHECK(maxabs > 0, "%s: separate matmul gave all zeros", lb_type_get(types[ti])->name);
                    CHECK(memcmp(sep[i], mul[i], sizeof(float) * (size_t)n * ld[i]) == 0,
                          "%s: lb_matmul_multi differs from lb_matmul (weight %d, n %d, %d threads)",
                          lb_type_get(types[ti])->name, i, n, threads);
                    checks++;
                    free(sep[i]); free(mul[i]);
                }
                free(x);
                lb_matmul_ctx_free(&c);
            }
        }
        for (int i = 0; i < 3; i++) free((void *)w[i].data);
    }
    printf("matmul_multi: %d comparisons bitwise equal\n", checks);
    return 0;
}
