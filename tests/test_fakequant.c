// test_fakequant.c: QAT quantizers (libtrain/fakequant.h) against REFERENCE §2.
//  1. hand-computed forward values/codes and backward (STE mask, scale gradient) on tiny matrices
//     for SEQ 2-bit, SEQ ternary, LSQ 3-bit, absmean, Sherry: clip boundaries, both signs,
//     half-to-even ties, Arenas lambda
//  2. random matrices with per-256 scale groups vs an independent re-derivation of the formulas
//     written here (not libquant's code), float and fp16-exact
//  3. format-exact: forward output == lb_grid_pack_row -> to_float, memcmp, for Q2_0C, Q2_K,
//     TQ1_0, TQ2_0, STQ1_0, after random scale / weight updates
#include "test_util.h"
#include "fakequant.h"
#include "quant.h"
#include "lb_types.h"
#include "fp16.h"
#include <math.h>
#include <stdint.h>

#define NEAR(a, b, tol) (fabs((double)(a) - (double)(b)) <= (tol))

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static float frand(void) {   // uniform [0, 1)
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) * (1.0 / 16777216.0));
}
static float frandn(void) {
    float u1 = frand(), u2 = frand();
    if (u1 < 1e-7f) u1 = 1e-7f;
    return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
}

// --- 1. hand-checked cases -------------------------------------------------------------------

static int test_seq2_hand(void) {
    // rows 2, K 8, per-row scales alpha = 1 and 2. Expected values worked out by hand:
    // v = w/alpha; u = clamp(v, ±0.99); i = rint(2u - 0.5); q = (2i+1)/4.
    const float W[16] = { 0.9f, -0.3f, 0.995f, -1.2f, 0.99f, 0.5f, -0.5f, 0.0f,
                          1.0f, -1.0f, 3.0f, -0.1f, 1.98f, -1.98f, 0.25f, -4.0f };
    float scales[2] = { 1.0f, 2.0f };
    const int8_t want_codes[16] = { 1, -1, 1, -2, 1, 0, -2, 0,   0, -2, 1, -1, 1, -2, 0, -2 };
    const float want_vals[16] = { 0.75f, -0.25f, 0.75f, -0.75f, 0.75f, 0.25f, -0.75f, 0.25f,
                                  0.5f, -1.5f, 1.5f, -0.5f, 1.5f, -1.5f, 0.5f, -1.5f };
    const float g[16] = { 1, 2, -1, 0.5f, 1, -2, 1, 3,   2, -1, 1, 1, -1, 0.5f, -2, 1 };
    // mask |v| <= 0.99 (0.99 itself and 1.98/2 are inside)
    const float want_dW[16] = { 1, 2, 0, 0, 1, -2, 1, 3,   2, -1, 0, 1, -1, 0.5f, -2, 0 };
    // D row 0: -.15 .05 +.75 -.75 -.24 -.25 -.25 .25 -> sum g*D = -0.415; G = 1/sqrt(16)
    // D row 1: -.25 -.25 +.75 -.2 -.24 .24 .125 -.75 -> sum g*D = -0.34
    const float want_ds[2] = { -0.10375f, -0.085f };
    lb_fq_config cfg = { LB_GRID_SEQ2, 0, 0, 0 };
    float weff[16], dW[16], ds[2];
    int8_t codes[16];
    CHECK(lb_fq_forward(weff, codes, W, scales, 2, 8, &cfg, 0.0f) == 0, "seq2 forward");
    for (int k = 0; k < 16; k++) {
        CHECK(codes[k] == want_codes[k], "seq2 code %d: %d want %d", k, codes[k], want_codes[k]);
        CHECK(weff[k] == want_vals[k], "seq2 value %d: %g want %g", k, weff[k], want_vals[k]);
    }
    CHECK(lb_fq_backward(dW, ds, g, W, codes, scales, 2, 8, &cfg, 0.0f) == 0, "seq2 backward");
    for (int k = 0; k < 16; k++) CHECK(dW[k] == want_dW[k], "seq2 dW %d: %g want %g", k, dW[k], want_dW[k]);
    for (int r = 0; r < 2; r++) CHECK(NEAR(ds[r], want_ds[r], 1e-6), "seq2 dalpha %d: %.8g want %.8g", r, ds[r], want_ds[r]);

    // Arenas lambda = 0.5: w_eff = Q + 0.5 W; dW = (mask + 0.5) g; dalpha unchanged
    CHECK(lb_fq_forward(weff, codes, W, scales, 2, 8, &cfg, 0.5f) == 0, "seq2 forward lambda");
    for (int k = 0; k < 16; k++) CHECK(NEAR(weff[k], want_vals[k] + 0.5f * W[k], 1e-6), "arenas w_eff %d", k);
    CHECK(lb_fq_backward(dW, ds, g, W, codes, scales, 2, 8, &cfg, 0.5f) == 0, "seq2 backward lambda");
    for (int k = 0; k < 16; k++) CHECK(NEAR(dW[k], want_dW[k] + 0.5f * g[k], 1e-6), "arenas dW %d: %g", k, dW[k]);
    for (int r = 0; r < 2; r++) CHECK(NEAR(ds[r], want_ds[r], 1e-6), "arenas dalpha %d", r);
    printf("seq2 hand case: 16 codes/values, dW mask, dalpha %.6g %.6g ok (+ Arenas lambda 0.5)\n", ds[0], ds[1]);
    return 0;
}

static int test_ternary_hand(void) {
    // alpha 1.5 -> step 1; t = rint(1.5 clamp(w/1.5, ±0.99)); q = t/1.5
    const float W[8] = { 0.4f, -0.6f, 1.2f, -2.0f, 0.9f, 1.6f, 0.0f, -0.74f };
    float scales[1] = { 1.5f };
    const int8_t want_codes[8] = { 0, -1, 1, -1, 1, 1, 0, -1 };
    const float g[8] = { 1, -1, 2, 1, -2, 0.5f, 4, 1 };
    const float want_dW[8] = { 1, -1, 2, 0, -2, 0, 4, 1 };
    // D = -0.266667 -0.266667 -0.133333 -1 0.066667 +1 0 -0.173333; sum g*D = -1.073333; G = 1/sqrt(8)
    const double want_ds = -1.0733333333 / sqrt(8.0);
    lb_fq_config cfg = { LB_GRID_SEQ_TERNARY, 8, 0, 0 };
    float weff[8], dW[8], ds[1];
    int8_t codes[8];
    CHECK(lb_fq_forward(weff, codes, W, scales, 1, 8, &cfg, 0.0f) == 0, "ternary forward");
    for (int k = 0; k < 8; k++) {
        CHECK(codes[k] == want_codes[k], "ternary code %d: %d want %d", k, codes[k], want_codes[k]);
        CHECK(weff[k] == (float)want_codes[k], "ternary value %d: %g", k, weff[k]);
    }
    CHECK(lb_fq_backward(dW, ds, g, W, codes, scales, 1, 8, &cfg, 0.0f) == 0, "ternary backward");
    for (int k = 0; k < 8; k++) CHECK(dW[k] == want_dW[k], "ternary dW %d: %g want %g", k, dW[k], want_dW[k]);
    CHECK(NEAR(ds[0], want_ds, 2e-6), "ternary dalpha %.8g want %.8g", ds[0], want_ds);
    printf("seq ternary hand case: codes, mask, dalpha %.6g (Qp = 1) ok\n", ds[0]);
    return 0;
}

static int test_lsq_hand(void) {
    // LSQ3: Qn -4, Qp 3, alpha 0.5; v = w/0.5
    const float W[6] = { 0.3f, -0.74f, 1.6f, -2.5f, 0.24f, 1.76f };
    float scales[1] = { 0.5f };
    const int8_t want_codes[6] = { 1, -1, 3, -4, 0, 3 };
    const float g[6] = { 1, 2, -1, 0.5f, 1, 1 };
    const float want_dW[6] = { 1, 2, 0, 0, 1, 0 };
    // D = .4 .48 Qp=3 Qn=-4 -.48 3 -> sum g*D = -1.12; G = 1/sqrt(6*3)
    const double want_ds = -1.12 / sqrt(18.0);
    lb_fq_config cfg = { LB_GRID_LSQ3, 0, 0, 0 };
    float weff[6], dW[6], ds[1];
    int8_t codes[6];
    CHECK(lb_fq_forward(weff, codes, W, scales, 1, 6, &cfg, 0.0f) == 0, "lsq forward");
    for (int k = 0; k < 6; k++) {
        CHECK(codes[k] == want_codes[k], "lsq code %d: %d want %d", k, codes[k], want_codes[k]);
        CHECK(weff[k] == 0.5f * want_codes[k], "lsq value %d: %g", k, weff[k]);
    }
    CHECK(lb_fq_backward(dW, ds, g, W, codes, scales, 1, 6, &cfg, 0.0f) == 0, "lsq backward");
    for (int k = 0; k < 6; k++) CHECK(dW[k] == want_dW[k], "lsq dW %d: %g", k, dW[k]);
    CHECK(NEAR(ds[0], want_ds, 2e-6), "lsq dalpha %.8g want %.8g", ds[0], want_ds);
    float s0[1];
    CHECK(lb_fq_init_scales(s0, W, 1, 6, &cfg, NULL, 0) == 0 && NEAR(s0[0], 2.5 / 3.0, 1e-7), "lsq init %g", s0[0]);
    printf("lsq3 hand case: codes, mask, dalpha %.6g, init max|w|/Qp ok\n", ds[0]);
    return 0;
}

static int test_absmean_sherry_hand(void) {
    // absmean: gamma = mean|W| over the tensor = 2.4/4 = 0.6, per-row scale slots all 0.6
    const float W[4] = { 0.5f, -1.5f, 0.2f, -0.2f };
    float scales[2] = { 123.0f, -1.0f };   // overwritten by the forward
    lb_fq_config cfg = { LB_GRID_ABSMEAN, 0, 0, 0 };
    float weff[4], dW[4], ds[2];
    int8_t codes[4];
    const float g[4] = { 1, -2, 3, -4 };
    CHECK(lb_fq_forward(weff, codes, W, scales, 2, 2, &cfg, 0.0f) == 0, "absmean forward");
    CHECK(scales[0] == 0.6f && scales[1] == 0.6f, "absmean gamma %g %g", scales[0], scales[1]);
    const float want[4] = { 0.6f, -0.6f, 0.0f, 0.0f };
    for (int k = 0; k < 4; k++) CHECK(weff[k] == want[k], "absmean value %d: %g", k, weff[k]);
    CHECK(lb_fq_backward(dW, ds, g, W, codes, scales, 2, 2, &cfg, 0.25f) == 0, "absmean backward");
    for (int k = 0; k < 4; k++) CHECK(dW[k] == 1.25f * g[k], "absmean dW %d", k);
    CHECK(ds[0] == 0 && ds[1] == 0, "absmean dscale");

    // Sherry (STQ1_0 grouping: lanes k, k+16, k+32, k+48): lane 0 = 0.1 is dropped except in
    // group 5, where w[53] = 0.05 is. alpha = (15*2.1 + 1.3)/48 = 0.683333
    float S[64], sw[64], sd[64], sg[64], sc[1] = { 0 };
    int8_t scodes[64];
    for (int k = 0; k < 64; k++) {
        S[k] = k < 16 ? 0.1f : k < 32 ? -0.5f : k < 48 ? 0.7f : 0.9f;
        sg[k] = (float)(k - 30);
    }
    S[53] = 0.05f;
    lb_fq_config sc_cfg = { LB_GRID_SHERRY, 0, 0, 0 };
    CHECK(lb_fq_forward(sw, scodes, S, sc, 1, 64, &sc_cfg, 0.0f) == 0, "sherry forward");
    const double alpha = (15 * 2.1 + 1.3) / 48.0;
    CHECK(NEAR(sc[0], alpha, 1e-6), "sherry alpha %g want %g", sc[0], alpha);
    for (int k = 0; k < 64; k++) {
        int t = k < 16 ? 0 : k < 32 ? -1 : 1;
        if (k == 5) t = 1;
        if (k == 53) t = 0;
        CHECK(scodes[k] == t, "sherry code %d: %d want %d", k, scodes[k], t);
        CHECK(sw[k] == (float)t * sc[0], "sherry value %d", k);
    }
    float sds[1];
    CHECK(lb_fq_backward(sd, sds, sg, S, scodes, sc, 1, 64, &sc_cfg, 0.0f) == 0, "sherry backward");
    for (int k = 0; k < 64; k++) CHECK(sd[k] == sg[k], "sherry STE dW %d", k);
    printf("absmean (gamma 0.6, STE, Arenas) and sherry 3:4 (drop choice, alpha %.6f, STE) hand cases ok\n", sc[0]);
    return 0;
}

static int test_arenas(void) {
    const int64_t T = 1000;
    CHECK(lb_fq_arenas_lambda(0, T) == 0.0f, "lambda(0)");
    CHECK(NEAR(lb_fq_arenas_lambda(50, T), 0.5, 1e-6), "lambda(50) %g", lb_fq_arenas_lambda(50, T));
    CHECK(NEAR(lb_fq_arenas_lambda(100, T), 1.0, 1e-6), "lambda(100) %g", lb_fq_arenas_lambda(100, T));
    CHECK(NEAR(lb_fq_arenas_lambda(550, T), 0.5, 1e-6), "lambda(550) %g", lb_fq_arenas_lambda(550, T));
    CHECK(NEAR(lb_fq_arenas_lambda(775, T), 0.5 * (1 + cos(3.14159265358979323846 * 0.75)), 1e-6), "lambda(775)");
    CHECK(lb_fq_arenas_lambda(1000, T) == 0.0f && lb_fq_arenas_lambda(5000, T) == 0.0f, "lambda end");
    CHECK(lb_fq_arenas_lambda(999, T) > 0 && lb_fq_arenas_lambda(999, T) < 1e-4, "lambda(999)");
    float prev = -1;
    for (int64_t s = 0; s <= 100; s++) { float l = lb_fq_arenas_lambda(s, T); CHECK(l >= prev, "rise %lld", (long long)s); prev = l; }
    for (int64_t s = 101; s <= T; s++) { float l = lb_fq_arenas_lambda(s, T); CHECK(l <= prev, "decay %lld", (long long)s); prev = l; }
    printf("arenas lambda: 0 -> 1 at 10%%, 0.5 at 55%%, 0 at end, monotone ok\n");
    return 0;
}

// Where the estimator IS the true derivative: every weight outside the clip, so Ŵ = ±Qp*alpha
// (SEQ2: ±0.75 alpha, LSQ: Qn or Qp times alpha) is linear in alpha with the codes frozen, and
// dscale = G * d(sum g*Ŵ)/dalpha. Central finite differences of the forward, in double.
static int test_fd_clipped(lb_grid grid) {
    enum { R = 2, K = 64 };
    float W[R * K], g[R * K], weff[R * K], dW[R * K], sc[R] = { 0.8f, 1.3f }, ds[R];
    int8_t codes[R * K];
    const float reach = grid == LB_GRID_SEQ2 ? 1.0f : grid == LB_GRID_LSQ3 ? 4.0f : 8.0f;   // |v| beyond the clip
    for (int r = 0; r < R; r++)
        for (int k = 0; k < K; k++) {
            const float sgn = (k * 7 + r) % 3 ? 1.0f : -1.0f;
            W[r * K + k] = sgn * sc[r] * reach * (1.2f + 0.01f * (float)k);
            g[r * K + k] = frandn();
        }
    lb_fq_config cfg = { grid, 0, 0, 0 };
    CHECK(lb_fq_forward(weff, codes, W, sc, R, K, &cfg, 0.0f) == 0, "forward");
    CHECK(lb_fq_backward(dW, ds, g, W, codes, sc, R, K, &cfg, 0.0f) == 0, "backward");
    const double qp = grid == LB_GRID_SEQ2 ? 1.0 : grid == LB_GRID_LSQ3 ? 3.0 : 7.0;
    const double G = 1.0 / sqrt((double)R * K * (grid == LB_GRID_SEQ2 ? 1.0 : qp));
    double maxdiff = 0;
    for (int r = 0; r < R; r++) {
        const float h = 0.02f * sc[r];   // large enough to beat fp32 rounding, small enough to stay clipped
        double L[2];
        for (int side = 0; side < 2; side++) {
            float s2[R] = { sc[0], sc[1] };
            s2[r] += side ? h : -h;
            CHECK(lb_fq_forward(weff, codes, W, s2, R, K, &cfg, 0.0f) == 0, "forward fd");
            L[side] = 0;
            for (int k = r * K; k < (r + 1) * K; k++) L[side] += (double)g[k] * weff[k];
        }
        const double fd = (L[1] - L[0]) / (2.0 * (double)h);
        CHECK(NEAR(ds[r], G * fd, 1e-4 * (1 + fabs(G * fd))), "%s row %d: dscale %.8g, G*FD %.8g", lb_grid_name(grid), r, ds[r], G * fd);
        for (int k = r * K; k < (r + 1) * K; k++) CHECK(dW[k] == 0.0f, "clipped weight %d has gradient", k);
        maxdiff = fmax(maxdiff, fabs(ds[r] - G * fd));
    }
    printf("%s, all weights clipped: dscale == G * central FD of sum(g*W_hat), max |diff| %.3g (dscale %.6g)\n",
           lb_grid_name(grid), maxdiff, ds[0]);
    return 0;
}

// --- 2. random per-256 groups vs an independent re-derivation ---------------------------------

// REFERENCE §2.1/§2.2 written out directly: returns q (normalized value) and the D term and mask
static void ref_seq(float w, float a, int ternary, float *val, float *D, float *mask, float step) {
    const float v = w / a;
    const float u = fmaxf(-0.99f, fminf(v, 0.99f));
    float q;
    if (ternary) { const float t = rintf(1.5f * u); q = t / 1.5f; *val = t * step; }
    else { const float i = rintf(2.0f * u - 0.5f); q = (i + 0.5f) / 2.0f; *val = (2.0f * i + 1.0f) * step; }
    const float qp = ternary ? 1.0f : 0.75f;
    if (v < -0.99f) { *D = -qp; *mask = 0; }
    else if (v > 0.99f) { *D = qp; *mask = 0; }
    else { *D = q - v; *mask = 1; }
}

static void ref_lsq(float w, float a, int bits, float *val, float *D, float *mask) {
    const float qn = -(float)(1 << (bits - 1)), qp = (float)((1 << (bits - 1)) - 1);
    const float v = w / a;
    const float c = fmaxf(qn, fminf(rintf(v), qp));
    *val = c * a;
    if (v < qn) { *D = qn; *mask = 0; }
    else if (v > qp) { *D = qp; *mask = 0; }
    else { *D = rintf(v) - v; *mask = 1; }
}

static int test_random_groups(lb_grid grid, unsigned flags) {
    enum { R = 3, K = 512, GRP = 256, NG = K / GRP };
    static float W[R * K], weff[R * K], g[R * K], dW[R * K];
    static int8_t codes[R * K];
    float scales[R * NG], ds[R * NG];
    for (int k = 0; k < R * K; k++) { W[k] = 0.05f * frandn(); g[k] = frandn(); }
    lb_fq_config cfg = { grid, GRP, 0, flags };
    CHECK(lb_fq_init_scales(scales, W, R, K, &cfg, NULL, 0) == 0, "init");
    for (int s = 0; s < R * NG; s++) scales[s] *= 0.4f + 0.8f * frand();   // moves many weights outside the clip
    const float lambda = 0.3f;
    CHECK(lb_fq_forward(weff, codes, W, scales, R, K, &cfg, lambda) == 0, "forward");
    CHECK(lb_fq_backward(dW, ds, g, W, codes, scales, R, K, &cfg, lambda) == 0, "backward");
    const int lsq = grid == LB_GRID_LSQ3 || grid == LB_GRID_LSQ4;
    const int bits = grid == LB_GRID_LSQ3 ? 3 : 4;
    const double qpi = lsq ? (double)((1 << (bits - 1)) - 1) : 1.0;
    const double G = 1.0 / sqrt((double)R * K * qpi);
    int clipped = 0;
    for (int r = 0; r < R; r++)
        for (int j = 0; j < NG; j++) {
            const float alpha = scales[r * NG + j];
            // the effective scale in fp16-exact mode (REFERENCE: fp16 d; SEQ2 d = alpha/4)
            float a = alpha, step = 0;
            if (grid == LB_GRID_SEQ2) {
                step = alpha / 4;
                if (flags) { step = lb_fp16_to_f32(lb_f32_to_fp16(step)); a = 4 * step; }
            } else if (grid == LB_GRID_SEQ_TERNARY) {
                step = alpha / 1.5f;
                if (flags) step = lb_fp16_to_f32(lb_f32_to_fp16(step));
            } else if (flags) a = lb_fp16_to_f32(lb_f32_to_fp16(alpha));
            double acc = 0;
            for (int k = r * K + j * GRP; k < r * K + (j + 1) * GRP; k++) {
                float val, D, mask;
                if (lsq) ref_lsq(W[k], a, bits, &val, &D, &mask);
                else ref_seq(W[k], a, grid == LB_GRID_SEQ_TERNARY, &val, &D, &mask, step);
                clipped += mask == 0;
                CHECK(NEAR(weff[k], val + lambda * W[k], 1e-6), "%s value %d: %.9g want %.9g", lb_grid_name(grid), k, weff[k], val + lambda * W[k]);
                CHECK(NEAR(dW[k], (mask + lambda) * g[k], 1e-6), "%s dW %d", lb_grid_name(grid), k);
                acc += (double)g[k] * D;
            }
            const double want = G * acc;
            CHECK(NEAR(ds[r * NG + j], want, 1e-5 * (1 + fabs(want))), "%s dscale %d/%d: %.8g want %.8g",
                  lb_grid_name(grid), r, j, ds[r * NG + j], want);
        }
    CHECK(clipped > 10, "%s: test should clip some weights (%d)", lb_grid_name(grid), clipped);
    printf("%s%s: 3x512, 6 per-256 scales, lambda 0.3: values, dW, dscales match the formulas (%d clipped)\n",
           lb_grid_name(grid), flags ? " fp16-exact" : "", clipped);
    return 0;
}

// --- 3. format-exact == pack -> dequantize ----------------------------------------------------

static int test_format_exact(lb_grid grid, uint32_t type, int64_t group) {
    enum { R = 4, K = 1024 };
    static float W[R * K], weff[R * K], deq[K];
    static int8_t codes[R * K];
    static uint8_t packed[8192];
    float scales[R * K / 256];
    lb_fq_config cfg = { grid, group, type, 0 };
    char err[256];
    CHECK(lb_fq_check(&cfg, R, K, err, sizeof err) == 0, "check %s", err);
    for (int k = 0; k < R * K; k++) W[k] = 0.02f * frandn();
    CHECK(lb_fq_init_scales(scales, W, R, K, &cfg, err, sizeof err) == 0, "init %s", err);
    const lb_type_traits *tt = lb_type_get(type);
    const size_t row_bytes = lb_row_size(type, K);
    CHECK(tt && tt->to_float && row_bytes > 0 && row_bytes <= sizeof packed, "type %u", type);
    const int64_t ng = K / (group ? group : K);
    int64_t nonzero = 0;
    for (int it = 0; it < 4; it++) {
        // random "optimizer" updates to the scales and the weights
        for (int s = 0; s < R * ng; s++) scales[s] *= expf(0.2f * frandn());
        for (int k = 0; k < R * K; k++) W[k] += 0.002f * frandn();
        CHECK(lb_fq_forward(weff, codes, W, scales, R, K, &cfg, 0.0f) == 0, "forward");
        for (int r = 0; r < R; r++) {
            CHECK(lb_grid_pack_row(packed, type, codes + r * K, K, scales + r * ng, group ? group : K, grid,
                                   LB_GRID_FP16_EXACT, err, sizeof err) == 0, "pack %s", err);
            tt->to_float(packed, deq, K);
            CHECK(memcmp(deq, weff + r * K, sizeof deq) == 0, "%s -> %s row %d iter %d: fake-quant != dequantized",
                  lb_grid_name(grid), tt->name, r, it);
            for (int k = 0; k < K; k++) nonzero += deq[k] != 0;
        }
    }
    CHECK(nonzero > R * K, "degenerate (all zero) output");
    printf("format-exact %s -> %s (group %lld): 4 updates x %d rows bit-identical to pack -> dequantize\n",
           lb_grid_name(grid), tt->name, (long long)(group ? group : K), R);
    return 0;
}

// --- 4. the coded form: w_eff == step[r] * (mul code + add), bit for bit ----------------------

static int test_coded(lb_grid grid, int64_t group, unsigned flags, int want) {
    enum { R = 5, K = 512 };
    static float W[R * K], weff[R * K], step[R];
    static int8_t codes[R * K];
    float scales[R * K / 4];
    lb_fq_config cfg = { grid, group, 0, flags };
    char err[256];
    CHECK(lb_fq_check(&cfg, R, K, err, sizeof err) == 0, "check %s", err);
    for (int k = 0; k < R * K; k++) W[k] = 0.03f * frandn();
    CHECK(lb_fq_init_scales(scales, W, R, K, &cfg, err, sizeof err) == 0, "init %s", err);
    const int64_t ns = lb_fq_nscales(&cfg, R, K);
    if (lb_fq_scales_learned(&cfg)) {
        for (int64_t s = 0; s < ns; s++) scales[s] *= 0.5f + frand();   // clip some weights
        scales[ns - 1] = 0.0f;                                           // a row with no scale
    }
    CHECK(lb_fq_forward(weff, codes, W, scales, R, K, &cfg, 0.0f) == 0, "forward");
    gemm_coded c;
    const int got = lb_fq_coded(&c, step, codes, scales, R, K, &cfg, 0.0f);
    CHECK(got == want, "%s group %lld: coded form %s", lb_grid_name(grid), (long long)group, got ? "offered" : "refused");
    CHECK(lb_fq_coded(&c, step, codes, scales, R, K, &cfg, 0.5f) == 0, "%s: coded form offered with lambda != 0",
          lb_grid_name(grid));
    if (want) {
        CHECK(lb_fq_coded(&c, step, codes, scales, R, K, &cfg, 0.0f) == 1 && c.codes == codes && c.step == step, "coded");
        int64_t nonzero = 0;
        for (int r = 0; r < R; r++)
            for (int k = 0; k < K; k++) {
                const float v = (float)(c.mul * codes[r * K + k] + c.add) * step[r];
                CHECK(memcmp(&v, &weff[r * K + k], sizeof v) == 0, "%s row %d col %d: coded %.9g, w_eff %.9g",
                      lb_grid_name(grid), r, k, v, weff[r * K + k]);
                nonzero += v != 0;
            }
        CHECK(nonzero >= R * K / 20, "degenerate output: %lld of %d values nonzero", (long long)nonzero, R * K);
    }
    printf("coded form %s%s group %lld: %s\n", lb_grid_name(grid), flags ? " fp16-exact" : "", (long long)group,
           want ? "w_eff == step * (mul code + add) bit for bit; none with lambda != 0" : "refused, as it must be");
    return 0;
}

static int test_check_rejects(void) {
    char err[256];
    lb_fq_config a = { LB_GRID_SEQ2, 256, LB_TYPE_Q2_0C, 0 };   // a 512 block with two scales
    CHECK(lb_fq_check(&a, 2, 1024, err, sizeof err) != 0, "q2_0c with 256 groups accepted");
    printf("rejected: %s\n", err);
    lb_fq_config b = { LB_GRID_LSQ3, 256, LB_TYPE_Q2_K, 0 };
    CHECK(lb_fq_check(&b, 2, 1024, err, sizeof err) != 0, "lsq3 into q2_k accepted");
    lb_fq_config c = { LB_GRID_SEQ2, 300, 0, 0 };
    CHECK(lb_fq_check(&c, 2, 1024, err, sizeof err) != 0, "group 300 accepted");
    lb_fq_config d = { LB_GRID_SHERRY, 32, 0, 0 };
    CHECK(lb_fq_check(&d, 2, 1024, err, sizeof err) != 0, "sherry group 32 accepted");
    float x[4] = { 0 }, y[4];
    int8_t cd[4];
    CHECK(lb_fq_forward(y, cd, x, x, 1, 4, &d, 0) != 0, "forward with bad config");
    return 0;
}

// --torch-case: forward and backward on exactly representable inputs for SEQ2, SEQ ternary,
// LSQ3, LSQ4 with per-row scales, printed for tests/torch/ref_paretoq.py (ParetoQ's autograd
// functions re-written in torch) to compare
static int torch_case(void) {
    enum { R = 4, K = 16 };
    const lb_grid grids[4] = { LB_GRID_SEQ2, LB_GRID_SEQ_TERNARY, LB_GRID_LSQ3, LB_GRID_LSQ4 };
    float W[R * K], g[R * K], weff[R * K], dW[R * K], sc[R], ds[R];
    int8_t codes[R * K];
    for (int r = 0; r < R; r++)
        for (int k = 0; k < K; k++) {
            W[r * K + k] = (float)((r * 31 + k * 17) % 41 - 20) / 16.0f;
            g[r * K + k] = (float)((r * 7 + k * 3) % 13 - 6) / 8.0f;
        }
    for (int gi = 0; gi < 4; gi++) {
        const lb_grid grid = grids[gi];
        const float div = grid == LB_GRID_LSQ3 ? 3.0f : grid == LB_GRID_LSQ4 ? 7.0f : 1.0f;
        for (int r = 0; r < R; r++) sc[r] = (float)(r + 3) / 4.0f / div;
        lb_fq_config cfg = { grid, 0, 0, 0 };
        if (lb_fq_forward(weff, codes, W, sc, R, K, &cfg, 0.0f) || lb_fq_backward(dW, ds, g, W, codes, sc, R, K, &cfg, 0.0f)) return 1;
        for (int k = 0; k < R * K; k++) printf("%s fwd %d %.9g\n", lb_grid_name(grid), k, weff[k]);
        for (int k = 0; k < R * K; k++) printf("%s dw %d %.9g\n", lb_grid_name(grid), k, dW[k]);
        for (int r = 0; r < R; r++) printf("%s dalpha %d %.9g\n", lb_grid_name(grid), r, ds[r]);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--torch-case") == 0) return torch_case();
    if (test_seq2_hand() || test_ternary_hand() || test_lsq_hand() || test_absmean_sherry_hand() || test_arenas()) return 1;
    if (test_fd_clipped(LB_GRID_SEQ2) || test_fd_clipped(LB_GRID_LSQ3) || test_fd_clipped(LB_GRID_LSQ4)) return 1;
    if (test_random_groups(LB_GRID_SEQ2, 0) || test_random_groups(LB_GRID_SEQ2, LB_FQ_FP16_EXACT) ||
        test_random_groups(LB_GRID_SEQ_TERNARY, 0) || test_random_groups(LB_GRID_SEQ_TERNARY, LB_FQ_FP16_EXACT) ||
        test_random_groups(LB_GRID_LSQ3, 0) || test_random_groups(LB_GRID_LSQ4, 0) ||
        test_random_groups(LB_GRID_LSQ4, LB_FQ_FP16_EXACT)) return 1;
    if (test_format_exact(LB_GRID_SEQ2, LB_TYPE_Q2_0C, 512) || test_format_exact(LB_GRID_SEQ2, LB_TYPE_Q2_0C, 0) ||
        test_format_exact(LB_GRID_SEQ2, LB_TYPE_Q2_K, 256) || test_format_exact(LB_GRID_SEQ2, LB_TYPE_Q2_K, 0) ||
        test_format_exact(LB_GRID_SEQ_TERNARY, LB_TYPE_TQ1_0, 256) || test_format_exact(LB_GRID_SEQ_TERNARY, LB_TYPE_TQ2_0, 0) ||
        test_format_exact(LB_GRID_ABSMEAN, LB_TYPE_TQ1_0, 256) || test_format_exact(LB_GRID_ABSMEAN, LB_TYPE_TQ2_0, 0) ||
        test_format_exact(LB_GRID_SHERRY, LB_TYPE_STQ1_0, 256) || test_format_exact(LB_GRID_SHERRY, LB_TYPE_STQ1_0, 0) ||
        test_format_exact(LB_GRID_SHERRY, LB_TYPE_TQ2_0, 256) || test_format_exact(LB_GRID_SHERRY, LB_TYPE_TQ1_0, 256))
        return 1;
    if (test_check_rejects()) return 1;
    if (test_coded(LB_GRID_SEQ2, 0, 0, 1) || test_coded(LB_GRID_SEQ2, 0, LB_FQ_FP16_EXACT, 1) ||
        test_coded(LB_GRID_SEQ2, 256, 0, 0) || test_coded(LB_GRID_LSQ3, 0, 0, 1) ||
        test_coded(LB_GRID_LSQ4, 0, LB_FQ_FP16_EXACT, 1) || test_coded(LB_GRID_SEQ_TERNARY, 0, 0, 1) ||
        test_coded(LB_GRID_SEQ_TERNARY, 0, LB_FQ_FP16_EXACT, 1) || test_coded(LB_GRID_ABSMEAN, 256, 0, 1) ||
        test_coded(LB_GRID_ABSMEAN, 0, LB_FQ_FP16_EXACT, 1) || test_coded(LB_GRID_SHERRY, 0, 0, 1) ||
        test_coded(LB_GRID_SHERRY_ADJ, 0, 0, 1) || test_coded(LB_GRID_SHERRY, 256, 0, 0) ||
        test_coded(LB_GRID_LSQ4, 128, 0, 0))
        return 1;
    printf("fakequant: all ok\n");
    return 0;
}
