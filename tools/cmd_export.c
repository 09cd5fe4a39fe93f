// cmd_export.c: `lowbit export CKPT.h5 -o OUT.gguf --type T`: a QAT checkpoint -> GGUF,
// lossless for every quantized linear (libtrain/export_gguf.h says what that means and when
// it refuses). Progress on stderr, then a summary: tensors per type, file size, bits/weight.
#include <getopt.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "cmd.h"
#include "cli_util.h"
#include "export_gguf.h"
#include "lb_types.h"

static void usage(FILE *f) {
    fprintf(f,
        "usage: lowbit export CKPT.h5 -o OUT.gguf --type TYPE [--embeddings q8_0|f16|f32] [--vocab MODEL]\n"
        "                     [--allow-lossy] [-t N] [-v]\n"
        "\n"
        "Writes a `lowbit train` checkpoint as a GGUF. Every quantized linear is packed from the QAT\n"
        "forward's own codes and scales (Arenas lambda 0) and checked: its blocks dequantize to the\n"
        "fake-quant weight bit for bit, or the export stops naming the tensor.\n"
        "\n"
        "  --type TYPE         the attention/FFN linears: q2_0c | q2_k (seq2), tq1_0 | tq2_0 (seq_ternary,\n"
        "                      absmean, sherry), stq1_0 (sherry), f32 | f16 (an FP checkpoint; f32 exact)\n"
        "  --embeddings TYPE   token_embd and output (default q8_0; f16, f32)\n"
        "  --vocab MODEL       copy tokenizer.* and general.* from MODEL (default: the checkpoint's\n"
        "                      vocab_source attribute)\n"
        "  --allow-lossy       quantize tensors that are not exactly representable with the type's own\n"
        "                      rounding (RTN) and print their relative error norms, instead of stopping\n"
        "  -o, --output FILE   the GGUF (temp file + rename: no partial output)\n"
        "  -t, --threads N     threads (default: number of processors)\n"
        "  -v, --verbose       a line per tensor (default when stderr is a terminal)\n"
        "  -h, --help          this help\n");
}

static int parse_type(const char *s, const char *const *ok, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!strcasecmp(s, ok[i])) return lb_type_from_name(ok[i]);
    return -1;
}

int cmd_export(int argc, char **argv) {
    enum { OPT_EMB = 1000, OPT_VOCAB, OPT_LOSSY };
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"type", required_argument, 0, 'T'},
        {"embeddings", required_argument, 0, OPT_EMB}, {"vocab", required_argument, 0, OPT_VOCAB},
        {"allow-lossy", no_argument, 0, OPT_LOSSY}, {"threads", required_argument, 0, 't'},
        {"verbose", no_argument, 0, 'v'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    static const char *const types[] = {"q2_0c", "q2_k", "stq1_0", "tq1_0", "tq2_0", "f32", "f16"};
    static const char *const emb_types[] = {"q8_0", "f16", "f32"};
    lb_export_opts o = {.type = 0, .emb_type = LB_TYPE_Q8_0};
    const char *out = NULL;
    long n_threads = omp_get_num_procs();
    int have_type = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:t:vh", opts, NULL)) != -1) {
        int t;
        switch (c) {
        case 'o': out = optarg; break;
        case 'T':
            if ((t = parse_type(optarg, types, sizeof types / sizeof types[0])) < 0) {
                fprintf(stderr, "lowbit export: --type must be q2_0c, q2_k, stq1_0, tq1_0, tq2_0, f32 or f16 (got '%s')\n", optarg);
                return 2;
            }
            o.type = (uint32_t)t;
            have_type = 1;
            break;
        case OPT_EMB:
            if ((t = parse_type(optarg, emb_types, sizeof emb_types / sizeof emb_types[0])) < 0) {
                fprintf(stderr, "lowbit export: --embeddings must be q8_0, f16 or f32 (got '%s')\n", optarg);
                return 2;
            }
            o.emb_type = (uint32_t)t;
            break;
        case OPT_VOCAB: o.vocab = optarg; break;
        case OPT_LOSSY: o.allow_lossy = 1; break;
        case 't': if (lb_cli_parse_long(optarg, 1, 1024, &n_threads)) goto bad_value; break;
        case 'v': o.verbose = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1 || !out) { fprintf(stderr, "lowbit export: need CKPT.h5 and -o OUT.gguf\n"); usage(stderr); return 2; }
    if (!have_type) { fprintf(stderr, "lowbit export: --type is required\n"); usage(stderr); return 2; }
    const char *ckpt = argv[optind];
    if (!strcmp(ckpt, out)) { fprintf(stderr, "lowbit export: OUT must differ from CKPT\n"); return 2; }
    omp_set_num_threads((int)n_threads);
    if (isatty(STDERR_FILENO)) o.verbose = 1;
    signal(SIGPIPE, SIG_IGN);

    lb_err err = {{0}};
    lb_export_stats st;
    if (o.verbose) fprintf(stderr, "lowbit: export: %s -> %s (%s)\n", ckpt, out, lb_type_get(o.type)->name);
    if (lb_export_gguf(ckpt, out, &o, &st, &err)) return lb_cli_error("%s", err.msg);

    char per_type[512] = "";
    size_t len = 0;
    for (int t = 0; t < 256; t++) {
        if (!st.n_by_type[t]) continue;
        len += (size_t)snprintf(per_type + len, sizeof per_type - len, "%s%s %d", len ? ", " : "", lb_type_get((uint32_t)t)->name,
                                st.n_by_type[t]);
        if (len >= sizeof per_type) break;
    }
    const char *tn = lb_type_get(o.type)->name;
    printf("wrote %s: %.3f MB, %.3f bits/weight over %.0f weights\n", out, (double)st.file_bytes / 1e6,
           st.n_weights > 0 ? 8.0 * (double)st.tensor_bytes / st.n_weights : 0.0, st.n_weights);
    printf("tensors: %d (%s)\n", st.n_tensors, per_type);
    if (st.n_converted) printf("linears: %d in %s (float conversion)\n", st.n_converted, tn);
    else printf("linears: %d packed exactly in %s, %d lossy (RTN)\n", st.n_exact, tn, st.n_lossy);
    printf("embeddings: token_embd/output in %s (--embeddings); norms f32\n", lb_type_get(o.emb_type)->name);
    fflush(stdout);
    return 0;
bad_value:
    fprintf(stderr, "lowbit export: bad option value '%s'\n", optarg);
    usage(stderr);
    return 2;
}
