// op_residual.c: the residual stream's add.
#include "ops.h"

void residual_forward(float *out, const float *a, const float *b, size_t N) {
    #pragma omp parallel for if (N >= 65536)
    for (size_t i = 0; i < N; i++) out[i] = a[i] + b[i];
}

void residual_backward(float *da, float *db, const float *dout, size_t N) {
    #pragma omp parallel for if (N >= 65536)
    for (size_t i = 0; i < N; i++) {
        if (da) da[i] += dout[i];
        if (db) db[i] += dout[i];
    }
}
