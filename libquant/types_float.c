// types_float.c: F32 / F16 / BF16 conversions and dot products (scalar + AVX2 + AVX-512).
// The SIMD variants are compiled with target attributes so the library itself needs no
// -mavx flags; types_kernels.c picks one at run time from cpu_features.
#include "types_float.h"
#include "cpu_features.h"
#include "lb_types.h"
#include "fp16.h"
#include <string.h>
#include "simd.h"

// ----------------------------------------------------------------------------
// conversions

void lb_f32_to_float(const void *x, float *y, int64_t n) { memcpy(y, x, (size_t)n * sizeof(float)); }
void lb_f32_from_float(const float *x, void *y, int64_t n) { memcpy(y, x, (size_t)n * sizeof(float)); }

void lb_f16_to_float_ref(const void *x, float *y, int64_t n) {
    const lb_fp16 *h = x;
    for (int64_t i = 0; i < n; i++) y[i] = lb_fp16_to_f32(h[i]);
}

void lb_f16_from_float(const float *x, void *y, int64_t n) {
    lb_fp16 *h = y;
    for (int64_t i = 0; i < n; i++) h[i] = lb_f32_to_fp16(x[i]);
}

void lb_bf16_to_float_ref(const void *x, float *y, int64_t n) {
    const lb_bf16 *h = x;
    for (int64_t i = 0; i < n; i++) y[i] = lb_bf16_to_f32(h[i]);
}

void lb_bf16_from_float(const float *x, void *y, int64_t n) {
    lb_bf16 *h = y;
    for (int64_t i = 0; i < n; i++) h[i] = lb_f32_to_bf16(x[i]);
}

// ----------------------------------------------------------------------------
// scalar reference dot products

void lb_vec_dot_f32_ref(int64_t n, float *s, const void *vx, const void *vy) {
    const float *x = vx, *y = vy;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)x[i] * (double)y[i];
    *s = (float)sum;
}

void lb_vec_dot_f16_ref(int64_t n, float *s, const void *vx, const void *vy) {
    const lb_fp16 *x = vx, *y = vy;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)lb_fp16_to_f32(x[i]) * (double)lb_fp16_to_f32(y[i]);
    *s = (float)sum;
}

void lb_vec_dot_bf16_ref(int64_t n, float *s, const void *vx, const void *vy) {
    const lb_bf16 *x = vx, *y = vy;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)lb_bf16_to_f32(x[i]) * (double)lb_bf16_to_f32(y[i]);
    *s = (float)sum;
}

void lb_vec_dot_f16_f32_ref(int64_t n, float *s, const void *vx, const void *vy) {
    const lb_fp16 *x = vx;
    const float *y = vy;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)lb_fp16_to_f32(x[i]) * (double)y[i];
    *s = (float)sum;
}

lb_vec_dot_fn lb_vec_dot_f16_f32_best(void) {
    const lb_cpu_features *cpu = lb_cpu_get_features();
    return cpu->avx512 ? lb_vec_dot_f16_f32_avx512 : cpu->avx2 ? lb_vec_dot_f16_f32_avx2 : lb_vec_dot_f16_f32_ref;
}

#if LB_HAVE_X86
// ----------------------------------------------------------------------------
// AVX2 (+FMA, F16C): 8 lanes, 4 independent accumulators to hide FMA latency

TARGET_AVX2 static inline __m256 load8_f16(const lb_fp16 *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

TARGET_AVX2 static inline __m256 load8_bf16(const lb_bf16 *p) {
    __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

TARGET_AVX2 void lb_vec_dot_f32_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    const float *x = vx, *y = vy;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    int64_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 4; k++)
            acc[k] = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8 * k), _mm256_loadu_ps(y + i + 8 * k), acc[k]);
    for (; i + 8 <= n; i += 8) acc[0] = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc[0]);
    float sum = lb_hsum256(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
    for (; i < n; i++) sum += x[i] * y[i];
    *s = sum;
}

TARGET_AVX2 void lb_vec_dot_f16_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    const lb_fp16 *x = vx, *y = vy;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    int64_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 4; k++)
            acc[k] = _mm256_fmadd_ps(load8_f16(x + i + 8 * k), load8_f16(y + i + 8 * k), acc[k]);
    for (; i + 8 <= n; i += 8) acc[0] = _mm256_fmadd_ps(load8_f16(x + i), load8_f16(y + i), acc[0]);
    float sum = lb_hsum256(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
    for (; i < n; i++) sum += lb_fp16_to_f32(x[i]) * lb_fp16_to_f32(y[i]);
    *s = sum;
}

TARGET_AVX2 void lb_vec_dot_bf16_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    const lb_bf16 *x = vx, *y = vy;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    int64_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 4; k++)
            acc[k] = _mm256_fmadd_ps(load8_bf16(x + i + 8 * k), load8_bf16(y + i + 8 * k), acc[k]);
    for (; i + 8 <= n; i += 8) acc[0] = _mm256_fmadd_ps(load8_bf16(x + i), load8_bf16(y + i), acc[0]);
    float sum = lb_hsum256(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
    for (; i < n; i++) sum += lb_bf16_to_f32(x[i]) * lb_bf16_to_f32(y[i]);
    *s = sum;
}

TARGET_AVX2 void lb_vec_dot_f16_f32_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    const lb_fp16 *x = vx;
    const float *y = vy;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    int64_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 4; k++)
            acc[k] = _mm256_fmadd_ps(load8_f16(x + i + 8 * k), _mm256_loadu_ps(y + i + 8 * k), acc[k]);
    for (; i + 8 <= n; i += 8) acc[0] = _mm256_fmadd_ps(load8_f16(x + i), _mm256_loadu_ps(y + i), acc[0]);
    float sum = lb_hsum256(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
    for (; i < n; i++) sum += lb_fp16_to_f32(x[i]) * y[i];
    *s = sum;
}

TARGET_AVX2 void lb_f16_to_float_avx2(const void *vx, float *y, int64_t n) {
    const lb_fp16 *x = vx;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, load8_f16(x + i));
    for (; i < n; i++) y[i] = lb_fp16_to_f32(x[i]);
}

// ----------------------------------------------------------------------------
// AVX-512: 16 lanes, 4 accumulators; the tail uses masked loads instead of a scalar loop

TARGET_AVX512 static inline __m512 load16_f16(const lb_fp16 *p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}

TARGET_AVX512 static inline __m512 load16_bf16(const lb_bf16 *p, __mmask16 m) {
    __m512i w = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}

#define TAIL_MASK(rem) ((__mmask16)((1u << (rem)) - 1u))

TARGET_AVX512 void lb_vec_dot_f32_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    const float *x = vx, *y = vy;
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    int64_t i = 0;
    for (; i + 64 <= n; i += 64)
        for (int k = 0; k < 4; k++)
            acc[k] = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16 * k), _mm512_loadu_ps(y + i + 16 * k), acc[k]);
    for (; i + 16 <= n; i += 16) acc[0] = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), acc[0]);
    if (i < n) {
        __mmask16 m = TAIL_MASK(n - i);
        acc[1] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i), acc[1]);
    }
    *s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

TARGET_AVX512 void lb_vec_dot_f16_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    const lb_fp16 *x = vx, *y = vy;
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    int64_t i = 0;
    for (; i + 64 <= n; i += 64)
        for (int k = 0; k < 4; k++)
            acc[k] = _mm512_fmadd_ps(load16_f16(x + i + 16 * k, 0xFFFF), load16_f16(y + i + 16 * k, 0xFFFF), acc[k]);
    for (; i + 16 <= n; i += 16) acc[0] = _mm512_fmadd_ps(load16_f16(x + i, 0xFFFF), load16_f16(y + i, 0xFFFF), acc[0]);
    if (i < n) {
        __mmask16 m = TAIL_MASK(n - i);
        acc[1] = _mm512_fmadd_ps(load16_f16(x + i, m), load16_f16(y + i, m), acc[1]);
    }
    *s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

TARGET_AVX512 void lb_vec_dot_bf16_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    const lb_bf16 *x = vx, *y = vy;
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    int64_t i = 0;
    for (; i + 64 <= n; i += 64)
        for (int k = 0; k < 4; k++)
            acc[k] = _mm512_fmadd_ps(load16_bf16(x + i + 16 * k, 0xFFFF), load16_bf16(y + i + 16 * k, 0xFFFF), acc[k]);
    for (; i + 16 <= n; i += 16) acc[0] = _mm512_fmadd_ps(load16_bf16(x + i, 0xFFFF), load16_bf16(y + i, 0xFFFF), acc[0]);
    if (i < n) {
        __mmask16 m = TAIL_MASK(n - i);
        acc[1] = _mm512_fmadd_ps(load16_bf16(x + i, m), load16_bf16(y + i, m), acc[1]);
    }
    *s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

TARGET_AVX512 void lb_vec_dot_f16_f32_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    const lb_fp16 *x = vx;
    const float *y = vy;
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    int64_t i = 0;
    for (; i + 64 <= n; i += 64)
        for (int k = 0; k < 4; k++)
            acc[k] = _mm512_fmadd_ps(load16_f16(x + i + 16 * k, 0xFFFF), _mm512_loadu_ps(y + i + 16 * k), acc[k]);
    for (; i + 16 <= n; i += 16) acc[0] = _mm512_fmadd_ps(load16_f16(x + i, 0xFFFF), _mm512_loadu_ps(y + i), acc[0]);
    if (i < n) {
        __mmask16 m = TAIL_MASK(n - i);
        acc[1] = _mm512_fmadd_ps(load16_f16(x + i, m), _mm512_maskz_loadu_ps(m, y + i), acc[1]);
    }
    *s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

TARGET_AVX512 void lb_f16_to_float_avx512(const void *vx, float *y, int64_t n) {
    const lb_fp16 *x = vx;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, load16_f16(x + i, 0xFFFF));
    if (i < n) _mm512_mask_storeu_ps(y + i, TAIL_MASK(n - i), load16_f16(x + i, TAIL_MASK(n - i)));
}

TARGET_AVX512 void lb_bf16_to_float_avx512(const void *vx, float *y, int64_t n) {
    const lb_bf16 *x = vx;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, load16_bf16(x + i, 0xFFFF));
    if (i < n) _mm512_mask_storeu_ps(y + i, TAIL_MASK(n - i), load16_bf16(x + i, TAIL_MASK(n - i)));
}

#else
// non-x86 builds: the "SIMD" names fall back to the references so the table stays valid
void lb_vec_dot_f32_avx2(int64_t n, float *s, const void *x, const void *y) { lb_vec_dot_f32_ref(n, s, x, y); }
void lb_vec_dot_f32_avx512(int64_t n, float *s, const void *x, const void *y) { lb_vec_dot_f32_ref(n, s, x, y); }
void lb_vec_dot_f16_avx2(int64_t n, float *s, const void *x, const void *y) { lb_vec_dot_f16_ref(n, s, x, y); }
void lb_vec_dot_f16_avx512(int64_t n, float *s, const void *x, const void *y) { lb_vec_dot_f16_ref(n, s, x, y); }
void lb_vec_dot_bf16_avx2(int64_t n, float *s, const void *x, const void *y) { lb_vec_dot_bf16_ref(n, s, x, y); }
void lb_vec_dot_bf16_avx512(int64_t n, float *s, const void *x, const void *y) { lb_vec_dot_bf16_ref(n, s, x, y); }
void lb_f16_to_float_avx2(const void *x, float *y, int64_t n) { lb_f16_to_float_ref(x, y, n); }
void lb_vec_dot_f16_f32_avx2(int64_t n, float *s, const void *x, const void *y) { lb_vec_dot_f16_f32_ref(n, s, x, y); }
void lb_vec_dot_f16_f32_avx512(int64_t n, float *s, const void *x, const void *y) { lb_vec_dot_f16_f32_ref(n, s, x, y); }
void lb_f16_to_float_avx512(const void *x, float *y, int64_t n) { lb_f16_to_float_ref(x, y, n); }
void lb_bf16_to_float_avx512(const void *x, float *y, int64_t n) { lb_bf16_to_float_ref(x, y, n); }
#endif
