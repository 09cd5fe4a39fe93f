// op_linear.c: out = inp W^T + b with W (OC,IC) row-major, the way GGUF stores a weight
// (ne[0] = IC is the row length). Each product is cblas_sgemm; big ones are split into one
// column/row slice per OpenMP thread, each slice a single-threaded sgemm (the model sets
// OpenBLAS to 1 thread, as runtime/matmul.c does: OpenBLAS's own pthread pool fighting
// OpenMP's threads for 2 cores cost ~30% of a step in sched_yield). Slices partition the
// output, so there are no races, and each output element is one sgemm dot product whatever
// the thread count. On a CPU with AMX-BF16, products big enough go to gemm_amx instead (fp32-accurate
// three-part bf16 splitting; gemm_amx.c), ~2x OpenBLAS on a training step's shapes, and a QAT
// weight in coded form (wc) is used as such: its forward and input-gradient products need half
// the tile work.
#include "ops.h"
#include "gemm_amx.h"
#include <cblas.h>
#include <omp.h>

#define LINEAR_PARALLEL_FLOPS 4e6   // below this, one sgemm call

// [lo, hi) of n split into parts slices, slice i; boundaries on multiples of 16
static void slice(int n, int parts, int i, int *lo, int *hi) {
    const int step = ((n + parts - 1) / parts + 15) / 16 * 16;
    *lo = i * step < n ? i * step : n;
    *hi = (i + 1) * step < n ? (i + 1) * step : n;
}

static void forward_blas(float *out, const float *inp, const float *w, int N, int IC, int OC) {
    // out (N,OC) = inp (N,IC) . W^T (IC,OC). Every thread packs the operand it does not slice, so
    // slice the side whose partner is the smaller matrix: columns of out (rows of W: each thread
    // packs all of inp, N x IC) when OC >= N, as for the vocabulary head; else rows of out
    // (each thread packs all of W, OC x IC)
    const int by_rows = OC < N;
    #pragma omp parallel if ((double)N * IC * OC >= LINEAR_PARALLEL_FLOPS)
    {
        int lo, hi;
        slice(by_rows ? N : OC, omp_get_num_threads(), omp_get_thread_num(), &lo, &hi);
        if (hi > lo && by_rows)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, hi - lo, OC, IC, 1.0f, inp + (size_t)lo * IC, IC, w, IC,
                        0.0f, out + (size_t)lo * OC, OC);
        else if (hi > lo)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, hi - lo, IC, 1.0f, inp, IC, w + (size_t)lo * IC, IC,
                        0.0f, out + lo, OC);
    }
}

void linear_forward(float *out, const float *inp, const float *w, const gemm_coded *wc, const float *bias, int N,
                    int IC, int OC) {
    int done = 0;
    if (gemm_amx_wanted((double)N * IC * OC))
        done = (wc ? gemm_amx_coded_nt(out, OC, 0.0f, inp, IC, wc, N, OC, IC)
                   : gemm_amx(out, OC, 0.0f, inp, IC, 0, w, IC, 1, N, OC, IC)) == 0;
    if (!done) forward_blas(out, inp, w, N, IC, OC);
    if (bias) {
        #pragma omp parallel for if ((size_t)N * OC >= 65536)
        for (int n = 0; n < N; n++)
            for (int o = 0; o < OC; o++) out[(size_t)n * OC + o] += bias[o];
    }
}

void linear_backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp, const float *w,
                     const gemm_coded *wc, int N, int IC, int OC) {
    // slices chosen as in forward: each thread packs the whole of the operand it does not slice
    const int dinp_rows = IC < N;    // rows of dinp (each packs W, OC x IC) or columns (each packs dout, N x OC)
    const int dw_rows = IC <= OC;    // rows of dW (each packs inp, N x IC) or columns (each packs dout)
    if (gemm_amx_wanted((double)N * IC * OC)) {   // a product it cannot do (-1) falls back to OpenBLAS
        if (dinp && (wc ? gemm_amx_coded_nn(dinp, IC, 1.0f, dout, OC, wc, N, IC, OC)
                        : gemm_amx(dinp, IC, 1.0f, dout, OC, 0, w, IC, 0, N, IC, OC)) == 0)
            dinp = NULL;
        if (dw && gemm_amx(dw, IC, 1.0f, dout, OC, 1, inp, IC, 0, OC, IC, N) == 0) dw = NULL;
    }
    #pragma omp parallel if ((double)N * IC * OC >= LINEAR_PARALLEL_FLOPS)
    {
        const int parts = omp_get_num_threads(), id = omp_get_thread_num();
        int lo, hi;
        // dinp (N,IC) += dout (N,OC) . W (OC,IC)
        slice(dinp_rows ? N : IC, parts, id, &lo, &hi);
        if (dinp && hi > lo && dinp_rows)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, hi - lo, IC, OC, 1.0f, dout + (size_t)lo * OC, OC, w, IC,
                        1.0f, dinp + (size_t)lo * IC, IC);
        else if (dinp && hi > lo)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, hi - lo, OC, 1.0f, dout, OC, w + lo, IC, 1.0f,
                        dinp + lo, IC);
        // dW (OC,IC) += dout^T (OC,N) . inp (N,IC)
        slice(dw_rows ? OC : IC, parts, id, &lo, &hi);
        if (dw && hi > lo && dw_rows)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, hi - lo, IC, N, 1.0f, dout + lo, OC, inp, IC, 1.0f,
                        dw + (size_t)lo * IC, IC);
        else if (dw && hi > lo)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, hi - lo, N, 1.0f, dout, OC, inp + lo, IC, 1.0f,
                        dw + lo, IC);
    }
    if (dbias) {
        #pragma omp parallel for if ((size_t)N * OC >= 65536)
        for (int o = 0; o < OC; o++) {
            float s = 0.0f;
            for (int n = 0; n < N; n++) s += dout[(size_t)n * OC + o];
            dbias[o] += s;
        }
    }
}
