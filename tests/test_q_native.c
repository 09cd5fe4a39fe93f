// test_q_native.c: lowbit's native block types Q2_0C and STQ1_0 (docs/formats.md).
// - the type table knows them (ids 96/97, sizes, kernels, Q8_K activations);
// - the STQ1_0 codebook (a copy of the spec's table, kept here independently of the library)
//   is exactly the 32 patterns "one 0, three +-1", and the encoder inverts it;
// - exact round trips: pack(unpack(block)) == block bytes, dequantize(pack(grid)) == grid;
// - RTN follows each type's rule, and on-grid tensors (SEQ 2-bit, Sherry 3:4) come back exactly;
// - every SIMD dot kernel == the scalar reference within 1e-5 of sum |x_i*y_i|, and the
//   reference == an independent double loop over dequantized values.
// `test_q_native --bench` times single-thread matvecs of the native types against the others.
#include <math.h>
#include <stdint.h>
#include <time.h>
#include <stdbool.h>
#include <dlfcn.h>
#include "test_util.h"
#include "lb_types.h"
#include "cpu_features.h"
#include "fp16.h"
#include "q8_k.h"
#include "q2_0c.h"
#include "stq1_0.h"
#include "gguf.h"
#include "model.h"
#include "matmul.h"

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static uint32_t rnd_u32(void) {   // xorshift64*
    rng_state ^= rng_state >> 12; rng_state ^= rng_state << 25; rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}
static float rnd_f(void) { return (float)rnd_u32() / 4294967296.0f * 2.0f - 1.0f; }   // [-1, 1)
static void rnd_bytes(void *p, size_t n) { for (size_t i = 0; i < n; i++) ((uint8_t *)p)[i] = (uint8_t)rnd_u32(); }

// a finite fp16 with a random (normal) exponent in a reasonable range, positive
static uint16_t rnd_fp16_normal(void) {
    const uint32_t e = 5 + rnd_u32() % 20;   // 2^-10 .. 2^9
    return (uint16_t)(e << 10 | (rnd_u32() & 0x3FF));
}

typedef void (*dot_fn)(int64_t, float *, const void *, const void *);

// --- the spec's codebook, copied from docs/formats.md (NOT from the library) ---
static const uint8_t SPEC_CB[32] = {
    0xA9, 0x89, 0x29, 0x09, 0xA6, 0x86, 0x26, 0x06, 0x9A, 0x92, 0x1A, 0x12, 0x6A, 0x62, 0x4A, 0x42,
    0x01, 0x21, 0x81, 0xA1, 0x04, 0x24, 0x84, 0xA4, 0x10, 0x18, 0x90, 0x98, 0x40, 0x48, 0x60, 0x68,
};
static int spec_lane(int idx, int p) { return ((SPEC_CB[idx] >> (2 * p)) & 3) - 1; }
static int spec_weight(int g, int p) { return (g / 16) * 64 + (g % 16) + 16 * p; }

// spec decode of one STQ1_0 block into floats, written from the spec text only
static void spec_stq1_0_decode(const uint8_t *blk, float *out) {
    const float d = lb_fp16_to_f32((uint16_t)(blk[40] | blk[41] << 8));
    for (int g = 0; g < 64; g++) {
        const int code = (blk[g / 2] >> (4 * (g % 2))) & 15, s = (blk[32 + g / 8] >> (g % 8)) & 1;
        for (int p = 0; p < 4; p++) out[spec_weight(g, p)] = (float)spec_lane(16 * s + code, p) * d;
    }
}
// spec decode of one Q2_0C block
static void spec_q2_0c_decode(const uint8_t *blk, float *out) {
    const double d = lb_fp16_to_f32((uint16_t)(blk[0] | blk[1] << 8));
    for (int i = 0; i < 512; i++) {
        const int c = (blk[2 + i / 4] >> (2 * (i % 4))) & 3;
        out[i] = (float)((2 * c - 3) * d);
    }
}

// ---------------------------------------------------------------------------
static int test_type_table(void) {
    const lb_type_traits *a = lb_type_get(LB_TYPE_Q2_0C), *b = lb_type_get(LB_TYPE_STQ1_0);
    CHECK(LB_TYPE_Q2_0C == 96 && LB_TYPE_STQ1_0 == 97, "ids");
    CHECK(a && strcmp(a->name, "q2_0c") == 0 && a->blck_size == 512 && a->type_size == 130, "q2_0c sizes");
    CHECK(b && strcmp(b->name, "stq1_0") == 0 && b->blck_size == 256 && b->type_size == 42, "stq1_0 sizes");
    CHECK(a->to_float && a->from_float && a->vec_dot && a->vec_dot_type == LB_TYPE_Q8_K, "q2_0c kernels");
    CHECK(b->to_float && b->from_float && b->vec_dot && b->vec_dot_type == LB_TYPE_Q8_K, "stq1_0 kernels");
    CHECK(lb_row_size(LB_TYPE_Q2_0C, 2048) == 4 * 130 && lb_row_size(LB_TYPE_Q2_0C, 768) == 0, "q2_0c row size");
    CHECK(lb_row_size(LB_TYPE_STQ1_0, 768) == 3 * 42, "stq1_0 row size");
    CHECK(lb_type_from_name("Q2_0C") == 96 && lb_type_from_name("stq1_0") == 97, "names");
    // bits per weight as documented: 2.03125 and 1.3125
    CHECK(130.0 * 8 / 512 == 2.03125 && 42.0 * 8 / 256 == 1.3125, "bpw");
    printf("type table: q2_0c = 96 (512/130), stq1_0 = 97 (256/42), Q8_K activations\n");
    return 0;
}

// ---------------------------------------------------------------------------
static int test_stq1_0_codebook(void) {
    CHECK(memcmp(SPEC_CB, lb_stq1_0_codebook, 32) == 0, "library codebook differs from the spec");
    // every entry: one zero lane, three +-1; all 32 distinct
    int seen[81] = {0};
    for (int i = 0; i < 32; i++) {
        int zeros = 0, key = 0;
        for (int p = 0; p < 4; p++) {
            const int v = spec_lane(i, p);
            CHECK(v >= -1 && v <= 1, "entry %d lane %d = %d", i, p, v);
            zeros += v == 0;
            key = key * 3 + (v + 1);
        }
        CHECK(zeros == 1, "entry %d has %d zero lanes", i, zeros);
        CHECK(!seen[key], "entry %d duplicates another", i);
        seen[key] = 1;
    }
    // all 81 lane patterns: the 32 valid (3:4) ones encode to the entry that decodes back to
    // them, the other 49 are rejected. 32 distinct valid entries = C(4,3)*2^3: complete.
    int valid = 0;
    for (int key = 0; key < 81; key++) {
        int8_t l[4];
        int k = key, zeros = 0;
        for (int p = 3; p >= 0; p--) { l[p] = (int8_t)(k % 3 - 1); k /= 3; }
        for (int p = 0; p < 4; p++) zeros += l[p] == 0;
        const int idx = lb_stq1_0_encode_group(l);
        if (zeros != 1) { CHECK(idx == -1, "pattern %d (%d zeros) accepted", key, zeros); continue; }
        valid++;
        CHECK(idx >= 0 && idx < 32, "valid pattern %d rejected", key);
        for (int p = 0; p < 4; p++) CHECK(spec_lane(idx, p) == l[p], "pattern %d -> entry %d lane %d", key, idx, p);
        CHECK(seen[key], "pattern %d not in the codebook", key);
    }
    CHECK(valid == 32, "valid patterns %d", valid);
    const int8_t bad[4] = { 2, 1, 0, 1 };
    CHECK(lb_stq1_0_encode_group(bad) == -1, "lane value 2 accepted");
    printf("stq1_0 codebook: 32 distinct 3:4 patterns (complete), encoder inverts it, 49 non-3:4 patterns rejected\n");
    printf("  (code,sign) -> lanes p0..p3:\n");
    for (int i = 0; i < 32; i++)
        printf("  %2d/%d %02X:%+d%+d%+d%+d%s", i & 15, i >> 4, SPEC_CB[i], spec_lane(i, 0), spec_lane(i, 1),
               spec_lane(i, 2), spec_lane(i, 3), i % 4 == 3 ? "\n" : "");
    return 0;
}

// ---------------------------------------------------------------------------
static int test_q2_0c_exact(void) {
    for (int t = 0; t < 200; t++) {
        // random bytes are a valid block: unpack -> pack reproduces them
        block_q2_0c blk, back;
        rnd_bytes(&blk, sizeof blk);
        if (t % 4 == 0) blk.d = rnd_fp16_normal();
        uint8_t codes[512];
        uint16_t d;
        lb_q2_0c_unpack(&blk, codes, &d);
        lb_q2_0c_pack(&back, codes, d);
        CHECK(memcmp(&blk, &back, sizeof blk) == 0, "q2_0c pack(unpack) differs (trial %d)", t);
        // dequantize == the spec's decode, bit for bit (NaN/inf d compare by bits too)
        float y[512], want[512];
        lb_q2_0c_to_float(&blk, y, 512);
        spec_q2_0c_decode((const uint8_t *)&blk, want);
        for (int i = 0; i < 512; i++)   // NaN d: any NaN will do (payloads may differ)
            CHECK(y[i] == want[i] || (isnan(y[i]) && isnan(want[i])), "q2_0c dequantize != spec (trial %d, d 0x%04x, %d: %g vs %g)", t, blk.d, i, y[i], want[i]);
        // a grid tensor: codes + fp16 d -> pack -> dequantize gives exactly (2c-3)*d
        uint8_t c2[512];
        for (int i = 0; i < 512; i++) c2[i] = (uint8_t)(rnd_u32() & 3);
        const uint16_t d2 = rnd_fp16_normal();
        lb_q2_0c_pack(&back, c2, d2);
        lb_q2_0c_to_float(&back, y, 512);
        for (int i = 0; i < 512; i++)
            CHECK(y[i] == (float)((2 * c2[i] - 3) * (double)lb_fp16_to_f32(d2)), "grid value %d", i);
        // codes with stray high bits are masked to 2 bits
        uint8_t c3[512];
        for (int i = 0; i < 512; i++) c3[i] = (uint8_t)(c2[i] | (rnd_u32() & 0xFC));
        block_q2_0c b3;
        lb_q2_0c_pack(&b3, c3, d2);
        CHECK(memcmp(&b3, &back, sizeof b3) == 0, "high code bits not masked");
    }
    printf("q2_0c exact: 200 random blocks pack(unpack) == bytes, dequantize == spec decode, grid -> exact values\n");
    return 0;
}

static int test_q2_0c_rtn(void) {
    float x[1024], y[1024];
    block_q2_0c q[2];
    // 1. SEQ 2-bit grid: alpha fp16-exact, q in {-0.75,-0.25,0.25,0.75}, +-0.75 present ->
    //    RTN gives d = alpha/4 and reproduces the tensor exactly (lossless export)
    for (int t = 0; t < 100; t++) {
        const float alpha = lb_fp16_to_f32(rnd_fp16_normal());
        for (int i = 0; i < 1024; i++) {
            const float u = fminf(fmaxf(rnd_f() * 1.2f, -0.99f), 0.99f);
            const float qv = (rintf(2 * u - 0.5f) + 0.5f) / 2;   // ParetoQ SEQ 2-bit
            x[i] = alpha * qv;
        }
        x[7] = 0.75f * alpha; x[600] = -0.75f * alpha;
        lb_q2_0c_from_float(x, q, 1024);
        lb_q2_0c_to_float(q, y, 1024);
        CHECK(memcmp(x, y, sizeof x) == 0, "SEQ grid not reproduced (alpha %g)", alpha);
        CHECK(lb_fp16_to_f32(q[0].d) == alpha / 4 && lb_fp16_to_f32(q[1].d) == alpha / 4, "d != alpha/4");
    }
    // 2. random data: d = fp16(absmax/3); every value is a nearest grid point
    for (int t = 0; t < 100; t++) {
        const float scale = ldexpf(1.0f, (int)(rnd_u32() % 30) - 20);
        for (int i = 0; i < 1024; i++) x[i] = rnd_f() * scale;
        if (t % 10 == 0) x[rnd_u32() % 1024] = 50 * scale;   // outlier
        lb_q2_0c_from_float(x, q, 1024);
        lb_q2_0c_to_float(q, y, 1024);
        for (int b = 0; b < 2; b++) {
            float amax = 0;
            for (int i = 0; i < 512; i++) amax = fmaxf(amax, fabsf(x[512 * b + i]));
            CHECK(q[b].d == lb_f32_to_fp16(amax / 3), "d rule");
            const double d = lb_fp16_to_f32(q[b].d);
            for (int i = 0; i < 512; i++) {
                const double e = fabs((double)x[512 * b + i] - y[512 * b + i]);
                for (int c = 0; c < 4; c++)
                    CHECK(e <= fabs((double)x[512 * b + i] - (2 * c - 3) * d) * (1 + 1e-6) + 1e-30,
                          "value %d not nearest grid point", i);
            }
        }
    }
    // 3. ties round half to even: x/d = +2 -> (2+3)/2 = 2.5 -> code 2 (value +d), x/d = -2 ->
    //    0.5 -> code 0 (value -3d), x = 0 -> 1.5 -> code 2 (value +d)
    for (int i = 0; i < 512; i++) x[i] = (i % 3 == 0) ? 2.0f : (i % 3 == 1) ? -2.0f : 0.0f;
    x[100] = 3.0f;   // d = 1
    lb_q2_0c_from_float(x, q, 512);
    lb_q2_0c_to_float(q, y, 512);
    CHECK(lb_fp16_to_f32(q[0].d) == 1.0f, "tie block d");
    for (int i = 0; i < 512; i++)
        if (i != 100) CHECK(y[i] == ((i % 3 == 1) ? -3.0f : 1.0f), "tie %d: %g -> %g (half to even)", i, x[i], y[i]);
    // 4. adversarial: zeros, NaN, inf, subnormal-small, huge
    for (int i = 0; i < 512; i++) x[i] = 0;
    lb_q2_0c_from_float(x, q, 512);
    lb_q2_0c_to_float(q, y, 512);
    CHECK(q[0].d == 0 && y[0] == 0 && y[511] == 0, "all-zero block");
    x[3] = NAN; x[4] = 1.0f;
    lb_q2_0c_from_float(x, q, 512);
    lb_q2_0c_to_float(q, y, 512);
    for (int i = 0; i < 512; i++) CHECK(isfinite(y[i]), "NaN input gave non-finite output");
    x[5] = INFINITY;
    lb_q2_0c_from_float(x, q, 512);
    CHECK(q[0].d == 0x7BFF, "inf input: d must clamp to 65504");
    for (int i = 0; i < 512; i++) x[i] = rnd_f() * 1e-9f;   // below the smallest fp16 * 3
    lb_q2_0c_from_float(x, q, 512);
    lb_q2_0c_to_float(q, y, 512);
    for (int i = 0; i < 512; i++) CHECK(fabsf(y[i]) <= 3 * 5.97e-8f, "tiny block");
    for (int i = 0; i < 512; i++) x[i] = rnd_f() * 1e6f;
    lb_q2_0c_from_float(x, q, 512);
    CHECK(q[0].d == 0x7BFF, "huge block d clamps to 65504");
    printf("q2_0c RTN: SEQ 2-bit grid (alpha fp16) reproduced exactly with d = alpha/4; random data -> nearest grid point, d = fp16(absmax/3); zero/NaN/inf/tiny/huge handled\n");
    return 0;
}

// ---------------------------------------------------------------------------
static void rnd_lanes_34(int8_t lanes[256]) {   // a random valid 3:4 lane array (STQ1_0 grouping)
    for (int g = 0; g < 64; g++) {
        const int z = (int)(rnd_u32() % 4);
        for (int p = 0; p < 4; p++) lanes[spec_weight(g, p)] = (int8_t)(p == z ? 0 : (rnd_u32() & 1) ? 1 : -1);
    }
}

static int test_stq1_0_exact(void) {
    for (int t = 0; t < 200; t++) {
        block_stq1_0 blk, back;
        rnd_bytes(&blk, sizeof blk);
        if (t % 4 == 0) blk.d = rnd_fp16_normal();
        int8_t lanes[256];
        uint16_t d;
        lb_stq1_0_unpack(&blk, lanes, &d);
        CHECK(lb_stq1_0_pack(&back, lanes, d) == 0, "valid block rejected");
        CHECK(memcmp(&blk, &back, sizeof blk) == 0, "stq1_0 pack(unpack) differs (trial %d)", t);
        float y[256], want[256];
        lb_stq1_0_to_float(&blk, y, 256);
        spec_stq1_0_decode((const uint8_t *)&blk, want);
        for (int i = 0; i < 256; i++)
            CHECK(y[i] == want[i] || (isnan(y[i]) && isnan(want[i])), "stq1_0 dequantize != spec (trial %d, %d)", t, i);
        // grid -> pack -> dequantize: exactly lane*d
        int8_t l2[256];
        rnd_lanes_34(l2);
        const uint16_t d2 = rnd_fp16_normal();
        CHECK(lb_stq1_0_pack(&back, l2, d2) == 0, "pack of valid lanes failed");
        lb_stq1_0_to_float(&back, y, 256);
        for (int i = 0; i < 256; i++) CHECK(y[i] == (float)l2[i] * lb_fp16_to_f32(d2), "grid value %d", i);
        // a group with two zeros, or none, or a 2, is refused
        const int g = (int)(rnd_u32() % 64);
        int8_t l3[256];
        memcpy(l3, l2, 256);
        for (int p = 0; p < 4; p++) if (l3[spec_weight(g, p)] != 0) { l3[spec_weight(g, p)] = 0; break; }
        CHECK(lb_stq1_0_pack(&back, l3, d2) == -1, "two zeros accepted");
        memcpy(l3, l2, 256);
        for (int p = 0; p < 4; p++) if (l3[spec_weight(g, p)] == 0) l3[spec_weight(g, p)] = 1;
        CHECK(lb_stq1_0_pack(&back, l3, d2) == -1, "no zero accepted");
    }
    printf("stq1_0 exact: 200 random blocks pack(unpack) == bytes, dequantize == spec decode, 3:4 grid -> exact values, non-3:4 groups refused\n");
    return 0;
}

static int test_stq1_0_rtn(void) {
    float x[512], y[512];
    block_stq1_0 q[2];
    // 1. Sherry 3:4 with STQ1_0 grouping, alpha fp16-exact per 256 block -> exact
    for (int t = 0; t < 100; t++) {
        int8_t l[512];
        rnd_lanes_34(l); rnd_lanes_34(l + 256);
        const float a0 = lb_fp16_to_f32(rnd_fp16_normal()), a1 = lb_fp16_to_f32(rnd_fp16_normal());
        for (int i = 0; i < 512; i++) x[i] = (float)l[i] * (i < 256 ? a0 : a1);
        lb_stq1_0_from_float(x, q, 512);
        lb_stq1_0_to_float(q, y, 512);
        CHECK(memcmp(x, y, sizeof x) == 0, "Sherry grid not reproduced");
    }
    // 2. random: zero lane = smallest |w| of its group, signs kept, d = fp16(mean kept |w|)
    for (int t = 0; t < 100; t++) {
        const float scale = ldexpf(1.0f, (int)(rnd_u32() % 30) - 20);
        for (int i = 0; i < 256; i++) x[i] = rnd_f() * scale;
        lb_stq1_0_from_float(x, q, 256);
        int8_t l[256];
        uint16_t d;
        lb_stq1_0_unpack(&q[0], l, &d);
        double kept = 0;
        for (int g = 0; g < 64; g++) {
            int zp = 0;
            for (int p = 1; p < 4; p++) if (fabsf(x[spec_weight(g, p)]) < fabsf(x[spec_weight(g, zp)])) zp = p;
            for (int p = 0; p < 4; p++) {
                const int w = spec_weight(g, p);
                if (p == zp) { CHECK(l[w] == 0, "group %d: zero not at smallest |w|", g); continue; }
                CHECK(l[w] == (x[w] < 0 ? -1 : 1), "group %d lane %d sign", g, p);
                kept += fabsf(x[w]);
            }
        }
        CHECK(d == lb_f32_to_fp16((float)(kept / 192)), "d = mean of kept |w|");
    }
    // 3. ties: equal magnitudes -> the lowest lane is the zero
    for (int i = 0; i < 256; i++) x[i] = (i & 1) ? 0.5f : -0.5f;
    lb_stq1_0_from_float(x, q, 256);
    {
        int8_t l[256];
        uint16_t d;
        lb_stq1_0_unpack(&q[0], l, &d);
        for (int g = 0; g < 64; g++) CHECK(l[spec_weight(g, 0)] == 0, "tie group %d: zero not at lane 0", g);
        CHECK(lb_fp16_to_f32(d) == 0.5f, "tie block d");
    }
    // 4. adversarial
    for (int i = 0; i < 256; i++) x[i] = 0;
    lb_stq1_0_from_float(x, q, 256);
    lb_stq1_0_to_float(q, y, 256);
    for (int i = 0; i < 256; i++) CHECK(y[i] == 0, "zero block");
    x[9] = NAN; x[10] = INFINITY;
    lb_stq1_0_from_float(x, q, 256);
    CHECK(q[0].d == 0x7BFF, "inf input: d must clamp to 65504");
    printf("stq1_0 RTN: Sherry 3:4 grid (STQ1_0 grouping, alpha fp16) reproduced exactly; random -> smallest |w| zeroed, signs kept, d = fp16(mean kept); zero/NaN/inf handled\n");
    return 0;
}

// ---------------------------------------------------------------------------
// dot kernels. Q8_K activations are built directly (random codes, consistent bsums).
static void rnd_q8_K(block_q8_K *y, int64_t nb, int mode) {
    for (int64_t b = 0; b < nb; b++) {
        for (int i = 0; i < 256; i++) {
            int v = (int)(rnd_u32() % 255) - 127;
            if (mode == 1) v = (i & 1) ? 127 : -127;          // extremes
            if (mode == 2) v = 127;                           // all max: bsums at their limit
            if (mode == 3) v = (rnd_u32() % 64) ? 0 : v;      // mostly zero
            y[b].qs[i] = (int8_t)v;
        }
        for (int j = 0; j < 16; j++) {
            int s = 0;
            for (int l = 0; l < 16; l++) s += y[b].qs[16 * j + l];
            y[b].bsums[j] = (int16_t)s;
        }
        const float ds[] = { 1e-3f, 0.02f, -0.5f, 3.0f, 1e-20f, 1e8f };
        y[b].d = mode == 4 ? ds[rnd_u32() % 6] : 0.01f * (1 + rnd_f());
    }
}

static uint16_t adversarial_d(int mode) {
    switch (mode) {
    case 1: return 0;                       // zero scale
    case 2: return 0x7BFF;                  // 65504
    case 3: return 0x0001;                  // smallest subnormal
    case 4: return 0x03FF;                  // largest subnormal
    case 5: return 0x8000 | rnd_fp16_normal();   // negative (never written by RTN, still decodes)
    case 6: return (rnd_u32() % 8) ? 0x1000 : 0x7000;   // outlier blocks among small ones
    default: return rnd_fp16_normal();
    }
}

// ref on activations y, simd on ys (y itself, or y in a kernel's private order)
static int check_dot2(const char *name, int64_t n, dot_fn ref, dot_fn simd, const void *x, const void *y, const void *ys,
                      double terms) {
    float r = 0, s = 0;
    ref(n, &r, x, y);
    simd(n, &s, x, ys);
    const double err = fabs((double)s - r), tol = 1e-5 * terms + 1e-30;
    if (!(err <= tol)) {
        fprintf(stderr, "FAIL %s n=%lld: ref %.9g simd %.9g (err %.3g > tol %.3g)\n", name, (long long)n, r, s, err, tol);
        return 1;
    }
    return 0;
}

static int check_dot(const char *name, int64_t n, dot_fn ref, dot_fn simd, const void *x, const void *y, double terms) {
    return check_dot2(name, n, ref, simd, x, y, y, terms);
}

static int test_dots(int have_avx2, int have_vbmi) {
    static const int64_t sizes[] = { 512, 1024, 1536, 2048, 4096, 5632, 8192 };
    int fails = 0, checks = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        const int64_t n = sizes[si], nq = n / 512, ns = n / 256, nk = n / 256;
        block_q2_0c *xq = malloc(nq * sizeof *xq);
        block_stq1_0 *xs = malloc(ns * sizeof *xs);
        block_q8_K *y = malloc(nk * sizeof *y);
        float *wq = malloc(n * 4), *ws = malloc(n * 4), *yf = malloc(n * 4);
        for (int mode = 0; mode < 7; mode++) {
            for (int ymode = 0; ymode < 5; ymode++) {
                rnd_bytes(xq, nq * sizeof *xq);
                rnd_bytes(xs, ns * sizeof *xs);
                for (int64_t b = 0; b < nq; b++) xq[b].d = adversarial_d(mode);
                for (int64_t b = 0; b < ns; b++) xs[b].d = adversarial_d(mode);
                rnd_q8_K(y, nk, ymode);
                lb_q2_0c_to_float(xq, wq, n);
                lb_stq1_0_to_float(xs, ws, n);
                lb_q8_K_to_float(y, yf, n);
                // independent double sums over the dequantized values (d*q exact in double)
                double tq = 0, ts = 0, eq = 0, es = 0;
                for (int64_t i = 0; i < n; i++) {
                    const double yi = (double)y[i / 256].d * y[i / 256].qs[i % 256];
                    eq += wq[i] * yi; tq += fabs(wq[i] * yi);
                    es += ws[i] * yi; ts += fabs(ws[i] * yi);
                }
                float r;
                lb_vec_dot_q2_0c_q8_K_ref(n, &r, xq, y);
                if (!(fabs(r - eq) <= 1e-6 * tq + 1e-30)) { fprintf(stderr, "FAIL q2_0c ref n=%lld mode %d/%d: %g vs %g\n", (long long)n, mode, ymode, r, eq); fails++; }
                lb_vec_dot_stq1_0_q8_K_ref(n, &r, xs, y);
                if (!(fabs(r - es) <= 1e-6 * ts + 1e-30)) { fprintf(stderr, "FAIL stq1_0 ref n=%lld mode %d/%d: %g vs %g\n", (long long)n, mode, ymode, r, es); fails++; }
                checks += 2;
                if (have_avx2) {
                    fails += check_dot("q2_0c/avx2", n, lb_vec_dot_q2_0c_q8_K_ref, lb_vec_dot_q2_0c_q8_K_avx2, xq, y, tq);
                    fails += check_dot("stq1_0/avx2", n, lb_vec_dot_stq1_0_q8_K_ref, lb_vec_dot_stq1_0_q8_K_avx2, xs, y, ts);
                    checks += 2;
                }
                if (have_vbmi) {
                    fails += check_dot("q2_0c/avx512", n, lb_vec_dot_q2_0c_q8_K_ref, lb_vec_dot_q2_0c_q8_K_avx512, xq, y, tq);
                    // STQ1_0's AVX-512 kernel reads the activations in its Kp order
                    block_q8_K *ykp = malloc(nk * sizeof *ykp);
                    memcpy(ykp, y, nk * sizeof *y);
                    lb_stq1_0_permute_q8_K(ykp, nk);
                    fails += check_dot2("stq1_0/avx512-kp", n, lb_vec_dot_stq1_0_q8_K_ref, lb_vec_dot_stq1_0_q8_Kp_avx512, xs, y, ykp, ts);
                    free(ykp);
                    checks += 2;
                    // the 4-row prefill kernels: each of 4 results bitwise the 1-row kernel's
                    // (row 0 is y itself, rows 1..3 fresh; output stride 3 floats)
                    block_q8_K *y4 = malloc(4 * nk * sizeof *y4);
                    memcpy(y4, y, nk * sizeof *y);
                    for (int t = 1; t < 4; t++) rnd_q8_K(y4 + t * nk, nk, (ymode + t) % 5);
                    float s4[12], s1;
                    for (int k = 0; k < 2; k++) {
                        memset(s4, 0xFF, sizeof s4);
                        if (k == 0) lb_vec_dot4_q2_0c_q8_K_avx512(n, s4, 3, xq, y4, nk * sizeof *y4);
                        else        lb_vec_dot4_stq1_0_q8_Kp_avx512(n, s4, 3, xs, y4, nk * sizeof *y4);
                        for (int t = 0; t < 4; t++) {
                            if (k == 0) lb_vec_dot_q2_0c_q8_K_avx512(n, &s1, xq, y4 + t * nk);
                            else        lb_vec_dot_stq1_0_q8_Kp_avx512(n, &s1, xs, y4 + t * nk);
                            if (memcmp(&s1, &s4[3 * t], sizeof s1)) {
                                fprintf(stderr, "FAIL %s dot4 row %d n=%lld mode %d/%d: %.9g vs 1-row %.9g\n",
                                        k ? "stq1_0" : "q2_0c", t, (long long)n, mode, ymode, s4[3 * t], s1);
                                fails++;
                            }
                            checks++;
                        }
                    }
                    free(y4);
                }
            }
        }
        // through the type table and the library's own activation quantizer
        for (int64_t i = 0; i < n; i++) yf[i] = rnd_f();
        lb_q8_K_from_float(yf, y, n);
        const lb_type_traits *tq2 = lb_type_get(LB_TYPE_Q2_0C), *tst = lb_type_get(LB_TYPE_STQ1_0);
        // the table's kernels get the activations converted the way the runtime converts them
        block_q8_K *yt = malloc(nk * sizeof *yt);
        (tst->act_from_float ? tst->act_from_float : lb_q8_K_from_float)(yf, yt, n);
        float r1, r2;
        tq2->vec_dot(n, &r1, xq, y);
        lb_vec_dot_q2_0c_q8_K_ref(n, &r2, xq, y);
        double t = 0;
        lb_q2_0c_to_float(xq, wq, n);
        lb_q8_K_to_float(y, yf, n);
        for (int64_t i = 0; i < n; i++) t += fabs((double)wq[i] * yf[i]);
        if (!(fabs(r1 - r2) <= 1e-5 * t + 1e-30)) { fprintf(stderr, "FAIL table q2_0c n=%lld\n", (long long)n); fails++; }
        tst->vec_dot(n, &r1, xs, yt);
        free(yt);
        lb_vec_dot_stq1_0_q8_K_ref(n, &r2, xs, y);
        t = 0;
        lb_stq1_0_to_float(xs, ws, n);
        for (int64_t i = 0; i < n; i++) t += fabs((double)ws[i] * yf[i]);
        if (!(fabs(r1 - r2) <= 1e-5 * t + 1e-30)) { fprintf(stderr, "FAIL table stq1_0 n=%lld\n", (long long)n); fails++; }
        checks += 2;
        free(xq); free(xs); free(y); free(wq); free(ws); free(yf);
    }
    printf("dot kernels: %d checks (ref vs double loop 1e-6, avx2%s vs ref 1e-5 of sum|x*y|, 4-row = 1-row bitwise; 7 sizes x 7 weight-scale x 5 activation modes): %s\n",
           checks, have_vbmi ? " + avx512(vbmi,vnni)" : "", fails ? "FAILED" : "ok");
    return fails ? 1 : 0;
}

// ---------------------------------------------------------------------------
// the runtime's matmul takes the native types through the type table: out = x @ W^T for a
// decode step (n = 1) and a batch (n = 9), 2 threads, against a double loop over the
// dequantized weights and the Q8_K-rounded activations
static int test_matmul(void) {
    const int64_t K = 1024, M = 40;
    const int nmax = 9;
    const uint32_t types[2] = { LB_TYPE_Q2_0C, LB_TYPE_STQ1_0 };
    float *wf = malloc(K * M * 4), *xf = malloc(K * nmax * 4), *xr = malloc(K * nmax * 4), *out = malloc(M * nmax * 4);
    block_q8_K *xq = malloc(K / 256 * sizeof *xq);
    for (int64_t i = 0; i < K * M; i++) wf[i] = rnd_f();
    for (int64_t i = 0; i < K * nmax; i++) xf[i] = rnd_f();
    for (int t = 0; t < nmax; t++) { lb_q8_K_from_float(xf + t * K, xq, K); lb_q8_K_to_float(xq, xr + t * K, K); }
    lb_matmul_ctx c;
    lb_err err = {{0}};
    CHECK(lb_matmul_ctx_build(&c, 2, nmax, K, &err) == 0, "%s", err.msg);
    for (int ti = 0; ti < 2; ti++) {
        const size_t rb = lb_row_size(types[ti], K);
        char *wq = malloc(rb * M);
        float *wd = malloc(K * M * 4);
        for (int64_t r = 0; r < M; r++) {
            lb_type_get(types[ti])->from_float(wf + r * K, wq + r * rb, K);
            lb_type_get(types[ti])->to_float(wq + r * rb, wd + r * K, K);
        }
        lb_tensor w;
        memset(&w, 0, sizeof w);
        snprintf(w.name, sizeof w.name, "test.weight");
        w.type = types[ti]; w.n_dims = 2; w.ne[0] = K; w.ne[1] = M; w.ne[2] = w.ne[3] = 1;
        w.data = wq; w.nbytes = rb * M;
        CHECK(lb_matmul_check_weight(&w, K, M, "test", &err) == 0, "%s", err.msg);
        CHECK(lb_matmul_activation_type(&w) == LB_TYPE_Q8_K, "activation type");
        const int ns[2] = { 1, nmax };
        for (int k = 0; k < 2; k++) {
            const int n = ns[k];
            CHECK(lb_matmul(&c, out, M, xf, n, &w, &err) == 0, "%s", err.msg);
            for (int t = 0; t < n; t++)
                for (int64_t r = 0; r < M; r++) {
                    double want = 0, terms = 0;
                    for (int64_t i = 0; i < K; i++) { want += (double)wd[r * K + i] * xr[t * K + i]; terms += fabs((double)wd[r * K + i] * xr[t * K + i]); }
                    CHECK(fabs(out[t * M + r] - want) <= 1e-5 * terms, "%s matmul n=%d [%d,%lld]: %g vs %g",
                          lb_type_get(types[ti])->name, n, t, (long long)r, out[t * M + r], want);
                }
        }
        free(wq); free(wd);
    }
    lb_matmul_ctx_free(&c);
    free(wf); free(xf); free(xr); free(out); free(xq);
    printf("runtime matmul: q2_0c and stq1_0 weights (Q8_K activations), n = 1 and 9, 2 threads == double reference\n");
    return 0;
}

// ---------------------------------------------------------------------------
// --bench: single-thread matvec, M rows x K, every type through the type table
static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void bench(int64_t K, int64_t M) {
    const uint32_t types[] = { LB_TYPE_Q8_0, LB_TYPE_Q2_K, LB_TYPE_TQ1_0, LB_TYPE_TQ2_0, LB_TYPE_Q2_0C, LB_TYPE_STQ1_0 };
    float *w = malloc((size_t)K * 4), *x = malloc((size_t)K * 4), *out = malloc((size_t)M * 4);
    for (int64_t i = 0; i < K; i++) x[i] = rnd_f();
    printf("single-thread matvec, K=%lld, M=%lld rows:\n", (long long)K, (long long)M);
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const lb_type_traits *tr = lb_type_get(types[ti]);
        if (!tr || !tr->vec_dot || !tr->from_float) { printf("  %-7s (no kernel yet)\n", tr ? tr->name : "?"); continue; }
        const lb_type_traits *vt = lb_type_get(tr->vec_dot_type);
        const size_t rb = lb_row_size(types[ti], K), xb = lb_row_size(tr->vec_dot_type, K);
        char *W = malloc(rb * M), *X = malloc(xb);
        for (int64_t r = 0; r < M; r++) {
            if (r < 64) for (int64_t i = 0; i < K; i++) w[i] = rnd_f();   // a few distinct rows, then repeat
            if (r < 64) tr->from_float(w, W + r * rb, K);
            else memcpy(W + r * rb, W + (r % 64) * rb, rb);
        }
        vt->from_float(x, X, K);
        double best = 1e30;
        for (int rep = 0; rep < 7; rep++) {
            const double t0 = now_s();
            for (int64_t r = 0; r < M; r++) tr->vec_dot(K, &out[r], W + r * rb, X);
            const double t = now_s() - t0;
            if (t < best) best = t;
        }
        printf("  %-7s %7.1f ns/row  %6.2f GB/s  %6.1f Gweights/s\n", tr->name, best / M * 1e9,
               (double)rb * M / best / 1e9, (double)K * M / best / 1e9);
        free(W); free(X);
    }
    free(w); free(x); free(out);
}

// ---------------------------------------------------------------------------
// --write-gguf PATH: a GGUF with one Q2_0C and one STQ1_0 tensor and the metadata of
// docs/formats.md, read back by lowbit's reader (the peer check then feeds it to llama.cpp,
// which must refuse it cleanly).
static int write_native_gguf(const char *path, uint32_t type_a, uint32_t type_b) {
    lb_err err = {{0}};
    lb_kvs kv;
    lb_kvs_init(&kv);
    const lb_str names[2] = { { 5, "q2_0c" }, { 6, "stq1_0" } };
    if (lb_kvs_set_str(&kv, "general.architecture", "llama", &err) ||
        lb_kvs_set_u32(&kv, "general.file_type", 512 + LB_TYPE_Q2_0C, &err) ||
        lb_kvs_set_u32(&kv, "lowbit.format_version", 1, &err) ||
        lb_kvs_set_str_arr(&kv, "lowbit.native_types", names, 2, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    lb_gguf_tensor t[2];
    memset(t, 0, sizeof t);
    snprintf(t[0].name, sizeof t[0].name, "blk.0.ffn_down.weight");
    t[0].n_dims = 2; t[0].ne[0] = 1024; t[0].ne[1] = 4; t[0].ne[2] = t[0].ne[3] = 1; t[0].type = type_a;
    snprintf(t[1].name, sizeof t[1].name, "blk.0.ffn_up.weight");
    t[1].n_dims = 2; t[1].ne[0] = 768; t[1].ne[1] = 4; t[1].ne[2] = t[1].ne[3] = 1; t[1].type = type_b;
    float w[4096];
    for (int i = 0; i < 4096; i++) w[i] = rnd_f();
    uint8_t q2[4 * 1024 / 32 * 34], st[4 * 768 / 32 * 34];   // big enough for q8_0 (the control file)
    const size_t na = lb_row_size(type_a, 1024) * 4, nbb = lb_row_size(type_b, 768) * 4;
    lb_type_get(type_a)->from_float(w, q2, 4096);
    lb_type_get(type_b)->from_float(w, st, 3072);
    lb_gguf_writer *wr = lb_gguf_writer_open(path, &kv, t, 2, 32, &err);
    if (!wr || lb_gguf_writer_put(wr, 0, q2, na, &err) || lb_gguf_writer_put(wr, 1, st, nbb, &err) ||
        lb_gguf_writer_close(wr, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        lb_kvs_free(&kv);
        return 1;
    }
    lb_kvs_free(&kv);
    lb_gguf g;
    if (lb_gguf_open(&g, path, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    const lb_gguf_tensor *a = lb_gguf_find(&g, "blk.0.ffn_down.weight"), *b = lb_gguf_find(&g, "blk.0.ffn_up.weight");
    int ok = a && b && a->type == type_a && b->type == type_b && a->nbytes == na && b->nbytes == nbb &&
             memcmp(a->data, q2, na) == 0 && memcmp(b->data, st, nbb) == 0;
    uint64_t n = 0;
    const lb_str *nt = lb_kvs_get_str_arr(&g.kv, "lowbit.native_types", &n);
    ok = ok && nt && n == 2 && strcmp(nt[0].ptr, "q2_0c") == 0 && strcmp(nt[1].ptr, "stq1_0") == 0;
    lb_gguf_close(&g);
    if (!ok) { fprintf(stderr, "FAIL %s: native tensors or metadata did not read back\n", path); return 1; }
    printf("%s: %s (type %u) + %s (type %u) tensors written and read back by lowbit\n", path,
           lb_type_get(type_a)->name, type_a, lb_type_get(type_b)->name, type_b);
    return 0;
}

// --peer-reject LIBDIR DIR: stock ggml (libggml-base.so of llama.cpp v0.5.0) must refuse the
// native file cleanly (gguf_init_from_file returns NULL, no crash), while accepting the same
// file with Q8_0 tensors: the refusal is about the type ids, nothing else.
struct gguf_init_params { bool no_alloc; void **ctx; };
static int peer_reject(const char *libdir, const char *dir) {
    char lp[1024], native[1024], control[1024];
    snprintf(lp, sizeof lp, "%s/libggml-base.so", libdir);
    void *lib = dlopen(lp, RTLD_NOW | RTLD_LOCAL);
    if (!lib) { fprintf(stderr, "peer library not available: %s\n", dlerror()); return lb_test_missing(); }
    void *(*init)(const char *, struct gguf_init_params) = (void *(*)(const char *, struct gguf_init_params))dlsym(lib, "gguf_init_from_file");
    void (*gfree)(void *) = (void (*)(void *))dlsym(lib, "gguf_free");
    CHECK(init && gfree, "gguf symbols missing");
    snprintf(native, sizeof native, "%s/qb_native_types.gguf", dir);
    snprintf(control, sizeof control, "%s/qb_native_control.gguf", dir);
    if (write_native_gguf(native, LB_TYPE_Q2_0C, LB_TYPE_STQ1_0) || write_native_gguf(control, LB_TYPE_Q8_0, LB_TYPE_Q8_0))
        return 1;
    void *c = init(control, (struct gguf_init_params){ .no_alloc = true, .ctx = NULL });
    CHECK(c, "ggml rejected the Q8_0 control file");
    gfree(c);
    fprintf(stderr, "(ggml's error line below is expected)\n");
    void *n = init(native, (struct gguf_init_params){ .no_alloc = true, .ctx = NULL });
    CHECK(!n, "ggml ACCEPTED a file with type 96/97 tensors");
    printf("ggml (llama.cpp v0.5.0) accepts the Q8_0 control file and rejects the q2_0c/stq1_0 file cleanly\n");
    remove(native); remove(control);
    dlclose(lib);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 2 && strcmp(argv[1], "--write-gguf") == 0) return write_native_gguf(argv[2], LB_TYPE_Q2_0C, LB_TYPE_STQ1_0);
    if (argc > 3 && strcmp(argv[1], "--peer-reject") == 0) return peer_reject(argv[2], argv[3]);
    if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
        bench(2048, 1024);    // ~L2-resident
        bench(2048, 16384);   // streaming (L3/DRAM)
        return 0;
    }
    const lb_cpu_features *cpu = lb_cpu_get_features();
    int fails = 0;
    fails += test_type_table();
    fails += test_stq1_0_codebook();
    fails += test_q2_0c_exact();
    fails += test_q2_0c_rtn();
    fails += test_stq1_0_exact();
    fails += test_stq1_0_rtn();
    fails += test_dots(cpu->avx2, cpu->avx512vbmi_vnni);
    fails += test_matmul();
    if (!cpu->avx512vbmi_vnni) printf("note: CPU (or LOWBIT_SIMD) without AVX-512 VBMI+VNNI: avx512 kernels not checked\n");
    return fails ? 1 : 0;
}
