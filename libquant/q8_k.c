// q8_k.c: Q8_K pack/unpack (ggml's reference rounding). No dot product: Q8_K is only ever
// the activation side of another type's vec_dot.
#include "q8_k.h"
#include <math.h>
#include <string.h>

void lb_q8_K_from_float(const float *x, void *vy, int64_t n) {
    block_q8_K *y = vy;
    const int64_t nb = n / LB_QK_K;
    for (int64_t b = 0; b < nb; b++, x += LB_QK_K) {
        // the signed value of largest magnitude (first one wins ties, as in ggml)
        float max = 0.0f, amax = 0.0f;
        for (int j = 0; j < LB_QK_K; j++) {
            const float ax = fabsf(x[j]);
            if (ax > amax) { amax = ax; max = x[j]; }
        }
        if (amax == 0.0f) {
            memset(&y[b], 0, sizeof y[b]);
            continue;
        }
        // -127 (not -128) keeps every code symmetric, which ggml's IQ kernels rely on
        const float iscale = -127.0f / max;
        for (int j = 0; j < LB_QK_K; j++) {
            const int v = lb_nearest_int(iscale * x[j]);
            y[b].qs[j] = (int8_t)(v < 127 ? v : 127);
        }
        for (int j = 0; j < LB_QK_K / 16; j++) {
            int sum = 0;
            for (int l = 0; l < 16; l++) sum += y[b].qs[16 * j + l];
            y[b].bsums[j] = (int16_t)sum;
        }
        y[b].d = 1.0f / iscale;
    }
}

void lb_q8_K_to_float(const void *vx, float *y, int64_t n) {
    const block_q8_K *x = vx;
    const int64_t nb = n / LB_QK_K;
    for (int64_t b = 0; b < nb; b++)
        for (int j = 0; j < LB_QK_K; j++) *y++ = x[b].d * (float)x[b].qs[j];
}
