// op_swiglu.c: out = silu(gate) * up (the SwiGLU feed-forward's gating).
#include "ops.h"
#include <math.h>

void swiglu_forward(float *out, const float *gate, const float *up, size_t N) {
    #pragma omp parallel for if (N >= 65536)
    for (size_t i = 0; i < N; i++) {
        const float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

// d silu(g)/dg = s (1 + g (1 - s)), s = sigmoid(g)
void swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate, const float *up, size_t N) {
    #pragma omp parallel for if (N >= 65536)
    for (size_t i = 0; i < N; i++) {
        const float g = gate[i], s = 1.0f / (1.0f + expf(-g));
        if (dgate) dgate[i] += dout[i] * up[i] * s * (1.0f + g * (1.0f - s));
        if (dup) dup[i] += dout[i] * g * s;
    }
}
