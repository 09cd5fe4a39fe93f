// train_config.h: the `lowbit train` YAML config, parsed by libcyaml against a schema.
// Every key is checked: an unknown key or a value of the wrong type is an error that names it
// ("cfg.yaml: unknown key 'optimizer.lerning_rate'"). Optional numbers whose 0 is meaningful
// are pointers (NULL = absent, the default applies); lb_train_config_load fills the resolved
// values into the plain fields below so the trainer never sees a NULL.
// configs/*.yaml are commented examples of every key.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lb_error.h"

typedef struct lb_cfg_random {       // model.random: a freshly initialized model
    char *arch;                      // llama | qwen2 | qwen3 | hunyuan-dense
    int dim, layers, heads, kv_heads, ffn, vocab, ctx;   // vocab 0: the token store's n_vocab
    int head_dim;                    // 0: dim / heads (Qwen3 has 128 with dim 1024, 16 heads)
    float *norm_eps, *rope_base;
    char *tied;                      // true | false (default true)
} lb_cfg_random;

typedef struct lb_cfg_quant {        // qat.attn / qat.ffn
    char *quantizer;                 // seq2 | seq_ternary | absmean | sherry | lsq3 | lsq4 | none
    char *group;                     // row | 256 | 512 (default row)
    char *format;                    // none | q2_0c | q2_k | tq1_0 | tq2_0 | stq1_0 (format-exact forward)
} lb_cfg_quant;

typedef struct lb_cfg_model { char *init, *tokenizer; lb_cfg_random *random; } lb_cfg_model;
typedef struct lb_cfg_data { char *tokens; int seq_len, batch; int *grad_accum; } lb_cfg_data;
typedef struct lb_cfg_optim {
    float lr; float *scale_lr, *weight_decay, *scale_weight_decay, *eps, *clip;
    float *betas; unsigned betas_count;
} lb_cfg_optim;
typedef struct lb_cfg_sched { char *kind; int *warmup; int steps; int *decay_steps; float *min_ratio; } lb_cfg_sched;
typedef struct lb_cfg_qat { lb_cfg_quant *attn, *ffn; char *arenas; } lb_cfg_qat;   // arenas: true | false
typedef struct lb_cfg_ckpt { char *dir; int *every, *keep; } lb_cfg_ckpt;
typedef struct lb_cfg_log { char *jsonl; int *every; } lb_cfg_log;
typedef struct lb_cfg_eval { int *every, *batches; } lb_cfg_eval;
typedef struct lb_cfg_guard { float *spike_factor; int *warmup; } lb_cfg_guard;
typedef struct lb_cfg_distill {      // distill: knowledge distillation (libtrain/distill.h)
    char *teacher;                   // ONLINE: FP teacher model (GGUF, HF dir, llama2.c .bin, checkpoint .h5)
    char *tokenizer;                 // tokenizer.bin of a llama2.c teacher (default model.tokenizer)
    char *store;                     // OFFLINE: teacher-logit store (`lowbit teacher`)
    char *loss;                      // forward_kl | reverse_kl | cakld | topk | sampled
    float *temperature, *kd_weight, *ce_weight;
} lb_cfg_distill;

// distill.loss; the first three equal kd.h's kd_kind
typedef enum lb_kd_loss {
    LB_KD_LOSS_FORWARD_KL = 0, LB_KD_LOSS_REVERSE_KL = 1, LB_KD_LOSS_CAKLD = 2,
    LB_KD_LOSS_TOPK = 3, LB_KD_LOSS_SAMPLED = 4,
} lb_kd_loss;
const char *lb_kd_loss_name(int loss);

typedef struct lb_train_config {
    lb_cfg_model model;
    lb_cfg_data data;
    lb_cfg_optim optimizer;
    lb_cfg_sched schedule;
    lb_cfg_qat *qat;            // absent: no quantization (pretraining)
    lb_cfg_ckpt *checkpoint;
    lb_cfg_log *log;
    lb_cfg_eval *eval;
    int64_t *seed;
    int *threads;
    lb_cfg_guard *guard;
    lb_cfg_distill *distill;    // absent: plain cross-entropy training
} lb_train_config;

// resolved values (defaults applied, names validated)
typedef struct lb_train_settings {
    int grad_accum;
    float lr, scale_lr, weight_decay, scale_weight_decay, beta1, beta2, eps, clip;
    int sched_kind, warmup, steps, decay_steps; float min_ratio;
    int qat_grid[2], qat_group[2]; uint32_t qat_format[2];  // [0] attn, [1] ffn; grid -1 = FP
    bool arenas;
    int tied;                        // model.random.tied resolved
    const char *ckpt_dir; int ckpt_every, ckpt_keep;
    const char *log_path; int log_every;
    int eval_every, eval_batches;
    uint64_t seed;
    int threads;
    float spike_factor; int guard_warmup;
    // distill: (kd_on 0 when absent); exactly one of kd_teacher / kd_store is set
    int kd_on, kd_loss;              // kd_loss: lb_kd_loss
    const char *kd_teacher, *kd_tokenizer, *kd_store;
    float kd_temperature, kd_weight, ce_weight;
} lb_train_settings;

// Parse PATH (its text is returned in *text, malloc'd, for the checkpoint). 0 or -1 (err).
int lb_train_config_load(lb_train_config **cfg, lb_train_settings *s, char **text, const char *path, lb_err *err);
// The same from text already in memory (e.g. the config a checkpoint carries); name is for messages.
int lb_train_config_parse(lb_train_config **cfg, lb_train_settings *s, const char *text, size_t len, const char *name,
                          lb_err *err);
void lb_train_config_free(lb_train_config *cfg);
