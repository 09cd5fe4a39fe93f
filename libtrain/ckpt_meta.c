// ckpt_meta.c: the hyper-parameter attributes of a checkpoint (see ckpt_meta.h), and the
// model they rebuild. Checkpoints written before the hp.* attributes existed still load: their
// config text says how the trainer built the model (model.random or model.init), and we redo
// exactly what trainer.c's build_model did.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ckpt_meta.h"
#include "train_config.h"

// --- writing -----------------------------------------------------------------------------------

size_t lb_ckpt_meta_attrs(lb_ckpt_attr *out, const lb_hparams *hp, const char *vocab_source) {
    size_t n = 0;
#define I64(nm, v) out[n++] = (lb_ckpt_attr){.name = nm, .type = LB_CKPT_I64, .i = (int64_t)(v)}
#define F64(nm, v) out[n++] = (lb_ckpt_attr){.name = nm, .type = LB_CKPT_F64, .f = (double)(v)}
    out[n++] = (lb_ckpt_attr){.name = "hp.arch", .type = LB_CKPT_STR, .s = lb_arch_name(hp->arch)};
    I64("hp.n_vocab", hp->n_vocab);
    I64("hp.n_embd", hp->n_embd);
    I64("hp.n_layer", hp->n_layer);
    I64("hp.n_ff", hp->n_ff);
    I64("hp.n_head", hp->n_head);
    I64("hp.n_head_kv", hp->n_head_kv);
    I64("hp.head_dim", hp->head_dim);
    I64("hp.n_ctx_train", hp->n_ctx_train);
    I64("hp.rope_style", hp->rope_style);
    I64("hp.qk_norm", hp->qk_norm);
    I64("hp.qkv_bias", hp->qkv_bias);
    I64("hp.tied_output", hp->tied_output);
    F64("hp.norm_eps", hp->norm_eps);
    F64("hp.rope_base", hp->rope_base);
#undef I64
#undef F64
    out[n++] = (lb_ckpt_attr){.name = "vocab_source", .type = LB_CKPT_STR, .s = vocab_source ? vocab_source : ""};
    return n;
}

// --- reading -----------------------------------------------------------------------------------

static int get_int(const lb_ckpt *c, const char *name, int64_t lo, int64_t hi, int *v, lb_err *err) {
    int64_t x;
    if (lb_ckpt_get_i64(c, name, &x, err)) return -1;
    if (x < lo || x > hi) return lb_fail(err, "%s: attribute '%s' = %lld out of range %lld..%lld", c->path, name,
                                         (long long)x, (long long)lo, (long long)hi);
    *v = (int)x;
    return 0;
}

static int get_pos_float(const lb_ckpt *c, const char *name, int allow_zero, float *v, lb_err *err) {
    double x;
    if (lb_ckpt_get_f64(c, name, &x, err)) return -1;
    if (!isfinite(x) || x < 0 || (!allow_zero && x == 0) || x > 1e30)
        return lb_fail(err, "%s: attribute '%s' = %g out of range", c->path, name, x);
    *v = (float)x;
    return 0;
}

static int read_hp_attrs(const lb_ckpt *c, lb_hparams *hp, char **vocab_source, lb_err *err) {
    memset(hp, 0, sizeof *hp);
    char *arch = NULL;
    if (lb_ckpt_get_str(c, "hp.arch", &arch, err)) return -1;
    int a = lb_arch_from_name(arch);
    if (a < 0) {
        lb_fail(err, "%s: attribute 'hp.arch' = '%.64s' is not a supported architecture", c->path, arch);
        free(arch);
        return -1;
    }
    free(arch);
    hp->arch = (lb_arch)a;
    const int64_t big = 1 << 24;
    int rope = 0, qkn = 0;   // set by get_int below (initialized for the compiler)
    if (get_int(c, "hp.n_vocab", 1, INT32_MAX, &hp->n_vocab, err) || get_int(c, "hp.n_embd", 1, big, &hp->n_embd, err) ||
        get_int(c, "hp.n_layer", 1, 4096, &hp->n_layer, err) || get_int(c, "hp.n_ff", 1, big, &hp->n_ff, err) ||
        get_int(c, "hp.n_head", 1, 65536, &hp->n_head, err) || get_int(c, "hp.n_head_kv", 1, 65536, &hp->n_head_kv, err) ||
        get_int(c, "hp.head_dim", 1, 65536, &hp->head_dim, err) ||
        get_int(c, "hp.n_ctx_train", 1, INT32_MAX, &hp->n_ctx_train, err) || get_int(c, "hp.rope_style", 0, 1, &rope, err) ||
        get_int(c, "hp.qk_norm", 0, 2, &qkn, err) || get_int(c, "hp.qkv_bias", 0, 1, &hp->qkv_bias, err) ||
        get_int(c, "hp.tied_output", 0, 1, &hp->tied_output, err) || get_pos_float(c, "hp.norm_eps", 1, &hp->norm_eps, err) ||
        get_pos_float(c, "hp.rope_base", 0, &hp->rope_base, err))
        return -1;
    hp->rope_style = (lb_rope_style)rope;
    hp->qk_norm = (lb_qk_norm)qkn;
    if (hp->n_head % hp->n_head_kv)
        return lb_fail(err, "%s: attribute 'hp.n_head' = %d is not a multiple of 'hp.n_head_kv' = %d", c->path, hp->n_head,
                       hp->n_head_kv);
    if (vocab_source) {
        char *vs = NULL;
        if (lb_ckpt_get_str(c, "vocab_source", &vs, err)) return -1;
        *vocab_source = vs;
    }
    return 0;
}

// A checkpoint without hp.*: rebuild the hparams the way trainer.c's build_model did from the
// config the checkpoint carries.
static int read_hp_from_config(const lb_ckpt *c, lb_hparams *hp, lb_err *err) {
    memset(hp, 0, sizeof *hp);
    char *text = NULL;
    if (lb_ckpt_get_str(c, "config", &text, err))
        return lb_fail(err, "%s: no hyper-parameters (attribute 'hp.arch') and no 'config' attribute to rebuild them from",
                       c->path);
    char name[4200];
    snprintf(name, sizeof name, "%s:config", c->path);
    lb_train_config *cfg = NULL;
    lb_train_settings s;
    int rc = lb_train_config_parse(&cfg, &s, text, strlen(text), name, err);
    free(text);
    if (rc) return -1;
    const lb_cfg_model *mc = &cfg->model;
    rc = -1;
    if (mc->init) {
        lb_model src;
        memset(&src, 0, sizeof src);
        lb_err e2;
        if (lb_model_load(&src, mc->init, mc->tokenizer, &e2)) {
            lb_fail(err, "%s: no hp.* attributes and the config's model.init cannot be loaded (%s)", c->path, e2.msg);
        } else {
            rc = lb_hparams_from_model(hp, &src, mc->init, err);
        }
        lb_model_free(&src);
        goto done;
    }
    const lb_cfg_random *r = mc->random;
    int arch = lb_arch_from_name(r->arch ? r->arch : "");
    if (arch < 0) { lb_fail(err, "%s: bad value for 'model.random.arch'", name); goto done; }
    hp->arch = (lb_arch)arch;
    hp->n_vocab = r->vocab;
    if (!hp->n_vocab) {   // the trainer took it from the token store: the embedding's rows say it
        int nd;
        int64_t shape[LB_CKPT_MAX_DIMS];
        if (lb_ckpt_shape(c, "weights/token_embd.weight", &nd, shape, err)) goto done;
        if (nd != 2 || shape[0] <= 0 || shape[0] > INT32_MAX) {
            lb_fail(err, "%s: tensor 'weights/token_embd.weight' has a bad shape", c->path);
            goto done;
        }
        hp->n_vocab = (int)shape[0];
    }
    hp->n_embd = r->dim;
    hp->n_layer = r->layers;
    hp->n_ff = r->ffn;
    hp->n_head = r->heads;
    hp->n_head_kv = r->kv_heads ? r->kv_heads : r->heads;
    hp->head_dim = r->head_dim ? r->head_dim : r->dim / r->heads;
    hp->n_ctx_train = r->ctx ? r->ctx : cfg->data.seq_len;
    hp->norm_eps = r->norm_eps ? *r->norm_eps : 1e-5f;
    hp->rope_base = r->rope_base ? *r->rope_base : 10000.0f;
    hp->rope_style = hp->arch == LB_ARCH_LLAMA ? LB_ROPE_ADJACENT : LB_ROPE_NEOX;
    hp->qk_norm = hp->arch == LB_ARCH_QWEN3 ? LB_QK_NORM_BEFORE_ROPE
                : hp->arch == LB_ARCH_HUNYUAN_DENSE ? LB_QK_NORM_AFTER_ROPE : LB_QK_NORM_NONE;
    hp->qkv_bias = hp->arch == LB_ARCH_QWEN2;
    hp->tied_output = s.tied;
    rc = 0;
done:
    lb_train_config_free(cfg);
    return rc;
}

int lb_ckpt_read_meta(const lb_ckpt *c, lb_hparams *hp, char **vocab_source, lb_err *err) {
    if (vocab_source) *vocab_source = NULL;
    char *probe = NULL;
    lb_err ignore;
    const int have_hp = lb_ckpt_get_str(c, "hp.arch", &probe, &ignore) == 0;
    free(probe);
    if (have_hp) return read_hp_attrs(c, hp, vocab_source, err);
    if (read_hp_from_config(c, hp, err)) return -1;
    if (vocab_source) {
        *vocab_source = strdup("");
        if (!*vocab_source) return lb_fail(err, "%s: out of memory", c->path);
    }
    return 0;
}

// --- the model ---------------------------------------------------------------------------------

int lb_train_model_from_ckpt(lb_train_model *m, const char *path, lb_err *err) {
    memset(m, 0, sizeof *m);
    lb_ckpt c;
    if (lb_ckpt_open(&c, path, err)) return -1;
    lb_hparams hp;
    int rc = lb_ckpt_read_meta(&c, &hp, NULL, err);
    // the init fills every parameter, then each is overwritten by the checkpoint's master copy
    if (!rc) rc = lb_train_model_init(m, &hp, 0, err);
    char name[LB_GGUF_MAX_NAME + 16];
    for (size_t i = 0; !rc && i < m->n_table; i++) {
        const lb_train_param *p = &m->table[i];
        int64_t shape[LB_CKPT_MAX_DIMS];
        int nd = 1;
        if (p->n_dims == 2) { shape[0] = p->ne[1]; shape[1] = p->ne[0]; nd = 2; }
        else shape[0] = (int64_t)p->numel;
        snprintf(name, sizeof name, "weights/%s", p->name);
        if (!lb_ckpt_has(&c, name)) { rc = lb_fail(err, "%s: missing tensor '%s'", path, name); break; }
        rc = lb_ckpt_read(&c, name, nd, shape, m->params + p->offset, err);
    }
    lb_ckpt_close(&c);
    if (rc) lb_train_model_free(m);
    return rc;
}

// a lowbit checkpoint is HDF5: the file starts with \x89HDF\r\n\x1a\n
static int is_hdf5(const char *path) {
    unsigned char magic[8] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    const size_t got = fread(magic, 1, sizeof magic, f);
    fclose(f);
    return got == 8 && !memcmp(magic, "\x89HDF\r\n\x1a\n", 8);
}

int lb_train_model_load(lb_train_model *m, const char *path, const char *tokenizer, lb_err *err) {
    if (is_hdf5(path)) return lb_train_model_from_ckpt(m, path, err);
    lb_model src;
    memset(&src, 0, sizeof src);
    if (lb_model_load(&src, path, tokenizer, err)) return -1;
    const int rc = lb_train_model_from_model(m, &src, path, err);
    lb_model_free(&src);
    return rc;
}
