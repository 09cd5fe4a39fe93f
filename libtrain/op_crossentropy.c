// op_crossentropy.c: softmax + negative log-likelihood, mean over counted positions.
#include "ops.h"
#include <math.h>

float crossentropy_forward(float *probs, float *losses, const float *logits, const int32_t *targets, int N, int V) {
    #pragma omp parallel for if ((size_t)N * V >= 65536)
    for (int n = 0; n < N; n++) {
        const float *x = logits + (size_t)n * V;
        float *p = probs + (size_t)n * V;
        float max = -INFINITY;
        for (int i = 0; i < V; i++) max = x[i] > max ? x[i] : max;
        // -log p_t from the target's logit: exact even when p_t underflows; read before
        // the loop below, which may overwrite the logits (probs == logits)
        const int t = targets[n];
        const float xt = t >= 0 ? x[t] : 0.0f;
        double sum = 0.0;
        for (int i = 0; i < V; i++) { p[i] = expf(x[i] - max); sum += p[i]; }
        const float inv = (float)(1.0 / sum);
        losses[n] = t >= 0 ? (float)(log(sum) - ((double)xt - max)) : 0.0f;
        for (int i = 0; i < V; i++) p[i] *= inv;
    }
    double total = 0.0;
    int counted = 0;
    for (int n = 0; n < N; n++)
        if (targets[n] >= 0) { total += losses[n]; counted++; }
    return counted ? (float)(total / counted) : 0.0f;
}

void crossentropy_backward(float *dlogits, const float *probs, const int32_t *targets, float dloss, int N, int V) {
    int counted = 0;
    for (int n = 0; n < N; n++) counted += targets[n] >= 0;
    const float scale = counted ? dloss / (float)counted : 0.0f;
    const int inplace = dlogits == probs;
    #pragma omp parallel for if ((size_t)N * V >= 65536)
    for (int n = 0; n < N; n++) {
        float *d = dlogits + (size_t)n * V;
        const float *p = probs + (size_t)n * V;
        const int t = targets[n];
        const float s = t >= 0 ? scale : 0.0f;
        for (int i = 0; i < V; i++) {
            const float g = s * (p[i] - (i == t ? 1.0f : 0.0f));
            d[i] = inplace ? g : d[i] + g;
        }
    }
}
