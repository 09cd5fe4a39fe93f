// test_kd_sample.c: the row kernels of libtrain/kd_sample.c and the claim that justifies
// sampled stores: Sparse Logit Sampling KD matches full KD in expectation, top-K does not.
//  - kd_topk_row vs a brute-force reference (qsort by value desc, id asc) on rows with many
//    ties; kd_sample_row's row invariants (distinct ascending ids, -1 padding, counts sum S)
//    and determinism (same RNG state -> same row)
//  - statistics, V = 512, N = 8 positions, random student and teacher logits (fixed seed),
//    S = 12 draws per position (the `lowbit teacher` default); teacher logits N(0, 3^2) at
//    temperatures 1 and 2, and a peaked teacher N(0, 8^2) at T = 1:
//    g_full = kd_full_backward (forward KL); g_M = mean over M independent sample sets
//    (different RNG seeds) of kd_sampled_backward with weights count/S.
//    * every coordinate: per set, coordinate (n,i) of the sampled gradient is
//      (p_i - c_i/S)/(N T) with c_i ~ Binomial(S, q_i) (checked: the averaged gradient equals
//      the one computed from the draw counts C_i to float precision), so the mean over M has
//      SE = sqrt(q_i (1-q_i) / (S M)) / (N T). Where S M q_i (1-q_i) >= 5 (the normal regime):
//      |g_M - g_full| <= Z * SE with Z = 5. For the rarer ids the normal approximation does
//      not hold (an id with q = 3e-6 drawn twice in 4800 draws is a "16 sigma" event but has
//      probability 1e-4): there the exact two-sided binomial p-value of C_i must be >= 1e-7
//      (the tail probability of ~5.3 sigma).
//    * ||g_M - g_full|| / ||g_full|| shrinks like 1/sqrt(M): from M = 400 to M = 6400 the
//      ratio must be within [4/1.6, 4*1.6] (1/sqrt(M) predicts 4), and matches the predicted
//      sqrt(sum SE^2 * M) / sqrt(M) within 40% (few ids dominate a peaked
//      teacher's error, so its square has few degrees of freedom).
//    * loss: mean of the M sampled losses -> forward KL + H(q) within Z * (its empirical SE).
//    * top-K (K = 8, 32) is biased: deterministic, so its relative error is the same for every
//      M; it must stay above FLOOR = 0.05, while sampled at M = 6400 must be below it.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kd.h"
#include "kd_sample.h"
#include "test_util.h"

#define V 512
#define N 8
#define S 12
#define Z 5.0
#define FLOOR 0.05
#define P_RARE 1e-7   // ~5.3 sigma two-sided, for the ids outside the normal regime

// two-sided exact binomial p-value of observing c successes in n trials of probability q
// (2 x the smaller tail, capped at 1); the tails are summed in log space term by term
static double binom_pmf_log(int64_t k, int64_t n, double q) {
    return lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1) + (double)k * log(q) +
           (double)(n - k) * log1p(-q);
}
static double binom_two_sided(int64_t c, int64_t n, double q) {
    if (q <= 0) return c == 0 ? 1.0 : 0.0;
    double lo = 0, hi = 0;
    for (int64_t k = 0; k <= c; k++) lo += exp(binom_pmf_log(k, n, q));          // P(X <= c)
    for (int64_t k = c; k <= n && k <= c + 400; k++) hi += exp(binom_pmf_log(k, n, q));   // P(X >= c)
    const double p = 2 * fmin(lo, hi);
    return p > 1 ? 1 : p;
}

static double gauss(uint64_t *s) {
    const double u1 = kd_rng_uniform(s) + 0x1p-60, u2 = kd_rng_uniform(s);
    return sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
}

// --- row kernels -------------------------------------------------------------------------------

typedef struct { float v; int32_t id; } pair;
static int by_value_then_id(const void *a, const void *b) {
    const pair *x = a, *y = b;
    if (x->v != y->v) return x->v > y->v ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int test_topk(void) {
    static float row[V];
    static pair ref[V];
    int32_t ids[V];
    float vals[V];
    uint64_t rng = 7;
    const int Ks[] = {1, 2, 8, 32, 100, V};
    for (int trial = 0; trial < 50; trial++) {
        // few distinct values (many ties) on even trials, continuous values on odd ones
        for (int i = 0; i < V; i++) row[i] = trial % 2 ? (float)gauss(&rng) : (float)(kd_rng_next(&rng) % 9) - 4.0f;
        for (int i = 0; i < V; i++) ref[i] = (pair){row[i], i};
        qsort(ref, V, sizeof *ref, by_value_then_id);
        for (size_t k = 0; k < sizeof Ks / sizeof *Ks; k++) {
            kd_topk_row(ids, vals, row, V, Ks[k]);
            for (int j = 0; j < Ks[k]; j++)
                CHECK(ids[j] == ref[j].id && vals[j] == ref[j].v, "topk trial %d K %d slot %d: id %d (%g), want %d (%g)", trial,
                      Ks[k], j, ids[j], vals[j], ref[j].id, ref[j].v);
        }
    }
    // NaN never chosen; too few usable values -> -1 padding
    float r3[4] = {NAN, 2.0f, NAN, 1.0f};
    kd_topk_row(ids, vals, r3, 4, 3);
    CHECK(ids[0] == 1 && ids[1] == 3 && ids[2] == -1, "topk with NaN: %d %d %d", ids[0], ids[1], ids[2]);
    printf("kd_topk_row: equals qsort (value desc, id asc) on 50 rows x 6 K, ties included\n");
    return 0;
}

static int test_sample_rows(void) {
    static float row[V];
    static double cdf[V];
    int32_t ids[255], ids2[255];
    uint8_t counts[255], counts2[255];
    uint64_t g = 3;
    for (int i = 0; i < V; i++) row[i] = (float)(3 * gauss(&g));
    row[17] = -INFINITY;   // never drawn
    const int Ss[] = {1, 12, 64, 255};
    for (size_t k = 0; k < sizeof Ss / sizeof *Ss; k++) {
        for (uint64_t seed = 0; seed < 200; seed++) {
            uint64_t r1 = seed, r2 = seed;
            const int n = kd_sample_row(ids, counts, cdf, row, V, Ss[k], 1.0f, &r1);
            const int n2 = kd_sample_row(ids2, counts2, cdf, row, V, Ss[k], 1.0f, &r2);
            CHECK(n == n2 && r1 == r2 && !memcmp(ids, ids2, sizeof(int32_t) * Ss[k]) && !memcmp(counts, counts2, Ss[k]),
                  "not deterministic");
            int sum = 0;
            for (int j = 0; j < Ss[k]; j++) {
                if (j < n) {
                    CHECK(ids[j] >= 0 && ids[j] < V && ids[j] != 17 && counts[j] > 0 && (j == 0 || ids[j] > ids[j - 1]),
                          "S %d seed %llu: bad entry %d (id %d count %d)", Ss[k], (unsigned long long)seed, j, ids[j], counts[j]);
                } else {
                    CHECK(ids[j] == -1 && counts[j] == 0, "S %d: bad padding at %d", Ss[k], j);
                }
                sum += counts[j];
            }
            CHECK(sum == Ss[k], "S %d: counts sum %d", Ss[k], sum);
        }
    }
    // a one-hot teacher (all other logits -inf) always draws that id
    for (int i = 0; i < V; i++) row[i] = -INFINITY;
    row[300] = 0;
    uint64_t r = 1;
    CHECK(kd_sample_row(ids, counts, cdf, row, V, 12, 1.0f, &r) == 1 && ids[0] == 300 && counts[0] == 12, "one-hot teacher");
    printf("kd_sample_row: 800 rows deterministic, ascending distinct ids, -1/0 padding, counts sum to S; -inf never drawn\n");
    return 0;
}

// --- statistics --------------------------------------------------------------------------------

static double rel_l2(const double *a, const float *b, int n) {
    double num = 0, den = 0;
    for (int i = 0; i < n; i++) {
        num += (a[i] - b[i]) * (a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return sqrt(num / den);
}

static int test_expectation(float temperature, double teacher_scale) {
    static float student[N * V], teacher[N * V], g_full[N * V], g[N * V], w[N * S], tk_vals[N * 32];
    static double sum[N * V], q[N * V], p[N * V], cdf[V], sumd[N * V];
    static int64_t C[N * V];   // draws of each id over all sample sets so far
    static int32_t ids[N * S], tk_ids[N * 32];
    static uint8_t counts[N * S];
    float losses[N];
    uint64_t rng = 12345;
    for (int i = 0; i < N * V; i++) {
        student[i] = (float)(2.0 * gauss(&rng));
        teacher[i] = (float)(teacher_scale * gauss(&rng));
    }
    const kd_opts opts = {.temperature = temperature, .t2_scale = 0};
    memset(g_full, 0, sizeof g_full);
    kd_full_backward(g_full, student, teacher, NULL, NULL, KD_FORWARD_KL, opts, 1.0f, N, V);
    const double kl = kd_full_forward(losses, student, teacher, NULL, NULL, KD_FORWARD_KL, opts, N, V);
    // q at temperature and its entropy, in double
    double H = 0;
    for (int n = 0; n < N; n++) {
        double m = -INFINITY, z = 0;
        for (int i = 0; i < V; i++) m = fmax(m, teacher[n * V + i] / (double)temperature);
        for (int i = 0; i < V; i++) z += exp(teacher[n * V + i] / (double)temperature - m);
        for (int i = 0; i < V; i++) {
            q[n * V + i] = exp(teacher[n * V + i] / (double)temperature - m) / z;
            if (q[n * V + i] > 0) H -= q[n * V + i] * log(q[n * V + i]) / N;
        }
        m = -INFINITY, z = 0;
        for (int i = 0; i < V; i++) m = fmax(m, student[n * V + i] / (double)temperature);
        for (int i = 0; i < V; i++) z += exp(student[n * V + i] / (double)temperature - m);
        for (int i = 0; i < V; i++) p[n * V + i] = exp(student[n * V + i] / (double)temperature - m) / z;
    }
    // predicted rel L2 error * sqrt(M): sqrt(sum of per-set variances) / ||g_full||
    double var_sum = 0, full_norm = 0;
    for (int i = 0; i < N * V; i++) {
        var_sum += q[i] * (1 - q[i]) / S / ((double)N * N * temperature * temperature);
        full_norm += (double)g_full[i] * g_full[i];
    }
    const double predicted = sqrt(var_sum / full_norm);

    // top-K: deterministic, so its error does not depend on M
    double tk_err[2];
    const int tk_K[2] = {8, 32};
    for (int k = 0; k < 2; k++) {
        for (int n = 0; n < N; n++) kd_topk_row(tk_ids + n * tk_K[k], tk_vals + n * tk_K[k], teacher + n * V, V, tk_K[k]);
        memset(g, 0, sizeof g);
        kd_topk_backward(g, student, tk_ids, tk_vals, NULL, opts, 1.0f, N, V, tk_K[k]);
        for (int i = 0; i < N * V; i++) sumd[i] = g[i];
        tk_err[k] = rel_l2(sumd, g_full, N * V);
    }

    const int Ms[2] = {400, 6400};
    double err_at[2] = {0, 0};
    int m_done = 0;
    double loss_sum = 0, loss_sq = 0;
    memset(sum, 0, sizeof sum);
    memset(C, 0, sizeof C);
    printf("T = %g, teacher logits N(0, %g^2): forward KL %.5f, H(q) %.5f; predicted sampled rel err %.4f/sqrt(M)\n", temperature,
           teacher_scale, kl, H, predicted);
    printf("  %6s  %12s  %10s  %12s  %12s  %s\n", "M", "sampled err", "predicted", "top-8 err", "top-32 err", "worst coordinate");
    for (int mi = 0; mi < 2; mi++) {
        for (; m_done < Ms[mi]; m_done++) {
            uint64_t r = 0x5eed0000ull + (uint64_t)m_done * 7919;   // a different seed per sample set
            for (int n = 0; n < N; n++) {
                kd_sample_row(ids + n * S, counts + n * S, cdf, teacher + n * V, V, S, temperature, &r);
                for (int j = 0; j < S; j++) {
                    w[n * S + j] = (float)counts[n * S + j] / S;
                    if (ids[n * S + j] >= 0) C[n * V + ids[n * S + j]] += counts[n * S + j];
                }
            }
            memset(g, 0, sizeof g);
            kd_sampled_backward(g, student, ids, w, NULL, opts, 1.0f, N, V, S);
            for (int i = 0; i < N * V; i++) sum[i] += g[i];
            const double l = kd_sampled_forward(losses, student, ids, w, NULL, opts, N, V, S);
            loss_sum += l;
            loss_sq += l * l;
        }
        const int M = m_done;
        double worst = 0, worst_p = 1;
        int n_normal = 0, n_rare = 0;
        for (int i = 0; i < N * V; i++) {
            const double mean = sum[i] / M;
            const double se = sqrt(q[i] * (1 - q[i]) / ((double)S * M)) / (N * temperature);
            const double d = fabs(mean - g_full[i]);
            // the averaged gradient is exactly (p_i - C_i/(S M)) / (N T): kd_sampled_backward's
            // arithmetic, checked to float precision against the draw counts C_i
            const double from_counts = (p[i] - (double)C[i] / ((double)S * M)) / (N * temperature);
            CHECK(fabs(mean - from_counts) <= 1e-6 * (fabs(from_counts) + 1.0 / (N * temperature)) + 1e-9,
                  "T %g M %d coordinate (%d,%d): gradient %.8g, from the counts %.8g", temperature, M, i / V, i % V, mean, from_counts);
            const double var = (double)S * M * q[i] * (1 - q[i]);
            if (var >= 5) {   // normal regime: |diff| <= Z standard errors
                n_normal++;
                worst = fmax(worst, d / se);
                CHECK(d <= Z * se + 1e-6 * fabs(g_full[i]) + 1e-9,
                      "T %g M %d coordinate (%d,%d): sampled mean %.6g, full %.6g, |diff| %.3g > %g SE (SE %.3g, q %.3g)", temperature,
                      M, i / V, i % V, mean, g_full[i], d, Z, se, q[i]);
            } else {          // rare ids: exact binomial tail of the observed count instead
                n_rare++;
                const double pv = binom_two_sided(C[i], (int64_t)S * M, q[i]);
                worst_p = fmin(worst_p, pv);
                CHECK(pv >= P_RARE, "T %g M %d coordinate (%d,%d): %lld draws of an id with q %.3g (expected %.3g): p-value %.3g < %g",
                      temperature, M, i / V, i % V, (long long)C[i], q[i], (double)S * M * q[i], pv, P_RARE);
            }
            sumd[i] = mean;
        }
        err_at[mi] = rel_l2(sumd, g_full, N * V);
        printf("  %6d  %12.5f  %10.5f  %12.5f  %12.5f  %5.2f SE (%d coords); rare ids: min p %.2g (%d coords)\n", M, err_at[mi],
               predicted / sqrt(M), tk_err[0], tk_err[1], worst, n_normal, worst_p, n_rare);
        CHECK(fabs(err_at[mi] / (predicted / sqrt(M)) - 1) < 0.4, "sampled rel err %.5f is not the predicted %.5f (40%%)", err_at[mi],
              predicted / sqrt(M));
        // the loss: mean sampled loss -> KL + H(q)
        const double lm = loss_sum / M, lse = sqrt(fmax(loss_sq / M - lm * lm, 0) / (M - 1));
        printf("          mean sampled loss %.5f vs KL + H(q) %.5f: |diff| %.5f = %.2f SE\n", lm, kl + H, fabs(lm - (kl + H)),
               fabs(lm - (kl + H)) / lse);
        CHECK(fabs(lm - (kl + H)) <= Z * lse + 1e-5, "T %g M %d: mean sampled loss %.6f, want KL + H = %.6f (SE %.3g)", temperature, M, lm,
              kl + H, lse);
    }
    const double ratio = err_at[0] / err_at[1];
    printf("  error ratio M=%d / M=%d: %.3f (1/sqrt(M) predicts 4)\n", Ms[0], Ms[1], ratio);
    CHECK(ratio > 4 / 1.6 && ratio < 4 * 1.6, "sampled error does not shrink like 1/sqrt(M): ratio %.3f", ratio);
    for (int k = 0; k < 2; k++)
        CHECK(tk_err[k] > FLOOR, "top-%d rel err %.4f is below the bias floor %.2f: top-K looks unbiased here", tk_K[k], tk_err[k], FLOOR);
    CHECK(err_at[1] < FLOOR, "sampled at M = 6400 (%.4f) is not below the top-K floor %.2f", err_at[1], FLOOR);
    printf("  top-K stays biased: top-8 %.4f, top-32 %.4f > floor %.2f for every M; sampled reaches %.4f\n", tk_err[0], tk_err[1],
           FLOOR, err_at[1]);
    return 0;
}

int main(void) {
    if (test_topk() || test_sample_rows()) return 1;
    // a flat-ish teacher at T = 1 and T = 2, and a peaked one (most mass in a few ids, where
    // top-K is at its best)
    if (test_expectation(1.0f, 3.0) || test_expectation(2.0f, 3.0) || test_expectation(1.0f, 8.0)) return 1;
    printf("ok\n");
    return 0;
}
