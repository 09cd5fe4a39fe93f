// fakequant.c: QAT forward/backward on top of libquant's grids (see fakequant.h).
// The forward never re-implements a grid: values and codes come from lb_grid_rows. The backward
// only needs each code's normalized grid value q (lane * step / alpha, from lb_grid_lane), the clip
// test and the sums of REFERENCE §2.
#include "fakequant.h"
#include "lb_types.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

// --- config ------------------------------------------------------------------------------------

static int64_t fq_group(const lb_fq_config *cfg, int64_t K) { return cfg->group > 0 ? cfg->group : K; }

static int fq_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fq_fail(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int lb_fq_check(const lb_fq_config *cfg, int64_t rows, int64_t K, char *err, size_t errlen) {
    if (!cfg || (unsigned)cfg->grid >= LB_GRID_COUNT) return fq_fail(err, errlen, "fakequant: unknown grid %d", cfg ? (int)cfg->grid : -1);
    if (rows <= 0 || K <= 0) return fq_fail(err, errlen, "fakequant: bad matrix %lld x %lld", (long long)rows, (long long)K);
    const int64_t group = fq_group(cfg, K);
    if (K % group) return fq_fail(err, errlen, "fakequant: scale group %lld does not divide row length %lld", (long long)group, (long long)K);
    if (group % lb_grid_align(cfg->grid))
        return fq_fail(err, errlen, "fakequant: scale group %lld is not a multiple of the grid's %lld", (long long)group, (long long)lb_grid_align(cfg->grid));
    if (cfg->format_type) {
        const lb_type_traits *tt = lb_type_get(cfg->format_type);
        if (!tt || !lb_grid_packable(cfg->grid, cfg->format_type))
            return fq_fail(err, errlen, "fakequant: grid %s cannot be stored exactly in type %u", lb_grid_name(cfg->grid), (unsigned)cfg->format_type);
        // one step per type block: a scale group may span blocks but never split one
        if (group % tt->blck_size)
            return fq_fail(err, errlen, "fakequant: scale group %lld must be a multiple of the type block %lld (%s)", (long long)group, (long long)tt->blck_size, tt->name);
    }
    return 0;
}

int64_t lb_fq_nscales(const lb_fq_config *cfg, int64_t rows, int64_t K) { return rows * (K / fq_group(cfg, K)); }

bool lb_fq_scales_learned(const lb_fq_config *cfg) {
    switch (cfg->grid) {
    case LB_GRID_SEQ2: case LB_GRID_SEQ_TERNARY: case LB_GRID_LSQ3: case LB_GRID_LSQ4: return true;
    default: return false;
    }
}

unsigned lb_fq_grid_flags(const lb_fq_config *cfg) {
    return (cfg->format_type || (cfg->flags & LB_FQ_FP16_EXACT)) ? LB_GRID_FP16_EXACT : 0u;
}

// --- scales ------------------------------------------------------------------------------------

// absmean: one gamma for the whole tensor (BitNet b1.58), stored in every scale slot
static void fill_absmean(float *scales, const float *W, int64_t rows, int64_t K, int64_t nscales) {
    const float gamma = lb_grid_init_scale(LB_GRID_ABSMEAN, W, rows * K);
    for (int64_t s = 0; s < nscales; s++) scales[s] = gamma;
}

int lb_fq_init_scales(float *scales, const float *W, int64_t rows, int64_t K,
                      const lb_fq_config *cfg, char *err, size_t errlen) {
    if (lb_fq_check(cfg, rows, K, err, errlen)) return -1;
    if (cfg->grid == LB_GRID_ABSMEAN) {
        fill_absmean(scales, W, rows, K, lb_fq_nscales(cfg, rows, K));
        return 0;
    }
    return lb_grid_init_scales(scales, W, rows, K, fq_group(cfg, K), cfg->grid, err, errlen);
}

// --- forward -----------------------------------------------------------------------------------

int lb_fq_forward(float *w_eff, int8_t *codes, const float *W, float *scales,
                  int64_t rows, int64_t K, const lb_fq_config *cfg, float lambda) {
    if (lb_fq_check(cfg, rows, K, NULL, 0)) return -1;
    const int64_t group = fq_group(cfg, K);
    // data-derived scales follow W every step
    if (cfg->grid == LB_GRID_ABSMEAN) fill_absmean(scales, W, rows, K, lb_fq_nscales(cfg, rows, K));
    else if (!lb_fq_scales_learned(cfg) && lb_grid_init_scales(scales, W, rows, K, group, cfg->grid, NULL, 0)) return -1;
    if (lb_grid_rows(codes, w_eff, W, rows, K, scales, group, cfg->grid, lb_fq_grid_flags(cfg), NULL, 0)) return -1;
    // Arenas: the residual lambda*X*W^T folds into the weight because the matmul is linear
    if (lambda != 0.0f) {
        const int64_t n = rows * K;
        #pragma omp parallel for schedule(static)
        for (int64_t k = 0; k < n; k++) w_eff[k] += lambda * W[k];
    }
    return 0;
}

int lb_fq_coded(gemm_coded *out, float *step, const int8_t *codes, const float *scales, int64_t rows, int64_t K,
                const lb_fq_config *cfg, float lambda) {
    const int64_t group = fq_group(cfg, K);
    // absmean writes its one gamma into every slot, so any grouping has one step per row
    if (lambda != 0.0f || (group != K && cfg->grid != LB_GRID_ABSMEAN)) return 0;
    int mul;
    switch (cfg->grid) {   // the value of a code, as the grid's apply function in libquant computes it
    case LB_GRID_SEQ2: mul = 2; break;   // (2 code + 1) * step
    case LB_GRID_LSQ3: case LB_GRID_LSQ4: case LB_GRID_SEQ_TERNARY: case LB_GRID_ABSMEAN:
    case LB_GRID_SHERRY: case LB_GRID_SHERRY_ADJ:
        mul = 1; break;                  // code * step
    default: return 0;
    }
    const unsigned gflags = lb_fq_grid_flags(cfg);
    for (int64_t r = 0; r < rows; r++)   // lb_grid_step is 0 for a scale <= 0 (then every value is 0)
        step[r] = lb_grid_step(cfg->grid, scales[r * (K / group)], gflags);
    *out = (gemm_coded){ .codes = codes, .step = step, .mul = mul, .add = mul == 2 ? 1 : 0 };
    return 1;
}

// --- backward ----------------------------------------------------------------------------------

// The quantities of one learned-scale grid for one scale: a is the effective scale the grid
// divided by (see fakequant.h), qmul turns a code's lane into q = Ŵ/a, [lo, hi] is the STE range
// of w/a, qn/qp the D values outside it.
typedef struct fq_grad_params { float a, qmul, lo, hi, qn, qp; } fq_grad_params;

static fq_grad_params grad_params(lb_grid g, float scale, unsigned gflags) {
    fq_grad_params p = { 0 };
    const float step = lb_grid_step(g, scale, gflags);
    switch (g) {
    case LB_GRID_SEQ2:           // q = (2i+1)/4 of a = 4*step (= alpha unless fp16-exact)
        p.a = !(step > 0) ? 0.0f : (gflags & LB_GRID_FP16_EXACT) ? 4.0f * step : scale;
        p.qmul = 0.25f; p.lo = -LB_FQ_CLIP; p.hi = LB_FQ_CLIP; p.qn = -0.75f; p.qp = 0.75f;
        break;
    case LB_GRID_SEQ_TERNARY:    // q = t/1.5 of the learned alpha (codes are chosen with it)
        p.a = step > 0 ? scale : 0.0f;
        p.qmul = 1.0f / 1.5f; p.lo = -LB_FQ_CLIP; p.hi = LB_FQ_CLIP; p.qn = -1.0f; p.qp = 1.0f;  // ParetoQ's Qp = 1
        break;
    default: {                   // LSQ: q = code of a = step
        int lo, hi;
        lb_grid_code_range(g, &lo, &hi);
        p.a = step; p.qmul = 1.0f; p.lo = (float)lo; p.hi = (float)hi; p.qn = (float)lo; p.qp = (float)hi;
        break;
    }
    }
    return p;
}

int lb_fq_backward(float *dW, float *dscales, const float *g_eff, const float *W, const int8_t *codes,
                   const float *scales, int64_t rows, int64_t K, const lb_fq_config *cfg, float lambda) {
    if (lb_fq_check(cfg, rows, K, NULL, 0)) return -1;
    const int64_t group = fq_group(cfg, K), ng = K / group;
    const lb_grid g = cfg->grid;
    if (!lb_fq_scales_learned(cfg)) {
        // absmean, Sherry: plain straight-through; the Arenas residual adds lambda*g
        const int64_t n = rows * K;
        const float s = 1.0f + lambda;
        #pragma omp parallel for schedule(static)
        for (int64_t k = 0; k < n; k++) dW[k] = s * g_eff[k];
        for (int64_t j = 0; j < rows * ng; j++) dscales[j] = 0.0f;
        return 0;
    }
    const unsigned gflags = lb_fq_grid_flags(cfg);
    int qp_int_lo, qp_int_hi;
    lb_grid_code_range(g, &qp_int_lo, &qp_int_hi);
    // G: ParetoQ 1/sqrt(numel); LSQ 1/sqrt(numel * Qp)
    const double numel = (double)rows * (double)K;
    const float G = (g == LB_GRID_LSQ3 || g == LB_GRID_LSQ4) ? (float)(1.0 / sqrt(numel * (double)qp_int_hi))
                                                             : (float)(1.0 / sqrt(numel));
    #pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t j = 0; j < ng; j++) {
            const int64_t off = r * K + j * group;
            const fq_grad_params p = grad_params(g, scales[r * ng + j], gflags);
            double acc = 0.0;   // per-group sum in a fixed order: deterministic
            for (int64_t k = off; k < off + group; k++) {
                const float gk = g_eff[k];
                float mask, D;
                if (!(p.a > 0)) {                       // no scale: Q = 0, everything "clipped"
                    mask = 0.0f;
                    D = W[k] > 0 ? p.qp : W[k] < 0 ? p.qn : 0.0f;
                } else {
                    const float v = W[k] / p.a;
                    if (v < p.lo)      { mask = 0.0f; D = p.qn; }
                    else if (v > p.hi) { mask = 0.0f; D = p.qp; }
                    else               { mask = 1.0f; D = (float)lb_grid_lane(g, codes[k]) * p.qmul - v; }
                }
                dW[k] = (mask + lambda) * gk;
                acc += (double)gk * (double)D;
            }
            dscales[r * ng + j] = G * (float)acc;
        }
    }
    return 0;
}

// --- Arenas ------------------------------------------------------------------------------------

float lb_fq_arenas_lambda(int64_t step, int64_t total) {
    if (total <= 0 || step < 0 || step >= total) return 0.0f;
    const double warm = 0.1 * (double)total;
    const double s = (double)step;
    if (s < warm) return (float)(s / warm);
    const double span = (double)total - warm;
    return (float)(0.5 * (1.0 + cos(3.14159265358979323846 * (s - warm) / span)));
}
