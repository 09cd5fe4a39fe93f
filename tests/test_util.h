// test_util.h: tiny helpers shared by C tests. A test prints what it checked and returns
// 0 on pass, 1 on failure, 77 on skip (ctest SKIP_RETURN_CODE 77).
#pragma once
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TEST_SKIP 77

// Where ../shared/data lives (LOWBIT_DATA env). Returns the full path of rel in buf, or NULL
// after printing why when the file is missing: the caller returns lb_test_missing().
static inline const char *lb_test_data(const char *rel, char *buf, size_t cap) {
    const char *dir = getenv("LOWBIT_DATA");
    if (!dir || !*dir) dir = "../shared/data";
    snprintf(buf, cap, "%s/%s", dir, rel);
    struct stat st;
    if (stat(buf, &st) != 0) {
        fprintf(stderr, "missing test data: %s (shared/data/%s; see shared/data/SOURCES.md; set LOWBIT_DATA)\n", buf, rel);
        return NULL;
    }
    return buf;
}
// exit status for missing data: failure under CI=true, skip otherwise
static inline int lb_test_missing(void) {
    const char *ci = getenv("CI");
    return (ci && strcmp(ci, "true") == 0) ? 1 : TEST_SKIP;
}

#define CHECK(cond, ...) do { if (!(cond)) { fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fprintf(stderr, "\n"); return 1; } } while (0)
