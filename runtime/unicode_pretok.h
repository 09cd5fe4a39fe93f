// unicode_pretok.h: the Unicode side of byte-level BPE, matching llama.cpp v0.5.0's unicode.cpp:
// its lenient UTF-8 decoder, its codepoint flags (categories from libutf8proc), the GPT-2
// bytes<->unicode mapping, and the pre-tokenizers (regex splits) selected by tokenizer.ggml.pre.
#pragma once
#include <stdint.h>
#include <stddef.h>

// Codepoint flags, same bit layout as llama.cpp's unicode_cpt_flags. A position outside the
// current segment has flags 0; every real codepoint has at least one category bit.
enum {
    LB_CPT_UNDEFINED = 0x0001,   // Cn (and codepoints >= 0x110000)
    LB_CPT_NUMBER = 0x0002,      // \p{N}
    LB_CPT_LETTER = 0x0004,      // \p{L}
    LB_CPT_SEPARATOR = 0x0008,   // \p{Z}
    LB_CPT_MARK = 0x0010,        // \p{M}
    LB_CPT_PUNCT = 0x0020,       // \p{P}
    LB_CPT_SYMBOL = 0x0040,      // \p{S}
    LB_CPT_CONTROL = 0x0080,     // \p{C} except Cn
    LB_CPT_CATEGORIES = 0x00FF,
    LB_CPT_WHITESPACE = 0x0100,  // Unicode White_Space (PropList), what llama.cpp calls \s
};
uint16_t lb_cpt_flags(uint32_t cpt);
uint32_t lb_cpt_tolower(uint32_t cpt);   // simple lowercase mapping

// Decodes len bytes into codepoints the way llama.cpp's unicode_cpts_from_utf8 does: each
// byte that does not start a complete sequence becomes U+FFFD (overlongs and values up to
// 0x1FFFFF are accepted, as there). out needs room for len codepoints. Returns the count.
size_t lb_utf8_decode(uint32_t *out, const char *s, size_t len);
// Encodes one codepoint (> 0x10FFFF, which llama.cpp rejects with an exception, becomes
// U+FFFD). Returns 1..4.
size_t lb_utf8_encode(char out[4], uint32_t cpt);
// Length of the UTF-8 sequence a lead byte announces (llama.cpp unicode_len_utf8: 1..4).
size_t lb_utf8_len(uint8_t lead);

// GPT-2 byte-level mapping (bytes_to_unicode): every byte has a printable codepoint.
uint32_t lb_byte_to_cpt(uint8_t b);
int lb_cpt_to_byte(uint32_t cpt);   // -1 if cpt is not the image of a byte

// Pre-tokenizers: the regex lists of llama.cpp's llm_tokenizer_bpe, by family.
enum lb_pretok {
    LB_PRETOK_DEFAULT,      // "default" / missing: 4 regexes
    LB_PRETOK_GPT2,         // "gpt-2", "phi-2", "mpt", "olmo", ...
    LB_PRETOK_STARCODER,    // "starcoder", "refact", "command-r", "smollm", ...
    LB_PRETOK_LLAMA3,       // "llama-bpe", "llama3", "dbrx", "smaug-bpe", "chatglm-bpe", ...
    LB_PRETOK_QWEN2,        // "qwen2", "stablelm2", "hunyuan", "megrez", ...
    LB_PRETOK_DEEPSEEK3,    // "hunyuan-dense", "deepseek-v3", "joyai-llm", "hy_v4"
};

// Splits cpts[0..n) into words; *lens (malloc'd, caller frees) receives each word's length in
// codepoints, in order, summing to n. Returns 0, or -1 on allocation failure.
int lb_pretok_split(size_t **lens, size_t *n_lens, enum lb_pretok kind, const uint32_t *cpts, size_t n);
