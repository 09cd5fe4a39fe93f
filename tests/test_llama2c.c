// test_llama2c.c: llama2.c checkpoint + tokenizer.bin import.
//  1. stories260K (real data): hyper-parameters, tokenizer pieces/types/scores, and weights
//     compared with reference values that a Python one-liner (tests/import.cmake) reads
//     straight from the raw file at llama2.c's offsets, piped in on stdin as lines
//     "name row col value" (the first line is "dims dim hidden layers heads kv_heads vocab seq").
//  2. Synthetic version-1 and legacy unshared-classifier files whose every float is its own
//     index, so each tensor's first element tells where in the file it was taken from.
//  3. Header validation errors.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "test_util.h"
#include "kv.h"
#include "llama2c.h"
#include "model.h"

static int check_reference(const lb_model *m, FILE *ref) {
    char line[256];
    int n = 0, dims = 0;
    while (fgets(line, sizeof line, ref)) {
        char name[64];
        long long a, b;
        double v;
        int d[7];
        if (sscanf(line, "dims %d %d %d %d %d %d %d", &d[0], &d[1], &d[2], &d[3], &d[4], &d[5], &d[6]) == 7) {
            int64_t x;
            CHECK(!lb_kvs_get_int(&m->kv, "llama.embedding_length", &x) && x == d[0], "dim");
            CHECK(!lb_kvs_get_int(&m->kv, "llama.feed_forward_length", &x) && x == d[1], "hidden");
            CHECK(!lb_kvs_get_int(&m->kv, "llama.block_count", &x) && x == d[2], "layers");
            CHECK(!lb_kvs_get_int(&m->kv, "llama.attention.head_count", &x) && x == d[3], "heads");
            CHECK(!lb_kvs_get_int(&m->kv, "llama.attention.head_count_kv", &x) && x == d[4], "kv heads");
            CHECK(!lb_kvs_get_int(&m->kv, "llama.context_length", &x) && x == d[6], "seq_len");
            uint64_t nt;
            CHECK(lb_kvs_get_str_arr(&m->kv, "tokenizer.ggml.tokens", &nt) && nt == (uint64_t)abs(d[5]), "vocab");
            dims = 1;
            continue;
        }
        CHECK(sscanf(line, "%63s %lld %lld %lf", name, &a, &b, &v) == 4, "bad reference line '%s'", line);
        const lb_tensor *t = lb_model_find(m, name);
        CHECK(t, "tensor %s missing", name);
        CHECK(a < t->ne[1] && b < t->ne[0], "%s: [%lld][%lld] outside {%lld,%lld}", name, a, b, (long long)t->ne[0], (long long)t->ne[1]);
        float *row = malloc((size_t)t->ne[0] * sizeof(float));
        lb_err err = {{0}};
        CHECK(lb_tensor_read_f32(t, a, 1, row, &err) == 0, "%s: %s", name, err.msg);
        float got = row[b];
        free(row);
        CHECK(got == (float)v, "%s[%lld][%lld] = %.9g, raw file says %.9g", name, a, b, got, v);
        n++;
    }
    CHECK(dims && n >= 10, "reference gave %d values (is /usr/bin/python3 there?)", n);
    printf("  %d weights match the raw file (python reference)\n", n);
    return 0;
}

static int test_stories(FILE *ref) {
    char bin[512], tok[512];
    if (!lb_test_data("stories260K/stories260K.bin", bin, sizeof bin) || !lb_test_data("stories260K/tok512.bin", tok, sizeof tok))
        return lb_test_missing();
    lb_model m;
    lb_err err = {{0}};
    CHECK(lb_model_from_llama2c(&m, bin, tok, &err) == 0, "load: %s", err.msg);
    lb_hparams hp;
    CHECK(lb_hparams_from_model(&hp, &m, bin, &err) == 0, "hparams: %s", err.msg);
    CHECK(hp.arch == LB_ARCH_LLAMA && hp.n_embd == 64 && hp.n_ff == 172 && hp.n_layer == 5 && hp.n_head == 8 &&
          hp.n_head_kv == 4 && hp.n_vocab == 512 && hp.n_ctx_train == 512 && hp.head_dim == 8, "hparams values");
    CHECK(hp.norm_eps == 1e-5f && hp.rope_base == 10000.0f && hp.rope_style == LB_ROPE_ADJACENT && hp.tied_output, "eps/rope/tied");
    CHECK(m.n_tensors == 2 + 9 * 5, "47 tensors, have %zu", m.n_tensors);
    const char *arch = lb_kvs_get_str(&m.kv, "general.architecture");
    CHECK(arch && !strcmp(arch, "llama"), "arch");
    const lb_kv *eps = lb_kvs_find(&m.kv, "llama.attention.layer_norm_rms_epsilon");
    const lb_kv *blk = lb_kvs_find(&m.kv, "llama.block_count");
    CHECK(eps && eps->type == LB_VT_F32 && blk && blk->type == LB_VT_U32, "llama.cpp key types");

    // tokenizer: values read from tok512.bin with python (score, bytes) and the converter's rules
    uint64_t n;
    const lb_str *t = lb_kvs_get_str_arr(&m.kv, "tokenizer.ggml.tokens", &n);
    const float *sc = lb_kvs_get_arr(&m.kv, "tokenizer.ggml.scores", LB_VT_F32, &n);
    const int32_t *ty = lb_kvs_get_arr(&m.kv, "tokenizer.ggml.token_type", LB_VT_I32, &n);
    CHECK(t && sc && ty && n == 512, "tokenizer arrays");
    CHECK(!strcmp(t[0].ptr, "<unk>") && ty[0] == 2, "unk");
    CHECK(!strcmp(t[1].ptr, "<s>") && ty[1] == 3 && !strcmp(t[2].ptr, "</s>") && ty[2] == 3, "bos/eos (file has \\n<s>\\n)");
    CHECK(!strcmp(t[3].ptr, "<0x00>") && ty[3] == 6 && !strcmp(t[258].ptr, "<0xFF>") && ty[258] == 6, "byte pieces");
    CHECK(!strcmp(t[259].ptr, "\xE2\x96\x81t") && ty[259] == 1 && sc[259] == 0.0f, "' t' -> '\\u2581t'");
    CHECK(!strcmp(t[509].ptr, "]") && sc[509] == -250.0f && !strcmp(t[511].ptr, "\xE2\x80\x8A") && sc[511] == -252.0f, "last tokens");
    const char *model = lb_kvs_get_str(&m.kv, "tokenizer.ggml.model");
    int64_t bos, eos, unk;
    CHECK(model && !strcmp(model, "llama") && !lb_kvs_get_int(&m.kv, "tokenizer.ggml.bos_token_id", &bos) && bos == 1 &&
          !lb_kvs_get_int(&m.kv, "tokenizer.ggml.eos_token_id", &eos) && eos == 2 &&
          !lb_kvs_get_int(&m.kv, "tokenizer.ggml.unknown_token_id", &unk) && unk == 0, "special ids");
    printf("  stories260K: hparams, 47 tensors, tokenizer ok\n");
    int rc = ref ? check_reference(&m, ref) : 0;
    lb_model_free(&m);
    return rc;
}

// --- synthetic files --------------------------------------------------------------------

static const char *g_dir;

// every float = its index among the floats; header: v1 (256 bytes) or legacy (28)
static void write_ckpt(const char *path, int version, const int32_t p[7], int shared, size_t n_floats, size_t pad) {
    FILE *f = fopen(path, "wb");
    if (version == 1) {
        uint8_t h[256] = {0};
        uint32_t magic = LB_L2C_MAGIC;
        int32_t v = 1;
        memcpy(h, &magic, 4); memcpy(h + 4, &v, 4); memcpy(h + 8, p, 28);
        h[36] = (uint8_t)shared;
        fwrite(h, 1, 256, f);
    } else {
        fwrite(p, 4, 7, f);
    }
    for (size_t i = 0; i < n_floats; i++) { float x = (float)i; fwrite(&x, 4, 1, f); }
    for (size_t i = 0; i < pad; i++) fputc(0, f);
    fclose(f);
}

static void write_tok(const char *path, int n) {
    FILE *f = fopen(path, "wb");
    int32_t ml = 8;
    fwrite(&ml, 4, 1, f);
    for (int i = 0; i < n; i++) {
        float s = -(float)i;
        char text[16];
        int32_t len = snprintf(text, sizeof text, "t%d", i);
        fwrite(&s, 4, 1, f); fwrite(&len, 4, 1, f); fwrite(text, 1, (size_t)len, f);
    }
    fclose(f);
}

static float first(const lb_model *m, const char *name) {
    const lb_tensor *t = lb_model_find(m, name);
    if (!t) return -1.0f;
    float x;
    memcpy(&x, t->data, 4);
    return x;
}

static int test_synthetic(void) {
    // dim 8, hidden 12, 2 layers, 2 heads, 1 kv head (kv dim 4), vocab 5, seq 4
    const int32_t p[7] = {8, 12, 2, 2, 1, 5, 4};
    const size_t D = 8, H = 12, L = 2, KV = 4, V = 5, S = 4, HS = 4;
    char bin[512], tok[512];
    snprintf(tok, sizeof tok, "%s/tok.bin", g_dir);
    write_tok(tok, 5);
    lb_model m;
    lb_err err = {{0}};

    // version 1, unshared: rms_att, rms_ffn, rms_final, embedding, wq, wk, wv, wo, w1, w2, w3, wcls
    snprintf(bin, sizeof bin, "%s/v1.bin", g_dir);
    size_t nf = L * D * 2 + D + V * D + L * D * D * 2 + L * D * KV * 2 + 3 * L * D * H + V * D;
    write_ckpt(bin, 1, p, 0, nf, 0);
    CHECK(lb_model_from_llama2c(&m, bin, tok, &err) == 0, "v1: %s", err.msg);
    size_t o_ffn_norm = L * D, o_final = 2 * L * D, o_emb = o_final + D, o_q = o_emb + V * D, o_k = o_q + L * D * D;
    size_t o_v = o_k + L * D * KV, o_o = o_v + L * D * KV, o_w1 = o_o + L * D * D, o_w2 = o_w1 + L * D * H;
    size_t o_w3 = o_w2 + L * H * D, o_cls = o_w3 + L * D * H;
    CHECK(first(&m, "blk.1.attn_norm.weight") == (float)D && first(&m, "blk.0.ffn_norm.weight") == (float)o_ffn_norm &&
          first(&m, "output_norm.weight") == (float)o_final && first(&m, "token_embd.weight") == (float)o_emb &&
          first(&m, "blk.1.attn_q.weight") == (float)(o_q + D * D) && first(&m, "blk.1.attn_k.weight") == (float)(o_k + D * KV) &&
          first(&m, "blk.0.attn_v.weight") == (float)o_v && first(&m, "blk.1.attn_output.weight") == (float)(o_o + D * D) &&
          first(&m, "blk.1.ffn_gate.weight") == (float)(o_w1 + D * H) && first(&m, "blk.0.ffn_down.weight") == (float)o_w2 &&
          first(&m, "blk.1.ffn_up.weight") == (float)(o_w3 + D * H) && first(&m, "output.weight") == (float)o_cls,
          "v1 layout");
    const lb_tensor *w2 = lb_model_find(&m, "blk.0.ffn_down.weight");
    CHECK(w2->ne[0] == 12 && w2->ne[1] == 8, "w2 {hidden, dim}");
    const lb_str *tt = lb_kvs_get_str_arr(&m.kv, "tokenizer.ggml.tokens", &(uint64_t){0});
    CHECK(tt && !strcmp(tt[3].ptr, "t3") && !strcmp(tt[0].ptr, "<unk>"), "synthetic tokens");
    lb_model_free(&m);

    // legacy, unshared (negative vocab): embedding, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, freqs, wcls
    snprintf(bin, sizeof bin, "%s/legacy.bin", g_dir);
    int32_t pl[7] = {8, 12, 2, 2, 1, -5, 4};
    nf = V * D + L * D + L * D * D + 2 * L * D * KV + L * D * D + L * D + 3 * L * D * H + D + S * HS + V * D;
    write_ckpt(bin, 0, pl, 0, nf, 0);
    CHECK(lb_model_from_llama2c(&m, bin, tok, &err) == 0, "legacy: %s", err.msg);
    size_t o_cls_legacy = nf - V * D, o_final_legacy = o_cls_legacy - S * HS - D;
    CHECK(first(&m, "token_embd.weight") == 0.0f && first(&m, "blk.0.attn_norm.weight") == (float)(V * D) &&
          first(&m, "output_norm.weight") == (float)o_final_legacy && first(&m, "output.weight") == (float)o_cls_legacy,
          "legacy layout (freq_cis skipped)");
    lb_model_free(&m);
    printf("  synthetic v1 and legacy/unshared layouts ok\n");

    // --- hostile headers ---
    write_ckpt(bin, 0, pl, 0, nf, 4);
    CHECK(lb_model_from_llama2c(&m, bin, tok, &err) != 0 && strstr(err.msg, "legacy.bin") && strstr(err.msg, "implies"), "size: %s", err.msg);
    printf("  %s\n", err.msg);
    int32_t bad_div[7] = {9, 12, 2, 2, 1, 5, 4};
    write_ckpt(bin, 0, bad_div, 0, 10, 0);
    CHECK(lb_model_from_llama2c(&m, bin, tok, &err) != 0 && strstr(err.msg, "not divisible"), "div: %s", err.msg);
    int32_t huge[7] = {8, 12, 2, 2, 1, 1 << 30, 4};
    write_ckpt(bin, 0, huge, 0, 10, 0);
    CHECK(lb_model_from_llama2c(&m, bin, tok, &err) != 0 && strstr(err.msg, "vocab_size"), "huge vocab: %s", err.msg);
    int32_t neg[7] = {8, -12, 2, 2, 1, 5, 4};
    write_ckpt(bin, 0, neg, 0, 10, 0);
    CHECK(lb_model_from_llama2c(&m, bin, tok, &err) != 0 && strstr(err.msg, "hidden_dim"), "negative: %s", err.msg);
    uint8_t v2[256] = {0x32, 0x34, 0x6b, 0x61, 2};
    FILE *f = fopen(bin, "wb"); fwrite(v2, 1, sizeof v2, f); fclose(f);
    CHECK(lb_model_from_llama2c(&m, bin, tok, &err) != 0 && strstr(err.msg, "version 2"), "v2: %s", err.msg);
    // tokenizer with fewer tokens than the checkpoint's vocab
    write_ckpt(bin, 1, p, 0, L * D * 2 + D + V * D + L * D * D * 2 + L * D * KV * 2 + 3 * L * D * H + V * D, 0);
    write_tok(tok, 4);
    CHECK(lb_model_from_llama2c(&m, bin, tok, &err) != 0 && strstr(err.msg, "tok.bin") && strstr(err.msg, "truncated at token 4"), "tok: %s", err.msg);
    CHECK(lb_model_from_llama2c(&m, bin, NULL, &err) != 0 && strstr(err.msg, "tokenizer"), "no tokenizer: %s", err.msg);
    printf("  header/tokenizer validation ok\n");
    return 0;
}

int main(int argc, char **argv) {
    FILE *ref = NULL;
    if (argc > 1) ref = strcmp(argv[1], "-") ? fopen(argv[1], "r") : stdin;
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/lowbit-test-l2c-%ld", (long)getpid());
    mkdir(dir, 0700);
    g_dir = dir;
    int rc = test_synthetic();
    if (rc == 0) rc = test_stories(ref);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {}
    if (rc == 0) printf("all llama2.c checks passed\n");
    return rc;
}
