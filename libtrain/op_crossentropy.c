// op_crossentropy.c: softmax + negative log-likelihood, mean over counted positions.
// Rows are independent: OpenMP splits rows, a SIMD-cloned kernel (vecmath.h) does one row.
// The exp sum is taken in double over fixed lanes (vectorizes, one order whatever the threads).
#include "ops.h"
#include "vecmath.h"
#include <math.h>

// one row: p = softmax(x) (p may equal x); returns the loss of target t (0 when t < 0).
// -log p_t comes from the target's logit: exact even when p_t underflows; read before the
// exps, which may overwrite the logits (p == x)
LB_SIMD_CLONES static float ce_row_forward(float *p, const float *x, int t, int V) {
    const float max = lb_row_max(x, V);
    const float xt = t >= 0 ? x[t] : 0.0f;
    const double sum = lb_row_exp_sum(p, x, max, V);
    const float inv = (float)(1.0 / sum);
    for (int i = 0; i < V; i++) p[i] *= inv;
    return t >= 0 ? (float)(log(sum) - ((double)xt - max)) : 0.0f;
}

// one row: d = s * (p - onehot(t)), written (inplace) or added; s is 0 for an ignored row
LB_SIMD_CLONES static void ce_row_backward(float *d, const float *p, int t, float s, int inplace, int V) {
    // the target's entry is redone after the loop from the values before it (d may == p)
    const float pt = t >= 0 ? p[t] : 0.0f, dt = t >= 0 && !inplace ? d[t] : 0.0f;
    if (inplace) for (int i = 0; i < V; i++) d[i] = s * p[i];
    else         for (int i = 0; i < V; i++) d[i] += s * p[i];
    if (t >= 0) d[t] = dt + s * (pt - 1.0f);
}

// one row, both at once: d = s * (softmax(x) - onehot(t)) in place of x; returns the loss.
// The values are those of ce_row_forward then ce_row_backward(inplace) bit for bit: p is
// rounded to float (e * inv) before s * (p - onehot) exactly as there.
LB_SIMD_CLONES static float ce_row_fused(float *x, int t, float s, int V) {
    const float max = lb_row_max(x, V);
    const float xt = t >= 0 ? x[t] : 0.0f;
    const double sum = lb_row_exp_sum(x, x, max, V);
    const float inv = (float)(1.0 / sum);
    const float pt = t >= 0 ? x[t] * inv : 0.0f;   // x holds the exps here
    for (int i = 0; i < V; i++) { const float p = x[i] * inv; x[i] = s * p; }
    if (t >= 0) x[t] = s * (pt - 1.0f);
    return t >= 0 ? (float)(log(sum) - ((double)xt - max)) : 0.0f;
}

static double mean_counted(const float *losses, const int32_t *targets, int N) {
    double total = 0.0;
    int counted = 0;
    for (int n = 0; n < N; n++)
        if (targets[n] >= 0) { total += losses[n]; counted++; }
    return counted ? total / counted : 0.0;
}

float crossentropy_forward(float *probs, float *losses, const float *logits, const int32_t *targets, int N, int V) {
    #pragma omp parallel for if ((size_t)N * V >= 65536)
    for (int n = 0; n < N; n++)
        losses[n] = ce_row_forward(probs + (size_t)n * V, logits + (size_t)n * V, targets[n], V);
    return (float)mean_counted(losses, targets, N);
}

static float ce_scale(const int32_t *targets, float dloss, int N) {
    int counted = 0;
    for (int n = 0; n < N; n++) counted += targets[n] >= 0;
    return counted ? dloss / (float)counted : 0.0f;
}

void crossentropy_backward(float *dlogits, const float *probs, const int32_t *targets, float dloss, int N, int V) {
    const float scale = ce_scale(targets, dloss, N);
    const int inplace = dlogits == probs;
    #pragma omp parallel for if ((size_t)N * V >= 65536)
    for (int n = 0; n < N; n++) {
        const int t = targets[n];
        ce_row_backward(dlogits + (size_t)n * V, probs + (size_t)n * V, t, t >= 0 ? scale : 0.0f, inplace, V);
    }
}

float crossentropy_forward_backward(float *logits, float *losses, const int32_t *targets, float dloss, int N, int V) {
    const float scale = ce_scale(targets, dloss, N);
    #pragma omp parallel for if ((size_t)N * V >= 65536)
    for (int n = 0; n < N; n++) {
        const int t = targets[n];
        losses[n] = ce_row_fused(logits + (size_t)n * V, t, t >= 0 ? scale : 0.0f, V);
    }
    return (float)mean_counted(losses, targets, N);
}
