// qat_model.c: fake-quant bound to the model's block linears (see qat_model.h).
#include <stdlib.h>
#include <string.h>
#include "qat_model.h"

int build_qat_model(lb_qat_model *q, lb_train_model *m, const lb_fq_config *cls[2], lb_err *err) {
    memset(q, 0, sizeof *q);
    const int n_block = m->hp.n_layer * LB_TRAIN_LINEARS_PER_LAYER;   // the head (last) stays FP
    q->q = calloc((size_t)n_block + 1, sizeof *q->q);
    if (!q->q) return lb_fail(err, "qat: out of memory");
    for (int i = 0; i < n_block; i++) {
        const int kind = i % LB_TRAIN_LINEARS_PER_LAYER;   // q, k, v, o | gate, up, down
        const lb_fq_config *c = cls[kind < 4 ? LB_QAT_ATTN : LB_QAT_FFN];
        if (!c) continue;
        const lb_train_linear *L = &m->linears[i];
        char why[256];
        if (lb_fq_check(c, L->out, L->in, why, sizeof why)) {
            free_qat_model(q, m);
            return lb_fail(err, "%s: %s", m->table[L->param].name, why);
        }
        lb_qat_linear *ql = &q->q[q->n++];
        ql->lin = i;
        ql->cfg = *c;
        ql->nscales = lb_fq_nscales(c, L->out, L->in);
        ql->scale_offset = q->n_scales;
        q->n_scales += ql->nscales;
        const size_t numel = (size_t)L->out * (size_t)L->in;
        ql->w_eff = malloc(numel * sizeof(float));
        ql->codes = malloc(numel);
        ql->step = malloc((size_t)L->out * sizeof(float));
        if (!ql->w_eff || !ql->codes || !ql->step) { free_qat_model(q, m); return lb_fail(err, "qat: out of memory"); }
    }
    if (!q->n) return 0;
    q->scales = calloc((size_t)q->n_scales, sizeof(float));
    q->dscales = calloc((size_t)q->n_scales, sizeof(float));
    if (!q->scales || !q->dscales) { free_qat_model(q, m); return lb_fail(err, "qat: out of memory"); }
    for (int j = 0; j < q->n; j++) {
        lb_qat_linear *ql = &q->q[j];
        lb_train_linear *L = &m->linears[ql->lin];
        ql->scales = q->scales + ql->scale_offset;
        ql->dscales = q->dscales + ql->scale_offset;
        char why[256];
        if (lb_fq_init_scales(ql->scales, L->w, L->out, L->in, &ql->cfg, why, sizeof why)) {
            free_qat_model(q, m);
            return lb_fail(err, "%s: %s", m->table[L->param].name, why);
        }
        L->w_eff = ql->w_eff;
    }
    return 0;
}

void free_qat_model(lb_qat_model *q, lb_train_model *m) {
    if (!q) return;
    for (int j = 0; j < q->n; j++) {
        if (m && m->linears) {
            m->linears[q->q[j].lin].w_eff = m->linears[q->q[j].lin].w;
            m->linears[q->q[j].lin].wc = NULL;
        }
        free(q->q[j].w_eff);
        free(q->q[j].codes);
        free(q->q[j].step);
    }
    free(q->q); free(q->scales); free(q->dscales);
    memset(q, 0, sizeof *q);
}

int lb_qat_forward(lb_qat_model *q, const lb_train_model *m, float lambda, lb_err *err) {
    for (int j = 0; j < q->n; j++) {
        lb_qat_linear *ql = &q->q[j];
        lb_train_linear *L = &m->linears[ql->lin];   // (m is const; its linears are not)
        const float lam = ql->anneal ? lambda : 0.0f;
        if (lb_fq_forward(ql->w_eff, ql->codes, L->w, ql->scales, L->out, L->in, &ql->cfg, lam))
            return lb_fail(err, "%s: fake-quant forward failed", m->table[L->param].name);
        // the coded form, when the grid has one, lets the AMX matmuls skip two of W's three parts
        L->wc = lb_fq_coded(&ql->coded, ql->step, ql->codes, ql->scales, L->out, L->in, &ql->cfg, lam) ? &ql->coded
                                                                                                   : NULL;
    }
    return 0;
}

int lb_qat_backward(lb_qat_model *q, const lb_train_model *m, float lambda, lb_err *err) {
    for (int j = 0; j < q->n; j++) {
        lb_qat_linear *ql = &q->q[j];
        const lb_train_linear *L = &m->linears[ql->lin];
        // dw holds dL/dw_eff and becomes dL/dW in place (no copy of every weight's gradient)
        if (lb_fq_backward(L->dw, ql->dscales, L->dw, L->w, ql->codes, ql->scales, L->out, L->in, &ql->cfg, ql->anneal ? lambda : 0.0f))
            return lb_fail(err, "%s: fake-quant backward failed", m->table[L->param].name);
    }
    return 0;
}

const char *lb_qat_name(const lb_qat_model *q, const lb_train_model *m, int i) {
    return m->table[m->linears[q->q[i].lin].param].name;
}
