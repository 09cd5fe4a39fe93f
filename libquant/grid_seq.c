// grid_seq.c: the uniform clipped grids: ParetoQ SEQ 2-bit and LSQ b-bit.
// Both write value = (float)lane * step, the same float expression the packed types' dequantizers
// evaluate, so fake-quant values and dequantized blocks agree bit for bit (quant.h).
#include "quant_internal.h"
#include "simd.h"

// --- SEQ 2-bit --------------------------------------------------------------------------------
// u = clamp(w/alpha, -0.99, 0.99); i = rint(2u - 0.5) in {-2,-1,0,1}; value alpha*(i+0.5)/2.
// alpha*(i+0.5)/2 == (2i+1) * (alpha/4) in float (alpha/4 is exact, so both sides are the correctly
// rounded 3alpha/4 or alpha/4), which is Q2_0C's (2c-3)*d with c = i+2, d = alpha/4.
// The loop, vectorized per CPU level (QAT runs it over every weight twice a step: forward and
// export; the scalar baseline build called rintf per weight). Same bits in every clone: the
// clamp is written as comparisons with lb_q_clampf's results (NaN -> +clip, signed zeros kept),
// 2u is exact so 2u - 0.5 rounds once whether or not it is fused, and rint is round-to-even.
LB_SIMD_CLONES static void seq2_rows(int8_t *codes, float *vals, const float *w, int64_t n, float a, float step) {
    for (int64_t k = 0; k < n; k++) {
        float u = w[k] / a;
        u = u < LB_SEQ_CLIP ? u : LB_SEQ_CLIP;     // fminf(u, clip), and NaN -> +clip
        u = u > -LB_SEQ_CLIP ? u : -LB_SEQ_CLIP;   // fmaxf(-clip, u)
        const int i = (int)rintf(2.0f * u - 0.5f);   // half to even
        if (codes) codes[k] = (int8_t)i;
        if (vals) vals[k] = (float)(2 * i + 1) * step;
    }
}

void lb_seq2_apply(int8_t *codes, float *vals, const float *w, int64_t n, float alpha, unsigned flags) {
    const float step = lb_grid_step(LB_GRID_SEQ2, alpha, flags);
    if (!(step > 0)) {
        // no scale: code 0 (value +0 in every packed type: Q2_0C 1*0, Q2_K 0*2 - 0*3)
        for (int64_t k = 0; k < n; k++) {
            if (codes) codes[k] = 0;
            if (vals) vals[k] = 0.0f;
        }
        return;
    }
    // format-exact: the grid is the one of the fp16 alpha (4*step), clip included
    const float a = (flags & LB_GRID_FP16_EXACT) ? 4.0f * step : alpha;
    seq2_rows(codes, vals, w, n, a, step);
}

// --- LSQ b-bit ----------------------------------------------------------------------------------
// code = clamp(rint(w/alpha), Qn, Qp), value code*alpha. Clamping before rounding is equivalent
// (Qn, Qp are integers) and keeps rintf's argument small.
void lb_lsq_apply(int8_t *codes, float *vals, const float *w, int64_t n, float alpha, int bits, unsigned flags) {
    const float qn = -(float)(1 << (bits - 1)), qp = (float)((1 << (bits - 1)) - 1);
    const float step = lb_grid_step(bits == 3 ? LB_GRID_LSQ3 : LB_GRID_LSQ4, alpha, flags);
    for (int64_t k = 0; k < n; k++) {
        int c = 0;
        if (step > 0) c = (int)rintf(lb_q_clampf(w[k] / step, qn, qp));
        if (codes) codes[k] = (int8_t)c;
        if (vals) vals[k] = (float)c * step;
    }
}
