// sampler.c: greedy / temperature / top-p sampling with a seeded PRNG.
#include "sampler.h"
#include <math.h>
#include <stdlib.h>

// ----------------------------------------------------------------------------
// PRNG: xorshift64* (Vigna); the seed is spread by one splitmix64 step so that small seeds
// (0, 1, 2...) give unrelated streams and state is never 0

uint32_t lb_random_u32(uint64_t *state) {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return (uint32_t)((*state * 0x2545F4914F6CDD1Dull) >> 32);
}

float lb_random_f32(uint64_t *state) { return (float)(lb_random_u32(state) >> 8) / 16777216.0f; }

static uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

// ----------------------------------------------------------------------------

int lb_sampler_build(lb_sampler *s, int n_vocab, float temperature, float top_p, uint64_t seed) {
    s->n_vocab = n_vocab;
    s->temperature = temperature;
    s->top_p = top_p;
    s->rng_state = splitmix64(seed);
    if (s->rng_state == 0) s->rng_state = 0x9E3779B97F4A7C15ull;
    s->candidates = malloc((size_t)(n_vocab > 0 ? n_vocab : 1) * sizeof *s->candidates);
    return s->candidates ? 0 : -1;
}

void lb_sampler_free(lb_sampler *s) {
    free(s->candidates);
    s->candidates = NULL;
}

int lb_sample_argmax(const float *logits, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (logits[i] > logits[best]) best = i;
    return best;
}

static void softmax(float *x, int n) {
    float max = x[0];
    for (int i = 1; i < n; i++) max = x[i] > max ? x[i] : max;
    double sum = 0.0;
    for (int i = 0; i < n; i++) { x[i] = expf(x[i] - max); sum += x[i]; }
    for (int i = 0; i < n; i++) x[i] = (float)(x[i] / sum);
}

// draw from the full distribution
static int sample_mult(const float *probs, int n, float coin) {
    float cdf = 0.0f;
    for (int i = 0; i < n; i++) {
        cdf += probs[i];
        if (coin < cdf) return i;
    }
    return n - 1;   // rounding
}

static int compare_desc(const void *a, const void *b) {
    const struct lb_prob_index *x = a, *y = b;
    if (x->prob > y->prob) return -1;
    if (x->prob < y->prob) return 1;
    return x->index - y->index;   // ties by index: qsort is not stable, this keeps it deterministic
}

// nucleus sampling: the smallest set of most likely tokens whose mass exceeds top_p
static int sample_topp(const float *probs, int n, float top_p, struct lb_prob_index *cand, float coin) {
    // tokens below (1 - top_p)/(n - 1) can never be in the nucleus: drop them before sorting
    const float cutoff = (1.0f - top_p) / (float)(n > 1 ? n - 1 : 1);
    int n0 = 0;
    for (int i = 0; i < n; i++)
        if (probs[i] >= cutoff) { cand[n0].index = i; cand[n0].prob = probs[i]; n0++; }
    if (n0 == 0) return lb_sample_argmax(probs, n);
    qsort(cand, (size_t)n0, sizeof *cand, compare_desc);
    float cum = 0.0f;
    int last = n0 - 1;
    for (int i = 0; i < n0; i++) {
        cum += cand[i].prob;
        if (cum > top_p) { last = i; break; }
    }
    const float r = coin * cum;
    float cdf = 0.0f;
    for (int i = 0; i <= last; i++) {
        cdf += cand[i].prob;
        if (r < cdf) return cand[i].index;
    }
    return cand[last].index;
}

int lb_sampler_sample(lb_sampler *s, float *logits) {
    if (s->temperature <= 0.0f) return lb_sample_argmax(logits, s->n_vocab);
    for (int i = 0; i < s->n_vocab; i++) logits[i] /= s->temperature;
    softmax(logits, s->n_vocab);
    const float coin = lb_random_f32(&s->rng_state);
    if (s->top_p <= 0.0f || s->top_p >= 1.0f) return sample_mult(logits, s->n_vocab, coin);
    return sample_topp(logits, s->n_vocab, s->top_p, s->candidates, coin);
}
