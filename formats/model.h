// model.h: the one in-memory model description every source is read into.
// GGUF, Hugging Face (safetensors + config.json + tokenizer.json) and llama2.c readers all
// produce an lb_model: GGUF metadata (lb_kvs, with exactly the keys llama.cpp expects) plus
// named tensors in GGUF naming and orientation, each pointing at its bytes in an mmap or an
// owned buffer. The runtime, `import`, `inspect` and later `quantize`/`export` take this.
#pragma once
#include <stdint.h>
#include <stddef.h>
#include "kv.h"
#include "gguf.h"
#include "lb_error.h"

typedef enum lb_arch {
    LB_ARCH_LLAMA = 0,
    LB_ARCH_QWEN2,
    LB_ARCH_QWEN3,
    LB_ARCH_HUNYUAN_DENSE,
    LB_ARCH_COUNT
} lb_arch;

const char *lb_arch_name(lb_arch a);          // "llama", "qwen2", "qwen3", "hunyuan-dense"
int lb_arch_from_name(const char *name);      // -1 if unsupported

// How q/k pairs are rotated. llama: adjacent pairs (x[2i], x[2i+1]) ("norm" in ggml);
// qwen2/qwen3/hunyuan-dense: halves (x[i], x[i + head_dim/2]) ("neox").
typedef enum lb_rope_style { LB_ROPE_ADJACENT = 0, LB_ROPE_NEOX = 1 } lb_rope_style;

// Where the per-head RMSNorm on q and k sits (qwen3: before RoPE; hunyuan-dense: after).
typedef enum lb_qk_norm { LB_QK_NORM_NONE = 0, LB_QK_NORM_BEFORE_ROPE = 1, LB_QK_NORM_AFTER_ROPE = 2 } lb_qk_norm;

typedef struct lb_hparams {
    lb_arch arch;
    int n_vocab, n_embd, n_layer, n_ff;
    int n_head, n_head_kv, head_dim;   // head_dim = key_length (== value_length)
    int n_ctx_train;
    float norm_eps;                    // RMSNorm epsilon
    float rope_base;                   // rope.freq_base
    lb_rope_style rope_style;
    lb_qk_norm qk_norm;
    int qkv_bias;                      // qwen2: attn_q/k/v.bias present
    int tied_output;                   // no output.weight: reuse token_embd
} lb_hparams;

// What to do to a source tensor's values on the way out (import applies it while streaming).
typedef enum lb_xform {
    LB_XFORM_NONE = 0,
    LB_XFORM_PERMUTE_QK,     // HF llama q/k rows -> adjacent-pair RoPE order (convert_hf_to_gguf's permute)
} lb_xform;

typedef struct lb_tensor {
    char name[LB_GGUF_MAX_NAME];   // GGUF name, e.g. "blk.0.attn_q.weight"
    uint32_t type;                 // enum lb_type of the bytes at data
    uint32_t n_dims;
    int64_t ne[LB_GGUF_MAX_DIMS];  // GGUF order: ne[0] = row length (PyTorch [out,in] -> {in,out})
    const void *data;
    uint64_t nbytes;
    lb_xform xform;
    int xform_heads;               // heads for LB_XFORM_PERMUTE_QK (n_head for q, n_head_kv for k)
    char src[128];                 // where it came from, for messages ("model-00001.safetensors:model.embed_tokens.weight")
} lb_tensor;

typedef struct lb_model {
    lb_kvs kv;                // GGUF metadata (general.*, {arch}.*, tokenizer.*)
    lb_tensor *tensors;
    size_t n_tensors;
    // ownership of whatever the tensors point into (mmaps, buffers); freed by lb_model_free
    void **maps; size_t *map_sizes; size_t n_maps;
    void **bufs; size_t n_bufs;
    lb_gguf *gguf;            // set when loaded from a GGUF
} lb_model;

// Read any supported source into a description:
//  - PATH.gguf (GGUF magic)                 -> lb_model_from_gguf
//  - a directory with config.json           -> lb_model_from_hf (safetensors, single or sharded)
//  - a llama2.c .bin checkpoint             -> lb_model_from_llama2c (needs tokenizer_path)
// tokenizer_path: llama2.c tokenizer.bin, or a tokenizer.json overriding the HF dir's; may be NULL.
int lb_model_load(lb_model *m, const char *path, const char *tokenizer_path, lb_err *err);
int lb_model_from_gguf(lb_model *m, const char *path, lb_err *err);
int lb_model_from_hf(lb_model *m, const char *dir, const char *tokenizer_json, lb_err *err);
int lb_model_from_llama2c(lb_model *m, const char *bin_path, const char *tokenizer_bin, lb_err *err);
void lb_model_free(lb_model *m);

const lb_tensor *lb_model_find(const lb_model *m, const char *name);

// Hyper-parameters from the GGUF metadata (general.architecture and {arch}.* keys), with
// defaults the way llama.cpp applies them; checks that tensors exist with the right shapes.
// Error names `what` (the file) and the missing/bad key or tensor.
int lb_hparams_from_model(lb_hparams *hp, const lb_model *m, const char *what, lb_err *err);

// Materialize a tensor as float32 (applying its xform): out has ne[0]*ne[1]*ne[2]*ne[3] floats.
// Rows [row0, row0+nrows) of the 2-D view (rows = product of ne[1..]) only, so big tensors
// can be converted in slices.
int lb_tensor_read_f32(const lb_tensor *t, int64_t row0, int64_t nrows, float *out, lb_err *err);

// Small helpers for owners
int lb_model_add_tensor(lb_model *m, const lb_tensor *t, lb_err *err);   // copies the struct
int lb_model_own_map(lb_model *m, void *map, size_t size, lb_err *err);
int lb_model_own_buf(lb_model *m, void *buf, lb_err *err);
