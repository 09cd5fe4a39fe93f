// train.h: libtrain, the training engine (forward/backward per op, losses, AdamW, loop).
// Filled by the libtrain issue; for now only the ops the foundation needs.
#pragma once
