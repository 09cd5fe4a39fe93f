// op_rmsnorm.c: RMSNorm, out = x * r * w with r = 1/sqrt(mean(x^2) + eps).
// The sum of squares is taken in double, as runtime/infer.c (and ggml) do; in fixed
// double lanes (vecmath.h) so it vectorizes and still adds in one order whatever the threads.
#include "ops.h"
#include "vecmath.h"
#include <math.h>

LB_SIMD_CLONES static float rms_row_forward(float *o, const float *x, const float *w, int C, float eps) {
    const double ss = lb_row_sumsq(x, C);
    const float r = 1.0f / sqrtf((float)(ss / C) + eps);
    for (int i = 0; i < C; i++) o[i] = (x[i] * r) * w[i];
    return r;
}

void rmsnorm_forward(float *out, float *rstd, const float *inp, const float *w, int N, int C, float eps) {
    #pragma omp parallel for if ((size_t)N * C >= 65536)
    for (int n = 0; n < N; n++)
        rstd[n] = rms_row_forward(out + (size_t)n * C, inp + (size_t)n * C, w, C, eps);
}

// d/dx_j of x_i r w_i = w_i (delta_ij r - x_i x_j r^3 / C), so
// dx = r * (dout*w) - x * r^3/C * sum_i(dout_i w_i x_i);  dw += dout * x * r
LB_SIMD_CLONES static void rms_row_backward(float *dx, const float *g, const float *x, const float *w, float r, int C) {
    const double dot = lb_row_dot3(g, w, x, C);
    const float c = (float)(dot * r * r * r / C);
    for (int i = 0; i < C; i++) dx[i] += g[i] * w[i] * r - x[i] * c;
}

// dw[lo..hi) += sum over rows n, in row order, of dout * x * r
LB_SIMD_CLONES static void rms_dw_columns(float *dw, const float *dout, const float *inp, const float *rstd,
                                          int N, int C, int lo, int hi) {
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C, *g = dout + (size_t)n * C;
        const float r = rstd[n];
        for (int i = lo; i < hi; i++) dw[i] += g[i] * x[i] * r;
    }
}

#define RMS_DW_COLS 64

void rmsnorm_backward(float *dinp, float *dw, const float *dout, const float *inp, const float *w,
                      const float *rstd, int N, int C) {
    if (dinp) {
        #pragma omp parallel for if ((size_t)N * C >= 65536)
        for (int n = 0; n < N; n++)
            rms_row_backward(dinp + (size_t)n * C, dout + (size_t)n * C, inp + (size_t)n * C, w, rstd[n], C);
    }
    if (dw) {
        // threads own column ranges and add the rows in order: the same sums as one thread
        const int blocks = (C + RMS_DW_COLS - 1) / RMS_DW_COLS;
        #pragma omp parallel for if ((size_t)N * C >= 65536 && blocks > 1)
        for (int b = 0; b < blocks; b++) {
            const int lo = b * RMS_DW_COLS, hi = lo + RMS_DW_COLS < C ? lo + RMS_DW_COLS : C;
            rms_dw_columns(dw, dout, inp, rstd, N, C, lo, hi);
        }
    }
}
