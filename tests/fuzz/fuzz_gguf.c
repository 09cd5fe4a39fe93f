// fuzz_gguf.c: libFuzzer target for the GGUF reader (and, for files it accepts, the model
// view, hparams, f32 materialization and a writer round trip).
// The bytes go to a memfd so the real lb_gguf_open path (open/fstat/mmap) is exercised.
// Build: CC=clang cmake -DLOWBIT_FUZZ=ON; tests/fuzz/replay.c runs the same function over
// the regression corpus in a normal build.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "gguf.h"
#include "lb_types.h"
#include "model.h"

static char dir[64];
static void remove_dir(void) { rmdir(dir); }

// Anything the reader accepts must survive write -> read with the same metadata.
static void round_trip(const lb_gguf *g) {
    if (g->alignment > 65536) return;   // legal, but the rewrite would pad gigabytes
    if (!dir[0]) {   // a private scratch dir on tmpfs, removed at exit
        snprintf(dir, sizeof dir, "/dev/shm/lowbit-fuzz-gguf-%ld", (long)getpid());
        if (mkdir(dir, 0700) == 0) atexit(remove_dir);
        else snprintf(dir, sizeof dir, "/tmp");
    }
    char path[128];
    snprintf(path, sizeof path, "%s/rt-%ld.gguf", dir, (long)getpid());
    lb_err err;
    lb_gguf_writer *w = lb_gguf_writer_open(path, &g->kv, g->tensors, g->n_tensors, LB_GGUF_DEFAULT_ALIGNMENT, &err);
    if (!w) { fprintf(stderr, "writer refused what the reader accepted: %s\n", err.msg); abort(); }
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (lb_gguf_writer_put(w, i, g->tensors[i].data, g->tensors[i].nbytes, &err)) {
            fprintf(stderr, "writer put failed: %s\n", err.msg);
            abort();
        }
    if (lb_gguf_writer_close(w, &err)) { fprintf(stderr, "writer close failed: %s\n", err.msg); abort(); }
    lb_gguf h;
    if (lb_gguf_open(&h, path, &err)) { fprintf(stderr, "re-read failed: %s\n", err.msg); abort(); }
    if (h.kv.n != g->kv.n || h.n_tensors != g->n_tensors) abort();
    for (size_t i = 0; i < h.kv.n; i++)
        if (strcmp(h.kv.v[i].key, g->kv.v[i].key) || h.kv.v[i].type != g->kv.v[i].type || h.kv.v[i].n != g->kv.v[i].n) abort();
    for (uint64_t i = 0; i < h.n_tensors; i++)
        if (strcmp(h.tensors[i].name, g->tensors[i].name) || h.tensors[i].nbytes != g->tensors[i].nbytes ||
            memcmp(h.tensors[i].data, g->tensors[i].data, h.tensors[i].nbytes)) abort();
    lb_gguf_close(&h);
    unlink(path);
}

static void exercise_model(const char *path) {
    lb_model m;
    lb_err err;
    if (lb_model_from_gguf(&m, path, &err)) return;
    lb_hparams hp;
    (void)lb_hparams_from_model(&hp, &m, path, &err);
    float buf[4096];
    for (size_t i = 0; i < m.n_tensors; i++) {
        const lb_tensor *t = &m.tensors[i];
        if (t->ne[0] <= 0 || t->ne[0] > 4096) continue;
        int64_t rows = t->ne[1] * t->ne[2] * t->ne[3];
        if (rows > 0) (void)lb_tensor_read_f32(t, rows - 1, 1, buf, &err);   // last row: touches the end of the data
    }
    lb_model_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int fd = memfd_create("fuzz.gguf", MFD_CLOEXEC);
    if (fd < 0) return 0;
    if (size && write(fd, data, size) != (ssize_t)size) { close(fd); return 0; }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    lb_gguf g;
    lb_err err;
    if (lb_gguf_open(&g, path, &err) == 0) {
        round_trip(&g);
        lb_gguf_close(&g);
        exercise_model(path);
    } else if (!strchr(err.msg, ':') || strchr(err.msg, '\n')) {
        abort();   // every error is one line naming the file
    }
    close(fd);
    return 0;
}
