// quant.h: lowbit's quantizers. Each grid is defined ONCE here as
//   "float weights + a scale -> integer codes and/or grid values",
// and reused by PTQ (lowbit quantize), by the trainer's fake-quant forward (every step), and by
// the packers that write GGUF blocks. Because the fake-quant forward and the packer call the same
// function, lossless export is a property of the code (see ../shared/REFERENCE.md §2, §3).
//
// The value model shared by every grid: value = (float)lane(code) * step, computed in float
// exactly like the GGUF dequantizers compute it ((float)(c-1)*d for TQ*, (2c-3)*d for Q2_0C,
// d*sc*q - dmin*mn for Q2_K), so with LB_GRID_FP16_EXACT the grid values and the dequantized
// floats agree bit for bit.
//
// No allocation in the per-step functions (lb_grid_apply, lb_grid_rows); no file I/O anywhere.
// Errors: int return (0 ok, -1 error) and one line in a caller's buffer (err, errlen; may be NULL).
#pragma once
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

// --- grids -----------------------------------------------------------------------------------

typedef enum lb_grid {
    // ParetoQ SEQ 2-bit: u = clamp(w/alpha, -0.99, 0.99), code i = rint(2u - 0.5) in {-2..1},
    // value alpha*(i+0.5)/2 = (2i+1) * step, step = alpha/4. Initial alpha = max|w|.
    LB_GRID_SEQ2 = 0,
    // ParetoQ SEQ ternary: t = rint(1.5*clamp(w/alpha, -0.99, 0.99)) in {-1,0,1},
    // value alpha*t/1.5 = t * step, step = alpha/1.5. Initial alpha = max|w|.
    LB_GRID_SEQ_TERNARY,
    // BitNet b1.58 absmean: gamma = mean|w|, t = clamp(rint(w/gamma), -1, 1), value t*gamma.
    LB_GRID_ABSMEAN,
    // Sherry 3:4 with STQ1_0's grouping: in each 64-weight span, group g (0..15) is the 4 weights
    // g, g+16, g+32, g+48. The 3 largest |w| keep sign(w)*alpha (a kept exact zero counts as +,
    // so every group stays 3:4 and packable), the smallest becomes 0 (ties: the first such weight).
    // alpha = mean |w| of the kept weights over the scale group. n must be a multiple of 64.
    LB_GRID_SHERRY,
    // Sherry 3:4 with AngelSlim's grouping (4 adjacent weights). Same rule; NOT STQ1_0-packable
    // (only TQ1_0/TQ2_0, which store any ternary). n must be a multiple of 4.
    LB_GRID_SHERRY_ADJ,
    // LSQ b-bit: Qn = -2^(b-1), Qp = 2^(b-1)-1, code = clamp(rint(w/alpha), Qn, Qp), value code*alpha.
    // Initial alpha = max|w|/Qp. No GGUF packer (trainer only).
    LB_GRID_LSQ3,
    LB_GRID_LSQ4,
    LB_GRID_COUNT
} lb_grid;

// flags for lb_grid_* calls
#define LB_GRID_FP16_EXACT 1u   // round the step to fp16 first: values == the packed type's dequantize

// "seq2", "seq_ternary", "absmean", "sherry", "sherry_adj", "lsq3", "lsq4"; NULL if out of range
const char *lb_grid_name(lb_grid g);
int lb_grid_from_name(const char *name);   // -1 if unknown
// n passed to lb_grid_apply must be a multiple of this (64 for SHERRY, 4 for SHERRY_ADJ, else 1)
int64_t lb_grid_align(lb_grid g);
// smallest and largest code of the grid (SEQ2 -2..1, ternaries -1..1, LSQ Qn..Qp)
void lb_grid_code_range(lb_grid g, int *lo, int *hi);
// integer multiplier of the step for a code: SEQ2 2i+1, all others the code itself
static inline int lb_grid_lane(lb_grid g, int code) { return g == LB_GRID_SEQ2 ? 2 * code + 1 : code; }

// The step of a scale: value = lane * step. With LB_GRID_FP16_EXACT the step is an fp16 value
// (clamped to the fp16 range the packers can store). A scale that is not > 0 (or not finite)
// gives step 0, and then every grid puts all weights on the code whose value is +0.
float lb_grid_step(lb_grid g, float scale, unsigned flags);

// Initial / data-derived scale of n weights (max|w|, mean|w|, mean kept |w|, max|w|/Qp).
// For SHERRY/SHERRY_ADJ this IS the scale (recomputed every step, not learned).
float lb_grid_init_scale(lb_grid g, const float *w, int64_t n);

// Fake-quantize n weights that share one scale. codes (int8, n) and/or vals (float, n) may be NULL.
// Returns 0, or -1 when n is not a multiple of lb_grid_align(g) or g is unknown (nothing written).
// With LB_GRID_FP16_EXACT the grid uses the fp16 step throughout (SEQ2 clips against 4*step, absmean
// and LSQ divide by step; SEQ ternary chooses codes with the given alpha, only the value step is
// rounded, since alpha/1.5 need not be fp16-exact even when alpha is).
int lb_grid_apply(int8_t *codes, float *vals, const float *w, int64_t n, float scale,
                  lb_grid g, unsigned flags);

// A whole [nrows x K] matrix with one scale per (row, group of `group` consecutive weights):
// scales[r*(K/group) + j]. group = K is "per row"; 256 is "per 256-weight block".
// K % group == 0 and group % lb_grid_align(g) == 0 are required. OpenMP over rows.
int lb_grid_rows(int8_t *codes, float *vals, const float *w, int64_t nrows, int64_t K,
                 const float *scales, int64_t group, lb_grid g, unsigned flags,
                 char *err, size_t errlen);
// scales[r*(K/group) + j] = lb_grid_init_scale of that group
int lb_grid_init_scales(float *scales, const float *w, int64_t nrows, int64_t K, int64_t group,
                        lb_grid g, char *err, size_t errlen);

// --- packing grid codes into GGUF blocks -------------------------------------------------------

// Is grid g storable in type (exactly, given fp16-exact steps)? SEQ2 -> Q2_K, Q2_0C; SEQ ternary,
// absmean, Sherry(any) -> TQ1_0, TQ2_0; Sherry (STQ1_0 grouping) -> STQ1_0.
bool lb_grid_packable(lb_grid g, uint32_t type);

// Pack one row of n codes (from lb_grid_apply/rows) with scales[n/group] into `type`.
// The steps (lb_grid_step(g, scale, flags)) of all scale groups inside one type block must be
// equal (e.g. per-256 SEQ2 scales into a 512-weight Q2_0C block need the pair to agree), else -1.
// The packed block dequantizes to exactly the grid values when LB_GRID_FP16_EXACT was used.
// Mappings: Q2_0C c = i+2, d = step. Q2_K q = i+2, every scale byte 0x31 (sc 1, min 3),
// d = 2*step, dmin = step. TQ1_0/TQ2_0/STQ1_0: trit t, d = step.
int lb_grid_pack_row(void *dst, uint32_t type, const int8_t *codes, int64_t n,
                     const float *scales, int64_t group, lb_grid g, unsigned flags,
                     char *err, size_t errlen);

// --- PTQ: quantize a weight matrix into a GGUF type ----------------------------------------------

typedef enum lb_quant_method {
    LB_QM_RTN = 0,       // the type's own reference rule: lb_type_get(type)->from_float
    LB_QM_SEQ2,          // SEQ 2-bit grid, alpha = max|w| per scale group -> q2_k, q2_0c
    LB_QM_SEQ_TERNARY,   // SEQ ternary grid -> tq1_0, tq2_0
    LB_QM_ABSMEAN,       // absmean ternary -> tq1_0, tq2_0
    LB_QM_SHERRY,        // Sherry 3:4 (STQ1_0 grouping) -> stq1_0, tq1_0, tq2_0
    LB_QM_GPTQ,          // GPTQ with the Hessian; grid chosen per block by opts->gptq_base
    LB_QM_COUNT
} lb_quant_method;

const char *lb_quant_method_name(lb_quant_method m);   // "rtn", "seq2", ... "gptq"
int lb_quant_method_from_name(const char *name);      // -1 if unknown

typedef struct lb_quant_opts {
    // grid methods: weights per scale. 0 = the type's block (256; 512 for q2_0c). Must divide K;
    // K gives one scale per row. (GPTQ always chooses its scales per type block.)
    int64_t scale_group;
    lb_quant_method gptq_base;   // rule that picks GPTQ's scales at each block start (not GPTQ)
    float percdamp;              // GPTQ dampening, fraction of mean diag(H) (0.01)
    int gptq_block;              // GPTQ lazy-update block, columns (128; multiple of 64)
} lb_quant_opts;

void lb_quant_opts_default(lb_quant_opts *o);

// Is method m meaningful for type (RTN: any type with from_float; grids: lb_grid_packable)?
bool lb_quant_method_supports(lb_quant_method m, uint32_t type);

// Quantize W [nrows x K] (row-major, K = row length) into dst (nrows * lb_row_size(type, K) bytes).
// hessian: K x K (row-major, symmetric), H = 2/N * sum x x^T of this linear's inputs; required for
// GPTQ, ignored otherwise. opts may be NULL (defaults). Deterministic; OpenMP over rows.
int lb_quantize_rows(void *dst, const float *w, int64_t nrows, int64_t K, uint32_t type,
                     lb_quant_method method, const float *hessian, const lb_quant_opts *opts,
                     char *err, size_t errlen);

// GPTQ (Frantar et al. 2022) for Q2_K, Q2_0C, TQ1_0, TQ2_0, STQ1_0. H is not modified.
// At each type block's first column the block's scales are chosen by `base` (RTN = the type's own
// rule, or a grid method) from the error-updated weights; STQ1_0's 3:4 mask is chosen per 4-group
// at the group's first column. Output goes through the exact packers.
int lb_gptq_quantize(void *dst, const float *w, int64_t nrows, int64_t K, uint32_t type,
                     const float *hessian, lb_quant_method base, const lb_quant_opts *opts,
                     char *err, size_t errlen);

// GPTQ's factor of one Hessian (upper Cholesky factor of (H + damping)^-1, in double, ~K^3 flops:
// the expensive part for large K), reusable by every weight that reads the same input
// (attn_q/k/v share one, ffn_gate/up another). NULL on error (message in err).
typedef struct lb_gptq_hinv lb_gptq_hinv;
lb_gptq_hinv *lb_gptq_hinv_build(const float *hessian, int64_t K, float percdamp, char *err, size_t errlen);
void lb_gptq_hinv_free(lb_gptq_hinv *h);
// lb_gptq_quantize with a prebuilt factor (opts->percdamp is not used: it was applied at build)
int lb_gptq_quantize_hinv(void *dst, const float *w, int64_t nrows, int64_t K, uint32_t type,
                          const lb_gptq_hinv *hinv, lb_quant_method base, const lb_quant_opts *opts,
                          char *err, size_t errlen);
