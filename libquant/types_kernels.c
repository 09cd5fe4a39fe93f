// types_kernels.c: registers each type's kernels in the type table (called once, from
// lb_type_get). The SIMD level is chosen here, once, from the CPU's features.
#include "lb_types.h"
#include "cpu_features.h"
#include "types_float.h"
#include "q8_0.h"

void lb_types_register(uint32_t type, lb_to_float_fn to_float, lb_from_float_fn from_float,
                       lb_vec_dot_fn vec_dot, uint32_t vec_dot_type);

// pick the widest variant the CPU supports
#define PICK(f_ref, f_avx2, f_avx512) (cpu->avx512 ? (f_avx512) : cpu->avx2 ? (f_avx2) : (f_ref))

void lb_types_init_kernels(void) {
    const lb_cpu_features *cpu = lb_cpu_get_features();
    // activations are converted to the weight's own type before the dot product, as ggml's
    // CPU backend does (f16 x f16, bf16 x bf16, q8_0 x q8_0): llama.cpp agreement depends on it
    lb_types_register(LB_TYPE_F32, lb_f32_to_float, lb_f32_from_float,
                      PICK(lb_vec_dot_f32_ref, lb_vec_dot_f32_avx2, lb_vec_dot_f32_avx512), LB_TYPE_F32);
    lb_types_register(LB_TYPE_F16, PICK(lb_f16_to_float_ref, lb_f16_to_float_avx2, lb_f16_to_float_avx512),
                      lb_f16_from_float,
                      PICK(lb_vec_dot_f16_ref, lb_vec_dot_f16_avx2, lb_vec_dot_f16_avx512), LB_TYPE_F16);
    lb_types_register(LB_TYPE_BF16, PICK(lb_bf16_to_float_ref, lb_bf16_to_float_ref, lb_bf16_to_float_avx512),
                      lb_bf16_from_float,
                      PICK(lb_vec_dot_bf16_ref, lb_vec_dot_bf16_avx2, lb_vec_dot_bf16_avx512), LB_TYPE_BF16);
    lb_types_register(LB_TYPE_Q8_0, lb_q8_0_to_float, lb_q8_0_from_float,
                      PICK(lb_vec_dot_q8_0_ref, lb_vec_dot_q8_0_avx2, lb_vec_dot_q8_0_avx512), LB_TYPE_Q8_0);
}
