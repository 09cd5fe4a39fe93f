// tokenizer.c: builds a tokenizer from GGUF tokenizer.* metadata the way llama.cpp v0.5.0's
// llama_vocab::load does (defaults, token attributes, special-token detection), splits input
// around special tokens (tokenizer_st_partition) and hands raw text to the SPM or BPE
// algorithm; also turns ids back into text (token_to_piece, detokenize).
#define _GNU_SOURCE   // memmem
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "tokenizer_internal.h"

// --- hash map --------------------------------------------------------------------------------
static uint64_t fnv1a(uint64_t h, const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
#define FNV_SEED 0xcbf29ce484222325ULL

int build_tok_map(tok_map *m, size_t n_keys) {
    size_t cap = 16;
    while (cap < 2 * n_keys + 1) cap *= 2;
    m->slots = calloc(cap, sizeof *m->slots);
    m->cap = m->slots ? cap : 0;
    m->n = 0;
    return m->slots ? 0 : -1;
}

void free_tok_map(tok_map *m) {
    free(m->slots);
    memset(m, 0, sizeof *m);
}

// The caller sized the map for all its keys, so a free slot always exists.
void tok_map_put(tok_map *m, const char *key, uint32_t len, int32_t value, int replace) {
    uint64_t h = fnv1a(FNV_SEED, key, len);
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        tok_slot *s = &m->slots[i];
        if (!s->key) {
            *s = (tok_slot){key, len, value, h};
            m->n++;
            return;
        }
        if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0) {
            if (replace) s->value = value;
            return;
        }
    }
}

int32_t tok_map_get(const tok_map *m, const char *key, size_t len) {
    if (!m->cap) return -1;
    uint64_t h = fnv1a(FNV_SEED, key, len);
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        const tok_slot *s = &m->slots[i];
        if (!s->key) return -1;
        if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0) return s->value;
    }
}

int32_t tok_map_get_pair(const tok_map *m, const char *a, size_t alen, const char *b, size_t blen) {
    if (!m->cap) return -1;
    uint64_t h = fnv1a(fnv1a(fnv1a(FNV_SEED, a, alen), " ", 1), b, blen);
    size_t len = alen + 1 + blen;
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        const tok_slot *s = &m->slots[i];
        if (!s->key) return -1;
        if (s->hash == h && s->len == len && memcmp(s->key, a, alen) == 0 && s->key[alen] == ' ' &&
            memcmp(s->key + alen + 1, b, blen) == 0)
            return s->value;
    }
}

void tok_ids_push(tok_ids *o, int32_t id) {
    if (o->oom) return;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 256;
        int32_t *v = realloc(o->v, cap * sizeof *v);
        if (!v) { o->oom = 1; return; }
        o->v = v;
        o->cap = cap;
    }
    o->v[o->n++] = id;
}

// --- metadata access -------------------------------------------------------------------------
static const lb_kv *find_typed(const lb_kvs *kv, const char *key, uint32_t type, uint32_t arr_type) {
    const lb_kv *e = lb_kvs_find(kv, key);
    if (!e || e->type != type || (type == LB_VT_ARR && e->arr_type != arr_type)) return NULL;
    return e;
}

// Token id keys: llama.cpp reads them as u32; we accept any integer type.
static void read_id(const lb_kvs *kv, const char *key, int32_t n_vocab, int32_t *id) {
    if (*id >= n_vocab) *id = -1;   // a default that does not exist in this vocab
    int64_t v;
    if (lb_kvs_get_int(kv, key, &v) == 0 && v >= 0 && v < n_vocab) *id = (int32_t)v;
}

static void read_bool(const lb_kvs *kv, const char *key, int *out) {
    const lb_kv *e = find_typed(kv, key, LB_VT_BOOL, 0);
    if (e && e->n == 1) *out = *(const uint8_t *)e->data != 0;
}

// tokenizer.ggml.pre -> regex family and the flags llama.cpp ties to it
typedef struct pre_entry {
    const char *name;
    enum lb_pretok kind;
    int clean_spaces, ignore_merges, add_bos, no_bos;
} pre_entry;

static const pre_entry PRE_TABLE[] = {
    {"default", LB_PRETOK_DEFAULT, 1, 0, 0, 0},
    {"llama3", LB_PRETOK_LLAMA3, 1, 1, 1, 0}, {"llama-v3", LB_PRETOK_LLAMA3, 1, 1, 1, 0},
    {"llama-bpe", LB_PRETOK_LLAMA3, 1, 1, 1, 0}, {"falcon3", LB_PRETOK_LLAMA3, 1, 1, 1, 0},
    {"falcon-h1", LB_PRETOK_LLAMA3, 1, 1, 1, 0}, {"pixtral", LB_PRETOK_LLAMA3, 1, 1, 1, 0},
    {"midm-2.0", LB_PRETOK_LLAMA3, 1, 1, 1, 0}, {"lfm2", LB_PRETOK_LLAMA3, 1, 1, 1, 0},
    {"jina-v5-nano", LB_PRETOK_LLAMA3, 1, 1, 1, 0},
    {"dbrx", LB_PRETOK_LLAMA3, 1, 0, 0, 0}, {"smaug-bpe", LB_PRETOK_LLAMA3, 1, 0, 0, 0},
    {"glm4", LB_PRETOK_LLAMA3, 1, 0, 0, 1}, {"chatglm-bpe", LB_PRETOK_LLAMA3, 1, 0, 0, 1},
    {"qwen2", LB_PRETOK_QWEN2, 0, 0, 0, 0}, {"deepseek-r1-qwen", LB_PRETOK_QWEN2, 0, 0, 0, 0},
    {"kormo", LB_PRETOK_QWEN2, 0, 0, 0, 0}, {"f2llmv2", LB_PRETOK_QWEN2, 0, 0, 0, 0},
    {"megrez", LB_PRETOK_QWEN2, 1, 0, 0, 0}, {"stablelm2", LB_PRETOK_QWEN2, 1, 0, 0, 0},
    {"hunyuan", LB_PRETOK_QWEN2, 0, 0, 0, 0}, {"solar-open", LB_PRETOK_QWEN2, 0, 0, 0, 0},
    {"grok-2", LB_PRETOK_QWEN2, 0, 0, 0, 0},
    {"hunyuan-dense", LB_PRETOK_DEEPSEEK3, 0, 0, 0, 0}, {"deepseek-v3", LB_PRETOK_DEEPSEEK3, 0, 0, 0, 0},
    {"joyai-llm", LB_PRETOK_DEEPSEEK3, 0, 0, 0, 0}, {"hy_v4", LB_PRETOK_DEEPSEEK3, 0, 0, 0, 0},
    {"gpt-2", LB_PRETOK_GPT2, 1, 0, 0, 0}, {"phi-2", LB_PRETOK_GPT2, 1, 0, 0, 0},
    {"jina-es", LB_PRETOK_GPT2, 1, 0, 0, 0}, {"jina-de", LB_PRETOK_GPT2, 1, 0, 0, 0},
    {"gigachat", LB_PRETOK_GPT2, 1, 0, 0, 0}, {"jina-v2-es", LB_PRETOK_GPT2, 1, 0, 0, 0},
    {"jina-v2-de", LB_PRETOK_GPT2, 1, 0, 0, 0}, {"a.x-4.0", LB_PRETOK_GPT2, 1, 0, 0, 0},
    {"mellum", LB_PRETOK_GPT2, 1, 0, 0, 0}, {"modern-bert", LB_PRETOK_GPT2, 1, 0, 0, 0},
    {"mpt", LB_PRETOK_GPT2, 1, 0, 0, 0}, {"olmo", LB_PRETOK_GPT2, 1, 0, 0, 0},
    {"jais", LB_PRETOK_GPT2, 1, 0, 0, 0}, {"exaone4", LB_PRETOK_GPT2, 1, 0, 0, 0},
    {"trillion", LB_PRETOK_GPT2, 0, 0, 0, 0}, {"granite-docling", LB_PRETOK_GPT2, 0, 0, 0, 0},
    {"starcoder", LB_PRETOK_STARCODER, 1, 0, 0, 0}, {"refact", LB_PRETOK_STARCODER, 1, 0, 0, 0},
    {"command-r", LB_PRETOK_STARCODER, 0, 0, 0, 0}, {"smollm", LB_PRETOK_STARCODER, 0, 0, 0, 0},
    {"codeshell", LB_PRETOK_STARCODER, 1, 0, 0, 0}, {"exaone", LB_PRETOK_STARCODER, 1, 0, 0, 0},
    {"minerva-7b", LB_PRETOK_STARCODER, 1, 0, 0, 0}, {"mellum2", LB_PRETOK_STARCODER, 1, 0, 0, 0},
};

// --- text-based special-token detection (llama.cpp's load() workarounds) ------------------
static int32_t id_of(const lb_tokenizer *t, const char *text) {
    return tok_map_get(&t->vocab, text, strlen(text));
}

static void mark_control(lb_tokenizer *t, int32_t id) {
    if (id >= 0) t->attr[id] |= TOK_ATTR_CONTROL;
}

// FIM tokens become control tokens; the first name found (in list order) is the one.
static int32_t detect_first(lb_tokenizer *t, const char *const *names, int32_t from_kv) {
    if (from_kv >= 0) return from_kv;
    for (size_t i = 0; names[i]; i++) {
        int32_t id = id_of(t, names[i]);
        if (id >= 0) { mark_control(t, id); return id; }
    }
    return -1;
}

static void detect_special(lb_tokenizer *t, const lb_kvs *kv) {
    int32_t eot = -1, eom = -1, fim_pad = -1, fim_rep = -1, fim_sep = -1;
    read_id(kv, "tokenizer.ggml.eot_token_id", t->n_vocab, &eot);
    read_id(kv, "tokenizer.ggml.eom_token_id", t->n_vocab, &eom);
    int32_t fim_pre = -1, fim_suf = -1, fim_mid = -1;
    read_id(kv, "tokenizer.ggml.fim_pre_token_id", t->n_vocab, &fim_pre);
    read_id(kv, "tokenizer.ggml.fim_suf_token_id", t->n_vocab, &fim_suf);
    read_id(kv, "tokenizer.ggml.fim_mid_token_id", t->n_vocab, &fim_mid);
    read_id(kv, "tokenizer.ggml.prefix_token_id", t->n_vocab, &fim_pre);
    read_id(kv, "tokenizer.ggml.suffix_token_id", t->n_vocab, &fim_suf);
    read_id(kv, "tokenizer.ggml.middle_token_id", t->n_vocab, &fim_mid);
    read_id(kv, "tokenizer.ggml.fim_pad_token_id", t->n_vocab, &fim_pad);
    read_id(kv, "tokenizer.ggml.fim_rep_token_id", t->n_vocab, &fim_rep);
    read_id(kv, "tokenizer.ggml.fim_sep_token_id", t->n_vocab, &fim_sep);

    static const char *const EOT[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
        "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
        "<end_of_utterance>", NULL};
    static const char *const EOM[] = {"<|eom_id|>", NULL};
    static const char *const PRE[] = {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
        "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>", "<PRE>", "\xe2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>", NULL};
    static const char *const SUF[] = {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
        "<\xef\xbd\x9c" "fim\xe2\x96\x81hole\xef\xbd\x9c>", "<SUF>", "\xe2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>", NULL};
    static const char *const MID[] = {"<|fim_middle|>", "<fim-middle>", "<fim_middle>",
        "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>", "<MID>", "\xe2\x96\x81<MID>", "<|code_middle|>", "<|middle|>", NULL};
    static const char *const PAD[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", NULL};
    static const char *const REP[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", NULL};
    static const char *const SEP[] = {"<|file_sep|>", NULL};
    eot = detect_first(t, EOT, eot);
    eom = detect_first(t, EOM, eom);
    detect_first(t, PRE, fim_pre);
    detect_first(t, SUF, fim_suf);
    detect_first(t, MID, fim_mid);
    fim_pad = detect_first(t, PAD, fim_pad);
    fim_rep = detect_first(t, REP, fim_rep);
    fim_sep = detect_first(t, SEP, fim_sep);

    // end-of-generation set: by text, plus fim pad/rep/sep, eos, eot, eom
    static const char *const EOG[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>",
        "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>",
        "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
        "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>", "[e~[", NULL};
    for (size_t i = 0; EOG[i]; i++) {
        int32_t id = id_of(t, EOG[i]);
        if (id >= 0) { t->eog[id] = 1; mark_control(t, id); }
    }
    // gpt-oss: always rendered
    static const char *const RENDER[] = {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>", NULL};
    for (size_t i = 0; RENDER[i]; i++) {
        int32_t id = id_of(t, RENDER[i]);
        if (id >= 0) t->attr[id] = TOK_ATTR_USER_DEFINED;
    }
    int32_t extra[] = {fim_pad, fim_rep, fim_sep, t->eos, eot, eom};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        if (extra[i] >= 0) t->eog[extra[i]] = 1;

    // o200k_harmony / solar-open: "<|end|>" is not end-of-generation there
    int32_t end = id_of(t, "<|end|>"), ret = id_of(t, "<|return|>"), flush = id_of(t, "<|flush|>");
    int32_t call = id_of(t, "<|call|>"), calls = id_of(t, "<|calls|>");
    int has_call = (call >= 0 && t->eog[call]) || (calls >= 0 && t->eog[calls]);
    int has_ret = ret >= 0 && t->eog[ret], has_flush = flush >= 0 && t->eog[flush];
    if (end >= 0 && t->eog[end] && ((has_ret && has_call) || (has_call && has_flush))) {
        t->eog[end] = 0;
        t->attr[end] = TOK_ATTR_USER_DEFINED;
    }
    // gemma4 / paddleocr: "</s>" is not end-of-generation next to "<|tool_response>"
    int32_t s_end = id_of(t, "</s>"), tool = id_of(t, "<|tool_response>");
    if (s_end >= 0 && tool >= 0 && t->eog[s_end] && t->eog[tool]) {
        t->eog[s_end] = 0;
        t->attr[s_end] = TOK_ATTR_NORMAL;
    }
}

// Longest text first; equal lengths by id (llama.cpp's std::sort leaves ties unspecified).
static int by_length_desc(const void *a, const void *b, void *ctx) {
    const lb_tokenizer *t = ctx;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    uint64_t lx = t->text[x].len, ly = t->text[y].len;
    if (lx != ly) return lx > ly ? -1 : 1;
    return (x > y) - (x < y);
}

// --- build / free ----------------------------------------------------------------------------
lb_tokenizer *lb_tokenizer_build(const lb_kvs *kv, const char *what, lb_err *err) {
    if (!what) what = "tokenizer";
    const char *model = lb_kvs_get_str(kv, "tokenizer.ggml.model");
    if (!model) return lb_fail(err, "%s: missing tokenizer.ggml.model", what), NULL;
    lb_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return lb_fail(err, "%s: out of memory", what), NULL;
    t->unk = -1;

    const char *pre = lb_kvs_get_str(kv, "tokenizer.ggml.pre");
    int no_bos = 0;
    if (strcmp(model, "llama") == 0) {
        t->kind = TOK_SPM;
        t->bos = 1, t->eos = 2, t->unk = 0;
        t->add_space_prefix = 1, t->add_bos = 1;
    } else if (strcmp(model, "gpt2") == 0) {
        t->kind = TOK_BPE;
        t->bos = 11, t->eos = 11;
        if (!pre || !*pre) pre = "default";   // llama.cpp warns and uses "default"
        const pre_entry *pe = NULL;
        for (size_t i = 0; i < sizeof PRE_TABLE / sizeof PRE_TABLE[0]; i++)
            if (strcmp(PRE_TABLE[i].name, pre) == 0) pe = &PRE_TABLE[i];
        if (!pe) {
            lb_fail(err, "%s: unsupported pre-tokenizer type '%s'", what, pre);
            goto fail;
        }
        t->pre = pe->kind;
        t->clean_spaces = pe->clean_spaces, t->ignore_merges = pe->ignore_merges;
        t->add_bos = pe->add_bos, no_bos = pe->no_bos;
    } else {
        lb_fail(err, "%s: unsupported tokenizer model '%s' (want llama or gpt2)", what, model);
        goto fail;
    }
    read_bool(kv, "tokenizer.ggml.add_space_prefix", &t->add_space_prefix);

    // tokens, scores, types
    const lb_kv *tokens = find_typed(kv, "tokenizer.ggml.tokens", LB_VT_ARR, LB_VT_STR);
    if (!tokens) { lb_fail(err, "%s: missing or mistyped tokenizer.ggml.tokens", what); goto fail; }
    if (tokens->n == 0 || tokens->n > INT32_MAX) {
        lb_fail(err, "%s: bad vocabulary size %llu", what, (unsigned long long)tokens->n);
        goto fail;
    }
    t->n_vocab = (int32_t)tokens->n;
    const lb_str *strs = tokens->data;
    const float *fscores = NULL;
    const int32_t *iscores = NULL, *types = NULL;
    const lb_kv *sc = lb_kvs_find(kv, "tokenizer.ggml.scores");
    if (sc) {
        if (sc->type != LB_VT_ARR || (sc->arr_type != LB_VT_F32 && sc->arr_type != LB_VT_I32)) {
            lb_fail(err, "%s: tokenizer.ggml.scores must be an array of f32 or i32", what);
            goto fail;
        }
        if (sc->n < tokens->n) { lb_fail(err, "%s: %llu scores for %d tokens", what, (unsigned long long)sc->n, t->n_vocab); goto fail; }
        if (sc->arr_type == LB_VT_F32) fscores = sc->data; else iscores = sc->data;
    }
    const lb_kv *ty = lb_kvs_find(kv, "tokenizer.ggml.token_type");
    if (ty) {
        if (ty->type != LB_VT_ARR || ty->arr_type != LB_VT_I32) {
            lb_fail(err, "%s: tokenizer.ggml.token_type must be an array of i32", what);
            goto fail;
        }
        if (ty->n < tokens->n) { lb_fail(err, "%s: %llu token types for %d tokens", what, (unsigned long long)ty->n, t->n_vocab); goto fail; }
        types = ty->data;
    }

    const lb_kv *merges = NULL;
    if (t->kind == TOK_BPE) {
        merges = lb_kvs_find(kv, "tokenizer.ggml.merges");
        if (!merges || merges->type != LB_VT_ARR || merges->arr_type != LB_VT_STR) {
            lb_fail(err, "%s: missing or mistyped tokenizer.ggml.merges", what);
            goto fail;
        }
    }

    // one arena for token texts (NUL-terminated) and merge strings
    size_t arena_size = 0;
    for (int32_t i = 0; i < t->n_vocab; i++) arena_size += (strs[i].len ? strs[i].len : 24) + 1;
    const lb_str *mstrs = merges ? merges->data : NULL;
    uint64_t n_merges = merges ? merges->n : 0;
    for (uint64_t i = 0; i < n_merges; i++) arena_size += mstrs[i].len + 1;
    t->text = calloc((size_t)t->n_vocab, sizeof *t->text);
    t->score = calloc((size_t)t->n_vocab, sizeof *t->score);
    t->attr = calloc((size_t)t->n_vocab, 1);
    t->eog = calloc((size_t)t->n_vocab, 1);
    t->special = calloc((size_t)t->n_vocab, sizeof *t->special);
    t->arena = malloc(arena_size ? arena_size : 1);
    if (!t->text || !t->score || !t->attr || !t->eog || !t->special || !t->arena ||
        build_tok_map(&t->vocab, (size_t)t->n_vocab) || build_tok_map(&t->merges, (size_t)n_merges)) {
        lb_fail(err, "%s: out of memory for the vocabulary", what);
        goto fail;
    }
    char *p = t->arena;
    for (int32_t i = 0; i < t->n_vocab; i++) {
        size_t len = strs[i].len;
        if (len) memcpy(p, strs[i].ptr, len);
        else len = (size_t)snprintf(p, 24, "[EMPTY_%d]", i);
        p[len] = 0;
        if (len > UINT32_MAX) { lb_fail(err, "%s: token %d too long", what, i); goto fail; }
        t->text[i] = (lb_str){len, p};
        if (len > t->max_token_len) t->max_token_len = len;
        tok_map_put(&t->vocab, p, (uint32_t)len, i, 1);
        p += len + 1;
        t->score[i] = fscores ? fscores[i] : iscores ? (float)iscores[i] : 0.0f;
        uint8_t a = TOK_ATTR_NORMAL;
        if (types) {
            switch (types[i]) {
            case 1: a = TOK_ATTR_NORMAL; break;
            case 2: a = TOK_ATTR_UNKNOWN; break;
            case 3: a = TOK_ATTR_CONTROL; break;
            case 4: a = TOK_ATTR_USER_DEFINED; break;
            case 5: a = TOK_ATTR_UNUSED; break;
            case 6: a = TOK_ATTR_BYTE; break;
            default: a = TOK_ATTR_UNDEFINED; break;
            }
        }
        t->attr[i] = a;
    }
    memset(t->lonely, 1, sizeof t->lonely);
    for (int32_t i = 0; i < t->n_vocab; i++)
        if (t->text[i].len > 1)
            for (size_t j = 0; j < t->text[i].len; j++) t->lonely[(uint8_t)t->text[i].ptr[j]] = 0;
    for (uint64_t i = 0; i < n_merges; i++) {
        size_t len = mstrs[i].len;
        if (len > UINT32_MAX) { lb_fail(err, "%s: merge %llu too long", what, (unsigned long long)i); goto fail; }
        memcpy(p, mstrs[i].ptr, len);
        p[len] = 0;
        // llama.cpp splits "first second" at the first space after position 0; a lookup
        // "left right" (neither side contains a space) can only hit the same entries.
        if (i <= INT32_MAX) tok_map_put(&t->merges, p, (uint32_t)len, (int32_t)i, 0);
        p += len + 1;
    }

    // special ids and flags
    if (no_bos) t->bos = -1;
    read_id(kv, "tokenizer.ggml.bos_token_id", t->n_vocab, &t->bos);
    read_id(kv, "tokenizer.ggml.eos_token_id", t->n_vocab, &t->eos);
    read_id(kv, "tokenizer.ggml.unknown_token_id", t->n_vocab, &t->unk);
    read_bool(kv, "tokenizer.ggml.add_bos_token", &t->add_bos);
    read_bool(kv, "tokenizer.ggml.add_eos_token", &t->add_eos);
    detect_special(t, kv);

    for (int32_t i = 0; i < t->n_vocab; i++)
        if (t->attr[i] & (TOK_ATTR_CONTROL | TOK_ATTR_USER_DEFINED | TOK_ATTR_UNKNOWN)) t->special[t->n_special++] = i;
    qsort_r(t->special, t->n_special, sizeof *t->special, by_length_desc, t);
    return t;
fail:
    lb_tokenizer_free(t);
    return NULL;
}

void lb_tokenizer_free(lb_tokenizer *t) {
    if (!t) return;
    free(t->text);
    free(t->score);
    free(t->attr);
    free(t->eog);
    free(t->special);
    free(t->arena);
    free_tok_map(&t->vocab);
    free_tok_map(&t->merges);
    free(t);
}

// --- special-token partition -----------------------------------------------------------------
typedef struct frag {
    int32_t token;       // -1 = raw text
    size_t off, len;
} frag;

typedef struct frag_vec {
    frag *v;
    size_t n, cap;
    int oom;
} frag_vec;

static void frag_push(frag_vec *f, frag x) {
    if (f->oom) return;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        frag *v = realloc(f->v, cap * sizeof *v);
        if (!v) { f->oom = 1; return; }
        f->v = v;
        f->cap = cap;
    }
    f->v[f->n++] = x;
}

// Each special token in turn (longest first) splits every raw fragment at its occurrences.
// Without parse_special only user-defined tokens split (as in llama.cpp / HF tokenizers).
static int partition(const lb_tokenizer *t, const char *text, size_t len, int parse_special, frag_vec *out) {
    frag_vec cur = {0}, next = {0};
    if (len) frag_push(&cur, (frag){-1, 0, len});
    for (size_t k = 0; k < t->n_special && !cur.oom; k++) {
        int32_t id = t->special[k];
        if (!parse_special && (t->attr[id] & (TOK_ATTR_CONTROL | TOK_ATTR_UNKNOWN))) continue;
        const char *needle = t->text[id].ptr;
        size_t nlen = t->text[id].len;
        next.n = 0;
        int hit = 0;
        for (size_t i = 0; i < cur.n; i++) {
            frag f = cur.v[i];
            if (f.token >= 0 || f.len < nlen) { frag_push(&next, f); continue; }
            size_t pos = f.off, end = f.off + f.len;
            for (;;) {
                const char *m = memmem(text + pos, end - pos, needle, nlen);
                if (!m) break;
                size_t at = (size_t)(m - text);
                if (at > pos) frag_push(&next, (frag){-1, pos, at - pos});
                frag_push(&next, (frag){id, 0, 0});
                pos = at + nlen;
                hit = 1;
            }
            if (pos < end) frag_push(&next, (frag){-1, pos, end - pos});
        }
        if (hit) {
            frag_vec tmp = cur;
            cur = next;
            next = tmp;
        }
        cur.oom |= next.oom;
    }
    free(next.v);
    *out = cur;
    return cur.oom ? -1 : 0;
}

// --- tokenize --------------------------------------------------------------------------------
int lb_tokenize(const lb_tokenizer *t, const char *text, size_t len, int add_special, int parse_special,
                int32_t **ids, size_t *n_ids, lb_err *err) {
    *ids = NULL;
    *n_ids = 0;
    frag_vec frags = {0};
    tok_ids out = {0};
    char *buf = NULL;
    if (partition(t, text, len, parse_special, &frags)) goto oom;

    if (add_special && t->add_bos) {
        if (t->bos < 0) { free(frags.v); return lb_fail(err, "tokenize: the vocabulary wants a BOS token but has none"); }
        tok_ids_push(&out, t->bos);
    }
    if (t->kind == TOK_SPM) {
        // raw text after a special token (or at the start) gets a leading space; spaces
        // become U+2581 "▁"
        int prev_special = 1;
        size_t buf_cap = 0;
        for (size_t i = 0; i < frags.n; i++) {
            const frag *f = &frags.v[i];
            if (f->token >= 0) {
                tok_ids_push(&out, f->token);
                prev_special = 1;
                continue;
            }
            size_t need = 3 * (f->len + 1);
            if (need > buf_cap) {
                free(buf);
                buf = malloc(need);
                buf_cap = need;
                if (!buf) goto oom;
            }
            size_t n = 0;
            int prefix = t->add_space_prefix && prev_special;
            for (size_t j = 0; j < f->len + (size_t)prefix; j++) {
                char c = (prefix && j == 0) ? ' ' : text[f->off + j - (size_t)prefix];
                if (c == ' ') { memcpy(buf + n, "\xe2\x96\x81", 3); n += 3; }
                else buf[n++] = c;
            }
            if (tok_spm_encode(t, buf, n, &out)) goto oom;
            prev_special = 0;
        }
    } else {
        for (size_t i = 0; i < frags.n; i++) {
            const frag *f = &frags.v[i];
            if (f->token >= 0) tok_ids_push(&out, f->token);
            else if (tok_bpe_encode(t, text + f->off, f->len, &out)) goto oom;
        }
    }
    if (add_special && t->add_eos) {
        if (t->eos < 0) { free(frags.v); free(buf); free(out.v); return lb_fail(err, "tokenize: the vocabulary wants an EOS token but has none"); }
        tok_ids_push(&out, t->eos);
    }
    if (out.oom) goto oom;
    free(frags.v);
    free(buf);
    *ids = out.v;
    *n_ids = out.n;
    return 0;
oom:
    free(frags.v);
    free(buf);
    free(out.v);
    return lb_fail(err, "tokenize: out of memory (%zu bytes of text)", len);
}

// --- pieces ----------------------------------------------------------------------------------
static size_t put(char *buf, size_t cap, size_t at, const char *s, size_t n) {
    if (at < cap) memcpy(buf + at, s, at + n <= cap ? n : cap - at);
    return at + n;
}

static uint8_t byte_of_token(const lb_str *s) {
    // "<0xXX>": llama.cpp parses text[3..5) with strtol(.., 16)
    unsigned v = 0;
    for (size_t i = 3; i < 5 && i < s->len; i++) {
        char c = s->ptr[i];
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                   : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16;
        if (d == 16) break;
        v = v * 16 + d;
    }
    return (uint8_t)v;
}

size_t lb_token_to_piece(const lb_tokenizer *t, int32_t id, int render_special, char *buf, size_t cap) {
    if (id < 0 || id >= t->n_vocab) return 0;
    uint8_t a = t->attr[id];
    const lb_str *s = &t->text[id];
    if (!render_special && (a & (TOK_ATTR_UNKNOWN | TOK_ATTR_CONTROL))) return 0;
    if (a & (TOK_ATTR_UNKNOWN | TOK_ATTR_CONTROL | TOK_ATTR_USER_DEFINED)) return put(buf, cap, 0, s->ptr, s->len);
    if (a & TOK_ATTR_NORMAL) {
        size_t n = 0;
        if (t->kind == TOK_SPM) {
            for (size_t i = 0; i < s->len;) {
                if (i + 3 <= s->len && memcmp(s->ptr + i, "\xe2\x96\x81", 3) == 0) { n = put(buf, cap, n, " ", 1); i += 3; }
                else { n = put(buf, cap, n, s->ptr + i, 1); i++; }
            }
            return n;
        }
        // byte-level: each codepoint back to its byte; llama.cpp spells strays as
        // "[UNK_BYTE_0x<utf8 hex><token text>]"
        for (size_t i = 0; i < s->len;) {
            // one codepoint by llama.cpp's decoding rules: a bad sequence is U+FFFD for 1 byte
            uint32_t cpts[4];
            size_t take = lb_utf8_len((uint8_t)s->ptr[i]);
            if (take > s->len - i) take = s->len - i;
            size_t k = lb_utf8_decode(cpts, s->ptr + i, take);
            uint32_t cpt = cpts[0];
            i += k == 1 ? take : 1;
            int b = lb_cpt_to_byte(cpt);
            if (b >= 0) {
                char c = (char)b;
                n = put(buf, cap, n, &c, 1);
            } else {
                char u[4], hex[3];
                size_t un = lb_utf8_encode(u, cpt);
                n = put(buf, cap, n, "[UNK_BYTE_0x", 12);
                for (size_t j = 0; j < un; j++) {
                    snprintf(hex, sizeof hex, "%02x", (uint8_t)u[j]);
                    n = put(buf, cap, n, hex, 2);
                }
                n = put(buf, cap, n, s->ptr, s->len);
                n = put(buf, cap, n, "]", 1);
            }
        }
        return n;
    }
    if (a & TOK_ATTR_BYTE) {
        char c = (char)byte_of_token(s);
        return put(buf, cap, 0, &c, 1);
    }
    return 0;
}

// --- detokenize (llama_detokenize) ------------------------------------------------------------
int lb_detokenize(const lb_tokenizer *t, const int32_t *ids, size_t n, int remove_special, int unparse_special,
                  char **text, size_t *len, lb_err *err) {
    *text = NULL;
    *len = 0;
    int remove_space = t->add_space_prefix;
    if (remove_special && t->add_bos && n > 0 && ids[0] == t->bos) { remove_space = 0; ids++; n--; }
    if (remove_special && t->add_eos && n > 0 && ids[n - 1] == t->eos) n--;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += lb_token_to_piece(t, ids[i], unparse_special, NULL, 0);
    char *out = malloc(total + 1);
    if (!out) return lb_fail(err, "detokenize: out of memory");
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = lb_token_to_piece(t, ids[i], unparse_special, out + at, total - at);
        if (remove_space && k > 0 && out[at] == ' ') { memmove(out + at, out + at + 1, k - 1); k--; }
        remove_space = 0;
        at += k;
    }
    if (t->clean_spaces && at > 0) {
        // the three passes of llama.cpp (clean_up_tokenization_spaces)
        size_t m = 1;                                      // " ?", " !", " .", " ,"
        for (size_t i = 1; i < at; i++) {
            char x = out[i];
            if (out[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) m--;
            out[m++] = x;
        }
        at = m;
        m = 1;                                             // " ' " -> "'"
        for (size_t i = 1; i < at; i++) {
            char x = out[i];
            if (x == '\'' && i + 1 < at && out[i - 1] == ' ' && out[i + 1] == ' ') { m--; out[++i] = '\0'; }
            out[m++] = x;
        }
        at = m;
        m = 1;                                             // " 's", " 'm", " 're", " 've"
        for (size_t i = 1; i < at; i++) {
            char x = out[i];
            if (out[i - 1] == ' ' && x == '\'' && i + 1 < at) {
                char x1 = out[i + 1];
                if (x1 == 's' || x1 == 'm') m--;
                else if (x1 != 't' && x1 != 'd' && i + 2 < at) {
                    char x2 = out[i + 2];
                    if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) m--;
                }
            }
            out[m++] = x;
        }
        at = m;
    }
    out[at] = 0;
    *text = out;
    *len = at;
    return 0;
}

// --- accessors -------------------------------------------------------------------------------
int32_t lb_tokenizer_bos(const lb_tokenizer *t) { return t->bos; }
int32_t lb_tokenizer_eos(const lb_tokenizer *t) { return t->eos; }
int lb_tokenizer_is_eog(const lb_tokenizer *t, int32_t id) { return id >= 0 && id < t->n_vocab && t->eog[id]; }
int lb_tokenizer_add_bos(const lb_tokenizer *t) { return t->add_bos; }
int32_t lb_tokenizer_n_vocab(const lb_tokenizer *t) { return t->n_vocab; }
