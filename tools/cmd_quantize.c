// cmd_quantize.c: `lowbit quantize IN.gguf OUT.gguf --type T`: post-training quantization.
//
// Streams tensor by tensor like `import`: a slice of rows is read as f32 (lb_tensor_read_f32),
// quantized (RTN: the type's own rounding rule, i.e. its from_float; GPTQ: libquant's GPTQ
// with the Hessian of the weight's input, collected by runtime/calib.c on --calib text), and
// appended to the GGUF writer (temp file, renamed at the end: a failed run leaves no OUT).
// Source pages are released (MADV_DONTNEED) as soon as a tensor is written, so peak RSS stays
// near one slice of f32 rows plus, for GPTQ, one tensor and the Hessians of a layer range.
//
// Mixed precision by default, as llama.cpp's files are: token_embd and output in q8_0
// (--embeddings), 1-D tensors (norms, biases) f32, every other 2-D weight in --type. A tensor
// whose rows do not fit the type's block falls back to q8_0 (rows % 32 == 0) or f16, and the
// command says which tensors did and why.
#include "cmd.h"
#include "cli_util.h"
#include "calib.h"
#include "infer.h"
#include "model.h"
#include "gguf.h"
#include "lb_types.h"
#include "quant.h"
#include <getopt.h>
#include <omp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define SLICE_FLOATS (4u << 20)        // 16 MB of f32 rows per RTN slice
#define DEFAULT_CALIB_MEM_MB 2048      // Hessians held at once (see calib.h for the sizes)

// --- types the command writes ---------------------------------------------------------------
typedef struct qtype {
    const char *name;     // as on the command line
    uint32_t type;
    uint32_t ftype;       // general.file_type (llama.cpp's LLAMA_FTYPE; lowbit's own for native types)
} qtype;

// Native types have no LLAMA_FTYPE; docs/formats.md: 512 + type id (informational only).
#define LB_FTYPE_Q2_0C (512 + LB_TYPE_Q2_0C)
#define LB_FTYPE_STQ1_0 (512 + LB_TYPE_STQ1_0)
static const qtype QTYPES[] = {
    {"q8_0", LB_TYPE_Q8_0, 7}, {"q2_k", LB_TYPE_Q2_K, 10}, {"tq1_0", LB_TYPE_TQ1_0, 36},
    {"tq2_0", LB_TYPE_TQ2_0, 37}, {"q2_0c", LB_TYPE_Q2_0C, LB_FTYPE_Q2_0C},
    {"stq1_0", LB_TYPE_STQ1_0, LB_FTYPE_STQ1_0},
};
// --embeddings may also keep the embeddings in float
static const qtype EMB_EXTRA[] = {{"f32", LB_TYPE_F32, 0}, {"f16", LB_TYPE_F16, 1}, {"bf16", LB_TYPE_BF16, 32}};

static const qtype *find_qtype(const char *s, int allow_float) {
    for (size_t i = 0; i < sizeof QTYPES / sizeof QTYPES[0]; i++)
        if (!strcasecmp(s, QTYPES[i].name)) return &QTYPES[i];
    if (allow_float)
        for (size_t i = 0; i < sizeof EMB_EXTRA / sizeof EMB_EXTRA[0]; i++)
            if (!strcasecmp(s, EMB_EXTRA[i].name)) return &EMB_EXTRA[i];
    return NULL;
}

static void usage(FILE *f) {
    fprintf(f,
        "usage: lowbit quantize IN.gguf OUT.gguf --type TYPE [--method rtn|gptq] [--calib FILE]\n"
        "                       [--embeddings TYPE] [-t N] [-v]\n"
        "\n"
        "Post-training quantization, streamed tensor by tensor (memory stays far below the model).\n"
        "\n"
        "  --type TYPE         q8_0 | q2_k | tq1_0 | tq2_0 (llama.cpp types)\n"
        "                      q2_0c | stq1_0 (lowbit's native types, docs/formats.md)\n"
        "                      applies to every 2-D weight except token_embd / output\n"
        "  --embeddings TYPE   token_embd and output (default q8_0; also f32, f16, bf16)\n"
        "  --method M          rtn (default): each type's own rounding rule\n"
        "                      gptq: GPTQ error compensation with Hessians from --calib text\n"
        "                      (the 7 linear weights of each layer; embeddings stay RTN)\n"
        "                      seq2 (q2_k, q2_0c), seq_ternary | absmean (tq1_0, tq2_0),\n"
        "                      sherry (stq1_0, tq1_0, tq2_0): a fixed grid, packed exactly\n"
        "  --calib FILE        calibration text (gptq), read like llama-perplexity: chunks from BOS\n"
        "  --calib-ctx N       tokens per calibration chunk (default 256)\n"
        "  --calib-chunks N    chunks at most (default 128)\n"
        "  --calib-tokens N    tokens at most (default: chunks x ctx)\n"
        "  --calib-mem MB      Hessians held at once (default %d); more layers per pass = fewer\n"
        "                      calibration passes over the text\n"
        "  --damp F            GPTQ damping, fraction of mean(diag H) added to the diagonal (default 0.01)\n"
        "  -t, --threads N     threads (default: number of processors)\n"
        "  -v, --verbose       a line per tensor (default when stderr is a terminal)\n"
        "  -h, --help          this help\n"
        "\n"
        "Rows that do not fit TYPE's block fall back to q8_0 (rows %% 32 == 0) or f16; the command\n"
        "lists them. 1-D tensors are stored f32. OUT is written to a temp file and renamed at the end.\n",
        DEFAULT_CALIB_MEM_MB);
}

static int64_t n_rows(const lb_tensor *t) { return t->ne[1] * t->ne[2] * t->ne[3]; }

static uint32_t ftype_of(uint32_t type) {
    const qtype *q = NULL;
    for (size_t i = 0; i < sizeof QTYPES / sizeof QTYPES[0]; i++) if (QTYPES[i].type == type) q = &QTYPES[i];
    for (size_t i = 0; i < sizeof EMB_EXTRA / sizeof EMB_EXTRA[0]; i++) if (EMB_EXTRA[i].type == type) q = &EMB_EXTRA[i];
    return q ? q->ftype : 0;
}

static int is_native(uint32_t type) { return type == LB_TYPE_Q2_0C || type == LB_TYPE_STQ1_0; }

// general.file_type and, for files holding native tensors, the keys docs/formats.md requires
// (lowbit.format_version, lowbit.native_types). weights_by_type: 2-D weights per output type.
static int set_type_metadata(lb_kvs *kv, const qtype *qt, const double *weights_by_type, lb_err *err) {
    uint32_t best_native = 0, best_any = LB_TYPE_F32;
    lb_str names[2];
    int n_native = 0;
    for (uint32_t ty = 0; ty < LB_TYPE_MAX_ID; ty++) {
        if (weights_by_type[ty] <= 0) continue;
        if (is_native(ty)) {
            if (!best_native || weights_by_type[ty] > weights_by_type[best_native]) best_native = ty;
            const char *nm = lb_type_get(ty)->name;
            names[n_native++] = (lb_str){.len = strlen(nm), .ptr = nm};   // id order: the loop's
        }
        if (weights_by_type[ty] > weights_by_type[best_any]) best_any = ty;
    }
    // the requested type when any tensor has it, else the type holding most weights
    uint32_t ftype = weights_by_type[qt->type] > 0 ? qt->ftype : ftype_of(best_any);
    if (n_native) {
        ftype = 512 + best_native;
        if (lb_kvs_set_u32(kv, "lowbit.format_version", 1, err)) return -1;
        if (lb_kvs_set_str_arr(kv, "lowbit.native_types", names, (uint64_t)n_native, err)) return -1;
    } else {
        lb_kvs_remove(kv, "lowbit.format_version");   // a re-quantized native file loses them
        lb_kvs_remove(kv, "lowbit.native_types");
    }
    return lb_kvs_set_u32(kv, "general.file_type", ftype, err);
}

static int is_embedding(const char *name) { return !strcmp(name, "token_embd.weight") || !strcmp(name, "output.weight"); }

// --- the plan ------------------------------------------------------------------------------
typedef struct tensor_plan {
    uint32_t type;
    lb_quant_method method; // LB_QM_RTN for conversions, embeddings and fallbacks
    int gptq;               // method == GPTQ: needs its Hessian
    int layer;              // GPTQ: layer and site of its Hessian
    lb_obs_site site;
    const char *fallback;   // why it is not in the wanted type (NULL: it is)
} tensor_plan;

static uint32_t plan_one(const lb_tensor *t, uint32_t want, const char **why) {
    *why = NULL;
    if (t->n_dims < 2) return LB_TYPE_F32;
    if (lb_row_size(want, t->ne[0])) return want;
    static char reason[256];   // the caller prints it before the next call
    const lb_type_traits *tr = lb_type_get(want);
    uint32_t fb = lb_row_size(LB_TYPE_Q8_0, t->ne[0]) ? LB_TYPE_Q8_0 : LB_TYPE_F16;
    snprintf(reason, sizeof reason, "rows of %lld are not a multiple of the %s block (%lld)", (long long)t->ne[0],
             tr->name, (long long)tr->blck_size);
    *why = reason;
    return fb;
}

// --- writing one tensor ----------------------------------------------------------------------

// Release the source pages of a tensor we are done with: they count towards RSS while mapped.
static void drop_pages(const void *p, uint64_t n) {
    if (!p || !n) return;
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)p & ~(page - 1), b = ((uintptr_t)p + n + page - 1) & ~(page - 1);
    madvise((void *)a, b - a, MADV_DONTNEED);
}

// f32 rows -> out type (a conversion for float types, the type's RTN rule otherwise)
static void from_f32(uint32_t type, const float *x, void *y, int64_t n) {
    lb_type_get(type)->from_float(x, y, n);
}

// --- a worker pool that waits without spinning ---------------------------------------------
// The streaming loop runs one short parallel job per slice (~600 on a 1.7B model). Under
// OpenMP every job ends in a barrier where libgomp's default policy spins; on a shared,
// loaded machine the spinning thread steals the core its preempted partner needs and the
// command ran 3x slower than with OMP_WAIT_POLICY=PASSIVE (5.4 s vs 1.8 s, 1.67B -> tq1_0).
// These workers sleep on a condition variable between jobs instead, whatever the environment.
typedef void (*pool_task_fn)(void *ctx, int64_t task);

typedef struct work_pool {
    pthread_t *threads;
    int n_workers;           // threads besides the caller
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    uint64_t job;            // bumped for every job: a worker runs each job once
    int quit;
    int busy;                // workers still inside the current job
    pool_task_fn fn;
    void *ctx;
    int64_t n_tasks;
    int64_t next;            // next unclaimed task (atomic)
} work_pool;

static void pool_run_tasks(work_pool *p) {
    int64_t t;
    while ((t = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED)) < p->n_tasks) p->fn(p->ctx, t);
}

static void *pool_worker(void *arg) {
    work_pool *p = arg;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->job == seen && !p->quit) pthread_cond_wait(&p->go, &p->mu);
        if (p->quit) break;
        seen = p->job;
        pthread_mutex_unlock(&p->mu);
        pool_run_tasks(p);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void free_pool(work_pool *p) {
    if (!p->threads) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n_workers; i++) pthread_join(p->threads[i], NULL);
    free(p->threads);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    memset(p, 0, sizeof *p);
}

// n_threads - 1 workers (fewer if threads cannot be created: the caller works too, so any
// number, even 0, gets the job done)
static void build_pool(work_pool *p, int n_threads) {
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    p->threads = calloc(n_threads > 1 ? (size_t)n_threads - 1 : 1, sizeof *p->threads);
    if (!p->threads) return;
    for (int i = 0; i < n_threads - 1; i++) {
        if (pthread_create(&p->threads[i], NULL, pool_worker, p)) break;
        p->n_workers++;
    }
}

// Runs fn(ctx, 0 .. n_tasks-1) on the workers and the caller; before taking tasks the caller
// runs side(side_ctx) (the previous slice's write), so that overlaps with the workers' tasks.
// Returns when every task is done.
static void pool_run(work_pool *p, pool_task_fn fn, void *ctx, int64_t n_tasks, void (*side)(void *), void *side_ctx) {
    const int wake = p->n_workers > 0 && n_tasks > 1;
    if (wake) {
        pthread_mutex_lock(&p->mu);
        p->fn = fn;
        p->ctx = ctx;
        p->n_tasks = n_tasks;
        __atomic_store_n(&p->next, 0, __ATOMIC_RELAXED);
        p->busy = p->n_workers;
        p->job++;
        pthread_cond_broadcast(&p->go);
        pthread_mutex_unlock(&p->mu);
    }
    if (side) side(side_ctx);
    if (!wake) {
        for (int64_t t = 0; t < n_tasks; t++) fn(ctx, t);
        return;
    }
    pool_run_tasks(p);
    pthread_mutex_lock(&p->mu);
    while (p->busy) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

// --- the output pipeline ---------------------------------------------------------------------
// Quantized slices are written one slice late: while the threads quantize slice k into one
// buffer, one of them writes slice k-1 from the other (the write is a memory copy into the
// page cache, as long as a slice's quantization for the low-bit types). The pending slice
// carries over from tensor to tensor, so every write overlaps with work. The f32 slice buffer
// is kept for the whole run too (a fresh 16 MB malloc per tensor is 4096 page faults).
typedef struct out_pipe {
    lb_gguf_writer *w;
    float *f;            // f32 rows of the slice being quantized
    size_t f_cap;        // floats
    void *y[2];          // quantized slices: y[cur] is being filled, y[cur ^ 1] is pending
    size_t y_cap[2];
    int cur;
    uint64_t pending;    // bytes of y[cur ^ 1] not written yet
} out_pipe;

static void free_pipe(out_pipe *p) {
    free(p->f);
    free(p->y[0]);
    free(p->y[1]);
    memset(p, 0, sizeof *p);
}

// write the pending slice now (before any direct append, and before closing the writer)
static int pipe_flush(out_pipe *p, lb_err *err) {
    const uint64_t n = p->pending;
    p->pending = 0;
    return n ? lb_gguf_writer_append(p->w, p->y[p->cur ^ 1], n, err) : 0;
}

static int grow(void **buf, size_t *cap, size_t need) {
    if (need <= *cap) return 0;
    void *nb = realloc(*buf, need);
    if (!nb) return -1;
    *buf = nb;
    *cap = need;
    return 0;
}

// one slice: its rows to f32 (and, for RTN, to the output type), SLICE_TASK_ROWS rows a task
#define SLICE_TASK_ROWS 16
typedef struct slice_job {
    const lb_tensor *t;
    int64_t row0, nr;            // the slice: tensor rows [row0, row0 + nr)
    float *f;                    // nr rows of f32
    void *y;                     // nr rows of out_type
    size_t out_row;
    uint32_t out_type;
    int rtn;                     // quantize here (else the caller runs a grid method on f)
    pthread_mutex_t err_mu;
    int failed;
    lb_err err;                  // the first error
} slice_job;

static void slice_task(void *ctx, int64_t task) {
    slice_job *j = ctx;
    const int64_t ne0 = j->t->ne[0], r0 = task * SLICE_TASK_ROWS;
    const int64_t cnt = j->nr - r0 < SLICE_TASK_ROWS ? j->nr - r0 : SLICE_TASK_ROWS;
    float *f = j->f + (size_t)r0 * (size_t)ne0;
    if (__atomic_load_n(&j->failed, __ATOMIC_RELAXED)) return;
    lb_err e = {{0}};
    if (lb_tensor_read_f32(j->t, j->row0 + r0, cnt, f, &e)) {
        pthread_mutex_lock(&j->err_mu);
        if (!j->failed) { j->err = e; __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED); }
        pthread_mutex_unlock(&j->err_mu);
        return;
    }
    if (j->rtn) from_f32(j->out_type, f, (char *)j->y + (size_t)r0 * j->out_row, cnt * ne0);
}

typedef struct flush_job {
    out_pipe *p;
    int failed;
    lb_err err;
} flush_job;

static void flush_side(void *ctx) {
    flush_job *fl = ctx;
    fl->failed = pipe_flush(fl->p, &fl->err) != 0;
}

// RTN / conversion / a grid method, in row slices, rows split across threads (quantization is
// per row, so the bytes do not depend on the thread count).
static int write_rows(out_pipe *p, work_pool *pool, const lb_tensor *t, uint32_t out_type, lb_quant_method method,
                      lb_err *err) {
    const int64_t ne0 = t->ne[0], rows = n_rows(t);
    const size_t out_row = lb_row_size(out_type, ne0);
    if (out_type == t->type && t->xform == LB_XFORM_NONE && method == LB_QM_RTN) {   // nothing to convert: raw copy
        const uint64_t bytes = (uint64_t)out_row * (uint64_t)rows;
        if (t->nbytes < bytes) return lb_fail(err, "%s: %llu data bytes, shape needs %llu", t->src[0] ? t->src : t->name,
                                              (unsigned long long)t->nbytes, (unsigned long long)bytes);
        if (pipe_flush(p, err)) return -1;
        return lb_gguf_writer_append(p->w, t->data, bytes, err);
    }
    int64_t slice = ne0 > 0 && ne0 < (int64_t)SLICE_FLOATS ? (int64_t)SLICE_FLOATS / ne0 : 1;
    if (slice > rows) slice = rows;
    if (grow((void **)&p->f, &p->f_cap, (size_t)(slice * ne0) * sizeof(float)) ||
        grow(&p->y[p->cur], &p->y_cap[p->cur], (size_t)slice * out_row))
        return lb_fail(err, "%s: out of memory for a %lld-row slice", t->name, (long long)slice);
    for (int64_t r = 0; r < rows; r += slice) {
        const int64_t nr = rows - r < slice ? rows - r : slice;
        slice_job job = {.t = t, .row0 = r, .nr = nr,
                         .f = p->f, .y = p->y[p->cur], .out_row = out_row, .out_type = out_type, .rtn = method == LB_QM_RTN};
        pthread_mutex_init(&job.err_mu, NULL);
        flush_job fl = {.p = p};
        const int64_t n_tasks = (nr + SLICE_TASK_ROWS - 1) / SLICE_TASK_ROWS;
        // small slices (1-D tensors) are not worth waking anyone for
        if (nr * ne0 >= 65536) pool_run(pool, slice_task, &job, n_tasks, flush_side, &fl);
        else pool_run(&(work_pool){0}, slice_task, &job, n_tasks, flush_side, &fl);
        pthread_mutex_destroy(&job.err_mu);
        if (fl.failed) { *err = fl.err; return -1; }
        if (job.failed) { *err = job.err; return -1; }
        float *f = p->f;
        void *y = p->y[p->cur];
        if (method != LB_QM_RTN) {   // grid methods: libquant splits the rows across threads itself
            char msg[256] = "";
            if (lb_quantize_rows(y, f, nr, ne0, out_type, method, NULL, NULL, msg, sizeof msg))
                return lb_fail(err, "%s: %s: %s", t->name, lb_quant_method_name(method), msg);
        }
        // this slice is now the pending one; the next fills the other buffer
        p->pending = (uint64_t)nr * out_row;
        p->cur ^= 1;
        if (r + nr < rows && grow(&p->y[p->cur], &p->y_cap[p->cur], (size_t)slice * out_row))
            return lb_fail(err, "%s: out of memory for a %lld-row slice", t->name, (long long)slice);
    }
    return 0;
}

// GPTQ: the whole tensor (rows x K f32) and its input's Hessian -> packed rows.
static int write_gptq(lb_gguf_writer *w, const lb_tensor *t, uint32_t out_type, const float *h, int k, float damp,
                      int n_threads, lb_err *err) {
    const int64_t rows = n_rows(t);
    const size_t out_row = lb_row_size(out_type, t->ne[0]);
    if (t->ne[0] != k) return lb_fail(err, "%s: rows of %lld but its input has %d features", t->name, (long long)t->ne[0], k);
    float *f = malloc((size_t)rows * (size_t)k * sizeof(float));
    void *y = malloc((size_t)rows * out_row);
    int rc = -1;
    if (!f || !y) { lb_fail(err, "%s: out of memory (%lld x %d floats)", t->name, (long long)rows, k); goto done; }
    if (lb_tensor_read_f32(t, 0, rows, f, err)) goto done;
    (void)n_threads;   // lb_quantize_rows uses OpenMP's thread count (set once by the command)
    lb_quant_opts o;
    lb_quant_opts_default(&o);
    o.percdamp = damp;
    char msg[256] = "";
    if (lb_quantize_rows(y, f, rows, k, out_type, LB_QM_GPTQ, h, &o, msg, sizeof msg)) {
        lb_fail(err, "%s: gptq: %s", t->name, msg);
        goto done;
    }
    if (lb_gguf_writer_append(w, y, (uint64_t)rows * out_row, err)) goto done;
    rc = 0;
done:
    free(f);
    free(y);
    return rc;
}

// --- the command -------------------------------------------------------------------------------

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int cmd_quantize(int argc, char **argv) {
    enum { OPT_METHOD = 1000, OPT_CALIB, OPT_CALIB_CTX, OPT_CALIB_CHUNKS, OPT_CALIB_TOKENS, OPT_CALIB_MEM, OPT_EMB, OPT_DAMP };
    static const struct option opts[] = {
        {"type", required_argument, 0, 'T'}, {"method", required_argument, 0, OPT_METHOD},
        {"calib", required_argument, 0, OPT_CALIB}, {"calib-ctx", required_argument, 0, OPT_CALIB_CTX},
        {"calib-chunks", required_argument, 0, OPT_CALIB_CHUNKS}, {"calib-tokens", required_argument, 0, OPT_CALIB_TOKENS},
        {"calib-mem", required_argument, 0, OPT_CALIB_MEM}, {"embeddings", required_argument, 0, OPT_EMB},
        {"damp", required_argument, 0, OPT_DAMP}, {"threads", required_argument, 0, 't'},
        {"verbose", no_argument, 0, 'v'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const qtype *qt = NULL, *emb = &QTYPES[0];
    const char *calib_path = NULL;
    lb_quant_method method = LB_QM_RTN;
    long n_threads = omp_get_num_procs(), calib_ctx = 256, calib_chunks = 128, calib_tokens = 0, calib_mem = DEFAULT_CALIB_MEM_MB;
    float damp = 0.01f;
    int verbose = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "t:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'T':
            if (!(qt = find_qtype(optarg, 0))) {
                fprintf(stderr, "lowbit quantize: --type must be q8_0, q2_k, tq1_0, tq2_0, q2_0c or stq1_0 (got '%s')\n", optarg);
                return 2;
            }
            break;
        case OPT_EMB:
            if (!(emb = find_qtype(optarg, 1))) {
                fprintf(stderr, "lowbit quantize: --embeddings must be one of q8_0, q2_k, tq1_0, tq2_0, q2_0c, stq1_0, "
                                "f32, f16, bf16 (got '%s')\n", optarg);
                return 2;
            }
            break;
        case OPT_METHOD: {
            const int mi = lb_quant_method_from_name(optarg);
            if (mi < 0) {
                fprintf(stderr, "lowbit quantize: --method must be rtn, gptq, seq2, seq_ternary, absmean or sherry (got '%s')\n", optarg);
                return 2;
            }
            method = (lb_quant_method)mi;
            break;
        }
        case OPT_CALIB: calib_path = optarg; break;
        case OPT_CALIB_CTX: if (lb_cli_parse_long(optarg, 8, 1 << 16, &calib_ctx)) goto bad_value; break;
        case OPT_CALIB_CHUNKS: if (lb_cli_parse_long(optarg, 1, 1 << 20, &calib_chunks)) goto bad_value; break;
        case OPT_CALIB_TOKENS: if (lb_cli_parse_long(optarg, 8, 1L << 30, &calib_tokens)) goto bad_value; break;
        case OPT_CALIB_MEM: if (lb_cli_parse_long(optarg, 1, 1L << 24, &calib_mem)) goto bad_value; break;
        case OPT_DAMP: if (lb_cli_parse_float(optarg, 0.0f, 10.0f, &damp)) goto bad_value; break;
        case 't': if (lb_cli_parse_long(optarg, 1, 1024, &n_threads)) goto bad_value; break;
        case 'v': verbose = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 2) { fprintf(stderr, "lowbit quantize: need IN.gguf and OUT.gguf\n"); usage(stderr); return 2; }
    if (!qt) { fprintf(stderr, "lowbit quantize: --type is required\n"); usage(stderr); return 2; }
    const int gptq = method == LB_QM_GPTQ;
    if (gptq && !calib_path) { fprintf(stderr, "lowbit quantize: --method gptq needs --calib FILE (calibration text)\n"); return 2; }
    if (!gptq && calib_path) { fprintf(stderr, "lowbit quantize: --calib is only used by --method gptq\n"); return 2; }
    const char *in = argv[optind], *out = argv[optind + 1];
    if (!strcmp(in, out)) { fprintf(stderr, "lowbit quantize: OUT must differ from IN\n"); return 2; }
    if (!lb_quant_method_supports(method, qt->type)) {
        fprintf(stderr, "lowbit quantize: --method %s cannot produce %s\n", lb_quant_method_name(method), qt->name);
        return 2;
    }
    omp_set_num_threads((int)n_threads);   // libquant's OpenMP loops follow -t
    if (isatty(STDERR_FILENO)) verbose = 1;
    signal(SIGPIPE, SIG_IGN);   // a closed stderr pipe must not kill us between temp file and rename
    for (const qtype *q = qt;; q = emb) {
        const lb_type_traits *tr = lb_type_get(q->type);
        if (!tr || !tr->from_float || !tr->to_float)
            return lb_cli_error("quantize: type %s has no quantizer in this build of libquant", q->name);
        if (q == emb) break;
    }

    const double t_start = now_s();
    lb_err err = {{0}};
    lb_model m;
    if (lb_model_load(&m, in, NULL, &err)) return lb_cli_error("%s", err.msg);
    lb_hparams hp;
    lb_gguf_tensor *desc = NULL;
    tensor_plan *plan = NULL;
    lb_kvs kv;
    lb_kvs_init(&kv);
    lb_gguf_writer *w = NULL;
    out_pipe pipe;
    memset(&pipe, 0, sizeof pipe);
    work_pool pool;
    build_pool(&pool, (int)n_threads);
    lb_runtime *rt = NULL;
    lb_calib cal;
    memset(&cal, 0, sizeof cal);
    int status = 1;
    if (lb_hparams_from_model(&hp, &m, in, &err)) goto fail;

    // --- plan every tensor before anything is written ---
    desc = calloc(m.n_tensors ? m.n_tensors : 1, sizeof *desc);
    plan = calloc(m.n_tensors ? m.n_tensors : 1, sizeof *plan);
    if (!desc || !plan) { lb_fail(&err, "%s: out of memory", in); goto fail; }
    uint64_t in_bytes = 0, out_bytes = 0;
    int n_fallback = 0, n_gptq = 0;
    static double weights_by_type[LB_TYPE_MAX_ID];
    memset(weights_by_type, 0, sizeof weights_by_type);
    for (size_t i = 0; i < m.n_tensors; i++) {
        const lb_tensor *t = &m.tensors[i];
        const int embd = is_embedding(t->name);
        const char *why;
        plan[i].type = plan_one(t, embd ? emb->type : qt->type, &why);
        if (why) {
            fprintf(stderr, "lowbit: note: %s falls back to %s: %s\n", t->name, lb_type_get(plan[i].type)->name, why);
            n_fallback++;
        }
        int layer;
        const int site = lb_calib_site_of(t->name, &layer);
        // the method applies to the tensors in --type; GPTQ only where a Hessian exists
        plan[i].method = !embd && !why && t->n_dims >= 2 ? method : LB_QM_RTN;
        if (gptq && plan[i].method == LB_QM_GPTQ && !(site >= 0 && t->n_dims == 2 && layer < hp.n_layer))
            plan[i].method = LB_QM_RTN;
        if (plan[i].method == LB_QM_GPTQ) {
            plan[i].gptq = 1;
            plan[i].layer = layer;
            plan[i].site = (lb_obs_site)site;
            n_gptq++;
        }
        memcpy(desc[i].name, t->name, sizeof desc[i].name);
        desc[i].n_dims = t->n_dims;
        memcpy(desc[i].ne, t->ne, sizeof desc[i].ne);
        desc[i].type = plan[i].type;
        desc[i].nbytes = lb_row_size(plan[i].type, t->ne[0]) * (uint64_t)n_rows(t);
        if (!desc[i].nbytes && n_rows(t) && t->ne[0]) {
            lb_fail(&err, "%s: %s: rows of %lld fit no output type", in, t->name, (long long)t->ne[0]);
            goto fail;
        }
        in_bytes += t->nbytes;
        out_bytes += desc[i].nbytes;
        if (t->n_dims >= 2) weights_by_type[plan[i].type] += (double)t->ne[0] * (double)n_rows(t);
    }
    if (n_fallback) fprintf(stderr, "lowbit: note: %d tensor%s not in %s (see above)\n", n_fallback, n_fallback > 1 ? "s" : "", qt->name);

    // --- calibration set (tokenized once; Hessians per layer range, on demand) ---
    int layers_per_pass = hp.n_layer;
    if (gptq) {
        lb_calib_opts co = {.n_ctx = (int)calib_ctx, .max_chunks = (int)calib_chunks, .max_tokens = calib_tokens};
        if (lb_calib_build(&cal, &m, in, calib_path, &co, (int)n_threads, &err)) goto fail;
        const size_t per_layer = lb_calib_layer_bytes(&hp);
        const double budget = (double)calib_mem * 1024.0 * 1024.0;
        layers_per_pass = (int)(budget / (double)per_layer);
        if (layers_per_pass < 1) layers_per_pass = 1;
        if (layers_per_pass > hp.n_layer) layers_per_pass = hp.n_layer;
        fprintf(stderr, "lowbit: gptq: %d tensors, calibration %d chunks x %d tokens of %s; Hessians %.0f MB per layer, "
                "%d layer%s per pass\n", n_gptq, cal.n_chunks, cal.n_ctx, calib_path, (double)per_layer / 1e6,
                layers_per_pass, layers_per_pass > 1 ? "s" : "");
        if (!(rt = lb_runtime_build_hp(&m, &hp, in, cal.n_ctx, (int)n_threads, &err))) goto fail;
    }

    // --- metadata ---
    if (lb_kvs_copy(&kv, &m.kv, &err)) goto fail;
    if (lb_kvs_set_u32(&kv, "general.quantization_version", 2, &err)) goto fail;
    if (set_type_metadata(&kv, qt, weights_by_type, &err)) goto fail;

    // --- stream ---
    if (!(w = lb_gguf_writer_open(out, &kv, desc, m.n_tensors, 0, &err))) goto fail;
    pipe.w = w;
    const int width = snprintf(NULL, 0, "%zu", m.n_tensors);
    for (size_t i = 0; i < m.n_tensors; i++) {
        const lb_tensor *t = &m.tensors[i];
        const double t0 = now_s();
        int rc;
        if (plan[i].gptq) {
            int k = 0;
            const float *h = lb_calib_hessian(&cal, plan[i].layer, plan[i].site, &k);
            if (!h) {   // this layer's Hessians are not held: one calibration pass for the next range
                const int l0 = plan[i].layer;
                const int l1 = l0 + layers_per_pass < hp.n_layer ? l0 + layers_per_pass : hp.n_layer;
                if (lb_calib_collect(&cal, rt, l0, l1, verbose, &err)) goto fail;
                for (size_t j = 0; j < m.n_maps; j++) drop_pages(m.maps[j], m.map_sizes[j]);   // the pass touched the whole model
                h = lb_calib_hessian(&cal, plan[i].layer, plan[i].site, &k);
            }
            rc = pipe_flush(&pipe, &err) ? -1 : write_gptq(w, t, plan[i].type, h, k, damp, (int)n_threads, &err);
        } else {
            rc = write_rows(&pipe, &pool, t, plan[i].type, plan[i].method, &err);
        }
        if (rc) goto fail;
        drop_pages(t->data, t->nbytes);
        if (verbose)
            fprintf(stderr, "[%*zu/%zu] %-28s %5s -> %-6s %6lld x %-6lld %-5s %.2f s\n", width, i + 1, m.n_tensors, t->name,
                    lb_type_get(t->type) ? lb_type_get(t->type)->name : "?", lb_type_get(plan[i].type)->name,
                    (long long)t->ne[0], (long long)n_rows(t), t->n_dims < 2 ? "" : lb_quant_method_name(plan[i].method),
                    now_s() - t0);
        else if (isatty(STDERR_FILENO) == 0 && (i + 1) % 64 == 0)
            fprintf(stderr, "lowbit: quantize: %zu/%zu tensors\n", i + 1, m.n_tensors);
    }
    if (pipe_flush(&pipe, &err)) goto fail;
    lb_gguf_writer *wc = w;
    w = NULL;
    if (lb_gguf_writer_close(wc, &err)) goto fail;
    fprintf(stderr, "lowbit: wrote %s: %s %s (%s), embeddings %s, %zu tensors, %.2f MB -> %.2f MB, %.2f s\n", out,
            lb_arch_name(hp.arch), qt->name, lb_quant_method_name(method), emb->name, m.n_tensors, (double)in_bytes / 1e6,
            (double)out_bytes / 1e6, now_s() - t_start);
    status = 0;
fail:
    if (status) lb_cli_error("%s", err.msg);
    if (w) lb_gguf_writer_abort(w);
    free_pipe(&pipe);
    free_pool(&pool);
    lb_runtime_free(rt);
    lb_calib_free(&cal);
    lb_kvs_free(&kv);
    free(desc);
    free(plan);
    lb_model_free(&m);
    return status;
bad_value:
    fprintf(stderr, "lowbit quantize: bad option value '%s'\n", optarg);
    usage(stderr);
    return 2;
}
