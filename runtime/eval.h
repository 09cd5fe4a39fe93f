// eval.h: evaluating models over a text in chunks, the way llama-perplexity does, with
// metrics that stream chunk by chunk (memory: a chunk's logits per model, never a text's).
//
// The protocol (llama.cpp tools/perplexity/perplexity.cpp, perplexity()):
//  - the text loses one trailing '\n' (llama.cpp's -f) and is tokenized once, with BOS when
//    the vocabulary adds one, special texts not parsed;
//  - at least 2*ctx tokens are required; n_chunk = n_tokens / ctx (capped by max_chunks);
//  - chunk i = tokens [i*ctx, (i+1)*ctx) with its first token replaced by BOS, evaluated from
//    position 0 with a fresh context;
//  - positions first = ctx/2 .. ctx-2 each predict the next token ("scored positions").
// A log-softmax row is kept as the raw logits plus the row's max (float) and log-sum (double):
//     log p(v) = (double)(logit[v] - max) - log_sum,  log_sum = log(sum_v expf(logit[v] - max))
// which is exactly how `lowbit perplexity` (and llama.cpp) compute the NLL, so a perplexity
// built from these rows is bit-for-bit the same number, and KL needs no second float rounding.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "infer.h"
#include "tokenizer.h"
#include "lb_error.h"

// --- the chunk plan ---------------------------------------------------------------------------
typedef struct lb_eval_plan {
    int n_ctx;          // tokens per chunk
    long n_chunk;       // chunks to score
    int first;          // first scored position (n_ctx / 2)
    int n_scored;       // scored positions per chunk: first .. n_ctx-2
    int n_logits;       // logit rows the runtime returns per chunk: positions first .. n_ctx-1
    int add_bos;        // replace each chunk's first token by bos
    int32_t bos;
} lb_eval_plan;

// Tokenize a text the llama-perplexity way: drops ONE trailing '\n' of text (in place: len is
// the byte count, text[len] must be writable, e.g. lb_cli_read_file's NUL). *ids malloc'd.
int lb_eval_tokenize(const lb_tokenizer *tok, char *text, size_t *len, int32_t **ids, size_t *n_ids, lb_err *err);

// The plan for n_ids tokens. Fails when fewer than 2*n_ctx tokens (message names text_what),
// or when the vocabulary adds BOS but has none (names model_what). max_chunks <= 0: all.
int lb_eval_plan_build(lb_eval_plan *p, size_t n_ids, int n_ctx, long max_chunks, const lb_tokenizer *tok,
                       const char *model_what, const char *text_what, lb_err *err);

// NLL of token tok under softmax(logits) (n_vocab floats), exactly as a log-softmax row computes
// it (max in float, sum of expf in double): for logits that do not come from an lb_runtime.
double lb_eval_nll(const float *logits, int n_vocab, int tok);

// --- one model's log-softmax over one chunk -----------------------------------------------------
typedef struct lb_logsoftmax {
    int n_rows, n_vocab;
    float *logits;       // n_rows x n_vocab raw logits (row j = position plan.first + j)
    float *max;          // n_rows: max logit of the row
    double *log_sum;     // n_rows: log(sum_v expf(logit[v] - max))
    int32_t *argmax;     // n_rows: lowest id among the largest logits
} lb_logsoftmax;

int lb_logsoftmax_build(lb_logsoftmax *ls, int n_rows, int n_vocab, lb_err *err);
void lb_logsoftmax_free(lb_logsoftmax *ls);

// log p(v) of row j
static inline double lb_logsoftmax_at(const lb_logsoftmax *ls, int j, int v) {
    return (double)(ls->logits[(size_t)j * ls->n_vocab + v] - ls->max[j]) - ls->log_sum[j];
}

// Evaluate chunk `chunk` of ids with rt (fresh context from position 0) and fill ls
// (n_rows = plan->n_logits, n_vocab = the runtime's). scratch: plan->n_ctx tokens.
int lb_eval_chunk(lb_logsoftmax *ls, lb_runtime *rt, const lb_eval_plan *p, const int32_t *ids, long chunk,
                  int32_t *scratch, lb_err *err);

// --- streaming metrics ------------------------------------------------------------------------
// Accumulated over the scored positions of every chunk added, in order (deterministic).
typedef struct lb_eval_stats {
    long count;            // scored positions
    double nll, nll2;      // sum of NLL and NLL^2 (perplexity and its +/-)
    double kl;             // sum over positions of KL(teacher || model) in nats
    long top1;             // positions where argmax(model) == argmax(teacher)
} lb_eval_stats;

// Add one chunk: `model` rows are scored against the text (NLL); when teacher is not NULL
// (rows of the same chunk), also KL(teacher || model) and top-1 agreement. Sums run
// position by position, so the NLL sum equals `lowbit perplexity`'s exactly.
// kl_rows: scratch of p->n_scored doubles (rows computed in parallel, summed in order).
void lb_eval_stats_add(lb_eval_stats *s, const lb_logsoftmax *model, const lb_logsoftmax *teacher,
                       const lb_eval_plan *p, const int32_t *ids, long chunk, double *kl_rows);

double lb_eval_ppl(const lb_eval_stats *s);          // exp(mean NLL)
double lb_eval_ppl_err(const lb_eval_stats *s);      // llama.cpp's +/-: sqrt(var/(count-1)) * PPL; 0 if undefined
double lb_eval_kl_mean(const lb_eval_stats *s);      // mean KL, nats
double lb_eval_top1_pct(const lb_eval_stats *s);     // % of positions agreeing with the teacher

// KL(p || q) of one row pair, in nats, in double: sum_v p(v) (log p(v) - log q(v)).
// Exactly 0 when both rows hold the same logits.
double lb_eval_kl_row(const lb_logsoftmax *p, int jp, const lb_logsoftmax *q, int jq);
