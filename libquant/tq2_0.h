// tq2_0.h: ggml's TQ2_0 block: 256 ternary weights as 2-bit codes c (value (c-1)*d) and one
// fp16 scale; 2.0625 bits per weight. Dot products take Q8_K activations (ggml's choice).
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "fp16.h"
#include "q8_k.h"

typedef struct block_tq2_0 {
    uint8_t qs[LB_QK_K / 4];   // code of weight 128h + 32s + l in bits 2s of qs[32h + l]
    lb_fp16 d;
} block_tq2_0;
_Static_assert(sizeof(block_tq2_0) == 66, "block_tq2_0 must be 66 bytes (64 + 2), as in ggml");

void lb_tq2_0_to_float(const void *x, float *y, int64_t n);     // ggml's dequantize_row_tq2_0
// ggml's quantize_row_tq2_0_ref: d = absmax of the block, code = lroundf(x/d) + 1
void lb_tq2_0_from_float(const float *x, void *y, int64_t n);

void lb_vec_dot_tq2_0_q8_K_ref(int64_t n, float *s, const void *x, const void *y);
void lb_vec_dot_tq2_0_q8_K_avx2(int64_t n, float *s, const void *x, const void *y);
void lb_vec_dot_tq2_0_q8_K_avx512(int64_t n, float *s, const void *x, const void *y);
// the same for 4 activation rows (prefill): s[t*bs] = dot(x, row t of y), row t at y + t*by
// bytes; every result bitwise equal to lb_vec_dot_tq2_0_q8_K_avx512's for that row
void lb_vec_dot4_tq2_0_q8_K_avx512(int64_t n, float *s, size_t bs, const void *x, const void *y, size_t by);

// --- exact packing -------------------------------------------------------------
// trits t (-1, 0, 1; others are clamped) in weight order and the fp16 scale as raw bits
void lb_tq2_0_pack(block_tq2_0 *y, const int8_t t[256] /*-1,0,1*/, uint16_t d_fp16);
// t = code - 1; a code of 3 (never written by lowbit or ggml, but decodable: value 2d) gives 2
void lb_tq2_0_unpack(const block_tq2_0 *x, int8_t t[256], uint16_t *d_fp16);
