// kv.c: the ordered key -> typed value store behind GGUF metadata (see kv.h).
// Linear search: models carry a few dozen keys, and insertion order is the output order.
#include "kv.h"
#include <stdlib.h>
#include <string.h>

// --- types --------------------------------------------------------------------

size_t lb_vtype_size(uint32_t type) {
    switch (type) {
    case LB_VT_U8: case LB_VT_I8: case LB_VT_BOOL: return 1;
    case LB_VT_U16: case LB_VT_I16: return 2;
    case LB_VT_U32: case LB_VT_I32: case LB_VT_F32: return 4;
    case LB_VT_U64: case LB_VT_I64: case LB_VT_F64: return 8;
    default: return 0;
    }
}

const char *lb_vtype_name(uint32_t type) {
    static const char *names[LB_VT_COUNT] = {
        "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64",
    };
    return type < LB_VT_COUNT ? names[type] : "unknown";
}

// --- store --------------------------------------------------------------------

void lb_kvs_init(lb_kvs *kvs) { memset(kvs, 0, sizeof *kvs); }

void lb_kvs_free(lb_kvs *kvs) {
    for (size_t i = 0; i < kvs->n; i++) {
        free(kvs->v[i].key);
        free(kvs->v[i].data);
    }
    free(kvs->v);
    memset(kvs, 0, sizeof *kvs);
}

static lb_kv *find_mut(lb_kvs *kvs, const char *key) {
    for (size_t i = 0; i < kvs->n; i++)
        if (!strcmp(kvs->v[i].key, key)) return &kvs->v[i];
    return NULL;
}

const lb_kv *lb_kvs_find(const lb_kvs *kvs, const char *key) {
    return find_mut((lb_kvs *)kvs, key);
}

// Install an already built value block under key: replaces in place (old block freed) or
// appends. Takes ownership of data in every case (freed on failure).
static int put(lb_kvs *kvs, const char *key, uint32_t type, uint32_t arr_type, uint64_t n, void *data,
               lb_err *err) {
    lb_kv *kv = find_mut(kvs, key);
    if (kv) {
        free(kv->data);
        kv->type = type; kv->arr_type = arr_type; kv->n = n; kv->data = data;
        return 0;
    }
    if (kvs->n == kvs->cap) {
        size_t cap = kvs->cap ? kvs->cap * 2 : 16;
        lb_kv *v = realloc(kvs->v, cap * sizeof *v);
        if (!v) { free(data); return lb_fail(err, "out of memory storing key '%s'", key); }
        kvs->v = v; kvs->cap = cap;
    }
    char *k = strdup(key);
    if (!k) { free(data); return lb_fail(err, "out of memory storing key '%s'", key); }
    kvs->v[kvs->n++] = (lb_kv){ .key = k, .type = type, .arr_type = arr_type, .n = n, .data = data };
    return 0;
}

// One block: lb_str[n] followed by every string's bytes, each NUL-terminated, so a string
// array is a single allocation and ptr[len] == 0 holds for every element.
static void *build_str_block(const lb_str *strs, uint64_t n) {
    if (n > SIZE_MAX / sizeof(lb_str)) return NULL;
    size_t total = (size_t)n * sizeof(lb_str);
    for (uint64_t i = 0; i < n; i++) {
        if (strs[i].len >= SIZE_MAX - total) return NULL;
        total += (size_t)strs[i].len + 1;
    }
    uint8_t *block = malloc(total ? total : 1);
    if (!block) return NULL;
    lb_str *out = (lb_str *)block;
    char *bytes = (char *)(block + n * sizeof(lb_str));
    for (uint64_t i = 0; i < n; i++) {
        if (strs[i].len) memcpy(bytes, strs[i].ptr, strs[i].len);
        bytes[strs[i].len] = 0;
        out[i] = (lb_str){ .len = strs[i].len, .ptr = bytes };
        bytes += strs[i].len + 1;
    }
    return block;
}

// --- setters ------------------------------------------------------------------

int lb_kvs_set_scalar(lb_kvs *kvs, const char *key, uint32_t type, const void *value, lb_err *err) {
    size_t sz = lb_vtype_size(type);
    if (!sz) return lb_fail(err, "key '%s': %s is not a numeric type", key, lb_vtype_name(type));
    void *data = malloc(sz);
    if (!data) return lb_fail(err, "out of memory storing key '%s'", key);
    memcpy(data, value, sz);
    return put(kvs, key, type, 0, 1, data, err);
}

int lb_kvs_set_u32(lb_kvs *kvs, const char *key, uint32_t v, lb_err *err) {
    return lb_kvs_set_scalar(kvs, key, LB_VT_U32, &v, err);
}
int lb_kvs_set_i32(lb_kvs *kvs, const char *key, int32_t v, lb_err *err) {
    return lb_kvs_set_scalar(kvs, key, LB_VT_I32, &v, err);
}
int lb_kvs_set_f32(lb_kvs *kvs, const char *key, float v, lb_err *err) {
    return lb_kvs_set_scalar(kvs, key, LB_VT_F32, &v, err);
}
int lb_kvs_set_bool(lb_kvs *kvs, const char *key, int v, lb_err *err) {
    uint8_t b = v ? 1 : 0;
    return lb_kvs_set_scalar(kvs, key, LB_VT_BOOL, &b, err);
}

int lb_kvs_set_str(lb_kvs *kvs, const char *key, const char *s, lb_err *err) {
    return lb_kvs_set_strn(kvs, key, s, strlen(s), err);
}

int lb_kvs_set_strn(lb_kvs *kvs, const char *key, const char *s, uint64_t len, lb_err *err) {
    lb_str one = { .len = len, .ptr = s };
    void *data = build_str_block(&one, 1);
    if (!data) return lb_fail(err, "out of memory storing key '%s'", key);
    return put(kvs, key, LB_VT_STR, 0, 1, data, err);
}

int lb_kvs_set_arr(lb_kvs *kvs, const char *key, uint32_t elem_type, const void *data, uint64_t n,
                   lb_err *err) {
    size_t sz = lb_vtype_size(elem_type);
    if (!sz) return lb_fail(err, "key '%s': array of %s is not a numeric array", key, lb_vtype_name(elem_type));
    if (n > SIZE_MAX / sz) return lb_fail(err, "key '%s': array of %llu elements is too large", key, (unsigned long long)n);
    void *copy = malloc(n ? n * sz : 1);
    if (!copy) return lb_fail(err, "out of memory storing key '%s'", key);
    if (n) memcpy(copy, data, n * sz);
    return put(kvs, key, LB_VT_ARR, elem_type, n, copy, err);
}

int lb_kvs_set_str_arr(lb_kvs *kvs, const char *key, const lb_str *strs, uint64_t n, lb_err *err) {
    void *data = build_str_block(strs, n);
    if (!data) return lb_fail(err, "out of memory storing key '%s'", key);
    return put(kvs, key, LB_VT_ARR, LB_VT_STR, n, data, err);
}

int lb_kvs_copy(lb_kvs *dst, const lb_kvs *src, lb_err *err) {
    for (size_t i = 0; i < src->n; i++) {
        const lb_kv *kv = &src->v[i];
        int rc;
        if (kv->type == LB_VT_STR) {
            const lb_str *s = kv->data;
            rc = lb_kvs_set_strn(dst, kv->key, s->ptr, s->len, err);
        } else if (kv->type == LB_VT_ARR && kv->arr_type == LB_VT_STR) {
            rc = lb_kvs_set_str_arr(dst, kv->key, kv->data, kv->n, err);
        } else if (kv->type == LB_VT_ARR) {
            rc = lb_kvs_set_arr(dst, kv->key, kv->arr_type, kv->data, kv->n, err);
        } else {
            rc = lb_kvs_set_scalar(dst, kv->key, kv->type, kv->data, err);
        }
        if (rc) return rc;
    }
    return 0;
}

void lb_kvs_remove(lb_kvs *kvs, const char *key) {
    lb_kv *kv = find_mut(kvs, key);
    if (!kv) return;
    free(kv->key);
    free(kv->data);
    size_t i = (size_t)(kv - kvs->v);
    memmove(&kvs->v[i], &kvs->v[i + 1], (kvs->n - i - 1) * sizeof *kv);
    kvs->n--;
}

// --- getters ------------------------------------------------------------------

int lb_kvs_get_int(const lb_kvs *kvs, const char *key, int64_t *out) {
    const lb_kv *kv = lb_kvs_find(kvs, key);
    if (!kv) return -1;
    const void *p = kv->data;
    int64_t v;
    switch (kv->type) {
    case LB_VT_U8: case LB_VT_BOOL: v = *(const uint8_t *)p; break;
    case LB_VT_I8: v = *(const int8_t *)p; break;
    case LB_VT_U16: { uint16_t x; memcpy(&x, p, 2); v = x; break; }
    case LB_VT_I16: { int16_t x; memcpy(&x, p, 2); v = x; break; }
    case LB_VT_U32: { uint32_t x; memcpy(&x, p, 4); v = x; break; }
    case LB_VT_I32: { int32_t x; memcpy(&x, p, 4); v = x; break; }
    case LB_VT_I64: { int64_t x; memcpy(&x, p, 8); v = x; break; }
    case LB_VT_U64: {
        uint64_t x; memcpy(&x, p, 8);
        if (x > (uint64_t)INT64_MAX) return -1;   // would not fit: treat as incompatible
        v = (int64_t)x; break;
    }
    default: return -1;
    }
    *out = v;
    return 0;
}

int lb_kvs_get_float(const lb_kvs *kvs, const char *key, double *out) {
    const lb_kv *kv = lb_kvs_find(kvs, key);
    if (!kv) return -1;
    if (kv->type == LB_VT_F32) { float x; memcpy(&x, kv->data, 4); *out = x; return 0; }
    if (kv->type == LB_VT_F64) { double x; memcpy(&x, kv->data, 8); *out = x; return 0; }
    if (kv->type == LB_VT_U64) { uint64_t x; memcpy(&x, kv->data, 8); *out = (double)x; return 0; }
    int64_t i;
    if (lb_kvs_get_int(kvs, key, &i)) return -1;
    *out = (double)i;
    return 0;
}

const char *lb_kvs_get_str(const lb_kvs *kvs, const char *key) {
    const lb_kv *kv = lb_kvs_find(kvs, key);
    if (!kv || kv->type != LB_VT_STR) return NULL;
    return ((const lb_str *)kv->data)->ptr;
}

const lb_str *lb_kvs_get_str_arr(const lb_kvs *kvs, const char *key, uint64_t *n) {
    const lb_kv *kv = lb_kvs_find(kvs, key);
    if (!kv || kv->type != LB_VT_ARR || kv->arr_type != LB_VT_STR) return NULL;
    *n = kv->n;
    return kv->data;
}

const void *lb_kvs_get_arr(const lb_kvs *kvs, const char *key, uint32_t elem_type, uint64_t *n) {
    const lb_kv *kv = lb_kvs_find(kvs, key);
    if (!kv || kv->type != LB_VT_ARR || kv->arr_type != elem_type || elem_type == LB_VT_STR) return NULL;
    *n = kv->n;
    return kv->data;
}
