// h5_checkpoint.h: training checkpoints in HDF5, generic on purpose: the trainer hands over a
// list of named float32 tensors and key/value attributes and decides itself what they mean
// (weights by GGUF name, Adam m / v, QAT scales, RNG state, data position, config text...).
// Layout: each tensor is a float32 dataset at its name, where '/' makes groups
// ("weights/blk.0.attn_q.weight", "adam_m/blk.0.attn_q.weight"); attributes live on the root
// group next to format = "lowbit-checkpoint" and version = 1. Tensors are chunked with HDF5's
// built-in Fletcher-32 checksum, metadata in the checksummed 1.10 format, strings fixed-length:
// damage is reported, never silently read (tests/test_h5.c flips bytes). h5py reads it
// without plugins (strings come back as bytes).
// Writes are atomic: temp file, fsync, rename; a crash mid-write leaves the previous
// checkpoint at PATH untouched.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "lb_error.h"

#define LB_CKPT_MAX_DIMS 4

typedef struct lb_ckpt_tensor {
    const char *name;
    int n_dims;                          // 1..LB_CKPT_MAX_DIMS
    int64_t shape[LB_CKPT_MAX_DIMS];     // row-major (C / numpy order): shape[n_dims-1] varies fastest
    const float *data;
} lb_ckpt_tensor;

typedef enum lb_ckpt_attr_type { LB_CKPT_I64 = 0, LB_CKPT_F64, LB_CKPT_STR, LB_CKPT_U64S } lb_ckpt_attr_type;

typedef struct lb_ckpt_attr {
    const char *name;
    lb_ckpt_attr_type type;
    int64_t i;               // LB_CKPT_I64
    double f;                // LB_CKPT_F64
    const char *s;           // LB_CKPT_STR (e.g. the YAML config text)
    const uint64_t *u;       // LB_CKPT_U64S (e.g. RNG state), n_u values
    size_t n_u;
} lb_ckpt_attr;

int lb_ckpt_write(const char *path, const lb_ckpt_tensor *tensors, size_t n_tensors, const lb_ckpt_attr *attrs,
                  size_t n_attrs, lb_err *err);

// Test hook: when set, called after each tensor is written (i = its index) inside the
// writer; tests use it to die mid-write and check the old checkpoint survives.
extern void (*lb_ckpt_write_hook)(size_t i);

// --- reading -----------------------------------------------------------------------
typedef struct lb_ckpt {
    char path[4096];
    int64_t file;            // hid_t
} lb_ckpt;

int lb_ckpt_open(lb_ckpt *c, const char *path, lb_err *err);   // checks format and version
void lb_ckpt_close(lb_ckpt *c);
int lb_ckpt_has(const lb_ckpt *c, const char *name);          // tensor present?
// Shape of a stored tensor (to size buffers or report what a checkpoint holds).
int lb_ckpt_shape(const lb_ckpt *c, const char *name, int *n_dims, int64_t shape[LB_CKPT_MAX_DIMS], lb_err *err);
// Shape must match exactly (error names the tensor, expected and found shapes).
int lb_ckpt_read(const lb_ckpt *c, const char *name, int n_dims, const int64_t *shape, float *out, lb_err *err);
int lb_ckpt_get_i64(const lb_ckpt *c, const char *name, int64_t *v, lb_err *err);
int lb_ckpt_get_f64(const lb_ckpt *c, const char *name, double *v, lb_err *err);
int lb_ckpt_get_str(const lb_ckpt *c, const char *name, char **s, lb_err *err);   // malloc'd
int lb_ckpt_get_u64s(const lb_ckpt *c, const char *name, uint64_t *v, size_t n, lb_err *err);   // exactly n
