// types_kernels.c: registers each type's kernels in the type table (called once).
#include "lb_types.h"

void lb_types_init_kernels(void) {
    // kernels are registered here as their files land (f32/f16/bf16/q8_0: runtime work)
}
