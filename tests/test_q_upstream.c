// test_q_upstream.c: the upstream block types (Q8_0, Q8_K, Q2_K, TQ1_0, TQ2_0) against ggml
// itself and against their own scalar references.
//
//   test_q_upstream kernels   every SIMD dot kernel vs the scalar reference (1e-5 of the
//                             summed term magnitudes), the reference vs a double dot of the
//                             dequantized rows, and the exact packers (round trips, grids)
//   test_q_upstream ggml      dlopen libggml-base (llama.cpp v0.5.0, from the npm peer) and
//                             compare ggml_get_type_traits(t)->to_float and ->from_float_ref
//                             with lowbit's dequantizer and reference quantizer bit for bit,
//                             on random and adversarial blocks. Same bytes from the quantizer
//                             means lowbit's RTN writes what llama-quantize writes (without
//                             imatrix llama-quantize calls exactly these _ref functions).
//                             Library missing: skip (77), or fail under CI=true.
#include <dlfcn.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include "test_util.h"
#include "cpu_features.h"
#include "lb_types.h"
#include "fp16.h"
#include "q8_0.h"
#include "q8_k.h"
#include "q2_k.h"
#include "tq1_0.h"
#include "tq2_0.h"

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint32_t rnd_u32(void) {   // xorshift64*
    rng_state ^= rng_state >> 12; rng_state ^= rng_state << 25; rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}
static float rnd_f(void) { return (float)rnd_u32() / 4294967296.0f * 2.0f - 1.0f; }   // [-1, 1)
static float rnd_normal(void) {   // Box-Muller: weights look Gaussian-ish, with tails
    float u = ((float)rnd_u32() + 1.0f) / 4294967296.0f, v = (float)rnd_u32() / 4294967296.0f;
    return sqrtf(-2.0f * logf(u)) * cosf(6.2831853f * v);
}
static void rnd_bytes(void *p, size_t n) { for (size_t i = 0; i < n; i++) ((uint8_t *)p)[i] = (uint8_t)rnd_u32(); }

// a finite fp16 of either sign whose exponent spans the whole range (subnormals included)
static lb_fp16 rnd_fp16_finite(void) {
    for (;;) {
        lb_fp16 h = (lb_fp16)rnd_u32();
        if ((h & 0x7C00) != 0x7C00) return h;
    }
}

// ----------------------------------------------------------------------------
// the types under test: lowbit's functions and where a block keeps its fp16 scales

typedef struct qtype {
    const char *name;
    uint32_t id;
    size_t block_bytes;
    lb_to_float_fn to_float;
    lb_from_float_fn from_float;
    int scale_offsets[2];   // byte offsets of fp16 scales in a block (-1: none); Q8_K has an f32
} qtype;

static const qtype QTYPES[] = {
    {"q8_0", LB_TYPE_Q8_0, sizeof(block_q8_0), lb_q8_0_to_float, lb_q8_0_from_float, {0, -1}},
    {"q8_K", LB_TYPE_Q8_K, sizeof(block_q8_K), lb_q8_K_to_float, lb_q8_K_from_float, {-1, -1}},
    {"q2_K", LB_TYPE_Q2_K, sizeof(block_q2_K), lb_q2_K_to_float, lb_q2_K_from_float,
     {offsetof(block_q2_K, d), offsetof(block_q2_K, dmin)}},
    {"tq1_0", LB_TYPE_TQ1_0, sizeof(block_tq1_0), lb_tq1_0_to_float, lb_tq1_0_from_float, {offsetof(block_tq1_0, d), -1}},
    {"tq2_0", LB_TYPE_TQ2_0, sizeof(block_tq2_0), lb_tq2_0_to_float, lb_tq2_0_from_float, {offsetof(block_tq2_0, d), -1}},
};
#define N_QTYPES (sizeof QTYPES / sizeof QTYPES[0])

static int64_t blck_of(const qtype *t) { return t->id == LB_TYPE_Q8_0 ? 32 : 256; }

// ----------------------------------------------------------------------------
// ggml through dlopen. struct ggml_type_traits as declared in ggml/include/ggml.h (v0.5.0);
// the name/size fields are checked against lowbit's table before anything is trusted.

typedef void (*ggml_to_float_t)(const void *x, float *y, int64_t k);
typedef void (*ggml_from_float_t)(const float *x, void *y, int64_t k);
struct ggml_type_traits {
    const char *type_name;
    int64_t blck_size;
    int64_t blck_size_interleave;
    size_t type_size;
    bool is_quantized;
    ggml_to_float_t to_float;
    ggml_from_float_t from_float_ref;
};
typedef const struct ggml_type_traits *(*get_traits_fn)(int type);

static int same_floats(const float *a, const float *b, int64_t n, int64_t *where) {
    for (int64_t i = 0; i < n; i++) {
        if (isnan(a[i]) && isnan(b[i])) continue;   // NaN payloads may legitimately differ
        if (lb_f32_bits(a[i]) != lb_f32_bits(b[i])) { *where = i; return 0; }
    }
    return 1;
}

// adversarial block contents for the dequantizer: mode picks the pattern, scales get 'scale'
static void make_block(const qtype *t, uint8_t *blk, int mode, lb_fp16 scale) {
    const size_t sz = t->block_bytes;
    switch (mode) {
        case 0: rnd_bytes(blk, sz); break;                    // anything, including NaN scales
        case 1: memset(blk, 0, sz); break;                    // all zero
        case 2: memset(blk, 0xFF, sz); break;                 // all ones: max codes, 0xFF trit bytes
        case 3: memset(blk, 0x55, sz); break;                 // constant pattern
        case 4: memset(blk, 0, sz); blk[rnd_u32() % sz] = (uint8_t)rnd_u32(); break;   // one outlier byte
        default: for (size_t i = 0; i < sz; i++) blk[i] = (uint8_t)(i * 37 + mode); break;   // every byte value
    }
    if (mode != 0) {
        for (int k = 0; k < 2; k++)
            if (t->scale_offsets[k] >= 0) memcpy(blk + t->scale_offsets[k], &scale, 2);
        if (t->id == LB_TYPE_Q8_K) { float d = lb_fp16_to_f32(scale); memcpy(blk, &d, 4); }
    }
}

// x values for the quantizer comparison; mode picks the distribution
static void make_input(float *x, int64_t n, int mode) {
    for (int64_t i = 0; i < n; i++) {
        switch (mode) {
            case 0: x[i] = rnd_normal() * 0.02f; break;                             // typical weights
            case 1: x[i] = rnd_f(); break;                                           // uniform
            case 2: x[i] = 0.0f; break;                                              // all zero
            case 3: x[i] = 0.75f; break;                                             // constant > 0
            case 4: x[i] = -3.0f; break;                                             // constant < 0
            case 5: x[i] = rnd_normal() * 0.01f + (i % 97 == 5 ? 40.0f : 0.0f); break;   // outliers
            case 6: x[i] = rnd_normal() * 1e-6f; break;                              // tiny: fp16 subnormal scales
            case 7: x[i] = rnd_normal() * 1e-30f; break;                             // below fp16: scales flush to 0
            case 8: x[i] = rnd_normal() * 3e3f; break;                               // large
            case 9: x[i] = rnd_normal() * 6e4f; break;                               // near fp16 max: scales may overflow
            case 10: x[i] = (float)((int)(rnd_u32() % 5) - 2) * 0.5f; break;         // exact ties (x/d = +-0.5)
            case 11: x[i] = (i / 16) % 3 == 0 ? 0.0f : rnd_normal(); break;           // zero sub-blocks
            case 12: x[i] = fabsf(rnd_normal()) + 1.0f; break;                       // all positive (min > 0)
            case 13: x[i] = -fabsf(rnd_normal()) - 1.0f; break;                      // all negative
            case 14: x[i] = (i % 256 == 7) ? 1.0f : 0.0f; break;                     // one nonzero per block
            case 15: x[i] = lb_fp16_to_f32((lb_fp16)(rnd_u32() & 0x7BFF)) * (rnd_u32() & 1 ? 1 : -1); break;
            default: x[i] = i % 50 == 3 ? (i % 100 == 3 ? NAN : -INFINITY) : rnd_normal(); break;   // hostile
        }
    }
}
#define N_INPUT_MODES 17

static int test_ggml(void) {
    const char *lib = getenv("LOWBIT_GGML_BASE");
    char buf[4096];
    if (!lib || !*lib) {
        const char *src = getenv("LOWBIT_SRC");
        snprintf(buf, sizeof buf, "%s/tests/peer/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-base.so",
                 src && *src ? src : ".");
        lib = buf;
    }
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "ggml peer library not available (%s): %s\n"
                        "install it with: cd tests/peer && npm ci --omit=optional (or set LOWBIT_GGML_BASE)\n", lib, dlerror());
        return lb_test_missing();
    }
    get_traits_fn get_traits;
    *(void **)&get_traits = dlsym(h, "ggml_get_type_traits");
    CHECK(get_traits, "%s has no ggml_get_type_traits", lib);

    int fails = 0;
    long n_deq = 0, n_q = 0;
    for (size_t ti = 0; ti < N_QTYPES; ti++) {
        const qtype *t = &QTYPES[ti];
        const struct ggml_type_traits *g = get_traits((int)t->id);
        const lb_type_traits *lt = lb_type_get(t->id);
        CHECK(g && g->type_name && lt, "%s: no traits", t->name);
        // the declared layout is right only if these agree with lowbit's table
        CHECK(strcmp(g->type_name, lt->name) == 0 && g->blck_size == lt->blck_size && g->type_size == lt->type_size &&
              g->type_size == t->block_bytes,
              "%s: ggml traits disagree (name %s, block %lld, size %zu)", t->name, g->type_name,
              (long long)g->blck_size, g->type_size);
        // Q8_K is CPU-backend-only in ggml: no traits functions, but ggml-base exports its
        // reference pair under the ggml-quants.c names
        ggml_to_float_t g_to_float = g->to_float;
        ggml_from_float_t g_from_float = g->from_float_ref;
        if (t->id == LB_TYPE_Q8_K) {
            *(void **)&g_to_float = dlsym(h, "dequantize_row_q8_K");
            *(void **)&g_from_float = dlsym(h, "quantize_row_q8_K_ref");
        }
        CHECK(g_to_float && g_from_float, "%s: ggml has no to_float/from_float_ref", t->name);
        CHECK(lt->to_float == t->to_float && lt->from_float == t->from_float, "%s: type table not wired to these kernels", t->name);

        // --- dequantize: random blocks and adversarial ones under extreme scales
        const int64_t bk = blck_of(t);
        enum { NB = 24 };
        uint8_t *blocks = malloc(NB * t->block_bytes);
        float *ya = malloc(NB * bk * sizeof(float)), *yb = malloc(NB * bk * sizeof(float));
        static const lb_fp16 scales[] = {0x3C00, 0x7BFF, 0xFBFF, 0x0001, 0x8001, 0x03FF, 0x0400, 0x2E66, 0x7C00, 0x0000, 0x8000};
        for (int round = 0; round < 200; round++) {
            for (int b = 0; b < NB; b++) {
                const int mode = round < 40 ? 0 : (int)(rnd_u32() % 8);
                const lb_fp16 sc = rnd_u32() % 3 ? scales[rnd_u32() % (sizeof scales / sizeof scales[0])] : rnd_fp16_finite();
                make_block(t, blocks + b * t->block_bytes, mode, sc);
            }
            t->to_float(blocks, ya, NB * bk);
            g_to_float(blocks, yb, NB * bk);
            int64_t at;
            if (!same_floats(ya, yb, NB * bk, &at)) {
                fprintf(stderr, "FAIL %s dequantize differs from ggml at value %lld: lowbit %.9g ggml %.9g\n", t->name,
                        (long long)at, ya[at], yb[at]);
                fails++;
                break;
            }
            n_deq += NB;
        }

        // --- reference quantizer: same bytes as ggml's from_float_ref
        uint8_t *qa = calloc(NB, t->block_bytes), *qb = calloc(NB, t->block_bytes);
        for (int mode = 0; mode < N_INPUT_MODES; mode++) {
            // NaN/Inf inputs: lowbit's Q8_0 takes the absmax with fmaxf (skips a NaN) where
            // ggml's MAX() lets it through, so only the types of this issue are held to it
            if (mode == N_INPUT_MODES - 1 && t->id == LB_TYPE_Q8_0) continue;
            // Q2_K's quantizer has an AVX-512 path (a search vectorized across sub-blocks):
            // give it more blocks, typical weights most of all
            const int reps = t->id != LB_TYPE_Q2_K ? 6 : mode == 0 ? 200 : 30;
            for (int rep = 0; rep < reps; rep++) {
                make_input(ya, NB * bk, mode);
                memset(qa, 0, NB * t->block_bytes);
                memset(qb, 0, NB * t->block_bytes);   // ggml leaves Q8_K bsums of a zero block unwritten
                t->from_float(ya, qa, NB * bk);
                g_from_float(ya, qb, NB * bk);
                if (memcmp(qa, qb, NB * t->block_bytes) != 0) {
                    size_t at = 0;
                    while (qa[at] == qb[at]) at++;
                    fprintf(stderr, "FAIL %s quantize differs from ggml (input mode %d): block %zu byte %zu: %02x vs %02x\n",
                            t->name, mode, at / t->block_bytes, at % t->block_bytes, qa[at], qb[at]);
                    fails++;
                    break;
                }
                n_q += NB;
            }
        }
        free(blocks); free(ya); free(yb); free(qa); free(qb);
    }

    // --- the exact packers write what ggml's quantizer writes for values already on the grid
    for (int rep = 0; rep < 200; rep++) {
        int8_t tr[256];
        for (int i = 0; i < 256; i++) tr[i] = (int8_t)((int)(rnd_u32() % 3) - 1);
        tr[rnd_u32() % 256] = rnd_u32() & 1 ? 1 : -1;            // amax = d exactly
        const lb_fp16 dh = (lb_fp16)(0x0400 + rnd_u32() % (0x7BFF - 0x0400));   // positive normal fp16
        float x[256];
        for (int i = 0; i < 256; i++) x[i] = (float)tr[i] * lb_fp16_to_f32(dh);
        block_tq1_0 p1, g1;
        block_tq2_0 p2, g2;
        lb_tq1_0_pack(&p1, tr, dh);
        lb_tq2_0_pack(&p2, tr, dh);
        get_traits(LB_TYPE_TQ1_0)->from_float_ref(x, &g1, 256);
        get_traits(LB_TYPE_TQ2_0)->from_float_ref(x, &g2, 256);
        if (memcmp(&p1, &g1, sizeof p1) || memcmp(&p2, &g2, sizeof p2)) {
            fprintf(stderr, "FAIL ternary packer != ggml quantizer on grid values (rep %d)\n", rep);
            fails++;
            break;
        }
    }
    dlclose(h);
    printf("ggml (%s): dequantize %ld blocks, quantize %ld blocks over %zu types, %d failures\n", lib, n_deq, n_q,
           N_QTYPES, fails);
    return fails ? 1 : 0;
}

// ----------------------------------------------------------------------------
// SIMD kernels vs the scalar references

typedef void (*dot_fn)(int64_t, float *, const void *, const void *);

typedef struct dtype {
    const char *name;
    uint32_t id;
    size_t block_bytes;
    dot_fn ref, avx2, avx512;
} dtype;

static const dtype DTYPES[] = {
    {"q2_K", LB_TYPE_Q2_K, sizeof(block_q2_K), lb_vec_dot_q2_K_q8_K_ref, lb_vec_dot_q2_K_q8_K_avx2, lb_vec_dot_q2_K_q8_K_avx512},
    {"tq1_0", LB_TYPE_TQ1_0, sizeof(block_tq1_0), lb_vec_dot_tq1_0_q8_K_ref, lb_vec_dot_tq1_0_q8_K_avx2, lb_vec_dot_tq1_0_q8_K_avx512},
    {"tq2_0", LB_TYPE_TQ2_0, sizeof(block_tq2_0), lb_vec_dot_tq2_0_q8_K_ref, lb_vec_dot_tq2_0_q8_K_avx2, lb_vec_dot_tq2_0_q8_K_avx512},
};

// Sum of |terms| the kernels add up: |w_i y_i| for the ternary types; for Q2_K the scale
// part and the min part are summed separately (a weight near 0 = d*sc*c - dmin*mn still
// costs both), so both magnitudes count.
static double term_mass(const dtype *t, const void *x, const block_q8_K *y, int64_t n, const float *wf, const float *yf) {
    double m = 0;
    if (t->id != LB_TYPE_Q2_K) {
        for (int64_t i = 0; i < n; i++) m += fabs((double)wf[i] * yf[i]);
        return m;
    }
    const block_q2_K *q = x;
    for (int64_t i = 0; i < n; i++) {
        const block_q2_K *b = &q[i / 256];
        uint8_t codes[256], sc[16], mn[16];
        uint16_t d, dmin;
        lb_q2_K_unpack(b, codes, sc, mn, &d, &dmin);
        const int j = (int)(i % 256);
        m += fabs((double)lb_fp16_to_f32(d) * sc[j / 16] * codes[j] * yf[i]) +
             fabs((double)lb_fp16_to_f32(dmin) * mn[j / 16] * yf[i]);
    }
    (void)y;
    return m;
}

static int check_one(const dtype *t, int64_t n, const void *x, const block_q8_K *y, int have_avx2, int have_avx512,
                     const char *what) {
    float *wf = malloc(n * sizeof(float)), *yf = malloc(n * sizeof(float));
    lb_type_get(t->id)->to_float(x, wf, n);
    lb_q8_K_to_float(y, yf, n);
    const double mass = term_mass(t, x, y, n, wf, yf);
    double exact = 0;
    for (int64_t i = 0; i < n; i++) exact += (double)wf[i] * yf[i];
    free(wf); free(yf);
    const double tol = 1e-5 * mass + 1e-30;
    float r = 0;
    t->ref(n, &r, x, y);
    int fails = 0;
    // the reference itself: against a double dot of the dequantized rows (checked vs ggml)
    if (!(fabs((double)r - exact) <= tol)) {
        fprintf(stderr, "FAIL %s ref n=%lld (%s): %.9g vs dequantized dot %.9g (tol %.3g)\n", t->name, (long long)n, what, r,
                exact, tol);
        fails++;
    }
    const dot_fn simd[2] = {have_avx2 ? t->avx2 : NULL, have_avx512 ? t->avx512 : NULL};
    for (int k = 0; k < 2; k++) {
        if (!simd[k]) continue;
        float v = 0;
        simd[k](n, &v, x, y);
        if (!(fabs((double)v - r) <= tol)) {
            fprintf(stderr, "FAIL %s %s n=%lld (%s): %.9g vs ref %.9g (err %.3g > tol %.3g)\n", t->name, k ? "avx512" : "avx2",
                    (long long)n, what, v, r, fabs((double)v - r), tol);
            fails++;
        }
    }
    // the registered 4-row (prefill) kernel, if any: each result bitwise the registered
    // 1-row kernel's; rows 1..3 are y with its blocks rotated, output stride 5 floats
    const lb_type_traits *lt = lb_type_get(t->id);
    if (lt->vec_dot4 && !lt->act_from_float) {
        const int64_t nb = n / 256;
        block_q8_K *y4 = malloc(4 * nb * sizeof *y4);
        for (int r = 0; r < 4; r++)
            for (int64_t b = 0; b < nb; b++) y4[r * nb + b] = y[(b + r) % nb];
        float s4[20], s1;
        memset(s4, 0xFF, sizeof s4);
        lt->vec_dot4(n, s4, 5, x, y4, nb * sizeof *y4);
        for (int r = 0; r < 4; r++) {
            lt->vec_dot(n, &s1, x, y4 + r * nb);
            if (memcmp(&s1, &s4[5 * r], sizeof s1)) {
                fprintf(stderr, "FAIL %s dot4 row %d n=%lld (%s): %.9g vs 1-row %.9g\n", t->name, r, (long long)n, what, s4[5 * r], s1);
                fails++;
            }
        }
        free(y4);
    }
    return fails;
}

static int test_kernels(void) {
    const lb_cpu_features *cpu = lb_cpu_get_features();
    const int have_avx2 = cpu->avx2, have_avx512 = cpu->avx512;
    static const int64_t nblocks[] = {1, 2, 3, 4, 5, 7, 8, 11, 12, 16};
    int fails = 0, checks = 0;
    for (size_t ti = 0; ti < sizeof DTYPES / sizeof DTYPES[0]; ti++) {
        const dtype *t = &DTYPES[ti];
        const lb_type_traits *lt = lb_type_get(t->id);
        CHECK(lt && lt->vec_dot && lt->vec_dot_type == LB_TYPE_Q8_K, "%s: not registered with Q8_K activations", t->name);
        for (size_t si = 0; si < sizeof nblocks / sizeof nblocks[0]; si++) {
            const int64_t nb = nblocks[si], n = nb * 256;
            uint8_t *x = malloc(nb * t->block_bytes);
            block_q8_K *y = malloc(nb * sizeof(block_q8_K));
            float *xf = malloc(n * sizeof(float)), *yf = malloc(n * sizeof(float));
            for (int variant = 0; variant < 6; variant++) {
                const char *what = "";
                for (int64_t i = 0; i < n; i++) yf[i] = rnd_normal() * 4.0f;
                switch (variant) {
                    case 0: what = "quantized weights";
                        for (int64_t i = 0; i < n; i++) xf[i] = rnd_normal();
                        lt->from_float(xf, x, n);
                        break;
                    case 1: case 2: what = "random bytes, finite scales";
                        rnd_bytes(x, nb * t->block_bytes);
                        for (int64_t b = 0; b < nb; b++) {   // keep scales finite: NaN has no tolerance
                            uint8_t *blk = x + b * t->block_bytes;
                            const size_t off = t->block_bytes - (t->id == LB_TYPE_Q2_K ? 4 : 2);
                            for (size_t o = off; o < t->block_bytes; o += 2) {
                                lb_fp16 h = (lb_fp16)(rnd_u32() % 0x7000); memcpy(blk + o, &h, 2);
                            }
                        }
                        break;
                    case 3: what = "max codes, max activations";   // int16 headroom of the SIMD sums
                        memset(x, 0xFF, nb * t->block_bytes);
                        for (int64_t b = 0; b < nb; b++) {
                            uint8_t *blk = x + b * t->block_bytes;
                            const size_t off = t->block_bytes - (t->id == LB_TYPE_Q2_K ? 4 : 2);
                            const lb_fp16 one = 0x3C00;
                            for (size_t o = off; o < t->block_bytes; o += 2) memcpy(blk + o, &one, 2);
                        }
                        for (int64_t i = 0; i < n; i++) yf[i] = (i & 1) ? 1.0f : 1.0f;
                        break;
                    case 4: what = "max codes, min activations";
                        memset(x, 0xFF, nb * t->block_bytes);
                        for (int64_t b = 0; b < nb; b++) {
                            uint8_t *blk = x + b * t->block_bytes;
                            const size_t off = t->block_bytes - (t->id == LB_TYPE_Q2_K ? 4 : 2);
                            const lb_fp16 one = 0x3C00;
                            for (size_t o = off; o < t->block_bytes; o += 2) memcpy(blk + o, &one, 2);
                        }
                        for (int64_t i = 0; i < n; i++) yf[i] = -1.0f;
                        break;
                    default: what = "every byte value, zero activation blocks";
                        for (size_t i = 0; i < nb * t->block_bytes; i++) x[i] = (uint8_t)(i * 7 + 3);
                        for (int64_t b = 0; b < nb; b++) {
                            uint8_t *blk = x + b * t->block_bytes;
                            const size_t off = t->block_bytes - (t->id == LB_TYPE_Q2_K ? 4 : 2);
                            const lb_fp16 h = 0x2E66;
                            for (size_t o = off; o < t->block_bytes; o += 2) memcpy(blk + o, &h, 2);
                        }
                        for (int64_t i = 0; i < n; i++) if ((i / 256) % 2) yf[i] = 0.0f;
                        break;
                }
                lb_q8_K_from_float(yf, y, n);
                fails += check_one(t, n, x, y, have_avx2, have_avx512, what);
                checks++;
            }
            free(x); free(y); free(xf); free(yf);
        }
    }
    printf("dot kernels: %d cases (q2_K, tq1_0, tq2_0 x %zu sizes up to %lld; registered 4-row kernels == 1-row bitwise), avx2 %s, avx512 %s, %d failures\n", checks,
           sizeof nblocks / sizeof nblocks[0], (long long)nblocks[sizeof nblocks / sizeof nblocks[0] - 1] * 256,
           have_avx2 ? "tested" : "not available", have_avx512 ? "tested" : "not available", fails);
    return fails;
}

// ----------------------------------------------------------------------------
// Q8_K: bsums and the rounding rule on hand-checked values

static int test_q8_K(void) {
    float x[256];
    for (int i = 0; i < 256; i++) x[i] = (float)(i - 128) / 128.0f;   // max |x| at x[0] = -1
    block_q8_K q;
    lb_q8_K_from_float(x, &q, 256);
    // iscale = -127 / -1 = 127: qs = round(127 x), half to even; d = 1/127
    CHECK(q.d == 1.0f / 127.0f, "q8_K d = %.9g", q.d);
    CHECK(q.qs[0] == -127 && q.qs[255] == 126 && q.qs[128] == 0, "q8_K qs %d %d %d", q.qs[0], q.qs[255], q.qs[128]);
    // x[192] = 0.5 -> 63.5 -> 64 (even); x[64] = -0.5 -> -63.5 -> -64
    CHECK(q.qs[192] == 64 && q.qs[64] == -64, "q8_K ties to even: %d %d", q.qs[192], q.qs[64]);
    for (int j = 0; j < 16; j++) {
        int s = 0;
        for (int l = 0; l < 16; l++) s += q.qs[16 * j + l];
        CHECK(q.bsums[j] == s, "q8_K bsums[%d] %d != %d", j, q.bsums[j], s);
    }
    // the largest value positive: the code of the max is -127 (negative d)
    for (int i = 0; i < 256; i++) x[i] = i == 9 ? 2.0f : 0.5f;
    lb_q8_K_from_float(x, &q, 256);
    CHECK(q.qs[9] == -127 && q.d < 0 && q.qs[0] == -32, "q8_K positive max: %d %d d %g", q.qs[9], q.qs[0], q.d);
    // ties of magnitude: the FIRST largest |x| gives the sign (ggml's loop), also within one
    // 16-value vector and with a NaN ahead of it (NaN never counts as the max)
    for (int order = 0; order < 2; order++) {
        for (int i = 0; i < 256; i++) x[i] = 0.25f;
        x[3] = NAN;
        x[5] = order ? -3.0f : 3.0f;
        x[6] = order ? 3.0f : -3.0f;
        x[200] = -3.0f;
        lb_q8_K_from_float(x, &q, 256);
        CHECK(q.qs[5] == -127 && q.qs[6] == 127 && (order ? q.d > 0 : q.d < 0), "q8_K first max wins (order %d): %d %d d %g",
              order, q.qs[5], q.qs[6], q.d);
        block_q8_K r;
        lb_q8_K_from_float_ref(x, &r, 256);
        CHECK(!memcmp(&q, &r, sizeof q), "q8_K with a NaN and tied maxima: SIMD bytes differ from the reference");
    }
    memset(x, 0, sizeof x);
    memset(&q, 0x77, sizeof q);
    lb_q8_K_from_float(x, &q, 256);
    CHECK(q.d == 0 && q.qs[17] == 0 && q.bsums[3] == 0, "q8_K zero block");
    printf("q8_K: rounding, bsums, sign and zero block ok\n");
    return 0;
}

// ----------------------------------------------------------------------------
// exact packers

static int test_packers(void) {
    int fails = 0;
    for (int rep = 0; rep < 2000; rep++) {
        // --- Q2_K: unpack(pack) is the identity on every field
        uint8_t codes[256], sc[16], mn[16], c2[256], sc2[16], mn2[16];
        for (int i = 0; i < 256; i++) codes[i] = rnd_u32() & 3;
        for (int j = 0; j < 16; j++) { sc[j] = rnd_u32() & 15; mn[j] = rnd_u32() & 15; }
        uint16_t d = rnd_fp16_finite(), dmin = rnd_fp16_finite(), d2, dmin2;
        block_q2_K q;
        lb_q2_K_pack(&q, codes, sc, mn, d, dmin);
        lb_q2_K_unpack(&q, c2, sc2, mn2, &d2, &dmin2);
        if (memcmp(codes, c2, 256) || memcmp(sc, sc2, 16) || memcmp(mn, mn2, 16) || d != d2 || dmin != dmin2) {
            fprintf(stderr, "FAIL q2_K unpack(pack) rep %d\n", rep);
            fails++;
        }
        // dequantize of a packed grid = d*sc*code - dmin*mn, exactly. d and dmin are normal with
        // exponents at most 4 apart so the f32 result is exact and the double value is the truth.
        const int e = (int)(rnd_u32() % 20) - 10;
        const float df = ldexpf(1.0f + (float)(rnd_u32() % 1024) / 1024.0f, e);
        const float mf = ldexpf(1.0f + (float)(rnd_u32() % 1024) / 1024.0f, e + (int)(rnd_u32() % 9) - 4);
        d = lb_f32_to_fp16(df); dmin = lb_f32_to_fp16(mf);
        CHECK(lb_fp16_to_f32(d) == df && lb_fp16_to_f32(dmin) == mf, "test setup: scales not fp16-exact");
        lb_q2_K_pack(&q, codes, sc, mn, d, dmin);
        float y[256];
        lb_q2_K_to_float(&q, y, 256);
        for (int i = 0; i < 256; i++) {
            const double want = (double)df * sc[i / 16] * codes[i] - (double)mf * mn[i / 16];
            if ((double)y[i] != want) {
                fprintf(stderr, "FAIL q2_K grid value %d: %.9g != %.9g\n", i, y[i], want);
                fails++;
                break;
            }
        }
        // the SEQ 2-bit grid {-3,-1,1,3} * alpha/4 with one fp16-exact alpha per block:
        // every scale byte 0x31 (sc 1, mn 3), d = alpha/2, dmin = alpha/4 (REFERENCE.md section 3)
        const float alpha = ldexpf(1.0f + (float)(rnd_u32() % 1024) / 1024.0f, (int)(rnd_u32() % 16) - 8);
        memset(sc, 1, 16); memset(mn, 3, 16);
        lb_q2_K_pack(&q, codes, sc, mn, lb_f32_to_fp16(alpha / 2), lb_f32_to_fp16(alpha / 4));
        CHECK(q.scales[5] == 0x31, "SEQ scale byte 0x%02x", q.scales[5]);
        lb_q2_K_to_float(&q, y, 256);
        for (int i = 0; i < 256; i++) {
            const double want = (double)alpha * (2 * codes[i] - 3) / 4.0;
            if ((double)y[i] != want) { fprintf(stderr, "FAIL SEQ grid in q2_K %d: %.9g != %.9g\n", i, y[i], want); fails++; break; }
        }

        // --- TQ1_0 / TQ2_0: trits round trip and dequantize to t*d exactly
        int8_t t[256], t1[256], t2[256];
        for (int i = 0; i < 256; i++) t[i] = (int8_t)((int)(rnd_u32() % 3) - 1);
        if (rep % 7 == 0) memset(t, rep % 2 ? 1 : -1, 256);   // all +1 / all -1
        if (rep % 11 == 0) memset(t, 0, 256);
        const uint16_t dt = rnd_fp16_finite();
        block_tq1_0 b1;
        block_tq2_0 b2;
        uint16_t dt1, dt2;
        lb_tq1_0_pack(&b1, t, dt);
        lb_tq2_0_pack(&b2, t, dt);
        lb_tq1_0_unpack(&b1, t1, &dt1);
        lb_tq2_0_unpack(&b2, t2, &dt2);
        if (memcmp(t, t1, 256) || memcmp(t, t2, 256) || dt1 != dt || dt2 != dt) {
            fprintf(stderr, "FAIL ternary unpack(pack) rep %d\n", rep);
            fails++;
        }
        float y1[256], y2[256];
        lb_tq1_0_to_float(&b1, y1, 256);
        lb_tq2_0_to_float(&b2, y2, 256);
        const float dtf = lb_fp16_to_f32(dt);
        for (int i = 0; i < 256; i++) {
            const float want = t[i] == 0 ? 0.0f * dtf : t[i] > 0 ? dtf : -dtf;   // (t)*d; 0*d keeps d's sign
            if (lb_f32_bits(y1[i]) != lb_f32_bits(want) || lb_f32_bits(y2[i]) != lb_f32_bits(want)) {
                fprintf(stderr, "FAIL ternary grid value %d: t %d d %g: %g %g\n", i, t[i], dtf, y1[i], y2[i]);
                fails++;
                break;
            }
        }
    }
    // TQ1_0 weight order by hand: a single +1 at each position decodes to that position only,
    // and of the 52 code bytes only the one REFERENCE.md assigns to that position changes
    block_tq1_0 zero;
    int8_t tz[256] = {0};
    lb_tq1_0_pack(&zero, tz, 0x3C00);
    for (int p = 0; p < 256; p++) {
        int8_t t[256] = {0};
        t[p] = 1;
        block_tq1_0 b;
        lb_tq1_0_pack(&b, t, 0x3C00);
        float y[256];
        lb_tq1_0_to_float(&b, y, 256);
        for (int i = 0; i < 256; i++) CHECK(y[i] == (i == p ? 1.0f : 0.0f), "tq1_0 position %d decodes at %d", p, i);
        const int byte = p < 160 ? p % 32 : p < 240 ? 32 + (p - 160) % 16 : 48 + (p - 240) % 4;
        for (int k = 0; k < 52; k++)
            CHECK((((const uint8_t *)&b)[k] != ((const uint8_t *)&zero)[k]) == (k == byte),
                  "tq1_0 position %d: byte %d %s", p, k, k == byte ? "unchanged" : "touched");
    }
    printf("packers: q2_K/tq1_0/tq2_0 round trips and exact grids (2000 reps), tq1_0 positions, %d failures\n", fails);
    return fails;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "kernels";
    if (strcmp(mode, "ggml") == 0) return test_ggml();
    if (strcmp(mode, "kernels") != 0) { fprintf(stderr, "usage: test_q_upstream kernels|ggml\n"); return 2; }
    int fails = 0;
    fails += test_q8_K();
    fails += test_packers();
    fails += test_kernels();
    return fails ? 1 : 0;
}
