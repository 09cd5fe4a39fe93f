// test_distill.c: stored-logit KD == online KD (libtrain/distill.h).
// Teacher: stories260K (a real tiny llama, tok512 vocabulary); student: a random tiny llama
// with the same vocabulary; tokens: a deterministic pseudo-random id stream.
//   1. a full store is written through lb_logits_writer (fp16 logits), one teacher forward per
//      window, and read back through the trainer's path (build_distill + lb_distill_teacher);
//   2. the same window-aligned batches go through the online path (the teacher run forward on
//      the batch), whose logits the test rounds to fp16 in place;
//   3. KD loss, CE part and the WHOLE student gradient vector of both must be equal BIT FOR BIT,
//      for forward KL, reverse KL and CAKLD, with and without a CE term;
//   4. against the unrounded online logits they agree within a tolerance derived from the
//      measured fp16 rounding error of the teacher's logits (stated below).
// Also: both loaders produce the same windows, and the windows are on the eval grid.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "test_util.h"
#include "distill.h"
#include "train_config.h"
#include "fp16.h"

enum { T = 16, B = 4, NW = 40, STEPS = 3 };

static float round_fp16(float x) { return lb_fp16_to_f32(lb_f32_to_fp16(x)); }

// one KD step of the student: forward (no targets) -> teacher data already in d -> loss -> grads
static int student_step(lb_train_model *s, lb_distill *d, const int32_t *in, const int32_t *tg, float *dlogits,
                        float *loss, float *ce, float *kd, float *grads_out, lb_err *err) {
    lb_train_model_zero_grad(s);
    if (lb_train_model_forward(s, in, NULL, B, T, NULL, err)) return -1;
    *loss = lb_distill_loss(d, dlogits, lb_train_model_logits(s), tg, ce, kd);
    if (lb_train_model_backward_dlogits(s, dlogits, err)) return -1;
    memcpy(grads_out, s->grads, s->n_params * sizeof(float));
    return 0;
}

int main(void) {
    char bin[4096], tok[4096];
    if (!lb_test_data("stories260K/stories260K.bin", bin, sizeof bin) ||
        !lb_test_data("stories260K/tok512.bin", tok, sizeof tok))
        return lb_test_missing();
    lb_err err = {{0}};
    char store[64];
    snprintf(store, sizeof store, "test_distill_%d.h5", (int)getpid());

    // --- tokens and the teacher ---
    const size_t n_tok = (size_t)NW * T + 1 + 7;   // a few tokens past the last window
    int32_t *toks = malloc(n_tok * sizeof *toks);
    uint64_t r = 12345;
    for (size_t i = 0; i < n_tok; i++) { r = r * 6364136223846793005ULL + 1442695040888963407ULL; toks[i] = (int32_t)(r >> 33) % 512; }
    lb_model src;
    CHECK(lb_model_load(&src, bin, tok, &err) == 0, "%s", err.msg);
    lb_train_model teacher;
    CHECK(lb_train_model_from_model(&teacher, &src, bin, &err) == 0, "%s", err.msg);
    lb_model_free(&src);
    CHECK(teacher.hp.n_vocab == 512, "teacher vocab %d", teacher.hp.n_vocab);
    const int V = teacher.hp.n_vocab;

    // --- 1. the store: one teacher forward per window (as `lowbit teacher` does) ---
    lb_logits_info info;
    memset(&info, 0, sizeof info);
    info.mode = LB_LOGITS_FULL; info.n_vocab = V; info.seq_len = T; info.k = 0; info.n_windows = NW;
    info.temperature = 1.0; info.seed = 0; snprintf(info.split, sizeof info.split, "train");
    info.teacher = bin; info.tokens = (char *)"memory";
    info.tokens_hash = lb_tokens_hash(toks, (size_t)NW * T + 1);
    lb_logits_writer *w = lb_logits_writer_create(store, &info, &err);
    CHECK(w, "%s", err.msg);
    for (int win = 0; win < NW; win++) {
        CHECK(lb_train_model_forward(&teacher, toks + (size_t)win * T, NULL, 1, T, NULL, &err) == 0, "%s", err.msg);
        CHECK(lb_logits_writer_append(w, lb_train_model_logits(&teacher), NULL, NULL, &err) == 0, "%s", err.msg);
    }
    CHECK(lb_logits_writer_finish(w, &err) == 0, "%s", err.msg);

    // --- the student ---
    lb_hparams hp = teacher.hp;
    hp.n_embd = 32; hp.n_layer = 2; hp.n_head = 4; hp.n_head_kv = 2; hp.head_dim = 8; hp.n_ff = 64; hp.n_ctx_train = T;
    lb_train_model student;
    CHECK(lb_train_model_init(&student, &hp, 99, &err) == 0, "%s", err.msg);
    const size_t NP = student.n_params, BTV = (size_t)B * T * V;
    float *dlogits = malloc(BTV * sizeof(float)), *tcopy = malloc(BTV * sizeof(float));
    float *g_store = malloc(NP * sizeof(float)), *g_round = malloc(NP * sizeof(float)), *g_raw = malloc(NP * sizeof(float));
    int32_t in[B * T], tg[B * T];
    int64_t win_on[B], win_st[B];

    double worst_rel_loss = 0, worst_rel_grad = 0, worst_eps = 0;
    int n_checked = 0;
    static const int losses[] = {LB_KD_LOSS_FORWARD_KL, LB_KD_LOSS_REVERSE_KL, LB_KD_LOSS_CAKLD};
    static const float ce_w[] = {0.0f, 0.5f};
    for (size_t li = 0; li < sizeof losses / sizeof losses[0]; li++)
    for (size_t ci = 0; ci < sizeof ce_w / sizeof ce_w[0]; ci++) {
        lb_loader ld_on, ld_st;
        CHECK(lb_loader_from_tokens(&ld_on, toks, n_tok, V, B, T, 7, 0, 1, &err) == 0, "%s", err.msg);
        CHECK(lb_loader_from_tokens(&ld_st, toks, n_tok, V, B, T, 7, 0, 1, &err) == 0, "%s", err.msg);
        lb_distill_config c_on = {.teacher = bin, .tokenizer = tok, .loss = losses[li], .temperature = 1.0f,
                                  .kd_weight = 1.0f, .ce_weight = ce_w[ci]};
        lb_distill_config c_st = c_on;
        c_st.teacher = c_st.tokenizer = NULL;
        c_st.store = store;
        lb_distill on, st;
        CHECK(build_distill(&on, &c_on, &student.hp, &ld_on, B, T, &err) == 0, "%s", err.msg);
        CHECK(build_distill(&st, &c_st, &student.hp, &ld_st, B, T, &err) == 0, "%s", err.msg);
        // online: every window of the split ((n_tok - 1) / T = NW); the store: its NW windows
        CHECK(ld_on.n_windows == NW && ld_st.n_windows == NW, "windows %lld / %lld", (long long)ld_on.n_windows,
              (long long)ld_st.n_windows);
        for (int step = 0; step < STEPS; step++) {
            int32_t tg2[B * T], in2[B * T];
            lb_loader_batch_at(&ld_on, (uint64_t)step, in, tg);
            lb_loader_batch_at(&ld_st, (uint64_t)step, in2, tg2);
            lb_loader_batch_windows(&ld_on, (uint64_t)step, win_on);
            lb_loader_batch_windows(&ld_st, (uint64_t)step, win_st);
            CHECK(!memcmp(in, in2, sizeof in) && !memcmp(tg, tg2, sizeof tg) && !memcmp(win_on, win_st, sizeof win_on),
                  "online and stored loaders disagree at step %d", step);
            for (int b = 0; b < B; b++) {   // rows are the windows on the eval grid
                CHECK(win_on[b] >= 0 && win_on[b] < NW, "window %lld", (long long)win_on[b]);
                CHECK(!memcmp(in + b * T, toks + win_on[b] * T, T * sizeof(int32_t)) &&
                      !memcmp(tg + b * T, toks + win_on[b] * T + 1, T * sizeof(int32_t)), "row %d is not window %lld", b,
                      (long long)win_on[b]);
            }
            // stored
            float L_st, ce_st, kd_st;
            CHECK(lb_distill_teacher(&st, in, win_st, &err) == 0, "%s", err.msg);
            CHECK(student_step(&student, &st, in, tg, dlogits, &L_st, &ce_st, &kd_st, g_store, &err) == 0, "%s", err.msg);
            // online, rounded to fp16 in place
            CHECK(lb_distill_teacher(&on, in, win_on, &err) == 0, "%s", err.msg);
            memcpy(tcopy, on.tlogits, BTV * sizeof(float));
            double eps = 0;
            for (size_t i = 0; i < BTV; i++) {
                on.tlogits[i] = round_fp16(tcopy[i]);
                eps = fmax(eps, fabs((double)on.tlogits[i] - tcopy[i]));
            }
            worst_eps = fmax(worst_eps, eps);
            CHECK(!memcmp(on.tlogits, st.tlogits, BTV * sizeof(float)),
                  "stored teacher logits != online logits rounded to fp16 (step %d)", step);
            float L_rd, ce_rd, kd_rd;
            CHECK(student_step(&student, &on, in, tg, dlogits, &L_rd, &ce_rd, &kd_rd, g_round, &err) == 0, "%s", err.msg);
            CHECK(!memcmp(&L_st, &L_rd, sizeof L_st) && !memcmp(&kd_st, &kd_rd, sizeof kd_st) && !memcmp(&ce_st, &ce_rd, sizeof ce_st),
                  "%s ce_w %g step %d: stored loss %.9g (kd %.9g) != online fp16 %.9g (kd %.9g)", lb_kd_loss_name(losses[li]),
                  (double)ce_w[ci], step, L_st, kd_st, L_rd, kd_rd);
            size_t first_diff = NP;
            for (size_t i = 0; i < NP && first_diff == NP; i++)
                if (memcmp(&g_store[i], &g_round[i], sizeof(float))) first_diff = i;
            CHECK(first_diff == NP, "%s step %d: gradient %zu differs: %.9g vs %.9g", lb_kd_loss_name(losses[li]), step,
                  first_diff, g_store[first_diff], g_round[first_diff]);
            // online, unrounded: within the fp16 tolerance
            memcpy(on.tlogits, tcopy, BTV * sizeof(float));
            float L_raw, ce_raw, kd_raw;
            CHECK(student_step(&student, &on, in, tg, dlogits, &L_raw, &ce_raw, &kd_raw, g_raw, &err) == 0, "%s", err.msg);
            double gd = 0, gn = 0;
            for (size_t i = 0; i < NP; i++) { gd += ((double)g_raw[i] - g_store[i]) * ((double)g_raw[i] - g_store[i]); gn += (double)g_raw[i] * g_raw[i]; }
            const double rel_grad = sqrt(gd / gn), rel_loss = fabs((double)kd_raw - kd_st) / fmax(1.0, fabs((double)kd_raw));
            worst_rel_grad = fmax(worst_rel_grad, rel_grad);
            worst_rel_loss = fmax(worst_rel_loss, rel_loss);
            // TOLERANCE: each teacher logit moves by at most eps (measured), so every log q_i
            // moves by at most 2*eps; KD (and its per-logit gradient q_i - p_i, q_i (..)) then
            // moves by O(eps) relative: we allow 4*eps relative (loss) and 8*eps relative L2
            // (gradient), i.e. ~1e-2 for logits of |z| ~ 10 (fp16 spacing 2^-7 there).
            CHECK(rel_loss <= 4 * eps, "%s step %d: |KD(raw) - KD(fp16)| rel %.3g > 4 eps = %.3g", lb_kd_loss_name(losses[li]),
                  step, rel_loss, 4 * eps);
            CHECK(rel_grad <= 8 * eps, "%s step %d: gradient rel L2 diff %.3g > 8 eps = %.3g", lb_kd_loss_name(losses[li]),
                  step, rel_grad, 8 * eps);
            CHECK(isfinite(L_st) && kd_st > 0, "KD %g", kd_st);
            if (step == 0)
                printf("%-10s ce_w %.1f: loss %.9g (ce %.6f, kd %.6f) stored == online-fp16 bitwise; raw kd %.9g\n",
                       lb_kd_loss_name(losses[li]), (double)ce_w[ci], L_st, ce_st, kd_st, kd_raw);
            n_checked++;
        }
        free_distill(&on);
        free_distill(&st);
        lb_loader_free(&ld_on);
        lb_loader_free(&ld_st);
    }
    printf("%d batches: stored == online-fp16 bit for bit (loss, ce, kd, %zu gradients); vs unrounded online: "
           "max rel KD diff %.3g, max rel grad L2 diff %.3g (fp16 rounding of teacher logits: max |dz| %.3g)\n",
           n_checked, NP, worst_rel_loss, worst_rel_grad, worst_eps);
    unlink(store);
    lb_train_model_free(&student);
    lb_train_model_free(&teacher);
    free(toks); free(dlogits); free(tcopy); free(g_store); free(g_round); free(g_raw);
    printf("ok\n");
    return 0;
}
