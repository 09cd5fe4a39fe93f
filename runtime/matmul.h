// matmul.h: the one matrix multiply the forward pass uses: out = x @ W^T for a weight
// tensor W of ANY type that has kernels in the type table (lb_types.h). New block types
// (Q2_K, TQ1_0, ...) plug in by registering to_float / from_float / vec_dot there only.
//
// Two paths, same arithmetic as llama.cpp's CPU backend (activations are first rounded to
// the weight's vec_dot_type, e.g. q8_0 for Q8_0 weights; see lb_matmul_activation_type):
//  - few rows of x (decode): activations converted ONCE, then one vec_dot per (weight row,
//    token), weight rows split across threads. Memory-bandwidth bound, as decode should be.
//  - many rows (prefill) with float activations (f32/f16/bf16): weight tiles of
//    LB_MATMUL_TILE rows are dequantized to f32 and multiplied with OpenBLAS sgemm
//    (single-threaded per tile; tiles split across threads). F32 weights are read in place.
//    Block-quantized activations: Q8_0 weights always use vec_dot (bit-level agreement with
//    llama.cpp, see matmul.c); the low-bit types (Q2_K, TQ1_0, TQ2_0, Q2_0C, STQ1_0, all with
//    Q8_K activations) take the sgemm path with the activations rounded through Q8_K first,
//    so both paths multiply the same values (LOWBIT_PREFILL=sgemm|vecdot overrides).
// Tile boundaries and per-row work do not depend on the thread count, so results are
// bitwise identical for any number of threads.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "model.h"
#include "lb_error.h"

#ifndef LB_MATMUL_TILE
#define LB_MATMUL_TILE 128         // weight rows per sgemm tile (measured best of 64/128/256 on a 125M F16 llama)
#endif
#ifndef LB_MATMUL_SGEMM_MIN_N
#define LB_MATMUL_SGEMM_MIN_N 8    // use the sgemm path from this many activation rows on
#endif
#define LB_MATMUL_PARALLEL_MIN 65536.0   // multiply-adds below which a matmul stays on one thread

typedef struct lb_matmul_ctx {
    int n_threads;
    int max_n;           // most activation rows per call
    int64_t max_k;       // longest row (weight ne[0])
    void *xq;            // activations in the vec_dot_type: max_n rows
    float *xf;           // activations rounded through the vec_dot_type, as f32 (sgemm path)
    float *tiles;        // n_threads tiles of LB_MATMUL_TILE x max_k dequantized weights
} lb_matmul_ctx;

int lb_matmul_ctx_build(lb_matmul_ctx *c, int n_threads, int max_n, int64_t max_k, lb_err *err);
void lb_matmul_ctx_free(lb_matmul_ctx *c);

// Is this tensor usable as a matmul weight (2-D, known type with kernels, consistent size)?
// `what` names the model file in the message.
int lb_matmul_check_weight(const lb_tensor *w, int64_t ne0, int64_t ne1, const char *what, lb_err *err);

// The type activations are rounded to before multiplying with w: the weight type's
// vec_dot_type, except F16 weights on AMX CPUs, where llama.cpp keeps f32 (see matmul.c).
uint32_t lb_matmul_activation_type(const lb_tensor *w);

// out[t*ldo + r] = dot(W row r, x row t) for t < n, r < W->ne[1]; x is n rows of W->ne[0] floats.
int lb_matmul(lb_matmul_ctx *c, float *out, int64_t ldo, const float *x, int n, const lb_tensor *w, lb_err *err);

// Several weights applied to the SAME input (q/k/v, gate/up): outs[i][t*ldos[i] + r] =
// dot(ws[i] row r, x row t). Results are bitwise those of n_w lb_matmul calls. On the decode
// path (vec_dot) with one shared activation type, the activations are converted once and all
// rows of all weights are split across threads in ONE parallel region: a decode step then
// pays one fork/join for q/k/v instead of three (and one for gate/up instead of two), which
// is what costs most on a loaded machine, where each join waits for a descheduled thread.
#define LB_MATMUL_MAX_MULTI 4
int lb_matmul_multi(lb_matmul_ctx *c, int n_w, float *const *outs, const int64_t *ldos, const float *x, int n,
                    const lb_tensor *const *ws, lb_err *err);
