// types_kernels.c: registers each type's kernels in the type table (called once, from
// lb_type_get). The SIMD level is chosen here, once, from the CPU's features.
#include "lb_types.h"
#include "cpu_features.h"
#include "types_float.h"
#include "q8_0.h"
#include "q2_0c.h"
#include "stq1_0.h"
#include "stq1_0_quant.h"
#include "q2_0c_quant.h"
#include "q8_k.h"
#include "q2_k.h"
#include "tq1_0.h"
#include "tq2_0.h"

void lb_types_register(uint32_t type, lb_to_float_fn to_float, lb_from_float_fn from_float,
                       lb_vec_dot_fn vec_dot, uint32_t vec_dot_type);
void lb_types_register_extra(uint32_t type, lb_vec_dot4_fn vec_dot4, lb_vec_dot2r_fn vec_dot2r,
                             lb_from_float_fn act_from_float);

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
    // Q8_K is only an activation type (no vec_dot of its own); the 2-bit and ternary K-family
    // types are multiplied with Q8_K activations, as ggml-cpu does
    lb_types_register(LB_TYPE_Q8_K, lb_q8_K_to_float, lb_q8_K_from_float, NULL, LB_TYPE_Q8_K);
    lb_types_register(LB_TYPE_Q2_K, lb_q2_K_to_float, lb_q2_K_from_float,
                      PICK(lb_vec_dot_q2_K_q8_K_ref, lb_vec_dot_q2_K_q8_K_avx2, lb_vec_dot_q2_K_q8_K_avx512), LB_TYPE_Q8_K);
    lb_types_register(LB_TYPE_TQ1_0, lb_tq1_0_to_float, lb_tq1_0_from_float,
                      PICK(lb_vec_dot_tq1_0_q8_K_ref, lb_vec_dot_tq1_0_q8_K_avx2, lb_vec_dot_tq1_0_q8_K_avx512), LB_TYPE_Q8_K);
    lb_types_register(LB_TYPE_TQ2_0, lb_tq2_0_to_float, lb_tq2_0_from_float,
                      PICK(lb_vec_dot_tq2_0_q8_K_ref, lb_vec_dot_tq2_0_q8_K_avx2, lb_vec_dot_tq2_0_q8_K_avx512), LB_TYPE_Q8_K);
    // lowbit's native types (docs/formats.md): Q8_K activations; their AVX-512 kernels need
    // VBMI + VNNI on top of the avx512 set, otherwise the AVX2 kernels run
    lb_types_register(LB_TYPE_Q2_0C, lb_q2_0c_to_float, lb_q2_0c_from_float_fast,
                      cpu->avx512vbmi_vnni ? lb_vec_dot_q2_0c_q8_K_avx512 : cpu->avx2 ? lb_vec_dot_q2_0c_q8_K_avx2
                                                                          : lb_vec_dot_q2_0c_q8_K_ref, LB_TYPE_Q8_K);
    lb_types_register(LB_TYPE_STQ1_0, lb_stq1_0_to_float, lb_stq1_0_from_float_fast,
                      cpu->avx512vbmi_vnni ? lb_vec_dot_stq1_0_q8_Kp_avx512 : cpu->avx2 ? lb_vec_dot_stq1_0_q8_K_avx2
                                                                            : lb_vec_dot_stq1_0_q8_K_ref, LB_TYPE_Q8_K);
    // optional kernels: 4-row (prefill) and 2-row (decode), bitwise equal to the vec_dot above; STQ1_0's
    // AVX-512 kernels read Q8_K activations in their own (Kp) order
    if (cpu->avx512) {
        lb_types_register_extra(LB_TYPE_Q8_0, NULL, lb_vec_dot2r_q8_0_avx512, NULL);
        lb_types_register_extra(LB_TYPE_Q2_K, lb_vec_dot4_q2_K_q8_K_avx512, NULL, NULL);
        lb_types_register_extra(LB_TYPE_TQ2_0, lb_vec_dot4_tq2_0_q8_K_avx512, NULL, NULL);
    }
    if (cpu->avx512vbmi_vnni) {
        lb_types_register_extra(LB_TYPE_Q2_0C, lb_vec_dot4_q2_0c_q8_K_avx512, NULL, NULL);
        lb_types_register_extra(LB_TYPE_STQ1_0, lb_vec_dot4_stq1_0_q8_Kp_avx512, NULL, lb_stq1_0_act_from_float);
    }
}
