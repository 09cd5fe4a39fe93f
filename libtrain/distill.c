// distill.c: the teacher of `lowbit train`'s distillation (see distill.h): an online FP model
// or a stored-logit reader, the checks that it fits the student and the data, and the
// CE + KD loss with its gradient.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "distill.h"
#include "train_config.h"
#include "ckpt_meta.h"
#include "ops.h"
#include "model.h"

// --- the online teacher ----------------------------------------------------------------------

static int open_teacher(lb_distill *d, const lb_hparams *student, lb_err *err) {
    const char *path = d->cfg.teacher;
    if (lb_train_model_load(&d->teacher, path, d->cfg.tokenizer, err)) return -1;
    d->have_teacher = 1;
    lb_train_model_drop_grads(&d->teacher);   // forward only
    if (d->teacher.hp.n_vocab != student->n_vocab)
        return lb_fail(err, "%s: teacher vocabulary %d != the student's %d (distill.teacher)", path,
                       d->teacher.hp.n_vocab, student->n_vocab);
    return 0;
}

// --- the store -------------------------------------------------------------------------------

static int check_store(lb_distill *d, const lb_hparams *student, const lb_loader *train, lb_err *err) {
    const char *path = d->cfg.store;
    const lb_logits_info *in = lb_logits_reader_info(d->store);
    const int loss = d->cfg.loss;
    const lb_logit_mode need = loss == LB_KD_LOSS_TOPK ? LB_LOGITS_TOPK
                             : loss == LB_KD_LOSS_SAMPLED ? LB_LOGITS_SAMPLED : LB_LOGITS_FULL;
    if (in->mode != need)
        return lb_fail(err, "%s: mode '%s' does not fit distill.loss %s (needs a %s store)", path,
                       lb_logit_mode_name(in->mode), lb_kd_loss_name(loss), lb_logit_mode_name(need));
    if (strcmp(in->split, "train"))
        return lb_fail(err, "%s: split '%s', distillation needs the 'train' split", path, in->split);
    if (in->seq_len != d->T)
        return lb_fail(err, "%s: seq_len %d != data.seq_len %d", path, (int)in->seq_len, d->T);
    if (in->n_vocab != student->n_vocab)
        return lb_fail(err, "%s: n_vocab %d != the student's vocabulary %d", path, (int)in->n_vocab, student->n_vocab);
    const int64_t all = (int64_t)lb_loader_n_eval_windows(train);
    if (in->n_windows < 1 || in->n_windows > all)
        return lb_fail(err, "%s: n_windows %lld, but data.tokens holds %lld windows of %d", path,
                       (long long)in->n_windows, (long long)all, d->T);
    const uint64_t h = lb_tokens_hash(train->tokens, (size_t)in->n_windows * (size_t)d->T + 1);
    if (h != in->tokens_hash)
        return lb_fail(err, "%s: tokens_hash %016llx != %016llx of data.tokens (a store of other tokens)", path,
                       (unsigned long long)in->tokens_hash, (unsigned long long)h);
    if (need == LB_LOGITS_SAMPLED && (float)in->temperature != d->cfg.temperature)
        return lb_fail(err, "%s: temperature %g != distill.temperature %g (sampled stores are drawn at one T)", path,
                       in->temperature, (double)d->cfg.temperature);
    if (need != LB_LOGITS_FULL && (in->k < 1 || in->k > in->n_vocab))
        return lb_fail(err, "%s: k %d out of range 1..%d", path, (int)in->k, (int)in->n_vocab);
    d->K = need == LB_LOGITS_FULL ? 0 : in->k;
    return 0;
}

// --- build / free ----------------------------------------------------------------------------

int build_distill(lb_distill *d, const lb_distill_config *cfg, const lb_hparams *student, lb_loader *train, int B,
                  int T, lb_err *err) {
    memset(d, 0, sizeof *d);
    d->cfg = *cfg;
    d->opts = (kd_opts){.temperature = cfg->temperature, .t2_scale = 0};
    d->B = B, d->T = T, d->V = student->n_vocab;
    if (!cfg->teacher == !cfg->store) return lb_fail(err, "distill: give exactly one of teacher or store");
    int64_t n_windows = 0;   // online: every window of the split
    if (cfg->teacher) {
        if (cfg->loss == LB_KD_LOSS_TOPK || cfg->loss == LB_KD_LOSS_SAMPLED)
            return lb_fail(err, "%s: distill.loss %s needs a store of that mode, not an online teacher", cfg->teacher,
                           lb_kd_loss_name(cfg->loss));
        if (open_teacher(d, student, err)) goto fail;
    } else {
        if (!(d->store = lb_logits_open(cfg->store, err))) goto fail;
        if (check_store(d, student, train, err)) goto fail;
        n_windows = lb_logits_reader_info(d->store)->n_windows;
    }
    if (lb_loader_use_windows(train, n_windows, err)) goto fail;
    const size_t BT = (size_t)B * T, V = (size_t)d->V, K = (size_t)d->K;
    d->probs = malloc(BT * V * sizeof(float));
    d->ce_losses = malloc(BT * sizeof(float));
    d->kd_losses = malloc(BT * sizeof(float));
    int ok = d->probs && d->ce_losses && d->kd_losses;
    d->buf = malloc(BT * (K ? K : V) * sizeof(float));   // the batch's teacher logits
    ok = ok && d->buf;
    if (d->store) {
        if (K) {
            d->ids = malloc(BT * K * sizeof(int32_t));
            ok = ok && d->ids;
        }
        if (K && cfg->loss == LB_KD_LOSS_SAMPLED) {
            d->counts = malloc(BT * K);
            d->weights = malloc(BT * K * sizeof(float));
            ok = ok && d->counts && d->weights;
        }
    }
    if (!ok) { lb_fail(err, "distill: out of memory for the batch buffers"); goto fail; }
    return 0;
fail:
    free_distill(d);
    return -1;
}

void free_distill(lb_distill *d) {
    if (d->have_teacher) lb_train_model_free(&d->teacher);
    lb_logits_close(d->store);
    free(d->buf); free(d->ids); free(d->counts); free(d->weights);
    free(d->probs); free(d->ce_losses); free(d->kd_losses);
    memset(d, 0, sizeof *d);
}

size_t lb_distill_memory(const lb_distill *d, const char **what) {
    const size_t BT = (size_t)d->B * d->T, V = (size_t)d->V, K = (size_t)d->K;
    size_t bytes = BT * V * sizeof(float) + 2 * BT * sizeof(float);   // loss scratch
    bytes += BT * (K ? K : V) * sizeof(float);                         // the batch's teacher logits
    if (d->have_teacher) {
        size_t pb, ab;
        lb_train_memory(&d->teacher.hp, 1, d->T, &pb, NULL, &ab);      // forward row by row
        bytes += pb + ab;
        if (what) *what = "teacher params + activations, teacher logits";
    } else {
        if (K) bytes += BT * K * sizeof(int32_t);
        if (d->counts) bytes += BT * K * (1 + sizeof(float));
        if (what) *what = "store batch buffer";
    }
    return bytes;
}

// --- per batch -------------------------------------------------------------------------------

int lb_distill_teacher(lb_distill *d, const int32_t *inputs, const int64_t *windows, lb_err *err) {
    const size_t T = (size_t)d->T, V = (size_t)d->V, K = (size_t)d->K;
    if (d->have_teacher) {
        // one forward per row, (1,T) each, as a store's writer runs each window alone: an
        // sgemm's rounding depends on its row count, so a (B,T) forward would differ from the
        // stored windows in the last bits; row by row, online == store up to the fp16 rounding
        for (int b = 0; b < d->B; b++) {
            const size_t row = (size_t)b * T;
            if (lb_train_model_forward(&d->teacher, inputs + row, NULL, 1, d->T, NULL, err)) return -1;
            memcpy(d->buf + row * V, lb_train_model_logits(&d->teacher), T * V * sizeof(float));
        }
        d->tlogits = d->buf;
        return 0;
    }
    for (int b = 0; b < d->B; b++) {
        const size_t row = (size_t)b * T;
        float *lg = K ? (d->cfg.loss == LB_KD_LOSS_TOPK ? d->buf + row * K : NULL) : d->buf + row * V;
        if (lb_logits_read_window(d->store, windows[b], lg, K ? d->ids + row * K : NULL,
                                  d->counts ? d->counts + row * K : NULL, err))
            return -1;
    }
    d->tlogits = d->buf;
    if (d->counts) {   // importance weights of Sparse Logit Sampling: count / S
        const float inv = 1.0f / (float)K;
        for (size_t i = 0; i < (size_t)d->B * T * K; i++) d->weights[i] = (float)d->counts[i] * inv;
    }
    return 0;
}

float lb_distill_loss(lb_distill *d, float *dlogits, const float *logits, const int32_t *targets, float *ce_out,
                      float *kd_out) {
    const int N = d->B * d->T, V = d->V, K = d->K;
    const float w_ce = d->cfg.ce_weight, w_kd = d->cfg.kd_weight;
    memset(dlogits, 0, (size_t)N * V * sizeof(float));
    float ce, kd;
    if (d->cfg.loss <= LB_KD_LOSS_CAKLD) {   // full teacher logits: kd.h's CE + KD total
        const kd_kind kind = (kd_kind)d->cfg.loss;
        kd_total_forward(d->probs, d->ce_losses, d->kd_losses, &ce, &kd, logits, d->tlogits, targets, NULL, kind,
                         d->opts, w_ce, w_kd, N, V);
        kd_total_backward(dlogits, d->probs, logits, d->tlogits, targets, NULL, kind, d->opts, w_ce, w_kd, 1.0f, N, V);
    } else {
        ce = crossentropy_forward(d->probs, d->ce_losses, logits, targets, N, V);
        if (d->cfg.loss == LB_KD_LOSS_TOPK) {
            kd = kd_topk_forward(d->kd_losses, logits, d->ids, d->tlogits, NULL, d->opts, N, V, K);
            if (w_kd != 0.0f) kd_topk_backward(dlogits, logits, d->ids, d->tlogits, NULL, d->opts, w_kd, N, V, K);
        } else {
            kd = kd_sampled_forward(d->kd_losses, logits, d->ids, d->weights, NULL, d->opts, N, V, K);
            if (w_kd != 0.0f) kd_sampled_backward(dlogits, logits, d->ids, d->weights, NULL, d->opts, w_kd, N, V, K);
        }
        if (w_ce != 0.0f) crossentropy_backward(dlogits, d->probs, targets, w_ce, N, V);
    }
    if (ce_out) *ce_out = ce;
    if (kd_out) *kd_out = kd;
    return w_ce * ce + w_kd * kd;
}
