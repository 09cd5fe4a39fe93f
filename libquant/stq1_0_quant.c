// stq1_0_quant.c: a vectorized STQ1_0 RTN quantizer, bit-identical to lb_stq1_0_from_float
// (stq1_0.c, the reference: its rule is in stq1_0.h). The reference spends most of its time
// in a chain of 192 dependent double adds per block (the kept |w|, summed in group order);
// `lowbit quantize -> stq1_0` took twice as long as the other low-bit types because of it.
//
// Why a different summation order gives the same bits: every kept |w| is a float, so a
// multiple of u = 2^(Emin-150) where Emin is the smallest exponent field among them, and the
// whole sum is below 192 * 2^(Emax-126). When Emax - Emin <= 21 every partial sum is an
// integer multiple of u below 2^53 * u, i.e. exact in double, in any order; so is the total.
// Blocks with a wider spread (a near-zero kept weight next to a large one), with a NaN or an
// infinity, go to the reference. On a random-normal 1.7B model that is rare (see the tests).
//
// Layout used: group g = 16c + k (chunk c = g/16, k = g%16) has lane p at weight 64c + k + 16p,
// so a 64-weight chunk is 4 rows (lanes) of 16 groups: two 8-group halves per AVX2 register.
#include "stq1_0.h"
#include "stq1_0_quant.h"
#include "cpu_features.h"
#include "simd.h"
#include <math.h>
#include <string.h>

#if LB_HAVE_X86
// 0 on success; -1: the block needs the reference (non-finite values or a wide exponent spread)
TARGET_AVX2 static int stq1_0_block_avx2(const float *xb, block_stq1_0 *y) {
    const __m256 sign = _mm256_set1_ps(-0.0f), inf = _mm256_set1_ps(INFINITY);
    const __m256i one = _mm256_set1_epi32(1), two = _mm256_set1_epi32(2), three = _mm256_set1_epi32(3);
    __m256d sum0 = _mm256_setzero_pd(), sum1 = _mm256_setzero_pd();
    __m256 bad = _mm256_setzero_ps(), kmax = _mm256_setzero_ps(), kmin = inf;
    uint32_t codes[64];
    uint8_t signs[8];
    for (int c = 0; c < 4; c++) {
        for (int h = 0; h < 2; h++) {   // groups 16c + 8h .. +7
            const float *base = xb + 64 * c + 8 * h;
            __m256 v[4], m[4];
            for (int p = 0; p < 4; p++) {
                v[p] = _mm256_loadu_ps(base + 16 * p);
                m[p] = _mm256_andnot_ps(sign, v[p]);
                bad = _mm256_or_ps(bad, _mm256_cmp_ps(m[p], inf, _CMP_NLT_UQ));   // NaN or inf: reference
            }
            // zero lane: the smallest |w|, the lowest lane on ties (strict <, as the reference)
            __m256 best = m[0];
            __m256i z = _mm256_setzero_si256();
            for (int p = 1; p < 4; p++) {
                const __m256 lt = _mm256_cmp_ps(m[p], best, _CMP_LT_OQ);
                best = _mm256_blendv_ps(best, m[p], lt);
                z = _mm256_blendv_epi8(z, _mm256_set1_epi32(p), _mm256_castps_si256(lt));
            }
            // kept magnitudes: exact double sums, and their exponent range
            for (int p = 0; p < 4; p++) {
                const __m256 keep = _mm256_castsi256_ps(
                    _mm256_xor_si256(_mm256_cmpeq_epi32(z, _mm256_set1_epi32(p)), _mm256_set1_epi32(-1)));
                const __m256 k = _mm256_and_ps(m[p], keep);
                sum0 = _mm256_add_pd(sum0, _mm256_cvtps_pd(_mm256_castps256_ps128(k)));
                sum1 = _mm256_add_pd(sum1, _mm256_cvtps_pd(_mm256_extractf128_ps(k, 1)));
                kmax = _mm256_max_ps(kmax, k);
                // zeros (dropped lanes, w = 0) do not count towards the smallest exponent
                kmin = _mm256_min_ps(kmin, _mm256_blendv_ps(k, inf, _mm256_cmp_ps(k, _mm256_setzero_ps(), _CMP_EQ_OQ)));
            }
            // the encoding (lb_stq1_0_encode_group): nonzero lanes in order are first, second, third;
            // s = first < 0, r = (second < 0 != s) | (third < 0 != s) << 1, code = 4z + r
            __m256i neg[4];
            for (int p = 0; p < 4; p++) neg[p] = _mm256_castps_si256(_mm256_cmp_ps(v[p], _mm256_setzero_ps(), _CMP_LT_OQ));
            const __m256i z0 = _mm256_cmpeq_epi32(z, _mm256_setzero_si256());   // first = z == 0 ? 1 : 0
            const __m256i zle1 = _mm256_cmpgt_epi32(two, z);                      // second = z <= 1 ? 2 : 1
            const __m256i zle2 = _mm256_cmpgt_epi32(three, z);                    // third = z <= 2 ? 3 : 2
            const __m256i s = _mm256_blendv_epi8(neg[0], neg[1], z0);
            const __m256i n2 = _mm256_blendv_epi8(neg[1], neg[2], zle1);
            const __m256i n3 = _mm256_blendv_epi8(neg[2], neg[3], zle2);
            const __m256i r = _mm256_or_si256(_mm256_and_si256(_mm256_xor_si256(n2, s), one),
                                              _mm256_and_si256(_mm256_xor_si256(n3, s), two));
            _mm256_storeu_si256((__m256i *)(codes + 16 * c + 8 * h), _mm256_add_epi32(_mm256_slli_epi32(z, 2), r));
            signs[2 * c + h] = (uint8_t)_mm256_movemask_ps(_mm256_castsi256_ps(s));
        }
    }
    if (_mm256_movemask_ps(bad)) return -1;
    // exponent spread of the nonzero kept magnitudes (all finite here)
    __m128 hi = _mm_max_ps(_mm256_castps256_ps128(kmax), _mm256_extractf128_ps(kmax, 1));
    hi = _mm_max_ps(hi, _mm_movehl_ps(hi, hi));
    hi = _mm_max_ss(hi, _mm_movehdup_ps(hi));
    __m128 lo = _mm_min_ps(_mm256_castps256_ps128(kmin), _mm256_extractf128_ps(kmin, 1));
    lo = _mm_min_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_min_ss(lo, _mm_movehdup_ps(lo));
    const float fmax = _mm_cvtss_f32(hi), fmin = _mm_cvtss_f32(lo);
    if (fmax > 0.0f) {   // else every kept weight is 0: the sum is exactly 0
        uint32_t bmax, bmin;
        memcpy(&bmax, &fmax, 4);
        memcpy(&bmin, &fmin, 4);
        // exponent fields; a subnormal's field 0 only makes the test stricter
        if ((int)(bmax >> 23) - (int)(bmin >> 23) > 21) return -1;
    }
    const __m256d s4 = _mm256_add_pd(sum0, sum1);
    __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd(s4, 1));
    s2 = _mm_add_sd(s2, _mm_unpackhi_pd(s2, s2));
    double d = _mm_cvtsd_f64(s2) / 192.0;
    if (!(d <= 65504.0)) d = 65504.0;
    for (int i = 0; i < 32; i++) y->qs[i] = (uint8_t)(codes[2 * i] | codes[2 * i + 1] << 4);
    memcpy(y->sign, signs, 8);
    y->d = lb_f32_to_fp16((float)d);
    return 0;
}

TARGET_AVX2 static void stq1_0_from_float_avx2(const float *x, block_stq1_0 *y, int64_t n) {
    const int64_t nb = n / LB_QKSTQ;
    for (int64_t b = 0; b < nb; b++)
        if (stq1_0_block_avx2(x + b * LB_QKSTQ, &y[b])) lb_stq1_0_from_float(x + b * LB_QKSTQ, &y[b], LB_QKSTQ);
}
#endif

void lb_stq1_0_from_float_fast(const float *x, void *y, int64_t n) {
#if LB_HAVE_X86
    if (lb_cpu_get_features()->avx2) { stq1_0_from_float_avx2(x, y, n); return; }
#endif
    lb_stq1_0_from_float(x, y, n);
}
