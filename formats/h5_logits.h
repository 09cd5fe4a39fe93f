// h5_logits.h: stored teacher outputs for distillation. `lowbit teacher` writes them, the
// trainer reads them (distill.store in the YAML). One HDF5 file; every dataset is chunked one
// training window (T rows) per chunk and zstd-compressed with the standard HDF5 filter 32015,
// so h5py + hdf5plugin reads it.
//
// Windows: window w covers tokens [w*T, w*T + T] of the token store's split (T + 1 tokens:
// inputs and next-token targets, exactly lb_loader's eval windows). The teacher runs on the T
// input tokens of each window alone (no other context), so row n = w*T + t of every dataset
// belongs to input position t of window w. n_windows may be fewer than the split holds
// (`--max-windows`): the trainer then samples windows only among the stored ones.
//
//   mode full:    /logits   float16 (N, V)   teacher logits
//   mode topk:    /ids      int32   (N, K)   the K largest teacher logits' ids, logits descending
//                 /logits   float16 (N, K)   those logits
//   mode sampled: /ids      int32   (N, S)   Sparse Logit Sampling: S ids drawn WITH replacement
//                                            from q = softmax(teacher / temperature), repeats merged:
//                                            distinct ids first, then -1 padding
//                 /counts   uint8   (N, S)   how many of the S draws gave that id (0 on padding);
//                                            weight = count / S, an unbiased estimate of q
//   N = n_windows * T.
//   root attributes: format = "lowbit-logits", version = 1, mode ("full"|"topk"|"sampled"),
//     n_vocab, seq_len (T), n_windows, k (K, or S for sampled; 0 for full), temperature (the
//     q of sampled mode; 1 otherwise), seed (sampled mode's RNG seed), teacher (source path),
//     tokens (token store path), split ("train"|"val"), tokens_hash (FNV-1a 64 of the int32 ids
//     of the covered tokens [0, n_windows*T + 1) as little-endian bytes, so a store is never
//     used with a different token stream), bytes_per_token (file size / N, informative)
//   strings fixed-length UTF-8 (h5py shows bytes), integers int64, floats float64.
// Writing streams window by window (temp file, renamed into place by finish).
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "lb_error.h"

typedef enum lb_logit_mode { LB_LOGITS_FULL = 0, LB_LOGITS_TOPK = 1, LB_LOGITS_SAMPLED = 2 } lb_logit_mode;
const char *lb_logit_mode_name(lb_logit_mode m);          // "full", "topk", "sampled"
int lb_logit_mode_parse(const char *s, lb_logit_mode *m);  // 0, or -1 for an unknown name

typedef struct lb_logits_info {
    lb_logit_mode mode;
    int32_t n_vocab, seq_len, k;
    int64_t n_windows;
    double temperature;
    uint64_t seed, tokens_hash;
    char split[8];
    char *teacher, *tokens;   // malloc'd (lb_logits_info_free)
    double bytes_per_token;
} lb_logits_info;
void lb_logits_info_free(lb_logits_info *info);

// FNV-1a 64 over the ids as little-endian int32 bytes (the tokens_hash attribute).
uint64_t lb_tokens_hash(const int32_t *ids, size_t n);

// --- writing ---------------------------------------------------------------------------------
typedef struct lb_logits_writer lb_logits_writer;
// info: mode, n_vocab, seq_len, k, n_windows (how many windows will be appended), temperature,
// seed, split, teacher, tokens, tokens_hash. bytes_per_token is computed by finish.
lb_logits_writer *lb_logits_writer_create(const char *path, const lb_logits_info *info, lb_err *err);
// Append the next window's T rows. full: logits (T,V) fp32, rounded to fp16 here (round to
// nearest even). topk: ids (T,K) + logits (T,K) fp32 (rounded to fp16). sampled: ids (T,S) +
// counts (T,S). Unused pointers NULL.
int lb_logits_writer_append(lb_logits_writer *w, const float *logits, const int32_t *ids, const uint8_t *counts,
                            lb_err *err);
// Checks every announced window was appended, writes the attributes, closes, renames into
// place; frees w in every case.
int lb_logits_writer_finish(lb_logits_writer *w, lb_err *err);
void lb_logits_writer_abort(lb_logits_writer *w);   // temp file removed; NULL is fine

// --- reading ---------------------------------------------------------------------------------
typedef struct lb_logits_reader lb_logits_reader;
// Opens and validates the attributes and dataset shapes/types (hostile input: every mismatch is
// a one-line error naming the file).
lb_logits_reader *lb_logits_open(const char *path, lb_err *err);
const lb_logits_info *lb_logits_reader_info(const lb_logits_reader *r);
// Read window w's T rows: full -> logits (T,V) as fp32; topk -> ids (T,K) + logits (T,K);
// sampled -> ids (T,S) + counts (T,S). Validates ids (-1 or < n_vocab; padding only at the end
// of a row; counts sum to S in sampled mode). Unused pointers may be NULL.
int lb_logits_read_window(lb_logits_reader *r, int64_t w, float *logits, int32_t *ids, uint8_t *counts,
                          lb_err *err);
void lb_logits_close(lb_logits_reader *r);
