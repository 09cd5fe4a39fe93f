// q2_k.h: ggml's Q2_K block: 256 weights in 16 sub-blocks of 16, each with a 4-bit scale
// and a 4-bit min under two fp16 super-scales. Weight i of sub-block j is
//     (d * sc[j]) * code - (dmin * mn[j]),   code in 0..3
// computed in f32 exactly in that order (dequantize and ggml agree bit for bit).
// Dot products take Q8_K activations (ggml's vec_dot_type for Q2_K).
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "fp16.h"
#include "q8_k.h"

typedef struct block_q2_K {
    uint8_t scales[LB_QK_K / 16];  // low nibble: scale sc[j], high nibble: min mn[j]
    uint8_t qs[LB_QK_K / 4];       // 2-bit codes; element order below
    lb_fp16 d;                     // super-scale of the scales
    lb_fp16 dmin;                  // super-scale of the mins
} block_q2_K;
_Static_assert(sizeof(block_q2_K) == 84, "block_q2_K must be 84 bytes (16 + 64 + 2 + 2), as in ggml");

// Element order (ggml's): for half h in {0,1}, shift s in 0..3 and l in 0..31, weight
// 128h + 32s + l is bits 2s..2s+1 of qs[32h + l]; it belongs to sub-block (128h + 32s + l)/16.

void lb_q2_K_to_float(const void *x, float *y, int64_t n);     // ggml's dequantize_row_q2_K
// ggml's quantize_row_q2_K_ref (no importance matrix): per sub-block make_qkx2_quants with
// |x| weights, then 4-bit scales/mins against the largest, then codes re-rounded against the
// stored (fp16, 4-bit) scale and min. Byte-identical to llama-quantize's Q2_K without imatrix.
void lb_q2_K_from_float(const float *x, void *y, int64_t n);

// *s = dot(Q2_K row x, Q8_K row y), n a multiple of 256
void lb_vec_dot_q2_K_q8_K_ref(int64_t n, float *s, const void *x, const void *y);
void lb_vec_dot_q2_K_q8_K_avx2(int64_t n, float *s, const void *x, const void *y);
void lb_vec_dot_q2_K_q8_K_avx512(int64_t n, float *s, const void *x, const void *y);
// the same for 4 activation rows (prefill): s[t*bs] = dot(x, row t of y), row t at y + t*by
// bytes; every result bitwise equal to lb_vec_dot_q2_K_q8_K_avx512's for that row
void lb_vec_dot4_q2_K_q8_K_avx512(int64_t n, float *s, size_t bs, const void *x, const void *y, size_t by);

// --- exact packing (no re-rounding) ------------------------------------------
// Writes a chosen grid verbatim: codes (0..3) in weight order 0..255, per sub-block scale
// sc[j] and min mn[j] (0..15 each), and the two fp16 super-scales as raw bits. Values out of
// range are masked to their field width.
void lb_q2_K_pack(block_q2_K *y, const uint8_t codes[256] /*0..3, weight order 0..255*/, const uint8_t sc[16] /*0..15*/, const uint8_t mn[16] /*0..15*/, uint16_t d_fp16, uint16_t dmin_fp16);
// the inverse: every field of the block back out (unpack(pack(...)) == inputs)
void lb_q2_K_unpack(const block_q2_K *x, uint8_t codes[256], uint8_t sc[16], uint8_t mn[16],
                    uint16_t *d_fp16, uint16_t *dmin_fp16);
