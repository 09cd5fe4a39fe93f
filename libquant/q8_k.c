// q8_k.c: Q8_K pack/unpack (ggml's reference rounding). No dot product: Q8_K is only ever
// the activation side of another type's vec_dot.
#include "q8_k.h"
#include "cpu_features.h"
#include "simd.h"
#include <math.h>
#include <string.h>

void lb_q8_K_from_float_ref(const float *x, void *vy, int64_t n) {
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

#if LB_HAVE_X86
// The same rule 16 values at a time, bit for bit: the decode path converts every matmul
// input with it (on the 125M benchmark model the scalar loop was ~4% of the main thread).
// - amax: max(|x|, acc) keeps acc when |x| is NaN, as the scalar `ax > amax` skips NaN;
//   the sign comes from the FIRST element equal to amax, as in the scalar loop.
// - iscale * x and + 1.5*2^23 are two roundings in the scalar code: explicit-rounding
//   intrinsics keep the compiler from fusing them into one FMA.
// - codes: min(v, 127), then truncation to 8 bits (vpmovdb), like the scalar (int8_t) cast;
//   bsums add those 8-bit codes back, so even NaN garbage matches.
TARGET_AVX512 static void q8_K_from_float_avx512(const float *x, block_q8_K *y, int64_t nb) {
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    const __m512i mant = _mm512_set1_epi32(0x007fffff), bias = _mm512_set1_epi32(0x00400000), c127 = _mm512_set1_epi32(127);
    const __m512 absmask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
    for (int64_t b = 0; b < nb; b++, x += LB_QK_K) {
        __m512 acc = _mm512_setzero_ps();
        for (int j = 0; j < LB_QK_K; j += 16) acc = _mm512_max_ps(_mm512_and_ps(_mm512_loadu_ps(x + j), absmask), acc);
        const float amax = _mm512_reduce_max_ps(acc);
        if (amax == 0.0f) {
            memset(&y[b], 0, sizeof y[b]);
            continue;
        }
        float max = 0.0f;
        for (int j = 0; j < LB_QK_K; j += 16) {
            const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_and_ps(_mm512_loadu_ps(x + j), absmask), _mm512_set1_ps(amax), _CMP_EQ_OQ);
            if (hit) { max = x[j + __builtin_ctz(hit)]; break; }
        }
        const float iscale = -127.0f / max;
        const __m512 vs = _mm512_set1_ps(iscale);
        for (int j = 0; j < LB_QK_K; j += 16) {
            const __m512 p = _mm512_mul_round_ps(vs, _mm512_loadu_ps(x + j), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            const __m512 t = _mm512_add_round_ps(p, magic, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            __m512i v = _mm512_sub_epi32(_mm512_and_si512(_mm512_castps_si512(t), mant), bias);
            v = _mm512_min_epi32(v, c127);
            const __m128i q = _mm512_cvtepi32_epi8(v);
            _mm_storeu_si128((__m128i *)(y[b].qs + j), q);
            y[b].bsums[j / 16] = (int16_t)_mm512_reduce_add_epi32(_mm512_cvtepi8_epi32(q));
        }
        y[b].d = 1.0f / iscale;
    }
}
#endif

void lb_q8_K_from_float(const float *x, void *y, int64_t n) {
#if LB_HAVE_X86
    if (lb_cpu_get_features()->avx512) { q8_K_from_float_avx512(x, y, n / LB_QK_K); return; }
#endif
    lb_q8_K_from_float_ref(x, y, n);
}

void lb_q8_K_to_float(const void *vx, float *y, int64_t n) {
    const block_q8_K *x = vx;
    const int64_t nb = n / LB_QK_K;
    for (int64_t b = 0; b < nb; b++)
        for (int j = 0; j < LB_QK_K; j++) *y++ = x[b].d * (float)x[b].qs[j];
}
