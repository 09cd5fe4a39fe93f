// grid_sherry.c: Sherry 3:4 sparse ternary (arXiv 2601.07892). In every group of 4 weights the
// 3 largest |w| keep sign(w)*alpha and the smallest becomes 0.
// Grouping matters for packing (REFERENCE §2.3): STQ1_0 groups weights 16 apart inside each
// 64-weight span (g, g+16, g+32, g+48); AngelSlim's QAT groups 4 adjacent weights.
#include "quant_internal.h"

// index of lane p of group q (q counts groups from the start of the n weights)
static inline int64_t sherry_index(int64_t q, int p, int adjacent) {
    if (adjacent) return 4 * q + p;
    return (q / 16) * 64 + (q % 16) + 16 * p;
}

// alpha = mean |w| of the kept weights (sum in double: deterministic and order-robust enough)
float lb_sherry_scale(const float *w, int64_t n, int adjacent) {
    const int64_t ngroups = n / 4;
    if (ngroups == 0) return 0.0f;
    double sum = 0.0;
    for (int64_t q = 0; q < ngroups; q++) {
        float a[4];
        for (int p = 0; p < 4; p++) a[p] = w[sherry_index(q, p, adjacent)];
        const int drop = lb_sherry_drop(a[0], a[1], a[2], a[3]);
        for (int p = 0; p < 4; p++) if (p != drop) sum += fabsf(a[p]);
    }
    return (float)(sum / (double)(3 * ngroups));
}

void lb_sherry_apply(int8_t *codes, float *vals, const float *w, int64_t n, float alpha, int adjacent, unsigned flags) {
    const float step = lb_grid_step(adjacent ? LB_GRID_SHERRY_ADJ : LB_GRID_SHERRY, alpha, flags);
    const int64_t ngroups = n / 4;
    for (int64_t q = 0; q < ngroups; q++) {
        int64_t idx[4];
        for (int p = 0; p < 4; p++) idx[p] = sherry_index(q, p, adjacent);
        const int drop = lb_sherry_drop(w[idx[0]], w[idx[1]], w[idx[2]], w[idx[3]]);
        for (int p = 0; p < 4; p++) {
            // kept: sign(w), with 0 (and -0, NaN) counted as + so the group stays exactly 3:4;
            // with no scale every kept lane is + so the values are +0, as the packed types give
            int t = 0;
            if (p != drop) t = (step > 0 && w[idx[p]] < 0) ? -1 : 1;
            if (codes) codes[idx[p]] = (int8_t)t;
            if (vals) vals[idx[p]] = (float)t * step;
        }
    }
}
