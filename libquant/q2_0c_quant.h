// q2_0c_quant.h: the vectorized Q2_0C RTN quantizer (q2_0c_quant.c): same bytes as
// lb_q2_0c_from_float, several times faster; the scalar reference where AVX2 is missing.
#pragma once
#include <stdint.h>

void lb_q2_0c_from_float_fast(const float *x, void *y, int64_t n);   // n a multiple of 512
