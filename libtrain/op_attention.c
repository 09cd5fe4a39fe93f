// op_attention.c: causal grouped-query attention, two sgemms per (batch, head) each way.
// Forward stores the softmax probabilities (B,NH,T,T) for backward (see ops.h).
#include "ops.h"
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

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
            // scores (T,T) = scale * Q_h (T,HD) . K_h^T (HD,T)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, HD, scale, qh, qd, kh, kvd, 0.0f, P, T);
            for (int t = 0; t < T; t++) {
                float *row = P + (size_t)t * T;
                float max = -INFINITY;
                for (int j = 0; j <= t; j++) max = row[j] > max ? row[j] : max;
                double sum = 0.0;   // summed in double like runtime/infer.c's softmax
                for (int j = 0; j <= t; j++) { row[j] = expf(row[j] - max); sum += row[j]; }
                const float inv = (float)(1.0 / sum);
                for (int j = 0; j <= t; j++) row[j] *= inv;
                for (int j = t + 1; j < T; j++) row[j] = 0.0f;   // causal mask
            }
            // out_h (T,HD) = P (T,T) . V_h (T,HD)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, HD, T, 1.0f, P, T, vh, kvd, 0.0f,
                        out + (size_t)b * T * qd + (size_t)h * HD, qd);
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
                // dP (T,T) = dO_h (T,HD) . V_h^T
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, HD, 1.0f, doh, qd, vh, kvd, 0.0f, dS, T);
                for (int t = 0; t < T; t++) {
                    const float *p = P + (size_t)t * T;
                    float *d = dS + (size_t)t * T;
                    double dot = 0.0;
                    for (int j = 0; j <= t; j++) dot += (double)p[j] * d[j];
                    for (int j = 0; j <= t; j++) d[j] = p[j] * (d[j] - (float)dot);
                    for (int j = t + 1; j < T; j++) d[j] = 0.0f;
                }
                // dQ_h (T,HD) += scale dS (T,T) . K_h (T,HD)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, HD, T, scale, dS, T, kh, kvd, 1.0f, dqh, qd);
                // dK_h (T,HD) += scale dS^T (T,T) . Q_h (T,HD)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, HD, T, scale, dS, T, qh, qd, 1.0f, dkh, kvd);
                // dV_h (T,HD) += P^T (T,T) . dO_h (T,HD)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, HD, T, 1.0f, P, T, doh, qd, 1.0f, dvh, kvd);
            }
        }
    free(scratch);
    return 0;
}
