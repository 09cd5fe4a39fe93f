// hf.h: pieces of the Hugging Face importer (lb_model_from_hf in model.h is the entry point).
// Split out so the fuzzers and unit tests can drive config.json / tokenizer.json parsing on
// bytes in memory, without a directory of files.
#pragma once
#include <stdint.h>
#include <stddef.h>
#include "kv.h"
#include "model.h"
#include "lb_error.h"

#define LB_HF_MAX_JSON (512ull << 20)   // tokenizer.json of a 256k vocab is ~20 MB; this is generous

// What config.json says, validated (every count positive and sane, divisibility checked).
typedef struct lb_hf_config {
    lb_arch arch;
    int64_t n_vocab, n_embd, n_layer, n_ff, n_head, n_head_kv, head_dim, n_ctx;
    double norm_eps, rope_base;        // rope_base already scaled (hunyuan dynamic alpha)
    int head_dim_given;                // config.json had head_dim: write key/value_length
    int tie_embeddings;
    int64_t bos_id, eos_id, pad_id, unk_id;   // config.json's ids, -1 when absent
    int64_t eod_id;                           // hunyuan: eod_token_id overrides every other eos
} lb_hf_config;

// Read a whole (small) file into a NUL-terminated malloc'd buffer; *len excludes the NUL.
char *lb_read_file_text(const char *path, size_t max_bytes, size_t *len, lb_err *err);

// config.json -> cfg plus general.* and {arch}.* keys. `name` goes to general.name.
int lb_hf_parse_config(lb_hf_config *cfg, lb_kvs *kv, const char *json, size_t len,
                       const char *name, const char *what, lb_err *err);

// tokenizer.json (+ optional tokenizer_config.json, may be NULL) -> tokenizer.ggml.* keys.
// Byte-level BPE -> "gpt2" with merges; BPE with byte_fallback (SentencePiece-style) -> "llama".
int lb_hf_parse_tokenizer(lb_kvs *kv, const lb_hf_config *cfg, const char *tok_json, size_t tok_len,
                          const char *tok_cfg_json, size_t tok_cfg_len, const char *what, lb_err *err);

// HF tensor name -> GGUF name (and the transform llama q/k need). Returns 1 mapped, 0 skip
// (known-irrelevant like rotary_emb.inv_freq or a tied lm_head), -1 unknown name.
int lb_hf_map_tensor_name(const lb_hf_config *cfg, const char *hf_name, char *gguf_name, size_t cap,
                          lb_xform *xform, int *xform_heads);
