// infer.c: the forward pass. Read top to bottom: build (weights, buffers), the small
// numeric pieces (rmsnorm, rope, softmax, swiglu), attention, one batch through the layers,
// and lb_runtime_eval, which feeds batches and writes logits.
//
// Numerics follow ggml's CPU backend where it matters for agreement with llama.cpp:
// rmsnorm sums in double, RoPE angles are pos * base^(-2i/d) built by repeated float
// multiplication (ggml's rope cache), softmax sums in double, activations are rounded to
// the weight type's vec_dot_type inside lb_matmul.
#include "infer.h"
#include "matmul.h"
#include "lb_types.h"
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LB_MAX_BATCH 512     // tokens per forward batch (bigger inputs are split)
#define LB_ATTN_QBLOCK 32    // queries per attention task (bounds the score scratch)

// ----------------------------------------------------------------------------
// the model's weights, as the forward pass sees them

typedef struct layer_weights {
    const float *attn_norm, *ffn_norm;   // n_embd
    const float *q_norm, *k_norm;        // head_dim; qwen3 / hunyuan-dense, else NULL
    const float *bq, *bk, *bv;           // qwen2 biases, else NULL
    const lb_tensor *wq, *wk, *wv, *wo;  // [n_embd -> q_dim], [n_embd -> kv_dim] x2, [q_dim -> n_embd]
    const lb_tensor *w_gate, *w_up, *w_down;
} layer_weights;

// activations for one batch of up to n_batch tokens (one allocation), plus the KV cache
typedef struct run_state {
    float *x;        // (B, n_embd) residual stream
    float *xb;       // (B, n_embd) normed input of a block, then the block's output
    float *q;        // (B, q_dim)
    float *k, *v;    // (B, kv_dim)
    float *att;      // (B, q_dim) attention output, heads side by side
    float *hb, *hb2; // (B, n_ff) gate and up projections
    float *rope;     // (B, head_dim) cos/sin pairs for each token's position
    float *scores;   // (n_threads, LB_ATTN_QBLOCK, n_ctx) attention scratch
    float *key_cache, *value_cache;   // (n_layer, n_ctx, kv_dim)
} run_state;

struct lb_runtime {
    lb_hparams hp;
    char what[256];
    int n_ctx, n_threads, n_batch;
    int q_dim, kv_dim;
    const lb_tensor *tok_embd, *output;
    const float *output_norm;
    layer_weights *layers;
    float **owned;          // f32 copies of small vectors stored in another type
    int n_owned;
    float *act;             // the allocation behind run_state's activations
    run_state s;
    lb_matmul_ctx mm;
    lb_observer_fn observer;   // calibration hook, NULL normally
    void *observer_user;
    int last_layer;            // forward passes stop after this layer (n_layer - 1 normally)
};

// ----------------------------------------------------------------------------
// build / free

static const lb_tensor *find_tensor(const lb_model *m, const char *name) { return lb_model_find(m, name); }

static const lb_tensor *layer_tensor(const lb_model *m, int layer, const char *suffix) {
    char name[LB_GGUF_MAX_NAME + 16];
    snprintf(name, sizeof name, "blk.%d.%s", layer, suffix);
    return find_tensor(m, name);
}

// A norm weight or bias as f32: used in place when it is f32, converted once otherwise.
static const float *vector_f32(lb_runtime *rt, const lb_tensor *t, int64_t n, lb_err *err) {
    const lb_type_traits *tr = lb_type_get(t->type);
    if (t->ne[0] != n || (t->n_dims > 1 && t->ne[1] != 1) || t->n_dims > 2 || t->n_dims < 1) {
        lb_fail(err, "%s: tensor %s should have %lld values", rt->what, t->name, (long long)n);
        return NULL;
    }
    if (!tr || !tr->to_float) { lb_fail(err, "%s: tensor %s: type not supported", rt->what, t->name); return NULL; }
    const size_t bytes = lb_row_size(t->type, n);
    if (bytes == 0 || !t->data || t->nbytes < bytes) { lb_fail(err, "%s: tensor %s: bad size", rt->what, t->name); return NULL; }
    if (t->type == LB_TYPE_F32 && ((uintptr_t)t->data % sizeof(float)) == 0 && t->xform == LB_XFORM_NONE) return t->data;
    float *v = malloc((size_t)n * sizeof(float));
    if (!v) { lb_fail(err, "%s: out of memory", rt->what); return NULL; }
    tr->to_float(t->data, v, n);
    rt->owned[rt->n_owned++] = v;
    return v;
}

static const float *required_vector(lb_runtime *rt, const lb_model *m, int layer, const char *suffix, int64_t n,
                                    lb_err *err) {
    const lb_tensor *t = layer >= 0 ? layer_tensor(m, layer, suffix) : find_tensor(m, suffix);
    if (!t) {
        if (layer >= 0) lb_fail(err, "%s: missing tensor blk.%d.%s", rt->what, layer, suffix);
        else lb_fail(err, "%s: missing tensor %s", rt->what, suffix);
        return NULL;
    }
    return vector_f32(rt, t, n, err);
}

static const lb_tensor *required_matrix(lb_runtime *rt, const lb_model *m, int layer, const char *suffix,
                                        int64_t ne0, int64_t ne1, lb_err *err) {
    const lb_tensor *t = layer_tensor(m, layer, suffix);
    if (!t) { lb_fail(err, "%s: missing tensor blk.%d.%s", rt->what, layer, suffix); return NULL; }
    if (lb_matmul_check_weight(t, ne0, ne1, rt->what, err)) return NULL;
    return t;
}

static int check_hparams(const lb_hparams *hp, const char *what, int n_ctx, int n_threads, lb_err *err) {
    if (hp->n_vocab <= 0 || hp->n_embd <= 0 || hp->n_layer <= 0 || hp->n_ff <= 0 || hp->n_head <= 0 ||
        hp->n_head_kv <= 0 || hp->head_dim <= 0)
        return lb_fail(err, "%s: hyper-parameters must be positive", what);
    if (hp->n_head % hp->n_head_kv) return lb_fail(err, "%s: head_count %d is not a multiple of head_count_kv %d", what, hp->n_head, hp->n_head_kv);
    if (hp->head_dim % 2) return lb_fail(err, "%s: head dimension %d is odd (RoPE rotates pairs)", what, hp->head_dim);
    if (!(hp->norm_eps >= 0.0f) || !(hp->rope_base > 0.0f)) return lb_fail(err, "%s: bad norm epsilon or rope base", what);
    if (n_ctx <= 0) return lb_fail(err, "%s: context size must be positive (got %d)", what, n_ctx);
    if (n_threads <= 0) return lb_fail(err, "%s: thread count must be positive (got %d)", what, n_threads);
    // everything below is sized in int; keep products far from overflow
    const double big = 1e9;
    if ((double)hp->n_head * hp->head_dim > big / 8 || (double)hp->n_ff > big / 8 || (double)hp->n_embd > big / 8)
        return lb_fail(err, "%s: dimensions too large", what);
    if ((double)n_ctx * hp->n_layer * hp->n_head_kv * hp->head_dim * 8 > 64e9)
        return lb_fail(err, "%s: KV cache for %d positions would exceed 64 GB; use a smaller context", what, n_ctx);
    return 0;
}

void lb_runtime_free(lb_runtime *rt) {
    if (!rt) return;
    for (int i = 0; i < rt->n_owned; i++) free(rt->owned[i]);
    free(rt->owned);
    free(rt->layers);
    free(rt->act);
    free(rt->s.scores);
    free(rt->s.key_cache);
    free(rt->s.value_cache);
    lb_matmul_ctx_free(&rt->mm);
    free(rt);
}

lb_runtime *lb_runtime_build_hp(const lb_model *m, const lb_hparams *hp, const char *what, int n_ctx, int n_threads,
                                lb_err *err) {
    if (check_hparams(hp, what, n_ctx, n_threads, err)) return NULL;
    lb_runtime *rt = calloc(1, sizeof *rt);
    if (!rt) { lb_fail(err, "%s: out of memory", what); return NULL; }
    rt->hp = *hp;
    snprintf(rt->what, sizeof rt->what, "%s", what);
    rt->n_ctx = n_ctx;
    rt->n_threads = n_threads;
    rt->n_batch = n_ctx < LB_MAX_BATCH ? n_ctx : LB_MAX_BATCH;
    rt->last_layer = hp->n_layer - 1;
    rt->q_dim = hp->n_head * hp->head_dim;
    rt->kv_dim = hp->n_head_kv * hp->head_dim;
    const int L = hp->n_layer, E = hp->n_embd, HD = hp->head_dim;
    rt->layers = calloc((size_t)L, sizeof *rt->layers);
    rt->owned = calloc((size_t)L * 7 + 2, sizeof *rt->owned);
    if (!rt->layers || !rt->owned) { lb_fail(err, "%s: out of memory", what); goto fail; }

    // --- weights ---
    rt->tok_embd = find_tensor(m, "token_embd.weight");
    if (!rt->tok_embd) { lb_fail(err, "%s: missing tensor token_embd.weight", what); goto fail; }
    {
        const lb_tensor *t = rt->tok_embd;
        const lb_type_traits *tr = lb_type_get(t->type);
        const size_t row = lb_row_size(t->type, E);
        if (t->n_dims != 2 || t->ne[0] != E || t->ne[1] != hp->n_vocab) {
            lb_fail(err, "%s: token_embd.weight has shape [%lld, %lld], expected [%d, %d]", what, (long long)t->ne[0],
                    (long long)t->ne[1], E, hp->n_vocab);
            goto fail;
        }
        if (!tr || !tr->to_float || row == 0 || !t->data || t->nbytes < row * (uint64_t)hp->n_vocab || t->xform != LB_XFORM_NONE) {
            lb_fail(err, "%s: token_embd.weight: unsupported type or bad size", what);
            goto fail;
        }
    }
    if (!(rt->output_norm = required_vector(rt, m, -1, "output_norm.weight", E, err))) goto fail;
    rt->output = find_tensor(m, "output.weight");
    if (!rt->output) rt->output = rt->tok_embd;   // tied embeddings
    if (lb_matmul_check_weight(rt->output, E, hp->n_vocab, what, err)) goto fail;

    for (int l = 0; l < L; l++) {
        layer_weights *w = &rt->layers[l];
        if (!(w->attn_norm = required_vector(rt, m, l, "attn_norm.weight", E, err))) goto fail;
        if (!(w->ffn_norm = required_vector(rt, m, l, "ffn_norm.weight", E, err))) goto fail;
        if (!(w->wq = required_matrix(rt, m, l, "attn_q.weight", E, rt->q_dim, err))) goto fail;
        if (!(w->wk = required_matrix(rt, m, l, "attn_k.weight", E, rt->kv_dim, err))) goto fail;
        if (!(w->wv = required_matrix(rt, m, l, "attn_v.weight", E, rt->kv_dim, err))) goto fail;
        if (!(w->wo = required_matrix(rt, m, l, "attn_output.weight", rt->q_dim, E, err))) goto fail;
        if (!(w->w_gate = required_matrix(rt, m, l, "ffn_gate.weight", E, hp->n_ff, err))) goto fail;
        if (!(w->w_up = required_matrix(rt, m, l, "ffn_up.weight", E, hp->n_ff, err))) goto fail;
        if (!(w->w_down = required_matrix(rt, m, l, "ffn_down.weight", hp->n_ff, E, err))) goto fail;
        if (hp->qk_norm != LB_QK_NORM_NONE) {
            if (!(w->q_norm = required_vector(rt, m, l, "attn_q_norm.weight", HD, err))) goto fail;
            if (!(w->k_norm = required_vector(rt, m, l, "attn_k_norm.weight", HD, err))) goto fail;
        }
        if (hp->qkv_bias) {
            if (!(w->bq = required_vector(rt, m, l, "attn_q.bias", rt->q_dim, err))) goto fail;
            if (!(w->bk = required_vector(rt, m, l, "attn_k.bias", rt->kv_dim, err))) goto fail;
            if (!(w->bv = required_vector(rt, m, l, "attn_v.bias", rt->kv_dim, err))) goto fail;
        }
    }

    // --- buffers ---
    {
        const size_t B = (size_t)rt->n_batch;
        const size_t n_act = B * ((size_t)E * 2 + (size_t)rt->q_dim * 2 + (size_t)rt->kv_dim * 2 + (size_t)hp->n_ff * 2 + (size_t)HD);
        rt->act = malloc(n_act * sizeof(float));
        const size_t cache = (size_t)L * (size_t)n_ctx * (size_t)rt->kv_dim;
        rt->s.key_cache = calloc(cache, sizeof(float));
        rt->s.value_cache = calloc(cache, sizeof(float));
        rt->s.scores = malloc((size_t)n_threads * LB_ATTN_QBLOCK * (size_t)n_ctx * sizeof(float));
        if (!rt->act || !rt->s.key_cache || !rt->s.value_cache || !rt->s.scores) {
            lb_fail(err, "%s: out of memory for activations / KV cache (%d positions)", what, n_ctx);
            goto fail;
        }
        float *p = rt->act;
        rt->s.x = p; p += B * E;
        rt->s.xb = p; p += B * E;
        rt->s.q = p; p += B * rt->q_dim;
        rt->s.att = p; p += B * rt->q_dim;
        rt->s.k = p; p += B * rt->kv_dim;
        rt->s.v = p; p += B * rt->kv_dim;
        rt->s.hb = p; p += B * hp->n_ff;
        rt->s.hb2 = p; p += B * hp->n_ff;
        rt->s.rope = p;
        int64_t max_k = E;
        if (rt->q_dim > max_k) max_k = rt->q_dim;
        if (hp->n_ff > max_k) max_k = hp->n_ff;
        if (lb_matmul_ctx_build(&rt->mm, n_threads, rt->n_batch, max_k, err)) goto fail;
    }
    return rt;
fail:
    lb_runtime_free(rt);
    return NULL;
}

lb_runtime *lb_runtime_build(const lb_model *m, int n_ctx, int n_threads, lb_err *err) {
    lb_hparams hp;
    const char *what = "model";   // tools that know the path call lb_runtime_build_hp with it
    if (lb_hparams_from_model(&hp, m, what, err)) return NULL;
    return lb_runtime_build_hp(m, &hp, what, n_ctx, n_threads, err);
}

const lb_hparams *lb_runtime_hparams(const lb_runtime *rt) { return &rt->hp; }

void lb_runtime_set_observer(lb_runtime *rt, lb_observer_fn fn, void *user, int last_layer) {
    rt->observer = fn;
    rt->observer_user = fn ? user : NULL;
    rt->last_layer = fn && last_layer >= 0 && last_layer < rt->hp.n_layer ? last_layer : rt->hp.n_layer - 1;
}
int lb_runtime_n_ctx(const lb_runtime *rt) { return rt->n_ctx; }

// ----------------------------------------------------------------------------
// numeric building blocks

// out = x / sqrt(mean(x^2) + eps) * w, one row of n. Squares in float, summed in double,
// as ggml does: the normed values feed q8_0 rounding, where last-bit agreement matters.
static void rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    double ss = 0.0;
    for (int i = 0; i < n; i++) ss += (double)(x[i] * x[i]);
    const float scale = 1.0f / sqrtf((float)(ss / n) + eps);
    for (int i = 0; i < n; i++) out[i] = (x[i] * scale) * w[i];
}

// cos/sin of theta_i = pos * base^(-2i/head_dim), i < head_dim/2. Built the way ggml's rope
// cache does (theta *= theta_scale in float) so the angles match llama.cpp's bit for bit.
static void rope_table(float *cs, int pos, int head_dim, float base) {
    const float theta_scale = powf(base, -2.0f / (float)head_dim);
    float theta = (float)pos;
    for (int i = 0; i < head_dim / 2; i++) {
        cs[2 * i] = cosf(theta);
        cs[2 * i + 1] = sinf(theta);
        theta *= theta_scale;
    }
}

// rotate one head in place: adjacent pairs (x[2i], x[2i+1]) or NEOX halves (x[i], x[i+d/2])
static void rope_head(float *x, const float *cs, int head_dim, lb_rope_style style) {
    const int half = head_dim / 2;
    for (int i = 0; i < half; i++) {
        const int a = style == LB_ROPE_NEOX ? i : 2 * i;
        const int b = style == LB_ROPE_NEOX ? i + half : 2 * i + 1;
        const float c = cs[2 * i], s = cs[2 * i + 1];
        const float x0 = x[a], x1 = x[b];
        x[a] = x0 * c - x1 * s;
        x[b] = x0 * s + x1 * c;
    }
}

// in place over the first n entries; the sum is in double like ggml's soft_max
static void softmax(float *x, int n) {
    float max = -INFINITY;
    for (int i = 0; i < n; i++) max = x[i] > max ? x[i] : max;
    double sum = 0.0;
    for (int i = 0; i < n; i++) { x[i] = expf(x[i] - max); sum += x[i]; }
    const float inv = (float)(1.0 / sum);
    for (int i = 0; i < n; i++) x[i] *= inv;
}

static inline float silu(float x) { return x / (1.0f + expf(-x)); }

static void add_bias(float *x, const float *b, int rows, int n) {
    for (int t = 0; t < rows; t++)
        for (int i = 0; i < n; i++) x[(size_t)t * n + i] += b[i];
}

// ----------------------------------------------------------------------------
// attention for one layer: queries of nb tokens at positions pos.., keys/values from the
// cache (which already holds this batch). Tasks = (head, block of queries); each does two
// small sgemms (scores = Q K^T, out = P V) on its own, so the result is thread-count free.

static void attention(lb_runtime *rt, int layer, int nb, int pos) {
    const lb_hparams *hp = &rt->hp;
    const int HD = hp->head_dim, qd = rt->q_dim, kvd = rt->kv_dim, n_ctx = rt->n_ctx;
    const int kv_mul = hp->n_head / hp->n_head_kv;
    const float scale = 1.0f / sqrtf((float)HD);
    const float *kc = rt->s.key_cache + (size_t)layer * n_ctx * kvd;
    const float *vc = rt->s.value_cache + (size_t)layer * n_ctx * kvd;
    const int n_qblocks = (nb + LB_ATTN_QBLOCK - 1) / LB_ATTN_QBLOCK;
    const int n_tasks = hp->n_head * n_qblocks;
    const double work = (double)nb * (pos + nb) * HD * hp->n_head;   // ~ multiply-adds of Q K^T
    #pragma omp parallel for num_threads(rt->n_threads) schedule(dynamic, 1) if (work >= 65536.0)
    for (int task = 0; task < n_tasks; task++) {
        const int h = task % hp->n_head, qb = task / hp->n_head;
        const int t0 = qb * LB_ATTN_QBLOCK;
        const int rows = nb - t0 < LB_ATTN_QBLOCK ? nb - t0 : LB_ATTN_QBLOCK;
        const int n_keys = pos + t0 + rows;   // the last query sees keys 0 .. its own position
        const int kvh = h / kv_mul;
        float *sc = rt->s.scores + (size_t)omp_get_thread_num() * LB_ATTN_QBLOCK * n_ctx;
        const float *q = rt->s.q + (size_t)t0 * qd + (size_t)h * HD;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, n_keys, HD, scale, q, qd, kc + (size_t)kvh * HD, kvd,
                    0.0f, sc, n_keys);
        for (int r = 0; r < rows; r++) {
            float *row = sc + (size_t)r * n_keys;
            const int visible = pos + t0 + r + 1;   // causal mask
            softmax(row, visible);
            for (int j = visible; j < n_keys; j++) row[j] = 0.0f;
        }
        float *out = rt->s.att + (size_t)t0 * qd + (size_t)h * HD;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, HD, n_keys, 1.0f, sc, n_keys, vc + (size_t)kvh * HD,
                    kvd, 0.0f, out, qd);
    }
}

// ----------------------------------------------------------------------------
// one batch of nb tokens through every layer; leaves the final residual stream in s.x

static int forward_batch(lb_runtime *rt, const int32_t *tokens, int nb, int pos, lb_err *err) {
    const lb_hparams *hp = &rt->hp;
    run_state *s = &rt->s;
    const int E = hp->n_embd, HD = hp->head_dim, qd = rt->q_dim, kvd = rt->kv_dim, FF = hp->n_ff;

    // token embeddings (dequantized rows of token_embd)
    const lb_type_traits *et = lb_type_get(rt->tok_embd->type);
    const size_t erow = lb_row_size(rt->tok_embd->type, E);
    for (int t = 0; t < nb; t++)
        et->to_float((const char *)rt->tok_embd->data + (size_t)tokens[t] * erow, s->x + (size_t)t * E, E);
    for (int t = 0; t < nb; t++) rope_table(s->rope + (size_t)t * HD, pos + t, HD, hp->rope_base);

    // observe(site, x, dim): hand one matmul input to the calibration observer, if any
    #define OBSERVE(site, x, dim) \
        do { if (rt->observer) rt->observer(rt->observer_user, l, site, x, nb, dim); } while (0)
    for (int l = 0; l <= rt->last_layer; l++) {
        const layer_weights *w = &rt->layers[l];

        // --- attention block ---
        for (int t = 0; t < nb; t++) rmsnorm(s->xb + (size_t)t * E, s->x + (size_t)t * E, w->attn_norm, E, hp->norm_eps);
        OBSERVE(LB_OBS_ATTN_IN, s->xb, E);
        {   // q, k, v share their input: one activation conversion, one parallel region (decode)
            float *outs[3] = {s->q, s->k, s->v};
            const int64_t ldos[3] = {qd, kvd, kvd};
            const lb_tensor *ws[3] = {w->wq, w->wk, w->wv};
            if (lb_matmul_multi(&rt->mm, 3, outs, ldos, s->xb, nb, ws, err)) return -1;
        }
        if (w->bq) {
            add_bias(s->q, w->bq, nb, qd);
            add_bias(s->k, w->bk, nb, kvd);
            add_bias(s->v, w->bv, nb, kvd);
        }
        for (int t = 0; t < nb; t++) {
            const float *cs = s->rope + (size_t)t * HD;
            for (int h = 0; h < hp->n_head + hp->n_head_kv; h++) {
                const int is_q = h < hp->n_head;
                float *head = is_q ? s->q + (size_t)t * qd + (size_t)h * HD : s->k + (size_t)t * kvd + (size_t)(h - hp->n_head) * HD;
                const float *nw = is_q ? w->q_norm : w->k_norm;
                if (hp->qk_norm == LB_QK_NORM_BEFORE_ROPE) rmsnorm(head, head, nw, HD, hp->norm_eps);   // qwen3
                rope_head(head, cs, HD, hp->rope_style);
                if (hp->qk_norm == LB_QK_NORM_AFTER_ROPE) rmsnorm(head, head, nw, HD, hp->norm_eps);    // hunyuan-dense
            }
        }
        float *kc = s->key_cache + ((size_t)l * rt->n_ctx + pos) * kvd;
        float *vc = s->value_cache + ((size_t)l * rt->n_ctx + pos) * kvd;
        memcpy(kc, s->k, (size_t)nb * kvd * sizeof(float));
        memcpy(vc, s->v, (size_t)nb * kvd * sizeof(float));
        attention(rt, l, nb, pos);
        OBSERVE(LB_OBS_ATTN_OUT, s->att, qd);
        if (lb_matmul(&rt->mm, s->xb, E, s->att, nb, w->wo, err)) return -1;
        for (size_t i = 0; i < (size_t)nb * E; i++) s->x[i] += s->xb[i];

        // --- feed-forward block: down(silu(gate(x)) * up(x)) ---
        for (int t = 0; t < nb; t++) rmsnorm(s->xb + (size_t)t * E, s->x + (size_t)t * E, w->ffn_norm, E, hp->norm_eps);
        OBSERVE(LB_OBS_FFN_IN, s->xb, E);
        {   // gate and up share their input, like q/k/v
            float *outs[2] = {s->hb, s->hb2};
            const int64_t ldos[2] = {FF, FF};
            const lb_tensor *ws[2] = {w->w_gate, w->w_up};
            if (lb_matmul_multi(&rt->mm, 2, outs, ldos, s->xb, nb, ws, err)) return -1;
        }
        for (size_t i = 0; i < (size_t)nb * FF; i++) s->hb[i] = silu(s->hb[i]) * s->hb2[i];
        OBSERVE(LB_OBS_FFN_ACT, s->hb, FF);
        if (lb_matmul(&rt->mm, s->xb, E, s->hb, nb, w->w_down, err)) return -1;
        for (size_t i = 0; i < (size_t)nb * E; i++) s->x[i] += s->xb[i];
    }
    #undef OBSERVE
    return 0;
}

// ----------------------------------------------------------------------------

int lb_runtime_eval(lb_runtime *rt, const int32_t *tokens, int n, int pos, float *logits_out, int n_logits,
                    lb_err *err) {
    const lb_hparams *hp = &rt->hp;
    if (n < 0 || pos < 0 || n_logits < 0 || n_logits > n)
        return lb_fail(err, "%s: eval: bad arguments (n %d, pos %d, logits %d)", rt->what, n, pos, n_logits);
    if ((int64_t)pos + n > rt->n_ctx)
        return lb_fail(err, "%s: %d tokens at position %d exceed the context of %d", rt->what, n, pos, rt->n_ctx);
    if (n_logits > 0 && !logits_out) return lb_fail(err, "%s: eval: no logits buffer", rt->what);
    if (n_logits > 0 && rt->last_layer < hp->n_layer - 1)
        return lb_fail(err, "%s: eval: logits wanted from a pass that stops after layer %d", rt->what, rt->last_layer);
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= hp->n_vocab)
            return lb_fail(err, "%s: token id %d out of range (vocab %d)", rt->what, tokens[i], hp->n_vocab);

    const int E = hp->n_embd;
    const int first_logit = n - n_logits;   // logits are wanted for tokens first_logit .. n-1
    for (int b0 = 0; b0 < n; b0 += rt->n_batch) {
        const int nb = n - b0 < rt->n_batch ? n - b0 : rt->n_batch;
        if (forward_batch(rt, tokens + b0, nb, pos + b0, err)) return -1;
        const int t_from = first_logit > b0 ? first_logit - b0 : 0;   // first row of this batch with logits
        if (t_from >= nb) continue;
        const int cnt = nb - t_from;
        for (int t = 0; t < cnt; t++)
            rmsnorm(rt->s.xb + (size_t)t * E, rt->s.x + (size_t)(t_from + t) * E, rt->output_norm, E, hp->norm_eps);
        float *dst = logits_out + (size_t)(b0 + t_from - first_logit) * hp->n_vocab;
        if (lb_matmul(&rt->mm, dst, hp->n_vocab, rt->s.xb, cnt, rt->output, err)) return -1;
    }
    return 0;
}
