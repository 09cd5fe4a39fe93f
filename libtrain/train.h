// train.h: libtrain, the training engine (forward/backward per op, losses, AdamW, loop).
// Umbrella header: include this to get all of it.
#pragma once
#include "ops.h"
#include "train_model.h"
#include "fakequant.h"     // QAT weight quantizers (forward/backward) on libquant's grids
#include "optim.h"         // AdamW, clipping, accumulation, NaN/spike guard
#include "schedule.h"      // cosine / warmup-stable-decay learning rates
#include "data_loader.h"   // deterministic (B,T) windows from an HDF5 token store
#include "kd.h"            // distillation losses (forward/reverse KL, CAKLD, top-K, sampled)
