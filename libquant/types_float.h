// types_float.h: kernels for the plain float types F32, F16 and BF16.
// Each dot product exists as a scalar reference and as AVX2 / AVX-512 variants; the type
// table (types_kernels.c) registers the best one for this CPU, tests compare them all.
// vec_dot(n, s, x, y): *s = sum_i x[i]*y[i], x a weight row, y the activations already in
// the weight's vec_dot_type (f16 for F16, bf16 for BF16, f32 for F32), like ggml's CPU backend.
#pragma once
#include <stdint.h>

// --- conversions -------------------------------------------------------------
void lb_f32_to_float(const void *x, float *y, int64_t n);
void lb_f32_from_float(const float *x, void *y, int64_t n);
void lb_f16_to_float_ref(const void *x, float *y, int64_t n);
void lb_f16_to_float_avx2(const void *x, float *y, int64_t n);
void lb_f16_to_float_avx512(const void *x, float *y, int64_t n);
void lb_f16_from_float(const float *x, void *y, int64_t n);     // round to nearest even
void lb_bf16_to_float_ref(const void *x, float *y, int64_t n);
void lb_bf16_to_float_avx512(const void *x, float *y, int64_t n);
void lb_bf16_from_float(const float *x, void *y, int64_t n);    // round to nearest even

// --- dot products ------------------------------------------------------------
// The references accumulate in double: they are the yardstick the SIMD variants are held to.
void lb_vec_dot_f32_ref(int64_t n, float *s, const void *x, const void *y);
void lb_vec_dot_f32_avx2(int64_t n, float *s, const void *x, const void *y);
void lb_vec_dot_f32_avx512(int64_t n, float *s, const void *x, const void *y);
void lb_vec_dot_f16_ref(int64_t n, float *s, const void *x, const void *y);
void lb_vec_dot_f16_avx2(int64_t n, float *s, const void *x, const void *y);
void lb_vec_dot_f16_avx512(int64_t n, float *s, const void *x, const void *y);
void lb_vec_dot_bf16_ref(int64_t n, float *s, const void *x, const void *y);
void lb_vec_dot_bf16_avx2(int64_t n, float *s, const void *x, const void *y);
void lb_vec_dot_bf16_avx512(int64_t n, float *s, const void *x, const void *y);

// f16 weights x f32 activations (no rounding of the activations): what llama.cpp's AMX
// build computes for most F16 matmuls (runtime/matmul.c explains when).
void lb_vec_dot_f16_f32_ref(int64_t n, float *s, const void *x, const void *y);
void lb_vec_dot_f16_f32_avx2(int64_t n, float *s, const void *x, const void *y);
void lb_vec_dot_f16_f32_avx512(int64_t n, float *s, const void *x, const void *y);
// the best variant for this CPU
void (*lb_vec_dot_f16_f32_best(void))(int64_t n, float *s, const void *x, const void *y);
