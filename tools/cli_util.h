// cli_util.h: small helpers every subcommand shares: strict number parsing for options
// and whole-file reads with one-line errors.
#pragma once
#include <stddef.h>
#include "lb_error.h"

// whole string must be a number within [lo, hi]; 0 ok, -1 otherwise
int lb_cli_parse_long(const char *s, long lo, long hi, long *out);
int lb_cli_parse_float(const char *s, float lo, float hi, float *out);

// Read a whole file into a NUL-terminated malloc'd buffer; *len receives the byte count
// (len may be NULL). Errors name the file.
char *lb_cli_read_file(const char *path, size_t *len, lb_err *err);
