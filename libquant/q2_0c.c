// q2_0c.c: Q2_0C pack/unpack, RTN quantizer, and Q2_0C x Q8_K dot products (scalar,
// AVX2, AVX-512 VBMI+VNNI). Layout and rounding rules: q2_0c.h and docs/formats.md.
#include "q2_0c.h"
#include "q8_k.h"
#include <math.h>
#include <string.h>
#include "simd.h"

// ----------------------------------------------------------------------------
// exact pack / unpack

void lb_q2_0c_pack(block_q2_0c *y, const uint8_t codes[512], uint16_t d_fp16) {
    y->d = d_fp16;
    for (int j = 0; j < LB_QK2_0C / 4; j++) {
        const uint8_t *c = codes + 4 * j;
        y->qs[j] = (uint8_t)((c[0] & 3) | (c[1] & 3) << 2 | (c[2] & 3) << 4 | (c[3] & 3) << 6);
    }
}

void lb_q2_0c_unpack(const block_q2_0c *x, uint8_t codes[512], uint16_t *d_fp16) {
    *d_fp16 = x->d;
    for (int i = 0; i < LB_QK2_0C; i++) codes[i] = (x->qs[i / 4] >> (2 * (i % 4))) & 3;
}

// ----------------------------------------------------------------------------
// dequantize / RTN quantize

void lb_q2_0c_to_float(const void *vx, float *y, int64_t n) {
    const block_q2_0c *x = vx;
    const int64_t nb = n / LB_QK2_0C;
    for (int64_t b = 0; b < nb; b++) {
        const float d = lb_fp16_to_f32(x[b].d);
        // code -> (2c-3)*d; the product of a small integer and an fp16 value is exact in f32
        const float v[4] = { -3.0f * d, -d, d, 3.0f * d };
        for (int j = 0; j < LB_QK2_0C / 4; j++) {
            const uint8_t q = x[b].qs[j];
            float *o = y + b * LB_QK2_0C + 4 * j;
            o[0] = v[q & 3]; o[1] = v[(q >> 2) & 3]; o[2] = v[(q >> 4) & 3]; o[3] = v[q >> 6];
        }
    }
}

void lb_q2_0c_from_float(const float *x, void *vy, int64_t n) {
    block_q2_0c *y = vy;
    const int64_t nb = n / LB_QK2_0C;
    uint8_t codes[LB_QK2_0C];
    for (int64_t b = 0; b < nb; b++) {
        const float *xb = x + b * LB_QK2_0C;
        float amax = 0.0f;
        for (int j = 0; j < LB_QK2_0C; j++) amax = fmaxf(amax, fabsf(xb[j]));   // fmaxf skips NaN
        // d is rounded to fp16 FIRST and the codes are chosen against the stored d: a block
        // already on the grid (values {-3,-1,1,3}*d, d fp16-exact) then comes back unchanged
        float dmax = amax / 3.0f;
        if (dmax > 65504.0f) dmax = 65504.0f;   // largest finite fp16: never store inf
        const lb_fp16 dh = lb_f32_to_fp16(dmax);
        const float d = lb_fp16_to_f32(dh);
        for (int j = 0; j < LB_QK2_0C; j++) {
            const float xv = xb[j] == xb[j] ? xb[j] : 0.0f;
            float v = d != 0.0f ? rintf((xv / d + 3.0f) * 0.5f) : 2.0f;   // half-way -> even
            v = v < 0.0f ? 0.0f : v > 3.0f ? 3.0f : v;
            codes[j] = (uint8_t)v;
        }
        lb_q2_0c_pack(&y[b], codes, dh);
    }
}

// ----------------------------------------------------------------------------
// dot products with Q8_K activations: a Q2_0C block covers Q8_K blocks 2b and 2b+1.
// Per Q8_K block: sum (2c-3)*a = 2*sum c*a - 3*sum a, and sum a comes from bsums.

void lb_vec_dot_q2_0c_q8_K_ref(int64_t n, float *s, const void *vx, const void *vy) {
    const block_q2_0c *x = vx;
    const block_q8_K *y = vy;
    const int64_t nb = n / LB_QK2_0C;
    double sum = 0.0;
    for (int64_t b = 0; b < nb; b++) {
        const double dx = lb_fp16_to_f32(x[b].d);
        for (int h = 0; h < 2; h++) {
            const block_q8_K *yb = &y[2 * b + h];
            int isum = 0;
            for (int i = 0; i < LB_QK_K; i++) {
                const int w = 256 * h + i;
                const int c = (x[b].qs[w / 4] >> (2 * (w % 4))) & 3;
                isum += (2 * c - 3) * yb->qs[i];
            }
            sum += dx * (double)yb->d * (double)isum;
        }
    }
    *s = (float)sum;
}

#if LB_HAVE_X86
// 128 weights (32 code bytes) against 128 activations: int16 partial sums of c*a.
// Shifting a whole register by 2k gives code 4j+k in byte j (a strided order); two rounds of
// byte/word unpacks restore weight order inside each 128-bit lane: lane 0 then holds weights
// 0..63 and lane 1 weights 64..127, so each result register pairs with two 16-byte
// activation pieces 64 apart (loadu2).
TARGET_AVX2 static inline __m256i dot128_avx2(const uint8_t *qs, const int8_t *a) {
    const __m256i m3 = _mm256_set1_epi8(3);
    const __m256i v = _mm256_loadu_si256((const __m256i *)qs);
    const __m256i x0 = _mm256_and_si256(v, m3);
    const __m256i x1 = _mm256_and_si256(_mm256_srli_epi16(v, 2), m3);
    const __m256i x2 = _mm256_and_si256(_mm256_srli_epi16(v, 4), m3);
    const __m256i x3 = _mm256_and_si256(_mm256_srli_epi16(v, 6), m3);
    const __m256i p01l = _mm256_unpacklo_epi8(x0, x1), p01h = _mm256_unpackhi_epi8(x0, x1);
    const __m256i p23l = _mm256_unpacklo_epi8(x2, x3), p23h = _mm256_unpackhi_epi8(x2, x3);
    const __m256i r0 = _mm256_unpacklo_epi16(p01l, p23l);   // weights 0..15   | 64..79
    const __m256i r1 = _mm256_unpackhi_epi16(p01l, p23l);   // weights 16..31  | 80..95
    const __m256i r2 = _mm256_unpacklo_epi16(p01h, p23h);   // weights 32..47  | 96..111
    const __m256i r3 = _mm256_unpackhi_epi16(p01h, p23h);   // weights 48..63  | 112..127
    const __m256i a0 = _mm256_loadu2_m128i((const __m128i *)(a + 64), (const __m128i *)(a + 0));
    const __m256i a1 = _mm256_loadu2_m128i((const __m128i *)(a + 80), (const __m128i *)(a + 16));
    const __m256i a2 = _mm256_loadu2_m128i((const __m128i *)(a + 96), (const __m128i *)(a + 32));
    const __m256i a3 = _mm256_loadu2_m128i((const __m128i *)(a + 112), (const __m128i *)(a + 48));
    // codes <= 3, |a| <= 127: a pair of products is <= 762, so int16 sums cannot saturate
    const __m256i s01 = _mm256_add_epi16(_mm256_maddubs_epi16(r0, a0), _mm256_maddubs_epi16(r1, a1));
    const __m256i s23 = _mm256_add_epi16(_mm256_maddubs_epi16(r2, a2), _mm256_maddubs_epi16(r3, a3));
    return _mm256_add_epi16(s01, s23);
}

TARGET_AVX2 void lb_vec_dot_q2_0c_q8_K_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    const block_q2_0c *x = vx;
    const block_q8_K *y = vy;
    const int64_t nb = n / LB_QK2_0C;
    const __m256i two = _mm256_set1_epi16(2), mthree = _mm256_set1_epi16(-3);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const float dx = lb_fp16_hw(x[b].d);
        // 130-byte blocks: lines at +0, +64, +128 of consecutive blocks cover every line
        lb_prefetch_ahead(&x[b]); lb_prefetch_ahead((const char *)&x[b] + 64); lb_prefetch_ahead((const char *)&x[b] + 128);
        for (int h = 0; h < 2; h++) {
            const block_q8_K *yb = &y[2 * b + h];
            const uint8_t *qs = x[b].qs + 64 * h;
            // 8 maddubs per 256 weights, each pair <= 762: int16 sums stay below 6100
            const __m256i s16 = _mm256_add_epi16(dot128_avx2(qs, yb->qs), dot128_avx2(qs + 32, yb->qs + 128));
            const __m256i bs = _mm256_loadu_si256((const __m256i *)yb->bsums);
            const __m256i i32 = _mm256_add_epi32(_mm256_madd_epi16(s16, two), _mm256_madd_epi16(bs, mthree));
            const __m256 d = _mm256_set1_ps(dx * yb->d);
            if (h == 0) acc0 = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(i32), acc0);
            else        acc1 = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(i32), acc1);
        }
    }
    *s = lb_hsum256(_mm256_add_ps(acc0, acc1));
}

// AVX-512: vpmultishiftqb picks, for every output byte, 8 bits at any offset of its source
// qword, so after one vpermq that gives each output qword the code qword it needs, one
// multishift + and yields 64 codes in weight order. The offset is one bit early so the byte
// holds 2c (bits 1-2) rather than c: the factor 2 of (2c-3) costs nothing. Offsets wrap
// within the qword, so "bit -1" is bit 63 and is masked away with the other stray bits.
// NT activation rows at once (1 for decode, 4 for prefill): the codes are unpacked once and
// used NT times. Each row's arithmetic is the same whatever NT is, so the 4-row kernel's
// results are bitwise the 1-row kernel's (tests/test_quant_kernels.c checks it).
TARGET_AVX512_VBMI_VNNI static inline __attribute__((always_inline)) void
q2_0c_dot_avx512(const int NT, int64_t n, float *s, size_t bs, const void *vx, const void *vy, size_t by) {
    const block_q2_0c *x = vx;
    const int64_t nb = n / LB_QK2_0C;
    // output byte i of qword q (q = 0..7) is weight 8q+i of a 64-weight group, whose code
    // sits in source qword q/4 (after vpermq) at bit 16*(q%4) + 2i; minus 1, wrapped (mod 64)
    static const uint8_t ctrl_bytes[64] = {
        63, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31, 33, 35, 37, 39, 41, 43, 45, 47, 49, 51, 53, 55, 57, 59, 61,
        63, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31, 33, 35, 37, 39, 41, 43, 45, 47, 49, 51, 53, 55, 57, 59, 61,
    };
    const __m512i ctrl = _mm512_loadu_si512(ctrl_bytes);
    const __m512i m6 = _mm512_set1_epi8(6);
    const __m512i perm0 = _mm512_set_epi64(1, 1, 1, 1, 0, 0, 0, 0), perm1 = _mm512_set_epi64(3, 3, 3, 3, 2, 2, 2, 2);
    const __m512i perm2 = _mm512_set_epi64(5, 5, 5, 5, 4, 4, 4, 4), perm3 = _mm512_set_epi64(7, 7, 7, 7, 6, 6, 6, 6);
    const __m256i mthree = _mm256_set1_epi16(-3);
    __m512 acc0[4], acc1[4];
    for (int t = 0; t < NT; t++) { acc0[t] = _mm512_setzero_ps(); acc1[t] = _mm512_setzero_ps(); }
    for (int64_t b = 0; b < nb; b++) {
        const float dx = lb_fp16_hw(x[b].d);
        // 130-byte blocks: lines at +0, +64, +128 of consecutive blocks cover every line
        lb_prefetch_ahead(&x[b]); lb_prefetch_ahead((const char *)&x[b] + 64); lb_prefetch_ahead((const char *)&x[b] + 128);
        for (int h = 0; h < 2; h++) {
            const __m512i c = _mm512_loadu_si512(x[b].qs + 64 * h);   // 256 codes
            const __m512i u0 = _mm512_and_si512(_mm512_multishift_epi64_epi8(ctrl, _mm512_permutexvar_epi64(perm0, c)), m6);
            const __m512i u1 = _mm512_and_si512(_mm512_multishift_epi64_epi8(ctrl, _mm512_permutexvar_epi64(perm1, c)), m6);
            const __m512i u2 = _mm512_and_si512(_mm512_multishift_epi64_epi8(ctrl, _mm512_permutexvar_epi64(perm2, c)), m6);
            const __m512i u3 = _mm512_and_si512(_mm512_multishift_epi64_epi8(ctrl, _mm512_permutexvar_epi64(perm3, c)), m6);
            for (int t = 0; t < NT; t++) {
                const block_q8_K *yb = (const block_q8_K *)((const char *)vy + (size_t)t * by) + 2 * b + h;
                // start from -3 * sum(a): bsums pairs times -3, 8 int32 in the low half
                __m512i acc = _mm512_zextsi256_si512(_mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)yb->bsums), mthree));
                acc = _mm512_dpbusd_epi32(acc, u0, _mm512_loadu_si512(yb->qs));
                acc = _mm512_dpbusd_epi32(acc, u1, _mm512_loadu_si512(yb->qs + 64));
                acc = _mm512_dpbusd_epi32(acc, u2, _mm512_loadu_si512(yb->qs + 128));
                acc = _mm512_dpbusd_epi32(acc, u3, _mm512_loadu_si512(yb->qs + 192));
                const __m512 d = _mm512_set1_ps(dx * yb->d);
                if (h == 0) acc0[t] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(acc), acc0[t]);
                else        acc1[t] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(acc), acc1[t]);
            }
        }
    }
    for (int t = 0; t < NT; t++) s[(size_t)t * bs] = _mm512_reduce_add_ps(_mm512_add_ps(acc0[t], acc1[t]));
}

TARGET_AVX512_VBMI_VNNI void lb_vec_dot_q2_0c_q8_K_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    q2_0c_dot_avx512(1, n, s, 0, vx, vy, 0);
}

TARGET_AVX512_VBMI_VNNI void lb_vec_dot4_q2_0c_q8_K_avx512(int64_t n, float *s, size_t bs, const void *vx, const void *vy,
                                                         size_t by) {
    q2_0c_dot_avx512(4, n, s, bs, vx, vy, by);
}
#else
void lb_vec_dot_q2_0c_q8_K_avx2(int64_t n, float *s, const void *x, const void *y) { lb_vec_dot_q2_0c_q8_K_ref(n, s, x, y); }
void lb_vec_dot_q2_0c_q8_K_avx512(int64_t n, float *s, const void *x, const void *y) { lb_vec_dot_q2_0c_q8_K_ref(n, s, x, y); }
void lb_vec_dot4_q2_0c_q8_K_avx512(int64_t n, float *s, size_t bs, const void *x, const void *y, size_t by) {
    for (int t = 0; t < 4; t++) lb_vec_dot_q2_0c_q8_K_ref(n, s + (size_t)t * bs, x, (const char *)y + (size_t)t * by);
}
#endif
