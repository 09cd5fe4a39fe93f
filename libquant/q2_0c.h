// q2_0c.h: lowbit's native 2-bit type Q2_0C (docs/formats.md is the spec). 512 weights per
// block: one fp16 scale d, then 128 bytes of 2-bit codes, LSB first, four per byte (weight i
// is bits 2*(i%4) of qs[i/4]); weight value (2c - 3) * d, i.e. {-3, -1, 1, 3} * d.
// 130 bytes per 512 weights = 2.03 bits per weight. Type id LB_TYPE_Q2_0C (96).
//
// The grid is symmetric and has no zero, which is exactly ParetoQ's SEQ 2-bit grid
// alpha * {-0.75, -0.25, 0.25, 0.75}: with d = alpha/4 a SEQ-trained row packs losslessly.
// Dot products take Q8_K activations (256 per block, one f32 scale, bsums): one Q2_0C block
// spans two Q8_K blocks, and the constant "-3" of every weight is subtracted once per 256
// activations through bsums instead of once per weight.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "fp16.h"

#define LB_QK2_0C 512

typedef struct block_q2_0c {
    lb_fp16 d;                    // scale
    uint8_t qs[LB_QK2_0C / 4];    // codes 0..3, weight i at bits 2*(i%4) of qs[i/4]
} block_q2_0c;
_Static_assert(sizeof(block_q2_0c) == 130, "block_q2_0c must be 130 bytes (2 + 128)");

// --- conversions (n a multiple of 512) ----------------------------------------
void lb_q2_0c_to_float(const void *x, float *y, int64_t n);     // dequantize_row: (2c-3)*d
// quantize_row_ref (RTN): per block d = fp16(absmax/3) (finite: clamped to 65504), then
// code = clamp(rint((x/d + 3)/2), 0, 3) with the stored (fp16) d; d == 0 gives code 2 (value 0).
// NaN inputs are treated as 0.
void lb_q2_0c_from_float(const float *x, void *y, int64_t n);

// --- exact packing (no re-rounding) --------------------------------------------
// one block from codes (weight order, 0..3; higher bits are masked off) and raw fp16 bits
void lb_q2_0c_pack(block_q2_0c *y, const uint8_t codes[512] /*0..3*/, uint16_t d_fp16);
// the inverse: unpack(pack(codes, d)) == (codes, d)
void lb_q2_0c_unpack(const block_q2_0c *x, uint8_t codes[512], uint16_t *d_fp16);

// --- dot products: *s = dot(Q2_0C row x, Q8_K row y), n a multiple of 512 -------
void lb_vec_dot_q2_0c_q8_K_ref(int64_t n, float *s, const void *x, const void *y);   // exact ints, double sum
void lb_vec_dot_q2_0c_q8_K_avx2(int64_t n, float *s, const void *x, const void *y);
// AVX-512 F/BW/VL + VBMI (vpmultishiftqb unpacks codes in weight order) + VNNI (vpdpbusd).
// Only valid when lb_cpu_features.avx512vbmi && .avx512vnni; the type table falls back to AVX2.
void lb_vec_dot_q2_0c_q8_K_avx512(int64_t n, float *s, const void *x, const void *y);
// the same for 4 activation rows (prefill): s[t*bs] = dot(x, row t of y), row t at y + t*by
// bytes; every result bitwise equal to lb_vec_dot_q2_0c_q8_K_avx512's for that row
void lb_vec_dot4_q2_0c_q8_K_avx512(int64_t n, float *s, size_t bs, const void *x, const void *y, size_t by);
