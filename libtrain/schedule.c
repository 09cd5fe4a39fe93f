// schedule.c: warmup + cosine / warmup-stable-decay LR factors (see schedule.h).
#include "schedule.h"
#include <math.h>
#include <string.h>
#include <strings.h>

static const char *const g_sched_names[LB_SCHED_COUNT] = { "constant", "cosine", "wsd" };

const char *lb_schedule_name(lb_schedule_kind k) { return (unsigned)k < LB_SCHED_COUNT ? g_sched_names[k] : "?"; }

int lb_schedule_from_name(const char *name) {
    for (int k = 0; k < LB_SCHED_COUNT; k++) if (name && strcasecmp(name, g_sched_names[k]) == 0) return k;
    return -1;
}

float lb_schedule_factor(const lb_schedule *s, int64_t step) {
    if (step < 0) step = 0;
    // warmup counts the step being taken, so step 0 already moves the weights (llm.c)
    if (step < s->warmup) return (float)((double)(step + 1) / (double)s->warmup);
    const double lo = s->min_ratio;
    switch (s->kind) {
    case LB_SCHED_COSINE: {
        if (step >= s->total) return (float)lo;
        const double span = (double)(s->total - s->warmup);
        const double p = span > 0 ? (double)(step - s->warmup) / span : 1.0;
        return (float)(lo + (1.0 - lo) * 0.5 * (1.0 + cos(3.14159265358979323846 * p)));
    }
    case LB_SCHED_WSD: {
        if (step >= s->total) return (float)lo;
        int64_t start = s->total - s->decay_steps;
        if (start < s->warmup) start = s->warmup;
        if (step < start) return 1.0f;
        const double span = (double)(s->total - start);
        const double p = (double)(step - start) / span;   // span > 0: start <= step < total
        return (float)(1.0 - (1.0 - lo) * p);
    }
    default:
        return 1.0f;
    }
}
