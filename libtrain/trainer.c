// trainer.c: the training loop behind `lowbit train` (see trainer.h).
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <omp.h>
#include <cblas.h>
#include "trainer.h"
#include "train_config.h"
#include "train_model.h"
#include "qat_model.h"
#include "optim.h"
#include "schedule.h"
#include "data_loader.h"
#include "distill.h"
#include "h5_checkpoint.h"
#include "ckpt_meta.h"
#include "model.h"

enum { GROUP_NORMS = 2 };   // 1-D parameters (norms, biases): the weights' LR, no weight decay

static volatile sig_atomic_t g_stop_signal;
// first signal: finish the step, checkpoint, exit 0; a second one: die now (default action)
static void on_signal(int sig) {
    if (g_stop_signal) { signal(sig, SIG_DFL); raise(sig); return; }
    g_stop_signal = sig;
}

typedef struct trainer {
    lb_train_config *cfg;
    lb_train_settings s;
    char *cfg_text;
    const char *cfg_path;
    lb_train_model m;
    lb_qat_model q;
    int *qat_opt;            // per quantized linear: its optimizer tensor index, or -1
    lb_fq_config fq[2];
    lb_adamw opt;
    lb_schedule sched;
    lb_guard guard;
    lb_loader train, val;
    int have_val;
    int32_t *inputs, *targets;
    int B, T;
    int64_t step;            // optimizer steps completed
    uint64_t seed;
    FILE *log;
    char **kept; int n_kept;
    char last_ckpt[4096];
    char *vocab_source;      // absolute path of the tokenizer's model file ("" unknown): checkpoint meta
    // distillation (s.kd_on): the teacher, dL/dlogits of a micro-batch, each row's window
    lb_distill dist;
    int have_dist;
    float *dlogits;
    int64_t *windows;
} trainer;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// --- model -------------------------------------------------------------------------------------

static int build_model(trainer *t, lb_err *err) {
    const lb_cfg_model *mc = &t->cfg->model;
    if (mc->init) {
        lb_model src;
        memset(&src, 0, sizeof src);
        if (lb_model_load(&src, mc->init, mc->tokenizer, err)) return -1;
        int rc = lb_train_model_from_model(&t->m, &src, mc->init, err);
        lb_model_free(&src);
        return rc;
    }
    const lb_cfg_random *r = mc->random;
    lb_hparams hp;
    memset(&hp, 0, sizeof hp);
    int arch = lb_arch_from_name(r->arch);
    if (arch < 0) return lb_fail(err, "%s: bad value for 'model.random.arch' (llama, qwen2, qwen3 or hunyuan-dense)", t->cfg_path);
    hp.arch = (lb_arch)arch;
    hp.n_vocab = r->vocab ? r->vocab : t->train.n_vocab;
    hp.n_embd = r->dim;
    hp.n_layer = r->layers;
    hp.n_ff = r->ffn;
    hp.n_head = r->heads;
    hp.n_head_kv = r->kv_heads ? r->kv_heads : r->heads;
    hp.head_dim = r->head_dim ? r->head_dim : r->dim / r->heads;
    hp.n_ctx_train = r->ctx ? r->ctx : t->T;
    hp.norm_eps = r->norm_eps ? *r->norm_eps : 1e-5f;
    hp.rope_base = r->rope_base ? *r->rope_base : 10000.0f;
    hp.rope_style = hp.arch == LB_ARCH_LLAMA ? LB_ROPE_ADJACENT : LB_ROPE_NEOX;
    hp.qk_norm = hp.arch == LB_ARCH_QWEN3 ? LB_QK_NORM_BEFORE_ROPE
               : hp.arch == LB_ARCH_HUNYUAN_DENSE ? LB_QK_NORM_AFTER_ROPE : LB_QK_NORM_NONE;
    hp.qkv_bias = hp.arch == LB_ARCH_QWEN2;
    hp.tied_output = t->s.tied;
    return lb_train_model_init(&t->m, &hp, t->seed, err);
}

static int build_qat(trainer *t, lb_err *err) {
    const lb_fq_config *cls[2] = {NULL, NULL};
    for (int c = 0; c < 2; c++) {
        if (t->s.qat_grid[c] < 0) continue;
        t->fq[c].grid = (lb_grid)t->s.qat_grid[c];
        t->fq[c].group = t->s.qat_group[c];
        t->fq[c].format_type = t->s.qat_format[c];
        cls[c] = &t->fq[c];
    }
    if (build_qat_model(&t->q, &t->m, cls, err)) return -1;
    for (int j = 0; j < t->q.n; j++) {
        lb_grid g = t->q.q[j].cfg.grid;
        t->q.q[j].anneal = t->s.arenas && (g == LB_GRID_SHERRY || g == LB_GRID_SHERRY_ADJ);
    }
    return 0;
}

static int build_optimizer(trainer *t, lb_err *err) {
    const lb_train_settings *s = &t->s;
    lb_adamw *o = &t->opt;
    lb_adamw_init(o);
    o->beta1 = s->beta1; o->beta2 = s->beta2; o->eps = s->eps;
    lb_adamw_set_group(o, LB_GROUP_WEIGHTS, s->lr, s->weight_decay);
    lb_adamw_set_group(o, LB_GROUP_SCALES, s->scale_lr, s->scale_weight_decay);
    lb_adamw_set_group(o, GROUP_NORMS, s->lr, 0.0f);
    char why[256];
    // tensor k == param table entry k (checkpoints rely on it), then the learned scales
    for (size_t i = 0; i < t->m.n_table; i++) {
        const lb_train_param *p = &t->m.table[i];
        if (lb_adamw_add(o, t->m.params + p->offset, t->m.grads + p->offset, (int64_t)p->numel,
                         p->n_dims == 2 ? LB_GROUP_WEIGHTS : GROUP_NORMS, why, sizeof why))
            return lb_fail(err, "optimizer: %s", why);
    }
    t->qat_opt = malloc(((size_t)t->q.n + 1) * sizeof(int));
    if (!t->qat_opt) return lb_fail(err, "optimizer: out of memory");
    for (int j = 0; j < t->q.n; j++) {
        lb_qat_linear *ql = &t->q.q[j];
        t->qat_opt[j] = -1;
        if (!lb_fq_scales_learned(&ql->cfg)) continue;
        t->qat_opt[j] = o->ntensors;
        if (lb_adamw_add(o, ql->scales, ql->dscales, ql->nscales, LB_GROUP_SCALES, why, sizeof why))
            return lb_fail(err, "optimizer: %s", why);
    }
    if (build_adamw_state(o, why, sizeof why)) return lb_fail(err, "optimizer: %s", why);
    return 0;
}

// --- checkpoints -------------------------------------------------------------------------------

// The model file whose tokenizer the checkpoint's model uses (ckpt_meta.h), so export / verify
// / teacher can rebuild a GGUF without the YAML: model.init when given; else the token
// store's vocab_source attribute (`lowbit tokenize` stores the vocab file's name as given),
// tried as given (relative to the cwd), then relative to the token store's directory.
// Always absolute (realpath), "" when nothing exists.
static int resolve_vocab_source(trainer *t, lb_err *err) {
    char buf[PATH_MAX];
    const char *found = NULL;
    if (t->cfg->model.init) {
        if (realpath(t->cfg->model.init, buf)) found = buf;
    } else if (t->train.vocab_source && t->train.vocab_source[0]) {
        const char *vs = t->train.vocab_source;
        if (realpath(vs, buf)) found = buf;
        else if (vs[0] != '/') {
            const char *tok = t->cfg->data.tokens, *slash = strrchr(tok, '/');
            char cand[2 * PATH_MAX];
            snprintf(cand, sizeof cand, "%.*s%s", slash ? (int)(slash - tok + 1) : 0, tok, vs);
            if (realpath(cand, buf)) found = buf;
        }
    }
    t->vocab_source = strdup(found ? found : "");
    return t->vocab_source ? 0 : lb_fail(err, "train: out of memory");
}

// numpy shape of a parameter: (rows, cols) for GGUF ne = {cols, rows}
static int param_shape(const lb_train_param *p, int64_t shape[LB_CKPT_MAX_DIMS]) {
    if (p->n_dims == 2) { shape[0] = p->ne[1]; shape[1] = p->ne[0]; return 2; }
    shape[0] = (int64_t)p->numel;
    return 1;
}

static int scale_shape(const lb_train_model *m, const lb_qat_linear *ql, int64_t shape[LB_CKPT_MAX_DIMS]) {
    shape[0] = m->linears[ql->lin].out;
    shape[1] = ql->nscales / shape[0];
    return 2;
}

typedef struct ckpt_list {
    lb_ckpt_tensor *t;
    char (*names)[LB_GGUF_MAX_NAME + 32];
    size_t n, cap;
} ckpt_list;

static void list_add(ckpt_list *l, const char *prefix, const char *name, int nd, const int64_t *shape, const float *data) {
    lb_ckpt_tensor *e = &l->t[l->n];
    snprintf(l->names[l->n], sizeof l->names[0], "%s%s", prefix, name);
    e->name = l->names[l->n];
    e->n_dims = nd;
    for (int d = 0; d < nd; d++) e->shape[d] = shape[d];
    e->data = data;
    l->n++;
}

// every tensor a checkpoint holds, in a fixed order (the reader walks the same list)
static int ckpt_tensors(const trainer *t, ckpt_list *l, lb_err *err) {
    l->cap = 3 * (t->m.n_table + (size_t)t->q.n);
    l->n = 0;
    l->t = calloc(l->cap, sizeof *l->t);
    l->names = calloc(l->cap, sizeof *l->names);
    if (!l->t || !l->names) { free(l->t); free(l->names); return lb_fail(err, "checkpoint: out of memory"); }
    const float *m0 = t->opt.state, *v0 = t->opt.state + t->opt.nparams;
    int64_t shape[LB_CKPT_MAX_DIMS];
    for (size_t i = 0; i < t->m.n_table; i++) {
        const lb_train_param *p = &t->m.table[i];
        int nd = param_shape(p, shape);
        const int64_t off = t->opt.tensors[i].offset;
        list_add(l, "weights/", p->name, nd, shape, t->m.params + p->offset);
        list_add(l, "adam_m/", p->name, nd, shape, m0 + off);
        list_add(l, "adam_v/", p->name, nd, shape, v0 + off);
    }
    for (int j = 0; j < t->q.n; j++) {
        const lb_qat_linear *ql = &t->q.q[j];
        const char *name = lb_qat_name(&t->q, &t->m, j);
        int nd = scale_shape(&t->m, ql, shape);
        list_add(l, "scales/", name, nd, shape, ql->scales);
        if (t->qat_opt[j] < 0) continue;
        const int64_t off = t->opt.tensors[t->qat_opt[j]].offset;
        list_add(l, "adam_m/scales/", name, nd, shape, m0 + off);
        list_add(l, "adam_v/scales/", name, nd, shape, v0 + off);
    }
    return 0;
}

static void free_ckpt_list(ckpt_list *l) { free(l->t); free(l->names); }

static int write_checkpoint(trainer *t, lb_err *err) {
    if (!t->s.ckpt_dir) return 0;
    if (mkdir(t->s.ckpt_dir, 0777) && errno != EEXIST) return lb_fail(err, "%s: %s", t->s.ckpt_dir, strerror(errno));
    char path[4096];
    snprintf(path, sizeof path, "%s/step-%08lld.h5", t->s.ckpt_dir, (long long)t->step);
    ckpt_list l;
    if (ckpt_tensors(t, &l, err)) return -1;
    const uint64_t rng[2] = {t->seed, (uint64_t)t->step};
    lb_ckpt_attr attrs[9 + LB_CKPT_META_MAX] = {
        {.name = "step", .type = LB_CKPT_I64, .i = t->step},
        {.name = "adam_t", .type = LB_CKPT_I64, .i = t->opt.t},
        {.name = "data_position", .type = LB_CKPT_I64, .i = t->step * t->s.grad_accum},
        {.name = "rng_state", .type = LB_CKPT_U64S, .u = rng, .n_u = 2},
        {.name = "guard_ema", .type = LB_CKPT_F64, .f = t->guard.ema},
        {.name = "guard_seen", .type = LB_CKPT_I64, .i = t->guard.seen},
        {.name = "config", .type = LB_CKPT_STR, .s = t->cfg_text},
        {.name = "arch", .type = LB_CKPT_STR, .s = lb_arch_name(t->m.hp.arch)},
        {.name = "n_params", .type = LB_CKPT_I64, .i = (int64_t)t->m.n_params},
    };
    const size_t n_base = 9;
    const size_t n_meta = lb_ckpt_meta_attrs(attrs + n_base, &t->m.hp, t->vocab_source ? t->vocab_source : "");
    int rc = lb_ckpt_write(path, l.t, l.n, attrs, n_base + n_meta, err);
    free_ckpt_list(&l);
    if (rc) return -1;
    snprintf(t->last_ckpt, sizeof t->last_ckpt, "%s", path);
    // keep the newest `keep` checkpoints of this run
    if (t->n_kept && !strcmp(t->kept[t->n_kept - 1], path)) return 0;
    char **nk = realloc(t->kept, ((size_t)t->n_kept + 1) * sizeof *nk);
    if (!nk) return 0;
    t->kept = nk;
    t->kept[t->n_kept++] = strdup(path);
    while (t->n_kept > t->s.ckpt_keep) {
        unlink(t->kept[0]);
        free(t->kept[0]);
        memmove(t->kept, t->kept + 1, (size_t)(t->n_kept - 1) * sizeof *t->kept);
        t->n_kept--;
    }
    return 0;
}

static int read_checkpoint(trainer *t, const char *path, lb_err *err) {
    lb_ckpt c;
    if (lb_ckpt_open(&c, path, err)) return -1;
    ckpt_list l;
    if (ckpt_tensors(t, &l, err)) { lb_ckpt_close(&c); return -1; }
    int rc = 0;
    for (size_t i = 0; !rc && i < l.n; i++)
        rc = lb_ckpt_read(&c, l.t[i].name, l.t[i].n_dims, l.t[i].shape, (float *)l.t[i].data, err);
    free_ckpt_list(&l);
    int64_t step = 0, adam_t = 0, seen = 0;
    double ema = 0;
    uint64_t rng[2];
    if (!rc) rc = lb_ckpt_get_i64(&c, "step", &step, err);
    if (!rc) rc = lb_ckpt_get_i64(&c, "adam_t", &adam_t, err);
    if (!rc) rc = lb_ckpt_get_i64(&c, "guard_seen", &seen, err);
    if (!rc) rc = lb_ckpt_get_f64(&c, "guard_ema", &ema, err);
    if (!rc) rc = lb_ckpt_get_u64s(&c, "rng_state", rng, 2, err);
    lb_ckpt_close(&c);
    if (rc) return -1;
    if (step < 0 || adam_t < 0 || (uint64_t)step != rng[1]) return lb_fail(err, "%s: inconsistent step counters", path);
    if (rng[0] != t->seed) {
        fprintf(stderr, "lowbit: note: %s was trained with seed %llu; continuing with it (config says %llu)\n", path,
                (unsigned long long)rng[0], (unsigned long long)t->seed);
        t->seed = rng[0];
        t->train.seed = rng[0];
    }
    t->step = step;
    t->opt.t = adam_t;
    t->guard.ema = ema;
    t->guard.seen = seen;
    return 0;
}

// --- metrics -----------------------------------------------------------------------------------

static void fmt_time(char *out, size_t n, double s) {
    if (!(s >= 0) || s > 1e7) { snprintf(out, n, "--:--"); return; }
    long v = (long)(s + 0.5);
    if (v >= 3600) snprintf(out, n, "%ld:%02ld:%02ld", v / 3600, v / 60 % 60, v % 60);
    else snprintf(out, n, "%02ld:%02ld", v / 60, v % 60);
}

static void progress(const trainer *t, float loss, float kd, double tok_s, double eta, int final) {
    const int width = 24;
    int fill = (int)((double)width * (double)t->step / (double)t->s.steps);
    char bar[32], eta_s[32];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    fmt_time(eta_s, sizeof eta_s, eta);
    char kd_s[32] = "";
    if (t->s.kd_on) snprintf(kd_s, sizeof kd_s, "  kd %.4f", kd);
    fprintf(stderr, "\r[%s] step %lld/%d  loss %.4f%s  %.0f tok/s  ETA %s \033[K%s", bar, (long long)t->step, t->s.steps,
            loss, kd_s, tok_s, eta_s, final ? "\n" : "");
    fflush(stderr);
}

static int eval_loss(trainer *t, double *out, lb_err *err) {
    if (lb_qat_forward(&t->q, &t->m, lb_fq_arenas_lambda(t->step, t->s.steps), err)) return -1;
    const size_t nw = lb_loader_n_eval_windows(&t->val);
    double sum = 0;
    size_t count = 0, w0 = 0;
    const size_t BT = (size_t)t->B * (size_t)t->T;
    for (int b = 0; b < t->s.eval_batches && w0 < nw; b++) {
        int got = lb_loader_eval_batch(&t->val, w0, t->inputs, t->targets);
        if (got <= 0) break;
        // pad a short last batch with ignored positions (keeps the activation size fixed)
        for (size_t i = (size_t)got * (size_t)t->T; i < BT; i++) { t->inputs[i] = 0; t->targets[i] = -1; }
        float loss;
        if (lb_train_model_forward(&t->m, t->inputs, t->targets, t->B, t->T, &loss, err)) return -1;
        sum += (double)loss * got;
        count += (size_t)got;
        w0 += (size_t)got;
    }
    *out = count ? sum / (double)count : NAN;
    return 0;
}

// --- the loop ----------------------------------------------------------------------------------

// One distillation micro-batch (inputs / targets already hold batch `batch`): student forward
// (logits) -> teacher data for the same rows -> CE + KD and dL/dlogits -> student backward.
static int micro_batch_kd(trainer *t, uint64_t batch, float *loss, double *ce_sum, double *kd_sum, lb_err *err) {
    lb_loader_batch_windows(&t->train, batch, t->windows);
    if (lb_train_model_forward(&t->m, t->inputs, NULL, t->B, t->T, NULL, err) ||
        lb_distill_teacher(&t->dist, t->inputs, t->windows, err))
        return -1;
    float ce, kd;
    *loss = lb_distill_loss(&t->dist, t->dlogits, lb_train_model_logits(&t->m), t->targets, &ce, &kd);
    *ce_sum += ce;
    *kd_sum += kd;
    return lb_train_model_backward_dlogits(&t->m, t->dlogits, err);
}

static int train_loop(trainer *t, lb_err *err) {
    const lb_train_settings *s = &t->s;
    const int tty = isatty(STDERR_FILENO);
    const double tokens_per_step = (double)t->B * t->T * s->grad_accum;
    const double t_start = now_s();
    const int64_t step0 = t->step;
    const int print_every = s->steps / 20 > s->log_every ? s->steps / 20 : s->log_every;
    float loss = NAN, ce = NAN, kd = NAN;
    double tok_s = 0;
    // test hook: poison one gradient at this step (1-based) to exercise the guard end to end
    const char *fault = getenv("LOWBIT_TRAIN_FAULT_STEP");
    const long long fault_step = fault ? atoll(fault) : -1;
    while (t->step < s->steps && !g_stop_signal) {
        const double t0 = now_s();
        const float lambda = lb_fq_arenas_lambda(t->step, s->steps);
        lb_train_model_zero_grad(&t->m);
        if (lb_qat_forward(&t->q, &t->m, lambda, err)) return -1;
        double loss_sum = 0, ce_sum = 0, kd_sum = 0;
        for (int a = 0; a < s->grad_accum; a++) {
            float l;
            const uint64_t batch = (uint64_t)(t->step * s->grad_accum + a);
            lb_loader_batch_at(&t->train, batch, t->inputs, t->targets);
            if (s->kd_on) {
                if (micro_batch_kd(t, batch, &l, &ce_sum, &kd_sum, err)) return -1;
            } else if (lb_train_model_forward(&t->m, t->inputs, t->targets, t->B, t->T, &l, err) ||
                       lb_train_model_backward(&t->m, err)) {
                return -1;
            }
            loss_sum += l;
        }
        if (lb_qat_backward(&t->q, &t->m, lambda, err)) return -1;
        if (t->step + 1 == fault_step) t->m.grads[0] = NAN;
        if (s->grad_accum > 1) lb_grad_scale(&t->opt, 1.0f / (float)s->grad_accum);
        loss = (float)(loss_sum / s->grad_accum);
        ce = (float)(ce_sum / s->grad_accum);
        kd = (float)(kd_sum / s->grad_accum);
        const float norm = lb_grad_clip(&t->opt, s->clip);
        const char *why = lb_guard_check(&t->guard, t->step + 1, loss, norm);
        if (why) {
            if (tty) fputc('\n', stderr);
            if (t->last_ckpt[0]) return lb_fail(err, "training stopped: %s (last good checkpoint: %s)", why, t->last_ckpt);
            return lb_fail(err, "training stopped: %s (no checkpoint written yet)", why);
        }
        const float factor = lb_schedule_factor(&t->sched, t->step);
        lb_adamw_step(&t->opt, factor);
        t->step++;
        const double now = now_s();
        tok_s = tokens_per_step / (now - t0 > 1e-9 ? now - t0 : 1e-9);
        const double elapsed = now - t_start;
        const double eta = elapsed / (double)(t->step - step0) * (double)(s->steps - t->step);
        if (t->log && (t->step % s->log_every == 0 || t->step == s->steps)) {
            if (s->kd_on)   // the total and its two unweighted parts
                fprintf(t->log, "{\"step\": %lld, \"loss\": %.9g, \"ce\": %.9g, \"kd\": %.9g, \"lr\": %.9g, \"grad_norm\": %.9g, \"tok_s\": %.1f, \"elapsed\": %.3f}\n",
                        (long long)t->step, loss, ce, kd, s->lr * factor, norm, tok_s, elapsed);
            else
                fprintf(t->log, "{\"step\": %lld, \"loss\": %.9g, \"lr\": %.9g, \"grad_norm\": %.9g, \"tok_s\": %.1f, \"elapsed\": %.3f}\n",
                        (long long)t->step, loss, s->lr * factor, norm, tok_s, elapsed);
            fflush(t->log);
        }
        if (tty) progress(t, loss, kd, tok_s, eta, 0);
        else if ((t->step % print_every == 0 || t->step == s->steps) && s->kd_on)
            printf("step %lld/%d  loss %.4f  ce %.4f  kd %.4f  lr %.3g  grad_norm %.3g  %.0f tok/s\n", (long long)t->step,
                   s->steps, loss, ce, kd, s->lr * factor, norm, tok_s), fflush(stdout);
        else if (t->step % print_every == 0 || t->step == s->steps)
            printf("step %lld/%d  loss %.4f  lr %.3g  grad_norm %.3g  %.0f tok/s\n", (long long)t->step, s->steps, loss,
                   s->lr * factor, norm, tok_s), fflush(stdout);
        if (t->have_val && s->eval_every && t->step % s->eval_every == 0) {
            double vl;
            if (eval_loss(t, &vl, err)) return -1;
            if (t->log) { fprintf(t->log, "{\"step\": %lld, \"val_loss\": %.9g}\n", (long long)t->step, vl); fflush(t->log); }
            if (tty) fprintf(stderr, "\n");
            printf("step %lld  val_loss %.4f\n", (long long)t->step, vl);
            fflush(stdout);
        }
        if (s->ckpt_every && t->step % s->ckpt_every == 0 && t->step < s->steps && write_checkpoint(t, err)) return -1;
    }
    if (tty && t->step > step0) progress(t, loss, kd, tok_s, 0, 1);
    if (write_checkpoint(t, err)) return -1;
    if (g_stop_signal && t->step < s->steps) {
        printf("interrupted (signal %d) after step %lld; %s%s\n", (int)g_stop_signal, (long long)t->step,
               t->last_ckpt[0] ? "checkpoint written: " : "no checkpoint directory configured",
               t->last_ckpt[0] ? t->last_ckpt : "");
    } else {
        printf("done: %lld steps, final loss %.4f%s%s\n", (long long)t->step, loss,
               t->last_ckpt[0] ? ", checkpoint " : "", t->last_ckpt[0] ? t->last_ckpt : "");
    }
    fflush(stdout);
    return 0;
}

static void print_memory(const trainer *t) {
    size_t pb, gb, ab;
    lb_train_memory(&t->m.hp, t->B, t->T, &pb, &gb, &ab);
    const size_t adam = (size_t)t->opt.nparams * 2 * sizeof(float);
    size_t qat = (size_t)t->q.n_scales * 2 * sizeof(float);
    size_t gmax = 0;
    for (int j = 0; j < t->q.n; j++) {
        const lb_train_linear *L = &t->m.linears[t->q.q[j].lin];
        const size_t n = (size_t)L->out * (size_t)L->in;
        qat += n * (sizeof(float) + 1);
        if (n > gmax) gmax = n;
    }
    qat += gmax * sizeof(float);
    const double MB = 1.0 / (1024.0 * 1024.0);
    const char *kd_what = "";
    const size_t kd_bytes = t->have_dist ? lb_distill_memory(&t->dist, &kd_what) + (size_t)t->B * t->T *
                                               (size_t)t->m.hp.n_vocab * sizeof(float) : 0;
    printf("model: %s, %zu parameters (dim %d, %d layers, %d heads / %d kv, ffn %d, vocab %d%s)\n",
           lb_arch_name(t->m.hp.arch), t->m.n_params, t->m.hp.n_embd, t->m.hp.n_layer, t->m.hp.n_head,
           t->m.hp.n_head_kv, t->m.hp.n_ff, t->m.hp.n_vocab, t->m.hp.tied_output ? ", tied head" : "");
    if (t->have_dist) {
        const lb_distill *d = &t->dist;
        printf("distill: %s %s, loss %s, temperature %g, kd_weight %g, ce_weight %g; window-aligned batches (%lld windows)\n",
               d->have_teacher ? "online teacher" : "store", d->have_teacher ? d->cfg.teacher : d->cfg.store,
               lb_kd_loss_name(d->cfg.loss), (double)d->cfg.temperature, (double)d->cfg.kd_weight,
               (double)d->cfg.ce_weight, (long long)t->train.n_windows);
        printf("memory: params %.1f MB, grads %.1f MB, adam %.1f MB, activations %.1f MB (B %d, T %d), qat %.1f MB, "
               "distill %.1f MB (%s, KD scratch); total %.1f MB\n",
               pb * MB, gb * MB, adam * MB, ab * MB, t->B, t->T, qat * MB, kd_bytes * MB, kd_what,
               (pb + gb + adam + ab + qat + kd_bytes) * MB);
    } else {
        printf("memory: params %.1f MB, grads %.1f MB, adam %.1f MB, activations %.1f MB (B %d, T %d), qat %.1f MB; total %.1f MB\n",
               pb * MB, gb * MB, adam * MB, ab * MB, t->B, t->T, qat * MB, (pb + gb + adam + ab + qat) * MB);
    }
    if (gemm_amx_wanted(1e30))
        printf("matmul: gemm_amx on AMX-BF16 (fp32-accurate) for the big products (%.1f MB packing workspace), "
               "OpenBLAS for the rest; LOWBIT_GEMM=blas for OpenBLAS only\n",
               gemm_amx_workspace_max(omp_get_max_threads()) * MB);
    else
        printf("matmul: OpenBLAS%s\n", gemm_amx_available() ? " (LOWBIT_GEMM=blas)" : "");
    if (t->q.n) printf("qat: %d linears quantized (attn %s, ffn %s), %lld scales\n", t->q.n,
                       t->s.qat_grid[0] >= 0 ? lb_grid_name((lb_grid)t->s.qat_grid[0]) : "fp",
                       t->s.qat_grid[1] >= 0 ? lb_grid_name((lb_grid)t->s.qat_grid[1]) : "fp", (long long)t->q.n_scales);
    fflush(stdout);
}

static void free_trainer(trainer *t) {
    if (t->log) fclose(t->log);
    for (int i = 0; i < t->n_kept; i++) free(t->kept[i]);
    free(t->kept);
    free(t->inputs); free(t->targets);
    free(t->qat_opt);
    free_adamw(&t->opt);
    free_qat_model(&t->q, &t->m);
    lb_train_model_free(&t->m);
    lb_loader_free(&t->train);
    if (t->have_val) lb_loader_free(&t->val);
    lb_train_config_free(t->cfg);
    free(t->cfg_text);
    free(t->vocab_source);
    if (t->have_dist) free_distill(&t->dist);
    free(t->dlogits); free(t->windows);
}

int lb_train_run(const char *config_path, const char *resume_path, lb_err *err) {
    trainer t;
    memset(&t, 0, sizeof t);
    t.cfg_path = config_path;
    int rc = -1;
    if (lb_train_config_load(&t.cfg, &t.s, &t.cfg_text, config_path, err)) return -1;
    const lb_train_settings *s = &t.s;
    t.B = t.cfg->data.batch;
    t.T = t.cfg->data.seq_len;
    t.seed = s->seed;
    if (s->threads > 0) { omp_set_num_threads(s->threads); openblas_set_num_threads(s->threads); }
    if (lb_loader_open(&t.train, t.cfg->data.tokens, LB_SPLIT_TRAIN, t.B, t.T, t.seed, 0, 1, err)) goto done;
    if (s->eval_every) {
        lb_err verr = {{0}};
        if (lb_loader_open(&t.val, t.cfg->data.tokens, LB_SPLIT_VAL, t.B, t.T, t.seed, 0, 1, &verr) == 0) t.have_val = 1;
        else fprintf(stderr, "lowbit: note: evaluation off: %s\n", verr.msg);
    }
    if (build_model(&t, err)) goto done;
    if (t.train.n_vocab > t.m.hp.n_vocab) {
        lb_fail(err, "%s: token ids up to %d do not fit the model's vocabulary of %d", t.cfg->data.tokens,
                t.train.n_vocab - 1, t.m.hp.n_vocab);
        goto done;
    }
    if (build_qat(&t, err) || build_optimizer(&t, err) || resolve_vocab_source(&t, err)) goto done;
    if (s->kd_on) {
        const lb_distill_config dc = {.teacher = s->kd_teacher, .tokenizer = s->kd_tokenizer ? s->kd_tokenizer : t.cfg->model.tokenizer,
                                      .store = s->kd_store, .loss = s->kd_loss, .temperature = s->kd_temperature,
                                      .kd_weight = s->kd_weight, .ce_weight = s->ce_weight};
        if (build_distill(&t.dist, &dc, &t.m.hp, &t.train, t.B, t.T, err)) goto done;
        t.have_dist = 1;
        t.dlogits = malloc((size_t)t.B * t.T * (size_t)t.m.hp.n_vocab * sizeof(float));
        t.windows = malloc((size_t)t.B * sizeof(int64_t));
        if (!t.dlogits || !t.windows) { lb_fail(err, "train: out of memory for distillation"); goto done; }
    }
    t.sched = (lb_schedule){.kind = (lb_schedule_kind)s->sched_kind, .total = s->steps, .warmup = s->warmup,
                            .decay_steps = s->decay_steps, .min_ratio = s->min_ratio};
    lb_guard_init(&t.guard, s->spike_factor, s->guard_warmup);
    const size_t BT = (size_t)t.B * (size_t)t.T;
    t.inputs = malloc(BT * sizeof(int32_t));
    t.targets = malloc(BT * sizeof(int32_t));
    if (!t.inputs || !t.targets) { lb_fail(err, "train: out of memory"); goto done; }
    if (resume_path) {
        if (read_checkpoint(&t, resume_path, err)) goto done;
        snprintf(t.last_ckpt, sizeof t.last_ckpt, "%s", resume_path);
        printf("resumed from %s at step %lld\n", resume_path, (long long)t.step);
    }
    print_memory(&t);
    if (s->log_path) {
        t.log = fopen(s->log_path, resume_path ? "a" : "w");
        if (!t.log) { lb_fail(err, "%s: %s", s->log_path, strerror(errno)); goto done; }
    }
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;   // don't let the signal fail a write(2) inside HDF5 with EINTR
    sigemptyset(&sa.sa_mask);
    g_stop_signal = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    rc = train_loop(&t, err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
done:
    free_trainer(&t);
    return rc;
}
