// rtn_avx2.h: AVX2 versions of the round-to-nearest block rules of TQ1_0/TQ2_0 (ternary_rtn.h)
// and Q8_0, bit-identical to the scalar references. They exist because `lowbit quantize`
// spent half its time in lroundf/roundf calls (one libm call per weight).
//
// Exactness: the scalar rules compute amax, d and id = 1/d in f32 and round x*id half away
// from zero. The vector code computes the same f32 values (max is order-independent on
// finite inputs, x*id is one IEEE multiply either way) and rounds exactly (see round_away).
// A block holding a NaN or an infinity, or whose 1/d overflows, makes the functions return
// -1 so the caller runs the scalar rule: the C rules' NaN propagation (ggml's MAX, lroundf of
// NaN) is not worth reproducing lane by lane for blocks no real checkpoint has.
//
// Private to libquant (tq1_0.c, tq2_0.c, q8_0.c); the *_ref declarations let the tests pit
// the two paths against each other.
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "simd.h"

// the scalar reference quantizers (the dispatching lb_*_from_float pick the AVX2 path when
// the CPU has it and LOWBIT_SIMD does not cap it)
void lb_tq1_0_from_float_ref(const float *x, void *y, int64_t n);
void lb_tq2_0_from_float_ref(const float *x, void *y, int64_t n);
void lb_q8_0_from_float_ref(const float *x, void *y, int64_t n);

#if LB_HAVE_X86
// 0 when every |x| is finite; the running max of |x| goes to *amax
TARGET_AVX2 static inline int lb_rtn_absmax_avx2(const float *x, int n, float *amax) {
    const __m256 sign = _mm256_set1_ps(-0.0f), inf = _mm256_set1_ps(INFINITY);
    __m256 m = _mm256_setzero_ps(), bad = _mm256_setzero_ps();
    for (int j = 0; j < n; j += 8) {
        const __m256 a = _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j));
        bad = _mm256_or_ps(bad, _mm256_cmp_ps(a, inf, _CMP_NLT_UQ));   // inf or NaN
        m = _mm256_max_ps(m, a);
    }
    if (_mm256_movemask_ps(bad)) return -1;
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    *amax = _mm_cvtss_f32(h);
    return 0;
}

// 32 int32 lanes (a, b, c, d in order) -> 32 int8 in order (values fit int8: no saturation)
TARGET_AVX2 static inline __m256i lb_rtn_pack_i8_avx2(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);   // lane-interleaved
    return _mm256_permutevar8x32_epi32(_mm256_packs_epi16(ab, cd), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// TQ1_0/TQ2_0's rule on 256 weights: codes c = lroundf(x*id) + 1 in {0, 1, 2}, returns d
// through *d. |x*id| <= 1 (+ rounding), so lroundf is 0 unless |x*id| >= 0.5, then the sign.
TARGET_AVX2 static inline int lb_ternary_rtn_block_avx2(const float *x, uint8_t c[256], float *d) {
    float amax;
    if (lb_rtn_absmax_avx2(x, 256, &amax)) return -1;
    *d = amax;
    if (amax == 0.0f) { memset(c, 1, 256); return 0; }   // x*0 = +-0 rounds to 0
    const float id = 1.0f / amax;
    if (!(id < INFINITY)) return -1;   // subnormal amax: x*id may overflow
    const __m256 vid = _mm256_set1_ps(id), half = _mm256_set1_ps(0.5f), mhalf = _mm256_set1_ps(-0.5f);
    const __m256i one = _mm256_set1_epi32(1);
    for (int j = 0; j < 256; j += 32) {
        __m256i q[4];
        for (int k = 0; k < 4; k++) {
            const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + j + 8 * k), vid);
            const __m256i ge = _mm256_castps_si256(_mm256_cmp_ps(v, half, _CMP_GE_OQ));   // -1 where v >= 0.5
            const __m256i le = _mm256_castps_si256(_mm256_cmp_ps(v, mhalf, _CMP_LE_OQ));  // -1 where v <= -0.5
            q[k] = _mm256_add_epi32(_mm256_sub_epi32(one, ge), le);
        }
        _mm256_storeu_si256((__m256i *)(c + j), lb_rtn_pack_i8_avx2(q[0], q[1], q[2], q[3]));
    }
    return 0;
}
#endif
