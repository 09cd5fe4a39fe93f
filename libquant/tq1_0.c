// tq1_0.c: TQ1_0 reference quantizer (ggml's rule), dequantizer, exact packer and dot
// products against Q8_K (scalar, AVX2, AVX-512).
#include "tq1_0.h"
#include <math.h>
#include <string.h>
#include "simd.h"
#include "ternary_rtn.h"
#include "rtn_avx2.h"
#include "cpu_features.h"

static const uint8_t pow3[6] = {1, 3, 9, 27, 81, 243};

// ----------------------------------------------------------------------------
// trits <-> bytes

// k trits (0..2, first = most significant) at c[0], c[stride], ... -> one byte. Byte
// arithmetic wraps exactly like ggml's uint8_t code, so even out-of-range inputs agree.
static uint8_t pack_trits(const uint8_t *c, int stride, int k) {
    uint8_t q = 0;
    for (int n = 0; n < k; n++) q = (uint8_t)(q * 3 + c[n * stride]);
    for (int n = k; n < 5; n++) q = (uint8_t)(q * 3);   // pad to 5 trits with zeros
    // ceil(q * 256 / 243): the top trit then sits in the top bits of the byte
    return (uint8_t)(((uint16_t)q * 256 + (243 - 1)) / 243);
}

static inline int trit_of(uint8_t byte, int n) {   // 0..2
    const uint8_t q = (uint8_t)(byte * pow3[n]);
    return ((uint16_t)q * 3) >> 8;
}

static void put_trits(block_tq1_0 *y, const uint8_t c[256]) {
    for (int m = 0; m < 32; m++) y->qs[m] = pack_trits(c + m, 32, 5);
    for (int m = 0; m < 16; m++) y->qs[32 + m] = pack_trits(c + 160 + m, 16, 5);
    for (int j = 0; j < 4; j++) y->qh[j] = pack_trits(c + 240 + j, 4, 4);
}

static void get_trits(const block_tq1_0 *x, uint8_t c[256]) {
    for (int n = 0; n < 5; n++) {
        for (int m = 0; m < 32; m++) c[32 * n + m] = (uint8_t)trit_of(x->qs[m], n);
        for (int m = 0; m < 16; m++) c[160 + 16 * n + m] = (uint8_t)trit_of(x->qs[32 + m], n);
    }
    for (int n = 0; n < 4; n++)
        for (int j = 0; j < 4; j++) c[240 + 4 * n + j] = (uint8_t)trit_of(x->qh[j], n);
}

void lb_tq1_0_from_float_ref(const float *x, void *vy, int64_t n) {
    block_tq1_0 *y = vy;
    const int64_t nb = n / LB_QK_K;
    for (int64_t b = 0; b < nb; b++, x += LB_QK_K) {
        uint8_t c[256];
        y[b].d = lb_f32_to_fp16(lb_ternary_rtn_block(x, c));
        put_trits(&y[b], c);
    }
}

#if LB_HAVE_X86
// ceil(q*256/243) for q = 0..242 (pack_trits' last step) as (x * 34522) >> 23 with
// x = q*256 + 242: exact for all 243 values of q (checked exhaustively; test_rtn_fast too)
TARGET_AVX2 static inline __m256i trit_bytes_avx2(__m256i q) {
    const __m256i low = _mm256_set1_epi8((char)242), m = _mm256_set1_epi16((short)34522);
    const __m256i lo = _mm256_srli_epi16(_mm256_mulhi_epu16(_mm256_unpacklo_epi8(low, q), m), 7);
    const __m256i hi = _mm256_srli_epi16(_mm256_mulhi_epu16(_mm256_unpackhi_epi8(low, q), m), 7);
    return _mm256_packus_epi16(lo, hi);   // in-lane unpack and pack: byte order is kept
}
TARGET_AVX2 static inline __m128i trit_bytes_sse(__m128i q) {
    const __m128i low = _mm_set1_epi8((char)242), m = _mm_set1_epi16((short)34522);
    const __m128i lo = _mm_srli_epi16(_mm_mulhi_epu16(_mm_unpacklo_epi8(low, q), m), 7);
    const __m128i hi = _mm_srli_epi16(_mm_mulhi_epu16(_mm_unpackhi_epi8(low, q), m), 7);
    return _mm_packus_epi16(lo, hi);
}

// put_trits for codes 0..2 (the fast path's): the base-3 numbers by byte arithmetic
// (q*3 + c <= 242 never wraps), 32 + 16 bytes at a time
TARGET_AVX2 static void put_trits_avx2(block_tq1_0 *y, const uint8_t c[256]) {
    __m256i q = _mm256_loadu_si256((const __m256i *)c);
    for (int n = 1; n < 5; n++)
        q = _mm256_add_epi8(_mm256_add_epi8(q, _mm256_add_epi8(q, q)), _mm256_loadu_si256((const __m256i *)(c + 32 * n)));
    _mm256_storeu_si256((__m256i *)y->qs, trit_bytes_avx2(q));
    __m128i r = _mm_loadu_si128((const __m128i *)(c + 160));
    for (int n = 1; n < 5; n++)
        r = _mm_add_epi8(_mm_add_epi8(r, _mm_add_epi8(r, r)), _mm_loadu_si128((const __m128i *)(c + 160 + 16 * n)));
    _mm_storeu_si128((__m128i *)(y->qs + 32), trit_bytes_sse(r));
    for (int j = 0; j < 4; j++) y->qh[j] = pack_trits(c + 240 + j, 4, 4);
}

TARGET_AVX2 static void tq1_0_from_float_avx2(const float *x, block_tq1_0 *y, int64_t n) {
    const int64_t nb = n / LB_QK_K;
    for (int64_t b = 0; b < nb; b++, x += LB_QK_K) {
        uint8_t c[256];
        float d;
        if (lb_ternary_rtn_block_avx2(x, c, &d)) { lb_tq1_0_from_float_ref(x, &y[b], LB_QK_K); continue; }
        y[b].d = lb_f32_to_fp16(d);
        put_trits_avx2(&y[b], c);
    }
}
#endif

// ggml's rule; the AVX2 path gives the same bytes (rtn_avx2.h says why)
void lb_tq1_0_from_float(const float *x, void *vy, int64_t n) {
#if LB_HAVE_X86
    if (lb_cpu_get_features()->avx2) { tq1_0_from_float_avx2(x, vy, n); return; }
#endif
    lb_tq1_0_from_float_ref(x, vy, n);
}

void lb_tq1_0_to_float(const void *vx, float *y, int64_t n) {
    const block_tq1_0 *x = vx;
    const int64_t nb = n / LB_QK_K;
    for (int64_t b = 0; b < nb; b++) {
        const float d = lb_fp16_to_f32(x[b].d);
        uint8_t c[256];
        get_trits(&x[b], c);
        for (int i = 0; i < LB_QK_K; i++) *y++ = (float)(c[i] - 1) * d;
    }
}

void lb_tq1_0_pack(block_tq1_0 *y, const int8_t t[256], uint16_t d_fp16) {
    uint8_t c[256];
    for (int i = 0; i < 256; i++) c[i] = (uint8_t)((t[i] < -1 ? -1 : t[i] > 1 ? 1 : t[i]) + 1);
    put_trits(y, c);
    y->d = d_fp16;
}

void lb_tq1_0_unpack(const block_tq1_0 *x, int8_t t[256], uint16_t *d_fp16) {
    uint8_t c[256];
    get_trits(x, c);
    for (int i = 0; i < 256; i++) t[i] = (int8_t)(c[i] - 1);
    *d_fp16 = x->d;
}

// ----------------------------------------------------------------------------
// dot products: sum_i (t_i - 1)*q8_i = sum_i t_i*q8_i - sum_j bsums_j. In get_trits order
// the 256 decoded trits line up with q8's 256 codes one to one, which the SIMD kernels use:
// they decode whole registers of trits and multiply them with contiguous q8 loads.

void lb_vec_dot_tq1_0_q8_K_ref(int64_t n, float *s, const void *vx, const void *vy) {
    const block_tq1_0 *x = vx;
    const block_q8_K *y = vy;
    const int64_t nb = n / LB_QK_K;
    float sumf = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        uint8_t c[256];
        get_trits(&x[b], c);
        int sumi = 0;
        for (int i = 0; i < LB_QK_K; i++) sumi += (c[i] - 1) * y[b].qs[i];
        sumf += (float)sumi * (lb_fp16_to_f32(x[b].d) * y[b].d);
    }
    *s = sumf;
}

#if LB_HAVE_X86
// byte-wise multiplies by 3 and 9 (mod 256) from adds and a masked 16-bit shift
TARGET_AVX2 static inline __m256i mul3_epi8(__m256i v) { return _mm256_add_epi8(v, _mm256_add_epi8(v, v)); }
TARGET_AVX2 static inline __m256i mul9_epi8(__m256i v) {
    return _mm256_add_epi8(_mm256_and_si256(_mm256_slli_epi16(v, 3), _mm256_set1_epi8((char)0xF8)), v);
}
// (q * 3) >> 8 per byte without 16-bit widening: with q' = max(q - 1, 0),
// avg(q', avg(q', 0)) = ceil((q' + ceil(q'/2)) / 2) has (3q >> 8) in its top two bits
// (checked for all 256 bytes by test_q_upstream through the scalar comparison)
TARGET_AVX2 static inline __m256i trit_epi8(__m256i q) {
    q = _mm256_subs_epu8(q, _mm256_set1_epi8(1));
    q = _mm256_avg_epu8(q, _mm256_avg_epu8(q, _mm256_setzero_si256()));
    return _mm256_and_si256(_mm256_srli_epi16(q, 6), _mm256_set1_epi8(3));
}

TARGET_AVX2 void lb_vec_dot_tq1_0_q8_K_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    const block_tq1_0 *x = vx;
    const block_q8_K *y = vy;
    const int64_t nb = n / LB_QK_K;
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i hi_lane = _mm256_setr_epi64x(0, 0, -1, -1);
    const __m128i pow3_qh = _mm_setr_epi16(1, 1, 3, 3, 9, 9, 27, 27);   // dword n of qh gets 3^n
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        lb_prefetch_ahead(&x[b]);   // 54-byte blocks: one line per block covers them all
        const int8_t *q8 = y[b].qs;
        // first 32 bytes: trit n of every byte, for n = 0..4
        const __m256i a1 = _mm256_loadu_si256((const __m256i *)x[b].qs);
        const __m256i a3 = mul3_epi8(a1), a9 = mul9_epi8(a1);
        const __m256i a27 = mul9_epi8(a3), a81 = mul9_epi8(a9);
        // next 16 bytes in both lanes: [b, 3b], [9b, 27b], [81b, qh part]
        const __m256i bb = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(x[b].qs + 32)));
        const __m256i b13 = _mm256_add_epi8(bb, _mm256_and_si256(_mm256_add_epi8(bb, bb), hi_lane));
        const __m256i b927 = mul9_epi8(b13);
        // qh: the 4 bytes repeated, dword n times 3^n (16-bit multiplies, low and high bytes apart)
        uint32_t qh;
        memcpy(&qh, x[b].qh, 4);
        const __m128i hx = _mm_set1_epi32((int)qh);
        const __m128i hlo = _mm_and_si128(_mm_mullo_epi16(hx, pow3_qh), _mm_set1_epi16(0x00FF));
        const __m128i hhi = _mm_mullo_epi16(_mm_and_si128(hx, _mm_set1_epi16((short)0xFF00)), pow3_qh);
        const __m256i b81h = _mm256_inserti128_si256(mul9_epi8(b927), _mm_or_si128(hlo, hhi), 1);

        __m256i s16 = _mm256_maddubs_epi16(trit_epi8(a1), _mm256_loadu_si256((const __m256i *)(q8 + 0)));
        s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(trit_epi8(a3), _mm256_loadu_si256((const __m256i *)(q8 + 32))));
        s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(trit_epi8(a9), _mm256_loadu_si256((const __m256i *)(q8 + 64))));
        s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(trit_epi8(a27), _mm256_loadu_si256((const __m256i *)(q8 + 96))));
        __m256i t16 = _mm256_maddubs_epi16(trit_epi8(a81), _mm256_loadu_si256((const __m256i *)(q8 + 128)));
        t16 = _mm256_add_epi16(t16, _mm256_maddubs_epi16(trit_epi8(b13), _mm256_loadu_si256((const __m256i *)(q8 + 160))));
        t16 = _mm256_add_epi16(t16, _mm256_maddubs_epi16(trit_epi8(b927), _mm256_loadu_si256((const __m256i *)(q8 + 192))));
        t16 = _mm256_add_epi16(t16, _mm256_maddubs_epi16(trit_epi8(b81h), _mm256_loadu_si256((const __m256i *)(q8 + 224))));
        // |lane| <= 8 pairs * 2*2*127 + 16*127 bsums: fits int16
        const __m256i bsums = _mm256_loadu_si256((const __m256i *)y[b].bsums);
        const __m256i sumi = _mm256_madd_epi16(_mm256_sub_epi16(_mm256_add_epi16(s16, t16), bsums), ones);
        const __m256 d = _mm256_set1_ps(y[b].d * lb_fp16_hw(x[b].d));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc);
    }
    *s = lb_hsum256(acc);
}

// per-byte multiply by per-16-bit-lane constants m (mod 256): even bytes from a plain
// 16-bit multiply, odd bytes from a multiply of the odd bytes alone
TARGET_AVX512 static inline __m512i mul_epi8_512(__m512i v, __m512i m) {
    const __m512i even = _mm512_mullo_epi16(v, m);
    const __m512i odd = _mm512_mullo_epi16(_mm512_and_si512(v, _mm512_set1_epi16((short)0xFF00)), m);
    return _mm512_mask_blend_epi8(0xAAAAAAAAAAAAAAAAull, even, odd);
}
TARGET_AVX512 static inline __m512i trit_epi8_512(__m512i q) {   // (q*3) >> 8 = (q >= 86) + (q >= 171)
    const __m512i one = _mm512_set1_epi8(1);
    const __m512i t = _mm512_maskz_mov_epi8(_mm512_cmpge_epu8_mask(q, _mm512_set1_epi8(86)), one);
    return _mm512_mask_add_epi8(t, _mm512_cmpge_epu8_mask(q, _mm512_set1_epi8((char)171)), t, one);
}

// The 52 code bytes are loaded once (masked: never past the block) and spread over four
// registers whose bytes, multiplied by the right power of 3, decode to q8 bytes 0..255 in order:
//   r0 = [qs0..31 x1, qs0..31 x3]   r1 = [qs0..31 x9, qs0..31 x27]
//   r2 = [qs0..31 x81, qs32..47 x1, qs32..47 x3]   r3 = [qs32..47 x9, x27, x81, qh x1,3,9,27]
TARGET_AVX512 void lb_vec_dot_tq1_0_q8_K_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    const block_tq1_0 *x = vx;
    const block_q8_K *y = vy;
    const int64_t nb = n / LB_QK_K;
    const __m512i idx01 = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7);
    const __m512i idx2 = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 8, 9, 10, 11);
    const __m512i idx3 = _mm512_setr_epi32(8, 9, 10, 11, 8, 9, 10, 11, 8, 9, 10, 11, 12, 12, 12, 12);
    const __m512i mul0 = _mm512_setr_epi32(0x10001, 0x10001, 0x10001, 0x10001, 0x10001, 0x10001, 0x10001, 0x10001,
                                           0x30003, 0x30003, 0x30003, 0x30003, 0x30003, 0x30003, 0x30003, 0x30003);
    const __m512i mul1 = _mm512_setr_epi32(0x90009, 0x90009, 0x90009, 0x90009, 0x90009, 0x90009, 0x90009, 0x90009,
                                           0x1B001B, 0x1B001B, 0x1B001B, 0x1B001B, 0x1B001B, 0x1B001B, 0x1B001B, 0x1B001B);
    const __m512i mul2 = _mm512_setr_epi32(0x510051, 0x510051, 0x510051, 0x510051, 0x510051, 0x510051, 0x510051, 0x510051,
                                           0x10001, 0x10001, 0x10001, 0x10001, 0x30003, 0x30003, 0x30003, 0x30003);
    const __m512i mul3 = _mm512_setr_epi32(0x90009, 0x90009, 0x90009, 0x90009, 0x1B001B, 0x1B001B, 0x1B001B, 0x1B001B,
                                           0x510051, 0x510051, 0x510051, 0x510051, 0x10001, 0x30003, 0x90009, 0x1B001B);
    const __m512i ones = _mm512_set1_epi16(1);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        lb_prefetch_ahead(&x[b]);
        const __m512i raw = _mm512_maskz_loadu_epi8(0x000FFFFFFFFFFFFFull, x[b].qs);   // 52 bytes: qs + qh
        const __m512i r01 = _mm512_permutexvar_epi32(idx01, raw);
        const __m512i r0 = mul_epi8_512(r01, mul0);
        const __m512i r1 = mul_epi8_512(r01, mul1);
        const __m512i r2 = mul_epi8_512(_mm512_permutexvar_epi32(idx2, raw), mul2);
        const __m512i r3 = mul_epi8_512(_mm512_permutexvar_epi32(idx3, raw), mul3);
        const int8_t *q8 = y[b].qs;
        const __m512i p0 = _mm512_maddubs_epi16(trit_epi8_512(r0), _mm512_loadu_si512((const void *)(q8 + 0)));
        const __m512i p1 = _mm512_maddubs_epi16(trit_epi8_512(r1), _mm512_loadu_si512((const void *)(q8 + 64)));
        const __m512i p2 = _mm512_maddubs_epi16(trit_epi8_512(r2), _mm512_loadu_si512((const void *)(q8 + 128)));
        const __m512i p3 = _mm512_maddubs_epi16(trit_epi8_512(r3), _mm512_loadu_si512((const void *)(q8 + 192)));
        const __m512i bsums = _mm512_maskz_loadu_epi16(0xFFFF, y[b].bsums);
        const __m512i s16 = _mm512_sub_epi16(_mm512_add_epi16(_mm512_add_epi16(p0, p1), _mm512_add_epi16(p2, p3)), bsums);
        const __m512 d = _mm512_set1_ps(y[b].d * lb_fp16_hw(x[b].d));
        if (b & 1) acc1 = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(_mm512_madd_epi16(s16, ones)), acc1);
        else       acc0 = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(_mm512_madd_epi16(s16, ones)), acc0);
    }
    *s = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}
#else
void lb_vec_dot_tq1_0_q8_K_avx2(int64_t n, float *s, const void *x, const void *y) { lb_vec_dot_tq1_0_q8_K_ref(n, s, x, y); }
void lb_vec_dot_tq1_0_q8_K_avx512(int64_t n, float *s, const void *x, const void *y) { lb_vec_dot_tq1_0_q8_K_ref(n, s, x, y); }
#endif
