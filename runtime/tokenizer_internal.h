// tokenizer_internal.h: what tokenizer.c (vocab, special tokens, pieces), tokenizer_spm.c and
// tokenizer_bpe.c share. Not part of the public contract (tokenizer.h).
#pragma once
#include <stdint.h>
#include <stddef.h>
#include "tokenizer.h"
#include "unicode_pretok.h"

// Token attributes, as llama.cpp derives them from tokenizer.ggml.token_type.
enum {
    TOK_ATTR_UNDEFINED = 0,
    TOK_ATTR_UNKNOWN = 1 << 0,
    TOK_ATTR_UNUSED = 1 << 1,
    TOK_ATTR_NORMAL = 1 << 2,
    TOK_ATTR_CONTROL = 1 << 3,
    TOK_ATTR_USER_DEFINED = 1 << 4,
    TOK_ATTR_BYTE = 1 << 5,
};

enum tok_kind { TOK_SPM, TOK_BPE };

// --- byte-string -> int32 hash map (open addressing, linear probing) -----------------------
// Keys are borrowed (they live in the tokenizer's arena). Used for token text -> id and for
// "left right" merge -> rank.
typedef struct tok_slot {
    const char *key;     // NULL = empty slot
    uint32_t len;
    int32_t value;
    uint64_t hash;
} tok_slot;

typedef struct tok_map {
    tok_slot *slots;
    size_t cap;          // power of two, at least twice the number of keys
    size_t n;
} tok_map;

int build_tok_map(tok_map *m, size_t n_keys);
void free_tok_map(tok_map *m);
// replace: 1 = the last value put for a key wins, 0 = the first one stays.
void tok_map_put(tok_map *m, const char *key, uint32_t len, int32_t value, int replace);
int32_t tok_map_get(const tok_map *m, const char *key, size_t len);                  // -1 if absent
int32_t tok_map_get_pair(const tok_map *m, const char *a, size_t alen, const char *b, size_t blen); // key "a b"

// --- growable id list ----------------------------------------------------------------------
typedef struct tok_ids {
    int32_t *v;
    size_t n, cap;
    int oom;
} tok_ids;
void tok_ids_push(tok_ids *o, int32_t id);

struct lb_tokenizer {
    enum tok_kind kind;
    enum lb_pretok pre;
    int32_t n_vocab;
    lb_str *text;             // token texts (in arena; empty ones renamed "[EMPTY_<id>]")
    float *score;
    uint8_t *attr;
    uint8_t *eog;             // 1 for end-of-generation ids
    char *arena;
    size_t max_token_len;
    uint8_t lonely[256];      // 1: byte occurs in no token longer than one byte (SPM chunking)
    tok_map vocab;            // text -> id (the last id wins for duplicate texts)
    tok_map merges;           // "left right" -> rank (the first rank wins), BPE only
    int32_t *special;         // control/user-defined/unknown ids, longest text first
    size_t n_special;
    int32_t bos, eos, unk;
    int add_bos, add_eos, add_space_prefix, ignore_merges, clean_spaces;
};

// Append the ids of one raw-text fragment. SPM expects spaces already escaped to U+2581.
int tok_spm_encode(const lb_tokenizer *t, const char *text, size_t len, tok_ids *out);
int tok_bpe_encode(const lb_tokenizer *t, const char *text, size_t len, tok_ids *out);
