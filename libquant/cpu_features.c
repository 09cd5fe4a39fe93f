// cpu_features.c: run-time SIMD detection with GCC/clang's __builtin_cpu_supports.
#include "cpu_features.h"
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

// F16C and AMX via cpuid: clang 14's __builtin_cpu_supports does not know these names.
static int cpuid_f16c(void) {
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
}
static int cpuid_amx(void) {   // leaf 7: EDX bit 24 AMX-TILE, bit 25 AMX-INT8
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (d & (1u << 24)) && (d & (1u << 25));
}
#endif

static lb_cpu_features detect(void) {
    lb_cpu_features f = {0};
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    f.avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpuid_f16c();
    f.avx512 = f.avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    f.avx512vbmi_vnni = f.avx512 && __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512vnni") &&
                        __builtin_cpu_supports("bmi2");
    f.amx = f.avx512 && cpuid_amx() &&
            __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512vnni");
#endif
    const char *cap = getenv("LOWBIT_SIMD");
    if (cap && strcmp(cap, "scalar") == 0) f.avx2 = f.avx512 = f.avx512vbmi_vnni = f.amx = 0;
    if (cap && strcmp(cap, "avx2") == 0) f.avx512 = f.avx512vbmi_vnni = f.amx = 0;
    return f;
}

const lb_cpu_features *lb_cpu_get_features(void) {
    static lb_cpu_features features;
    static int done = 0;
    if (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
        #pragma omp critical(lb_cpu_features_init)
        {
            if (!done) { features = detect(); __atomic_store_n(&done, 1, __ATOMIC_RELEASE); }
        }
    }
    return &features;
}
