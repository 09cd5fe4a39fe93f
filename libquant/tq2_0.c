// tq2_0.c: TQ2_0 reference quantizer (ggml's rule), dequantizer, exact packer and dot
// products against Q8_K (scalar, AVX2, AVX-512).
#include "tq2_0.h"
#include <math.h>
#include "simd.h"
#include "ternary_rtn.h"
#include "rtn_avx2.h"
#include "cpu_features.h"

// ----------------------------------------------------------------------------
// codes <-> bytes (one walk shared by the quantizer, the packer and the unpacker)

static void put_codes(block_tq2_0 *y, const uint8_t c[256]) {
    for (int h = 0; h < 2; h++)
        for (int l = 0; l < 32; l++) {
            const uint8_t *ch = c + 128 * h + l;
            y->qs[32 * h + l] = (uint8_t)((ch[0] & 3) | ((ch[32] & 3) << 2) | ((ch[64] & 3) << 4) | ((ch[96] & 3) << 6));
        }
}

static inline int code_of(const block_tq2_0 *x, int i) {
    return (x->qs[32 * (i / 128) + i % 32] >> (2 * ((i % 128) / 32))) & 3;
}

void lb_tq2_0_from_float_ref(const float *x, void *vy, int64_t n) {
    block_tq2_0 *y = vy;
    const int64_t nb = n / LB_QK_K;
    for (int64_t b = 0; b < nb; b++, x += LB_QK_K) {
        uint8_t c[256];
        y[b].d = lb_f32_to_fp16(lb_ternary_rtn_block(x, c));
        put_codes(&y[b], c);
    }
}

#if LB_HAVE_X86
// put_codes for codes 0..2: 2-bit fields never cross a byte, so 16-bit shifts are byte shifts
TARGET_AVX2 static void put_codes_avx2(block_tq2_0 *y, const uint8_t c[256]) {
    for (int h = 0; h < 2; h++) {
        const uint8_t *ch = c + 128 * h;
        __m256i v = _mm256_loadu_si256((const __m256i *)ch);
        v = _mm256_or_si256(v, _mm256_slli_epi16(_mm256_loadu_si256((const __m256i *)(ch + 32)), 2));
        v = _mm256_or_si256(v, _mm256_slli_epi16(_mm256_loadu_si256((const __m256i *)(ch + 64)), 4));
        v = _mm256_or_si256(v, _mm256_slli_epi16(_mm256_loadu_si256((const __m256i *)(ch + 96)), 6));
        _mm256_storeu_si256((__m256i *)(y->qs + 32 * h), v);
    }
}

TARGET_AVX2 static void tq2_0_from_float_avx2(const float *x, block_tq2_0 *y, int64_t n) {
    const int64_t nb = n / LB_QK_K;
    for (int64_t b = 0; b < nb; b++, x += LB_QK_K) {
        uint8_t c[256];
        float d;
        if (lb_ternary_rtn_block_avx2(x, c, &d)) { lb_tq2_0_from_float_ref(x, &y[b], LB_QK_K); continue; }
        y[b].d = lb_f32_to_fp16(d);
        put_codes_avx2(&y[b], c);
    }
}
#endif

// ggml's rule; the AVX2 path gives the same bytes (rtn_avx2.h says why)
void lb_tq2_0_from_float(const float *x, void *vy, int64_t n) {
#if LB_HAVE_X86
    if (lb_cpu_get_features()->avx2) { tq2_0_from_float_avx2(x, vy, n); return; }
#endif
    lb_tq2_0_from_float_ref(x, vy, n);
}

void lb_tq2_0_to_float(const void *vx, float *y, int64_t n) {
    const block_tq2_0 *x = vx;
    const int64_t nb = n / LB_QK_K;
    for (int64_t b = 0; b < nb; b++) {
        const float d = lb_fp16_to_f32(x[b].d);
        for (int i = 0; i < LB_QK_K; i++) *y++ = (float)(code_of(&x[b], i) - 1) * d;
    }
}

void lb_tq2_0_pack(block_tq2_0 *y, const int8_t t[256], uint16_t d_fp16) {
    uint8_t c[256];
    for (int i = 0; i < 256; i++) c[i] = (uint8_t)((t[i] < -1 ? -1 : t[i] > 1 ? 1 : t[i]) + 1);
    put_codes(y, c);
    y->d = d_fp16;
}

void lb_tq2_0_unpack(const block_tq2_0 *x, int8_t t[256], uint16_t *d_fp16) {
    for (int i = 0; i < 256; i++) t[i] = (int8_t)(code_of(x, i) - 1);
    *d_fp16 = x->d;
}

// ----------------------------------------------------------------------------
// dot products: sum_i (c_i - 1)*q8_i = sum_i c_i*q8_i - sum_j bsums_j, so the SIMD kernels
// multiply the unsigned codes (maddubs wants an unsigned operand) and subtract bsums once

void lb_vec_dot_tq2_0_q8_K_ref(int64_t n, float *s, const void *vx, const void *vy) {
    const block_tq2_0 *x = vx;
    const block_q8_K *y = vy;
    const int64_t nb = n / LB_QK_K;
    float sumf = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int sumi = 0;
        for (int i = 0; i < LB_QK_K; i++) sumi += (code_of(&x[b], i) - 1) * y[b].qs[i];
        sumf += (float)sumi * (y[b].d * lb_fp16_to_f32(x[b].d));
    }
    *s = sumf;
}

#if LB_HAVE_X86
// NT activation rows at once (1: decode, 4: prefill): codes unpacked once per block for all
// rows; each row's arithmetic does not depend on NT, so 4-row results are bitwise 1-row's.
TARGET_AVX2 static inline __attribute__((always_inline)) void
tq2_0_dot256(const int NT, int64_t n, float *s, size_t bs, const void *vx, const void *vy, size_t by) {
    const block_tq2_0 *x = vx;
    const int64_t nb = n / LB_QK_K;
    const __m256i m3 = _mm256_set1_epi8(3);
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[4];
    for (int t = 0; t < NT; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        // 66-byte blocks: lines at +0 and +64 of consecutive blocks cover every line
        lb_prefetch_ahead(&x[b]); lb_prefetch_ahead((const char *)&x[b] + 64);
        // int16 partial sums: each lane gets 16 products of at most 3*127, far from overflow
        __m256i s0[4], s1[4];
        for (int t = 0; t < NT; t++) { s0[t] = _mm256_setzero_si256(); s1[t] = _mm256_setzero_si256(); }
        for (int h = 0; h < 2; h++) {
            const __m256i bits = _mm256_loadu_si256((const __m256i *)(x[b].qs + 32 * h));
            const __m256i c0 = _mm256_and_si256(bits, m3);
            const __m256i c1 = _mm256_and_si256(_mm256_srli_epi16(bits, 2), m3);
            const __m256i c2 = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m3);
            const __m256i c3 = _mm256_and_si256(_mm256_srli_epi16(bits, 6), m3);
            for (int t = 0; t < NT; t++) {
                const int8_t *q8 = ((const block_q8_K *)((const char *)vy + (size_t)t * by) + b)->qs + 128 * h;
                s0[t] = _mm256_add_epi16(s0[t], _mm256_maddubs_epi16(c0, _mm256_loadu_si256((const __m256i *)(q8 + 0))));
                s1[t] = _mm256_add_epi16(s1[t], _mm256_maddubs_epi16(c1, _mm256_loadu_si256((const __m256i *)(q8 + 32))));
                s0[t] = _mm256_add_epi16(s0[t], _mm256_maddubs_epi16(c2, _mm256_loadu_si256((const __m256i *)(q8 + 64))));
                s1[t] = _mm256_add_epi16(s1[t], _mm256_maddubs_epi16(c3, _mm256_loadu_si256((const __m256i *)(q8 + 96))));
            }
        }
        const float xd = lb_fp16_hw(x[b].d);
        for (int t = 0; t < NT; t++) {
            const block_q8_K *yb = (const block_q8_K *)((const char *)vy + (size_t)t * by) + b;
            const __m256i bsums = _mm256_loadu_si256((const __m256i *)yb->bsums);
            const __m256i sumi = _mm256_madd_epi16(_mm256_sub_epi16(_mm256_add_epi16(s0[t], s1[t]), bsums), ones);
            const __m256 d = _mm256_set1_ps(yb->d * xd);
            acc[t] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc[t]);
        }
    }
    for (int t = 0; t < NT; t++) s[(size_t)t * bs] = lb_hsum256(acc[t]);
}

// The AVX-512 variant is the same 256-bit algorithm compiled for AVX-512 (EVEX encodings, 32
// vector registers, no spills). Measured against ggml-cpu's own kernel on this machine kind
// (Sapphire Rapids, 512-bit integer multiplies on one port only), a 512-bit version of this
// loop was 10-20% slower than 256-bit vectors; the 256-bit code compiled this way is on par.
TARGET_AVX2 void lb_vec_dot_tq2_0_q8_K_avx2(int64_t n, float *s, const void *vx, const void *vy) { tq2_0_dot256(1, n, s, 0, vx, vy, 0); }
TARGET_AVX512 void lb_vec_dot_tq2_0_q8_K_avx512(int64_t n, float *s, const void *vx, const void *vy) { tq2_0_dot256(1, n, s, 0, vx, vy, 0); }
// 4 rows: only in the AVX-512 build, whose 32 vector registers hold the 4 rows' sums
TARGET_AVX512 void lb_vec_dot4_tq2_0_q8_K_avx512(int64_t n, float *s, size_t bs, const void *vx, const void *vy, size_t by) {
    tq2_0_dot256(4, n, s, bs, vx, vy, by);
}

#else
void lb_vec_dot_tq2_0_q8_K_avx2(int64_t n, float *s, const void *x, const void *y) { lb_vec_dot_tq2_0_q8_K_ref(n, s, x, y); }
void lb_vec_dot_tq2_0_q8_K_avx512(int64_t n, float *s, const void *x, const void *y) { lb_vec_dot_tq2_0_q8_K_ref(n, s, x, y); }
void lb_vec_dot4_tq2_0_q8_K_avx512(int64_t n, float *s, size_t bs, const void *x, const void *y, size_t by) {
    for (int t = 0; t < 4; t++) lb_vec_dot_tq2_0_q8_K_ref(n, s + (size_t)t * bs, x, (const char *)y + (size_t)t * by);
}
#endif
