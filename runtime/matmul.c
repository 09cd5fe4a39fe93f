// matmul.c: out = x @ W^T for weights of any registered type (see matmul.h for the why).
#include "matmul.h"
#include "cpu_features.h"
#include "lb_types.h"
#include "types_float.h"
#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

int lb_matmul_ctx_build(lb_matmul_ctx *c, int n_threads, int max_n, int64_t max_k, lb_err *err) {
    memset(c, 0, sizeof *c);
    if (n_threads < 1 || max_n < 1 || max_k < 1) return lb_fail(err, "matmul: bad sizes");
    c->n_threads = n_threads;
    c->max_n = max_n;
    c->max_k = max_k;
    // 4 bytes per value is the widest activation type (f32); block types are smaller
    c->xq = malloc((size_t)max_n * (size_t)max_k * 4);
    c->xf = malloc((size_t)max_n * (size_t)max_k * sizeof(float));
    c->tiles = malloc((size_t)n_threads * LB_MATMUL_TILE * (size_t)max_k * sizeof(float));
    if (!c->xq || !c->xf || !c->tiles) { lb_matmul_ctx_free(c); return lb_fail(err, "matmul: out of memory"); }
    // our threads each run their own sgemm on a tile: OpenBLAS must not add threads of its own
    openblas_set_num_threads(1);
    return 0;
}

void lb_matmul_ctx_free(lb_matmul_ctx *c) {
    free(c->xq); free(c->xf); free(c->tiles);
    c->xq = NULL; c->xf = NULL; c->tiles = NULL;
}

int lb_matmul_check_weight(const lb_tensor *w, int64_t ne0, int64_t ne1, const char *what, lb_err *err) {
    const lb_type_traits *tr = lb_type_get(w->type);
    if (!tr) return lb_fail(err, "%s: tensor %s has unknown type %u", what, w->name, w->type);
    if (w->n_dims > 2 || w->ne[0] != ne0 || (w->n_dims == 2 ? w->ne[1] : 1) != ne1)
        return lb_fail(err, "%s: tensor %s has shape [%lld, %lld], expected [%lld, %lld]", what, w->name,
                       (long long)w->ne[0], (long long)(w->n_dims == 2 ? w->ne[1] : 1), (long long)ne0, (long long)ne1);
    const lb_type_traits *vt = lb_type_get(tr->vec_dot_type);
    if (!tr->vec_dot || !tr->to_float || !vt || !vt->from_float)
        return lb_fail(err, "%s: tensor %s: type %s is not supported by the runtime yet", what, w->name, tr->name);
    const size_t row = lb_row_size(w->type, ne0);
    if (row == 0) return lb_fail(err, "%s: tensor %s: row of %lld is not a multiple of the %s block (%lld)", what,
                                 w->name, (long long)ne0, tr->name, (long long)tr->blck_size);
    if (!w->data || w->nbytes < row * (uint64_t)ne1)
        return lb_fail(err, "%s: tensor %s: %llu bytes, expected %llu", what, w->name,
                       (unsigned long long)w->nbytes, (unsigned long long)(row * (uint64_t)ne1));
    if (w->xform != LB_XFORM_NONE)
        return lb_fail(err, "%s: tensor %s needs a conversion step (import the model to GGUF first)", what, w->name);
    return 0;
}

// --- which activation type a weight is multiplied with ---------------------------
// ggml's rule: the weight type's vec_dot_type (f16 for F16, bf16 for BF16, q8_0 for Q8_0).
// One exception mirrors llama.cpp on AMX CPUs (this machine kind): its "sapphirerapids" CPU
// build places F16 weights with ne[1] % 32 == 0 and ne[0] % 16 == 0 in its AMX buffer, whose
// F16 kernel (ggml-cpu/amx/mmq.cpp, tinygemm_kernel_avx) takes the f32 activations as they
// are, without rounding them to f16. Measured on the tiny peer models: following that rule
// lowbit matches llama.cpp to ~7e-7 of max|logit|; rounding as plain ggml does leaves ~1e-3.
// LOWBIT_F16_ACT=f16 or =f32 forces one behaviour everywhere.

static int f16_policy(void) {   // 0: ggml rule, 1: always f32, 2: llama.cpp-on-AMX rule
    static int policy = -1;
    int p = __atomic_load_n(&policy, __ATOMIC_ACQUIRE);
    if (p < 0) {
        const char *env = getenv("LOWBIT_F16_ACT");
        if (env && strcmp(env, "f16") == 0) p = 0;
        else if (env && strcmp(env, "f32") == 0) p = 1;
        else p = lb_cpu_get_features()->amx ? 2 : 0;
        __atomic_store_n(&policy, p, __ATOMIC_RELEASE);
    }
    return p;
}

uint32_t lb_matmul_activation_type(const lb_tensor *w) {
    const lb_type_traits *tr = lb_type_get(w->type);
    if (w->type == LB_TYPE_F16) {
        const int p = f16_policy();
        if (p == 1 || (p == 2 && w->ne[1] % 32 == 0 && w->ne[0] % 16 == 0)) return LB_TYPE_F32;
    }
    return tr ? tr->vec_dot_type : LB_TYPE_F32;
}

// --- prefill policy for weights with block-quantized activations ---------------------
// sgemm on dequantized tiles (activations rounded through the vec_dot_type first, so both
// paths see the same values) or one vec_dot per (row, token). Chosen per type by measured
// prefill speed on the 125M benchmark model (tests/bench/bench_quant.sh); vec_dot where it
// wins or where bit-level agreement with llama.cpp matters (Q8_0, see lb_matmul).
// LOWBIT_PREFILL=sgemm or =vecdot forces one path for every such type (benchmarking).

static int prefill_policy(void) {   // 0: per type, 1: always sgemm, 2: always vec_dot
    static int policy = -1;
    int p = __atomic_load_n(&policy, __ATOMIC_ACQUIRE);
    if (p < 0) {
        const char *env = getenv("LOWBIT_PREFILL");
        p = env && !strcmp(env, "sgemm") ? 1 : env && !strcmp(env, "vecdot") ? 2 : 0;
        __atomic_store_n(&policy, p, __ATOMIC_RELEASE);
    }
    return p;
}

static int prefill_sgemm(const lb_type_traits *tr, uint32_t type) {
    const int p = prefill_policy();
    if (p) return p == 1 && type != LB_TYPE_Q8_0;
    if (tr->vec_dot4) return 0;   // a 4-row integer kernel beats dequantize + sgemm (bench_quant.sh -big)
    switch (type) {
    case LB_TYPE_Q2_K: case LB_TYPE_TQ1_0: case LB_TYPE_TQ2_0: case LB_TYPE_Q2_0C: case LB_TYPE_STQ1_0: return 1;
    default: return 0;
    }
}

// --- decode path: one vec_dot per (row, token) -------------------------------
#define LB_MATMUL_TILE_ROWS 16        // weight rows that stay in L1 while 4-token groups pass over them
#define LB_MATMUL_CHUNKS_PER_THREAD 4

// Each thread should stream long contiguous runs of weight rows: handing out 16-row chunks
// interleaved the two threads' runs every 8 KB, and a 300 MB Q2_0C matrix then went at 52
// Gw/s on 2 threads against 85 with contiguous halves (the prefetchers, ours 2 KB ahead and
// the hardware's, keep running into the other thread's rows). Chunks of 64 / 256 rows gave 68 /
// 78. So a weight's rows are cut into LB_MATMUL_CHUNKS_PER_THREAD chunks per thread, handed
// out dynamically: a thread the OS preempts (busy machine) still delays only a quarter of its
// share. A job is one weight's rows; several jobs (lb_matmul_multi) share one parallel region,
// their chunks numbered one after another. Which thread computes a row never changes its bits.
typedef struct vec_dot_job {
    float *out; int64_t ldo; const lb_tensor *w; lb_vec_dot_fn dot; lb_vec_dot4_fn dot4; lb_vec_dot2r_fn dot2r;
    int64_t first_chunk, chunk_rows;
} vec_dot_job;

static int64_t chunk_rows_for(int64_t rows, int n_threads) {
    const int64_t parts = (int64_t)n_threads * LB_MATMUL_CHUNKS_PER_THREAD;
    int64_t cr = (rows + parts - 1) / parts;
    cr = (cr + LB_MATMUL_TILE_ROWS - 1) / LB_MATMUL_TILE_ROWS * LB_MATMUL_TILE_ROWS;
    return cr > 0 ? cr : LB_MATMUL_TILE_ROWS;
}

static int64_t job_chunks(const vec_dot_job *jb) { return (jb->w->ne[1] + jb->chunk_rows - 1) / jb->chunk_rows; }

static void matmul_vec_dot_jobs(lb_matmul_ctx *c, const vec_dot_job *jobs, int n_jobs, const void *xq,
                                size_t x_row_bytes, int n) {
    const int64_t n_chunks = jobs[n_jobs - 1].first_chunk + job_chunks(&jobs[n_jobs - 1]);
    double work = 0;
    for (int j = 0; j < n_jobs; j++) work += (double)jobs[j].w->ne[0] * (double)jobs[j].w->ne[1] * n;
    // tiny matrices stay on one thread, where a fork/join would cost more than the work
    const int parallel = work >= LB_MATMUL_PARALLEL_MIN && c->n_threads > 1;
    const char *xbytes = xq;
    #pragma omp parallel for num_threads(c->n_threads) schedule(dynamic, 1) if (parallel)
    for (int64_t ci = 0; ci < n_chunks; ci++) {
        int j = 0;
        while (j + 1 < n_jobs && jobs[j + 1].first_chunk <= ci) j++;
        const vec_dot_job *jb = &jobs[j];
        const int64_t K = jb->w->ne[0], M = jb->w->ne[1];
        const size_t w_row_bytes = lb_row_size(jb->w->type, K);
        const int64_t c0 = (ci - jb->first_chunk) * jb->chunk_rows;
        const int64_t c1 = c0 + jb->chunk_rows < M ? c0 + jb->chunk_rows : M;
        const char *wdata = (const char *)jb->w->data;
        for (int64_t r0 = c0; r0 < c1; r0 += LB_MATMUL_TILE_ROWS) {
            const int64_t r1 = r0 + LB_MATMUL_TILE_ROWS < c1 ? r0 + LB_MATMUL_TILE_ROWS : c1;
            int t0 = 0;
            // prefill: 4 tokens per weight-row read, tokens outermost so the tile's rows and
            // the 4 activation rows both stay in L1
            if (jb->dot4)
                for (; t0 + 4 <= n; t0 += 4)
                    for (int64_t r = r0; r < r1; r++)
                        jb->dot4(K, &jb->out[t0 * jb->ldo + r], (size_t)jb->ldo, wdata + (size_t)r * w_row_bytes,
                                 xbytes + (size_t)t0 * x_row_bytes, x_row_bytes);
            int64_t r = r0;
            // decode: 2 weight rows per call where the type has such a kernel (two chains)
            if (jb->dot2r && t0 < n)
                for (; r + 2 <= r1; r += 2)
                    for (int t = t0; t < n; t++)
                        jb->dot2r(K, &jb->out[t * jb->ldo + r], wdata + (size_t)r * w_row_bytes, w_row_bytes,
                                  xbytes + (size_t)t * x_row_bytes);
            for (; r < r1; r++) {
                const char *wrow = wdata + (size_t)r * w_row_bytes;
                for (int t = t0; t < n; t++) jb->dot(K, &jb->out[t * jb->ldo + r], wrow, xbytes + (size_t)t * x_row_bytes);
            }
        }
    }
}

// A job for weight w (traits tr) under activation type act_type (traits vt): the registered
// kernels when act_type is the type's own vec_dot_type, else f16 x f32 (no 4-row / 2-row
// variants). Returns the conversion those kernels want the activations in.
static lb_from_float_fn build_job(vec_dot_job *jb, float *out, int64_t ldo, const lb_tensor *w, const lb_type_traits *tr,
                                  uint32_t act_type, const lb_type_traits *vt, int64_t first_chunk, int n_threads) {
    const int own = act_type == tr->vec_dot_type;
    *jb = (vec_dot_job){out, ldo, w, own ? tr->vec_dot : lb_vec_dot_f16_f32_best(), own ? tr->vec_dot4 : NULL,
                        own ? tr->vec_dot2r : NULL, first_chunk, chunk_rows_for(w->ne[1], n_threads)};
    return own && tr->act_from_float ? tr->act_from_float : vt->from_float;
}

// --- prefill path: dequantized tiles x sgemm ---------------------------------
static void matmul_sgemm(lb_matmul_ctx *c, float *out, int64_t ldo, const float *xf, int n, const lb_tensor *w,
                         const lb_type_traits *tr) {
    const int64_t K = w->ne[0], M = w->ne[1];
    const size_t w_row_bytes = lb_row_size(w->type, K);
    const int64_t n_tiles = (M + LB_MATMUL_TILE - 1) / LB_MATMUL_TILE;
    const int in_place = w->type == LB_TYPE_F32;
    #pragma omp parallel num_threads(c->n_threads) if (n_tiles > 1)
    {
        float *tile = c->tiles + (size_t)omp_get_thread_num() * LB_MATMUL_TILE * (size_t)c->max_k;
        #pragma omp for schedule(dynamic, 1)
        for (int64_t ti = 0; ti < n_tiles; ti++) {
            const int64_t r0 = ti * LB_MATMUL_TILE;
            const int64_t rows = M - r0 < LB_MATMUL_TILE ? M - r0 : LB_MATMUL_TILE;
            const float *wt;
            if (in_place) {
                wt = (const float *)((const char *)w->data + (size_t)r0 * w_row_bytes);
            } else {
                for (int64_t r = 0; r < rows; r++)
                    tr->to_float((const char *)w->data + (size_t)(r0 + r) * w_row_bytes, tile + r * K, K);
                wt = tile;
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, (int)rows, (int)K, 1.0f, xf, (int)K, wt, (int)K,
                        0.0f, out + r0, (int)ldo);
        }
    }
}

int lb_matmul(lb_matmul_ctx *c, float *out, int64_t ldo, const float *x, int n, const lb_tensor *w, lb_err *err) {
    const lb_type_traits *tr = lb_type_get(w->type);
    const uint32_t act_type = lb_matmul_activation_type(w);
    const lb_type_traits *vt = lb_type_get(act_type);
    const int64_t K = w->ne[0];
    if (!tr || !vt || !tr->vec_dot || !vt->from_float) return lb_fail(err, "matmul: %s: unsupported type", w->name);
    if (n < 1 || n > c->max_n || K > c->max_k) return lb_fail(err, "matmul: %s: %d x %lld exceeds scratch", w->name, n, (long long)K);
    vec_dot_job job;
    const lb_from_float_fn job_conv = build_job(&job, out, ldo, w, tr, act_type, vt, 0, c->n_threads);
    const size_t x_row_bytes = lb_row_size(act_type, K);
    // sgemm for float activations (f32/f16/bf16). Block-quantized activations (q8_0, q8_K) go
    // through vec_dot for Q8_0 weights: its per-block integer sums are what llama.cpp computes in
    // every path, while float sgemm on dequantized values differs in the last bits, enough to
    // flip the rounding of later activations to the next q8 code. Measured on a tiny Q8_0
    // llama: with sgemm, 1e-2 of max|logit| off llama.cpp (and off our own decode); with
    // vec_dot, 3e-7. The low-bit types may take the sgemm path anyway (prefill_sgemm above):
    // there the weights' own rounding dwarfs such flips, and sgemm is several times faster.
    const int sgemm = n >= LB_MATMUL_SGEMM_MIN_N && tr->to_float && vt->to_float &&
                      (vt->blck_size == 1 || prefill_sgemm(tr, w->type));

    // activations -> activation type, once per call (not once per weight row)
    const float *xf = x;
    const void *xq = x;
    if (act_type != LB_TYPE_F32) {
        // the kernels' own activation layout where they have one; sgemm reads plain blocks
        const lb_from_float_fn conv = sgemm ? vt->from_float : job_conv;
        for (int t = 0; t < n; t++) conv(x + (size_t)t * K, (char *)c->xq + (size_t)t * x_row_bytes, K);
        xq = c->xq;
        if (sgemm) {
            // sgemm sees exactly the values vec_dot would: the activations rounded to the grid
            for (int t = 0; t < n; t++) vt->to_float((char *)c->xq + (size_t)t * x_row_bytes, c->xf + (size_t)t * K, K);
            xf = c->xf;
        }
    }
    if (sgemm) matmul_sgemm(c, out, ldo, xf, n, w, tr);
    else matmul_vec_dot_jobs(c, &job, 1, xq, x_row_bytes, n);
    return 0;
}

// --- several weights, one input ------------------------------------------------
int lb_matmul_multi(lb_matmul_ctx *c, int n_w, float *const *outs, const int64_t *ldos, const float *x, int n,
                    const lb_tensor *const *ws, lb_err *err) {
    if (n_w < 1 || n_w > LB_MATMUL_MAX_MULTI) return lb_fail(err, "matmul: %d weights in one call", n_w);
    // fused only where it is exactly the separate calls' arithmetic: vec_dot path, one
    // activation type and row length (so one conversion of x serves every weight)
    const uint32_t act_type = lb_matmul_activation_type(ws[0]);
    const int64_t K = ws[0]->ne[0];
    int fuse = n < LB_MATMUL_SGEMM_MIN_N && n >= 1 && n <= c->max_n && K <= c->max_k;
    const lb_type_traits *vt = lb_type_get(act_type);
    fuse = fuse && vt && vt->from_float;
    vec_dot_job jobs[LB_MATMUL_MAX_MULTI];
    int64_t chunk = 0;
    lb_from_float_fn conv = NULL;   // the one activation conversion every fused weight wants
    for (int i = 0; i < n_w && fuse; i++) {
        const lb_type_traits *tr = lb_type_get(ws[i]->type);
        fuse = tr && tr->vec_dot && ws[i]->ne[0] == K && lb_matmul_activation_type(ws[i]) == act_type;
        if (!fuse) break;
        const lb_from_float_fn ci = build_job(&jobs[i], outs[i], ldos[i], ws[i], tr, act_type, vt, chunk, c->n_threads);
        if (i == 0) conv = ci;
        fuse = ci == conv;
        chunk += job_chunks(&jobs[i]);
    }
    if (!fuse) {
        for (int i = 0; i < n_w; i++)
            if (lb_matmul(c, outs[i], ldos[i], x, n, ws[i], err)) return -1;
        return 0;
    }
    const size_t x_row_bytes = lb_row_size(act_type, K);
    const void *xq = x;
    if (act_type != LB_TYPE_F32) {
        for (int t = 0; t < n; t++) conv(x + (size_t)t * K, (char *)c->xq + (size_t)t * x_row_bytes, K);
        xq = c->xq;
    }
    matmul_vec_dot_jobs(c, jobs, n_w, xq, x_row_bytes, n);
    return 0;
}
