// kd_sample.h: turning one row of teacher logits into what a sparse logit store keeps
// (formats/h5_logits.h): the top K, or a Sparse Logit Sampling draw (arXiv 2503.16870).
// Both are pure functions of their inputs (and, for sampling, of the caller's RNG state), so
// `lowbit teacher` writes the same file for the same inputs and seed on any thread count.
#pragma once
#include <stdint.h>

// The K largest logits of a row, in descending order; equal logits are ordered by id
// (lower id first, so exactly which of several tied ids make the cut is fixed too).
// ids (K) and vals (K) receive them; 1 <= K <= V. NaN logits are never chosen: a row with
// fewer than K non-NaN logits ends in -1 ids (vals -inf); callers reject non-finite teachers.
void kd_topk_row(int32_t *ids, float *vals, const float *logits, int V, int K);

// Sparse Logit Sampling: S draws WITH replacement from q = softmax(logits / temperature),
// then merged: ids (S) holds the distinct ids drawn in ascending order followed by -1 padding,
// counts (S) how many draws gave each (0 on padding); counts sum to S, and count/S is an
// unbiased estimate of q. 1 <= S <= 255, temperature > 0, logits finite (-inf allowed: never
// drawn). cdf (V doubles) is the caller's
// scratch. The draws use only *rng (advanced; any state value works, 0 included), so a row is
// a pure function of (logits, temperature, S, *rng). Returns the number of distinct ids.
int kd_sample_row(int32_t *ids, uint8_t *counts, double *cdf, const float *logits, int V, int S, float temperature,
                  uint64_t *rng);

// The RNG kd_sample_row uses (splitmix64): next 64-bit value, and a uniform double in [0, 1).
uint64_t kd_rng_next(uint64_t *state);
double kd_rng_uniform(uint64_t *state);
