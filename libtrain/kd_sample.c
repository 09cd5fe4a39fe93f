// kd_sample.c: top-K selection and Sparse Logit Sampling for one row of teacher logits
// (see kd_sample.h).
#include "kd_sample.h"
#include <math.h>

// --- top-K -----------------------------------------------------------------------------------

void kd_topk_row(int32_t *ids, float *vals, const float *logits, int V, int K) {
    // one pass keeping the best K so far sorted (descending value, then ascending id). Ids
    // arrive in ascending order, so a newcomer equal to the current K-th never displaces it:
    // only a strictly larger value gets in, which gives "ties -> lower id" for free.
    // O(V) for typical rows; each insertion costs O(K).
    int n = 0;
    for (int i = 0; i < V; i++) {
        const float x = logits[i];
        if (isnan(x)) continue;
        if (n == K && !(x > vals[K - 1])) continue;
        int j = n < K ? n++ : K - 1;   // the slot freed at the end (or the one dropped)
        while (j > 0 && x > vals[j - 1]) {   // equal values stay ahead: their ids are lower
            vals[j] = vals[j - 1];
            ids[j] = ids[j - 1];
            j--;
        }
        vals[j] = x;
        ids[j] = i;
    }
    for (; n < K; n++) {
        ids[n] = -1;
        vals[n] = -INFINITY;
    }
}

// --- sampling --------------------------------------------------------------------------------

uint64_t kd_rng_next(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double kd_rng_uniform(uint64_t *state) { return (double)(kd_rng_next(state) >> 11) * 0x1p-53; }

int kd_sample_row(int32_t *ids, uint8_t *counts, double *cdf, const float *logits, int V, int S, float temperature,
                  uint64_t *rng) {
    // unnormalised CDF of exp((l - max) / T) in double: draws compare against u * total, so
    // the normalisation never needs a division per id
    float max = logits[0];
    for (int i = 1; i < V; i++) max = logits[i] > max ? logits[i] : max;
    const double inv_t = 1.0 / (double)temperature;
    double acc = 0.0;
    for (int i = 0; i < V; i++) {
        acc += exp(((double)logits[i] - (double)max) * inv_t);
        cdf[i] = acc;
    }
    int32_t draws[255];
    for (int s = 0; s < S; s++) {
        const double u = kd_rng_uniform(rng) * acc;
        // first i with cdf[i] > u: an id of zero probability (cdf[i] == cdf[i-1]) is never it
        int lo = 0, hi = V - 1;
        while (lo < hi) {
            const int mid = lo + (hi - lo) / 2;
            if (cdf[mid] > u) hi = mid;
            else lo = mid + 1;
        }
        // insertion sort as we go (S <= 255)
        int j = s;
        while (j > 0 && draws[j - 1] > lo) { draws[j] = draws[j - 1]; j--; }
        draws[j] = lo;
    }
    int n = 0;
    for (int s = 0; s < S; s++) {
        if (n > 0 && ids[n - 1] == draws[s]) { counts[n - 1]++; continue; }
        ids[n] = draws[s];
        counts[n++] = 1;
    }
    for (int j = n; j < S; j++) {
        ids[j] = -1;
        counts[j] = 0;
    }
    return n;
}
