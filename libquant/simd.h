// simd.h: the x86 prelude the kernel files share: run-time-dispatched functions are compiled
// with target attributes (the library itself is built for baseline x86-64), plus the two tiny
// helpers every AVX2/AVX-512 kernel needs. Which variant runs is decided in cpu_features.c.
#pragma once
#include "fp16.h"

// A plain C loop compiled once per x86-64 level (v4 = AVX-512, v3 = AVX2+FMA, baseline) and
// picked at load time (GCC target_clones / ifunc): for elementwise loops the compiler can
// vectorize itself. Only where every clone gives the same bits (no reassociation; a
// contracted a*b+c only where a*b is exact), or where the caller documents otherwise.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(LB_NO_SIMD_CLONES)
#define LB_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define LB_SIMD_CLONES
#endif

#if defined(__x86_64__)
#include <immintrin.h>
#define LB_HAVE_X86 1
#define TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#define TARGET_AVX512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")))
// AVX-512 plus VBMI (byte permutes) and VNNI (int8 dot): the native types' fastest kernels
#define TARGET_AVX512_VBMI_VNNI \
    __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi,avx512vnni")))

// sum of the 8 lanes
TARGET_AVX2 static inline __attribute__((always_inline)) float lb_hsum256(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

// Decode reads every weight once, so a vec_dot streams its row from memory; the hardware
// prefetcher alone leaves the core waiting on loads (perf: ~60% of the Q2_0C kernel's samples
// sat on the weight loads). Kernels touch each weight line LB_PREFETCH_DIST bytes before
// they read it. Rows of one matmul are contiguous, so near a row's end this warms the next
// row. Measured on the 1.67B Llama, 1 thread, Q2_0C decode: 17.2 tok/s without, 19.6 / 19.6 /
// 19.7 with 1 / 2 / 4 KB (tests/bench/bench_quant.sh -big has the 2-thread figures).
#define LB_PREFETCH_DIST 2048
static inline __attribute__((always_inline)) void lb_prefetch_ahead(const void *p) {
    _mm_prefetch((const char *)p + LB_PREFETCH_DIST, _MM_HINT_T0);
}

// F16C conversion: exact for every half (NaNs included: test_rtn_fast checks all 65536), like
// lb_fp16_to_f32, but one instruction
TARGET_AVX2 static inline __attribute__((always_inline)) float lb_fp16_hw(lb_fp16 h) { return _cvtsh_ss(h); }
#else
#define LB_HAVE_X86 0
#endif
