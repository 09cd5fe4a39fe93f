// lb_error.h: one error value passed down every fallible call.
// A failing function fills err->msg with one line that names the file and the problem
// ("stories.bin: truncated header (12 of 28 bytes)") and returns -1 (or NULL).
// The CLI prints "lowbit: <msg>" and exits non-zero; nothing else prints errors.
#pragma once
#include <stdarg.h>

typedef struct lb_err {
    char msg[512];
} lb_err;

// printf-style; always NUL-terminates, truncates quietly. Returns -1 so callers can
// `return lb_fail(err, "...")`. err may be NULL.
int lb_fail(lb_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
