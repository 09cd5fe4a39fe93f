// op_kd.c: distillation losses (forward KL, reverse KL, CAKLD, top-K KL, sampled KL) and the
// w_ce*CE + w_kd*KD total. See kd.h for the maths and the choices. Rows are independent;
// log-probabilities are taken as z - logsumexp(z) (never log of an underflowed prob), sums in
// double; backward recomputes the log-sum-exps instead of storing (N,V) probabilities.
#include "kd.h"
#include "ops.h"
#include <math.h>

// --- helpers -------------------------------------------------------------------------------

// log sum_i exp(x[i] * invT), stable (max subtracted)
static double row_lse(const float *x, int V, float invT) {
    float max = -INFINITY;
    for (int i = 0; i < V; i++) max = x[i] > max ? x[i] : max;
    const float m = max * invT;
    double sum = 0.0;
    for (int i = 0; i < V; i++) sum += expf(x[i] * invT - m);
    return (double)m + log(sum);
}

static int position_counts(const uint8_t *mask, const int32_t *labels, kd_kind kind, int n) {
    if (mask && !mask[n]) return 0;
    if (kind == KD_CAKLD && labels[n] < 0) return 0;
    return 1;
}

static int count_positions(const uint8_t *mask, const int32_t *labels, kd_kind kind, int N) {
    int c = 0;
    for (int n = 0; n < N; n++) c += position_counts(mask, labels, kind, n);
    return c;
}

static float mean_counted(const float *losses, const uint8_t *mask, const int32_t *labels, kd_kind kind, int N) {
    double total = 0.0;   // serial, in order: deterministic whatever the thread count
    int counted = 0;
    for (int n = 0; n < N; n++)
        if (position_counts(mask, labels, kind, n)) { total += losses[n]; counted++; }
    return counted ? (float)(total / counted) : 0.0f;
}

static float t2_factor(kd_opts o) { return o.t2_scale ? o.temperature * o.temperature : 1.0f; }

// --- full teacher: forward KL, reverse KL, CAKLD ------------------------------------------------

// returns conf * R + (1 - conf) * F with F = KL(q||p), R = KL(p||q); *R_out gets R
static double full_row_loss(double *R_out, const float *xs, const float *xt, float invT, double lse_s,
                            double lse_t, double conf, int V) {
    double F = 0.0, R = 0.0;
    for (int i = 0; i < V; i++) {
        const float ls = (float)(xs[i] * invT - lse_s), lq = (float)(xt[i] * invT - lse_t);
        const float p = expf(ls), q = expf(lq);
        // 0 * log 0 = 0: skip exact zeros so -inf never meets 0
        if (q > 0.0f) F += (double)q * ((double)lq - ls);
        if (p > 0.0f) R += (double)p * ((double)ls - lq);
    }
    *R_out = R;
    return conf * R + (1.0 - conf) * F;
}

// conf (weight of the reverse term): 0 forward KL, 1 reverse KL, q(label) for CAKLD
static double row_conf(const float *xt, const int32_t *labels, kd_kind kind, float invT, double lse_t, int n) {
    if (kind == KD_FORWARD_KL) return 0.0;
    if (kind == KD_REVERSE_KL) return 1.0;
    return exp((double)xt[labels[n]] * invT - lse_t);
}

float kd_full_forward(float *losses, const float *logits, const float *teacher, const int32_t *labels,
                      const uint8_t *mask, kd_kind kind, kd_opts opts, int N, int V) {
    const float invT = 1.0f / opts.temperature, s2 = t2_factor(opts);
    #pragma omp parallel for if ((size_t)N * V >= 65536)
    for (int n = 0; n < N; n++) {
        losses[n] = 0.0f;
        if (!position_counts(mask, labels, kind, n)) continue;
        const float *xs = logits + (size_t)n * V, *xt = teacher + (size_t)n * V;
        const double lse_s = row_lse(xs, V, invT), lse_t = row_lse(xt, V, invT);
        double R;
        const double conf = row_conf(xt, labels, kind, invT, lse_t, n);
        losses[n] = (float)(s2 * full_row_loss(&R, xs, xt, invT, lse_s, lse_t, conf, V));
    }
    return mean_counted(losses, mask, labels, kind, N);
}

void kd_full_backward(float *dlogits, const float *logits, const float *teacher, const int32_t *labels,
                      const uint8_t *mask, kd_kind kind, kd_opts opts, float dloss, int N, int V) {
    const int counted = count_positions(mask, labels, kind, N);
    if (!counted) return;
    const float invT = 1.0f / opts.temperature;
    // d/dx = (1/T) d/dz; the mean and the T^2 factor are constants
    const double scale = (double)dloss * t2_factor(opts) * invT / counted;
    #pragma omp parallel for if ((size_t)N * V >= 65536)
    for (int n = 0; n < N; n++) {
        if (!position_counts(mask, labels, kind, n)) continue;
        const float *xs = logits + (size_t)n * V, *xt = teacher + (size_t)n * V;
        float *d = dlogits + (size_t)n * V;
        const double lse_s = row_lse(xs, V, invT), lse_t = row_lse(xt, V, invT);
        const double conf = row_conf(xt, labels, kind, invT, lse_t, n);
        double R = 0.0;
        if (conf > 0.0) full_row_loss(&R, xs, xt, invT, lse_s, lse_t, conf, V);
        // dF/dz_i = p_i - q_i;  dR/dz_i = p_i (log p_i - log q_i - R)
        for (int i = 0; i < V; i++) {
            const float ls = (float)(xs[i] * invT - lse_s), lq = (float)(xt[i] * invT - lse_t);
            const double p = expf(ls), q = expf(lq);
            double g = (1.0 - conf) * (p - q);
            if (conf > 0.0 && p > 0.0) g += conf * p * ((double)ls - lq - R);
            d[i] += (float)(scale * g);
        }
    }
}

// --- top-K teacher ------------------------------------------------------------------------------

// log-sum-exp over the valid (id >= 0) entries; of the teacher's K logits (ids != NULL: of the
// student logits x at those ids). -INFINITY when the row has no valid entry.
static double topk_lse(const float *x, const int32_t *ids, const float *tl, float invT, int K) {
    float max = -INFINITY;
    for (int j = 0; j < K; j++) {
        if (ids[j] < 0) continue;
        const float v = tl ? tl[j] : x[ids[j]];
        max = v > max ? v : max;
    }
    if (max == -INFINITY) return -INFINITY;
    const float m = max * invT;
    double sum = 0.0;
    for (int j = 0; j < K; j++) {
        if (ids[j] < 0) continue;
        sum += expf((tl ? tl[j] : x[ids[j]]) * invT - m);
    }
    return (double)m + log(sum);
}

float kd_topk_forward(float *losses, const float *logits, const int32_t *ids, const float *tlogits,
                      const uint8_t *mask, kd_opts opts, int N, int V, int K) {
    const float invT = 1.0f / opts.temperature, s2 = t2_factor(opts);
    #pragma omp parallel for if ((size_t)N * K >= 65536)
    for (int n = 0; n < N; n++) {
        losses[n] = 0.0f;
        if (mask && !mask[n]) continue;
        const float *xs = logits + (size_t)n * V, *tl = tlogits + (size_t)n * K;
        const int32_t *id = ids + (size_t)n * K;
        const double lse_t = topk_lse(NULL, id, tl, invT, K);
        if (lse_t == -INFINITY) continue;   // all padding: nothing to match
        const double lse_s = topk_lse(xs, id, NULL, invT, K);
        double F = 0.0;
        for (int j = 0; j < K; j++) {
            if (id[j] < 0) continue;
            const float lq = (float)(tl[j] * invT - lse_t), ls = (float)(xs[id[j]] * invT - lse_s);
            const float q = expf(lq);
            if (q > 0.0f) F += (double)q * ((double)lq - ls);
        }
        losses[n] = (float)(s2 * F);
    }
    return mean_counted(losses, mask, NULL, KD_FORWARD_KL, N);
}

void kd_topk_backward(float *dlogits, const float *logits, const int32_t *ids, const float *tlogits,
                      const uint8_t *mask, kd_opts opts, float dloss, int N, int V, int K) {
    const int counted = count_positions(mask, NULL, KD_FORWARD_KL, N);
    if (!counted) return;
    const float invT = 1.0f / opts.temperature;
    const double scale = (double)dloss * t2_factor(opts) * invT / counted;
    #pragma omp parallel for if ((size_t)N * K >= 65536)
    for (int n = 0; n < N; n++) {
        if (mask && !mask[n]) continue;
        const float *xs = logits + (size_t)n * V, *tl = tlogits + (size_t)n * K;
        const int32_t *id = ids + (size_t)n * K;
        float *d = dlogits + (size_t)n * V;
        const double lse_t = topk_lse(NULL, id, tl, invT, K);
        if (lse_t == -INFINITY) continue;
        const double lse_s = topk_lse(xs, id, NULL, invT, K);
        // d/dz_{id_j} = pK_j - qK_j; ids outside the K get nothing
        for (int j = 0; j < K; j++) {
            if (id[j] < 0) continue;
            const double q = expf((float)(tl[j] * invT - lse_t));
            const double p = expf((float)(xs[id[j]] * invT - lse_s));
            d[id[j]] += (float)(scale * (p - q));
        }
    }
}

// --- sampled teacher ----------------------------------------------------------------------------

float kd_sampled_forward(float *losses, const float *logits, const int32_t *ids, const float *weights,
                         const uint8_t *mask, kd_opts opts, int N, int V, int S) {
    const float invT = 1.0f / opts.temperature, s2 = t2_factor(opts);
    #pragma omp parallel for if ((size_t)N * V >= 65536)
    for (int n = 0; n < N; n++) {
        losses[n] = 0.0f;
        if (mask && !mask[n]) continue;
        const float *xs = logits + (size_t)n * V, *w = weights + (size_t)n * S;
        const int32_t *id = ids + (size_t)n * S;
        const double lse_s = row_lse(xs, V, invT);
        double L = 0.0;
        for (int j = 0; j < S; j++)
            if (id[j] >= 0) L -= (double)w[j] * ((double)xs[id[j]] * invT - lse_s);
        losses[n] = (float)(s2 * L);
    }
    return mean_counted(losses, mask, NULL, KD_FORWARD_KL, N);
}

void kd_sampled_backward(float *dlogits, const float *logits, const int32_t *ids, const float *weights,
                         const uint8_t *mask, kd_opts opts, float dloss, int N, int V, int S) {
    const int counted = count_positions(mask, NULL, KD_FORWARD_KL, N);
    if (!counted) return;
    const float invT = 1.0f / opts.temperature;
    const double scale = (double)dloss * t2_factor(opts) * invT / counted;
    #pragma omp parallel for if ((size_t)N * V >= 65536)
    for (int n = 0; n < N; n++) {
        if (mask && !mask[n]) continue;
        const float *xs = logits + (size_t)n * V, *w = weights + (size_t)n * S;
        const int32_t *id = ids + (size_t)n * S;
        float *d = dlogits + (size_t)n * V;
        // d/dz_i = W p_i - sum_{j: id_j = i} w_j, W = sum_j w_j (1 for normalised weights)
        double W = 0.0;
        for (int j = 0; j < S; j++) if (id[j] >= 0) W += w[j];
        const double lse_s = row_lse(xs, V, invT);
        for (int i = 0; i < V; i++) d[i] += (float)(scale * W * expf((float)(xs[i] * invT - lse_s)));
        for (int j = 0; j < S; j++) if (id[j] >= 0) d[id[j]] -= (float)(scale * w[j]);
    }
}

// --- total: w_ce * CE + w_kd * KD ---------------------------------------------------------------

float kd_total_forward(float *probs, float *ce_losses, float *kd_losses, float *ce_out, float *kd_out,
                       const float *logits, const float *teacher, const int32_t *labels, const uint8_t *mask,
                       kd_kind kind, kd_opts opts, float w_ce, float w_kd, int N, int V) {
    // KD first: crossentropy_forward may run in place, but here probs is separate scratch
    const float kd = kd_full_forward(kd_losses, logits, teacher, labels, mask, kind, opts, N, V);
    const float ce = crossentropy_forward(probs, ce_losses, logits, labels, N, V);
    if (ce_out) *ce_out = ce;
    if (kd_out) *kd_out = kd;
    return w_ce * ce + w_kd * kd;
}

void kd_total_backward(float *dlogits, const float *probs, const float *logits, const float *teacher,
                       const int32_t *labels, const uint8_t *mask, kd_kind kind, kd_opts opts,
                       float w_ce, float w_kd, float dloss, int N, int V) {
    if (w_ce != 0.0f) crossentropy_backward(dlogits, probs, labels, w_ce * dloss, N, V);
    if (w_kd != 0.0f) kd_full_backward(dlogits, logits, teacher, labels, mask, kind, opts, w_kd * dloss, N, V);
}
