// optim.c: AdamW, gradient clipping/scaling and the training guard (see optim.h).
#include "optim.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// --- AdamW -------------------------------------------------------------------------------------

void lb_adamw_init(lb_adamw *opt) {
    memset(opt, 0, sizeof *opt);
    opt->beta1 = 0.9f;
    opt->beta2 = 0.95f;
    opt->eps = 1e-8f;
    for (int g = 0; g < LB_ADAMW_MAX_GROUPS; g++) opt->groups[g] = (lb_adamw_group){ 3e-4f, 0.0f };
    opt->groups[LB_GROUP_WEIGHTS].weight_decay = 0.1f;
}

int lb_adamw_set_group(lb_adamw *opt, int group, float lr, float weight_decay) {
    if (group < 0 || group >= LB_ADAMW_MAX_GROUPS || !(lr >= 0) || !(weight_decay >= 0)) return -1;
    opt->groups[group] = (lb_adamw_group){ lr, weight_decay };
    return 0;
}

int lb_adamw_add(lb_adamw *opt, float *param, float *grad, int64_t n, int group, char *err, size_t errlen) {
    if (group < 0 || group >= LB_ADAMW_MAX_GROUPS || n <= 0 || !param || !grad || opt->state) {
        if (err && errlen) snprintf(err, errlen, "adamw: bad tensor registration (group %d, n %lld%s)",
                                    group, (long long)n, opt->state ? ", state already built" : "");
        return -1;
    }
    if (opt->ntensors == opt->cap) {
        const int cap = opt->cap ? 2 * opt->cap : 16;
        lb_adamw_tensor *t = realloc(opt->tensors, (size_t)cap * sizeof *t);
        if (!t) {
            if (err && errlen) snprintf(err, errlen, "adamw: out of memory");
            return -1;
        }
        opt->tensors = t;
        opt->cap = cap;
    }
    opt->tensors[opt->ntensors++] = (lb_adamw_tensor){ param, grad, n, group, opt->nparams };
    opt->nparams += n;
    return 0;
}

int build_adamw_state(lb_adamw *opt, char *err, size_t errlen) {
    if (opt->nparams <= 0 || (uint64_t)opt->nparams > SIZE_MAX / (2 * sizeof(float))) {
        if (err && errlen) snprintf(err, errlen, "adamw: no parameters registered");
        return -1;
    }
    opt->state = calloc((size_t)(2 * opt->nparams), sizeof(float));
    if (!opt->state) {
        if (err && errlen) snprintf(err, errlen, "adamw: cannot allocate %lld moments", (long long)(2 * opt->nparams));
        return -1;
    }
    opt->t = 0;
    return 0;
}

void free_adamw(lb_adamw *opt) {
    free(opt->tensors);
    free(opt->state);
    opt->tensors = NULL;
    opt->state = NULL;
    opt->ntensors = opt->cap = 0;
    opt->nparams = 0;
}

// one chunk of the update, scalar (any CPU)
static void adamw_chunk_scalar(float *param, float *m, float *v, const float *grad, int64_t n, float beta1,
                               float beta2, float eps, float step_size, float decay, float sqrt_bc2) {
    for (int64_t i = 0; i < n; i++) {
        const float g = grad[i];
        const float mi = beta1 * m[i] + (1.0f - beta1) * g;
        const float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] = param[i] * decay - step_size * mi / (sqrtf(vi) / sqrt_bc2 + eps);
    }
}

// The same with AVX-512, chosen at run time. Written with intrinsics because the compiler will not
// vectorize sqrtf without -fno-math-errno (which the build does not set). Same operations in the
// same order as the scalar form, no fused multiply-add, a masked tail: the values are the scalar
// path's bit for bit, so the choice of path never changes a result.
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define ADAMW_HAVE_AVX512 1
// (GCC treats these intrinsics as plain vector arithmetic and would fuse mul+add into an FMA:
// contraction is switched off for this function)
__attribute__((target("avx512f"), optimize("fp-contract=off"))) static void adamw_chunk_avx512(float *param, float *m, float *v, const float *grad,
                                                                  int64_t n, float beta1, float beta2, float eps,
                                                                  float step_size, float decay, float sqrt_bc2) {
    const __m512 b1 = _mm512_set1_ps(beta1), c1 = _mm512_set1_ps(1.0f - beta1);
    const __m512 b2 = _mm512_set1_ps(beta2), c2 = _mm512_set1_ps(1.0f - beta2);
    const __m512 ep = _mm512_set1_ps(eps), ss = _mm512_set1_ps(step_size), dc = _mm512_set1_ps(decay);
    const __m512 sb = _mm512_set1_ps(sqrt_bc2);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 k = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1u);
        const __m512 g = _mm512_maskz_loadu_ps(k, grad + i);
        const __m512 mi = _mm512_add_ps(_mm512_mul_ps(b1, _mm512_maskz_loadu_ps(k, m + i)), _mm512_mul_ps(c1, g));
        const __m512 vi = _mm512_add_ps(_mm512_mul_ps(b2, _mm512_maskz_loadu_ps(k, v + i)),
                                        _mm512_mul_ps(_mm512_mul_ps(c2, g), g));
        _mm512_mask_storeu_ps(m + i, k, mi);
        _mm512_mask_storeu_ps(v + i, k, vi);
        const __m512 den = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(vi), sb), ep);
        const __m512 p = _mm512_sub_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(k, param + i), dc),
                                       _mm512_div_ps(_mm512_mul_ps(ss, mi), den));
        _mm512_mask_storeu_ps(param + i, k, p);
    }
}
#endif

#define ADAMW_CHUNK 16384

void lb_adamw_update(float *param, float *m, float *v, const float *grad, int64_t n,
                     float lr, float beta1, float beta2, float eps, float weight_decay, int64_t t) {
    // bias corrections in double: beta^t for large t underflows gracefully to 0
    const float bc1 = (float)(1.0 - pow((double)beta1, (double)t));
    const float sqrt_bc2 = (float)sqrt(1.0 - pow((double)beta2, (double)t));
    const float step_size = lr / bc1;
    const float decay = 1.0f - lr * weight_decay;
    void (*chunk)(float *, float *, float *, const float *, int64_t, float, float, float, float, float, float) =
        adamw_chunk_scalar;
#ifdef ADAMW_HAVE_AVX512
    if (__builtin_cpu_supports("avx512f")) chunk = adamw_chunk_avx512;
#endif
    const int64_t chunks = (n + ADAMW_CHUNK - 1) / ADAMW_CHUNK;
    #pragma omp parallel for schedule(static) if (n >= 65536)
    for (int64_t c = 0; c < chunks; c++) {
        const int64_t lo = c * ADAMW_CHUNK, len = n - lo < ADAMW_CHUNK ? n - lo : ADAMW_CHUNK;
        chunk(param + lo, m + lo, v + lo, grad + lo, len, beta1, beta2, eps, step_size, decay, sqrt_bc2);
    }
}

void lb_adamw_step(lb_adamw *opt, float lr_factor) {
    if (!opt->state) return;
    opt->t++;
    float *m = opt->state, *v = opt->state + opt->nparams;
    for (int i = 0; i < opt->ntensors; i++) {
        const lb_adamw_tensor *T = &opt->tensors[i];
        const lb_adamw_group *G = &opt->groups[T->group];
        lb_adamw_update(T->param, m + T->offset, v + T->offset, T->grad, T->n,
                        G->lr * lr_factor, opt->beta1, opt->beta2, opt->eps, G->weight_decay, opt->t);
    }
}

// --- gradients ---------------------------------------------------------------------------------

float lb_grad_global_norm(const lb_adamw *opt) {
    double ss = 0.0;
    for (int i = 0; i < opt->ntensors; i++) {
        const float *g = opt->tensors[i].grad;
        for (int64_t k = 0; k < opt->tensors[i].n; k++) ss += (double)g[k] * (double)g[k];
    }
    return (float)sqrt(ss);
}

void lb_grad_scale(lb_adamw *opt, float s) {
    for (int i = 0; i < opt->ntensors; i++) {
        float *g = opt->tensors[i].grad;
        const int64_t n = opt->tensors[i].n;
        #pragma omp parallel for schedule(static)
        for (int64_t k = 0; k < n; k++) g[k] *= s;
    }
}

void lb_grad_zero(lb_adamw *opt) {
    for (int i = 0; i < opt->ntensors; i++) memset(opt->tensors[i].grad, 0, (size_t)opt->tensors[i].n * sizeof(float));
}

float lb_grad_clip(lb_adamw *opt, float max_norm) {
    const float norm = lb_grad_global_norm(opt);
    if (max_norm > 0 && isfinite(norm) && norm > max_norm) lb_grad_scale(opt, max_norm / (norm + 1e-6f));
    return norm;
}

// --- guard -------------------------------------------------------------------------------------

void lb_guard_init(lb_guard *g, float spike_factor, int64_t warmup) {
    memset(g, 0, sizeof *g);
    g->spike_factor = spike_factor;
    g->ema_decay = 0.95f;
    g->warmup = warmup;
}

const char *lb_guard_check(lb_guard *g, int64_t step, float loss, float grad_norm) {
    if (!isfinite(loss)) {
        snprintf(g->reason, sizeof g->reason, "loss is %s at step %lld", isnan(loss) ? "nan" : "inf", (long long)step);
        return g->reason;
    }
    if (!isfinite(grad_norm)) {
        snprintf(g->reason, sizeof g->reason, "gradient norm is %s at step %lld (loss %.4g)",
                 isnan(grad_norm) ? "nan" : "inf", (long long)step, (double)loss);
        return g->reason;
    }
    if (g->spike_factor > 0 && g->seen >= g->warmup && g->seen > 0 && loss > g->spike_factor * g->ema) {
        snprintf(g->reason, sizeof g->reason, "loss spike at step %lld: %.4g > %g x running mean %.4g",
                 (long long)step, (double)loss, (double)g->spike_factor, g->ema);
        return g->reason;
    }
    // EMA seeded with the first finite loss (no pull toward 0 early on)
    g->seen++;
    if (g->seen == 1) g->ema = loss;
    else g->ema = g->ema_decay * g->ema + (1.0 - g->ema_decay) * (double)loss;
    g->reason[0] = 0;
    return NULL;
}
