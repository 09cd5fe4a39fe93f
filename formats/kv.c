// kv.c: PLACEHOLDER (replaced by the formats work)
#include "kv.h"
