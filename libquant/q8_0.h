// q8_0.h: ggml's Q8_0 block: 32 weights = one fp16 scale d and 32 int8 codes, value d*qs[j].
// Activations multiplied with Q8_0 weights are themselves quantized to Q8_0 first (ggml's
// vec_dot_type), so the dot product is integer inside a block and scaled by dx*dy per block.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "fp16.h"

#define LB_QK8_0 32

typedef struct block_q8_0 {
    lb_fp16 d;               // scale
    int8_t qs[LB_QK8_0];     // codes in [-127, 127] when written by lb_q8_0_from_float
} block_q8_0;
_Static_assert(sizeof(block_q8_0) == 34, "block_q8_0 must be 34 bytes (2 + 32), as in ggml");

void lb_q8_0_to_float(const void *x, float *y, int64_t n);       // n multiple of 32
// ggml's quantize_row_q8_0_ref: d = amax/127, id = d ? 1/d : 0, qs = roundf(x*id), d stored as fp16
void lb_q8_0_from_float(const float *x, void *y, int64_t n);

// *s = sum over blocks of (sum_j x.qs[j]*y.qs[j]) * x.d * y.d ; both rows Q8_0
void lb_vec_dot_q8_0_ref(int64_t n, float *s, const void *x, const void *y);
void lb_vec_dot_q8_0_avx2(int64_t n, float *s, const void *x, const void *y);
void lb_vec_dot_q8_0_avx512(int64_t n, float *s, const void *x, const void *y);
// 2 weight rows (x, x + bx bytes) x 1 activation row: s[0], s[1], each bitwise equal to
// lb_vec_dot_q8_0_avx512's result for that row (decode; registered with AVX-512)
void lb_vec_dot2r_q8_0_avx512(int64_t n, float *s, const void *x, size_t bx, const void *y);
