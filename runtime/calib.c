// calib.c: Hessians of the linear layers' inputs over a calibration text (see calib.h).
#include "calib.h"
#include "tokenizer.h"
#include <cblas.h>
#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CALIB_DEFAULT_CTX 256
#define CALIB_DEFAULT_CHUNKS 128
#define CALIB_COL_BLOCK 128   // H columns per task of the x^T x update
// Text read at most: a token is rarely more than ~16 bytes; reading much more than the tokens
// we use would only spend time in the tokenizer.
#define CALIB_BYTES_PER_TOKEN 32

// ----------------------------------------------------------------------------
// the text

static char *read_text(const char *path, size_t max_bytes, size_t *len, lb_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) { lb_fail(err, "%s: %s", path, strerror(errno)); return NULL; }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) {
            if (cap >= max_bytes) break;
            cap = cap * 2 < max_bytes ? cap * 2 : max_bytes;
            char *nb = realloc(buf, cap + 1);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    const int bad = ferror(f);
    fclose(f);
    if (!buf) { lb_fail(err, "%s: out of memory", path); return NULL; }
    if (bad) { free(buf); lb_fail(err, "%s: read error", path); return NULL; }
    // a cut in the middle of a UTF-8 sequence would tokenize as garbage bytes: back up to a boundary
    if (n == max_bytes)
        while (n > 0 && ((unsigned char)buf[n - 1] & 0xC0) == 0x80) n--;
    if (n > 0 && n == max_bytes && ((unsigned char)buf[n - 1] & 0x80)) n--;
    if (n > 0 && buf[n - 1] == '\n') n--;   // as llama-perplexity's -f
    buf[n] = '\0';
    *len = n;
    return buf;
}

int lb_calib_build(lb_calib *c, const lb_model *m, const char *what, const char *text_path,
                   const lb_calib_opts *o, int n_threads, lb_err *err) {
    memset(c, 0, sizeof *c);
    lb_hparams hp;
    if (lb_hparams_from_model(&hp, m, what, err)) return -1;
    c->n_layer = hp.n_layer;
    c->dim[LB_OBS_ATTN_IN] = hp.n_embd;
    c->dim[LB_OBS_ATTN_OUT] = hp.n_head * hp.head_dim;
    c->dim[LB_OBS_FFN_IN] = hp.n_embd;
    c->dim[LB_OBS_FFN_ACT] = hp.n_ff;
    c->n_threads = n_threads > 0 ? n_threads : 1;
    c->n_ctx = o && o->n_ctx > 0 ? o->n_ctx : CALIB_DEFAULT_CTX;
    const int max_chunks = o && o->max_chunks > 0 ? o->max_chunks : CALIB_DEFAULT_CHUNKS;
    long max_tokens = (long)max_chunks * c->n_ctx;
    if (o && o->max_tokens > 0 && o->max_tokens < max_tokens) max_tokens = o->max_tokens;
    if (c->n_ctx < 2) return lb_fail(err, "calibration: context of %d tokens is too short", c->n_ctx);

    size_t len = 0;
    char *text = read_text(text_path, (size_t)max_tokens * CALIB_BYTES_PER_TOKEN + 4096, &len, err);
    if (!text) return -1;
    lb_tokenizer *tok = lb_tokenizer_build(&m->kv, what, err);
    if (!tok) { free(text); return -1; }
    int rc = lb_tokenize(tok, text, len, 1, 0, &c->ids, &c->n_ids, err);
    c->add_bos = lb_tokenizer_add_bos(tok);
    c->bos = lb_tokenizer_bos(tok);
    lb_tokenizer_free(tok);
    free(text);
    if (rc) return -1;
    if (c->add_bos && c->bos < 0) { lb_calib_free(c); return lb_fail(err, "%s: the vocabulary adds BOS but has no BOS token", what); }
    for (size_t i = 0; i < c->n_ids; i++)
        if (c->ids[i] < 0 || c->ids[i] >= hp.n_vocab) { lb_calib_free(c); return lb_fail(err, "%s: token id %d outside the model's vocabulary", text_path, c->ids[i]); }
    long n_chunks = (long)(c->n_ids / (size_t)c->n_ctx);
    if (n_chunks > max_tokens / c->n_ctx) n_chunks = max_tokens / c->n_ctx;
    if (n_chunks < 1) {
        lb_fail(err, "%s: %zu tokens, calibration needs at least one chunk of %d", text_path, c->n_ids, c->n_ctx);
        lb_calib_free(c);
        return -1;
    }
    c->n_chunks = (int)n_chunks;
    return 0;
}

static void free_hessians(lb_calib *c) {
    if (c->h) {
        const int n = (c->layer1 - c->layer0) * LB_OBS_N_SITES;
        for (int i = 0; i < n; i++) free(c->h[i]);
        free(c->h);
    }
    c->h = NULL;
    c->layer0 = c->layer1 = 0;
    c->n_rows = 0;
}

void lb_calib_free(lb_calib *c) {
    free_hessians(c);
    free(c->ids);
    c->ids = NULL;
    c->n_ids = 0;
}

size_t lb_calib_layer_bytes(const lb_hparams *hp) {
    const size_t e = (size_t)hp->n_embd, q = (size_t)hp->n_head * hp->head_dim, f = (size_t)hp->n_ff;
    return 4 * (2 * e * e + q * q + f * f);
}

// ----------------------------------------------------------------------------
// accumulation: H += X^T X for a batch X (rows x K), upper triangle only. Column blocks of
// H are independent tasks (each one sgemm of X[:, 0:j1]^T X[:, j0:j1]), so the result does
// not depend on the thread count.

static void accumulate(float *h, const float *x, int rows, int k, int n_threads) {
    const int n_blocks = (k + CALIB_COL_BLOCK - 1) / CALIB_COL_BLOCK;
    #pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1)
    for (int b = n_blocks - 1; b >= 0; b--) {   // biggest blocks (most rows above the diagonal) first
        const int j0 = b * CALIB_COL_BLOCK;
        const int cols = k - j0 < CALIB_COL_BLOCK ? k - j0 : CALIB_COL_BLOCK;
        const int top = j0 + cols;   // rows 0 .. top-1 of these columns hold the upper triangle
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, top, cols, rows, 1.0f, x, k, x + j0, k, 1.0f, h + j0, k);
    }
}

static void observe(void *user, int layer, lb_obs_site site, const float *x, int n_rows, int dim) {
    lb_calib *c = user;
    if (layer < c->layer0 || layer >= c->layer1 || dim != c->dim[site]) return;
    accumulate(c->h[(layer - c->layer0) * LB_OBS_N_SITES + site], x, n_rows, dim, c->n_threads);
}

int lb_calib_collect(lb_calib *c, lb_runtime *rt, int layer0, int layer1, int progress, lb_err *err) {
    free_hessians(c);
    if (layer0 < 0 || layer1 > c->n_layer || layer0 >= layer1)
        return lb_fail(err, "calibration: bad layer range [%d, %d) of %d", layer0, layer1, c->n_layer);
    if (lb_runtime_n_ctx(rt) < c->n_ctx) return lb_fail(err, "calibration: runtime context %d < chunk %d", lb_runtime_n_ctx(rt), c->n_ctx);
    const int n_h = (layer1 - layer0) * LB_OBS_N_SITES;
    c->h = calloc((size_t)n_h, sizeof *c->h);
    if (!c->h) return lb_fail(err, "calibration: out of memory");
    c->layer0 = layer0;
    c->layer1 = layer1;
    for (int i = 0; i < n_h; i++) {
        const size_t k = (size_t)c->dim[i % LB_OBS_N_SITES];
        if (!(c->h[i] = calloc(k * k, sizeof(float)))) {
            free_hessians(c);
            return lb_fail(err, "calibration: out of memory for the Hessians of layers %d..%d (%.0f MB)", layer0,
                           layer1 - 1, (double)n_h / LB_OBS_N_SITES * 4.0 *
                           (2.0 * c->dim[0] * c->dim[0] + (double)c->dim[1] * c->dim[1] + (double)c->dim[3] * c->dim[3]) / 1e6);
        }
    }

    int32_t *chunk = malloc((size_t)c->n_ctx * sizeof *chunk);
    if (!chunk) { free_hessians(c); return lb_fail(err, "calibration: out of memory"); }
    lb_runtime_set_observer(rt, observe, c, layer1 - 1);
    int rc = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < c->n_chunks && rc == 0; i++) {
        memcpy(chunk, c->ids + (size_t)i * c->n_ctx, (size_t)c->n_ctx * sizeof *chunk);
        if (c->add_bos) chunk[0] = c->bos;
        rc = lb_runtime_eval(rt, chunk, c->n_ctx, 0, NULL, 0, err);
        c->n_rows += c->n_ctx;
        if (progress) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            const double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
            fprintf(stderr, "\rcalibration: layers %d..%d: chunk %d/%d (%.1f s)", layer0, layer1 - 1, i + 1, c->n_chunks, s);
            if (i + 1 == c->n_chunks) fputc('\n', stderr);
        }
    }
    lb_runtime_set_observer(rt, NULL, NULL, -1);
    free(chunk);
    if (rc) { free_hessians(c); return -1; }

    // H = 2/N * sum x x^T, mirrored to a full symmetric matrix
    const float scale = 2.0f / (float)c->n_rows;
    for (int i = 0; i < n_h; i++) {
        const int k = c->dim[i % LB_OBS_N_SITES];
        float *h = c->h[i];
        // two passes: a row's lower part copies other rows' upper parts, which must be final
        #pragma omp parallel for num_threads(c->n_threads) schedule(static)
        for (int r = 0; r < k; r++)
            for (int j = r; j < k; j++) h[(size_t)r * k + j] *= scale;
        #pragma omp parallel for num_threads(c->n_threads) schedule(static)
        for (int r = 0; r < k; r++)
            for (int j = 0; j < r; j++) h[(size_t)r * k + j] = h[(size_t)j * k + r];
    }
    return 0;
}

const float *lb_calib_hessian(const lb_calib *c, int layer, lb_obs_site site, int *k) {
    if (!c->h || layer < c->layer0 || layer >= c->layer1 || (int)site < 0 || site >= LB_OBS_N_SITES) return NULL;
    if (k) *k = c->dim[site];
    return c->h[(layer - c->layer0) * LB_OBS_N_SITES + site];
}

int lb_calib_site_of(const char *tensor_name, int *layer) {
    static const struct { const char *suffix; lb_obs_site site; } map[] = {
        {"attn_q.weight", LB_OBS_ATTN_IN}, {"attn_k.weight", LB_OBS_ATTN_IN}, {"attn_v.weight", LB_OBS_ATTN_IN},
        {"attn_output.weight", LB_OBS_ATTN_OUT}, {"ffn_gate.weight", LB_OBS_FFN_IN},
        {"ffn_up.weight", LB_OBS_FFN_IN}, {"ffn_down.weight", LB_OBS_FFN_ACT},
    };
    int l = -1, n = 0;
    if (sscanf(tensor_name, "blk.%d.%n", &l, &n) != 1 || n == 0 || l < 0) return -1;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(tensor_name + n, map[i].suffix)) { *layer = l; return (int)map[i].site; }
    return -1;
}
