// cmd_teacher.c: `lowbit teacher TEACHER --tokens tokens.h5 -o logits.h5 --mode full|topk|sampled`:
// run an FP teacher over the token store's windows once and keep what offline distillation
// needs (formats/h5_logits.h). The teacher runs through libtrain's lb_train_model_forward
// without targets -- the very code the trainer's online teacher runs -- so a full store is
// exactly fp16(online teacher logits) (with --batch 1, the default: the online teacher also
// runs one window per forward, and sgemm's rounding depends on the row count). Window w = tokens [w*T, w*T + T] of the split
// (lb_loader's eval windows), the teacher sees its T inputs alone.
// Sampled mode: row n (= w*T + t) draws with its own RNG state derived from (seed, n), so the
// file does not depend on --batch or the thread count.
#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "cmd.h"
#include "cli_util.h"
#include "ckpt_meta.h"
#include "data_loader.h"
#include "h5_logits.h"
#include "kd_sample.h"
#include "model.h"
#include "train_model.h"

static void usage(FILE *f) {
    fprintf(f,
        "usage: lowbit teacher TEACHER --tokens TOKENS.h5 -o LOGITS.h5 --mode full|topk|sampled\n"
        "                      [--k K] [--seq-len T] [--split train|val] [--max-windows N]\n"
        "                      [--temperature X] [--seed S] [--batch B] [--tokenizer FILE] [-t N]\n"
        "\n"
        "Run a teacher over the token store's windows and store its outputs for offline\n"
        "distillation (distill.store in the training YAML). TEACHER: a GGUF, an HF directory, a\n"
        "llama2.c .bin (with --tokenizer), or a lowbit checkpoint .h5. Window w is tokens\n"
        "[w*T, w*T+T] of the split; the teacher sees its T inputs alone.\n"
        "\n"
        "  --tokens FILE       token store (lowbit tokenize); its vocabulary must be the teacher's\n"
        "  -o, --output FILE   the logit store to write (nothing is left on failure)\n"
        "  --mode M            full: every logit (fp16); topk: the K largest (id, logit) pairs;\n"
        "                      sampled: Sparse Logit Sampling, K draws from softmax(logits/X)\n"
        "  --k K               topk: pairs per position (default 32); sampled: draws per position\n"
        "                      (default 12, at most 255)\n"
        "  --seq-len T         window length; MUST equal the training config's data.seq_len\n"
        "                      (default 256, data.seq_len's default)\n"
        "  --split S           train (default; what distillation reads) or val\n"
        "  --max-windows N     store only the first N windows (default: all of the split)\n"
        "  --temperature X     sampled mode: draw from softmax(logits / X); must equal\n"
        "                      distill.temperature (default 1)\n"
        "  --seed S            sampled mode's RNG seed (default 1)\n"
        "  --batch B           windows per teacher forward (default 1: exactly the online teacher's\n"
        "                      logits; sgemm rounding depends on the row count, so B > 1 can differ\n"
        "                      from them in the last bits)\n"
        "  --tokenizer FILE    tokenizer for a llama2.c teacher (tokenizer.bin)\n"
        "  -t, --threads N     threads (default: number of processors)\n"
        "  -h, --help          this help\n"
        "\n"
        "Progress goes to stderr; at the end stdout gets windows, positions, file size and bytes\n"
        "per token.\n");
}

// row n's RNG state: a pure function of (seed, n)
static uint64_t row_rng(uint64_t seed, int64_t n) {
    uint64_t s = seed;
    const uint64_t base = kd_rng_next(&s);
    return base ^ ((uint64_t)n * 0xd1b54a32d192ed03ull);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int cmd_teacher(int argc, char **argv) {
    enum { OPT_TOKENS = 1000, OPT_MODE, OPT_K, OPT_SEQ, OPT_SPLIT, OPT_MAXW, OPT_TEMP, OPT_SEED, OPT_BATCH, OPT_TOKENIZER };
    static const struct option opts[] = {
        {"tokens", required_argument, 0, OPT_TOKENS}, {"output", required_argument, 0, 'o'},
        {"mode", required_argument, 0, OPT_MODE}, {"k", required_argument, 0, OPT_K},
        {"seq-len", required_argument, 0, OPT_SEQ}, {"split", required_argument, 0, OPT_SPLIT},
        {"max-windows", required_argument, 0, OPT_MAXW}, {"temperature", required_argument, 0, OPT_TEMP},
        {"seed", required_argument, 0, OPT_SEED}, {"batch", required_argument, 0, OPT_BATCH},
        {"tokenizer", required_argument, 0, OPT_TOKENIZER}, {"threads", required_argument, 0, 't'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *tokens_path = NULL, *out_path = NULL, *mode_name = NULL, *tokenizer = NULL;
    long k = -1, T = 256, max_windows = -1, seed = 1, B = 1, n_threads = omp_get_num_procs();
    float temperature = 1.0f;
    int temp_given = 0;
    lb_split split = LB_SPLIT_TRAIN;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:t:h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_TOKENS: tokens_path = optarg; break;
        case 'o': out_path = optarg; break;
        case OPT_MODE: mode_name = optarg; break;
        case OPT_K: if (lb_cli_parse_long(optarg, 1, 1L << 24, &k)) goto bad_value; break;
        case OPT_SEQ: if (lb_cli_parse_long(optarg, 1, 1L << 20, &T)) goto bad_value; break;
        case OPT_SPLIT:
            if (!strcmp(optarg, "train")) split = LB_SPLIT_TRAIN;
            else if (!strcmp(optarg, "val")) split = LB_SPLIT_VAL;
            else goto bad_value;
            break;
        case OPT_MAXW: if (lb_cli_parse_long(optarg, 1, 1L << 40, &max_windows)) goto bad_value; break;
        case OPT_TEMP: if (lb_cli_parse_float(optarg, 1e-3f, 1e3f, &temperature)) goto bad_value; temp_given = 1; break;
        case OPT_SEED: if (lb_cli_parse_long(optarg, 0, 0x7fffffffffffffffL, &seed)) goto bad_value; break;
        case OPT_BATCH: if (lb_cli_parse_long(optarg, 1, 4096, &B)) goto bad_value; break;
        case OPT_TOKENIZER: tokenizer = optarg; break;
        case 't': if (lb_cli_parse_long(optarg, 1, 1024, &n_threads)) goto bad_value; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1 || !tokens_path || !out_path || !mode_name) { usage(stderr); return 2; }
    const char *teacher_path = argv[optind];
    lb_logit_mode mode;
    if (lb_logit_mode_parse(mode_name, &mode)) return lb_cli_error("teacher: unknown --mode '%s' (full, topk or sampled)", mode_name);
    if (mode == LB_LOGITS_FULL && k != -1) return lb_cli_error("teacher: --k has no meaning with --mode full");
    if (mode != LB_LOGITS_SAMPLED && temp_given && temperature != 1.0f)
        return lb_cli_error("teacher: --temperature applies to --mode sampled only (topk/full store raw logits)");
    if (k == -1) k = mode == LB_LOGITS_TOPK ? 32 : mode == LB_LOGITS_SAMPLED ? 12 : 0;
    if (mode == LB_LOGITS_SAMPLED && k > 255) return lb_cli_error("teacher: --k %ld: sampled mode takes at most 255 draws", k);
    omp_set_num_threads((int)n_threads);

    lb_err err = {{0}};
    lb_loader loader;
    lb_train_model m;
    memset(&loader, 0, sizeof loader);
    memset(&m, 0, sizeof m);
    int have_model = 0, status = 1;
    lb_logits_writer *w = NULL;
    int32_t *inputs = NULL, *targets = NULL, *ids = NULL;
    uint8_t *counts = NULL;
    float *vals = NULL;
    double *cdf = NULL;

    if (lb_loader_open(&loader, tokens_path, split, (int)B, (int)T, 0, 0, 1, &err)) goto done;
    if (lb_train_model_load(&m, teacher_path, tokenizer, &err)) goto done;
    have_model = 1;
    lb_train_model_drop_grads(&m);   // forward only
    const int V = m.hp.n_vocab;
    if (V != loader.n_vocab) {
        lb_fail(&err, "%s: vocabulary of %d tokens, but the teacher %s has %d", tokens_path, loader.n_vocab, teacher_path, V);
        goto done;
    }
    if (mode == LB_LOGITS_TOPK && k > V) { lb_fail(&err, "%s: --k %ld is more than the vocabulary (%d)", teacher_path, k, V); goto done; }
    const size_t all_windows = lb_loader_n_eval_windows(&loader);
    if (all_windows == 0) {
        lb_fail(&err, "%s: the %s split has %zu tokens, one window of --seq-len %ld needs %ld", tokens_path, lb_split_name(split),
                loader.n_tokens, T, T + 1);
        goto done;
    }
    const int64_t n_windows = max_windows > 0 && (size_t)max_windows < all_windows ? max_windows : (int64_t)all_windows;
    const int K = (int)k;

    lb_logits_info info = {.mode = mode, .n_vocab = V, .seq_len = (int32_t)T, .k = K, .n_windows = n_windows,
                           .temperature = mode == LB_LOGITS_SAMPLED ? (double)temperature : 1.0, .seed = (uint64_t)seed,
                           .teacher = (char *)teacher_path, .tokens = (char *)tokens_path,
                           .tokens_hash = lb_tokens_hash(loader.tokens, (size_t)n_windows * (size_t)T + 1)};
    snprintf(info.split, sizeof info.split, "%s", lb_split_name(split));
    const size_t rows = (size_t)B * T;
    inputs = malloc(rows * sizeof *inputs);
    targets = malloc(rows * sizeof *targets);
    if (mode != LB_LOGITS_FULL) {
        ids = malloc(rows * K * sizeof *ids);
        vals = malloc(rows * K * sizeof *vals);
        counts = malloc(rows * K);
    }
    if (mode == LB_LOGITS_SAMPLED) cdf = malloc((size_t)n_threads * V * sizeof *cdf);
    if (!inputs || !targets || (mode != LB_LOGITS_FULL && (!ids || !vals || !counts)) || (mode == LB_LOGITS_SAMPLED && !cdf)) {
        lb_fail(&err, "out of memory");
        goto done;
    }
    if (!(w = lb_logits_writer_create(out_path, &info, &err))) goto done;
    fprintf(stderr, "teacher: %s over %lld windows of %ld tokens (%s split of %s), mode %s%s", teacher_path, (long long)n_windows, T,
            lb_split_name(split), tokens_path, lb_logit_mode_name(mode), mode == LB_LOGITS_FULL ? "\n" : "");
    if (mode == LB_LOGITS_TOPK) fprintf(stderr, ", k %d\n", K);
    if (mode == LB_LOGITS_SAMPLED) fprintf(stderr, ", %d draws at temperature %g, seed %ld\n", K, (double)temperature, seed);

    const double t0 = now_s();
    double last = t0;
    for (int64_t w0 = 0; w0 < n_windows; w0 += B) {
        int nb = lb_loader_eval_batch(&loader, (size_t)w0, inputs, targets);
        if (nb > n_windows - w0) nb = (int)(n_windows - w0);
        if (nb <= 0) { lb_fail(&err, "%s: window %lld is missing", tokens_path, (long long)w0); goto done; }
        if (lb_train_model_forward(&m, inputs, NULL, nb, (int)T, NULL, &err)) goto done;
        const float *logits = lb_train_model_logits(&m);
        const size_t n_rows = (size_t)nb * T;
        // a teacher that produces inf/NaN is broken: say where instead of storing garbage
        for (size_t i = 0; i < n_rows * V; i++)
            if (!isfinite(logits[i])) {
                lb_fail(&err, "%s: non-finite teacher logit at window %lld position %ld", teacher_path,
                        (long long)(w0 + (int64_t)(i / V / T)), (long)(i / V % T));
                goto done;
            }
        if (mode == LB_LOGITS_TOPK) {
            #pragma omp parallel for schedule(static)
            for (size_t r = 0; r < n_rows; r++) kd_topk_row(ids + r * K, vals + r * K, logits + r * V, V, K);
        } else if (mode == LB_LOGITS_SAMPLED) {
            #pragma omp parallel for schedule(static)
            for (size_t r = 0; r < n_rows; r++) {
                uint64_t rng = row_rng((uint64_t)seed, w0 * T + (int64_t)r);
                kd_sample_row(ids + r * K, counts + r * K, cdf + (size_t)omp_get_thread_num() * V, logits + r * V, V, K, temperature,
                              &rng);
            }
        }
        for (int b = 0; b < nb; b++) {
            const size_t off = (size_t)b * T;
            int rc = mode == LB_LOGITS_FULL  ? lb_logits_writer_append(w, logits + off * V, NULL, NULL, &err)
                   : mode == LB_LOGITS_TOPK ? lb_logits_writer_append(w, vals + off * K, ids + off * K, NULL, &err)
                                             : lb_logits_writer_append(w, NULL, ids + off * K, counts + off * K, &err);
            if (rc) goto done;
        }
        const double t = now_s();
        if (t - last >= 1.0 || w0 + nb >= n_windows) {
            const double done_w = (double)(w0 + nb);
            fprintf(stderr, "teacher: %lld/%lld windows, %.0f tokens/s\n", (long long)(w0 + nb), (long long)n_windows,
                    done_w * T / (t - t0 > 1e-9 ? t - t0 : 1e-9));
            last = t;
        }
    }
    {
        lb_logits_writer *fw = w;
        w = NULL;
        if (lb_logits_writer_finish(fw, &err)) goto done;
    }
    struct stat st;
    const long long size = stat(out_path, &st) == 0 ? (long long)st.st_size : -1;
    const long long positions = (long long)n_windows * T;
    printf("%s: %lld windows, %lld positions, %lld bytes, %.2f bytes/token (mode %s", out_path, (long long)n_windows, positions,
           size, (double)size / (double)positions, lb_logit_mode_name(mode));
    if (mode != LB_LOGITS_FULL) printf(", k %d", K);
    printf(")\n");
    status = 0;
done:
    if (status) lb_cli_error("%s", err.msg);
    lb_logits_writer_abort(w);
    free(inputs);
    free(targets);
    free(ids);
    free(vals);
    free(counts);
    free(cdf);
    if (have_model) lb_train_model_free(&m);
    lb_loader_free(&loader);
    return status;
bad_value:
    fprintf(stderr, "lowbit teacher: bad option value '%s'\n", optarg);
    usage(stderr);
    return 2;
}
