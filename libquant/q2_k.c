// q2_k.c: Q2_K reference quantizer (ggml's rule, bit-exact), dequantizer, exact packer and
// dot products against Q8_K (scalar, AVX2, AVX-512).
#include "q2_k.h"
#include "cpu_features.h"
#include <math.h>
#include <string.h>
#include "simd.h"

// The reference quantizer must round exactly like ggml's (compiled without FMA): a fused
// multiply-add would change the last bit of an error sum and with it a chosen scale. The
// library is built for baseline x86-64 (no FMA outside target() functions), so GCC cannot
// contract here; clang is told explicitly. test_q_upstream checks against ggml itself.
#if defined(__clang__)
#pragma clang fp contract(off)
#endif

// ----------------------------------------------------------------------------
// reference quantizer

// ggml's make_qkx2_quants: codes L (0..nmax) and an affine grid scale*L - the_min for n
// values, searching nstep+1 candidate scales around nmax/(max-min) and keeping the one with
// the lowest weighted error (a least-squares fit of scale and min for each candidate's codes).
// The float expressions follow ggml's order term for term: any reordering changes results.
static float make_qkx2_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L, float *the_min,
                              uint8_t *Laux, float rmin, float rdelta, int nstep, int use_mad) {
    float min = x[0], max = x[0];
    float sum_w = weights[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        const float w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        for (int i = 0; i < n; i++) L[i] = 0;
        *the_min = -min;
        return 0.0f;
    }
    float iscale = (float)nmax / (max - min);
    float scale = 1 / iscale;
    float best_error = 0;
    for (int i = 0; i < n; i++) {
        int l = lb_nearest_int(iscale * (x[i] - min));
        L[i] = (uint8_t)(l < 0 ? 0 : l > nmax ? nmax : l);
        float diff = scale * (float)L[i] + min - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        best_error += weights[i] * diff;
    }
    if (nstep < 1) {
        *the_min = -min;
        return scale;
    }
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * (float)is + (float)nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            int l = lb_nearest_int(iscale * (x[i] - min));
            l = l < 0 ? 0 : l > nmax ? nmax : l;
            Laux[i] = (uint8_t)l;
            const float w = weights[i];
            sum_l += w * (float)l;
            sum_l2 += w * (float)l * (float)l;
            sum_xl += w * (float)l * x[i];
        }
        const float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float cur_error = 0;
            for (int i = 0; i < n; i++) {
                float diff = this_scale * (float)Laux[i] + this_min - x[i];
                diff = use_mad ? fabsf(diff) : diff * diff;
                cur_error += weights[i] * diff;
            }
            if (cur_error < best_error) {
                memcpy(L, Laux, (size_t)n);
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

// Second half of ggml's quantize_row_q2_K_ref, given each sub-block's make_qkx2_quants result:
// 4-bit scales and mins relative to the largest of each, codes re-rounded against the scale
// and min actually stored (fp16 x 4 bits), packing. noinline: it must never be compiled
// inside the AVX-512 caller, where GCC could fuse its multiplies and adds into FMAs.
__attribute__((noinline)) static void q2_K_finish(const float *x, block_q2_K *y, const float scales[16],
                                                 const float mins[16], uint8_t L[256]) {
    const float q4scale = 15.0f;
    float max_scale = 0, max_min = 0;   // mins are subtracted, so scales are >= 0
    for (int j = 0; j < 16; j++) {
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    // (uint8_t/unsigned casts: ggml stores the int as is; same bits without signed-shift UB)
    if (max_scale > 0) {
        const float iscale = q4scale / max_scale;
        for (int j = 0; j < 16; j++) y->scales[j] = (uint8_t)lb_nearest_int(iscale * scales[j]);
        y->d = lb_f32_to_fp16(max_scale / q4scale);
    } else {
        memset(y->scales, 0, sizeof y->scales);
        y->d = lb_f32_to_fp16(0.0f);
    }
    if (max_min > 0) {
        const float iscale = q4scale / max_min;
        for (int j = 0; j < 16; j++) y->scales[j] |= (uint8_t)((unsigned)lb_nearest_int(iscale * mins[j]) << 4);
        y->dmin = lb_f32_to_fp16(max_min / q4scale);
    } else {
        y->dmin = lb_f32_to_fp16(0.0f);
    }
    for (int j = 0; j < 16; j++) {
        const float d = lb_fp16_to_f32(y->d) * (float)(y->scales[j] & 0xF);
        if (!d) continue;   // keeps make_qkx2_quants' codes, as ggml does
        const float dm = lb_fp16_to_f32(y->dmin) * (float)(y->scales[j] >> 4);
        for (int i = 0; i < 16; i++) {
            const int l = lb_nearest_int((x[16 * j + i] + dm) / d);
            L[16 * j + i] = (uint8_t)(l < 0 ? 0 : l > 3 ? 3 : l);
        }
    }
    for (int h = 0; h < 2; h++)
        for (int l = 0; l < 32; l++) {
            const uint8_t *Lh = L + 128 * h + l;
            y->qs[32 * h + l] = (uint8_t)(Lh[0] | (Lh[32] << 2) | (Lh[64] << 4) | (Lh[96] << 6));
        }
}

static void q2_K_quantize_block_ref(const float *x, block_q2_K *y) {
    uint8_t L[LB_QK_K], Laux[16];
    float weights[16], mins[16], scales[16];
    for (int j = 0; j < 16; j++) {
        for (int l = 0; l < 16; l++) weights[l] = fabsf(x[16 * j + l]);
        scales[j] = make_qkx2_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f, 0.1f, 15, 1);
    }
    q2_K_finish(x, y, scales, mins, L);
}

#if LB_HAVE_X86
// make_qkx2_quants for all 16 sub-blocks of a block at once: lane j of every register is
// sub-block j, and each lane performs exactly the scalar operations in the scalar order (the
// sums run over i = 0..15 inside a lane, never across lanes), so the results are bit-identical.
// Arithmetic goes through the *_round_ps intrinsics with _MM_FROUND_CUR_DIRECTION: plain
// rounding like _mm512_mul_ps, but opaque builtins that GCC cannot contract into FMAs.
#define VMUL(a, b) _mm512_mul_round_ps(a, b, _MM_FROUND_CUR_DIRECTION)
#define VADD(a, b) _mm512_add_round_ps(a, b, _MM_FROUND_CUR_DIRECTION)
#define VSUB(a, b) _mm512_sub_round_ps(a, b, _MM_FROUND_CUR_DIRECTION)
#define VDIV(a, b) _mm512_div_round_ps(a, b, _MM_FROUND_CUR_DIRECTION)

TARGET_AVX512 static inline __m512i nearest_int_512(__m512 f) {   // lb_nearest_int per lane
    const __m512i i = _mm512_castps_si512(VADD(f, _mm512_set1_ps(12582912.0f)));
    return _mm512_sub_epi32(_mm512_and_si512(i, _mm512_set1_epi32(0x007fffff)), _mm512_set1_epi32(0x00400000));
}
TARGET_AVX512 static inline __m512i clamp03(__m512i l) {
    return _mm512_max_epi32(_mm512_setzero_si512(), _mm512_min_epi32(_mm512_set1_epi32(3), l));
}

TARGET_AVX512 static void q2_K_quantize_block_avx512(const float *x, block_q2_K *y) {
    const __m512i idx = _mm512_setr_epi32(0, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240);
    const __m512 zero = _mm512_setzero_ps(), nmax = _mm512_set1_ps(3.0f);
    __m512 X[16], W[16];
    __m512i Lb[16];   // best codes so far, per weight i of every sub-block
    __m512 vmin = _mm512_i32gather_ps(idx, x, 4), vmax = vmin;
    X[0] = vmin;
    W[0] = _mm512_abs_ps(X[0]);
    __m512 sum_w = W[0], sum_x = VMUL(W[0], X[0]);
    for (int i = 1; i < 16; i++) {
        X[i] = _mm512_i32gather_ps(idx, x + i, 4);
        W[i] = _mm512_abs_ps(X[i]);
        vmin = _mm512_mask_mov_ps(vmin, _mm512_cmp_ps_mask(X[i], vmin, _CMP_LT_OQ), X[i]);   // if (x < min) min = x
        vmax = _mm512_mask_mov_ps(vmax, _mm512_cmp_ps_mask(X[i], vmax, _CMP_GT_OQ), X[i]);   // if (x > max) max = x
        sum_w = VADD(sum_w, W[i]);
        sum_x = VADD(sum_x, VMUL(W[i], X[i]));
    }
    vmin = _mm512_mask_mov_ps(vmin, _mm512_cmp_ps_mask(vmin, zero, _CMP_GT_OQ), zero);   // if (min > 0) min = 0
    const __mmask16 flat = _mm512_cmp_ps_mask(vmax, vmin, _CMP_EQ_OQ);                     // max == min: all codes 0
    __m512 iscale = VDIV(nmax, VSUB(vmax, vmin));
    __m512 scale = VDIV(_mm512_set1_ps(1.0f), iscale);
    __m512 best_error = zero;
    for (int i = 0; i < 16; i++) {
        Lb[i] = clamp03(nearest_int_512(VMUL(iscale, VSUB(X[i], vmin))));
        const __m512 diff = _mm512_abs_ps(VSUB(VADD(VMUL(scale, _mm512_cvtepi32_ps(Lb[i])), vmin), X[i]));
        best_error = VADD(best_error, VMUL(W[i], diff));
    }
    for (int is = 0; is <= 15; is++) {
        // (rmin + rdelta*is + nmax), rounded step by step as the scalar code does
        const __m512 num = VADD(VADD(_mm512_set1_ps(-0.5f), VMUL(_mm512_set1_ps(0.1f), _mm512_set1_ps((float)is))), nmax);
        iscale = VDIV(num, VSUB(vmax, vmin));   // min is the best candidate's so far, as in ggml
        __m512 sum_l = zero, sum_l2 = zero, sum_xl = zero;
        __m512i La[16];
        __m512 Lf[16];
        for (int i = 0; i < 16; i++) {
            La[i] = clamp03(nearest_int_512(VMUL(iscale, VSUB(X[i], vmin))));
            Lf[i] = _mm512_cvtepi32_ps(La[i]);
            const __m512 wl = VMUL(W[i], Lf[i]);
            sum_l = VADD(sum_l, wl);
            sum_l2 = VADD(sum_l2, VMUL(wl, Lf[i]));
            sum_xl = VADD(sum_xl, VMUL(wl, X[i]));
        }
        const __m512 D = VSUB(VMUL(sum_w, sum_l2), VMUL(sum_l, sum_l));
        const __mmask16 ok = _mm512_cmp_ps_mask(D, zero, _CMP_GT_OQ) & (__mmask16)~flat;   // flat lanes returned early
        if (!ok) continue;
        __m512 this_scale = VDIV(VSUB(VMUL(sum_w, sum_xl), VMUL(sum_x, sum_l)), D);
        __m512 this_min = VDIV(VSUB(VMUL(sum_l2, sum_x), VMUL(sum_l, sum_xl)), D);
        const __mmask16 pos = _mm512_cmp_ps_mask(this_min, zero, _CMP_GT_OQ);
        this_min = _mm512_mask_mov_ps(this_min, pos, zero);
        this_scale = _mm512_mask_mov_ps(this_scale, pos, VDIV(sum_xl, sum_l2));
        __m512 cur_error = zero;
        for (int i = 0; i < 16; i++) {
            const __m512 diff = _mm512_abs_ps(VSUB(VADD(VMUL(this_scale, Lf[i]), this_min), X[i]));
            cur_error = VADD(cur_error, VMUL(W[i], diff));
        }
        const __mmask16 better = ok & _mm512_cmp_ps_mask(cur_error, best_error, _CMP_LT_OQ);
        for (int i = 0; i < 16; i++) Lb[i] = _mm512_mask_mov_epi32(Lb[i], better, La[i]);
        best_error = _mm512_mask_mov_ps(best_error, better, cur_error);
        scale = _mm512_mask_mov_ps(scale, better, this_scale);
        vmin = _mm512_mask_mov_ps(vmin, better, this_min);
    }
    // flat sub-blocks: codes 0, scale 0, the_min = -min (never updated by the search above)
    scale = _mm512_mask_mov_ps(scale, flat, zero);
    float scales[16], mins[16];
    _mm512_storeu_ps(scales, scale);
    _mm512_storeu_ps(mins, _mm512_xor_ps(vmin, _mm512_set1_ps(-0.0f)));   // -min, sign of zero included
    int32_t Lt[16][16];
    for (int i = 0; i < 16; i++) _mm512_storeu_si512((void *)Lt[i], _mm512_maskz_mov_epi32((__mmask16)~flat, Lb[i]));
    uint8_t L[LB_QK_K];
    for (int j = 0; j < 16; j++)
        for (int i = 0; i < 16; i++) L[16 * j + i] = (uint8_t)Lt[i][j];
    q2_K_finish(x, y, scales, mins, L);
}
#undef VMUL
#undef VADD
#undef VSUB
#undef VDIV
#endif

void lb_q2_K_from_float(const float *x, void *vy, int64_t n) {
    block_q2_K *y = vy;
    const int64_t nb = n / LB_QK_K;
#if LB_HAVE_X86
    if (lb_cpu_get_features()->avx512) {
        for (int64_t b = 0; b < nb; b++) q2_K_quantize_block_avx512(x + b * LB_QK_K, &y[b]);
        return;
    }
#endif
    for (int64_t b = 0; b < nb; b++) q2_K_quantize_block_ref(x + b * LB_QK_K, &y[b]);
}

// ----------------------------------------------------------------------------
// dequantize, exact pack / unpack

void lb_q2_K_to_float(const void *vx, float *y, int64_t n) {
    const block_q2_K *x = vx;
    const int64_t nb = n / LB_QK_K;
    for (int64_t b = 0; b < nb; b++) {
        const float d = lb_fp16_to_f32(x[b].d), dmin = lb_fp16_to_f32(x[b].dmin);
        for (int h = 0; h < 2; h++) {
            const uint8_t *q = x[b].qs + 32 * h;
            for (int s = 0; s < 4; s++) {
                for (int half = 0; half < 2; half++) {   // two sub-blocks of 16 share these bytes
                    const uint8_t sc = x[b].scales[8 * h + 2 * s + half];
                    // exactly ggml's expression: (d*sc)*code - (dmin*mn), each product rounded
                    const float dl = d * (float)(sc & 0xF), ml = dmin * (float)(sc >> 4);
                    for (int l = 0; l < 16; l++) *y++ = dl * (float)((q[16 * half + l] >> (2 * s)) & 3) - ml;
                }
            }
        }
    }
}

void lb_q2_K_pack(block_q2_K *y, const uint8_t codes[256], const uint8_t sc[16], const uint8_t mn[16],
                  uint16_t d_fp16, uint16_t dmin_fp16) {
    for (int j = 0; j < 16; j++) y->scales[j] = (uint8_t)((sc[j] & 0xF) | ((mn[j] & 0xF) << 4));
    for (int h = 0; h < 2; h++)
        for (int l = 0; l < 32; l++) {
            const uint8_t *c = codes + 128 * h + l;
            y->qs[32 * h + l] = (uint8_t)((c[0] & 3) | ((c[32] & 3) << 2) | ((c[64] & 3) << 4) | ((c[96] & 3) << 6));
        }
    y->d = d_fp16;
    y->dmin = dmin_fp16;
}

void lb_q2_K_unpack(const block_q2_K *x, uint8_t codes[256], uint8_t sc[16], uint8_t mn[16], uint16_t *d_fp16,
                    uint16_t *dmin_fp16) {
    for (int j = 0; j < 16; j++) { sc[j] = x->scales[j] & 0xF; mn[j] = x->scales[j] >> 4; }
    for (int i = 0; i < 256; i++) {
        const int h = i / 128, s = (i % 128) / 32, l = i % 32;
        codes[i] = (x->qs[32 * h + l] >> (2 * s)) & 3;
    }
    *d_fp16 = x->d;
    *dmin_fp16 = x->dmin;
}

// ----------------------------------------------------------------------------
// dot products: sum_i (d*sc*code_i - dmin*mn) * yd*q8_i
//             = yd*d * sum_j sc_j * (sum_{i in j} code_i*q8_i) - yd*dmin * sum_j mn_j * bsums_j

void lb_vec_dot_q2_K_q8_K_ref(int64_t n, float *s, const void *vx, const void *vy) {
    const block_q2_K *x = vx;
    const block_q8_K *y = vy;
    const int64_t nb = n / LB_QK_K;
    float sumf = 0;
    for (int64_t b = 0; b < nb; b++) {
        int summs = 0;
        for (int j = 0; j < 16; j++) summs += y[b].bsums[j] * (x[b].scales[j] >> 4);
        int isum = 0;
        for (int i = 0; i < LB_QK_K; i++) {
            const int h = i / 128, sh = (i % 128) / 32, l = i % 32;
            const int code = (x[b].qs[32 * h + l] >> (2 * sh)) & 3;
            isum += (x[b].scales[i / 16] & 0xF) * code * y[b].qs[i];
        }
        const float dall = y[b].d * lb_fp16_to_f32(x[b].d);
        const float dmin = y[b].d * lb_fp16_to_f32(x[b].dmin);
        sumf += dall * (float)isum - dmin * (float)summs;
    }
    *s = sumf;
}

#if LB_HAVE_X86
// pshufb controls that spread the int16 scales over the maddubs lanes. For shift s, the
// products of bytes l = 0..15 (int16 lanes 0..7, first 128-bit lane) take scale 2s of the
// half and bytes 16..31 (second 128-bit lane) take scale 2s+1.
#define SC_PAIR(i) (char)(2 * (i)), (char)(2 * (i) + 1)
#define SC_LANE(i) SC_PAIR(i), SC_PAIR(i), SC_PAIR(i), SC_PAIR(i), SC_PAIR(i), SC_PAIR(i), SC_PAIR(i), SC_PAIR(i)

// NT activation rows at once (1: decode, 4: prefill). The weight side (scales, code
// unpacking, the scale shuffles) is done once per block for all rows; each row's arithmetic
// is the same whatever NT is, so the 4-row results are bitwise the 1-row kernel's.
TARGET_AVX2 static inline __attribute__((always_inline)) void
q2_K_dot256(const int NT, int64_t n, float *s, size_t bs, const void *vx, const void *vy, size_t by) {
    const block_q2_K *x = vx;
    const int64_t nb = n / LB_QK_K;
    const __m256i m3 = _mm256_set1_epi8(3);
    const __m128i m4 = _mm_set1_epi8(0xF);
    const __m256i shuf0 = _mm256_setr_epi8(SC_LANE(0), SC_LANE(1)), shuf1 = _mm256_setr_epi8(SC_LANE(2), SC_LANE(3));
    const __m256i shuf2 = _mm256_setr_epi8(SC_LANE(4), SC_LANE(5)), shuf3 = _mm256_setr_epi8(SC_LANE(6), SC_LANE(7));
    __m256 acc[4], accm[4];
    for (int t = 0; t < NT; t++) { acc[t] = _mm256_setzero_ps(); accm[t] = _mm256_setzero_ps(); }
    for (int64_t b = 0; b < nb; b++) {
        // 84-byte blocks: lines at +0 and +64 of consecutive blocks cover every line
        lb_prefetch_ahead(&x[b]); lb_prefetch_ahead((const char *)&x[b] + 64);
        const float xd = lb_fp16_hw(x[b].d), xdmin = lb_fp16_hw(x[b].dmin);
        const __m128i packed = _mm_loadu_si128((const __m128i *)x[b].scales);
        const __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), m4));
        const __m256i sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(packed, m4));   // 16 scales as int16
        // two independent sums per row so the adds of one block do not form a single long chain
        __m256i sumi0[4], sumi1[4];
        for (int t = 0; t < NT; t++) {
            const block_q8_K *yb = (const block_q8_K *)((const char *)vy + (size_t)t * by) + b;
            const float dmin = -yb->d * xdmin;
            const __m256i summs = _mm256_madd_epi16(mins, _mm256_loadu_si256((const __m256i *)yb->bsums));
            accm[t] = _mm256_fmadd_ps(_mm256_set1_ps(dmin), _mm256_cvtepi32_ps(summs), accm[t]);
            sumi0[t] = _mm256_setzero_si256(); sumi1[t] = _mm256_setzero_si256();
        }
        for (int h = 0; h < 2; h++) {
            const __m256i sch = h ? _mm256_permute2x128_si256(sc16, sc16, 0x11) : _mm256_permute2x128_si256(sc16, sc16, 0x00);
            const __m256i bits = _mm256_loadu_si256((const __m256i *)(x[b].qs + 32 * h));
#define Q2K_STEP(sh, shuf, acc_) do { \
                const __m256i codes = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * (sh)), m3); \
                const __m256i scl = _mm256_shuffle_epi8(sch, shuf); \
                for (int t = 0; t < NT; t++) { \
                    const int8_t *q8 = ((const block_q8_K *)((const char *)vy + (size_t)t * by) + b)->qs + 128 * h; \
                    const __m256i p = _mm256_maddubs_epi16(codes, _mm256_loadu_si256((const __m256i *)(q8 + 32 * (sh)))); \
                    acc_[t] = _mm256_add_epi32(acc_[t], _mm256_madd_epi16(scl, p)); \
                } \
            } while (0)
            Q2K_STEP(0, shuf0, sumi0);
            Q2K_STEP(1, shuf1, sumi1);
            Q2K_STEP(2, shuf2, sumi0);
            Q2K_STEP(3, shuf3, sumi1);
#undef Q2K_STEP
        }
        for (int t = 0; t < NT; t++) {
            const float dall = ((const block_q8_K *)((const char *)vy + (size_t)t * by) + b)->d * xd;
            acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dall), _mm256_cvtepi32_ps(_mm256_add_epi32(sumi0[t], sumi1[t])), acc[t]);
        }
    }
    for (int t = 0; t < NT; t++) s[(size_t)t * bs] = lb_hsum256(_mm256_add_ps(acc[t], accm[t]));
}

// The AVX-512 variant is the same 256-bit algorithm compiled for AVX-512 (EVEX encodings, 32
// vector registers, no spills). Measured against ggml-cpu's own kernel on this machine kind
// (Sapphire Rapids, 512-bit integer multiplies on one port only), a 512-bit version of this
// loop was 10-20% slower than 256-bit vectors; the 256-bit code compiled this way is on par.
TARGET_AVX2 void lb_vec_dot_q2_K_q8_K_avx2(int64_t n, float *s, const void *vx, const void *vy) { q2_K_dot256(1, n, s, 0, vx, vy, 0); }
TARGET_AVX512 void lb_vec_dot_q2_K_q8_K_avx512(int64_t n, float *s, const void *vx, const void *vy) { q2_K_dot256(1, n, s, 0, vx, vy, 0); }
// 4 rows: only in the AVX-512 build, whose 32 vector registers hold the 4 rows' accumulators
TARGET_AVX512 void lb_vec_dot4_q2_K_q8_K_avx512(int64_t n, float *s, size_t bs, const void *vx, const void *vy, size_t by) {
    q2_K_dot256(4, n, s, bs, vx, vy, by);
}

#else
void lb_vec_dot_q2_K_q8_K_avx2(int64_t n, float *s, const void *x, const void *y) { lb_vec_dot_q2_K_q8_K_ref(n, s, x, y); }
void lb_vec_dot_q2_K_q8_K_avx512(int64_t n, float *s, const void *x, const void *y) { lb_vec_dot_q2_K_q8_K_ref(n, s, x, y); }
void lb_vec_dot4_q2_K_q8_K_avx512(int64_t n, float *s, size_t bs, const void *x, const void *y, size_t by) {
    for (int t = 0; t < 4; t++) lb_vec_dot_q2_K_q8_K_ref(n, s + (size_t)t * bs, x, (const char *)y + (size_t)t * by);
}
#endif
