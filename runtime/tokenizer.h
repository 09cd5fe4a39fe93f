// tokenizer.h: SentencePiece ("llama") and byte-level BPE ("gpt2") tokenizers, built from
// GGUF tokenizer.* metadata, matching llama.cpp's tokenization (tests: vocab/*.inp/.out).
#pragma once
#include <stdint.h>
#include <stddef.h>
#include "kv.h"
#include "lb_error.h"

typedef struct lb_tokenizer lb_tokenizer;

// Reads tokenizer.ggml.{model,pre,tokens,scores,token_type,merges,bos_token_id,eos_token_id,
// add_bos_token,...}. `what` names the file for messages.
lb_tokenizer *lb_tokenizer_build(const lb_kvs *kv, const char *what, lb_err *err);
void lb_tokenizer_free(lb_tokenizer *tok);

// Tokenize len bytes of text. add_special: prepend BOS when the vocab says so
// (tokenizer.ggml.add_bos_token, default true for "llama", false for "gpt2"), like
// llama_tokenize(add_special). parse_special: recognise control/user-defined token texts.
// *ids is malloc'd (caller frees); returns 0 or -1.
int lb_tokenize(const lb_tokenizer *tok, const char *text, size_t len, int add_special,
                int parse_special, int32_t **ids, size_t *n_ids, lb_err *err);

// The bytes a token stands for when detokenized (SPM: "▁" -> " ", <0x0A> -> "\n";
// BPE: byte-level unicode -> raw bytes; control tokens -> "" unless render_special).
// Writes at most cap bytes, returns the full length.
size_t lb_token_to_piece(const lb_tokenizer *tok, int32_t id, int render_special, char *buf, size_t cap);

int32_t lb_tokenizer_bos(const lb_tokenizer *tok);     // -1 if none
int32_t lb_tokenizer_eos(const lb_tokenizer *tok);
int lb_tokenizer_is_eog(const lb_tokenizer *tok, int32_t id);   // eos/eot/eom
int lb_tokenizer_add_bos(const lb_tokenizer *tok);
int32_t lb_tokenizer_n_vocab(const lb_tokenizer *tok);

// Ids back to text like llama_detokenize: concatenated pieces, minus the leading space the
// SPM tokenizer adds (add_space_prefix), BOS/EOS dropped when remove_special, control tokens
// shown when unparse_special, and "clean_up_tokenization_spaces" for the vocabs that use it.
// *text is malloc'd and NUL-terminated (caller frees); returns 0 or -1.
int lb_detokenize(const lb_tokenizer *tok, const int32_t *ids, size_t n_ids, int remove_special,
                  int unparse_special, char **text, size_t *len, lb_err *err);
