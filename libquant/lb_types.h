// lb_types.h: the one table of tensor types (ggml type ids, block sizes, kernels).
// Everything that needs a block layout (the GGUF reader's size checks, the runtime's
// matmul, the importer, later quantize/export) looks the type up here.
#pragma once
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

// ggml type ids as of llama.cpp v0.5.0 (ggml/include/ggml.h). The on-disk numbering.
enum lb_type {
    LB_TYPE_F32 = 0, LB_TYPE_F16 = 1, LB_TYPE_Q4_0 = 2, LB_TYPE_Q4_1 = 3,
    LB_TYPE_Q5_0 = 6, LB_TYPE_Q5_1 = 7, LB_TYPE_Q8_0 = 8, LB_TYPE_Q8_1 = 9,
    LB_TYPE_Q2_K = 10, LB_TYPE_Q3_K = 11, LB_TYPE_Q4_K = 12, LB_TYPE_Q5_K = 13,
    LB_TYPE_Q6_K = 14, LB_TYPE_Q8_K = 15, LB_TYPE_IQ2_XXS = 16, LB_TYPE_IQ2_XS = 17,
    LB_TYPE_IQ3_XXS = 18, LB_TYPE_IQ1_S = 19, LB_TYPE_IQ4_NL = 20, LB_TYPE_IQ3_S = 21,
    LB_TYPE_IQ2_S = 22, LB_TYPE_IQ4_XS = 23, LB_TYPE_I8 = 24, LB_TYPE_I16 = 25,
    LB_TYPE_I32 = 26, LB_TYPE_I64 = 27, LB_TYPE_F64 = 28, LB_TYPE_IQ1_M = 29,
    LB_TYPE_BF16 = 30, LB_TYPE_TQ1_0 = 34, LB_TYPE_TQ2_0 = 35, LB_TYPE_MXFP4 = 39,
    LB_TYPE_NVFP4 = 40, LB_TYPE_Q1_0 = 41, LB_TYPE_Q2_0 = 42,   // GGML_TYPE_COUNT = 43 in v0.5.0
    // lowbit's native compact types (docs/formats.md). Their ids sit far above every upstream
    // id (and above the 40..43 that unmerged forks used), so stock llama.cpp rejects such a
    // file as "invalid ggml type" instead of misreading it.
    LB_TYPE_Q2_0C = 96,    // 2-bit, 512 weights: fp16 d + 128 bytes of codes, value (2c-3)*d
    LB_TYPE_STQ1_0 = 97,   // 1.25-bit sparse ternary 3:4, 256 weights in 42 bytes
    LB_TYPE_MAX_ID = 255   // ids the table knows live below this
};

// y = dequantized row: n values (n a multiple of blck_size)
typedef void (*lb_to_float_fn)(const void *x, float *y, int64_t n);
// pack n floats into this type (reference rounding rule of the type)
typedef void (*lb_from_float_fn)(const float *x, void *y, int64_t n);
// s = dot(x row in this type, y row in vec_dot_type), n values
typedef void (*lb_vec_dot_fn)(int64_t n, float *s, const void *x, const void *y);
// the same for 4 activation rows: s[t*bs] = dot(x, row t), row t at y + t*by bytes, each
// result bitwise equal to vec_dot's for that row (the weight row is unpacked once, used 4x)
typedef void (*lb_vec_dot4_fn)(int64_t n, float *s, size_t bs, const void *x, const void *y, size_t by);
// 2 weight rows against one activation row: s[0] = dot(x, y), s[1] = dot(x + bx bytes, y), each
// bitwise equal to vec_dot's (two independent accumulator chains, for decode)
typedef void (*lb_vec_dot2r_fn)(int64_t n, float *s, const void *x, size_t bx, const void *y);

typedef struct lb_type_traits {
    const char *name;           // "f32", "q8_0", ... (lower case, as llama.cpp prints)
    int64_t blck_size;          // weights per block
    size_t type_size;           // bytes per block
    lb_to_float_fn to_float;    // NULL when lowbit cannot compute with this type (yet)
    lb_from_float_fn from_float;
    lb_vec_dot_fn vec_dot;
    uint32_t vec_dot_type;      // the type activations are converted to before vec_dot
    lb_vec_dot4_fn vec_dot4;    // optional (NULL): 4 activation rows at once, for prefill
    lb_vec_dot2r_fn vec_dot2r;  // optional (NULL): 2 weight rows at once, for decode
    // optional (NULL): converts activations for vec_dot/vec_dot4 when those want a private
    // layout of vec_dot_type (same size, e.g. Q8_K with reordered codes); NULL means
    // vec_dot_type's own from_float. Anything else reading the activations (to_float) must
    // convert with vec_dot_type's from_float instead.
    lb_from_float_fn act_from_float;
} lb_type_traits;

// NULL for an id no known ggml type uses. Types lowbit cannot compute still have sizes.
const lb_type_traits *lb_type_get(uint32_t type);
// bytes of a row of ne0 values; 0 if the type is unknown or ne0 is not a multiple of its block.
size_t lb_row_size(uint32_t type, int64_t ne0);
// look a type up by name ("f16", "Q8_0", case-insensitive); -1 if none
int lb_type_from_name(const char *name);
