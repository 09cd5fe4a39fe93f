// fuzz_safetensors.c: libFuzzer target for the safetensors header parser (lb_st_parse):
// the input is a whole .safetensors file image. Every accepted tensor must lie inside the
// input and match dtype x shape. Build with CC=clang -DLOWBIT_FUZZ=ON; tests/fuzz/replay.c
// runs the same function over tests/fuzz/corpus/safetensors in a normal build.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lb_safetensors st;
    memset(&st, 0, sizeof st);
    lb_err err;
    if (lb_st_parse(&st, data, size, 0, "fuzz.safetensors", &err) == 0) {
        for (size_t i = 0; i < st.n_tensors; i++) {
            const lb_st_tensor *t = &st.tensors[i];
            const uint8_t *p = t->data;
            if (p < data || p + t->nbytes > data + size) abort();               // outside the input
            size_t es = t->type == 0 ? 4 : 2;
            if ((uint64_t)t->numel * es != t->nbytes) abort();                  // size mismatch
            volatile uint8_t sink = t->nbytes ? p[t->nbytes - 1] : 0;           // touch the last byte
            (void)sink;
        }
    }
    lb_st_close(&st);
    return 0;
}
