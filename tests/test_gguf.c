// test_gguf.c: GGUF writer and reader, and the GGUF model source.
//   test_gguf                 write a file with every value type, arrays of each, tensors of
//                             F32/F16/Q8_0 and general.alignment 64; read it back and check every
//                             value; write again from what was read: bytes must be identical.
//                             Writer refusals, no temp files left behind, the real vocab GGUFs,
//                             lb_tensor_read_f32 (incl. the llama q/k permutation) and
//                             lb_hparams_from_model on a tiny hand-built model.
//   test_gguf --emit PATH     just write the test file (input for hostile_gguf.sh)
//   test_gguf --peer LIBDIR   read the written file with ggml's own gguf_init_from_file
//                             (libggml-base.so from node-llama-cpp) and compare everything,
//                             including ggml's re-serialized metadata, byte for byte.
#include <dlfcn.h>
#include <math.h>
#include <stdbool.h>
#include <unistd.h>
#include "fp16.h"
#include "gguf.h"
#include "lb_types.h"
#include "model.h"
#include "test_util.h"

// --- the test file -------------------------------------------------------------------
// Expected sizes are written out by hand from the type table in REFERENCE.md §3 (F32 4 B,
// F16 2 B, Q8_0 34 B per 32 values), not taken from lb_row_size.
#define N_TENSORS 3
static const char *tnames[N_TENSORS] = {"blk.0.attn_q.weight", "f16.vec", "q8.mat"};
static const uint32_t ttypes[N_TENSORS] = {LB_TYPE_F32, LB_TYPE_F16, LB_TYPE_Q8_0};
static const int64_t tne[N_TENSORS][2] = {{5, 3}, {7, 1}, {64, 2}};
static const uint32_t tndims[N_TENSORS] = {2, 1, 2};
static const uint64_t tbytes[N_TENSORS] = {60, 14, 136};
static const uint64_t toffsets[N_TENSORS] = {0, 64, 128};   // each start aligned to 64
static uint8_t tdata[N_TENSORS][136];

static const uint8_t   v_u8[3]  = {0, 1, 255};
static const int8_t    v_i8[3]  = {-128, 0, 127};
static const uint16_t  v_u16[3] = {0, 1, 65535};
static const int16_t   v_i16[3] = {-32768, -1, 32767};
static const uint32_t  v_u32[3] = {0, 7, 4294967295u};
static const int32_t   v_i32[3] = {INT32_MIN, -5, INT32_MAX};
static const float     v_f32[3] = {-1.5f, 0.0f, 3.25e-7f};
static const uint8_t   v_bool[3] = {1, 0, 1};
static const uint64_t  v_u64[3] = {0, 1ull << 40, UINT64_MAX};
static const int64_t   v_i64[3] = {INT64_MIN, -3, INT64_MAX};
static const double    v_f64[3] = {-2.5, 1e300, 0.1};
static const lb_str    v_str[4] = {{5, "hello"}, {0, ""}, {3, "a\0b"}, {4, "\xe2\x96\x81x"}};

static int build_kv(lb_kvs *kv, lb_err *err) {
    uint32_t align = 64;
    // scalars: the first element of each array
    struct { const char *key; uint32_t type; const void *v; } sc[] = {
        {"t.u8", LB_VT_U8, &v_u8[2]}, {"t.i8", LB_VT_I8, &v_i8[0]}, {"t.u16", LB_VT_U16, &v_u16[2]},
        {"t.i16", LB_VT_I16, &v_i16[0]}, {"t.u32", LB_VT_U32, &v_u32[2]}, {"t.i32", LB_VT_I32, &v_i32[0]},
        {"t.f32", LB_VT_F32, &v_f32[2]}, {"t.bool", LB_VT_BOOL, &v_bool[0]}, {"t.u64", LB_VT_U64, &v_u64[2]},
        {"t.i64", LB_VT_I64, &v_i64[0]}, {"t.f64", LB_VT_F64, &v_f64[1]}, {"general.alignment", LB_VT_U32, &align},
    };
    for (size_t i = 0; i < sizeof sc / sizeof sc[0]; i++)
        if (lb_kvs_set_scalar(kv, sc[i].key, sc[i].type, sc[i].v, err)) return -1;
    if (lb_kvs_set_strn(kv, "t.str", "tab\there \"q\" \xff", 14, err)) return -1;
    struct { const char *key; uint32_t type; const void *v; } ar[] = {
        {"a.u8", LB_VT_U8, v_u8}, {"a.i8", LB_VT_I8, v_i8}, {"a.u16", LB_VT_U16, v_u16}, {"a.i16", LB_VT_I16, v_i16},
        {"a.u32", LB_VT_U32, v_u32}, {"a.i32", LB_VT_I32, v_i32}, {"a.f32", LB_VT_F32, v_f32}, {"a.bool", LB_VT_BOOL, v_bool},
        {"a.u64", LB_VT_U64, v_u64}, {"a.i64", LB_VT_I64, v_i64}, {"a.f64", LB_VT_F64, v_f64},
    };
    for (size_t i = 0; i < sizeof ar / sizeof ar[0]; i++)
        if (lb_kvs_set_arr(kv, ar[i].key, ar[i].type, ar[i].v, 3, err)) return -1;
    if (lb_kvs_set_str_arr(kv, "a.str", v_str, 4, err)) return -1;
    if (lb_kvs_set_arr(kv, "a.empty", LB_VT_F32, NULL, 0, err)) return -1;
    return 0;
}

static void build_tensor_data(void) {
    for (int i = 0; i < N_TENSORS; i++)
        for (int j = 0; j < 136; j++) tdata[i][j] = (uint8_t)(i * 91 + j * 7 + 1);
    // F32: 0.5 * index; F16: index - 3 (exact in half)
    for (int j = 0; j < 15; j++) { float f = 0.5f * (float)j; memcpy(tdata[0] + 4 * j, &f, 4); }
    for (int j = 0; j < 7; j++) { uint16_t h = lb_f32_to_fp16((float)(j - 3)); memcpy(tdata[1] + 2 * j, &h, 2); }
    // Q8_0 block scales must be sane halves for a to_float check: d = 1.0 -> 0x3c00
    for (int b = 0; b < 4; b++) { tdata[2][34 * b] = 0x00; tdata[2][34 * b + 1] = 0x3c; }
}

static void describe_tensors(lb_gguf_tensor *t) {
    memset(t, 0, N_TENSORS * sizeof *t);
    for (int i = 0; i < N_TENSORS; i++) {
        snprintf(t[i].name, sizeof t[i].name, "%s", tnames[i]);
        t[i].n_dims = tndims[i];
        t[i].ne[0] = tne[i][0]; t[i].ne[1] = tne[i][1]; t[i].ne[2] = 1; t[i].ne[3] = 1;
        t[i].type = ttypes[i];
    }
}

static int write_test_file(const char *path, lb_err *err) {
    lb_kvs kv;
    lb_kvs_init(&kv);
    lb_gguf_tensor t[N_TENSORS];
    describe_tensors(t);
    if (build_kv(&kv, err)) { lb_kvs_free(&kv); return -1; }
    // alignment 32 passed, general.alignment 64 in kv must win
    lb_gguf_writer *w = lb_gguf_writer_open(path, &kv, t, N_TENSORS, 32, err);
    lb_kvs_free(&kv);
    if (!w) return -1;
    int rc = lb_gguf_writer_put(w, 0, tdata[0], tbytes[0], err);
    // tensors 1 and 2 streamed in uneven chunks that cross the tensor boundary
    uint8_t joined[14 + 136];
    memcpy(joined, tdata[1], 14);
    memcpy(joined + 14, tdata[2], 136);
    if (!rc) rc = lb_gguf_writer_append(w, joined, 5, err);
    if (!rc) rc = lb_gguf_writer_append(w, joined + 5, 100, err);
    if (!rc) rc = lb_gguf_writer_append(w, joined + 105, sizeof joined - 105, err);
    if (rc) { lb_gguf_writer_abort(w); return -1; }
    return lb_gguf_writer_close(w, err);
}

static uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)sz + 1);
    if (b && fread(b, 1, (size_t)sz, f) != (size_t)sz) { free(b); b = NULL; }
    fclose(f);
    *n = (size_t)sz;
    return b;
}

static int file_exists(const char *p) { return access(p, F_OK) == 0; }

// --- checks of what was read -------------------------------------------------------------

static int check_arr(const lb_kvs *kv, const char *key, uint32_t type, const void *want, size_t esz) {
    uint64_t n = 0;
    const void *got = lb_kvs_get_arr(kv, key, type, &n);
    CHECK(got && n == 3, "%s: missing or count %llu", key, (unsigned long long)n);
    CHECK(!memcmp(got, want, 3 * esz), "%s: values differ", key);
    return 0;
}

static int check_read_back(const lb_gguf *g) {
    CHECK(g->version == 3, "version %u", g->version);
    CHECK(g->alignment == 64, "alignment %u", g->alignment);
    CHECK(g->data_offset % 64 == 0 && g->data_offset > 24, "data offset %llu", (unsigned long long)g->data_offset);
    CHECK(g->kv.n == 26, "n_kv %zu", g->kv.n);
    CHECK(!strcmp(g->kv.v[0].key, "t.u8") && !strcmp(g->kv.v[25].key, "a.empty"), "key order");
    const lb_kvs *kv = &g->kv;
    int64_t i; double d;
    CHECK(lb_kvs_get_int(kv, "t.u8", &i) == 0 && i == 255 && lb_kvs_find(kv, "t.u8")->type == LB_VT_U8, "t.u8");
    CHECK(lb_kvs_get_int(kv, "t.i8", &i) == 0 && i == -128 && lb_kvs_find(kv, "t.i8")->type == LB_VT_I8, "t.i8");
    CHECK(lb_kvs_get_int(kv, "t.u16", &i) == 0 && i == 65535 && lb_kvs_find(kv, "t.u16")->type == LB_VT_U16, "t.u16");
    CHECK(lb_kvs_get_int(kv, "t.i16", &i) == 0 && i == -32768 && lb_kvs_find(kv, "t.i16")->type == LB_VT_I16, "t.i16");
    CHECK(lb_kvs_get_int(kv, "t.u32", &i) == 0 && i == 4294967295LL && lb_kvs_find(kv, "t.u32")->type == LB_VT_U32, "t.u32");
    CHECK(lb_kvs_get_int(kv, "t.i32", &i) == 0 && i == INT32_MIN && lb_kvs_find(kv, "t.i32")->type == LB_VT_I32, "t.i32");
    CHECK(lb_kvs_get_float(kv, "t.f32", &d) == 0 && (float)d == 3.25e-7f && lb_kvs_find(kv, "t.f32")->type == LB_VT_F32, "t.f32");
    CHECK(lb_kvs_get_int(kv, "t.bool", &i) == 0 && i == 1 && lb_kvs_find(kv, "t.bool")->type == LB_VT_BOOL, "t.bool");
    uint64_t u; memcpy(&u, lb_kvs_find(kv, "t.u64")->data, 8);
    CHECK(u == UINT64_MAX && lb_kvs_find(kv, "t.u64")->type == LB_VT_U64, "t.u64");
    CHECK(lb_kvs_get_int(kv, "t.i64", &i) == 0 && i == INT64_MIN && lb_kvs_find(kv, "t.i64")->type == LB_VT_I64, "t.i64");
    CHECK(lb_kvs_get_float(kv, "t.f64", &d) == 0 && d == 1e300 && lb_kvs_find(kv, "t.f64")->type == LB_VT_F64, "t.f64");
    const lb_kv *s = lb_kvs_find(kv, "t.str");
    CHECK(s && s->type == LB_VT_STR && ((const lb_str *)s->data)->len == 14 &&
          !memcmp(((const lb_str *)s->data)->ptr, "tab\there \"q\" \xff", 14) && ((const lb_str *)s->data)->ptr[14] == 0, "t.str");
    if (check_arr(kv, "a.u8", LB_VT_U8, v_u8, 1) || check_arr(kv, "a.i8", LB_VT_I8, v_i8, 1) ||
        check_arr(kv, "a.u16", LB_VT_U16, v_u16, 2) || check_arr(kv, "a.i16", LB_VT_I16, v_i16, 2) ||
        check_arr(kv, "a.u32", LB_VT_U32, v_u32, 4) || check_arr(kv, "a.i32", LB_VT_I32, v_i32, 4) ||
        check_arr(kv, "a.f32", LB_VT_F32, v_f32, 4) || check_arr(kv, "a.bool", LB_VT_BOOL, v_bool, 1) ||
        check_arr(kv, "a.u64", LB_VT_U64, v_u64, 8) || check_arr(kv, "a.i64", LB_VT_I64, v_i64, 8) ||
        check_arr(kv, "a.f64", LB_VT_F64, v_f64, 8)) return 1;
    uint64_t n;
    const lb_str *strs = lb_kvs_get_str_arr(kv, "a.str", &n);
    CHECK(strs && n == 4, "a.str");
    for (int k = 0; k < 4; k++)
        CHECK(strs[k].len == v_str[k].len && !memcmp(strs[k].ptr, v_str[k].ptr, v_str[k].len) && strs[k].ptr[strs[k].len] == 0, "a.str[%d]", k);
    CHECK(lb_kvs_get_arr(kv, "a.empty", LB_VT_F32, &n) && n == 0, "a.empty");

    CHECK(g->n_tensors == N_TENSORS, "n_tensors %llu", (unsigned long long)g->n_tensors);
    for (int k = 0; k < N_TENSORS; k++) {
        const lb_gguf_tensor *t = lb_gguf_find(g, tnames[k]);
        CHECK(t == &g->tensors[k], "tensor %s position", tnames[k]);
        CHECK(t->type == ttypes[k] && t->n_dims == tndims[k], "tensor %s type/dims", tnames[k]);
        CHECK(t->ne[0] == tne[k][0] && t->ne[1] == tne[k][1] && t->ne[2] == 1 && t->ne[3] == 1, "tensor %s shape", tnames[k]);
        CHECK(t->nbytes == tbytes[k] && t->offset == toffsets[k], "tensor %s bytes %llu offset %llu", tnames[k],
              (unsigned long long)t->nbytes, (unsigned long long)t->offset);
        CHECK(t->data == g->base + g->data_offset + toffsets[k] && !memcmp(t->data, tdata[k], tbytes[k]), "tensor %s data", tnames[k]);
    }
    CHECK(lb_gguf_find(g, "nope") == NULL, "find absent");
    // 128 + 136 = 264, padded to 320: the file ends on the alignment like ggml's writer
    CHECK(g->size == g->data_offset + 320, "file size %zu, data offset %llu", g->size, (unsigned long long)g->data_offset);
    // padding bytes are zero
    for (uint64_t p = g->data_offset + 60; p < g->data_offset + 64; p++) CHECK(g->base[p] == 0, "padding byte %llu", (unsigned long long)p);
    for (uint64_t p = g->data_offset + 264; p < g->size; p++) CHECK(g->base[p] == 0, "tail padding byte %llu", (unsigned long long)p);
    // header words by hand
    uint32_t ver; uint64_t nt, nk;
    memcpy(&ver, g->base + 4, 4); memcpy(&nt, g->base + 8, 8); memcpy(&nk, g->base + 16, 8);
    CHECK(!memcmp(g->base, "GGUF", 4) && ver == 3 && nt == 3 && nk == 26, "raw header");
    return 0;
}

// write -> read -> write must reproduce the bytes
static int rewrite(const lb_gguf *g, const char *path, lb_err *err) {
    lb_gguf_writer *w = lb_gguf_writer_open(path, &g->kv, g->tensors, g->n_tensors, LB_GGUF_DEFAULT_ALIGNMENT, err);
    if (!w) return -1;
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (lb_gguf_writer_put(w, i, g->tensors[i].data, g->tensors[i].nbytes, err)) { lb_gguf_writer_abort(w); return -1; }
    return lb_gguf_writer_close(w, err);
}

// --- writer refusals and temp files ----------------------------------------------------

static int expect_open_fails(const char *path, const lb_kvs *kv, lb_gguf_tensor *t, uint64_t n, const char *needle) {
    lb_err err = {0};
    lb_gguf_writer *w = lb_gguf_writer_open(path, kv, t, n, 32, &err);
    if (w) { lb_gguf_writer_abort(w); CHECK(0, "writer accepted a bad input (%s)", needle); }
    CHECK(strstr(err.msg, needle) && strstr(err.msg, path), "error '%s' lacks '%s' or the path", err.msg, needle);
    CHECK(!file_exists(path), "%s exists after a refused open", path);
    return 0;
}

static int test_writer_refusals(const char *dir) {
    char path[512], tmp[600];
    snprintf(path, sizeof path, "%s/refused.gguf", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    lb_kvs kv;
    lb_kvs_init(&kv);
    lb_err err = {0};
    lb_gguf_tensor t[N_TENSORS];
    describe_tensors(t);   // only the first two are passed
    memset(t[0].name, 'x', LB_GGUF_MAX_NAME);   // not terminated inside 64 bytes
    if (expect_open_fails(path, &kv, t, 2, "64")) return 1;
    snprintf(t[0].name, sizeof t[0].name, "%s", "f16.vec");   // duplicate of t[1]
    if (expect_open_fails(path, &kv, t, 2, "duplicate")) return 1;
    describe_tensors(t);
    t[1].type = LB_TYPE_Q8_0;   // 7 values per row: not a multiple of 32
    if (expect_open_fails(path, &kv, t, 2, "multiple")) return 1;
    describe_tensors(t);
    t[1].type = 3333;
    if (expect_open_fails(path, &kv, t, 2, "unknown type")) return 1;
    describe_tensors(t);
    t[0].n_dims = 5;
    if (expect_open_fails(path, &kv, t, 2, "dimensions")) return 1;
    describe_tensors(t);
    CHECK(lb_kvs_set_u32(&kv, "general.alignment", 48, &err) == 0, "%s", err.msg);
    if (expect_open_fails(path, &kv, t, 2, "power of two")) return 1;
    CHECK(lb_kvs_set_i32(&kv, "general.alignment", 64, &err) == 0, "%s", err.msg);
    if (expect_open_fails(path, &kv, t, 2, "u32")) return 1;
    lb_kvs_remove(&kv, "general.alignment");

    // wrong byte count: put fails, close fails, nothing left on disk
    lb_gguf_writer *w = lb_gguf_writer_open(path, &kv, t, 2, 32, &err);
    CHECK(w, "%s", err.msg);
    CHECK(file_exists(tmp), "temp file %s not created", tmp);
    CHECK(lb_gguf_writer_put(w, 0, tdata[0], 59, &err) == -1 && strstr(err.msg, "59"), "short put accepted: %s", err.msg);
    CHECK(lb_gguf_writer_close(w, &err) == -1, "close after failure succeeded");
    CHECK(!file_exists(path) && !file_exists(tmp), "files left after failed write");
    // missing tensors at close
    w = lb_gguf_writer_open(path, &kv, t, 2, 32, &err);
    CHECK(w && lb_gguf_writer_put(w, 0, tdata[0], 60, &err) == 0, "%s", err.msg);
    CHECK(lb_gguf_writer_close(w, &err) == -1 && strstr(err.msg, "1 of 2"), "incomplete close: %s", err.msg);
    CHECK(!file_exists(path) && !file_exists(tmp), "files left after incomplete write");
    // out of order, too much data, abort
    w = lb_gguf_writer_open(path, &kv, t, 2, 32, &err);
    CHECK(w && lb_gguf_writer_put(w, 1, tdata[1], 14, &err) == -1, "out-of-order put accepted");
    lb_gguf_writer_abort(w);
    w = lb_gguf_writer_open(path, &kv, t, 2, 32, &err);
    CHECK(w && lb_gguf_writer_append(w, tdata[2], 60 + 14 + 1, &err) == -1, "extra data accepted");
    lb_gguf_writer_abort(w);
    CHECK(!file_exists(path) && !file_exists(tmp), "files left after abort");
    lb_kvs_free(&kv);
    return 0;
}

// --- real vocab files ------------------------------------------------------------------
// Token counts verified independently with llama.cpp's gguf-py (GGUFReader): llama-spm 22
// keys, 32000 tokens; qwen2 20 keys, 151936 tokens, 151387 merges; both 0 tensors.

static int test_vocab(const char *rel, uint64_t n_keys, uint64_t n_tokens, const char *tok0, const char *dir) {
    char path[1024];
    if (!lb_test_data(rel, path, sizeof path)) return -2;
    lb_gguf g;
    lb_err err;
    CHECK(lb_gguf_open(&g, path, &err) == 0, "%s", err.msg);
    uint64_t n = 0;
    const lb_str *toks = lb_kvs_get_str_arr(&g.kv, "tokenizer.ggml.tokens", &n);
    CHECK(g.kv.n == n_keys && g.n_tensors == 0, "%s: %zu keys", rel, g.kv.n);
    CHECK(toks && n == n_tokens, "%s: %llu tokens", rel, (unsigned long long)n);
    CHECK(!strcmp(toks[0].ptr, tok0), "%s: first token '%s'", rel, toks[0].ptr);
    // our writer re-encodes the metadata byte for byte (the original ends without padding:
    // gguf-py does not pad a tensor-less file; ours pads with zeros like ggml's writer)
    char out[600];
    snprintf(out, sizeof out, "%s/vocab-rewrite.gguf", dir);
    CHECK(rewrite(&g, out, &err) == 0, "%s", err.msg);
    size_t nb;
    uint8_t *b = slurp(out, &nb);
    CHECK(b && nb >= g.size && nb - g.size < g.alignment && !memcmp(b, g.base, g.size), "%s: rewrite differs", rel);
    for (size_t i = g.size; i < nb; i++) CHECK(b[i] == 0, "%s: rewrite padding", rel);
    free(b);
    unlink(out);
    lb_gguf_close(&g);
    return 0;
}

// --- model: f32 materialization and hparams ------------------------------------------------

static int test_read_f32(const char *path) {
    lb_model m;
    lb_err err;
    CHECK(lb_model_load(&m, path, NULL, &err) == 0, "%s", err.msg);
    CHECK(m.gguf && m.n_tensors == N_TENSORS && m.kv.n == 26, "model from gguf");
    float out[64 * 2];
    const lb_tensor *t = lb_model_find(&m, "blk.0.attn_q.weight");
    CHECK(t && lb_tensor_read_f32(t, 1, 2, out, &err) == 0, "%s", err.msg);
    for (int j = 0; j < 10; j++) CHECK(out[j] == 0.5f * (float)(j + 5), "f32 [%d] = %g", j, out[j]);
    CHECK(lb_tensor_read_f32(t, 2, 2, out, &err) == -1, "row range past the end accepted");
    t = lb_model_find(&m, "f16.vec");
    CHECK(t && lb_tensor_read_f32(t, 0, 1, out, &err) == 0, "%s", err.msg);
    for (int j = 0; j < 7; j++) CHECK(out[j] == (float)(j - 3), "f16 [%d] = %g", j, out[j]);
    t = lb_model_find(&m, "q8.mat");
    const lb_type_traits *q8 = lb_type_get(LB_TYPE_Q8_0);
    if (q8->to_float) {   // d = 1.0, so value = the int8 quant
        CHECK(lb_tensor_read_f32(t, 1, 1, out, &err) == 0, "%s", err.msg);
        for (int j = 0; j < 64; j++) {
            int blk = 2 + j / 32;
            float want = (float)(int8_t)tdata[2][34 * blk + 2 + j % 32];
            CHECK(out[j] == want, "q8_0 row 1 [%d] = %g, want %g", j, out[j], want);
        }
    }
    lb_model_free(&m);

    // PERMUTE_QK on 8 rows x 3 cols, 2 heads (hd 4): per head, out rows come from in rows
    // 0,2,1,3 (worked out by hand from reshape(H,2,hd/2,in).swapaxes(1,2))
    float src[8 * 3];
    for (int r = 0; r < 8; r++) for (int c = 0; c < 3; c++) src[r * 3 + c] = (float)(r * 10 + c);
    lb_tensor pt = { .name = "blk.0.attn_k.weight", .type = LB_TYPE_F32, .n_dims = 2, .ne = {3, 8, 1, 1},
                     .data = src, .nbytes = sizeof src, .xform = LB_XFORM_PERMUTE_QK, .xform_heads = 2 };
    static const int perm[8] = {0, 2, 1, 3, 4, 6, 5, 7};
    CHECK(lb_tensor_read_f32(&pt, 0, 8, out, &err) == 0, "%s", err.msg);
    for (int r = 0; r < 8; r++) for (int c = 0; c < 3; c++)
        CHECK(out[r * 3 + c] == (float)(perm[r] * 10 + c), "permute row %d col %d = %g", r, c, out[r * 3 + c]);
    CHECK(lb_tensor_read_f32(&pt, 5, 2, out, &err) == 0, "%s", err.msg);   // slice: rows 5,6 <- 6,5
    CHECK(out[0] == 60 && out[3] == 50, "permute slice %g %g", out[0], out[3]);
    pt.xform_heads = 3;
    CHECK(lb_tensor_read_f32(&pt, 0, 8, out, &err) == -1, "8 rows in 3 heads accepted");
    return 0;
}

// A tiny llama description with fake data; shapes are what llama.cpp's loader wants.
static int add_fake(lb_model *m, const char *name, int64_t ne0, int64_t ne1, void *buf, lb_err *err) {
    lb_tensor t = { .type = LB_TYPE_F32, .n_dims = ne1 ? 2 : 1, .ne = {ne0, ne1 ? ne1 : 1, 1, 1}, .data = buf };
    t.nbytes = (uint64_t)(ne0 * (ne1 ? ne1 : 1) * 4);
    snprintf(t.name, sizeof t.name, "%s", name);
    return lb_model_add_tensor(m, &t, err);
}

static int build_tiny(lb_model *m, const char *arch, int qkv_bias, int skip_layer1_ffn_up, lb_err *err) {
    // embd 8, 2 heads of 4, 1 kv head, ff 12, vocab 10, 2 layers
    static float buf[12 * 10];
    memset(m, 0, sizeof *m);
    char k[96];
    if (lb_kvs_set_str(&m->kv, "general.architecture", arch, err)) return -1;
#define SETU(suffix, v) (snprintf(k, sizeof k, "%s." suffix, arch), lb_kvs_set_u32(&m->kv, k, v, err))
    if (SETU("context_length", 64) || SETU("embedding_length", 8) || SETU("block_count", 2) ||
        SETU("feed_forward_length", 12) || SETU("attention.head_count", 2) || SETU("attention.head_count_kv", 1)) return -1;
#undef SETU
    snprintf(k, sizeof k, "%s.attention.layer_norm_rms_epsilon", arch);
    if (lb_kvs_set_f32(&m->kv, k, 1e-5f, err)) return -1;
    if (add_fake(m, "token_embd.weight", 8, 10, buf, err) || add_fake(m, "output_norm.weight", 8, 0, buf, err)) return -1;
    for (int l = 0; l < 2; l++) {
        char n[64];
#define T(suffix, a, b) (snprintf(n, sizeof n, "blk.%d." suffix, l), add_fake(m, n, a, b, buf, err))
        if (T("attn_norm.weight", 8, 0) || T("attn_q.weight", 8, 8) || T("attn_k.weight", 8, 4) ||
            T("attn_v.weight", 8, 4) || T("attn_output.weight", 8, 8) || T("ffn_norm.weight", 8, 0) ||
            T("ffn_gate.weight", 8, 12) || T("ffn_down.weight", 12, 8)) return -1;
        if (!(skip_layer1_ffn_up && l == 1) && T("ffn_up.weight", 8, 12)) return -1;
        if (!strcmp(arch, "qwen3") && (T("attn_q_norm.weight", 4, 0) || T("attn_k_norm.weight", 4, 0))) return -1;
        if (qkv_bias && (T("attn_q.bias", 8, 0) || T("attn_k.bias", 4, 0) || T("attn_v.bias", 4, 0))) return -1;
#undef T
    }
    return 0;
}

static int test_hparams(void) {
    lb_model m;
    lb_hparams hp;
    lb_err err;
    CHECK(build_tiny(&m, "llama", 0, 0, &err) == 0, "%s", err.msg);
    CHECK(lb_hparams_from_model(&hp, &m, "tiny", &err) == 0, "%s", err.msg);
    CHECK(hp.arch == LB_ARCH_LLAMA && hp.n_vocab == 10 && hp.n_embd == 8 && hp.n_layer == 2 && hp.n_ff == 12 &&
          hp.n_head == 2 && hp.n_head_kv == 1 && hp.head_dim == 4 && hp.n_ctx_train == 64, "llama hparams");
    CHECK(hp.rope_base == 10000.0f && hp.norm_eps == 1e-5f && hp.rope_style == LB_ROPE_ADJACENT &&
          hp.qk_norm == LB_QK_NORM_NONE && !hp.qkv_bias && hp.tied_output, "llama defaults");
    // wrong shape is named
    ((lb_tensor *)lb_model_find(&m, "blk.1.attn_k.weight"))->ne[1] = 8;
    CHECK(lb_hparams_from_model(&hp, &m, "tiny", &err) == -1 && strstr(err.msg, "'blk.1.attn_k.weight'") &&
          strstr(err.msg, "{8, 4}"), "bad shape: %s", err.msg);
    lb_model_free(&m);
    // missing tensor
    CHECK(build_tiny(&m, "llama", 0, 1, &err) == 0, "%s", err.msg);
    CHECK(lb_hparams_from_model(&hp, &m, "tiny", &err) == -1 && strstr(err.msg, "missing tensor 'blk.1.ffn_up.weight'"), "%s", err.msg);
    lb_model_free(&m);
    // qwen2 with biases, an output head and an absurd layer count
    CHECK(build_tiny(&m, "qwen2", 1, 0, &err) == 0, "%s", err.msg);
    static float obuf[80];
    CHECK(add_fake(&m, "output.weight", 8, 10, obuf, &err) == 0, "%s", err.msg);
    CHECK(lb_hparams_from_model(&hp, &m, "tiny", &err) == 0, "%s", err.msg);
    CHECK(hp.arch == LB_ARCH_QWEN2 && hp.qkv_bias && !hp.tied_output && hp.rope_style == LB_ROPE_NEOX, "qwen2 flags");
    CHECK(add_fake(&m, "blk.9.ffn_up.weight", 8, 12, obuf, &err) == 0, "%s", err.msg);
    CHECK(lb_hparams_from_model(&hp, &m, "tiny", &err) == -1 && strstr(err.msg, "unexpected tensor 'blk.9.ffn_up.weight'"), "%s", err.msg);
    CHECK(lb_kvs_set_u32(&m.kv, "qwen2.block_count", 1000000, &err) == 0, "%s", err.msg);
    CHECK(lb_hparams_from_model(&hp, &m, "tiny", &err) == -1 && strstr(err.msg, "qwen2.block_count"), "%s", err.msg);
    lb_model_free(&m);
    // qwen3: q/k norms before rope; removing head_count is a named missing key
    CHECK(build_tiny(&m, "qwen3", 0, 0, &err) == 0, "%s", err.msg);
    CHECK(lb_hparams_from_model(&hp, &m, "tiny", &err) == 0 && hp.qk_norm == LB_QK_NORM_BEFORE_ROPE, "qwen3: %s", err.msg);
    lb_kvs_remove(&m.kv, "qwen3.attention.head_count");
    CHECK(lb_hparams_from_model(&hp, &m, "tiny", &err) == -1 && strstr(err.msg, "qwen3.attention.head_count"), "%s", err.msg);
    lb_model_free(&m);
    CHECK(build_tiny(&m, "gpt9", 0, 0, &err) == 0, "%s", err.msg);
    CHECK(lb_hparams_from_model(&hp, &m, "tiny", &err) == -1 && strstr(err.msg, "gpt9"), "%s", err.msg);
    lb_model_free(&m);
    // a tiny llama GGUF written by an independent (Python struct) encoder: tests/fuzz/corpus/gguf
    const char *src = getenv("LOWBIT_SRC");
    char tp[1024];
    snprintf(tp, sizeof tp, "%s/tests/fuzz/corpus/gguf/tiny-llama.gguf", src ? src : "..");
    CHECK(lb_model_load(&m, tp, NULL, &err) == 0, "%s", err.msg);
    CHECK(lb_hparams_from_model(&hp, &m, tp, &err) == 0, "%s", err.msg);
    CHECK(hp.n_vocab == 10 && hp.n_embd == 8 && hp.n_layer == 1 && hp.n_head_kv == 1 && hp.head_dim == 4 && hp.tied_output, "tiny-llama hparams");
    float row[8];
    const lb_tensor *ov = lb_model_find(&m, "blk.0.attn_output.weight");   // f32: value 0.01 * index
    CHECK(ov && lb_tensor_read_f32(ov, 7, 1, row, &err) == 0 && row[3] == (float)(0.01 * 59), "tiny-llama f32 row: %g", row[3]);
    lb_model_free(&m);
    CHECK(lb_arch_from_name("hunyuan-dense") == LB_ARCH_HUNYUAN_DENSE && !strcmp(lb_arch_name(LB_ARCH_QWEN3), "qwen3"), "arch names");
    return 0;
}

// --- peer: ggml's own reader -----------------------------------------------------------

struct gguf_init_params { bool no_alloc; void **ctx; };
#define SYM(ret, name, ...) ret (*name)(__VA_ARGS__) = (ret (*)(__VA_ARGS__))dlsym(lib, #name); \
    CHECK(name, "symbol %s missing", #name)

static int test_peer(const char *libdir, const char *path) {
    char lp[1024];
    snprintf(lp, sizeof lp, "%s/libggml-base.so", libdir);
    void *lib = dlopen(lp, RTLD_NOW | RTLD_LOCAL);
    if (!lib) { fprintf(stderr, "peer library not available: %s\n", dlerror()); return TEST_SKIP; }
    SYM(void *, gguf_init_from_file, const char *, struct gguf_init_params);
    SYM(void, gguf_free, void *);
    SYM(uint32_t, gguf_get_version, void *);
    SYM(size_t, gguf_get_alignment, void *);
    SYM(size_t, gguf_get_data_offset, void *);
    SYM(int64_t, gguf_get_n_kv, void *);
    SYM(const char *, gguf_get_key, void *, int64_t);
    SYM(int, gguf_get_kv_type, void *, int64_t);
    SYM(int, gguf_get_arr_type, void *, int64_t);
    SYM(size_t, gguf_get_arr_n, void *, int64_t);
    SYM(const void *, gguf_get_arr_data, void *, int64_t);
    SYM(const char *, gguf_get_arr_str, void *, int64_t, size_t);
    SYM(const void *, gguf_get_val_data, void *, int64_t);
    SYM(const char *, gguf_get_val_str, void *, int64_t);
    SYM(int64_t, gguf_get_n_tensors, void *);
    SYM(const char *, gguf_get_tensor_name, void *, int64_t);
    SYM(size_t, gguf_get_tensor_offset, void *, int64_t);
    SYM(int, gguf_get_tensor_type, void *, int64_t);
    SYM(size_t, gguf_get_tensor_size, void *, int64_t);
    SYM(size_t, gguf_get_meta_size, void *);
    SYM(void, gguf_get_meta_data, void *, void *);

    void *ctx = gguf_init_from_file(path, (struct gguf_init_params){ .no_alloc = true, .ctx = NULL });
    CHECK(ctx, "ggml's gguf_init_from_file rejected %s", path);
    CHECK(gguf_get_version(ctx) == 3 && gguf_get_alignment(ctx) == 64, "ggml: version/alignment");
    lb_gguf g;
    lb_err err;
    CHECK(lb_gguf_open(&g, path, &err) == 0, "%s", err.msg);
    CHECK(gguf_get_data_offset(ctx) == g.data_offset, "ggml data offset %zu vs %llu", gguf_get_data_offset(ctx), (unsigned long long)g.data_offset);
    CHECK(gguf_get_n_kv(ctx) == (int64_t)g.kv.n, "ggml n_kv %lld", (long long)gguf_get_n_kv(ctx));
    for (int64_t i = 0; i < gguf_get_n_kv(ctx); i++) {
        const lb_kv *e = &g.kv.v[i];
        CHECK(!strcmp(gguf_get_key(ctx, i), e->key) && gguf_get_kv_type(ctx, i) == (int)e->type, "ggml key %lld", (long long)i);
        if (e->type == LB_VT_STR) {
            CHECK(!strcmp(gguf_get_val_str(ctx, i), ((const lb_str *)e->data)->ptr), "ggml str %s", e->key);
        } else if (e->type != LB_VT_ARR) {
            CHECK(!memcmp(gguf_get_val_data(ctx, i), e->data, lb_vtype_size(e->type)), "ggml value %s", e->key);
        } else {
            CHECK(gguf_get_arr_type(ctx, i) == (int)e->arr_type && gguf_get_arr_n(ctx, i) == e->n, "ggml array %s", e->key);
            if (e->arr_type == LB_VT_STR) {
                const lb_str *s = e->data;
                // ggml hands out c_str(): compare up to the first NUL
                for (uint64_t k = 0; k < e->n; k++) CHECK(!strcmp(gguf_get_arr_str(ctx, i, k), s[k].ptr), "ggml %s[%llu]", e->key, (unsigned long long)k);
            } else if (e->n) {
                CHECK(!memcmp(gguf_get_arr_data(ctx, i), e->data, e->n * lb_vtype_size(e->arr_type)), "ggml array data %s", e->key);
            }
        }
    }
    CHECK(gguf_get_n_tensors(ctx) == N_TENSORS, "ggml n_tensors");
    for (int64_t i = 0; i < N_TENSORS; i++)
        CHECK(!strcmp(gguf_get_tensor_name(ctx, i), tnames[i]) && gguf_get_tensor_offset(ctx, i) == toffsets[i] &&
              gguf_get_tensor_type(ctx, i) == (int)ttypes[i] && gguf_get_tensor_size(ctx, i) == tbytes[i], "ggml tensor %lld", (long long)i);
    // ggml re-serializes the metadata: must equal our header + KV + infos + padding
    size_t ms = gguf_get_meta_size(ctx);
    CHECK(ms == g.data_offset, "ggml meta size %zu", ms);
    uint8_t *meta = malloc(ms);
    gguf_get_meta_data(ctx, meta);
    CHECK(!memcmp(meta, g.base, ms), "ggml's serialization of the metadata differs from ours");
    free(meta);
    lb_gguf_close(&g);
    gguf_free(ctx);
    printf("test_gguf --peer: ggml reads lowbit's GGUF identically (%zu metadata bytes)\n", ms);
    return 0;
}

// --- main ---------------------------------------------------------------------------

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--emit")) {   // the good file tests/hostile/hostile_gguf.sh mutates
        build_tensor_data();
        lb_err err;
        CHECK(write_test_file(argv[2], &err) == 0, "%s", err.msg);
        return 0;
    }
    char dir[] = "/tmp/lowbit-test-gguf-XXXXXX";
    CHECK(mkdtemp(dir), "mkdtemp");
    char p1[256], p2[256], tmp1[300];
    snprintf(p1, sizeof p1, "%s/a.gguf", dir);
    snprintf(p2, sizeof p2, "%s/b.gguf", dir);
    snprintf(tmp1, sizeof tmp1, "%s.tmp-%ld", p1, (long)getpid());
    build_tensor_data();
    lb_err err = {0};
    CHECK(write_test_file(p1, &err) == 0, "write: %s", err.msg);
    CHECK(!file_exists(tmp1), "temp file left after close");
    int rc;
    if (argc == 3 && !strcmp(argv[1], "--peer")) {
        rc = test_peer(argv[2], p1);
    } else {
        lb_gguf g;
        CHECK(lb_gguf_open(&g, p1, &err) == 0, "read: %s", err.msg);
        rc = check_read_back(&g);
        if (!rc) {
            CHECK(rewrite(&g, p2, &err) == 0, "rewrite: %s", err.msg);
            size_t n1, n2;
            uint8_t *b1 = slurp(p1, &n1), *b2 = slurp(p2, &n2);
            CHECK(b1 && b2 && n1 == n2 && !memcmp(b1, b2, n1), "write -> read -> write is not byte-identical (%zu vs %zu bytes)", n1, n2);
            free(b1); free(b2);
        }
        lb_gguf_close(&g);
        if (!rc) rc = test_writer_refusals(dir);
        if (!rc) rc = test_read_f32(p1);
        if (!rc) rc = test_hparams();
        int missing = 0;
        if (!rc) { int r = test_vocab("vocab/ggml-vocab-llama-spm.gguf", 22, 32000, "<unk>", dir); if (r == -2) missing = 1; else rc = r; }
        if (!rc) { int r = test_vocab("vocab/ggml-vocab-qwen2.gguf", 20, 151936, "!", dir); if (r == -2) missing = 1; else rc = r; }
        if (!rc) printf("test_gguf: ok%s\n", missing ? " (vocab files missing)" : "");
        if (!rc && missing) rc = lb_test_missing();
    }
    unlink(p1);
    unlink(p2);
    rmdir(dir);
    return rc;
}
