// distill.h: the teacher side of knowledge distillation in `lowbit train` (the YAML `distill:`
// section). Per micro-batch the trainer does:
//   student forward without targets (logits)
//   -> lb_distill_teacher: the teacher's data for the same rows
//        ONLINE  (distill.teacher): an FP lb_train_model run forward on the same inputs
//                (targets NULL, no gradients, no QAT), one row (window) at a time exactly
//                as a store's writer runs it; its fp32 logits are used unrounded
//        OFFLINE (distill.store): each row's window read from a teacher-logit store
//                (formats/h5_logits.h), full logits (fp16 -> fp32), top-K or sampled ids
//   -> lb_distill_loss: total = ce_weight * CE(labels) + kd_weight * KD, and dL/dlogits
//   -> lb_train_model_backward_dlogits (train_model.h)
// Rows of a store are keyed by window (window w = tokens [w*T, w*T+T] of the train split), so
// distillation trains on window-aligned batches (data_loader.h, lb_loader_use_windows) in
// BOTH modes: an online and a stored run see identical batches, and their losses differ only
// by the fp16 rounding of the stored logits.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "kd.h"
#include "h5_logits.h"
#include "train_model.h"
#include "data_loader.h"
#include "lb_error.h"

typedef struct lb_distill_config {
    const char *teacher, *tokenizer;   // online: model path (+ llama2.c tokenizer.bin), or NULL
    const char *store;                 // offline: logit store path, or NULL (exactly one is set)
    int loss;                          // lb_kd_loss (train_config.h)
    float temperature, kd_weight, ce_weight;
} lb_distill_config;

typedef struct lb_distill {
    lb_distill_config cfg;
    kd_opts opts;
    int B, T, V, K;              // K: entries per row of a topk / sampled store (0 otherwise)
    lb_train_model teacher;      // online
    int have_teacher;
    lb_logits_reader *store;     // offline
    // this batch's teacher data (filled by lb_distill_teacher)
    float *tlogits;              // full: (BT,V); topk: (BT,K) (== buf; writable, tests round it)
    int32_t *ids;                // topk / sampled: (BT,K)
    float *weights;              // sampled: (BT,K) = counts / S
    // owned buffers
    float *buf;                  // (BT,V) or (BT,K) teacher logits
    uint8_t *counts;             // sampled: (BT,K)
    float *probs, *ce_losses, *kd_losses;   // loss scratch: (BT,V), (BT), (BT)
} lb_distill;

// Opens the teacher or the store and checks it against the student and the data: teacher
// vocabulary == student's; a store's mode fits cfg->loss (full for forward_kl / reverse_kl /
// cakld, topk, sampled), split "train", seq_len == T, n_vocab == student's, n_windows within
// the split, tokens_hash == lb_tokens_hash over the covered tokens, and for sampled its
// temperature == cfg->temperature. Each mismatch is a one-line error naming the file and the
// field. Switches `train` to window-aligned batches (the store's n_windows, or all windows).
int build_distill(lb_distill *d, const lb_distill_config *cfg, const lb_hparams *student, lb_loader *train, int B,
                  int T, lb_err *err);
void free_distill(lb_distill *d);

// Bytes held: the teacher's parameters and activations (online) or the per-batch store
// buffers, plus the loss scratch; *what gets a short description for the memory line.
size_t lb_distill_memory(const lb_distill *d, const char **what);

// Fill the teacher data for a batch: inputs (B,T) and windows[b] = the window of row b
// (lb_loader_batch_windows; used by the store only).
int lb_distill_teacher(lb_distill *d, const int32_t *inputs, const int64_t *windows, lb_err *err);

// total loss of the batch (mean over positions), its unweighted parts in *ce / *kd (may be
// NULL), and dlogits (BT,V) = d(total)/d(logits), OVERWRITTEN (not accumulated). logits and
// dlogits must not alias. targets (BT) are the labels (CE, and CAKLD's confidence).
float lb_distill_loss(lb_distill *d, float *dlogits, const float *logits, const int32_t *targets, float *ce,
                      float *kd);
