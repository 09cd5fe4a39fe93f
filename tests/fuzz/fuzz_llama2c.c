// fuzz_llama2c.c: libFuzzer target for the llama2.c checkpoint header check and the
// tokenizer.bin parser. The whole input is taken as a checkpoint (header checked against the
// input size); input[2..] is also parsed as a tokenizer.bin whose vocab size comes from
// input[0..1]. Build with CC=clang -DLOWBIT_FUZZ=ON; tests/fuzz/replay.c replays
// tests/fuzz/corpus/llama2c in a normal build.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kv.h"
#include "llama2c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lb_err err;
    lb_l2c_config c;
    if (lb_l2c_parse_header(&c, data, size < 256 ? size : 256, size, "fuzz.bin", &err) == 0 && c.expected_size != size) abort();
    if (size >= 2) {
        int32_t vocab = 3 + (int32_t)((data[0] | data[1] << 8) % 1024);
        lb_kvs kv;
        lb_kvs_init(&kv);
        if (lb_l2c_parse_tokenizer(&kv, data + 2, size - 2, vocab, "fuzz-tok.bin", &err) == 0) {
            uint64_t n = 0;
            if (!lb_kvs_get_str_arr(&kv, "tokenizer.ggml.tokens", &n) || n != (uint64_t)vocab) abort();
        }
        lb_kvs_free(&kv);
    }
    return 0;
}
