// h5_tokens.c: token-id stores in HDF5 (see h5_tokens.h for the layout).
#include "h5_tokens.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "h5_zstd.h"

// the most ids we agree to load from one split (16 GiB of int32): beyond it, the file lies
#define LB_H5_TOKENS_MAX ((hsize_t)1 << 32)

const char *lb_split_name(lb_split s) { return s == LB_SPLIT_VAL ? "val" : "train"; }

void lb_tokens_info_free(lb_tokens_info *info) {
    if (!info) return;
    free(info->vocab_source);
    free(info->sources);
    free(info->split_rule);
    info->vocab_source = info->sources = info->split_rule = NULL;
}

// --- writing -----------------------------------------------------------------------

struct lb_tokens_writer {
    char path[4096], tmp[4200];
    hid_t file;
    hid_t dset[2];
    hsize_t n[2];
};

lb_tokens_writer *lb_tokens_writer_create(const char *path, lb_err *err) {
    if (lb_h5_init(err)) return NULL;
    if (strlen(path) >= 4096) { lb_fail(err, "%s: path too long", path); return NULL; }
    lb_tokens_writer *w = calloc(1, sizeof *w);
    if (!w) { lb_fail(err, "out of memory"); return NULL; }
    snprintf(w->path, sizeof w->path, "%s", path);
    lb_h5_tmp_path(w->tmp, sizeof w->tmp, path);
    w->dset[0] = w->dset[1] = -1;
    if ((w->file = lb_h5_create(w->tmp, err)) < 0) { free(w); return NULL; }
    hsize_t dims[1] = {0}, maxdims[1] = {H5S_UNLIMITED}, chunk[1] = {LB_H5_TOKENS_CHUNK};
    hid_t space = H5Screate_simple(1, dims, maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    int ok = space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 1, chunk) >= 0 && lb_h5_set_zstd(dcpl, LB_H5_ZSTD_LEVEL, err) == 0;
    for (int s = 0; s < 2 && ok; s++) {
        w->dset[s] = H5Dcreate2(w->file, lb_split_name((lb_split)s), H5T_STD_I32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        ok = w->dset[s] >= 0;
    }
    if (space >= 0) H5Sclose(space);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (!ok) {
        lb_fail(err, "%s: cannot create the token datasets", w->tmp);
        lb_tokens_writer_abort(w);
        return NULL;
    }
    return w;
}

int lb_tokens_writer_append(lb_tokens_writer *w, lb_split split, const int32_t *ids, size_t n, lb_err *err) {
    if (n == 0) return 0;
    hid_t d = w->dset[split];
    hsize_t start[1] = {w->n[split]}, count[1] = {n}, total[1] = {w->n[split] + n};
    if (H5Dset_extent(d, total) < 0) return lb_fail(err, "%s: cannot grow /%s", w->tmp, lb_split_name(split));
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(1, count, NULL);
    int rc = (fs < 0 || ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
              H5Dwrite(d, H5T_NATIVE_INT32, ms, fs, H5P_DEFAULT, ids) < 0) ? -1 : 0;
    if (fs >= 0) H5Sclose(fs);
    if (ms >= 0) H5Sclose(ms);
    if (rc) return lb_fail(err, "%s: cannot write %zu ids to /%s", w->tmp, n, lb_split_name(split));
    w->n[split] += n;
    return 0;
}

int lb_tokens_writer_finish(lb_tokens_writer *w, const lb_tokens_info *info, lb_err *err) {
    hid_t f = w->file;
    int rc = lb_h5_attr_set_str(f, "format", "lowbit-tokens", err) || lb_h5_attr_set_i64(f, "version", 1, err) ||
             lb_h5_attr_set_i64(f, "n_vocab", info->n_vocab, err) || lb_h5_attr_set_i64(f, "bos_id", info->bos_id, err) ||
             lb_h5_attr_set_str(f, "tokenizer_model", info->tokenizer_model, err) ||
             lb_h5_attr_set_str(f, "vocab_source", info->vocab_source ? info->vocab_source : "", err) ||
             lb_h5_attr_set_str(f, "sources", info->sources ? info->sources : "", err) ||
             lb_h5_attr_set_str(f, "split_rule", info->split_rule ? info->split_rule : "", err) ||
             lb_h5_attr_set_f64(f, "val_fraction", info->val_fraction, err) ||
             lb_h5_attr_set_i64(f, "n_train", (int64_t)w->n[0], err) || lb_h5_attr_set_i64(f, "n_val", (int64_t)w->n[1], err);
    if (rc) { lb_tokens_writer_abort(w); return -1; }
    for (int s = 0; s < 2; s++) H5Dclose(w->dset[s]);
    rc = lb_h5_commit(f, w->tmp, w->path, err);
    free(w);
    return rc;
}

void lb_tokens_writer_abort(lb_tokens_writer *w) {
    if (!w) return;
    for (int s = 0; s < 2; s++)
        if (w->dset[s] >= 0) H5Dclose(w->dset[s]);
    lb_h5_abort(w->file, w->tmp);
    free(w);
}

// --- reading -----------------------------------------------------------------------

static int read_info(hid_t f, const char *path, lb_tokens_info *info, lb_err *err) {
    memset(info, 0, sizeof *info);
    char *fmt = NULL, *model = NULL;
    int64_t version = 0, n_vocab = 0, bos = -1;
    int rc = lb_h5_attr_get_str(f, path, "format", &fmt, err);
    if (!rc && strcmp(fmt, "lowbit-tokens") != 0) rc = lb_fail(err, "%s: not a lowbit token file (format '%s')", path, fmt);
    free(fmt);
    if (rc) return -1;
    if (lb_h5_attr_get_i64(f, path, "version", &version, err)) return -1;
    if (version != 1) return lb_fail(err, "%s: unsupported token file version %lld", path, (long long)version);
    if (lb_h5_attr_get_i64(f, path, "n_vocab", &n_vocab, err) || lb_h5_attr_get_i64(f, path, "bos_id", &bos, err) ||
        lb_h5_attr_get_i64(f, path, "n_train", &info->n_train, err) || lb_h5_attr_get_i64(f, path, "n_val", &info->n_val, err) ||
        lb_h5_attr_get_f64(f, path, "val_fraction", &info->val_fraction, err))
        return -1;
    if (n_vocab <= 0 || n_vocab > (1 << 24)) return lb_fail(err, "%s: bad n_vocab %lld", path, (long long)n_vocab);
    if (bos < -1 || bos >= n_vocab) return lb_fail(err, "%s: bad bos_id %lld", path, (long long)bos);
    info->n_vocab = (int32_t)n_vocab;
    info->bos_id = (int32_t)bos;
    if (lb_h5_attr_get_str(f, path, "tokenizer_model", &model, err)) return -1;
    snprintf(info->tokenizer_model, sizeof info->tokenizer_model, "%s", model);
    free(model);
    if (lb_h5_attr_get_str(f, path, "vocab_source", &info->vocab_source, err) ||
        lb_h5_attr_get_str(f, path, "sources", &info->sources, err) ||
        lb_h5_attr_get_str(f, path, "split_rule", &info->split_rule, err)) {
        lb_tokens_info_free(info);
        return -1;
    }
    return 0;
}

int lb_tokens_read(const char *path, lb_split split, int32_t **ids, size_t *n, lb_tokens_info *info_out, lb_err *err) {
    *ids = NULL;
    *n = 0;
    if (lb_h5_init(err)) return -1;
    hid_t f = lb_h5_open_read(path, err);
    if (f < 0) return -1;
    lb_tokens_info info;
    hid_t d = -1, sp = -1, t = -1;
    int32_t *buf = NULL;
    int rc = -1;
    if (read_info(f, path, &info, err)) goto done_noinfo;
    const char *name = lb_split_name(split);
    if (H5Lexists(f, name, H5P_DEFAULT) <= 0 || (d = H5Dopen2(f, name, H5P_DEFAULT)) < 0) {
        lb_fail(err, "%s: missing dataset /%s", path, name);
        goto done;
    }
    t = H5Dget_type(d);
    sp = H5Dget_space(d);
    hsize_t dims[1] = {0};
    if (t < 0 || H5Tget_class(t) != H5T_INTEGER || H5Tget_size(t) > 8) { lb_fail(err, "%s: /%s is not an integer dataset", path, name); goto done; }
    if (sp < 0 || H5Sget_simple_extent_ndims(sp) != 1 || H5Sget_simple_extent_dims(sp, dims, NULL) < 0) {
        lb_fail(err, "%s: /%s is not 1-D", path, name);
        goto done;
    }
    if (dims[0] > LB_H5_TOKENS_MAX) { lb_fail(err, "%s: /%s claims %llu ids", path, name, (unsigned long long)dims[0]); goto done; }
    const int64_t want = split == LB_SPLIT_VAL ? info.n_val : info.n_train;
    if ((int64_t)dims[0] != want) {
        lb_fail(err, "%s: /%s has %llu ids but the n_%s attribute says %lld", path, name, (unsigned long long)dims[0], name,
                (long long)want);
        goto done;
    }
    if (!(buf = malloc(dims[0] ? dims[0] * sizeof *buf : 1))) { lb_fail(err, "%s: out of memory for %llu ids", path, (unsigned long long)dims[0]); goto done; }
    if (dims[0] && H5Dread(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        lb_fail(err, "%s: cannot read /%s (damaged file or missing zstd filter?)", path, name);
        goto done;
    }
    for (hsize_t i = 0; i < dims[0]; i++)
        if (buf[i] < 0 || buf[i] >= info.n_vocab) {
            lb_fail(err, "%s: /%s[%llu] = %d is outside the vocabulary (%d)", path, name, (unsigned long long)i, buf[i], info.n_vocab);
            goto done;
        }
    *ids = buf;
    *n = (size_t)dims[0];
    buf = NULL;
    rc = 0;
done:
    if (rc || !info_out) lb_tokens_info_free(&info);
    else *info_out = info;
done_noinfo:
    free(buf);
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    if (d >= 0) H5Dclose(d);
    H5Fclose(f);
    return rc;
}
