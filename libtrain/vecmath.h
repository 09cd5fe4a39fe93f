// vecmath.h: the pieces the training ops need to make their elementwise and row loops SIMD:
// a branch-free expf the compiler can vectorize, row reductions over fixed lanes (so they
// vectorize without -ffast-math and still add in one fixed order), and LB_SIMD_CLONES, which
// compiles a kernel once per x86-64 level (v4 = AVX-512, v3 = AVX2+FMA, baseline) and picks
// one at load time (GCC target_clones / ifunc). The project builds for baseline x86-64, so
// without the clones every loop here would be SSE2 and glibc's expf a scalar call per element.
//
// DETERMINISM: the clone is chosen once per machine, each clone's lanes are fixed, and no
// result depends on the thread count, so same machine + same input -> same bits.
// ACCURACY: lb_expf is Cody-Waite range reduction + Cephes' degree-6 polynomial, within ~2 ulp
// of expf over the whole range (overflow -> inf, deep underflow -> 0, NaN -> NaN); the ops'
// tests compare with float64 references, not with glibc's bits.
// Kernels using these must not contain OpenMP pragmas themselves: an outlined OpenMP body
// is a separate function and would not be cloned. Parallel loops call a cloned kernel per
// row or per chunk.
#pragma once
#include <stdint.h>
#include <math.h>
#include <string.h>

#include "simd.h"   // LB_SIMD_CLONES


static inline uint32_t lb_f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float lb_u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

// e^x. x is clamped to [-104, 89] (e^-104 rounds to 0, e^89 overflows to inf); k = round(x /
// ln 2) by the 1.5*2^23 trick (no float->int conversion, so NaN stays harmless), r = x - k ln2
// in two parts, e^r by polynomial, then 2^k applied as two halves so that k in [-150, 129]
// never leaves the exponent range before the final, correctly rounded multiply.
static inline float lb_expf(float x) {
    x = x < -104.0f ? -104.0f : x;
    x = x > 89.0f ? 89.0f : x;
    const float magic = 12582912.0f;                       // 1.5 * 2^23
    const float t = x * 1.44269504088896341f + magic;
    const float k = t - magic;
    const int32_t ki = (int32_t)(lb_f2u(t) - lb_f2u(magic));   // k as an integer, |k| <= 151
    float r = x - k * 0.693145751953125f;
    r = r - k * 1.428606765330187045e-6f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float y = p * r * r + r + 1.0f;
    const int32_t k1 = ki / 2, k2 = ki - k1;
    const float s1 = lb_u2f((uint32_t)(k1 + 127) << 23), s2 = lb_u2f((uint32_t)(k2 + 127) << 23);
    return y * s1 * s2;
}

// --- row reductions (inline into the cloned kernels) -------------------------------------------

// max of x[0..n) (-inf when n == 0; NaNs are skipped as by `x > max`)
static inline float lb_row_max(const float *x, int n) {
    float max = -INFINITY;
    #pragma omp simd reduction(max : max)
    for (int i = 0; i < n; i++) max = x[i] > max ? x[i] : max;
    return max;
}

// Double-precision sums of float rows with GCC vector types: two accumulators of 8 doubles
// (16 floats per step), combined in a fixed order, then the tail: the order is the same in every
// clone (the baseline runs them in narrower pieces). (An `omp simd reduction` of a double fed
// by floats does not vectorize in GCC 12.)
typedef float lb_v8f __attribute__((vector_size(32)));
typedef double lb_v8d __attribute__((vector_size(64)));

// (vectors go through pointers, not by value: no ABI question between the clones)
static inline void lb_load8d(lb_v8d *out, const float *x) {
    lb_v8f v;
    memcpy(&v, x, sizeof v);
    *out = __builtin_convertvector(v, lb_v8d);
}

static inline double lb_lanes_total(const lb_v8d *a, const lb_v8d *b) {
    const lb_v8d c = *a + *b;
    return ((c[0] + c[1]) + (c[2] + c[3])) + ((c[4] + c[5]) + (c[6] + c[7]));
}

// sum of x[0..n) in double
static inline double lb_row_sum(const float *x, int n) {
    lb_v8d a = { 0 }, b = { 0 };
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        lb_v8d u, v;
        lb_load8d(&u, x + i);
        lb_load8d(&v, x + i + 8);
        a += u;
        b += v;
    }
    double sum = lb_lanes_total(&a, &b);
    for (; i < n; i++) sum += x[i];
    return sum;
}

// sum of (double)a[i] * b[i]
static inline double lb_row_dot(const float *a, const float *b, int n) {
    lb_v8d s0 = { 0 }, s1 = { 0 };
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        lb_v8d a0, a1, b0, b1;
        lb_load8d(&a0, a + i); lb_load8d(&a1, a + i + 8);
        lb_load8d(&b0, b + i); lb_load8d(&b1, b + i + 8);
        s0 += a0 * b0;
        s1 += a1 * b1;
    }
    double sum = lb_lanes_total(&s0, &s1);
    for (; i < n; i++) sum += (double)a[i] * b[i];
    return sum;
}

// sum of (double)a[i] * b[i] * c[i]
static inline double lb_row_dot3(const float *a, const float *b, const float *c, int n) {
    lb_v8d s0 = { 0 }, s1 = { 0 };
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        lb_v8d a0, a1, b0, b1, c0, c1;
        lb_load8d(&a0, a + i); lb_load8d(&a1, a + i + 8);
        lb_load8d(&b0, b + i); lb_load8d(&b1, b + i + 8);
        lb_load8d(&c0, c + i); lb_load8d(&c1, c + i + 8);
        s0 += a0 * b0 * c0;
        s1 += a1 * b1 * c1;
    }
    double sum = lb_lanes_total(&s0, &s1);
    for (; i < n; i++) sum += (double)a[i] * b[i] * c[i];
    return sum;
}

// sum of the float squares x[i] * x[i] (rounded to float, as RMSNorm's scalar form), in double
static inline double lb_row_sumsq(const float *x, int n) {
    lb_v8d s0 = { 0 }, s1 = { 0 };
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        lb_v8f u, v;
        memcpy(&u, x + i, sizeof u);
        memcpy(&v, x + i + 8, sizeof v);
        s0 += __builtin_convertvector(u * u, lb_v8d);
        s1 += __builtin_convertvector(v * v, lb_v8d);
    }
    double sum = lb_lanes_total(&s0, &s1);
    for (; i < n; i++) sum += (double)(x[i] * x[i]);
    return sum;
}

// e[i] = exp(x[i] - max) (e may equal x); returns their sum in double. Two passes: the exp loop
// vectorizes on its own, the row is still in cache for the sum.
static inline double lb_row_exp_sum(float *e, const float *x, float max, int n) {
    #pragma omp simd   // e == x is fine (same index); without this GCC keeps a scalar copy for it
    for (int i = 0; i < n; i++) e[i] = lb_expf(x[i] - max);
    return lb_row_sum(e, n);
}
