// train_model.c: the trainable model. Read top to bottom: the parameter table (names,
// shapes, offsets), build from a model or random init, the activation layout, forward,
// backward. See train_model.h for the QAT hook and the activation-memory policy.
#include "train_model.h"
#include "ops.h"
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// memset split over the OpenMP threads: the step zeroes ~0.7 GB (gradients, backward scratch)
// and one thread alone is far from the memory bandwidth; serial, that was ~4% of a step
static void zero_floats(float *p, size_t n) {
    const size_t chunk = (size_t)1 << 16;
    const size_t chunks = (n + chunk - 1) / chunk;
    #pragma omp parallel for schedule(static) if (chunks > 4)
    for (size_t c = 0; c < chunks; c++) {
        const size_t lo = c * chunk, len = n - lo < chunk ? n - lo : chunk;
        memset(p + lo, 0, len * sizeof(float));
    }
}

// ----------------------------------------------------------------------------
// the parameter table: every tensor in GGUF naming, order and orientation

static int check_hparams(const lb_hparams *hp, const char *what, lb_err *err) {
    if (hp->n_vocab <= 0 || hp->n_embd <= 0 || hp->n_layer <= 0 || hp->n_ff <= 0 || hp->n_head <= 0 ||
        hp->n_head_kv <= 0 || hp->head_dim <= 0)
        return lb_fail(err, "%s: hyper-parameters must be positive", what);
    if (hp->n_head % hp->n_head_kv)
        return lb_fail(err, "%s: head_count %d is not a multiple of head_count_kv %d", what, hp->n_head, hp->n_head_kv);
    if (hp->head_dim % 2) return lb_fail(err, "%s: head dimension %d is odd (RoPE rotates pairs)", what, hp->head_dim);
    if (!(hp->norm_eps >= 0.0f) || !(hp->rope_base > 0.0f)) return lb_fail(err, "%s: bad norm epsilon or rope base", what);
    const double big = 1e9;
    if ((double)hp->n_head * hp->head_dim > big / 8 || (double)hp->n_ff > big / 8 || (double)hp->n_embd > big / 8 ||
        (double)hp->n_vocab * hp->n_embd > 4e9)
        return lb_fail(err, "%s: dimensions too large", what);
    return 0;
}

// Appends one entry (or, with table NULL, only counts); returns the new float count.
static size_t add_param(lb_train_param *table, size_t *n, size_t off, const char *name, int64_t ne0, int64_t ne1) {
    if (table) {
        lb_train_param *p = &table[*n];
        memset(p, 0, sizeof *p);
        snprintf(p->name, sizeof p->name, "%s", name);
        p->offset = off;
        p->numel = (size_t)ne0 * (size_t)ne1;
        p->n_dims = ne1 > 1 ? 2 : 1;
        p->ne[0] = ne0;
        p->ne[1] = ne1;
    }
    (*n)++;
    return off + (size_t)ne0 * (size_t)ne1;
}

// Walks the layout once; with table NULL it only counts entries and floats.
static size_t layout(const lb_hparams *hp, lb_train_param *table, size_t *n_entries) {
    const int64_t C = hp->n_embd, V = hp->n_vocab, FF = hp->n_ff, HD = hp->head_dim;
    const int64_t qd = (int64_t)hp->n_head * HD, kvd = (int64_t)hp->n_head_kv * HD;
    size_t n = 0, off = 0;
    char name[LB_GGUF_MAX_NAME];
    off = add_param(table, &n, off, "token_embd.weight", C, V);
    for (int l = 0; l < hp->n_layer; l++) {
        #define P(suffix, ne0, ne1) \
            do { snprintf(name, sizeof name, "blk.%d.%s", l, suffix); off = add_param(table, &n, off, name, ne0, ne1); } while (0)
        P("attn_norm.weight", C, 1);
        P("attn_q.weight", C, qd);
        if (hp->qkv_bias) P("attn_q.bias", qd, 1);
        P("attn_k.weight", C, kvd);
        if (hp->qkv_bias) P("attn_k.bias", kvd, 1);
        P("attn_v.weight", C, kvd);
        if (hp->qkv_bias) P("attn_v.bias", kvd, 1);
        if (hp->qk_norm != LB_QK_NORM_NONE) { P("attn_q_norm.weight", HD, 1); P("attn_k_norm.weight", HD, 1); }
        P("attn_output.weight", qd, C);
        P("ffn_norm.weight", C, 1);
        P("ffn_gate.weight", C, FF);
        P("ffn_up.weight", C, FF);
        P("ffn_down.weight", FF, C);
        #undef P
    }
    off = add_param(table, &n, off, "output_norm.weight", C, 1);
    if (!hp->tied_output) off = add_param(table, &n, off, "output.weight", C, V);
    *n_entries = n;
    return off;
}

int lb_train_model_find(const lb_train_model *m, const char *name) {
    for (size_t i = 0; i < m->n_table; i++)
        if (strcmp(m->table[i].name, name) == 0) return (int)i;
    return -1;
}

// the pointer to a named tensor in base (params or grads), NULL if the layout has none
static float *slot(const lb_train_model *m, float *base, const char *name) {
    const int i = lb_train_model_find(m, name);
    return i < 0 ? NULL : base + m->table[i].offset;
}

static void set_linear(lb_train_model *m, lb_train_linear *lin, const char *wname, const char *bname, int in, int out) {
    lin->param = lb_train_model_find(m, wname);
    lin->w = lin->w_eff = m->params + m->table[lin->param].offset;
    lin->dw = m->grads + m->table[lin->param].offset;
    lin->b = bname ? slot(m, m->params, bname) : NULL;
    lin->db = bname ? slot(m, m->grads, bname) : NULL;
    lin->in = in;
    lin->out = out;
}

// allocate params/grads and wire every pointer; values are left zero
static int build_common(lb_train_model *m, const lb_hparams *hp, const char *what, lb_err *err) {
    memset(m, 0, sizeof *m);
    if (check_hparams(hp, what, err)) return -1;
    m->hp = *hp;
    m->q_dim = hp->n_head * hp->head_dim;
    m->kv_dim = hp->n_head_kv * hp->head_dim;
    const int L = hp->n_layer;
    m->n_params = layout(hp, NULL, &m->n_table);
    m->table = calloc(m->n_table, sizeof *m->table);
    m->params = calloc(m->n_params, sizeof(float));
    m->grads = calloc(m->n_params, sizeof(float));
    m->layers = calloc((size_t)L, sizeof *m->layers);
    m->grad_layers = calloc((size_t)L, sizeof *m->grad_layers);
    m->n_linears = L * LB_TRAIN_LINEARS_PER_LAYER + 1;
    m->linears = calloc((size_t)m->n_linears, sizeof *m->linears);
    if (!m->table || !m->params || !m->grads || !m->layers || !m->grad_layers || !m->linears) {
        lb_train_model_free(m);
        return lb_fail(err, "%s: out of memory for %zu parameters", what, m->n_params);
    }
    layout(hp, m->table, &m->n_table);
    // the ops split every sgemm over OpenMP threads themselves: OpenBLAS must not add its own
    openblas_set_num_threads(1);

    m->tok_embd = slot(m, m->params, "token_embd.weight");
    m->d_tok_embd = slot(m, m->grads, "token_embd.weight");
    m->output_norm = slot(m, m->params, "output_norm.weight");
    m->d_output_norm = slot(m, m->grads, "output_norm.weight");
    m->output = hp->tied_output ? m->tok_embd : slot(m, m->params, "output.weight");
    m->d_output = hp->tied_output ? m->d_tok_embd : slot(m, m->grads, "output.weight");
    char n1[LB_GGUF_MAX_NAME + 32], n2[LB_GGUF_MAX_NAME + 32];
    for (int l = 0; l < L; l++) {
        for (int g = 0; g < 2; g++) {
            float *base = g ? m->grads : m->params;
            lb_train_layer *ly = g ? &m->grad_layers[l] : &m->layers[l];
            #define S(field, suffix) do { snprintf(n1, sizeof n1, "blk.%d.%s", l, suffix); ly->field = slot(m, base, n1); } while (0)
            S(attn_norm, "attn_norm.weight"); S(ffn_norm, "ffn_norm.weight");
            S(q_norm, "attn_q_norm.weight"); S(k_norm, "attn_k_norm.weight");
            S(wq, "attn_q.weight"); S(bq, "attn_q.bias"); S(wk, "attn_k.weight"); S(bk, "attn_k.bias");
            S(wv, "attn_v.weight"); S(bv, "attn_v.bias"); S(wo, "attn_output.weight");
            S(w_gate, "ffn_gate.weight"); S(w_up, "ffn_up.weight"); S(w_down, "ffn_down.weight");
            #undef S
        }
        static const char *const wn[LB_TRAIN_LINEARS_PER_LAYER] = {"attn_q", "attn_k", "attn_v", "attn_output",
                                                                  "ffn_gate", "ffn_up", "ffn_down"};
        const int C = hp->n_embd, FF = hp->n_ff;
        const int ins[LB_TRAIN_LINEARS_PER_LAYER] = {C, C, C, m->q_dim, C, C, FF};
        const int outs[LB_TRAIN_LINEARS_PER_LAYER] = {m->q_dim, m->kv_dim, m->kv_dim, C, FF, FF, C};
        for (int j = 0; j < LB_TRAIN_LINEARS_PER_LAYER; j++) {
            snprintf(n1, sizeof n1, "blk.%d.%s.weight", l, wn[j]);
            snprintf(n2, sizeof n2, "blk.%d.%s.bias", l, wn[j]);
            set_linear(m, &m->linears[l * LB_TRAIN_LINEARS_PER_LAYER + j], n1, hp->qkv_bias && j < 3 ? n2 : NULL,
                       ins[j], outs[j]);
        }
    }
    set_linear(m, &m->linears[m->n_linears - 1], hp->tied_output ? "token_embd.weight" : "output.weight", NULL,
               hp->n_embd, hp->n_vocab);
    return 0;
}

// ----------------------------------------------------------------------------
// build from a model / random init / free

int lb_train_model_from_model(lb_train_model *m, const lb_model *src, const char *what, lb_err *err) {
    lb_hparams hp;
    if (lb_hparams_from_model(&hp, src, what, err)) return -1;
    if (build_common(m, &hp, what, err)) return -1;
    for (size_t i = 0; i < m->n_table; i++) {
        const lb_train_param *p = &m->table[i];
        const lb_tensor *t = lb_model_find(src, p->name);
        if (!t) { lb_fail(err, "%s: missing tensor %s", what, p->name); goto fail; }
        int64_t rows = 1;
        for (uint32_t d = 1; d < t->n_dims && d < LB_GGUF_MAX_DIMS; d++) rows *= t->ne[d];
        if (t->ne[0] != p->ne[0] || rows != p->ne[1]) {
            lb_fail(err, "%s: tensor %s has shape [%lld, %lld], expected [%lld, %lld]", what, p->name,
                    (long long)t->ne[0], (long long)rows, (long long)p->ne[0], (long long)p->ne[1]);
            goto fail;
        }
        if (lb_tensor_read_f32(t, 0, rows, m->params + p->offset, err)) goto fail;
    }
    return 0;
fail:
    lb_train_model_free(m);
    return -1;
}

// xorshift64* and Box-Muller: deterministic normals from a seed
static uint64_t rng_next(uint64_t *s) {
    *s ^= *s >> 12; *s ^= *s << 25; *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}
static float rng_normal(uint64_t *s) {
    const double u1 = ((rng_next(s) >> 11) + 1.0) / 9007199254740993.0;   // (0, 1]
    const double u2 = (rng_next(s) >> 11) / 9007199254740992.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

int lb_train_model_init(lb_train_model *m, const lb_hparams *hp, uint64_t seed, lb_err *err) {
    if (build_common(m, hp, "random init", err)) return -1;
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 0x1234567ULL;
    if (!s) s = 1;
    const float proj_std = 0.02f / sqrtf(2.0f * hp->n_layer);
    for (size_t i = 0; i < m->n_table; i++) {
        const lb_train_param *p = &m->table[i];
        float *w = m->params + p->offset;
        const char *suffix = strrchr(p->name, '.');
        if (p->n_dims == 1) {
            const float v = strcmp(suffix, ".bias") == 0 ? 0.0f : 1.0f;   // norms 1, biases 0
            for (size_t j = 0; j < p->numel; j++) w[j] = v;
        } else {
            const float std = strstr(p->name, "attn_output") || strstr(p->name, "ffn_down") ? proj_std : 0.02f;
            for (size_t j = 0; j < p->numel; j++) w[j] = std * rng_normal(&s);
        }
    }
    return 0;
}

void lb_train_model_free(lb_train_model *m) {
    if (!m) return;
    free(m->params); free(m->grads); free(m->table);
    free(m->layers); free(m->grad_layers); free(m->linears);
    free(m->acts);
    memset(m, 0, sizeof *m);
}

void lb_train_model_zero_grad(lb_train_model *m) {
    if (m->grads) zero_floats(m->grads, m->n_params);
}

// ----------------------------------------------------------------------------
// activations: a struct of pointers at the head of ONE allocation, followed by the floats

struct lb_train_acts {
    // forward store; per-layer tensors are (L, ...) stacked
    float *encoded;              // (BT,C) token embeddings: the residual stream before layer 0
    float *ln1, *ln1_rstd;       // (L,BT,C), (L,BT)
    float *q_lin, *k_lin, *v;    // (L,BT,qd), (L,BT,kvd) x2: projections (+ bias)
    float *q_mid, *k_mid;        // (L,BT,qd/kvd): after the first of q/k-norm and RoPE (qk-norm archs)
    float *q_rstd, *k_rstd;      // (L,BT*NH), (L,BT*NKV): per-head q/k-norm 1/rms
    float *q, *k;                // (L,BT,qd/kvd): what attention reads
    float *att;                  // (L,B,NH,T,T) softmax probabilities
    float *atty;                 // (L,BT,qd) attention output
    float *res_att;              // (L,BT,C) residual after the attention block
    float *ln2, *ln2_rstd;       // (L,BT,C), (L,BT)
    float *gate, *up, *swi;      // (L,BT,FF)
    float *res_ffn;              // (L,BT,C) residual after the feed-forward block = layer output
    float *lnf, *lnf_rstd;       // (BT,C), (BT)
    float *logits;               // (BT,V): logits, then probs, then dlogits (in place)
    float *losses;               // (BT)
    float *rope;                 // (T,HD) cos/sin table
    float *proj;                 // (BT,C) scratch: a block's output before the residual add
    // backward scratch, one layer at a time
    float *dres, *dln;           // (BT,C)
    float *dq, *dq2, *dk, *dk2, *dv, *datty;   // (BT,qd/kvd)
    float *dgate, *dup, *dswi;   // (BT,FF)
    size_t n_floats;
};

// float counts of every activation in struct order; with a NULL acts only the total
static size_t acts_layout(lb_train_acts *a, const lb_hparams *hp, int B, int T, float *base) {
    const size_t BT = (size_t)B * T, L = (size_t)hp->n_layer, C = (size_t)hp->n_embd, FF = (size_t)hp->n_ff;
    const size_t HD = (size_t)hp->head_dim, NH = (size_t)hp->n_head, NKV = (size_t)hp->n_head_kv;
    const size_t qd = NH * HD, kvd = NKV * HD, V = (size_t)hp->n_vocab;
    const int qkn = hp->qk_norm != LB_QK_NORM_NONE;
    size_t off = 0;
    #define A(field, count) do { if (a) a->field = base + off; off += (count); } while (0)
    A(encoded, BT * C);
    A(ln1, L * BT * C); A(ln1_rstd, L * BT);
    A(q_lin, L * BT * qd); A(k_lin, L * BT * kvd); A(v, L * BT * kvd);
    A(q_mid, qkn ? L * BT * qd : 0); A(k_mid, qkn ? L * BT * kvd : 0);
    A(q_rstd, qkn ? L * BT * NH : 0); A(k_rstd, qkn ? L * BT * NKV : 0);
    A(q, L * BT * qd); A(k, L * BT * kvd);
    A(att, L * (size_t)B * NH * (size_t)T * (size_t)T);
    A(atty, L * BT * qd);
    A(res_att, L * BT * C);
    A(ln2, L * BT * C); A(ln2_rstd, L * BT);
    A(gate, L * BT * FF); A(up, L * BT * FF); A(swi, L * BT * FF);
    A(res_ffn, L * BT * C);
    A(lnf, BT * C); A(lnf_rstd, BT);
    A(logits, BT * V); A(losses, BT);
    A(rope, (size_t)T * HD);
    A(proj, BT * C);
    A(dres, BT * C); A(dln, BT * C);
    A(dq, BT * qd); A(dq2, BT * qd); A(dk, BT * kvd); A(dk2, BT * kvd); A(dv, BT * kvd); A(datty, BT * qd);
    A(dgate, BT * FF); A(dup, BT * FF); A(dswi, BT * FF);
    #undef A
    if (a) a->n_floats = off;
    return off;
}

void lb_train_memory(const lb_hparams *hp, int B, int T, size_t *param_bytes, size_t *grad_bytes, size_t *act_bytes) {
    size_t n_entries;
    const size_t n = layout(hp, NULL, &n_entries);
    if (param_bytes) *param_bytes = n * sizeof(float);
    if (grad_bytes) *grad_bytes = n * sizeof(float);
    if (act_bytes) *act_bytes = acts_layout(NULL, hp, B, T, NULL) * sizeof(float) + sizeof(lb_train_acts);
}

static int ensure_acts(lb_train_model *m, int B, int T, lb_err *err) {
    if (m->acts && m->B == B && m->T == T) return 0;
    free(m->acts);
    m->acts = NULL;
    const size_t n = acts_layout(NULL, &m->hp, B, T, NULL);
    // the struct of pointers first, the floats after it (one allocation)
    const size_t head = (sizeof(lb_train_acts) + 63) / 64 * 64;
    char *mem = malloc(head + n * sizeof(float));
    if (!mem) return lb_fail(err, "train: out of memory for activations (B %d, T %d: %zu MB)", B, T, n * 4 >> 20);
    m->acts = (lb_train_acts *)mem;
    acts_layout(m->acts, &m->hp, B, T, (float *)(mem + head));
    m->B = B;
    m->T = T;
    rope_table(m->acts->rope, T, m->hp.head_dim, m->hp.rope_base);
    return 0;
}

// ----------------------------------------------------------------------------
// forward

int lb_train_model_forward(lb_train_model *m, const int32_t *tokens, const int32_t *targets, int B, int T,
                           float *loss, lb_err *err) {
    const lb_hparams *hp = &m->hp;
    // ops take row counts as int: B*T*n_head rows of the per-head q-norm must fit
    if (B <= 0 || T <= 0 || (double)B * T * hp->n_head > 2e9)
        return lb_fail(err, "train: bad batch shape (B %d, T %d)", B, T);
    const int BT = B * T;
    for (int i = 0; i < BT; i++) {
        if (tokens[i] < 0 || tokens[i] >= hp->n_vocab)
            return lb_fail(err, "train: token id %d out of range (vocab %d)", tokens[i], hp->n_vocab);
        if (targets && targets[i] >= hp->n_vocab)
            return lb_fail(err, "train: target id %d out of range (vocab %d)", targets[i], hp->n_vocab);
    }
    m->have_targets = m->have_logits = 0;   // nothing valid until this forward completes
    if (ensure_acts(m, B, T, err)) return -1;
    lb_train_acts *a = m->acts;
    const int C = hp->n_embd, FF = hp->n_ff, HD = hp->head_dim, NH = hp->n_head, NKV = hp->n_head_kv;
    const int qd = m->q_dim, kvd = m->kv_dim, V = hp->n_vocab;
    const float eps = hp->norm_eps;
    const size_t bc = (size_t)BT * C, bq = (size_t)BT * qd, bk = (size_t)BT * kvd, bf = (size_t)BT * FF;

    encoder_forward(a->encoded, tokens, m->tok_embd, BT, C);   // out is (B,T,C)
    for (int l = 0; l < hp->n_layer; l++) {
        const lb_train_layer *w = &m->layers[l];
        const lb_train_linear *lin = &m->linears[l * LB_TRAIN_LINEARS_PER_LAYER];
        const float *res_in = l == 0 ? a->encoded : a->res_ffn + (size_t)(l - 1) * bc;
        float *ln1 = a->ln1 + l * bc, *ln1_rstd = a->ln1_rstd + (size_t)l * BT;
        float *q_lin = a->q_lin + l * bq, *k_lin = a->k_lin + l * bk, *v = a->v + l * bk;
        float *q = a->q + l * bq, *k = a->k + l * bk;
        float *att = a->att + (size_t)l * B * NH * T * T, *atty = a->atty + l * bq;
        float *res_att = a->res_att + l * bc, *ln2 = a->ln2 + l * bc, *ln2_rstd = a->ln2_rstd + (size_t)l * BT;
        float *gate = a->gate + l * bf, *up = a->up + l * bf, *swi = a->swi + l * bf;
        float *res_ffn = a->res_ffn + l * bc;

        // --- attention block ---
        rmsnorm_forward(ln1, ln1_rstd, res_in, w->attn_norm, BT, C, eps);
        linear_forward(q_lin, ln1, lin[0].w_eff, lin[0].wc, lin[0].b, BT, C, qd);    // (B,T,NH,HD)
        linear_forward(k_lin, ln1, lin[1].w_eff, lin[1].wc, lin[1].b, BT, C, kvd);   // (B,T,NKV,HD)
        linear_forward(v, ln1, lin[2].w_eff, lin[2].wc, lin[2].b, BT, C, kvd);
        if (hp->qk_norm == LB_QK_NORM_NONE) {
            rope_forward(q, q_lin, a->rope, B, T, NH, HD, hp->rope_style);
            rope_forward(k, k_lin, a->rope, B, T, NKV, HD, hp->rope_style);
        } else {
            float *q_mid = a->q_mid + l * bq, *k_mid = a->k_mid + l * bk;
            float *q_rstd = a->q_rstd + (size_t)l * BT * NH, *k_rstd = a->k_rstd + (size_t)l * BT * NKV;
            if (hp->qk_norm == LB_QK_NORM_BEFORE_ROPE) {   // qwen3: norm, then rope
                rmsnorm_forward(q_mid, q_rstd, q_lin, w->q_norm, BT * NH, HD, eps);
                rmsnorm_forward(k_mid, k_rstd, k_lin, w->k_norm, BT * NKV, HD, eps);
                rope_forward(q, q_mid, a->rope, B, T, NH, HD, hp->rope_style);
                rope_forward(k, k_mid, a->rope, B, T, NKV, HD, hp->rope_style);
            } else {                                       // hunyuan-dense: rope, then norm
                rope_forward(q_mid, q_lin, a->rope, B, T, NH, HD, hp->rope_style);
                rope_forward(k_mid, k_lin, a->rope, B, T, NKV, HD, hp->rope_style);
                rmsnorm_forward(q, q_rstd, q_mid, w->q_norm, BT * NH, HD, eps);
                rmsnorm_forward(k, k_rstd, k_mid, w->k_norm, BT * NKV, HD, eps);
            }
        }
        attention_forward(atty, att, q, k, v, B, T, NH, NKV, HD);
        linear_forward(a->proj, atty, lin[3].w_eff, lin[3].wc, NULL, BT, qd, C);
        residual_forward(res_att, res_in, a->proj, bc);

        // --- feed-forward block: down(silu(gate(x)) * up(x)) ---
        rmsnorm_forward(ln2, ln2_rstd, res_att, w->ffn_norm, BT, C, eps);
        linear_forward(gate, ln2, lin[4].w_eff, lin[4].wc, NULL, BT, C, FF);
        linear_forward(up, ln2, lin[5].w_eff, lin[5].wc, NULL, BT, C, FF);
        swiglu_forward(swi, gate, up, bf);
        linear_forward(a->proj, swi, lin[6].w_eff, lin[6].wc, NULL, BT, FF, C);
        residual_forward(res_ffn, res_att, a->proj, bc);
    }
    const float *res_last = a->res_ffn + (size_t)(hp->n_layer - 1) * bc;
    rmsnorm_forward(a->lnf, a->lnf_rstd, res_last, m->output_norm, BT, C, eps);
    const lb_train_linear *head = &m->linears[m->n_linears - 1];
    linear_forward(a->logits, a->lnf, head->w_eff, head->wc, NULL, BT, C, V);   // (B,T,V)

    m->tokens = tokens;
    m->targets = targets;
    m->have_targets = targets != NULL;
    m->have_logits = targets == NULL;
    if (targets) {
        // the loss and, in place of the logits, its gradient dlogits (dloss = 1, what backward
        // uses): one pass less over the (BT,V) block than softmax now, gradient in backward
        const float l = crossentropy_forward_backward(a->logits, a->losses, targets, 1.0f, BT, V);
        if (loss) *loss = l;
    }
    return 0;
}

const float *lb_train_model_logits(const lb_train_model *m) {
    return m->acts && m->have_logits ? m->acts->logits : NULL;
}

// ----------------------------------------------------------------------------
// backward: the forward in reverse; every op accumulates, so scratch is zeroed before use

#define ZERO(p, n) zero_floats((p), (size_t)(n))

// everything below the logits: dlogits (BT,V) -> grads (accumulated)
static int backward_from_dlogits(lb_train_model *m, const float *dlogits, lb_err *err) {
    const lb_hparams *hp = &m->hp;
    lb_train_acts *a = m->acts;
    const int B = m->B, T = m->T, BT = B * T;
    const int C = hp->n_embd, FF = hp->n_ff, HD = hp->head_dim, NH = hp->n_head, NKV = hp->n_head_kv;
    const int qd = m->q_dim, kvd = m->kv_dim, V = hp->n_vocab;
    const size_t bc = (size_t)BT * C, bq = (size_t)BT * qd, bk = (size_t)BT * kvd, bf = (size_t)BT * FF;

    const lb_train_linear *head = &m->linears[m->n_linears - 1];
    ZERO(a->dln, bc);
    linear_backward(a->dln, head->dw, NULL, dlogits, a->lnf, head->w_eff, head->wc, BT, C, V);
    ZERO(a->dres, bc);
    const float *res_last = a->res_ffn + (size_t)(hp->n_layer - 1) * bc;
    rmsnorm_backward(a->dres, m->d_output_norm, a->dln, res_last, m->output_norm, a->lnf_rstd, BT, C);

    for (int l = hp->n_layer - 1; l >= 0; l--) {
        const lb_train_layer *w = &m->layers[l], *dw = &m->grad_layers[l];
        const lb_train_linear *lin = &m->linears[l * LB_TRAIN_LINEARS_PER_LAYER];
        const float *res_in = l == 0 ? a->encoded : a->res_ffn + (size_t)(l - 1) * bc;
        const float *ln1 = a->ln1 + l * bc, *ln1_rstd = a->ln1_rstd + (size_t)l * BT;
        const float *q_lin = a->q_lin + l * bq, *k_lin = a->k_lin + l * bk, *v = a->v + l * bk;
        const float *q = a->q + l * bq, *k = a->k + l * bk;
        const float *att = a->att + (size_t)l * B * NH * T * T, *atty = a->atty + l * bq;
        const float *res_att = a->res_att + l * bc, *ln2 = a->ln2 + l * bc, *ln2_rstd = a->ln2_rstd + (size_t)l * BT;
        const float *gate = a->gate + l * bf, *up = a->up + l * bf, *swi = a->swi + l * bf;

        // --- feed-forward block; dres holds d(res_ffn) and becomes d(res_att) ---
        ZERO(a->dswi, bf);
        linear_backward(a->dswi, lin[6].dw, NULL, a->dres, swi, lin[6].w_eff, lin[6].wc, BT, FF, C);
        ZERO(a->dgate, bf); ZERO(a->dup, bf);
        swiglu_backward(a->dgate, a->dup, a->dswi, gate, up, bf);
        ZERO(a->dln, bc);
        linear_backward(a->dln, lin[4].dw, NULL, a->dgate, ln2, lin[4].w_eff, lin[4].wc, BT, C, FF);
        linear_backward(a->dln, lin[5].dw, NULL, a->dup, ln2, lin[5].w_eff, lin[5].wc, BT, C, FF);
        rmsnorm_backward(a->dres, dw->ffn_norm, a->dln, res_att, w->ffn_norm, ln2_rstd, BT, C);   // residual: += onto the pass-through

        // --- attention block; dres becomes d(res_in) ---
        ZERO(a->datty, bq);
        linear_backward(a->datty, lin[3].dw, NULL, a->dres, atty, lin[3].w_eff, lin[3].wc, BT, qd, C);
        ZERO(a->dq, bq); ZERO(a->dk, bk); ZERO(a->dv, bk);
        if (attention_backward(a->dq, a->dk, a->dv, a->datty, q, k, v, att, B, T, NH, NKV, HD))
            return lb_fail(err, "train: out of memory for attention backward scratch");
        // undo q/k-norm and RoPE: d(q), d(k) -> d(q_lin), d(k_lin), left in dq2 / dk2
        ZERO(a->dq2, bq); ZERO(a->dk2, bk);
        if (hp->qk_norm == LB_QK_NORM_NONE) {
            rope_backward(a->dq2, a->dq, a->rope, B, T, NH, HD, hp->rope_style);
            rope_backward(a->dk2, a->dk, a->rope, B, T, NKV, HD, hp->rope_style);
        } else {
            const float *q_mid = a->q_mid + l * bq, *k_mid = a->k_mid + l * bk;
            const float *q_rstd = a->q_rstd + (size_t)l * BT * NH, *k_rstd = a->k_rstd + (size_t)l * BT * NKV;
            if (hp->qk_norm == LB_QK_NORM_BEFORE_ROPE) {   // q = rope(norm(q_lin))
                rope_backward(a->dq2, a->dq, a->rope, B, T, NH, HD, hp->rope_style);   // d(q_mid)
                rope_backward(a->dk2, a->dk, a->rope, B, T, NKV, HD, hp->rope_style);
                ZERO(a->dq, bq); ZERO(a->dk, bk);
                rmsnorm_backward(a->dq, dw->q_norm, a->dq2, q_lin, w->q_norm, q_rstd, BT * NH, HD);
                rmsnorm_backward(a->dk, dw->k_norm, a->dk2, k_lin, w->k_norm, k_rstd, BT * NKV, HD);
            } else {                                       // q = norm(rope(q_lin))
                rmsnorm_backward(a->dq2, dw->q_norm, a->dq, q_mid, w->q_norm, q_rstd, BT * NH, HD);   // d(q_mid)
                rmsnorm_backward(a->dk2, dw->k_norm, a->dk, k_mid, w->k_norm, k_rstd, BT * NKV, HD);
                ZERO(a->dq, bq); ZERO(a->dk, bk);
                rope_backward(a->dq, a->dq2, a->rope, B, T, NH, HD, hp->rope_style);
                rope_backward(a->dk, a->dk2, a->rope, B, T, NKV, HD, hp->rope_style);
            }
            // d(q_lin), d(k_lin) are in dq / dk here; move them to dq2 / dk2
            memcpy(a->dq2, a->dq, bq * sizeof(float));
            memcpy(a->dk2, a->dk, bk * sizeof(float));
        }
        ZERO(a->dln, bc);
        linear_backward(a->dln, lin[0].dw, lin[0].db, a->dq2, ln1, lin[0].w_eff, lin[0].wc, BT, C, qd);
        linear_backward(a->dln, lin[1].dw, lin[1].db, a->dk2, ln1, lin[1].w_eff, lin[1].wc, BT, C, kvd);
        linear_backward(a->dln, lin[2].dw, lin[2].db, a->dv, ln1, lin[2].w_eff, lin[2].wc, BT, C, kvd);
        rmsnorm_backward(a->dres, dw->attn_norm, a->dln, res_in, w->attn_norm, ln1_rstd, BT, C);
    }
    encoder_backward(m->d_tok_embd, a->dres, m->tokens, BT, C);
    return 0;
}

int lb_train_model_backward(lb_train_model *m, lb_err *err) {
    if (!m->acts || !m->have_targets) return lb_fail(err, "train: backward needs a forward with targets first");
    if (!m->grads) return lb_fail(err, "train: backward on a forward-only model (gradients dropped)");
    // the forward with targets left dlogits in place of the logits
    m->have_targets = 0;   // one backward per forward
    return backward_from_dlogits(m, m->acts->logits, err);
}

int lb_train_model_backward_dlogits(lb_train_model *m, const float *dlogits, lb_err *err) {
    if (!m->acts || !m->have_logits) return lb_fail(err, "train: backward_dlogits needs a forward without targets first");
    if (!m->grads) return lb_fail(err, "train: backward on a forward-only model (gradients dropped)");
    m->have_logits = 0;   // the logits may be dlogits now (in-place use); one backward per forward
    return backward_from_dlogits(m, dlogits, err);
}

float *lb_train_model_logits_mut(lb_train_model *m) {
    return m->acts && m->have_logits ? m->acts->logits : NULL;
}

void lb_train_model_drop_grads(lb_train_model *m) {
    free(m->grads);
    m->grads = NULL;
    // no pointer into the freed block may survive
    m->d_tok_embd = m->d_output_norm = m->d_output = NULL;
    if (m->grad_layers) memset(m->grad_layers, 0, (size_t)m->hp.n_layer * sizeof *m->grad_layers);
    for (int i = 0; i < m->n_linears; i++) m->linears[i].dw = m->linears[i].db = NULL;
}
