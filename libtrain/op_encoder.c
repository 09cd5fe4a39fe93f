// op_encoder.c: token embedding lookup and its scatter-add backward.
#include "ops.h"
#include <string.h>

void encoder_forward(float *out, const int32_t *tokens, const float *wte, int N, int C) {
    // out is (N,C): row n is wte[tokens[n]]
    for (int n = 0; n < N; n++) memcpy(out + (size_t)n * C, wte + (size_t)tokens[n] * C, (size_t)C * sizeof(float));
}

void encoder_backward(float *dwte, const float *dout, const int32_t *tokens, int N, int C) {
    // serial: two positions with the same token add into the same row
    for (int n = 0; n < N; n++) {
        float *d = dwte + (size_t)tokens[n] * C;
        const float *g = dout + (size_t)n * C;
        for (int i = 0; i < C; i++) d[i] += g[i];
    }
}
