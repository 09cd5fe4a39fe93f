// cmd_verify.c: `lowbit verify CKPT.h5 OUT.gguf --text FILE`: does the exported GGUF compute
// what the checkpoint's QAT model computes?
//
// Two engines on the same token chunks (llama-perplexity's protocol, as `lowbit perplexity`:
// chunk i = tokens [i*ctx, (i+1)*ctx) with BOS first, scored on its second half):
//   train:   libtrain's model with the checkpoint's master weights and the QAT w_eff (lambda 0),
//            fp32 sgemm everywhere. token_embd / output are passed through the GGUF's storage type
//            of those tensors (from_float -> to_float of the checkpoint's weights): export stores
//            them RTN-quantized by design (--embeddings), and that is not what verify checks.
//   runtime: runtime/infer.c on the GGUF's bytes.
// Per chunk: max |logit_rt - logit_train| over all positions, relative to max |logit_train|, and
// both perplexities. Exit 1 beyond the bounds below.
//
// Bounds, and why: the runtime does not multiply low-bit (and q8_0) weights with f32
// activations: it first rounds each activation row to q8_K (q2_k, tq1_0, tq2_0, q2_0c, stq1_0) or
// q8_0 (q8_0 head), i.e. 8-bit with a scale per 256 / 32 values, a relative rounding error of
// up to ~0.4% per element (1/254 of the block's max) that the matmuls average down and the layers
// compound. Measured on 1-layer / 2-layer dim-512 models after a few training steps (tests/
// export.cmake): rel diff 0.3-1%, perplexity within 0.05%. A GGUF of a different checkpoint
// (even the same config with another seed) gives rel diff > 20% and perplexities apart by
// far more than 1%. So: max rel diff <= 5% and |ppl_rt / ppl_train - 1| <= 1%.
#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"
#include "cli_util.h"
#include "export_gguf.h"
#include "infer.h"
#include "eval.h"
#include "lb_types.h"
#include "model.h"
#include "tokenizer.h"

#define MAX_REL_DIFF 0.05
#define MAX_PPL_REL 0.01

static void usage(FILE *f) {
    fprintf(f,
        "usage: lowbit verify CKPT.h5 MODEL.gguf --text FILE [--ctx 128] [--chunks 4] [-t N]\n"
        "\n"
        "Runs the checkpoint's QAT model (training engine, fp32) and the GGUF (runtime) on the same\n"
        "chunks of FILE and compares their logits and perplexities (llama-perplexity protocol).\n"
        "Exit 1 when max|diff|/max|logit| > %.2f or the perplexities differ by more than %.1f%%.\n"
        "\n"
        "  -f, --text FILE   text (needs at least 2 x ctx tokens)\n"
        "  -c, --ctx N       tokens per chunk (default 128)\n"
        "      --chunks N    chunks (default 4)\n"
        "  -t, --threads N   threads (default: number of processors)\n"
        "  -h, --help        this help\n",
        MAX_REL_DIFF, 100 * MAX_PPL_REL);
}


// the GGUF must describe the checkpoint's architecture before any number is compared
static int same_shape(const lb_hparams *a, const lb_hparams *b, const char *gguf, lb_err *err) {
#define SAME(f) if (a->f != b->f) return lb_fail(err, "%s: " #f " %d, the checkpoint's model has %d", gguf, (int)b->f, (int)a->f)
    SAME(arch); SAME(n_vocab); SAME(n_embd); SAME(n_layer); SAME(n_ff); SAME(n_head); SAME(n_head_kv);
    SAME(head_dim); SAME(rope_style); SAME(qk_norm); SAME(qkv_bias); SAME(tied_output);
#undef SAME
    if (a->norm_eps != b->norm_eps || a->rope_base != b->rope_base)
        return lb_fail(err, "%s: norm epsilon / rope base differ from the checkpoint's", gguf);
    return 0;
}

// round the checkpoint's embedding / head through the type the GGUF stores them in
static int match_embedding(lb_train_model *m, const lb_model *g, const char *name, lb_err *err) {
    const lb_tensor *t = lb_model_find(g, name);
    const int pi = lb_train_model_find(m, name);
    if (!t || pi < 0 || t->type == LB_TYPE_F32) return 0;
    const lb_type_traits *tt = lb_type_get(t->type);
    const lb_train_param *p = &m->table[pi];
    const int64_t K = p->ne[0], rows = p->ne[1];
    const size_t rs = lb_row_size(t->type, K);
    if (!tt || !tt->from_float || !tt->to_float || !rs) return lb_fail(err, "%s: %s: type %s not supported here", "verify", name, tt ? tt->name : "?");
    void *buf = malloc(rs);
    if (!buf) return lb_fail(err, "verify: out of memory");
    for (int64_t r = 0; r < rows; r++) {
        float *x = m->params + p->offset + r * K;
        tt->from_float(x, buf, K);
        tt->to_float(buf, x, K);
    }
    free(buf);
    return 0;
}

int cmd_verify(int argc, char **argv) {
    enum { OPT_CHUNKS = 1000 };
    static const struct option opts[] = {
        {"text", required_argument, 0, 'f'}, {"ctx", required_argument, 0, 'c'},
        {"chunks", required_argument, 0, OPT_CHUNKS}, {"threads", required_argument, 0, 't'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *text_path = NULL;
    long n_ctx = 128, max_chunks = 4, n_threads = omp_get_num_procs();
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:c:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': text_path = optarg; break;
        case 'c': if (lb_cli_parse_long(optarg, 4, 1L << 16, &n_ctx)) goto bad_value; break;
        case OPT_CHUNKS: if (lb_cli_parse_long(optarg, 1, 1L << 20, &max_chunks)) goto bad_value; break;
        case 't': if (lb_cli_parse_long(optarg, 1, 1024, &n_threads)) goto bad_value; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 2 || !text_path) { usage(stderr); return 2; }
    const char *ckpt = argv[optind], *gguf = argv[optind + 1];
    omp_set_num_threads((int)n_threads);

    lb_err err = {{0}};
    lb_ckpt_qat cq;
    memset(&cq, 0, sizeof cq);
    lb_model model;
    memset(&model, 0, sizeof model);
    lb_hparams hp;
    lb_tokenizer *tok = NULL;
    lb_runtime *rt = NULL;
    char *text = NULL;
    int32_t *ids = NULL, *chunk = NULL;
    float *logits = NULL;
    size_t n_ids = 0, text_len = 0;
    int status = 1, loaded = 0;
    if (!(text = lb_cli_read_file(text_path, &text_len, &err))) return lb_cli_error("%s", err.msg);
    if (lb_model_load(&model, gguf, NULL, &err)) { free(text); return lb_cli_error("%s", err.msg); }
    if (lb_hparams_from_model(&hp, &model, gguf, &err)) goto done;
    if (lb_ckpt_qat_load(&cq, ckpt, &err)) goto done;
    loaded = 1;
    if (same_shape(&cq.m.hp, &hp, gguf, &err)) goto done;
    if (cq.any_anneal && cq.lambda != 0.0f)
        fprintf(stderr, "lowbit: note: %s is mid-anneal (Arenas lambda %.4g); verify uses lambda 0\n", ckpt, (double)cq.lambda);
    if (match_embedding(&cq.m, &model, "token_embd.weight", &err) || match_embedding(&cq.m, &model, "output.weight", &err))
        goto done;
    if (!(tok = lb_tokenizer_build(&model.kv, gguf, &err))) goto done;
    if (lb_eval_tokenize(tok, text, &text_len, &ids, &n_ids, &err)) goto done;
    lb_eval_plan plan;
    if (lb_eval_plan_build(&plan, n_ids, (int)n_ctx, max_chunks, tok, gguf, text_path, &err)) goto done;
    for (size_t i = 0; i < n_ids; i++)
        if (ids[i] < 0 || ids[i] >= hp.n_vocab) { lb_fail(&err, "%s: token id %d out of the vocabulary", text_path, ids[i]); goto done; }
    const long n_chunk = plan.n_chunk;
    const int first = plan.first;
    if (!(rt = lb_runtime_build_hp(&model, &hp, gguf, (int)n_ctx, (int)n_threads, &err))) goto done;
    logits = malloc((size_t)n_ctx * (size_t)hp.n_vocab * sizeof(float));
    chunk = malloc((size_t)n_ctx * sizeof *chunk);
    if (!logits || !chunk) { lb_fail(&err, "out of memory"); goto done; }

    printf("verify: %s (training engine, QAT w_eff, lambda 0) vs %s (runtime)\n", ckpt, gguf);
    printf("%ld chunks of %ld tokens, positions %d..%ld scored\n", n_chunk, n_ctx, first, n_ctx - 2);
    printf("%6s %12s %12s %10s %12s %12s\n", "chunk", "max|diff|", "max|logit|", "rel", "ppl_train", "ppl_runtime");
    double nll_tr = 0, nll_rt = 0, worst_rel = 0;
    long count = 0;
    for (long i = 0; i < n_chunk; i++) {
        memcpy(chunk, ids + (size_t)i * n_ctx, (size_t)n_ctx * sizeof *chunk);
        if (plan.add_bos) chunk[0] = plan.bos;
        if (lb_runtime_eval(rt, chunk, (int)n_ctx, 0, logits, (int)n_ctx, &err)) goto done;
        if (lb_train_model_forward(&cq.m, chunk, NULL, 1, (int)n_ctx, NULL, &err)) goto done;
        const float *lt = lb_train_model_logits(&cq.m);
        const size_t nl = (size_t)n_ctx * (size_t)hp.n_vocab;
        double maxd = 0, maxl = 0;
        for (size_t k = 0; k < nl; k++) {
            const double d = fabs((double)logits[k] - lt[k]), a = fabs((double)lt[k]);
            if (!(d <= maxd)) maxd = d;   // NaN sticks
            if (a > maxl) maxl = a;
        }
        for (int j = first; j < n_ctx - 1; j++) {
            const int next = ids[(size_t)i * n_ctx + j + 1];
            nll_tr += lb_eval_nll(lt + (size_t)j * hp.n_vocab, hp.n_vocab, next);
            nll_rt += lb_eval_nll(logits + (size_t)j * hp.n_vocab, hp.n_vocab, next);
            count++;
        }
        const double rel = maxl > 0 ? maxd / maxl : maxd;
        if (!(rel <= worst_rel)) worst_rel = rel;
        printf("%6ld %12.6f %12.6f %10.6f %12.6f %12.6f\n", i + 1, maxd, maxl, rel, exp(nll_tr / count), exp(nll_rt / count));
    }
    const double ppl_tr = exp(nll_tr / count), ppl_rt = exp(nll_rt / count);
    const double ppl_rel = fabs(ppl_rt / ppl_tr - 1.0);
    const int ok = worst_rel <= MAX_REL_DIFF && ppl_rel <= MAX_PPL_REL;
    printf("max rel diff %.6f (bound %.2f), PPL train %.6f runtime %.6f (%.4f%% apart, bound %.1f%%): %s\n", worst_rel,
           MAX_REL_DIFF, ppl_tr, ppl_rt, 100 * ppl_rel, 100 * MAX_PPL_REL, ok ? "AGREE" : "DISAGREE");
    fflush(stdout);
    status = ok ? 0 : 1;
    if (!ok) lb_fail(&err, "%s does not compute what %s computes (see the table above)", gguf, ckpt);
done:
    if (status) lb_cli_error("%s", err.msg);
    free(logits);
    free(chunk);
    free(ids);
    free(text);
    lb_runtime_free(rt);
    lb_tokenizer_free(tok);
    if (loaded) lb_ckpt_qat_free(&cq);
    lb_model_free(&model);
    return status;
bad_value:
    fprintf(stderr, "lowbit verify: bad option value '%s'\n", optarg);
    usage(stderr);
    return 2;
}
