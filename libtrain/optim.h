// optim.h: AdamW with parameter groups, global-norm gradient clipping, gradient accumulation
// scaling and a NaN/loss-spike guard.
//
// The optimizer does not own parameters or gradients: the trainer registers each tensor
// (param, grad, n, group) once, then build_adamw_state allocates the moments of all of them in
// ONE zeroed block (state = [m of every tensor | v of every tensor], 2*nparams floats) that a
// checkpoint can write and read back as is, together with `t`.
// Groups carry their own peak LR and decoupled weight decay: by convention group 0 holds the
// weights and group 1 the quantizer scales (weight decay 0 by default, REFERENCE §2.1).
// Per-step functions allocate nothing and are deterministic (element-wise updates; norms summed
// in double in registration order).
#pragma once
#include <stdint.h>
#include <stddef.h>

#define LB_ADAMW_MAX_GROUPS 4
enum { LB_GROUP_WEIGHTS = 0, LB_GROUP_SCALES = 1 };

typedef struct lb_adamw_group {
    float lr;             // peak learning rate (multiplied by the schedule's factor each step)
    float weight_decay;   // decoupled: p -= lr_t * wd * p
} lb_adamw_group;

typedef struct lb_adamw_tensor {
    float *param;
    float *grad;
    int64_t n;
    int group;
    int64_t offset;       // where its m (and v, + nparams) live in state
} lb_adamw_tensor;

typedef struct lb_adamw {
    float beta1, beta2, eps;
    lb_adamw_group groups[LB_ADAMW_MAX_GROUPS];
    lb_adamw_tensor *tensors;
    int ntensors, cap;
    int64_t nparams;      // sum of the registered n
    float *state;         // 2*nparams floats: m then v (NULL until build_adamw_state)
    int64_t t;            // steps taken (bias correction uses t after increment)
} lb_adamw;

// defaults: beta1 0.9, beta2 0.95, eps 1e-8; groups: weights lr 3e-4 wd 0.1, scales lr 3e-4 wd 0
void lb_adamw_init(lb_adamw *opt);
int lb_adamw_set_group(lb_adamw *opt, int group, float lr, float weight_decay);
// register a tensor (before build_adamw_state). 0 or -1 (err: bad group, n, or out of memory)
int lb_adamw_add(lb_adamw *opt, float *param, float *grad, int64_t n, int group, char *err, size_t errlen);
// allocate the zeroed moments; 0 or -1
int build_adamw_state(lb_adamw *opt, char *err, size_t errlen);
void free_adamw(lb_adamw *opt);

// One AdamW step on every registered tensor with lr_t = group.lr * lr_factor (the schedule's
// factor, lb_schedule_factor). torch.optim.AdamW's update:
//   p *= 1 - lr_t*wd;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
//   p -= lr_t/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
void lb_adamw_step(lb_adamw *opt, float lr_factor);
// the same update on one array (the kernel lb_adamw_step runs; t is the step count after increment)
void lb_adamw_update(float *param, float *m, float *v, const float *grad, int64_t n,
                     float lr, float beta1, float beta2, float eps, float weight_decay, int64_t t);

// --- gradients ---------------------------------------------------------------------------------

// L2 norm of all registered gradients (double accumulation); NaN/Inf if any gradient is
float lb_grad_global_norm(const lb_adamw *opt);
// Clip to max_norm: if norm > max_norm, every gradient *= max_norm / (norm + 1e-6) (as torch's
// clip_grad_norm_). Returns the norm before clipping. A non-finite norm is returned unchanged and
// nothing is scaled (the guard decides what to do). max_norm <= 0: no clipping.
float lb_grad_clip(lb_adamw *opt, float max_norm);
// every gradient *= s (gradient accumulation: the caller sums micro-batch grads, then s = 1/n)
void lb_grad_scale(lb_adamw *opt, float s);
void lb_grad_zero(lb_adamw *opt);

// --- guard -------------------------------------------------------------------------------------

// Stops training on a non-finite loss or gradient norm, or on a loss spike: loss > spike_factor *
// EMA(loss) once `warmup` finite losses have been seen. Flagged losses do not enter the EMA.
typedef struct lb_guard {
    float spike_factor;   // 0 disables spike detection (default 3)
    float ema_decay;      // default 0.95
    int64_t warmup;       // losses seen before spikes are judged (default 20)
    double ema;
    int64_t seen;
    char reason[192];
} lb_guard;

void lb_guard_init(lb_guard *g, float spike_factor, int64_t warmup);
// NULL if the step is fine, else a one-line reason (stored in g->reason), e.g.
// "loss is nan at step 12" or "loss spike at step 40: 9.1 > 3 x running mean 2.2"
const char *lb_guard_check(lb_guard *g, int64_t step, float loss, float grad_norm);
