// test_safetensors.c: the safetensors reader (single file, sharded, hostile headers) and the
// Hugging Face importer on tiny hand-written checkpoints (llama with q/k permutation and
// biases, qwen3 with pair merges and tied embeddings, hunyuan-dense with NTK-alpha rope,
// SentencePiece-style tokenizer.json). Expected values are written out by hand here.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "test_util.h"
#include "fp16.h"
#include "hf.h"
#include "lb_types.h"
#include "model.h"
#include "safetensors.h"

static char g_dir[256];

// --- writing test files ---------------------------------------------------------------

typedef struct { const char *name, *dtype; int nd; int64_t shape[4]; } spec;

static int64_t numel(const spec *s) { int64_t n = 1; for (int i = 0; i < s->nd; i++) n *= s->shape[i]; return n; }
static size_t esize(const char *dtype) { return strcmp(dtype, "F32") ? 2 : 4; }

// value of element i of tensor k: distinct, exactly representable in bf16/f16
static float val(int k, int64_t i) { return (float)(k * 64 + (int)(i % 64)) * 0.25f - 8.0f; }

static void write_file(const char *name, const void *data, size_t n) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}
static void write_text(const char *name, const char *text) { write_file(name, text, strlen(text)); }

// A safetensors file with these tensors (values from val()); `extra` JSON is appended to the header.
static void write_st(const char *file, const spec *specs, int n, const char *extra) {
    char header[8192];
    size_t hl = 0;
    uint64_t off = 0;
    hl += (size_t)snprintf(header + hl, sizeof header - hl, "{");
    for (int k = 0; k < n; k++) {
        uint64_t bytes = (uint64_t)numel(&specs[k]) * esize(specs[k].dtype);
        hl += (size_t)snprintf(header + hl, sizeof header - hl, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[", k ? "," : "",
                               specs[k].name, specs[k].dtype);
        for (int d = 0; d < specs[k].nd; d++) hl += (size_t)snprintf(header + hl, sizeof header - hl, "%s%lld", d ? "," : "", (long long)specs[k].shape[d]);
        hl += (size_t)snprintf(header + hl, sizeof header - hl, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                               (unsigned long long)(off + bytes));
        off += bytes;
    }
    hl += (size_t)snprintf(header + hl, sizeof header - hl, "%s}", extra ? extra : "");
    while (hl % 8) header[hl++] = ' ';   // safetensors pads the header with spaces
    uint8_t *buf = calloc(1, 8 + hl + off);
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    memcpy(buf + 8, header, hl);
    uint8_t *p = buf + 8 + hl;
    for (int k = 0; k < n; k++) {
        for (int64_t i = 0; i < numel(&specs[k]); i++) {
            float v = val(k, i);
            if (!strcmp(specs[k].dtype, "F32")) { memcpy(p, &v, 4); p += 4; }
            else { uint16_t h = !strcmp(specs[k].dtype, "F16") ? lb_f32_to_fp16(v) : lb_f32_to_bf16(v); memcpy(p, &h, 2); p += 2; }
        }
    }
    write_file(file, buf, 8 + hl + off);
    free(buf);
}

// raw bytes: u64 length + header text + `data` zero bytes
static void write_raw_st(const char *file, const char *header, uint64_t claimed_len, size_t data) {
    size_t hl = strlen(header);
    uint8_t *buf = calloc(1, 8 + hl + data);
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)(claimed_len >> (8 * i));
    memcpy(buf + 8, header, hl);
    write_file(file, buf, 8 + hl + data);
    free(buf);
}

static void clean_dir(void) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -f %s/*", g_dir);
    if (system(cmd)) {}
}

static int open_expect_error(const char *file, const char *needle) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, file);
    lb_safetensors st;
    lb_err err = {{0}};
    int rc = lb_st_open_file(&st, path, &err);
    if (rc == 0) { lb_st_close(&st); fprintf(stderr, "FAIL: %s accepted, wanted error with '%s'\n", file, needle); return 1; }
    if (!strstr(err.msg, needle) || !strstr(err.msg, file)) { fprintf(stderr, "FAIL: %s: error '%s' lacks '%s' or the file name\n", file, err.msg, needle); return 1; }
    printf("  rejected %-12s %s\n", file, err.msg);
    return 0;
}

// --- safetensors reader ---------------------------------------------------------------

static int test_reader(void) {
    clean_dir();
    spec s[] = {{"a.weight", "F32", 2, {2, 3}}, {"b.bias", "BF16", 1, {4}}, {"c", "F16", 0, {0}}};
    write_st("one.safetensors", s, 3, ",\"__metadata__\":{\"format\":\"pt\"}");
    char path[512];
    snprintf(path, sizeof path, "%s/one.safetensors", g_dir);
    lb_safetensors st;
    lb_err err = {{0}};
    CHECK(lb_st_open_file(&st, path, &err) == 0, "open: %s", err.msg);
    CHECK(st.n_tensors == 3, "n_tensors %zu", st.n_tensors);
    const lb_st_tensor *a = lb_st_find(&st, "a.weight"), *b = lb_st_find(&st, "b.bias"), *c = lb_st_find(&st, "c");
    CHECK(a && b && c && !lb_st_find(&st, "__metadata__") && !lb_st_find(&st, "zzz"), "find");
    CHECK(a->type == LB_TYPE_F32 && a->n_dims == 2 && a->shape[0] == 2 && a->shape[1] == 3 && a->nbytes == 24, "a shape");
    float f;
    memcpy(&f, (const uint8_t *)a->data + 5 * 4, 4);
    CHECK(f == -8.0f + 5 * 0.25f, "a[5] = %g", f);
    uint16_t h;
    memcpy(&h, (const uint8_t *)b->data + 2 * 2, 2);
    CHECK(b->type == LB_TYPE_BF16 && lb_bf16_to_f32(h) == 64 * 0.25f - 8.0f + 0.5f, "b[2]");
    CHECK(c->type == LB_TYPE_F16 && c->n_dims == 0 && c->numel == 1 && c->nbytes == 2, "scalar c");
    lb_st_close(&st);
    printf("  single file: 3 tensors, values and shapes ok\n");

    // sharded with an index
    spec s1[] = {{"x", "F32", 1, {3}}}, s2[] = {{"y", "F16", 2, {2, 2}}, {"z", "F32", 1, {1}}};
    write_st("model-00001-of-00002.safetensors", s1, 1, NULL);
    write_st("model-00002-of-00002.safetensors", s2, 2, NULL);
    write_text("model.safetensors.index.json",
               "{\"metadata\":{\"total_size\":1},\"weight_map\":{\"x\":\"model-00001-of-00002.safetensors\","
               "\"y\":\"model-00002-of-00002.safetensors\",\"z\":\"model-00002-of-00002.safetensors\"}}");
    CHECK(lb_st_open_dir(&st, g_dir, &err) == 0, "open dir: %s", err.msg);
    CHECK(st.n_shards == 2 && st.n_tensors == 3, "shards %u tensors %zu", st.n_shards, st.n_tensors);
    const lb_st_tensor *y = lb_st_find(&st, "y");
    CHECK(y && y->shard == 1 && strstr(st.shards[1].path, "00002"), "y in shard 2");
    memcpy(&h, (const uint8_t *)y->data + 6, 2);
    CHECK(lb_fp16_to_f32(h) == -8.0f + 3 * 0.25f, "y[3]");
    lb_st_close(&st);
    printf("  sharded: 2 shards, 3 tensors ok\n");

    // index naming a missing tensor / hostile shard names
    write_text("model.safetensors.index.json", "{\"weight_map\":{\"x\":\"model-00001-of-00002.safetensors\",\"w\":\"model-00001-of-00002.safetensors\"}}");
    CHECK(lb_st_open_dir(&st, g_dir, &err) != 0 && strstr(err.msg, "'w'"), "missing tensor: %s", err.msg);
    write_text("model.safetensors.index.json", "{\"weight_map\":{\"x\":\"../one.safetensors\"}}");
    CHECK(lb_st_open_dir(&st, g_dir, &err) != 0 && strstr(err.msg, "plain file name"), "dotdot: %s", err.msg);
    write_text("model.safetensors.index.json", "{\"weight_map\":{\"x\":\"/etc/passwd\"}}");
    CHECK(lb_st_open_dir(&st, g_dir, &err) != 0 && strstr(err.msg, "plain file name"), "slash: %s", err.msg);
    spec dup[] = {{"x", "F32", 1, {3}}};
    write_st("dup.safetensors", dup, 1, NULL);
    write_text("model.safetensors.index.json", "{\"weight_map\":{\"x\":\"model-00001-of-00002.safetensors\",\"q\":\"dup.safetensors\"}}");
    CHECK(lb_st_open_dir(&st, g_dir, &err) != 0 && strstr(err.msg, "twice"), "duplicate: %s", err.msg);
    printf("  index errors ok: %s\n", err.msg);

    // hostile headers
    int bad = 0;
    write_file("short.st", "\x05\x00\x00", 3);
    bad += open_expect_error("short.st", "truncated");
    write_raw_st("huge.st", "{}", 1ull << 40, 0);
    bad += open_expect_error("huge.st", "absurd");
    write_raw_st("past.st", "{}", 1000, 0);
    bad += open_expect_error("past.st", "exceeds the file");
    write_raw_st("json.st", "{\"a\":", 5, 0);
    bad += open_expect_error("json.st", "not valid JSON");
    write_raw_st("arr.st", "[1,2]", 5, 0);
    bad += open_expect_error("arr.st", "not a JSON object");
    const char *h1 = "{\"t\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}";
    write_raw_st("i64.st", h1, strlen(h1), 8);
    bad += open_expect_error("i64.st", "tensor 't': dtype I64 not supported");
    const char *h2 = "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]}}";
    write_raw_st("size.st", h2, strlen(h2), 12);
    bad += open_expect_error("size.st", "12 bytes for 2 F32 values");
    const char *h3 = "{\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
    write_raw_st("range.st", h3, strlen(h3), 8);
    bad += open_expect_error("range.st", "outside the data region");
    const char *h4 = "{\"t\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}";
    write_raw_st("neg.st", h4, strlen(h4), 0);
    bad += open_expect_error("neg.st", "shape[0]");
    const char *h5 = "{\"t\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1],\"data_offsets\":[0,4]}}";
    write_raw_st("dims.st", h5, strlen(h5), 4);
    bad += open_expect_error("dims.st", "5 dims");
    const char *h6 = "{\"t\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}";
    write_raw_st("ovf.st", h6, strlen(h6), 4);
    bad += open_expect_error("ovf.st", "too large");
    const char *h7 = "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}";
    write_raw_st("rev.st", h7, strlen(h7), 4);
    bad += open_expect_error("rev.st", "outside the data region");
    const char *h8 = "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    write_raw_st("twice.st", h8, strlen(h8), 4);
    bad += open_expect_error("twice.st", "appears twice");
    const char *h9 = "{\"t\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}";
    write_raw_st("frac.st", h9, strlen(h9), 4);
    bad += open_expect_error("frac.st", "shape[0]");
    return bad;
}

// --- Hugging Face directories ---------------------------------------------------------

static const char *GPT2_TOKENIZER =
    "{\"added_tokens\":[{\"id\":7,\"content\":\"<|endoftext|>\",\"special\":true},"
    "{\"id\":8,\"content\":\"<my\xE2\x96\x81tok>\",\"special\":false}],"
    "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"c\":2,\"\xC4\xA0\":3,\"ab\":4,\"\xC4\xA0" "a\":5,\"abc\":6},"
    "\"merges\":[\"a b\",\"\xC4\xA0 a\",\"ab c\"]}}";

static int has_u32(const lb_kvs *kv, const char *key, uint32_t want) {
    const lb_kv *k = lb_kvs_find(kv, key);
    if (!k || k->type != LB_VT_U32 || *(const uint32_t *)k->data != want) {
        fprintf(stderr, "FAIL: %s: want u32 %u, have %s %lld\n", key, want, k ? lb_vtype_name(k->type) : "(none)",
                k && k->type == LB_VT_U32 ? (long long)*(const uint32_t *)k->data : -1LL);
        return 0;
    }
    return 1;
}
static int has_f32(const lb_kvs *kv, const char *key, float want) {
    const lb_kv *k = lb_kvs_find(kv, key);
    if (!k || k->type != LB_VT_F32 || *(const float *)k->data != want) {
        fprintf(stderr, "FAIL: %s: want f32 %.9g, have %s %.9g\n", key, want, k ? lb_vtype_name(k->type) : "(none)",
                k && k->type == LB_VT_F32 ? *(const float *)k->data : 0.0f);
        return 0;
    }
    return 1;
}
static int has_str(const lb_kvs *kv, const char *key, const char *want) {
    const char *s = lb_kvs_get_str(kv, key);
    if (!s || strcmp(s, want)) { fprintf(stderr, "FAIL: %s: want '%s', have '%s'\n", key, want, s ? s : "(none)"); return 0; }
    return 1;
}

static int test_llama(void) {
    clean_dir();
    // n_embd 8, 2 heads of 4, 1 kv head, ff 12, vocab 10 (7 in vocab + 2 added + 1 gap)
    write_text("config.json", "{\"architectures\":[\"LlamaForCausalLM\"],\"model_type\":\"llama\",\"vocab_size\":10,"
               "\"hidden_size\":8,\"num_hidden_layers\":1,\"intermediate_size\":12,\"num_attention_heads\":2,"
               "\"num_key_value_heads\":1,\"max_position_embeddings\":64,\"rms_norm_eps\":1e-05,\"rope_theta\":500000.0,"
               "\"tie_word_embeddings\":false,\"bos_token_id\":0,\"eos_token_id\":[7,1]}");
    write_text("tokenizer.json", GPT2_TOKENIZER);
    write_text("tokenizer_config.json", "{\"add_bos_token\":true,\"bos_token\":\"<|endoftext|>\"}");
    spec s[] = {
        {"model.embed_tokens.weight", "F32", 2, {10, 8}},
        {"model.layers.0.self_attn.q_proj.weight", "F32", 2, {8, 8}},
        {"model.layers.0.self_attn.k_proj.weight", "BF16", 2, {4, 8}},
        {"model.layers.0.self_attn.k_proj.bias", "F32", 1, {4}},
        {"model.layers.0.self_attn.v_proj.weight", "F16", 2, {4, 8}},
        {"model.layers.0.self_attn.o_proj.weight", "F32", 2, {8, 8}},
        {"model.layers.0.mlp.gate_proj.weight", "BF16", 2, {12, 8}},
        {"model.layers.0.mlp.up_proj.weight", "BF16", 2, {12, 8}},
        {"model.layers.0.mlp.down_proj.weight", "BF16", 2, {8, 12}},
        {"model.layers.0.input_layernorm.weight", "F32", 1, {8}},
        {"model.layers.0.post_attention_layernorm.weight", "F32", 1, {8}},
        {"model.layers.0.self_attn.rotary_emb.inv_freq", "F32", 1, {2}},
        {"model.norm.weight", "F32", 1, {8}},
        {"lm_head.weight", "F32", 2, {10, 8}},
        {"model.layers.0.self_attn.q_proj.bias", "F32", 1, {8}},
        {"model.layers.0.self_attn.v_proj.bias", "F16", 1, {4}},
    };
    write_st("model.safetensors", s, (int)(sizeof s / sizeof s[0]), NULL);
    lb_model m;
    lb_err err = {{0}};
    CHECK(lb_model_from_hf(&m, g_dir, NULL, &err) == 0, "llama import: %s", err.msg);
    int ok = has_str(&m.kv, "general.architecture", "llama") && has_u32(&m.kv, "llama.block_count", 1) &&
             has_u32(&m.kv, "llama.context_length", 64) && has_u32(&m.kv, "llama.embedding_length", 8) &&
             has_u32(&m.kv, "llama.feed_forward_length", 12) && has_u32(&m.kv, "llama.attention.head_count", 2) &&
             has_u32(&m.kv, "llama.attention.head_count_kv", 1) && has_f32(&m.kv, "llama.attention.layer_norm_rms_epsilon", 1e-5f) &&
             has_f32(&m.kv, "llama.rope.freq_base", 500000.0f) && has_u32(&m.kv, "llama.rope.dimension_count", 4) &&
             has_str(&m.kv, "tokenizer.ggml.model", "gpt2") && has_str(&m.kv, "tokenizer.ggml.pre", "llama-bpe") &&
             has_u32(&m.kv, "tokenizer.ggml.bos_token_id", 7) && has_u32(&m.kv, "tokenizer.ggml.eos_token_id", 7) &&
             has_u32(&m.kv, "general.file_type", 32);
    CHECK(ok, "llama metadata");
    CHECK(!lb_kvs_find(&m.kv, "llama.attention.key_length"), "no key_length when head_dim = n_embd / n_head");
    const lb_kv *ab = lb_kvs_find(&m.kv, "tokenizer.ggml.add_bos_token");
    CHECK(ab && ab->type == LB_VT_BOOL && *(const uint8_t *)ab->data == 1, "add_bos_token");
    uint64_t n;
    const lb_str *toks = lb_kvs_get_str_arr(&m.kv, "tokenizer.ggml.tokens", &n);
    const int32_t *tt = lb_kvs_get_arr(&m.kv, "tokenizer.ggml.token_type", LB_VT_I32, &n);
    CHECK(toks && tt && n == 10, "tokens/types");
    CHECK(!strcmp(toks[3].ptr, "\xC4\xA0") && !strcmp(toks[7].ptr, "<|endoftext|>") && !strcmp(toks[8].ptr, "<my tok>") &&
          !strcmp(toks[9].ptr, "[PAD9]"), "token texts");
    CHECK(tt[0] == 1 && tt[7] == 3 && tt[8] == 4 && tt[9] == 5, "token types %d %d %d %d", tt[0], tt[7], tt[8], tt[9]);
    const lb_str *merges = lb_kvs_get_str_arr(&m.kv, "tokenizer.ggml.merges", &n);
    CHECK(merges && n == 3 && !strcmp(merges[1].ptr, "\xC4\xA0 a"), "merges");
    CHECK(!lb_kvs_find(&m.kv, "tokenizer.ggml.scores"), "gpt2 has no scores");

    CHECK(m.n_tensors == 15 && !lb_model_find(&m, "rotary_emb"), "15 tensors (inv_freq skipped), have %zu", m.n_tensors);
    CHECK(!strcmp(m.tensors[0].name, "token_embd.weight") && !strcmp(m.tensors[14].name, "output.weight") &&
          !strcmp(m.tensors[3].name, "blk.0.attn_q.bias"), "canonical order");
    const lb_tensor *q = lb_model_find(&m, "blk.0.attn_q.weight"), *k = lb_model_find(&m, "blk.0.attn_k.weight");
    const lb_tensor *kb = lb_model_find(&m, "blk.0.attn_k.bias"), *g = lb_model_find(&m, "blk.0.ffn_gate.weight");
    CHECK(q && k && kb && g && lb_model_find(&m, "output.weight") && lb_model_find(&m, "blk.0.ffn_norm.weight"), "names");
    CHECK(g->type == LB_TYPE_BF16 && g->ne[0] == 8 && g->ne[1] == 12 && g->n_dims == 2, "gate {8,12} bf16");
    CHECK(q->xform == LB_XFORM_PERMUTE_QK && q->xform_heads == 2 && k->xform_heads == 1, "q/k permutation");
    // HF rows (half-split rotary) -> adjacent pairs: within a head of 4, rows 0,2,1,3
    static const int qperm[8] = {0, 2, 1, 3, 4, 6, 5, 7};
    float rows[8 * 8];
    CHECK(lb_tensor_read_f32(q, 0, 8, rows, &err) == 0, "read q: %s", err.msg);
    for (int r = 0; r < 8; r++)
        for (int c = 0; c < 8; c++)
            CHECK(rows[r * 8 + c] == val(1, qperm[r] * 8 + c), "q[%d][%d] = %g", r, c, rows[r * 8 + c]);
    CHECK(lb_tensor_read_f32(k, 1, 2, rows, &err) == 0, "read k: %s", err.msg);
    CHECK(rows[0] == val(2, 2 * 8) && rows[8] == val(2, 1 * 8), "k rows 1,2 come from 2,1");
    CHECK(lb_tensor_read_f32(kb, 0, 1, rows, &err) == 0, "read k bias: %s", err.msg);
    CHECK(rows[0] == val(3, 0) && rows[1] == val(3, 2) && rows[2] == val(3, 1) && rows[3] == val(3, 3), "k bias permuted");
    CHECK(lb_tensor_read_f32(lb_model_find(&m, "blk.0.attn_q.bias"), 0, 1, rows, &err) == 0, "read q bias: %s", err.msg);
    for (int r = 0; r < 8; r++) CHECK(rows[r] == val(14, qperm[r]), "q bias[%d] permuted", r);
    lb_hparams hp;
    CHECK(lb_hparams_from_model(&hp, &m, g_dir, &err) == 0, "hparams: %s", err.msg);
    CHECK(hp.arch == LB_ARCH_LLAMA && hp.n_vocab == 10 && hp.n_head_kv == 1 && hp.head_dim == 4 && !hp.tied_output, "hparams values");
    lb_model_free(&m);
    printf("  llama: metadata, gpt2 vocab, permuted q/k/bias, hparams ok\n");

    // unknown tensor names and unsupported dtypes are errors naming the tensor
    spec s2[] = {{"model.layers.0.self_attn.qkv.weight", "F32", 2, {2, 2}}};
    write_st("model.safetensors", s2, 1, NULL);
    CHECK(lb_model_from_hf(&m, g_dir, NULL, &err) != 0 && strstr(err.msg, "unknown tensor 'model.layers.0.self_attn.qkv.weight'"), "unknown: %s", err.msg);
    spec s3[] = {{"model.layers.1.mlp.up_proj.weight", "F32", 2, {2, 2}}};
    write_st("model.safetensors", s3, 1, NULL);
    CHECK(lb_model_from_hf(&m, g_dir, NULL, &err) != 0 && strstr(err.msg, "unknown tensor"), "layer out of range: %s", err.msg);
    write_text("config.json", "{\"architectures\":[\"GPT2LMHeadModel\"]}");
    CHECK(lb_model_from_hf(&m, g_dir, NULL, &err) != 0 && strstr(err.msg, "GPT2LMHeadModel") && strstr(err.msg, "config.json"), "arch: %s", err.msg);
    write_text("config.json", "{\"architectures\":[\"LlamaForCausalLM\"],\"vocab_size\":10,\"hidden_size\":8}");
    CHECK(lb_model_from_hf(&m, g_dir, NULL, &err) != 0 && strstr(err.msg, "num_hidden_layers"), "missing key: %s", err.msg);
    write_text("config.json", "{\"architectures\":[\"LlamaForCausalLM\"],\"vocab_size\":\"10\"}");
    CHECK(lb_model_from_hf(&m, g_dir, NULL, &err) != 0 && strstr(err.msg, "vocab_size"), "wrong type: %s", err.msg);
    printf("  llama: error messages ok (%s)\n", err.msg);
    return 0;
}

static int test_qwen3(void) {
    clean_dir();
    write_text("config.json", "{\"architectures\":[\"Qwen3ForCausalLM\"],\"vocab_size\":9,\"hidden_size\":8,"
               "\"num_hidden_layers\":1,\"intermediate_size\":12,\"num_attention_heads\":2,\"num_key_value_heads\":1,"
               "\"head_dim\":6,\"max_position_embeddings\":128,\"rms_norm_eps\":1e-06,\"rope_theta\":1000000,"
               "\"rope_scaling\":null,\"tie_word_embeddings\":true,\"eos_token_id\":7}");
    // transformers >= 4.45 pair merges, one with a space inside a part
    write_text("tokenizer.json", "{\"added_tokens\":[{\"id\":7,\"content\":\"<|im_end|>\",\"special\":false}],"
               "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2,\"a b\":3},"
               "\"merges\":[[\"a\",\"b\"],[\"a b\",\"c\"]]}}");
    spec s[] = {
        {"model.embed_tokens.weight", "BF16", 2, {9, 8}},
        {"model.layers.0.self_attn.q_proj.weight", "BF16", 2, {12, 8}},
        {"model.layers.0.self_attn.k_proj.weight", "BF16", 2, {6, 8}},
        {"model.layers.0.self_attn.v_proj.weight", "BF16", 2, {6, 8}},
        {"model.layers.0.self_attn.o_proj.weight", "BF16", 2, {8, 12}},
        {"model.layers.0.self_attn.q_norm.weight", "BF16", 1, {6}},
        {"model.layers.0.self_attn.k_norm.weight", "BF16", 1, {6}},
        {"model.layers.0.mlp.gate_proj.weight", "BF16", 2, {12, 8}},
        {"model.layers.0.mlp.up_proj.weight", "BF16", 2, {12, 8}},
        {"model.layers.0.mlp.down_proj.weight", "BF16", 2, {8, 12}},
        {"model.layers.0.input_layernorm.weight", "BF16", 1, {8}},
        {"model.layers.0.post_attention_layernorm.weight", "BF16", 1, {8}},
        {"model.norm.weight", "BF16", 1, {8}},
        {"lm_head.weight", "BF16", 2, {9, 8}},
    };
    write_st("model.safetensors", s, (int)(sizeof s / sizeof s[0]), NULL);
    lb_model m;
    lb_err err = {{0}};
    CHECK(lb_model_from_hf(&m, g_dir, NULL, &err) == 0, "qwen3 import: %s", err.msg);
    CHECK(has_str(&m.kv, "general.architecture", "qwen3") && has_u32(&m.kv, "qwen3.attention.key_length", 6) &&
          has_u32(&m.kv, "qwen3.attention.value_length", 6) && has_f32(&m.kv, "qwen3.rope.freq_base", 1e6f) &&
          has_f32(&m.kv, "qwen3.attention.layer_norm_rms_epsilon", 1e-6f) && has_str(&m.kv, "tokenizer.ggml.pre", "qwen2") &&
          has_u32(&m.kv, "tokenizer.ggml.eos_token_id", 7), "qwen3 metadata");
    CHECK(!lb_kvs_find(&m.kv, "qwen3.rope.dimension_count"), "rope.dimension_count only for llama");
    uint64_t n;
    const lb_str *merges = lb_kvs_get_str_arr(&m.kv, "tokenizer.ggml.merges", &n);
    CHECK(merges && n == 2 && !strcmp(merges[0].ptr, "a b") && !strcmp(merges[1].ptr, "a\xC4\xA0" "b c"), "pair merges '%s'", merges ? merges[1].ptr : "");
    const int32_t *tt = lb_kvs_get_arr(&m.kv, "tokenizer.ggml.token_type", LB_VT_I32, &n);
    CHECK(tt && n == 9 && tt[7] == 3 && tt[8] == 5 && tt[4] == 5, "<|im_end|> looks special -> control; gaps unused");
    CHECK(!lb_model_find(&m, "output.weight") && lb_model_find(&m, "blk.0.attn_q_norm.weight") && m.n_tensors == 13, "tied lm_head skipped");
    const lb_tensor *q = lb_model_find(&m, "blk.0.attn_q.weight");
    CHECK(q->xform == LB_XFORM_NONE && q->ne[0] == 8 && q->ne[1] == 12, "qwen3 q not permuted");
    lb_hparams hp;
    CHECK(lb_hparams_from_model(&hp, &m, g_dir, &err) == 0, "hparams: %s", err.msg);
    CHECK(hp.head_dim == 6 && hp.tied_output && hp.rope_style == LB_ROPE_NEOX, "qwen3 hparams");
    lb_model_free(&m);
    printf("  qwen3: head_dim, pair merges, tied output ok\n");
    return 0;
}

static int test_hunyuan_spm(void) {
    clean_dir();
    write_text("config.json", "{\"architectures\":[\"HunYuanDenseV1ForCausalLM\"],\"model_type\":\"hunyuan_v1_dense\","
               "\"vocab_size\":270,\"hidden_size\":32,\"num_hidden_layers\":1,\"intermediate_size\":8,"
               "\"num_attention_heads\":2,\"num_key_value_heads\":2,\"head_dim\":16,\"max_position_embeddings\":32768,"
               "\"rope_theta\":10000.0,\"rope_scaling\":{\"type\":\"dynamic\",\"alpha\":1000.0,\"factor\":1.0},"
               "\"tie_word_embeddings\":true,\"eos_token_id\":2,\"eod_token_id\":3,\"bos_token_id\":1}");
    // SentencePiece-style BPE: byte_fallback, <0xXX> pieces, "▁" words
    char *tok = malloc(16384);
    size_t l = (size_t)sprintf(tok, "{\"added_tokens\":[{\"id\":0,\"content\":\"<unk>\",\"special\":true},"
                               "{\"id\":1,\"content\":\"<s>\",\"special\":true},{\"id\":2,\"content\":\"</s>\",\"special\":true}],"
                               "\"model\":{\"type\":\"BPE\",\"byte_fallback\":true,\"unk_token\":\"<unk>\",\"vocab\":{"
                               "\"<unk>\":0,\"<s>\":1,\"</s>\":2");
    for (int b = 0; b < 256; b++) l += (size_t)sprintf(tok + l, ",\"<0x%02X>\":%d", b, 3 + b);
    l += (size_t)sprintf(tok + l, ",\"\xE2\x96\x81\":259,\"a\":260,\"\xE2\x96\x81" "a\":261},\"merges\":[\"\xE2\x96\x81 a\"]}}");
    write_text("tokenizer.json", tok);
    free(tok);
    spec s[] = {
        {"model.embed_tokens.weight", "F16", 2, {270, 32}},
        {"model.layers.0.self_attn.q_proj.weight", "F16", 2, {32, 32}},
        {"model.layers.0.self_attn.k_proj.weight", "F16", 2, {32, 32}},
        {"model.layers.0.self_attn.v_proj.weight", "F16", 2, {32, 32}},
        {"model.layers.0.self_attn.o_proj.weight", "F16", 2, {32, 32}},
        {"model.layers.0.self_attn.query_layernorm.weight", "F16", 1, {16}},
        {"model.layers.0.self_attn.key_layernorm.weight", "F16", 1, {16}},
        {"model.layers.0.mlp.gate_proj.weight", "F16", 2, {8, 32}},
        {"model.layers.0.mlp.up_proj.weight", "F16", 2, {8, 32}},
        {"model.layers.0.mlp.down_proj.weight", "F16", 2, {32, 8}},
        {"model.layers.0.input_layernorm.weight", "F16", 1, {32}},
        {"model.layers.0.post_attention_layernorm.weight", "F16", 1, {32}},
        {"model.norm.weight", "F16", 1, {32}},
    };
    write_st("model.safetensors", s, (int)(sizeof s / sizeof s[0]), NULL);
    lb_model m;
    lb_err err = {{0}};
    CHECK(lb_model_from_hf(&m, g_dir, NULL, &err) == 0, "hunyuan import: %s", err.msg);
    // 10000 * 1000^(16/14) = 26826957.95... (python), as f32 26826958.0
    CHECK(has_str(&m.kv, "general.architecture", "hunyuan-dense") && has_f32(&m.kv, "hunyuan-dense.rope.freq_base", 26826958.0f) &&
          has_f32(&m.kv, "hunyuan-dense.attention.layer_norm_rms_epsilon", 1e-5f) &&
          has_str(&m.kv, "tokenizer.ggml.model", "llama") && has_u32(&m.kv, "tokenizer.ggml.eos_token_id", 3) &&
          has_u32(&m.kv, "tokenizer.ggml.bos_token_id", 1) && has_u32(&m.kv, "tokenizer.ggml.unknown_token_id", 0) &&
          has_u32(&m.kv, "general.file_type", 1), "hunyuan metadata");
    uint64_t n;
    const float *sc = lb_kvs_get_arr(&m.kv, "tokenizer.ggml.scores", LB_VT_F32, &n);
    const int32_t *tt = lb_kvs_get_arr(&m.kv, "tokenizer.ggml.token_type", LB_VT_I32, &n);
    CHECK(sc && tt && n == 270, "scores/types");
    CHECK(tt[0] == 2 && tt[1] == 3 && tt[2] == 3 && tt[3] == 6 && tt[258] == 6 && tt[261] == 1 && tt[262] == 5, "spm types");
    CHECK(sc[261] == -261.0f && sc[1] == 0.0f && sc[10] == 0.0f, "spm scores");
    const lb_kv *ab = lb_kvs_find(&m.kv, "tokenizer.ggml.add_bos_token");
    CHECK(ab && *(const uint8_t *)ab->data == 1, "spm add_bos default true");
    lb_hparams hp;
    CHECK(lb_hparams_from_model(&hp, &m, g_dir, &err) == 0, "hparams: %s", err.msg);
    CHECK(hp.arch == LB_ARCH_HUNYUAN_DENSE && hp.qk_norm == LB_QK_NORM_AFTER_ROPE && hp.tied_output, "hunyuan hparams");
    lb_model_free(&m);
    printf("  hunyuan-dense: NTK-alpha rope base, eod eos, SentencePiece vocab ok\n");

    // tokenizer errors name the tokenizer file
    write_text("tokenizer.json", "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{}}}");
    CHECK(lb_model_from_hf(&m, g_dir, NULL, &err) != 0 && strstr(err.msg, "tokenizer.json") && strstr(err.msg, "WordPiece"), "wordpiece: %s", err.msg);
    write_text("tokenizer.json", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":270},\"merges\":[\"a b\"]}}");
    CHECK(lb_model_from_hf(&m, g_dir, NULL, &err) != 0 && strstr(err.msg, "vocab_size"), "id range: %s", err.msg);
    return 0;
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/lowbit-test-st-%ld", (long)getpid());
    mkdir(g_dir, 0700);
    if (chdir(g_dir)) return 1;
    int fails = 0;
    printf("safetensors reader:\n");
    fails += test_reader();
    printf("HF import:\n");
    if (!fails) fails += test_llama();
    if (!fails) fails += test_qwen3();
    if (!fails) fails += test_hunyuan_spm();
    clean_dir();
    if (chdir("/")) {}
    rmdir(g_dir);
    printf(fails ? "FAILED\n" : "all safetensors/HF checks passed\n");
    return fails ? 1 : 0;
}
