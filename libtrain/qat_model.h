// qat_model.h: binds QAT fake-quantizers (fakequant.h) to a trainable model's linears, one
// quantizer config per tensor class: attn (attn_q/k/v/output) and ffn (ffn_gate/up/down).
// The head and the embeddings stay FP. For every quantized linear it owns the fake-quantized
// weight w_eff (the model's forward reads it through linears[i].w_eff), the int8 codes of the
// last forward, and its slice of ONE scale array (and ONE scale-gradient array), so the
// optimizer can register the scales as a group and a checkpoint can write them by name.
//
// Per optimizer step (train_model.h's QAT hook):
//   lb_qat_forward(q, m, lambda)      before the micro-batches: w_eff = Q(W) + lambda*W
//   ... forward/backward of every micro-batch: dL/dw_eff accumulates in linears[i].dw ...
//   lb_qat_backward(q, m, lambda)     replaces dw by dL/dW in place, writes dscales
// (the map g_eff -> (dW, dscales) is linear, so one call after the accumulation is exact).
#pragma once
#include <stdint.h>
#include "train_model.h"
#include "fakequant.h"
#include "lb_error.h"

typedef struct lb_qat_linear {
    int lin;                 // index in m->linears
    lb_fq_config cfg;
    float *w_eff;            // rows*K, own allocation
    int8_t *codes;           // rows*K
    float *step;             // rows: the row steps of the coded form (lb_fq_coded), own allocation
    gemm_coded coded;        // w_eff in coded form when the grid has one (then linears[lin].wc points here)
    float *scales, *dscales; // slices of lb_qat_model.scales / .dscales
    int64_t nscales, scale_offset;
    int anneal;              // Arenas: uses the lambda passed to forward/backward (else lambda 0)
} lb_qat_linear;

typedef struct lb_qat_model {
    lb_qat_linear *q;
    int n;
    float *scales, *dscales;   // all scales, one allocation each
    int64_t n_scales;
} lb_qat_model;

enum { LB_QAT_ATTN = 0, LB_QAT_FFN = 1 };

// cls[LB_QAT_ATTN], cls[LB_QAT_FFN]: the config of each class, or NULL = keep that class FP.
// Validates every matrix (lb_fq_check), allocates, initializes the scales from the weights and
// points the model's w_eff at the fake-quantized copies. q->n == 0 when both are NULL.
int build_qat_model(lb_qat_model *q, lb_train_model *m, const lb_fq_config *cls[2], lb_err *err);
void free_qat_model(lb_qat_model *q, lb_train_model *m);   // also points w_eff back at w

int lb_qat_forward(lb_qat_model *q, const lb_train_model *m, float lambda, lb_err *err);
int lb_qat_backward(lb_qat_model *q, const lb_train_model *m, float lambda, lb_err *err);
// the GGUF name of the weight a quantized linear wraps
const char *lb_qat_name(const lb_qat_model *q, const lb_train_model *m, int i);
