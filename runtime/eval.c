// eval.c: see eval.h.
#include "eval.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

// --- the chunk plan ---------------------------------------------------------------------------
int lb_eval_tokenize(const lb_tokenizer *tok, char *text, size_t *len, int32_t **ids, size_t *n_ids, lb_err *err) {
    if (*len > 0 && text[*len - 1] == '\n') text[--*len] = '\0';   // llama.cpp's -f drops one
    return lb_tokenize(tok, text, *len, 1, 0, ids, n_ids, err);
}

int lb_eval_plan_build(lb_eval_plan *p, size_t n_ids, int n_ctx, long max_chunks, const lb_tokenizer *tok,
                       const char *model_what, const char *text_what, lb_err *err) {
    memset(p, 0, sizeof *p);
    if (n_ctx < 4) return lb_fail(err, "context of %d tokens is too small (at least 4)", n_ctx);
    if (n_ids < 2 * (size_t)n_ctx)
        return lb_fail(err, "%s: tokenizes to only %zu tokens; a context of %d needs at least %d", text_what, n_ids,
                       n_ctx, 2 * n_ctx);
    p->add_bos = lb_tokenizer_add_bos(tok);
    p->bos = lb_tokenizer_bos(tok);
    if (p->add_bos && p->bos < 0) return lb_fail(err, "%s: the vocabulary adds BOS but has no BOS token", model_what);
    p->n_ctx = n_ctx;
    p->n_chunk = (long)(n_ids / (size_t)n_ctx);
    if (max_chunks > 0 && max_chunks < p->n_chunk) p->n_chunk = max_chunks;
    p->first = n_ctx / 2;
    p->n_logits = n_ctx - p->first;
    p->n_scored = n_ctx - 1 - p->first;
    return 0;
}

// --- one model's log-softmax over one chunk -----------------------------------------------------
int lb_logsoftmax_build(lb_logsoftmax *ls, int n_rows, int n_vocab, lb_err *err) {
    memset(ls, 0, sizeof *ls);
    if (n_rows <= 0 || n_vocab <= 0) return lb_fail(err, "log-softmax of %d x %d rows", n_rows, n_vocab);
    ls->n_rows = n_rows;
    ls->n_vocab = n_vocab;
    ls->logits = malloc((size_t)n_rows * (size_t)n_vocab * sizeof(float));
    ls->max = malloc((size_t)n_rows * sizeof(float));
    ls->log_sum = malloc((size_t)n_rows * sizeof(double));
    ls->argmax = malloc((size_t)n_rows * sizeof(int32_t));
    if (!ls->logits || !ls->max || !ls->log_sum || !ls->argmax) {
        lb_logsoftmax_free(ls);
        return lb_fail(err, "out of memory for %d x %d logits", n_rows, n_vocab);
    }
    return 0;
}

void lb_logsoftmax_free(lb_logsoftmax *ls) {
    if (!ls) return;
    free(ls->logits);
    free(ls->max);
    free(ls->log_sum);
    free(ls->argmax);
    memset(ls, 0, sizeof *ls);
}

// max in float, sum of expf in double: the arithmetic of llama.cpp's log_softmax (perplexity.cpp)
static void normalize_row(lb_logsoftmax *ls, int j) {
    const float *x = ls->logits + (size_t)j * ls->n_vocab;
    float max = x[0];
    int32_t arg = 0;
    for (int v = 1; v < ls->n_vocab; v++)
        if (x[v] > max) { max = x[v]; arg = v; }
    double sum_exp = 0.0;
    for (int v = 0; v < ls->n_vocab; v++) sum_exp += expf(x[v] - max);
    ls->max[j] = max;
    ls->log_sum[j] = log(sum_exp);
    ls->argmax[j] = arg;
}

double lb_eval_nll(const float *logits, int n_vocab, int tok) {
    float max = logits[0];
    for (int v = 1; v < n_vocab; v++) max = logits[v] > max ? logits[v] : max;
    double sum_exp = 0.0;
    for (int v = 0; v < n_vocab; v++) sum_exp += expf(logits[v] - max);
    return -((double)(logits[tok] - max) - log(sum_exp));
}

int lb_eval_chunk(lb_logsoftmax *ls, lb_runtime *rt, const lb_eval_plan *p, const int32_t *ids, long chunk,
                  int32_t *scratch, lb_err *err) {
    const int n_vocab = lb_runtime_hparams(rt)->n_vocab;
    if (ls->n_rows != p->n_logits || ls->n_vocab != n_vocab)
        return lb_fail(err, "log-softmax buffer of %d x %d rows for a chunk of %d x %d", ls->n_rows, ls->n_vocab,
                       p->n_logits, n_vocab);
    if (chunk < 0 || chunk >= p->n_chunk) return lb_fail(err, "chunk %ld out of range (%ld chunks)", chunk, p->n_chunk);
    memcpy(scratch, ids + (size_t)chunk * p->n_ctx, (size_t)p->n_ctx * sizeof *scratch);
    if (p->add_bos) scratch[0] = p->bos;
    if (lb_runtime_eval(rt, scratch, p->n_ctx, 0, ls->logits, p->n_logits, err)) return -1;
    // rows are independent; each is computed by one thread, so results do not depend on threads
    #pragma omp parallel for schedule(static)
    for (int j = 0; j < ls->n_rows; j++) normalize_row(ls, j);
    return 0;
}

// --- streaming metrics ------------------------------------------------------------------------
double lb_eval_kl_row(const lb_logsoftmax *p, int jp, const lb_logsoftmax *q, int jq) {
    const float *xp = p->logits + (size_t)jp * p->n_vocab;
    const float *xq = q->logits + (size_t)jq * q->n_vocab;
    const float mp = p->max[jp], mq = q->max[jq];
    const double sp = p->log_sum[jp], sq = q->log_sum[jq];
    double kl = 0.0;
    for (int v = 0; v < p->n_vocab; v++) {
        const double lp = (double)(xp[v] - mp) - sp;
        const double lq = (double)(xq[v] - mq) - sq;
        kl += exp(lp) * (lp - lq);
    }
    return kl;
}

void lb_eval_stats_add(lb_eval_stats *s, const lb_logsoftmax *model, const lb_logsoftmax *teacher,
                       const lb_eval_plan *p, const int32_t *ids, long chunk, double *kl_rows) {
    const size_t base = (size_t)chunk * p->n_ctx;
    // row j is position first + j; it predicts the token at first + j + 1
    for (int j = 0; j < p->n_scored; j++) {
        const int32_t next = ids[base + p->first + j + 1];
        const double v = -lb_logsoftmax_at(model, j, next);
        s->nll += v;
        s->nll2 += v * v;
    }
    if (teacher) {
        if (teacher == model) {
            // the teacher against itself: every term is p * (log p - log p) = 0
            memset(kl_rows, 0, (size_t)p->n_scored * sizeof *kl_rows);
        } else {
            #pragma omp parallel for schedule(static)
            for (int j = 0; j < p->n_scored; j++) kl_rows[j] = lb_eval_kl_row(teacher, j, model, j);
        }
        for (int j = 0; j < p->n_scored; j++) {
            s->kl += kl_rows[j];
            s->top1 += model->argmax[j] == teacher->argmax[j];
        }
    }
    s->count += p->n_scored;
}

double lb_eval_ppl(const lb_eval_stats *s) { return s->count > 0 ? exp(s->nll / s->count) : NAN; }

double lb_eval_ppl_err(const lb_eval_stats *s) {
    if (s->count < 2) return 0.0;
    const double mean = s->nll / s->count;
    const double var = s->nll2 / s->count - mean * mean;
    return var > 0 ? sqrt(var / (s->count - 1)) * exp(mean) : 0.0;
}

double lb_eval_kl_mean(const lb_eval_stats *s) { return s->count > 0 ? s->kl / s->count : NAN; }

double lb_eval_top1_pct(const lb_eval_stats *s) { return s->count > 0 ? 100.0 * (double)s->top1 / s->count : NAN; }
