// data_loader.h: training batches from a token store (formats/h5_tokens.h).
// The whole split is read into memory once (int32; 1 GB holds 256M tokens). Batches are a
// pure function of (seed, step, rank, n_ranks): sample j of the run starts at a position drawn
// by hashing (seed, j), so resuming only needs the step counter, never a stream of RNG draws,
// and a restarted run sees exactly the batches an uninterrupted one would.
// Sharding: the global sample sequence j = 0, 1, 2, ... is dealt round-robin over ranks:
// rank r takes samples j = r, r + n_ranks, r + 2 n_ranks, ...; batch `step` of rank r holds
// its samples step*B .. step*B + B - 1.
// Evaluation: lb_loader_eval_batch walks the split in order with non-overlapping windows.
// Window-aligned mode (distillation, lb_loader_use_windows): sample j starts at
// window(j) * T, window(j) = hash(seed, j) mapped onto [0, n_windows), i.e. on the evaluation
// window grid, which is the grid a teacher-logit store (formats/h5_logits.h) is keyed by. The
// batch stays a pure function of (seed, step); lb_loader_batch_windows tells which window
// each row came from (the store is read by window).
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "h5_tokens.h"
#include "lb_error.h"

typedef struct lb_loader {
    int32_t *tokens;           // the split, all of it
    size_t n_tokens;
    int32_t n_vocab;
    int B, T;                  // batch size, sequence length (windows are T + 1 tokens)
    uint64_t seed;
    uint64_t step;             // next batch to return; save it to resume
    int rank, n_ranks;
    int64_t n_windows;         // 0: samples start anywhere; > 0: window-aligned mode
    char *vocab_source;        // the token store's vocab_source attribute (malloc'd; "" if none)
} lb_loader;

// Needs at least T + 1 tokens in the split.
int lb_loader_open(lb_loader *l, const char *path, lb_split split, int B, int T, uint64_t seed, int rank,
                   int n_ranks, lb_err *err);
// Same over tokens already in memory (copied). For tests and in-process data.
int lb_loader_from_tokens(lb_loader *l, const int32_t *tokens, size_t n, int32_t n_vocab, int B, int T,
                          uint64_t seed, int rank, int n_ranks, lb_err *err);
void lb_loader_free(lb_loader *l);

// Batch number `step` (pure; does not touch l->step): inputs[b*T + t] = window[t],
// targets[b*T + t] = window[t + 1], each B*T.
void lb_loader_batch_at(const lb_loader *l, uint64_t step, int32_t *inputs, int32_t *targets);
// Batch l->step, then l->step++.
void lb_loader_next(lb_loader *l, int32_t *inputs, int32_t *targets);
// Start position of global sample j (exposed for tests).
size_t lb_loader_sample_start(const lb_loader *l, uint64_t j);

// Switch to window-aligned sampling over windows [0, n_windows) (n_windows 0: all
// (n_tokens - 1) / T of them). Error when n_windows exceeds what the split holds.
int lb_loader_use_windows(lb_loader *l, int64_t n_windows, lb_err *err);
// Window of global sample j (window-aligned mode only).
int64_t lb_loader_sample_window(const lb_loader *l, uint64_t j);
// windows[b] = the window of row b of batch `step` (B values; window-aligned mode only).
void lb_loader_batch_windows(const lb_loader *l, uint64_t step, int64_t *windows);

// Sequential evaluation windows: window w covers tokens [w*T, w*T + T], so there are
// (n_tokens - 1) / T of them. Fills up to B windows starting at window w0 and returns how
// many (0 when w0 is past the end).
size_t lb_loader_n_eval_windows(const lb_loader *l);
int lb_loader_eval_batch(const lb_loader *l, size_t w0, int32_t *inputs, int32_t *targets);
