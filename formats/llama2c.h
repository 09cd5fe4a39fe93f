// llama2c.h: karpathy/llama2.c checkpoints (float32) and tokenizer.bin -> lb_model
// (lb_model_from_llama2c in model.h is the entry point; these pieces are for tests/fuzzers).
//
// Checkpoint layouts (llama2.c export.py):
//  - legacy: 7 x int32 {dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len}
//    (vocab_size < 0: separate classifier), then f32: token_embedding, rms_att, wq, wk, wv, wo,
//    rms_ffn, w1, w2, w3, rms_final, freq_cis_real, freq_cis_imag (seq_len*head_size/2 each,
//    unused: RoPE is recomputed), [wcls].
//  - version 1: u32 magic 0x616b3432 ("ak42"), i32 version 1, the same 7 ints (vocab_size > 0),
//    u8 shared_classifier, zero padding to 256 bytes, then f32: rms_att, rms_ffn, rms_final,
//    token_embedding, wq, wk, wv, wo, w1, w2, w3, [wcls].
// tokenizer.bin: i32 max_token_length, then per token: f32 score, i32 len, len bytes.
#pragma once
#include <stdint.h>
#include <stddef.h>
#include "kv.h"
#include "lb_error.h"

#define LB_L2C_MAGIC 0x616b3432u

typedef struct lb_l2c_config {
    int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
    int shared_classifier;
    int version;              // 0 legacy, 1 "ak42" v1
    uint64_t header_bytes;    // 28 or 256
    uint64_t expected_size;   // file size the header implies
} lb_l2c_config;

// Parse and validate a checkpoint header against the file size. buf holds at least the
// first min(size, 256) bytes of the file.
int lb_l2c_parse_header(lb_l2c_config *c, const uint8_t *buf, size_t avail, uint64_t file_size,
                        const char *what, lb_err *err);

// tokenizer.bin bytes -> tokenizer.ggml.{model,tokens,scores,token_type,*_token_id} keys,
// exactly as llama.cpp's convert-llama2c-to-ggml assigns them.
int lb_l2c_parse_tokenizer(lb_kvs *kv, const uint8_t *buf, size_t size, int32_t vocab_size,
                           const char *what, lb_err *err);
