// test_calib.c: calibration Hessians (runtime/calib.c) on stories260K (llama2.c checkpoint,
// dim 64, ffn 172, 5 layers) over real text. The expected H is accumulated here in double,
// straight from the activations the runtime's observer hands out, so the blocked float
// x^T x, the mirroring and the 2/N scale in calib.c are checked against plain arithmetic.
// Also: a layer range stops the forward pass after its last layer, site names map right,
// and an observer-free runtime gives the same logits as before (the hook costs nothing).
#include "calib.h"
#include "infer.h"
#include "model.h"
#include "test_util.h"
#include <math.h>

#define CTX 64
#define CHUNKS 3

typedef struct ref_acc {
    int layer, site, k;
    double *h;       // k x k
    long rows;
    int max_layer_seen;
} ref_acc;

static void ref_observer(void *user, int layer, lb_obs_site site, const float *x, int n_rows, int dim) {
    ref_acc *a = user;
    if (layer > a->max_layer_seen) a->max_layer_seen = layer;
    if (layer != a->layer || (int)site != a->site) return;
    for (int t = 0; t < n_rows; t++)
        for (int i = 0; i < dim; i++)
            for (int j = 0; j < dim; j++) a->h[(size_t)i * dim + j] += (double)x[(size_t)t * dim + i] * x[(size_t)t * dim + j];
    a->rows += n_rows;
}

int main(void) {
    char bin[1024], tok[1024], text[1024];
    if (!lb_test_data("stories260K/stories260K.bin", bin, sizeof bin) ||
        !lb_test_data("stories260K/tok512.bin", tok, sizeof tok) ||
        !lb_test_data("text/tinyshakespeare.txt", text, sizeof text))
        return lb_test_missing();
    lb_err err = {{0}};
    lb_model m;
    CHECK(lb_model_load(&m, bin, tok, &err) == 0, "%s", err.msg);
    // the runtime needs plain tensors: llama2.c q/k carry a permutation, so go through a GGUF-like copy
    // (the model loader marks them; the runtime refuses them). Use lb_tensor_read_f32 into owned buffers.
    for (size_t i = 0; i < m.n_tensors; i++) {
        lb_tensor *t = &m.tensors[i];
        if (t->xform == LB_XFORM_NONE) continue;
        const int64_t n = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
        float *f = malloc((size_t)n * sizeof(float));
        CHECK(f && lb_tensor_read_f32(t, 0, t->ne[1] * t->ne[2] * t->ne[3], f, &err) == 0, "%s", err.msg);
        CHECK(lb_model_own_buf(&m, f, &err) == 0, "%s", err.msg);
        t->data = f;
        t->type = 0;   // f32
        t->nbytes = (uint64_t)n * 4;
        t->xform = LB_XFORM_NONE;
    }

    // --- site names ---
    int layer = -1;
    CHECK(lb_calib_site_of("blk.3.attn_k.weight", &layer) == LB_OBS_ATTN_IN && layer == 3, "attn_k site");
    CHECK(lb_calib_site_of("blk.12.attn_output.weight", &layer) == LB_OBS_ATTN_OUT && layer == 12, "attn_output site");
    CHECK(lb_calib_site_of("blk.0.ffn_up.weight", &layer) == LB_OBS_FFN_IN, "ffn_up site");
    CHECK(lb_calib_site_of("blk.0.ffn_down.weight", &layer) == LB_OBS_FFN_ACT, "ffn_down site");
    CHECK(lb_calib_site_of("blk.0.ffn_norm.weight", &layer) < 0, "norm is no linear");
    CHECK(lb_calib_site_of("token_embd.weight", &layer) < 0, "token_embd has no site");
    CHECK(lb_calib_site_of("blk.x.attn_q.weight", &layer) < 0, "bad layer number");

    lb_calib cal;
    lb_calib_opts o = {.n_ctx = CTX, .max_chunks = CHUNKS};
    CHECK(lb_calib_build(&cal, &m, "stories260K", text, &o, 2, &err) == 0, "%s", err.msg);
    CHECK(cal.n_chunks == CHUNKS, "chunks %d", cal.n_chunks);
    lb_runtime *rt = lb_runtime_build(&m, CTX, 2, &err);
    CHECK(rt, "%s", err.msg);
    const lb_hparams *hp = lb_runtime_hparams(rt);

    // logits before any observer, to check that removing it restores the normal pass
    int32_t ids[CTX];
    memcpy(ids, cal.ids, sizeof ids);
    if (cal.add_bos) ids[0] = cal.bos;
    float *logits0 = malloc((size_t)hp->n_vocab * sizeof(float)), *logits1 = malloc((size_t)hp->n_vocab * sizeof(float));
    CHECK(logits0 && logits1, "oom");
    CHECK(lb_runtime_eval(rt, ids, CTX, 0, logits0, 1, &err) == 0, "%s", err.msg);

    // --- layers 1..2 of 5 ---
    CHECK(lb_calib_collect(&cal, rt, 1, 3, 0, &err) == 0, "%s", err.msg);
    CHECK(cal.n_rows == (long)CHUNKS * CTX, "rows %ld", cal.n_rows);
    CHECK(lb_calib_hessian(&cal, 0, LB_OBS_ATTN_IN, NULL) == NULL, "layer 0 not held");
    CHECK(lb_calib_hessian(&cal, 3, LB_OBS_ATTN_IN, NULL) == NULL, "layer 3 not held");

    double worst = 0.0;
    for (int l = 1; l < 3; l++) {
        for (int site = 0; site < LB_OBS_N_SITES; site++) {
            int k = 0;
            const float *h = lb_calib_hessian(&cal, l, (lb_obs_site)site, &k);
            CHECK(h && k == cal.dim[site], "H for layer %d site %d", l, site);
            ref_acc a = {.layer = l, .site = site, .k = k, .h = calloc((size_t)k * k, sizeof(double)), .max_layer_seen = -1};
            CHECK(a.h, "oom");
            lb_runtime_set_observer(rt, ref_observer, &a, 2);
            for (int c = 0; c < CHUNKS; c++) {
                memcpy(ids, cal.ids + (size_t)c * CTX, sizeof ids);
                if (cal.add_bos) ids[0] = cal.bos;
                CHECK(lb_runtime_eval(rt, ids, CTX, 0, NULL, 0, &err) == 0, "%s", err.msg);
            }
            // a pass that stops after layer 2 has no logits to give
            CHECK(lb_runtime_eval(rt, ids, CTX, 0, logits1, 1, &err) != 0, "logits from a truncated pass");
            lb_runtime_set_observer(rt, NULL, NULL, -1);
            CHECK(a.max_layer_seen == 2, "pass ran to layer %d, expected to stop after 2", a.max_layer_seen);
            double scale = 0.0;
            for (size_t i = 0; i < (size_t)k * k; i++) scale = fmax(scale, fabs(a.h[i]) * 2.0 / a.rows);
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++) {
                    const double want = a.h[(size_t)i * k + j] * 2.0 / a.rows;
                    const double d = fabs(h[(size_t)i * k + j] - want) / scale;
                    if (d > worst) worst = d;
                    CHECK(d < 1e-5, "layer %d site %d H[%d][%d] = %g, want %g", l, site, i, j, h[(size_t)i * k + j], want);
                    CHECK(h[(size_t)i * k + j] == h[(size_t)j * k + i], "H not symmetric at %d,%d", i, j);
                }
            free(a.h);
        }
    }
    printf("calib: layers 1-2, 4 sites each (K = %d, %d, %d, %d): max |H - ref| / max|H| = %.2e\n", cal.dim[0],
           cal.dim[1], cal.dim[2], cal.dim[3], worst);

    // the runtime is back to normal: the same logits as before calibration
    memcpy(ids, cal.ids, sizeof ids);
    if (cal.add_bos) ids[0] = cal.bos;
    CHECK(lb_runtime_eval(rt, ids, CTX, 0, logits1, 1, &err) == 0, "%s", err.msg);
    CHECK(memcmp(logits0, logits1, (size_t)hp->n_vocab * sizeof(float)) == 0, "logits changed after calibration");

    // bad ranges and a text too short for one chunk
    CHECK(lb_calib_collect(&cal, rt, 3, 3, 0, &err) != 0, "empty range accepted");
    CHECK(lb_calib_collect(&cal, rt, 0, 6, 0, &err) != 0, "range past the last layer accepted");
    lb_calib c2;
    lb_calib_opts big = {.n_ctx = 1 << 20};
    CHECK(lb_calib_build(&c2, &m, "stories260K", tok, &big, 1, &err) != 0, "a chunk longer than the text accepted");
    printf("calib: errors: %s\n", err.msg);

    free(logits0);
    free(logits1);
    lb_runtime_free(rt);
    lb_calib_free(&cal);
    lb_model_free(&m);
    printf("calib: PASS\n");
    return 0;
}
