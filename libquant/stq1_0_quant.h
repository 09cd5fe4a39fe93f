// stq1_0_quant.h: the vectorized STQ1_0 RTN quantizer (stq1_0_quant.c): same bytes as
// lb_stq1_0_from_float, several times faster; the scalar reference where AVX2 is missing.
#pragma once
#include <stdint.h>

void lb_stq1_0_from_float_fast(const float *x, void *y, int64_t n);   // n a multiple of 256
