// model.c: the in-memory model description (model.h): loading dispatch, the GGUF source,
// ownership helpers, float32 materialization (with the llama q/k permutation) and the
// hyper-parameters + tensor-shape check that every consumer relies on.
#include "model.h"
#include "fp16.h"
#include "lb_types.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

// --- architectures ----------------------------------------------------------------

static const char *arch_names[LB_ARCH_COUNT] = {
    [LB_ARCH_LLAMA] = "llama",
    [LB_ARCH_QWEN2] = "qwen2",
    [LB_ARCH_QWEN3] = "qwen3",
    [LB_ARCH_HUNYUAN_DENSE] = "hunyuan-dense",
};

const char *lb_arch_name(lb_arch a) {
    return (unsigned)a < LB_ARCH_COUNT ? arch_names[a] : "unknown";
}

int lb_arch_from_name(const char *name) {
    if (!name) return -1;
    for (int a = 0; a < LB_ARCH_COUNT; a++)
        if (!strcmp(arch_names[a], name)) return a;
    return -1;
}

// --- ownership ----------------------------------------------------------------------

int lb_model_add_tensor(lb_model *m, const lb_tensor *t, lb_err *err) {
    if (lb_model_find(m, t->name)) return lb_fail(err, "%s: duplicate tensor '%s'", t->src[0] ? t->src : "model", t->name);
    // one realloc per tensor: models have at most a few thousand, and this stays correct
    // whoever allocated m->tensors before
    lb_tensor *v = realloc(m->tensors, (m->n_tensors + 1) * sizeof *v);
    if (!v) return lb_fail(err, "%s: out of memory", t->name);
    m->tensors = v;
    m->tensors[m->n_tensors++] = *t;
    return 0;
}

// On failure the caller keeps ownership of map/buf.
int lb_model_own_map(lb_model *m, void *map, size_t size, lb_err *err) {
    void **maps = realloc(m->maps, (m->n_maps + 1) * sizeof *maps);
    if (!maps) return lb_fail(err, "out of memory");
    m->maps = maps;
    size_t *sizes = realloc(m->map_sizes, (m->n_maps + 1) * sizeof *sizes);
    if (!sizes) return lb_fail(err, "out of memory");
    m->map_sizes = sizes;
    m->maps[m->n_maps] = map;
    m->map_sizes[m->n_maps] = size;
    m->n_maps++;
    return 0;
}

int lb_model_own_buf(lb_model *m, void *buf, lb_err *err) {
    void **bufs = realloc(m->bufs, (m->n_bufs + 1) * sizeof *bufs);
    if (!bufs) return lb_fail(err, "out of memory");
    m->bufs = bufs;
    m->bufs[m->n_bufs++] = buf;
    return 0;
}

void lb_model_free(lb_model *m) {
    if (!m) return;
    lb_kvs_free(&m->kv);
    free(m->tensors);
    for (size_t i = 0; i < m->n_maps; i++)
        if (m->maps[i] && m->maps[i] != MAP_FAILED) munmap(m->maps[i], m->map_sizes[i]);
    free(m->maps);
    free(m->map_sizes);
    for (size_t i = 0; i < m->n_bufs; i++) free(m->bufs[i]);
    free(m->bufs);
    if (m->gguf) { lb_gguf_close(m->gguf); free(m->gguf); }
    memset(m, 0, sizeof *m);
}

const lb_tensor *lb_model_find(const lb_model *m, const char *name) {
    for (size_t i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->tensors[i].name, name)) return &m->tensors[i];
    return NULL;
}

// --- sources ------------------------------------------------------------------------

// Deep copy of a store whose keys are known to be unique (a parsed GGUF): no per-key
// lookups, so a hostile file with a huge number of keys costs linear time.
static int copy_unique_kvs(lb_kvs *dst, const lb_kvs *src, const char *path, lb_err *err) {
    dst->v = calloc(src->n ? src->n : 1, sizeof *dst->v);
    if (!dst->v) return lb_fail(err, "%s: out of memory", path);
    dst->cap = src->n;
    for (size_t i = 0; i < src->n; i++) {
        const lb_kv *e = &src->v[i];
        uint32_t elem = e->type == LB_VT_ARR ? e->arr_type : e->type;
        size_t sz;
        if (elem == LB_VT_STR) {   // lb_str[n] then each string's bytes + NUL, one block
            const lb_str *s = e->data;
            sz = (size_t)e->n * sizeof(lb_str);
            for (uint64_t k = 0; k < e->n; k++) sz += (size_t)s[k].len + 1;
        } else {
            sz = (size_t)e->n * lb_vtype_size(elem);
        }
        lb_kv c = *e;
        c.key = strdup(e->key);
        c.data = malloc(sz ? sz : 1);
        if (!c.key || !c.data) { free(c.key); free(c.data); return lb_fail(err, "%s: out of memory", path); }
        if (elem == LB_VT_STR) {
            const lb_str *s = e->data;
            lb_str *d = c.data;
            char *bytes = (char *)c.data + (size_t)e->n * sizeof(lb_str);
            for (uint64_t k = 0; k < e->n; k++) {
                memcpy(bytes, s[k].ptr, s[k].len + 1);
                d[k] = (lb_str){ .len = s[k].len, .ptr = bytes };
                bytes += s[k].len + 1;
            }
        } else if (sz) {
            memcpy(c.data, e->data, sz);
        }
        dst->v[dst->n++] = c;
    }
    return 0;
}

int lb_model_from_gguf(lb_model *m, const char *path, lb_err *err) {
    memset(m, 0, sizeof *m);
    lb_gguf *g = calloc(1, sizeof *g);
    if (!g) return lb_fail(err, "%s: out of memory", path);
    if (lb_gguf_open(g, path, err)) { free(g); return -1; }
    m->gguf = g;
    if (copy_unique_kvs(&m->kv, &g->kv, path, err)) { lb_model_free(m); return -1; }
    // names are unique (the reader checked), so fill the array directly: linear time
    m->tensors = calloc(g->n_tensors ? g->n_tensors : 1, sizeof *m->tensors);
    if (!m->tensors) { lb_model_free(m); return lb_fail(err, "%s: out of memory", path); }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const lb_gguf_tensor *gt = &g->tensors[i];
        lb_tensor *t = &m->tensors[i];
        memcpy(t->name, gt->name, sizeof t->name);
        t->type = gt->type;
        t->n_dims = gt->n_dims;
        memcpy(t->ne, gt->ne, sizeof t->ne);
        t->data = gt->data;
        t->nbytes = gt->nbytes;
        snprintf(t->src, sizeof t->src, "%s:%s", path, gt->name);
    }
    m->n_tensors = (size_t)g->n_tensors;
    return 0;
}

int lb_model_load(lb_model *m, const char *path, const char *tokenizer_path, lb_err *err) {
    memset(m, 0, sizeof *m);
    struct stat st;
    if (stat(path, &st)) return lb_fail(err, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        char cfg[4096];
        snprintf(cfg, sizeof cfg, "%s/config.json", path);
        if (access(cfg, R_OK)) return lb_fail(err, "%s: directory has no config.json (expected a Hugging Face model)", path);
        return lb_model_from_hf(m, path, tokenizer_path, err);
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return lb_fail(err, "%s: %s", path, strerror(errno));
    char magic[4] = {0};
    ssize_t got = read(fd, magic, 4);
    close(fd);
    if (got == 4 && !memcmp(magic, LB_GGUF_MAGIC, 4)) return lb_model_from_gguf(m, path, err);
    return lb_model_from_llama2c(m, path, tokenizer_path, err);
}

// --- float32 materialization ------------------------------------------------------------

// LB_XFORM_PERMUTE_QK: output row h*hd + 2*i + j comes from input row h*hd + j*(hd/2) + i
// (convert_hf_to_gguf's LlamaModel.permute: reshape(H, 2, hd/2, in).swapaxes(1, 2)), which
// turns HF's half-split rotary layout into llama.cpp's adjacent pairs.
static int64_t permuted_source(int64_t r, int64_t hd) {
    int64_t h = r / hd, k = r % hd, i = k / 2, j = k % 2;
    return h * hd + j * (hd / 2) + i;
}

static int row_to_f32(const lb_tensor *t, const uint8_t *src, int64_t n, float *out, lb_err *err) {
    switch (t->type) {
    case LB_TYPE_F32: memcpy(out, src, (size_t)n * 4); return 0;
    default: {   // F16/BF16 too: the table's row conversions (F16C, AVX-512) are exact for every value
        // (tests/test_rtn_fast.c checks F16 against lb_fp16_to_f32 over all 65536 halves)
        const lb_type_traits *tt = lb_type_get(t->type);
        if (!tt || !tt->to_float)
            return lb_fail(err, "%s: cannot convert tensor of type %s to f32", t->src[0] ? t->src : t->name,
                           tt ? tt->name : "unknown");
        tt->to_float(src, out, n);
        return 0;
    }
    }
}

int lb_tensor_read_f32(const lb_tensor *t, int64_t row0, int64_t nrows, float *out, lb_err *err) {
    const char *what = t->src[0] ? t->src : t->name;
    int64_t ne0 = t->ne[0], rows = 1;
    for (int j = 1; j < LB_GGUF_MAX_DIMS; j++) {
        if (t->ne[j] < 0 || __builtin_mul_overflow(rows, t->ne[j], &rows)) return lb_fail(err, "%s: bad shape", what);
    }
    if (row0 < 0 || nrows < 0 || row0 > rows || nrows > rows - row0)
        return lb_fail(err, "%s: rows [%" PRId64 ", +%" PRId64 ") outside the tensor's %" PRId64 " rows", what, row0, nrows, rows);
    if (nrows == 0 || ne0 == 0) return 0;
    size_t rs = lb_row_size(t->type, ne0);
    if (!rs) return lb_fail(err, "%s: rows of %" PRId64 " values do not fit type %u", what, ne0, t->type);
    uint64_t need;
    if (__builtin_mul_overflow((uint64_t)rs, (uint64_t)rows, &need) || need > t->nbytes || !t->data)
        return lb_fail(err, "%s: %" PRIu64 " data bytes, shape needs %" PRIu64, what, t->nbytes, need);
    const uint8_t *base = t->data;

    if (t->xform == LB_XFORM_NONE) {
        for (int64_t r = 0; r < nrows; r++)
            if (row_to_f32(t, base + (size_t)(row0 + r) * rs, ne0, out + (size_t)r * ne0, err)) return -1;
        return 0;
    }
    if (t->xform != LB_XFORM_PERMUTE_QK) return lb_fail(err, "%s: unknown transform %d", what, (int)t->xform);

    int64_t H = t->xform_heads;
    if (rows == 1) {
        // a 1-D tensor (bias): the permuted axis is its only one
        int64_t out_dim = ne0;
        if (H <= 0 || out_dim % H || (out_dim / H) % 2)
            return lb_fail(err, "%s: %" PRId64 " values cannot be split into %" PRId64 " heads of even size", what, out_dim, H);
        float *tmp = malloc((size_t)ne0 * sizeof *tmp);
        if (!tmp) return lb_fail(err, "%s: out of memory", what);
        int rc = row_to_f32(t, base, ne0, tmp, err);
        for (int64_t r = 0; !rc && r < ne0; r++) out[r] = tmp[permuted_source(r, out_dim / H)];
        free(tmp);
        return rc;
    }
    if (H <= 0 || rows % H || (rows / H) % 2)
        return lb_fail(err, "%s: %" PRId64 " rows cannot be split into %" PRId64 " heads of even size", what, rows, H);
    int64_t hd = rows / H;
    for (int64_t r = 0; r < nrows; r++) {
        int64_t src = permuted_source(row0 + r, hd);
        if (row_to_f32(t, base + (size_t)src * rs, ne0, out + (size_t)r * ne0, err)) return -1;
    }
    return 0;
}

// --- hyper-parameters -----------------------------------------------------------------

static int get_int_key(const lb_model *m, const char *what, const char *arch, const char *suffix,
                       int required, int64_t dflt, int64_t lo, int64_t hi, int *out, lb_err *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    int64_t v = dflt;
    if (lb_kvs_get_int(&m->kv, key, &v)) {
        if (lb_kvs_find(&m->kv, key)) return lb_fail(err, "%s: key %s is not an integer", what, key);
        if (required) return lb_fail(err, "%s: missing key %s", what, key);
        v = dflt;
    }
    if (v < lo || v > hi) return lb_fail(err, "%s: %s = %" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]", what, key, v, lo, hi);
    *out = (int)v;
    return 0;
}

static int get_float_key(const lb_model *m, const char *what, const char *arch, const char *suffix,
                         int required, double dflt, float *out, lb_err *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    double v = dflt;
    if (lb_kvs_get_float(&m->kv, key, &v)) {
        if (lb_kvs_find(&m->kv, key)) return lb_fail(err, "%s: key %s is not a number", what, key);
        if (required) return lb_fail(err, "%s: missing key %s", what, key);
        v = dflt;
    }
    if (!(v > 0) || !isfinite(v) || v > 1e30) return lb_fail(err, "%s: %s = %g is not a positive finite number", what, key, v);
    *out = (float)v;
    return 0;
}

// Check that a tensor exists (unless optional) with exactly shape {ne0, ne1} (ne1 = 0: 1-D).
// Returns 1 if present and right, 0 if absent and optional, -1 with err otherwise.
static int expect_tensor(const lb_model *m, const char *what, const char *name, int64_t ne0, int64_t ne1,
                         int optional, lb_err *err) {
    const lb_tensor *t = lb_model_find(m, name);
    if (!t) return optional ? 0 : lb_fail(err, "%s: missing tensor '%s'", what, name);
    int64_t want[4] = { ne0, ne1 ? ne1 : 1, 1, 1 };
    int ok = 1;
    for (int j = 0; j < 4; j++) ok &= t->ne[j] == want[j];
    if (!ok) {
        char have[96], exp[48];
        int o = snprintf(have, sizeof have, "{%" PRId64, t->ne[0]);
        for (uint32_t j = 1; j < t->n_dims && j < 4; j++) o += snprintf(have + o, sizeof have - (size_t)o, ", %" PRId64, t->ne[j]);
        snprintf(have + o, sizeof have - (size_t)o, "}");
        if (ne1) snprintf(exp, sizeof exp, "{%" PRId64 ", %" PRId64 "}", ne0, ne1);
        else snprintf(exp, sizeof exp, "{%" PRId64 "}", ne0);
        return lb_fail(err, "%s: tensor '%s' has shape %s, expected %s", what, name, have, exp);
    }
    if (!lb_type_get(t->type)) return lb_fail(err, "%s: tensor '%s' has unknown type %u", what, name, t->type);
    return 1;
}

// llama.cpp refuses files with tensors it does not use ("wrong number of tensors"): name the
// first tensor that is not part of this architecture/shape. Returns -1 (err set) if found.
static int report_unexpected(const lb_model *m, const lb_hparams *hp, const char *what, const char *arch, lb_err *err) {
    static const char *always[] = {"attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight",
                                   "attn_output.weight", "ffn_norm.weight", "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight"};
    for (size_t i = 0; i < m->n_tensors; i++) {
        const char *nm = m->tensors[i].name;
        int l = -1, used = 0, end = 0;
        if (!strcmp(nm, "token_embd.weight") || !strcmp(nm, "output_norm.weight") ||
            !strcmp(nm, "output.weight") || !strcmp(nm, "rope_freqs.weight")) used = 1;
        else if (sscanf(nm, "blk.%d.%n", &l, &end) == 1 && end > 0 && l >= 0 && l < hp->n_layer) {
            const char *suffix = nm + end;
            char canon[LB_GGUF_MAX_NAME];   // reject "blk.01." style aliases
            snprintf(canon, sizeof canon, "blk.%d.", l);
            if (!strncmp(nm, canon, strlen(canon))) {
                for (size_t k = 0; k < sizeof always / sizeof always[0]; k++) used |= !strcmp(suffix, always[k]);
                if (hp->qk_norm) used |= !strcmp(suffix, "attn_q_norm.weight") || !strcmp(suffix, "attn_k_norm.weight");
                if (hp->qkv_bias) used |= !strcmp(suffix, "attn_q.bias") || !strcmp(suffix, "attn_k.bias") || !strcmp(suffix, "attn_v.bias");
            }
        }
        if (!used) return lb_fail(err, "%s: unexpected tensor '%s' for %s with %d layers (llama.cpp rejects unused tensors)", what, nm, arch, hp->n_layer);
    }
    return 0;
}

int lb_hparams_from_model(lb_hparams *hp, const lb_model *m, const char *what, lb_err *err) {
    memset(hp, 0, sizeof *hp);
    const char *arch = lb_kvs_get_str(&m->kv, "general.architecture");
    if (!arch) return lb_fail(err, "%s: missing key general.architecture (string)", what);
    int a = lb_arch_from_name(arch);
    if (a < 0) return lb_fail(err, "%s: unsupported architecture '%.64s' (llama, qwen2, qwen3, hunyuan-dense)", what, arch);
    hp->arch = (lb_arch)a;

    // limits: generous for real models, tight enough that products below cannot overflow int
    if (get_int_key(m, what, arch, "context_length", 1, 0, 1, 1 << 24, &hp->n_ctx_train, err) ||
        get_int_key(m, what, arch, "embedding_length", 1, 0, 1, 1 << 16, &hp->n_embd, err) ||
        get_int_key(m, what, arch, "block_count", 1, 0, 1, 4096, &hp->n_layer, err) ||
        get_int_key(m, what, arch, "feed_forward_length", 1, 0, 1, 1 << 18, &hp->n_ff, err) ||
        get_int_key(m, what, arch, "attention.head_count", 1, 0, 1, 4096, &hp->n_head, err) ||
        get_int_key(m, what, arch, "attention.head_count_kv", 0, hp->n_head, 1, hp->n_head, &hp->n_head_kv, err))
        return -1;
    if (hp->n_head % hp->n_head_kv)
        return lb_fail(err, "%s: %s.attention.head_count %d is not a multiple of head_count_kv %d", what, arch, hp->n_head, hp->n_head_kv);
    char key_length_key[128];
    snprintf(key_length_key, sizeof key_length_key, "%s.attention.key_length", arch);
    int has_key_length = lb_kvs_find(&m->kv, key_length_key) != NULL;
    if (!has_key_length && hp->n_embd % hp->n_head)
        return lb_fail(err, "%s: embedding_length %d is not a multiple of head_count %d (and no %s.attention.key_length)", what, hp->n_embd, hp->n_head, arch);
    if (get_int_key(m, what, arch, "attention.key_length", 0, hp->n_embd / hp->n_head, 2, 4096, &hp->head_dim, err)) return -1;
    if (hp->head_dim % 2) return lb_fail(err, "%s: head dimension %d is odd (RoPE needs pairs)", what, hp->head_dim);
    int value_length;
    if (get_int_key(m, what, arch, "attention.value_length", 0, hp->head_dim, 1, 4096, &value_length, err)) return -1;
    if (value_length != hp->head_dim)
        return lb_fail(err, "%s: %s.attention.value_length %d differs from key_length %d (not supported)", what, arch, value_length, hp->head_dim);
    if ((int64_t)hp->n_head * hp->head_dim > (1 << 20)) return lb_fail(err, "%s: head_count * head_dim is absurd", what);
    if (get_float_key(m, what, arch, "attention.layer_norm_rms_epsilon", 1, 0, &hp->norm_eps, err) ||
        get_float_key(m, what, arch, "rope.freq_base", 0, 10000.0, &hp->rope_base, err))
        return -1;

    hp->rope_style = hp->arch == LB_ARCH_LLAMA ? LB_ROPE_ADJACENT : LB_ROPE_NEOX;
    hp->qk_norm = hp->arch == LB_ARCH_QWEN3 ? LB_QK_NORM_BEFORE_ROPE
                : hp->arch == LB_ARCH_HUNYUAN_DENSE ? LB_QK_NORM_AFTER_ROPE : LB_QK_NORM_NONE;
    hp->qkv_bias = lb_model_find(m, "blk.0.attn_q.bias") != NULL;
    hp->tied_output = lb_model_find(m, "output.weight") == NULL;

    const lb_tensor *emb = lb_model_find(m, "token_embd.weight");
    if (!emb) return lb_fail(err, "%s: missing tensor 'token_embd.weight'", what);
    if (emb->ne[1] < 1 || emb->ne[1] > (1 << 24)) return lb_fail(err, "%s: token_embd.weight has %" PRId64 " rows (vocabulary size out of range)", what, emb->ne[1]);
    hp->n_vocab = (int)emb->ne[1];
    uint64_t n_tok;
    if (lb_kvs_get_str_arr(&m->kv, "tokenizer.ggml.tokens", &n_tok) && n_tok != (uint64_t)hp->n_vocab)
        return lb_fail(err, "%s: tokenizer.ggml.tokens has %" PRIu64 " tokens but token_embd.weight has %d rows", what, n_tok, hp->n_vocab);

    // --- every tensor llama.cpp will look for, with its shape
    const int64_t E = hp->n_embd, V = hp->n_vocab, F = hp->n_ff;
    const int64_t Q = (int64_t)hp->n_head * hp->head_dim, KV = (int64_t)hp->n_head_kv * hp->head_dim;
    size_t per_layer = 9 + (hp->qk_norm ? 2 : 0) + (hp->qkv_bias ? 3 : 0);
    size_t expected = 2 + (hp->tied_output ? 0 : 1) + (lb_model_find(m, "rope_freqs.weight") ? 1 : 0) +
                      (size_t)hp->n_layer * per_layer;
    // more tensors than llama.cpp uses: name the first stray one (checked first so a file with
    // a huge tensor count costs one linear scan, not a lookup per expected name)
    if (m->n_tensors > expected && report_unexpected(m, hp, what, arch, err)) return -1;
    int r;
    if (expect_tensor(m, what, "token_embd.weight", E, V, 0, err) < 0) return -1;
    if (expect_tensor(m, what, "output_norm.weight", E, 0, 0, err) < 0) return -1;
    if ((r = expect_tensor(m, what, "output.weight", E, V, 1, err)) < 0) return -1;
    if ((r = expect_tensor(m, what, "rope_freqs.weight", hp->head_dim / 2, 0, 1, err)) < 0) return -1;
    for (int l = 0; l < hp->n_layer; l++) {
        struct { const char *suffix; int64_t ne0, ne1; int on; } want[] = {
            {"attn_norm.weight", E, 0, 1},
            {"attn_q.weight", E, Q, 1},
            {"attn_k.weight", E, KV, 1},
            {"attn_v.weight", E, KV, 1},
            {"attn_output.weight", Q, E, 1},
            {"ffn_norm.weight", E, 0, 1},
            {"ffn_gate.weight", E, F, 1},
            {"ffn_up.weight", E, F, 1},
            {"ffn_down.weight", F, E, 1},
            {"attn_q_norm.weight", hp->head_dim, 0, hp->qk_norm != LB_QK_NORM_NONE},
            {"attn_k_norm.weight", hp->head_dim, 0, hp->qk_norm != LB_QK_NORM_NONE},
            {"attn_q.bias", Q, 0, hp->qkv_bias},
            {"attn_k.bias", KV, 0, hp->qkv_bias},
            {"attn_v.bias", KV, 0, hp->qkv_bias},
        };
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
            if (!want[i].on) continue;
            char name[LB_GGUF_MAX_NAME];
            snprintf(name, sizeof name, "blk.%d.%s", l, want[i].suffix);
            if (expect_tensor(m, what, name, want[i].ne0, want[i].ne1, 0, err) < 0) return -1;
        }
    }
    // every expected tensor exists; any surplus is a stray (duplicates cannot happen)
    if (m->n_tensors != expected && report_unexpected(m, hp, what, arch, err)) return -1;
    if (m->n_tensors != expected) return lb_fail(err, "%s: %zu tensors, expected %zu", what, m->n_tensors, expected);
    return 0;
}
