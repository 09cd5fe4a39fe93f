// hf.c: Hugging Face checkpoint directory -> lb_model (config.json + safetensors + tokenizer.json).
// Metadata keys and value types follow what llama.cpp's convert_hf_to_gguf.py writes and what
// its loader insists on (u32 counts, f32 epsilon and rope base: a wrong scalar type is an error
// there). Tensor data stays in the safetensors mappings; llama q/k get LB_XFORM_PERMUTE_QK.
#include "hf.h"
#include "safetensors.h"
#include "lb_types.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

// --- files ----------------------------------------------------------------------------

char *lb_read_file_text(const char *path, size_t max_bytes, size_t *len, lb_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) { lb_fail(err, "%s: %s", path, strerror(errno)); return NULL; }
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        lb_fail(err, "%s: not a regular file", path);
        return NULL;
    }
    if ((uint64_t)sb.st_size > max_bytes) {
        fclose(f);
        lb_fail(err, "%s: %lld bytes is too large (max %zu)", path, (long long)sb.st_size, max_bytes);
        return NULL;
    }
    size_t n = (size_t)sb.st_size;
    char *buf = malloc(n + 1);
    if (!buf) { fclose(f); lb_fail(err, "%s: out of memory", path); return NULL; }
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    if (got != n) { free(buf); lb_fail(err, "%s: short read (%zu of %zu bytes)", path, got, n); return NULL; }
    buf[n] = 0;
    *len = n;
    return buf;
}

// --- config.json ----------------------------------------------------------------------

typedef struct { const char *hf_arch, *model_type; lb_arch arch; double eps_default; } arch_entry;
static const arch_entry g_arches[] = {
    {"LlamaForCausalLM",          "llama",            LB_ARCH_LLAMA,         1e-6},
    {"Qwen2ForCausalLM",          "qwen2",            LB_ARCH_QWEN2,         1e-6},
    {"Qwen3ForCausalLM",          "qwen3",            LB_ARCH_QWEN3,         1e-6},
    {"HunYuanDenseV1ForCausalLM", "hunyuan_v1_dense", LB_ARCH_HUNYUAN_DENSE, 1e-5},
};

// An integer config value in [lo, hi]. Returns 1 found, 0 absent (or JSON null), -1 bad.
static int cfg_int(const cJSON *root, const char *key, int64_t lo, int64_t hi, int64_t *out, const char *what,
                   lb_err *err) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!j || cJSON_IsNull(j)) return 0;
    double d = cJSON_IsNumber(j) ? j->valuedouble : NAN;
    if (!cJSON_IsNumber(j) || d != floor(d)) return lb_fail(err, "%s: \"%s\" must be an integer", what, key);
    if (d < (double)lo || d > (double)hi)
        return lb_fail(err, "%s: \"%s\" = %.17g out of range [%lld, %lld]", what, key, d, (long long)lo, (long long)hi);
    *out = (int64_t)d;
    return 1;
}

static int cfg_int_req(const cJSON *root, const char *key, int64_t lo, int64_t hi, int64_t *out, const char *what,
                       lb_err *err) {
    int r = cfg_int(root, key, lo, hi, out, what, err);
    if (r == 0) return lb_fail(err, "%s: missing \"%s\"", what, key);
    return r < 0 ? -1 : 0;
}

// A positive finite float. 1 found, 0 absent, -1 bad.
static int cfg_pos_float(const cJSON *obj, const char *key, double hi, double *out, const char *what, lb_err *err) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!j || cJSON_IsNull(j)) return 0;
    if (!cJSON_IsNumber(j) || !(j->valuedouble > 0.0) || !(j->valuedouble <= hi))
        return lb_fail(err, "%s: \"%s\" must be a number in (0, %g]", what, key, hi);
    *out = j->valuedouble;
    return 1;
}

// A special token id: an integer, or a list of integers (the first is used). -1 when absent.
static int cfg_token_id(const cJSON *root, const char *key, int64_t *out, const char *what, lb_err *err) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
    if (cJSON_IsArray(j)) j = j->child;
    if (!j || cJSON_IsNull(j)) return 0;
    if (!cJSON_IsNumber(j) || j->valuedouble != floor(j->valuedouble) || j->valuedouble < 0 || j->valuedouble > 2e9)
        return lb_fail(err, "%s: \"%s\" must be a non-negative integer", what, key);
    *out = (int64_t)j->valuedouble;
    return 0;
}

static int pick_arch(const cJSON *root, const char *what, const arch_entry **out, lb_err *err) {
    const cJSON *archs = cJSON_GetObjectItemCaseSensitive(root, "architectures");
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
    const char *name = NULL;
    if (cJSON_IsArray(archs) && cJSON_IsString(archs->child)) name = archs->child->valuestring;
    for (size_t i = 0; i < sizeof g_arches / sizeof g_arches[0]; i++) {
        if (name ? !strcmp(name, g_arches[i].hf_arch)
                 : (cJSON_IsString(mt) && !strcmp(mt->valuestring, g_arches[i].model_type))) {
            *out = &g_arches[i];
            return 0;
        }
    }
    if (name) return lb_fail(err, "%s: architecture \"%.100s\" not supported (LlamaForCausalLM, Qwen2ForCausalLM, "
                             "Qwen3ForCausalLM, HunYuanDenseV1ForCausalLM)", what, name);
    return lb_fail(err, "%s: no \"architectures\" list or supported \"model_type\"", what);
}

// rope.freq_base, including Hunyuan's NTK-alpha scaling ("dynamic" rope_scaling), which
// convert_hf_to_gguf folds into the base: theta * alpha^(hd / (hd - 2)).
static int parse_rope(lb_hf_config *cfg, const cJSON *root, const char *what, lb_err *err) {
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(root, "rope_parameters");
    if (!rp || cJSON_IsNull(rp)) rp = cJSON_GetObjectItemCaseSensitive(root, "rope_scaling");
    if (rp && !cJSON_IsNull(rp) && !cJSON_IsObject(rp)) return lb_fail(err, "%s: \"rope_scaling\" must be an object", what);
    if (rp && cJSON_IsNull(rp)) rp = NULL;
    double theta = 10000.0;
    int r = cfg_pos_float(root, "rope_theta", 1e12, &theta, what, err);
    if (r < 0) return -1;
    if (rp && cfg_pos_float(rp, "rope_theta", 1e12, &theta, what, err) < 0) return -1;
    const char *type = NULL;
    if (rp) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(rp, "rope_type");
        if (!cJSON_IsString(t)) t = cJSON_GetObjectItemCaseSensitive(rp, "type");
        if (cJSON_IsString(t)) type = t->valuestring;
    }
    cfg->rope_base = theta;
    if (!type || !strcmp(type, "default")) return 0;
    if (cfg->arch == LB_ARCH_HUNYUAN_DENSE && !strcmp(type, "dynamic")) {
        double alpha = 50.0;   // hunyuan.py's default for the dense models
        if (cfg_pos_float(rp, "alpha", 1e9, &alpha, what, err) < 0) return -1;
        double hd = (double)cfg->head_dim;
        cfg->rope_base = theta * pow(alpha, hd / (hd - 2.0));
        if (!isfinite(cfg->rope_base) || cfg->rope_base > 3.0e38) return lb_fail(err, "%s: scaled rope base overflows", what);
        return 0;
    }
    return lb_fail(err, "%s: rope scaling type \"%.40s\" not supported", what, type);
}

int lb_hf_parse_config(lb_hf_config *cfg, lb_kvs *kv, const char *json, size_t len, const char *name,
                       const char *what, lb_err *err) {
    memset(cfg, 0, sizeof *cfg);
    cfg->bos_id = cfg->eos_id = cfg->pad_id = cfg->unk_id = cfg->eod_id = -1;
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) return lb_fail(err, "%s: not valid JSON", what);
    int rc = -1;
    const arch_entry *ae = NULL;
    if (!cJSON_IsObject(root)) { lb_fail(err, "%s: not a JSON object", what); goto done; }
    if (pick_arch(root, what, &ae, err)) goto done;
    cfg->arch = ae->arch;
    if (cfg_int_req(root, "vocab_size", 1, 1 << 24, &cfg->n_vocab, what, err) ||
        cfg_int_req(root, "hidden_size", 1, 1 << 20, &cfg->n_embd, what, err) ||
        cfg_int_req(root, "num_hidden_layers", 1, 4096, &cfg->n_layer, what, err) ||
        cfg_int_req(root, "intermediate_size", 1, 1 << 22, &cfg->n_ff, what, err) ||
        cfg_int_req(root, "num_attention_heads", 1, 4096, &cfg->n_head, what, err) ||
        cfg_int_req(root, "max_position_embeddings", 1, 1 << 24, &cfg->n_ctx, what, err))
        goto done;
    int r = cfg_int(root, "num_key_value_heads", 1, 4096, &cfg->n_head_kv, what, err);
    if (r < 0) goto done;
    if (r == 0) cfg->n_head_kv = cfg->n_head;
    r = cfg_int(root, "head_dim", 2, 1 << 16, &cfg->head_dim, what, err);
    if (r < 0) goto done;
    cfg->head_dim_given = r;
    if (!r) {
        if (cfg->n_embd % cfg->n_head) { lb_fail(err, "%s: hidden_size %lld not divisible by num_attention_heads %lld", what, (long long)cfg->n_embd, (long long)cfg->n_head); goto done; }
        cfg->head_dim = cfg->n_embd / cfg->n_head;
    }
    if (cfg->n_head % cfg->n_head_kv) { lb_fail(err, "%s: num_attention_heads %lld not divisible by num_key_value_heads %lld", what, (long long)cfg->n_head, (long long)cfg->n_head_kv); goto done; }
    if (cfg->head_dim % 2 || cfg->head_dim < 4) { lb_fail(err, "%s: head dimension %lld must be even and >= 4 (RoPE rotates pairs)", what, (long long)cfg->head_dim); goto done; }
    if (cfg->head_dim * cfg->n_head > (1 << 22)) { lb_fail(err, "%s: head_dim x num_attention_heads is absurd", what); goto done; }
    cfg->norm_eps = ae->eps_default;
    if (cfg_pos_float(root, "rms_norm_eps", 1.0, &cfg->norm_eps, what, err) < 0) goto done;
    if (parse_rope(cfg, root, what, err)) goto done;
    const cJSON *tie = cJSON_GetObjectItemCaseSensitive(root, "tie_word_embeddings");
    if (tie && !cJSON_IsBool(tie) && !cJSON_IsNull(tie)) { lb_fail(err, "%s: \"tie_word_embeddings\" must be true or false", what); goto done; }
    cfg->tie_embeddings = cJSON_IsTrue(tie);
    if (cfg_token_id(root, "bos_token_id", &cfg->bos_id, what, err) ||
        cfg_token_id(root, "eos_token_id", &cfg->eos_id, what, err) ||
        cfg_token_id(root, "pad_token_id", &cfg->pad_id, what, err) ||
        cfg_token_id(root, "unk_token_id", &cfg->unk_id, what, err))
        goto done;
    if (cfg->arch == LB_ARCH_HUNYUAN_DENSE && cfg_token_id(root, "eod_token_id", &cfg->eod_id, what, err)) goto done;
    {
        const int64_t ids[] = {cfg->bos_id, cfg->eos_id, cfg->pad_id, cfg->unk_id, cfg->eod_id};
        static const char *names[] = {"bos_token_id", "eos_token_id", "pad_token_id", "unk_token_id", "eod_token_id"};
        for (int i = 0; i < 5; i++)
            if (ids[i] >= cfg->n_vocab) { lb_fail(err, "%s: \"%s\" = %lld >= vocab_size %lld", what, names[i], (long long)ids[i], (long long)cfg->n_vocab); goto done; }
    }

    // --- metadata, in the order convert_hf_to_gguf writes it ---
    const char *a = lb_arch_name(cfg->arch);
    char key[128];
#define KEY(suffix) (snprintf(key, sizeof key, "%s." suffix, a), key)
    if (lb_kvs_set_str(kv, "general.architecture", a, err) ||
        lb_kvs_set_str(kv, "general.name", name && *name ? name : a, err) ||
        lb_kvs_set_u32(kv, KEY("block_count"), (uint32_t)cfg->n_layer, err) ||
        lb_kvs_set_u32(kv, KEY("context_length"), (uint32_t)cfg->n_ctx, err) ||
        lb_kvs_set_u32(kv, KEY("embedding_length"), (uint32_t)cfg->n_embd, err) ||
        lb_kvs_set_u32(kv, KEY("feed_forward_length"), (uint32_t)cfg->n_ff, err) ||
        lb_kvs_set_u32(kv, KEY("attention.head_count"), (uint32_t)cfg->n_head, err) ||
        lb_kvs_set_u32(kv, KEY("attention.head_count_kv"), (uint32_t)cfg->n_head_kv, err) ||
        lb_kvs_set_f32(kv, KEY("rope.freq_base"), (float)cfg->rope_base, err) ||
        lb_kvs_set_f32(kv, KEY("attention.layer_norm_rms_epsilon"), (float)cfg->norm_eps, err))
        goto done;
    if (cfg->head_dim_given || cfg->head_dim * cfg->n_head != cfg->n_embd) {
        if (lb_kvs_set_u32(kv, KEY("attention.key_length"), (uint32_t)cfg->head_dim, err) ||
            lb_kvs_set_u32(kv, KEY("attention.value_length"), (uint32_t)cfg->head_dim, err))
            goto done;
    }
    if (cfg->arch == LB_ARCH_LLAMA) {   // LlamaModel.set_gguf_parameters adds these two
        if (lb_kvs_set_u32(kv, KEY("vocab_size"), (uint32_t)cfg->n_vocab, err) ||
            lb_kvs_set_u32(kv, KEY("rope.dimension_count"), (uint32_t)cfg->head_dim, err))
            goto done;
    }
#undef KEY
    rc = 0;
done:
    cJSON_Delete(root);
    return rc;
}

// --- tensor names ---------------------------------------------------------------------

typedef struct { const char *hf, *gguf; int permute; } layer_map;   // permute: 1 = q heads, 2 = kv heads
static const layer_map g_layer_map[] = {
    {"input_layernorm.weight",          "attn_norm.weight",   0},
    {"self_attn.q_proj.weight",         "attn_q.weight",      1},
    {"self_attn.q_proj.bias",           "attn_q.bias",        1},
    {"self_attn.k_proj.weight",         "attn_k.weight",      2},
    {"self_attn.k_proj.bias",           "attn_k.bias",        2},
    {"self_attn.v_proj.weight",         "attn_v.weight",      0},
    {"self_attn.v_proj.bias",           "attn_v.bias",        0},
    {"self_attn.o_proj.weight",         "attn_output.weight", 0},
    {"self_attn.o_proj.bias",           "attn_output.bias",   0},
    {"self_attn.q_norm.weight",         "attn_q_norm.weight", 0},   // qwen3
    {"self_attn.k_norm.weight",         "attn_k_norm.weight", 0},
    {"self_attn.query_layernorm.weight", "attn_q_norm.weight", 0},  // hunyuan-dense
    {"self_attn.key_layernorm.weight",  "attn_k_norm.weight", 0},
    {"post_attention_layernorm.weight", "ffn_norm.weight",    0},
    {"mlp.gate_proj.weight",            "ffn_gate.weight",    0},
    {"mlp.up_proj.weight",              "ffn_up.weight",      0},
    {"mlp.down_proj.weight",            "ffn_down.weight",    0},
};
#define N_LAYER_MAP (sizeof g_layer_map / sizeof g_layer_map[0])

// Also returns an ordering key through *order (token_embd, blocks in canonical order, norms, output).
static int map_name(const lb_hf_config *cfg, const char *hf, char *out, size_t cap, lb_xform *xf, int *heads,
                    int64_t *order) {
    *xf = LB_XFORM_NONE;
    *heads = 0;
    const int64_t last = (cfg->n_layer + 1) * (int64_t)N_LAYER_MAP;
    if (!strcmp(hf, "model.embed_tokens.weight")) { snprintf(out, cap, "token_embd.weight"); *order = -1; return 1; }
    if (!strcmp(hf, "model.norm.weight")) { snprintf(out, cap, "output_norm.weight"); *order = last; return 1; }
    if (!strcmp(hf, "lm_head.weight")) {
        if (cfg->tie_embeddings) return 0;   // convert_hf_to_gguf skips the tied copy too
        snprintf(out, cap, "output.weight");
        *order = last + 1;
        return 1;
    }
    const char *p = "model.layers.";
    if (strncmp(hf, p, strlen(p))) return -1;
    const char *s = hf + strlen(p);
    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] != '.')) return -1;
    int64_t layer = 0;
    while (*s >= '0' && *s <= '9') {
        layer = layer * 10 + (*s++ - '0');
        if (layer >= cfg->n_layer) return -1;
    }
    if (*s++ != '.') return -1;
    if (!strcmp(s, "self_attn.rotary_emb.inv_freq")) return 0;   // recomputed from rope.freq_base
    for (size_t i = 0; i < N_LAYER_MAP; i++) {
        if (strcmp(s, g_layer_map[i].hf)) continue;
        snprintf(out, cap, "blk.%lld.%s", (long long)layer, g_layer_map[i].gguf);
        *order = layer * (int64_t)N_LAYER_MAP + (int64_t)i;
        if (cfg->arch == LB_ARCH_LLAMA && g_layer_map[i].permute) {   // HF halves -> GGUF adjacent pairs
            *xf = LB_XFORM_PERMUTE_QK;
            *heads = (int)(g_layer_map[i].permute == 1 ? cfg->n_head : cfg->n_head_kv);
        }
        return 1;
    }
    return -1;
}

int lb_hf_map_tensor_name(const lb_hf_config *cfg, const char *hf_name, char *gguf_name, size_t cap,
                          lb_xform *xform, int *xform_heads) {
    int64_t order;
    return map_name(cfg, hf_name, gguf_name, cap, xform, xform_heads, &order);
}

// --- the model ------------------------------------------------------------------------

typedef struct { lb_tensor t; int64_t order; } pending;
static int cmp_pending(const void *a, const void *b) {
    int64_t x = ((const pending *)a)->order, y = ((const pending *)b)->order;
    return (x > y) - (x < y);
}

static int add_tensors(lb_model *m, const lb_hf_config *cfg, lb_safetensors *st, lb_err *err) {
    pending *list = calloc(st->n_tensors ? st->n_tensors : 1, sizeof *list);
    if (!list) return lb_fail(err, "out of memory");
    size_t n = 0;
    int rc = -1;
    for (size_t i = 0; i < st->n_tensors; i++) {
        const lb_st_tensor *s = &st->tensors[i];
        pending *p = &list[n];
        const char *shard = strrchr(st->shards[s->shard].path, '/');
        shard = shard ? shard + 1 : st->shards[s->shard].path;
        snprintf(p->t.src, sizeof p->t.src, "%s:%s", shard, s->name);
        int r = map_name(cfg, s->name, p->t.name, sizeof p->t.name, &p->t.xform, &p->t.xform_heads, &p->order);
        if (r < 0) { lb_fail(err, "%s: unknown tensor '%.200s' for %s", st->shards[s->shard].path, s->name, lb_arch_name(cfg->arch)); goto done; }
        if (r == 0) continue;
        if (s->n_dims < 1 || s->n_dims > 2 || s->numel == 0) {
            lb_fail(err, "%s: tensor '%.200s' has %u dims / %lld values (want a non-empty vector or matrix)",
                    st->shards[s->shard].path, s->name, s->n_dims, (long long)s->numel);
            goto done;
        }
        p->t.type = s->type;
        p->t.n_dims = s->n_dims;
        for (int d = 0; d < LB_GGUF_MAX_DIMS; d++) p->t.ne[d] = 1;
        for (uint32_t d = 0; d < s->n_dims; d++) p->t.ne[d] = s->shape[s->n_dims - 1 - d];   // [out,in] -> {in,out}
        p->t.data = s->data;
        p->t.nbytes = s->nbytes;
        n++;
    }
    qsort(list, n, sizeof *list, cmp_pending);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && !strcmp(list[i].t.name, list[i - 1].t.name)) {
            lb_fail(err, "%s: both %s and %s map to %s", st->shards[0].path, list[i - 1].t.src, list[i].t.src, list[i].t.name);
            goto done;
        }
        if (lb_model_add_tensor(m, &list[i].t, err)) goto done;
    }
    rc = 0;
done:
    free(list);
    return rc;
}

// general.file_type from the dominant 2-D source type (llama.cpp LLAMA_FTYPE numbering)
static uint32_t source_file_type(const lb_model *m) {
    size_t count[3] = {0, 0, 0};
    for (size_t i = 0; i < m->n_tensors; i++) {
        if (m->tensors[i].n_dims != 2) continue;
        count[m->tensors[i].type == LB_TYPE_F16 ? 1 : m->tensors[i].type == LB_TYPE_BF16 ? 2 : 0]++;
    }
    if (count[1] >= count[0] && count[1] >= count[2] && count[1]) return 1;
    if (count[2] >= count[0] && count[2]) return 32;
    return 0;
}

static char *load_json_file(const char *dir, const char *file, size_t *len, lb_err *err) {
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, file) >= sizeof path) { lb_fail(err, "%s: path too long", dir); return NULL; }
    return lb_read_file_text(path, LB_HF_MAX_JSON, len, err);
}

int lb_model_from_hf(lb_model *m, const char *dir, const char *tokenizer_json, lb_err *err) {
    memset(m, 0, sizeof *m);
    lb_kvs_init(&m->kv);
    lb_safetensors st = {0};
    char *config = NULL, *tok = NULL, *tok_cfg = NULL;
    size_t config_len, tok_len, tok_cfg_len = 0;
    char what[4200];
    // general.name: the directory's base name (trailing slashes ignored)
    char name[256];
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/') dl--;
    size_t b = dl;
    while (b > 0 && dir[b - 1] != '/') b--;
    snprintf(name, sizeof name, "%.*s", (int)(dl - b), dir + b);

    lb_hf_config cfg;
    snprintf(what, sizeof what, "%s/config.json", dir);
    if (!(config = load_json_file(dir, "config.json", &config_len, err))) goto fail;
    if (lb_hf_parse_config(&cfg, &m->kv, config, config_len, name, what, err)) goto fail;

    if (tokenizer_json) {
        snprintf(what, sizeof what, "%s", tokenizer_json);
        tok = lb_read_file_text(tokenizer_json, LB_HF_MAX_JSON, &tok_len, err);
    } else {
        snprintf(what, sizeof what, "%s/tokenizer.json", dir);
        tok = load_json_file(dir, "tokenizer.json", &tok_len, err);
    }
    if (!tok) goto fail;
    {   // tokenizer_config.json is optional; when present it must be readable
        char cpath[4096];
        struct stat sb;
        snprintf(cpath, sizeof cpath, "%s/tokenizer_config.json", dir);
        if (stat(cpath, &sb) == 0 && !(tok_cfg = lb_read_file_text(cpath, LB_HF_MAX_JSON, &tok_cfg_len, err))) goto fail;
    }
    if (lb_hf_parse_tokenizer(&m->kv, &cfg, tok, tok_len, tok_cfg, tok_cfg_len, what, err)) goto fail;

    if (lb_st_open_dir(&st, dir, err)) goto fail;
    if (add_tensors(m, &cfg, &st, err)) goto fail;
    for (uint32_t i = 0; i < st.n_shards; i++) {   // the model now owns the mappings
        if (lb_model_own_map(m, st.shards[i].map, st.shards[i].size, err)) goto fail;
        st.shards[i].map = NULL;
    }
    if (lb_kvs_set_u32(&m->kv, "general.file_type", source_file_type(m), err)) goto fail;
    lb_st_close(&st);
    free(config); free(tok); free(tok_cfg);
    return 0;
fail:
    lb_st_close(&st);
    free(config); free(tok); free(tok_cfg);
    lb_model_free(m);
    return -1;
}
