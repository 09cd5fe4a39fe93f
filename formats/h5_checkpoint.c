// h5_checkpoint.c: training checkpoints in HDF5 (see h5_checkpoint.h).
#include "h5_checkpoint.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "h5_zstd.h"

void (*lb_ckpt_write_hook)(size_t i) = NULL;

static int shape_str(char *buf, size_t cap, int n, const int64_t *shape) {
    int k = snprintf(buf, cap, "[");
    for (int i = 0; i < n && k < (int)cap; i++) k += snprintf(buf + k, cap - (size_t)k, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (k < (int)cap) snprintf(buf + k, cap - (size_t)k, "]");
    return 0;
}

// --- writing -----------------------------------------------------------------------

static int write_tensor(hid_t f, const char *tmp, const lb_ckpt_tensor *t, lb_err *err) {
    if (!t->name || !*t->name) return lb_fail(err, "%s: checkpoint tensor without a name", tmp);
    if (t->n_dims < 1 || t->n_dims > LB_CKPT_MAX_DIMS) return lb_fail(err, "%s: tensor '%s' has %d dims", tmp, t->name, t->n_dims);
    hsize_t dims[LB_CKPT_MAX_DIMS];
    uint64_t count = 1;
    for (int i = 0; i < t->n_dims; i++) {
        if (t->shape[i] < 0) return lb_fail(err, "%s: tensor '%s' has a negative dimension", tmp, t->name);
        dims[i] = (hsize_t)t->shape[i];
        count *= dims[i];
    }
    if (count && !t->data) return lb_fail(err, "%s: tensor '%s' has no data", tmp, t->name);
    if (H5Lexists(f, t->name, H5P_DEFAULT) > 0) return lb_fail(err, "%s: tensor '%s' given twice", tmp, t->name);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t sp = H5Screate_simple(t->n_dims, dims, NULL);
    // chunked with the Fletcher-32 checksum filter (built into HDF5, h5py reads it): a
    // damaged weight block fails to read instead of resuming training from garbage.
    // Chunks of whole trailing rows, about 1M floats at most.
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (count) {
        hsize_t chunk[LB_CKPT_MAX_DIMS];
        uint64_t inner = 1;
        for (int i = 0; i < t->n_dims; i++) chunk[i] = dims[i];
        for (int i = 1; i < t->n_dims; i++) inner *= dims[i];
        if (inner) {
            uint64_t rows = ((uint64_t)1 << 20) / inner;
            chunk[0] = rows < 1 ? 1 : rows > dims[0] ? dims[0] : rows;
        }
        // a single trailing dim can itself be huge (1-D tensors)
        if (t->n_dims == 1 && chunk[0] > ((hsize_t)1 << 20)) chunk[0] = (hsize_t)1 << 20;
        H5Pset_chunk(dcpl, t->n_dims, chunk);
        H5Pset_fletcher32(dcpl);
    }
    hid_t d = H5Dcreate2(f, t->name, H5T_IEEE_F32LE, sp, lcpl, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    int rc = (d < 0 || (count && H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->data) < 0)) ? -1 : 0;
    if (d >= 0) H5Dclose(d);
    H5Sclose(sp);
    H5Pclose(lcpl);
    if (rc) return lb_fail(err, "%s: cannot write tensor '%s'", tmp, t->name);
    return 0;
}

static int write_attr(hid_t f, const lb_ckpt_attr *a, lb_err *err) {
    if (!a->name || !*a->name) return lb_fail(err, "checkpoint attribute without a name");
    switch (a->type) {
    case LB_CKPT_I64: return lb_h5_attr_set_i64(f, a->name, a->i, err);
    case LB_CKPT_F64: return lb_h5_attr_set_f64(f, a->name, a->f, err);
    case LB_CKPT_STR: return lb_h5_attr_set_str(f, a->name, a->s ? a->s : "", err);
    case LB_CKPT_U64S:
        if (a->n_u == 0 || !a->u) return lb_fail(err, "checkpoint attribute '%s': empty uint64 array", a->name);
        return lb_h5_attr_set_u64s(f, a->name, a->u, a->n_u, err);
    }
    return lb_fail(err, "checkpoint attribute '%s': unknown type", a->name);
}

int lb_ckpt_write(const char *path, const lb_ckpt_tensor *tensors, size_t n_tensors, const lb_ckpt_attr *attrs,
                  size_t n_attrs, lb_err *err) {
    if (lb_h5_init(err)) return -1;
    char tmp[4200];
    lb_h5_tmp_path(tmp, sizeof tmp, path);
    hid_t f = lb_h5_create(tmp, err);
    if (f < 0) return -1;
    if (lb_h5_attr_set_str(f, "format", "lowbit-checkpoint", err) || lb_h5_attr_set_i64(f, "version", 1, err)) goto fail;
    for (size_t i = 0; i < n_attrs; i++) {
        if (!strcmp(attrs[i].name ? attrs[i].name : "", "format") || !strcmp(attrs[i].name ? attrs[i].name : "", "version")) {
            lb_fail(err, "%s: checkpoint attribute name '%s' is reserved", path, attrs[i].name);
            goto fail;
        }
        if (write_attr(f, &attrs[i], err)) goto fail;
    }
    for (size_t i = 0; i < n_tensors; i++) {
        if (write_tensor(f, tmp, &tensors[i], err)) goto fail;
        if (lb_ckpt_write_hook) lb_ckpt_write_hook(i);
    }
    return lb_h5_commit(f, tmp, path, err);
fail:
    lb_h5_abort(f, tmp);
    return -1;
}

// --- reading -----------------------------------------------------------------------

int lb_ckpt_open(lb_ckpt *c, const char *path, lb_err *err) {
    c->file = -1;
    if (lb_h5_init(err)) return -1;
    snprintf(c->path, sizeof c->path, "%s", path);
    hid_t f = lb_h5_open_read(path, err);
    if (f < 0) return -1;
    char *fmt = NULL;
    int64_t version = 0;
    int rc = lb_h5_attr_get_str(f, path, "format", &fmt, err);
    if (!rc && strcmp(fmt, "lowbit-checkpoint") != 0) rc = lb_fail(err, "%s: not a lowbit checkpoint (format '%s')", path, fmt);
    free(fmt);
    if (!rc) rc = lb_h5_attr_get_i64(f, path, "version", &version, err);
    if (!rc && version != 1) rc = lb_fail(err, "%s: unsupported checkpoint version %lld", path, (long long)version);
    if (rc) { H5Fclose(f); return -1; }
    c->file = f;
    return 0;
}

void lb_ckpt_close(lb_ckpt *c) {
    if (c->file >= 0) H5Fclose((hid_t)c->file);
    c->file = -1;
}

int lb_ckpt_has(const lb_ckpt *c, const char *name) {
    // H5Lexists fails (rather than returning 0) when an intermediate group is missing
    char part[1024];
    snprintf(part, sizeof part, "%s", name);
    for (char *p = strchr(part, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        int ok = H5Lexists((hid_t)c->file, part, H5P_DEFAULT) > 0;
        *p = '/';
        if (!ok) return 0;
    }
    return H5Lexists((hid_t)c->file, name, H5P_DEFAULT) > 0;
}

int lb_ckpt_read(const lb_ckpt *c, const char *name, int n_dims, const int64_t *shape, float *out, lb_err *err) {
    if (!lb_ckpt_has(c, name)) return lb_fail(err, "%s: missing tensor '%s'", c->path, name);
    hid_t d = H5Dopen2((hid_t)c->file, name, H5P_DEFAULT);
    if (d < 0) return lb_fail(err, "%s: '%s' is not a dataset", c->path, name);
    hid_t t = H5Dget_type(d), sp = H5Dget_space(d);
    int rc = -1;
    hsize_t dims[H5S_MAX_RANK];
    int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (t < 0 || H5Tget_class(t) != H5T_FLOAT) { lb_fail(err, "%s: tensor '%s' is not floating point", c->path, name); goto done; }
    if (nd < 0 || nd > H5S_MAX_RANK || H5Sget_simple_extent_dims(sp, dims, NULL) < 0) {
        lb_fail(err, "%s: tensor '%s' has a bad shape", c->path, name);
        goto done;
    }
    int same = nd == n_dims;
    for (int i = 0; same && i < nd; i++) same = (int64_t)dims[i] == shape[i];
    if (!same) {
        char want[128], got[128];
        int64_t g[H5S_MAX_RANK];
        for (int i = 0; i < nd; i++) g[i] = (int64_t)dims[i];
        shape_str(want, sizeof want, n_dims, shape);
        shape_str(got, sizeof got, nd, g);
        lb_fail(err, "%s: tensor '%s' has shape %s, expected %s", c->path, name, got, want);
        goto done;
    }
    if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
        lb_fail(err, "%s: cannot read tensor '%s' (damaged file?)", c->path, name);
        goto done;
    }
    rc = 0;
done:
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(d);
    return rc;
}

int lb_ckpt_shape(const lb_ckpt *c, const char *name, int *n_dims, int64_t shape[LB_CKPT_MAX_DIMS], lb_err *err) {
    if (!lb_ckpt_has(c, name)) return lb_fail(err, "%s: missing tensor '%s'", c->path, name);
    hid_t d = H5Dopen2((hid_t)c->file, name, H5P_DEFAULT);
    if (d < 0) return lb_fail(err, "%s: '%s' is not a dataset", c->path, name);
    hid_t sp = H5Dget_space(d);
    hsize_t dims[H5S_MAX_RANK];
    int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1, rc = 0;
    if (nd < 1 || nd > LB_CKPT_MAX_DIMS || H5Sget_simple_extent_dims(sp, dims, NULL) < 0) {
        rc = lb_fail(err, "%s: tensor '%s' has a bad shape", c->path, name);
    } else {
        *n_dims = nd;
        for (int i = 0; i < nd; i++) shape[i] = (int64_t)dims[i];
    }
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(d);
    return rc;
}

int lb_ckpt_get_i64(const lb_ckpt *c, const char *name, int64_t *v, lb_err *err) {
    return lb_h5_attr_get_i64((hid_t)c->file, c->path, name, v, err);
}
int lb_ckpt_get_f64(const lb_ckpt *c, const char *name, double *v, lb_err *err) {
    return lb_h5_attr_get_f64((hid_t)c->file, c->path, name, v, err);
}
int lb_ckpt_get_str(const lb_ckpt *c, const char *name, char **s, lb_err *err) {
    return lb_h5_attr_get_str((hid_t)c->file, c->path, name, s, err);
}
int lb_ckpt_get_u64s(const lb_ckpt *c, const char *name, uint64_t *v, size_t n, lb_err *err) {
    return lb_h5_attr_get_u64s((hid_t)c->file, c->path, name, v, n, err);
}
