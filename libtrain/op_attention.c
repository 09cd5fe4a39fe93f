// op_attention.c: causal grouped-query attention on sgemm, per (batch, head), skipping the
// upper triangle.
// Forward stores the softmax probabilities (B,NH,T,T) for backward (see ops.h).
#include "ops.h"
#include "vecmath.h"
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

// Causal: score row t needs only keys <= t, so every product is done by blocks of ATT_BLOCK
// rows, each only as wide as the triangle needs (about 5/8 of the full T x T work at T = 256).
// The skipped parts are exactly the entries the mask zeroes, so nothing of value is dropped.
#define ATT_BLOCK 64

// --- the row kernels (SIMD-cloned, see vecmath.h) -----------------------------------------------

// each row t of the (T,T) scores becomes the softmax of its first t+1 entries; the rest is 0
LB_SIMD_CLONES static void softmax_causal(float *P, int T) {
    for (int t = 0; t < T; t++) {
        float *row = P + (size_t)t * T;
        const int n = t + 1;
        const float max = lb_row_max(row, n);
        // summed in double, as runtime/infer.c's softmax sums in double
        const double sum = lb_row_exp_sum(row, row, max, n);
        const float inv = (float)(1.0 / sum);
        for (int j = 0; j < n; j++) row[j] *= inv;
        for (int j = n; j < T; j++) row[j] = 0.0f;   // causal mask
    }
}

// dS_tj = P_tj (dP_tj - sum_k P_tk dP_tk), in place of dP; the dot in double
LB_SIMD_CLONES static void softmax_causal_backward(float *dS, const float *P, int T) {
    for (int t = 0; t < T; t++) {
        const float *p = P + (size_t)t * T;
        float *d = dS + (size_t)t * T;
        const int n = t + 1;
        const double dot = lb_row_dot(p, d, n);
        const float df = (float)dot;
        for (int j = 0; j < n; j++) d[j] = p[j] * (d[j] - df);
        for (int j = n; j < T; j++) d[j] = 0.0f;
    }
}

// --- forward / backward ---------------------------------------------------------------------------

void attention_forward(float *out, float *att, const float *q, const float *k, const float *v,
                       int B, int T, int NH, int NKV, int HD) {
    const int qd = NH * HD, kvd = NKV * HD, group = NH / NKV;
    const float scale = 1.0f / sqrtf((float)HD);
    #pragma omp parallel for collapse(2) schedule(dynamic, 1)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            const int kvh = h / group;
            const float *qh = q + (size_t)b * T * qd + (size_t)h * HD;
            const float *kh = k + (size_t)b * T * kvd + (size_t)kvh * HD;
            const float *vh = v + (size_t)b * T * kvd + (size_t)kvh * HD;
            float *P = att + ((size_t)b * NH + h) * T * T;   // (T,T) for this head
            // scores = scale * Q_h K_h^T, by row blocks: rows [r0, r1) need only columns < r1
            for (int r0 = 0; r0 < T; r0 += ATT_BLOCK) {
                const int r1 = r0 + ATT_BLOCK < T ? r0 + ATT_BLOCK : T;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, r1, HD, scale, qh + (size_t)r0 * qd, qd,
                            kh, kvd, 0.0f, P + (size_t)r0 * T, T);
            }
            softmax_causal(P, T);   // reads only j <= t; writes the zeros above the diagonal
            // out_h = P V_h, by row blocks: P is 0 beyond column t
            for (int r0 = 0; r0 < T; r0 += ATT_BLOCK) {
                const int r1 = r0 + ATT_BLOCK < T ? r0 + ATT_BLOCK : T;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, HD, r1, 1.0f, P + (size_t)r0 * T, T, vh,
                            kvd, 0.0f, out + (size_t)b * T * qd + (size_t)h * HD + (size_t)r0 * qd, qd);
            }
        }
}

// With S = scale Q K^T, P = softmax(S) (causal), O = P V:
//   dP = dO V^T;  dS_ij = P_ij (dP_ij - sum_k P_ik dP_ik);  dQ = scale dS K;
//   dK = scale dS^T Q;  dV = P^T dO.
// Tasks are (batch, kv head) so the heads sharing a kv head add into dK/dV without races.
int attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *q, const float *k,
                       const float *v, const float *att, int B, int T, int NH, int NKV, int HD) {
    const int qd = NH * HD, kvd = NKV * HD, group = NH / NKV;
    const float scale = 1.0f / sqrtf((float)HD);
    const int n_threads = omp_get_max_threads();
    float *scratch = malloc((size_t)n_threads * T * T * sizeof(float));
    if (!scratch) return -1;
    #pragma omp parallel for collapse(2) schedule(dynamic, 1)
    for (int b = 0; b < B; b++)
        for (int kvh = 0; kvh < NKV; kvh++) {
            float *dS = scratch + (size_t)omp_get_thread_num() * T * T;
            const float *kh = k + (size_t)b * T * kvd + (size_t)kvh * HD;
            const float *vh = v + (size_t)b * T * kvd + (size_t)kvh * HD;
            float *dkh = dk + (size_t)b * T * kvd + (size_t)kvh * HD;
            float *dvh = dv + (size_t)b * T * kvd + (size_t)kvh * HD;
            for (int h = kvh * group; h < (kvh + 1) * group; h++) {
                const float *P = att + ((size_t)b * NH + h) * T * T;
                const float *qh = q + (size_t)b * T * qd + (size_t)h * HD;
                const float *doh = dout + (size_t)b * T * qd + (size_t)h * HD;
                float *dqh = dq + (size_t)b * T * qd + (size_t)h * HD;
                // dP = dO_h V_h^T, by row blocks (rows [r0, r1) need only columns < r1), then dS
                for (int r0 = 0; r0 < T; r0 += ATT_BLOCK) {
                    const int r1 = r0 + ATT_BLOCK < T ? r0 + ATT_BLOCK : T;
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, r1, HD, 1.0f, doh + (size_t)r0 * qd, qd,
                                vh, kvd, 0.0f, dS + (size_t)r0 * T, T);
                }
                softmax_causal_backward(dS, P, T);   // reads only j <= t; zeros above the diagonal
                for (int r0 = 0; r0 < T; r0 += ATT_BLOCK) {
                    const int r1 = r0 + ATT_BLOCK < T ? r0 + ATT_BLOCK : T;
                    // dQ_h[r0:r1] += scale dS[r0:r1, :r1] K_h[:r1]
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, HD, r1, scale, dS + (size_t)r0 * T, T,
                                kh, kvd, 1.0f, dqh + (size_t)r0 * qd, qd);
                    // columns [c0, c1) = [r0, r1) of dS and P are 0 in rows < c0:
                    // dK_h[c0:c1] += scale dS[c0:, c0:c1]^T Q_h[c0:];  dV_h[c0:c1] += P[c0:, c0:c1]^T dO_h[c0:]
                    const int c0 = r0, c1 = r1;
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, c1 - c0, HD, T - c0, scale,
                                dS + (size_t)c0 * T + c0, T, qh + (size_t)c0 * qd, qd, 1.0f, dkh + (size_t)c0 * kvd, kvd);
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, c1 - c0, HD, T - c0, 1.0f,
                                P + (size_t)c0 * T + c0, T, doh + (size_t)c0 * qd, qd, 1.0f, dvh + (size_t)c0 * kvd, kvd);
                }
            }
        }
    free(scratch);
    return 0;
}
