// test_kv.c: the ordered key/value store: insertion order, replace-in-place, typed getters
// (and their refusals), string and array storage, copy and remove.
#include <math.h>
#include "kv.h"
#include "test_util.h"

int main(void) {
    lb_kvs kv;
    lb_kvs_init(&kv);
    lb_err err = {0};

    CHECK(lb_kvs_set_str(&kv, "general.architecture", "llama", &err) == 0, "%s", err.msg);
    CHECK(lb_kvs_set_u32(&kv, "llama.block_count", 5, &err) == 0, "%s", err.msg);
    CHECK(lb_kvs_set_f32(&kv, "llama.rope.freq_base", 10000.0f, &err) == 0, "%s", err.msg);
    CHECK(lb_kvs_set_i32(&kv, "neg", -7, &err) == 0, "%s", err.msg);
    CHECK(lb_kvs_set_bool(&kv, "flag", 42, &err) == 0, "%s", err.msg);
    CHECK(kv.n == 5, "n = %zu", kv.n);

    // order is insertion order
    const char *order[] = {"general.architecture", "llama.block_count", "llama.rope.freq_base", "neg", "flag"};
    for (size_t i = 0; i < 5; i++) CHECK(!strcmp(kv.v[i].key, order[i]), "key %zu is %s", i, kv.v[i].key);

    // replace keeps position and changes type
    CHECK(lb_kvs_set_str(&kv, "llama.block_count", "twelve", &err) == 0, "%s", err.msg);
    CHECK(kv.n == 5 && !strcmp(kv.v[1].key, "llama.block_count") && kv.v[1].type == LB_VT_STR, "replace moved the key");
    CHECK(!strcmp(lb_kvs_get_str(&kv, "llama.block_count"), "twelve"), "replaced value");
    CHECK(lb_kvs_set_u32(&kv, "llama.block_count", 12, &err) == 0, "%s", err.msg);
    CHECK(kv.v[1].type == LB_VT_U32, "type after second replace");

    // typed getters
    int64_t i64;
    double d;
    CHECK(lb_kvs_get_int(&kv, "llama.block_count", &i64) == 0 && i64 == 12, "get_int u32");
    CHECK(lb_kvs_get_int(&kv, "neg", &i64) == 0 && i64 == -7, "get_int i32");
    CHECK(lb_kvs_get_int(&kv, "flag", &i64) == 0 && i64 == 1, "bool stored as 1");
    CHECK(lb_kvs_get_int(&kv, "llama.rope.freq_base", &i64) == -1, "get_int must refuse a float");
    CHECK(lb_kvs_get_int(&kv, "general.architecture", &i64) == -1, "get_int must refuse a string");
    CHECK(lb_kvs_get_int(&kv, "absent", &i64) == -1, "get_int absent");
    CHECK(lb_kvs_get_float(&kv, "llama.rope.freq_base", &d) == 0 && d == 10000.0, "get_float f32");
    CHECK(lb_kvs_get_float(&kv, "neg", &d) == 0 && d == -7.0, "get_float from int");
    CHECK(lb_kvs_get_float(&kv, "general.architecture", &d) == -1, "get_float must refuse a string");
    CHECK(lb_kvs_get_str(&kv, "neg") == NULL, "get_str on an int");
    CHECK(lb_kvs_get_str(&kv, "absent") == NULL, "get_str absent");
    uint64_t u64max = UINT64_MAX;
    CHECK(lb_kvs_set_scalar(&kv, "big", LB_VT_U64, &u64max, &err) == 0, "%s", err.msg);
    CHECK(lb_kvs_get_int(&kv, "big", &i64) == -1, "u64 above INT64_MAX must not be returned as int");
    double f64 = -2.5;
    CHECK(lb_kvs_set_scalar(&kv, "f64", LB_VT_F64, &f64, &err) == 0, "%s", err.msg);
    CHECK(lb_kvs_get_float(&kv, "f64", &d) == 0 && d == -2.5, "get_float f64");
    CHECK(lb_kvs_set_scalar(&kv, "bad", LB_VT_STR, "x", &err) == -1, "set_scalar must refuse STR");

    // strings with embedded NUL keep their length and a terminator
    CHECK(lb_kvs_set_strn(&kv, "nul", "a\0b", 3, &err) == 0, "%s", err.msg);
    const lb_kv *e = lb_kvs_find(&kv, "nul");
    const lb_str *s = e->data;
    CHECK(s->len == 3 && !memcmp(s->ptr, "a\0b", 3) && s->ptr[3] == 0, "strn");

    // numeric arrays: exact element type only
    int32_t ids[4] = {1, -2, 3, -4};
    CHECK(lb_kvs_set_arr(&kv, "ids", LB_VT_I32, ids, 4, &err) == 0, "%s", err.msg);
    uint64_t n = 0;
    const int32_t *got = lb_kvs_get_arr(&kv, "ids", LB_VT_I32, &n);
    CHECK(got && n == 4 && got[1] == -2 && got[3] == -4, "get_arr i32");
    CHECK(lb_kvs_get_arr(&kv, "ids", LB_VT_U32, &n) == NULL, "get_arr with the wrong element type");
    CHECK(lb_kvs_get_str_arr(&kv, "ids", &n) == NULL, "get_str_arr on numbers");
    CHECK(lb_kvs_set_arr(&kv, "empty", LB_VT_F32, NULL, 0, &err) == 0, "%s", err.msg);
    CHECK(lb_kvs_get_arr(&kv, "empty", LB_VT_F32, &n) != NULL && n == 0, "empty array");

    // string arrays: one block, each NUL-terminated, input copied
    char buf[3][8] = {"<unk>", "", "hello"};
    lb_str in[3] = {{5, buf[0]}, {0, buf[1]}, {5, buf[2]}};
    CHECK(lb_kvs_set_str_arr(&kv, "tokens", in, 3, &err) == 0, "%s", err.msg);
    memset(buf, 'x', sizeof buf);   // the store must not point at the caller's memory
    const lb_str *toks = lb_kvs_get_str_arr(&kv, "tokens", &n);
    CHECK(toks && n == 3, "get_str_arr");
    CHECK(!strcmp(toks[0].ptr, "<unk>") && toks[1].len == 0 && toks[1].ptr[0] == 0 && !strcmp(toks[2].ptr, "hello"), "tokens copied");
    CHECK(lb_kvs_get_arr(&kv, "tokens", LB_VT_STR, &n) == NULL, "get_arr refuses strings");

    // copy into a store that already holds some keys: replaced in place, others appended
    lb_kvs dst;
    lb_kvs_init(&dst);
    CHECK(lb_kvs_set_u32(&dst, "first", 1, &err) == 0, "%s", err.msg);
    CHECK(lb_kvs_set_u32(&dst, "neg", 99, &err) == 0, "%s", err.msg);
    CHECK(lb_kvs_copy(&dst, &kv, &err) == 0, "%s", err.msg);
    CHECK(dst.n == 1 + kv.n, "copy count %zu vs %zu", dst.n, kv.n);
    CHECK(!strcmp(dst.v[1].key, "neg") && lb_kvs_get_int(&dst, "neg", &i64) == 0 && i64 == -7, "copy replaced in place");
    toks = lb_kvs_get_str_arr(&dst, "tokens", &n);
    CHECK(toks && n == 3 && !strcmp(toks[2].ptr, "hello"), "copied tokens");
    lb_kvs_free(&dst);

    // remove keeps the order of the rest
    size_t before = kv.n;
    lb_kvs_remove(&kv, "llama.rope.freq_base");
    lb_kvs_remove(&kv, "not there");
    CHECK(kv.n == before - 1 && lb_kvs_find(&kv, "llama.rope.freq_base") == NULL, "remove");
    CHECK(!strcmp(kv.v[2].key, "neg"), "order after remove: %s", kv.v[2].key);

    CHECK(!strcmp(lb_vtype_name(LB_VT_F32), "f32") && !strcmp(lb_vtype_name(99), "unknown"), "vtype names");
    CHECK(lb_vtype_size(LB_VT_U64) == 8 && lb_vtype_size(LB_VT_BOOL) == 1 && lb_vtype_size(LB_VT_STR) == 0, "vtype sizes");

    lb_kvs_free(&kv);
    CHECK(kv.n == 0 && kv.v == NULL, "free resets");
    printf("test_kv: ok\n");
    return 0;
}
