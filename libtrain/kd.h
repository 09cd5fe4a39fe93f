// kd.h: knowledge-distillation losses on student logits (REFERENCE.md §2.4).
// Same conventions as ops.h: fp32, row-major; outputs first, then inputs, then sizes;
// N = positions (B*T), V = vocabulary; every *_backward ACCUMULATES (+=) into dlogits.
// Nothing is stored between forward and backward: backward recomputes the row softmaxes from
// the logits (two log-sum-exps per row), so no scratch and no allocation at all.
//
// Distributions at temperature T: p = softmax(student/T), q = softmax(teacher/T).
// Per-position losses go to losses[n] (0 where the position does not count); forward returns
// their MEAN over counted positions (0 when none count); backward is the gradient of
// dloss * that mean w.r.t. the student logits (the 1/T of the chain rule included).
// MASK: mask (N) may be NULL (every position counts); mask[n] == 0 drops position n.
// T2: when t2_scale != 0 the loss is multiplied by T^2 (Hinton's factor, keeps gradient size
// independent of T). Off by default: T = 1 without T^2 is the usual low-bit QAT setting.
#pragma once
#include <stdint.h>

typedef enum {
    KD_FORWARD_KL = 0,   // KL(q || p): mode-covering, the classic KD loss
    KD_REVERSE_KL = 1,   // KL(p || q): mode-seeking
    KD_CAKLD      = 2,   // conf*KL(p||q) + (1-conf)*KL(q||p), conf = q(label) per position
} kd_kind;

typedef struct {
    float temperature;   // T > 0 (1 is the common choice)
    int t2_scale;        // nonzero: multiply the loss by T^2
} kd_opts;

// --- full teacher logits -----------------------------------------------------------------------
// logits, teacher are (N,V). labels (N) is needed by KD_CAKLD only (may be NULL otherwise);
// for CAKLD conf = q(label) is the teacher's probability at temperature T of the label, and a
// label < 0 drops the position (the same ignore hook as crossentropy_forward); labels must be
// < V (the caller checks, as for crossentropy targets).
float kd_full_forward(float *losses, const float *logits, const float *teacher, const int32_t *labels,
                      const uint8_t *mask, kd_kind kind, kd_opts opts, int N, int V);
void kd_full_backward(float *dlogits, const float *logits, const float *teacher, const int32_t *labels,
                      const uint8_t *mask, kd_kind kind, kd_opts opts, float dloss, int N, int V);

// --- top-K teacher: KL(qK || pK) ------------------------------------------------------------------
// The teacher is cached as K (id, logit) pairs per position: ids, tlogits are (N,K).
// CHOICE: BOTH sides are renormalised over the SAME K ids: qK = softmax over the K teacher
// logits / T, pK = softmax over the student's logits at those K ids / T. The student's mass
// outside the K ids is thus unconstrained (gradient 0 there); the alternative (full student
// softmax, q zero outside K) would push every non-top-K logit down. With K = V this equals
// the full forward KL. An id < 0 is padding (entry skipped); ids in a row must be distinct
// and < V (the caller checks, as for crossentropy targets). Biased vs full KD (Sparse Logit
// Sampling, arXiv 2503.16870) -- prefer kd_sampled_* when the cache is built for it.
float kd_topk_forward(float *losses, const float *logits, const int32_t *ids, const float *tlogits,
                      const uint8_t *mask, kd_opts opts, int N, int V, int K);
void kd_topk_backward(float *dlogits, const float *logits, const int32_t *ids, const float *tlogits,
                      const uint8_t *mask, kd_opts opts, float dloss, int N, int V, int K);

// --- sampled teacher (Sparse Logit Sampling): cross-entropy to an unbiased estimate of q ---------
// ids, weights are (N,S): S sampled ids with importance weights w such that E[sum_j w_j
// f(id_j)] = sum_i q_i f(i). loss_n = -sum_j w_j log p(id_j), p the FULL student softmax at
// T. Its expectation is CE(q, p) = KL(q || p) + H(q): the teacher entropy H(q) is a constant
// of the student, so the gradient is an unbiased estimate of the forward-KL gradient; the loss
// VALUE is KL + H(q), not KL (we do not know H(q) from samples). Repeated ids simply add.
// An id < 0 is padding (skipped); ids must be < V. With S = V, ids 0..V-1 and w = q the loss is
// exactly forward KL + H(q).
float kd_sampled_forward(float *losses, const float *logits, const int32_t *ids, const float *weights,
                         const uint8_t *mask, kd_opts opts, int N, int V, int S);
void kd_sampled_backward(float *dlogits, const float *logits, const int32_t *ids, const float *weights,
                         const uint8_t *mask, kd_opts opts, float dloss, int N, int V, int S);

// --- total = w_ce * CE(labels) + w_kd * KD (full teacher logits) ----------------------------------
// probs (N,V) and ce_losses, kd_losses (N) are caller-provided scratch/outputs. CE is the
// mean over labels >= 0 (crossentropy_forward), KD the mean over its own counted positions.
// labels (N) is required here (CE needs it).
// *ce_out / *kd_out (may be NULL) receive the two unweighted parts for logging.
float kd_total_forward(float *probs, float *ce_losses, float *kd_losses, float *ce_out, float *kd_out,
                       const float *logits, const float *teacher, const int32_t *labels, const uint8_t *mask,
                       kd_kind kind, kd_opts opts, float w_ce, float w_kd, int N, int V);
// probs is the forward's probs (read only; must not alias dlogits here)
void kd_total_backward(float *dlogits, const float *probs, const float *logits, const float *teacher,
                       const int32_t *labels, const uint8_t *mask, kd_kind kind, kd_opts opts,
                       float w_ce, float w_kd, float dloss, int N, int V);
