// test_tokenizer.c: lowbit's tokenizers against llama.cpp's own tokenizer test vectors
// (shared/data/vocab/*.gguf + .inp/.out, produced by llama.cpp), read exactly the way
// llama.cpp's tests/test-tokenizer-0.cpp reads them (inputs separated by
// "\n__ggml_vocab_test__\n", expected ids one line each, add_special = false,
// parse_special = false). Also: special-token parsing, pieces, EOG ids, round trips, and
// the speed of tokenizing a 1 MB text file.
//
// usage: test_tokenizer            (all vocabs under $LOWBIT_DATA/vocab)
//        test_tokenizer VOCAB.gguf   (checks VOCAB.gguf.inp/.out only; LB_TOK_SPECIAL=1: parse_special)
//        test_tokenizer VOCAB.gguf TEXTFILE   (prints the ids of TEXTFILE, one per line)
#define _GNU_SOURCE   // memmem
#include <stdint.h>
#include <time.h>
#include "test_util.h"
#include "gguf.h"
#include "tokenizer.h"

static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (size_t k; buf && (k = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += k;
        if (n == cap) {
            char *b = realloc(buf, 2 * cap + 1);
            if (!b) { free(buf); buf = NULL; break; }
            buf = b;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) buf[n] = 0;
    *len = n;
    return buf;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void print_escaped(FILE *f, const char *s, size_t n) {
    fputc('\'', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c == '\r') fputs("\\r", f);
        else if (c < 0x20) fprintf(f, "\\x%02x", c);
        else fputc(c, f);
    }
    fputc('\'', f);
}

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

// --- the .inp/.out vectors --------------------------------------------------------------------
static int run_vectors(const lb_tokenizer *tok, const char *vocab_path, int parse_special, int check_round_trip,
                       int *n_pass, int *n_total) {
    char inp_path[4096], out_path[4096];
    snprintf(inp_path, sizeof inp_path, "%s.inp", vocab_path);
    snprintf(out_path, sizeof out_path, "%s.out", vocab_path);
    size_t inp_len, out_len;
    char *inp = read_all(inp_path, &inp_len), *out = read_all(out_path, &out_len);
    CHECK(inp && out, "cannot read %s / %s", inp_path, out_path);

    // split inputs on "\n__ggml_vocab_test__\n" (the last piece runs to the end of the file)
    static const char SEP[] = "\n__ggml_vocab_test__\n";
    const size_t sep_len = sizeof SEP - 1;
    size_t n_cases = 0, cap = 64;
    const char **case_ptr = malloc(cap * sizeof *case_ptr);
    size_t *case_len = malloc(cap * sizeof *case_len);
    for (size_t pos = 0; pos < inp_len;) {
        const char *m = memmem(inp + pos, inp_len - pos, SEP, sep_len);
        size_t end = m ? (size_t)(m - inp) : inp_len;
        if (n_cases == cap) {
            cap *= 2;
            case_ptr = realloc(case_ptr, cap * sizeof *case_ptr);
            case_len = realloc(case_len, cap * sizeof *case_len);
        }
        case_ptr[n_cases] = inp + pos;
        case_len[n_cases] = end - pos;
        n_cases++;
        if (!m) break;
        pos = end + sep_len;
    }
    // expected ids: one line per case
    size_t n_lines = 0;
    char **lines = malloc((out_len + 1) * sizeof *lines);
    for (char *p = out, *e; p < out + out_len; p = e + 1) {
        e = memchr(p, '\n', (size_t)(out + out_len - p));
        if (!e) e = out + out_len;
        *e = 0;
        lines[n_lines++] = p;
    }
    CHECK(n_cases == n_lines, "%s: %zu inputs but %zu expected lines", vocab_path, n_cases, n_lines);

    int failures = 0, rt_fail = 0;
    for (size_t i = 0; i < n_cases; i++) {
        int32_t want[1024];
        size_t n_want = 0;
        for (char *p = lines[i], *e; *p && n_want < 1024; p = e) {
            long v = strtol(p, &e, 10);
            if (e == p) break;
            want[n_want++] = (int32_t)v;
        }
        int32_t *ids;
        size_t n_ids;
        lb_err err = {{0}};
        CHECK(lb_tokenize(tok, case_ptr[i], case_len[i], 0, parse_special, &ids, &n_ids, &err) == 0, "%s", err.msg);
        int ok = n_ids == n_want && (n_ids == 0 || memcmp(ids, want, n_ids * sizeof *ids) == 0);
        printf("%s case %2zu %s ", ok ? "PASS" : "FAIL", i, base_name(vocab_path));
        print_escaped(stdout, case_ptr[i], case_len[i] > 60 ? 60 : case_len[i]);
        printf("\n");
        if (!ok) {
            failures++;
            printf("   want:");
            for (size_t k = 0; k < n_want; k++) printf(" %d", want[k]);
            printf("\n   got: ");
            for (size_t k = 0; k < n_ids; k++) printf(" %d", ids[k]);
            printf("\n");
        }
        if (check_round_trip) {
            char *text;
            size_t len;
            CHECK(lb_detokenize(tok, ids, n_ids, 0, 1, &text, &len, &err) == 0, "%s", err.msg);
            if (len != case_len[i] || memcmp(text, case_ptr[i], len) != 0) {
                rt_fail++;
                printf("ROUND-TRIP FAIL case %zu: ", i);
                print_escaped(stdout, text, len);
                printf("\n");
            }
            free(text);
        }
        free(ids);
    }
    *n_pass = (int)n_cases - failures;
    *n_total = (int)n_cases;
    printf("%s: %d/%zu cases match llama.cpp", base_name(vocab_path), *n_pass, n_cases);
    if (check_round_trip) printf(", %zu/%zu round trips exact", n_cases - (size_t)rt_fail, n_cases);
    printf("\n");
    free(inp);
    free(out);
    free(case_ptr);
    free(case_len);
    free(lines);
    return failures || rt_fail ? 1 : 0;
}

static int tokenize_str(const lb_tokenizer *tok, const char *s, int parse_special, int32_t *ids, size_t cap, size_t *n) {
    int32_t *v;
    lb_err err = {{0}};
    if (lb_tokenize(tok, s, strlen(s), 0, parse_special, &v, n, &err)) return -1;
    if (*n > cap) *n = cap;
    memcpy(ids, v, *n * sizeof *v);
    free(v);
    return 0;
}

static int piece_is(const lb_tokenizer *tok, int32_t id, int special, const char *want) {
    char buf[64];
    size_t n = lb_token_to_piece(tok, id, special, buf, sizeof buf);
    return n == strlen(want) && memcmp(buf, want, n) == 0;
}

// Known ids of the Llama-2 SentencePiece vocab (meta-llama tokenizer.model).
static int check_spm_specifics(const lb_tokenizer *tok) {
    int32_t ids[16];
    size_t n;
    CHECK(lb_tokenizer_n_vocab(tok) == 32000, "n_vocab %d", lb_tokenizer_n_vocab(tok));
    CHECK(lb_tokenizer_bos(tok) == 1 && lb_tokenizer_eos(tok) == 2 && lb_tokenizer_add_bos(tok), "bos/eos/add_bos");
    CHECK(lb_tokenizer_is_eog(tok, 2) && !lb_tokenizer_is_eog(tok, 1), "eog");
    // parse_special: "<s>" is BOS; raw text after a special token gets the space prefix again
    CHECK(tokenize_str(tok, "<s>Hello", 1, ids, 16, &n) == 0 && n == 2 && ids[0] == 1 && ids[1] == 15043,
          "'<s>Hello' with parse_special: got %zu ids (%d %d)", n, ids[0], n > 1 ? ids[1] : -1);
    CHECK(tokenize_str(tok, "<s>", 0, ids, 16, &n) == 0 && !(n == 1 && ids[0] == 1), "'<s>' without parse_special must be text");
    // add_special prepends BOS
    int32_t *v;
    size_t nv;
    lb_err err = {{0}};
    CHECK(lb_tokenize(tok, "Hello", 5, 1, 0, &v, &nv, &err) == 0 && nv == 2 && v[0] == 1 && v[1] == 15043, "BOS");
    free(v);
    CHECK(lb_tokenize(tok, "", 0, 1, 0, &v, &nv, &err) == 0 && nv == 1 && v[0] == 1, "empty + BOS");
    free(v);
    // pieces
    CHECK(piece_is(tok, 15043, 0, " Hello"), "piece 15043");
    CHECK(piece_is(tok, 13, 0, "\n"), "piece <0x0A>");
    CHECK(piece_is(tok, 2, 0, "") && piece_is(tok, 2, 1, "</s>"), "piece </s>");
    CHECK(lb_token_to_piece(tok, -1, 1, NULL, 0) == 0 && lb_token_to_piece(tok, 32000, 1, NULL, 0) == 0, "bad ids");
    // truncation reports the full length
    char small[3];
    CHECK(lb_token_to_piece(tok, 15043, 0, small, sizeof small) == 6 && memcmp(small, " He", 3) == 0, "truncated piece");
    // byte fallback: an unassigned private-use char is spelled with <0xXX> tokens (ids 3 + byte)
    CHECK(tokenize_str(tok, "\xee\x80\x80", 0, ids, 16, &n) == 0 && n == 4 && ids[0] == 29871 &&
          ids[1] == 3 + 0xee && ids[2] == 3 + 0x80 && ids[3] == 3 + 0x80, "byte fallback (%zu ids)", n);
    printf("spm specifics: ok\n");
    return 0;
}

// Known ids of the Qwen2 vocab: <|endoftext|> 151643, <|im_start|> 151644, <|im_end|> 151645.
static int check_qwen2_specifics(const lb_tokenizer *tok) {
    int32_t ids[32];
    size_t n;
    CHECK(lb_tokenizer_bos(tok) == 151643 && lb_tokenizer_eos(tok) == 151643 && !lb_tokenizer_add_bos(tok), "bos/eos/add_bos");
    CHECK(lb_tokenizer_is_eog(tok, 151643) && lb_tokenizer_is_eog(tok, 151645) && !lb_tokenizer_is_eog(tok, 151644), "eog");
    CHECK(tokenize_str(tok, "<|im_start|>user\nhi<|im_end|>", 1, ids, 32, &n) == 0 && n == 5 && ids[0] == 151644 &&
          ids[4] == 151645, "chat markup with parse_special (%zu ids)", n);
    CHECK(tokenize_str(tok, "<|im_start|>", 0, ids, 32, &n) == 0 && n > 1, "control token must be text without parse_special");
    CHECK(piece_is(tok, 220, 0, " ") && piece_is(tok, 198, 0, "\n"), "byte-level pieces");
    CHECK(piece_is(tok, 151645, 0, "") && piece_is(tok, 151645, 1, "<|im_end|>"), "control piece");
    int32_t *v;
    size_t nv;
    lb_err err = {{0}};
    CHECK(lb_tokenize(tok, "hi", 2, 1, 0, &v, &nv, &err) == 0 && nv == 1, "gpt2 vocab: add_special adds no BOS here");
    free(v);
    printf("qwen2 specifics: ok\n");
    return 0;
}

// Whole-file tokenization: speed, and the round trip where the tokenizer is lossless.
static int check_big_text(const lb_tokenizer *tok, const char *name, int round_trip) {
    char path[4096];
    if (!lb_test_data("text/tinyshakespeare.txt", path, sizeof path)) return 0;
    size_t len;
    char *text = read_all(path, &len);
    CHECK(text, "read %s", path);
    int32_t *ids;
    size_t n;
    lb_err err = {{0}};
    double t0 = now_s();
    CHECK(lb_tokenize(tok, text, len, 1, 0, &ids, &n, &err) == 0, "%s", err.msg);
    double dt = now_s() - t0;
    printf("%s: tokenized %zu bytes into %zu tokens in %.3f s\n", name, len, n, dt);
    CHECK(dt < 10.0, "tokenizing 1 MB took %.1f s", dt);   // ~0.2 s in a Release build
    CHECK(n > 1000 && (!lb_tokenizer_add_bos(tok) || ids[0] == lb_tokenizer_bos(tok)), "BOS first");
    if (round_trip) {
        // without BOS: with one, llama_detokenize(remove_special) keeps the SPM space prefix
        free(ids);
        CHECK(lb_tokenize(tok, text, len, 0, 0, &ids, &n, &err) == 0, "%s", err.msg);
        char *back;
        size_t blen;
        CHECK(lb_detokenize(tok, ids, n, 1, 0, &back, &blen, &err) == 0, "%s", err.msg);
        CHECK(blen == len && memcmp(back, text, len) == 0, "%s: round trip of the 1 MB text differs", name);
        free(back);
        printf("%s: 1 MB round trip exact\n", name);
    }
    free(ids);
    free(text);
    return 0;
}

// --- random input: no crash (run under ASan/UBSan), and lossless round trips ------------------
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint32_t rng(void) {   // xorshift64*
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

// Both are lossless for valid UTF-8 (SPM: without U+2581, which it uses for spaces). Random bytes must also never crash either tokenizer.
static int check_random(const lb_tokenizer *tok, int is_spm) {
    static const char *bits[] = {" ", "  ", "\n", "\r\n", "\t", "'s", "'LL", "a", "Hello", "123", "<s>", "</s>",
        "<unk>", "<|im_start|>", "<|endoftext|>", "[PAD151646]", "\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\xa6\x99",
        "\xe3\x80\x80", "\xc2\xa0", "\xcc\x81", "!", "...", "\xd9\xa1", "\xe2\x85\xa0"};
    const size_t n_bits = sizeof bits / sizeof bits[0];
    int rt_fail = 0;
    for (int iter = 0; iter < 3000; iter++) {
        char buf[256];
        size_t n = 0, parts = rng() % 12;
        int valid = 1;
        for (size_t k = 0; k < parts; k++) {
            if (rng() % 4 == 0) {   // raw bytes, often invalid UTF-8
                size_t m = 1 + rng() % 4;
                for (size_t j = 0; j < m; j++) buf[n++] = (char)(rng() & 0xFF);
                valid = 0;
            } else {
                const char *b = bits[rng() % n_bits];
                memcpy(buf + n, b, strlen(b));
                n += strlen(b);
            }
        }
        int parse_special = (int)(rng() & 1);
        int32_t *ids;
        size_t n_ids;
        lb_err err = {{0}};
        CHECK(lb_tokenize(tok, buf, n, (int)(rng() & 1), parse_special, &ids, &n_ids, &err) == 0, "%s", err.msg);
        for (size_t k = 0; k < n_ids; k++) CHECK(ids[k] >= 0 && ids[k] < lb_tokenizer_n_vocab(tok), "id %d", ids[k]);
        free(ids);
        CHECK(lb_tokenize(tok, buf, n, 0, 0, &ids, &n_ids, &err) == 0, "%s", err.msg);
        char *back;
        size_t blen;
        CHECK(lb_detokenize(tok, ids, n_ids, 0, 1, &back, &blen, &err) == 0, "%s", err.msg);
        // (invalid UTF-8 is not: a truncated lead byte swallows the bytes of the next "▁")
        int lossless = valid && (!is_spm || memmem(buf, n, "\xe2\x96\x81", 3) == NULL);
        if (lossless && (blen != n || memcmp(back, buf, n) != 0)) {
            if (rt_fail++ < 5) {
                printf("round trip differs: ");
                print_escaped(stdout, buf, n);
                printf(" -> ");
                print_escaped(stdout, back, blen);
                printf("\n");
            }
        }
        free(back);
        free(ids);
    }
    CHECK(rt_fail == 0, "%d random round trips differ", rt_fail);
    // every piece of every id, with and without special rendering
    for (int32_t id = 0; id < lb_tokenizer_n_vocab(tok); id++) {
        char b[8];
        size_t full = lb_token_to_piece(tok, id, 1, b, sizeof b);
        (void)full;
        lb_token_to_piece(tok, id, 0, b, sizeof b);
    }
    printf("random inputs: 3000 ok\n");
    return 0;
}

static int run_vocab(const char *rel, int *pass, int *total) {
    char path[4096];
    if (!lb_test_data(rel, path, sizeof path)) return lb_test_missing();
    lb_gguf g;
    lb_err err = {{0}};
    CHECK(lb_gguf_open(&g, path, &err) == 0, "%s", err.msg);
    lb_tokenizer *tok = lb_tokenizer_build(&g.kv, path, &err);
    CHECK(tok, "%s", err.msg);
    int is_spm = strstr(rel, "spm") != NULL;
    int rc = run_vectors(tok, path, 0, 1, pass, total);
    if (rc == 0) rc = is_spm ? check_spm_specifics(tok) : check_qwen2_specifics(tok);
    if (rc == 0) rc = check_random(tok, is_spm);
    if (rc == 0) rc = check_big_text(tok, rel, 1);
    lb_tokenizer_free(tok);
    lb_gguf_close(&g);
    return rc;
}

// Hostile metadata: errors, never crashes.
static int check_bad_metadata(void) {
    lb_kvs kv;
    lb_kvs_init(&kv);
    lb_err err = {{0}};
    CHECK(lb_tokenizer_build(&kv, "empty", &err) == NULL && strstr(err.msg, "empty:"), "empty kv: %s", err.msg);
    lb_kvs_set_str(&kv, "tokenizer.ggml.model", "gpt2", &err);
    lb_str toks[3] = {{1, "a"}, {1, "b"}, {2, "ab"}};
    lb_kvs_set_str_arr(&kv, "tokenizer.ggml.tokens", toks, 3, &err);
    CHECK(lb_tokenizer_build(&kv, "nomerges", &err) == NULL, "gpt2 without merges must fail");
    lb_str merges[2] = {{3, "a b"}, {1, "x"}};
    lb_kvs_set_str_arr(&kv, "tokenizer.ggml.merges", merges, 2, &err);
    lb_kvs_set_str(&kv, "tokenizer.ggml.pre", "no-such-pre", &err);
    CHECK(lb_tokenizer_build(&kv, "badpre", &err) == NULL && strstr(err.msg, "no-such-pre"), "unknown pre: %s", err.msg);
    lb_kvs_set_str(&kv, "tokenizer.ggml.pre", "gpt-2", &err);
    float sc[1] = {0};
    lb_kvs_set_arr(&kv, "tokenizer.ggml.scores", LB_VT_F32, sc, 1, &err);
    CHECK(lb_tokenizer_build(&kv, "shortscores", &err) == NULL, "too few scores must fail");
    lb_kvs_remove(&kv, "tokenizer.ggml.scores");
    lb_kvs_set_u32(&kv, "tokenizer.ggml.bos_token_id", 99, &err);   // out of range: ignored
    lb_tokenizer *tok = lb_tokenizer_build(&kv, "tiny", &err);
    CHECK(tok, "tiny vocab: %s", err.msg);
    int32_t *ids;
    size_t n;
    // "ab" merges into id 2; "c" and the invalid byte have no token and vanish (llama.cpp too)
    CHECK(lb_tokenize(tok, "ab c\xff", 5, 0, 0, &ids, &n, &err) == 0 && n == 1 && ids[0] == 2, "tiny tokenize (%zu ids)", n);
    free(ids);
    CHECK(lb_tokenizer_bos(tok) == -1, "out-of-range bos must be dropped");
    lb_tokenizer_free(tok);
    lb_kvs_free(&kv);
    printf("bad metadata: ok\n");
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2) {   // debugging aid: print the ids of a file (or the vectors' verdicts)
        lb_gguf g;
        lb_err err = {{0}};
        if (lb_gguf_open(&g, argv[1], &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
        lb_tokenizer *tok = lb_tokenizer_build(&g.kv, argv[1], &err);
        if (!tok) { fprintf(stderr, "%s\n", err.msg); return 1; }
        int rc = 0;
        if (argc >= 3) {
            size_t len, n;
            char *text = read_all(argv[2], &len);
            int32_t *ids;
            if (!text || lb_tokenize(tok, text, len, 0, 0, &ids, &n, &err)) { fprintf(stderr, "tokenize failed %s\n", err.msg); return 1; }
            for (size_t i = 0; i < n; i++) printf("%d\n", ids[i]);
            free(ids);
            free(text);
        } else {
            int p, t;
            const char *sp = getenv("LB_TOK_SPECIAL");
            rc = run_vectors(tok, argv[1], sp && *sp == '1', 0, &p, &t);
        }
        lb_tokenizer_free(tok);
        lb_gguf_close(&g);
        return rc;
    }
    int rc = check_bad_metadata();
    if (rc) return rc;
    static const char *VOCABS[] = {"vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-qwen2.gguf"};
    int skipped = 0;
    for (size_t i = 0; i < 2; i++) {
        int pass = 0, total = 0;
        int r = run_vocab(VOCABS[i], &pass, &total);
        if (r == TEST_SKIP) { skipped = 1; continue; }
        if (r) rc = 1;
    }
    if (rc) return rc;
    return skipped ? lb_test_missing() : 0;
}
