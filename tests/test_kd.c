// test_kd.c: the distillation losses (libtrain/op_kd.c) against an independent float64
// reference. The reference builds p = softmax(z) explicitly, writes each loss from its
// definition, and gets the gradient through the softmax Jacobian (dz_k = p_k (g_k - sum g_i p_i)
// with g = dL/dp) -- a different route from the op's closed forms.
// For every loss: (1) the reference's gradient equals central finite differences of its loss
// (float64, every logit); (2) the float op's forward and backward equal the reference within
// fp32 tolerance (backward outputs pre-filled with noise: they must accumulate).
// Hand-checked identities: KL(p||p) = 0; forward KL with a one-hot-like teacher = CE; top-K with
// K = V = full forward KL; sampled with ids 0..V-1, w = q = forward KL + H(q).
#include "test_util.h"
#include "kd.h"
#include "ops.h"
#include <math.h>
#include <stdint.h>

#define FD_EPS 1e-6
#define FD_TOL 1e-6
#define F32_TOL 2e-5

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static double urand(void) {   // uniform in [-1, 1)
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 4503599627370496.0 - 1.0;
}
static double maxabs(const double *a, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
    return m;
}
static float *to_f(const double *a, size_t n) {
    float *f = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) f[i] = (float)a[i];
    return f;
}

// --- float64 reference ---------------------------------------------------------------------

enum { R_FWD, R_REV, R_CAKLD, R_TOPK, R_SAMPLED };
typedef struct {
    int kind;
    double *x;              // (N,V) student logits (perturbed by the FD check)
    const double *xt;       // (N,V) teacher logits (full kinds)
    const int32_t *labels;  // (N) CAKLD
    const uint8_t *mask;    // (N) or NULL
    const int32_t *ids;     // (N,K) top-K / sampled
    const double *aux;      // (N,K) teacher logits (top-K) or weights (sampled)
    double T;
    int t2, N, V, K;
} ref_case;

static void softmax_d(double *p, const double *z, int n) {
    double m = -INFINITY, s = 0;
    for (int i = 0; i < n; i++) m = fmax(m, z[i]);
    for (int i = 0; i < n; i++) { p[i] = exp(z[i] - m); s += p[i]; }
    for (int i = 0; i < n; i++) p[i] /= s;
}

// one row's loss; g (length of the softmax) receives dL/dp when wanted
static double ref_row(const ref_case *c, int n, const double *p, const double *q, double *g, int len) {
    double L = 0;
    if (c->kind == R_SAMPLED) {
        for (int j = 0; j < c->K; j++) {
            const int id = c->ids[n * c->K + j];
            if (id < 0) continue;
            L -= c->aux[n * c->K + j] * log(p[id]);
            if (g) g[id] -= c->aux[n * c->K + j] / p[id];
        }
        return L;
    }
    double conf = 0;   // weight of KL(p||q)
    if (c->kind == R_REV) conf = 1;
    if (c->kind == R_CAKLD) conf = q[c->labels[n]];
    for (int i = 0; i < len; i++) {
        L += (1 - conf) * q[i] * log(q[i] / p[i]) + conf * p[i] * log(p[i] / q[i]);
        if (g) g[i] = -(1 - conf) * q[i] / p[i] + conf * (log(p[i] / q[i]) + 1);
    }
    return L;
}

// mean loss over counted positions; grad (N,V) = d(mean)/dx when non-NULL
static double ref_loss(const ref_case *c, double *grad) {
    const int N = c->N, V = c->V, K = c->K;
    double *z = malloc(V * sizeof(double)), *zt = malloc(V * sizeof(double));
    double *p = malloc(V * sizeof(double)), *q = malloc(V * sizeof(double)), *g = malloc(V * sizeof(double));
    const double s2 = c->t2 ? c->T * c->T : 1.0;
    double total = 0;
    int counted = 0;
    if (grad) for (int i = 0; i < N * V; i++) grad[i] = 0;
    for (int n = 0; n < N; n++) {
        if (c->mask && !c->mask[n]) continue;
        if (c->kind == R_CAKLD && c->labels[n] < 0) continue;
        counted++;
    }
    for (int n = 0; n < N; n++) {
        if (c->mask && !c->mask[n]) continue;
        if (c->kind == R_CAKLD && c->labels[n] < 0) continue;
        int len = V;
        if (c->kind == R_TOPK) {   // both sides restricted to the teacher's K ids
            len = 0;
            for (int j = 0; j < K; j++) {
                const int id = c->ids[n * K + j];
                if (id < 0) continue;
                z[len] = c->x[n * V + id] / c->T; zt[len] = c->aux[n * K + j] / c->T; len++;
            }
        } else {
            for (int i = 0; i < V; i++) z[i] = c->x[n * V + i] / c->T;
            if (c->xt) for (int i = 0; i < V; i++) zt[i] = c->xt[n * V + i] / c->T;
        }
        softmax_d(p, z, len);
        if (c->kind != R_SAMPLED) softmax_d(q, zt, len);
        for (int i = 0; i < len; i++) g[i] = 0;
        total += s2 * ref_row(c, n, p, q, g, len);
        if (!grad) continue;
        double gp = 0;
        for (int i = 0; i < len; i++) gp += g[i] * p[i];
        int k = 0;
        for (int i = 0; i < (c->kind == R_TOPK ? K : V); i++) {
            int col = i;
            if (c->kind == R_TOPK) { col = c->ids[n * K + i]; if (col < 0) continue; }
            grad[n * V + col] += s2 * p[k] * (g[k] - gp) / c->T / counted;
            k++;
        }
    }
    free(z); free(zt); free(p); free(q); free(g);
    return counted ? total / counted : 0;
}

// --- checks ----------------------------------------------------------------------------------

static int fd_check(const char *what, ref_case *c) {
    const size_t n = (size_t)c->N * c->V;
    double *grad = malloc(n * sizeof(double));
    ref_loss(c, grad);
    const double scale = fmax(maxabs(grad, n), 1e-12);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        const double x0 = c->x[i];
        c->x[i] = x0 + FD_EPS; const double lp = ref_loss(c, NULL);
        c->x[i] = x0 - FD_EPS; const double lm = ref_loss(c, NULL);
        c->x[i] = x0;
        worst = fmax(worst, fabs((lp - lm) / (2 * FD_EPS) - grad[i]));
    }
    free(grad);
    printf("  %-34s ref backward vs FD: max rel err %.2e\n", what, worst / scale);
    CHECK(worst <= FD_TOL * scale, "%s: FD rel err %.3e", what, worst / scale);
    return 0;
}

// float op forward/backward vs the reference; fwd/bwd dispatch on c->kind
static int op_check(const char *what, ref_case *c, kd_opts o) {
    const int N = c->N, V = c->V, K = c->K;
    const size_t n = (size_t)N * V;
    const float dloss = 0.7f;
    double *grad = malloc(n * sizeof(double));
    const double want = ref_loss(c, grad);
    float *x = to_f(c->x, n), *xt = c->xt ? to_f(c->xt, n) : NULL;
    float *aux = c->aux ? to_f(c->aux, (size_t)N * K) : NULL;
    float *losses = malloc(N * sizeof(float)), *d = malloc(n * sizeof(float)), *pre = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) d[i] = pre[i] = (float)(0.1 * urand());
    float got;
    if (c->kind <= R_CAKLD) {
        const kd_kind k = c->kind == R_FWD ? KD_FORWARD_KL : c->kind == R_REV ? KD_REVERSE_KL : KD_CAKLD;
        got = kd_full_forward(losses, x, xt, c->labels, c->mask, k, o, N, V);
        kd_full_backward(d, x, xt, c->labels, c->mask, k, o, dloss, N, V);
    } else if (c->kind == R_TOPK) {
        got = kd_topk_forward(losses, x, c->ids, aux, c->mask, o, N, V, K);
        kd_topk_backward(d, x, c->ids, aux, c->mask, o, dloss, N, V, K);
    } else {
        got = kd_sampled_forward(losses, x, c->ids, aux, c->mask, o, N, V, K);
        kd_sampled_backward(d, x, c->ids, aux, c->mask, o, dloss, N, V, K);
    }
    const double gscale = fmax(maxabs(grad, n), 1e-12) * dloss;
    double worst = 0;
    for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs(d[i] - (pre[i] + dloss * grad[i])));
    const double ferr = fabs(got - want) / fmax(fabs(want), 1e-3);
    printf("  %-34s float: loss %.6f vs %.6f (rel %.1e), grad max rel err %.2e\n", what, got, want, ferr,
           worst / gscale);
    free(grad); free(x); free(xt); free(aux); free(losses); free(d); free(pre);
    CHECK(ferr <= F32_TOL, "%s: forward %.8f vs reference %.8f", what, got, want);
    CHECK(worst <= F32_TOL * gscale, "%s: backward rel err %.3e", what, worst / gscale);
    return 0;
}

// --- the cases ---------------------------------------------------------------------------------

#define N_ 5
#define V_ 11
#define K_ 4

static int test_against_reference(void) {
    double x[N_ * V_], xt[N_ * V_], tk[N_ * K_], w[N_ * K_];
    int32_t labels[N_] = {3, -1, 0, 10, 7}, ids[N_ * K_];
    uint8_t mask[N_] = {1, 1, 0, 1, 1};
    for (int i = 0; i < N_ * V_; i++) { x[i] = 2.5 * urand(); xt[i] = 3.0 * urand(); }
    for (int n = 0; n < N_; n++)
        for (int j = 0; j < K_; j++) {
            ids[n * K_ + j] = (n * 3 + j * 4) % V_;   // distinct within a row (4 coprime to 11)
            tk[n * K_ + j] = 2.0 * urand() + 1.0;
            w[n * K_ + j] = 0.25 + 0.2 * urand();
        }
    ids[1 * K_ + 2] = -1;   // padding entry
    ids[3 * K_ + 0] = ids[3 * K_ + 1];   // a repeated sample (only meaningful for sampled)
    int32_t topk_ids[N_ * K_];
    memcpy(topk_ids, ids, sizeof ids);
    topk_ids[3 * K_ + 0] = (topk_ids[3 * K_ + 1] + 1) % V_;   // top-K ids must be distinct
    for (int j = 0; j < K_; j++) CHECK(topk_ids[3 * K_ + j] != topk_ids[3 * K_ + 0] || j == 0, "bad test ids");

    const char *names[] = {"forward KL", "reverse KL", "CAKLD", "top-K KL", "sampled KL"};
    const double temps[] = {1.0, 2.0};
    int fails = 0;
    for (int kind = R_FWD; kind <= R_SAMPLED; kind++)
        for (int ti = 0; ti < 2; ti++)
            for (int t2 = 0; t2 < 2; t2++)
                for (int m = 0; m < 2; m++) {
                    ref_case c = {kind, x, kind <= R_CAKLD ? xt : NULL, labels, m ? mask : NULL,
                                  kind == R_TOPK ? topk_ids : ids, kind == R_TOPK ? tk : kind == R_SAMPLED ? w : NULL,
                                  temps[ti], t2, N_, V_, K_};
                    char what[96];
                    snprintf(what, sizeof what, "%s T=%g%s%s", names[kind], temps[ti], t2 ? " T^2" : "",
                             m ? " masked" : "");
                    fails += fd_check(what, &c);
                    fails += op_check(what, &c, (kd_opts){(float)temps[ti], t2});
                }
    return fails;
}

// KL of identical distributions is 0 (loss and gradient), for all three full kinds
static int test_identical(void) {
    float x[N_ * V_], losses[N_], d[N_ * V_];
    int32_t labels[N_] = {1, 2, 3, 4, 5};
    for (int i = 0; i < N_ * V_; i++) x[i] = (float)(4 * urand());
    for (int k = KD_FORWARD_KL; k <= KD_CAKLD; k++) {
        memset(d, 0, sizeof d);
        const float l = kd_full_forward(losses, x, x, labels, NULL, (kd_kind)k, (kd_opts){1.0f, 0}, N_, V_);
        kd_full_backward(d, x, x, labels, NULL, (kd_kind)k, (kd_opts){1.0f, 0}, 1.0f, N_, V_);
        double gmax = 0;
        for (int i = 0; i < N_ * V_; i++) gmax = fmax(gmax, fabs(d[i]));
        printf("  identical kind %d: loss %.3e, max|grad| %.3e\n", k, l, gmax);
        CHECK(fabsf(l) < 1e-6f && gmax < 1e-7, "KL(p||p) kind %d = %g, grad %g", k, l, gmax);
    }
    return 0;
}

// a teacher with logit 60 on the label and 0 elsewhere is one-hot to ~1e-25: forward KL = CE
static int test_onehot_is_ce(void) {
    float x[N_ * V_], t[N_ * V_], probs[N_ * V_], ce_l[N_], kd_l[N_], dce[N_ * V_] = {0}, dkd[N_ * V_] = {0};
    int32_t labels[N_] = {0, 4, 10, 2, 9};
    for (int i = 0; i < N_ * V_; i++) { x[i] = (float)(3 * urand()); t[i] = 0; }
    for (int n = 0; n < N_; n++) t[n * V_ + labels[n]] = 60.0f;
    const float ce = crossentropy_forward(probs, ce_l, x, labels, N_, V_);
    const float kd = kd_full_forward(kd_l, x, t, NULL, NULL, KD_FORWARD_KL, (kd_opts){1.0f, 0}, N_, V_);
    crossentropy_backward(dce, probs, labels, 1.0f, N_, V_);
    kd_full_backward(dkd, x, t, NULL, NULL, KD_FORWARD_KL, (kd_opts){1.0f, 0}, 1.0f, N_, V_);
    double gerr = 0;
    for (int i = 0; i < N_ * V_; i++) gerr = fmax(gerr, fabs(dce[i] - dkd[i]));
    printf("  one-hot teacher: forward KL %.7f, CE %.7f, grad max diff %.2e\n", kd, ce, gerr);
    CHECK(fabsf(kd - ce) <= 1e-5f * ce && gerr < 1e-6, "forward KL %g != CE %g (grad diff %g)", kd, ce, gerr);
    return 0;
}

// top-K with K = V (ids a permutation) is the full forward KL; sampled with every id and w = q
// is forward KL + H(q)
static int test_topk_sampled_exact(void) {
    enum { N = 3, V = 9 };
    float x[N * V], t[N * V], tk[N * V], w[N * V], l[N];
    float dfull[N * V] = {0}, dtopk[N * V] = {0}, dsamp[N * V] = {0};
    int32_t ids[N * V];
    double H = 0;
    const kd_opts o = {1.5f, 1};
    for (int i = 0; i < N * V; i++) { x[i] = (float)(3 * urand()); t[i] = (float)(3 * urand()); }
    for (int n = 0; n < N; n++) {
        double z[V], q[V];
        for (int i = 0; i < V; i++) z[i] = t[n * V + i] / (double)o.temperature;
        softmax_d(q, z, V);
        for (int j = 0; j < V; j++) {
            const int id = (j * 7 + n) % V;   // a permutation (7 coprime to 9)
            ids[n * V + j] = id;
            tk[n * V + j] = t[n * V + id];
            w[n * V + j] = (float)q[id];
            H -= q[id] * log(q[id]);
        }
    }
    H = H / N * o.temperature * o.temperature;   // mean, with the T^2 factor the loss carries
    const float full = kd_full_forward(l, x, t, NULL, NULL, KD_FORWARD_KL, o, N, V);
    const float topk = kd_topk_forward(l, x, ids, tk, NULL, o, N, V, V);
    const float samp = kd_sampled_forward(l, x, ids, w, NULL, o, N, V, V);
    kd_full_backward(dfull, x, t, NULL, NULL, KD_FORWARD_KL, o, 1.0f, N, V);
    kd_topk_backward(dtopk, x, ids, tk, NULL, o, 1.0f, N, V, V);
    kd_sampled_backward(dsamp, x, ids, w, NULL, o, 1.0f, N, V, V);
    double e1 = 0, e2 = 0, gs = 0;
    for (int i = 0; i < N * V; i++) {
        e1 = fmax(e1, fabs(dfull[i] - dtopk[i])); e2 = fmax(e2, fabs(dfull[i] - dsamp[i]));
        gs = fmax(gs, fabs(dfull[i]));
    }
    printf("  K=V: top-K %.7f vs full %.7f (grad diff %.1e); sampled %.7f vs full+H %.7f (grad diff %.1e)\n",
           topk, full, e1 / gs, samp, full + H, e2 / gs);
    CHECK(fabsf(topk - full) <= 1e-5f * full && e1 <= 1e-5 * gs, "top-K(K=V) %g != full %g", topk, full);
    CHECK(fabs(samp - (full + H)) <= 1e-5 * (full + H) && e2 <= 1e-5 * gs, "sampled %g != KL+H %g", samp, full + H);
    return 0;
}

// total = w_ce*CE + w_kd*KD; gradient = the two backwards added (checked against the parts)
static int test_total(void) {
    float x[N_ * V_], t[N_ * V_], probs[N_ * V_], cl[N_], kl[N_], scratch[N_ * V_], l[N_];
    float d[N_ * V_] = {0}, dref[N_ * V_] = {0};
    int32_t labels[N_] = {3, -1, 0, 10, 7};
    for (int i = 0; i < N_ * V_; i++) { x[i] = (float)(2 * urand()); t[i] = (float)(2 * urand()); }
    const kd_opts o = {1.0f, 0};
    float ce, kd;
    const float tot = kd_total_forward(probs, cl, kl, &ce, &kd, x, t, labels, NULL, KD_CAKLD, o, 0.3f, 0.7f, N_, V_);
    kd_total_backward(d, probs, x, t, labels, NULL, KD_CAKLD, o, 0.3f, 0.7f, 2.0f, N_, V_);
    // the parts, each from its own op (which the other tests check against float64)
    const float ce2 = crossentropy_forward(scratch, l, x, labels, N_, V_);
    const float kd2 = kd_full_forward(l, x, t, labels, NULL, KD_CAKLD, o, N_, V_);
    crossentropy_backward(dref, scratch, labels, 0.6f, N_, V_);
    kd_full_backward(dref, x, t, labels, NULL, KD_CAKLD, o, 1.4f, N_, V_);
    double e = 0;
    for (int i = 0; i < N_ * V_; i++) e = fmax(e, fabs(d[i] - dref[i]));
    printf("  total %.6f = 0.3*%.6f + 0.7*%.6f, grad diff %.1e\n", tot, ce2, kd2, e);
    CHECK(ce == ce2 && kd == kd2 && fabsf(tot - (0.3f * ce2 + 0.7f * kd2)) < 1e-6f && e < 1e-6, "total mismatch");
    return 0;
}

int main(void) {
    int fails = 0;
    printf("kd losses vs float64 reference:\n");
    fails += test_against_reference();
    printf("identities:\n");
    fails += test_identical();
    fails += test_onehot_is_ce();
    fails += test_topk_sampled_exact();
    fails += test_total();
    if (fails) { fprintf(stderr, "%d check(s) failed\n", fails); return 1; }
    printf("all kd tests passed\n");
    return 0;
}
