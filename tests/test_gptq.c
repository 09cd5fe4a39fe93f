// test_gptq.c: GPTQ on a synthetic layer with strongly correlated inputs. For every GPTQ type
// and base rule, the output error ||X (W - What)^T||^2 of GPTQ must be clearly lower than that
// of the base rule alone (RTN / the grid); with H = identity GPTQ must reduce to (nearly) the
// base rule; the output must not depend on the thread count; dead inputs must be handled.
#include "test_util.h"
#include "quant.h"
#include "lb_types.h"
#include <math.h>
#include <omp.h>
#include <stdint.h>

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint32_t rng_u32(void) {
    rng_state ^= rng_state >> 12; rng_state ^= rng_state << 25; rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}
static double rng_normal(void) {
    const double u1 = ((double)(rng_u32() >> 8) + 0.5) / 16777216.0, u2 = (double)(rng_u32() >> 8) / 16777216.0;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

enum { NROWS = 64, K = 512, N = 1024, DEAD = 7 };

// sum_r d_r^T Hd d_r with d = W - dequant(q): with Hd = X^T X this is ||X (W - What)^T||^2
static double out_error(const double *Hd, const float *w, const void *q, uint32_t type) {
    const lb_type_traits *tt = lb_type_get(type);
    float *deq = malloc((size_t)NROWS * K * sizeof(float));
    const size_t rb = lb_row_size(type, K);
    for (int r = 0; r < NROWS; r++) tt->to_float((const uint8_t *)q + r * rb, deq + (size_t)r * K, K);
    double e = 0.0;
    double d[K];
    for (int r = 0; r < NROWS; r++) {
        for (int k = 0; k < K; k++) d[k] = (double)w[r * K + k] - (double)deq[r * K + k];
        for (int i = 0; i < K; i++) {
            double s = 0.0;
            for (int j = 0; j < K; j++) s += Hd[i * K + j] * d[j];
            e += d[i] * s;
        }
    }
    free(deq);
    return e;
}

int main(void) {
    // X: AR(1) along the features (rho 0.95: neighbours strongly correlated), per-feature scales
    // 0.25..2, feature DEAD always 0
    float *x = malloc((size_t)N * K * sizeof(float));
    double colscale[K];
    for (int k = 0; k < K; k++) colscale[k] = 0.25 + 1.75 * (double)(rng_u32() >> 8) / 16777216.0;
    const double rho = 0.95;
    for (int n = 0; n < N; n++) {
        double prev = rng_normal();
        for (int k = 0; k < K; k++) {
            prev = rho * prev + sqrt(1.0 - rho * rho) * rng_normal();
            x[(size_t)n * K + k] = k == DEAD ? 0.0f : (float)(colscale[k] * prev);
        }
    }
    double *Hd = calloc((size_t)K * K, sizeof(double));    // X^T X
    float *H = malloc((size_t)K * K * sizeof(float));       // 2/N X^T X, what the runtime hands over
    float *I = calloc((size_t)K * K, sizeof(float));
    for (int i = 0; i < K; i++)
        for (int j = i; j < K; j++) {
            double s = 0.0;
            for (int n = 0; n < N; n++) s += (double)x[(size_t)n * K + i] * (double)x[(size_t)n * K + j];
            Hd[i * K + j] = Hd[j * K + i] = s;
        }
    for (int i = 0; i < K * K; i++) H[i] = (float)(2.0 / N * Hd[i]);
    for (int i = 0; i < K; i++) I[i * K + i] = 1.0f;
    double *Id = calloc((size_t)K * K, sizeof(double));
    for (int i = 0; i < K; i++) Id[i * K + i] = 1.0;

    float *w = malloc((size_t)NROWS * K * sizeof(float));
    for (int i = 0; i < NROWS * K; i++) w[i] = (float)(0.02 * rng_normal());
    uint8_t *qa = malloc((size_t)NROWS * K * 2), *qb = malloc((size_t)NROWS * K * 2);

    const struct { uint32_t type; lb_quant_method base; } cases[] = {
        { LB_TYPE_Q2_K, LB_QM_RTN }, { LB_TYPE_Q2_K, LB_QM_SEQ2 },
        { LB_TYPE_Q2_0C, LB_QM_RTN }, { LB_TYPE_Q2_0C, LB_QM_SEQ2 },
        { LB_TYPE_TQ1_0, LB_QM_RTN }, { LB_TYPE_TQ1_0, LB_QM_ABSMEAN }, { LB_TYPE_TQ1_0, LB_QM_SEQ_TERNARY },
        { LB_TYPE_TQ2_0, LB_QM_RTN }, { LB_TYPE_TQ2_0, LB_QM_ABSMEAN }, { LB_TYPE_TQ2_0, LB_QM_SHERRY },
        { LB_TYPE_STQ1_0, LB_QM_RTN }, { LB_TYPE_STQ1_0, LB_QM_SHERRY },
    };
    char err[256] = "";
    lb_quant_opts o;
    lb_quant_opts_default(&o);
    printf("%-7s %-12s %14s %14s %7s | %12s %12s (H = I)\n", "type", "base", "base ||XdW||^2", "gptq ||XdW||^2", "ratio", "base ||dW||^2", "gptq");
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const uint32_t type = cases[c].type;
        const char *tn = lb_type_get(type)->name, *bn = lb_quant_method_name(cases[c].base);
        CHECK(lb_quantize_rows(qa, w, NROWS, K, type, cases[c].base, NULL, &o, err, sizeof err) == 0, "%s %s: %s", tn, bn, err);
        o.gptq_base = cases[c].base;
        CHECK(lb_quantize_rows(qb, w, NROWS, K, type, LB_QM_GPTQ, H, &o, err, sizeof err) == 0, "%s gptq: %s", tn, err);
        const double e_base = out_error(Hd, w, qa, type), e_gptq = out_error(Hd, w, qb, type);
        // identity Hessian: no error feedback between columns, GPTQ = the base grid column by column
        CHECK(lb_quantize_rows(qb, w, NROWS, K, type, LB_QM_GPTQ, I, &o, err, sizeof err) == 0, "%s gptq I: %s", tn, err);
        const double i_base = out_error(Id, w, qa, type), i_gptq = out_error(Id, w, qb, type);
        printf("%-7s %-12s %14.6g %14.6g %7.3f | %12.6g %12.6g\n", tn, bn, e_base, e_gptq, e_gptq / e_base, i_base, i_gptq);
        CHECK(e_gptq < 0.8 * e_base, "%s/%s: GPTQ error %g is not clearly below the base's %g", tn, bn, e_gptq, e_base);
        CHECK(fabs(i_gptq - i_base) <= 0.01 * i_base, "%s/%s: with H = I GPTQ (%g) should equal the base (%g)", tn, bn, i_gptq, i_base);
    }

    // deterministic and independent of the thread count
    o.gptq_base = LB_QM_RTN;
    const size_t bytes = (size_t)NROWS * lb_row_size(LB_TYPE_Q2_K, K);
    omp_set_num_threads(1);
    CHECK(lb_quantize_rows(qa, w, NROWS, K, LB_TYPE_Q2_K, LB_QM_GPTQ, H, &o, err, sizeof err) == 0, "%s", err);
    omp_set_num_threads(2);
    CHECK(lb_quantize_rows(qb, w, NROWS, K, LB_TYPE_Q2_K, LB_QM_GPTQ, H, &o, err, sizeof err) == 0, "%s", err);
    CHECK(memcmp(qa, qb, bytes) == 0, "GPTQ output depends on the thread count");
    printf("gptq: 1 and 2 threads give identical bytes\n");

    // a prebuilt factor (shared by weights with the same input) gives the same bytes
    lb_gptq_hinv *hv = lb_gptq_hinv_build(H, K, o.percdamp, err, sizeof err);
    CHECK(hv, "hinv build: %s", err);
    const uint32_t shared[2] = { LB_TYPE_TQ2_0, LB_TYPE_Q2_0C };
    for (int t = 0; t < 2; t++) {
        CHECK(lb_quantize_rows(qa, w, NROWS, K, shared[t], LB_QM_GPTQ, H, &o, err, sizeof err) == 0, "%s", err);
        CHECK(lb_gptq_quantize_hinv(qb, w, NROWS, K, shared[t], hv, LB_QM_RTN, &o, err, sizeof err) == 0, "%s", err);
        CHECK(memcmp(qa, qb, (size_t)NROWS * lb_row_size(shared[t], K)) == 0, "prebuilt factor changes the %s output", lb_type_get(shared[t])->name);
    }
    CHECK(lb_gptq_quantize_hinv(qb, w, NROWS, 256, LB_TYPE_TQ2_0, hv, LB_QM_RTN, &o, err, sizeof err) == -1, "K mismatch must fail");
    lb_gptq_hinv_free(hv);
    printf("gptq: a prebuilt factor gives identical bytes; refused as expected: %s\n", err);

    // refusals: non-finite Hessian, a GPTQ block that does not divide the type block
    H[3] = NAN;
    CHECK(lb_quantize_rows(qa, w, NROWS, K, LB_TYPE_TQ2_0, LB_QM_GPTQ, H, &o, err, sizeof err) == -1, "NaN Hessian must fail");
    printf("refused as expected: %s\n", err);
    H[3] = 0.0f;
    o.gptq_block = 96;
    CHECK(lb_quantize_rows(qa, w, NROWS, K, LB_TYPE_TQ2_0, LB_QM_GPTQ, I, &o, err, sizeof err) == -1, "block 96 must fail");
    printf("refused as expected: %s\n", err);

    free(x); free(Hd); free(H); free(I); free(Id); free(w); free(qa); free(qb);
    printf("gptq: ok\n");
    return 0;
}
