// cmd_tokenize.c: `lowbit tokenize --vocab MODEL.gguf FILE... -o tokens.h5 [--val-fraction F]`:
// training data for `lowbit train`. Each FILE is one document, tokenized whole with the
// model's tokenizer exactly like `lowbit perplexity` / llama_tokenize(add_special = true,
// parse_special = false): BOS in front when the vocabulary adds one, special-token texts in
// the data are ordinary text.
// Split (deterministic, per file): a file of n tokens puts its last floor(n * F) tokens in
// /val and the rest in /train, so every source contributes to validation in proportion and the
// held-out text is a contiguous tail nobody trained on (a split per file, not per random
// window, so no training window overlaps a validation window).
// Files are processed one at a time and appended to the HDF5 datasets (memory: one file's text
// and ids). The output is written to a temp file and renamed only when complete.
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cmd.h"
#include "cli_util.h"
#include "h5_tokens.h"
#include "model.h"
#include "tokenizer.h"

static void usage(FILE *f) {
    fprintf(f,
        "usage: lowbit tokenize --vocab MODEL.gguf FILE... -o tokens.h5 [--val-fraction F]\n"
        "       lowbit tokenize --info tokens.h5\n"
        "\n"
        "Tokenize text files with a model's tokenizer into an HDF5 token store (datasets /train\n"
        "and /val, int32, zstd-compressed with the standard HDF5 filter 32015).\n"
        "Each FILE is one document: BOS first when the vocabulary adds one. The last\n"
        "floor(n * F) tokens of every file go to /val, the rest to /train.\n"
        "\n"
        "      --vocab MODEL     GGUF (or any model `lowbit import` reads) whose tokenizer to use\n"
        "  -o, --output FILE     the token store to write (temp file, renamed when complete)\n"
        "      --val-fraction F  fraction of each file held out for validation, 0 <= F < 1 (default 0.05)\n"
        "  -q, --quiet           no progress on stderr\n"
        "      --info FILE       read a token store completely (checks it) and describe it\n"
        "  -h, --help            this help\n");
}

// --info: load both splits (which checks every id against the vocabulary) and describe them
static int show_info(const char *path) {
    lb_err err = {{0}};
    lb_tokens_info info;
    int32_t *ids = NULL;
    size_t n[2] = {0, 0};
    for (int s = 0; s < 2; s++) {
        if (lb_tokens_read(path, (lb_split)s, &ids, &n[s], s ? NULL : &info, &err)) {
            if (s) lb_tokens_info_free(&info);
            return lb_cli_error("%s", err.msg);
        }
        free(ids);
    }
    printf("%s: %zu train + %zu val tokens, vocabulary %d (%s, bos %d) from %s\n", path, n[0], n[1], info.n_vocab,
           info.tokenizer_model, info.bos_id, info.vocab_source);
    printf("split: %s\nsources:\n%s", info.split_rule, info.sources);
    lb_tokens_info_free(&info);
    return 0;
}

static int parse_fraction(const char *s, double *out) {
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0.0 && v < 1.0)) return 0;
    *out = v;
    return 1;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int cmd_tokenize(int argc, char **argv) {
    enum { OPT_VOCAB = 1000, OPT_VAL, OPT_INFO };
    static const struct option opts[] = {
        {"vocab", required_argument, 0, OPT_VOCAB}, {"output", required_argument, 0, 'o'},
        {"val-fraction", required_argument, 0, OPT_VAL}, {"quiet", no_argument, 0, 'q'},
        {"info", required_argument, 0, OPT_INFO}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *vocab = NULL, *out = NULL, *info_path = NULL;
    double val_fraction = 0.05;
    int quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
        case OPT_VOCAB: vocab = optarg; break;
        case 'o': out = optarg; break;
        case OPT_VAL:
            // strtod, not lb_cli_parse_float: the split rule is floor(n * F) with F exactly as
            // written (0.7 as a float is 0.69999999, which would move a token at n = 10)
            if (!parse_fraction(optarg, &val_fraction))
                return lb_cli_error("--val-fraction: '%s' is not a number in [0, 1)", optarg), 2;
            break;
        case 'q': quiet = 1; break;
        case OPT_INFO: info_path = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (info_path) {
        if (vocab || out || optind != argc) { usage(stderr); return 2; }
        return show_info(info_path);
    }
    if (!vocab || !out || optind >= argc) { usage(stderr); return 2; }

    lb_err err = {{0}};
    lb_model model;
    if (lb_model_load(&model, vocab, NULL, &err)) return lb_cli_error("%s", err.msg);
    lb_tokenizer *tok = lb_tokenizer_build(&model.kv, vocab, &err);
    lb_tokens_writer *w = NULL;
    char *sources = NULL, *text = NULL;
    int32_t *ids = NULL;
    int status = 1;
    if (!tok) goto done;
    if (!(w = lb_tokens_writer_create(out, &err))) goto done;
    size_t sources_len = 1, n_train = 0, n_val = 0;
    for (int i = optind; i < argc; i++) sources_len += strlen(argv[i]) + 1;
    if (!(sources = calloc(sources_len, 1))) { lb_fail(&err, "out of memory"); goto done; }
    const double t0 = now_s();
    for (int i = optind; i < argc; i++) {
        const char *path = argv[i];
        size_t len = 0, n = 0;
        if (!(text = lb_cli_read_file(path, &len, &err))) goto done;
        if (lb_tokenize(tok, text, len, 1, 0, &ids, &n, &err)) goto done;
        const size_t nv = (size_t)((double)n * val_fraction);   // floor
        if (lb_tokens_writer_append(w, LB_SPLIT_TRAIN, ids, n - nv, &err) ||
            lb_tokens_writer_append(w, LB_SPLIT_VAL, ids + (n - nv), nv, &err))
            goto done;
        n_train += n - nv, n_val += nv;
        if (!quiet)
            fprintf(stderr, "tokenize: [%d/%d] %s: %zu bytes -> %zu tokens (train %zu, val %zu), %.1f s\n", i - optind + 1,
                    argc - optind, path, len, n, n - nv, nv, now_s() - t0);
        strcat(sources, path);
        strcat(sources, "\n");
        free(text), text = NULL;
        free(ids), ids = NULL;
    }
    char rule[256];
    snprintf(rule, sizeof rule,
             "per file: the last floor(n * %.15g) of its n tokens -> /val, the rest -> /train; "
             "each file is one document tokenized whole (BOS when the vocab adds it)", val_fraction);
    const char *model_name = lb_kvs_get_str(&model.kv, "tokenizer.ggml.model");
    lb_tokens_info info = {0};
    info.n_vocab = lb_tokenizer_n_vocab(tok);
    info.bos_id = lb_tokenizer_add_bos(tok) ? lb_tokenizer_bos(tok) : -1;
    snprintf(info.tokenizer_model, sizeof info.tokenizer_model, "%s", model_name ? model_name : "");
    const char *base = strrchr(vocab, '/');
    info.vocab_source = (char *)(base ? base + 1 : vocab);
    info.sources = sources;
    info.split_rule = rule;
    info.val_fraction = val_fraction;
    int rc = lb_tokens_writer_finish(w, &info, &err);
    w = NULL;
    if (rc) goto done;
    if (!quiet) fprintf(stderr, "tokenize: wrote %s: %zu train + %zu val tokens\n", out, n_train, n_val);
    status = 0;
done:
    if (status) lb_cli_error("%s", err.msg);
    lb_tokens_writer_abort(w);
    free(text);
    free(ids);
    free(sources);
    lb_tokenizer_free(tok);
    lb_model_free(&model);
    return status;
}
