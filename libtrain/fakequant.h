// fakequant.h: QAT weight quantizers (forward + backward) for one weight matrix W [rows][K].
// The grid math is libquant's (quant.h: lb_grid_rows, lb_grid_step, ...); this file adds what
// training needs on top: learned-scale gradients (ParetoQ SEQ, LSQ), straight-through masks,
// data-derived scales (absmean, Sherry), Arenas annealing and the format-exact mode.
// Formulas: ../shared/REFERENCE.md §2.
//
// How the trainer uses it, per quantized linear and step:
//   lb_fq_forward(w_eff, codes, W, scales, ...)        // w_eff = Q(W) + lambda*W, the matmul weight
//   ... model forward/backward with w_eff, giving g_eff = dL/dw_eff ...
//   lb_fq_backward(dW, dscales, g_eff, W, codes, scales, ...)
//   AdamW on W (dW) and, for learned grids, on scales (dscales).
//
// Scales: one per (row, group of cfg.group consecutive weights): scales[r*(K/group) + j]
// (lb_fq_nscales). For SEQ2, SEQ ternary and LSQ they are learned parameters. For absmean and
// Sherry they are data-derived: lb_fq_forward recomputes and overwrites them every step (absmean:
// one gamma = mean|W| over the whole tensor, written into every slot; Sherry: mean kept |w| per
// group), so the scales an exporter packs are the ones the forward used; their gradient is 0.
//
// Format-exact mode (cfg.format_type != 0, e.g. LB_TYPE_Q2_0C): the forward uses fp16-rounded
// steps (LB_GRID_FP16_EXACT) and requires the scale groups to tile the type's blocks, so with
// lambda = 0 the forward output equals lb_grid_pack_row -> lb_type_get(type)->to_float bit for bit.
//
// No allocation and no I/O in the per-step functions. OpenMP over rows; deterministic.
#pragma once
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "quant.h"
#include "gemm_amx.h"

#define LB_FQ_CLIP 0.99f       // ParetoQ's c: the STE mask is |w/alpha| <= c
#define LB_FQ_FP16_EXACT 1u    // fp16-rounded steps even without a format_type

typedef struct lb_fq_config {
    lb_grid grid;          // LB_GRID_SEQ2, _SEQ_TERNARY, _ABSMEAN, _SHERRY(_ADJ), _LSQ3, _LSQ4
    int64_t group;         // weights per scale: K (per row) or 256 (per 256-weight block); 0 = K
    uint32_t format_type;  // 0 = none, else the GGUF type the forward must match exactly
    unsigned flags;        // LB_FQ_*
} lb_fq_config;

// Validate cfg for a [rows][K] matrix (group divides K, grid alignment, packability and block
// tiling for format_type). 0 ok, -1 with one line in err.
int lb_fq_check(const lb_fq_config *cfg, int64_t rows, int64_t K, char *err, size_t errlen);
// number of scales: rows * (K / group)
int64_t lb_fq_nscales(const lb_fq_config *cfg, int64_t rows, int64_t K);
// are the scales trained (SEQ2, SEQ ternary, LSQ) rather than recomputed from W each step?
bool lb_fq_scales_learned(const lb_fq_config *cfg);
// the flags passed to libquant's grid functions (LB_GRID_FP16_EXACT in format-exact mode)
unsigned lb_fq_grid_flags(const lb_fq_config *cfg);

// Initial scales from W (max|W| for SEQ, max|W|/Qp for LSQ, mean|W| per tensor for absmean,
// mean kept |w| for Sherry). 0 or -1 (err).
int lb_fq_init_scales(float *scales, const float *W, int64_t rows, int64_t K,
                      const lb_fq_config *cfg, char *err, size_t errlen);

// Forward: w_eff = Q(W; scales) + lambda * W, codes = the grid codes (int8, rows*K; kept for the
// backward and for packing). Recomputes data-derived scales in place (see above). cfg must have
// passed lb_fq_check (returns -1 otherwise, nothing written).
int lb_fq_forward(float *w_eff, int8_t *codes, const float *W, float *scales,
                  int64_t rows, int64_t K, const lb_fq_config *cfg, float lambda);

// Backward, given g_eff = dL/dw_eff and the codes of the matching forward:
//   dW      = g_eff * STE-mask + lambda * g_eff        (overwritten, rows*K)
//   dscales = the grid's scale gradient (overwritten, lb_fq_nscales; 0 for data-derived scales)
// STE masks: SEQ |w/alpha| <= 0.99, LSQ Qn <= w/alpha <= Qp, absmean and Sherry identity.
// Scale gradients: SEQ G*sum g*D, D = q - w/alpha inside the clip, -Qp below, +Qp above
// (Qp 0.75 / 1.0), G = 1/sqrt(rows*K); LSQ G*sum g*{Qn, Qp, round(v)-v}, G = 1/sqrt(rows*K*Qp).
// In fp16-exact mode alpha is the grid's effective scale: SEQ2 4*step (its codes and clip use it),
// LSQ step; SEQ ternary keeps the learned alpha (its codes are chosen with it; only the value step
// is fp16-rounded). The rounding alpha -> fp16 itself is passed straight through (d/dalpha = 1).
// A scale <= 0 (or non-finite) gives Q = 0 (libquant's rule; ParetoQ instead clamps alpha to 1e-5):
// dW STE part 0, D = sign(w)*Qp (every weight is "outside the clip").
// dW may equal g_eff (in place: each element's g is read before its dW is written).
// The map g_eff -> (dW, dscales) is linear for a fixed W and scales, so with gradient accumulation
// the trainer sums g_eff over the micro-batches and calls this once per optimizer step.
int lb_fq_backward(float *dW, float *dscales, const float *g_eff, const float *W, const int8_t *codes,
                   const float *scales, int64_t rows, int64_t K, const lb_fq_config *cfg, float lambda);

// The forward's w_eff in coded form, W_eff[r][k] = step[r] * (mul * codes[r][k] + add), for the
// matmuls that can use it (gemm_amx_coded_*: one bf16 part instead of three). Exists when
// lambda == 0 and there is one step per row: group == K for SEQ 2-bit (value 2 code + 1), LSQ,
// SEQ ternary and Sherry (value = code), any group for absmean (one gamma per tensor). Then
// lb_fq_forward's w_eff is exactly fl(step[r] * value) (tests/test_fakequant.c checks it bit
// for bit). Fills step (rows floats; 0 where the grid has no scale, as lb_fq_forward writes
// values 0 there) and *out (pointing at codes and step); returns 1, or 0 when this grid, group
// or lambda has no coded form (nothing written).
int lb_fq_coded(gemm_coded *out, float *step, const int8_t *codes, const float *scales, int64_t rows, int64_t K,
                const lb_fq_config *cfg, float lambda);

// Arenas (Sherry §2.3): lambda_t rises linearly 0 -> 1 over the first 10% of steps, then
// cosine-decays to 0 at step = total (and stays 0 after). 0 when total <= 0.
float lb_fq_arenas_lambda(int64_t step, int64_t total);
