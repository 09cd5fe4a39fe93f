// trainer.h: the `lowbit train` loop. One optimizer step:
//   zero grads -> QAT forward of every quantized linear (w_eff) -> for each micro-batch:
//   model forward + backward (dL/dw_eff accumulates in the weight's grad slot) -> QAT backward
//   (dL/dW, dscales) -> scale by 1/grad_accum -> clip -> guard -> AdamW with the schedule's LR.
// Determinism: batches are a pure function of (seed, batch index), every reduction runs in a
// fixed order for a fixed thread count, so `--resume` from a checkpoint of step k reproduces
// the uninterrupted run's losses bit for bit.
// Checkpoints (formats/h5_checkpoint.h), written atomically to checkpoint.dir/step-NNNNNNNN.h5:
//   weights/<gguf name>            the master weights, numpy shape (rows, cols) or (n)
//   adam_m/<name>, adam_v/<name>   AdamW moments of each
//   scales/<name>                  QAT scales of a quantized linear (rows, K/group)
//   adam_m/scales/<name>, adam_v/scales/<name>   their moments (learned scales only)
//   attributes: step, adam_t, data_position (next batch index), rng_state (seed, step),
//   guard_ema, guard_seen, config (the YAML text), arch, n_params
// SIGINT / SIGTERM: the current step finishes, a checkpoint is written, exit 0.
#pragma once
#include "lb_error.h"

// 0: finished (or stopped cleanly by a signal), -1: error in err (config, data, guard trip...)
int lb_train_run(const char *config_path, const char *resume_path, lb_err *err);
