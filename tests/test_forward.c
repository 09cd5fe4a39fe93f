// test_forward.c: the forward pass on tiny hand-built random models, one per architecture
// (llama / qwen2 / qwen3 / hunyuan-dense) and weight type (f32 / f16 / bf16 / q8_0):
//  1. against a naive double-precision reference written here from the math alone (no KV
//     cache, no batching, RoPE angles from pow()), which rounds activations to the weight's
//     vec_dot_type before each matmul like ggml does;
//  2. batched prefill logits == token-by-token decode logits (~1e-5);
//  3. bitwise identical logits for 1, 2 and 3 threads.
#include <math.h>
#include <stdint.h>
#include "test_util.h"
#include "infer.h"
#include "lb_types.h"
#include "matmul.h"
#include "model.h"

static uint64_t rng = 0x243F6A8885A308D3ull;
static float rnd(void) {   // uniform [-1, 1)
    rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
    return (float)((uint32_t)((rng * 0x2545F4914F6CDD1Dull) >> 40)) / 8388608.0f - 1.0f;
}

// --- a tiny model built by hand ----------------------------------------------------

typedef struct tiny {
    lb_model m;
    lb_hparams hp;
} tiny;

// a tensor of random values (uniform * scale + offset), stored in `type`
static int add_tensor(tiny *tm, const char *name, uint32_t type, int64_t ne0, int64_t ne1, float scale, float offset) {
    lb_err err = {{0}};
    const int64_t n = ne0 * ne1;
    float *f = malloc((size_t)n * sizeof(float));
    const size_t nbytes = lb_row_size(type, ne0) * (size_t)ne1;
    void *data = malloc(nbytes);
    if (!f || !data || nbytes == 0) return -1;
    for (int64_t i = 0; i < n; i++) f[i] = rnd() * scale + offset;
    lb_type_get(type)->from_float(f, data, n);
    free(f);
    lb_tensor t;
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "%s", name);
    t.type = type;
    t.n_dims = ne1 > 1 ? 2 : 1;
    t.ne[0] = ne0; t.ne[1] = ne1; t.ne[2] = 1; t.ne[3] = 1;
    t.data = data;
    t.nbytes = nbytes;
    if (lb_model_own_buf(&tm->m, data, &err) || lb_model_add_tensor(&tm->m, &t, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

static int build_tiny(tiny *tm, lb_arch arch, uint32_t wtype, int head_dim, int tied) {
    memset(tm, 0, sizeof *tm);
    lb_hparams *hp = &tm->hp;
    hp->arch = arch;
    hp->n_vocab = 61; hp->n_embd = 64; hp->n_layer = 2; hp->n_ff = 96;
    hp->n_head = 4; hp->n_head_kv = 2; hp->head_dim = head_dim;
    hp->n_ctx_train = 1024;
    hp->norm_eps = 1e-5f;
    hp->rope_base = arch == LB_ARCH_LLAMA ? 10000.0f : 1000000.0f;
    hp->rope_style = arch == LB_ARCH_LLAMA ? LB_ROPE_ADJACENT : LB_ROPE_NEOX;
    hp->qk_norm = arch == LB_ARCH_QWEN3 ? LB_QK_NORM_BEFORE_ROPE : arch == LB_ARCH_HUNYUAN_DENSE ? LB_QK_NORM_AFTER_ROPE : LB_QK_NORM_NONE;
    hp->qkv_bias = arch == LB_ARCH_QWEN2;
    hp->tied_output = tied;
    const int E = hp->n_embd, Q = hp->n_head * head_dim, KV = hp->n_head_kv * head_dim, F = hp->n_ff;
    int rc = 0;
    rc |= add_tensor(tm, "token_embd.weight", wtype, E, hp->n_vocab, 1.0f, 0);
    rc |= add_tensor(tm, "output_norm.weight", LB_TYPE_F32, E, 1, 0.2f, 1.0f);
    if (!tied) rc |= add_tensor(tm, "output.weight", wtype, E, hp->n_vocab, 1.0f / sqrtf(E), 0);
    for (int l = 0; l < hp->n_layer; l++) {
        char name[64];
#define ADD(suffix, type, ne0, ne1, scale, offset) \
        (snprintf(name, sizeof name, "blk.%d.%s", l, suffix), add_tensor(tm, name, type, ne0, ne1, scale, offset))
        rc |= ADD("attn_norm.weight", LB_TYPE_F32, E, 1, 0.2f, 1.0f);
        rc |= ADD("attn_q.weight", wtype, E, Q, 2.0f / sqrtf(E), 0);
        rc |= ADD("attn_k.weight", wtype, E, KV, 2.0f / sqrtf(E), 0);
        rc |= ADD("attn_v.weight", wtype, E, KV, 1.5f / sqrtf(E), 0);
        rc |= ADD("attn_output.weight", wtype, Q, E, 1.5f / sqrtf(Q), 0);
        rc |= ADD("ffn_norm.weight", LB_TYPE_F32, E, 1, 0.2f, 1.0f);
        rc |= ADD("ffn_gate.weight", wtype, E, F, 2.0f / sqrtf(E), 0);
        rc |= ADD("ffn_up.weight", wtype, E, F, 2.0f / sqrtf(E), 0);
        rc |= ADD("ffn_down.weight", wtype, F, E, 1.5f / sqrtf(F), 0);
        if (hp->qk_norm) {
            rc |= ADD("attn_q_norm.weight", LB_TYPE_F32, head_dim, 1, 0.2f, 1.0f);
            rc |= ADD("attn_k_norm.weight", LB_TYPE_F32, head_dim, 1, 0.2f, 1.0f);
        }
        if (hp->qkv_bias) {
            rc |= ADD("attn_q.bias", LB_TYPE_F32, Q, 1, 0.3f, 0);
            rc |= ADD("attn_k.bias", LB_TYPE_F32, KV, 1, 0.3f, 0);
            rc |= ADD("attn_v.bias", LB_TYPE_F32, KV, 1, 0.3f, 0);
        }
#undef ADD
    }
    return rc;
}

// --- the naive reference -------------------------------------------------------------

static float *deq(const tiny *tm, const char *name, int64_t n) {   // whole tensor as f32
    const lb_tensor *t = lb_model_find(&tm->m, name);
    if (!t) return NULL;
    float *f = malloc((size_t)n * sizeof(float));
    lb_type_get(t->type)->to_float(t->data, f, n);
    return f;
}

// round x (n values) through the activation type llama.cpp uses for a weight (act_type from
// lb_matmul_activation_type: the rule is a fact about llama.cpp, not something to re-derive)
static void round_act(double *out, const double *x, int n, uint32_t act_type) {
    const lb_type_traits *vt = lb_type_get(act_type);
    float *f = malloc(n * sizeof(float));
    void *q = malloc(n * 4);
    for (int i = 0; i < n; i++) f[i] = (float)x[i];
    vt->from_float(f, q, n);
    vt->to_float(q, f, n);
    for (int i = 0; i < n; i++) out[i] = f[i];
    free(f); free(q);
}

// y (rows) = W (rows x cols, row-major) . round(x)
static void ref_matvec(double *y, const float *W, const double *x, int rows, int cols, uint32_t act_type) {
    double *xr = malloc(cols * sizeof(double));
    round_act(xr, x, cols, act_type);
    for (int r = 0; r < rows; r++) {
        double s = 0;
        for (int c = 0; c < cols; c++) s += (double)W[(size_t)r * cols + c] * xr[c];
        y[r] = s;
    }
    free(xr);
}

static void ref_rmsnorm(double *y, const double *x, const float *w, int n, double eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    const double sc = 1.0 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++) y[i] = x[i] * sc * w[i];
}

static void ref_rope(double *x, int pos, int hd, double base, int neox) {
    for (int i = 0; i < hd / 2; i++) {
        const double th = pos * pow(base, -2.0 * i / hd);
        const int a = neox ? i : 2 * i, b = neox ? i + hd / 2 : 2 * i + 1;
        const double x0 = x[a], x1 = x[b];
        x[a] = x0 * cos(th) - x1 * sin(th);
        x[b] = x0 * sin(th) + x1 * cos(th);
    }
}

// logits for every position of tokens[0..T) (T x n_vocab)
static uint32_t act_of(const tiny *tm, int layer, const char *suffix) {
    char nm[64];
    if (layer >= 0) snprintf(nm, sizeof nm, "blk.%d.%s", layer, suffix);
    else snprintf(nm, sizeof nm, "%s", suffix);
    const lb_tensor *t = lb_model_find(&tm->m, nm);
    if (!t) t = lb_model_find(&tm->m, "token_embd.weight");   // tied output
    return lb_matmul_activation_type(t);
}

static void ref_forward(const tiny *tm, const int32_t *tok, int T, float *logits) {
    const lb_hparams *hp = &tm->hp;
    const int E = hp->n_embd, HD = hp->head_dim, NH = hp->n_head, NKV = hp->n_head_kv, F = hp->n_ff, V = hp->n_vocab;
    const int Q = NH * HD, KV = NKV * HD;
    double *x = calloc((size_t)T * E, sizeof(double)), *xn = malloc(E * sizeof(double));
    double *q = malloc((size_t)T * Q * sizeof(double)), *k = malloc((size_t)T * KV * sizeof(double));
    double *v = malloc((size_t)T * KV * sizeof(double)), *att = malloc(Q * sizeof(double));
    double *tmp = malloc((F > Q ? F : Q) * sizeof(double) * 2), *g = malloc(F * sizeof(double)), *u = malloc(F * sizeof(double));
    double *p = malloc(T * sizeof(double));
    float *emb = deq(tm, "token_embd.weight", (int64_t)E * V);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < E; i++) x[(size_t)t * E + i] = emb[(size_t)tok[t] * E + i];
    for (int l = 0; l < hp->n_layer; l++) {
        char nm[64];
#define W(suffix, n) (snprintf(nm, sizeof nm, "blk.%d.%s", l, suffix), deq(tm, nm, n))
        float *an = W("attn_norm.weight", E), *fn = W("ffn_norm.weight", E);
        float *wq = W("attn_q.weight", (int64_t)E * Q), *wk = W("attn_k.weight", (int64_t)E * KV);
        float *wv = W("attn_v.weight", (int64_t)E * KV), *wo = W("attn_output.weight", (int64_t)Q * E);
        float *wg = W("ffn_gate.weight", (int64_t)E * F), *wu = W("ffn_up.weight", (int64_t)E * F);
        float *wd = W("ffn_down.weight", (int64_t)F * E);
        float *qn = hp->qk_norm ? W("attn_q_norm.weight", HD) : NULL, *kn = hp->qk_norm ? W("attn_k_norm.weight", HD) : NULL;
        float *bq = hp->qkv_bias ? W("attn_q.bias", Q) : NULL, *bk = hp->qkv_bias ? W("attn_k.bias", KV) : NULL;
        float *bv = hp->qkv_bias ? W("attn_v.bias", KV) : NULL;
#undef W
        for (int t = 0; t < T; t++) {
            ref_rmsnorm(xn, x + (size_t)t * E, an, E, hp->norm_eps);
            ref_matvec(q + (size_t)t * Q, wq, xn, Q, E, act_of(tm, l, "attn_q.weight"));
            ref_matvec(k + (size_t)t * KV, wk, xn, KV, E, act_of(tm, l, "attn_k.weight"));
            ref_matvec(v + (size_t)t * KV, wv, xn, KV, E, act_of(tm, l, "attn_v.weight"));
            if (bq) {
                for (int i = 0; i < Q; i++) q[(size_t)t * Q + i] += bq[i];
                for (int i = 0; i < KV; i++) { k[(size_t)t * KV + i] += bk[i]; v[(size_t)t * KV + i] += bv[i]; }
            }
            for (int h = 0; h < NH + NKV; h++) {
                double *hd = h < NH ? q + (size_t)t * Q + h * HD : k + (size_t)t * KV + (h - NH) * HD;
                const float *nw = h < NH ? qn : kn;
                if (hp->qk_norm == LB_QK_NORM_BEFORE_ROPE) ref_rmsnorm(hd, hd, nw, HD, hp->norm_eps);
                ref_rope(hd, t, HD, hp->rope_base, hp->rope_style == LB_ROPE_NEOX);
                if (hp->qk_norm == LB_QK_NORM_AFTER_ROPE) ref_rmsnorm(hd, hd, nw, HD, hp->norm_eps);
            }
        }
        for (int t = 0; t < T; t++) {
            for (int h = 0; h < NH; h++) {
                const int kvh = h / (NH / NKV);
                double mx = -1e300, sum = 0;
                for (int s = 0; s <= t; s++) {
                    double d = 0;
                    for (int i = 0; i < HD; i++) d += q[(size_t)t * Q + h * HD + i] * k[(size_t)s * KV + kvh * HD + i];
                    p[s] = d / sqrt((double)HD);
                    if (p[s] > mx) mx = p[s];
                }
                for (int s = 0; s <= t; s++) { p[s] = exp(p[s] - mx); sum += p[s]; }
                for (int i = 0; i < HD; i++) {
                    double o = 0;
                    for (int s = 0; s <= t; s++) o += p[s] / sum * v[(size_t)s * KV + kvh * HD + i];
                    att[h * HD + i] = o;
                }
            }
            ref_matvec(tmp, wo, att, E, Q, act_of(tm, l, "attn_output.weight"));
            for (int i = 0; i < E; i++) x[(size_t)t * E + i] += tmp[i];
            ref_rmsnorm(xn, x + (size_t)t * E, fn, E, hp->norm_eps);
            ref_matvec(g, wg, xn, F, E, act_of(tm, l, "ffn_gate.weight"));
            ref_matvec(u, wu, xn, F, E, act_of(tm, l, "ffn_up.weight"));
            for (int i = 0; i < F; i++) g[i] = g[i] / (1.0 + exp(-g[i])) * u[i];
            ref_matvec(tmp, wd, g, E, F, act_of(tm, l, "ffn_down.weight"));
            for (int i = 0; i < E; i++) x[(size_t)t * E + i] += tmp[i];
        }
        free(an); free(fn); free(wq); free(wk); free(wv); free(wo); free(wg); free(wu); free(wd);
        free(qn); free(kn); free(bq); free(bk); free(bv);
    }
    float *on = deq(tm, "output_norm.weight", E);
    float *wout = lb_model_find(&tm->m, "output.weight") ? deq(tm, "output.weight", (int64_t)E * V) : deq(tm, "token_embd.weight", (int64_t)E * V);
    double *lg = malloc(V * sizeof(double));
    for (int t = 0; t < T; t++) {
        ref_rmsnorm(xn, x + (size_t)t * E, on, E, hp->norm_eps);
        ref_matvec(lg, wout, xn, V, E, act_of(tm, -1, "output.weight"));
        for (int i = 0; i < V; i++) logits[(size_t)t * V + i] = (float)lg[i];
    }
    free(lg); free(on); free(wout); free(emb);
    free(x); free(xn); free(q); free(k); free(v); free(att); free(tmp); free(g); free(u); free(p);
}

// --- checks --------------------------------------------------------------------------

static double max_abs(const float *a, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fabs(a[i]) > m ? fabs(a[i]) : m;
    return m;
}
static double max_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= m)) m = d;   // NaN propagates as failure
    }
    return m;
}

// all logits in one eval
static int run_batched(const tiny *tm, const int32_t *tok, int T, int n_ctx, int threads, float *out) {
    lb_err err = {{0}};
    lb_runtime *rt = lb_runtime_build_hp(&tm->m, &tm->hp, "tiny", n_ctx, threads, &err);
    if (!rt) { fprintf(stderr, "build: %s\n", err.msg); return -1; }
    int rc = lb_runtime_eval(rt, tok, T, 0, out, T, &err);
    if (rc) fprintf(stderr, "eval: %s\n", err.msg);
    lb_runtime_free(rt);
    return rc;
}

// token by token (decode), or in uneven chunks when chunk > 1
static int run_chunked(const tiny *tm, const int32_t *tok, int T, int n_ctx, int threads, int chunk, float *out) {
    lb_err err = {{0}};
    lb_runtime *rt = lb_runtime_build_hp(&tm->m, &tm->hp, "tiny", n_ctx, threads, &err);
    if (!rt) { fprintf(stderr, "build: %s\n", err.msg); return -1; }
    const int V = tm->hp.n_vocab;
    int rc = 0;
    for (int p = 0; p < T && !rc;) {
        int n = chunk == 1 ? 1 : (p == 0 ? chunk : chunk / 2 + 1);
        if (n > T - p) n = T - p;
        rc = lb_runtime_eval(rt, tok + p, n, p, out + (size_t)p * V, n, &err);
        p += n;
    }
    if (rc) fprintf(stderr, "eval: %s\n", err.msg);
    lb_runtime_free(rt);
    return rc;
}

// ref_tol / path_tol are relative to max|logit|. For f32 weights the batched (sgemm) and
// token-by-token (vec_dot) paths differ only in summation order (~1e-7). For f16/bf16/q8_0
// the activations are rounded to a coarse grid before each matmul, so a last-bit difference
// can move a value to the neighbouring grid point (0.05% f16, 0.4% bf16, 1/127 of the block
// max for q8_0); those flips, not bugs, set the looser tolerances (llama.cpp has them too).
static int run_case(const char *label, lb_arch arch, uint32_t wtype, int head_dim, int tied, int T, double ref_tol,
                    double path_tol) {
    tiny tm;
    CHECK(build_tiny(&tm, arch, wtype, head_dim, tied) == 0, "%s: build model", label);
    const int V = tm.hp.n_vocab;
    const int n_ctx = T + 3;
    int32_t *tok = malloc(T * sizeof(int32_t));
    for (int t = 0; t < T; t++) tok[t] = (int32_t)((t * 37 + 11) % V);
    const size_t n = (size_t)T * V;
    float *ref = malloc(n * 4), *b1 = malloc(n * 4), *b2 = malloc(n * 4), *b3 = malloc(n * 4), *d1 = malloc(n * 4),
          *d2 = malloc(n * 4), *c2 = malloc(n * 4);
    ref_forward(&tm, tok, T, ref);
    CHECK(run_batched(&tm, tok, T, n_ctx, 1, b1) == 0, "%s: batched eval", label);
    CHECK(run_batched(&tm, tok, T, n_ctx, 2, b2) == 0, "%s: batched eval", label);
    CHECK(run_batched(&tm, tok, T, n_ctx, 3, b3) == 0, "%s: batched eval", label);
    CHECK(run_chunked(&tm, tok, T, n_ctx, 1, 1, d1) == 0, "%s: decode", label);
    CHECK(run_chunked(&tm, tok, T, n_ctx, 2, 1, d2) == 0, "%s: decode", label);
    CHECK(run_chunked(&tm, tok, T, n_ctx, 2, 11, c2) == 0, "%s: chunked", label);
    const double scale = max_abs(ref, n);
    const double e_ref = max_diff(b1, ref, n) / scale;
    const double e_dec = max_diff(b1, d1, n) / scale;
    const double e_chk = max_diff(b1, c2, n) / scale;
    printf("%-28s max|logit| %6.2f  vs reference %.2e  batched vs decode %.2e  vs chunked %.2e\n", label, scale, e_ref,
           e_dec, e_chk);
    CHECK(scale > 0.5 && scale < 1e3, "%s: logits of a sane size (%g)", label, scale);
    CHECK(e_ref <= ref_tol, "%s: differs from the reference by %.3g of max|logit| (tol %.1g)", label, e_ref, ref_tol);
    CHECK(e_dec <= path_tol, "%s: batched vs token-by-token differ by %.3g of max|logit|", label, e_dec);
    CHECK(e_chk <= path_tol, "%s: batched vs chunked differ by %.3g of max|logit|", label, e_chk);
    CHECK(memcmp(b1, b2, n * 4) == 0 && memcmp(b1, b3, n * 4) == 0, "%s: batched logits depend on the thread count", label);
    CHECK(memcmp(d1, d2, n * 4) == 0, "%s: decode logits depend on the thread count", label);
    // "last only" returns the final row of the all-logits call
    {
        lb_err err = {{0}};
        lb_runtime *rt = lb_runtime_build_hp(&tm.m, &tm.hp, "tiny", n_ctx, 2, &err);
        CHECK(rt, "%s: build: %s", label, err.msg);
        float *last = malloc(V * 4);
        CHECK(lb_runtime_eval(rt, tok, T, 0, last, 1, &err) == 0, "%s: eval last: %s", label, err.msg);
        CHECK(max_diff(last, d1 + (size_t)(T - 1) * V, V) / scale <= path_tol, "%s: last-only logits differ from the decode row", label);
        // hostile arguments are refused, not crashed on
        int32_t bad = V;
        CHECK(lb_runtime_eval(rt, &bad, 1, 0, last, 1, &err) == -1, "%s: token out of range accepted", label);
        CHECK(lb_runtime_eval(rt, tok, 2, n_ctx - 1, last, 1, &err) == -1, "%s: context overflow accepted", label);
        free(last);
        lb_runtime_free(rt);
    }
    free(ref); free(b1); free(b2); free(b3); free(d1); free(d2); free(c2); free(tok);
    lb_model_free(&tm.m);
    return 0;
}

static int test_missing_tensor(void) {
    tiny tm;
    CHECK(build_tiny(&tm, LB_ARCH_QWEN3, LB_TYPE_F32, 16, 1) == 0, "build");
    // rename one q_norm: the build must fail with a message naming it
    for (size_t i = 0; i < tm.m.n_tensors; i++)
        if (!strcmp(tm.m.tensors[i].name, "blk.1.attn_q_norm.weight")) strcpy(tm.m.tensors[i].name, "blk.1.renamed");
    lb_err err = {{0}};
    lb_runtime *rt = lb_runtime_build_hp(&tm.m, &tm.hp, "tiny.gguf", 16, 1, &err);
    CHECK(!rt, "build succeeded without blk.1.attn_q_norm.weight");
    CHECK(strstr(err.msg, "tiny.gguf") && strstr(err.msg, "blk.1.attn_q_norm.weight"), "message: %s", err.msg);
    lb_model_free(&tm.m);
    return 0;
}

int main(void) {
    int fails = 0;
    // every architecture in f32: the paths must agree to ~1e-5, the reference to 1e-4
    fails += run_case("llama f32 untied", LB_ARCH_LLAMA, LB_TYPE_F32, 16, 0, 40, 1e-4, 1e-5);
    fails += run_case("qwen2 bias f32 tied", LB_ARCH_QWEN2, LB_TYPE_F32, 16, 1, 37, 1e-4, 1e-5);
    fails += run_case("qwen3 qk-norm hd32 f32", LB_ARCH_QWEN3, LB_TYPE_F32, 32, 1, 35, 1e-4, 1e-5);
    fails += run_case("hunyuan qk-norm hd32 f32", LB_ARCH_HUNYUAN_DENSE, LB_TYPE_F32, 32, 0, 33, 1e-4, 1e-5);
    fails += run_case("llama f32 520 tokens", LB_ARCH_LLAMA, LB_TYPE_F32, 16, 1, 520, 1e-4, 1e-5);
    // the other weight types (activations rounded to the type's grid, see run_case)
    fails += run_case("llama f16 tied", LB_ARCH_LLAMA, LB_TYPE_F16, 16, 1, 40, 2e-3, 2e-3);
    fails += run_case("qwen2 bias f16 untied", LB_ARCH_QWEN2, LB_TYPE_F16, 16, 0, 37, 2e-3, 2e-3);
    fails += run_case("qwen3 qk-norm hd32 bf16", LB_ARCH_QWEN3, LB_TYPE_BF16, 32, 1, 35, 1e-2, 1e-2);
    fails += run_case("hunyuan qk-norm q8_0", LB_ARCH_HUNYUAN_DENSE, LB_TYPE_Q8_0, 32, 0, 33, 1e-2, 1e-2);
    fails += run_case("llama q8_0 untied", LB_ARCH_LLAMA, LB_TYPE_Q8_0, 16, 0, 40, 1e-2, 1e-2);
    fails += test_missing_tensor();
    if (fails) { fprintf(stderr, "%d failures\n", fails); return 1; }
    printf("ok\n");
    return 0;
}
