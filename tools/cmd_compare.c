// cmd_compare.c: `lowbit compare --teacher FP.gguf --text FILE MODEL.gguf...`: one table that
// puts low-bit versions of a model next to their full-precision teacher: size, bits per
// weight, perplexity (exactly `lowbit perplexity`'s protocol and number), KL(teacher || model)
// and top-1 agreement over the scored positions, and greedy decode speed.
//
// Order of work: every file is opened and checked first (GGUF, same vocabulary as the
// teacher, a runtime can be built), so a bad file fails in a second, not after an hour of
// evaluation. Then chunk by chunk: the teacher's log-softmax of the chunk, then each model's,
// compared while both are in memory (two chunks of logits at any time; all files stay mmap'd,
// so the OS pages weights in and out as needed). Then decode speed, one model at a time.
// Output: a markdown table (or CSV) on stdout; progress on stderr; --plot runs gnuplot.
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "cmd.h"
#include "cli_util.h"
#include "eval.h"
#include "infer.h"
#include "lb_types.h"
#include "model.h"
#include "sampler.h"
#include "tmpfiles.h"
#include "tokenizer.h"

extern char **environ;

#define DECODE_PROMPT_TOKENS 16   // the "short prompt" before timed decoding: the text's first tokens

static void usage(FILE *f) {
    fprintf(f,
        "usage: lowbit compare --teacher FP.gguf --text FILE MODEL.gguf... [--ctx 512] [--chunks N]\n"
        "                      [--csv] [--csv-file FILE] [--plot FILE.png] [--decode-tokens N] [-t N]\n"
        "\n"
        "Compare models with their full-precision teacher on one text: one row per model (the\n"
        "teacher first) with main weight type, file size, bits per weight (all tensors, and the\n"
        "blk.*.weight matrices alone), perplexity (the `lowbit perplexity` protocol: chunks of\n"
        "--ctx tokens from BOS, second half scored), its ratio to the teacher's, mean\n"
        "KL(teacher || model) in nats and top-1 agreement with the teacher over the scored\n"
        "positions, and greedy decode speed. Every model must share the teacher's vocabulary.\n"
        "\n"
        "  --teacher FILE       the reference model (GGUF)\n"
        "  -f, --text FILE      text to score (needs at least 2 x ctx tokens)\n"
        "  -c, --ctx N          tokens per chunk (default 512)\n"
        "      --chunks N       score at most N chunks (default: all)\n"
        "      --csv            CSV instead of a markdown table\n"
        "      --csv-file FILE  also write the table as CSV to FILE (temp file, renamed)\n"
        "      --plot FILE.png  perplexity against bits per weight, drawn by gnuplot\n"
        "      --decode-tokens N  tokens generated greedily for the speed column (default 64; 0: skip)\n"
        "  -t, --threads N      threads (default: number of processors)\n"
        "  -h, --help           this help\n");
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

// --- one row of the table ---------------------------------------------------------------------
typedef struct entry {
    const char *path;
    const char *name;         // basename of path
    lb_model model;
    int loaded;
    lb_hparams hp;
    lb_runtime *rt;
    // file facts
    double size_mb;           // file bytes / 1e6
    double bpw;               // tensor data bits / weights, all tensors
    double bpw_linear;        // the same over blk.*.weight 2-D tensors (NAN if none)
    uint32_t main_type;       // type holding most block-linear weights
    // measurements
    lb_eval_stats st;
    double decode_tps;        // NAN when not measured
} entry;

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s && s[1] ? s + 1 : path;
}

static int is_block_linear(const lb_tensor *t) {
    const size_t n = strlen(t->name);
    return t->n_dims == 2 && !strncmp(t->name, "blk.", 4) && n > 11 && !strcmp(t->name + n - 7, ".weight");
}

// size, bits per weight, main type; the tensor sizes were checked by the GGUF reader
static int file_facts(entry *e, lb_err *err) {
    struct stat st;
    if (stat(e->path, &st)) return lb_fail(err, "%s: %s", e->path, strerror(errno));
    e->size_mb = (double)st.st_size / 1e6;
    double bits = 0, weights = 0, lin_bits = 0, lin_weights = 0;
    double *per_type = calloc(LB_TYPE_MAX_ID + 1, sizeof *per_type);   // block-linear weights by type
    double *per_type_all = calloc(LB_TYPE_MAX_ID + 1, sizeof *per_type_all);
    if (!per_type || !per_type_all) { free(per_type); free(per_type_all); return lb_fail(err, "out of memory"); }
    for (size_t i = 0; i < e->model.n_tensors; i++) {
        const lb_tensor *t = &e->model.tensors[i];
        double n = 1;
        for (uint32_t d = 0; d < t->n_dims && d < LB_GGUF_MAX_DIMS; d++) n *= (double)t->ne[d];
        bits += 8.0 * (double)t->nbytes;
        weights += n;
        const uint32_t ty = t->type <= LB_TYPE_MAX_ID ? t->type : LB_TYPE_MAX_ID;
        per_type_all[ty] += n;
        if (is_block_linear(t)) {
            lin_bits += 8.0 * (double)t->nbytes;
            lin_weights += n;
            per_type[ty] += n;
        }
    }
    e->bpw = weights > 0 ? bits / weights : NAN;
    e->bpw_linear = lin_weights > 0 ? lin_bits / lin_weights : NAN;
    const double *count = lin_weights > 0 ? per_type : per_type_all;   // no blk.* at all: every tensor
    uint32_t best = 0;
    for (uint32_t ty = 1; ty <= LB_TYPE_MAX_ID; ty++)
        if (count[ty] > count[best]) best = ty;   // ties: the lower id
    e->main_type = best;
    free(per_type);
    free(per_type_all);
    return 0;
}

static const char *type_name(uint32_t type) {
    const lb_type_traits *tr = lb_type_get(type);
    return tr ? tr->name : "?";
}

// Same n_vocab, same token strings, same BOS handling: otherwise logits are not comparable
// (and the teacher's tokenization of the text would not be the model's).
static int check_vocab(const entry *t, const lb_tokenizer *t_tok, const entry *m, lb_err *err) {
    if (m->hp.n_vocab != t->hp.n_vocab)
        return lb_fail(err, "%s: vocabulary of %d tokens, the teacher %s has %d", m->path, m->hp.n_vocab, t->path,
                       t->hp.n_vocab);
    uint64_t n_t = 0, n_m = 0;
    const lb_str *tt = lb_kvs_get_str_arr(&t->model.kv, "tokenizer.ggml.tokens", &n_t);
    const lb_str *mt = lb_kvs_get_str_arr(&m->model.kv, "tokenizer.ggml.tokens", &n_m);
    if (!mt) return lb_fail(err, "%s: no tokenizer.ggml.tokens", m->path);
    if (!tt) return lb_fail(err, "%s: no tokenizer.ggml.tokens", t->path);
    if (n_m != n_t)
        return lb_fail(err, "%s: %llu vocabulary tokens, the teacher %s has %llu", m->path, (unsigned long long)n_m,
                       t->path, (unsigned long long)n_t);
    for (uint64_t i = 0; i < n_t; i++)
        if (tt[i].len != mt[i].len || memcmp(tt[i].ptr, mt[i].ptr, tt[i].len))
            return lb_fail(err, "%s: vocabulary differs from the teacher %s (token %llu)", m->path, t->path,
                           (unsigned long long)i);
    lb_tokenizer *m_tok = lb_tokenizer_build(&m->model.kv, m->path, err);
    if (!m_tok) return -1;
    const int same = lb_tokenizer_add_bos(m_tok) == lb_tokenizer_add_bos(t_tok) &&
                     lb_tokenizer_bos(m_tok) == lb_tokenizer_bos(t_tok);
    lb_tokenizer_free(m_tok);
    if (!same) return lb_fail(err, "%s: BOS handling differs from the teacher %s", m->path, t->path);
    return 0;
}

// --- decode speed -----------------------------------------------------------------------------
// Greedy: the prompt in one batch (untimed), then n_decode single-token steps, each feeding
// back the argmax; tok/s = n_decode / time of those steps.
static int measure_decode(entry *e, const int32_t *prompt, int n_prompt, int n_decode, int n_threads, lb_err *err) {
    lb_runtime *rt = lb_runtime_build_hp(&e->model, &e->hp, e->path, n_prompt + n_decode, n_threads, err);
    if (!rt) return -1;
    float *logits = malloc((size_t)e->hp.n_vocab * sizeof *logits);
    int rc = -1;
    if (!logits) { lb_fail(err, "out of memory"); goto done; }
    if (lb_runtime_eval(rt, prompt, n_prompt, 0, logits, 1, err)) goto done;
    const double t0 = now_s();
    for (int i = 0; i < n_decode; i++) {
        const int32_t next = lb_sample_argmax(logits, e->hp.n_vocab);
        if (lb_runtime_eval(rt, &next, 1, n_prompt + i, logits, 1, err)) goto done;
    }
    const double dt = now_s() - t0;
    e->decode_tps = dt > 0 ? n_decode / dt : INFINITY;
    rc = 0;
done:
    free(logits);
    lb_runtime_free(rt);
    return rc;
}

// --- output -----------------------------------------------------------------------------------
static void put_csv_field(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) { fputs(s, f); return; }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void put_md_field(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '|' || *s == '\\') fputc('\\', f);
        fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
    }
}

// numbers as text: "nan" never appears, a missing value is empty (CSV) or "-" (markdown)
static void fmt(char *buf, size_t cap, const char *f, double v, const char *missing) {
    if (isfinite(v)) snprintf(buf, cap, f, v);
    else snprintf(buf, cap, "%s", missing);
}

#define N_COLS 10
static const char *CSV_COLS[N_COLS] = {"model", "type", "size_mb", "bpw", "bpw_linear", "ppl", "ppl_ratio",
                                       "kl_mean", "top1_pct", "decode_tok_s"};
static const char *MD_COLS[N_COLS] = {"model", "type", "size MB", "bpw", "bpw linear", "PPL", "PPL ratio",
                                      "KL (nats)", "top-1 %", "decode tok/s"};

static void print_table(FILE *f, const entry *es, int n, int csv) {
    const char *miss = csv ? "" : "-";
    if (csv) {
        for (int c = 0; c < N_COLS; c++) fprintf(f, "%s%s", c ? "," : "", CSV_COLS[c]);
        fputc('\n', f);
    } else {
        fputc('|', f);
        for (int c = 0; c < N_COLS; c++) fprintf(f, " %s |", MD_COLS[c]);
        fputs("\n|:---|:---|", f);
        for (int c = 2; c < N_COLS; c++) fputs("---:|", f);
        fputc('\n', f);
    }
    const double ppl_t = lb_eval_ppl(&es[0].st);
    for (int i = 0; i < n; i++) {
        const entry *e = &es[i];
        const double ppl = lb_eval_ppl(&e->st);
        char v[N_COLS - 2][64];
        fmt(v[0], sizeof v[0], "%.3f", e->size_mb, miss);
        fmt(v[1], sizeof v[1], "%.4f", e->bpw, miss);
        fmt(v[2], sizeof v[2], "%.4f", e->bpw_linear, miss);
        fmt(v[3], sizeof v[3], "%.6f", ppl, miss);   // the format `lowbit perplexity` prints
        fmt(v[4], sizeof v[4], "%.6f", i == 0 ? 1.0 : ppl / ppl_t, miss);
        fmt(v[5], sizeof v[5], "%.8f", lb_eval_kl_mean(&e->st), miss);
        fmt(v[6], sizeof v[6], "%.4f", lb_eval_top1_pct(&e->st), miss);
        fmt(v[7], sizeof v[7], "%.1f", e->decode_tps, miss);
        if (csv) {
            put_csv_field(f, e->name);
            fprintf(f, ",%s", type_name(e->main_type));
            for (int c = 0; c < N_COLS - 2; c++) fprintf(f, ",%s", v[c]);
        } else {
            fputs("| ", f);
            put_md_field(f, e->name);
            fprintf(f, " | %s |", type_name(e->main_type));
            for (int c = 0; c < N_COLS - 2; c++) fprintf(f, " %s |", v[c]);
        }
        fputc('\n', f);
    }
}

// --- plot -------------------------------------------------------------------------------------
static int find_gnuplot(void) {
    const char *path = getenv("PATH");
    if (!path) return 0;
    char dir[4096];
    for (const char *p = path;;) {
        const char *colon = strchr(p, ':');
        const size_t len = colon ? (size_t)(colon - p) : strlen(p);
        if (len > 0 && len < sizeof dir - 16) {
            memcpy(dir, p, len);
            strcpy(dir + len, "/gnuplot");
            if (!access(dir, X_OK)) return 1;
        }
        if (!colon) return 0;
        p = colon + 1;
    }
}

// a label gnuplot reads safely inside "..." or '...': no quotes, backslashes or control bytes
static void plot_label(char *out, size_t cap, const char *s) {
    size_t n = 0;
    for (; *s && n + 1 < cap; s++) {
        const unsigned char ch = (unsigned char)*s;
        out[n++] = (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\'' || ch == '\\') ? '_' : (char)ch;
    }
    out[n] = '\0';
}

static int write_plot(const char *png, const entry *es, int n, const char *text_path, const lb_eval_plan *plan,
                      lb_err *err) {
    char tmp_png[4200], script[4200];
    if (snprintf(tmp_png, sizeof tmp_png, "%s.tmp.%ld", png, (long)getpid()) >= (int)sizeof tmp_png ||
        snprintf(script, sizeof script, "%s.gp.tmp.%ld", png, (long)getpid()) >= (int)sizeof script)
        return lb_fail(err, "%s: path too long", png);
    for (const char *c = tmp_png; *c; c++)
        if (*c == '\'' || *c == '\n') return lb_fail(err, "%s: the plot path may not contain quotes or newlines", png);
    FILE *f = fopen(script, "w");
    if (!f) return lb_fail(err, "%s: %s", script, strerror(errno));
    lb_tmpfile_track(script);
    lb_tmpfile_track(tmp_png);

    double xmin = INFINITY, xmax = -INFINITY;
    for (int i = 0; i < n; i++)
        if (isfinite(es[i].bpw)) { xmin = fmin(xmin, es[i].bpw); xmax = fmax(xmax, es[i].bpw); }
    char label[256], text_label[256];
    plot_label(text_label, sizeof text_label, base_name(text_path));
    // many models share a bits-per-weight value (one QAT checkpoint exported to several types,
    // PTQ methods of one type): names next to the points collide, so points carry their row
    // number and the key, outside the plot, says which model each number is
    fprintf(f, "set terminal pngcairo size 1280,720 noenhanced font ',11'\n");
    fprintf(f, "set output '%s'\n", tmp_png);
    fprintf(f, "set title 'perplexity vs bits per weight (%s, ctx %d, %ld chunks)'\n", text_label, plan->n_ctx,
            plan->n_chunk);
    fprintf(f, "set xlabel 'bits per weight (all tensors)'\nset ylabel 'perplexity'\n");
    fprintf(f, "set logscale x 2\nset grid\nset key outside right top Left reverse samplen 1\n"
               "set offsets 0, 0, graph 0.08, graph 0.08\n");
    fprintf(f, "set xrange [%.6g:%.6g]\n", xmin / 1.4, xmax * 1.4);
    fprintf(f, "$models << EOD\n");
    for (int i = 0; i < n; i++) {   // bpw, PPL, the model's position in the table
        const double ppl = lb_eval_ppl(&es[i].st);
        if (!isfinite(es[i].bpw) || !isfinite(ppl)) continue;
        fprintf(f, "%.6f %.6f %d\n", es[i].bpw, ppl, i + 1);
    }
    fprintf(f, "EOD\nplot ");
    // one series per model: its key entry is "row name"; data line k of $models is model k
    for (int i = 0, k = 0; i < n; i++) {
        if (!isfinite(es[i].bpw) || !isfinite(lb_eval_ppl(&es[i].st))) continue;
        plot_label(label, sizeof label, es[i].name);
        fprintf(f, "$models every ::%d::%d using 1:2 with points pt 7 ps 1.4 lc %d title '%d %s', \\\n", k, k, k % 8 + 1,
                i + 1, label);
        k++;
    }
    plot_label(label, sizeof label, es[0].name);
    fprintf(f,
            "     $models using 1:2:3 with labels offset char 0.7,0.6 left notitle, \\\n"
            "     %.6f with lines dt 2 lw 1.5 lc rgb '#d62728' title 'teacher %s: PPL %.4f'\n",
            lb_eval_ppl(&es[0].st), label, lb_eval_ppl(&es[0].st));
    int ok = fflush(f) == 0;
    ok &= fclose(f) == 0;
    int rc = -1;
    if (!ok) { lb_fail(err, "%s: write failed", script); goto done; }

    char *args[] = {"gnuplot", script, NULL};
    pid_t pid;
    int e = posix_spawnp(&pid, "gnuplot", NULL, NULL, args, environ);
    if (e) { lb_fail(err, "cannot run gnuplot: %s", strerror(e)); goto done; }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) { lb_fail(err, "gnuplot: %s", strerror(errno)); goto done; }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) { lb_fail(err, "%s: gnuplot failed (see above)", png); goto done; }
    struct stat st;
    if (stat(tmp_png, &st) || st.st_size == 0) { lb_fail(err, "%s: gnuplot wrote no image", png); goto done; }
    if (rename(tmp_png, png)) { lb_fail(err, "%s: %s", png, strerror(errno)); goto done; }
    rc = 0;
done:
    if (rc) unlink(tmp_png);
    unlink(script);
    lb_tmpfile_untrack(tmp_png);
    lb_tmpfile_untrack(script);
    return rc;
}

// the CSV table into path, atomically (temp file, renamed)
static int write_csv_file(const char *path, const entry *es, int n, lb_err *err) {
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid()) >= (int)sizeof tmp) return lb_fail(err, "%s: path too long", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return lb_fail(err, "%s: %s", tmp, strerror(errno));
    lb_tmpfile_track(tmp);
    print_table(f, es, n, 1);
    const int bad = ferror(f) | fclose(f);
    if (bad || rename(tmp, path)) {
        lb_fail(err, "%s: %s", path, bad ? "write failed" : strerror(errno));
        remove(tmp);
        lb_tmpfile_untrack(tmp);
        return -1;
    }
    lb_tmpfile_untrack(tmp);
    return 0;
}

// --- the command ------------------------------------------------------------------------------
int cmd_compare(int argc, char **argv) {
    enum { OPT_TEACHER = 1000, OPT_CHUNKS, OPT_CSV, OPT_CSV_FILE, OPT_PLOT, OPT_DECODE };
    static const struct option opts[] = {
        {"teacher", required_argument, 0, OPT_TEACHER}, {"text", required_argument, 0, 'f'},
        {"ctx", required_argument, 0, 'c'}, {"chunks", required_argument, 0, OPT_CHUNKS},
        {"csv", no_argument, 0, OPT_CSV}, {"csv-file", required_argument, 0, OPT_CSV_FILE},
        {"plot", required_argument, 0, OPT_PLOT},
        {"decode-tokens", required_argument, 0, OPT_DECODE}, {"threads", required_argument, 0, 't'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *teacher_path = NULL, *text_path = NULL, *plot_path = NULL, *csv_path = NULL;
    const int tty = isatty(STDERR_FILENO);
    long n_ctx = 512, max_chunks = -1, n_decode = 64, n_threads = omp_get_num_procs();
    int csv = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:c:t:h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_TEACHER: teacher_path = optarg; break;
        case 'f': text_path = optarg; break;
        case 'c': if (lb_cli_parse_long(optarg, 4, 1L << 20, &n_ctx)) goto bad_value; break;
        case OPT_CHUNKS: if (lb_cli_parse_long(optarg, 1, 1L << 30, &max_chunks)) goto bad_value; break;
        case OPT_CSV: csv = 1; break;
        case OPT_CSV_FILE: csv_path = optarg; break;
        case OPT_PLOT: plot_path = optarg; break;
        case OPT_DECODE: if (lb_cli_parse_long(optarg, 0, 1L << 20, &n_decode)) goto bad_value; break;
        case 't': if (lb_cli_parse_long(optarg, 1, 1024, &n_threads)) goto bad_value; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc || !teacher_path || !text_path || (plot_path && !*plot_path) || (csv_path && !*csv_path)) {
        usage(stderr);
        return 2;
    }
    // before any work: a missing plotter must not cost an evaluation
    if (plot_path && !find_gnuplot())
        return lb_cli_error("--plot needs gnuplot on PATH (Debian: apt-get install gnuplot-nox)");
    omp_set_num_threads((int)n_threads);

    const int n = 1 + (argc - optind);   // the teacher first
    lb_err err = {{0}};
    entry *es = calloc((size_t)n, sizeof *es);
    lb_tokenizer *tok = NULL;
    char *text = NULL;
    int32_t *ids = NULL, *scratch = NULL;
    double *kl_rows = NULL;
    lb_logsoftmax ls_teacher = {0}, ls_model = {0};
    size_t n_ids = 0, text_len = 0;
    int status = 1;
    if (!es) return lb_cli_error("out of memory");
    es[0].path = teacher_path;
    for (int i = 1; i < n; i++) es[i].path = argv[optind + i - 1];

    // --- open and check every file ---
    for (int i = 0; i < n; i++) {
        entry *e = &es[i];
        e->name = base_name(e->path);
        e->decode_tps = NAN;
        if (lb_model_from_gguf(&e->model, e->path, &err)) goto done;
        e->loaded = 1;
        if (lb_hparams_from_model(&e->hp, &e->model, e->path, &err)) goto done;
        if (i == 0 && !(tok = lb_tokenizer_build(&e->model.kv, e->path, &err))) goto done;
        if (i > 0 && check_vocab(&es[0], tok, e, &err)) goto done;
        if (file_facts(e, &err)) goto done;
    }
    if (!(text = lb_cli_read_file(text_path, &text_len, &err))) goto done;
    if (lb_eval_tokenize(tok, text, &text_len, &ids, &n_ids, &err)) goto done;
    lb_eval_plan plan;
    if (lb_eval_plan_build(&plan, n_ids, (int)n_ctx, max_chunks, tok, teacher_path, text_path, &err)) goto done;
    for (int i = 0; i < n; i++)
        if (!(es[i].rt = lb_runtime_build_hp(&es[i].model, &es[i].hp, es[i].path, plan.n_ctx, (int)n_threads, &err)))
            goto done;
    if (lb_logsoftmax_build(&ls_teacher, plan.n_logits, es[0].hp.n_vocab, &err)) goto done;
    if (lb_logsoftmax_build(&ls_model, plan.n_logits, es[0].hp.n_vocab, &err)) goto done;
    scratch = malloc((size_t)plan.n_ctx * sizeof *scratch);
    kl_rows = malloc((size_t)plan.n_scored * sizeof *kl_rows);
    if (!scratch || !kl_rows) { lb_fail(&err, "out of memory"); goto done; }
    fprintf(stderr, "compare: %d models, %zu tokens, %ld chunks of %d, scoring positions %d..%d of each\n", n, n_ids,
            plan.n_chunk, plan.n_ctx, plan.first, plan.n_ctx - 2);

    // --- chunk by chunk: the teacher, then each model against it ---
    const double t0 = now_s();
    for (long ch = 0; ch < plan.n_chunk; ch++) {
        if (lb_eval_chunk(&ls_teacher, es[0].rt, &plan, ids, ch, scratch, &err)) goto done;
        lb_eval_stats_add(&es[0].st, &ls_teacher, &ls_teacher, &plan, ids, ch, kl_rows);
        for (int i = 1; i < n; i++) {
            if (lb_eval_chunk(&ls_model, es[i].rt, &plan, ids, ch, scratch, &err)) goto done;
            lb_eval_stats_add(&es[i].st, &ls_model, &ls_teacher, &plan, ids, ch, kl_rows);
        }
        const double el = now_s() - t0;
        if (tty) {   // one line, rewritten: chunk count, time and the running perplexities
            fprintf(stderr, "\r[%ld/%ld] %.1f s, ETA %.1f s:", ch + 1, plan.n_chunk, el, el / (ch + 1) * (plan.n_chunk - ch - 1));
            for (int i = 0; i < n && i < 4; i++) fprintf(stderr, " %s %.4f", es[i].name, lb_eval_ppl(&es[i].st));
            fprintf(stderr, "%s\033[K", n > 4 ? " ..." : "");
            if (ch + 1 == plan.n_chunk) fputc('\n', stderr);
        } else if ((ch + 1) % 10 == 0 || ch + 1 == plan.n_chunk) {   // logs: every 10th chunk, whole
            fprintf(stderr, "[%ld/%ld] %.1f s, ETA %.1f s:", ch + 1, plan.n_chunk, el, el / (ch + 1) * (plan.n_chunk - ch - 1));
            for (int i = 0; i < n; i++) fprintf(stderr, " %s %.4f", es[i].name, lb_eval_ppl(&es[i].st));
            fputc('\n', stderr);
        }
    }
    for (int i = 0; i < n; i++) { lb_runtime_free(es[i].rt); es[i].rt = NULL; }

    // --- decode speed: one model at a time, same prompt, same threads ---
    if (n_decode > 0) {
        const int n_prompt = n_ids < DECODE_PROMPT_TOKENS ? (int)n_ids : DECODE_PROMPT_TOKENS;
        for (int i = 0; i < n; i++) {
            if (measure_decode(&es[i], ids, n_prompt, (int)n_decode, (int)n_threads, &err)) goto done;
            fprintf(stderr, "decode: %s %.1f tok/s (%ld tokens after a %d-token prompt, %ld threads)\n", es[i].name,
                    es[i].decode_tps, n_decode, n_prompt, n_threads);
        }
    }

    print_table(stdout, es, n, csv);
    if (fflush(stdout)) { lb_fail(&err, "stdout: %s", strerror(errno)); goto done; }
    if (csv_path && write_csv_file(csv_path, es, n, &err)) goto done;
    if (plot_path) {
        if (write_plot(plot_path, es, n, text_path, &plan, &err)) goto done;
        fprintf(stderr, "compare: wrote %s\n", plot_path);
    }
    status = 0;
done:
    if (status) lb_cli_error("%s", err.msg);
    lb_logsoftmax_free(&ls_teacher);
    lb_logsoftmax_free(&ls_model);
    free(kl_rows);
    free(scratch);
    free(ids);
    free(text);
    lb_tokenizer_free(tok);
    for (int i = 0; i < n; i++) {
        lb_runtime_free(es[i].rt);
        if (es[i].loaded) lb_model_free(&es[i].model);
    }
    free(es);
    return status;
bad_value:
    fprintf(stderr, "lowbit compare: bad option value '%s'\n", optarg);
    usage(stderr);
    return 2;
}
