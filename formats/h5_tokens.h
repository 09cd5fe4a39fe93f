// h5_tokens.h: token-id stores for training (`lowbit tokenize` writes them, the data loader
// reads them). One HDF5 file:
//   /train, /val       int32, 1-D, chunked (64Ki ids), zstd (filter 32015)
//   root attributes    format = "lowbit-tokens", version = 1, n_vocab, bos_id,
//                      tokenizer_model ("llama" / "gpt2"), vocab_source, sources (file names,
//                      one per line), split_rule (text), val_fraction, n_train, n_val
//                      (strings fixed-length UTF-8: h5py shows bytes)
// Writing streams: append ids to either split as they are produced; nothing is visible under
// the final name until lb_h5_tokens_finish renames the temp file into place.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "lb_error.h"

#define LB_H5_TOKENS_CHUNK 65536   // ids per HDF5 chunk

typedef enum lb_split { LB_SPLIT_TRAIN = 0, LB_SPLIT_VAL = 1 } lb_split;
const char *lb_split_name(lb_split s);   // "train", "val"

typedef struct lb_tokens_info {
    int32_t n_vocab;
    int32_t bos_id;               // -1 if none
    char tokenizer_model[32];
    char *vocab_source;           // malloc'd strings (freed by lb_tokens_info_free)
    char *sources;
    char *split_rule;
    double val_fraction;
    int64_t n_train, n_val;
} lb_tokens_info;
void lb_tokens_info_free(lb_tokens_info *info);

typedef struct lb_tokens_writer lb_tokens_writer;

lb_tokens_writer *lb_tokens_writer_create(const char *path, lb_err *err);
int lb_tokens_writer_append(lb_tokens_writer *w, lb_split split, const int32_t *ids, size_t n, lb_err *err);
// Writes the attributes (n_train / n_val are taken from what was appended), closes and
// renames into place; frees w in every case.
int lb_tokens_writer_finish(lb_tokens_writer *w, const lb_tokens_info *info, lb_err *err);
// Drops everything (temp file removed); frees w. NULL is fine.
void lb_tokens_writer_abort(lb_tokens_writer *w);

// Read one split entirely: *ids malloc'd (caller frees). info may be NULL; when given it is
// filled (free with lb_tokens_info_free). Checks every id is in [0, n_vocab).
int lb_tokens_read(const char *path, lb_split split, int32_t **ids, size_t *n, lb_tokens_info *info, lb_err *err);
