// stq1_0.c: STQ1_0 codebook, pack/unpack, RTN quantizer, and STQ1_0 x Q8_K dot products
// (scalar, AVX2, AVX-512 VBMI+VNNI). Layout and rounding rules: stq1_0.h, docs/formats.md.
#include "stq1_0.h"
#include "q8_k.h"
#include "cpu_features.h"
#include <math.h>
#include <string.h>
#include "simd.h"

// ----------------------------------------------------------------------------
// codebook

// qpack = CB[16*sign + code]; lane p = ((qpack >> 2p) & 3) - 1. Read as a table, the first
// half (sign 0) is code = 4*z + r: z is the zero lane, the first nonzero lane is +1, and bit 0
// / bit 1 of r make the second / third nonzero lane -1. The second half is the first negated.
// lb_stq1_0_encode_group is that rule run backwards; tests check it against this table.
const uint8_t lb_stq1_0_codebook[32] = {
    0xA9, 0x89, 0x29, 0x09, 0xA6, 0x86, 0x26, 0x06, 0x9A, 0x92, 0x1A, 0x12, 0x6A, 0x62, 0x4A, 0x42,
    0x01, 0x21, 0x81, 0xA1, 0x04, 0x24, 0x84, 0xA4, 0x10, 0x18, 0x90, 0x98, 0x40, 0x48, 0x60, 0x68,
};

int lb_stq1_0_encode_group(const int8_t l[4]) {
    int z = -1, nnz = 0, nz[3];
    for (int p = 0; p < 4; p++) {
        if (l[p] == 0) { if (z >= 0) return -1; z = p; }
        else if (l[p] == 1 || l[p] == -1) { if (nnz == 3) return -1; nz[nnz++] = p; }
        else return -1;
    }
    if (z < 0 || nnz != 3) return -1;
    const int s = l[nz[0]] < 0;   // the sign makes the first nonzero lane +1
    const int r = ((s ? -l[nz[1]] : l[nz[1]]) < 0) | ((s ? -l[nz[2]] : l[nz[2]]) < 0) << 1;
    return 16 * s + 4 * z + r;
}

// weight index of lane p of group g
static inline int group_weight(int g, int p) { return (g / 16) * 64 + (g % 16) + 16 * p; }

// ----------------------------------------------------------------------------
// exact pack / unpack

int lb_stq1_0_pack(block_stq1_0 *y, const int8_t lanes[256], uint16_t d_fp16) {
    memset(y, 0, sizeof *y);
    for (int g = 0; g < 64; g++) {
        int8_t l[4];
        for (int p = 0; p < 4; p++) l[p] = lanes[group_weight(g, p)];
        const int idx = lb_stq1_0_encode_group(l);
        if (idx < 0) return -1;
        y->qs[g / 2] |= (uint8_t)((idx & 15) << (4 * (g % 2)));
        y->sign[g / 8] |= (uint8_t)((idx >> 4) << (g % 8));
    }
    y->d = d_fp16;
    return 0;
}

void lb_stq1_0_unpack(const block_stq1_0 *x, int8_t lanes[256], uint16_t *d_fp16) {
    for (int g = 0; g < 64; g++) {
        const int code = (x->qs[g / 2] >> (4 * (g % 2))) & 15, s = (x->sign[g / 8] >> (g % 8)) & 1;
        const uint8_t q = lb_stq1_0_codebook[16 * s + code];
        for (int p = 0; p < 4; p++) lanes[group_weight(g, p)] = (int8_t)(((q >> (2 * p)) & 3) - 1);
    }
    *d_fp16 = x->d;
}

// ----------------------------------------------------------------------------
// dequantize / RTN quantize

void lb_stq1_0_to_float(const void *vx, float *y, int64_t n) {
    const block_stq1_0 *x = vx;
    const int64_t nb = n / LB_QKSTQ;
    int8_t lanes[LB_QKSTQ];
    uint16_t dh;
    for (int64_t b = 0; b < nb; b++) {
        lb_stq1_0_unpack(&x[b], lanes, &dh);
        const float d = lb_fp16_to_f32(dh);
        for (int i = 0; i < LB_QKSTQ; i++) y[b * LB_QKSTQ + i] = (float)lanes[i] * d;   // exact: lane is -1/0/1
    }
}

void lb_stq1_0_from_float(const float *x, void *vy, int64_t n) {
    block_stq1_0 *y = vy;
    const int64_t nb = n / LB_QKSTQ;
    int8_t lanes[LB_QKSTQ];
    for (int64_t b = 0; b < nb; b++) {
        const float *xb = x + b * LB_QKSTQ;
        double kept = 0.0;   // double: the mean of an on-grid block (192 copies of alpha) is exact
        for (int g = 0; g < 64; g++) {
            float mag[4];
            int zp = 0;
            for (int p = 0; p < 4; p++) {
                const float v = xb[group_weight(g, p)];
                mag[p] = v == v ? fabsf(v) : 0.0f;
                if (mag[p] < mag[zp]) zp = p;   // strict: the lowest lane wins ties
            }
            for (int p = 0; p < 4; p++) {
                const int w = group_weight(g, p);
                if (p == zp) { lanes[w] = 0; continue; }
                lanes[w] = xb[w] < 0.0f ? -1 : 1;
                kept += mag[p];
            }
        }
        double d = kept / 192.0;
        if (!(d <= 65504.0)) d = 65504.0;   // also catches inf
        lb_stq1_0_pack(&y[b], lanes, lb_f32_to_fp16((float)d));   // cannot fail: one 0 per group
    }
}

// ----------------------------------------------------------------------------
// dot products with Q8_K activations

void lb_vec_dot_stq1_0_q8_K_ref(int64_t n, float *s, const void *vx, const void *vy) {
    const block_stq1_0 *x = vx;
    const block_q8_K *y = vy;
    const int64_t nb = n / LB_QKSTQ;
    int8_t lanes[LB_QKSTQ];
    uint16_t dh;
    double sum = 0.0;
    for (int64_t b = 0; b < nb; b++) {
        lb_stq1_0_unpack(&x[b], lanes, &dh);
        int isum = 0;
        for (int i = 0; i < LB_QKSTQ; i++) isum += lanes[i] * y[b].qs[i];
        sum += (double)lb_fp16_to_f32(dh) * (double)y[b].d * (double)isum;
    }
    *s = (float)sum;
}

// ----------------------------------------------------------------------------
// the Kp activation order of the AVX-512 kernel (see there)

// the activation index that Kp byte 64p + i holds (i < 64, p < 4): lane p of group g(i), i.e.
// weight (g/16)*64 + g%16 + 16p with g(i) = 2i for i < 32, 2(i-32)+1 after. test_q_native
// checks the Kp kernel against the reference through this table, so a wrong entry fails there.
static const uint8_t kp_table[256] = {
    0, 2, 4, 6, 8, 10, 12, 14, 64, 66, 68, 70, 72, 74, 76, 78, 128, 130, 132, 134, 136, 138, 140, 142, 192, 194, 196, 198, 200, 202, 204, 206,
    1, 3, 5, 7, 9, 11, 13, 15, 65, 67, 69, 71, 73, 75, 77, 79, 129, 131, 133, 135, 137, 139, 141, 143, 193, 195, 197, 199, 201, 203, 205, 207,
    16, 18, 20, 22, 24, 26, 28, 30, 80, 82, 84, 86, 88, 90, 92, 94, 144, 146, 148, 150, 152, 154, 156, 158, 208, 210, 212, 214, 216, 218, 220, 222,
    17, 19, 21, 23, 25, 27, 29, 31, 81, 83, 85, 87, 89, 91, 93, 95, 145, 147, 149, 151, 153, 155, 157, 159, 209, 211, 213, 215, 217, 219, 221, 223,
    32, 34, 36, 38, 40, 42, 44, 46, 96, 98, 100, 102, 104, 106, 108, 110, 160, 162, 164, 166, 168, 170, 172, 174, 224, 226, 228, 230, 232, 234, 236, 238,
    33, 35, 37, 39, 41, 43, 45, 47, 97, 99, 101, 103, 105, 107, 109, 111, 161, 163, 165, 167, 169, 171, 173, 175, 225, 227, 229, 231, 233, 235, 237, 239,
    48, 50, 52, 54, 56, 58, 60, 62, 112, 114, 116, 118, 120, 122, 124, 126, 176, 178, 180, 182, 184, 186, 188, 190, 240, 242, 244, 246, 248, 250, 252, 254,
    49, 51, 53, 55, 57, 59, 61, 63, 113, 115, 117, 119, 121, 123, 125, 127, 177, 179, 181, 183, 185, 187, 189, 191, 241, 243, 245, 247, 249, 251, 253, 255,
};

#if LB_HAVE_X86
// 64 output bytes from the 256-byte block: two 128-byte vpermi2b lookups on the index's low 7
// bits, the index's bit 7 picks which (runs once per activation block, per matmul)
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static void permute_q8_K_vbmi(block_q8_K *y, int64_t nb) {
    for (int64_t b = 0; b < nb; b++) {
        const __m512i s0 = _mm512_loadu_si512(y[b].qs), s1 = _mm512_loadu_si512(y[b].qs + 64);
        const __m512i s2 = _mm512_loadu_si512(y[b].qs + 128), s3 = _mm512_loadu_si512(y[b].qs + 192);
        for (int p = 0; p < 4; p++) {
            const __m512i idx = _mm512_loadu_si512(kp_table + 64 * p);
            const __m512i lo = _mm512_permutex2var_epi8(s0, idx, s1), hi = _mm512_permutex2var_epi8(s2, idx, s3);
            _mm512_storeu_si512(y[b].qs + 64 * p, _mm512_mask_blend_epi8(_mm512_movepi8_mask(idx), lo, hi));
        }
    }
}
#endif

void lb_stq1_0_permute_q8_K(void *vy, int64_t nb) {
    block_q8_K *y = vy;
#if LB_HAVE_X86
    if (lb_cpu_get_features()->avx512vbmi_vnni) { permute_q8_K_vbmi(y, nb); return; }
#endif
    for (int64_t b = 0; b < nb; b++) {
        int8_t plain[LB_QK_K];
        memcpy(plain, y[b].qs, sizeof plain);
        for (int i = 0; i < LB_QK_K; i++) y[b].qs[i] = plain[kp_table[i]];
    }
}

void lb_stq1_0_act_from_float(const float *x, void *y, int64_t n) {
    lb_q8_K_from_float(x, y, n);
    lb_stq1_0_permute_q8_K(y, n / LB_QK_K);
}

#if LB_HAVE_X86
// Lane tables for sign 0, one 16-entry table per lane p (pshufb looks up within 128-bit
// lanes, and a 64-weight chunk is exactly 4 slices of 16 weights, slice p = lane p).
// Derived from lb_stq1_0_codebook[0..15]: L_p[code] = ((CB[code] >> 2p) & 3) - 1.
static const int8_t lane_tab[4][16] = {
    { 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 },
    { 1, 1, 1, 1, 0, 0, 0, 0, 1, -1, 1, -1, 1, -1, 1, -1 },
    { 1, -1, 1, -1, 1, -1, 1, -1, 0, 0, 0, 0, 1, 1, -1, -1 },
    { 1, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1, 0, 0, 0, 0 },
};

// AVX2: per 64-weight chunk, 16 codes -> 16 bytes, broadcast to both 128-bit lanes, looked up
// in the lane tables (lanes 0/1 in one register, 2/3 in the other); the group signs become a
// +-1 byte mask. _mm256_sign_epi8 applies w in {-1,0,1} and the sign to the activations, so
// only a byte sum remains (maddubs with ones).
TARGET_AVX2 void lb_vec_dot_stq1_0_q8_K_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    const block_stq1_0 *x = vx;
    const block_q8_K *y = vy;
    const int64_t nb = n / LB_QKSTQ;
    const __m256i t01 = _mm256_loadu2_m128i((const __m128i *)lane_tab[1], (const __m128i *)lane_tab[0]);
    const __m256i t23 = _mm256_loadu2_m128i((const __m128i *)lane_tab[3], (const __m128i *)lane_tab[2]);
    const __m128i m4 = _mm_set1_epi8(0x0F);
    const __m256i pick = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                          0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m256i bit = _mm256_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128,
                                         1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
    const __m256i one8 = _mm256_set1_epi8(1);
    const __m256i one16 = _mm256_set1_epi16(1);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        lb_prefetch_ahead(&x[b]);   // 42-byte blocks: one line per block covers them all
        __m256i s16 = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            const __m128i q = _mm_loadl_epi64((const __m128i *)(x[b].qs + 8 * c));
            const __m128i nib = _mm_unpacklo_epi8(_mm_and_si128(q, m4), _mm_and_si128(_mm_srli_epi16(q, 4), m4));
            const __m256i idx = _mm256_broadcastsi128_si256(nib);
            const __m256i w01 = _mm256_shuffle_epi8(t01, idx), w23 = _mm256_shuffle_epi8(t23, idx);
            uint16_t sg;
            memcpy(&sg, x[b].sign + 2 * c, 2);
            const __m256i sb = _mm256_shuffle_epi8(_mm256_set1_epi16((short)sg), pick);
            const __m256i sgn = _mm256_or_si256(_mm256_cmpeq_epi8(_mm256_and_si256(sb, bit), bit), one8);   // -1 / +1
            const __m256i a01 = _mm256_loadu_si256((const __m256i *)(y[b].qs + 64 * c));
            const __m256i a23 = _mm256_loadu_si256((const __m256i *)(y[b].qs + 64 * c + 32));
            const __m256i p01 = _mm256_sign_epi8(a01, _mm256_sign_epi8(w01, sgn));
            const __m256i p23 = _mm256_sign_epi8(a23, _mm256_sign_epi8(w23, sgn));
            // |product| <= 127, 16 products per int16 lane per block: <= 2032
            s16 = _mm256_add_epi16(s16, _mm256_add_epi16(_mm256_maddubs_epi16(one8, p01), _mm256_maddubs_epi16(one8, p23)));
        }
        const __m256 d = _mm256_set1_ps(lb_fp16_hw(x[b].d) * y[b].d);
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(_mm256_madd_epi16(s16, one16)), acc);
    }
    *s = lb_hsum256(acc);
}

// AVX-512 on activations in the "Kp" order (lb_stq1_0_permute_q8_K). A block's 32 code bytes
// are loaded once into both 256-bit halves; the low half keeps its low nibbles and the high
// half its high nibbles (one vpsrlvw by 0 / 4, one and), so byte i holds the code of group
// g(i) = 2i (i < 32) or 2(i-32)+1 (i >= 32): 64 groups, one per byte. pshufb with lane p's table
// turns that into u = lane p + 1 (unsigned, as vpdpbusd wants) for all 64 groups, and the
// block's 64 sign bits, reordered the same way (even bits, then odd: two pext), are ONE byte
// mask for all four lanes: sign-1 groups take 2 - u. Activation byte 64p + i is the one lane p
// of group g(i) multiplies, so 4 vpdpbusd finish the block; the +1 bias is paid back with
// bsums (sum u*a - sum a; bsums keep the plain order, only their total is used). Per 64
// weights: 1 pshufb + 1/4 kmov on port 5, where unpacking in weight order took a broadcast,
// a multishift, a pshufb and a kmov (measured 38 -> see lb_stq1_0_permute_q8_K's callers).
// NT activation rows at once (1: decode, 4: prefill) share the unpacking; each row's
// arithmetic does not depend on NT, so the results are bitwise equal.

#define TARGET_STQ_KP __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi,avx512vnni,bmi2")))

TARGET_STQ_KP static inline __attribute__((always_inline)) void
stq1_0_dot_kp_avx512(const int NT, int64_t n, float *s, size_t bs, const void *vx, const void *vy, size_t by) {
    const block_stq1_0 *x = vx;
    const int64_t nb = n / LB_QKSTQ;
    __m512i tab[4];   // lane p's table (u = lane + 1) in all four 128-bit lanes
    for (int p = 0; p < 4; p++)
        tab[p] = _mm512_add_epi8(_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)lane_tab[p])), _mm512_set1_epi8(1));
    const __m512i m4 = _mm512_set1_epi8(0x0F), two = _mm512_set1_epi8(2);
    const __m512i nib_shift = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
    const __m256i mone = _mm256_set1_epi16(-1);
    __m512 acc0[4], acc1[4];
    for (int t = 0; t < NT; t++) { acc0[t] = _mm512_setzero_ps(); acc1[t] = _mm512_setzero_ps(); }
    for (int64_t b = 0; b < nb; b++) {
        lb_prefetch_ahead(&x[b]);   // 42-byte blocks: one line per block covers them all
        uint64_t sg;
        memcpy(&sg, x[b].sign, 8);
        const __mmask64 k = _cvtu64_mask64(_pext_u64(sg, 0x5555555555555555ull) | _pext_u64(sg, 0xAAAAAAAAAAAAAAAAull) << 32);
        const __m512i q = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)x[b].qs));
        const __m512i nib = _mm512_and_si512(_mm512_srlv_epi16(q, nib_shift), m4);
        __m512i acc[4];
        for (int t = 0; t < NT; t++) {
            const block_q8_K *yb = (const block_q8_K *)((const char *)vy + (size_t)t * by) + b;
            acc[t] = _mm512_zextsi256_si512(_mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)yb->bsums), mone));
        }
        for (int p = 0; p < 4; p++) {
            const __m512i u0 = _mm512_shuffle_epi8(tab[p], nib);
            const __m512i u = _mm512_mask_sub_epi8(u0, k, two, u0);
            for (int t = 0; t < NT; t++) {
                const block_q8_K *yb = (const block_q8_K *)((const char *)vy + (size_t)t * by) + b;
                acc[t] = _mm512_dpbusd_epi32(acc[t], u, _mm512_loadu_si512(yb->qs + 64 * p));
            }
        }
        const float dx = lb_fp16_hw(x[b].d);
        for (int t = 0; t < NT; t++) {
            const block_q8_K *yb = (const block_q8_K *)((const char *)vy + (size_t)t * by) + b;
            const __m512 d = _mm512_set1_ps(dx * yb->d);
            if (b & 1) acc1[t] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(acc[t]), acc1[t]);
            else       acc0[t] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(acc[t]), acc0[t]);
        }
    }
    for (int t = 0; t < NT; t++) s[(size_t)t * bs] = _mm512_reduce_add_ps(_mm512_add_ps(acc0[t], acc1[t]));
}

TARGET_STQ_KP void lb_vec_dot_stq1_0_q8_Kp_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    stq1_0_dot_kp_avx512(1, n, s, 0, vx, vy, 0);
}

TARGET_STQ_KP void lb_vec_dot4_stq1_0_q8_Kp_avx512(int64_t n, float *s, size_t bs, const void *vx, const void *vy, size_t by) {
    stq1_0_dot_kp_avx512(4, n, s, bs, vx, vy, by);
}
#else
void lb_vec_dot_stq1_0_q8_K_avx2(int64_t n, float *s, const void *x, const void *y) { lb_vec_dot_stq1_0_q8_K_ref(n, s, x, y); }
// never registered without x86 (the type table checks the CPU); defined for the linker only:
// undo the permutation block by block and use the reference
static float dot_kp_fallback(int64_t n, const void *vx, const void *vy) {
    const block_stq1_0 *x = vx;
    const block_q8_K *y = vy;
    double sum = 0.0;
    for (int64_t b = 0; b < n / LB_QKSTQ; b++) {
        block_q8_K plain = y[b];
        for (int p = 0; p < 4; p++)
            for (int i = 0; i < 64; i++) plain.qs[kp_table[64 * p + i]] = y[b].qs[64 * p + i];
        float r;
        lb_vec_dot_stq1_0_q8_K_ref(LB_QKSTQ, &r, &x[b], &plain);
        sum += r;
    }
    return (float)sum;
}
void lb_vec_dot_stq1_0_q8_Kp_avx512(int64_t n, float *s, const void *x, const void *y) { *s = dot_kp_fallback(n, x, y); }
void lb_vec_dot4_stq1_0_q8_Kp_avx512(int64_t n, float *s, size_t bs, const void *x, const void *y, size_t by) {
    for (int t = 0; t < 4; t++) s[(size_t)t * bs] = dot_kp_fallback(n, x, (const char *)y + (size_t)t * by);
}
#endif
