// ternary_rtn.h: ggml's round-to-nearest rule shared by TQ1_0 and TQ2_0 (they differ only in
// how the codes are packed): d = absmax of the 256-block, code = round(x/d) + 1 in {0,1,2}.
#pragma once
#include <math.h>
#include <stdint.h>

// c[256] receives the codes; returns d (f32 absmax: the codes use 1/d of the unrounded absmax,
// d is rounded to fp16 only for storage, as ggml does)
static inline float lb_ternary_rtn_block(const float *x, uint8_t c[256]) {
    float amax = 0.0f;
    // ggml's MAX(a, b) = a > b ? a : b (not fmaxf: a NaN must propagate the same way)
    for (int j = 0; j < 256; j++) amax = amax > fabsf(x[j]) ? amax : fabsf(x[j]);
    const float d = amax, id = d ? 1.0f / d : 0.0f;
    for (int j = 0; j < 256; j++) c[j] = (uint8_t)(lroundf(x[j] * id) + 1);
    return d;
}
