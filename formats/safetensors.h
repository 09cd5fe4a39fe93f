// safetensors.h: reader for Hugging Face safetensors checkpoints (single file or sharded with
// model.safetensors.index.json). Files are mmapped; tensors point into the mappings.
// Layout (huggingface/safetensors README): u64 little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [out, in], "data_offsets": [begin, end]}, ...,
//  "__metadata__": {...}}, then the data region; offsets are relative to its start.
// Every field is treated as hostile: lengths bounded by the file, shapes overflow-checked,
// byte ranges inside the data region and consistent with dtype * numel.
#pragma once
#include <stdint.h>
#include <stddef.h>
#include "lb_error.h"

#define LB_ST_MAX_DIMS 4                        // what a transformer checkpoint needs
#define LB_ST_MAX_HEADER (100ull << 20)         // 100 MB of JSON is already absurd
#define LB_ST_MAX_SHARDS 4096

typedef struct lb_st_tensor {
    char *name;               // owned, as in the file ("model.layers.0.self_attn.q_proj.weight")
    uint32_t type;            // enum lb_type: F32, F16 or BF16
    uint32_t n_dims;          // 0..4 (0 = scalar)
    int64_t shape[LB_ST_MAX_DIMS];   // PyTorch order: shape[0] is the slowest dimension
    int64_t numel;
    const void *data;         // into the shard's mapping
    uint64_t nbytes;
    uint32_t shard;           // index into lb_safetensors.shards
} lb_st_tensor;

typedef struct lb_st_shard {
    char *path;               // owned
    void *map;                // mmap of the whole file (NULL once handed to someone else)
    size_t size;
} lb_st_shard;

typedef struct lb_safetensors {
    lb_st_shard *shards;
    uint32_t n_shards;
    lb_st_tensor *tensors;    // in file order, shard after shard
    size_t n_tensors;
    size_t *by_name;          // tensor indices sorted by name (for lookup and duplicate checks)
} lb_safetensors;

// Open one .safetensors file.
int lb_st_open_file(lb_safetensors *st, const char *path, lb_err *err);
// Open a HF directory: model.safetensors.index.json (every shard it names, once each) if
// present, else model.safetensors. Shard names must be plain file names (no '/', no "..").
int lb_st_open_dir(lb_safetensors *st, const char *dir, lb_err *err);
// Validate a header in memory (for the fuzzer and tests): buf holds a whole file image.
// Tensors are appended to st as for a mapped shard with index `shard`, data pointing into buf.
int lb_st_parse(lb_safetensors *st, const uint8_t *buf, size_t size, uint32_t shard,
                const char *what, lb_err *err);
void lb_st_close(lb_safetensors *st);   // unmaps whatever is still owned, frees everything

const lb_st_tensor *lb_st_find(const lb_safetensors *st, const char *name);
