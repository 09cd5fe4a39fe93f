// calib.h: calibration for GPTQ: run the float model over a text and accumulate, for every
// linear layer's INPUT, the Hessian of the layer-wise reconstruction loss
//     H = 2/N * sum_t x_t x_t^T      (K x K, K = the weight's row length, N = tokens seen)
// One H per distinct input (lb_obs_site): attn_q/k/v share ATTN_IN, ffn_gate/up share FFN_IN.
//
// The text is read like llama-perplexity reads it: tokenized once (BOS when the vocab adds
// one), cut into chunks of n_ctx tokens whose first token is BOS, each evaluated from
// position 0. At most max_chunks chunks (and max_tokens tokens) are used.
//
// Memory: 4*K*K bytes per H. A Llama layer needs 4*(2*n_embd^2 + q_dim^2 + n_ff^2) bytes:
// 23 MB for the 125M shape, 201 MB for the 1.67B shape (dim 2048, ffn 6144), i.e. 6.4 GB for
// all 32 layers. So the Hessians are collected for a RANGE of layers per pass
// (lb_calib_collect: layers [layer0, layer1)); a caller with a memory budget runs several
// passes (each pass stops after layer1 - 1, so early ranges are cheap).
//
// H is accumulated in float (sgemm-blocked x^T x per batch, upper triangle, then mirrored)
// from the model's own f32 activations; over 32k tokens that keeps ~1e-5 relative accuracy,
// far below the damping GPTQ adds to H's diagonal.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "infer.h"
#include "model.h"
#include "lb_error.h"

typedef struct lb_calib_opts {
    int n_ctx;           // tokens per chunk (default 256 when 0)
    int max_chunks;      // chunks used at most (default 128 when 0)
    long max_tokens;     // tokens used at most (0: no limit beyond max_chunks * n_ctx)
} lb_calib_opts;

typedef struct lb_calib {
    int n_layer;               // of the model
    int layer0, layer1;        // layers whose Hessians are held: [layer0, layer1)
    int dim[LB_OBS_N_SITES];   // K of each site
    float **h;                 // [(layer - layer0) * LB_OBS_N_SITES + site]: K x K, row-major
    long n_rows;               // activation rows accumulated per H (= tokens evaluated)
    int n_threads;
    // the tokenized text (kept between passes)
    int32_t *ids;
    size_t n_ids;
    int add_bos;
    int32_t bos;
    int n_ctx, n_chunks;
} lb_calib;

// Tokenize text_path with the model's tokenizer and plan the chunks. what names the model.
int lb_calib_build(lb_calib *c, const lb_model *m, const char *what, const char *text_path,
                   const lb_calib_opts *o, int n_threads, lb_err *err);
void lb_calib_free(lb_calib *c);

// Bytes of Hessians one layer needs (for planning layer ranges against a memory budget).
size_t lb_calib_layer_bytes(const lb_hparams *hp);

// Evaluate every chunk through layers [0, layer1) of rt (a runtime of the same model, built
// with n_ctx >= c->n_ctx), keeping the Hessians of layers [layer0, layer1); replaces what the
// previous pass held. progress: print a line per chunk to stderr when nonzero.
int lb_calib_collect(lb_calib *c, lb_runtime *rt, int layer0, int layer1, int progress, lb_err *err);

// H for (layer, site), or NULL when that layer is not held. *k receives K.
const float *lb_calib_hessian(const lb_calib *c, int layer, lb_obs_site site, int *k);

// Which observed input feeds a weight: "blk.N.attn_q.weight" -> layer N, LB_OBS_ATTN_IN ...
// Returns -1 for tensors that are not one of the seven linear weights of a layer.
int lb_calib_site_of(const char *tensor_name, int *layer);
