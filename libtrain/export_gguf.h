// export_gguf.h: a QAT checkpoint -> GGUF, losslessly (`lowbit export`), and the checkpoint's
// QAT model as the trainer evaluates it (shared with `lowbit verify`).
//
// Lossless means: for every quantized linear, the packed blocks dequantize (lb_types to_float)
// to the fake-quant weight w_eff = Q(W; scales) of the QAT forward with Arenas lambda 0, bit for
// bit. The packer is libquant's lb_grid_pack_row fed with the forward's own codes and scales, and
// export re-checks every row (pack -> dequantize -> memcmp) before a byte is written. A tensor
// that is not exact (grid not storable in the type, scales not fp16-exact, scale groups not tiling
// the type's blocks, Arenas mid-anneal, an FP class asked into a low-bit type) stops the export
// with one line naming tensor, quantizer and type, unless allow_lossy: then it is quantized with
// the type's own rounding rule (RTN) from its effective weight and its error is reported.
// Float outputs (f32, f16): quantized linears are written as w_eff, FP ones as the master weight.
// Norms and biases are f32; token_embd / output take emb_type (RTN of the master weight).
#pragma once
#include <stdint.h>
#include <stdio.h>
#include "train_model.h"
#include "qat_model.h"
#include "train_config.h"
#include "lb_error.h"

// --- the checkpoint's QAT model ----------------------------------------------------------------
typedef struct lb_ckpt_qat {
    lb_train_model m;          // master weights (weights/<name>)
    lb_qat_model q;            // w_eff / codes / scales of each quantized linear (lambda 0 forward done)
    lb_train_settings s;       // the checkpoint's config, resolved
    lb_fq_config cls[2];       // LB_QAT_ATTN, LB_QAT_FFN (valid when has_cls[c])
    int has_cls[2];
    int64_t step;              // attribute `step` (-1 if absent)
    float lambda;              // Arenas lambda at that step for annealed linears (0 when none anneal)
    int any_anneal;            // some linear anneals (sherry + qat.arenas)
    char *vocab_source;        // attribute vocab_source ("" if unknown)
} lb_ckpt_qat;

// Model + QAT classes from the config + scales (scales/<name>) + QAT forward with lambda 0.
int lb_ckpt_qat_load(lb_ckpt_qat *cq, const char *path, lb_err *err);
void lb_ckpt_qat_free(lb_ckpt_qat *cq);
// index in cq->q.q of the quantized linear wrapping parameter `param`, or -1 (FP)
int lb_ckpt_qat_find(const lb_ckpt_qat *cq, int param);

// --- export ----------------------------------------------------------------------------------
typedef struct lb_export_opts {
    uint32_t type;          // block linears: LB_TYPE_Q2_0C, _Q2_K, _STQ1_0, _TQ1_0, _TQ2_0, _F32, _F16
    uint32_t emb_type;      // token_embd / output: LB_TYPE_Q8_0 (default), _F16, _F32
    const char *vocab;      // model whose tokenizer.* / general.* to copy; NULL: the checkpoint's vocab_source
    int allow_lossy;
    int verbose;            // a line per tensor on stderr
} lb_export_opts;

typedef struct lb_export_stats {
    int n_tensors;
    int n_by_type[256];         // tensors per GGUF type
    int n_exact, n_lossy;       // quantized linears packed exactly / RTN-quantized (allow_lossy)
    int n_converted;            // FP weights written in a float type
    uint64_t file_bytes;        // of the written file
    uint64_t tensor_bytes;      // tensor data
    double n_weights;           // elements over all tensors
} lb_export_stats;

// 0, or -1 with one line in err; OUT exists only on success (temp file + rename).
int lb_export_gguf(const char *ckpt_path, const char *out_path, const lb_export_opts *o, lb_export_stats *st,
                   lb_err *err);
