// sampler.h: picks the next token from a row of logits (llama2.c style).
// temperature 0 -> greedy argmax (lowest id on ties); otherwise softmax(logits / temperature),
// then top-p (nucleus) filtering when 0 < top_p < 1, then one draw from a seeded PRNG
// (xorshift64*, seeded through splitmix64), so the same seed gives the same text.
#pragma once
#include <stdint.h>

typedef struct lb_sampler {
    int n_vocab;
    float temperature;
    float top_p;
    uint64_t rng_state;
    // scratch for top-p: (probability, index) pairs
    struct lb_prob_index { float prob; int index; } *candidates;
} lb_sampler;

// returns 0, or -1 if out of memory
int lb_sampler_build(lb_sampler *s, int n_vocab, float temperature, float top_p, uint64_t seed);
void lb_sampler_free(lb_sampler *s);
// logits is modified (scaled, turned into probabilities)
int lb_sampler_sample(lb_sampler *s, float *logits);

int lb_sample_argmax(const float *logits, int n);
uint32_t lb_random_u32(uint64_t *state);   // xorshift64*
float lb_random_f32(uint64_t *state);      // uniform in [0, 1)
