// test_kernels.c: every SIMD dot-product kernel agrees with the scalar reference, and the
// f16 / bf16 / q8_0 conversions behave (exact round trips for values already on the grid,
// ggml's reference rounding for q8_0).
#include <math.h>
#include <stdint.h>
#include "test_util.h"
#include "lb_types.h"
#include "cpu_features.h"
#include "types_float.h"
#include "q8_0.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd_u32(void) {   // xorshift64*
    rng_state ^= rng_state >> 12; rng_state ^= rng_state << 25; rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}
static float rnd_f(void) { return (float)rnd_u32() / 4294967296.0f * 2.0f - 1.0f; }   // [-1, 1)

typedef void (*dot_fn)(int64_t, float *, const void *, const void *);

// SIMD result vs reference, relative to the size of the terms: |simd - ref| <= 1e-5 * sum|x_i y_i|
// (a plain |ref| denominator is meaningless when random terms cancel)
static int check_dot(const char *name, int64_t n, dot_fn ref, dot_fn simd, const void *x, const void *y,
                     double abs_terms) {
    float r = 0, s = 0;
    ref(n, &r, x, y);
    simd(n, &s, x, y);
    double err = fabs((double)s - (double)r), tol = 1e-5 * abs_terms + 1e-30;
    if (!(err <= tol)) {
        fprintf(stderr, "FAIL %s n=%lld: ref %.9g simd %.9g (err %.3g > tol %.3g)\n", name, (long long)n, r, s, err, tol);
        return 1;
    }
    return 0;
}

static int test_float_dots(int have_avx2, int have_avx512) {
    static const int64_t sizes[] = {1, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 100, 768, 2048, 4113};
    int fails = 0, checks = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        const int64_t n = sizes[si];
        float *xf = malloc(n * 4), *yf = malloc(n * 4);
        lb_fp16 *xh = malloc(n * 2), *yh = malloc(n * 2);
        lb_bf16 *xb = malloc(n * 2), *yb = malloc(n * 2);
        double t32 = 0, t16 = 0, tb = 0;
        for (int64_t i = 0; i < n; i++) {
            xf[i] = rnd_f() * 3; yf[i] = rnd_f() * 3;
            xh[i] = lb_f32_to_fp16(xf[i]); yh[i] = lb_f32_to_fp16(yf[i]);
            xb[i] = lb_f32_to_bf16(xf[i]); yb[i] = lb_f32_to_bf16(yf[i]);
            t32 += fabs((double)xf[i] * yf[i]);
            t16 += fabs((double)lb_fp16_to_f32(xh[i]) * lb_fp16_to_f32(yh[i]));
            tb += fabs((double)lb_bf16_to_f32(xb[i]) * lb_bf16_to_f32(yb[i]));
        }
        if (have_avx2) {
            fails += check_dot("f32/avx2", n, lb_vec_dot_f32_ref, lb_vec_dot_f32_avx2, xf, yf, t32);
            fails += check_dot("f16/avx2", n, lb_vec_dot_f16_ref, lb_vec_dot_f16_avx2, xh, yh, t16);
            fails += check_dot("bf16/avx2", n, lb_vec_dot_bf16_ref, lb_vec_dot_bf16_avx2, xb, yb, tb);
            checks += 3;
        }
        double t16f = 0;
        for (int64_t i = 0; i < n; i++) t16f += fabs((double)lb_fp16_to_f32(xh[i]) * yf[i]);
        if (have_avx2) { fails += check_dot("f16xf32/avx2", n, lb_vec_dot_f16_f32_ref, lb_vec_dot_f16_f32_avx2, xh, yf, t16f); checks++; }
        if (have_avx512) { fails += check_dot("f16xf32/avx512", n, lb_vec_dot_f16_f32_ref, lb_vec_dot_f16_f32_avx512, xh, yf, t16f); checks++; }
        if (have_avx512) {
            fails += check_dot("f32/avx512", n, lb_vec_dot_f32_ref, lb_vec_dot_f32_avx512, xf, yf, t32);
            fails += check_dot("f16/avx512", n, lb_vec_dot_f16_ref, lb_vec_dot_f16_avx512, xh, yh, t16);
            fails += check_dot("bf16/avx512", n, lb_vec_dot_bf16_ref, lb_vec_dot_bf16_avx512, xb, yb, tb);
            checks += 3;
        }
        // the reference itself against an independent double loop over the f32 values
        float r;
        double want = 0;
        for (int64_t i = 0; i < n; i++) want += (double)lb_fp16_to_f32(xh[i]) * lb_fp16_to_f32(yh[i]);
        lb_vec_dot_f16_ref(n, &r, xh, yh);
        if (fabs(r - want) > 1e-6 * t16) { fprintf(stderr, "FAIL f16 ref n=%lld\n", (long long)n); fails++; }
        // SIMD f16/bf16 -> f32 conversions are bit-exact with the scalar ones
        float *c1 = malloc(n * 4), *c2 = malloc(n * 4);
        lb_f16_to_float_ref(xh, c1, n);
        if (have_avx2) { lb_f16_to_float_avx2(xh, c2, n); if (memcmp(c1, c2, n * 4)) { fprintf(stderr, "FAIL f16_to_float avx2 n=%lld\n", (long long)n); fails++; } }
        if (have_avx512) { lb_f16_to_float_avx512(xh, c2, n); if (memcmp(c1, c2, n * 4)) { fprintf(stderr, "FAIL f16_to_float avx512 n=%lld\n", (long long)n); fails++; } }
        lb_bf16_to_float_ref(xb, c1, n);
        if (have_avx512) { lb_bf16_to_float_avx512(xb, c2, n); if (memcmp(c1, c2, n * 4)) { fprintf(stderr, "FAIL bf16_to_float avx512 n=%lld\n", (long long)n); fails++; } }
        free(c1); free(c2);
        free(xf); free(yf); free(xh); free(yh); free(xb); free(yb);
    }
    printf("float dots: %d SIMD checks over %zu sizes, %d failures\n", checks, sizeof sizes / sizeof sizes[0], fails);
    return fails;
}

static int test_q8_0_dots(int have_avx2, int have_avx512) {
    static const int64_t blocks[] = {1, 2, 3, 5, 24, 64, 129};
    int fails = 0;
    for (size_t bi = 0; bi < sizeof blocks / sizeof blocks[0]; bi++) {
        const int64_t n = blocks[bi] * LB_QK8_0;
        float *xf = malloc(n * 4), *yf = malloc(n * 4);
        block_q8_0 *xq = malloc(blocks[bi] * sizeof(block_q8_0)), *yq = malloc(blocks[bi] * sizeof(block_q8_0));
        for (int64_t i = 0; i < n; i++) { xf[i] = rnd_f() * 2; yf[i] = rnd_f() * 5; }
        lb_q8_0_from_float(xf, xq, n);
        lb_q8_0_from_float(yf, yq, n);
        double terms = 0;
        for (int64_t b = 0; b < blocks[bi]; b++)
            for (int j = 0; j < LB_QK8_0; j++)
                terms += fabs((double)lb_fp16_to_f32(xq[b].d) * xq[b].qs[j] * lb_fp16_to_f32(yq[b].d) * yq[b].qs[j]);
        if (have_avx2) fails += check_dot("q8_0/avx2", n, lb_vec_dot_q8_0_ref, lb_vec_dot_q8_0_avx2, xq, yq, terms);
        if (have_avx512) fails += check_dot("q8_0/avx512", n, lb_vec_dot_q8_0_ref, lb_vec_dot_q8_0_avx512, xq, yq, terms);
        // the quantized dot is close to the float dot (8-bit codes: ~1% of the term mass)
        double exact = 0;
        for (int64_t i = 0; i < n; i++) exact += (double)xf[i] * yf[i];
        float r;
        lb_vec_dot_q8_0_ref(n, &r, xq, yq);
        if (fabs(r - exact) > 0.02 * terms) { fprintf(stderr, "FAIL q8_0 dot far from float dot: %g vs %g\n", r, exact); fails++; }
        // the registered 2-row decode kernel: each result bitwise the registered 1-row kernel's
        // (row 1 = row 0's blocks in reverse order, its own scales)
        const lb_type_traits *tq = lb_type_get(LB_TYPE_Q8_0);
        if (tq->vec_dot2r) {
            block_q8_0 *x2 = malloc(2 * blocks[bi] * sizeof *x2);
            for (int64_t b = 0; b < blocks[bi]; b++) { x2[b] = xq[b]; x2[blocks[bi] + b] = xq[blocks[bi] - 1 - b]; }
            float s2[2], s1;
            tq->vec_dot2r(n, s2, x2, blocks[bi] * sizeof *x2, yq);
            for (int r2 = 0; r2 < 2; r2++) {
                tq->vec_dot(n, &s1, x2 + r2 * blocks[bi], yq);
                if (memcmp(&s1, &s2[r2], sizeof s1)) { fprintf(stderr, "FAIL q8_0 dot2r row %d: %.9g vs %.9g\n", r2, s2[r2], s1); fails++; }
            }
            free(x2);
        }
        free(xf); free(yf); free(xq); free(yq);
    }
    printf("q8_0 dots: %zu sizes (2-row kernel == 1-row bitwise: %s), %d failures\n", sizeof blocks / sizeof blocks[0],
           lb_type_get(LB_TYPE_Q8_0)->vec_dot2r ? "checked" : "none registered", fails);
    return fails;
}

static int test_round_trips(void) {
    // f16: every finite non-NaN bit pattern survives to_float -> from_float
    for (uint32_t h = 0; h < 65536; h++) {
        if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF)) continue;   // NaN payloads need not survive
        lb_fp16 in = (lb_fp16)h, out;
        float f;
        lb_f16_to_float_ref(&in, &f, 1);
        lb_f16_from_float(&f, &out, 1);
        CHECK(out == in, "f16 round trip 0x%04x -> %g -> 0x%04x", h, f, out);
    }
    // bf16: same for every non-NaN pattern
    for (uint32_t h = 0; h < 65536; h++) {
        if ((h & 0x7F80) == 0x7F80 && (h & 0x7F)) continue;
        lb_bf16 in = (lb_bf16)h, out;
        float f;
        lb_bf16_to_float_ref(&in, &f, 1);
        lb_bf16_from_float(&f, &out, 1);
        CHECK(out == in, "bf16 round trip 0x%04x -> 0x%04x", h, out);
    }
    // known roundings: f16 1 + 2^-11 is a tie -> even (1.0); bf16 likewise
    lb_fp16 h; float one_tie = 1.0f + 0x1.0p-11f;
    lb_f16_from_float(&one_tie, &h, 1);
    CHECK(h == 0x3C00, "f16 tie rounds to even: 0x%04x", h);
    float one_up = 1.0f + 0x1.8p-11f;
    lb_f16_from_float(&one_up, &h, 1);
    CHECK(h == 0x3C01, "f16 above tie rounds up: 0x%04x", h);
    lb_bf16 b; float bt = 1.0f + 0x1.0p-8f;
    lb_bf16_from_float(&bt, &b, 1);
    CHECK(b == 0x3F80, "bf16 tie rounds to even: 0x%04x", b);

    // q8_0: blocks already on the grid (fp16 d, codes in [-127,127] with one +-127) are exact
    for (int t = 0; t < 2000; t++) {
        block_q8_0 in, out;
        float d = ldexpf(1.0f + (float)(rnd_u32() % 1024) / 1024.0f, (int)(rnd_u32() % 20) - 14);
        in.d = lb_f32_to_fp16(d);
        for (int j = 0; j < LB_QK8_0; j++) in.qs[j] = (int8_t)((int)(rnd_u32() % 255) - 127);
        in.qs[rnd_u32() % LB_QK8_0] = (rnd_u32() & 1) ? 127 : -127;
        float f[LB_QK8_0];
        lb_q8_0_to_float(&in, f, LB_QK8_0);
        lb_q8_0_from_float(f, &out, LB_QK8_0);
        CHECK(memcmp(&in, &out, sizeof in) == 0, "q8_0 round trip of an on-grid block (trial %d, d=%g)", t, d);
    }
    // q8_0 reference rounding, values worked out by hand: x = j - 16 -> amax 16, d = 16/127,
    // codes x * 127/16: -16 -> -127, 0 -> 0, 1 -> 7.94 -> 8, 2 -> 15.875 -> 16, 15 -> 119.06 -> 119
    float x[LB_QK8_0];
    for (int j = 0; j < LB_QK8_0; j++) x[j] = (float)(j - 16);
    block_q8_0 q;
    lb_q8_0_from_float(x, &q, LB_QK8_0);
    CHECK(q.d == lb_f32_to_fp16(16.0f / 127.0f), "q8_0 d");
    CHECK(q.qs[0] == -127 && q.qs[16] == 0 && q.qs[17] == 8 && q.qs[18] == 16 && q.qs[31] == 119,
          "q8_0 codes %d %d %d %d %d", q.qs[0], q.qs[16], q.qs[17], q.qs[18], q.qs[31]);
    // roundf rounds halves away from zero (unlike rint): x = +-0.5*d*... -> a block {127, 0.5 step}
    x[0] = 127.0f; x[1] = 2.5f; x[2] = -2.5f;
    for (int j = 3; j < LB_QK8_0; j++) x[j] = 0;
    lb_q8_0_from_float(x, &q, LB_QK8_0);
    CHECK(q.qs[0] == 127 && q.qs[1] == 3 && q.qs[2] == -3, "q8_0 half away from zero: %d %d", q.qs[1], q.qs[2]);
    // all-zero block: d = 0, codes 0, no NaN
    memset(x, 0, sizeof x);
    lb_q8_0_from_float(x, &q, LB_QK8_0);
    CHECK(q.d == 0, "zero block d");
    for (int j = 0; j < LB_QK8_0; j++) CHECK(q.qs[j] == 0, "zero block code");
    printf("round trips: f16/bf16 all 65536 patterns, q8_0 2000 on-grid blocks + hand-worked roundings ok\n");
    return 0;
}

static int test_table(void) {
    // the type table exposes kernels for the four compute types with ggml's vec_dot_types
    static const struct { uint32_t t, vdt; } want[] = {
        {LB_TYPE_F32, LB_TYPE_F32}, {LB_TYPE_F16, LB_TYPE_F16}, {LB_TYPE_BF16, LB_TYPE_BF16}, {LB_TYPE_Q8_0, LB_TYPE_Q8_0}};
    for (size_t i = 0; i < 4; i++) {
        const lb_type_traits *tr = lb_type_get(want[i].t);
        CHECK(tr && tr->to_float && tr->from_float && tr->vec_dot, "kernels for type %u", want[i].t);
        CHECK(tr->vec_dot_type == want[i].vdt, "vec_dot_type of %s", tr->name);
    }
    CHECK(lb_row_size(LB_TYPE_Q8_0, 64) == 68, "q8_0 row size");
    // the registered (SIMD) q8_0 dot equals the reference on a quantized pair
    float xf[256], yf[256];
    for (int i = 0; i < 256; i++) { xf[i] = rnd_f(); yf[i] = rnd_f(); }
    block_q8_0 xq[8], yq[8];
    lb_q8_0_from_float(xf, xq, 256); lb_q8_0_from_float(yf, yq, 256);
    float a, b;
    lb_type_get(LB_TYPE_Q8_0)->vec_dot(256, &a, xq, yq);
    lb_vec_dot_q8_0_ref(256, &b, xq, yq);
    CHECK(fabsf(a - b) <= 1e-5f * (fabsf(b) + 1), "registered q8_0 dot %g vs ref %g", a, b);
    return 0;
}

int main(void) {
    const lb_cpu_features *cpu = lb_cpu_get_features();
    printf("cpu: avx2=%d avx512=%d\n", cpu->avx2, cpu->avx512);
    if (!cpu->avx2) printf("note: no AVX2 on this CPU; only the scalar kernels are checked\n");
    int fails = 0;
    fails += test_float_dots(cpu->avx2, cpu->avx512);
    fails += test_q8_0_dots(cpu->avx2, cpu->avx512);
    fails += test_round_trips();
    fails += test_table();
    if (fails) { fprintf(stderr, "%d failures\n", fails); return 1; }
    printf("ok\n");
    return 0;
}
