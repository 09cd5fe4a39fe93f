// kv.h: an ordered key -> typed value store, the in-memory form of GGUF metadata.
// Every importer (GGUF, HF config.json/tokenizer.json, llama2.c) fills one of these with
// exactly the GGUF keys llama.cpp expects; the GGUF writer writes it in insertion order
// (so output bytes are deterministic); the runtime reads hyper-parameters and the
// tokenizer from it.
#pragma once
#include <stdint.h>
#include <stddef.h>
#include "lb_error.h"

// GGUF value types (ggml docs/gguf.md); the numbering is the on-disk one.
enum lb_vtype {
    LB_VT_U8 = 0, LB_VT_I8 = 1, LB_VT_U16 = 2, LB_VT_I16 = 3, LB_VT_U32 = 4, LB_VT_I32 = 5,
    LB_VT_F32 = 6, LB_VT_BOOL = 7, LB_VT_STR = 8, LB_VT_ARR = 9, LB_VT_U64 = 10, LB_VT_I64 = 11,
    LB_VT_F64 = 12, LB_VT_COUNT
};

// A string value: bytes need not be valid UTF-8 and may contain NUL; ptr[len] is always 0.
typedef struct lb_str {
    uint64_t len;
    const char *ptr;
} lb_str;

typedef struct lb_kv {
    char *key;          // NUL-terminated, owned
    uint32_t type;      // enum lb_vtype; LB_VT_ARR for arrays
    uint32_t arr_type;  // element type when type == LB_VT_ARR (never LB_VT_ARR: no nested arrays)
    uint64_t n;         // element count: 1 for scalars
    void *data;         // owned. numbers/bool: n packed host-order values of the element size
                        // (bool is 1 byte); strings: lb_str[n], whose bytes live in the same block
} lb_kv;

typedef struct lb_kvs {
    lb_kv *v;
    size_t n, cap;
} lb_kvs;

void lb_kvs_init(lb_kvs *kvs);
void lb_kvs_free(lb_kvs *kvs);
size_t lb_vtype_size(uint32_t type);   // bytes of one scalar element; 0 for STR/ARR/unknown
const char *lb_vtype_name(uint32_t type);

const lb_kv *lb_kvs_find(const lb_kvs *kvs, const char *key);

// Setters copy their input. Setting an existing key replaces its value in place (order kept).
// They return 0, or -1 with err filled on allocation failure.
int lb_kvs_set_scalar(lb_kvs *kvs, const char *key, uint32_t type, const void *value, lb_err *err);
int lb_kvs_set_u32(lb_kvs *kvs, const char *key, uint32_t v, lb_err *err);
int lb_kvs_set_i32(lb_kvs *kvs, const char *key, int32_t v, lb_err *err);
int lb_kvs_set_f32(lb_kvs *kvs, const char *key, float v, lb_err *err);
int lb_kvs_set_bool(lb_kvs *kvs, const char *key, int v, lb_err *err);
int lb_kvs_set_str(lb_kvs *kvs, const char *key, const char *s, lb_err *err);          // NUL-terminated
int lb_kvs_set_strn(lb_kvs *kvs, const char *key, const char *s, uint64_t len, lb_err *err);
int lb_kvs_set_arr(lb_kvs *kvs, const char *key, uint32_t elem_type, const void *data, uint64_t n,
                   lb_err *err);                                                       // numeric/bool elements
int lb_kvs_set_str_arr(lb_kvs *kvs, const char *key, const lb_str *strs, uint64_t n, lb_err *err);
int lb_kvs_copy(lb_kvs *dst, const lb_kvs *src, lb_err *err);                          // appends/replaces all
void lb_kvs_remove(lb_kvs *kvs, const char *key);

// Getters return 0 when the key exists with a compatible type, -1 otherwise (err untouched).
// get_int accepts any integer type (and bool); get_float any float or integer type.
int lb_kvs_get_int(const lb_kvs *kvs, const char *key, int64_t *out);
int lb_kvs_get_float(const lb_kvs *kvs, const char *key, double *out);
const char *lb_kvs_get_str(const lb_kvs *kvs, const char *key);       // NULL if absent / not a string
// Array of strings (NULL if absent or not an array of strings); *n receives the count.
const lb_str *lb_kvs_get_str_arr(const lb_kvs *kvs, const char *key, uint64_t *n);
// Array of numbers with exactly this element type (NULL otherwise); *n receives the count.
const void *lb_kvs_get_arr(const lb_kvs *kvs, const char *key, uint32_t elem_type, uint64_t *n);
