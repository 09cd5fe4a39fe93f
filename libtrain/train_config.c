// train_config.c: the YAML schema of `lowbit train` (libcyaml) and the resolution of defaults.
// libcyaml reports problems through its log callback as several lines (the error, then a
// backtrace of the enclosing mapping fields); we collect them and turn them into ONE line
// that names the offending key with its full path ("optimizer.lerning_rate").
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cyaml/cyaml.h>
#include "train_config.h"
#include "schedule.h"
#include "quant.h"
#include "lb_types.h"

// --- schema --------------------------------------------------------------------------------

static const cyaml_schema_field_t random_fields[] = {
    CYAML_FIELD_STRING_PTR("arch", CYAML_FLAG_POINTER, lb_cfg_random, arch, 1, 32),
    CYAML_FIELD_INT("dim", CYAML_FLAG_DEFAULT, lb_cfg_random, dim),
    CYAML_FIELD_INT("layers", CYAML_FLAG_DEFAULT, lb_cfg_random, layers),
    CYAML_FIELD_INT("heads", CYAML_FLAG_DEFAULT, lb_cfg_random, heads),
    CYAML_FIELD_INT("kv_heads", CYAML_FLAG_OPTIONAL, lb_cfg_random, kv_heads),
    CYAML_FIELD_INT("head_dim", CYAML_FLAG_OPTIONAL, lb_cfg_random, head_dim),
    CYAML_FIELD_INT("ffn", CYAML_FLAG_DEFAULT, lb_cfg_random, ffn),
    CYAML_FIELD_INT("vocab", CYAML_FLAG_OPTIONAL, lb_cfg_random, vocab),
    CYAML_FIELD_INT("ctx", CYAML_FLAG_OPTIONAL, lb_cfg_random, ctx),
    CYAML_FIELD_FLOAT_PTR("norm_eps", CYAML_FLAG_OPTIONAL, lb_cfg_random, norm_eps),
    CYAML_FIELD_FLOAT_PTR("rope_base", CYAML_FLAG_OPTIONAL, lb_cfg_random, rope_base),
    CYAML_FIELD_STRING_PTR("tied", CYAML_FLAG_OPTIONAL, lb_cfg_random, tied, 1, 8),
    CYAML_FIELD_END};

static const cyaml_schema_field_t model_fields[] = {
    CYAML_FIELD_STRING_PTR("init", CYAML_FLAG_OPTIONAL, lb_cfg_model, init, 1, 4095),
    CYAML_FIELD_STRING_PTR("tokenizer", CYAML_FLAG_OPTIONAL, lb_cfg_model, tokenizer, 1, 4095),
    CYAML_FIELD_MAPPING_PTR("random", CYAML_FLAG_OPTIONAL, lb_cfg_model, random, random_fields),
    CYAML_FIELD_END};

static const cyaml_schema_field_t data_fields[] = {
    CYAML_FIELD_STRING_PTR("tokens", CYAML_FLAG_POINTER, lb_cfg_data, tokens, 1, 4095),
    CYAML_FIELD_INT("seq_len", CYAML_FLAG_DEFAULT, lb_cfg_data, seq_len),
    CYAML_FIELD_INT("batch", CYAML_FLAG_DEFAULT, lb_cfg_data, batch),
    CYAML_FIELD_INT_PTR("grad_accum", CYAML_FLAG_OPTIONAL, lb_cfg_data, grad_accum),
    CYAML_FIELD_END};

static const cyaml_schema_value_t float_entry = {CYAML_VALUE_FLOAT(CYAML_FLAG_DEFAULT, float)};

static const cyaml_schema_field_t optim_fields[] = {
    CYAML_FIELD_FLOAT("lr", CYAML_FLAG_DEFAULT, lb_cfg_optim, lr),
    CYAML_FIELD_FLOAT_PTR("scale_lr", CYAML_FLAG_OPTIONAL, lb_cfg_optim, scale_lr),
    CYAML_FIELD_FLOAT_PTR("weight_decay", CYAML_FLAG_OPTIONAL, lb_cfg_optim, weight_decay),
    CYAML_FIELD_FLOAT_PTR("scale_weight_decay", CYAML_FLAG_OPTIONAL, lb_cfg_optim, scale_weight_decay),
    CYAML_FIELD_FLOAT_PTR("eps", CYAML_FLAG_OPTIONAL, lb_cfg_optim, eps),
    CYAML_FIELD_FLOAT_PTR("clip", CYAML_FLAG_OPTIONAL, lb_cfg_optim, clip),
    CYAML_FIELD_SEQUENCE("betas", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, lb_cfg_optim, betas, &float_entry, 2, 2),
    CYAML_FIELD_END};

static const cyaml_schema_field_t sched_fields[] = {
    CYAML_FIELD_STRING_PTR("kind", CYAML_FLAG_OPTIONAL, lb_cfg_sched, kind, 1, 32),
    CYAML_FIELD_INT_PTR("warmup", CYAML_FLAG_OPTIONAL, lb_cfg_sched, warmup),
    CYAML_FIELD_INT("steps", CYAML_FLAG_DEFAULT, lb_cfg_sched, steps),
    CYAML_FIELD_INT_PTR("decay_steps", CYAML_FLAG_OPTIONAL, lb_cfg_sched, decay_steps),
    CYAML_FIELD_FLOAT_PTR("min_ratio", CYAML_FLAG_OPTIONAL, lb_cfg_sched, min_ratio),
    CYAML_FIELD_END};

static const cyaml_schema_field_t quant_fields[] = {
    CYAML_FIELD_STRING_PTR("quantizer", CYAML_FLAG_POINTER, lb_cfg_quant, quantizer, 1, 32),
    CYAML_FIELD_STRING_PTR("group", CYAML_FLAG_OPTIONAL, lb_cfg_quant, group, 1, 32),
    CYAML_FIELD_STRING_PTR("format", CYAML_FLAG_OPTIONAL, lb_cfg_quant, format, 1, 32),
    CYAML_FIELD_END};

static const cyaml_schema_field_t qat_fields[] = {
    CYAML_FIELD_MAPPING_PTR("attn", CYAML_FLAG_OPTIONAL, lb_cfg_qat, attn, quant_fields),
    CYAML_FIELD_MAPPING_PTR("ffn", CYAML_FLAG_OPTIONAL, lb_cfg_qat, ffn, quant_fields),
    CYAML_FIELD_STRING_PTR("arenas", CYAML_FLAG_OPTIONAL, lb_cfg_qat, arenas, 1, 8),
    CYAML_FIELD_END};

static const cyaml_schema_field_t ckpt_fields[] = {
    CYAML_FIELD_STRING_PTR("dir", CYAML_FLAG_POINTER, lb_cfg_ckpt, dir, 1, 4095),
    CYAML_FIELD_INT_PTR("every", CYAML_FLAG_OPTIONAL, lb_cfg_ckpt, every),
    CYAML_FIELD_INT_PTR("keep", CYAML_FLAG_OPTIONAL, lb_cfg_ckpt, keep),
    CYAML_FIELD_END};

static const cyaml_schema_field_t log_fields[] = {
    CYAML_FIELD_STRING_PTR("jsonl", CYAML_FLAG_OPTIONAL, lb_cfg_log, jsonl, 1, 4095),
    CYAML_FIELD_INT_PTR("every", CYAML_FLAG_OPTIONAL, lb_cfg_log, every),
    CYAML_FIELD_END};

static const cyaml_schema_field_t eval_fields[] = {
    CYAML_FIELD_INT_PTR("every", CYAML_FLAG_OPTIONAL, lb_cfg_eval, every),
    CYAML_FIELD_INT_PTR("batches", CYAML_FLAG_OPTIONAL, lb_cfg_eval, batches),
    CYAML_FIELD_END};

static const cyaml_schema_field_t guard_fields[] = {
    CYAML_FIELD_FLOAT_PTR("spike_factor", CYAML_FLAG_OPTIONAL, lb_cfg_guard, spike_factor),
    CYAML_FIELD_INT_PTR("warmup", CYAML_FLAG_OPTIONAL, lb_cfg_guard, warmup),
    CYAML_FIELD_END};

static const cyaml_schema_field_t distill_fields[] = {
    CYAML_FIELD_STRING_PTR("teacher", CYAML_FLAG_OPTIONAL, lb_cfg_distill, teacher, 1, 4095),
    CYAML_FIELD_STRING_PTR("tokenizer", CYAML_FLAG_OPTIONAL, lb_cfg_distill, tokenizer, 1, 4095),
    CYAML_FIELD_STRING_PTR("store", CYAML_FLAG_OPTIONAL, lb_cfg_distill, store, 1, 4095),
    CYAML_FIELD_STRING_PTR("loss", CYAML_FLAG_OPTIONAL, lb_cfg_distill, loss, 1, 32),
    CYAML_FIELD_FLOAT_PTR("temperature", CYAML_FLAG_OPTIONAL, lb_cfg_distill, temperature),
    CYAML_FIELD_FLOAT_PTR("kd_weight", CYAML_FLAG_OPTIONAL, lb_cfg_distill, kd_weight),
    CYAML_FIELD_FLOAT_PTR("ce_weight", CYAML_FLAG_OPTIONAL, lb_cfg_distill, ce_weight),
    CYAML_FIELD_END};

static const cyaml_schema_field_t top_fields[] = {
    CYAML_FIELD_MAPPING("model", CYAML_FLAG_DEFAULT, lb_train_config, model, model_fields),
    CYAML_FIELD_MAPPING("data", CYAML_FLAG_DEFAULT, lb_train_config, data, data_fields),
    CYAML_FIELD_MAPPING("optimizer", CYAML_FLAG_DEFAULT, lb_train_config, optimizer, optim_fields),
    CYAML_FIELD_MAPPING("schedule", CYAML_FLAG_DEFAULT, lb_train_config, schedule, sched_fields),
    CYAML_FIELD_MAPPING_PTR("qat", CYAML_FLAG_OPTIONAL, lb_train_config, qat, qat_fields),
    CYAML_FIELD_MAPPING_PTR("checkpoint", CYAML_FLAG_OPTIONAL, lb_train_config, checkpoint, ckpt_fields),
    CYAML_FIELD_MAPPING_PTR("log", CYAML_FLAG_OPTIONAL, lb_train_config, log, log_fields),
    CYAML_FIELD_MAPPING_PTR("eval", CYAML_FLAG_OPTIONAL, lb_train_config, eval, eval_fields),
    CYAML_FIELD_INT_PTR("seed", CYAML_FLAG_OPTIONAL, lb_train_config, seed),
    CYAML_FIELD_INT_PTR("threads", CYAML_FLAG_OPTIONAL, lb_train_config, threads),
    CYAML_FIELD_MAPPING_PTR("guard", CYAML_FLAG_OPTIONAL, lb_train_config, guard, guard_fields),
    CYAML_FIELD_MAPPING_PTR("distill", CYAML_FLAG_OPTIONAL, lb_train_config, distill, distill_fields),
    CYAML_FIELD_END};

static const cyaml_schema_value_t top_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, lb_train_config, top_fields)};

// --- error capture -------------------------------------------------------------------------

typedef struct log_capture { char text[2048]; size_t len; } log_capture;

static void capture_log(cyaml_log_t level, void *ctx, const char *fmt, va_list args) {
    log_capture *c = ctx;
    if (level < CYAML_LOG_ERROR || c->len >= sizeof c->text - 1) return;
    int n = vsnprintf(c->text + c->len, sizeof c->text - c->len, fmt, args);
    if (n > 0) c->len += (size_t)n;
    if (c->len >= sizeof c->text) c->len = sizeof c->text - 1;
}

// "x\n  in mapping field 'b'\n  in mapping field 'a'" -> "a.b." (outermost first)
// skip: innermost entries to drop (a missing-field error's backtrace ends at the last field
// read in the mapping that lacks it, which is a sibling, not a parent)
static void field_path(const char *log, int skip, char *out, size_t outlen) {
    const char *fields[16]; size_t lens[16]; int n = 0;
    for (const char *p = log; (p = strstr(p, "mapping field '")) && n < 16;) {
        p += strlen("mapping field '");
        const char *e = strchr(p, '\'');
        if (!e) break;
        fields[n] = p; lens[n] = (size_t)(e - p); n++;
        p = e;
    }
    out[0] = 0;
    size_t len = 0;
    for (int i = n - 1; i >= skip; i--) {
        int w = snprintf(out + len, outlen - len, "%.*s.", (int)lens[i], fields[i]);
        if (w < 0 || (size_t)w >= outlen - len) break;
        len += (size_t)w;
    }
}

// the text after `key` on its line, without trailing spaces / newline
static int after(const char *log, const char *key, char *out, size_t outlen) {
    const char *p = strstr(log, key);
    if (!p) return 0;
    p += strlen(key);
    size_t n = strcspn(p, "\n");
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\r')) n--;
    snprintf(out, outlen, "%.*s", (int)n, p);
    return 1;
}

static int config_error(lb_err *err, const char *path, cyaml_err_t e, const log_capture *c) {
    char where[512], what[256];
    field_path(c->text, strstr(c->text, "Missing required mapping field") ? 1 : 0, where, sizeof where);
    if (after(c->text, "Unexpected key: ", what, sizeof what))
        return lb_fail(err, "%s: unknown key '%s%s'", path, where, what);
    if (after(c->text, "Missing required mapping field: ", what, sizeof what))
        return lb_fail(err, "%s: missing key '%s%s'", path, where, what);
    if (where[0]) {
        where[strlen(where) - 1] = 0;   // drop the trailing '.'
        char first[256] = "";
        after(c->text, "Load: ", first, sizeof first);
        return lb_fail(err, "%s: bad value for '%s' (%s)", path, where, first[0] ? first : cyaml_strerror(e));
    }
    char first[256] = "";
    after(c->text, "Load: ", first, sizeof first);
    return lb_fail(err, "%s: %s", path, first[0] ? first : cyaml_strerror(e));
}

// --- load + resolve ------------------------------------------------------------------------

static char *read_text(const char *path, size_t *len, lb_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) { lb_fail(err, "%s: %s", path, strerror(errno)); return NULL; }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    for (size_t r; buf && (r = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += r;
        if (n == cap) {
            if (cap >= (1u << 24)) { free(buf); buf = NULL; fclose(f); lb_fail(err, "%s: config larger than 16 MiB", path); return NULL; }
            char *nb = realloc(buf, 2 * cap + 1);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb; cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) { free(buf); lb_fail(err, "%s: cannot read", path); return NULL; }
    buf[n] = 0;
    *len = n;
    return buf;
}

static int bad(lb_err *err, const char *path, const char *key, const char *why) {
    return lb_fail(err, "%s: bad value for '%s' (%s)", path, key, why);
}

static int resolve_quant(const lb_cfg_quant *q, const char *cls, int *grid, int *group, uint32_t *format,
                         const char *path, lb_err *err) {
    char key[64];
    *grid = -1; *group = 0; *format = 0;
    if (!q) return 0;
    snprintf(key, sizeof key, "qat.%s.quantizer", cls);
    if (!strcmp(q->quantizer, "none")) return 0;
    int g = lb_grid_from_name(q->quantizer);
    if (g < 0 || g == LB_GRID_SHERRY_ADJ) return bad(err, path, key, "seq2, seq_ternary, absmean, sherry, lsq3, lsq4 or none");
    *grid = g;
    snprintf(key, sizeof key, "qat.%s.group", cls);
    if (q->group && strcmp(q->group, "row")) {
        if (!strcmp(q->group, "256")) *group = 256;
        else if (!strcmp(q->group, "512")) *group = 512;
        else return bad(err, path, key, "row, 256 or 512");
    }
    snprintf(key, sizeof key, "qat.%s.format", cls);
    if (q->format && strcmp(q->format, "none")) {
        static const char *ok[] = {"q2_0c", "q2_k", "tq1_0", "tq2_0", "stq1_0"};
        int found = 0;
        for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) found |= !strcasecmp(q->format, ok[i]);
        int t = found ? lb_type_from_name(q->format) : -1;
        if (t < 0) return bad(err, path, key, "none, q2_0c, q2_k, tq1_0, tq2_0 or stq1_0");
        *format = (uint32_t)t;
    }
    return 0;
}

#define OR(p, d) ((p) ? *(p) : (d))

// strict YAML boolean (libcyaml's bool takes any other word as true): 1, 0, or -1 (bad value)
static int parse_bool(const char *v, int def) {
    if (!v) return def;
    if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on")) return 1;
    if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off")) return 0;
    return -1;
}

static const char *const kd_loss_names[] = {"forward_kl", "reverse_kl", "cakld", "topk", "sampled"};

const char *lb_kd_loss_name(int loss) {
    return loss >= 0 && loss < (int)(sizeof kd_loss_names / sizeof kd_loss_names[0]) ? kd_loss_names[loss] : "?";
}

static int resolve_distill(const lb_cfg_distill *d, lb_train_settings *s, const char *path, lb_err *err) {
    if (!d) return 0;
    s->kd_on = 1;
    if (!d->teacher == !d->store) return bad(err, path, "distill", "give exactly one of teacher (online) or store (offline)");
    if (d->tokenizer && !d->teacher) return bad(err, path, "distill.tokenizer", "only with distill.teacher");
    s->kd_teacher = d->teacher;
    s->kd_tokenizer = d->tokenizer;
    s->kd_store = d->store;
    s->kd_loss = LB_KD_LOSS_FORWARD_KL;
    if (d->loss) {
        s->kd_loss = -1;
        for (int i = 0; i < (int)(sizeof kd_loss_names / sizeof kd_loss_names[0]); i++)
            if (!strcmp(d->loss, kd_loss_names[i])) s->kd_loss = i;
        if (s->kd_loss < 0) return bad(err, path, "distill.loss", "forward_kl, reverse_kl, cakld, topk or sampled");
    }
    if (d->teacher && (s->kd_loss == LB_KD_LOSS_TOPK || s->kd_loss == LB_KD_LOSS_SAMPLED))
        return bad(err, path, "distill.loss", "topk and sampled need a store of that mode (distill.store)");
    s->kd_temperature = OR(d->temperature, 1.0f);
    s->kd_weight = OR(d->kd_weight, 1.0f);
    s->ce_weight = OR(d->ce_weight, 0.0f);
    if (!(s->kd_temperature > 0 && s->kd_temperature <= 100)) return bad(err, path, "distill.temperature", "0 < T <= 100");
    if (!(s->kd_weight >= 0 && s->kd_weight <= 1e3)) return bad(err, path, "distill.kd_weight", "0..1000");
    if (!(s->ce_weight >= 0 && s->ce_weight <= 1e3)) return bad(err, path, "distill.ce_weight", "0..1000");
    if (s->kd_weight == 0 && s->ce_weight == 0) return bad(err, path, "distill.kd_weight", "kd_weight and ce_weight are both 0");
    return 0;
}

static int resolve(const lb_train_config *c, lb_train_settings *s, const char *path, lb_err *err) {
    memset(s, 0, sizeof *s);
    if (!c->model.init && !c->model.random) return lb_fail(err, "%s: missing key 'model.init' (or 'model.random')", path);
    if (c->model.init && c->model.random) return bad(err, path, "model", "give init or random, not both");
    const lb_cfg_random *r = c->model.random;
    if (r) {
        if (r->dim <= 0 || r->dim > 65536) return bad(err, path, "model.random.dim", "1..65536");
        if (r->layers <= 0 || r->layers > 1024) return bad(err, path, "model.random.layers", "1..1024");
        if (r->head_dim < 0 || r->head_dim > 1024 || r->head_dim % 2) return bad(err, path, "model.random.head_dim", "an even number 2..1024 (0: dim / heads)");
        if (r->heads <= 0 || r->heads > 1024 || (!r->head_dim && r->dim % r->heads))
            return bad(err, path, "model.random.heads", "1..1024, dividing dim unless head_dim is given");
        if (r->kv_heads < 0 || (r->kv_heads && r->heads % r->kv_heads)) return bad(err, path, "model.random.kv_heads", "must divide heads");
        if (r->ffn <= 0 || r->ffn > 1 << 20) return bad(err, path, "model.random.ffn", "1..1048576");
        if (r->vocab < 0) return bad(err, path, "model.random.vocab", ">= 0");
        if (r->ctx < 0) return bad(err, path, "model.random.ctx", ">= 0");
        s->tied = parse_bool(r->tied, 1);
        if (s->tied < 0) return bad(err, path, "model.random.tied", "true or false");
    }
    if (c->data.seq_len <= 0 || c->data.seq_len > 1 << 20) return bad(err, path, "data.seq_len", "1..1048576");
    if (c->data.batch <= 0 || c->data.batch > 1 << 16) return bad(err, path, "data.batch", "1..65536");
    s->grad_accum = OR(c->data.grad_accum, 1);
    if (s->grad_accum <= 0) return bad(err, path, "data.grad_accum", ">= 1");
    const lb_cfg_optim *o = &c->optimizer;
    s->lr = o->lr;
    if (!(s->lr > 0 && s->lr < 10)) return bad(err, path, "optimizer.lr", "0 < lr < 10");
    s->scale_lr = OR(o->scale_lr, s->lr);
    s->weight_decay = OR(o->weight_decay, 0.1f);
    s->scale_weight_decay = OR(o->scale_weight_decay, 0.0f);
    s->eps = OR(o->eps, 1e-8f);
    s->clip = OR(o->clip, 1.0f);
    s->beta1 = o->betas ? o->betas[0] : 0.9f;
    s->beta2 = o->betas ? o->betas[1] : 0.95f;
    if (!(s->scale_lr >= 0 && s->scale_lr < 10)) return bad(err, path, "optimizer.scale_lr", "0 <= scale_lr < 10");
    if (!(s->weight_decay >= 0 && s->weight_decay < 1)) return bad(err, path, "optimizer.weight_decay", "0 <= wd < 1");
    if (!(s->scale_weight_decay >= 0 && s->scale_weight_decay < 1)) return bad(err, path, "optimizer.scale_weight_decay", "0 <= wd < 1");
    if (!(s->eps > 0)) return bad(err, path, "optimizer.eps", "> 0");
    if (!(s->clip >= 0)) return bad(err, path, "optimizer.clip", ">= 0 (0 = off)");
    if (!(s->beta1 >= 0 && s->beta1 < 1 && s->beta2 >= 0 && s->beta2 < 1)) return bad(err, path, "optimizer.betas", "each in [0, 1)");
    const lb_cfg_sched *sc = &c->schedule;
    s->sched_kind = sc->kind ? lb_schedule_from_name(sc->kind) : LB_SCHED_COSINE;
    if (s->sched_kind < 0) return bad(err, path, "schedule.kind", "cosine, wsd or constant");
    s->steps = sc->steps;
    if (s->steps <= 0) return bad(err, path, "schedule.steps", ">= 1");
    s->warmup = OR(sc->warmup, 0);
    if (s->warmup < 0) return bad(err, path, "schedule.warmup", ">= 0");
    s->decay_steps = OR(sc->decay_steps, s->steps / 10);
    if (s->decay_steps < 0) return bad(err, path, "schedule.decay_steps", ">= 0");
    s->min_ratio = OR(sc->min_ratio, 0.1f);
    if (!(s->min_ratio >= 0 && s->min_ratio <= 1)) return bad(err, path, "schedule.min_ratio", "0..1");
    if (resolve_quant(c->qat ? c->qat->attn : NULL, "attn", &s->qat_grid[0], &s->qat_group[0], &s->qat_format[0], path, err) ||
        resolve_quant(c->qat ? c->qat->ffn : NULL, "ffn", &s->qat_grid[1], &s->qat_group[1], &s->qat_format[1], path, err))
        return -1;
    const int arenas = parse_bool(c->qat ? c->qat->arenas : NULL, 1);
    if (arenas < 0) return bad(err, path, "qat.arenas", "true or false");
    s->arenas = arenas;
    s->ckpt_dir = c->checkpoint ? c->checkpoint->dir : NULL;
    s->ckpt_every = c->checkpoint ? OR(c->checkpoint->every, 0) : 0;
    s->ckpt_keep = c->checkpoint ? OR(c->checkpoint->keep, 2) : 0;
    if (s->ckpt_every < 0) return bad(err, path, "checkpoint.every", ">= 0 (0 = only at the end)");
    if (c->checkpoint && s->ckpt_keep < 1) return bad(err, path, "checkpoint.keep", ">= 1");
    s->log_path = c->log ? c->log->jsonl : NULL;
    s->log_every = c->log ? OR(c->log->every, 1) : 1;
    if (s->log_every <= 0) return bad(err, path, "log.every", ">= 1");
    s->eval_every = c->eval ? OR(c->eval->every, 0) : 0;
    s->eval_batches = c->eval ? OR(c->eval->batches, 1) : 1;
    if (s->eval_every < 0) return bad(err, path, "eval.every", ">= 0 (0 = off)");
    if (s->eval_batches <= 0) return bad(err, path, "eval.batches", ">= 1");
    int64_t seed = OR(c->seed, 1337);
    if (seed < 0) return bad(err, path, "seed", ">= 0");
    s->seed = (uint64_t)seed;
    s->threads = OR(c->threads, 0);
    if (s->threads < 0 || s->threads > 1024) return bad(err, path, "threads", "0 (all) .. 1024");
    s->spike_factor = c->guard ? OR(c->guard->spike_factor, 3.0f) : 3.0f;
    s->guard_warmup = c->guard ? OR(c->guard->warmup, 20) : 20;
    if (!(s->spike_factor >= 0)) return bad(err, path, "guard.spike_factor", ">= 0 (0 = off)");
    if (s->guard_warmup < 0) return bad(err, path, "guard.warmup", ">= 0");
    return resolve_distill(c->distill, s, path, err);
}

static const cyaml_config_t *base_config(log_capture *cap) {
    static cyaml_config_t c;
    memset(&c, 0, sizeof c);
    c.log_fn = capture_log;
    c.log_ctx = cap;
    c.mem_fn = cyaml_mem;
    c.log_level = CYAML_LOG_ERROR;
    c.flags = CYAML_CFG_DEFAULT;
    return &c;
}

int lb_train_config_parse(lb_train_config **cfg, lb_train_settings *s, const char *text, size_t len, const char *name,
                          lb_err *err) {
    *cfg = NULL;
    log_capture cap = {{0}, 0};
    lb_train_config *c = NULL;
    cyaml_err_t e = cyaml_load_data((const uint8_t *)text, len, base_config(&cap), &top_schema, (cyaml_data_t **)&c, NULL);
    if (e != CYAML_OK) return config_error(err, name, e, &cap);
    if (!c) return lb_fail(err, "%s: empty config (needs model, data, optimizer, schedule)", name);
    if (resolve(c, s, name, err)) { lb_train_config_free(c); return -1; }
    *cfg = c;
    return 0;
}

int lb_train_config_load(lb_train_config **cfg, lb_train_settings *s, char **text, const char *path, lb_err *err) {
    *cfg = NULL;
    if (text) *text = NULL;
    size_t len = 0;
    char *buf = read_text(path, &len, err);
    if (!buf) return -1;
    if (lb_train_config_parse(cfg, s, buf, len, path, err)) { free(buf); return -1; }
    if (text) *text = buf; else free(buf);
    return 0;
}

void lb_train_config_free(lb_train_config *cfg) {
    if (!cfg) return;
    log_capture cap = {{0}, 0};
    cyaml_free(base_config(&cap), &top_schema, cfg, 0);
}
