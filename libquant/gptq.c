// gptq.c: GPTQ (Frantar et al. 2022, "Accurate Post-Training Quantization for Generative
// Pre-trained Transformers") onto the grids of Q2_K, Q2_0C, TQ1_0, TQ2_0 and STQ1_0.
//
// For each row w of W [nrows x K] (rows are independent given H), columns are quantized left to
// right; the error of column i, scaled by the Cholesky factor U of H^-1 (upper, H^-1 = U^T U),
// is pushed onto the not-yet-quantized columns: w[j] -= (w[i] - q[i]) / U[i][i] * U[i][j].
// Updates inside a block of B columns are applied at once; the rest of the row gets them lazily
// after the block (the "lazy batch" trick), as one small matrix product per block.
//
// Grids: at each type block's first column the block's scales are chosen from the CURRENT
// (error-updated) weights by a base rule (RTN = the type's own from_float, or a grid method);
// since type blocks (256/512) are multiples of B, a block start is always a B-block start, where
// every pending lazy update has been applied. Sherry's 3:4 mask (STQ1_0, or any ternary type with
// base Sherry) is chosen per group of 4 (STQ1_0 grouping) at the group's first column (its other 3 columns are in the same B-block, so also current).
// The chosen codes go through the exact packers, so dequantize == GPTQ's grid.
//
// Determinism: rows are processed in fixed chunks of GPTQ_ROWS, each independent of the others,
// so the output does not depend on the thread count.
#include "quant_internal.h"
#include "lb_types.h"
#include "cpu_features.h"
#include <immintrin.h>
#include "q2_k.h"
#include "tq1_0.h"
#include "tq2_0.h"
#include "q2_0c.h"
#include "stq1_0.h"
#include <stdlib.h>
#include <string.h>

#define GPTQ_ROWS 16        // rows per work item
#define GPTQ_TILE 256       // columns per tile of the lazy update (keeps the tile in L1/L2)

// LAPACK from OpenBLAS (32-bit integers; the trailing lengths are gfortran's hidden string
// lengths, ignored by OpenBLAS's C implementations)
extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t uplo_len);
extern void dtrtri_(const char *uplo, const char *diag, const int *n, double *a, const int *lda, int *info,
                    size_t uplo_len, size_t diag_len);

// --- H -> U = chol(H^-1), upper -------------------------------------------------------------------
// Dead inputs (H[i][i] == 0: the feature is always 0) get H[i][i] = 1 and their weights are
// zeroed, as in the reference. Damping: percdamp * mean(diag H) on the diagonal; if the
// factorization fails the damping grows 10x (up to 4 more tries).
//
// One Cholesky and one triangular inverse instead of chol -> inverse -> chol (half the flops):
// with J the reversal permutation and J H J = M M^T (M lower), H^-1 = (J M^-1 J)^T (J M^-1 J) and
// J M^-1 J is upper triangular with a positive diagonal, so it IS the upper Cholesky factor of
// H^-1 (which is unique). Done in double: H can be ill-conditioned.
static int build_hinv_chol(float *U, uint8_t *dead, const float *H, int64_t K, float percdamp, char *err, size_t errlen) {
    const int n = (int)K;
    double *A = malloc((size_t)K * (size_t)K * sizeof(double));
    if (!A) return lb_qfail(err, errlen, "out of memory for a %lld x %lld Hessian", (long long)K, (long long)K);
    double mean = 0.0;
    for (int64_t i = 0; i < K; i++) {
        const float d = H[i * K + i];
        if (!isfinite(d) || d < 0) { free(A); return lb_qfail(err, errlen, "Hessian diagonal %lld is %g", (long long)i, (double)d); }
        dead[i] = d == 0.0f;
        mean += dead[i] ? 1.0 : (double)d;
    }
    mean /= (double)K;
    double damp = (double)percdamp * mean;
    if (!(damp > 0)) damp = 1e-6 * mean;
    for (int attempt = 0; attempt < 5; attempt++, damp *= 10.0) {
        // A = J H J (symmetric, so row- and column-major views agree)
        for (int64_t i = 0; i < K; i++)
            for (int64_t j = 0; j < K; j++) {
                const double h = (double)H[(K - 1 - i) * K + (K - 1 - j)];
                if (!isfinite(h)) { free(A); return lb_qfail(err, errlen, "Hessian entry (%lld, %lld) is not finite", (long long)(K - 1 - i), (long long)(K - 1 - j)); }
                A[i * K + j] = h;
            }
        for (int64_t i = 0; i < K; i++) {
            const int64_t h = K - 1 - i;   // H's index of A's row i
            A[i * K + i] = (dead[h] ? 1.0 : A[i * K + i]) + damp;
        }
        int info = 0;
        dpotrf_("L", &n, A, &n, &info, 1);              // M: M(i,j) = A[i + j*K], i >= j
        if (info != 0) continue;
        dtrtri_("L", "N", &n, A, &n, &info, 1, 1);      // M^-1, same place
        if (info != 0) continue;
        // U(i,j) = M^-1(K-1-i, K-1-j), row-major; in 64 x 64 tiles (A is read across columns)
        for (int64_t i = 0; i < K; i++) memset(U + i * K, 0, (size_t)i * sizeof(float));
        for (int64_t i0 = 0; i0 < K; i0 += 64)
            for (int64_t j0 = i0; j0 < K; j0 += 64)
                for (int64_t i = i0; i < i0 + 64 && i < K; i++)
                    for (int64_t j = j0 > i ? j0 : i; j < j0 + 64 && j < K; j++)
                        U[i * K + j] = (float)A[(K - 1 - i) + (K - 1 - j) * K];
        free(A);
        return 0;
    }
    free(A);
    return lb_qfail(err, errlen, "Hessian is not positive definite even with damping %g", damp / 10.0);
}

// --- the grid of one type block ---------------------------------------------------------------------

typedef struct gblock {
    uint16_t d16, dmin16;      // fp16 bits as packed
    float d, dmin;             // their float values
    uint8_t sc[16], mn[16];    // Q2_K sub-block scales and mins
} gblock;

// choose the block's scales from its current weights w[0..blck) by the base rule
static void choose_block(gblock *p, uint32_t type, const float *w, int64_t blck, lb_quant_method base,
                         const lb_type_traits *tt, uint8_t *tmp) {
    memset(p, 0, sizeof *p);
    if (base == LB_QM_RTN) {
        tt->from_float(w, tmp, blck);
        switch (type) {
        case LB_TYPE_Q2_K: { uint8_t codes[256]; lb_q2_K_unpack((const block_q2_K *)tmp, codes, p->sc, p->mn, &p->d16, &p->dmin16); break; }
        case LB_TYPE_TQ1_0: { int8_t t[256]; lb_tq1_0_unpack((const block_tq1_0 *)tmp, t, &p->d16); break; }
        case LB_TYPE_TQ2_0: { int8_t t[256]; lb_tq2_0_unpack((const block_tq2_0 *)tmp, t, &p->d16); break; }
        case LB_TYPE_Q2_0C: memcpy(&p->d16, &((const block_q2_0c *)tmp)->d, 2); break;
        case LB_TYPE_STQ1_0: memcpy(&p->d16, &((const block_stq1_0 *)tmp)->d, 2); break;
        default: break;
        }
    } else {
        const lb_grid g = (lb_grid)lb_method_grid(base);
        const float step = lb_grid_step(g, lb_grid_init_scale(g, w, blck), LB_GRID_FP16_EXACT);
        if (type == LB_TYPE_Q2_K) {   // the SEQ 2-bit grid as Q2_K (quant_rtn.c): sc 1, min 3, d = 2 step
            for (int j = 0; j < 16; j++) { p->sc[j] = 1; p->mn[j] = 3; }
            p->d16 = lb_f32_to_fp16(2.0f * step);
            p->dmin16 = lb_f32_to_fp16(step);
        } else {
            p->d16 = lb_f32_to_fp16(step);
        }
    }
    p->d = lb_fp16_to_f32(p->d16);
    p->dmin = lb_fp16_to_f32(p->dmin16);
}

// nearest grid value of column c (0..blck) of the block; *code is what the packer takes.
// Values are computed the way the dequantizers compute them. sparse34: Sherry's 3:4 rule, where
// dropped says this lane is its group's 0.
static inline float quant_col(const gblock *p, uint32_t type, int64_t c, float w, int sparse34, int dropped, int8_t *code) {
    switch (type) {
    case LB_TYPE_Q2_K: {
        const int j = (int)(c / 16);
        const float dl = p->d * (float)p->sc[j], ml = p->dmin * (float)p->mn[j];
        int k = 0;
        if (dl > 0) k = (int)rintf(lb_q_clampf((w + ml) / dl, 0.0f, 3.0f));
        *code = (int8_t)k;
        return dl * (float)k - ml;
    }
    case LB_TYPE_Q2_0C: {
        int k = 2;   // value +d... and +0 when d == 0
        if (p->d > 0) k = (int)rintf(lb_q_clampf((w / p->d + 3.0f) * 0.5f, 0.0f, 3.0f));
        *code = (int8_t)k;
        return (float)(2 * k - 3) * p->d;
    }
    default: {   // TQ1_0, TQ2_0, STQ1_0: nearest trit, or Sherry's 3:4 (dropped lane 0, the others +-1)
        int t = 0;
        if (sparse34) t = dropped ? 0 : (p->d > 0 && w < 0) ? -1 : 1;
        else if (p->d > 0) t = (int)rintf(lb_q_clampf(w / p->d, -1.0f, 1.0f));
        *code = (int8_t)t;
        return (float)t * p->d;
    }
    }
}

static int pack_gblock(void *dst, uint32_t type, const gblock *p, const int8_t *codes) {
    switch (type) {
    case LB_TYPE_Q2_K:   lb_q2_K_pack(dst, (const uint8_t *)codes, p->sc, p->mn, p->d16, p->dmin16); return 0;
    case LB_TYPE_Q2_0C:  lb_q2_0c_pack(dst, (const uint8_t *)codes, p->d16); return 0;
    case LB_TYPE_TQ1_0:  lb_tq1_0_pack(dst, codes, p->d16); return 0;
    case LB_TYPE_TQ2_0:  lb_tq2_0_pack(dst, codes, p->d16); return 0;
    case LB_TYPE_STQ1_0: return lb_stq1_0_pack(dst, codes, p->d16);
    default: return -1;
    }
}

// --- the lazy update: W[r][j] -= sum_b E[r][b] * U[b][j] ---------------------------------------------
// Every element is updated as acc = fma(-E[r][b], U[b][j], acc) for b = 0, 1, ... in order, on
// every path (scalar fmaf, AVX2, AVX-512), so the result is bit-identical whatever the CPU.
// W rows are ldw apart, E rows nb apart, U rows ldu apart; columns j0..j1 of W and U.

typedef void (*lazy_fn)(float *W, int64_t ldw, int rows, const float *E, int nb, const float *U,
                        int64_t ldu, int64_t j0, int64_t j1);

static void lazy_update_ref(float *W, int64_t ldw, int rows, const float *E, int nb, const float *U,
                            int64_t ldu, int64_t j0, int64_t j1) {
    for (int r = 0; r < rows; r++)
        for (int64_t j = j0; j < j1; j++) {
            float acc = W[r * ldw + j];
            for (int b = 0; b < nb; b++) acc = fmaf(-E[r * nb + b], U[b * ldu + j], acc);
            W[r * ldw + j] = acc;
        }
}

#define TARGET_AVX2 __attribute__((target("avx2,fma")))
#define TARGET_AVX512 __attribute__((target("avx2,fma,avx512f")))

TARGET_AVX2 static void lazy_update_avx2(float *W, int64_t ldw, int rows, const float *E, int nb, const float *U,
                                         int64_t ldu, int64_t j0, int64_t j1) {
    int r = 0;
    for (; r + 4 <= rows; r += 4) {
        float *w0 = W + r * ldw, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
        const float *e0 = E + r * nb, *e1 = e0 + nb, *e2 = e1 + nb, *e3 = e2 + nb;
        int64_t j = j0;
        for (; j + 8 <= j1; j += 8) {
            __m256 a0 = _mm256_loadu_ps(w0 + j), a1 = _mm256_loadu_ps(w1 + j);
            __m256 a2 = _mm256_loadu_ps(w2 + j), a3 = _mm256_loadu_ps(w3 + j);
            for (int b = 0; b < nb; b++) {
                const __m256 u = _mm256_loadu_ps(U + b * ldu + j);
                a0 = _mm256_fnmadd_ps(_mm256_set1_ps(e0[b]), u, a0);   // a - e*u, one rounding
                a1 = _mm256_fnmadd_ps(_mm256_set1_ps(e1[b]), u, a1);
                a2 = _mm256_fnmadd_ps(_mm256_set1_ps(e2[b]), u, a2);
                a3 = _mm256_fnmadd_ps(_mm256_set1_ps(e3[b]), u, a3);
            }
            _mm256_storeu_ps(w0 + j, a0); _mm256_storeu_ps(w1 + j, a1);
            _mm256_storeu_ps(w2 + j, a2); _mm256_storeu_ps(w3 + j, a3);
        }
        if (j < j1) lazy_update_ref(w0, ldw, 4, e0, nb, U, ldu, j, j1);
    }
    if (r < rows) lazy_update_ref(W + r * ldw, ldw, rows - r, E + r * nb, nb, U, ldu, j0, j1);
}

TARGET_AVX512 static void lazy_update_avx512(float *W, int64_t ldw, int rows, const float *E, int nb, const float *U,
                                             int64_t ldu, int64_t j0, int64_t j1) {
    int r = 0;
    for (; r + 4 <= rows; r += 4) {
        float *w0 = W + r * ldw, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
        const float *e0 = E + r * nb, *e1 = e0 + nb, *e2 = e1 + nb, *e3 = e2 + nb;
        int64_t j = j0;
        for (; j + 16 <= j1; j += 16) {
            __m512 a0 = _mm512_loadu_ps(w0 + j), a1 = _mm512_loadu_ps(w1 + j);
            __m512 a2 = _mm512_loadu_ps(w2 + j), a3 = _mm512_loadu_ps(w3 + j);
            for (int b = 0; b < nb; b++) {
                const __m512 u = _mm512_loadu_ps(U + b * ldu + j);
                a0 = _mm512_fnmadd_ps(_mm512_set1_ps(e0[b]), u, a0);
                a1 = _mm512_fnmadd_ps(_mm512_set1_ps(e1[b]), u, a1);
                a2 = _mm512_fnmadd_ps(_mm512_set1_ps(e2[b]), u, a2);
                a3 = _mm512_fnmadd_ps(_mm512_set1_ps(e3[b]), u, a3);
            }
            _mm512_storeu_ps(w0 + j, a0); _mm512_storeu_ps(w1 + j, a1);
            _mm512_storeu_ps(w2 + j, a2); _mm512_storeu_ps(w3 + j, a3);
        }
        if (j < j1) lazy_update_ref(w0, ldw, 4, e0, nb, U, ldu, j, j1);
    }
    if (r < rows) lazy_update_ref(W + r * ldw, ldw, rows - r, E + r * nb, nb, U, ldu, j0, j1);
}

static lazy_fn pick_lazy_update(void) {
    const lb_cpu_features *cpu = lb_cpu_get_features();
    return cpu->avx512 ? lazy_update_avx512 : cpu->avx2 ? lazy_update_avx2 : lazy_update_ref;
}

// --- one chunk of rows ---------------------------------------------------------------------------------

typedef struct gptq_job {
    uint32_t type;
    const lb_type_traits *tt;
    lb_quant_method base;
    int64_t K, blck, B;
    size_t row_bytes;
    const float *U;
    const uint8_t *dead;
    lazy_fn lazy;    // the lazy-update kernel for this CPU
    int sparse34;    // Sherry's 3:4 mask (STQ1_0 always; TQ1_0/TQ2_0 when the base is Sherry)
} gptq_job;

typedef struct gptq_scratch {
    float *W;        // [GPTQ_ROWS][K] working copy
    float *E;        // [GPTQ_ROWS][B] scaled errors of the current block
    int8_t *codes;   // [GPTQ_ROWS][blck] codes of the current type block
    gblock *blk;     // [GPTQ_ROWS]
    uint8_t *tmp;    // one packed block (RTN scratch)
    uint8_t drop[GPTQ_ROWS][16];   // STQ1_0: dropped lane of each group of the current 64-span
} gptq_scratch;

static int gptq_rows(uint8_t *out, const float *w, int64_t rows, const gptq_job *jb, gptq_scratch *s) {
    const int64_t K = jb->K, blck = jb->blck, B = jb->B;
    const float *U = jb->U;
    for (int64_t r = 0; r < rows; r++) {
        memcpy(s->W + r * K, w + r * K, (size_t)K * sizeof(float));
        for (int64_t i = 0; i < K; i++) if (jb->dead[i]) s->W[r * K + i] = 0.0f;
    }
    for (int64_t i1 = 0; i1 < K; i1 += B) {
        const int64_t i2 = i1 + B;   // K % blck == 0 and blck % B == 0
        for (int64_t i = i1; i < i2; i++) {
            const int64_t c = i % blck;
            if (c == 0)
                for (int64_t r = 0; r < rows; r++) choose_block(&s->blk[r], jb->type, s->W + r * K + i, blck, jb->base, jb->tt, s->tmp);
            if (jb->sparse34 && c % 64 < 16)
                for (int64_t r = 0; r < rows; r++) {
                    const float *x = s->W + r * K + i;
                    s->drop[r][c % 16] = (uint8_t)lb_sherry_drop(x[0], x[16], x[32], x[48]);
                }
            const float *urow = U + i * K;
            const float uii = urow[i];
            for (int64_t r = 0; r < rows; r++) {
                float *wr = s->W + r * K;
                const int dropped = jb->sparse34 && s->drop[r][c % 16] == (c % 64) / 16;
                const float q = quant_col(&s->blk[r], jb->type, c, wr[i], jb->sparse34, dropped, &s->codes[r * blck + c]);
                const float e = (wr[i] - q) / uii;
                for (int64_t j = i + 1; j < i2; j++) wr[j] -= e * urow[j];
                s->E[r * B + (i - i1)] = e;
            }
            if (c == blck - 1)
                for (int64_t r = 0; r < rows; r++)
                    if (pack_gblock(out + (size_t)r * jb->row_bytes + (size_t)(i / blck) * jb->tt->type_size,
                                    jb->type, &s->blk[r], s->codes + r * blck)) return -1;
        }
        // lazy update of the columns after the block: W[:, i2:] -= E @ U[i1:i2, i2:], in tiles of
        // columns so a tile of U stays in cache while all rows of the chunk use it
        for (int64_t j0 = i2; j0 < K; j0 += GPTQ_TILE)
            jb->lazy(s->W, K, (int)rows, s->E, (int)B, U + i1 * K, K, j0, j0 + GPTQ_TILE < K ? j0 + GPTQ_TILE : K);
    }
    return 0;
}

// --- entry points -------------------------------------------------------------------------------------

struct lb_gptq_hinv {
    int64_t K;
    float *U;        // K x K row-major, upper: H^-1 = U^T U
    uint8_t *dead;   // K: inputs that are always 0
};

lb_gptq_hinv *lb_gptq_hinv_build(const float *hessian, int64_t K, float percdamp, char *err, size_t errlen) {
    if (!hessian) { lb_qfail(err, errlen, "GPTQ needs a Hessian"); return NULL; }
    if (K <= 0 || K > 65536) { lb_qfail(err, errlen, "bad Hessian size %lld", (long long)K); return NULL; }
    if (!(percdamp >= 0) || percdamp > 1e3f) { lb_qfail(err, errlen, "bad dampening %g", (double)percdamp); return NULL; }
    lb_gptq_hinv *h = calloc(1, sizeof *h);
    if (h) {
        h->K = K;
        h->U = malloc((size_t)K * (size_t)K * sizeof(float));
        h->dead = malloc((size_t)K);
    }
    if (!h || !h->U || !h->dead) {
        lb_gptq_hinv_free(h);
        lb_qfail(err, errlen, "out of memory for a %lld x %lld Hessian", (long long)K, (long long)K);
        return NULL;
    }
    if (build_hinv_chol(h->U, h->dead, hessian, K, percdamp, err, errlen)) { lb_gptq_hinv_free(h); return NULL; }
    return h;
}

void lb_gptq_hinv_free(lb_gptq_hinv *h) {
    if (!h) return;
    free(h->U);
    free(h->dead);
    free(h);
}

// the checks every entry point makes before any work; *B receives the lazy-update block
static int check_args(int64_t nrows, int64_t K, uint32_t type, lb_quant_method base, const lb_quant_opts *opts,
                      int64_t *B, char *err, size_t errlen) {
    const lb_type_traits *tt = lb_type_get(type);
    if (!tt) return lb_qfail(err, errlen, "unknown type %u", type);
    if (type != LB_TYPE_Q2_K && type != LB_TYPE_Q2_0C && type != LB_TYPE_TQ1_0 && type != LB_TYPE_TQ2_0 && type != LB_TYPE_STQ1_0)
        return lb_qfail(err, errlen, "GPTQ does not support %s (q2_k, q2_0c, tq1_0, tq2_0, stq1_0)", tt->name);
    const int64_t blck = tt->blck_size;
    if (nrows < 0 || K <= 0 || K % blck)
        return lb_qfail(err, errlen, "rows of %lld weights do not fit %s's block of %lld", (long long)K, tt->name, (long long)blck);
    if (base == LB_QM_RTN) {
        if (!tt->from_float) return lb_qfail(err, errlen, "%s has no RTN rule", tt->name);
    } else {
        const int g = lb_method_grid(base);
        if (g < 0 || !lb_grid_packable((lb_grid)g, type))
            return lb_qfail(err, errlen, "GPTQ base %s cannot produce %s", lb_quant_method_name(base), tt->name);
    }
    *B = opts->gptq_block > 0 ? opts->gptq_block : 128;
    if (*B % 64 || blck % *B)
        return lb_qfail(err, errlen, "GPTQ block of %lld columns must be a multiple of 64 dividing %lld", (long long)*B, (long long)blck);
    return 0;
}

int lb_gptq_quantize_hinv(void *dst, const float *w, int64_t nrows, int64_t K, uint32_t type,
                          const lb_gptq_hinv *hinv, lb_quant_method base, const lb_quant_opts *opts,
                          char *err, size_t errlen) {
    lb_quant_opts def;
    if (!opts) { lb_quant_opts_default(&def); opts = &def; }
    int64_t B;
    if (check_args(nrows, K, type, base, opts, &B, err, errlen)) return -1;
    if (!hinv) return lb_qfail(err, errlen, "GPTQ needs a Hessian");
    if (hinv->K != K) return lb_qfail(err, errlen, "rows of %lld weights but a %lld x %lld Hessian", (long long)K, (long long)hinv->K, (long long)hinv->K);
    const lb_type_traits *tt = lb_type_get(type);
    const int64_t blck = tt->blck_size;
    if (nrows == 0) return 0;

    const gptq_job jb = { .type = type, .tt = tt, .base = base, .K = K, .blck = blck, .B = B,
                          .row_bytes = lb_row_size(type, K), .U = hinv->U, .dead = hinv->dead,
                          .lazy = pick_lazy_update(),
                          .sparse34 = type == LB_TYPE_STQ1_0 || base == LB_QM_SHERRY };
    const int64_t nchunks = (nrows + GPTQ_ROWS - 1) / GPTQ_ROWS;
    int failed = 0;   // 1: out of memory, 2: a packer refused
    #pragma omp parallel
    {
        gptq_scratch s;
        memset(&s, 0, sizeof s);
        s.W = malloc((size_t)GPTQ_ROWS * (size_t)K * sizeof(float));
        s.E = malloc((size_t)GPTQ_ROWS * (size_t)B * sizeof(float));
        s.codes = malloc((size_t)GPTQ_ROWS * (size_t)blck);
        s.blk = malloc(GPTQ_ROWS * sizeof(gblock));
        s.tmp = malloc(tt->type_size);
        int bad = (!s.W || !s.E || !s.codes || !s.blk || !s.tmp) ? 1 : 0;
        #pragma omp for schedule(dynamic, 1)
        for (int64_t ch = 0; ch < nchunks; ch++) {
            if (bad) continue;
            const int64_t r0 = ch * GPTQ_ROWS;
            const int64_t rows = nrows - r0 < GPTQ_ROWS ? nrows - r0 : GPTQ_ROWS;
            if (gptq_rows((uint8_t *)dst + (size_t)r0 * jb.row_bytes, w + r0 * K, rows, &jb, &s)) bad = 2;
        }
        #pragma omp critical(lb_gptq_err)
        if (bad && !failed) failed = bad;
        free(s.W); free(s.E); free(s.codes); free(s.blk); free(s.tmp);
    }
    if (failed == 1) return lb_qfail(err, errlen, "out of memory (GPTQ scratch)");
    if (failed == 2) return lb_qfail(err, errlen, "internal: a GPTQ block is not packable");
    return 0;
}

int lb_gptq_quantize(void *dst, const float *w, int64_t nrows, int64_t K, uint32_t type,
                     const float *hessian, lb_quant_method base, const lb_quant_opts *opts,
                     char *err, size_t errlen) {
    lb_quant_opts def;
    if (!opts) { lb_quant_opts_default(&def); opts = &def; }
    // cheap argument checks first, so a bad call does not pay for the factorization
    int64_t B;
    if (check_args(nrows, K, type, base, opts, &B, err, errlen)) return -1;
    lb_gptq_hinv *h = lb_gptq_hinv_build(hessian, K, opts->percdamp, err, errlen);
    if (!h) return -1;
    const int rc = lb_gptq_quantize_hinv(dst, w, nrows, K, type, h, base, opts, err, errlen);
    lb_gptq_hinv_free(h);
    return rc;
}
