// data_loader.c: deterministic, resumable, shardable batch sampling (see data_loader.h).
#include "data_loader.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// splitmix64's finalizer: a good 64-bit mixer, so hash(seed, j) is a counter-based RNG
static uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static int check_args(size_t n, int B, int T, int rank, int n_ranks, const char *what, lb_err *err) {
    if (B < 1 || T < 1) return lb_fail(err, "%s: batch size and sequence length must be positive (B=%d, T=%d)", what, B, T);
    if (n_ranks < 1 || rank < 0 || rank >= n_ranks) return lb_fail(err, "%s: bad rank %d of %d", what, rank, n_ranks);
    if (n < (size_t)T + 1) return lb_fail(err, "%s: only %zu tokens, a window of T+1 = %d needs more", what, n, T + 1);
    return 0;
}

int lb_loader_open(lb_loader *l, const char *path, lb_split split, int B, int T, uint64_t seed, int rank,
                   int n_ranks, lb_err *err) {
    memset(l, 0, sizeof *l);
    lb_tokens_info info;
    if (lb_tokens_read(path, split, &l->tokens, &l->n_tokens, &info, err)) return -1;
    l->n_vocab = info.n_vocab;
    l->vocab_source = strdup(info.vocab_source ? info.vocab_source : "");
    lb_tokens_info_free(&info);
    if (!l->vocab_source) { lb_loader_free(l); return lb_fail(err, "%s: out of memory", path); }
    char what[4200];
    snprintf(what, sizeof what, "%s:/%s", path, lb_split_name(split));
    if (check_args(l->n_tokens, B, T, rank, n_ranks, what, err)) { lb_loader_free(l); return -1; }
    l->B = B, l->T = T, l->seed = seed, l->rank = rank, l->n_ranks = n_ranks;
    return 0;
}

int lb_loader_from_tokens(lb_loader *l, const int32_t *tokens, size_t n, int32_t n_vocab, int B, int T,
                          uint64_t seed, int rank, int n_ranks, lb_err *err) {
    memset(l, 0, sizeof *l);
    if (check_args(n, B, T, rank, n_ranks, "tokens", err)) return -1;
    if (!(l->tokens = malloc(n * sizeof *l->tokens))) return lb_fail(err, "out of memory for %zu tokens", n);
    memcpy(l->tokens, tokens, n * sizeof *tokens);
    l->n_tokens = n, l->n_vocab = n_vocab;
    l->B = B, l->T = T, l->seed = seed, l->rank = rank, l->n_ranks = n_ranks;
    return 0;
}

void lb_loader_free(lb_loader *l) {
    free(l->tokens);
    free(l->vocab_source);
    memset(l, 0, sizeof *l);
}

// hash(seed, j) mapped onto [0, n): two rounds of mixing decorrelate nearby seeds; Lemire's
// multiply-shift maps the 64-bit hash onto [0, n) without a division (bias < n / 2^64)
static uint64_t sample_index(const lb_loader *l, uint64_t j, uint64_t n) {
    const uint64_t h = mix64(mix64(l->seed ^ 0x9e3779b97f4a7c15ULL) + j);
    return (uint64_t)(((unsigned __int128)h * n) >> 64);
}

size_t lb_loader_sample_start(const lb_loader *l, uint64_t j) {
    if (l->n_windows > 0) return (size_t)lb_loader_sample_window(l, j) * (size_t)l->T;
    const uint64_t n_starts = (uint64_t)(l->n_tokens - (size_t)l->T);   // starts 0 .. n - T - 1
    return (size_t)sample_index(l, j, n_starts);
}

int lb_loader_use_windows(lb_loader *l, int64_t n_windows, lb_err *err) {
    const int64_t all = (int64_t)lb_loader_n_eval_windows(l);
    if (n_windows == 0) n_windows = all;
    if (n_windows < 1 || n_windows > all)
        return lb_fail(err, "tokens: %lld windows of %d requested, the split holds %lld", (long long)n_windows, l->T,
                       (long long)all);
    l->n_windows = n_windows;
    return 0;
}

int64_t lb_loader_sample_window(const lb_loader *l, uint64_t j) {
    return (int64_t)sample_index(l, j, (uint64_t)l->n_windows);
}

void lb_loader_batch_windows(const lb_loader *l, uint64_t step, int64_t *windows) {
    for (int b = 0; b < l->B; b++) {
        const uint64_t j = (step * (uint64_t)l->B + (uint64_t)b) * (uint64_t)l->n_ranks + (uint64_t)l->rank;
        windows[b] = lb_loader_sample_window(l, j);
    }
}

void lb_loader_batch_at(const lb_loader *l, uint64_t step, int32_t *inputs, int32_t *targets) {
    const int T = l->T;
    for (int b = 0; b < l->B; b++) {
        const uint64_t j = (step * (uint64_t)l->B + (uint64_t)b) * (uint64_t)l->n_ranks + (uint64_t)l->rank;
        const int32_t *w = l->tokens + lb_loader_sample_start(l, j);
        memcpy(inputs + (size_t)b * T, w, (size_t)T * sizeof *w);
        memcpy(targets + (size_t)b * T, w + 1, (size_t)T * sizeof *w);
    }
}

void lb_loader_next(lb_loader *l, int32_t *inputs, int32_t *targets) {
    lb_loader_batch_at(l, l->step, inputs, targets);
    l->step++;
}

size_t lb_loader_n_eval_windows(const lb_loader *l) { return (l->n_tokens - 1) / (size_t)l->T; }

int lb_loader_eval_batch(const lb_loader *l, size_t w0, int32_t *inputs, int32_t *targets) {
    const size_t nw = lb_loader_n_eval_windows(l), T = (size_t)l->T;
    int got = 0;
    for (size_t w = w0; w < nw && got < l->B; w++, got++) {
        const int32_t *src = l->tokens + w * T;
        memcpy(inputs + (size_t)got * T, src, T * sizeof *src);
        memcpy(targets + (size_t)got * T, src + 1, T * sizeof *src);
    }
    return got;
}
