// bench_train_step.c: QAT training-step throughput of libtrain on a fixed Llama shape
// (dim 512, 8 layers, 8 heads / 8 kv heads, ffn 1536, vocab 32000, tied embeddings), batch 8 x
// seq 256, SEQ 2-bit fake-quant (one learned scale per row) on every block linear, AdamW on the
// weights (group 0) and the scales (group 1). A benchmark, not a test: tests/bench/bench_train.sh
// runs it next to the PyTorch version of the same step (torch_qat_step.py).
//
//   bench_train_step [-w WARMUP] [-n STEPS] [-t THREADS] [-B batch] [-T seq] [-p SGEMM_N]
//
// One step = fake-quant forward of every block linear -> model forward (loss) -> backward ->
// fake-quant backward (STE mask + scale gradients) -> AdamW. Everything in the step is timed.
// Also measured in the same process: the cblas_sgemm peak (N^3, same threads, best of probes
// before, between and after the steps), so MFU = achieved model FLOP/s / that peak needs no numbers from elsewhere.
// On a CPU with AMX-BF16 the step's big matmuls run on gemm_amx (libtrain/gemm_amx.c), which is
// faster than sgemm, so MFU against the sgemm peak can pass 100 %; the gemm_amx peak (same N^3,
// fp32 operands, probed the same way) is printed too, with the MFU against it.
//
// Model FLOPs per token (the usual accounting, forward + backward = 3 x forward):
//   6 * (matmul weights)   every block linear and the tied head (the embedding table, counted
//                          once: its lookup is free); n_params minus the RMSNorm weights
//   + 6 * n_layer * T * C  attention scores and weighted values, causal: half of the
//                          12 * n_layer * T * C of a full T x T attention
// Fake-quant, RMSNorm, RoPE, softmax, SwiGLU and AdamW are not counted (they are O(params) or
// O(tokens * C), not matmuls), so MFU is a lower bound of how busy the FPU is.
// The output lines are "key: value" so the shell script can pick them out.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <cblas.h>
#include <omp.h>
#include "train_model.h"
#include "fakequant.h"
#include "optim.h"
#include "gemm_amx.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// CPU seconds of the whole process (all threads): on a shared machine wall time swings with
// the load, CPU time much less (OMP_WAIT_POLICY=PASSIVE keeps idle threads from spinning)
static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double peak_rss_mib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;   // Linux: KiB
}

// --- sgemm peak ---------------------------------------------------------------------------------

// best GFLOP/s of `reps` N^3 sgemms (after one untimed warmup) on `threads` OpenBLAS threads.
// libtrain runs OpenBLAS single-threaded (its ops split each sgemm over OpenMP threads
// themselves; lb_train_model_init sets 1), so the probe sets its own count and restores it.
static double sgemm_peak_gflops(int n, int reps, int threads) {
    const int saved = openblas_get_num_threads();
    openblas_set_num_threads(threads);   // libtrain set 1; the peak is for `threads` threads
    float *a = malloc((size_t)n * n * sizeof(float));
    float *b = malloc((size_t)n * n * sizeof(float));
    float *c = malloc((size_t)n * n * sizeof(float));
    if (!a || !b || !c) { free(a); free(b); free(c); openblas_set_num_threads(saved); return 0.0; }
    for (size_t i = 0; i < (size_t)n * n; i++) { a[i] = (float)(i % 7) * 0.01f; b[i] = (float)(i % 5) * 0.02f; c[i] = 0; }
    double best = 0.0;
    for (int r = 0; r <= reps; r++) {
        const double t0 = now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        const double dt = now_s() - t0;
        const double gf = 2.0 * n * (double)n * n / dt * 1e-9;
        if (r > 0 && gf > best) best = gf;   // r == 0 warms caches and threads up
    }
    free(a); free(b); free(c);
    openblas_set_num_threads(saved);
    return best;
}

// best GFLOP/s of `reps` N^3 gemm_amx products (fp32 operands, the three-part split); 0 when the
// step does not use gemm_amx
static double amx_peak_gflops(int n, int reps) {
    if (!gemm_amx_wanted(1e30)) return 0.0;   // no AMX, or LOWBIT_GEMM=blas: the step does not use it
    float *a = malloc((size_t)n * n * sizeof(float));
    float *b = malloc((size_t)n * n * sizeof(float));
    float *c = malloc((size_t)n * n * sizeof(float));
    double best = 0.0;
    if (a && b && c) {
        for (size_t i = 0; i < (size_t)n * n; i++) { a[i] = (float)(i % 7) * 0.01f; b[i] = (float)(i % 5) * 0.02f; }
        for (int r = 0; r <= reps; r++) {
            const double t0 = now_s();
            if (gemm_amx(c, n, 0.0f, a, n, 0, b, n, 0, n, n, n)) break;
            const double gf = 2.0 * n * (double)n * n / (now_s() - t0) * 1e-9;
            if (r > 0 && gf > best) best = gf;
        }
    }
    free(a); free(b); free(c);
    return best;
}

// --- QAT state per block linear -----------------------------------------------------------------

typedef struct qat_linear {
    float *w_eff;     // fake-quantized weight the forward reads
    int8_t *codes;    // grid codes of the last forward (for the backward)
    float *scales;    // learned per-row alpha
    float *dscales;   // their gradient
    float *step;      // row steps of the coded form (lb_fq_coded), as lb_qat_forward keeps them
    gemm_coded coded;
} qat_linear;

static void free_qat(qat_linear *q, int n) {
    for (int i = 0; i < n && q; i++) { free(q[i].w_eff); free(q[i].codes); free(q[i].scales); free(q[i].dscales); free(q[i].step); }
    free(q);
}

// --- main ------------------------------------------------------------------------------------

int main(int argc, char **argv) {
    int warmup = 1, steps = 3, threads = 2, B = 8, T = 256, sgemm_n = 2048;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *o = argv[i]; const int v = atoi(argv[i + 1]);
        if (!strcmp(o, "-w")) warmup = v;
        else if (!strcmp(o, "-n")) steps = v;
        else if (!strcmp(o, "-t")) threads = v;
        else if (!strcmp(o, "-B")) B = v;
        else if (!strcmp(o, "-T")) T = v;
        else if (!strcmp(o, "-p")) sgemm_n = v;
        else { fprintf(stderr, "usage: %s [-w W] [-n N] [-t THREADS] [-B B] [-T T] [-p SGEMM_N]\n", argv[0]); return 2; }
    }
    if (warmup < 0 || steps < 1 || threads < 1 || B < 1 || T < 1 || T > 4096 || sgemm_n < 64) {
        fprintf(stderr, "bench_train_step: bad arguments\n");
        return 2;
    }
    omp_set_num_threads(threads);
    // (OpenBLAS threads: libtrain sets 1 and splits over OpenMP; the sgemm probe sets its own)

    const lb_hparams hp = {
        .arch = LB_ARCH_LLAMA, .n_vocab = 32000, .n_embd = 512, .n_layer = 8, .n_ff = 1536,
        .n_head = 8, .n_head_kv = 8, .head_dim = 64, .n_ctx_train = T, .norm_eps = 1e-5f,
        .rope_base = 10000.0f, .rope_style = LB_ROPE_ADJACENT, .qk_norm = LB_QK_NORM_NONE,
        .qkv_bias = 0, .tied_output = 1,
    };
    size_t pbytes, gbytes, abytes;
    lb_train_memory(&hp, B, T, &pbytes, &gbytes, &abytes);
    printf("model: llama dim %d, %d layers, %d/%d heads, ffn %d, vocab %d, tied; batch %d x seq %d; threads %d\n",
           hp.n_embd, hp.n_layer, hp.n_head, hp.n_head_kv, hp.n_ff, hp.n_vocab, B, T, threads);
    printf("memory plan: params %.1f MiB, grads %.1f MiB, activations %.1f MiB\n",
           pbytes / 1048576.0, gbytes / 1048576.0, abytes / 1048576.0);

    lb_err err = {{0}};
    lb_train_model m;
    if (lb_train_model_init(&m, &hp, 1234, &err)) { fprintf(stderr, "bench_train_step: %s\n", err.msg); return 1; }

    // --- SEQ 2-bit on every block linear (not the tied head) ---
    const lb_fq_config cfg = { LB_GRID_SEQ2, 0, 0, 0 };   // group 0 = one scale per row
    const int nq = hp.n_layer * LB_TRAIN_LINEARS_PER_LAYER;
    qat_linear *q = calloc((size_t)nq, sizeof *q);
    if (!q) { fprintf(stderr, "bench_train_step: out of memory\n"); return 1; }
    int64_t n_scales = 0;
    for (int i = 0; i < nq; i++) {
        lb_train_linear *L = &m.linears[i];
        char msg[256];
        if (lb_fq_check(&cfg, L->out, L->in, msg, sizeof msg)) { fprintf(stderr, "bench_train_step: %s\n", msg); return 1; }
        const size_t n = (size_t)L->out * L->in;
        const int64_t ns = lb_fq_nscales(&cfg, L->out, L->in);
        q[i].w_eff = malloc(n * sizeof(float));
        q[i].codes = malloc(n);
        q[i].scales = malloc((size_t)ns * sizeof(float));
        q[i].dscales = calloc((size_t)ns, sizeof(float));
        q[i].step = malloc((size_t)L->out * sizeof(float));
        if (!q[i].w_eff || !q[i].codes || !q[i].scales || !q[i].dscales || !q[i].step) { fprintf(stderr, "bench_train_step: out of memory\n"); return 1; }
        if (lb_fq_init_scales(q[i].scales, L->w, L->out, L->in, &cfg, msg, sizeof msg)) { fprintf(stderr, "bench_train_step: %s\n", msg); return 1; }
        L->w_eff = q[i].w_eff;
        n_scales += ns;
    }

    // --- AdamW: all params (weights, norms, embeddings) in group 0, scales in group 1 ---
    lb_adamw opt;
    lb_adamw_init(&opt);
    char msg[256];
    if (lb_adamw_add(&opt, m.params, m.grads, (int64_t)m.n_params, LB_GROUP_WEIGHTS, msg, sizeof msg)) { fprintf(stderr, "bench_train_step: %s\n", msg); return 1; }
    for (int i = 0; i < nq; i++) {
        const lb_train_linear *L = &m.linears[i];
        if (lb_adamw_add(&opt, q[i].scales, q[i].dscales, lb_fq_nscales(&cfg, L->out, L->in), LB_GROUP_SCALES, msg, sizeof msg)) {
            fprintf(stderr, "bench_train_step: %s\n", msg); return 1;
        }
    }
    if (build_adamw_state(&opt, msg, sizeof msg)) { fprintf(stderr, "bench_train_step: %s\n", msg); return 1; }

    // --- data: deterministic pseudo-random tokens, targets = next token ---
    const size_t ntok = (size_t)B * T;
    int32_t *tokens = malloc(ntok * sizeof(int32_t)), *targets = malloc(ntok * sizeof(int32_t));
    if (!tokens || !targets) { fprintf(stderr, "bench_train_step: out of memory\n"); return 1; }
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < ntok; i++) { s = s * 6364136223846793005ull + 1442695040888963407ull; tokens[i] = (int32_t)((s >> 33) % (uint64_t)hp.n_vocab); }
    for (size_t i = 0; i < ntok; i++) targets[i] = (i + 1) % (size_t)T ? tokens[i + 1] : tokens[i - (size_t)T + 1];

    // sgemm peak: probed before the first step, between steps and after the last one (untimed);
    // the largest probe counts. On a shared machine the load changes during the run, and a peak
    // taken only once, at another moment than the steps, can be far below what the steps got.
    double peak = sgemm_peak_gflops(sgemm_n, 4, threads);
    double apeak = amx_peak_gflops(sgemm_n, 4);

    // --- steps ---
    double t_total = 0, t_best = 1e30, t_fq = 0, t_fwd = 0, t_bwd = 0, t_fqb = 0, t_opt = 0;
    double c_total = 0, c_fq = 0, c_fwd = 0, c_bwd = 0, c_fqb = 0, c_opt = 0;   // CPU time, same phases
    float loss = 0, loss0 = 0;
    for (int step = 0; step < warmup + steps; step++) {
        const double c0 = cpu_s(), t0 = now_s();
        for (int i = 0; i < nq; i++) {   // as lb_qat_forward: w_eff, and its coded form
            lb_train_linear *L = &m.linears[i];
            lb_fq_forward(q[i].w_eff, q[i].codes, L->w, q[i].scales, L->out, L->in, &cfg, 0.0f);
            L->wc = lb_fq_coded(&q[i].coded, q[i].step, q[i].codes, q[i].scales, L->out, L->in, &cfg, 0.0f) ? &q[i].coded : NULL;
        }
        const double t1 = now_s(), c1 = cpu_s();
        lb_train_model_zero_grad(&m);
        if (lb_train_model_forward(&m, tokens, targets, B, T, &loss, &err)) { fprintf(stderr, "bench_train_step: %s\n", err.msg); return 1; }
        const double t2 = now_s(), c2 = cpu_s();
        if (lb_train_model_backward(&m, &err)) { fprintf(stderr, "bench_train_step: %s\n", err.msg); return 1; }
        const double t3 = now_s(), c3 = cpu_s();
        for (int i = 0; i < nq; i++) {   // dw holds dL/dw_eff; replace it in place by dL/dw
            const lb_train_linear *L = &m.linears[i];
            lb_fq_backward(L->dw, q[i].dscales, L->dw, L->w, q[i].codes, q[i].scales, L->out, L->in, &cfg, 0.0f);
        }
        const double t4 = now_s(), c4 = cpu_s();
        lb_adamw_step(&opt, 1.0f);
        const double t5 = now_s(), c5 = cpu_s();
        if (step == 0) loss0 = loss;
        printf("step %d: loss %.4f  %.3f s%s\n", step, loss, t5 - t0, step < warmup ? " (warmup)" : "");
        fflush(stdout);
        const double probe = sgemm_peak_gflops(sgemm_n, 2, threads);
        if (probe > peak) peak = probe;
        const double aprobe = amx_peak_gflops(sgemm_n, 2);
        if (aprobe > apeak) apeak = aprobe;
        if (step >= warmup) {
            t_total += t5 - t0;
            if (t5 - t0 < t_best) t_best = t5 - t0;
            t_fq += t1 - t0; t_fwd += t2 - t1; t_bwd += t3 - t2; t_fqb += t4 - t3; t_opt += t5 - t4;
            c_total += c5 - c0;
            c_fq += c1 - c0; c_fwd += c2 - c1; c_bwd += c3 - c2; c_fqb += c4 - c3; c_opt += c5 - c4;
        }
    }
    const double mean = t_total / steps;

    // --- FLOPs: matmul parameters (the tied head counts once; embedding lookup is not a matmul,
    // but with tied weights the table IS the head, so n_params' only non-matmul weights are the norms)
    const double C = hp.n_embd, L = hp.n_layer;
    const double n_norm = L * 2 * C + C;
    const double n_matmul = (double)m.n_params - n_norm;
    const double flops_tok = 6.0 * n_matmul + 6.0 * L * T * C;
    { const double probe = sgemm_peak_gflops(sgemm_n, 4, threads); if (probe > peak) peak = probe; }
    { const double probe = amx_peak_gflops(sgemm_n, 4); if (probe > apeak) apeak = probe; }
    const double tps_mean = (double)ntok / mean, tps_best = (double)ntok / t_best;
    const double achieved = flops_tok * tps_mean * 1e-9;

    printf("params: %zu (%.2f M) + %lld scales\n", m.n_params, m.n_params / 1e6, (long long)n_scales);
    printf("loss: %.4f -> %.4f\n", loss0, loss);
    printf("step time: mean %.3f s, best %.3f s over %d steps (warmup %d)\n", mean, t_best, steps, warmup);
    printf("breakdown (mean s): fq-forward %.3f  forward %.3f  backward %.3f  fq-backward %.3f  adamw %.3f\n",
           t_fq / steps, t_fwd / steps, t_bwd / steps, t_fqb / steps, t_opt / steps);
    printf("cpu time (mean s, all threads): step %.3f = fq-forward %.3f  forward %.3f  backward %.3f  fq-backward %.3f  adamw %.3f\n",
           c_total / steps, c_fq / steps, c_fwd / steps, c_bwd / steps, c_fqb / steps, c_opt / steps);
    printf("flops/token: %.1f MFLOP (6*%.2fM matmul params + causal attention)\n", flops_tok * 1e-6, n_matmul * 1e-6);
    printf("lowbit tokens/s: %.1f (best step %.1f)\n", tps_mean, tps_best);
    printf("achieved: %.1f GFLOP/s\n", achieved);
    printf("sgemm peak: %.1f GFLOP/s (%d^3, %d threads, best probe before, between and after the steps)\n",
           peak, sgemm_n, threads);
    printf("MFU: %.1f %%\n", peak > 0 ? 100.0 * achieved / peak : 0.0);
    if (apeak > 0) {
        printf("amx gemm peak: %.1f GFLOP/s (gemm_amx, fp32 operands, %d^3, best probe before, between and after the steps)\n",
               apeak, sgemm_n);
        printf("MFU vs amx gemm peak: %.1f %%\n", 100.0 * achieved / apeak);
    } else {
        printf("amx gemm peak: none (gemm_amx not in use: no AMX-BF16 here, or LOWBIT_GEMM=blas)\n");
    }
    printf("peak RSS: %.1f MiB\n", peak_rss_mib());

    free(tokens); free(targets);
    free_adamw(&opt);
    free_qat(q, nq);
    lb_train_model_free(&m);
    return 0;
}
