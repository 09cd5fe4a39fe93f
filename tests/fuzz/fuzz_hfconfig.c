// fuzz_hfconfig.c: libFuzzer target for Hugging Face config.json and tokenizer.json parsing.
// input[0] odd ('C'): input[1..] is a config.json (then a few tensor names are mapped);
// even ('T'): input[1..] is tokenizer.json, optionally followed by a 0xFF byte and a
// tokenizer_config.json (0xFF never occurs in UTF-8 text). The tokenizer is parsed for a
// fixed small config whose arch comes from input[0].
// Build with CC=clang -DLOWBIT_FUZZ=ON; tests/fuzz/replay.c replays tests/fuzz/corpus/hfconfig.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "hf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    lb_err err;
    lb_kvs kv;
    lb_kvs_init(&kv);
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (data[0] & 1) {
        lb_hf_config cfg;
        if (lb_hf_parse_config(&cfg, &kv, text, len, "fuzz", "config.json", &err) == 0) {
            if (cfg.n_head % cfg.n_head_kv || cfg.head_dim % 2 || cfg.n_layer < 1) abort();
            static const char *names[] = {"model.layers.0.self_attn.q_proj.weight", "model.layers.3.mlp.up_proj.weight",
                                          "lm_head.weight", "model.layers.01.input_layernorm.weight",
                                          "model.layers.99999999999999999999.mlp.down_proj.weight"};
            for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                char out[64];
                lb_xform xf;
                int heads;
                if (lb_hf_map_tensor_name(&cfg, names[i], out, sizeof out, &xf, &heads) > 0 && xf && heads <= 0) abort();
            }
        }
    } else {
        const char *sep = memchr(text, 0xFF, len);
        size_t tl = sep ? (size_t)(sep - text) : len;
        lb_hf_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.arch = (lb_arch)((data[0] >> 1) % LB_ARCH_COUNT);
        cfg.n_vocab = 300;
        cfg.bos_id = 1; cfg.eos_id = 2; cfg.pad_id = -1; cfg.unk_id = -1; cfg.eod_id = -1;
        if (lb_hf_parse_tokenizer(&kv, &cfg, text, tl, sep ? sep + 1 : NULL, sep ? len - tl - 1 : 0, "tokenizer.json", &err) == 0) {
            uint64_t n = 0;
            if (!lb_kvs_get_str_arr(&kv, "tokenizer.ggml.tokens", &n) || n != 300) abort();
        }
    }
    lb_kvs_free(&kv);
    return 0;
}
