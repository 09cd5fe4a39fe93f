// cmd_run.c: `lowbit run MODEL.gguf [-p TEXT] [-n N] ...`: generate text.
// stdout gets ONLY the generated text, piece by piece as it is sampled (flushed each
// token); timings go to stderr. With no prompt, generation starts from BOS alone and the
// first piece's leading space (SentencePiece's word marker) is dropped, as llama.cpp's
// detokenizer does at the start of a text.
#include <errno.h>
#include <getopt.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cmd.h"
#include "cli_util.h"
#include "infer.h"
#include "model.h"
#include "sampler.h"
#include "tokenizer.h"

static void usage(FILE *f) {
    fprintf(f,
        "usage: lowbit run MODEL.gguf [-p TEXT] [-n N] [--temp T] [--top-p P] [--seed S] [-t N] [--ctx N]\n"
        "\n"
        "Generate text. Only the generated text goes to stdout; timings go to stderr.\n"
        "\n"
        "  -p, --prompt TEXT   text to continue (tokenized with BOS when the vocab asks for it);\n"
        "                      default: start from BOS alone\n"
        "  -n, --n-predict N   tokens to generate (default 128; stops early at end-of-text)\n"
        "      --temp T        temperature; 0 = greedy (default 0.8)\n"
        "      --top-p P       nucleus sampling threshold, 1 = off (default 0.9)\n"
        "      --seed S        sampling seed (default: from the clock); same seed, same text\n"
        "  -t, --threads N     threads (default: number of processors)\n"
        "      --ctx N         context size (default: prompt + N tokens)\n"
        "  -h, --help          this help\n");
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

// print one token's text; `strip_space`: drop a leading ' ' (first piece of a fresh text)
static void print_piece(const lb_tokenizer *tok, int32_t id, int strip_space) {
    char small[256];
    size_t len = lb_token_to_piece(tok, id, 0, small, sizeof small);
    char *buf = small;
    if (len > sizeof small) {
        buf = malloc(len);
        if (!buf) return;
        lb_token_to_piece(tok, id, 0, buf, len);
    }
    const char *p = buf;
    if (strip_space && len > 0 && p[0] == ' ') { p++; len--; }
    fwrite(p, 1, len, stdout);
    fflush(stdout);
    if (buf != small) free(buf);
}

int cmd_run(int argc, char **argv) {
    enum { OPT_TEMP = 1000, OPT_TOP_P, OPT_SEED, OPT_CTX };
    static const struct option opts[] = {
        {"prompt", required_argument, 0, 'p'}, {"n-predict", required_argument, 0, 'n'},
        {"temp", required_argument, 0, OPT_TEMP}, {"top-p", required_argument, 0, OPT_TOP_P},
        {"seed", required_argument, 0, OPT_SEED}, {"threads", required_argument, 0, 't'},
        {"ctx", required_argument, 0, OPT_CTX}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *prompt = "";
    long n_predict = 128, n_threads = omp_get_num_procs(), n_ctx = 0;
    float temp = 0.8f, top_p = 0.9f;
    unsigned long long seed = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:n:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': prompt = optarg; break;
        case 'n': if (lb_cli_parse_long(optarg, 0, 1L << 30, &n_predict)) goto bad_value; break;
        case 't': if (lb_cli_parse_long(optarg, 1, 1024, &n_threads)) goto bad_value; break;
        case OPT_CTX: if (lb_cli_parse_long(optarg, 1, 1L << 24, &n_ctx)) goto bad_value; break;
        case OPT_TEMP: if (lb_cli_parse_float(optarg, 0.0f, 1e6f, &temp)) goto bad_value; break;
        case OPT_TOP_P: if (lb_cli_parse_float(optarg, 0.0f, 1.0f, &top_p)) goto bad_value; break;
        case OPT_SEED: {
            char *end;
            errno = 0;
            seed = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end) goto bad_value;
            break;
        }
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) { usage(stderr); return 2; }
    const char *path = argv[optind];

    lb_err err = {{0}};
    lb_model model;
    lb_hparams hp;
    lb_tokenizer *tok = NULL;
    lb_runtime *rt = NULL;
    lb_sampler sampler = {0};
    int32_t *ids = NULL;
    float *logits = NULL;
    size_t n_ids = 0;
    int status = 1;
    if (lb_model_load(&model, path, NULL, &err)) return lb_cli_error("%s", err.msg);
    if (lb_hparams_from_model(&hp, &model, path, &err)) goto done;
    if (!(tok = lb_tokenizer_build(&model.kv, path, &err))) goto done;
    if (lb_tokenize(tok, prompt, strlen(prompt), 1, 1, &ids, &n_ids, &err)) goto done;
    if (n_ids == 0) { lb_fail(&err, "%s: the prompt is empty and the vocabulary adds no BOS: give -p TEXT", path); goto done; }
    if (n_ctx == 0) n_ctx = (long)n_ids + (n_predict > 0 ? n_predict : 1);
    if ((long)n_ids > n_ctx) { lb_fail(&err, "prompt of %zu tokens does not fit a context of %ld", n_ids, n_ctx); goto done; }
    if (!(rt = lb_runtime_build_hp(&model, &hp, path, (int)n_ctx, (int)n_threads, &err))) goto done;
    if (lb_sampler_build(&sampler, hp.n_vocab, temp, top_p, seed)) { lb_fail(&err, "out of memory"); goto done; }
    if (!(logits = malloc((size_t)hp.n_vocab * sizeof(float)))) { lb_fail(&err, "out of memory"); goto done; }

    // --- prompt ---
    double t0 = now_s();
    if (lb_runtime_eval(rt, ids, (int)n_ids, 0, logits, 1, &err)) goto done;
    double t_prompt = now_s() - t0;

    // --- generation: sample, print, feed back ---
    const int fresh_text = prompt[0] == '\0';   // nothing before the first generated piece
    int pos = (int)n_ids, n_gen = 0, n_decoded = 0;
    t0 = now_s();
    for (long i = 0; i < n_predict; i++) {
        const int32_t next = lb_sampler_sample(&sampler, logits);
        if (lb_tokenizer_is_eog(tok, next)) break;
        print_piece(tok, next, fresh_text && n_gen == 0);
        n_gen++;
        if (i + 1 == n_predict) break;
        if (pos >= n_ctx) { fprintf(stderr, "\nlowbit: context of %ld tokens is full\n", n_ctx); break; }
        if (lb_runtime_eval(rt, &next, 1, pos, logits, 1, &err)) goto done;
        pos++;
        n_decoded++;
    }
    double t_gen = now_s() - t0;
    fflush(stdout);   // no trailing newline: stdout is exactly the generated text
    // on a terminal, start the timings on their own line
    if (n_gen > 0 && isatty(STDOUT_FILENO) && isatty(STDERR_FILENO)) fputc('\n', stderr);
    fprintf(stderr, "prompt: %zu tokens in %.3f s (%.1f tok/s); generated: %d tokens, decode %.1f tok/s (%d threads)\n",
            n_ids, t_prompt, t_prompt > 0 ? n_ids / t_prompt : 0.0, n_gen, t_gen > 0 ? n_decoded / t_gen : 0.0,
            (int)n_threads);
    status = 0;
done:
    if (status) lb_cli_error("%s", err.msg);
    free(logits);
    free(ids);
    lb_sampler_free(&sampler);
    lb_runtime_free(rt);
    lb_tokenizer_free(tok);
    lb_model_free(&model);
    return status;
bad_value:
    fprintf(stderr, "lowbit run: bad option value '%s'\n", optarg);
    usage(stderr);
    return 2;
}
