// test_teacher_store.c: what `lowbit teacher` wrote equals the teacher recomputed here.
// The teacher is loaded and run independently of the command (lb_model_load +
// lb_train_model_from_model + lb_train_model_forward without targets, on the token store's
// eval windows taken straight from lb_tokens_read, B windows per forward like the command):
//  - full:    every stored value == fp16(forward logit), bit for bit
//  - topk:    ids == the K largest fp32 logits (sorted here with qsort: value desc, id asc),
//             logits == fp16 of those values
//  - sampled: ids/counts == kd_sample_row on the fp32 logits with the documented per-row RNG
//             state (cmd_teacher.c: splitmix64(seed) ^ n * 0xd1b54a32d192ed03)
//  - every attribute (tokens_hash recomputed here with FNV-1a over the covered ids)
// Usage: test_teacher_store TEACHER.bin TOKENIZER.bin TOKENS.h5 T B STORE_DIR
//        (STORE_DIR/{full,topk,sampled}.h5, made with --seq-len T --batch B)
// Also prints, for information, the largest difference between B-window and 1-window forwards.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fp16.h"
#include "h5_logits.h"
#include "h5_tokens.h"
#include "kd_sample.h"
#include "model.h"
#include "test_util.h"
#include "train_model.h"

typedef struct { float v; int32_t id; } pair;
static int by_value_then_id(const void *a, const void *b) {
    const pair *x = a, *y = b;
    if (x->v != y->v) return x->v > y->v ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static uint64_t fnv1a(const int32_t *ids, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    const uint8_t *b = (const uint8_t *)ids;   // little-endian host (x86-64, aarch64)
    for (size_t i = 0; i < n * 4; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

int main(int argc, char **argv) {
    if (argc != 7) { fprintf(stderr, "usage: %s TEACHER.bin TOKENIZER.bin TOKENS.h5 T B STORE_DIR\n", argv[0]); return 2; }
    const char *teacher = argv[1], *tok = argv[2], *tokens = argv[3], *dir = argv[6];
    const int T = atoi(argv[4]), B = atoi(argv[5]);
    lb_err err = {{0}};
    int32_t *ids_all = NULL;
    size_t n_tok = 0;
    CHECK(lb_tokens_read(tokens, LB_SPLIT_TRAIN, &ids_all, &n_tok, NULL, &err) == 0, "%s", err.msg);
    lb_model src;
    CHECK(lb_model_load(&src, teacher, tok, &err) == 0, "%s", err.msg);
    lb_train_model m;
    CHECK(lb_train_model_from_model(&m, &src, teacher, &err) == 0, "%s", err.msg);
    lb_model_free(&src);
    const int V = m.hp.n_vocab;

    lb_logits_reader *r[3];
    const lb_logits_info *in[3];
    char path[4200];
    for (int md = 0; md < 3; md++) {
        snprintf(path, sizeof path, "%s/%s.h5", dir, lb_logit_mode_name((lb_logit_mode)md));
        CHECK((r[md] = lb_logits_open(path, &err)), "%s", err.msg);
        in[md] = lb_logits_reader_info(r[md]);
        CHECK(in[md]->mode == (lb_logit_mode)md && in[md]->n_vocab == V && in[md]->seq_len == T && !strcmp(in[md]->split, "train"),
              "%s: attributes", path);
        CHECK(in[md]->n_windows >= 1 && (size_t)(in[md]->n_windows * T + 1) <= n_tok, "%s: n_windows %lld", path,
              (long long)in[md]->n_windows);
        CHECK(in[md]->tokens_hash == fnv1a(ids_all, (size_t)in[md]->n_windows * T + 1), "%s: tokens_hash differs", path);
        CHECK(!strcmp(in[md]->teacher, teacher) && !strcmp(in[md]->tokens, tokens), "%s: teacher/tokens attributes '%s' '%s'", path, in[md]->teacher, in[md]->tokens);
    }
    const int64_t NW = in[0]->n_windows;
    CHECK(in[1]->n_windows == NW && in[2]->n_windows == NW, "stores cover different windows");
    const int K = in[1]->k, S = in[2]->k;
    const float temp = (float)in[2]->temperature;
    const uint64_t seed = in[2]->seed;

    float *logits = malloc((size_t)T * V * sizeof *logits), *one = NULL;
    float *vals = malloc((size_t)T * (K > S ? K : S) * sizeof *vals);
    int32_t *ids = malloc((size_t)T * (K > S ? K : S) * sizeof *ids), *want_ids = malloc((size_t)S * sizeof *want_ids);
    uint8_t *counts = malloc((size_t)T * S), want_counts[255];
    pair *row = malloc((size_t)V * sizeof *row);
    double *cdf = malloc((size_t)V * sizeof *cdf);
    float *batch_logits = malloc((size_t)B * T * V * sizeof *batch_logits);
    CHECK(logits && vals && ids && counts && row && cdf && batch_logits, "oom");
    double max_b1_diff = 0;
    int64_t n_values = 0;
    for (int64_t w0 = 0; w0 < NW; w0 += B) {
        const int nb = (int)(NW - w0 < B ? NW - w0 : B);
        int32_t *inp = malloc((size_t)nb * T * sizeof *inp);
        for (int b = 0; b < nb; b++) memcpy(inp + (size_t)b * T, ids_all + (size_t)(w0 + b) * T, (size_t)T * sizeof *inp);
        CHECK(lb_train_model_forward(&m, inp, NULL, nb, T, NULL, &err) == 0, "%s", err.msg);
        memcpy(batch_logits, lb_train_model_logits(&m), (size_t)nb * T * V * sizeof *batch_logits);
        // for information: does a 1-window forward give the same fp32 logits?
        CHECK(lb_train_model_forward(&m, inp, NULL, 1, T, NULL, &err) == 0, "%s", err.msg);
        one = (float *)lb_train_model_logits(&m);
        for (size_t i = 0; i < (size_t)T * V; i++) max_b1_diff = fmax(max_b1_diff, fabs((double)one[i] - batch_logits[i]));
        free(inp);
        for (int b = 0; b < nb; b++) {
            const int64_t w = w0 + b;
            const float *want = batch_logits + (size_t)b * T * V;
            // full
            CHECK(lb_logits_read_window(r[0], w, logits, NULL, NULL, &err) == 0, "%s", err.msg);
            for (size_t i = 0; i < (size_t)T * V; i++) {
                const float h = lb_fp16_to_f32(lb_f32_to_fp16(want[i]));
                CHECK(lb_f32_bits(logits[i]) == lb_f32_bits(h), "full: window %lld row %zu id %zu: stored %a, fp16(teacher) %a",
                      (long long)w, i / V, i % V, (double)logits[i], (double)h);
            }
            n_values += (int64_t)T * V;
            // topk
            CHECK(lb_logits_read_window(r[1], w, vals, ids, NULL, &err) == 0, "%s", err.msg);
            for (int t = 0; t < T; t++) {
                for (int i = 0; i < V; i++) row[i] = (pair){want[(size_t)t * V + i], i};
                qsort(row, V, sizeof *row, by_value_then_id);
                for (int j = 0; j < K; j++)
                    CHECK(ids[t * K + j] == row[j].id && lb_f32_bits(vals[t * K + j]) == lb_f32_bits(lb_fp16_to_f32(lb_f32_to_fp16(row[j].v))),
                          "topk: window %lld row %d slot %d: id %d, want %d", (long long)w, t, j, ids[t * K + j], row[j].id);
            }
            // sampled
            CHECK(lb_logits_read_window(r[2], w, NULL, ids, counts, &err) == 0, "%s", err.msg);
            for (int t = 0; t < T; t++) {
                uint64_t s = seed;
                uint64_t rng = kd_rng_next(&s) ^ ((uint64_t)(w * T + t) * 0xd1b54a32d192ed03ull);
                kd_sample_row(want_ids, want_counts, cdf, want + (size_t)t * V, V, S, temp, &rng);
                CHECK(!memcmp(want_ids, ids + t * S, (size_t)S * sizeof *ids) && !memcmp(want_counts, counts + t * S, (size_t)S),
                      "sampled: window %lld row %d differs from kd_sample_row with the documented seed", (long long)w, t);
            }
        }
    }
    printf("full store == fp16(lb_train_model logits) bit for bit: %lld windows x %d positions x %d = %lld values\n", (long long)NW, T, V,
           (long long)n_values);
    printf("topk store == K=%d largest fp32 logits (qsort, ties to lower id) and their fp16 values\n", K);
    printf("sampled store == kd_sample_row(S=%d, T=%g, seed %llu) row by row\n", S, (double)temp, (unsigned long long)seed);
    printf("(info) max |logit(B=%d forward) - logit(1-window forward)| = %.3g\n", B, max_b1_diff);
    for (int md = 0; md < 3; md++) lb_logits_close(r[md]);
    free(logits); free(vals); free(ids); free(want_ids); free(counts); free(row); free(cdf); free(batch_logits); free(ids_all);
    lb_train_model_free(&m);
    printf("ok\n");
    return 0;
}
