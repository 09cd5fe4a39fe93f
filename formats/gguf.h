// gguf.h: GGUF v3 reader (mmap, strict bounds checks) and streaming writer.
// Layout: ggml docs/gguf.md; summary in ../shared/REFERENCE.md §3.
#pragma once
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include "kv.h"
#include "lb_error.h"

#define LB_GGUF_MAGIC "GGUF"
#define LB_GGUF_VERSION 3
#define LB_GGUF_DEFAULT_ALIGNMENT 32
#define LB_GGUF_MAX_DIMS 4
#define LB_GGUF_MAX_NAME 64          // names must be shorter than this (llama.cpp GGML_MAX_NAME)

// A tensor's description: used by the reader (data points into the mmap) and by the
// writer (data unused; the writer takes bytes in lb_gguf_writer_put).
typedef struct lb_gguf_tensor {
    char name[LB_GGUF_MAX_NAME];
    uint32_t n_dims;
    int64_t ne[LB_GGUF_MAX_DIMS];    // ne[0] = row length; unused dims are 1
    uint32_t type;                   // enum lb_type
    uint64_t offset;                 // relative to the data section
    uint64_t nbytes;
    const void *data;                // reader: points into the mapping
} lb_gguf_tensor;

// --- reader -------------------------------------------------------------------
typedef struct lb_gguf {
    char *path;                // owned copy, for messages
    const uint8_t *base;       // mmap of the whole file
    size_t size;
    uint32_t version;
    lb_kvs kv;                 // every key/value, in file order
    lb_gguf_tensor *tensors;   // n_tensors, in file order
    uint64_t n_tensors;
    uint32_t alignment;
    uint64_t data_offset;      // start of the tensor data section in the file
} lb_gguf;

// Maps and validates the whole file: magic, version (2 or 3), every KV and tensor info
// bounds-checked against the file size; types known, dims <= 4, no overflow, names < 64
// bytes, no duplicate keys or names, offsets aligned and data inside the file.
// On failure returns -1 with err = "PATH: problem" and leaves *g zeroed.
int lb_gguf_open(lb_gguf *g, const char *path, lb_err *err);
void lb_gguf_close(lb_gguf *g);
const lb_gguf_tensor *lb_gguf_find(const lb_gguf *g, const char *name);

// --- writer -------------------------------------------------------------------
// Streams: header + KV + tensor infos are written at open, then each tensor's bytes in the
// order given, then close. Bytes go to "PATH.tmp-<pid>" which close() fsyncs and renames to
// PATH; abort() (and any failure) unlinks it, so a failed run never leaves a partial file.
// Output is a pure function of (kv, tensor descriptions, data): deterministic bytes.
typedef struct lb_gguf_writer lb_gguf_writer;

// tensors[i].nbytes is computed by the writer from type and shape (data/offset ignored).
lb_gguf_writer *lb_gguf_writer_open(const char *path, const lb_kvs *kv,
                                    const lb_gguf_tensor *tensors, uint64_t n_tensors,
                                    uint32_t alignment, lb_err *err);
// Write tensor number `index`; tensors must come in order 0,1,2,... nbytes must match.
int lb_gguf_writer_put(lb_gguf_writer *w, uint64_t index, const void *data, uint64_t nbytes,
                       lb_err *err);
// Append part of the current tensor's bytes (for tensors converted in chunks). A tensor is
// complete when its nbytes have been appended; then the next one starts.
int lb_gguf_writer_append(lb_gguf_writer *w, const void *data, uint64_t nbytes, lb_err *err);
int lb_gguf_writer_close(lb_gguf_writer *w, lb_err *err);  // frees w in all cases
void lb_gguf_writer_abort(lb_gguf_writer *w);               // frees w, removes the temp file
