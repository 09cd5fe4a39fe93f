// train_model.h: a trainable transformer (llama, qwen2, qwen3, hunyuan-dense; GQA; tied or
// untied head) built on the ops in ops.h, llm.c style: every parameter lives in ONE float
// allocation, every gradient in ONE allocation with the same layout (so a data-parallel
// allreduce is a single call over grads[0 .. n_params)), every activation in ONE allocation.
//
// The function computed is exactly runtime/infer.c's forward (same RMSNorm, RoPE angles,
// q/k-norm placement, GQA head mapping, softmax), in fp32 on cblas_sgemm.
//
// --- QAT hook (the contract with the fake-quant modules) ---------------------------------
// Every 2-D weight used as a linear layer in forward (per layer: attn_q, attn_k, attn_v,
// attn_output, ffn_gate, ffn_up, ffn_down; then the output head) is one lb_train_linear in
// m->linears. Forward reads the weight ONLY through linears[i].w_eff, which build sets to
// the master weight linears[i].w (a slice of params). QAT points w_eff at its own
// fake-quantized copy (same (out,in) row-major shape) and refreshes that copy before each
// forward. Backward writes dL/d(w_eff) -- the gradient with respect to the weight AS USED --
// into linears[i].dw, the normal gradient slot of that master weight (a slice of grads);
// QAT then replaces it in place by dL/dw (straight-through or its own estimator) and adds
// the gradients of its scales wherever it keeps them. Backward never reads w.
// Tied head: the head linear's w and dw are token_embd's slots, so the head gradient and
// the embedding-lookup gradient add up there; the lookup itself reads the master token_embd.
// So a fake-quantized TIED head cannot be told apart from the lookup's gradient in that slot:
// quantize a tied head only with an estimator that is the identity there (e.g. plain STE),
// or keep it FP / Q8_0 as the configs do.
//
// --- activation-memory policy ----------------------------------------------------------------
// STORE, no recomputation: forward keeps every tensor backward needs, per layer: the normed
// block inputs and their 1/rms, q/k/v before and after q/k-norm/RoPE, the attention
// probabilities (B, n_head, T, T), the attention output, the residual stream after each
// block, gate/up/silu(gate)*up; then the final norm and the logits (with targets, forward turns
// them into dlogits in place: loss and gradient in one pass). Backward adds one layer's worth of
// gradient scratch. lb_train_memory() gives the byte counts for a (B,T) before anything is
// allocated; print them before training starts.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "model.h"
#include "lb_error.h"
#include "gemm_amx.h"

// one named parameter tensor: where it sits in params (and grads), in GGUF naming/orientation
typedef struct lb_train_param {
    char name[LB_GGUF_MAX_NAME];   // "token_embd.weight", "blk.0.attn_q.weight", ...
    size_t offset;                 // in floats from the start of params / grads
    size_t numel;
    int n_dims;                    // 1 or 2
    int64_t ne[2];                 // GGUF order: ne[0] = row length (in features), ne[1] = rows
} lb_train_param;

typedef struct lb_train_linear {
    float *w;        // master weight (out, in) row-major, inside params
    float *w_eff;    // what forward reads; == w unless QAT redirects it
    const gemm_coded *wc;   // w_eff in coded form (QAT with a per-row grid, lb_fq_coded), else NULL
    float *dw;       // gradient slot inside grads: receives dL/d(w_eff)
    float *b, *db;   // bias and its gradient (qwen2 q/k/v), else NULL
    int in, out;
    int param;       // index of the weight in the param table
} lb_train_linear;

// the per-layer pointers into params (or, in grad_layers, into grads); NULL when absent
typedef struct lb_train_layer {
    float *attn_norm, *ffn_norm;   // (C)
    float *q_norm, *k_norm;        // (head_dim); qwen3, hunyuan-dense
    float *wq, *bq, *wk, *bk, *wv, *bv, *wo;
    float *w_gate, *w_up, *w_down;
} lb_train_layer;

enum { LB_TRAIN_LINEARS_PER_LAYER = 7 };   // q, k, v, o, gate, up, down

typedef struct lb_train_acts lb_train_acts;

typedef struct lb_train_model {
    lb_hparams hp;
    int q_dim, kv_dim;
    // parameters and their gradients: ONE allocation each, same layout
    float *params, *grads;
    size_t n_params;
    lb_train_param *table;  size_t n_table;
    float *tok_embd, *output_norm, *output;      // output == tok_embd when tied
    float *d_tok_embd, *d_output_norm, *d_output;
    lb_train_layer *layers, *grad_layers;        // n_layer each
    lb_train_linear *linears;   // n_layer * 7 block linears, then the head: n_linears
    int n_linears;
    // activations: ONE allocation, sized for (B,T) on the first forward (regrown if needed)
    lb_train_acts *acts;
    int B, T;                   // of the last forward
    int have_targets;           // last forward computed the loss and no backward ran since
    int have_logits;            // acts hold the last forward's logits (it had no targets)
    const int32_t *tokens, *targets;   // of the last forward (caller keeps them alive)
} lb_train_model;

// From a loaded model (GGUF / HF / llama2.c): hparams via lb_hparams_from_model, every tensor
// converted with lb_tensor_read_f32 into params. `what` names the source in errors.
int lb_train_model_from_model(lb_train_model *m, const lb_model *src, const char *what, lb_err *err);
// Random init from hyper-parameters and a seed (deterministic): linear weights N(0, 0.02)
// (attn_output and ffn_down scaled by 1/sqrt(2 n_layer), as GPT-2), embeddings N(0, 0.02),
// norm weights 1, biases 0.
int lb_train_model_init(lb_train_model *m, const lb_hparams *hp, uint64_t seed, lb_err *err);
void lb_train_model_free(lb_train_model *m);

// Byte counts for a model and a (B,T) step: parameters (== gradients) and activations
// (forward store + backward scratch). Any pointer may be NULL.
void lb_train_memory(const lb_hparams *hp, int B, int T, size_t *param_bytes, size_t *grad_bytes, size_t *act_bytes);

// tokens, targets are (B,T) and must stay alive until backward. targets NULL: logits only
// (lb_train_model_logits); else *loss = mean cross-entropy over positions whose target >= 0.
int lb_train_model_forward(lb_train_model *m, const int32_t *tokens, const int32_t *targets, int B, int T,
                           float *loss, lb_err *err);
// (B*T, n_vocab) logits of the last forward; valid only when it had no targets
const float *lb_train_model_logits(const lb_train_model *m);
// Gradient of the last forward's mean loss, ADDED into grads (so micro-batches accumulate).
int lb_train_model_backward(lb_train_model *m, lb_err *err);

// --- caller-defined losses (distillation) -----------------------------------------------------
// forward with targets NULL -> the caller reads the logits, computes its own loss and its
// gradient dL/dlogits (B*T, n_vocab) -> lb_train_model_backward_dlogits ADDS dL/dparams into
// grads, exactly as lb_train_model_backward does for the built-in CE (same code below the
// logits). dlogits may be a separate buffer, or the logits themselves overwritten in place
// (lb_train_model_logits_mut): backward reads the logits only as dlogits. One backward per
// forward; the logits are invalid afterwards.
int lb_train_model_backward_dlogits(lb_train_model *m, const float *dlogits, lb_err *err);
// Writable view of the last forward's logits (same validity as lb_train_model_logits).
float *lb_train_model_logits_mut(lb_train_model *m);
// Forward-only use (an online KD teacher): frees the gradient block; backward then fails
// cleanly and zero_grad is a no-op. Saves n_params floats.
void lb_train_model_drop_grads(lb_train_model *m);
void lb_train_model_zero_grad(lb_train_model *m);

// index of a parameter by GGUF name, or -1
int lb_train_model_find(const lb_train_model *m, const char *name);
