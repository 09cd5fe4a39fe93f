// grid_ternary.c: dense ternary grids: ParetoQ SEQ ternary and BitNet b1.58 absmean.
// value = (float)t * step with t in {-1,0,1}: TQ1_0/TQ2_0's (float)(c-1)*d with d = step.
#include "quant_internal.h"

// --- SEQ ternary ----------------------------------------------------------------------------------
// t = rint(1.5 * clamp(w/alpha, -0.99, 0.99)); value alpha*t/1.5 = t * step, step = alpha/1.5.
// Codes are chosen with the given alpha in both modes; only the step is fp16-rounded in
// format-exact mode (alpha/1.5 is generally not fp16-exact even when alpha is).
void lb_seq_ternary_apply(int8_t *codes, float *vals, const float *w, int64_t n, float alpha, unsigned flags) {
    const float step = lb_grid_step(LB_GRID_SEQ_TERNARY, alpha, flags);
    for (int64_t k = 0; k < n; k++) {
        int t = 0;
        if (step > 0) t = (int)rintf(1.5f * lb_q_clampf(w[k] / alpha, -LB_SEQ_CLIP, LB_SEQ_CLIP));
        if (codes) codes[k] = (int8_t)t;
        if (vals) vals[k] = (float)t * step;
    }
}

// --- absmean (BitNet b1.58) ---------------------------------------------------------------------
// t = clamp(rint(w/gamma), -1, 1), value t*gamma (gamma fp16-rounded in format-exact mode).
void lb_absmean_apply(int8_t *codes, float *vals, const float *w, int64_t n, float gamma, unsigned flags) {
    const float step = lb_grid_step(LB_GRID_ABSMEAN, gamma, flags);
    for (int64_t k = 0; k < n; k++) {
        int t = 0;
        if (step > 0) t = (int)rintf(lb_q_clampf(w[k] / step, -1.0f, 1.0f));
        if (codes) codes[k] = (int8_t)t;
        if (vals) vals[k] = (float)t * step;
    }
}
