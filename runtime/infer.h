// infer.h: the transformer forward pass (llama2.c's run.c, grown up a little).
// Supports llama, qwen2 (q/k/v bias), qwen3 (per-head q/k RMSNorm before RoPE) and
// hunyuan-dense (q/k norm after RoPE); GQA; tied or untied output. Weights are used in
// place (mmap'd GGUF); the KV cache is f32 (n_layer x n_ctx x n_head_kv x head_dim);
// activations live in one allocation sized for a batch of tokens.
#pragma once
#include <stdint.h>
#include "model.h"
#include "lb_error.h"

typedef struct lb_runtime lb_runtime;

// n_ctx: positions the KV cache holds; n_threads: OpenMP threads for matmuls and attention.
lb_runtime *lb_runtime_build(const lb_model *m, int n_ctx, int n_threads, lb_err *err);
// same, with hyper-parameters given (tests build tiny models by hand); `what` names the model
lb_runtime *lb_runtime_build_hp(const lb_model *m, const lb_hparams *hp, const char *what, int n_ctx,
                                int n_threads, lb_err *err);
void lb_runtime_free(lb_runtime *rt);

const lb_hparams *lb_runtime_hparams(const lb_runtime *rt);
int lb_runtime_n_ctx(const lb_runtime *rt);

// Evaluate n tokens at positions pos .. pos+n-1 (the cache must hold positions < pos, which
// the previous calls filled; pos 0 starts a new sequence). Writes the logits of the LAST
// n_logits tokens to logits_out (n_logits x n_vocab floats, row-major): 1 = next-token
// logits only, n = every position, 0 = none. Returns 0 or -1.
int lb_runtime_eval(lb_runtime *rt, const int32_t *tokens, int n, int pos, float *logits_out, int n_logits,
                    lb_err *err);

// --- observing the inputs of the linear layers (calibration, runtime/calib.h) ---------------
// Each weight matmul's input is one of four activations per layer; the observer sees each
// once per batch, before the matmuls that read it. Unset (the default), nothing is called.
typedef enum lb_obs_site {
    LB_OBS_ATTN_IN = 0,   // rmsnorm(x) * attn_norm: input of attn_q, attn_k, attn_v   (n_embd)
    LB_OBS_ATTN_OUT,      // attention output, heads side by side: input of attn_output (q_dim)
    LB_OBS_FFN_IN,        // rmsnorm(x) * ffn_norm: input of ffn_gate, ffn_up          (n_embd)
    LB_OBS_FFN_ACT,       // silu(gate) * up: input of ffn_down                         (n_ff)
    LB_OBS_N_SITES
} lb_obs_site;

// x: n_rows activation rows of dim floats each (row-major). Called on the calling thread,
// outside any parallel region, so the observer may use OpenMP itself.
typedef void (*lb_observer_fn)(void *user, int layer, lb_obs_site site, const float *x, int n_rows, int dim);

// Install (fn != NULL) or remove (fn == NULL) the observer. last_layer >= 0 ends every
// forward pass after that layer (calibrating the first layers need not run the rest); such
// a pass produces no logits, so lb_runtime_eval must then be called with n_logits = 0.
// last_layer < 0: all layers.
void lb_runtime_set_observer(lb_runtime *rt, lb_observer_fn fn, void *user, int last_layer);
