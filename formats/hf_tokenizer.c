// hf_tokenizer.c: tokenizer.json (+ tokenizer_config.json) -> GGUF tokenizer.ggml.* metadata,
// the way convert_hf_to_gguf.py (get_vocab_base / LlamaHfVocab / gguf.SpecialVocab) fills it:
//  - byte-level BPE (model.type "BPE", no byte_fallback): model "gpt2", tokens by id, token
//    types, merges as "a b" strings; no scores.
//  - SentencePiece-style BPE (byte_fallback true, "▁" pieces): model "llama", tokens, scores,
//    types. tokenizer.json has no piece scores; llama.cpp's SPM tokenizer merges the
//    highest-scoring bigram first, and SentencePiece BPE ids are in merge order, so we use
//    score = -(float)id for normal tokens (earlier id = merged first) and 0 for the rest.
// Ids missing up to config.json's vocab_size become "[PADn]" with type UNUSED.
#include "hf.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// llama.cpp token types (llama_token_type / gguf.TokenType)
enum { TT_NORMAL = 1, TT_UNKNOWN = 2, TT_CONTROL = 3, TT_USER_DEFINED = 4, TT_UNUSED = 5, TT_BYTE = 6 };

typedef struct {
    lb_str *tokens;        // n_vocab; ptr NULL = gap
    int32_t *types;
    float *scores;
    char *pad_names;       // storage for "[PADn]" texts
    char **owned;          // texts we rewrote (user-defined "▁" -> " ")
    size_t n_owned;
    int64_t n_vocab;
} vocab_build;

static void free_vocab(vocab_build *v) {
    free(v->tokens); free(v->types); free(v->scores); free(v->pad_names);
    for (size_t i = 0; i < v->n_owned; i++) free(v->owned[i]);
    free(v->owned);
}

static int json_id(const cJSON *j, int64_t n_vocab, int64_t *out) {
    if (!cJSON_IsNumber(j)) return -1;
    double d = j->valuedouble;
    if (!(d >= 0) || d >= (double)n_vocab || d != (double)(int64_t)d) return -1;
    *out = (int64_t)d;
    return 0;
}

// convert_hf_to_gguf's does_token_look_special: added tokens that act as control tokens
// even when tokenizer.json forgets "special": true.
static int looks_special(const char *s) {
    size_t n = strlen(s);
    if (!strcmp(s, "<pad>") || !strcmp(s, "<mask>") || !strcmp(s, "<2mass>") || !strcmp(s, "[@BOS@]")) return 1;
    if (n >= 3 && !strncmp(s, "<|", 2) && !strcmp(s + n - 2, "|>")) return 1;   // python: "<|>" counts too
    if (n >= 5 && !strncmp(s, "<\xEF\xBD\x9C", 4) && !strcmp(s + n - 4, "\xEF\xBD\x9C>")) return 1;   // <｜...｜>
    if (n >= 8 && !strncmp(s, "<unused", 7) && s[n - 1] == '>') return 1;
    return 0;
}

// exactly <0xXX> with two hex digits: a SentencePiece byte-fallback piece
static int is_byte_piece(const char *s) {
    const char *hex = "0123456789abcdefABCDEF";
    return strlen(s) == 6 && !strncmp(s, "<0x", 3) && strchr(hex, s[3]) && strchr(hex, s[4]) && s[5] == '>';
}

// user-defined tokens are stored pre-normalized: "▁" (E2 96 81) -> " "
static const char *replace_metaspace(vocab_build *v, const char *s, lb_err *err) {
    if (!strstr(s, "\xE2\x96\x81")) return s;
    char **o = realloc(v->owned, (v->n_owned + 1) * sizeof *o);
    if (!o) { lb_fail(err, "out of memory"); return NULL; }
    v->owned = o;
    char *out = malloc(strlen(s) + 1), *w = out;
    if (!out) { lb_fail(err, "out of memory"); return NULL; }
    for (const char *r = s; *r;) {
        if (!strncmp(r, "\xE2\x96\x81", 3)) { *w++ = ' '; r += 3; } else *w++ = *r++;
    }
    *w = 0;
    v->owned[v->n_owned++] = out;
    return out;
}

// --- special tokens -------------------------------------------------------------------

typedef struct {
    const char *bos_str, *eos_str, *unk_str, *pad_str;   // from tokenizer_config.json / templates
    int add_bos, add_eos;                                 // -1 unknown
    int add_space_prefix;                                 // -1 unknown
    const char *chat_template;
} special_info;

static const char *token_content(const cJSON *j) {
    if (cJSON_IsString(j)) return j->valuestring;
    if (cJSON_IsObject(j)) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "content");
        if (cJSON_IsString(c)) return c->valuestring;
    }
    return NULL;
}

static const char *template_special(const cJSON *item) {
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(item, "SpecialToken");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(st, "id");
    return cJSON_IsString(id) ? id->valuestring : NULL;
}

// gguf.SpecialVocab's reading of TemplateProcessing: a leading special token in the
// single-sequence template means "add BOS", a trailing one "add EOS".
static void read_post_processor(special_info *si, const cJSON *tok) {
    const cJSON *pp = cJSON_GetObjectItemCaseSensitive(tok, "post_processor");
    if (!cJSON_IsObject(pp)) return;
    const cJSON *procs = cJSON_GetObjectItemCaseSensitive(pp, "processors");
    const cJSON *first = cJSON_IsArray(procs) ? procs->child : pp;
    for (const cJSON *p = first; p; p = (first == pp ? NULL : p->next)) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "type");
        if (!cJSON_IsString(type) || strcmp(type->valuestring, "TemplateProcessing")) continue;
        const cJSON *single = cJSON_GetObjectItemCaseSensitive(p, "single");
        if (!cJSON_IsArray(single) || cJSON_GetArraySize(single) < 2) continue;
        const char *lead = template_special(single->child);
        const cJSON *last = single->child;
        while (last->next) last = last->next;
        const char *trail = template_special(last);
        if (lead) {
            if (!si->bos_str) si->bos_str = lead;
            si->add_bos = !strcmp(lead, si->bos_str);
        }
        if (trail) {
            if (!si->eos_str) si->eos_str = trail;
            si->add_eos = !strcmp(trail, si->eos_str);
        }
    }
}

static void read_tokenizer_config(special_info *si, const cJSON *tc) {
    if (!cJSON_IsObject(tc)) return;
    si->bos_str = token_content(cJSON_GetObjectItemCaseSensitive(tc, "bos_token"));
    si->eos_str = token_content(cJSON_GetObjectItemCaseSensitive(tc, "eos_token"));
    si->unk_str = token_content(cJSON_GetObjectItemCaseSensitive(tc, "unk_token"));
    si->pad_str = token_content(cJSON_GetObjectItemCaseSensitive(tc, "pad_token"));
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(tc, "chat_template");
    if (cJSON_IsString(ct)) si->chat_template = ct->valuestring;
    const cJSON *asp = cJSON_GetObjectItemCaseSensitive(tc, "add_prefix_space");
    if (cJSON_IsBool(asp)) si->add_space_prefix = cJSON_IsTrue(asp);
}

// the first added token with this content (SpecialVocab looks only at added_tokens)
static int64_t added_id(const cJSON *added, const char *content, int64_t n_vocab) {
    if (!content) return -1;
    for (const cJSON *a = cJSON_IsArray(added) ? added->child : NULL; a; a = a->next) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(a, "content");
        int64_t id;
        if (cJSON_IsString(c) && !strcmp(c->valuestring, content) &&
            !json_id(cJSON_GetObjectItemCaseSensitive(a, "id"), n_vocab, &id))
            return id;
    }
    return -1;
}

// --- merges ---------------------------------------------------------------------------

// Both encodings: "a b" strings, and ["a", "b"] pairs (transformers >= 4.45), whose spaces
// inside a part are written as U+0120 like gguf.SpecialVocab does.
static int set_merges(lb_kvs *kv, const cJSON *merges, const char *what, lb_err *err) {
    size_t n = 0, bytes = 0;
    for (const cJSON *m = merges->child; m; m = m->next, n++) {
        if (cJSON_IsString(m)) { bytes += strlen(m->valuestring) + 1; continue; }
        if (!cJSON_IsArray(m) || cJSON_GetArraySize(m) != 2 || !cJSON_IsString(m->child) || !cJSON_IsString(m->child->next))
            return lb_fail(err, "%s: merge %zu is neither \"a b\" nor [\"a\", \"b\"]", what, n);
        bytes += 2 * (strlen(m->child->valuestring) + strlen(m->child->next->valuestring)) + 2;
    }
    lb_str *strs = malloc((n ? n : 1) * sizeof *strs);
    char *buf = malloc(bytes ? bytes : 1), *w = buf;
    if (!strs || !buf) { free(strs); free(buf); return lb_fail(err, "out of memory (%zu merges)", n); }
    size_t i = 0;
    for (const cJSON *m = merges->child; m; m = m->next, i++) {
        strs[i].ptr = w;
        if (cJSON_IsString(m)) {
            size_t l = strlen(m->valuestring);
            memcpy(w, m->valuestring, l + 1);
            w += l;
        } else {
            for (int part = 0; part < 2; part++) {
                if (part) *w++ = ' ';
                for (const char *r = part ? m->child->next->valuestring : m->child->valuestring; *r; r++) {
                    if (*r == ' ') { *w++ = (char)0xC4; *w++ = (char)0xA0; } else *w++ = *r;
                }
            }
            *w = 0;
        }
        strs[i].len = (uint64_t)(w - strs[i].ptr);
        w++;
    }
    int rc = lb_kvs_set_str_arr(kv, "tokenizer.ggml.merges", strs, n, err);
    free(strs);
    free(buf);
    return rc;
}

// --- the vocabulary -------------------------------------------------------------------

static int build_vocab(vocab_build *v, const cJSON *model, const cJSON *added, int spm, const char *unk_piece,
                       const char *what, lb_err *err) {
    int64_t n = v->n_vocab;
    v->tokens = calloc((size_t)n, sizeof *v->tokens);
    v->types = calloc((size_t)n, sizeof *v->types);
    v->scores = calloc((size_t)n, sizeof *v->scores);
    v->pad_names = malloc((size_t)n * 16);
    if (!v->tokens || !v->types || !v->scores || !v->pad_names) return lb_fail(err, "out of memory (vocab %lld)", (long long)n);
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    if (!cJSON_IsObject(vocab)) return lb_fail(err, "%s: model.vocab must be an object of token -> id", what);
    for (const cJSON *e = vocab->child; e; e = e->next) {
        int64_t id;
        if (!e->string) return lb_fail(err, "%s: vocab entry without text", what);
        if (json_id(e, n, &id)) return lb_fail(err, "%s: token '%.80s': id is not an integer in [0, %lld) (vocab_size)", what, e->string, (long long)n);
        if (v->tokens[id].ptr) return lb_fail(err, "%s: id %lld used by both '%.80s' and '%.80s'", what, (long long)id, v->tokens[id].ptr, e->string);
        v->tokens[id].ptr = e->string;
        v->tokens[id].len = strlen(e->string);
        int32_t type = TT_NORMAL;
        if (spm && unk_piece && !strcmp(e->string, unk_piece)) type = TT_UNKNOWN;
        else if (spm && is_byte_piece(e->string)) type = TT_BYTE;
        v->types[id] = type;
        v->scores[id] = type == TT_NORMAL ? -(float)id : 0.0f;
    }
    if (added && !cJSON_IsArray(added)) return lb_fail(err, "%s: added_tokens must be an array", what);
    for (const cJSON *a = added ? added->child : NULL; a; a = a->next) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(a, "content");
        int64_t id;
        if (!cJSON_IsString(c)) return lb_fail(err, "%s: added token without \"content\"", what);
        if (json_id(cJSON_GetObjectItemCaseSensitive(a, "id"), n, &id))
            return lb_fail(err, "%s: added token '%.80s': id is not an integer in [0, %lld) (vocab_size)", what, c->valuestring, (long long)n);
        int special = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "special"));
        const char *text = c->valuestring;
        int32_t type;
        if (spm && unk_piece && !strcmp(text, unk_piece)) type = TT_UNKNOWN;
        else if (special || looks_special(text)) type = TT_CONTROL;
        else if (spm && is_byte_piece(text)) type = TT_BYTE;
        else {
            type = TT_USER_DEFINED;
            if (!spm && !(text = replace_metaspace(v, text, err))) return -1;
        }
        v->tokens[id].ptr = text;
        v->tokens[id].len = strlen(text);
        v->types[id] = type;
        v->scores[id] = 0.0f;
    }
    for (int64_t id = 0; id < n; id++) {
        if (v->tokens[id].ptr) continue;
        char *p = v->pad_names + id * 16;
        int l = snprintf(p, 16, "[PAD%lld]", (long long)id);
        v->tokens[id].ptr = p;
        v->tokens[id].len = (uint64_t)l;
        v->types[id] = TT_UNUSED;
        v->scores[id] = -(float)id;
    }
    return 0;
}

// one special id: tokenizer_config.json's string (looked up in added_tokens) wins over
// config.json's number, as in gguf.SpecialVocab
static int set_special(lb_kvs *kv, const char *key, int64_t from_tc, int64_t from_cfg, int64_t n_vocab,
                       const char *what, lb_err *err) {
    int64_t id = from_tc >= 0 ? from_tc : from_cfg;
    if (id < 0) return 0;
    if (id >= n_vocab) return lb_fail(err, "%s: %s %lld >= vocab_size %lld", what, key, (long long)id, (long long)n_vocab);
    return lb_kvs_set_u32(kv, key, (uint32_t)id, err);
}

int lb_hf_parse_tokenizer(lb_kvs *kv, const lb_hf_config *cfg, const char *tok_json, size_t tok_len,
                          const char *tok_cfg_json, size_t tok_cfg_len, const char *what, lb_err *err) {
    cJSON *tok = cJSON_ParseWithLength(tok_json, tok_len);
    cJSON *tc = tok_cfg_json ? cJSON_ParseWithLength(tok_cfg_json, tok_cfg_len) : NULL;
    vocab_build v = {0};
    v.n_vocab = cfg->n_vocab;
    int rc = -1;
    if (!cJSON_IsObject(tok)) { lb_fail(err, "%s: not a valid JSON object", what); goto done; }
    if (tok_cfg_json && !cJSON_IsObject(tc)) { lb_fail(err, "%s: tokenizer_config.json next to it is not a valid JSON object", what); goto done; }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(tok, "model");
    const cJSON *mtype = cJSON_GetObjectItemCaseSensitive(model, "type");
    if (!cJSON_IsObject(model)) { lb_fail(err, "%s: missing \"model\" object", what); goto done; }
    if (!cJSON_IsString(mtype) || strcmp(mtype->valuestring, "BPE")) {
        lb_fail(err, "%s: tokenizer model type %.40s not supported (BPE only)", what, cJSON_IsString(mtype) ? mtype->valuestring : "(missing)");
        goto done;
    }
    int spm = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(model, "byte_fallback"));
    const cJSON *unk = cJSON_GetObjectItemCaseSensitive(model, "unk_token");
    const char *unk_piece = cJSON_IsString(unk) ? unk->valuestring : NULL;
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(tok, "added_tokens");
    if (build_vocab(&v, model, added, spm, unk_piece, what, err)) goto done;

    special_info si = {.add_bos = -1, .add_eos = -1, .add_space_prefix = -1};
    read_tokenizer_config(&si, tc);
    read_post_processor(&si, tok);
    if (tc) {   // explicit flags in tokenizer_config.json override the template guess
        const cJSON *ab = cJSON_GetObjectItemCaseSensitive(tc, "add_bos_token");
        const cJSON *ae = cJSON_GetObjectItemCaseSensitive(tc, "add_eos_token");
        if (cJSON_IsBool(ab)) si.add_bos = cJSON_IsTrue(ab);
        if (cJSON_IsBool(ae)) si.add_eos = cJSON_IsTrue(ae);
    }

    const char *pre = cfg->arch == LB_ARCH_HUNYUAN_DENSE ? "hunyuan-dense"
                    : cfg->arch == LB_ARCH_LLAMA ? "llama-bpe" : "qwen2";
    if (spm) pre = "default";
    if (lb_kvs_set_str(kv, "tokenizer.ggml.model", spm ? "llama" : "gpt2", err) ||
        lb_kvs_set_str(kv, "tokenizer.ggml.pre", pre, err) ||
        lb_kvs_set_str_arr(kv, "tokenizer.ggml.tokens", v.tokens, (uint64_t)v.n_vocab, err) ||
        (spm && lb_kvs_set_arr(kv, "tokenizer.ggml.scores", LB_VT_F32, v.scores, (uint64_t)v.n_vocab, err)) ||
        lb_kvs_set_arr(kv, "tokenizer.ggml.token_type", LB_VT_I32, v.types, (uint64_t)v.n_vocab, err))
        goto done;
    if (!spm) {
        const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
        if (!cJSON_IsArray(merges) || !merges->child) { lb_fail(err, "%s: byte-level BPE without model.merges", what); goto done; }
        if (set_merges(kv, merges, what, err)) goto done;
    }
    int64_t n = v.n_vocab;
    int64_t eos_cfg = cfg->eos_id;
    if (set_special(kv, "tokenizer.ggml.bos_token_id", added_id(added, si.bos_str, n), cfg->bos_id, n, what, err) ||
        set_special(kv, "tokenizer.ggml.eos_token_id", cfg->eod_id >= 0 ? cfg->eod_id : added_id(added, si.eos_str, n), eos_cfg, n, what, err))
        goto done;
    int64_t unk_id = added_id(added, si.unk_str, n);
    if (unk_id < 0 && spm && unk_piece) {
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(model, "vocab"), unk_piece);
        if (json_id(u, n, &unk_id)) unk_id = -1;
    }
    if (set_special(kv, "tokenizer.ggml.unknown_token_id", unk_id, cfg->unk_id, n, what, err) ||
        set_special(kv, "tokenizer.ggml.padding_token_id", added_id(added, si.pad_str, n), cfg->pad_id, n, what, err))
        goto done;
    if (spm && si.add_bos < 0) si.add_bos = 1;   // SentencePiece llama tokenizers start with BOS
    if ((si.add_bos >= 0 && lb_kvs_set_bool(kv, "tokenizer.ggml.add_bos_token", si.add_bos, err)) ||
        (si.add_eos >= 0 && lb_kvs_set_bool(kv, "tokenizer.ggml.add_eos_token", si.add_eos, err)))
        goto done;
    if (spm) {   // Metaspace with prepend_scheme "never" means no leading "▁"
        const cJSON *pt = cJSON_GetObjectItemCaseSensitive(tok, "pre_tokenizer");
        const cJSON *ps = cJSON_GetObjectItemCaseSensitive(pt, "prepend_scheme");
        if (si.add_space_prefix < 0 && cJSON_IsString(ps) && !strcmp(ps->valuestring, "never")) si.add_space_prefix = 0;
        if (si.add_space_prefix >= 0 && lb_kvs_set_bool(kv, "tokenizer.ggml.add_space_prefix", si.add_space_prefix, err)) goto done;
    }
    if (si.chat_template && lb_kvs_set_str(kv, "tokenizer.chat_template", si.chat_template, err)) goto done;
    rc = 0;
done:
    free_vocab(&v);
    cJSON_Delete(tok);
    cJSON_Delete(tc);
    return rc;
}
