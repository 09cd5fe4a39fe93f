// cpu_features.h: which SIMD instruction sets this CPU has, asked once at run time.
// Kernels are compiled for several targets (__attribute__((target(...)))) and the type
// table picks the best variant through these flags, so one binary runs everywhere.
#pragma once

typedef struct lb_cpu_features {
    int avx2;      // AVX2 + FMA + F16C (the x86-64-v3 set our AVX2 kernels assume)
    int avx512;    // AVX-512 F + BW + VL + DQ (the x86-64-v4 subset our kernels use)
    int avx512vbmi_vnni;   // avx512 + VBMI (vpmultishiftqb, vpermb) + VNNI (vpdpbusd) + BMI2 (pext): the
                           // native 2-bit / 1.25-bit kernels (q2_0c.c, stq1_0.c) unpack with these
    int amx;       // AMX tiles + int8 (+ AVX-512 BF16/VNNI): llama.cpp's "sapphirerapids" CPU
                   // build, which runs F16 matmuls through its AMX buffer (see runtime/matmul.c)
} lb_cpu_features;

// Detected once (thread-safe); LOWBIT_SIMD=scalar|avx2 in the environment caps the level,
// which is how tests and benchmarks compare variants.
const lb_cpu_features *lb_cpu_get_features(void);
