// test_h5.c: HDF5 token stores, checkpoints and the data loader.
//  - token store: written in uneven appends, read back identical; zstd filter 32015 on both
//    datasets and the file much smaller than the raw ids; out-of-vocab ids, truncated and
//    garbage files -> one-line errors; an aborted writer leaves nothing behind
//  - checkpoint: tensors + attributes read back identical; wrong shape / missing tensor /
//    missing attribute -> errors naming them; a writer killed mid-write (fork + _exit from the
//    write hook) and a writer failing mid-write both leave the previous checkpoint intact
//  - loader: windows come from the data, targets = inputs shifted by one, same (seed, step)
//    -> same batch, resume from a saved step continues identically, ranks partition the
//    single-rank sample stream, starts cover the data evenly
// Usage: test_h5 DIR   (writes tokens.h5 and ckpt.h5 into DIR for tests/h5/check_h5py.py,
// which recomputes the same values from the formulas below independently)
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "data_loader.h"
#include "h5_checkpoint.h"
#include "h5_tokens.h"
#include "h5_zstd.h"
#include "test_util.h"

// --- the deterministic contents (tests/h5/check_h5py.py has the same formulas) ---------
#define N_TRAIN 300000
#define N_VAL 5003
#define N_VOCAB 512
static int32_t train_id(int64_t i) { return (int32_t)((i / 3 + (i % 7) * 11) % 509); }
static int32_t val_id(int64_t i) { return (int32_t)((i * 13) % N_VOCAB); }
// exactly representable in float32, so Python compares bit for bit
static float ckpt_value(int64_t i, int k) { return (float)((i * (k + 3)) % 1000 - 500) / 64.0f; }

static long file_size(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}
static int exists(const char *p) { return access(p, F_OK) == 0; }

static int copy_truncated(const char *src, const char *dst, long keep) {
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    if (!in || !out) return -1;
    for (long i = 0; i < keep; i++) {
        int c = fgetc(in);
        if (c == EOF) break;
        fputc(c, out);
    }
    fclose(in);
    fclose(out);
    return 0;
}

static int one_line(const char *msg) { return msg[0] && !strchr(msg, '\n'); }

// copy src to dst with byte pos XOR 0x5a
static int copy_flipped(const char *src, const char *dst, long pos) {
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    if (!in || !out) return -1;
    for (long i = 0;; i++) {
        int c = fgetc(in);
        if (c == EOF) break;
        fputc(i == pos ? c ^ 0x5a : c, out);
    }
    fclose(in);
    fclose(out);
    return 0;
}

// --- token store ------------------------------------------------------------------

static int write_tokens(const char *path, lb_err *err) {
    lb_tokens_writer *w = lb_tokens_writer_create(path, err);
    if (!w) return -1;
    int32_t *buf = malloc(N_TRAIN * sizeof *buf);
    for (int64_t i = 0; i < N_TRAIN; i++) buf[i] = train_id(i);
    // uneven pieces, crossing chunk boundaries, interleaved with val appends
    size_t pieces[] = {1, 65535, 2, 100000, 0, 70000}, at = 0, vat = 0;
    for (size_t p = 0; p < sizeof pieces / sizeof *pieces; p++) {
        if (lb_tokens_writer_append(w, LB_SPLIT_TRAIN, buf + at, pieces[p], err)) goto fail;
        at += pieces[p];
        int32_t v[1000];
        size_t nv = vat + 1000 <= N_VAL ? 1000 : N_VAL - vat;
        for (size_t i = 0; i < nv; i++) v[i] = val_id((int64_t)(vat + i));
        if (lb_tokens_writer_append(w, LB_SPLIT_VAL, v, nv, err)) goto fail;
        vat += nv;
    }
    if (lb_tokens_writer_append(w, LB_SPLIT_TRAIN, buf + at, N_TRAIN - at, err)) goto fail;
    for (; vat < N_VAL; vat++) {
        int32_t v = val_id((int64_t)vat);
        if (lb_tokens_writer_append(w, LB_SPLIT_VAL, &v, 1, err)) goto fail;
    }
    free(buf);
    lb_tokens_info info = {.n_vocab = N_VOCAB, .bos_id = 1, .tokenizer_model = "llama", .vocab_source = "formula",
                           .sources = "a.txt\nb.txt\n", .split_rule = "test formula", .val_fraction = 0.25};
    return lb_tokens_writer_finish(w, &info, err);
fail:
    free(buf);
    lb_tokens_writer_abort(w);
    return -1;
}

static int test_tokens(const char *dir) {
    char path[4096], bad[4200];
    snprintf(path, sizeof path, "%s/tokens.h5", dir);
    lb_err err = {{0}};
    unlink(path);
    CHECK(write_tokens(path, &err) == 0, "write tokens: %s", err.msg);
    char tmp[4200];
    lb_h5_tmp_path(tmp, sizeof tmp, path);
    CHECK(!exists(tmp), "temp file %s left behind", tmp);

    int32_t *ids = NULL;
    size_t n = 0;
    lb_tokens_info info;
    CHECK(lb_tokens_read(path, LB_SPLIT_TRAIN, &ids, &n, &info, &err) == 0, "read train: %s", err.msg);
    CHECK(n == N_TRAIN, "train has %zu ids, want %d", n, N_TRAIN);
    for (size_t i = 0; i < n; i++) CHECK(ids[i] == train_id((int64_t)i), "train[%zu] = %d, want %d", i, ids[i], train_id((int64_t)i));
    CHECK(info.n_vocab == N_VOCAB && info.bos_id == 1 && !strcmp(info.tokenizer_model, "llama") &&
          !strcmp(info.sources, "a.txt\nb.txt\n") && !strcmp(info.split_rule, "test formula") &&
          info.val_fraction == 0.25 && info.n_train == N_TRAIN && info.n_val == N_VAL, "attributes differ");
    lb_tokens_info_free(&info);
    free(ids);
    CHECK(lb_tokens_read(path, LB_SPLIT_VAL, &ids, &n, NULL, &err) == 0, "read val: %s", err.msg);
    CHECK(n == N_VAL, "val has %zu ids", n);
    for (size_t i = 0; i < n; i++) CHECK(ids[i] == val_id((int64_t)i), "val[%zu] = %d", i, ids[i]);
    free(ids);

    // the zstd filter is on both datasets, and it compresses
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(f >= 0, "reopen");
    for (int s = 0; s < 2; s++) {
        hid_t d = H5Dopen2(f, lb_split_name((lb_split)s), H5P_DEFAULT);
        CHECK(lb_h5_has_filter(d, LB_H5Z_FILTER_ZSTD) == 1, "/%s lacks filter 32015", lb_split_name((lb_split)s));
        hsize_t stored = H5Dget_storage_size(d);
        const hsize_t raw = (s ? N_VAL : N_TRAIN) * 4;
        printf("tokens: /%s %llu raw bytes -> %llu stored (%.1fx)\n", lb_split_name((lb_split)s), (unsigned long long)raw,
               (unsigned long long)stored, (double)raw / (double)stored);
        CHECK(stored * 4 < raw, "/%s not compressed: %llu of %llu bytes", lb_split_name((lb_split)s), (unsigned long long)stored,
              (unsigned long long)raw);
        H5Dclose(d);
    }
    H5Fclose(f);
    const long fsz = file_size(path);
    printf("tokens: file %ld bytes for %d ids (%d raw bytes)\n", fsz, N_TRAIN + N_VAL, (N_TRAIN + N_VAL) * 4);
    CHECK(fsz > 0 && fsz * 4 < (N_TRAIN + N_VAL) * 4, "file not smaller than raw");

    // hostile files: truncated at several points, garbage, empty, missing
    const long cuts[] = {0, 8, 512, 2048, fsz / 2, fsz - 100, fsz - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        snprintf(bad, sizeof bad, "%s/truncated.h5", dir);
        CHECK(copy_truncated(path, bad, cuts[i]) == 0, "copy");
        err.msg[0] = 0;
        int rc = lb_tokens_read(bad, LB_SPLIT_TRAIN, &ids, &n, NULL, &err);
        if (rc == 0) free(ids);
        CHECK(rc == -1 && one_line(err.msg) && strstr(err.msg, "truncated.h5"), "truncated at %ld: rc %d, '%s'", cuts[i], rc, err.msg);
        printf("tokens: truncated at %ld -> %s\n", cuts[i], err.msg);
    }
    // a flipped byte anywhere: a one-line error, or (flips in unused bytes) the exact same ids;
    // never a crash and never silently different ids (metadata checksums, zstd frame checksums)
    int n_rejected = 0, n_same = 0;
    for (long pos = 0; pos < fsz; pos += fsz / 600 + 1) {
        snprintf(bad, sizeof bad, "%s/flipped.h5", dir);
        CHECK(copy_flipped(path, bad, pos) == 0, "copy");
        err.msg[0] = 0;
        if (lb_tokens_read(bad, LB_SPLIT_TRAIN, &ids, &n, NULL, &err) == 0) {
            CHECK(n == N_TRAIN, "flip at %ld: %zu ids", pos, n);
            for (size_t i = 0; i < n; i++) CHECK(ids[i] == train_id((int64_t)i), "flip at %ld changed train[%zu] silently", pos, i);
            free(ids);
            n_same++;
        } else {
            CHECK(one_line(err.msg), "flip at %ld: no one-line error", pos);
            n_rejected++;
        }
    }
    printf("tokens: %d single-byte flips -> %d rejected with one line, %d read back identical (bytes /train does not use)\n",
           n_rejected + n_same, n_rejected, n_same);
    snprintf(bad, sizeof bad, "%s/garbage.h5", dir);
    FILE *g = fopen(bad, "wb");
    for (int i = 0; i < 10000; i++) fputc((i * 131 + 7) & 255, g);
    fclose(g);
    CHECK(lb_tokens_read(bad, LB_SPLIT_TRAIN, &ids, &n, NULL, &err) == -1 && one_line(err.msg), "garbage accepted");
    printf("tokens: garbage -> %s\n", err.msg);
    CHECK(lb_tokens_read("/nonexistent/x.h5", LB_SPLIT_TRAIN, &ids, &n, NULL, &err) == -1 && strstr(err.msg, "x.h5"), "missing file");

    // an id outside the vocabulary is refused
    snprintf(bad, sizeof bad, "%s/oov.h5", dir);
    lb_tokens_writer *w = lb_tokens_writer_create(bad, &err);
    CHECK(w, "create: %s", err.msg);
    int32_t oov[3] = {5, 512, 7};
    CHECK(lb_tokens_writer_append(w, LB_SPLIT_TRAIN, oov, 3, &err) == 0, "append");
    lb_tokens_info info2 = {.n_vocab = 512, .bos_id = -1, .tokenizer_model = "llama"};
    CHECK(lb_tokens_writer_finish(w, &info2, &err) == 0, "finish: %s", err.msg);
    CHECK(lb_tokens_read(bad, LB_SPLIT_TRAIN, &ids, &n, NULL, &err) == -1 && strstr(err.msg, "outside the vocabulary"),
          "oov accepted: %s", err.msg);
    printf("tokens: out of vocab -> %s\n", err.msg);
    // an aborted writer leaves neither the file nor its temp
    snprintf(bad, sizeof bad, "%s/aborted.h5", dir);
    unlink(bad);
    w = lb_tokens_writer_create(bad, &err);
    CHECK(w && lb_tokens_writer_append(w, LB_SPLIT_TRAIN, oov, 1, &err) == 0, "create");
    lb_tokens_writer_abort(w);
    lb_h5_tmp_path(tmp, sizeof tmp, bad);
    CHECK(!exists(bad) && !exists(tmp), "aborted writer left a file");
    return 0;
}

// --- checkpoints ------------------------------------------------------------------

#define N_CK 4
static const char *ck_names[N_CK] = {"weights/token_embd.weight", "weights/blk.0.attn_q.weight", "adam_m/blk.0.attn_q.weight",
                                     "scales/blk.0.attn_q.weight"};
static const int ck_ndims[N_CK] = {2, 2, 2, 1};
static const int64_t ck_shape[N_CK][2] = {{512, 64}, {64, 64}, {64, 64}, {64, 0}};
static const char *ck_yaml = "model: stories260K.gguf\nlr: 3e-4 # comment\nquant:\n  type: seq2\n";

static int64_t ck_count(int k) { return ck_shape[k][0] * (ck_ndims[k] == 2 ? ck_shape[k][1] : 1); }

static int write_ckpt(const char *path, int64_t step, lb_err *err) {
    float *data[N_CK];
    lb_ckpt_tensor t[N_CK];
    for (int k = 0; k < N_CK; k++) {
        data[k] = malloc((size_t)ck_count(k) * sizeof(float));
        for (int64_t i = 0; i < ck_count(k); i++) data[k][i] = ckpt_value(i, k) + (float)step;
        t[k] = (lb_ckpt_tensor){.name = ck_names[k], .n_dims = ck_ndims[k], .data = data[k]};
        t[k].shape[0] = ck_shape[k][0], t[k].shape[1] = ck_shape[k][1];
    }
    const uint64_t rng[4] = {0x0123456789abcdefULL, 0xfedcba9876543210ULL, (uint64_t)step, UINT64_MAX};
    lb_ckpt_attr a[] = {
        {.name = "step", .type = LB_CKPT_I64, .i = step},
        {.name = "data_step", .type = LB_CKPT_I64, .i = 3 * step},
        {.name = "lr", .type = LB_CKPT_F64, .f = 3e-4},
        {.name = "config_yaml", .type = LB_CKPT_STR, .s = ck_yaml},
        {.name = "rng_state", .type = LB_CKPT_U64S, .u = rng, .n_u = 4},
    };
    int rc = lb_ckpt_write(path, t, N_CK, a, sizeof a / sizeof *a, err);
    for (int k = 0; k < N_CK; k++) free(data[k]);
    return rc;
}

// reads the whole checkpoint and checks every value against the formula for `step`
static int check_ckpt(const char *path, int64_t step) {
    lb_err err = {{0}};
    lb_ckpt c;
    CHECK(lb_ckpt_open(&c, path, &err) == 0, "open: %s", err.msg);
    for (int k = 0; k < N_CK; k++) {
        float *x = malloc((size_t)ck_count(k) * sizeof(float));
        CHECK(lb_ckpt_read(&c, ck_names[k], ck_ndims[k], ck_shape[k], x, &err) == 0, "read %s: %s", ck_names[k], err.msg);
        for (int64_t i = 0; i < ck_count(k); i++)
            CHECK(x[i] == ckpt_value(i, k) + (float)step, "%s[%lld] = %g", ck_names[k], (long long)i, x[i]);
        free(x);
    }
    int64_t s = 0, ds = 0;
    double lr = 0;
    char *yaml = NULL;
    uint64_t rng[4];
    CHECK(lb_ckpt_get_i64(&c, "step", &s, &err) == 0 && s == step, "step %lld: %s", (long long)s, err.msg);
    CHECK(lb_ckpt_get_i64(&c, "data_step", &ds, &err) == 0 && ds == 3 * step, "data_step");
    CHECK(lb_ckpt_get_f64(&c, "lr", &lr, &err) == 0 && lr == 3e-4, "lr");
    CHECK(lb_ckpt_get_str(&c, "config_yaml", &yaml, &err) == 0 && !strcmp(yaml, ck_yaml), "yaml");
    free(yaml);
    CHECK(lb_ckpt_get_u64s(&c, "rng_state", rng, 4, &err) == 0 && rng[0] == 0x0123456789abcdefULL &&
          rng[1] == 0xfedcba9876543210ULL && rng[2] == (uint64_t)step && rng[3] == UINT64_MAX, "rng");
    lb_ckpt_close(&c);
    return 0;
}

static void die_after_second_tensor(size_t i) {
    if (i == 1) _exit(42);   // a crash in the middle of writing: no cleanup runs
}

static int test_ckpt(const char *dir) {
    char path[4096], tmp[4200], bad[4200];
    snprintf(path, sizeof path, "%s/ckpt.h5", dir);
    lb_err err = {{0}};
    CHECK(write_ckpt(path, 7, &err) == 0, "write: %s", err.msg);
    if (check_ckpt(path, 7)) return 1;
    printf("ckpt: %d tensors + 5 attributes read back identical (%ld bytes)\n", N_CK, file_size(path));

    // wrong shape, missing tensor, missing attribute, wrong attribute type / count
    lb_ckpt c;
    CHECK(lb_ckpt_open(&c, path, &err) == 0, "open");
    float *x = malloc(512 * 64 * sizeof(float));
    const int64_t wrong[2] = {64, 512};
    CHECK(lb_ckpt_read(&c, ck_names[0], 2, wrong, x, &err) == -1 && strstr(err.msg, "[512, 64]") && strstr(err.msg, "[64, 512]"),
          "shape mismatch not caught: %s", err.msg);
    printf("ckpt: %s\n", err.msg);
    CHECK(lb_ckpt_read(&c, "weights/nope", 2, wrong, x, &err) == -1 && strstr(err.msg, "weights/nope"), "missing tensor");
    CHECK(lb_ckpt_read(&c, "nogroup/nope", 2, wrong, x, &err) == -1 && strstr(err.msg, "nogroup/nope"), "missing group");
    CHECK(lb_ckpt_read(&c, "weights", 2, wrong, x, &err) == -1, "group read as tensor");
    int nd = 0;
    int64_t shp[LB_CKPT_MAX_DIMS] = {0};
    CHECK(lb_ckpt_shape(&c, ck_names[3], &nd, shp, &err) == 0 && nd == 1 && shp[0] == 64, "shape of %s", ck_names[3]);
    CHECK(lb_ckpt_shape(&c, ck_names[0], &nd, shp, &err) == 0 && nd == 2 && shp[0] == 512 && shp[1] == 64, "shape");
    CHECK(lb_ckpt_shape(&c, "weights/nope", &nd, shp, &err) == -1, "shape of a missing tensor");
    int64_t v;
    uint64_t u[3];
    CHECK(lb_ckpt_get_i64(&c, "nope", &v, &err) == -1 && strstr(err.msg, "nope"), "missing attr");
    CHECK(lb_ckpt_get_i64(&c, "config_yaml", &v, &err) == -1, "string read as int");
    CHECK(lb_ckpt_get_u64s(&c, "rng_state", u, 3, &err) == -1 && strstr(err.msg, "4 values"), "wrong count: %s", err.msg);
    lb_ckpt_close(&c);
    free(x);
    // a token file is not a checkpoint
    char tok[4200];
    snprintf(tok, sizeof tok, "%s/tokens.h5", dir);
    CHECK(lb_ckpt_open(&c, tok, &err) == -1 && strstr(err.msg, "not a lowbit checkpoint"), "token file accepted: %s", err.msg);

    // truncated checkpoints: open or read fails with one line, never crashes
    const long fsz = file_size(path);
    const long cuts[] = {0, 100, 1000, fsz / 3, fsz / 2, fsz - 1000, fsz - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        snprintf(bad, sizeof bad, "%s/ckpt_truncated.h5", dir);
        CHECK(copy_truncated(path, bad, cuts[i]) == 0, "copy");
        int failed = 0;
        err.msg[0] = 0;
        if (lb_ckpt_open(&c, bad, &err)) failed = 1;
        else {
            float *y = malloc(512 * 64 * sizeof(float));
            for (int k = 0; k < N_CK && !failed; k++) failed = lb_ckpt_read(&c, ck_names[k], ck_ndims[k], ck_shape[k], y, &err) != 0;
            free(y);
            lb_ckpt_close(&c);
        }
        CHECK(failed && one_line(err.msg), "truncated at %ld of %ld accepted", cuts[i], fsz);
        printf("ckpt: truncated at %ld -> %s\n", cuts[i], err.msg);
    }

    // flipped bytes: error or identical contents (Fletcher-32 on the tensors, checksummed metadata)
    int n_rejected = 0, n_same = 0;
    for (long pos = 0; pos < fsz; pos += fsz / 600 + 1) {
        snprintf(bad, sizeof bad, "%s/ckpt_flipped.h5", dir);
        CHECK(copy_flipped(path, bad, pos) == 0, "copy");
        err.msg[0] = 0;
        int failed = lb_ckpt_open(&c, bad, &err) != 0;
        if (!failed) {
            float *y = malloc(512 * 64 * sizeof(float));
            for (int k = 0; k < N_CK && !failed; k++) {
                failed = lb_ckpt_read(&c, ck_names[k], ck_ndims[k], ck_shape[k], y, &err) != 0;
                for (int64_t i = 0; i < ck_count(k) && !failed; i++)
                    CHECK(y[i] == ckpt_value(i, k) + 7.0f, "flip at %ld changed %s silently", pos, ck_names[k]);
            }
            int64_t s = 0;
            if (!failed) {
                failed = lb_ckpt_get_i64(&c, "step", &s, &err) != 0;
                CHECK(failed || s == 7, "flip at %ld changed step silently", pos);
            }
            free(y);
            lb_ckpt_close(&c);
        }
        if (failed) CHECK(one_line(err.msg), "flip at %ld: no one-line error", pos);
        failed ? n_rejected++ : n_same++;
    }
    printf("ckpt: %d single-byte flips -> %d rejected with one line, %d read back identical\n", n_rejected + n_same, n_rejected,
           n_same);

    // crash mid-write (child dies inside the writer): the old checkpoint is intact
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        lb_ckpt_write_hook = die_after_second_tensor;
        write_ckpt(path, 8, &err);
        _exit(0);   // not reached when the hook fires
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42, "child did not die in the writer (status %d)", st);
    if (check_ckpt(path, 7)) return 1;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)pid);
    CHECK(exists(tmp), "the crashed writer's temp file should exist (%s)", tmp);   // proves the crash was mid-write
    unlink(tmp);
    printf("ckpt: writer killed after 2 of %d tensors -> previous checkpoint (step 7) intact\n", N_CK);

    // failure mid-write (a tensor given twice): error, old file intact, no temp left
    float one = 1.0f;
    lb_ckpt_tensor dup[3] = {{.name = "a/x", .n_dims = 1, .shape = {1}, .data = &one},
                             {.name = "a/y", .n_dims = 1, .shape = {1}, .data = &one},
                             {.name = "a/x", .n_dims = 1, .shape = {1}, .data = &one}};
    CHECK(lb_ckpt_write(path, dup, 3, NULL, 0, &err) == -1 && strstr(err.msg, "given twice"), "duplicate: %s", err.msg);
    lb_h5_tmp_path(tmp, sizeof tmp, path);
    CHECK(!exists(tmp), "temp left after a failed write");
    if (check_ckpt(path, 7)) return 1;
    // and a successful rewrite replaces it
    CHECK(write_ckpt(path, 9, &err) == 0, "rewrite: %s", err.msg);
    if (check_ckpt(path, 9)) return 1;
    CHECK(write_ckpt(path, 7, &err) == 0, "rewrite: %s", err.msg);   // leave step 7 for check_h5py.py
    printf("ckpt: failed write -> old file intact, no temp; rewrite replaces it\n");
    return 0;
}

// --- loader -------------------------------------------------------------------------

static int same_batch(const int32_t *a, const int32_t *b, size_t n) { return memcmp(a, b, n * sizeof *a) == 0; }

static int test_loader(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tokens.h5", dir);
    lb_err err = {{0}};
    enum { B = 4, T = 32, STEPS = 20 };
    lb_loader a, b, r0, r1, one;
    CHECK(lb_loader_open(&a, path, LB_SPLIT_TRAIN, B, T, 1234, 0, 1, &err) == 0, "open: %s", err.msg);
    CHECK(lb_loader_open(&b, path, LB_SPLIT_TRAIN, B, T, 1234, 0, 1, &err) == 0, "open");
    int32_t in[STEPS][B * T], tg[STEPS][B * T], in2[B * T], tg2[B * T];
    for (int s = 0; s < STEPS; s++) {
        lb_loader_next(&a, in[s], tg[s]);
        for (int i = 0; i < B; i++) {
            // the window is in the data: its first token's position is consistent with the formula's pattern
            const size_t st = lb_loader_sample_start(&a, (uint64_t)(s * B + i));
            for (int t = 0; t < T; t++) {
                CHECK(in[s][i * T + t] == train_id((int64_t)(st + t)), "input not from the data");
                CHECK(tg[s][i * T + t] == train_id((int64_t)(st + t + 1)), "target not the next token");
            }
        }
    }
    CHECK(a.step == STEPS, "step counter");
    // same seed -> same batches
    for (int s = 0; s < STEPS; s++) {
        lb_loader_next(&b, in2, tg2);
        CHECK(same_batch(in[s], in2, B * T) && same_batch(tg[s], tg2, B * T), "same seed, different batch %d", s);
    }
    // resume: a fresh loader set to step 11 continues exactly
    lb_loader_free(&b);
    CHECK(lb_loader_open(&b, path, LB_SPLIT_TRAIN, B, T, 1234, 0, 1, &err) == 0, "open");
    b.step = 11;
    for (int s = 11; s < STEPS; s++) {
        lb_loader_next(&b, in2, tg2);
        CHECK(same_batch(in[s], in2, B * T) && same_batch(tg[s], tg2, B * T), "resume differs at step %d", s);
    }
    lb_loader_free(&b);
    // different seed -> different batches; consecutive batches differ
    CHECK(lb_loader_open(&b, path, LB_SPLIT_TRAIN, B, T, 1235, 0, 1, &err) == 0, "open");
    lb_loader_next(&b, in2, tg2);
    CHECK(!same_batch(in[0], in2, B * T), "seed ignored");
    CHECK(!same_batch(in[0], in[1], B * T), "batches repeat");
    lb_loader_free(&b);
    // ranks: rank r of 2 with B takes the single-rank (2B) stream's samples 2b + r
    CHECK(lb_loader_open(&one, path, LB_SPLIT_TRAIN, 2 * B, T, 99, 0, 1, &err) == 0, "open");
    CHECK(lb_loader_open(&r0, path, LB_SPLIT_TRAIN, B, T, 99, 0, 2, &err) == 0, "open");
    CHECK(lb_loader_open(&r1, path, LB_SPLIT_TRAIN, B, T, 99, 1, 2, &err) == 0, "open");
    for (int s = 0; s < 5; s++) {
        int32_t i1[2 * B * T], t1[2 * B * T], ia[B * T], ta[B * T], ib[B * T], tb[B * T];
        lb_loader_next(&one, i1, t1);
        lb_loader_next(&r0, ia, ta);
        lb_loader_next(&r1, ib, tb);
        for (int i = 0; i < B; i++) {
            CHECK(same_batch(ia + i * T, i1 + (2 * i) * T, T), "rank 0 sample %d", i);
            CHECK(same_batch(ib + i * T, i1 + (2 * i + 1) * T, T), "rank 1 sample %d", i);
        }
    }
    lb_loader_free(&one), lb_loader_free(&r0), lb_loader_free(&r1);
    // starts cover the data evenly: mean and spread of 100000 starts
    const double n = (double)(a.n_tokens - T);
    double sum = 0, lo = 1e30, hi = 0;
    int buckets[10] = {0};
    for (uint64_t j = 0; j < 100000; j++) {
        double st = (double)lb_loader_sample_start(&a, j);
        CHECK(st >= 0 && st < n, "start out of range");
        sum += st, lo = st < lo ? st : lo, hi = st > hi ? st : hi;
        buckets[(int)(st * 10 / n)]++;
    }
    printf("loader: mean start %.4f of range (ideal 0.5), min %.0f, max %.0f of %.0f; deciles", sum / 1e5 / n, lo, hi, n);
    for (int i = 0; i < 10; i++) printf(" %d", buckets[i]);
    printf("\n");
    CHECK(fabs(sum / 1e5 / n - 0.5) < 0.01, "starts are biased");
    for (int i = 0; i < 10; i++) CHECK(abs(buckets[i] - 10000) < 500, "decile %d has %d starts", i, buckets[i]);
    // evaluation windows walk the split in order
    CHECK(lb_loader_open(&b, path, LB_SPLIT_VAL, B, T, 0, 0, 1, &err) == 0, "open val");
    const size_t nw = lb_loader_n_eval_windows(&b);
    CHECK(nw == (N_VAL - 1) / T, "eval windows %zu", nw);
    size_t seen = 0;
    for (size_t w0 = 0;; ) {
        int got = lb_loader_eval_batch(&b, w0, in2, tg2);
        if (!got) break;
        for (int i = 0; i < got; i++)
            for (int t = 0; t < T; t++)
                CHECK(in2[i * T + t] == val_id((int64_t)((w0 + i) * T + t)) && tg2[i * T + t] == val_id((int64_t)((w0 + i) * T + t + 1)),
                      "eval window %zu", w0 + i);
        w0 += got, seen += got;
    }
    CHECK(seen == nw, "eval windows seen %zu", seen);
    lb_loader_free(&b);
    // too little data / bad args
    CHECK(lb_loader_open(&b, path, LB_SPLIT_VAL, B, N_VAL, 0, 0, 1, &err) == -1 && strstr(err.msg, "tokens"), "T too large: %s", err.msg);
    CHECK(lb_loader_open(&b, path, LB_SPLIT_VAL, B, T, 0, 2, 2, &err) == -1, "bad rank");
    lb_loader_free(&a);
    printf("loader: %d steps deterministic, resume from step 11 identical, 2 ranks partition the stream\n", STEPS);
    return 0;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : ".";
    mkdir(dir, 0755);
    if (test_tokens(dir) || test_ckpt(dir) || test_loader(dir)) return 1;
    printf("ok\n");
    return 0;
}
