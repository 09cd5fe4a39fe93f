// test_optim.c: AdamW (vs an independent double-precision implementation written here, two
// parameter groups with their own LR / weight decay, a varying schedule factor), the contiguous
// moment state, global-norm clipping, gradient accumulation scaling, the NaN / spike guard, and
// the cosine / WSD schedules at key steps.
#include "test_util.h"
#include "optim.h"
#include "schedule.h"
#include <math.h>
#include <stdint.h>

#define NEAR(a, b, tol) (fabs((double)(a) - (double)(b)) <= (tol))

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static float frandn(void) {
    double s = 0;   // sum of 12 uniforms - 6: close enough to normal, fully deterministic
    for (int i = 0; i < 12; i++) {
        rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
        s += (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
    }
    return (float)(s - 6.0);
}

// torch.optim.AdamW, written out in double from the paper / torch docs
typedef struct { double p, m, v; } ref_param;
static void ref_adamw(ref_param *x, int n, const float *g, double lr, double b1, double b2, double eps, double wd, int t) {
    for (int i = 0; i < n; i++) {
        x[i].p -= lr * wd * x[i].p;
        x[i].m = b1 * x[i].m + (1 - b1) * g[i];
        x[i].v = b2 * x[i].v + (1 - b2) * (double)g[i] * g[i];
        const double mhat = x[i].m / (1 - pow(b1, t)), vhat = x[i].v / (1 - pow(b2, t));
        x[i].p -= lr * mhat / (sqrt(vhat) + eps);
    }
}

static int test_adamw(void) {
    enum { NW = 37, NS = 5, STEPS = 25 };
    float w[NW], gw[NW], s[NS], gs[NS];
    ref_param rw[NW], rs[NS];
    for (int i = 0; i < NW; i++) { w[i] = frandn(); rw[i] = (ref_param){ w[i], 0, 0 }; }
    for (int i = 0; i < NS; i++) { s[i] = 0.5f + 0.1f * (float)i; rs[i] = (ref_param){ s[i], 0, 0 }; }
    lb_adamw opt;
    char err[128];
    lb_adamw_init(&opt);
    opt.beta1 = 0.9f; opt.beta2 = 0.99f; opt.eps = 1e-8f;
    CHECK(lb_adamw_set_group(&opt, LB_GROUP_WEIGHTS, 1e-2f, 0.1f) == 0, "group");
    CHECK(lb_adamw_set_group(&opt, LB_GROUP_SCALES, 5e-3f, 0.0f) == 0, "group");
    CHECK(lb_adamw_set_group(&opt, 7, 1e-2f, 0.0f) != 0, "bad group accepted");
    CHECK(lb_adamw_add(&opt, w, gw, NW, LB_GROUP_WEIGHTS, err, sizeof err) == 0, "%s", err);
    CHECK(lb_adamw_add(&opt, s, gs, NS, LB_GROUP_SCALES, err, sizeof err) == 0, "%s", err);
    CHECK(build_adamw_state(&opt, err, sizeof err) == 0, "%s", err);
    CHECK(lb_adamw_add(&opt, w, gw, NW, 0, err, sizeof err) != 0, "add after build accepted");
    CHECK(opt.nparams == NW + NS, "nparams");
    double maxerr = 0;
    for (int t = 1; t <= STEPS; t++) {
        for (int i = 0; i < NW; i++) gw[i] = frandn() * (t == 3 ? 100.0f : 1.0f);
        for (int i = 0; i < NS; i++) gs[i] = 0.1f * frandn();
        const float f = 0.2f + 0.8f * (float)((t * 7) % 10) / 10.0f;   // a varying schedule factor
        lb_adamw_step(&opt, f);
        ref_adamw(rw, NW, gw, 1e-2 * f, 0.9, 0.99, 1e-8, 0.1, t);
        ref_adamw(rs, NS, gs, 5e-3 * f, 0.9, 0.99, 1e-8, 0.0, t);
        for (int i = 0; i < NW; i++) { CHECK(NEAR(w[i], rw[i].p, 2e-6 * (1 + fabs(rw[i].p))), "w[%d] step %d: %.9g want %.9g", i, t, w[i], rw[i].p); maxerr = fmax(maxerr, fabs(w[i] - rw[i].p)); }
        for (int i = 0; i < NS; i++) { CHECK(NEAR(s[i], rs[i].p, 2e-6 * (1 + fabs(rs[i].p))), "s[%d] step %d: %.9g want %.9g", i, t, s[i], rs[i].p); maxerr = fmax(maxerr, fabs(s[i] - rs[i].p)); }
    }
    // moments live in one block: m of all tensors, then v of all tensors
    for (int i = 0; i < NW; i++) CHECK(NEAR(opt.state[i], rw[i].m, 1e-5) && NEAR(opt.state[NW + NS + i], rw[i].v, 1e-4 * (1 + rw[i].v)), "state w %d", i);
    for (int i = 0; i < NS; i++) CHECK(NEAR(opt.state[NW + i], rs[i].m, 1e-6) && NEAR(opt.state[2 * NW + NS + i], rs[i].v, 1e-6), "state s %d", i);
    CHECK(opt.t == STEPS, "t");
    printf("adamw: %d steps, 2 groups (lr 1e-2 wd 0.1 / lr 5e-3 wd 0), max |err| vs double reference %.3g; state m|v contiguous ok\n", STEPS, maxerr);
    free_adamw(&opt);

    // pure decoupled decay: g = 0 from the start -> m = v = 0 -> p *= (1 - lr*wd) exactly once per step
    float p[2] = { 1.0f, -2.0f }, gp[2] = { 0, 0 };
    lb_adamw_init(&opt);
    lb_adamw_set_group(&opt, 0, 0.1f, 0.5f);
    CHECK(lb_adamw_add(&opt, p, gp, 2, 0, err, sizeof err) == 0 && build_adamw_state(&opt, err, sizeof err) == 0, "%s", err);
    lb_adamw_step(&opt, 1.0f);
    lb_adamw_step(&opt, 1.0f);
    CHECK(NEAR(p[0], 0.95 * 0.95, 1e-7) && NEAR(p[1], -2 * 0.95 * 0.95, 1e-7), "decoupled decay %g %g", p[0], p[1]);
    free_adamw(&opt);
    printf("adamw: decoupled weight decay with zero gradient ok\n");
    return 0;
}

static int test_clip_accum(void) {
    float a[2] = { 0, 0 }, ga[2] = { 3, 4 }, b[1] = { 0 }, gb[1] = { 12 };
    lb_adamw opt;
    char err[128];
    lb_adamw_init(&opt);
    CHECK(lb_adamw_add(&opt, a, ga, 2, 0, err, sizeof err) == 0 && lb_adamw_add(&opt, b, gb, 1, 1, err, sizeof err) == 0, "%s", err);
    CHECK(lb_grad_global_norm(&opt) == 13.0f, "norm %g", lb_grad_global_norm(&opt));
    CHECK(lb_grad_clip(&opt, 20.0f) == 13.0f && ga[0] == 3 && gb[0] == 12, "no clip below max");
    CHECK(lb_grad_clip(&opt, 6.5f) == 13.0f, "clip returns the pre-clip norm");
    const double f = 6.5 / (13.0 + 1e-6);
    CHECK(NEAR(ga[0], 3 * f, 1e-6) && NEAR(ga[1], 4 * f, 1e-6) && NEAR(gb[0], 12 * f, 1e-6), "clipped %g %g %g", ga[0], ga[1], gb[0]);
    CHECK(NEAR(lb_grad_global_norm(&opt), 6.5, 1e-5), "norm after clip");
    // accumulation: the caller sums 4 micro-batch gradients, then scales by 1/4
    ga[0] = 1 + 2 + 3 + 4; ga[1] = 0; gb[0] = -8;
    lb_grad_scale(&opt, 0.25f);
    CHECK(ga[0] == 2.5f && gb[0] == -2.0f, "accumulation scale");
    gb[0] = NAN;
    const float n = lb_grad_clip(&opt, 1.0f);
    CHECK(isnan(n) && ga[0] == 2.5f, "nan norm must be returned and nothing scaled");
    lb_grad_zero(&opt);
    CHECK(ga[0] == 0 && ga[1] == 0 && gb[0] == 0, "zero");
    free_adamw(&opt);
    printf("clip: norm 13 -> 6.5, returns pre-clip norm, NaN passthrough; accumulation 1/n ok\n");
    return 0;
}

static int test_guard(void) {
    lb_guard g;
    lb_guard_init(&g, 3.0f, 20);
    // before warmup a large loss is not a spike
    CHECK(lb_guard_check(&g, 0, 10.0f, 1.0f) == NULL, "first loss");
    for (int s = 1; s < 80; s++) CHECK(lb_guard_check(&g, s, 2.0f + 0.01f * (float)(s % 3), 1.0f) == NULL, "normal step %d", s);
    const char *r = lb_guard_check(&g, 80, 5.0f, 1.0f);
    CHECK(r == NULL, "5.0 is below 3 x ~2.1: %s", r);
    r = lb_guard_check(&g, 81, 9.0f, 1.0f);
    CHECK(r && strstr(r, "spike") && strstr(r, "81"), "spike not flagged: %s", r ? r : "(null)");
    printf("guard: %s\n", r);
    r = lb_guard_check(&g, 82, NAN, 1.0f);
    CHECK(r && strstr(r, "nan"), "nan loss: %s", r ? r : "(null)");
    printf("guard: %s\n", r);
    r = lb_guard_check(&g, 83, 2.0f, INFINITY);
    CHECK(r && strstr(r, "gradient norm is inf"), "inf grad norm: %s", r ? r : "(null)");
    printf("guard: %s\n", r);
    r = lb_guard_check(&g, 84, -INFINITY, 1.0f);
    CHECK(r && strstr(r, "inf"), "-inf loss");
    CHECK(lb_guard_check(&g, 85, 2.0f, 1.0f) == NULL, "recovers after flagged steps (they do not enter the mean)");
    lb_guard g2;
    lb_guard_init(&g2, 0.0f, 0);   // spike detection off
    CHECK(lb_guard_check(&g2, 0, 1.0f, 1.0f) == NULL && lb_guard_check(&g2, 1, 1000.0f, 1.0f) == NULL, "disabled spike");
    return 0;
}

static int test_schedule(void) {
    lb_schedule c = { LB_SCHED_COSINE, 100, 10, 0, 0.1f };
    CHECK(NEAR(lb_schedule_factor(&c, 0), 0.1, 1e-7), "cos warm 0");
    CHECK(NEAR(lb_schedule_factor(&c, 4), 0.5, 1e-7), "cos warm 4");
    CHECK(NEAR(lb_schedule_factor(&c, 9), 1.0, 1e-7), "cos warm 9");
    CHECK(NEAR(lb_schedule_factor(&c, 10), 1.0, 1e-7), "cos 10");
    CHECK(NEAR(lb_schedule_factor(&c, 55), 0.55, 1e-6), "cos mid %g", lb_schedule_factor(&c, 55));
    CHECK(NEAR(lb_schedule_factor(&c, 33), 0.1 + 0.9 * 0.5 * (1 + cos(3.14159265358979 * 23.0 / 90.0)), 1e-6), "cos 33");
    CHECK(NEAR(lb_schedule_factor(&c, 100), 0.1, 1e-7) && NEAR(lb_schedule_factor(&c, 500), 0.1, 1e-7), "cos end");
    lb_schedule w = { LB_SCHED_WSD, 100, 10, 20, 0.0f };
    CHECK(NEAR(lb_schedule_factor(&w, 0), 0.1, 1e-7), "wsd warm");
    CHECK(lb_schedule_factor(&w, 10) == 1.0f && lb_schedule_factor(&w, 50) == 1.0f && lb_schedule_factor(&w, 80) == 1.0f, "wsd stable");
    CHECK(NEAR(lb_schedule_factor(&w, 90), 0.5, 1e-7), "wsd decay 90 %g", lb_schedule_factor(&w, 90));
    CHECK(NEAR(lb_schedule_factor(&w, 95), 0.25, 1e-7), "wsd decay 95");
    CHECK(lb_schedule_factor(&w, 100) == 0.0f, "wsd end");
    lb_schedule k = { LB_SCHED_CONSTANT, 100, 0, 0, 0 };
    CHECK(lb_schedule_factor(&k, 0) == 1.0f && lb_schedule_factor(&k, 1000) == 1.0f, "constant");
    CHECK(lb_schedule_from_name("WSD") == LB_SCHED_WSD && lb_schedule_from_name("linear") == -1, "names");
    printf("schedule: cosine (warmup 10, min 0.1) and WSD (decay 20) values at key steps ok\n");
    return 0;
}

// --torch-case: a fixed AdamW run on exactly representable inputs, printed for
// tests/torch/ref_adamw.py, which repeats it with torch.optim.AdamW and compares
static int torch_case(void) {
    enum { NW = 24, NS = 4, STEPS = 12 };
    float w[NW], gw[NW], s[NS], gs[NS];
    for (int i = 0; i < NW; i++) w[i] = (float)((i * 37) % 101 - 50) / 64.0f;
    for (int i = 0; i < NS; i++) s[i] = (float)(i + 1) / 8.0f;
    lb_adamw opt;
    char err[128];
    lb_adamw_init(&opt);
    opt.beta1 = 0.9f; opt.beta2 = 0.95f; opt.eps = 1e-8f;
    lb_adamw_set_group(&opt, LB_GROUP_WEIGHTS, 1e-2f, 0.1f);
    lb_adamw_set_group(&opt, LB_GROUP_SCALES, 2e-3f, 0.0f);
    if (lb_adamw_add(&opt, w, gw, NW, LB_GROUP_WEIGHTS, err, sizeof err) || lb_adamw_add(&opt, s, gs, NS, LB_GROUP_SCALES, err, sizeof err) ||
        build_adamw_state(&opt, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    lb_schedule sch = { LB_SCHED_COSINE, STEPS, 3, 0, 0.1f };
    for (int t = 0; t < STEPS; t++) {
        for (int i = 0; i < NW; i++) gw[i] = (float)((i * 13 + t * 29) % 97 - 48) / 32.0f;
        for (int i = 0; i < NS; i++) gs[i] = (float)((i * 7 + t * 5) % 11 - 5) / 16.0f;
        const float norm = lb_grad_clip(&opt, 4.0f);
        lb_adamw_step(&opt, lb_schedule_factor(&sch, t));
        printf("norm %d %.9g\n", t, norm);
    }
    for (int i = 0; i < NW; i++) printf("w %d %.9g\n", i, w[i]);
    for (int i = 0; i < NS; i++) printf("s %d %.9g\n", i, s[i]);
    free_adamw(&opt);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--torch-case") == 0) return torch_case();
    if (test_adamw() || test_clip_accum() || test_guard() || test_schedule()) return 1;
    printf("optim: all ok\n");
    return 0;
}
