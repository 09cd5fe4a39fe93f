// quant_internal.h: helpers shared by the quantizer files (grid_*.c, quant_rtn.c, gptq.c).
// Not part of the public API (quant.h).
#pragma once
#include "quant.h"
#include "fp16.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

// one-line error into a caller's buffer; returns -1 so callers can `return lb_qfail(...)`
static inline int lb_qfail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline int lb_qfail(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

// x rounded to the nearest fp16 value, clamped to (0, maxv]; 0 for x <= 0 or NaN.
// maxv must itself be an fp16 value.
static inline float lb_q_fp16_round(float x, float maxv) {
    if (!(x > 0)) return 0.0f;
    if (x > maxv) x = maxv;
    return lb_fp16_to_f32(lb_f32_to_fp16(x));
}

static inline float lb_q_clampf(float x, float lo, float hi) { return fmaxf(lo, fminf(x, hi)); }

#define LB_SEQ_CLIP 0.99f   // ParetoQ's c: |w/alpha| is clipped below 1 so the top code stays in range

// --- per-grid kernels (n already validated, step = lb_grid_step(...) > 0 handled inside) ---
// grid_seq.c
void lb_seq2_apply(int8_t *codes, float *vals, const float *w, int64_t n, float alpha, unsigned flags);
void lb_lsq_apply(int8_t *codes, float *vals, const float *w, int64_t n, float alpha, int bits, unsigned flags);
// grid_ternary.c
void lb_seq_ternary_apply(int8_t *codes, float *vals, const float *w, int64_t n, float alpha, unsigned flags);
void lb_absmean_apply(int8_t *codes, float *vals, const float *w, int64_t n, float gamma, unsigned flags);
// grid_sherry.c: adjacent = 0 for STQ1_0 grouping (n % 64 == 0), 1 for 4 adjacent (n % 4 == 0)
void lb_sherry_apply(int8_t *codes, float *vals, const float *w, int64_t n, float alpha, int adjacent, unsigned flags);
float lb_sherry_scale(const float *w, int64_t n, int adjacent);
// index (0..3) of the weight a 3:4 group drops: the smallest |w|, the first one on ties
static inline int lb_sherry_drop(float a0, float a1, float a2, float a3) {
    const float a[4] = { fabsf(a0), fabsf(a1), fabsf(a2), fabsf(a3) };
    int m = 0;
    for (int p = 1; p < 4; p++) if (a[p] < a[m]) m = p;
    return m;
}

// the grid behind a grid method (quant.h); -1 for RTN and GPTQ
static inline int lb_method_grid(lb_quant_method m) {
    switch (m) {
    case LB_QM_SEQ2: return LB_GRID_SEQ2;
    case LB_QM_SEQ_TERNARY: return LB_GRID_SEQ_TERNARY;
    case LB_QM_ABSMEAN: return LB_GRID_ABSMEAN;
    case LB_QM_SHERRY: return LB_GRID_SHERRY;
    default: return -1;
    }
}
