// q2_0c_quant.c: a vectorized Q2_0C RTN quantizer, bit-identical to lb_q2_0c_from_float
// (q2_0c.c, the reference; rule in q2_0c.h). The reference runs rintf and fmaxf as calls per
// weight; this runs the same IEEE operations 8 lanes at a time, in the same order:
//   amax   = max |x| skipping NaN: maxps(|x|, m) returns m when |x| is NaN, as fmaxf does
//   d      = fp16 round trip of min(amax / 3, 65504), scalar as in the reference
//   code   = clamp(rint((x' / d + 3) * 0.5), 0, 3), x' = x with NaN -> 0, true division
//            (not a reciprocal), no FMA contraction, round-to-nearest-even like rintf
//   d == 0 -> code 2 everywhere
#include "q2_0c.h"
#include "q2_0c_quant.h"
#include "cpu_features.h"
#include "simd.h"
#include "rtn_avx2.h"

#if LB_HAVE_X86
TARGET_AVX2 static void q2_0c_block_avx2(const float *xb, block_q2_0c *y) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    for (int j = 0; j < LB_QK2_0C; j += 8) m = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(xb + j)), m);
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    float dmax = _mm_cvtss_f32(h) / 3.0f;
    if (dmax > 65504.0f) dmax = 65504.0f;
    const lb_fp16 dh = lb_f32_to_fp16(dmax);
    const float d = lb_fp16_to_f32(dh);
    y->d = dh;
    if (d == 0.0f) { memset(y->qs, 0xAA, sizeof y->qs); return; }   // code 2 = 0b10 in every field
    const __m256 vd = _mm256_set1_ps(d), three = _mm256_set1_ps(3.0f), half = _mm256_set1_ps(0.5f);
    const __m256 zero = _mm256_setzero_ps();
    // byte 0 of every dword to the front of its lane, then the two lanes' 4 bytes together
    const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                          0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    for (int j = 0; j < LB_QK2_0C; j += 32) {
        __m256i q[4];
        for (int k = 0; k < 4; k++) {
            __m256 x = _mm256_loadu_ps(xb + j + 8 * k);
            x = _mm256_and_ps(x, _mm256_cmp_ps(x, x, _CMP_ORD_Q));   // NaN -> 0
            __m256 v = _mm256_mul_ps(_mm256_add_ps(_mm256_div_ps(x, vd), three), half);
            v = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            v = _mm256_min_ps(_mm256_max_ps(v, zero), three);
            q[k] = _mm256_cvttps_epi32(v);
        }
        // 32 codes in order, one per byte; a dword's 4 codes -> its low byte (c0 | c1<<2 | c2<<4 | c3<<6)
        __m256i b = lb_rtn_pack_i8_avx2(q[0], q[1], q[2], q[3]);
        b = _mm256_or_si256(b, _mm256_srli_epi32(b, 6));
        b = _mm256_or_si256(b, _mm256_srli_epi32(b, 12));
        b = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(b, pick), _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1));
        _mm_storel_epi64((__m128i *)(y->qs + j / 4), _mm256_castsi256_si128(b));
    }
}

TARGET_AVX2 static void q2_0c_from_float_avx2(const float *x, block_q2_0c *y, int64_t n) {
    const int64_t nb = n / LB_QK2_0C;
    for (int64_t b = 0; b < nb; b++) q2_0c_block_avx2(x + b * LB_QK2_0C, &y[b]);
}
#endif

void lb_q2_0c_from_float_fast(const float *x, void *y, int64_t n) {
#if LB_HAVE_X86
    if (lb_cpu_get_features()->avx2) { q2_0c_from_float_avx2(x, y, n); return; }
#endif
    lb_q2_0c_from_float(x, y, n);
}
