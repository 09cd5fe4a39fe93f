// test_train_ops.c: every libtrain op against an independent float64 reference.
// For each op: (1) the double reference's analytic backward equals central finite differences
// of its forward (eps 1e-6, every input element) -- that is the backward-vs-FD check in
// float64; (2) the float op's forward and backward equal the double reference within fp32
// tolerance (backward outputs are pre-filled with noise to check that they accumulate).
// Tolerances: FD max|err| <= 1e-6 * max|grad|; float vs double max|err| <= 5e-6 * max|ref|.
#include "test_util.h"
#include "ops.h"
#include <math.h>
#include <stdint.h>

#define FD_EPS 1e-6
#define FD_TOL 1e-6
#define F32_TOL 5e-6

static uint64_t rng_state = 88172645463325252ULL;
static double urand(void) {   // uniform in [-1, 1)
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 4503599627370496.0 - 1.0;
}
static double *drand_array(size_t n, double scale, double offset) {
    double *a = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) a[i] = urand() * scale + offset;
    return a;
}
static float *to_f(const double *a, size_t n) {
    float *f = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) f[i] = (float)a[i];
    return f;
}
static double *zeros(size_t n) { return calloc(n, sizeof(double)); }
static double maxabs(const double *a, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
    return m;
}
static double dot(const double *a, const double *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

// float result vs double reference (+ the noise a backward output was pre-filled with)
static int close_f(const char *what, const float *got, const double *ref, const float *prefill, size_t n) {
    const double scale = fmax(maxabs(ref, n), 1e-12);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        const double want = ref[i] + (prefill ? prefill[i] : 0.0);
        worst = fmax(worst, fabs(got[i] - want));
    }
    printf("  %-28s float vs double: max err %.2e (scale %.2e)\n", what, worst / scale, scale);
    if (!(worst <= F32_TOL * scale)) { fprintf(stderr, "FAIL %s: float vs double rel err %.3e\n", what, worst / scale); return 1; }
    return 0;
}

// central finite differences of loss() w.r.t. every element of x, vs the analytic gradient
typedef double (*loss_fn)(void *ctx);
static int fd_check(const char *what, double *x, size_t n, const double *grad, loss_fn f, void *ctx) {
    const double scale = fmax(maxabs(grad, n), 1e-12);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        const double x0 = x[i];
        x[i] = x0 + FD_EPS; const double lp = f(ctx);
        x[i] = x0 - FD_EPS; const double lm = f(ctx);
        x[i] = x0;
        worst = fmax(worst, fabs((lp - lm) / (2 * FD_EPS) - grad[i]));
    }
    printf("  %-28s backward vs FD:  max err %.2e (scale %.2e)\n", what, worst / scale, scale);
    if (!(worst <= FD_TOL * scale)) { fprintf(stderr, "FAIL %s: FD rel err %.3e\n", what, worst / scale); return 1; }
    return 0;
}

static float *prefill(size_t n) {   // noise a backward output starts from
    float *f = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) f[i] = (float)(0.1 * urand());
    return f;
}
static float *copy_f(const float *a, size_t n) {
    float *f = malloc(n * sizeof(float));
    memcpy(f, a, n * sizeof(float));
    return f;
}

// ----------------------------------------------------------------------------
// rmsnorm

typedef struct { double *x, *w, *g; int N, C; double eps; } rms_ctx;
static void rms_ref(double *out, const double *x, const double *w, int N, int C, double eps) {
    for (int n = 0; n < N; n++) {
        double ss = 0;
        for (int i = 0; i < C; i++) ss += x[n * C + i] * x[n * C + i];
        const double r = 1.0 / sqrt(ss / C + eps);
        for (int i = 0; i < C; i++) out[n * C + i] = x[n * C + i] * r * w[i];
    }
}
static double rms_loss(void *p) {
    rms_ctx *c = p;
    double *o = zeros((size_t)c->N * c->C);
    rms_ref(o, c->x, c->w, c->N, c->C, c->eps);
    const double l = dot(o, c->g, (size_t)c->N * c->C);
    free(o);
    return l;
}
static void rms_ref_backward(double *dx, double *dw, const rms_ctx *c) {
    const int N = c->N, C = c->C;
    for (int n = 0; n < N; n++) {
        const double *x = c->x + n * C, *g = c->g + n * C;
        double ss = 0;
        for (int i = 0; i < C; i++) ss += x[i] * x[i];
        const double r = 1.0 / sqrt(ss / C + c->eps);
        double s = 0;
        for (int i = 0; i < C; i++) s += g[i] * c->w[i] * x[i];
        for (int i = 0; i < C; i++) {
            dx[n * C + i] = g[i] * c->w[i] * r - x[i] * s * r * r * r / C;
            dw[i] += g[i] * x[i] * r;
        }
    }
}
static int test_rmsnorm(void) {
    const int N = 6, C = 16;
    rms_ctx c = {drand_array((size_t)N * C, 1, 0), drand_array(C, 0.5, 1), drand_array((size_t)N * C, 1, 0), N, C, 1e-5};
    double *o = zeros((size_t)N * C), *dx = zeros((size_t)N * C), *dw = zeros(C);
    rms_ref(o, c.x, c.w, N, C, c.eps);
    rms_ref_backward(dx, dw, &c);
    int bad = fd_check("rmsnorm dx", c.x, (size_t)N * C, dx, rms_loss, &c);
    bad |= fd_check("rmsnorm dw", c.w, C, dw, rms_loss, &c);
    float *xf = to_f(c.x, (size_t)N * C), *wf = to_f(c.w, C), *gf = to_f(c.g, (size_t)N * C);
    float *of = malloc((size_t)N * C * 4), *rstd = malloc((size_t)N * 4);
    rmsnorm_forward(of, rstd, xf, wf, N, C, (float)c.eps);
    bad |= close_f("rmsnorm out", of, o, NULL, (size_t)N * C);
    float *p1 = prefill((size_t)N * C), *p2 = prefill(C);
    float *dxf = copy_f(p1, (size_t)N * C), *dwf = copy_f(p2, C);
    rmsnorm_backward(dxf, dwf, gf, xf, wf, rstd, N, C);
    bad |= close_f("rmsnorm dx", dxf, dx, p1, (size_t)N * C);
    bad |= close_f("rmsnorm dw", dwf, dw, p2, C);
    // in place forward (q/k norm use): out == inp
    float *xi = copy_f(xf, (size_t)N * C);
    rmsnorm_forward(xi, rstd, xi, wf, N, C, (float)c.eps);
    bad |= close_f("rmsnorm out (in place)", xi, o, NULL, (size_t)N * C);
    free(c.x); free(c.w); free(c.g); free(o); free(dx); free(dw); free(xf); free(wf); free(gf); free(of);
    free(rstd); free(p1); free(p2); free(dxf); free(dwf); free(xi);
    return bad;
}

// ----------------------------------------------------------------------------
// linear

typedef struct { double *x, *w, *b, *g; int N, IC, OC; } lin_ctx;
static void lin_ref(double *out, const lin_ctx *c) {
    for (int n = 0; n < c->N; n++)
        for (int o = 0; o < c->OC; o++) {
            double s = c->b ? c->b[o] : 0;
            for (int i = 0; i < c->IC; i++) s += c->x[n * c->IC + i] * c->w[o * c->IC + i];
            out[n * c->OC + o] = s;
        }
}
static double lin_loss(void *p) {
    lin_ctx *c = p;
    double *o = zeros((size_t)c->N * c->OC);
    lin_ref(o, c);
    const double l = dot(o, c->g, (size_t)c->N * c->OC);
    free(o);
    return l;
}
static int test_linear(int with_bias) {
    const int N = 5, IC = 7, OC = 6;
    lin_ctx c = {drand_array((size_t)N * IC, 1, 0), drand_array((size_t)OC * IC, 1, 0),
                 with_bias ? drand_array(OC, 1, 0) : NULL, drand_array((size_t)N * OC, 1, 0), N, IC, OC};
    double *o = zeros((size_t)N * OC), *dx = zeros((size_t)N * IC), *dw = zeros((size_t)OC * IC), *db = zeros(OC);
    lin_ref(o, &c);
    for (int n = 0; n < N; n++)
        for (int oc = 0; oc < OC; oc++) {
            const double g = c.g[n * OC + oc];
            db[oc] += g;
            for (int i = 0; i < IC; i++) { dx[n * IC + i] += g * c.w[oc * IC + i]; dw[oc * IC + i] += g * c.x[n * IC + i]; }
        }
    int bad = fd_check("linear dx", c.x, (size_t)N * IC, dx, lin_loss, &c);
    bad |= fd_check("linear dw", c.w, (size_t)OC * IC, dw, lin_loss, &c);
    if (with_bias) bad |= fd_check("linear db", c.b, OC, db, lin_loss, &c);
    float *xf = to_f(c.x, (size_t)N * IC), *wf = to_f(c.w, (size_t)OC * IC), *bf = with_bias ? to_f(c.b, OC) : NULL;
    float *gf = to_f(c.g, (size_t)N * OC), *of = malloc((size_t)N * OC * 4);
    linear_forward(of, xf, wf, NULL, bf, N, IC, OC);
    bad |= close_f(with_bias ? "linear out (bias)" : "linear out", of, o, NULL, (size_t)N * OC);
    float *p1 = prefill((size_t)N * IC), *p2 = prefill((size_t)OC * IC), *p3 = prefill(OC);
    float *dxf = copy_f(p1, (size_t)N * IC), *dwf = copy_f(p2, (size_t)OC * IC), *dbf = copy_f(p3, OC);
    linear_backward(dxf, dwf, with_bias ? dbf : NULL, gf, xf, wf, NULL, N, IC, OC);
    bad |= close_f("linear dx", dxf, dx, p1, (size_t)N * IC);
    bad |= close_f("linear dw", dwf, dw, p2, (size_t)OC * IC);
    if (with_bias) bad |= close_f("linear db", dbf, db, p3, OC);
    free(c.x); free(c.w); free(c.b); free(c.g); free(o); free(dx); free(dw); free(db); free(xf); free(wf); free(bf);
    free(gf); free(of); free(p1); free(p2); free(p3); free(dxf); free(dwf); free(dbf);
    return bad;
}

// big enough for the per-thread slicing path (N*IC*OC >= 4e6) and odd sizes so the slices
// are ragged: float vs the double reference only (FD over 10^5 inputs would take too long;
// the small case above checks the same math against FD)
static int test_linear_big(void) {
    const int N = 40, IC = 97, OC = 1203;
    lin_ctx c = {drand_array((size_t)N * IC, 1, 0), drand_array((size_t)OC * IC, 1, 0), drand_array(OC, 1, 0),
                 drand_array((size_t)N * OC, 1, 0), N, IC, OC};
    double *o = zeros((size_t)N * OC), *dx = zeros((size_t)N * IC), *dw = zeros((size_t)OC * IC), *db = zeros(OC);
    lin_ref(o, &c);
    for (int n = 0; n < N; n++)
        for (int oc = 0; oc < OC; oc++) {
            const double g = c.g[n * OC + oc];
            db[oc] += g;
            for (int i = 0; i < IC; i++) { dx[n * IC + i] += g * c.w[oc * IC + i]; dw[oc * IC + i] += g * c.x[n * IC + i]; }
        }
    float *xf = to_f(c.x, (size_t)N * IC), *wf = to_f(c.w, (size_t)OC * IC), *bf = to_f(c.b, OC);
    float *gf = to_f(c.g, (size_t)N * OC), *of = malloc((size_t)N * OC * 4);
    linear_forward(of, xf, wf, NULL, bf, N, IC, OC);
    int bad = close_f("linear big out", of, o, NULL, (size_t)N * OC);
    float *p1 = prefill((size_t)N * IC), *p2 = prefill((size_t)OC * IC), *p3 = prefill(OC);
    float *dxf = copy_f(p1, (size_t)N * IC), *dwf = copy_f(p2, (size_t)OC * IC), *dbf = copy_f(p3, OC);
    linear_backward(dxf, dwf, dbf, gf, xf, wf, NULL, N, IC, OC);
    bad |= close_f("linear big dx", dxf, dx, p1, (size_t)N * IC);
    bad |= close_f("linear big dw", dwf, dw, p2, (size_t)OC * IC);
    bad |= close_f("linear big db", dbf, db, p3, OC);
    free(c.x); free(c.w); free(c.b); free(c.g); free(o); free(dx); free(dw); free(db); free(xf); free(wf); free(bf);
    free(gf); free(of); free(p1); free(p2); free(p3); free(dxf); free(dwf); free(dbf);
    return bad;
}

// ----------------------------------------------------------------------------
// rope: angles in double, theta_i = t * base^(-2i/HD)

typedef struct { double *x, *g; int B, T, NH, HD, style; double base; } rope_ctx;
static void rope_ref(double *out, const double *x, const rope_ctx *c, double sign) {
    const int half = c->HD / 2;
    for (int b = 0; b < c->B; b++)
        for (int t = 0; t < c->T; t++)
            for (int h = 0; h < c->NH; h++) {
                const size_t off = (((size_t)b * c->T + t) * c->NH + h) * c->HD;
                for (int i = 0; i < half; i++) {
                    const double th = t * pow(c->base, -2.0 * i / c->HD);
                    const int ia = c->style ? i : 2 * i, ib = c->style ? i + half : 2 * i + 1;
                    const double x0 = x[off + ia], x1 = x[off + ib], co = cos(th), si = sign * sin(th);
                    out[off + ia] = x0 * co - x1 * si;
                    out[off + ib] = x0 * si + x1 * co;
                }
            }
}
static double rope_loss(void *p) {
    rope_ctx *c = p;
    const size_t n = (size_t)c->B * c->T * c->NH * c->HD;
    double *o = zeros(n);
    rope_ref(o, c->x, c, 1.0);
    const double l = dot(o, c->g, n);
    free(o);
    return l;
}
static int test_rope(int style) {
    rope_ctx c = {NULL, NULL, 2, 7, 3, 8, style, 10000.0};
    const size_t n = (size_t)c.B * c.T * c.NH * c.HD;
    c.x = drand_array(n, 1, 0); c.g = drand_array(n, 1, 0);
    double *o = zeros(n), *dx = zeros(n);
    rope_ref(o, c.x, &c, 1.0);
    rope_ref(dx, c.g, &c, -1.0);   // the transpose of a rotation rotates back
    int bad = fd_check(style ? "rope neox dx" : "rope adjacent dx", c.x, n, dx, rope_loss, &c);
    float *cs = malloc((size_t)c.T * c.HD * 4);
    rope_table(cs, c.T, c.HD, (float)c.base);
    float *xf = to_f(c.x, n), *gf = to_f(c.g, n), *of = malloc(n * 4);
    rope_forward(of, xf, cs, c.B, c.T, c.NH, c.HD, style);
    bad |= close_f(style ? "rope neox out" : "rope adjacent out", of, o, NULL, n);
    rope_forward(xf, xf, cs, c.B, c.T, c.NH, c.HD, style);   // in place gives the same
    bad |= close_f("rope out (in place)", xf, o, NULL, n);
    float *p = prefill(n), *dxf = copy_f(p, n);
    rope_backward(dxf, gf, cs, c.B, c.T, c.NH, c.HD, style);
    bad |= close_f(style ? "rope neox dx" : "rope adjacent dx", dxf, dx, p, n);
    free(c.x); free(c.g); free(o); free(dx); free(cs); free(xf); free(gf); free(of); free(p); free(dxf);
    return bad;
}

// ----------------------------------------------------------------------------
// causal GQA attention

typedef struct { double *q, *k, *v, *g; int B, T, NH, NKV, HD; } att_ctx;
static void att_ref(double *out, double *P, const att_ctx *c) {   // P is (B,NH,T,T)
    const int qd = c->NH * c->HD, kvd = c->NKV * c->HD, T = c->T, HD = c->HD;
    for (int b = 0; b < c->B; b++)
        for (int h = 0; h < c->NH; h++) {
            const int kh = h / (c->NH / c->NKV);
            double *p = P + ((size_t)b * c->NH + h) * T * T;
            for (int t = 0; t < T; t++) {
                double mx = -1e300;
                for (int j = 0; j <= t; j++) {
                    double s = 0;
                    for (int d = 0; d < HD; d++) s += c->q[(b * T + t) * qd + h * HD + d] * c->k[(b * T + j) * kvd + kh * HD + d];
                    p[t * T + j] = s / sqrt((double)HD);
                    mx = fmax(mx, p[t * T + j]);
                }
                double sum = 0;
                for (int j = 0; j <= t; j++) { p[t * T + j] = exp(p[t * T + j] - mx); sum += p[t * T + j]; }
                for (int j = 0; j < T; j++) p[t * T + j] = j <= t ? p[t * T + j] / sum : 0;
                for (int d = 0; d < HD; d++) {
                    double s = 0;
                    for (int j = 0; j <= t; j++) s += p[t * T + j] * c->v[(b * T + j) * kvd + kh * HD + d];
                    out[(b * T + t) * qd + h * HD + d] = s;
                }
            }
        }
}
static double att_loss(void *p) {
    att_ctx *c = p;
    const size_t n = (size_t)c->B * c->T * c->NH * c->HD;
    double *o = zeros(n), *P = zeros((size_t)c->B * c->NH * c->T * c->T);
    att_ref(o, P, c);
    const double l = dot(o, c->g, n);
    free(o); free(P);
    return l;
}
static void att_ref_backward(double *dq, double *dk, double *dv, const double *P, const att_ctx *c) {
    const int qd = c->NH * c->HD, kvd = c->NKV * c->HD, T = c->T, HD = c->HD;
    const double sc = 1.0 / sqrt((double)HD);
    double *dp = zeros((size_t)T);
    for (int b = 0; b < c->B; b++)
        for (int h = 0; h < c->NH; h++) {
            const int kh = h / (c->NH / c->NKV);
            const double *p = P + ((size_t)b * c->NH + h) * T * T;
            for (int t = 0; t < T; t++) {
                const double *g = c->g + (b * T + t) * qd + h * HD;
                double s = 0;
                for (int j = 0; j <= t; j++) {
                    dp[j] = 0;
                    for (int d = 0; d < HD; d++) {
                        dp[j] += g[d] * c->v[(b * T + j) * kvd + kh * HD + d];
                        dv[(b * T + j) * kvd + kh * HD + d] += p[t * T + j] * g[d];
                    }
                    s += p[t * T + j] * dp[j];
                }
                for (int j = 0; j <= t; j++) {
                    const double ds = p[t * T + j] * (dp[j] - s) * sc;
                    for (int d = 0; d < HD; d++) {
                        dq[(b * T + t) * qd + h * HD + d] += ds * c->k[(b * T + j) * kvd + kh * HD + d];
                        dk[(b * T + j) * kvd + kh * HD + d] += ds * c->q[(b * T + t) * qd + h * HD + d];
                    }
                }
            }
        }
    free(dp);
}
static int test_attention(int NH, int NKV) {
    att_ctx c = {NULL, NULL, NULL, NULL, 2, 5, NH, NKV, 4};
    const size_t nq = (size_t)c.B * c.T * NH * c.HD, nk = (size_t)c.B * c.T * NKV * c.HD;
    const size_t np = (size_t)c.B * NH * c.T * c.T;
    c.q = drand_array(nq, 1.5, 0); c.k = drand_array(nk, 1.5, 0); c.v = drand_array(nk, 1, 0); c.g = drand_array(nq, 1, 0);
    double *o = zeros(nq), *P = zeros(np), *dq = zeros(nq), *dk = zeros(nk), *dv = zeros(nk);
    att_ref(o, P, &c);
    att_ref_backward(dq, dk, dv, P, &c);
    char name[64];
    snprintf(name, sizeof name, "attention %d/%d dq", NH, NKV);
    int bad = fd_check(name, c.q, nq, dq, att_loss, &c);
    bad |= fd_check("attention dk", c.k, nk, dk, att_loss, &c);
    bad |= fd_check("attention dv", c.v, nk, dv, att_loss, &c);
    float *qf = to_f(c.q, nq), *kf = to_f(c.k, nk), *vf = to_f(c.v, nk), *gf = to_f(c.g, nq);
    float *of = malloc(nq * 4), *Pf = malloc(np * 4);
    attention_forward(of, Pf, qf, kf, vf, c.B, c.T, NH, NKV, c.HD);
    bad |= close_f("attention out", of, o, NULL, nq);
    bad |= close_f("attention probs", Pf, P, NULL, np);
    float *p1 = prefill(nq), *p2 = prefill(nk), *p3 = prefill(nk);
    float *dqf = copy_f(p1, nq), *dkf = copy_f(p2, nk), *dvf = copy_f(p3, nk);
    CHECK(attention_backward(dqf, dkf, dvf, gf, qf, kf, vf, Pf, c.B, c.T, NH, NKV, c.HD) == 0, "attention_backward failed");
    bad |= close_f("attention dq", dqf, dq, p1, nq);
    bad |= close_f("attention dk", dkf, dk, p2, nk);
    bad |= close_f("attention dv", dvf, dv, p3, nk);
    free(c.q); free(c.k); free(c.v); free(c.g); free(o); free(P); free(dq); free(dk); free(dv);
    free(qf); free(kf); free(vf); free(gf); free(of); free(Pf); free(p1); free(p2); free(p3); free(dqf); free(dkf); free(dvf);
    return bad;
}

// ----------------------------------------------------------------------------
// swiglu, residual

typedef struct { double *a, *b, *g; size_t n; int kind; } ew_ctx;   // kind 0 swiglu, 1 residual
static double ew_loss(void *p) {
    ew_ctx *c = p;
    double l = 0;
    for (size_t i = 0; i < c->n; i++) {
        const double y = c->kind == 0 ? c->a[i] / (1 + exp(-c->a[i])) * c->b[i] : c->a[i] + c->b[i];
        l += y * c->g[i];
    }
    return l;
}
static int test_elementwise(int kind) {
    const size_t n = 40;
    ew_ctx c = {drand_array(n, 4, 0), drand_array(n, 2, 0), drand_array(n, 1, 0), n, kind};
    double *o = zeros(n), *da = zeros(n), *db = zeros(n);
    for (size_t i = 0; i < n; i++) {
        const double s = 1 / (1 + exp(-c.a[i]));
        if (kind == 0) {
            o[i] = c.a[i] * s * c.b[i];
            da[i] = c.g[i] * c.b[i] * (s + c.a[i] * s * (1 - s));
            db[i] = c.g[i] * c.a[i] * s;
        } else {
            o[i] = c.a[i] + c.b[i];
            da[i] = db[i] = c.g[i];
        }
    }
    const char *nm = kind == 0 ? "swiglu" : "residual";
    char n1[64], n2[64];
    snprintf(n1, sizeof n1, "%s da", nm); snprintf(n2, sizeof n2, "%s db", nm);
    int bad = fd_check(n1, c.a, n, da, ew_loss, &c);
    bad |= fd_check(n2, c.b, n, db, ew_loss, &c);
    float *af = to_f(c.a, n), *bf = to_f(c.b, n), *gf = to_f(c.g, n), *of = malloc(n * 4);
    float *p1 = prefill(n), *p2 = prefill(n), *daf = copy_f(p1, n), *dbf = copy_f(p2, n);
    if (kind == 0) { swiglu_forward(of, af, bf, n); swiglu_backward(daf, dbf, gf, af, bf, n); }
    else { residual_forward(of, af, bf, n); residual_backward(daf, dbf, gf, n); }
    bad |= close_f(nm, of, o, NULL, n);
    bad |= close_f(n1, daf, da, p1, n);
    bad |= close_f(n2, dbf, db, p2, n);
    free(c.a); free(c.b); free(c.g); free(o); free(da); free(db); free(af); free(bf); free(gf); free(of);
    free(p1); free(p2); free(daf); free(dbf);
    return bad;
}

// ----------------------------------------------------------------------------
// encoder

typedef struct { double *wte, *g; const int32_t *tok; int N, C; } enc_ctx;
static double enc_loss(void *p) {
    enc_ctx *c = p;
    double l = 0;
    for (int n = 0; n < c->N; n++)
        for (int i = 0; i < c->C; i++) l += c->wte[c->tok[n] * c->C + i] * c->g[n * c->C + i];
    return l;
}
static int test_encoder(void) {
    const int V = 5, C = 6, N = 7;
    const int32_t tok[7] = {3, 0, 3, 4, 1, 3, 0};   // repeats: gradients must add up
    enc_ctx c = {drand_array((size_t)V * C, 1, 0), drand_array((size_t)N * C, 1, 0), tok, N, C};
    double *o = zeros((size_t)N * C), *dw = zeros((size_t)V * C);
    for (int n = 0; n < N; n++)
        for (int i = 0; i < C; i++) { o[n * C + i] = c.wte[tok[n] * C + i]; dw[tok[n] * C + i] += c.g[n * C + i]; }
    int bad = fd_check("encoder dwte", c.wte, (size_t)V * C, dw, enc_loss, &c);
    float *wf = to_f(c.wte, (size_t)V * C), *gf = to_f(c.g, (size_t)N * C), *of = malloc((size_t)N * C * 4);
    encoder_forward(of, tok, wf, N, C);
    bad |= close_f("encoder out", of, o, NULL, (size_t)N * C);
    float *p = prefill((size_t)V * C), *dwf = copy_f(p, (size_t)V * C);
    encoder_backward(dwf, gf, tok, N, C);
    bad |= close_f("encoder dwte", dwf, dw, p, (size_t)V * C);
    free(c.wte); free(c.g); free(o); free(dw); free(wf); free(gf); free(of); free(p); free(dwf);
    return bad;
}

// ----------------------------------------------------------------------------
// cross-entropy (mean over counted positions; target -1 is ignored)

typedef struct { double *x; const int32_t *tg; int N, V; } ce_ctx;
static double ce_loss(void *p) {
    ce_ctx *c = p;
    double total = 0;
    int cnt = 0;
    for (int n = 0; n < c->N; n++) {
        if (c->tg[n] < 0) continue;
        double mx = -1e300, s = 0;
        for (int i = 0; i < c->V; i++) mx = fmax(mx, c->x[n * c->V + i]);
        for (int i = 0; i < c->V; i++) s += exp(c->x[n * c->V + i] - mx);
        total += log(s) + mx - c->x[n * c->V + c->tg[n]];
        cnt++;
    }
    return total / cnt;
}
static int test_crossentropy(void) {
    const int N = 6, V = 9;
    const int32_t tg[6] = {2, 8, -1, 0, 2, 5};
    ce_ctx c = {drand_array((size_t)N * V, 3, 0), tg, N, V};
    double *dx = zeros((size_t)N * V);
    for (int n = 0; n < N; n++) {
        if (tg[n] < 0) continue;
        double mx = -1e300, s = 0;
        for (int i = 0; i < V; i++) mx = fmax(mx, c.x[n * V + i]);
        for (int i = 0; i < V; i++) s += exp(c.x[n * V + i] - mx);
        for (int i = 0; i < V; i++) dx[n * V + i] = (exp(c.x[n * V + i] - mx) / s - (i == tg[n])) / 5.0;   // 5 counted
    }
    int bad = fd_check("crossentropy dlogits", c.x, (size_t)N * V, dx, ce_loss, &c);
    const double want = ce_loss(&c);
    float *xf = to_f(c.x, (size_t)N * V), *probs = malloc((size_t)N * V * 4), *losses = malloc((size_t)N * 4);
    const float got = crossentropy_forward(probs, losses, xf, tg, N, V);
    printf("  %-28s float vs double: %.8f vs %.8f\n", "crossentropy loss", got, want);
    CHECK(fabs(got - want) <= 1e-6 * fabs(want), "crossentropy loss %.8f, want %.8f", got, want);
    CHECK(losses[2] == 0.0f, "ignored position has loss %g", losses[2]);
    float *p = prefill((size_t)N * V), *dxf = copy_f(p, (size_t)N * V);
    crossentropy_backward(dxf, probs, tg, 1.0f, N, V);
    bad |= close_f("crossentropy dlogits", dxf, dx, p, (size_t)N * V);
    // in place over the logits buffer: probs, then dlogits, overwrite (no accumulation)
    const float got_inplace = crossentropy_forward(xf, losses, xf, tg, N, V);
    CHECK(fabs(got_inplace - want) <= 1e-6 * fabs(want), "in-place crossentropy loss %.8f, want %.8f", got_inplace, want);
    crossentropy_backward(xf, xf, tg, 1.0f, N, V);
    bad |= close_f("crossentropy (in place)", xf, dx, NULL, (size_t)N * V);
    free(c.x); free(dx); free(xf); free(probs); free(losses); free(p); free(dxf);
    return bad;
}

// rope_table equals the double angles (the float recurrence drifts by a few ulps only)
static int test_rope_table(void) {
    const int T = 64, HD = 16;
    float *cs = malloc((size_t)T * HD * 4);
    rope_table(cs, T, HD, 10000.0f);
    double worst = 0;
    for (int t = 0; t < T; t++)
        for (int i = 0; i < HD / 2; i++) {
            const double th = t * pow(10000.0, -2.0 * i / HD);
            worst = fmax(worst, fabs(cs[t * HD + 2 * i] - cos(th)));
            worst = fmax(worst, fabs(cs[t * HD + 2 * i + 1] - sin(th)));
        }
    free(cs);
    printf("  %-28s max |err| %.2e\n", "rope_table vs double", worst);
    CHECK(worst < 2e-5, "rope table error %g", worst);
    return 0;
}

int main(void) {
    int bad = 0;
    bad |= test_encoder();
    bad |= test_rmsnorm();
    bad |= test_linear(0);
    bad |= test_linear(1);
    bad |= test_linear_big();
    bad |= test_rope_table();
    bad |= test_rope(0);
    bad |= test_rope(1);
    bad |= test_attention(4, 2);   // GQA
    bad |= test_attention(2, 2);   // MHA
    bad |= test_attention(3, 1);   // MQA
    bad |= test_elementwise(0);
    bad |= test_elementwise(1);
    bad |= test_crossentropy();
    printf(bad ? "train ops: FAILED\n" : "train ops: all passed\n");
    return bad ? 1 : 0;
}
