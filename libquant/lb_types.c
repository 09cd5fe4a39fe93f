// lb_types.c: the type table. Sizes for every ggml type (so any GGUF can be validated and
// inspected); kernels only where lowbit computes with the type.
#include "lb_types.h"
#include <ctype.h>
#include <string.h>
#include <strings.h>

// Kernels are defined in their own files (types_float.c, q8_0.c, ...). Filled in as
// they land; NULL means "sizes only".
#define SIZES(nm, bs, ts) { .name = nm, .blck_size = bs, .type_size = ts }

static lb_type_traits g_traits[LB_TYPE_MAX_ID] = {
    [LB_TYPE_F32]     = SIZES("f32", 1, 4),
    [LB_TYPE_F16]     = SIZES("f16", 1, 2),
    [LB_TYPE_Q4_0]    = SIZES("q4_0", 32, 18),
    [LB_TYPE_Q4_1]    = SIZES("q4_1", 32, 20),
    [LB_TYPE_Q5_0]    = SIZES("q5_0", 32, 22),
    [LB_TYPE_Q5_1]    = SIZES("q5_1", 32, 24),
    [LB_TYPE_Q8_0]    = SIZES("q8_0", 32, 34),
    [LB_TYPE_Q8_1]    = SIZES("q8_1", 32, 36),
    [LB_TYPE_Q2_K]    = SIZES("q2_K", 256, 84),
    [LB_TYPE_Q3_K]    = SIZES("q3_K", 256, 110),
    [LB_TYPE_Q4_K]    = SIZES("q4_K", 256, 144),
    [LB_TYPE_Q5_K]    = SIZES("q5_K", 256, 176),
    [LB_TYPE_Q6_K]    = SIZES("q6_K", 256, 210),
    [LB_TYPE_Q8_K]    = SIZES("q8_K", 256, 292),
    [LB_TYPE_IQ2_XXS] = SIZES("iq2_xxs", 256, 66),
    [LB_TYPE_IQ2_XS]  = SIZES("iq2_xs", 256, 74),
    [LB_TYPE_IQ3_XXS] = SIZES("iq3_xxs", 256, 98),
    [LB_TYPE_IQ1_S]   = SIZES("iq1_s", 256, 50),
    [LB_TYPE_IQ4_NL]  = SIZES("iq4_nl", 32, 18),
    [LB_TYPE_IQ3_S]   = SIZES("iq3_s", 256, 110),
    [LB_TYPE_IQ2_S]   = SIZES("iq2_s", 256, 82),
    [LB_TYPE_IQ4_XS]  = SIZES("iq4_xs", 256, 136),
    [LB_TYPE_I8]      = SIZES("i8", 1, 1),
    [LB_TYPE_I16]     = SIZES("i16", 1, 2),
    [LB_TYPE_I32]     = SIZES("i32", 1, 4),
    [LB_TYPE_I64]     = SIZES("i64", 1, 8),
    [LB_TYPE_F64]     = SIZES("f64", 1, 8),
    [LB_TYPE_IQ1_M]   = SIZES("iq1_m", 256, 56),
    [LB_TYPE_BF16]    = SIZES("bf16", 1, 2),
    [LB_TYPE_TQ1_0]   = SIZES("tq1_0", 256, 54),
    [LB_TYPE_TQ2_0]   = SIZES("tq2_0", 256, 66),
    [LB_TYPE_MXFP4]   = SIZES("mxfp4", 32, 17),
    [LB_TYPE_NVFP4]   = SIZES("nvfp4", 64, 36),
    [LB_TYPE_Q1_0]    = SIZES("q1_0", 128, 18),
    [LB_TYPE_Q2_0]    = SIZES("q2_0", 64, 18),
    [LB_TYPE_Q2_0C]   = SIZES("q2_0c", 512, 130),   // lowbit native (docs/formats.md)
    [LB_TYPE_STQ1_0]  = SIZES("stq1_0", 256, 42),   // lowbit native (docs/formats.md)
};

// Registration hook for kernel files: they call this from lb_types_init_kernels().
void lb_types_register(uint32_t type, lb_to_float_fn to_float, lb_from_float_fn from_float,
                       lb_vec_dot_fn vec_dot, uint32_t vec_dot_type);
void lb_types_register(uint32_t type, lb_to_float_fn to_float, lb_from_float_fn from_float,
                       lb_vec_dot_fn vec_dot, uint32_t vec_dot_type) {
    if (type >= LB_TYPE_MAX_ID || !g_traits[type].name) return;
    g_traits[type].to_float = to_float;
    g_traits[type].from_float = from_float;
    g_traits[type].vec_dot = vec_dot;
    g_traits[type].vec_dot_type = vec_dot_type;
}

// the optional kernels of a type (lb_type_traits: NULL where it has none)
void lb_types_register_extra(uint32_t type, lb_vec_dot4_fn vec_dot4, lb_vec_dot2r_fn vec_dot2r,
                             lb_from_float_fn act_from_float) {
    if (type >= LB_TYPE_MAX_ID || !g_traits[type].name) return;
    g_traits[type].vec_dot4 = vec_dot4;
    g_traits[type].vec_dot2r = vec_dot2r;
    g_traits[type].act_from_float = act_from_float;
}

// defined by the kernel files (types_kernels.c); picks SIMD variants once
void lb_types_init_kernels(void);

const lb_type_traits *lb_type_get(uint32_t type) {
    static int inited = 0;
    if (!__atomic_load_n(&inited, __ATOMIC_ACQUIRE)) {
        #pragma omp critical(lb_types_init)
        {
            if (!inited) { lb_types_init_kernels(); __atomic_store_n(&inited, 1, __ATOMIC_RELEASE); }
        }
    }
    if (type >= LB_TYPE_MAX_ID || !g_traits[type].name) return NULL;
    return &g_traits[type];
}

size_t lb_row_size(uint32_t type, int64_t ne0) {
    const lb_type_traits *t = lb_type_get(type);
    if (!t || ne0 < 0 || ne0 % t->blck_size) return 0;
    return (size_t)(ne0 / t->blck_size) * t->type_size;
}

int lb_type_from_name(const char *name) {
    for (int i = 0; i < LB_TYPE_MAX_ID; i++) {
        if (!g_traits[i].name) continue;
        if (strcasecmp(g_traits[i].name, name) == 0) return i;
    }
    return -1;
}
