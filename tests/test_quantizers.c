// test_quantizers.c: the grids of libquant/quant.h on hand-checked cases (expected codes and
// values written out below, including rounding ties, the 0.99 clip and zero groups), and the
// lossless must-show: tensors put on a grid with fp16-exact scales pack into every type that can
// store that grid and dequantize (the type table's to_float) to exactly the same floats.
#include "test_util.h"
#include "quant.h"
#include "lb_types.h"
#include "fp16.h"
#include <math.h>
#include <stdint.h>

static int n_checks = 0;

#define CHECK_EQ_CODES(got, want, n, what) do { for (int k_ = 0; k_ < (n); k_++) { n_checks++; \
    CHECK((got)[k_] == (want)[k_], "%s: code %d is %d, want %d", what, k_, (got)[k_], (want)[k_]); } } while (0)
// bitwise: +0 and -0 differ, as memcmp of dequantized tensors would see
#define CHECK_EQ_VALS(got, want, n, what) do { for (int k_ = 0; k_ < (n); k_++) { n_checks++; \
    CHECK(memcmp(&(got)[k_], &(want)[k_], 4) == 0, "%s: value %d is %.9g, want %.9g", what, k_, (double)(got)[k_], (double)(want)[k_]); } } while (0)

// --- hand-checked grids ----------------------------------------------------------------------------

static int test_seq2(void) {
    // alpha = 1: u = clamp(w, +-0.99), i = rint(2u - 0.5), value (i + 0.5)/2
    const float w[] = {  0.0f, 0.25f, -0.25f, 0.5f, -0.5f, 0.75f, 1.0f, -1.0f, 2.0f, 0.7499f, -0.1f, 0.26f, -0.0f };
    // 0: rint(-0.5) = -0 -> 0 (tie to even)        0.25: rint(0) = 0
    // -0.25: rint(-1) = -1                          0.5: rint(0.5) = 0 (tie to even; roundf would give 1)
    // -0.5: rint(-1.5) = -2 (tie to even)           0.75: rint(1) = 1
    // 1.0: clip 0.99 -> rint(1.48) = 1 (no clip: rint(1.5) = 2, out of range)
    // -1.0: rint(-2.48) = -2   2.0: 1   0.7499: rint(0.9998) = 1   -0.1: rint(-0.7) = -1   0.26: rint(0.02) = 0
    // -0: rint(-0.5) = 0
    const int8_t want_c[] = { 0, 0, -1, 0, -2, 1, 1, -2, 1, 1, -1, 0, 0 };
    const float want_v[] = { 0.25f, 0.25f, -0.25f, 0.25f, -0.75f, 0.75f, 0.75f, -0.75f, 0.75f, 0.75f, -0.25f, 0.25f, 0.25f };
    const int n = (int)(sizeof w / sizeof w[0]);
    int8_t c[16]; float v[16];
    CHECK(lb_grid_apply(c, v, w, n, 1.0f, LB_GRID_SEQ2, 0) == 0, "seq2 apply");
    CHECK_EQ_CODES(c, want_c, n, "seq2 alpha=1");
    CHECK_EQ_VALS(v, want_v, n, "seq2 alpha=1");
    // same weights times 3 with alpha 3: same codes, values 3x (alpha*q, q exact)
    float w3[16], want3[16];
    for (int k = 0; k < n; k++) { w3[k] = 3.0f * w[k]; want3[k] = 3.0f * want_v[k]; }
    lb_grid_apply(c, v, w3, n, 3.0f, LB_GRID_SEQ2, 0);
    CHECK_EQ_CODES(c, want_c, n, "seq2 alpha=3");
    CHECK_EQ_VALS(v, want3, n, "seq2 alpha=3");
    // format-exact: alpha 1.0001 -> step fp16(0.250025) = 0.25 (fp16 spacing 2^-12 there), so the
    // grid is exactly alpha = 1: same codes and values as above (w = 0.7499 still -> 1)
    lb_grid_apply(c, v, w, n, 1.0001f, LB_GRID_SEQ2, LB_GRID_FP16_EXACT);
    CHECK_EQ_CODES(c, want_c, n, "seq2 fp16-exact");
    CHECK_EQ_VALS(v, want_v, n, "seq2 fp16-exact");
    n_checks++; CHECK(lb_grid_step(LB_GRID_SEQ2, 1.0001f, LB_GRID_FP16_EXACT) == 0.25f, "seq2 fp16 step");
    n_checks++; CHECK(lb_grid_step(LB_GRID_SEQ2, 1.0001f, 0) == 1.0001f * 0.25f, "seq2 step");
    // zero group: alpha 0 -> every weight on code 0 with value +0 (not -0), whatever w is
    const float wz[4] = { -1.0f, 0.0f, 3.0f, -0.0f };
    const int8_t zc[4] = { 0, 0, 0, 0 };
    const float zv[4] = { 0.0f, 0.0f, 0.0f, 0.0f };
    lb_grid_apply(c, v, wz, 4, 0.0f, LB_GRID_SEQ2, LB_GRID_FP16_EXACT);
    CHECK_EQ_CODES(c, zc, 4, "seq2 zero scale");
    CHECK_EQ_VALS(v, zv, 4, "seq2 zero scale");
    // init scale = max|w|
    n_checks++; CHECK(lb_grid_init_scale(LB_GRID_SEQ2, w3, n) == 6.0f, "seq2 init scale");
    return 0;
}

static int test_seq_ternary(void) {
    // alpha = 1.5: u = clamp(w/1.5), t = rint(1.5u) = rint(w) inside the clip; step 1
    const float w[] = { 0.5f, -0.5f, 0.75f, 1.5f, -3.0f, 0.4f, 0.6f, 1.49f, -1.5f, 0.0f };
    // 0.5 -> rint(0.5) = 0 (tie), -0.5 -> -0 = 0, 0.75 -> 1, 1.5: clip 0.99 -> rint(1.485) = 1,
    // -3 -> -1, 0.4 -> 0, 0.6 -> 1, 1.49 -> 1, -1.5 -> -1, 0 -> 0
    const int8_t want_c[] = { 0, 0, 1, 1, -1, 0, 1, 1, -1, 0 };
    const float want_v[] = { 0, 0, 1, 1, -1, 0, 1, 1, -1, 0 };
    const int n = (int)(sizeof w / sizeof w[0]);
    int8_t c[16]; float v[16];
    lb_grid_apply(c, v, w, n, 1.5f, LB_GRID_SEQ_TERNARY, LB_GRID_FP16_EXACT);
    CHECK_EQ_CODES(c, want_c, n, "seq ternary");
    CHECK_EQ_VALS(v, want_v, n, "seq ternary");
    // alpha = 1: step = 2/3 in float; fp16-exact: step = fp16(2/3) = 0x3955 = 0.66650390625
    n_checks++; CHECK(lb_grid_step(LB_GRID_SEQ_TERNARY, 1.0f, 0) == 1.0f / 1.5f, "ternary step");
    n_checks++; CHECK(lb_grid_step(LB_GRID_SEQ_TERNARY, 1.0f, LB_GRID_FP16_EXACT) == 0.66650390625f, "ternary fp16 step %.12g",
                      (double)lb_grid_step(LB_GRID_SEQ_TERNARY, 1.0f, LB_GRID_FP16_EXACT));
    const float w1[3] = { -0.9f, 0.3f, 0.34f };   // 1.5u = -1.35 -> -1, 0.45 -> 0, 0.51 -> 1
    const int8_t c1[3] = { -1, 0, 1 };
    const float v1[3] = { -0.66650390625f, 0.0f, 0.66650390625f };
    lb_grid_apply(c, v, w1, 3, 1.0f, LB_GRID_SEQ_TERNARY, LB_GRID_FP16_EXACT);
    CHECK_EQ_CODES(c, c1, 3, "seq ternary alpha=1");
    CHECK_EQ_VALS(v, v1, 3, "seq ternary alpha=1");
    return 0;
}

static int test_absmean(void) {
    // sum |w| = 1+2+0.5+0.25+0.75+0+3+0.5 = 8 over 8 -> gamma = 1
    const float w[8] = { 1.0f, -2.0f, 0.5f, 0.25f, -0.75f, 0.0f, 3.0f, -0.5f };
    // rint: 1, -2 -> clamp -1, 0.5 -> 0 (tie), 0.25 -> 0, -0.75 -> -1, 0, 3 -> 1, -0.5 -> 0
    const int8_t want_c[8] = { 1, -1, 0, 0, -1, 0, 1, 0 };
    const float want_v[8] = { 1, -1, 0, 0, -1, 0, 1, 0 };
    int8_t c[8]; float v[8];
    const float gamma = lb_grid_init_scale(LB_GRID_ABSMEAN, w, 8);
    n_checks++; CHECK(gamma == 1.0f, "absmean gamma %g", (double)gamma);
    lb_grid_apply(c, v, w, 8, gamma, LB_GRID_ABSMEAN, LB_GRID_FP16_EXACT);
    CHECK_EQ_CODES(c, want_c, 8, "absmean");
    CHECK_EQ_VALS(v, want_v, 8, "absmean");
    // all-zero group: gamma 0 -> all 0, values +0
    const float wz[8] = { 0 };
    const int8_t zc[8] = { 0 };
    const float zv[8] = { 0 };
    lb_grid_apply(c, v, wz, 8, lb_grid_init_scale(LB_GRID_ABSMEAN, wz, 8), LB_GRID_ABSMEAN, LB_GRID_FP16_EXACT);
    CHECK_EQ_CODES(c, zc, 8, "absmean zero");
    CHECK_EQ_VALS(v, zv, 8, "absmean zero");
    return 0;
}

static int test_lsq(void) {
    // 4-bit: Qn -8, Qp 7, alpha 0.5: v = 2w
    const float w[6] = { 0.25f, 0.75f, -4.5f, 3.6f, -0.26f, 1.25f };
    // v = 0.5 -> 0 (tie), 1.5 -> 2 (tie to even), -9 -> -8, 7.2 -> 7, -0.52 -> -1, 2.5 -> 2 (tie)
    const int8_t want4[6] = { 0, 2, -8, 7, -1, 2 };
    const float want4v[6] = { 0.0f, 1.0f, -4.0f, 3.5f, -0.5f, 1.0f };
    int8_t c[6]; float v[6];
    lb_grid_apply(c, v, w, 6, 0.5f, LB_GRID_LSQ4, 0);
    CHECK_EQ_CODES(c, want4, 6, "lsq4");
    CHECK_EQ_VALS(v, want4v, 6, "lsq4");
    // 3-bit: Qn -4, Qp 3: 7.2 -> 3, -9 -> -4
    const int8_t want3[6] = { 0, 2, -4, 3, -1, 2 };
    lb_grid_apply(c, NULL, w, 6, 0.5f, LB_GRID_LSQ3, 0);
    CHECK_EQ_CODES(c, want3, 6, "lsq3");
    n_checks++; CHECK(lb_grid_init_scale(LB_GRID_LSQ3, w, 6) == 1.5f, "lsq3 init = max|w|/3");
    return 0;
}

static int test_sherry(void) {
    // STQ1_0 grouping, 64 weights: group g holds w[g + 16p]. Magnitudes (p+1)/2 except lane
    // g%4, which gets 0.25 and is dropped; sign - when (g+p) is odd. Group 15 instead has all
    // four |w| = 1 (tie: lane 0 is dropped) — its kept sum (3) equals what the pattern would give.
    // Kept sum per group = 5 - (g%4 + 1)/2; over 16 groups 80 - 4*(0.5+1+1.5+2) = 60, 48 kept
    // -> alpha = 1.25 exactly.
    float w[64]; int8_t want_c[64]; float want_v[64];
    for (int g = 0; g < 16; g++)
        for (int p = 0; p < 4; p++) {
            const int i = g + 16 * p;
            const float sgn = ((g + p) & 1) ? -1.0f : 1.0f;
            const int drop = g == 15 ? 0 : g % 4;
            w[i] = sgn * (g == 15 ? 1.0f : p == drop ? 0.25f : 0.5f * (float)(p + 1));
            want_c[i] = p == drop ? 0 : (int8_t)sgn;
            want_v[i] = (float)want_c[i] * 1.25f;
        }
    const float alpha = lb_grid_init_scale(LB_GRID_SHERRY, w, 64);
    n_checks++; CHECK(alpha == 1.25f, "sherry alpha %.9g, want 1.25", (double)alpha);
    int8_t c[64]; float v[64];
    CHECK(lb_grid_apply(c, v, w, 64, alpha, LB_GRID_SHERRY, LB_GRID_FP16_EXACT) == 0, "sherry apply");
    CHECK_EQ_CODES(c, want_c, 64, "sherry stq grouping");
    CHECK_EQ_VALS(v, want_v, 64, "sherry stq grouping");
    n_checks++; CHECK(lb_grid_apply(c, v, w, 60, alpha, LB_GRID_SHERRY, 0) == -1, "sherry n%%64 must fail");

    // adjacent grouping: group 0 all zero (lane 0 dropped, kept zeros count as +), group 1 drops
    // -0.5; alpha = (0+0+0+1+2+3)/6 = 1
    const float wa[8] = { 0, 0, 0, 0, 1.0f, -2.0f, 3.0f, -0.5f };
    const int8_t ca[8] = { 0, 1, 1, 1, 1, -1, 1, 0 };
    const float va[8] = { 0, 1, 1, 1, 1, -1, 1, 0 };
    const float aa = lb_grid_init_scale(LB_GRID_SHERRY_ADJ, wa, 8);
    n_checks++; CHECK(aa == 1.0f, "sherry adj alpha %g", (double)aa);
    lb_grid_apply(c, v, wa, 8, aa, LB_GRID_SHERRY_ADJ, LB_GRID_FP16_EXACT);
    CHECK_EQ_CODES(c, ca, 8, "sherry adjacent");
    CHECK_EQ_VALS(v, va, 8, "sherry adjacent");
    // zero block: scale 0 -> values all +0, still 3:4 (one 0 code per group)
    const float wz[64] = { 0 };
    lb_grid_apply(c, v, wz, 64, lb_grid_init_scale(LB_GRID_SHERRY, wz, 64), LB_GRID_SHERRY, LB_GRID_FP16_EXACT);
    for (int g = 0; g < 16; g++) {
        int zeros = 0;
        for (int p = 0; p < 4; p++) { zeros += c[g + 16 * p] == 0; n_checks++; CHECK(lb_f32_bits(v[g + 16 * p]) == 0, "sherry zero block value"); }
        n_checks++; CHECK(zeros == 1, "sherry zero block group %d has %d zeros", g, zeros);
    }
    return 0;
}

// --- lossless packing ------------------------------------------------------------------------------

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rng_u32(void) {   // xorshift64*
    rng_state ^= rng_state >> 12; rng_state ^= rng_state << 25; rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}
static float rng_normal(void) {
    const float u1 = ((float)(rng_u32() >> 8) + 0.5f) / 16777216.0f, u2 = (float)(rng_u32() >> 8) / 16777216.0f;
    return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
}

// put W [nrows x K] on grid g (scales per `group`, fp16-exact), pack into type, dequantize and
// compare with the grid values bit for bit. Rows get very different magnitudes (1e-5 .. 1e3,
// so fp16 subnormal and large steps are covered) and some rows / groups are all zero.
static int lossless(lb_grid g, int64_t group, uint32_t type, int64_t nrows, int64_t K) {
    const lb_type_traits *tt = lb_type_get(type);
    CHECK(tt && tt->to_float, "type %u has no to_float", type);
    const int64_t n = nrows * K, ng = K / group;
    float *w = malloc(n * sizeof(float)), *vals = malloc(n * sizeof(float)), *deq = malloc(n * sizeof(float));
    float *scales = malloc(nrows * ng * sizeof(float));
    int8_t *codes = malloc(n);
    const size_t rb = lb_row_size(type, K);
    uint8_t *packed = malloc(nrows * rb);
    static const float mags[8] = { 1e-5f, 3e-4f, 0.02f, 0.1f, 1.0f, 7.0f, 300.0f, 1000.0f };
    for (int64_t r = 0; r < nrows; r++)
        for (int64_t k = 0; k < K; k++) {
            float x = mags[r % 8] * rng_normal();
            if (r == 3 || (r == 5 && k < group)) x = 0.0f;       // a zero row and a zero group
            if (r == 6 && k % 7 == 0) x = -0.0f;                 // negative zeros
            w[r * K + k] = x;
        }
    char err[256] = "";
    CHECK(lb_grid_init_scales(scales, w, nrows, K, group, g, err, sizeof err) == 0, "init scales: %s", err);
    CHECK(lb_grid_rows(codes, vals, w, nrows, K, scales, group, g, LB_GRID_FP16_EXACT, err, sizeof err) == 0, "grid rows: %s", err);
    for (int64_t r = 0; r < nrows; r++) {
        CHECK(lb_grid_pack_row(packed + r * rb, type, codes + r * K, K, scales + r * ng, group, g, LB_GRID_FP16_EXACT, err, sizeof err) == 0,
              "%s -> %s pack row %lld: %s", lb_grid_name(g), tt->name, (long long)r, err);
        tt->to_float(packed + r * rb, deq + r * K, K);
    }
    int64_t diff = 0, first = -1;
    for (int64_t i = 0; i < n; i++) if (memcmp(&deq[i], &vals[i], 4)) { diff++; if (first < 0) first = i; }
    n_checks++;
    CHECK(diff == 0, "%s (group %lld) -> %s: %lld of %lld floats differ, first %lld: %.9g vs grid %.9g",
          lb_grid_name(g), (long long)group, tt->name, (long long)diff, (long long)n, (long long)first,
          (double)deq[first], (double)vals[first]);
    // the grid really is coarse: it is not the identity (guards against a test that compares w to w)
    int64_t moved = 0;
    for (int64_t i = 0; i < n; i++) moved += vals[i] != w[i];
    n_checks++; CHECK(moved > n / 2, "grid moved only %lld of %lld weights", (long long)moved, (long long)n);
    printf("  lossless %-11s scale/%-4lld -> %-6s %lld x %lld: %lld floats identical (memcmp)\n", lb_grid_name(g),
           (long long)group, tt->name, (long long)nrows, (long long)K, (long long)n);
    free(w); free(vals); free(deq); free(scales); free(codes); free(packed);
    return 0;
}

static int test_lossless(void) {
    const int64_t R = 16, K = 1024;
    // SEQ 2-bit: per row and per 256 into Q2_K; per row and per 512 into Q2_0C
    if (lossless(LB_GRID_SEQ2, K, LB_TYPE_Q2_K, R, K)) return 1;
    if (lossless(LB_GRID_SEQ2, 256, LB_TYPE_Q2_K, R, K)) return 1;
    if (lossless(LB_GRID_SEQ2, K, LB_TYPE_Q2_0C, R, K)) return 1;
    if (lossless(LB_GRID_SEQ2, 512, LB_TYPE_Q2_0C, R, K)) return 1;
    // ternary grids into TQ1_0 / TQ2_0 (per 256 and per row); Sherry also into STQ1_0
    const uint32_t tq[2] = { LB_TYPE_TQ1_0, LB_TYPE_TQ2_0 };
    for (int t = 0; t < 2; t++) {
        if (lossless(LB_GRID_SEQ_TERNARY, 256, tq[t], R, K)) return 1;
        if (lossless(LB_GRID_SEQ_TERNARY, K, tq[t], R, K)) return 1;
        if (lossless(LB_GRID_ABSMEAN, 256, tq[t], R, K)) return 1;
        if (lossless(LB_GRID_ABSMEAN, K, tq[t], R, K)) return 1;
        if (lossless(LB_GRID_SHERRY, 256, tq[t], R, K)) return 1;
        if (lossless(LB_GRID_SHERRY_ADJ, 256, tq[t], R, K)) return 1;
    }
    if (lossless(LB_GRID_SHERRY, 256, LB_TYPE_STQ1_0, R, K)) return 1;
    if (lossless(LB_GRID_SHERRY, K, LB_TYPE_STQ1_0, R, K)) return 1;
    return 0;
}

// what must be refused: grids a type cannot hold, and per-256 SEQ2 scales that differ inside one
// 512-weight Q2_0C block (while equal pairs are accepted)
static int test_refusals(void) {
    char err[256] = "";
    n_checks++; CHECK(!lb_grid_packable(LB_GRID_SHERRY_ADJ, LB_TYPE_STQ1_0), "adjacent Sherry must not pack into STQ1_0");
    n_checks++; CHECK(!lb_grid_packable(LB_GRID_SEQ2, LB_TYPE_TQ2_0), "seq2 must not pack into TQ2_0");
    n_checks++; CHECK(!lb_grid_packable(LB_GRID_LSQ4, LB_TYPE_Q2_K), "lsq4 has no packer");
    float w[512]; int8_t c[512]; uint8_t blk[130];
    for (int k = 0; k < 512; k++) w[k] = (k < 256 ? 1.0f : 2.0f) * rng_normal();
    float sc[2] = { 1.0f, 2.0f };
    lb_grid_apply(c, NULL, w, 256, sc[0], LB_GRID_SEQ2, LB_GRID_FP16_EXACT);
    lb_grid_apply(c + 256, NULL, w + 256, 256, sc[1], LB_GRID_SEQ2, LB_GRID_FP16_EXACT);
    n_checks++; CHECK(lb_grid_pack_row(blk, LB_TYPE_Q2_0C, c, 512, sc, 256, LB_GRID_SEQ2, LB_GRID_FP16_EXACT, err, sizeof err) == -1,
                      "differing per-256 scales inside one Q2_0C block must be refused");
    printf("  refused as expected: %s\n", err);
    sc[1] = 1.0001f;   // same fp16 step as 1.0: accepted
    n_checks++; CHECK(lb_grid_pack_row(blk, LB_TYPE_Q2_0C, c, 512, sc, 256, LB_GRID_SEQ2, LB_GRID_FP16_EXACT, err, sizeof err) == 0,
                      "equal fp16 steps must pack: %s", err);
    c[7] = 2;          // out of SEQ2's code range
    n_checks++; CHECK(lb_grid_pack_row(blk, LB_TYPE_Q2_0C, c, 512, sc, 256, LB_GRID_SEQ2, LB_GRID_FP16_EXACT, err, sizeof err) == -1,
                      "code out of range must be refused");
    // a dense ternary block is not 3:4
    int8_t t[256];
    for (int k = 0; k < 256; k++) t[k] = 1;
    float s1 = 1.0f;
    uint8_t sblk[42];
    n_checks++; CHECK(lb_grid_pack_row(sblk, LB_TYPE_STQ1_0, t, 256, &s1, 256, LB_GRID_SHERRY, LB_GRID_FP16_EXACT, err, sizeof err) == -1,
                      "dense ternary into STQ1_0 must be refused");
    return 0;
}

// lb_quantize_rows with grid methods is grid -> exact packer: its output equals the manual path,
// and RTN is the type's own from_float
static int test_quantize_rows(void) {
    const int64_t R = 8, K = 512;
    float *w = malloc(R * K * sizeof(float)), *vals = malloc(R * K * sizeof(float)), *deq = malloc(R * K * sizeof(float));
    uint8_t *y = malloc(R * K * 2), *y2 = malloc(R * K * 2);
    for (int64_t i = 0; i < R * K; i++) w[i] = 0.05f * rng_normal();
    char err[256] = "";
    const struct { lb_quant_method m; uint32_t type; lb_grid g; int64_t group; } cases[] = {
        { LB_QM_SEQ2, LB_TYPE_Q2_K, LB_GRID_SEQ2, 256 }, { LB_QM_SEQ2, LB_TYPE_Q2_0C, LB_GRID_SEQ2, 512 },
        { LB_QM_ABSMEAN, LB_TYPE_TQ1_0, LB_GRID_ABSMEAN, 256 }, { LB_QM_SEQ_TERNARY, LB_TYPE_TQ2_0, LB_GRID_SEQ_TERNARY, 256 },
        { LB_QM_SHERRY, LB_TYPE_STQ1_0, LB_GRID_SHERRY, 256 }, { LB_QM_SHERRY, LB_TYPE_TQ2_0, LB_GRID_SHERRY, 256 },
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const lb_type_traits *tt = lb_type_get(cases[ci].type);
        CHECK(lb_quantize_rows(y, w, R, K, cases[ci].type, cases[ci].m, NULL, NULL, err, sizeof err) == 0, "quantize_rows: %s", err);
        tt->to_float(y, deq, R * K);
        float sc[16];
        lb_grid_init_scales(sc, w, R, K, cases[ci].group, cases[ci].g, err, sizeof err);
        lb_grid_rows(NULL, vals, w, R, K, sc, cases[ci].group, cases[ci].g, LB_GRID_FP16_EXACT, err, sizeof err);
        n_checks++;
        CHECK(memcmp(deq, vals, R * K * sizeof(float)) == 0, "quantize_rows %s -> %s differs from the grid",
              lb_quant_method_name(cases[ci].m), tt->name);
    }
    // RTN == from_float
    const uint32_t types[] = { LB_TYPE_Q2_K, LB_TYPE_Q2_0C, LB_TYPE_TQ1_0, LB_TYPE_TQ2_0, LB_TYPE_STQ1_0, LB_TYPE_Q8_0 };
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const lb_type_traits *tt = lb_type_get(types[ti]);
        CHECK(lb_quantize_rows(y, w, R, K, types[ti], LB_QM_RTN, NULL, NULL, err, sizeof err) == 0, "rtn %s: %s", tt->name, err);
        const size_t rb = lb_row_size(types[ti], K);
        for (int64_t r = 0; r < R; r++) tt->from_float(w + r * K, y2 + r * rb, K);
        n_checks++; CHECK(memcmp(y, y2, R * rb) == 0, "rtn %s != from_float", tt->name);
    }
    // refusals through the dispatcher
    n_checks++; CHECK(lb_quantize_rows(y, w, R, K, LB_TYPE_TQ1_0, LB_QM_SEQ2, NULL, NULL, err, sizeof err) == -1, "seq2 -> tq1_0 must fail");
    n_checks++; CHECK(lb_quantize_rows(y, w, R, 500, LB_TYPE_Q2_K, LB_QM_RTN, NULL, NULL, err, sizeof err) == -1, "K=500 must fail");
    n_checks++; CHECK(lb_quantize_rows(y, w, R, K, LB_TYPE_Q2_K, LB_QM_GPTQ, NULL, NULL, err, sizeof err) == -1, "gptq without H must fail");
    printf("  last refusal: %s\n", err);
    n_checks++; CHECK(lb_quant_method_from_name("sherry") == LB_QM_SHERRY && lb_grid_from_name("seq2") == LB_GRID_SEQ2, "names");
    free(w); free(vals); free(deq); free(y); free(y2);
    return 0;
}

int main(void) {
    if (test_seq2() || test_seq_ternary() || test_absmean() || test_lsq() || test_sherry()) return 1;
    printf("hand-checked grids: ok\n");
    if (test_lossless()) return 1;
    if (test_refusals()) return 1;
    if (test_quantize_rows()) return 1;
    printf("quantizers: %d checks passed\n", n_checks);
    return 0;
}
