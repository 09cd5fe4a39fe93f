// ops.h: the training engine's ops, one forward/backward pair each (llm.c's train_gpt2.c style).
// All fp32, row-major, contiguous. Conventions:
//  - arguments are outputs first, then inputs, then sizes; shape comments use
//    N = rows (B*T tokens), C = channels;
//  - every *_backward ACCUMULATES (+=) into its gradient outputs, so a tensor used twice
//    (tied embedding, residual stream) just receives both contributions; callers zero first;
//  - a NULL gradient output means "not wanted" (frozen weight, input that needs no gradient).
#pragma once
#include <stdint.h>
#include <stddef.h>
#include "gemm_amx.h"

// --- encoder: token embedding lookup --------------------------------------------------
// out is (N,C); tokens is (N); wte is (V,C). Tokens must be in range (the caller checks).
void encoder_forward(float *out, const int32_t *tokens, const float *wte, int N, int C);
// dwte is (V,C): the rows of the tokens receive dout
void encoder_backward(float *dwte, const float *dout, const int32_t *tokens, int N, int C);

// --- rmsnorm: out = x / sqrt(mean(x^2) + eps) * w, per row ----------------------------
// out, inp are (N,C); w is (C); rstd is (N), stored for backward. out may equal inp.
// Also the per-head q/k norm: N = tokens*heads rows of C = head_dim.
void rmsnorm_forward(float *out, float *rstd, const float *inp, const float *w, int N, int C, float eps);
// dinp is (N,C), dw is (C); inp is the forward input (not the output)
void rmsnorm_backward(float *dinp, float *dw, const float *dout, const float *inp, const float *w,
                      const float *rstd, int N, int C);

// --- linear: out = inp W^T + b; W is (OC,IC) row-major (a GGUF row per output) -------------
// out is (N,OC), inp is (N,IC), bias is (OC) or NULL. cblas_sgemm, or gemm_amx on AMX CPUs.
// wc: the same W in coded form (a per-row QAT grid, lb_fq_coded), or NULL; the AMX products
// then use it (one bf16 part of W instead of three), OpenBLAS uses w.
void linear_forward(float *out, const float *inp, const float *w, const gemm_coded *wc, const float *bias, int N,
                    int IC, int OC);
// dinp (N,IC) += dout W; dw (OC,IC) += dout^T inp; dbias (OC) += column sums of dout
void linear_backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp, const float *w,
                     const gemm_coded *wc, int N, int IC, int OC);

// --- rope: rotary position embedding -------------------------------------------------------
// style 0 = adjacent pairs (x[2i], x[2i+1]) (llama GGUF order), 1 = NEOX halves (x[i], x[i+d/2])
// (qwen2/qwen3/hunyuan-dense); same values as lb_rope_style.
// cs is (T, head_dim): cos/sin pairs of theta_i = t * base^(-2i/head_dim), built exactly as
// runtime/infer.c does (theta *= base^(-2/d) in float) so training and inference agree bitwise.
void rope_table(float *cs, int T, int head_dim, float base);
// out, inp are (B,T,NH,HD); out may equal inp. Position of token (b,t) is t.
void rope_forward(float *out, const float *inp, const float *cs, int B, int T, int NH, int HD, int style);
// dinp += R^T dout (the rotation is orthogonal: rotate by -theta)
void rope_backward(float *dinp, const float *dout, const float *cs, int B, int T, int NH, int HD, int style);

// --- causal grouped-query attention ---------------------------------------------------------
// q is (B,T,NH,HD); k, v are (B,T,NKV,HD), head h reads kv head h / (NH/NKV); out is (B,T,NH,HD).
// Scores are scaled by 1/sqrt(HD). MEMORY POLICY: the softmax probabilities att (B,NH,T,T) are
// STORED by forward (the strict upper triangle is written as 0) and read by backward; nothing
// is recomputed.
void attention_forward(float *out, float *att, const float *q, const float *k, const float *v,
                       int B, int T, int NH, int NKV, int HD);
// dq (B,T,NH,HD), dk, dv (B,T,NKV,HD) accumulate. Uses a per-thread (T,T) scratch it allocates;
// returns 0, or -1 when that allocation fails.
int attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *q, const float *k,
                       const float *v, const float *att, int B, int T, int NH, int NKV, int HD);

// --- swiglu: out = silu(gate) * up, silu(x) = x * sigmoid(x) -----------------------------
// out, gate, up are (N) elements
void swiglu_forward(float *out, const float *gate, const float *up, size_t N);
void swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate, const float *up, size_t N);

// --- residual: out = a + b -----------------------------------------------------------------
void residual_forward(float *out, const float *a, const float *b, size_t N);
void residual_backward(float *da, float *db, const float *dout, size_t N);

// --- cross-entropy from logits -----------------------------------------------------------------
// logits, probs are (N,V); targets is (N); losses is (N). probs = softmax(logits) (may equal
// logits: computed in place, logits are not needed afterwards); losses[i] = -log probs[i][t_i].
// IGNORE HOOK: a target < 0 marks a position that does not count (loss 0, no gradient); later
// KD losses use it. Returns the mean loss over counted positions (0 when none count).
float crossentropy_forward(float *probs, float *losses, const float *logits, const int32_t *targets, int N, int V);
// dlogits (N,V) += dloss * (probs - onehot(target)) / n_counted, i.e. the gradient of
// dloss * mean loss. dlogits may equal probs (then it is overwritten, not accumulated).
void crossentropy_backward(float *dlogits, const float *probs, const int32_t *targets, float dloss, int N, int V);
// Both at once, in place: logits (N,V) become dloss * (probs - onehot(target)) / n_counted, the
// values crossentropy_forward + crossentropy_backward(in place) give, bit for bit, in one pass
// less over the (N,V) block. Returns the mean loss; losses as crossentropy_forward.
float crossentropy_forward_backward(float *logits, float *losses, const int32_t *targets, float dloss, int N, int V);
