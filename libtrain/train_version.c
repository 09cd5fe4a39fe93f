// train_version.c: keeps the library non-empty until its ops land.
#include "train.h"
const char *lb_train_version(void);
const char *lb_train_version(void) { return "lowbit-train 0"; }
