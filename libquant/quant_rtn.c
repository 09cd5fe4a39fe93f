// quant_rtn.c: the grid dispatcher (lb_grid_*), the exact packers from grid codes to GGUF blocks,
// and lb_quantize_rows: RTN by each type's own rule, or a named grid -> exact packer.
#include "quant_internal.h"
#include "lb_types.h"
#include "q2_k.h"
#include "tq1_0.h"
#include "tq2_0.h"
#include "q2_0c.h"
#include "stq1_0.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

// largest steps the packers can store: fp16 max for d = step; Q2_K stores d = 2*step
#define FP16_MAX 65504.0f
#define SEQ2_STEP_MAX 32752.0f

// --- grid dispatch -----------------------------------------------------------------------------

static const char *const g_grid_names[LB_GRID_COUNT] = {
    [LB_GRID_SEQ2] = "seq2", [LB_GRID_SEQ_TERNARY] = "seq_ternary", [LB_GRID_ABSMEAN] = "absmean",
    [LB_GRID_SHERRY] = "sherry", [LB_GRID_SHERRY_ADJ] = "sherry_adj",
    [LB_GRID_LSQ3] = "lsq3", [LB_GRID_LSQ4] = "lsq4",
};

const char *lb_grid_name(lb_grid g) { return (unsigned)g < LB_GRID_COUNT ? g_grid_names[g] : NULL; }

int lb_grid_from_name(const char *name) {
    for (int g = 0; g < LB_GRID_COUNT; g++) if (name && strcasecmp(name, g_grid_names[g]) == 0) return g;
    return -1;
}

int64_t lb_grid_align(lb_grid g) {
    return g == LB_GRID_SHERRY ? 64 : g == LB_GRID_SHERRY_ADJ ? 4 : 1;
}

void lb_grid_code_range(lb_grid g, int *lo, int *hi) {
    switch (g) {
    case LB_GRID_SEQ2: *lo = -2; *hi = 1; break;
    case LB_GRID_LSQ3: *lo = -4; *hi = 3; break;
    case LB_GRID_LSQ4: *lo = -8; *hi = 7; break;
    default:           *lo = -1; *hi = 1; break;
    }
}

float lb_grid_step(lb_grid g, float scale, unsigned flags) {
    if (!(scale > 0) || !isfinite(scale)) return 0.0f;
    const bool exact = flags & LB_GRID_FP16_EXACT;
    switch (g) {
    case LB_GRID_SEQ2:        return exact ? lb_q_fp16_round(scale * 0.25f, SEQ2_STEP_MAX) : scale * 0.25f;
    case LB_GRID_SEQ_TERNARY: return exact ? lb_q_fp16_round(scale / 1.5f, FP16_MAX) : scale / 1.5f;
    default:                  return exact ? lb_q_fp16_round(scale, FP16_MAX) : scale;
    }
}

float lb_grid_init_scale(lb_grid g, const float *w, int64_t n) {
    if (g == LB_GRID_SHERRY || g == LB_GRID_SHERRY_ADJ) return lb_sherry_scale(w, n, g == LB_GRID_SHERRY_ADJ);
    if (g == LB_GRID_ABSMEAN) {
        double s = 0.0;
        for (int64_t k = 0; k < n; k++) s += fabsf(w[k]);
        return n > 0 ? (float)(s / (double)n) : 0.0f;
    }
    float amax = 0.0f;
    for (int64_t k = 0; k < n; k++) amax = fmaxf(amax, fabsf(w[k]));
    if (g == LB_GRID_LSQ3) return amax / 3.0f;
    if (g == LB_GRID_LSQ4) return amax / 7.0f;
    return amax;   // SEQ 2-bit and ternary: ParetoQ's max|w|
}

int lb_grid_apply(int8_t *codes, float *vals, const float *w, int64_t n, float scale, lb_grid g, unsigned flags) {
    if ((unsigned)g >= LB_GRID_COUNT || n < 0 || n % lb_grid_align(g)) return -1;
    switch (g) {
    case LB_GRID_SEQ2:        lb_seq2_apply(codes, vals, w, n, scale, flags); break;
    case LB_GRID_SEQ_TERNARY: lb_seq_ternary_apply(codes, vals, w, n, scale, flags); break;
    case LB_GRID_ABSMEAN:     lb_absmean_apply(codes, vals, w, n, scale, flags); break;
    case LB_GRID_SHERRY:      lb_sherry_apply(codes, vals, w, n, scale, 0, flags); break;
    case LB_GRID_SHERRY_ADJ:  lb_sherry_apply(codes, vals, w, n, scale, 1, flags); break;
    case LB_GRID_LSQ3:        lb_lsq_apply(codes, vals, w, n, scale, 3, flags); break;
    case LB_GRID_LSQ4:        lb_lsq_apply(codes, vals, w, n, scale, 4, flags); break;
    default: return -1;
    }
    return 0;
}

static int check_groups(int64_t nrows, int64_t K, int64_t group, lb_grid g, char *err, size_t errlen) {
    if ((unsigned)g >= LB_GRID_COUNT) return lb_qfail(err, errlen, "unknown grid %d", (int)g);
    if (nrows < 0 || K <= 0 || group <= 0) return lb_qfail(err, errlen, "bad shape %lld x %lld, group %lld", (long long)nrows, (long long)K, (long long)group);
    if (K % group) return lb_qfail(err, errlen, "row of %lld weights is not a multiple of the scale group %lld", (long long)K, (long long)group);
    if (group % lb_grid_align(g))
        return lb_qfail(err, errlen, "%s needs scale groups that are a multiple of %lld weights, not %lld",
                        lb_grid_name(g), (long long)lb_grid_align(g), (long long)group);
    return 0;
}

int lb_grid_rows(int8_t *codes, float *vals, const float *w, int64_t nrows, int64_t K,
                 const float *scales, int64_t group, lb_grid g, unsigned flags, char *err, size_t errlen) {
    if (check_groups(nrows, K, group, g, err, errlen)) return -1;
    const int64_t ng = K / group;
    #pragma omp parallel for schedule(static) if (nrows * K >= (1 << 16))
    for (int64_t r = 0; r < nrows; r++) {
        for (int64_t j = 0; j < ng; j++) {
            const int64_t o = r * K + j * group;
            lb_grid_apply(codes ? codes + o : NULL, vals ? vals + o : NULL, w + o, group, scales[r * ng + j], g, flags);
        }
    }
    return 0;
}

int lb_grid_init_scales(float *scales, const float *w, int64_t nrows, int64_t K, int64_t group,
                        lb_grid g, char *err, size_t errlen) {
    if (check_groups(nrows, K, group, g, err, errlen)) return -1;
    const int64_t ng = K / group;
    #pragma omp parallel for schedule(static) if (nrows * K >= (1 << 16))
    for (int64_t r = 0; r < nrows; r++)
        for (int64_t j = 0; j < ng; j++) scales[r * ng + j] = lb_grid_init_scale(g, w + r * K + j * group, group);
    return 0;
}

// --- packing grid codes -------------------------------------------------------------------------

bool lb_grid_packable(lb_grid g, uint32_t type) {
    switch (g) {
    case LB_GRID_SEQ2: return type == LB_TYPE_Q2_K || type == LB_TYPE_Q2_0C;
    case LB_GRID_SEQ_TERNARY: case LB_GRID_ABSMEAN: case LB_GRID_SHERRY_ADJ:
        return type == LB_TYPE_TQ1_0 || type == LB_TYPE_TQ2_0;
    case LB_GRID_SHERRY:
        return type == LB_TYPE_TQ1_0 || type == LB_TYPE_TQ2_0 || type == LB_TYPE_STQ1_0;
    default: return false;
    }
}

// one block of blck codes with one step into type. Codes are validated (they come from callers).
static int pack_block(void *dst, uint32_t type, const int8_t *codes, int64_t blck, float step, lb_grid g,
                      char *err, size_t errlen) {
    int lo, hi;
    lb_grid_code_range(g, &lo, &hi);
    for (int64_t k = 0; k < blck; k++)
        if (codes[k] < lo || codes[k] > hi)
            return lb_qfail(err, errlen, "code %d of weight %lld is outside %s's %d..%d", codes[k], (long long)k, lb_grid_name(g), lo, hi);
    uint8_t c[512];
    switch (type) {
    case LB_TYPE_Q2_0C:   // value (2c-3)*d, c = i+2, d = step
        for (int64_t k = 0; k < blck; k++) c[k] = (uint8_t)(codes[k] + 2);
        lb_q2_0c_pack(dst, c, lb_f32_to_fp16(step));
        return 0;
    case LB_TYPE_Q2_K: {  // value (d*1)*q - dmin*3 = (2q-3)*step with d = 2*step, dmin = step, q = i+2
        uint8_t sc[16], mn[16];
        for (int j = 0; j < 16; j++) { sc[j] = 1; mn[j] = 3; }
        for (int64_t k = 0; k < blck; k++) c[k] = (uint8_t)(codes[k] + 2);
        lb_q2_K_pack(dst, c, sc, mn, lb_f32_to_fp16(2.0f * step), lb_f32_to_fp16(step));
        return 0;
    }
    case LB_TYPE_TQ1_0:  lb_tq1_0_pack(dst, codes, lb_f32_to_fp16(step)); return 0;
    case LB_TYPE_TQ2_0:  lb_tq2_0_pack(dst, codes, lb_f32_to_fp16(step)); return 0;
    case LB_TYPE_STQ1_0:
        if (lb_stq1_0_pack(dst, codes, lb_f32_to_fp16(step)))
            return lb_qfail(err, errlen, "codes are not 3:4 sparse in STQ1_0's groups");
        return 0;
    default:
        return lb_qfail(err, errlen, "no packer for type %u", type);
    }
}

int lb_grid_pack_row(void *dst, uint32_t type, const int8_t *codes, int64_t n, const float *scales, int64_t group,
                     lb_grid g, unsigned flags, char *err, size_t errlen) {
    const lb_type_traits *tt = lb_type_get(type);
    if (!tt) return lb_qfail(err, errlen, "unknown type %u", type);
    if ((unsigned)g >= LB_GRID_COUNT || !lb_grid_packable(g, type))
        return lb_qfail(err, errlen, "grid %s cannot be stored in %s", lb_grid_name(g) ? lb_grid_name(g) : "?", tt->name);
    const int64_t blck = tt->blck_size;
    if (n <= 0 || n % blck) return lb_qfail(err, errlen, "row of %lld weights is not a multiple of %s's block of %lld", (long long)n, tt->name, (long long)blck);
    if (check_groups(1, n, group, g, err, errlen)) return -1;
    if (group % blck && blck % group)
        return lb_qfail(err, errlen, "scale groups of %lld weights do not tile %s's blocks of %lld", (long long)group, tt->name, (long long)blck);
    uint8_t *out = dst;
    for (int64_t b = 0; b < n / blck; b++) {
        const int64_t s0 = b * blck;
        const float step = lb_grid_step(g, scales[s0 / group], flags);
        // a block holds one step: every scale group inside it must store the same one
        for (int64_t s = s0 + group; s < s0 + blck; s += group) {
            const float st = lb_grid_step(g, scales[s / group], flags);
            if (lb_f32_to_fp16(st) != lb_f32_to_fp16(step))
                return lb_qfail(err, errlen, "weights %lld and %lld share a %s block but have different scales (%g, %g)",
                                (long long)s0, (long long)s, tt->name, (double)step, (double)st);
        }
        if (pack_block(out + b * tt->type_size, type, codes + s0, blck, step, g, err, errlen)) return -1;
    }
    return 0;
}

// --- PTQ dispatcher ------------------------------------------------------------------------------

static const char *const g_method_names[LB_QM_COUNT] = {
    [LB_QM_RTN] = "rtn", [LB_QM_SEQ2] = "seq2", [LB_QM_SEQ_TERNARY] = "seq_ternary",
    [LB_QM_ABSMEAN] = "absmean", [LB_QM_SHERRY] = "sherry", [LB_QM_GPTQ] = "gptq",
};

const char *lb_quant_method_name(lb_quant_method m) { return (unsigned)m < LB_QM_COUNT ? g_method_names[m] : "?"; }

int lb_quant_method_from_name(const char *name) {
    for (int m = 0; m < LB_QM_COUNT; m++) if (name && strcasecmp(name, g_method_names[m]) == 0) return m;
    return -1;
}

void lb_quant_opts_default(lb_quant_opts *o) {
    memset(o, 0, sizeof *o);
    o->scale_group = 0;
    o->gptq_base = LB_QM_RTN;
    o->percdamp = 0.01f;
    o->gptq_block = 128;
}

static bool gptq_type(uint32_t type) {
    return type == LB_TYPE_Q2_K || type == LB_TYPE_Q2_0C || type == LB_TYPE_TQ1_0 ||
           type == LB_TYPE_TQ2_0 || type == LB_TYPE_STQ1_0;
}

bool lb_quant_method_supports(lb_quant_method m, uint32_t type) {
    const lb_type_traits *tt = lb_type_get(type);
    if (!tt) return false;
    if (m == LB_QM_RTN) return tt->from_float != NULL;
    if (m == LB_QM_GPTQ) return gptq_type(type) && tt->from_float != NULL;
    const int g = lb_method_grid(m);
    return g >= 0 && lb_grid_packable((lb_grid)g, type);
}

int lb_quantize_rows(void *dst, const float *w, int64_t nrows, int64_t K, uint32_t type,
                     lb_quant_method method, const float *hessian, const lb_quant_opts *opts,
                     char *err, size_t errlen) {
    lb_quant_opts def;
    if (!opts) { lb_quant_opts_default(&def); opts = &def; }
    const lb_type_traits *tt = lb_type_get(type);
    if (!tt) return lb_qfail(err, errlen, "unknown type %u", type);
    if ((unsigned)method >= LB_QM_COUNT) return lb_qfail(err, errlen, "unknown method %d", (int)method);
    if (nrows < 0 || K <= 0 || K % tt->blck_size)
        return lb_qfail(err, errlen, "rows of %lld weights do not fit %s's block of %lld", (long long)K, tt->name, (long long)tt->blck_size);
    if (!lb_quant_method_supports(method, type))
        return lb_qfail(err, errlen, "method %s cannot produce %s", lb_quant_method_name(method), tt->name);
    if (method == LB_QM_GPTQ) return lb_gptq_quantize(dst, w, nrows, K, type, hessian, opts->gptq_base, opts, err, errlen);

    const size_t row_bytes = lb_row_size(type, K);
    if (method == LB_QM_RTN) {
        #pragma omp parallel for schedule(dynamic, 16)
        for (int64_t r = 0; r < nrows; r++) tt->from_float(w + r * K, (uint8_t *)dst + (size_t)r * row_bytes, K);
        return 0;
    }

    const lb_grid g = (lb_grid)lb_method_grid(method);
    const int64_t group = opts->scale_group > 0 ? opts->scale_group : tt->blck_size;
    if (check_groups(nrows, K, group, g, err, errlen)) return -1;
    if (group % tt->blck_size && tt->blck_size % group)
        return lb_qfail(err, errlen, "scale groups of %lld weights do not tile %s's blocks of %lld", (long long)group, tt->name, (long long)tt->blck_size);
    const int64_t ng = K / group;
    int failed = 0;
    char first_err[256] = "";
    #pragma omp parallel
    {
        int8_t *codes = malloc((size_t)K);
        float *scales = malloc((size_t)ng * sizeof(float));
        char msg[256] = "";
        int bad = !codes || !scales;
        if (bad) snprintf(msg, sizeof msg, "out of memory");
        #pragma omp for schedule(dynamic, 16)
        for (int64_t r = 0; r < nrows; r++) {
            if (bad) continue;
            const float *wr = w + r * K;
            for (int64_t j = 0; j < ng; j++) scales[j] = lb_grid_init_scale(g, wr + j * group, group);
            for (int64_t j = 0; j < ng; j++) lb_grid_apply(codes + j * group, NULL, wr + j * group, group, scales[j], g, LB_GRID_FP16_EXACT);
            if (lb_grid_pack_row((uint8_t *)dst + (size_t)r * row_bytes, type, codes, K, scales, group, g, LB_GRID_FP16_EXACT, msg, sizeof msg))
                bad = 1;
        }
        #pragma omp critical(lb_quantize_rows_err)
        if (bad && !failed) { failed = 1; snprintf(first_err, sizeof first_err, "%s", msg); }
        free(codes);
        free(scales);
    }
    if (failed) return lb_qfail(err, errlen, "%s", first_err);
    return 0;
}
