// op_rmsnorm.c: RMSNorm, out = x * r * w with r = 1/sqrt(mean(x^2) + eps).
// The sum of squares is taken in double, as runtime/infer.c (and ggml) do.
#include "ops.h"
#include <math.h>

void rmsnorm_forward(float *out, float *rstd, const float *inp, const float *w, int N, int C, float eps) {
    #pragma omp parallel for if ((size_t)N * C >= 65536)
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float *o = out + (size_t)n * C;
        double ss = 0.0;
        for (int i = 0; i < C; i++) ss += (double)(x[i] * x[i]);
        const float r = 1.0f / sqrtf((float)(ss / C) + eps);
        for (int i = 0; i < C; i++) o[i] = (x[i] * r) * w[i];
        rstd[n] = r;
    }
}

// d/dx_j of x_i r w_i = w_i (delta_ij r - x_i x_j r^3 / C), so
// dx = r * (dout*w) - x * r^3/C * sum_i(dout_i w_i x_i);  dw += dout * x * r
void rmsnorm_backward(float *dinp, float *dw, const float *dout, const float *inp, const float *w,
                      const float *rstd, int N, int C) {
    if (dinp) {
        #pragma omp parallel for if ((size_t)N * C >= 65536)
        for (int n = 0; n < N; n++) {
            const float *x = inp + (size_t)n * C, *g = dout + (size_t)n * C;
            float *dx = dinp + (size_t)n * C;
            const float r = rstd[n];
            double dot = 0.0;
            for (int i = 0; i < C; i++) dot += (double)g[i] * w[i] * x[i];
            const float c = (float)(dot * r * r * r / C);
            for (int i = 0; i < C; i++) dx[i] += g[i] * w[i] * r - x[i] * c;
        }
    }
    if (dw) {
        // serial over rows so the sum order (and the result) does not depend on threads
        for (int n = 0; n < N; n++) {
            const float *x = inp + (size_t)n * C, *g = dout + (size_t)n * C;
            const float r = rstd[n];
            for (int i = 0; i < C; i++) dw[i] += g[i] * x[i] * r;
        }
    }
}
