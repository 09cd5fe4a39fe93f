// make_store.c: a minimal teacher-logit store writer for the distillation tests (what
// `lowbit teacher` does, reduced to the modes the tests need), so the tests do not depend on
// that command: the teacher (lb_train_model, fp32) runs forward on each window of the token
// store's train split alone and its logits go through lb_logits_writer.
//   make_store TEACHER TOKENIZER|- TOKENS.h5 T full|topk K N_WINDOWS OUT.h5
// N_WINDOWS 0: all windows of the split.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "h5_logits.h"
#include "h5_tokens.h"
#include "train_model.h"
#include "model.h"

static int die(const char *msg) { fprintf(stderr, "make_store: %s\n", msg); return 1; }

int main(int argc, char **argv) {
    if (argc != 9) return die("usage: make_store TEACHER TOKENIZER|- TOKENS.h5 T full|topk K N_WINDOWS OUT.h5");
    const char *teacher_path = argv[1], *tok = strcmp(argv[2], "-") ? argv[2] : NULL, *tokens = argv[3], *out = argv[8];
    const int T = atoi(argv[4]), K = atoi(argv[6]);
    long long nw = atoll(argv[7]);
    lb_logit_mode mode;
    if (lb_logit_mode_parse(argv[5], &mode) || mode == LB_LOGITS_SAMPLED) return die("mode: full or topk");
    lb_err err = {{0}};
    int32_t *ids;
    size_t n;
    if (lb_tokens_read(tokens, LB_SPLIT_TRAIN, &ids, &n, NULL, &err)) return die(err.msg);
    if (T < 1 || n < (size_t)T + 1) return die("bad T");
    const long long all = (long long)((n - 1) / (size_t)T);
    if (nw <= 0 || nw > all) nw = all;
    lb_model src;
    if (lb_model_load(&src, teacher_path, tok, &err)) return die(err.msg);
    lb_train_model m;
    if (lb_train_model_from_model(&m, &src, teacher_path, &err)) return die(err.msg);
    lb_model_free(&src);
    const int V = m.hp.n_vocab;
    if (mode == LB_LOGITS_TOPK && (K < 1 || K > V)) return die("bad K");
    lb_logits_info info;
    memset(&info, 0, sizeof info);
    info.mode = mode; info.n_vocab = V; info.seq_len = T; info.k = mode == LB_LOGITS_TOPK ? K : 0;
    info.n_windows = nw; info.temperature = 1.0; snprintf(info.split, sizeof info.split, "train");
    info.teacher = (char *)teacher_path; info.tokens = (char *)tokens;
    info.tokens_hash = lb_tokens_hash(ids, (size_t)nw * T + 1);
    lb_logits_writer *w = lb_logits_writer_create(out, &info, &err);
    if (!w) return die(err.msg);
    int32_t *kid = malloc((size_t)T * (K > 0 ? K : 1) * sizeof(int32_t));
    float *klg = malloc((size_t)T * (K > 0 ? K : 1) * sizeof(float));
    for (long long win = 0; win < nw; win++) {
        if (lb_train_model_forward(&m, ids + win * T, NULL, 1, T, NULL, &err)) { lb_logits_writer_abort(w); return die(err.msg); }
        const float *lg = lb_train_model_logits(&m);
        int rc;
        if (mode == LB_LOGITS_FULL) {
            rc = lb_logits_writer_append(w, lg, NULL, NULL, &err);
        } else {   // K largest, descending (insertion into a sorted list; ties keep the lower id first)
            for (int t = 0; t < T; t++) {
                const float *x = lg + (size_t)t * V;
                int32_t *id = kid + (size_t)t * K;
                float *v = klg + (size_t)t * K;
                int n_in = 0;
                for (int i = 0; i < V; i++) {
                    if (n_in == K && !(x[i] > v[K - 1])) continue;
                    int p = n_in < K ? n_in++ : K - 1;
                    while (p > 0 && x[i] > v[p - 1]) { v[p] = v[p - 1]; id[p] = id[p - 1]; p--; }
                    v[p] = x[i]; id[p] = i;
                }
            }
            rc = lb_logits_writer_append(w, klg, kid, NULL, &err);
        }
        if (rc) { lb_logits_writer_abort(w); return die(err.msg); }
    }
    if (lb_logits_writer_finish(w, &err)) return die(err.msg);
    printf("%s: %s, %lld windows of %d, vocab %d\n", out, lb_logit_mode_name(mode), nw, T, V);
    lb_train_model_free(&m);
    free(ids); free(kid); free(klg);
    return 0;
}
