// cmd_logits.c: `lowbit logits MODEL.gguf --tokens 1,2,3 -o OUT.bin`: evaluate exactly the
// given token ids (no BOS added) from position 0 in one batch and write every position's
// logits, n_tokens x n_vocab float32 little-endian, row-major. Peer tests compare this
// file against llama.cpp's logits. Written to a temp file and renamed when complete.
#include <errno.h>
#include <getopt.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmd.h"
#include "cli_util.h"
#include "tmpfiles.h"
#include "infer.h"
#include "model.h"

static void usage(FILE *f) {
    fprintf(f,
        "usage: lowbit logits MODEL.gguf (--tokens 1,2,3 | --tokens-file FILE) -o OUT.bin [-t N]\n"
        "\n"
        "Evaluate the token ids as given (no BOS is added) from position 0 and write the logits\n"
        "of every position: n_tokens x n_vocab float32, little-endian, row-major.\n"
        "\n"
        "  --tokens LIST       ids separated by commas and/or whitespace\n"
        "  --tokens-file FILE  the same, read from a file\n"
        "  -o, --output OUT    output file (written to a temp file, then renamed)\n"
        "  -t, --threads N     threads (default: number of processors)\n"
        "  -h, --help          this help\n");
}

// ids separated by commas / whitespace; every item must be a whole non-negative integer
static int parse_ids(const char *text, const char *what, int32_t **out, size_t *n_out, lb_err *err) {
    size_t n = 0, cap = 64;
    int32_t *ids = malloc(cap * sizeof *ids);
    if (!ids) return lb_fail(err, "out of memory");
    const char *p = text;
    for (;;) {
        while (*p == ',' || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
        if (!*p) break;
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 0 || v > INT32_MAX || (*end && !strchr(", \t\r\n", *end))) {
            free(ids);
            return lb_fail(err, "%s: bad token id near \"%.20s\"", what, p);
        }
        if (n == cap) {
            int32_t *bigger = realloc(ids, 2 * cap * sizeof *ids);
            if (!bigger) { free(ids); return lb_fail(err, "out of memory"); }
            ids = bigger;
            cap *= 2;
        }
        ids[n++] = (int32_t)v;
        p = end;
    }
    if (n == 0) { free(ids); return lb_fail(err, "%s: no token ids", what); }
    *out = ids;
    *n_out = n;
    return 0;
}

static int write_floats_atomic(const char *path, const float *x, size_t n, lb_err *err) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) return lb_fail(err, "%s: path too long", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return lb_fail(err, "%s: %s", tmp, strerror(errno));
    lb_tmpfile_track(tmp);
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "cmd_logits writes host floats: add byte swapping for big-endian hosts"
#endif
    int ok = fwrite(x, sizeof(float), n, f) == n;
    ok &= fflush(f) == 0;
    ok &= fsync(fileno(f)) == 0;
    ok &= fclose(f) == 0;
    if (!ok) { unlink(tmp); lb_tmpfile_untrack(tmp); return lb_fail(err, "%s: write failed", path); }
    if (rename(tmp, path)) { int e = errno; unlink(tmp); lb_tmpfile_untrack(tmp); return lb_fail(err, "%s: %s", path, strerror(e)); }
    lb_tmpfile_untrack(tmp);
    return 0;
}

int cmd_logits(int argc, char **argv) {
    enum { OPT_TOKENS = 1000, OPT_TOKENS_FILE };
    static const struct option opts[] = {
        {"tokens", required_argument, 0, OPT_TOKENS}, {"tokens-file", required_argument, 0, OPT_TOKENS_FILE},
        {"output", required_argument, 0, 'o'}, {"threads", required_argument, 0, 't'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *tokens_arg = NULL, *tokens_file = NULL, *out_path = NULL;
    long n_threads = omp_get_num_procs();
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:t:h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_TOKENS: tokens_arg = optarg; break;
        case OPT_TOKENS_FILE: tokens_file = optarg; break;
        case 'o': out_path = optarg; break;
        case 't': {
            char *end;
            n_threads = strtol(optarg, &end, 10);
            if (end == optarg || *end || n_threads < 1 || n_threads > 1024) {
                fprintf(stderr, "lowbit logits: bad thread count '%s'\n", optarg);
                return 2;
            }
            break;
        }
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1 || !out_path || (!tokens_arg == !tokens_file)) { usage(stderr); return 2; }
    const char *path = argv[optind];

    lb_err err = {{0}};
    int32_t *ids = NULL;
    size_t n_ids = 0;
    if (tokens_arg) {
        if (parse_ids(tokens_arg, "--tokens", &ids, &n_ids, &err)) return lb_cli_error("%s", err.msg);
    } else {
        char *text = lb_cli_read_file(tokens_file, NULL, &err);
        if (!text) return lb_cli_error("%s", err.msg);
        int rc = parse_ids(text, tokens_file, &ids, &n_ids, &err);
        free(text);
        if (rc) return lb_cli_error("%s", err.msg);
    }
    if (n_ids > (1u << 24)) { free(ids); return lb_cli_error("%zu tokens is too many", n_ids); }

    lb_model model;
    lb_hparams hp;
    lb_runtime *rt = NULL;
    float *logits = NULL;
    int status = 1;
    if (lb_model_load(&model, path, NULL, &err)) { free(ids); return lb_cli_error("%s", err.msg); }
    if (lb_hparams_from_model(&hp, &model, path, &err)) goto done;
    if (!(rt = lb_runtime_build_hp(&model, &hp, path, (int)n_ids, (int)n_threads, &err))) goto done;
    if (!(logits = malloc(n_ids * (size_t)hp.n_vocab * sizeof(float)))) { lb_fail(&err, "out of memory for logits"); goto done; }
    if (lb_runtime_eval(rt, ids, (int)n_ids, 0, logits, (int)n_ids, &err)) goto done;
    if (write_floats_atomic(out_path, logits, n_ids * (size_t)hp.n_vocab, &err)) goto done;
    fprintf(stderr, "wrote %zu x %d logits to %s\n", n_ids, hp.n_vocab, out_path);
    status = 0;
done:
    if (status) lb_cli_error("%s", err.msg);
    free(logits);
    free(ids);
    lb_runtime_free(rt);
    lb_model_free(&model);
    return status;
}
