// q8_k.h: ggml's Q8_K block, the activation type of the K and ternary types (Q2_K, TQ1_0,
// TQ2_0): 256 values = one f32 scale d, 256 int8 codes, and the sums of each 16 codes
// (bsums) so a weight type with a per-block offset (Q2_K's min, TQ's "code - 1") can subtract
// it with 16 multiplies instead of 256.
#pragma once
#include <stdint.h>

#define LB_QK_K 256

typedef struct block_q8_K {
    float d;                      // scale (may be negative: ggml maps the signed absmax to -127)
    int8_t qs[LB_QK_K];           // codes in [-127, 127]
    int16_t bsums[LB_QK_K / 16];  // bsums[j] = sum of qs[16j .. 16j+15]
} block_q8_K;
_Static_assert(sizeof(block_q8_K) == 292, "block_q8_K must be 292 bytes (4 + 256 + 32), as in ggml");

// ggml's quantize_row_q8_K_ref (which is also what ggml-cpu uses on x86): iscale = -127/max
// where max is the signed value of largest magnitude, qs = min(127, nearest_int(iscale*x)),
// d = 1/iscale. An all-zero block gets d = 0, qs = 0 and (unlike ggml, which leaves them
// unwritten) bsums = 0.
void lb_q8_K_from_float(const float *x, void *y, int64_t n);   // n multiple of 256 (AVX-512 when available)
void lb_q8_K_from_float_ref(const float *x, void *y, int64_t n);   // the scalar reference, same bytes
void lb_q8_K_to_float(const void *x, float *y, int64_t n);     // y = d * qs

// ggml's nearest_int: round half to even for |f| <= 2^22 via the 1.5*2^23 magic constant
// (the K quantizers use it, not roundf, and bit-exactness with ggml depends on it)
static inline int lb_nearest_int(float f) {
    union { float f; int32_t i; } u = { .f = f + 12582912.0f };
    return (u.i & 0x007fffff) - 0x00400000;
}
