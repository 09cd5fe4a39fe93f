// op_swiglu.c: out = silu(gate) * up (the SwiGLU feed-forward's gating).
// OpenMP splits the elements into chunks; a SIMD-cloned kernel (vecmath.h) does one chunk.
#include "ops.h"
#include "vecmath.h"

#define SWIGLU_CHUNK 8192

LB_SIMD_CLONES static void swiglu_fwd_chunk(float *out, const float *gate, const float *up, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const float g = gate[i];
        out[i] = g / (1.0f + lb_expf(-g)) * up[i];
    }
}

// d silu(g)/dg = s (1 + g (1 - s)), s = sigmoid(g)
LB_SIMD_CLONES static void swiglu_bwd_chunk(float *dgate, float *dup, const float *dout, const float *gate,
                                            const float *up, size_t n) {
    if (dgate && dup) {
        for (size_t i = 0; i < n; i++) {
            const float g = gate[i], s = 1.0f / (1.0f + lb_expf(-g));
            dgate[i] += dout[i] * up[i] * s * (1.0f + g * (1.0f - s));
            dup[i] += dout[i] * g * s;
        }
    } else if (dgate) {
        for (size_t i = 0; i < n; i++) {
            const float g = gate[i], s = 1.0f / (1.0f + lb_expf(-g));
            dgate[i] += dout[i] * up[i] * s * (1.0f + g * (1.0f - s));
        }
    } else if (dup) {
        for (size_t i = 0; i < n; i++) {
            const float g = gate[i], s = 1.0f / (1.0f + lb_expf(-g));
            dup[i] += dout[i] * g * s;
        }
    }
}

void swiglu_forward(float *out, const float *gate, const float *up, size_t N) {
    const size_t chunks = (N + SWIGLU_CHUNK - 1) / SWIGLU_CHUNK;
    #pragma omp parallel for if (N >= 65536)
    for (size_t c = 0; c < chunks; c++) {
        const size_t lo = c * SWIGLU_CHUNK, n = N - lo < SWIGLU_CHUNK ? N - lo : SWIGLU_CHUNK;
        swiglu_fwd_chunk(out + lo, gate + lo, up + lo, n);
    }
}

void swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate, const float *up, size_t N) {
    const size_t chunks = (N + SWIGLU_CHUNK - 1) / SWIGLU_CHUNK;
    #pragma omp parallel for if (N >= 65536)
    for (size_t c = 0; c < chunks; c++) {
        const size_t lo = c * SWIGLU_CHUNK, n = N - lo < SWIGLU_CHUNK ? N - lo : SWIGLU_CHUNK;
        swiglu_bwd_chunk(dgate ? dgate + lo : NULL, dup ? dup + lo : NULL, dout + lo, gate + lo, up + lo, n);
    }
}
