// gemm_amx.c: fp32 GEMM on AMX-BF16 tiles, as accurate as fp32 sgemm.
//
// AMX multiplies bf16 (8-bit significand) pairs and accumulates in fp32, ~16x the fp32 FMA rate
// of AVX-512. A bf16 product alone would lose 16 bits, so every fp32 operand is split into three
// bf16 parts, x = x0 + x1 + x2 (each the round-to-nearest bf16 of what the earlier parts left:
// 24+ significand bits in all: |x_i| <= 2^-9i |x|, |x - x0 - x1 - x2| <= 2^-27 |x|), and a.b is
// summed as the six part products of size 2^-18 |a b| or more:
//     a0 b0 + a0 b1 + a1 b0 + a0 b2 + a1 b1 + a2 b0
// The three left out (a1 b2, a2 b1, a2 b2) add up to less than 2^-25 |a b|. Each bf16 x bf16 product is
// exact in fp32 and the sums are fp32, so the result has sgemm's accuracy (tests/test_gemm_amx.c
// measures both against float64), at ~6/16 of AMX's rate: ~2x OpenBLAS's sgemm on the
// shapes of a training step (docs/performance.md).
//
// Layout. K is cut into chunks of KC, N into chunks of NC, M into chunks of MC. Per (K, N) chunk
// the threads pack B together into AMX's pair-interleaved ("VNNI") layout, one array per part;
// then each thread takes MC-row chunks of A in turn (smaller ones when there are few rows for
// many threads), packs one into its own buffer (tiles of 32 rows x 32 k, one array per part)
// and multiplies it by every 32-column block of the B chunk with four 16x16 fp32 accumulator
// tiles. Each element of C is one fixed sequence of tile operations over K, so the result does
// not depend on the thread count or the chunking of M. Non-finite inputs give non-finite
// outputs, but an Inf may come out as NaN (Inf - Inf in the splitting), where sgemm could give Inf.
#define _GNU_SOURCE   // syscall (arch_prctl), whatever -std the file is built with
#include "gemm_amx.h"
#include <omp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KC 512    // k per packed chunk (multiple of 32)
#define NC 2048   // n per packed chunk of B, shared by the threads (multiple of 32): 6 MB
#define MC 128    // rows of A per packed chunk, one per thread at a time (multiple of 32): 384 KB
#define GEMM_AMX_MIN_MNK (1u << 24)   // below ~16.7M multiply-adds the packing does not pay

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <cpuid.h>
#include <unistd.h>
#include <sys/syscall.h>
#define HAVE_AMX_BUILD 1
#endif

// --- availability -------------------------------------------------------------------------------

static int amx_ok;
static pthread_once_t amx_once = PTHREAD_ONCE_INIT;

static void amx_probe(void) {
#ifdef HAVE_AMX_BUILD
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return;   // OSXSAVE
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return;
    const int avx512 = (b & (1u << 16)) && (b & (1u << 30)) && (b & (1u << 31));   // AVX512F, BW, VL
    const int amx = (d & (1u << 22)) && (d & (1u << 24));                 // AMX-BF16, AMX-TILE
    if (!avx512 || !amx) return;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0xE6u) != 0xE6u) return;   // the OS saves AVX-512 state (opmask, zmm)
    // Linux hands out the 8 KB tile state only on request (ARCH_REQ_XCOMP_PERM, XTILEDATA)
    if (syscall(SYS_arch_prctl, 0x1023, 18) != 0) return;
    amx_ok = 1;
#endif
}

int gemm_amx_available(void) {
    pthread_once(&amx_once, amx_probe);
    return amx_ok;
}

size_t gemm_amx_workspace_max(int threads) {
    return ((size_t)3 * NC * KC + (size_t)3 * MC * 2 * KC * (size_t)(threads > 0 ? threads : 1)) * sizeof(uint16_t);
}

static void warn_mode(void) {
    fprintf(stderr, "warning: LOWBIT_GEMM=%s is not blas, amx or auto; using auto\n", getenv("LOWBIT_GEMM"));
}

int gemm_amx_wanted(double mnk) {
    const char *mode = getenv("LOWBIT_GEMM");
    if (mode && *mode && strcmp(mode, "blas") && strcmp(mode, "amx") && strcmp(mode, "auto")) {
        static pthread_once_t warned = PTHREAD_ONCE_INIT;
        pthread_once(&warned, warn_mode);
    }
    if (mode && !strcmp(mode, "blas")) return 0;
    if (!gemm_amx_available()) return 0;
    if (mode && !strcmp(mode, "amx")) return 1;
    return mnk >= (double)GEMM_AMX_MIN_MNK;
}

#ifndef HAVE_AMX_BUILD

int gemm_amx(float *C, int ldc, float beta, const float *A, int lda, int ta, const float *B, int ldb, int tb, int M,
             int N, int K) {
    (void)C; (void)ldc; (void)beta; (void)A; (void)lda; (void)ta; (void)B; (void)ldb; (void)tb; (void)M; (void)N; (void)K;
    return -1;
}
int gemm_amx_coded_nt(float *C, int ldc, float beta, const float *A, int lda, const gemm_coded *W, int M, int N, int K) {
    (void)C; (void)ldc; (void)beta; (void)A; (void)lda; (void)W; (void)M; (void)N; (void)K;
    return -1;
}
int gemm_amx_coded_nn(float *C, int ldc, float beta, const float *A, int lda, const gemm_coded *W, int M, int N, int K) {
    (void)C; (void)ldc; (void)beta; (void)A; (void)lda; (void)W; (void)M; (void)N; (void)K;
    return -1;
}

#else

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,amx-tile,amx-bf16")
#include <immintrin.h>

// --- splitting ----------------------------------------------------------------------------------

// lanes i < n set
static inline __mmask16 lanes(int n) { return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? 0 : (__mmask16)((1u << n) - 1); }

// x rounded to bf16 (to nearest, ties to even), as fp32 bit patterns with the low 16 bits zero:
// 16 lanes of libquant's lb_f32_to_bf16 (fp16.h), same rule. A NaN stays a NaN (quiet bit set:
// rounding its bits could carry into the exponent or sign).
static inline __m512i bf16_bits(__m512 x) {
    const __m512i b = _mm512_castps_si512(x);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_add_epi32(b, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7FFF)));
    r = _mm512_mask_or_epi32(r, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), b, _mm512_set1_epi32(0x00400000));
    return _mm512_and_si512(r, _mm512_set1_epi32((int)0xFFFF0000u));
}

// the three parts of 16 values, stored as 16 bf16 each at dst, dst + pstride, dst + 2 pstride
static inline void store_parts(uint16_t *dst, size_t pstride, __m512 x) {
    for (int p = 0; p < 3; p++) {
        const __m512i r = bf16_bits(x);
        _mm256_storeu_si256((__m256i *)(dst + p * pstride), _mm512_cvtepi32_epi16(_mm512_srli_epi32(r, 16)));
        x = _mm512_sub_ps(x, _mm512_castsi512_ps(r));
    }
}

// the three parts of two k-adjacent rows of 16 values, interleaved into 16 (even, odd) bf16
// pairs per part: one row of a B tile
static inline void store_pair_parts(uint32_t *dst, size_t pstride, __m512 even, __m512 odd) {
    for (int p = 0; p < 3; p++) {
        const __m512i re = bf16_bits(even), ro = bf16_bits(odd);
        _mm512_storeu_si512(dst + p * pstride, _mm512_or_si512(_mm512_srli_epi32(re, 16), ro));
        even = _mm512_sub_ps(even, _mm512_castsi512_ps(re));
        odd = _mm512_sub_ps(odd, _mm512_castsi512_ps(ro));
    }
}

// r[0..15] (16 rows of 16 floats) become their transpose: r[j][i] = old r[i][j]. Unpacks
// interleave 32- then 64-bit pairs inside each 128-bit lane; two rounds of 128-bit lane shuffles
// gather the four lanes of each column.
static inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    #pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    #pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {   // r[4i + c], lane L: column 4L + c of rows 4i .. 4i+3
        const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
        const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    #pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {   // lanes 0, 2 (0x88) or 1, 3 (0xDD) of each operand
        t[c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);
        t[4 + c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xDD);
        t[8 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
        t[12 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xDD);
    }
    #pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        r[c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0x88);
        r[8 + c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0xDD);
        r[4 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0xDD);
    }
}

// --- packing ------------------------------------------------------------------------------------

// Packed A: per part, 32-row blocks, each (kcp/32) tiles of 32 rows x 32 k (2 KB), so the 16 rows
// of an A tile are 16 consecutive 64-byte lines (a row stride of kcp would put them in a few L1
// sets). Offset of (m, k) within a part:
static inline size_t a_offset(int m, int k, int kcp) {
    return (((size_t)(m / 32) * (kcp / 32) + k / 32) * 32 + m % 32) * 32 + k % 32;
}

// rows [m0, m0 + mc) of op(A)[:, k0 : k0+kc] into ap (3 parts of apart elements; rows past M and
// k past kc are zero; mc a multiple of 32)
// kscale (ta == 0 only, else NULL): op(A)'s column k is multiplied by kscale[k] first
static void pack_a(uint16_t *ap, size_t apart, int kcp, const float *A, int lda, int ta, const float *kscale, int M,
                   int m0, int mc, int k0, int kc) {
    if (!ta) {
        for (int i = 0; i < mc; i++) {
            // each row gives a run of kc floats and the rows are lda apart: too short a run for
            // the hardware prefetcher to get going on (the head's 32000-wide gradient rows), so
            // fetch the next row's run now
            if (m0 + i + 1 < M)
                for (int k = 0; k < kc; k += 16)
                    _mm_prefetch((const char *)(A + (size_t)(m0 + i + 1) * lda + k0 + k), _MM_HINT_T0);
            for (int k = 0; k < kcp; k += 16) {
                const __mmask16 km = m0 + i < M ? lanes(kc - k) : 0;
                __m512 x = km ? _mm512_maskz_loadu_ps(km, A + (size_t)(m0 + i) * lda + k0 + k) : _mm512_setzero_ps();
                if (kscale && km) x = _mm512_mul_ps(x, _mm512_maskz_loadu_ps(km, kscale + k0 + k));
                store_parts(ap + a_offset(i, k, kcp), apart, x);
            }
        }
        return;
    }
    // op(A)[m][k] = A[k][m]: 16 k x 16 m blocks, read as 16 row pieces and transposed in registers
    for (int k = 0; k < kcp; k += 16) {
        // the chunk reads mc floats from each of kc rows lda apart (the head's gradient: 512
        // bytes from rows 128 KB apart): too short a run per row for the hardware prefetcher,
        // so fetch the next 16 rows' runs while these are transposed
        for (int r = 16; r < 32 && k + r < kc; r++)
            for (int i = 0; i < mc && m0 + i < M; i += 16)
                _mm_prefetch((const char *)(A + (size_t)(k0 + k + r) * lda + m0 + i), _MM_HINT_T0);
        for (int i = 0; i < mc; i += 16) {
            const __mmask16 mm = lanes(M - m0 - i);
            __m512 x[16];
            #pragma GCC unroll 16
            for (int r = 0; r < 16; r++)
                x[r] = mm && k + r < kc ? _mm512_maskz_loadu_ps(mm, A + (size_t)(k0 + k + r) * lda + m0 + i)
                                        : _mm512_setzero_ps();
            transpose16(x);
            #pragma GCC unroll 16
            for (int c = 0; c < 16; c++) store_parts(ap + a_offset(i + c, k, kcp), apart, x[c]);
        }
    }
}

// 16-column blocks [nb_lo, nb_hi) of op(B)[k0 : k0+kc, n0 : n0+nc] into bp: per part, per block,
// kcp/2 rows of 16 (k even, k odd) pairs (zero past nc and kc)
static void pack_b(uint32_t *bp, size_t bpart, int kcp, const float *B, int ldb, int tb, int n0, int nc, int k0, int kc,
                   int nb_lo, int nb_hi) {
    const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                           _mm512_set1_epi32(ldb));
    for (int nb = nb_lo; nb < nb_hi; nb++) {
        const __mmask16 nm = lanes(nc - nb * 16);
        uint32_t *dst = bp + (size_t)nb * (kcp / 2) * 16;
        for (int j = 0; j < kcp / 2; j++) {
            const int k = 2 * j;
            const __mmask16 me = k < kc ? nm : 0, mo = k + 1 < kc ? nm : 0;
            __m512 even = _mm512_setzero_ps(), odd = _mm512_setzero_ps();
            if (!tb) {   // op(B)[k][n] = B[k][n]: two rows
                const float *row = B + (size_t)(k0 + k) * ldb + n0 + nb * 16;
                if (me) even = _mm512_maskz_loadu_ps(me, row);
                if (mo) odd = _mm512_maskz_loadu_ps(mo, row + ldb);
            } else {     // op(B)[k][n] = B[n][k]: gather down 16 rows of B
                const float *c = B + (size_t)(n0 + nb * 16) * ldb + k0 + k;
                if (me) even = _mm512_mask_i32gather_ps(even, me, idx, c, 4);
                if (mo) odd = _mm512_mask_i32gather_ps(odd, mo, idx, c + 1, 4);
            }
            store_pair_parts(dst + (size_t)j * 16, bpart, even, odd);
        }
    }
}

// 16 codes at p (lanes in m; the others 0) -> their values mul * code + add as bf16 bit patterns
// in the low half of each 32-bit lane (exact: small integers)
static inline __m512i coded_bf16(const int8_t *p, __mmask16 m, __m512i mul, __m512i add) {
    const __m512i c = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, p));
    const __m512 v = _mm512_maskz_mov_ps(m, _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_mullo_epi32(c, mul), add)));
    return _mm512_srli_epi32(bf16_bits(v), 16);
}

// pack_b for a coded weight, one bf16 part. nt: op(B)[k][n] = W[n][k]; else op(B)[k][n] = W[k][n].
static void pack_b_coded(uint32_t *bp, int kcp, const gemm_coded *W, int ldw, int nt, int n0, int nc, int k0, int kc,
                         int nb_lo, int nb_hi) {
    const __m512i mul = _mm512_set1_epi32(W->mul), add = _mm512_set1_epi32(W->add);
    const __m512i col = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                           _mm512_set1_epi32(16));
    uint32_t blk[16 * 16] __attribute__((aligned(64)));
    for (int nb = nb_lo; nb < nb_hi; nb++) {
        uint32_t *dst = bp + (size_t)nb * (kcp / 2) * 16;
        if (!nt) {   // two rows of W per row of pairs
            const __mmask16 nm = lanes(nc - nb * 16);
            for (int j = 0; j < kcp / 2; j++) {
                const int k = 2 * j;
                const int8_t *row = W->codes + (size_t)(k0 + k) * ldw + n0 + nb * 16;
                const __m512i e = coded_bf16(row, k < kc ? nm : 0, mul, add);
                const __m512i o = coded_bf16(row + ldw, k + 1 < kc ? nm : 0, mul, add);
                _mm512_storeu_si512(dst + (size_t)j * 16, _mm512_or_si512(e, _mm512_slli_epi32(o, 16)));
            }
            continue;
        }
        // nt: W's rows n hold k; a row's 32 consecutive codes are 16 (even, odd) pairs, and a row
        // of the packed block takes one pair from each of 16 rows: via an L1 buffer, as pack_a
        for (int k = 0; k < kcp; k += 32) {
            for (int r = 0; r < 16; r++) {
                const int n = nb * 16 + r;
                const int8_t *p = W->codes + (size_t)(n0 + n) * ldw + k0 + k;
                const __mmask16 m0 = n < nc ? lanes(kc - k) : 0, m1 = n < nc ? lanes(kc - k - 16) : 0;
                const __m512i lo = coded_bf16(p, m0, mul, add), hi = coded_bf16(p + 16, m1, mul, add);
                const __m256i l16 = _mm512_cvtepi32_epi16(lo), h16 = _mm512_cvtepi32_epi16(hi);
                _mm512_store_si512(blk + r * 16, _mm512_inserti64x4(_mm512_castsi256_si512(l16), h16, 1));
            }
            for (int j = 0; j < 16; j++)
                _mm512_storeu_si512(dst + (size_t)(k / 2 + j) * 16, _mm512_i32gather_epi32(col, blk + j, 4));
        }
    }
}

// --- the tile kernel ----------------------------------------------------------------------------

typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

static void tiles_configure(void) {
    tile_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) { cfg.rows[t] = 16; cfg.colsb[t] = 64; }   // 16 x 64 bytes each
    _tile_loadconfig(&cfg);
}

// tiles 0-3: C accumulators (rows 0-15 / 16-31 x columns 0-15 / 16-31); 4-5: A rows 0-15 / 16-31;
// 6-7: B columns 0-15 / 16-31. A tiles are 1024 elements apart per 32 k, B tiles 512.
#define LOAD_A(p)                                                                \
    do {                                                                         \
        _tile_loadd(4, a + (p) * apart + (size_t)ks * 1024, 64);                 \
        _tile_loadd(5, a + (p) * apart + (size_t)ks * 1024 + 512, 64);           \
    } while (0)
#define LOAD_B(p)                                                                \
    do {                                                                         \
        _tile_loadd(6, b0 + (p) * bpart + (size_t)ks * 512, 64);                 \
        _tile_loadd(7, b1 + (p) * bpart + (size_t)ks * 512, 64);                 \
    } while (0)
#define MUL4()                                                                   \
    do {                                                                         \
        _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7);                        \
        _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);                        \
    } while (0)

// C[m0 : m0+32, c0 : c0+32] (clipped to M x N) = beta C + the product of the packed 32-row
// block at a and the packed 32-column block at b0 (two 16-column blocks, b0 and b0 + 16 kcp).
// nbp: parts of B (3, or 1 for a coded weight); nscale: C's column n is multiplied by nscale[n]
// (before beta C is added), or NULL.
static void block_product(float *C, int ldc, float beta, const uint16_t *a, size_t apart, const uint16_t *b0,
                          size_t bpart, int nbp, const float *nscale, int kcp, int m0, int c0, int M, int N) {
    const uint16_t *b1 = b0 + (size_t)kcp * 16;
    _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
    if (nbp == 3)
        for (int ks = 0; ks < kcp / 32; ks++) {
            LOAD_A(0); LOAD_B(0); MUL4();   // a0 b0
            LOAD_B(1); MUL4();              // a0 b1
            LOAD_B(2); MUL4();              // a0 b2
            LOAD_A(1); LOAD_B(0); MUL4();   // a1 b0
            LOAD_B(1); MUL4();              // a1 b1
            LOAD_A(2); LOAD_B(0); MUL4();   // a2 b0
        }
    else
        for (int ks = 0; ks < kcp / 32; ks++) {   // B is exact in one part: a0 b, a1 b, a2 b
            LOAD_B(0);
            LOAD_A(0); MUL4();
            LOAD_A(1); MUL4();
            LOAD_A(2); MUL4();
        }
    float buf[32 * 32] __attribute__((aligned(64)));
    _tile_stored(0, buf, 128);
    _tile_stored(1, buf + 16, 128);
    _tile_stored(2, buf + 16 * 32, 128);
    _tile_stored(3, buf + 16 * 32 + 16, 128);
    const int rows = M - m0 < 32 ? M - m0 : 32;
    const __m512 vb = _mm512_set1_ps(beta);
    for (int h = 0; h < 2; h++) {
        const __mmask16 cm = lanes(N - c0 - 16 * h);
        if (!cm) continue;
        const __m512 sc = nscale ? _mm512_maskz_loadu_ps(cm, nscale + c0 + 16 * h) : _mm512_set1_ps(1.0f);
        for (int r = 0; r < rows; r++) {
            float *dst = C + (size_t)(m0 + r) * ldc + c0 + 16 * h;
            __m512 v = _mm512_load_ps(buf + r * 32 + 16 * h);
            if (nscale) v = _mm512_mul_ps(v, sc);
            if (beta != 0.0f) v = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(cm, dst), v);
            _mm512_mask_storeu_ps(dst, cm, v);
        }
    }
}

// --- the product --------------------------------------------------------------------------------

// one product: C (M,N) = beta C + op(A) op(B), B either fp32 (B, ldb, tb) or coded (W, w_nt)
typedef struct {
    float *C; int ldc; float beta;
    const float *A; int lda, ta;
    const float *akscale;       // coded nn: A's column k times step[k]
    const float *B; int ldb, tb;
    const gemm_coded *W; int w_nt;
    const float *cnscale;       // coded nt: C's column n times step[n]
    int M, N, K;
} gemm_job;

// One workspace for the packed operands, kept between calls (a training step makes ~100 of
// these products; fresh buffers would page-fault every time). Callers are serialized on it.
static pthread_mutex_t ws_lock = PTHREAD_MUTEX_INITIALIZER;
static void *ws;
static size_t ws_bytes;

static int run(const gemm_job *j) {
    if (!gemm_amx_available()) return -1;
    const int M = j->M, N = j->N, K = j->K;
    if (M <= 0 || N <= 0) return 0;
    if ((size_t)j->lda * 16 > INT32_MAX || (size_t)j->ldb * 16 > INT32_MAX) return -1;   // gather offsets are int32
    if (K <= 0) {   // C = beta C
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) {
                float *c = j->C + (size_t)m * j->ldc + n;
                *c = j->beta == 0.0f ? 0.0f : j->beta * *c;
            }
        return 0;
    }
    const int nbp = j->W ? 1 : 3;
    const int nthr = omp_get_max_threads();
    // a long K over a narrow N (the head's input gradient: K 32000, N 512) takes K chunks twice
    // as long: half the passes over C and the barriers (4x as long spills the A chunk out of L2)
    const int KCH = K > 4 * KC && N <= NC / 2 ? 2 * KC : KC;
    const int kcmax = K < KCH ? (K + 31) / 32 * 32 : KCH, ncmax = N < NC ? (N + 31) / 32 * 32 : NC;
    const size_t apart = (size_t)MC * kcmax, bpart = (size_t)ncmax * kcmax;   // bf16 elements per part
    const size_t need = ((size_t)nbp * bpart + 3 * apart * (size_t)nthr) * sizeof(uint16_t);
    pthread_mutex_lock(&ws_lock);
    if (ws_bytes < need) {
        free(ws);
        ws = aligned_alloc(64, (need + 63) / 64 * 64);
        ws_bytes = ws ? need : 0;
    }
    if (!ws) { pthread_mutex_unlock(&ws_lock); return -1; }
    uint16_t *const bp = ws, *const ap_all = bp + (size_t)nbp * bpart;
    // the threads share out MC-row chunks; with fewer than two per thread (few rows, many
    // threads) smaller chunks keep them all busy (down to 32 rows: less reuse of each B block)
    int mc = MC;
    while (mc > 32 && (M + mc - 1) / mc < 2 * nthr) mc /= 2;
    const int n_mchunks = (M + mc - 1) / mc;
    const int ldw = j->W ? (j->w_nt ? K : N) : 0;
    #pragma omp parallel num_threads(nthr)
    {
        uint16_t *const ap = ap_all + (size_t)omp_get_thread_num() * 3 * apart;
        tiles_configure();
        for (int k0 = 0; k0 < K; k0 += KCH) {
            const int kc = K - k0 < KCH ? K - k0 : KCH, kcp = (kc + 31) / 32 * 32;
            const float beta = k0 == 0 ? j->beta : 1.0f;   // later K chunks add to C
            for (int n0 = 0; n0 < N; n0 += NC) {
                const int nc = N - n0 < NC ? N - n0 : NC, ncp = (nc + 31) / 32 * 32;
                #pragma omp for schedule(static)
                for (int nb = 0; nb < ncp / 16; nb++) {
                    if (j->W) pack_b_coded((uint32_t *)bp, kcp, j->W, ldw, j->w_nt, n0, nc, k0, kc, nb, nb + 1);
                    else pack_b((uint32_t *)bp, bpart / 2, kcp, j->B, j->ldb, j->tb, n0, nc, k0, kc, nb, nb + 1);
                }
                // (the implicit barrier: B is packed)
                #pragma omp for schedule(dynamic)
                for (int ic = 0; ic < n_mchunks; ic++) {
                    const int m0 = ic * mc, mcp = ((M - m0 < mc ? M - m0 : mc) + 31) / 32 * 32;
                    pack_a(ap, apart, kcp, j->A, j->lda, j->ta, j->akscale, M, m0, mcp, k0, kc);
                    for (int nb = 0; nb < ncp / 32; nb++)
                        for (int mb = 0; mb < mcp / 32; mb++)
                            block_product(j->C, j->ldc, beta, ap + (size_t)mb * (kcp / 32) * 1024, apart,
                                          bp + (size_t)nb * 32 * kcp, bpart, nbp, j->cnscale, kcp, m0 + mb * 32,
                                          n0 + nb * 32, M, N);
                }
                // (the implicit barrier: B may be repacked)
            }
        }
        _tile_release();
    }
    pthread_mutex_unlock(&ws_lock);
    return 0;
}

int gemm_amx(float *C, int ldc, float beta, const float *A, int lda, int ta, const float *B, int ldb, int tb, int M,
             int N, int K) {
    const gemm_job j = {.C = C, .ldc = ldc, .beta = beta, .A = A, .lda = lda, .ta = ta, .B = B, .ldb = ldb, .tb = tb,
                        .M = M, .N = N, .K = K};
    return run(&j);
}

int gemm_amx_coded_nt(float *C, int ldc, float beta, const float *A, int lda, const gemm_coded *W, int M, int N, int K) {
    const gemm_job j = {.C = C, .ldc = ldc, .beta = beta, .A = A, .lda = lda, .W = W, .w_nt = 1, .cnscale = W->step,
                        .M = M, .N = N, .K = K};
    return run(&j);
}

int gemm_amx_coded_nn(float *C, int ldc, float beta, const float *A, int lda, const gemm_coded *W, int M, int N, int K) {
    const gemm_job j = {.C = C, .ldc = ldc, .beta = beta, .A = A, .lda = lda, .akscale = W->step, .W = W, .w_nt = 0,
                        .M = M, .N = N, .K = K};
    return run(&j);
}

#pragma GCC pop_options
#endif
