// h5_logits.c: stored teacher outputs for distillation (see h5_logits.h for the layout).
// Additions to the header's contract, all on the strict side:
//  - seed and tokens_hash are uint64 values stored in the int64 attributes bit for bit (h5py
//    shows a hash >= 2^63 as a negative number: `v & 0xFFFFFFFFFFFFFFFF` gives it back);
//  - every logit must be finite in fp16: the writer refuses a teacher logit that rounds to
//    +-inf (|x| > 65504) or is NaN, and the reader refuses non-finite values, so a flipped
//    byte can never feed inf/NaN into a KD loss;
//  - top-K rows: ids distinct, logits non-increasing along the row; sampled rows: ids distinct
//    and ascending (kd_sample_row's order), count > 0 on every id, 0 on padding, sum S;
//  - temperature must be 1 outside sampled mode; sampled S <= 255 (uint8 counts);
//  - one window's chunk of any dataset is at most 2 GiB (the zstd filter's decode limit);
//  - bytes_per_token is the size of the finished file / N (written into the attribute in
//    place after the first close, so it is exact).
// The writer validates every appended row with the same checks as the reader, so it cannot
// produce a file lowbit would then refuse.
#include "h5_logits.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "fp16.h"
#include "h5_zstd.h"

#define LB_LOGITS_MAX_VOCAB (1 << 24)
#define LB_LOGITS_MAX_SEQ (1 << 20)
#define LB_LOGITS_MAX_ROWS ((int64_t)1 << 40)
// one window's rows of one dataset: the zstd filter decodes chunks up to 2 GiB (h5_zstd_filter.c)
#define LB_LOGITS_MAX_CHUNK_BYTES ((uint64_t)1 << 31)

const char *lb_logit_mode_name(lb_logit_mode m) {
    switch (m) {
    case LB_LOGITS_FULL: return "full";
    case LB_LOGITS_TOPK: return "topk";
    case LB_LOGITS_SAMPLED: return "sampled";
    }
    return "?";
}

int lb_logit_mode_parse(const char *s, lb_logit_mode *m) {
    for (int i = 0; i < 3; i++)
        if (strcmp(s, lb_logit_mode_name((lb_logit_mode)i)) == 0) { *m = (lb_logit_mode)i; return 0; }
    return -1;
}

void lb_logits_info_free(lb_logits_info *info) {
    if (!info) return;
    free(info->teacher);
    free(info->tokens);
    info->teacher = info->tokens = NULL;
}

uint64_t lb_tokens_hash(const int32_t *ids, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        const uint32_t u = (uint32_t)ids[i];
        for (int b = 0; b < 4; b++) {
            h ^= (u >> (8 * b)) & 0xffu;
            h *= 0x100000001b3ull;
        }
    }
    return h;
}

// --- shared pieces ---------------------------------------------------------------------------

// IEEE binary16, little-endian: HDF5 1.10 has no predefined half type, so build it the way
// h5py does (numpy float16 <-> this type, no conversion)
static hid_t fp16_type(void) {
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    if (t < 0) return -1;
    if (H5Tset_fields(t, 15, 10, 5, 0, 10) < 0 || H5Tset_size(t, 2) < 0 || H5Tset_ebias(t, 15) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

// the datasets of a mode, in a fixed order: [0] and optionally [1]
typedef enum { DS_LOGITS, DS_IDS, DS_COUNTS } ds_kind;
static int mode_datasets(lb_logit_mode m, ds_kind out[2]) {
    if (m == LB_LOGITS_FULL) { out[0] = DS_LOGITS; return 1; }
    if (m == LB_LOGITS_TOPK) { out[0] = DS_IDS; out[1] = DS_LOGITS; return 2; }
    out[0] = DS_IDS; out[1] = DS_COUNTS;
    return 2;
}
static const char *ds_name(ds_kind d) { return d == DS_LOGITS ? "logits" : d == DS_IDS ? "ids" : "counts"; }
static int row_width(const lb_logits_info *in) { return in->mode == LB_LOGITS_FULL ? in->n_vocab : in->k; }

// the info fields both writer and reader insist on; `what` names the file
static int check_info(const lb_logits_info *in, const char *what, lb_err *err) {
    if ((unsigned)in->mode > LB_LOGITS_SAMPLED) return lb_fail(err, "%s: unknown mode %d", what, (int)in->mode);
    if (in->n_vocab <= 0 || in->n_vocab > LB_LOGITS_MAX_VOCAB) return lb_fail(err, "%s: bad n_vocab %d", what, in->n_vocab);
    if (in->seq_len <= 0 || in->seq_len > LB_LOGITS_MAX_SEQ) return lb_fail(err, "%s: bad seq_len %d", what, in->seq_len);
    if (in->n_windows <= 0 || in->n_windows > LB_LOGITS_MAX_ROWS / in->seq_len)
        return lb_fail(err, "%s: bad n_windows %lld", what, (long long)in->n_windows);
    switch (in->mode) {
    case LB_LOGITS_FULL:
        if (in->k != 0) return lb_fail(err, "%s: k must be 0 in full mode, got %d", what, in->k);
        break;
    case LB_LOGITS_TOPK:
        if (in->k <= 0 || in->k > in->n_vocab) return lb_fail(err, "%s: bad k %d for a vocabulary of %d", what, in->k, in->n_vocab);
        break;
    case LB_LOGITS_SAMPLED:
        if (in->k <= 0 || in->k > 255) return lb_fail(err, "%s: bad sample count k %d (1..255)", what, in->k);
        break;
    }
    if (in->mode == LB_LOGITS_SAMPLED) {
        if (!(in->temperature > 0) || !isfinite(in->temperature))
            return lb_fail(err, "%s: bad temperature %g", what, in->temperature);
    } else if (in->temperature != 1.0) {
        return lb_fail(err, "%s: temperature must be 1 in %s mode, got %g", what, lb_logit_mode_name(in->mode), in->temperature);
    }
    if (strcmp(in->split, "train") != 0 && strcmp(in->split, "val") != 0)
        return lb_fail(err, "%s: bad split '%.8s' (train or val)", what, in->split);
    // widest element of the mode: fp16 logits (full), int32 ids (topk, sampled)
    const uint64_t chunk = (uint64_t)in->seq_len * (uint64_t)row_width(in) * (in->mode == LB_LOGITS_FULL ? 2 : 4);
    if (chunk > LB_LOGITS_MAX_CHUNK_BYTES)
        return lb_fail(err, "%s: one window (%d x %d) is too large for a chunk", what, in->seq_len, row_width(in));
    return 0;
}

// Row checks shared by writer and reader (T rows of width W starting at global row row0).
// stamp (n_vocab) + *gen give O(W) distinctness checks without clearing.
static int check_rows(const lb_logits_info *in, const int32_t *ids, const uint8_t *counts, const lb_fp16 *logits,
                      uint32_t *stamp, uint32_t *gen, int64_t row0, const char *what, lb_err *err) {
    const int T = in->seq_len, W = row_width(in);
    for (int t = 0; t < T; t++) {
        const int64_t row = row0 + t;
        if (in->mode == LB_LOGITS_FULL) {
            const lb_fp16 *l = logits + (size_t)t * W;
            for (int j = 0; j < W; j++)
                if ((l[j] & 0x7c00u) == 0x7c00u)
                    return lb_fail(err, "%s: logits[%lld][%d] is not finite", what, (long long)row, j);
            continue;
        }
        if (++*gen == 0) {   // wrapped: clear once every 4G rows
            memset(stamp, 0, (size_t)in->n_vocab * sizeof *stamp);
            *gen = 1;
        }
        const int32_t *id = ids + (size_t)t * W;
        int n_real = 0, sum = 0;
        for (int j = 0; j < W; j++) {
            if (id[j] == -1) continue;
            if (id[j] < -1 || id[j] >= in->n_vocab)
                return lb_fail(err, "%s: ids[%lld][%d] = %d is outside the vocabulary (%d)", what, (long long)row, j, id[j], in->n_vocab);
            if (j != n_real) return lb_fail(err, "%s: ids[%lld] has an id after -1 padding", what, (long long)row);
            if (stamp[id[j]] == *gen) return lb_fail(err, "%s: ids[%lld] repeats id %d", what, (long long)row, id[j]);
            stamp[id[j]] = *gen;
            n_real++;
        }
        if (n_real == 0) return lb_fail(err, "%s: ids[%lld] is all padding", what, (long long)row);
        if (in->mode == LB_LOGITS_TOPK) {
            const lb_fp16 *l = logits + (size_t)t * W;
            for (int j = 0; j < n_real; j++) {
                if ((l[j] & 0x7c00u) == 0x7c00u)
                    return lb_fail(err, "%s: logits[%lld][%d] is not finite", what, (long long)row, j);
                if (j > 0 && lb_fp16_to_f32(l[j]) > lb_fp16_to_f32(l[j - 1]))
                    return lb_fail(err, "%s: logits[%lld] is not in descending order", what, (long long)row);
            }
        } else {
            const uint8_t *c = counts + (size_t)t * W;
            for (int j = 0; j < W; j++) {
                if (j < n_real && c[j] == 0) return lb_fail(err, "%s: counts[%lld][%d] is 0 for id %d", what, (long long)row, j, id[j]);
                if (j >= n_real && c[j] != 0) return lb_fail(err, "%s: counts[%lld][%d] is nonzero on padding", what, (long long)row, j);
                if (j > 0 && j < n_real && id[j] <= id[j - 1])
                    return lb_fail(err, "%s: ids[%lld] is not in ascending order", what, (long long)row);
                sum += c[j];
            }
            if (sum != W) return lb_fail(err, "%s: counts[%lld] sum to %d, not S = %d", what, (long long)row, sum, W);
        }
    }
    return 0;
}

// rows [row0, row0 + T) of a (N, W) dataset <-> buf, in memory type mt
static int window_io(hid_t d, hid_t mt, int64_t row0, int T, int W, void *buf, int write) {
    hsize_t start[2] = {(hsize_t)row0, 0}, count[2] = {(hsize_t)T, (hsize_t)W};
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(2, count, NULL);
    int rc = (fs < 0 || ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0) ? -1 : 0;
    if (!rc) rc = (write ? H5Dwrite(d, mt, ms, fs, H5P_DEFAULT, buf) : H5Dread(d, mt, ms, fs, H5P_DEFAULT, buf)) < 0 ? -1 : 0;
    if (fs >= 0) H5Sclose(fs);
    if (ms >= 0) H5Sclose(ms);
    return rc;
}

// --- writing ---------------------------------------------------------------------------------

struct lb_logits_writer {
    char path[4096], tmp[4200];
    hid_t file, fp16;
    hid_t dset[2];
    int n_dset;
    ds_kind kinds[2];
    lb_logits_info info;   // own copies of the strings
    int64_t appended;      // windows so far
    lb_fp16 *half;         // (T, W) scratch
    uint32_t *stamp, gen;
};

static int write_attrs(lb_logits_writer *w, lb_err *err) {
    const lb_logits_info *in = &w->info;
    const hid_t f = w->file;
    return lb_h5_attr_set_str(f, "format", "lowbit-logits", err) || lb_h5_attr_set_i64(f, "version", 1, err) ||
           lb_h5_attr_set_str(f, "mode", lb_logit_mode_name(in->mode), err) ||
           lb_h5_attr_set_i64(f, "n_vocab", in->n_vocab, err) || lb_h5_attr_set_i64(f, "seq_len", in->seq_len, err) ||
           lb_h5_attr_set_i64(f, "n_windows", in->n_windows, err) || lb_h5_attr_set_i64(f, "k", in->k, err) ||
           lb_h5_attr_set_f64(f, "temperature", in->temperature, err) ||
           lb_h5_attr_set_i64(f, "seed", (int64_t)in->seed, err) ||
           lb_h5_attr_set_str(f, "teacher", in->teacher ? in->teacher : "", err) ||
           lb_h5_attr_set_str(f, "tokens", in->tokens ? in->tokens : "", err) ||
           lb_h5_attr_set_str(f, "split", in->split, err) ||
           lb_h5_attr_set_i64(f, "tokens_hash", (int64_t)in->tokens_hash, err) ||
           lb_h5_attr_set_f64(f, "bytes_per_token", 0.0, err);   // rewritten in place by finish
}

lb_logits_writer *lb_logits_writer_create(const char *path, const lb_logits_info *info, lb_err *err) {
    if (lb_h5_init(err)) return NULL;
    if (strlen(path) >= 4096) { lb_fail(err, "%s: path too long", path); return NULL; }
    if (check_info(info, path, err)) return NULL;
    lb_logits_writer *w = calloc(1, sizeof *w);
    if (!w) { lb_fail(err, "out of memory"); return NULL; }
    snprintf(w->path, sizeof w->path, "%s", path);
    lb_h5_tmp_path(w->tmp, sizeof w->tmp, path);
    w->file = w->fp16 = w->dset[0] = w->dset[1] = -1;
    w->info = *info;
    w->info.teacher = strdup(info->teacher ? info->teacher : "");
    w->info.tokens = strdup(info->tokens ? info->tokens : "");
    w->info.bytes_per_token = 0;
    const int T = info->seq_len, W = row_width(info);
    w->half = malloc((size_t)T * W * sizeof *w->half);
    w->stamp = calloc((size_t)info->n_vocab, sizeof *w->stamp);
    if (!w->info.teacher || !w->info.tokens || !w->half || !w->stamp) {
        lb_fail(err, "%s: out of memory", path);
        lb_logits_writer_abort(w);
        return NULL;
    }
    if ((w->fp16 = fp16_type()) < 0) { lb_fail(err, "hdf5: cannot build the float16 type"); lb_logits_writer_abort(w); return NULL; }
    if ((w->file = lb_h5_create(w->tmp, err)) < 0) { lb_logits_writer_abort(w); return NULL; }
    // fixed (N, W) datasets, one chunk per window: the trainer reads a window with one chunk
    // decode, and chunks never written simply do not exist (an aborted run is removed anyway)
    hsize_t dims[2] = {(hsize_t)(info->n_windows * T), (hsize_t)W}, chunk[2] = {(hsize_t)T, (hsize_t)W};
    hid_t space = H5Screate_simple(2, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    int ok = space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 2, chunk) >= 0 && lb_h5_set_zstd(dcpl, LB_H5_ZSTD_LEVEL, err) == 0;
    w->n_dset = mode_datasets(info->mode, w->kinds);
    for (int i = 0; i < w->n_dset && ok; i++) {
        const ds_kind k = w->kinds[i];
        const hid_t ft = k == DS_LOGITS ? w->fp16 : k == DS_IDS ? H5T_STD_I32LE : H5T_STD_U8LE;
        w->dset[i] = H5Dcreate2(w->file, ds_name(k), ft, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        ok = w->dset[i] >= 0;
    }
    if (space >= 0) H5Sclose(space);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (!ok) {
        lb_fail(err, "%s: cannot create the logit datasets", w->tmp);
        lb_logits_writer_abort(w);
        return NULL;
    }
    if (write_attrs(w, err)) { lb_logits_writer_abort(w); return NULL; }
    return w;
}

int lb_logits_writer_append(lb_logits_writer *w, const float *logits, const int32_t *ids, const uint8_t *counts,
                            lb_err *err) {
    const lb_logits_info *in = &w->info;
    const int T = in->seq_len, W = row_width(in);
    if (w->appended >= in->n_windows)
        return lb_fail(err, "%s: more windows appended than the %lld announced", w->path, (long long)in->n_windows);
    const int need_logits = in->mode != LB_LOGITS_SAMPLED, need_ids = in->mode != LB_LOGITS_FULL;
    if ((need_logits && !logits) || (need_ids && !ids) || (in->mode == LB_LOGITS_SAMPLED && !counts))
        return lb_fail(err, "%s: append without the %s mode's arrays", w->path, lb_logit_mode_name(in->mode));
    const int64_t row0 = w->appended * T;
    if (need_logits) {
        const size_t n = (size_t)T * W;
        for (size_t i = 0; i < n; i++) {
            w->half[i] = lb_f32_to_fp16(logits[i]);
            // a logit beyond fp16 range is a broken teacher (or one that needs scaling), never data
            if ((w->half[i] & 0x7c00u) == 0x7c00u && !(in->mode == LB_LOGITS_TOPK && ids[i] == -1))
                return lb_fail(err, "%s: teacher logit %g (row %lld) does not fit in float16", w->path, (double)logits[i],
                               (long long)(row0 + (int64_t)(i / W)));
            if (in->mode == LB_LOGITS_TOPK && ids[i] == -1) w->half[i] = 0;
        }
    }
    // the reader's checks, so we never write a file lowbit itself refuses
    if (check_rows(in, ids, counts, w->half, w->stamp, &w->gen, row0, w->path, err)) return -1;
    for (int i = 0; i < w->n_dset; i++) {
        const ds_kind k = w->kinds[i];
        const hid_t mt = k == DS_LOGITS ? w->fp16 : k == DS_IDS ? H5T_NATIVE_INT32 : H5T_NATIVE_UINT8;
        const void *buf = k == DS_LOGITS ? (const void *)w->half : k == DS_IDS ? (const void *)ids : (const void *)counts;
        if (window_io(w->dset[i], mt, row0, T, W, (void *)buf, 1))
            return lb_fail(err, "%s: cannot write window %lld of /%s", w->tmp, (long long)w->appended, ds_name(k));
    }
    w->appended++;
    return 0;
}

static void writer_free(lb_logits_writer *w) {
    for (int i = 0; i < 2; i++)
        if (w->dset[i] >= 0) H5Dclose(w->dset[i]);
    if (w->fp16 >= 0) H5Tclose(w->fp16);
    lb_logits_info_free(&w->info);
    free(w->half);
    free(w->stamp);
    free(w);
}

int lb_logits_writer_finish(lb_logits_writer *w, lb_err *err) {
    if (w->appended != w->info.n_windows) {
        lb_fail(err, "%s: only %lld of %lld windows were written", w->path, (long long)w->appended, (long long)w->info.n_windows);
        lb_logits_writer_abort(w);
        return -1;
    }
    for (int i = 0; i < 2; i++)
        if (w->dset[i] >= 0) { H5Dclose(w->dset[i]); w->dset[i] = -1; }
    // bytes_per_token: the size of the closed file, then written into the attribute that
    // already exists (8 bytes rewritten in place: the file does not grow)
    hid_t f = w->file;
    w->file = -1;
    struct stat st;
    if (H5Fclose(f) < 0 || stat(w->tmp, &st) != 0) {
        lb_fail(err, "%s: HDF5 could not finish writing the file", w->tmp);
        lb_logits_writer_abort(w);   // removes the temp
        return -1;
    }
    const double bpt = (double)st.st_size / (double)(w->info.n_windows * w->info.seq_len);
    f = H5Fopen(w->tmp, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t a = f >= 0 ? H5Aopen(f, "bytes_per_token", H5P_DEFAULT) : -1;
    int rc = (a < 0 || H5Awrite(a, H5T_NATIVE_DOUBLE, &bpt) < 0) ? -1 : 0;
    if (a >= 0) H5Aclose(a);
    if (rc) {
        lb_fail(err, "%s: cannot write attribute 'bytes_per_token'", w->tmp);
        lb_h5_abort(f, w->tmp);
        writer_free(w);
        return -1;
    }
    rc = lb_h5_commit(f, w->tmp, w->path, err);
    writer_free(w);
    return rc;
}

void lb_logits_writer_abort(lb_logits_writer *w) {
    if (!w) return;
    for (int i = 0; i < 2; i++)
        if (w->dset[i] >= 0) { H5Dclose(w->dset[i]); w->dset[i] = -1; }
    if (w->tmp[0]) lb_h5_abort(w->file, w->tmp);   // closes (if open) + unlinks
    w->file = -1;
    writer_free(w);
}

// --- reading ---------------------------------------------------------------------------------

struct lb_logits_reader {
    char *path;
    hid_t file, fp16;
    hid_t dset[2];
    int n_dset;
    ds_kind kinds[2];
    lb_logits_info info;
    lb_fp16 *half;      // (T, W) scratch for logits
    int32_t *ids;       // (T, W) scratch when the caller passes no ids (they are still checked)
    uint8_t *counts;    // (T, W)
    uint32_t *stamp, gen;
};

static int read_i32_attr(hid_t f, const char *path, const char *name, int64_t lo, int64_t hi, int32_t *out, lb_err *err) {
    int64_t v = 0;
    if (lb_h5_attr_get_i64(f, path, name, &v, err)) return -1;
    if (v < lo || v > hi) return lb_fail(err, "%s: attribute '%s' = %lld is out of range", path, name, (long long)v);
    *out = (int32_t)v;
    return 0;
}

static int read_info(hid_t f, const char *path, lb_logits_info *in, lb_err *err) {
    memset(in, 0, sizeof *in);
    char *s = NULL;
    int64_t v = 0;
    if (lb_h5_attr_get_str(f, path, "format", &s, err)) return -1;
    if (strcmp(s, "lowbit-logits") != 0) {
        lb_fail(err, "%s: not a lowbit logit store (format '%.40s')", path, s);
        free(s);
        return -1;
    }
    free(s);
    if (lb_h5_attr_get_i64(f, path, "version", &v, err)) return -1;
    if (v != 1) return lb_fail(err, "%s: unsupported logit store version %lld", path, (long long)v);
    if (lb_h5_attr_get_str(f, path, "mode", &s, err)) return -1;
    int bad_mode = lb_logit_mode_parse(s, &in->mode);
    if (bad_mode) lb_fail(err, "%s: unknown mode '%.40s'", path, s);
    free(s);
    if (bad_mode) return -1;
    if (read_i32_attr(f, path, "n_vocab", 1, LB_LOGITS_MAX_VOCAB, &in->n_vocab, err) ||
        read_i32_attr(f, path, "seq_len", 1, LB_LOGITS_MAX_SEQ, &in->seq_len, err) ||
        read_i32_attr(f, path, "k", 0, LB_LOGITS_MAX_VOCAB, &in->k, err) ||
        lb_h5_attr_get_i64(f, path, "n_windows", &in->n_windows, err) ||
        lb_h5_attr_get_f64(f, path, "temperature", &in->temperature, err) ||
        lb_h5_attr_get_i64(f, path, "seed", &v, err))
        return -1;
    in->seed = (uint64_t)v;
    if (lb_h5_attr_get_i64(f, path, "tokens_hash", &v, err)) return -1;
    in->tokens_hash = (uint64_t)v;
    if (lb_h5_attr_get_f64(f, path, "bytes_per_token", &in->bytes_per_token, err)) return -1;
    if (!(in->bytes_per_token >= 0) || !isfinite(in->bytes_per_token))
        return lb_fail(err, "%s: bad bytes_per_token %g", path, in->bytes_per_token);
    if (lb_h5_attr_get_str(f, path, "split", &s, err)) return -1;
    snprintf(in->split, sizeof in->split, "%s", s);
    const int long_split = strlen(s) >= sizeof in->split;
    free(s);
    if (long_split) return lb_fail(err, "%s: bad split attribute", path);
    if (check_info(in, path, err)) return -1;
    if (lb_h5_attr_get_str(f, path, "teacher", &in->teacher, err) || lb_h5_attr_get_str(f, path, "tokens", &in->tokens, err)) {
        lb_logits_info_free(in);
        return -1;
    }
    return 0;
}

// is t exactly the type lowbit writes for dataset kind k?
static int type_ok(hid_t t, ds_kind k) {
    if (t < 0) return 0;
    if (k == DS_IDS || k == DS_COUNTS) {
        const size_t size = k == DS_IDS ? 4 : 1;
        const H5T_sign_t sign = k == DS_IDS ? H5T_SGN_2 : H5T_SGN_NONE;
        return H5Tget_class(t) == H5T_INTEGER && H5Tget_size(t) == size && H5Tget_sign(t) == sign &&
               (size == 1 || H5Tget_order(t) == H5T_ORDER_LE) && H5Tget_precision(t) == 8 * size && H5Tget_offset(t) == 0;
    }
    size_t spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0;
    return H5Tget_class(t) == H5T_FLOAT && H5Tget_size(t) == 2 && H5Tget_order(t) == H5T_ORDER_LE &&
           H5Tget_precision(t) == 16 && H5Tget_offset(t) == 0 && H5Tget_fields(t, &spos, &epos, &esize, &mpos, &msize) >= 0 &&
           spos == 15 && epos == 10 && esize == 5 && mpos == 0 && msize == 10 && H5Tget_ebias(t) == 15 &&
           H5Tget_norm(t) == H5T_NORM_IMPLIED;
}

static int open_dataset(lb_logits_reader *r, int i, lb_err *err) {
    const ds_kind k = r->kinds[i];
    const char *name = ds_name(k), *path = r->path;
    const hid_t f = r->file;
    if (H5Lexists(f, name, H5P_DEFAULT) <= 0) return lb_fail(err, "%s: missing dataset /%s (%s mode)", path, name, lb_logit_mode_name(r->info.mode));
    hid_t d = r->dset[i] = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) return lb_fail(err, "%s: /%s is not a readable dataset", path, name);
    hid_t t = H5Dget_type(d), sp = H5Dget_space(d), dcpl = H5Dget_create_plist(d);
    const int tok = type_ok(t, k);
    hsize_t dims[2] = {0, 0}, chunk[2] = {0, 0};
    const int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (nd == 2) H5Sget_simple_extent_dims(sp, dims, NULL);
    int chunked = dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED;
    int cnd = chunked ? H5Pget_chunk(dcpl, 2, chunk) : 0;
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    if (dcpl >= 0) H5Pclose(dcpl);
    const char *want_type = k == DS_LOGITS ? "float16" : k == DS_IDS ? "int32" : "uint8";
    if (!tok) return lb_fail(err, "%s: /%s is not %s", path, name, want_type);
    const int64_t N = r->info.n_windows * r->info.seq_len, W = row_width(&r->info);
    if (nd != 2 || (int64_t)dims[0] != N || (int64_t)dims[1] != W)
        return lb_fail(err, "%s: /%s has shape %s(%llu, %llu), the attributes say (%lld, %lld)", path, name, nd == 2 ? "" : "not 2-D ",
                       (unsigned long long)dims[0], (unsigned long long)dims[1], (long long)N, (long long)W);
    // a chunk bigger than one window's rows would make HDF5 decode (and allocate) more than
    // the attributes justify
    if (chunked && (cnd != 2 || chunk[0] == 0 || chunk[1] == 0 || chunk[0] > (hsize_t)r->info.seq_len || chunk[1] > (hsize_t)W))
        return lb_fail(err, "%s: /%s has chunks of (%llu, %llu), more than one window", path, name,
                       (unsigned long long)chunk[0], (unsigned long long)chunk[1]);
    return 0;
}

lb_logits_reader *lb_logits_open(const char *path, lb_err *err) {
    if (lb_h5_init(err)) return NULL;
    lb_logits_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) { free(r); lb_fail(err, "out of memory"); return NULL; }
    r->fp16 = r->dset[0] = r->dset[1] = -1;
    if ((r->file = lb_h5_open_read(path, err)) < 0) { free(r->path); free(r); return NULL; }
    if (read_info(r->file, path, &r->info, err)) goto fail;
    if ((r->fp16 = fp16_type()) < 0) { lb_fail(err, "hdf5: cannot build the float16 type"); goto fail; }
    r->n_dset = mode_datasets(r->info.mode, r->kinds);
    for (int i = 0; i < r->n_dset; i++)
        if (open_dataset(r, i, err)) goto fail;
    const size_t n = (size_t)r->info.seq_len * (size_t)row_width(&r->info);
    r->half = malloc(r->info.mode == LB_LOGITS_SAMPLED ? 1 : n * sizeof *r->half);
    r->ids = malloc(r->info.mode == LB_LOGITS_FULL ? 1 : n * sizeof *r->ids);
    r->counts = malloc(r->info.mode == LB_LOGITS_SAMPLED ? n : 1);
    r->stamp = calloc((size_t)r->info.n_vocab, sizeof *r->stamp);
    if (!r->half || !r->ids || !r->counts || !r->stamp) { lb_fail(err, "%s: out of memory", path); goto fail; }
    return r;
fail:
    lb_logits_close(r);
    return NULL;
}

const lb_logits_info *lb_logits_reader_info(const lb_logits_reader *r) { return &r->info; }

int lb_logits_read_window(lb_logits_reader *r, int64_t w, float *logits, int32_t *ids, uint8_t *counts, lb_err *err) {
    const lb_logits_info *in = &r->info;
    const int T = in->seq_len, W = row_width(in);
    if (w < 0 || w >= in->n_windows)
        return lb_fail(err, "%s: window %lld is outside the %lld stored", r->path, (long long)w, (long long)in->n_windows);
    const int64_t row0 = w * T;
    for (int i = 0; i < r->n_dset; i++) {
        const ds_kind k = r->kinds[i];
        const hid_t mt = k == DS_LOGITS ? r->fp16 : k == DS_IDS ? H5T_NATIVE_INT32 : H5T_NATIVE_UINT8;
        void *buf = k == DS_LOGITS ? (void *)r->half : k == DS_IDS ? (void *)r->ids : (void *)r->counts;
        if (window_io(r->dset[i], mt, row0, T, W, buf, 0))
            return lb_fail(err, "%s: cannot read window %lld of /%s (damaged file or missing zstd filter?)", r->path,
                           (long long)w, ds_name(k));
    }
    if (check_rows(in, r->ids, r->counts, r->half, r->stamp, &r->gen, row0, r->path, err)) return -1;
    const size_t n = (size_t)T * W;
    if (logits && in->mode != LB_LOGITS_SAMPLED)
        for (size_t i = 0; i < n; i++) logits[i] = lb_fp16_to_f32(r->half[i]);
    if (ids && in->mode != LB_LOGITS_FULL) memcpy(ids, r->ids, n * sizeof *ids);
    if (counts && in->mode == LB_LOGITS_SAMPLED) memcpy(counts, r->counts, n);
    return 0;
}

void lb_logits_close(lb_logits_reader *r) {
    if (!r) return;
    for (int i = 0; i < 2; i++)
        if (r->dset[i] >= 0) H5Dclose(r->dset[i]);
    if (r->fp16 >= 0) H5Tclose(r->fp16);
    if (r->file >= 0) H5Fclose(r->file);
    lb_logits_info_free(&r->info);
    free(r->path);
    free(r->half);
    free(r->ids);
    free(r->counts);
    free(r->stamp);
    free(r);
}
