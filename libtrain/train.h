// train.h: libtrain, the training engine (forward/backward per op, losses, AdamW, loop).
// Umbrella header: include this to get all of it.
#pragma once
#include "ops.h"
#include "train_model.h"
