// tq1_0.h: ggml's TQ1_0 block: 256 ternary weights packed base-3, 5 trits per byte (4 in the
// last 4 bytes), and one fp16 scale; 1.6875 bits per weight. Value (t-1)*d, t in 0..2.
// Dot products take Q8_K activations (ggml's choice).
#pragma once
#include <stdint.h>
#include "fp16.h"
#include "q8_k.h"

typedef struct block_tq1_0 {
    uint8_t qs[48];   // qs[m] (m < 32): weights m + 32n; qs[32+m] (m < 16): 160 + m + 16n; n = 0..4
    uint8_t qh[4];    // qh[j]: weights 240 + j + 4n, n = 0..3 (a fifth, zero trit pads the byte)
    lb_fp16 d;
} block_tq1_0;
_Static_assert(sizeof(block_tq1_0) == 54, "block_tq1_0 must be 54 bytes (48 + 4 + 2), as in ggml");

// A byte stores the base-3 number v of its trits (first weight = most significant trit) as
// ceil(v*256/243), so trit n comes back as ((byte * 3^n) mod 256) * 3 >> 8: a multiply and a
// shift, no division.

void lb_tq1_0_to_float(const void *x, float *y, int64_t n);     // ggml's dequantize_row_tq1_0
// ggml's quantize_row_tq1_0_ref: d = absmax of the block, trit = lroundf(x/d) + 1
void lb_tq1_0_from_float(const float *x, void *y, int64_t n);

void lb_vec_dot_tq1_0_q8_K_ref(int64_t n, float *s, const void *x, const void *y);
void lb_vec_dot_tq1_0_q8_K_avx2(int64_t n, float *s, const void *x, const void *y);
void lb_vec_dot_tq1_0_q8_K_avx512(int64_t n, float *s, const void *x, const void *y);

// --- exact packing -------------------------------------------------------------
// trits t (-1, 0, 1; others are clamped) in weight order and the fp16 scale as raw bits
void lb_tq1_0_pack(block_tq1_0 *y, const int8_t t[256] /*-1,0,1*/, uint16_t d_fp16);
// the decoder's view of every weight (-1, 0, 1) and the scale bits
void lb_tq1_0_unpack(const block_tq1_0 *x, int8_t t[256], uint16_t *d_fp16);
