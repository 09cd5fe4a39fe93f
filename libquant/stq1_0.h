// stq1_0.h: lowbit's native 1.25-bit sparse-ternary type STQ1_0 (docs/formats.md is the
// spec). 256 weights in 42 bytes: qs[32] (64 4-bit codes, low nibble first), sign[8] (64
// bits, LSB first), fp16 d. Group g = 0..63 holds the 4 weights (g/16)*64 + g%16 + 16p,
// p = 0..3 (the lanes: weights 16 apart, not adjacent). Exactly one lane of every group is 0,
// the other three are +-1 (Sherry's 3:4 pattern); value = lane * d.
// (code, sign) -> lanes through a 32-entry codebook; all 32 entries are distinct 3:4
// patterns, and there are exactly C(4,3)*2^3 = 32 of those, so every byte string is a valid
// block and every 3:4 group has exactly one encoding. Type id LB_TYPE_STQ1_0 (97).
// Dot products take Q8_K activations (one STQ1_0 block per Q8_K block).
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "fp16.h"

#define LB_QKSTQ 256

typedef struct block_stq1_0 {
    uint8_t qs[LB_QKSTQ / 8];     // code of group g: nibble g (qs[g/2], low nibble for even g)
    uint8_t sign[LB_QKSTQ / 32];  // sign bit of group g: bit g%8 of sign[g/8]
    lb_fp16 d;                    // scale
} block_stq1_0;
_Static_assert(sizeof(block_stq1_0) == 42, "block_stq1_0 must be 42 bytes (32 + 8 + 2)");

// The codebook: lanes of (code, sign) are ((CB[16*sign + code] >> 2p) & 3) - 1, p = 0..3.
extern const uint8_t lb_stq1_0_codebook[32];
// Its inverse: index 16*sign + code of a 3:4 group (lanes in -1/0/1, lane p = weight ... + 16p),
// or -1 if the group is not exactly one 0 and three +-1.
int lb_stq1_0_encode_group(const int8_t lanes[4]);

// --- conversions (n a multiple of 256) ----------------------------------------
void lb_stq1_0_to_float(const void *x, float *y, int64_t n);   // dequantize_row: lane * d
// quantize_row_ref (RTN, Sherry's rule with STQ1_0's grouping): in every group the lane of
// smallest |w| becomes 0 (the lowest lane on ties; NaN counts as 0), the others keep their
// sign (w < 0 -> -1, else +1); d = fp16(mean |w| of the 192 kept weights of the block),
// clamped to 65504.
void lb_stq1_0_from_float(const float *x, void *y, int64_t n);

// --- exact packing -----------------------------------------------------------
// one block from lanes in weight order (-1, 0, 1; exactly one 0 per group) and raw fp16 bits;
// returns -1 (block left unspecified) if some group violates 3:4, else 0
int lb_stq1_0_pack(block_stq1_0 *y, const int8_t lanes[256], uint16_t d_fp16);
// the inverse (every block decodes: all 32 codebook entries are valid)
void lb_stq1_0_unpack(const block_stq1_0 *x, int8_t lanes[256], uint16_t *d_fp16);

// --- dot products: *s = dot(STQ1_0 row x, Q8_K row y), n a multiple of 256 ------
void lb_vec_dot_stq1_0_q8_K_ref(int64_t n, float *s, const void *x, const void *y);   // exact ints, double sum
void lb_vec_dot_stq1_0_q8_K_avx2(int64_t n, float *s, const void *x, const void *y);
// AVX-512 (F/BW/VL/DQ + VBMI + VNNI + BMI2; only valid when lb_cpu_features.avx512vbmi_vnni)
// on activations in the Kp order: Q8_K blocks whose qs were reordered by
// lb_stq1_0_permute_q8_K (d and bsums unchanged). The type table registers these with
// lb_stq1_0_act_from_float as the activation conversion.
void lb_vec_dot_stq1_0_q8_Kp_avx512(int64_t n, float *s, const void *x, const void *y);
// the same for 4 activation rows (prefill): s[t*bs] = dot(x, row t of y), row t at y + t*by
// bytes; every result bitwise equal to lb_vec_dot_stq1_0_q8_Kp_avx512's for that row
void lb_vec_dot4_stq1_0_q8_Kp_avx512(int64_t n, float *s, size_t bs, const void *x, const void *y, size_t by);
// reorder the qs of nb Q8_K blocks in place into the Kp order: byte 64p + i of a block becomes
// the activation that lane p of group g(i) multiplies, g(i) = 2i for i < 32, 2(i-32)+1 after
void lb_stq1_0_permute_q8_K(void *y, int64_t nb);
// lb_q8_K_from_float, then lb_stq1_0_permute_q8_K: the activation conversion for the Kp kernels
void lb_stq1_0_act_from_float(const float *x, void *y, int64_t n);
