// export_gguf.c: QAT checkpoint -> GGUF (see export_gguf.h).
// Two passes over the tensors: plan (type of each, exactness of every quantized linear checked
// row by row, lossy error norms) and write (the same bytes recomputed row slice by row slice and
// streamed to the atomic GGUF writer). Nothing is written when the plan refuses.
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "export_gguf.h"
#include "ckpt_meta.h"
#include "h5_checkpoint.h"
#include "fakequant.h"
#include "gguf.h"
#include "lb_types.h"
#include "model.h"
#include "quant.h"

// --- the checkpoint's QAT model ------------------------------------------------------------------

static int64_t group_of(const lb_fq_config *c, int64_t K) { return c->group > 0 ? c->group : K; }

int lb_ckpt_qat_find(const lb_ckpt_qat *cq, int param) {
    for (int j = 0; j < cq->q.n; j++)
        if (cq->m.linears[cq->q.q[j].lin].param == param) return j;
    return -1;
}

void lb_ckpt_qat_free(lb_ckpt_qat *cq) {
    free_qat_model(&cq->q, &cq->m);
    lb_train_model_free(&cq->m);
    free(cq->vocab_source);
    memset(cq, 0, sizeof *cq);
}

int lb_ckpt_qat_load(lb_ckpt_qat *cq, const char *path, lb_err *err) {
    memset(cq, 0, sizeof *cq);
    cq->step = -1;
    lb_ckpt c;
    if (lb_ckpt_open(&c, path, err)) return -1;
    char *text = NULL;
    lb_train_config *cfg = NULL;
    int rc = -1;
    lb_err e2;
    if (lb_ckpt_get_str(&c, "config", &text, &e2)) {
        lb_fail(err, "%s: no 'config' attribute (not a checkpoint of `lowbit train`)", path);
        goto done;
    }
    char name[4200];
    snprintf(name, sizeof name, "%s:config", path);
    if (lb_train_config_parse(&cfg, &cq->s, text, strlen(text), name, err)) goto done;
    lb_hparams hp;
    if (lb_ckpt_read_meta(&c, &hp, &cq->vocab_source, err)) goto done;
    int64_t step;
    if (!lb_ckpt_get_i64(&c, "step", &step, &e2)) cq->step = step;
    if (lb_train_model_from_ckpt(&cq->m, path, err)) goto done;
    const lb_fq_config *cls[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++) {
        if (cq->s.qat_grid[k] < 0) continue;
        cq->cls[k] = (lb_fq_config){.grid = (lb_grid)cq->s.qat_grid[k], .group = cq->s.qat_group[k],
                                    .format_type = cq->s.qat_format[k]};
        cq->has_cls[k] = 1;
        cls[k] = &cq->cls[k];
    }
    if (build_qat_model(&cq->q, &cq->m, cls, err)) goto done;
    char sname[LB_GGUF_MAX_NAME + 16];
    for (int j = 0; j < cq->q.n; j++) {
        lb_qat_linear *ql = &cq->q.q[j];
        const lb_grid g = ql->cfg.grid;
        ql->anneal = cq->s.arenas && (g == LB_GRID_SHERRY || g == LB_GRID_SHERRY_ADJ);
        cq->any_anneal |= ql->anneal;
        const int64_t rows = cq->m.linears[ql->lin].out;
        const int64_t shape[2] = {rows, ql->nscales / rows};
        snprintf(sname, sizeof sname, "scales/%s", lb_qat_name(&cq->q, &cq->m, j));
        if (!lb_ckpt_has(&c, sname)) { lb_fail(err, "%s: missing tensor '%s'", path, sname); goto done; }
        if (lb_ckpt_read(&c, sname, 2, shape, ql->scales, err)) goto done;
    }
    if (cq->any_anneal) cq->lambda = lb_fq_arenas_lambda(cq->step < 0 ? 0 : cq->step, cq->s.steps);
    // lambda 0: the weights as the quantized model uses them once annealing is over
    if (lb_qat_forward(&cq->q, &cq->m, 0.0f, err)) goto done;
    rc = 0;
done:
    lb_train_config_free(cfg);
    free(text);
    lb_ckpt_close(&c);
    if (rc) lb_ckpt_qat_free(cq);
    return rc;
}

// --- planning ------------------------------------------------------------------------------------

enum { KIND_VECTOR = 0, KIND_EMBEDDING, KIND_LINEAR };

typedef struct tensor_plan {
    const lb_train_param *p;
    int kind;
    uint32_t type;
    int qi;              // quantized linear index, or -1
    int packed;          // written by lb_grid_pack_row (exact)
    int lossy;           // RTN of src
    const float *src;    // f32 values to write / quantize (w_eff of a quantized linear, else master)
    int64_t rows, K;
    double rel_err;      // lossy / float conversions: ||deq - src|| / ||src||
} tensor_plan;

static int is_float_type(uint32_t t) { return t == LB_TYPE_F32 || t == LB_TYPE_F16; }

// Pack rows [r0, r0+nr) of a quantized linear into dst (nr * row_size bytes).
static int pack_rows(void *dst, const lb_qat_linear *ql, int64_t r0, int64_t nr, int64_t K, uint32_t type, char *why,
                     size_t whylen) {
    const int64_t group = group_of(&ql->cfg, K), per_row = K / group;
    const size_t row_size = lb_row_size(type, K);
    const unsigned flags = lb_fq_grid_flags(&ql->cfg);
    int failed = 0;
    #pragma omp parallel for schedule(static)
    for (int64_t r = r0; r < r0 + nr; r++) {
        if (__atomic_load_n(&failed, __ATOMIC_RELAXED)) continue;
        char msg[256];
        if (lb_grid_pack_row((char *)dst + (size_t)(r - r0) * row_size, type, ql->codes + r * K, K,
                             ql->scales + r * per_row, group, ql->cfg.grid, flags, msg, sizeof msg)) {
            #pragma omp critical(export_pack)
            if (!failed) { snprintf(why, whylen, "row %lld: %s", (long long)r, msg); failed = 1; }
        }
    }
    return failed ? -1 : 0;
}

// Is a quantized linear exactly storable in `type`? Packs and dequantizes every row and compares
// with w_eff bit for bit. 1 = exact, 0 = not (why says which rule fails).
static int check_exact(const lb_ckpt_qat *cq, const lb_qat_linear *ql, int64_t rows, int64_t K, uint32_t type,
                       char *why, size_t whylen) {
    const lb_type_traits *tt = lb_type_get(type);
    const lb_grid g = ql->cfg.grid;
    if (!lb_grid_packable(g, type)) {
        snprintf(why, whylen, "the %s grid has no exact encoding in %s", lb_grid_name(g), tt->name);
        return 0;
    }
    if (!lb_row_size(type, K)) {
        snprintf(why, whylen, "rows of %lld are not a multiple of the %s block (%lld)", (long long)K, tt->name,
                 (long long)tt->blck_size);
        return 0;
    }
    if (ql->anneal && cq->lambda != 0.0f) {
        snprintf(why, whylen, "the checkpoint is mid-anneal (Arenas lambda %.4g at step %lld of %d): its weights are "
                 "Q(W) + lambda*W", (double)cq->lambda, (long long)cq->step, cq->s.steps);
        return 0;
    }
    const int fp16 = (lb_fq_grid_flags(&ql->cfg) & LB_GRID_FP16_EXACT) != 0;
    const size_t row_size = lb_row_size(type, K);
    const int64_t slice = 64;
    void *buf = malloc((size_t)slice * row_size);
    float *deq = malloc((size_t)K * sizeof(float));
    int exact = 1;
    if (!buf || !deq) { snprintf(why, whylen, "out of memory"); exact = -1; goto done; }
    for (int64_t r0 = 0; r0 < rows && exact == 1; r0 += slice) {
        const int64_t nr = rows - r0 < slice ? rows - r0 : slice;
        char msg[300] = "";
        if (pack_rows(buf, ql, r0, nr, K, type, msg, sizeof msg)) {
            snprintf(why, whylen, "%s%s", msg, fp16 ? "" : " (trained without qat.*.format: steps not fp16-exact)");
            exact = 0;
            break;
        }
        for (int64_t r = 0; r < nr; r++) {
            tt->to_float((const char *)buf + (size_t)r * row_size, deq, K);
            const float *want = ql->w_eff + (r0 + r) * K;
            if (memcmp(deq, want, (size_t)K * sizeof(float))) {
                int64_t col = 0;
                while (col < K && !memcmp(&deq[col], &want[col], sizeof(float))) col++;
                snprintf(why, whylen, "row %lld col %lld dequantizes to %.9g, the fake-quant weight is %.9g%s",
                         (long long)(r0 + r), (long long)col, (double)deq[col], (double)want[col],
                         fp16 ? "" : " (trained without qat.*.format: scales not fp16-exact)");
                exact = 0;
                break;
            }
        }
    }
done:
    free(buf);
    free(deq);
    return exact;
}

// ||to_float(from_type(src)) - src|| / ||src|| of a tensor quantized with the type's RTN rule
static int rtn_error(const float *src, int64_t rows, int64_t K, uint32_t type, double *rel, lb_err *err, const char *name) {
    const lb_type_traits *tt = lb_type_get(type);
    const size_t row_size = lb_row_size(type, K);
    void *buf = malloc(row_size);
    float *deq = malloc((size_t)K * sizeof(float));
    if (!buf || !deq) { free(buf); free(deq); return lb_fail(err, "%s: out of memory", name); }
    double e2 = 0, s2 = 0;
    for (int64_t r = 0; r < rows; r++) {
        const float *x = src + r * K;
        char msg[256];
        if (type == LB_TYPE_F32) memcpy(buf, x, (size_t)K * sizeof(float));
        else if (lb_quantize_rows(buf, x, 1, K, type, LB_QM_RTN, NULL, NULL, msg, sizeof msg)) {
            free(buf); free(deq);
            return lb_fail(err, "%s: %s", name, msg);
        }
        tt->to_float(buf, deq, K);
        for (int64_t k = 0; k < K; k++) {
            const double d = (double)deq[k] - x[k];
            e2 += d * d;
            s2 += (double)x[k] * x[k];
        }
    }
    free(buf);
    free(deq);
    *rel = s2 > 0 ? sqrt(e2 / s2) : sqrt(e2);
    return 0;
}

static const char *quantizer_of(const lb_ckpt_qat *cq, const tensor_plan *pl) {
    return pl->qi < 0 ? "none (FP)" : lb_grid_name(cq->q.q[pl->qi].cfg.grid);
}

static int plan_tensors(tensor_plan *plan, const lb_ckpt_qat *cq, const lb_export_opts *o, const char *ckpt,
                        lb_err *err) {
    const lb_train_model *m = &cq->m;
    const int n_block = m->hp.n_layer * LB_TRAIN_LINEARS_PER_LAYER;
    int *lin_of = malloc(m->n_table * sizeof(int));   // parameter -> block linear, or -1
    if (!lin_of) return lb_fail(err, "%s: out of memory", ckpt);
    for (size_t i = 0; i < m->n_table; i++) lin_of[i] = -1;
    for (int i = 0; i < n_block; i++) lin_of[m->linears[i].param] = i;
    int rc = 0;
    for (size_t i = 0; i < m->n_table && !rc; i++) {
        tensor_plan *pl = &plan[i];
        const lb_train_param *p = &m->table[i];
        memset(pl, 0, sizeof *pl);
        pl->p = p;
        pl->qi = -1;
        pl->src = m->params + p->offset;
        pl->K = p->ne[0];
        pl->rows = p->n_dims == 2 ? p->ne[1] : 1;
        if (p->n_dims < 2) { pl->kind = KIND_VECTOR; pl->type = LB_TYPE_F32; continue; }
        if (lin_of[i] < 0) {   // token_embd, output: RTN of the master weight in emb_type
            pl->kind = KIND_EMBEDDING;
            pl->type = lb_row_size(o->emb_type, pl->K) ? o->emb_type : LB_TYPE_F32;
            if (pl->type != o->emb_type)
                fprintf(stderr, "lowbit: note: %s stays f32: rows of %lld do not fit the %s block\n", p->name,
                        (long long)pl->K, lb_type_get(o->emb_type)->name);
            rc = rtn_error(pl->src, pl->rows, pl->K, pl->type, &pl->rel_err, err, p->name);
            continue;
        }
        pl->kind = KIND_LINEAR;
        pl->type = o->type;
        pl->qi = lb_ckpt_qat_find(cq, (int)i);
        if (pl->qi >= 0) pl->src = cq->q.q[pl->qi].w_eff;
        if (is_float_type(o->type)) {   // float outputs: a conversion (f32 exact, f16 reported)
            rc = rtn_error(pl->src, pl->rows, pl->K, o->type, &pl->rel_err, err, p->name);
            continue;
        }
        char why[512] = "";
        int exact = 0;
        if (pl->qi < 0) snprintf(why, sizeof why, "its class was trained in full precision");
        else exact = check_exact(cq, &cq->q.q[pl->qi], pl->rows, pl->K, o->type, why, sizeof why);
        if (exact < 0) { rc = lb_fail(err, "%s: %s: %s", ckpt, p->name, why); break; }
        if (exact) { pl->packed = 1; continue; }
        const char *tn = lb_type_get(o->type)->name;
        if (!o->allow_lossy) {
            rc = lb_fail(err, "%s: %s: quantizer %s cannot be exported losslessly to %s: %s (--allow-lossy quantizes it "
                         "with %s's own rounding)", ckpt, p->name, quantizer_of(cq, pl), tn, why, tn);
            break;
        }
        if (!lb_row_size(o->type, pl->K)) {
            rc = lb_fail(err, "%s: %s: rows of %lld do not fit the %s block, even lossily", ckpt, p->name, (long long)pl->K, tn);
            break;
        }
        pl->lossy = 1;
        rc = rtn_error(pl->src, pl->rows, pl->K, o->type, &pl->rel_err, err, p->name);
        if (!rc)
            fprintf(stderr, "lowbit: lossy: %-28s %-10s -> %-6s RTN, relative error norm %.6f (%s)\n", p->name,
                    quantizer_of(cq, pl), tn, pl->rel_err, why);
    }
    free(lin_of);
    return rc;
}

// --- metadata ------------------------------------------------------------------------------------

static int starts_with(const char *s, const char *pre) { return !strncmp(s, pre, strlen(pre)); }

static uint32_t ftype_of(uint32_t type) {
    switch (type) {
    case LB_TYPE_F32: return 0;
    case LB_TYPE_F16: return 1;
    case LB_TYPE_Q8_0: return 7;
    case LB_TYPE_Q2_K: return 10;
    case LB_TYPE_TQ1_0: return 36;
    case LB_TYPE_TQ2_0: return 37;
    default: return 512 + type;   // native types (docs/formats.md)
    }
}

// hyper-parameters with the keys and types the importers write (formats/hf.c)
static int set_arch_keys(lb_kvs *kv, const lb_hparams *hp, lb_err *err) {
    const char *a = lb_arch_name(hp->arch);
    char key[128];
#define KEY(suffix) (snprintf(key, sizeof key, "%s." suffix, a), key)
    if (lb_kvs_set_u32(kv, KEY("block_count"), (uint32_t)hp->n_layer, err) ||
        lb_kvs_set_u32(kv, KEY("context_length"), (uint32_t)hp->n_ctx_train, err) ||
        lb_kvs_set_u32(kv, KEY("embedding_length"), (uint32_t)hp->n_embd, err) ||
        lb_kvs_set_u32(kv, KEY("feed_forward_length"), (uint32_t)hp->n_ff, err) ||
        lb_kvs_set_u32(kv, KEY("attention.head_count"), (uint32_t)hp->n_head, err) ||
        lb_kvs_set_u32(kv, KEY("attention.head_count_kv"), (uint32_t)hp->n_head_kv, err) ||
        lb_kvs_set_f32(kv, KEY("rope.freq_base"), hp->rope_base, err) ||
        lb_kvs_set_f32(kv, KEY("attention.layer_norm_rms_epsilon"), hp->norm_eps, err))
        return -1;
    if (hp->head_dim * hp->n_head != hp->n_embd &&
        (lb_kvs_set_u32(kv, KEY("attention.key_length"), (uint32_t)hp->head_dim, err) ||
         lb_kvs_set_u32(kv, KEY("attention.value_length"), (uint32_t)hp->head_dim, err)))
        return -1;
    if (hp->arch == LB_ARCH_LLAMA &&
        (lb_kvs_set_u32(kv, KEY("vocab_size"), (uint32_t)hp->n_vocab, err) ||
         lb_kvs_set_u32(kv, KEY("rope.dimension_count"), (uint32_t)hp->head_dim, err)))
        return -1;
#undef KEY
    return 0;
}

// general.* and tokenizer.* of the vocabulary model, then ours
static int build_kv(lb_kvs *kv, const lb_ckpt_qat *cq, const tensor_plan *plan, const lb_export_opts *o,
                    const char *ckpt, lb_err *err) {
    const char *vpath = o->vocab ? o->vocab : cq->vocab_source;
    if (!vpath || !*vpath)
        return lb_fail(err, "%s: the checkpoint does not name its vocabulary (no vocab_source): pass --vocab MODEL "
                       "(the GGUF whose tokenizer the training data used)", ckpt);
    lb_model v;
    if (lb_model_load(&v, vpath, NULL, err)) return -1;
    int rc = -1;
    uint64_t n_tok = 0;
    if (!lb_kvs_get_str_arr(&v.kv, "tokenizer.ggml.tokens", &n_tok)) {
        lb_fail(err, "%s: no tokenizer.ggml.tokens (not a vocabulary for --vocab)", vpath);
        goto done;
    }
    if (n_tok != (uint64_t)cq->m.hp.n_vocab) {
        lb_fail(err, "%s: vocabulary of %llu tokens, the checkpoint's model has %d", vpath, (unsigned long long)n_tok,
                cq->m.hp.n_vocab);
        goto done;
    }
    if (lb_kvs_set_str(kv, "general.architecture", lb_arch_name(cq->m.hp.arch), err)) goto done;
    const char *name = lb_kvs_get_str(&v.kv, "general.name");
    char base[256];
    if (!name) {
        const char *b = strrchr(ckpt, '/');
        snprintf(base, sizeof base, "%s", b ? b + 1 : ckpt);
        char *dot = strrchr(base, '.');
        if (dot && dot != base) *dot = 0;
        name = base;
    }
    if (lb_kvs_set_str(kv, "general.name", name, err)) goto done;
    for (size_t i = 0; i < v.kv.n; i++) {
        const char *k = v.kv.v[i].key;
        if (!starts_with(k, "general.") || !strcmp(k, "general.architecture") || !strcmp(k, "general.name") ||
            !strcmp(k, "general.file_type") || !strcmp(k, "general.quantization_version") || !strcmp(k, "general.alignment"))
            continue;
        lb_kvs one = {&v.kv.v[i], 1, 1};   // a view of one entry, for lb_kvs_copy
        if (lb_kvs_copy(kv, &one, err)) goto done;
    }
    if (set_arch_keys(kv, &cq->m.hp, err)) goto done;
    for (size_t i = 0; i < v.kv.n; i++) {
        if (!starts_with(v.kv.v[i].key, "tokenizer.")) continue;
        lb_kvs one = {&v.kv.v[i], 1, 1};
        if (lb_kvs_copy(kv, &one, err)) goto done;
    }
    // file type: the linears' type when they hold it, else what holds most weights
    double by_type[256] = {0};
    for (size_t i = 0; i < cq->m.n_table; i++)
        if (plan[i].p->n_dims == 2) by_type[plan[i].type] += (double)plan[i].p->numel;
    uint32_t best = LB_TYPE_F32;
    for (uint32_t t = 0; t < 256; t++) if (by_type[t] > by_type[best]) best = t;
    const uint32_t ft = by_type[o->type] > 0 ? o->type : best;
    if (lb_kvs_set_u32(kv, "general.file_type", ftype_of(ft), err)) goto done;
    if (lb_kvs_set_u32(kv, "general.quantization_version", 2, err)) goto done;
    lb_str natives[2];
    int n_native = 0;
    static const uint32_t native_ids[2] = {LB_TYPE_Q2_0C, LB_TYPE_STQ1_0};   // id order
    for (int j = 0; j < 2; j++) {
        if (by_type[native_ids[j]] <= 0) continue;
        const char *nm = lb_type_get(native_ids[j])->name;
        natives[n_native++] = (lb_str){.len = strlen(nm), .ptr = nm};
    }
    if (n_native && (lb_kvs_set_u32(kv, "lowbit.format_version", 1, err) ||
                     lb_kvs_set_str_arr(kv, "lowbit.native_types", natives, (uint64_t)n_native, err)))
        goto done;
    rc = 0;
done:
    lb_model_free(&v);
    return rc;
}

// --- writing -------------------------------------------------------------------------------------

static int write_tensor(lb_gguf_writer *w, const lb_ckpt_qat *cq, const tensor_plan *pl, lb_err *err) {
    const int64_t K = pl->K, rows = pl->rows;
    if (pl->type == LB_TYPE_F32) return lb_gguf_writer_append(w, pl->src, (uint64_t)(rows * K) * sizeof(float), err);
    const size_t row_size = lb_row_size(pl->type, K);
    int64_t slice = (int64_t)((4u << 20) / (K * sizeof(float)));
    if (slice < 1) slice = 1;
    if (slice > rows) slice = rows;
    void *buf = malloc((size_t)slice * row_size);
    if (!buf) return lb_fail(err, "%s: out of memory", pl->p->name);
    int rc = 0;
    for (int64_t r0 = 0; r0 < rows && !rc; r0 += slice) {
        const int64_t nr = rows - r0 < slice ? rows - r0 : slice;
        char msg[300] = "";
        if (pl->packed) {
            if (pack_rows(buf, &cq->q.q[pl->qi], r0, nr, K, pl->type, msg, sizeof msg))
                rc = lb_fail(err, "%s: %s", pl->p->name, msg);
        } else if (lb_quantize_rows(buf, pl->src + r0 * K, nr, K, pl->type, LB_QM_RTN, NULL, NULL, msg, sizeof msg)) {
            rc = lb_fail(err, "%s: %s", pl->p->name, msg);
        }
        if (!rc) rc = lb_gguf_writer_append(w, buf, (uint64_t)nr * row_size, err);
    }
    free(buf);
    return rc;
}

int lb_export_gguf(const char *ckpt_path, const char *out_path, const lb_export_opts *o, lb_export_stats *st,
                   lb_err *err) {
    memset(st, 0, sizeof *st);
    const lb_type_traits *tt = lb_type_get(o->type), *et = lb_type_get(o->emb_type);
    if (!tt || !tt->to_float || !et || !et->from_float) return lb_fail(err, "export: unsupported output type");
    lb_ckpt_qat cq;
    if (lb_ckpt_qat_load(&cq, ckpt_path, err)) return -1;
    const size_t n = cq.m.n_table;
    tensor_plan *plan = calloc(n, sizeof *plan);
    lb_gguf_tensor *desc = calloc(n, sizeof *desc);
    lb_kvs kv;
    lb_kvs_init(&kv);
    lb_gguf_writer *w = NULL;
    int rc = -1;
    if (!plan || !desc) { lb_fail(err, "%s: out of memory", ckpt_path); goto done; }
    if (plan_tensors(plan, &cq, o, ckpt_path, err)) goto done;
    if (build_kv(&kv, &cq, plan, o, ckpt_path, err)) goto done;
    for (size_t i = 0; i < n; i++) {
        const tensor_plan *pl = &plan[i];
        snprintf(desc[i].name, sizeof desc[i].name, "%s", pl->p->name);
        desc[i].n_dims = (uint32_t)pl->p->n_dims;
        desc[i].ne[0] = pl->K;
        desc[i].ne[1] = pl->p->n_dims == 2 ? pl->rows : 1;
        desc[i].ne[2] = desc[i].ne[3] = 1;
        desc[i].type = pl->type;
        st->n_by_type[pl->type]++;
        st->tensor_bytes += lb_row_size(pl->type, pl->K) * (uint64_t)pl->rows;
        st->n_weights += (double)pl->p->numel;
        st->n_exact += pl->packed;
        st->n_lossy += pl->lossy;
        st->n_converted += pl->kind == KIND_LINEAR && is_float_type(pl->type);
    }
    st->n_tensors = (int)n;
    if (!(w = lb_gguf_writer_open(out_path, &kv, desc, n, 0, err))) goto done;
    for (size_t i = 0; i < n; i++) {
        const tensor_plan *pl = &plan[i];
        if (write_tensor(w, &cq, pl, err)) goto done;
        if (o->verbose) {
            char note[64] = "";
            if (pl->packed) snprintf(note, sizeof note, "%s, exact", quantizer_of(&cq, pl));
            else if (pl->kind != KIND_VECTOR && pl->type != LB_TYPE_F32)
                snprintf(note, sizeof note, "%s%s, rel err %.2e", pl->lossy ? "lossy " : "", pl->lossy ? quantizer_of(&cq, pl) : "RTN", pl->rel_err);
            fprintf(stderr, "[%zu/%zu] %-28s %-6s %6lld x %-6lld %s\n", i + 1, n, pl->p->name, lb_type_get(pl->type)->name,
                    (long long)pl->K, (long long)pl->rows, note);
        } else if ((i + 1) % 64 == 0) {
            fprintf(stderr, "lowbit: export: %zu/%zu tensors\n", i + 1, n);
        }
    }
    lb_gguf_writer *wc = w;
    w = NULL;
    if (lb_gguf_writer_close(wc, err)) goto done;
    struct stat sb;
    if (stat(out_path, &sb) == 0) st->file_bytes = (uint64_t)sb.st_size;
    rc = 0;
done:
    if (w) lb_gguf_writer_abort(w);
    lb_kvs_free(&kv);
    free(desc);
    free(plan);
    lb_ckpt_qat_free(&cq);
    return rc;
}
