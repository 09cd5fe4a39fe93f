// cmd_import.c: `lowbit import SRC -o OUT.gguf`: any supported source (HF directory, llama2.c
// checkpoint, GGUF) -> one GGUF that llama.cpp loads. Tensors stream from the source mmaps
// through lb_tensor_read_f32 (which applies the llama q/k permutation) in row slices, so at
// most one slice of converted data is ever in memory. The GGUF writer writes to a temp file
// and renames at the end; any error aborts it, so a failed import leaves no OUT behind.
#include "cmd.h"
#include "model.h"
#include "gguf.h"
#include "lb_types.h"
#include "fp16.h"
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define SLICE_FLOATS (4u << 20)   // 16 MB of float32 per conversion slice

// llama.cpp LLAMA_FTYPE values for general.file_type
static uint32_t ftype_of(uint32_t type) {
    switch (type) {
    case LB_TYPE_F32: return 0;
    case LB_TYPE_F16: return 1;
    case LB_TYPE_Q8_0: return 7;
    case LB_TYPE_BF16: return 32;
    default: return 0;
    }
}

static void usage(FILE *f) {
    fprintf(f,
        "usage: lowbit import SRC -o OUT.gguf [--type f32|f16|bf16|q8_0] [--tokenizer FILE] [-v]\n"
        "\n"
        "  SRC               a Hugging Face model directory (config.json, *.safetensors, tokenizer.json),\n"
        "                    a llama2.c checkpoint (.bin, needs --tokenizer tokenizer.bin), or a GGUF file\n"
        "  -o, --output      the GGUF file to write (written to a temp file, renamed when complete)\n"
        "  -t, --type        convert every 2-D weight (token_embd and output too) to this type;\n"
        "                    default: keep each weight's source type. 1-D tensors are always f32.\n"
        "                    q8_0 needs rows that are a multiple of 32; other rows fall back to f16.\n"
        "      --tokenizer   llama2.c tokenizer.bin, or a tokenizer.json replacing the HF directory's\n"
        "  -v, --verbose     per-tensor progress on stderr (default: only when stderr is a terminal)\n"
        "  -h, --help        this help\n");
}

static int64_t n_rows(const lb_tensor *t) { return t->ne[1] * t->ne[2] * t->ne[3]; }

// The output type of one tensor, and whether it had to fall back from the requested one.
static uint32_t plan_type(const lb_tensor *t, int target, int *fell_back) {
    *fell_back = 0;
    if (t->n_dims < 2) return LB_TYPE_F32;
    uint32_t want = target >= 0 ? (uint32_t)target : t->type;
    if (target < 0 && t->type != LB_TYPE_F32 && t->type != LB_TYPE_F16 && t->type != LB_TYPE_BF16) {
        // a quantized GGUF source without --type: keep it (a raw copy is lossless too)
        return t->type;
    }
    if (!lb_row_size(want, t->ne[0])) { *fell_back = 1; return LB_TYPE_F16; }
    return want;
}

// float32 -> out type, n values (n a multiple of the type's block)
static int from_f32(uint32_t type, const float *x, void *y, int64_t n, const char *name, lb_err *err) {
    switch (type) {
    case LB_TYPE_F32: memcpy(y, x, (size_t)n * 4); return 0;
    case LB_TYPE_F16: for (int64_t i = 0; i < n; i++) ((lb_fp16 *)y)[i] = lb_f32_to_fp16(x[i]); return 0;
    case LB_TYPE_BF16: for (int64_t i = 0; i < n; i++) ((lb_bf16 *)y)[i] = lb_f32_to_bf16(x[i]); return 0;
    default: {
        const lb_type_traits *tt = lb_type_get(type);
        if (!tt || !tt->from_float) return lb_fail(err, "%s: no converter to %s is registered in libquant", name, tt ? tt->name : "?");
        tt->from_float(x, y, n);
        return 0;
    }
    }
}

// Stream one tensor into the writer: a raw copy when nothing changes, else row slices.
static int write_tensor(lb_gguf_writer *w, const lb_tensor *t, uint32_t out_type, uint64_t out_bytes, lb_err *err) {
    if (out_type == t->type && t->xform == LB_XFORM_NONE) {
        if (t->nbytes < out_bytes) return lb_fail(err, "%s: %llu data bytes, shape needs %llu", t->src,
                                                  (unsigned long long)t->nbytes, (unsigned long long)out_bytes);
        return lb_gguf_writer_append(w, t->data, out_bytes, err);
    }
    int64_t ne0 = t->ne[0], rows = n_rows(t);
    int64_t slice = ne0 > 0 && ne0 < (int64_t)SLICE_FLOATS ? (int64_t)SLICE_FLOATS / ne0 : 1;
    if (slice > rows) slice = rows;
    size_t out_row = lb_row_size(out_type, ne0);
    float *f = malloc((size_t)(slice * ne0) * sizeof(float));
    void *y = malloc((size_t)slice * out_row);
    int rc = -1;
    if (!f || !y) { lb_fail(err, "%s: out of memory for a %lld-row slice", t->name, (long long)slice); goto done; }
    for (int64_t r = 0; r < rows; r += slice) {
        int64_t nr = rows - r < slice ? rows - r : slice;
        if (lb_tensor_read_f32(t, r, nr, f, err)) goto done;
        if (from_f32(out_type, f, y, nr * ne0, t->name, err)) goto done;
        if (lb_gguf_writer_append(w, y, (uint64_t)nr * out_row, err)) goto done;
    }
    rc = 0;
done:
    free(f);
    free(y);
    return rc;
}

static int parse_type(const char *s) {
    static const char *ok[] = {"f32", "f16", "bf16", "q8_0"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!strcasecmp(s, ok[i])) return lb_type_from_name(ok[i]);
    return -1;
}

int cmd_import(int argc, char **argv) {
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"type", required_argument, 0, 't'},
        {"tokenizer", required_argument, 0, 'k'}, {"verbose", no_argument, 0, 'v'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
    };
    const char *out = NULL, *tokenizer = NULL;
    int target = -1, verbose = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:t:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 't':
            if ((target = parse_type(optarg)) < 0) {
                fprintf(stderr, "lowbit import: --type must be f32, f16, bf16 or q8_0 (got '%s')\n", optarg);
                return 2;
            }
            break;
        case 'k': tokenizer = optarg; break;
        case 'v': verbose = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1 || !out) { usage(stderr); return 2; }
    const char *src = argv[optind];
    if (isatty(STDERR_FILENO)) verbose = 1;
    // a closed stderr pipe (| head) must not kill us between temp file and rename
    signal(SIGPIPE, SIG_IGN);
    if (target == LB_TYPE_Q8_0 && (!lb_type_get(LB_TYPE_Q8_0) || !lb_type_get(LB_TYPE_Q8_0)->from_float))
        return lb_cli_error("import: q8_0 conversion is not available (libquant has no q8_0 from_float registered)");

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    lb_err err = {{0}};
    lb_model m;
    if (lb_model_load(&m, src, tokenizer, &err)) return lb_cli_error("%s", err.msg);
    lb_hparams hp;
    if (lb_hparams_from_model(&hp, &m, src, &err)) { lb_model_free(&m); return lb_cli_error("%s", err.msg); }

    // --- plan every tensor before anything is written ---
    lb_gguf_tensor *desc = calloc(m.n_tensors ? m.n_tensors : 1, sizeof *desc);
    lb_kvs kv;
    lb_kvs_init(&kv);
    lb_gguf_writer *w = NULL;
    int status = 1;
    if (!desc) { lb_cli_error("%s: out of memory", src); goto done; }
    size_t count_by_type[LB_TYPE_MAX_ID] = {0};
    uint64_t total = 0;
    for (size_t i = 0; i < m.n_tensors; i++) {
        const lb_tensor *t = &m.tensors[i];
        int fell_back;
        uint32_t ot = plan_type(t, target, &fell_back);
        if (fell_back)
            fprintf(stderr, "lowbit: note: %s: rows of %lld do not fit %s blocks, stored as f16\n", t->name,
                    (long long)t->ne[0], lb_type_get((uint32_t)target)->name);
        memcpy(desc[i].name, t->name, sizeof desc[i].name);
        desc[i].n_dims = t->n_dims;
        memcpy(desc[i].ne, t->ne, sizeof desc[i].ne);
        desc[i].type = ot;
        desc[i].nbytes = lb_row_size(ot, t->ne[0]) * (uint64_t)n_rows(t);
        if (!lb_row_size(ot, t->ne[0])) { lb_cli_error("%s: rows of %lld do not fit type %u", t->src, (long long)t->ne[0], ot); goto done; }
        total += desc[i].nbytes;
        if (t->n_dims >= 2) count_by_type[ot]++;
    }
    // general.file_type: the requested type, else the most common 2-D type
    uint32_t ftype_type = LB_TYPE_F32;
    if (target >= 0) ftype_type = (uint32_t)target;
    else {
        size_t best = 0;
        for (uint32_t ty = 0; ty < LB_TYPE_MAX_ID; ty++)
            if (count_by_type[ty] > best) { best = count_by_type[ty]; ftype_type = ty; }
    }
    if (lb_kvs_copy(&kv, &m.kv, &err)) { lb_cli_error("%s", err.msg); goto done; }
    int64_t src_ftype;
    uint32_t ftype = ftype_of(ftype_type);
    if (ftype_type != LB_TYPE_F32 && ftype == 0 && !lb_kvs_get_int(&m.kv, "general.file_type", &src_ftype))
        ftype = (uint32_t)src_ftype;   // a quantized GGUF kept as is keeps its own label
    if (lb_kvs_set_u32(&kv, "general.file_type", ftype, &err)) { lb_cli_error("%s", err.msg); goto done; }

    // --- stream ---
    if (!(w = lb_gguf_writer_open(out, &kv, desc, m.n_tensors, 0, &err))) { lb_cli_error("%s", err.msg); goto done; }
    for (size_t i = 0; i < m.n_tensors; i++) {
        const lb_tensor *t = &m.tensors[i];
        if (verbose) {
            fprintf(stderr, "[%*zu/%zu] %-28s %5s -> %-5s %lldx%lld\n", (int)snprintf(NULL, 0, "%zu", m.n_tensors), i + 1,
                    m.n_tensors, t->name, lb_type_get(t->type) ? lb_type_get(t->type)->name : "?",
                    lb_type_get(desc[i].type)->name, (long long)t->ne[0], (long long)n_rows(t));
        }
        if (write_tensor(w, t, desc[i].type, desc[i].nbytes, &err)) { lb_cli_error("%s", err.msg); goto done; }
    }
    lb_gguf_writer *wc = w;
    w = NULL;
    if (lb_gguf_writer_close(wc, &err)) { lb_cli_error("%s", err.msg); goto done; }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    fprintf(stderr, "lowbit: wrote %s: %s, %zu tensors, %.2f MB of weights, file_type %u, %.2f s\n", out,
            lb_arch_name(hp.arch), m.n_tensors, (double)total / 1e6, ftype, secs);
    status = 0;
done:
    if (w) lb_gguf_writer_abort(w);
    lb_kvs_free(&kv);
    free(desc);
    lb_model_free(&m);
    return status;
}
