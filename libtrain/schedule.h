// schedule.h: learning-rate schedules as a factor in [0, 1] of each group's peak LR
// (lb_adamw_step(opt, lb_schedule_factor(&s, step))).
#pragma once
#include <stdint.h>

typedef enum lb_schedule_kind {
    LB_SCHED_CONSTANT = 0,   // warmup, then 1
    LB_SCHED_COSINE,         // warmup, then cosine from 1 to min_ratio at step total
    LB_SCHED_WSD,            // warmup-stable-decay: warmup, 1 until total - decay_steps, then linear to min_ratio
    LB_SCHED_COUNT
} lb_schedule_kind;

typedef struct lb_schedule {
    lb_schedule_kind kind;
    int64_t total;         // steps in the run
    int64_t warmup;        // linear warmup steps: factor (step+1)/warmup for step < warmup
    int64_t decay_steps;   // WSD: length of the final decay (e.g. total/10)
    float min_ratio;       // factor at the end of the decay (e.g. 0.1)
} lb_schedule;

// step counts from 0; steps >= total give min_ratio (constant: 1)
float lb_schedule_factor(const lb_schedule *s, int64_t step);
const char *lb_schedule_name(lb_schedule_kind k);   // "constant", "cosine", "wsd"
int lb_schedule_from_name(const char *name);        // -1 if unknown
