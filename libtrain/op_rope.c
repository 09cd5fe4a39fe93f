// op_rope.c: rotary position embedding, both pair layouts, and its transpose for backward.
#include "ops.h"
#include "vecmath.h"
#include <math.h>

void rope_table(float *cs, int T, int head_dim, float base) {
    // cs is (T, head_dim): (cos, sin) of theta_i for i < head_dim/2; the same float recurrence
    // as runtime/infer.c's rope_table (ggml's rope cache), so angles agree bit for bit
    const float theta_scale = powf(base, -2.0f / (float)head_dim);
    for (int t = 0; t < T; t++) {
        float *c = cs + (size_t)t * head_dim;
        float theta = (float)t;
        for (int i = 0; i < head_dim / 2; i++) {
            c[2 * i] = cosf(theta);
            c[2 * i + 1] = sinf(theta);
            theta *= theta_scale;
        }
    }
}

// one head vector of HD: rotate the pairs by the (cos, sin) table row c, sin scaled by sign
// (+1, or -1 for the transpose); style 1 pairs (i, i+half), style 0 (2i, 2i+1). Both layouts are
// separate loops with fixed strides so they vectorize. accumulate = 1 adds into out.
// out may equal inp: each pair is read before it is written.
LB_SIMD_CLONES static void rope_row(float *o, const float *x, const float *c, int HD, int style, float sign,
                                    int accumulate) {
    const int half = HD / 2;
    if (style == 1) {
        for (int i = 0; i < half; i++) {
            const float co = c[2 * i], si = sign * c[2 * i + 1];
            const float x0 = x[i], x1 = x[i + half];
            const float y0 = x0 * co - x1 * si, y1 = x0 * si + x1 * co;
            o[i] = accumulate ? o[i] + y0 : y0;
            o[i + half] = accumulate ? o[i + half] + y1 : y1;
        }
    } else {
        for (int i = 0; i < half; i++) {
            const float co = c[2 * i], si = sign * c[2 * i + 1];
            const float x0 = x[2 * i], x1 = x[2 * i + 1];
            const float y0 = x0 * co - x1 * si, y1 = x0 * si + x1 * co;
            o[2 * i] = accumulate ? o[2 * i] + y0 : y0;
            o[2 * i + 1] = accumulate ? o[2 * i + 1] + y1 : y1;
        }
    }
}

// rotate every head of every token by +theta (sign = +1) or -theta (sign = -1, the transpose);
// accumulate = 0 writes out, 1 adds into out
static void rope_apply(float *out, const float *inp, const float *cs, int B, int T, int NH, int HD, int style,
                       float sign, int accumulate) {
    #pragma omp parallel for collapse(2) if ((size_t)B * T * NH * HD >= 65536)
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const float *c = cs + (size_t)t * HD;
            for (int h = 0; h < NH; h++) {
                const size_t off = (((size_t)b * T + t) * NH + h) * HD;
                rope_row(out + off, inp + off, c, HD, style, sign, accumulate);
            }
        }
}

void rope_forward(float *out, const float *inp, const float *cs, int B, int T, int NH, int HD, int style) {
    rope_apply(out, inp, cs, B, T, NH, HD, style, 1.0f, 0);
}

void rope_backward(float *dinp, const float *dout, const float *cs, int B, int T, int NH, int HD, int style) {
    rope_apply(dinp, dout, cs, B, T, NH, HD, style, -1.0f, 1);
}
