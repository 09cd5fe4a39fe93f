// llama2c.c: llama2.c checkpoint + tokenizer.bin -> lb_model, the way llama.cpp's
// examples/convert-llama2c-to-ggml writes it: arch llama, f32 tensors mapped 1:1 (llama2.c
// q/k rows are already in adjacent-pair RoPE order, so no permutation), w1 -> ffn_gate,
// w3 -> ffn_up, w2 -> ffn_down, RMS eps 1e-5, SentencePiece vocab with unk 0, bos 1, eos 2.
// Differences from that converter, on purpose: context_length is the checkpoint's seq_len
// (the converter writes its --ctx option), and a shared classifier stays tied (no copy of
// token_embd as output.weight: llama.cpp reuses token_embd when output is absent).
#include "llama2c.h"
#include "model.h"
#include "lb_types.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

// sanity limits: far beyond any llama2.c model, small enough that sizes cannot overflow
#define MAX_DIM    65536
#define MAX_HIDDEN (1 << 20)
#define MAX_LAYERS 1024
#define MAX_HEADS  1024
#define MAX_VOCAB  (1 << 22)
#define MAX_SEQ    (1 << 20)

static int32_t rd_i32(const uint8_t *p) { return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24); }
static float rd_f32(const uint8_t *p) { uint32_t u = (uint32_t)rd_i32(p); float f; memcpy(&f, &u, 4); return f; }

// --- checkpoint header ----------------------------------------------------------------

static int check_range(const char *what, const char *name, int32_t v, int32_t hi, lb_err *err) {
    if (v < 1 || v > hi) return lb_fail(err, "%s: %s = %d out of range [1, %d]", what, name, v, hi);
    return 0;
}

int lb_l2c_parse_header(lb_l2c_config *c, const uint8_t *buf, size_t avail, uint64_t file_size, const char *what,
                        lb_err *err) {
    memset(c, 0, sizeof *c);
    if (avail < 28) return lb_fail(err, "%s: truncated llama2.c header (%zu of 28 bytes)", what, avail);
    const uint8_t *p = buf;
    if ((uint32_t)rd_i32(buf) == LB_L2C_MAGIC) {
        int32_t version = rd_i32(buf + 4);
        if (version == 2) return lb_fail(err, "%s: llama2.c version 2 (int8) checkpoints are not supported; export float32 (version 0 or 1)", what);
        if (version != 1) return lb_fail(err, "%s: unknown llama2.c checkpoint version %d", what, version);
        if (avail < 256) return lb_fail(err, "%s: truncated llama2.c v1 header (%zu of 256 bytes)", what, avail);
        c->version = 1;
        c->header_bytes = 256;
        p = buf + 8;
    } else {
        c->header_bytes = 28;
    }
    c->dim = rd_i32(p); c->hidden_dim = rd_i32(p + 4); c->n_layers = rd_i32(p + 8); c->n_heads = rd_i32(p + 12);
    c->n_kv_heads = rd_i32(p + 16); c->vocab_size = rd_i32(p + 20); c->seq_len = rd_i32(p + 24);
    if (c->version == 1) {
        if (p[28] > 1) return lb_fail(err, "%s: shared_classifier flag is %u (want 0 or 1)", what, p[28]);
        c->shared_classifier = p[28];
        if (c->vocab_size < 0) return lb_fail(err, "%s: negative vocab_size %d in a v1 header", what, c->vocab_size);
    } else {
        // legacy: a negative vocab_size means the classifier is stored separately
        c->shared_classifier = c->vocab_size > 0;
        if (c->vocab_size < 0 && c->vocab_size > -MAX_VOCAB - 1) c->vocab_size = -c->vocab_size;
    }
    if (check_range(what, "dim", c->dim, MAX_DIM, err) || check_range(what, "hidden_dim", c->hidden_dim, MAX_HIDDEN, err) ||
        check_range(what, "n_layers", c->n_layers, MAX_LAYERS, err) || check_range(what, "n_heads", c->n_heads, MAX_HEADS, err) ||
        check_range(what, "n_kv_heads", c->n_kv_heads, MAX_HEADS, err) || check_range(what, "vocab_size", c->vocab_size, MAX_VOCAB, err) ||
        check_range(what, "seq_len", c->seq_len, MAX_SEQ, err))
        return -1;
    if (c->vocab_size < 3) return lb_fail(err, "%s: vocab_size %d is too small (unk, bos, eos are ids 0..2)", what, c->vocab_size);
    if (c->dim % c->n_heads) return lb_fail(err, "%s: dim %d not divisible by n_heads %d", what, c->dim, c->n_heads);
    if (c->n_heads % c->n_kv_heads) return lb_fail(err, "%s: n_heads %d not divisible by n_kv_heads %d", what, c->n_heads, c->n_kv_heads);
    uint64_t hs = (uint64_t)(c->dim / c->n_heads);
    if (hs % 2) return lb_fail(err, "%s: head size %llu is odd (RoPE rotates pairs)", what, (unsigned long long)hs);
    uint64_t dim = (uint64_t)c->dim, hid = (uint64_t)c->hidden_dim, L = (uint64_t)c->n_layers;
    uint64_t kv = hs * (uint64_t)c->n_kv_heads, V = (uint64_t)c->vocab_size;
    uint64_t floats = V * dim                 // token embedding
                    + 2 * L * dim + dim         // rms_att, rms_ffn, rms_final
                    + 2 * L * dim * dim         // wq, wo
                    + 2 * L * dim * kv          // wk, wv
                    + 3 * L * dim * hid         // w1, w2, w3
                    + (c->shared_classifier ? 0 : V * dim);
    if (c->version == 0) floats += (uint64_t)c->seq_len * hs;   // freq_cis_real + freq_cis_imag
    c->expected_size = c->header_bytes + 4 * floats;
    if (file_size != c->expected_size)
        return lb_fail(err, "%s: file is %llu bytes but its header (dim %d, hidden %d, %d layers, %d/%d heads, vocab %d%s, "
                       "seq %d) implies %llu", what, (unsigned long long)file_size, c->dim, c->hidden_dim, c->n_layers,
                       c->n_heads, c->n_kv_heads, c->vocab_size, c->shared_classifier ? "" : " unshared", c->seq_len,
                       (unsigned long long)c->expected_size);
    return 0;
}

// --- tokenizer.bin --------------------------------------------------------------------

enum { TT_NORMAL = 1, TT_UNKNOWN = 2, TT_CONTROL = 3, TT_BYTE = 6 };

int lb_l2c_parse_tokenizer(lb_kvs *kv, const uint8_t *buf, size_t size, int32_t vocab_size, const char *what,
                           lb_err *err) {
    if (vocab_size < 3 || vocab_size > MAX_VOCAB) return lb_fail(err, "%s: vocab_size %d out of range", what, vocab_size);
    if (size < 4) return lb_fail(err, "%s: truncated tokenizer header (%zu of 4 bytes)", what, size);
    int32_t max_len = rd_i32(buf);
    if (max_len < 0) return lb_fail(err, "%s: negative max_token_length %d", what, max_len);
    size_t n = (size_t)vocab_size;
    lb_str *tokens = calloc(n, sizeof *tokens);
    float *scores = calloc(n, sizeof *scores);
    int32_t *types = calloc(n, sizeof *types);
    // texts grow by at most 3x ("▁" is 3 bytes for each space) plus a NUL each
    char *text = malloc(3 * size + n + 16);
    int rc = -1;
    if (!tokens || !scores || !types || !text) { lb_fail(err, "out of memory (vocab %d)", vocab_size); goto done; }
    size_t off = 4;
    char *w = text;
    for (size_t id = 0; id < n; id++) {
        if (size - off < 8) { lb_fail(err, "%s: truncated at token %zu of %d (offset %zu)", what, id, vocab_size, off); goto done; }
        scores[id] = rd_f32(buf + off);
        int32_t len = rd_i32(buf + off + 4);
        off += 8;
        if (len < 0 || (size_t)len > size - off) {
            lb_fail(err, "%s: token %zu: length %d runs past the end of the file (%zu bytes left)", what, id, len, size - off);
            goto done;
        }
        const uint8_t *raw = buf + off;
        off += (size_t)len;
        // the converter works on C strings: bytes after an embedded NUL do not exist for it
        size_t clen = strnlen((const char *)raw, (size_t)len);
        char piece[16];
        const char *src = (const char *)raw;
        int32_t type;
        unsigned char byte_val;
        if (id == 0)                  { src = "<unk>"; clen = 5; type = TT_UNKNOWN; }
        else if (id == 1)             { src = "<s>";   clen = 3; type = TT_CONTROL; }
        else if (id == 2)             { src = "</s>";  clen = 4; type = TT_CONTROL; }
        else if (clen == 0)           { type = TT_CONTROL; }
        else {
            // same test as the converter: sscanf "<0x%02hhX>" on the C string
            size_t k = clen < sizeof piece - 1 ? clen : sizeof piece - 1;
            memcpy(piece, raw, k);
            piece[k] = 0;
            type = (clen == k && sscanf(piece, "<0x%02hhX>", &byte_val) == 1) ? TT_BYTE : TT_NORMAL;
        }
        // llama_escape_whitespaces: ' ' -> U+2581 "▁"
        tokens[id].ptr = w;
        for (size_t i = 0; i < clen; i++) {
            if (src[i] == ' ') { memcpy(w, "\xE2\x96\x81", 3); w += 3; } else *w++ = src[i];
        }
        tokens[id].len = (uint64_t)(w - tokens[id].ptr);
        *w++ = 0;
        types[id] = type;
    }
    if (off != size) { lb_fail(err, "%s: %zu unexpected bytes after %d tokens (vocab_size from the checkpoint)", what, size - off, vocab_size); goto done; }
    if (lb_kvs_set_str(kv, "tokenizer.ggml.model", "llama", err) ||
        lb_kvs_set_str_arr(kv, "tokenizer.ggml.tokens", tokens, n, err) ||
        lb_kvs_set_arr(kv, "tokenizer.ggml.scores", LB_VT_F32, scores, n, err) ||
        lb_kvs_set_arr(kv, "tokenizer.ggml.token_type", LB_VT_I32, types, n, err) ||
        lb_kvs_set_u32(kv, "tokenizer.ggml.unknown_token_id", 0, err) ||
        lb_kvs_set_u32(kv, "tokenizer.ggml.bos_token_id", 1, err) ||
        lb_kvs_set_u32(kv, "tokenizer.ggml.eos_token_id", 2, err))
        goto done;
    rc = 0;
done:
    free(tokens); free(scores); free(types); free(text);
    return rc;
}

// --- the model ------------------------------------------------------------------------

static void *map_file(const char *path, size_t *size, lb_err *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { lb_fail(err, "%s: %s", path, strerror(errno)); return NULL; }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) { close(fd); lb_fail(err, "%s: not a regular file", path); return NULL; }
    if (sb.st_size == 0) { close(fd); lb_fail(err, "%s: empty file", path); return NULL; }
    void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) { lb_fail(err, "%s: mmap: %s", path, strerror(errno)); return NULL; }
    *size = (size_t)sb.st_size;
    return map;
}

// One weight kind, all layers stored back to back (llama2.c writes every layer's wq, then
// every wk, ...): where it starts in the file and each layer's shape.
typedef struct { const char *gguf; uint64_t off; int64_t ne0, ne1; } kind;

static int add_one(lb_model *m, const uint8_t *base, const char *path, const char *name, uint64_t off,
                   int64_t ne0, int64_t ne1, lb_err *err) {
    lb_tensor t;
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "%s", name);
    t.type = LB_TYPE_F32;
    t.n_dims = ne1 ? 2 : 1;
    t.ne[0] = ne0; t.ne[1] = ne1 ? ne1 : 1; t.ne[2] = t.ne[3] = 1;
    t.nbytes = (uint64_t)ne0 * (uint64_t)t.ne[1] * 4;
    t.data = base + off;
    const char *b = strrchr(path, '/');
    snprintf(t.src, sizeof t.src, "%s@%llu", b ? b + 1 : path, (unsigned long long)off);
    return lb_model_add_tensor(m, &t, err);
}

enum { K_EMBD, K_ATT_NORM, K_Q, K_K, K_V, K_O, K_FFN_NORM, K_GATE, K_DOWN, K_UP, K_OUT_NORM, K_OUT, K_COUNT };

static int add_weights(lb_model *m, const lb_l2c_config *p, const uint8_t *base, const char *path, lb_err *err) {
    int64_t L = p->n_layers, dim = p->dim, hid = p->hidden_dim, V = p->vocab_size;
    int64_t kvd = (int64_t)(p->dim / p->n_heads) * p->n_kv_heads;
    kind k[K_COUNT] = {
        [K_EMBD] = {"token_embd", 0, dim, V},       [K_ATT_NORM] = {"attn_norm", 0, dim, 0},
        [K_Q] = {"attn_q", 0, dim, dim},            [K_K] = {"attn_k", 0, dim, kvd},
        [K_V] = {"attn_v", 0, dim, kvd},            [K_O] = {"attn_output", 0, dim, dim},
        [K_FFN_NORM] = {"ffn_norm", 0, dim, 0},     [K_GATE] = {"ffn_gate", 0, dim, hid},   // w1
        [K_DOWN] = {"ffn_down", 0, hid, dim},       [K_UP] = {"ffn_up", 0, dim, hid},       // w2, w3
        [K_OUT_NORM] = {"output_norm", 0, dim, 0},  [K_OUT] = {"output", 0, dim, V},
    };
    static const int legacy[] = {K_EMBD, K_ATT_NORM, K_Q, K_K, K_V, K_O, K_FFN_NORM, K_GATE, K_DOWN, K_UP, K_OUT_NORM, -1, K_OUT};
    static const int v1[] = {K_ATT_NORM, K_FFN_NORM, K_OUT_NORM, K_EMBD, K_Q, K_K, K_V, K_O, K_GATE, K_DOWN, K_UP, K_OUT};
    const int *order = p->version ? v1 : legacy;
    size_t n_order = p->version ? sizeof v1 / sizeof v1[0] : sizeof legacy / sizeof legacy[0];
    uint64_t off = p->header_bytes;
    for (size_t i = 0; i < n_order; i++) {
        if (order[i] < 0) { off += (uint64_t)p->seq_len * (uint64_t)(p->dim / p->n_heads) * 4; continue; }   // freq_cis: unused
        kind *kd = &k[order[i]];
        if (order[i] == K_OUT && p->shared_classifier) continue;
        int per_layer = order[i] != K_EMBD && order[i] != K_OUT_NORM && order[i] != K_OUT;
        kd->off = off;
        off += (per_layer ? (uint64_t)L : 1) * (uint64_t)kd->ne0 * (uint64_t)(kd->ne1 ? kd->ne1 : 1) * 4;
    }
    if (off != p->expected_size) return lb_fail(err, "%s: internal size mismatch (%llu vs %llu)", path,
                                                (unsigned long long)off, (unsigned long long)p->expected_size);
    // tensors in the order convert-llama2c-to-ggml adds them
    char name[LB_GGUF_MAX_NAME];
    if (add_one(m, base, path, "token_embd.weight", k[K_EMBD].off, dim, V, err) ||
        add_one(m, base, path, "output_norm.weight", k[K_OUT_NORM].off, dim, 0, err) ||
        (!p->shared_classifier && add_one(m, base, path, "output.weight", k[K_OUT].off, dim, V, err)))
        return -1;
    static const int per_layer[] = {K_Q, K_K, K_V, K_O, K_ATT_NORM, K_GATE, K_DOWN, K_UP, K_FFN_NORM};
    for (int64_t l = 0; l < L; l++) {
        for (size_t i = 0; i < sizeof per_layer / sizeof per_layer[0]; i++) {
            const kind *kd = &k[per_layer[i]];
            uint64_t layer_bytes = (uint64_t)kd->ne0 * (uint64_t)(kd->ne1 ? kd->ne1 : 1) * 4;
            snprintf(name, sizeof name, "blk.%lld.%s.weight", (long long)l, kd->gguf);
            if (add_one(m, base, path, name, kd->off + (uint64_t)l * layer_bytes, kd->ne0, kd->ne1, err)) return -1;
        }
    }
    return 0;
}

int lb_model_from_llama2c(lb_model *m, const char *bin_path, const char *tokenizer_bin, lb_err *err) {
    memset(m, 0, sizeof *m);
    lb_kvs_init(&m->kv);
    if (!tokenizer_bin) return lb_fail(err, "%s: a llama2.c checkpoint needs its tokenizer.bin (--tokenizer)", bin_path);
    size_t size = 0, tsize = 0;
    void *map = map_file(bin_path, &size, err);
    if (!map) return -1;
    if (lb_model_own_map(m, map, size, err)) { munmap(map, size); lb_model_free(m); return -1; }
    lb_l2c_config p;
    if (lb_l2c_parse_header(&p, map, size < 256 ? size : 256, size, bin_path, err)) goto fail;

    // metadata keys and types as convert-llama2c-to-ggml writes them (u32 counts, f32 eps)
    char name[256];
    const char *b = strrchr(bin_path, '/');
    snprintf(name, sizeof name, "%s", b ? b + 1 : bin_path);
    char *dot = strrchr(name, '.');
    if (dot && dot != name) *dot = 0;
    if (lb_kvs_set_str(&m->kv, "general.architecture", "llama", err) ||
        lb_kvs_set_str(&m->kv, "general.name", name, err) ||
        lb_kvs_set_u32(&m->kv, "general.file_type", 0, err) ||   // all f32
        lb_kvs_set_u32(&m->kv, "llama.context_length", (uint32_t)p.seq_len, err) ||
        lb_kvs_set_u32(&m->kv, "llama.embedding_length", (uint32_t)p.dim, err) ||
        lb_kvs_set_u32(&m->kv, "llama.feed_forward_length", (uint32_t)p.hidden_dim, err) ||
        lb_kvs_set_u32(&m->kv, "llama.attention.head_count", (uint32_t)p.n_heads, err) ||
        lb_kvs_set_u32(&m->kv, "llama.attention.head_count_kv", (uint32_t)p.n_kv_heads, err) ||
        lb_kvs_set_u32(&m->kv, "llama.block_count", (uint32_t)p.n_layers, err) ||
        lb_kvs_set_u32(&m->kv, "llama.rope.dimension_count", (uint32_t)(p.dim / p.n_heads), err) ||
        lb_kvs_set_f32(&m->kv, "llama.attention.layer_norm_rms_epsilon", 1e-5f, err) ||
        lb_kvs_set_f32(&m->kv, "llama.rope.freq_base", 10000.0f, err))
        goto fail;

    void *tmap = map_file(tokenizer_bin, &tsize, err);
    if (!tmap) goto fail;
    int trc = lb_l2c_parse_tokenizer(&m->kv, tmap, tsize, p.vocab_size, tokenizer_bin, err);
    munmap(tmap, tsize);
    if (trc) goto fail;
    if (add_weights(m, &p, map, bin_path, err)) goto fail;
    return 0;
fail:
    lb_model_free(m);
    return -1;
}
