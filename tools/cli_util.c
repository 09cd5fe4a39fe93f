// cli_util.c: see cli_util.h.
#include "cli_util.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lb_cli_parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int lb_cli_parse_float(const char *s, float lo, float hi, float *out) {
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) return -1;
    *out = v;
    return 0;
}

char *lb_cli_read_file(const char *path, size_t *len, lb_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) { lb_fail(err, "%s: %s", path, strerror(errno)); return NULL; }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf) { fclose(f); lb_fail(err, "%s: out of memory", path); return NULL; }
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        char *bigger = realloc(buf, 2 * cap + 1);
        if (!bigger) free(buf);
        buf = bigger;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) { free(buf); lb_fail(err, "%s: read error", path); return NULL; }
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}
