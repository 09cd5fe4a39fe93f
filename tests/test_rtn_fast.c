// test_rtn_fast.c: the vectorized RTN quantizers `lowbit quantize` runs (TQ1_0, TQ2_0, Q8_0
// from_float; lb_stq1_0_from_float_fast, lb_q2_0c_from_float_fast) give the same bytes as the scalar references, and
// the F16 row conversion the command reads with is bit-exact against lb_fp16_to_f32.
// Inputs aim at the places a vector rewrite goes wrong: exact rounding ties (x*id = k + 0.5),
// values just below a tie, -0, subnormals, NaN / inf anywhere in a block, all-zero blocks,
// blocks whose 1/d overflows, equal magnitudes in one STQ1_0 group, a wide exponent spread.
#include "lb_types.h"
#include "fp16.h"
#include "rtn_avx2.h"
#include "stq1_0.h"
#include "stq1_0_quant.h"
#include "q2_0c.h"
#include "q2_0c_quant.h"
#include "test_util.h"
#include <math.h>
#include <stdint.h>

#define NB 64                 // blocks of 256 per case
#define N (NB * 256)

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t next_u32(void) {   // xorshift64*
    rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545F4914F6CDD1Dull) >> 32);
}
static float uniform(void) { return ((float)(next_u32() >> 8) + 0.5f) / 16777216.0f; }   // (0, 1)
static float normal(void) { return sqrtf(-2.0f * logf(uniform())) * cosf(6.2831853f * uniform()); }
static float pick(const float *v, int n) { return v[next_u32() % (unsigned)n]; }

// fills x with case k; returns 0 past the last case
static int make_case(int k, float *x) {
    static const float tern_ties[] = {0.5f, -0.5f, 0.25f, -0.75f, 0.0f, -0.0f, 0.49999997f, -0.49999997f, 0.50000006f, 1.0f};
    for (int i = 0; i < N; i++) {
        float v;
        switch (k) {
        case 0: v = normal(); break;
        case 1: v = normal() * 1e-3f; break;
        case 2: v = normal() * 3e4f; break;
        case 3: v = pick(tern_ties, 10); if (i % 256 == 7) v = (i & 256) ? -1.0f : 1.0f; break;   // amax 1: id 1
        case 4:   // Q8_0 ties: amax 127 -> d = 1, id = 1; codes k + 0.5 and their neighbours
            v = (float)((int)(next_u32() % 254) - 127) + pick((const float[]){0.5f, -0.5f, 0.0f, 0.49999997f, 0.5000001f}, 5);
            if (fabsf(v) > 127.0f) v = copysignf(127.0f, v);
            if (i % 32 == 3) v = 127.0f;
            break;
        case 5: v = normal(); if (next_u32() % 97 == 0) v = pick((const float[]){NAN, -NAN, INFINITY, -INFINITY}, 4); break;
        case 6: v = normal() * 1e-39f; break;                           // subnormal blocks: 1/d overflows
        case 7: v = (i / 256) % 2 ? 0.0f : -0.0f; break;                // all-zero blocks
        case 8: v = normal() * ((next_u32() % 16 == 0) ? 1e-20f : 1.0f); break;   // STQ1_0: wide spread
        case 9: v = pick((const float[]){1.0f, -1.0f, 0.5f, -0.5f, 0.0f, -0.0f}, 6); break;   // equal |w| in a group
        case 10: v = normal() * 3e38f; break;                           // overflow to inf in sums / scales
        case 11: v = (float)(next_u32() % 3) - 1.0f; break;             // already ternary
        case 12: v = normal(); if (i % 256 == 100) v = 1e30f; break;    // one outlier per block
        case 13:   // Q2_0C ties: amax 3 -> d = 1; x = 0, +-2 land on (x/d + 3)/2 = k + 0.5
            v = pick((const float[]){0.0f, 2.0f, -2.0f, 1.0f, -1.0f, -0.0f, 2.0000002f, 1.9999999f}, 8);
            if (i % 512 == 5) v = (i & 512) ? -3.0f : 3.0f;
            break;
        default: return 0;
        }
        x[i] = v;
    }
    return 1;
}

static int same(const char *what, int k, const void *a, const void *b, size_t n) {
    if (!memcmp(a, b, n)) return 1;
    size_t i = 0;
    while (((const uint8_t *)a)[i] == ((const uint8_t *)b)[i]) i++;
    fprintf(stderr, "FAIL %s, case %d: byte %zu differs (%02x vs reference %02x)\n", what, k, i,
            ((const uint8_t *)a)[i], ((const uint8_t *)b)[i]);
    return 0;
}

int main(void) {
    static float x[N];
    static uint8_t fast[N * 2], ref[N * 2];
    int checks = 0;
    for (int k = 0; make_case(k, x); k++) {
        struct { const char *name; uint32_t type; void (*fast)(const float *, void *, int64_t);
                 void (*ref)(const float *, void *, int64_t); } q[] = {
            {"tq1_0", LB_TYPE_TQ1_0, lb_type_get(LB_TYPE_TQ1_0)->from_float, lb_tq1_0_from_float_ref},
            {"tq2_0", LB_TYPE_TQ2_0, lb_type_get(LB_TYPE_TQ2_0)->from_float, lb_tq2_0_from_float_ref},
            {"q8_0", LB_TYPE_Q8_0, lb_type_get(LB_TYPE_Q8_0)->from_float, lb_q8_0_from_float_ref},
            {"stq1_0", LB_TYPE_STQ1_0, lb_stq1_0_from_float_fast, lb_stq1_0_from_float},
            {"q2_0c", LB_TYPE_Q2_0C, lb_q2_0c_from_float_fast, lb_q2_0c_from_float},
        };
        for (size_t t = 0; t < sizeof q / sizeof q[0]; t++) {
            const size_t bytes = lb_row_size(q[t].type, N);
            CHECK(bytes && bytes <= sizeof fast, "%s: row size %zu", q[t].name, bytes);
            memset(fast, 0xAA, bytes);
            memset(ref, 0x55, bytes);
            q[t].fast(x, fast, N);
            q[t].ref(x, ref, N);
            if (!same(q[t].name, k, fast, ref, bytes)) return 1;
            checks++;
        }
    }
    // F16 -> F32 as the quantize command reads F16 tensors: every half, NaN payloads included
    static uint16_t h[65536];
    static float f[65536];
    for (uint32_t i = 0; i < 65536; i++) h[i] = (uint16_t)i;
    lb_type_get(LB_TYPE_F16)->to_float(h, f, 65536);
    for (uint32_t i = 0; i < 65536; i++) {
        const float r = lb_fp16_to_f32((lb_fp16)i);
        CHECK(!memcmp(&f[i], &r, 4), "f16 %04x: to_float gives %08x, lb_fp16_to_f32 %08x", i, lb_f32_bits(f[i]), lb_f32_bits(r));
    }
    checks++;
    printf("rtn_fast: %d checks passed (fast quantizers == references, f16 rows exact)\n", checks);
    return 0;
}
