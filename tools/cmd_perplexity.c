// cmd_perplexity.c: `lowbit perplexity MODEL.gguf --text FILE`: llama-perplexity's protocol,
// step for step (llama.cpp tools/perplexity/perplexity.cpp, perplexity()):
//  - read the file, drop one trailing '\n' (as llama.cpp's -f does), tokenize it once,
//    with BOS when the vocab adds one (no special parsing);
//  - at least 2*ctx tokens are required; n_chunk = n_tokens / ctx (capped by --chunks);
//  - chunk i = tokens [i*ctx, (i+1)*ctx) with its first token replaced by BOS, evaluated from
//    position 0 with a fresh context;
//  - positions first = ctx/2 .. ctx-2 each predict the next token: NLL = log-sum-exp(logits)
//    - logit[next] (max in float, sum of expf in double), accumulated in double;
//  - PPL = exp(mean NLL); the +/- is llama.cpp's: sqrt(var(NLL)/(count-1)) * PPL.
// The protocol itself lives in runtime/eval.h, shared with `lowbit compare`.
// Progress "[1]12.3456,[2]..." goes to stderr; stdout ends with the line "PPL = <value>".
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cmd.h"
#include "cli_util.h"
#include "infer.h"
#include "model.h"
#include "tokenizer.h"
#include "eval.h"

static void usage(FILE *f) {
    fprintf(f,
        "usage: lowbit perplexity MODEL.gguf --text FILE [--ctx 512] [--chunks N] [-t N]\n"
        "\n"
        "Perplexity the way llama-perplexity measures it: chunks of --ctx tokens starting with\n"
        "BOS, each scored on its second half. Progress on stderr; the last stdout line is\n"
        "\"PPL = <value>\".\n"
        "\n"
        "  -f, --text FILE   text to score (needs at least 2 x ctx tokens)\n"
        "  -c, --ctx N       tokens per chunk (default 512)\n"
        "      --chunks N    score at most N chunks (default: all)\n"
        "  -t, --threads N   threads (default: number of processors)\n"
        "  -h, --help        this help\n");
}

int cmd_perplexity(int argc, char **argv) {
    enum { OPT_CHUNKS = 1000 };
    static const struct option opts[] = {
        {"text", required_argument, 0, 'f'}, {"ctx", required_argument, 0, 'c'},
        {"chunks", required_argument, 0, OPT_CHUNKS}, {"threads", required_argument, 0, 't'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *text_path = NULL;
    long n_ctx = 512, max_chunks = -1, n_threads = omp_get_num_procs();
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:c:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': text_path = optarg; break;
        case 'c': if (lb_cli_parse_long(optarg, 4, 1L << 20, &n_ctx)) goto bad_value; break;
        case OPT_CHUNKS: if (lb_cli_parse_long(optarg, 1, 1L << 30, &max_chunks)) goto bad_value; break;
        case 't': if (lb_cli_parse_long(optarg, 1, 1024, &n_threads)) goto bad_value; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1 || !text_path) { usage(stderr); return 2; }
    const char *path = argv[optind];

    lb_err err = {{0}};
    lb_model model;
    lb_hparams hp;
    lb_tokenizer *tok = NULL;
    lb_runtime *rt = NULL;
    lb_logsoftmax ls = {0};
    lb_eval_plan plan;
    lb_eval_stats st = {0};
    char *text = NULL;
    int32_t *ids = NULL, *chunk = NULL;
    size_t n_ids = 0, text_len = 0;
    int status = 1;
    if (!(text = lb_cli_read_file(text_path, &text_len, &err))) return lb_cli_error("%s", err.msg);
    if (lb_model_load(&model, path, NULL, &err)) { free(text); return lb_cli_error("%s", err.msg); }
    if (lb_hparams_from_model(&hp, &model, path, &err)) goto done;
    if (!(tok = lb_tokenizer_build(&model.kv, path, &err))) goto done;
    if (lb_eval_tokenize(tok, text, &text_len, &ids, &n_ids, &err)) goto done;
    if (lb_eval_plan_build(&plan, n_ids, (int)n_ctx, max_chunks, tok, path, text_path, &err)) goto done;
    if (!(rt = lb_runtime_build_hp(&model, &hp, path, (int)n_ctx, (int)n_threads, &err))) goto done;
    if (lb_logsoftmax_build(&ls, plan.n_logits, hp.n_vocab, &err)) goto done;
    if (!(chunk = malloc((size_t)n_ctx * sizeof *chunk))) { lb_fail(&err, "out of memory"); goto done; }
    fprintf(stderr, "perplexity: %zu tokens, %ld chunks of %ld, scoring positions %d..%ld of each\n", n_ids,
            plan.n_chunk, n_ctx, plan.first, n_ctx - 2);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < plan.n_chunk; i++) {
        if (lb_eval_chunk(&ls, rt, &plan, ids, i, chunk, &err)) goto done;
        lb_eval_stats_add(&st, &ls, NULL, &plan, ids, i, NULL);
        if (i == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            const double per = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
            fprintf(stderr, "perplexity: %.2f seconds per pass - ETA %.2f minutes\n", per, per * plan.n_chunk / 60.0);
        }
        fprintf(stderr, "[%ld]%.4lf,", i + 1, lb_eval_ppl(&st));
    }
    fprintf(stderr, "\n");
    const double ppl = lb_eval_ppl(&st), pm = lb_eval_ppl_err(&st);
    if (pm > 0) printf("Final estimate: PPL = %.4f +/- %.5f\n", ppl, pm);
    printf("PPL = %.6f\n", ppl);
    fflush(stdout);
    status = 0;
done:
    if (status) lb_cli_error("%s", err.msg);
    free(chunk);
    free(ids);
    free(text);
    lb_logsoftmax_free(&ls);
    lb_runtime_free(rt);
    lb_tokenizer_free(tok);
    lb_model_free(&model);
    return status;
bad_value:
    fprintf(stderr, "lowbit perplexity: bad option value '%s'\n", optarg);
    usage(stderr);
    return 2;
}
