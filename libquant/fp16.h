// fp16.h: IEEE half and bfloat16 <-> float, bit-exact with ggml's conversions
// (round to nearest even; bf16 keeps NaNs quiet, as ggml_compute_fp32_to_bf16 does).
#pragma once
#include <stdint.h>
#include <string.h>

typedef uint16_t lb_fp16;
typedef uint16_t lb_bf16;

static inline uint32_t lb_f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float lb_bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static inline float lb_fp16_to_f32(lb_fp16 h) {
    // exponent/mantissa trick (Maratyszcza's FP16 library method): exact for every input
    const uint32_t w = (uint32_t)h << 16;
    const uint32_t sign = w & 0x80000000u;
    const uint32_t two_w = w + w;
    const uint32_t exp_offset = 0xE0u << 23;
    const float exp_scale = 0x1.0p-112f;
    const float normalized = lb_bits_f32((two_w >> 4) + exp_offset) * exp_scale;
    const uint32_t magic_mask = 126u << 23;
    const float magic_bias = 0.5f;
    const float denormalized = lb_bits_f32((two_w >> 17) | magic_mask) - magic_bias;
    const uint32_t denormalized_cutoff = 1u << 27;
    const uint32_t result = sign | (two_w < denormalized_cutoff ? lb_f32_bits(denormalized) : lb_f32_bits(normalized));
    return lb_bits_f32(result);
}

static inline lb_fp16 lb_f32_to_fp16(float f) {
    // round to nearest even via float arithmetic (same result as F16C _cvtss_sh(x, 0))
    const float scale_to_inf = 0x1.0p+112f;
    const float scale_to_zero = 0x1.0p-110f;
    float base = (f < 0 ? -f : f) * scale_to_inf * scale_to_zero;
    const uint32_t w = lb_f32_bits(f);
    const uint32_t shl1_w = w + w;
    const uint32_t sign = w & 0x80000000u;
    uint32_t bias = shl1_w & 0xFF000000u;
    if (bias < 0x71000000u) bias = 0x71000000u;
    base = lb_bits_f32((bias >> 1) + 0x07800000u) + base;
    const uint32_t bits = lb_f32_bits(base);
    const uint32_t exp_bits = (bits >> 13) & 0x00007C00u;
    const uint32_t mantissa_bits = bits & 0x00000FFFu;
    const uint32_t nonsign = exp_bits + mantissa_bits;
    return (lb_fp16)((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}

static inline float lb_bf16_to_f32(lb_bf16 h) { return lb_bits_f32((uint32_t)h << 16); }

static inline lb_bf16 lb_f32_to_bf16(float f) {
    uint32_t u = lb_f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (lb_bf16)((u >> 16) | 64);   // NaN: force quiet
    return (lb_bf16)((u + (0x7fffu + ((u >> 16) & 1))) >> 16);
}
