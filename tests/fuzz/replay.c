// replay.c: run a libFuzzer target's LLVMFuzzerTestOneInput over every file of a corpus
// directory in a normal (non-fuzz) build, so regression inputs are checked on every ctest.
// Generic: link it with any tests/fuzz/fuzz_<parser>.c.
//   usage: replay PARSER CORPUS_DIR      (PARSER only labels the output)
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s PARSER CORPUS_DIR\n", argv[0]); return 2; }
    DIR *d = opendir(argv[2]);
    if (!d) { perror(argv[2]); return 1; }
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        names = realloc(names, (n + 1) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);   // deterministic order
    size_t done = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[2], names[i]);
        FILE *f = fopen(path, "rb");
        if (!f) { perror(path); return 1; }
        fseek(f, 0, SEEK_END);
        long sz = ftell(f);
        fseek(f, 0, SEEK_SET);
        if (sz < 0) { fclose(f); continue; }   // a directory or unreadable entry
        uint8_t *buf = malloc((size_t)sz + 1);
        size_t got = fread(buf, 1, (size_t)sz, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, got);   // a crash or abort fails the test
        free(buf);
        free(names[i]);
        done++;
    }
    free(names);
    if (done == 0) { fprintf(stderr, "%s: corpus %s is empty\n", argv[1], argv[2]); return 1; }
    printf("%s: replayed %zu corpus files without a crash\n", argv[1], done);
    return 0;
}
