// gemm_amx.h: fp32 matrix products on Intel AMX, accurate to fp32 (see gemm_amx.c for how)
//
//   C (M,N) = beta * C + op(A) (M,K) . op(B) (K,N)      all row-major fp32
//   op(A) = A (lda >= K) when ta == 0, A^T (A stored (K,M), lda >= M) when ta == 1
//   op(B) = B (ldb >= N) when tb == 0, B^T (B stored (N,K), ldb >= K) when tb == 1
//
// Used by op_linear.c for the big products of a training step, in place of cblas_sgemm, when
// the CPU has AMX-BF16 (Sapphire Rapids and later) and the product is large enough to repay
// the operand packing. LOWBIT_GEMM=blas in the environment turns it off (every product goes to
// OpenBLAS); LOWBIT_GEMM=amx uses it for products of every size (tests); LOWBIT_GEMM=auto or
// unset is the default (any other value: the default, with one warning on stderr). Callers in
// several threads at once are safe: they take turns on the one packing workspace.
#pragma once
#include <stddef.h>
#include <stdint.h>

// 1 when the CPU and the kernel allow AMX-BF16 (asks Linux for the tile state once)
int gemm_amx_available(void);

// 1 when a product of M*N*K multiply-adds should go to gemm_amx (available, not turned off,
// and large enough; LOWBIT_GEMM=amx makes every size qualify)
int gemm_amx_wanted(double mnk);

// the most packing workspace a product takes with `threads` threads (kept between calls)
size_t gemm_amx_workspace_max(int threads);

// the product above, parallel over the calling OpenMP team size (omp_get_max_threads); call it
// from outside a parallel region. beta == 0 never reads C (it may hold NaN garbage). The result
// does not depend on the thread count. Returns 0, or -1 when AMX is unavailable or the packing
// buffers cannot be allocated (C is then unchanged).
int gemm_amx(float *C, int ldc, float beta, const float *A, int lda, int ta, const float *B, int ldb, int tb, int M,
             int N, int K);

// A weight W (rows, cols) given as diag(step) . (mul * codes + add): W[r][c] = step[r] *
// (mul * codes[r][c] + add), the form of a per-row-scaled QAT grid (SEQ 2-bit: mul 2, add 1,
// LSQ: mul 1, add 0; fakequant.c). The integers mul * code + add are exact in bf16 (|.| <= 256),
// so the weight side needs one bf16 part instead of three: 3 tile products instead of 6. The
// step is applied in fp32 (to C's columns, or to A's columns before splitting), so the result
// differs from the product with W_eff = fl(step * value) only by fp32 rounding.
typedef struct gemm_coded {
    const int8_t *codes;   // rows x cols, row-major, leading dimension cols
    const float *step;     // one per row
    int mul, add;
} gemm_coded;

// C (M,N) = beta C + A (M,K) . W^T with W (N,K) coded: a linear layer's forward
int gemm_amx_coded_nt(float *C, int ldc, float beta, const float *A, int lda, const gemm_coded *W, int M, int N, int K);
// C (M,N) = beta C + A (M,K) . W with W (K,N) coded: a linear layer's input gradient
int gemm_amx_coded_nn(float *C, int ldc, float beta, const float *A, int lda, const gemm_coded *W, int M, int N, int K);
