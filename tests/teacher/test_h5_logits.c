// test_h5_logits.c: the teacher-logit store (formats/h5_logits.c) on synthetic data.
//  - round trip per mode (full, topk, sampled): values read back are exactly what was written
//    (fp16 of the fp32 logits, hand-checked round-to-nearest-even cases included), attributes
//    identical, zstd filter 32015 on every dataset, one chunk = one window
//  - the writer refuses bad rows (out-of-range / repeated ids, padding in the middle, counts
//    not summing to S, ascending top-K logits, logits beyond fp16) and bad infos; finish with
//    windows missing fails; abort and failures leave neither the file nor its temp
//  - hostile files: truncated at many points, every ~600th byte flipped, a wrong attribute
//    (written with raw HDF5), a wrong dataset shape/type: one-line errors naming the file, or
//    (flips in unused bytes) exactly the original values; never a crash
// Usage: test_h5_logits DIR            (writes its files into DIR)
//        test_h5_logits dump FILE OUT  (all windows as raw little-endian arrays, for
//                                       tests/teacher/check_logits.py: ids int32, logits
//                                       float32, counts uint8, in that order, whichever the
//                                       mode has)
//        test_h5_logits corpus DIR     (small valid stores of each mode: fuzz seed corpus)
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fp16.h"
#include "h5_logits.h"
#include "h5_zstd.h"
#include "test_util.h"

static int exists(const char *p) { return access(p, F_OK) == 0; }
static long file_size(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}
static int one_line(const char *m) { return m[0] && !strchr(m, '\n'); }

static int copy_damaged(const char *src, const char *dst, long keep, long flip) {
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    if (!in || !out) {
        if (in) fclose(in);
        if (out) fclose(out);
        return -1;
    }
    for (long i = 0; keep < 0 || i < keep; i++) {
        int c = fgetc(in);
        if (c == EOF) break;
        fputc(i == flip ? c ^ 0x5a : c, out);
    }
    fclose(in);
    fclose(out);
    return 0;
}

// --- the synthetic contents ------------------------------------------------------------------
enum { V = 100, T = 8, NW = 5, K = 6, S = 12 };

// full logits: mostly arbitrary floats (so fp16 rounding matters), row 0 holds hand cases
static float full_logit(int64_t row, int j) {
    return (float)((row * 37 + j * 11) % 997 - 500) / 16.3f + (float)j * 1e-3f;
}
static void fill_window(lb_logit_mode mode, int64_t w, float *logits, int32_t *ids, uint8_t *counts) {
    for (int t = 0; t < T; t++) {
        const int64_t row = w * T + t;
        if (mode == LB_LOGITS_FULL) {
            for (int j = 0; j < V; j++) logits[t * V + j] = full_logit(row, j);
        } else if (mode == LB_LOGITS_TOPK) {
            for (int j = 0; j < K; j++) {
                ids[t * K + j] = (int32_t)((row * 7 + j * 13) % V);   // distinct: 13 j mod 100, j < 6
                logits[t * K + j] = 10.0f - (float)j * 0.7f - (float)(row % 5) * 0.01f;
            }
        } else {
            // distinct ascending ids, counts summing to S; a few padded rows
            const int n_real = 1 + (int)(row % 5);
            int left = S;
            for (int j = 0; j < S; j++) {
                if (j < n_real) {
                    ids[t * S + j] = (int32_t)(j * 19 + row % 7);
                    counts[t * S + j] = (uint8_t)(j == n_real - 1 ? left : 1 + (row + j) % 2);
                    left -= counts[t * S + j];
                } else {
                    ids[t * S + j] = -1;
                    counts[t * S + j] = 0;
                }
            }
        }
    }
}

static lb_logits_info make_info(lb_logit_mode mode) {
    lb_logits_info in = {.mode = mode, .n_vocab = V, .seq_len = T, .n_windows = NW,
                         .k = mode == LB_LOGITS_FULL ? 0 : mode == LB_LOGITS_TOPK ? K : S,
                         .temperature = mode == LB_LOGITS_SAMPLED ? 1.5 : 1.0, .seed = 0xfedcba9876543210ull,
                         .split = "val", .teacher = "teacher.gguf", .tokens = "tokens.h5", .tokens_hash = 0x8000000000000001ull};
    return in;
}

static int write_store(const char *path, lb_logit_mode mode, lb_err *err) {
    lb_logits_info in = make_info(mode);
    lb_logits_writer *w = lb_logits_writer_create(path, &in, err);
    if (!w) return -1;
    static float logits[T * V];
    static int32_t ids[T * V];
    static uint8_t counts[T * V];
    for (int64_t wi = 0; wi < NW; wi++) {
        fill_window(mode, wi, logits, ids, counts);
        if (mode == LB_LOGITS_FULL && wi == 0) {
            // hand-checked fp16 round-to-nearest-even cases in row 0
            logits[0] = 1.0f + 0x1p-11f;        // tie -> even (1.0)
            logits[1] = 1.0f + 3 * 0x1p-11f;    // tie -> even (1 + 2^-9)
            logits[2] = 65504.0f;               // largest half
            logits[3] = -0x1p-24f;              // smallest subnormal
            logits[4] = 0x1p-26f;               // rounds to +0
        }
        if (lb_logits_writer_append(w, mode == LB_LOGITS_SAMPLED ? NULL : logits, mode == LB_LOGITS_FULL ? NULL : ids,
                                    mode == LB_LOGITS_SAMPLED ? counts : NULL, err)) {
            lb_logits_writer_abort(w);
            return -1;
        }
    }
    return lb_logits_writer_finish(w, err);
}

// read every window and compare with the formulas; 0 same, 1 different, -1 read error
static int compare_store(const char *path, lb_logit_mode mode, lb_err *err) {
    lb_logits_reader *r = lb_logits_open(path, err);
    if (!r) return -1;
    static float logits[T * V], want_l[T * V];
    static int32_t ids[T * V], want_i[T * V];
    static uint8_t counts[T * V], want_c[T * V];
    int diff = 0;
    for (int64_t w = 0; w < NW && !diff; w++) {
        if (lb_logits_read_window(r, w, logits, ids, counts, err)) { lb_logits_close(r); return -1; }
        fill_window(mode, w, want_l, want_i, want_c);
        if (mode == LB_LOGITS_FULL && w == 0) {
            const float hand[5] = {1.0f, 1.0f + 0x1p-9f, 65504.0f, -0x1p-24f, 0.0f};
            for (int j = 0; j < 5; j++) {
                if (lb_f32_bits(logits[j]) != lb_f32_bits(hand[j])) {
                    fprintf(stderr, "hand case %d: read %a, want %a\n", j, (double)logits[j], (double)hand[j]);
                    diff = 1;
                }
                want_l[j] = hand[j];
            }
        }
        const int W = mode == LB_LOGITS_FULL ? V : mode == LB_LOGITS_TOPK ? K : S;
        for (int i = 0; i < T * W && !diff; i++) {
            if (mode != LB_LOGITS_SAMPLED && lb_f32_bits(logits[i]) != lb_f32_bits(lb_fp16_to_f32(lb_f32_to_fp16(want_l[i])))) diff = 1;
            if (mode != LB_LOGITS_FULL && ids[i] != want_i[i]) diff = 1;
            if (mode == LB_LOGITS_SAMPLED && counts[i] != want_c[i]) diff = 1;
            if (diff) fprintf(stderr, "%s: window %lld element %d differs\n", path, (long long)w, i);
        }
    }
    lb_logits_close(r);
    return diff;
}

// --- tests -----------------------------------------------------------------------------------

static int test_round_trip(const char *dir, lb_logit_mode mode) {
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s.h5", dir, lb_logit_mode_name(mode));
    lb_err err = {{0}};
    unlink(path);
    CHECK(write_store(path, mode, &err) == 0, "%s: write: %s", lb_logit_mode_name(mode), err.msg);
    lb_h5_tmp_path(tmp, sizeof tmp, path);
    CHECK(exists(path) && !exists(tmp), "%s: file missing or temp left", path);
    CHECK(compare_store(path, mode, &err) == 0, "%s: round trip: %s", path, err.msg);
    lb_logits_reader *r = lb_logits_open(path, &err);
    CHECK(r, "%s", err.msg);
    const lb_logits_info *in = lb_logits_reader_info(r), want = make_info(mode);
    CHECK(in->mode == mode && in->n_vocab == V && in->seq_len == T && in->n_windows == NW && in->k == want.k &&
          in->temperature == want.temperature && in->seed == want.seed && in->tokens_hash == want.tokens_hash &&
          !strcmp(in->split, "val") && !strcmp(in->teacher, "teacher.gguf") && !strcmp(in->tokens, "tokens.h5"),
          "%s: attributes differ", path);
    const double bpt = in->bytes_per_token, want_bpt = (double)file_size(path) / (NW * T);
    CHECK(bpt > 0 && fabs(bpt - want_bpt) <= 0.05 * want_bpt, "%s: bytes_per_token %g, file says %g", path, bpt, want_bpt);
    float l[T * V];
    CHECK(lb_logits_read_window(r, NW, l, NULL, NULL, &err) == -1 && strstr(err.msg, "window 5"), "window past the end");
    CHECK(lb_logits_read_window(r, -1, l, NULL, NULL, &err) == -1, "window -1");
    lb_logits_close(r);
    // filter 32015 and one window per chunk on every dataset
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    const char *names[3] = {"logits", "ids", "counts"};
    int n_ds = 0;
    for (int i = 0; i < 3; i++) {
        if (H5Lexists(f, names[i], H5P_DEFAULT) <= 0) continue;
        hid_t d = H5Dopen2(f, names[i], H5P_DEFAULT), pl = H5Dget_create_plist(d);
        hsize_t ch[2] = {0, 0};
        CHECK(H5Pget_chunk(pl, 2, ch) == 2 && ch[0] == T, "%s /%s: chunk (%llu, %llu)", path, names[i], (unsigned long long)ch[0],
              (unsigned long long)ch[1]);
        CHECK(lb_h5_has_filter(d, LB_H5Z_FILTER_ZSTD) == 1, "%s /%s: no zstd filter", path, names[i]);
        H5Pclose(pl);
        H5Dclose(d);
        n_ds++;
    }
    H5Fclose(f);
    CHECK(n_ds == (mode == LB_LOGITS_FULL ? 1 : 2), "%s: %d datasets", path, n_ds);
    printf("%s: round trip exact, %ld bytes, %.1f bytes/token\n", lb_logit_mode_name(mode), file_size(path), bpt);
    return 0;
}

// every way the writer must refuse; never a file or a temp left behind
static int test_writer_refuses(const char *dir) {
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/refused.h5", dir);
    lb_h5_tmp_path(tmp, sizeof tmp, path);
    lb_err err = {{0}};
    unlink(path);
    // bad infos
    lb_logits_info in = make_info(LB_LOGITS_TOPK);
    in.k = V + 1;
    CHECK(!lb_logits_writer_create(path, &in, &err) && one_line(err.msg), "k > V accepted");
    in = make_info(LB_LOGITS_SAMPLED);
    in.k = 256;
    CHECK(!lb_logits_writer_create(path, &in, &err) && strstr(err.msg, "1..255"), "S = 256 accepted: %s", err.msg);
    in = make_info(LB_LOGITS_FULL);
    in.temperature = 2;
    CHECK(!lb_logits_writer_create(path, &in, &err), "full mode with temperature 2 accepted");
    in = make_info(LB_LOGITS_FULL);
    snprintf(in.split, sizeof in.split, "test");
    CHECK(!lb_logits_writer_create(path, &in, &err), "split 'test' accepted");
    CHECK(!exists(path) && !exists(tmp), "refused create left a file");

    // bad rows: each a fresh writer whose first append must fail
    static float logits[T * V];
    static int32_t ids[T * V];
    static uint8_t counts[T * V];
    struct { lb_logit_mode mode; int what; const char *expect; } cases[] = {
        {LB_LOGITS_TOPK, 0, "outside the vocabulary"}, {LB_LOGITS_TOPK, 1, "repeats id"},
        {LB_LOGITS_TOPK, 2, "descending"}, {LB_LOGITS_TOPK, 3, "after -1 padding"},
        {LB_LOGITS_SAMPLED, 4, "sum to"}, {LB_LOGITS_SAMPLED, 5, "ascending"},
        {LB_LOGITS_SAMPLED, 6, "nonzero on padding"}, {LB_LOGITS_FULL, 7, "float16"},
        {LB_LOGITS_FULL, 8, "float16"}, {LB_LOGITS_SAMPLED, 9, "outside the vocabulary"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const lb_logit_mode mode = cases[c].mode;
        in = make_info(mode);
        lb_logits_writer *w = lb_logits_writer_create(path, &in, &err);
        CHECK(w, "create: %s", err.msg);
        fill_window(mode, 0, logits, ids, counts);
        // damage row 3
        switch (cases[c].what) {
        case 0: ids[3 * K + 2] = V; break;
        case 1: ids[3 * K + 4] = ids[3 * K + 1]; break;
        case 2: logits[3 * K + 3] = logits[3 * K + 2] + 1; break;
        case 3: ids[3 * K + 1] = -1; break;
        case 4: counts[3 * S] += 1; break;
        case 5: { int32_t x = ids[3 * S]; ids[3 * S] = ids[3 * S + 1]; ids[3 * S + 1] = x; } break;   // row 3 has 4 ids
        case 6: counts[3 * S] -= 1; counts[3 * S + S - 1] = 1; break;
        case 7: logits[3 * V + 5] = 70000.0f; break;
        case 8: logits[3 * V + 5] = NAN; break;
        case 9: ids[3 * S + 1] = -7; break;
        }
        err.msg[0] = 0;
        const int rc = lb_logits_writer_append(w, mode == LB_LOGITS_SAMPLED ? NULL : logits, mode == LB_LOGITS_FULL ? NULL : ids,
                                               mode == LB_LOGITS_SAMPLED ? counts : NULL, &err);
        lb_logits_writer_abort(w);
        CHECK(rc == -1 && one_line(err.msg) && strstr(err.msg, cases[c].expect) && strstr(err.msg, "refused.h5"),
              "case %zu: rc %d '%s' (want '%s')", c, rc, err.msg, cases[c].expect);
        CHECK(!exists(path) && !exists(tmp), "case %zu: abort left a file", c);
        printf("writer refuses: %s\n", err.msg);
    }
    // finish with a window missing: fails, nothing left
    in = make_info(LB_LOGITS_FULL);
    lb_logits_writer *w = lb_logits_writer_create(path, &in, &err);
    CHECK(w, "create: %s", err.msg);
    for (int64_t wi = 0; wi < NW - 1; wi++) {
        fill_window(LB_LOGITS_FULL, wi, logits, ids, counts);
        CHECK(lb_logits_writer_append(w, logits, NULL, NULL, &err) == 0, "append: %s", err.msg);
    }
    CHECK(lb_logits_writer_finish(w, &err) == -1 && strstr(err.msg, "4 of 5"), "short finish: %s", err.msg);
    CHECK(!exists(path) && !exists(tmp), "short finish left a file");
    printf("writer refuses: %s\n", err.msg);
    // one window too many
    w = lb_logits_writer_create(path, &in, &err);
    for (int64_t wi = 0; wi < NW; wi++) CHECK(lb_logits_writer_append(w, logits, NULL, NULL, &err) == 0, "append: %s", err.msg);
    CHECK(lb_logits_writer_append(w, logits, NULL, NULL, &err) == -1 && strstr(err.msg, "announced"), "extra window: %s", err.msg);
    lb_logits_writer_abort(w);
    CHECK(!exists(path) && !exists(tmp), "abort left a file");
    return 0;
}

// overwrite one root attribute with raw HDF5 (a valid file that lies)
static int patch_attr(const char *path, const char *name, int is_str, int64_t iv, double fv, const char *sv) {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return -1;
    lb_err err;
    int rc = sv ? lb_h5_attr_set_str(f, name, sv, &err) : is_str == 2 ? lb_h5_attr_set_f64(f, name, fv, &err)
                                                                       : lb_h5_attr_set_i64(f, name, iv, &err);
    H5Fclose(f);
    return rc;
}

static int expect_open_fail(const char *path, const char *expect) {
    lb_err err = {{0}};
    lb_logits_reader *r = lb_logits_open(path, &err);
    if (r) {
        // a lie the attributes cannot show must surface when reading windows
        float *l = malloc(sizeof(float) * T * 200);
        int32_t *i = malloc(sizeof(int32_t) * T * 200);
        uint8_t *c = malloc(T * 200);
        int rc = 0;
        for (int64_t w = 0; w < lb_logits_reader_info(r)->n_windows && !rc; w++) rc = lb_logits_read_window(r, w, l, i, c, &err);
        free(l); free(i); free(c);
        lb_logits_close(r);
        if (!rc) { fprintf(stderr, "FAIL: %s accepted (want '%s')\n", path, expect); return 1; }
    }
    if (!one_line(err.msg) || !strstr(err.msg, path) || !strstr(err.msg, expect)) {
        fprintf(stderr, "FAIL: %s: '%s' (want one line with '%s')\n", path, err.msg, expect);
        return 1;
    }
    printf("hostile: %s\n", err.msg);
    return 0;
}

static int test_hostile(const char *dir) {
    char good[4096], bad[4200];
    int fails = 0;
    // semantic lies in otherwise valid files
    struct { lb_logit_mode mode; const char *attr; int kind; int64_t iv; double fv; const char *sv; const char *expect; } lies[] = {
        {LB_LOGITS_FULL, "format", 0, 0, 0, "lowbit-tokens", "not a lowbit logit store"},
        {LB_LOGITS_FULL, "version", 1, 2, 0, NULL, "version 2"},
        {LB_LOGITS_FULL, "mode", 0, 0, 0, "dense", "unknown mode"},
        {LB_LOGITS_FULL, "mode", 0, 0, 0, "topk", "k"},
        {LB_LOGITS_FULL, "n_vocab", 1, 99, 0, NULL, "shape"},
        {LB_LOGITS_FULL, "n_vocab", 1, -5, 0, NULL, "out of range"},
        {LB_LOGITS_FULL, "seq_len", 1, 4, 0, NULL, "shape"},
        {LB_LOGITS_FULL, "n_windows", 1, 6, 0, NULL, "shape"},
        {LB_LOGITS_FULL, "n_windows", 1, (int64_t)1 << 62, 0, NULL, "n_windows"},
        {LB_LOGITS_FULL, "temperature", 2, 0, 0.5, NULL, "temperature"},
        {LB_LOGITS_FULL, "split", 0, 0, 0, "trainxx", "split"},
        {LB_LOGITS_FULL, "n_vocab", 0, 0, 0, "100", "wrong type"},
        {LB_LOGITS_TOPK, "k", 1, 7, 0, NULL, "shape"},
        {LB_LOGITS_TOPK, "n_vocab", 1, 40, 0, NULL, "outside the vocabulary"},
        {LB_LOGITS_TOPK, "mode", 0, 0, 0, "sampled", "counts"},
        {LB_LOGITS_SAMPLED, "k", 1, 300, 0, NULL, "1..255"},
        {LB_LOGITS_SAMPLED, "n_vocab", 1, 50, 0, NULL, "outside the vocabulary"},
        {LB_LOGITS_SAMPLED, "mode", 0, 0, 0, "topk", "temperature"},
        {LB_LOGITS_SAMPLED, "temperature", 2, 0, -1, NULL, "temperature"},
    };
    for (size_t c = 0; c < sizeof lies / sizeof *lies; c++) {
        snprintf(good, sizeof good, "%s/%s.h5", dir, lb_logit_mode_name(lies[c].mode));
        snprintf(bad, sizeof bad, "%s/lie%zu.h5", dir, c);
        CHECK(copy_damaged(good, bad, -1, -1) == 0, "copy");
        CHECK(patch_attr(bad, lies[c].attr, lies[c].kind, lies[c].iv, lies[c].fv, lies[c].sv) == 0, "patch %s", lies[c].attr);
        fails += expect_open_fail(bad, lies[c].expect);
        unlink(bad);
    }
    // wrong dataset type / shape: rebuild a topk store whose /ids is int64, and one whose
    // /counts values lie (written with raw HDF5 over a valid file)
    snprintf(good, sizeof good, "%s/topk.h5", dir);
    snprintf(bad, sizeof bad, "%s/ids_int64.h5", dir);
    CHECK(copy_damaged(good, bad, -1, -1) == 0, "copy");
    {
        hid_t f = H5Fopen(bad, H5F_ACC_RDWR, H5P_DEFAULT);
        H5Ldelete(f, "ids", H5P_DEFAULT);
        hsize_t dims[2] = {NW * T, K};
        hid_t sp = H5Screate_simple(2, dims, NULL);
        hid_t d = H5Dcreate2(f, "ids", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Dclose(d);
        H5Sclose(sp);
        H5Fclose(f);
    }
    fails += expect_open_fail(bad, "/ids is not int32");
    unlink(bad);
    snprintf(good, sizeof good, "%s/sampled.h5", dir);
    snprintf(bad, sizeof bad, "%s/counts_lie.h5", dir);
    CHECK(copy_damaged(good, bad, -1, -1) == 0, "copy");
    {
        hid_t f = H5Fopen(bad, H5F_ACC_RDWR, H5P_DEFAULT);
        hid_t d = H5Dopen2(f, "counts", H5P_DEFAULT);
        static uint8_t all[NW * T * S];
        H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, all);
        all[3 * T * S + 2 * S] += 1;   // window 3, row 2: counts sum to S + 1
        H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, all);
        H5Dclose(d);
        H5Fclose(f);
    }
    fails += expect_open_fail(bad, "sum to 13, not S = 12");
    unlink(bad);

    // truncations and single-byte flips of each mode's file
    for (int m = 0; m < 3; m++) {
        snprintf(good, sizeof good, "%s/%s.h5", dir, lb_logit_mode_name((lb_logit_mode)m));
        snprintf(bad, sizeof bad, "%s/damaged.h5", dir);
        const long size = file_size(good);
        int n_rej = 0, n_same = 0;
        lb_err err = {{0}};
        for (long cut = 0; cut < size; cut += size / 40 + 1) {
            CHECK(copy_damaged(good, bad, cut, -1) == 0, "copy");
            err.msg[0] = 0;
            const int rc = compare_store(bad, (lb_logit_mode)m, &err);
            CHECK(rc == -1 && one_line(err.msg) && strstr(err.msg, "damaged.h5"), "%s cut at %ld: rc %d '%s'",
                  lb_logit_mode_name((lb_logit_mode)m), cut, rc, err.msg);
            n_rej++;
        }
        for (long pos = 0; pos < size; pos += size / 600 + 1) {
            CHECK(copy_damaged(good, bad, -1, pos) == 0, "copy");
            err.msg[0] = 0;
            const int rc = compare_store(bad, (lb_logit_mode)m, &err);
            // 0: the flip hit bytes nobody reads (values identical); 1 would be silent damage
            CHECK(rc != 1, "%s flip at %ld: values changed silently", lb_logit_mode_name((lb_logit_mode)m), pos);
            if (rc == 0) n_same++;
            else {
                CHECK(one_line(err.msg) && strstr(err.msg, "damaged.h5"), "flip at %ld: '%s'", pos, err.msg);
                n_rej++;
            }
        }
        printf("hostile %s: %d truncations + flips rejected with one line, %d flips in unused bytes read back identical\n",
               lb_logit_mode_name((lb_logit_mode)m), n_rej, n_same);
        unlink(bad);
    }
    snprintf(bad, sizeof bad, "%s/missing.h5", dir);
    fails += expect_open_fail(bad, "No such file");
    return fails ? 1 : 0;
}

// --- dump / corpus modes -----------------------------------------------------------------------

static int dump(const char *path, const char *out_path) {
    lb_err err = {{0}};
    lb_logits_reader *r = lb_logits_open(path, &err);
    if (!r) { fprintf(stderr, "%s\n", err.msg); return 1; }
    const lb_logits_info *in = lb_logits_reader_info(r);
    const size_t W = in->mode == LB_LOGITS_FULL ? (size_t)in->n_vocab : (size_t)in->k, n = (size_t)in->seq_len * W;
    float *l = malloc(n * sizeof *l);
    int32_t *ids = malloc(n * sizeof *ids);
    uint8_t *c = malloc(n);
    FILE *fi = NULL, *fl = NULL, *fc = NULL;
    char p[4200];
    if (in->mode != LB_LOGITS_FULL) { snprintf(p, sizeof p, "%s.ids", out_path); fi = fopen(p, "wb"); }
    if (in->mode != LB_LOGITS_SAMPLED) { snprintf(p, sizeof p, "%s.logits", out_path); fl = fopen(p, "wb"); }
    if (in->mode == LB_LOGITS_SAMPLED) { snprintf(p, sizeof p, "%s.counts", out_path); fc = fopen(p, "wb"); }
    int rc = 0;
    for (int64_t w = 0; w < in->n_windows && !rc; w++) {
        if (lb_logits_read_window(r, w, l, ids, c, &err)) { fprintf(stderr, "%s\n", err.msg); rc = 1; break; }
        if (fi) fwrite(ids, sizeof *ids, n, fi);
        if (fl) fwrite(l, sizeof *l, n, fl);
        if (fc) fwrite(c, 1, n, fc);
    }
    if (fi) fclose(fi);
    if (fl) fclose(fl);
    if (fc) fclose(fc);
    free(l); free(ids); free(c);
    lb_logits_close(r);
    return rc;
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "dump")) return dump(argv[2], argv[3]);
    if (argc == 3 && !strcmp(argv[1], "corpus")) {
        char p[4200];
        lb_err err = {{0}};
        for (int m = 0; m < 3; m++) {
            snprintf(p, sizeof p, "%s/valid-%s.h5", argv[2], lb_logit_mode_name((lb_logit_mode)m));
            if (write_store(p, (lb_logit_mode)m, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
        }
        return 0;
    }
    if (argc != 2) { fprintf(stderr, "usage: %s DIR | dump FILE OUT | corpus DIR\n", argv[0]); return 2; }
    mkdir(argv[1], 0755);
    for (int m = 0; m < 3; m++)
        if (test_round_trip(argv[1], (lb_logit_mode)m)) return 1;
    if (test_writer_refuses(argv[1])) return 1;
    if (test_hostile(argv[1])) return 1;
    // FNV-1a 64 of the int32 bytes: reference values from the FNV spec's algorithm by hand
    const int32_t h1[1] = {0};
    CHECK(lb_tokens_hash(NULL, 0) == 0xcbf29ce484222325ull, "hash of nothing");
    // FNV-1a of 4 zero bytes (independently: python: h=0xcbf29ce484222325; for b in bytes(4): h=((h^b)*0x100000001b3)%2**64)
    CHECK(lb_tokens_hash(h1, 1) == 0x4d25767f9dce13f5ull, "hash of {0}: %016llx", (unsigned long long)lb_tokens_hash(h1, 1));
    printf("ok\n");
    return 0;
}
