// ckpt_meta.h: what a checkpoint carries so other commands (export, verify, teacher, an online
// KD teacher) can rebuild the model without the YAML config or the original init model:
// the hyper-parameters and the source of the tokenizer. Root attributes of the checkpoint:
//   hp.arch (string: llama | qwen2 | qwen3 | hunyuan-dense), hp.n_vocab, hp.n_embd, hp.n_layer,
//   hp.n_ff, hp.n_head, hp.n_head_kv, hp.head_dim, hp.n_ctx_train, hp.rope_style,
//   hp.qk_norm, hp.qkv_bias, hp.tied_output (int64), hp.norm_eps, hp.rope_base (float64),
//   vocab_source (string: ABSOLUTE path of a model file whose tokenizer/general metadata the
//   checkpoint's model uses -- the init model, or the token store's vocab_source; "" if unknown)
// plus what the trainer always wrote (config text, step, ...).
#pragma once
#include <stddef.h>
#include "h5_checkpoint.h"
#include "model.h"
#include "train_model.h"
#include "lb_error.h"

#define LB_CKPT_META_MAX 20   // attributes lb_ckpt_meta_attrs may add

// Fill out[0..n) with the metadata attributes; returns n (<= LB_CKPT_META_MAX). String
// attributes point into hp-independent static storage or at vocab_source (caller keeps it alive).
size_t lb_ckpt_meta_attrs(lb_ckpt_attr *out, const lb_hparams *hp, const char *vocab_source);
// Read them back (error naming the file and attribute when out of range). A checkpoint written
// before these existed falls back to its `config` text: model.random's hparams, or the
// model.init file's. *vocab_source malloc'd ("" when unknown); may be NULL.
int lb_ckpt_read_meta(const lb_ckpt *c, lb_hparams *hp, char **vocab_source, lb_err *err);
// A trainable model with the checkpoint's MASTER weights (weights/<name>), hparams from the meta.
int lb_train_model_from_ckpt(lb_train_model *m, const char *path, lb_err *err);
// Either kind of source: a lowbit checkpoint (HDF5 magic) -> lb_train_model_from_ckpt; anything
// lb_model_load reads (GGUF, HF dir, llama2.c .bin + tokenizer) -> lb_train_model_from_model.
// tokenizer may be NULL. Used for teachers (online KD, `lowbit teacher`).
int lb_train_model_load(lb_train_model *m, const char *path, const char *tokenizer, lb_err *err);
