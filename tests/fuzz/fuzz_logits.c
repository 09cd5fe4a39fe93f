// fuzz_logits.c: libFuzzer target for the teacher-logit store reader (formats/h5_logits.c):
// open (attributes, dataset shapes/types) and read every window (row checks). The bytes go to
// a scratch file on /dev/shm (HDF5 opens files by name; it refuses /proc/self/fd/N of a memfd),
// so the real lb_logits_open path runs.
// Anything accepted must hold what the reader promises: ids in range, padding at the end,
// counts summing to S, finite logits, top-K logits descending.
// Build: CC=clang cmake -DLOWBIT_FUZZ=ON; tests/fuzz/replay.c runs the same function over
// tests/fuzz/corpus/logits in a normal build (seeds: `test_h5_logits corpus DIR`).
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "h5_logits.h"

// windows larger than this are only opened, not read (valid, but slow to fuzz)
#define MAX_WINDOW_VALUES (1 << 20)

static void check_window(const lb_logits_info *in, const float *l, const int32_t *ids, const uint8_t *c) {
    const int T = in->seq_len, W = in->mode == LB_LOGITS_FULL ? in->n_vocab : in->k;
    for (int t = 0; t < T; t++) {
        int sum = 0, padded = 0;
        for (int j = 0; j < W; j++) {
            const size_t i = (size_t)t * W + j;
            if (in->mode != LB_LOGITS_SAMPLED && !isfinite(l[i]) && !(in->mode == LB_LOGITS_TOPK && ids[i] == -1)) abort();
            if (in->mode == LB_LOGITS_FULL) continue;
            if (ids[i] < -1 || ids[i] >= in->n_vocab) abort();
            if (ids[i] == -1) padded = 1;
            else if (padded) abort();
            if (in->mode == LB_LOGITS_TOPK && j > 0 && ids[i] >= 0 && l[i] > l[i - 1]) abort();
            if (in->mode == LB_LOGITS_SAMPLED) sum += c[i];
        }
        if (in->mode == LB_LOGITS_SAMPLED && sum != W) abort();
    }
}

static char path[128];
static void remove_scratch(void) { unlink(path); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!path[0]) {
        snprintf(path, sizeof path, "%s/lowbit-fuzz-logits-%ld.h5", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (long)getpid());
        atexit(remove_scratch);
    }
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    const size_t put = fwrite(data, 1, size, f);
    if (fclose(f) != 0 || put != size) return 0;
    lb_err err = {{0}};
    lb_logits_reader *r = lb_logits_open(path, &err);
    if (r) {
        const lb_logits_info *in = lb_logits_reader_info(r);
        const size_t W = in->mode == LB_LOGITS_FULL ? (size_t)in->n_vocab : (size_t)in->k, n = (size_t)in->seq_len * W;
        if (n <= MAX_WINDOW_VALUES) {
            float *l = malloc(n * sizeof *l);
            int32_t *ids = malloc(n * sizeof *ids);
            uint8_t *c = malloc(n);
            for (int64_t w = 0; w < in->n_windows && w < 64 && l && ids && c; w++)
                if (lb_logits_read_window(r, w, l, ids, c, &err) == 0) check_window(in, l, ids, c);
            free(l);
            free(ids);
            free(c);
        }
        lb_logits_close(r);
    } else if (!err.msg[0] || strchr(err.msg, '\n')) {
        abort();   // every refusal is one line
    }
    return 0;
}
