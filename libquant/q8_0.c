// q8_0.c: Q8_0 pack/unpack (reference rounding) and dot products (scalar, AVX2, AVX-512).
#include "q8_0.h"
#include <math.h>
#include "simd.h"
#include "rtn_avx2.h"
#include "cpu_features.h"

// ----------------------------------------------------------------------------
// pack / unpack

void lb_q8_0_to_float(const void *vx, float *y, int64_t n) {
    const block_q8_0 *x = vx;
    const int64_t nb = n / LB_QK8_0;
    for (int64_t b = 0; b < nb; b++) {
        const float d = lb_fp16_to_f32(x[b].d);
        for (int j = 0; j < LB_QK8_0; j++) y[b * LB_QK8_0 + j] = d * (float)x[b].qs[j];
    }
}

void lb_q8_0_from_float_ref(const float *x, void *vy, int64_t n) {
    block_q8_0 *y = vy;
    const int64_t nb = n / LB_QK8_0;
    for (int64_t b = 0; b < nb; b++) {
        const float *xb = x + b * LB_QK8_0;
        float amax = 0.0f;
        for (int j = 0; j < LB_QK8_0; j++) amax = fmaxf(amax, fabsf(xb[j]));
        // the scale is computed in f32 but the codes use 1/d of the UNROUNDED d, exactly as
        // ggml does; only afterwards is d rounded to fp16 for storage
        const float d = amax / 127.0f;
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = lb_f32_to_fp16(d);
        for (int j = 0; j < LB_QK8_0; j++) y[b].qs[j] = (int8_t)roundf(xb[j] * id);
    }
}

#if LB_HAVE_X86
// roundf (half away from zero) of 8 lanes, exact for every finite input: t = trunc(v) and
// the fraction v - t are exact in f32, so |fraction| >= 0.5 is decided without rounding error
// (adding 0.5 and truncating is not exact: 0.49999997 + 0.5 rounds to 1.0)
TARGET_AVX2 static inline __m256 round_away(__m256 v) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(v, t));
    const __m256 step = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(v, sign));   // +-1, v's sign
    return _mm256_add_ps(t, _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ), step));
}

TARGET_AVX2 static void q8_0_from_float_avx2(const float *x, block_q8_0 *y, int64_t n) {
    const int64_t nb = n / LB_QK8_0;
    for (int64_t b = 0; b < nb; b++) {
        const float *xb = x + b * LB_QK8_0;
        float amax;
        if (lb_rtn_absmax_avx2(xb, LB_QK8_0, &amax)) { lb_q8_0_from_float_ref(xb, &y[b], LB_QK8_0); continue; }
        const float d = amax / 127.0f;
        const float id = d ? 1.0f / d : 0.0f;
        if (!(id < INFINITY)) { lb_q8_0_from_float_ref(xb, &y[b], LB_QK8_0); continue; }
        y[b].d = lb_f32_to_fp16(d);
        const __m256 vid = _mm256_set1_ps(id);
        __m256i q[4];   // |x*id| <= 127 (+ rounding): int8 without saturation
        for (int k = 0; k < 4; k++) q[k] = _mm256_cvttps_epi32(round_away(_mm256_mul_ps(_mm256_loadu_ps(xb + 8 * k), vid)));
        _mm256_storeu_si256((__m256i *)y[b].qs, lb_rtn_pack_i8_avx2(q[0], q[1], q[2], q[3]));
    }
}
#endif

// ggml's rule; the AVX2 path gives the same bytes (rtn_avx2.h says why)
void lb_q8_0_from_float(const float *x, void *vy, int64_t n) {
#if LB_HAVE_X86
    if (lb_cpu_get_features()->avx2) { q8_0_from_float_avx2(x, vy, n); return; }
#endif
    lb_q8_0_from_float_ref(x, vy, n);
}

// ----------------------------------------------------------------------------
// dot products

void lb_vec_dot_q8_0_ref(int64_t n, float *s, const void *vx, const void *vy) {
    const block_q8_0 *x = vx, *y = vy;
    const int64_t nb = n / LB_QK8_0;
    double sum = 0.0;
    for (int64_t b = 0; b < nb; b++) {
        int sumi = 0;
        for (int j = 0; j < LB_QK8_0; j++) sumi += x[b].qs[j] * y[b].qs[j];
        sum += (double)sumi * (double)(lb_fp16_to_f32(x[b].d) * lb_fp16_to_f32(y[b].d));
    }
    *s = (float)sum;
}

#if LB_HAVE_X86
// Both variants use the u8 x s8 multiply-add trick: |x| * (y with x's sign) = x*y. Pairs
// of products (<= 2*127*127) fit int16 without saturation for codes in [-127, 127].

// fp16 -> f32 in one instruction (F16C), exact like lb_fp16_to_f32
TARGET_AVX2 static inline float f16c_to_f32(lb_fp16 h) { return _cvtsh_ss(h); }

TARGET_AVX2 static inline __m256 block_dot_avx2(const block_q8_0 *x, const block_q8_0 *y) {
    const __m256i qx = _mm256_loadu_si256((const __m256i *)x->qs);
    const __m256i qy = _mm256_loadu_si256((const __m256i *)y->qs);
    const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(qx, qx), _mm256_sign_epi8(qy, qx));
    const __m256i p32 = _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
    return _mm256_cvtepi32_ps(p32);
}

TARGET_AVX2 void lb_vec_dot_q8_0_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    const block_q8_0 *x = vx, *y = vy;
    const int64_t nb = n / LB_QK8_0;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        const __m256 d0 = _mm256_set1_ps(f16c_to_f32(x[b].d) * f16c_to_f32(y[b].d));
        const __m256 d1 = _mm256_set1_ps(f16c_to_f32(x[b + 1].d) * f16c_to_f32(y[b + 1].d));
        acc0 = _mm256_fmadd_ps(d0, block_dot_avx2(x + b, y + b), acc0);
        acc1 = _mm256_fmadd_ps(d1, block_dot_avx2(x + b + 1, y + b + 1), acc1);
    }
    if (b < nb) {
        const __m256 d0 = _mm256_set1_ps(f16c_to_f32(x[b].d) * f16c_to_f32(y[b].d));
        acc0 = _mm256_fmadd_ps(d0, block_dot_avx2(x + b, y + b), acc0);
    }
    *s = lb_hsum256(_mm256_add_ps(acc0, acc1));
}

// --- AVX-512 ---------------------------------------------------------------
// One block per step in a 256-bit register and ONE accumulator, in block order: exactly the
// arithmetic of ggml's x86 kernel (ggml_vec_dot_q8_0_q8_0), so the results are bitwise
// ggml's (tests/bench/bench_q8_0_dot.c checks this against libggml-cpu in-process). Each lane
// holds the sum of 4 consecutive byte products, whether from VNNI vpdpbusd or from
// maddubs+madd, so both variants below agree bitwise too. Tried and measured slower on
// Sapphire Rapids: two blocks per 512-bit register with scales converted 8 at a time (the
// 512-bit inserts and scale shuffles compete for port 5), and 4 accumulators (no gain: the
// loop is not latency bound), and 4 weight rows per activation load (faster in cache, but
// 0.76x ggml on the 26 MB output matrix, which streams from memory). The scale conversion
// uses F16C, not fp16.h's portable bit trick, which cost the old loop 4 scalar conversions
// per 2 blocks (~0.47x ggml).
#define TARGET_AVX512VNNI __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

// 8 int32 lanes of one block's x*y: |x| (u8) times y with x's sign (s8)
TARGET_AVX512VNNI static inline __m256i block_dot_vnni(const block_q8_0 *x, const block_q8_0 *y) {
    const __m256i qx = _mm256_loadu_si256((const __m256i *)x->qs);
    const __m256i qy = _mm256_loadu_si256((const __m256i *)y->qs);
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(qx), _mm256_sign_epi8(qy, qx));
}

TARGET_AVX512VNNI static void vec_dot_q8_0_avx512vnni(int64_t n, float *s, const void *vx, const void *vy) {
    const block_q8_0 *x = vx, *y = vy;
    const int64_t nb = n / LB_QK8_0;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        lb_prefetch_ahead(&x[b]);   // 34-byte blocks: one line per block covers them all
        const __m256 d = _mm256_set1_ps(f16c_to_f32(x[b].d) * f16c_to_f32(y[b].d));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(block_dot_vnni(x + b, y + b)), acc);
    }
    *s = lb_hsum256(acc);
}

// Two weight rows against one activation row (decode): each row keeps its own single
// accumulator in block order, so each result is bitwise the 1-row kernel's (and ggml's); two
// independent chains hide the fmadd latency that bounds the 1-row loop once the weights come
// from cache (1 thread, 26 MB output matrix in L3: 23 Gw/s for 1 row at a time).
TARGET_AVX512VNNI static void vec_dot2r_q8_0_avx512vnni(int64_t n, float *s, const void *vx, size_t bx, const void *vy) {
    const block_q8_0 *x0 = vx, *x1 = (const block_q8_0 *)((const char *)vx + bx), *y = vy;
    const int64_t nb = n / LB_QK8_0;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        lb_prefetch_ahead(&x0[b]);
        lb_prefetch_ahead(&x1[b]);
        const float dy = f16c_to_f32(y[b].d);
        const __m256 d0 = _mm256_set1_ps(f16c_to_f32(x0[b].d) * dy);
        const __m256 d1 = _mm256_set1_ps(f16c_to_f32(x1[b].d) * dy);
        acc0 = _mm256_fmadd_ps(d0, _mm256_cvtepi32_ps(block_dot_vnni(x0 + b, y + b)), acc0);
        acc1 = _mm256_fmadd_ps(d1, _mm256_cvtepi32_ps(block_dot_vnni(x1 + b, y + b)), acc1);
    }
    s[0] = lb_hsum256(acc0);
    s[1] = lb_hsum256(acc1);
}

// AVX-512 without VNNI (Skylake-X): maddubs + madd, same lanes, same order
TARGET_AVX512 static void vec_dot_q8_0_avx512bw(int64_t n, float *s, const void *vx, const void *vy) {
    const block_q8_0 *x = vx, *y = vy;
    const int64_t nb = n / LB_QK8_0;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const __m256 d = _mm256_set1_ps(f16c_to_f32(x[b].d) * f16c_to_f32(y[b].d));
        acc = _mm256_fmadd_ps(d, block_dot_avx2(x + b, y + b), acc);
    }
    *s = lb_hsum256(acc);
}

static int have_vnni(void) {   // asked once
    static int vnni = -1;
    int v = __atomic_load_n(&vnni, __ATOMIC_RELAXED);
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("avx512vnni") ? 1 : 0;
        __atomic_store_n(&vnni, v, __ATOMIC_RELAXED);
    }
    return v;
}

void lb_vec_dot_q8_0_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    if (have_vnni()) vec_dot_q8_0_avx512vnni(n, s, vx, vy);
    else vec_dot_q8_0_avx512bw(n, s, vx, vy);
}

void lb_vec_dot2r_q8_0_avx512(int64_t n, float *s, const void *vx, size_t bx, const void *vy) {
    if (have_vnni()) { vec_dot2r_q8_0_avx512vnni(n, s, vx, bx, vy); return; }
    vec_dot_q8_0_avx512bw(n, &s[0], vx, vy);
    vec_dot_q8_0_avx512bw(n, &s[1], (const char *)vx + bx, vy);
}

#else
void lb_vec_dot_q8_0_avx2(int64_t n, float *s, const void *x, const void *y) { lb_vec_dot_q8_0_ref(n, s, x, y); }
void lb_vec_dot_q8_0_avx512(int64_t n, float *s, const void *x, const void *y) { lb_vec_dot_q8_0_ref(n, s, x, y); }
void lb_vec_dot2r_q8_0_avx512(int64_t n, float *s, const void *x, size_t bx, const void *y) {
    lb_vec_dot_q8_0_ref(n, &s[0], x, y);
    lb_vec_dot_q8_0_ref(n, &s[1], (const char *)x + bx, y);
}
#endif
