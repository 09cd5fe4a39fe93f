// h5_zstd.c: HDF5 filter 32015 (Zstandard) on libzstd, plus shared HDF5 file helpers.
// The filter itself is in h5_zstd_filter.c (shared with the stand-alone HDF5 plugin).
#include "h5_zstd.h"
#include "tmpfiles.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// --- registration ----------------------------------------------------------------

int lb_h5_init(lb_err *err) {
    // HDF5 prints its error stack to stderr by default; we report one line per failure instead
    // (not H5Zfilter_avail: for an unregistered id it dlopens every plugin in HDF5's plugin
    // directory looking for one)
    static int registered = 0;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (registered) return 0;
    if (H5Zregister(&lb_h5_zstd_class) < 0) return lb_fail(err, "hdf5: cannot register the zstd filter (id %d)", LB_H5Z_FILTER_ZSTD);
    registered = 1;
    return 0;
}

int lb_h5_set_zstd(hid_t dcpl, int level, lb_err *err) {
    unsigned cd[1] = {(unsigned)level};
    if (H5Pset_filter(dcpl, (H5Z_filter_t)LB_H5Z_FILTER_ZSTD, H5Z_FLAG_MANDATORY, 1, cd) < 0)
        return lb_fail(err, "hdf5: cannot add the zstd filter to a dataset");
    return 0;
}

int lb_h5_has_filter(hid_t dset, int id) {
    hid_t dcpl = H5Dget_create_plist(dset);
    if (dcpl < 0) return -1;
    int n = H5Pget_nfilters(dcpl), found = 0;
    for (int i = 0; i < n && !found; i++) {
        unsigned flags = 0, cd[8];
        size_t ncd = 8;
        char name[64];
        unsigned cfg = 0;
        H5Z_filter_t f = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, sizeof name, name, &cfg);
        if (f == (H5Z_filter_t)id) found = 1;
    }
    H5Pclose(dcpl);
    return n < 0 ? -1 : found;
}

// --- atomic output -----------------------------------------------------------------

void lb_h5_tmp_path(char *buf, size_t cap, const char *path) {
    snprintf(buf, cap, "%s.tmp.%ld", path, (long)getpid());
}

static int fsync_path(const char *path, int dir) {
    int fd = open(path, dir ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int h5_commit(hid_t file, const char *tmp, const char *path, lb_err *err);

int lb_h5_commit(hid_t file, const char *tmp, const char *path, lb_err *err) {
    int rc = h5_commit(file, tmp, path, err);
    lb_tmpfile_untrack(tmp);
    return rc;
}

static int h5_commit(hid_t file, const char *tmp, const char *path, lb_err *err) {
    if (H5Fclose(file) < 0) { unlink(tmp); return lb_fail(err, "%s: HDF5 could not finish writing the file", path); }
    if (fsync_path(tmp, 0) != 0) {
        int e = errno;
        unlink(tmp);
        return lb_fail(err, "%s: fsync failed: %s", tmp, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return lb_fail(err, "%s: cannot rename %s into place: %s", path, tmp, strerror(e));
    }
    // make the rename itself durable; a failure here is not worth failing the write for
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) dir[1] = '\0';
    else if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    fsync_path(dir, 1);
    return 0;
}

void lb_h5_abort(hid_t file, const char *tmp) {
    if (file >= 0) H5Fclose(file);
    unlink(tmp);
    lb_tmpfile_untrack(tmp);
}

hid_t lb_h5_open_read(const char *path, lb_err *err) {
    if (access(path, R_OK) != 0) { lb_fail(err, "%s: %s", path, strerror(errno)); return -1; }
    if (H5Fis_hdf5(path) <= 0) { lb_fail(err, "%s: not an HDF5 file", path); return -1; }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) lb_fail(err, "%s: cannot open HDF5 file (damaged or truncated?)", path);
    return f;
}

hid_t lb_h5_create(const char *tmp, lb_err *err) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) { lb_fail(err, "%s: hdf5: cannot create a property list", tmp); return -1; }
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    // the 1.10 file format checksums every metadata block (superblock v3, object header v2,
    // extensible-array / v2 B-tree chunk indexes): HDF5 does not defend itself against
    // damaged metadata (a flipped byte in a 1.6-format object header makes libhdf5 read freed
    // memory; one in a v1 B-tree silently moves a chunk), but it verifies these checksums
    // before parsing. h5py and any HDF5 >= 1.10 read it.
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_LATEST);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (f < 0) lb_fail(err, "%s: cannot create HDF5 file: %s", tmp, strerror(errno));
    else lb_tmpfile_track(tmp);   // removed by the CLI's signal handler if we are interrupted
    return f;
}

// --- attributes --------------------------------------------------------------------

static int attr_write(hid_t obj, const char *name, hid_t type, hid_t space, const void *data, lb_err *err) {
    if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
    hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    int rc = (a < 0 || H5Awrite(a, type, data) < 0) ? -1 : 0;
    if (a >= 0) H5Aclose(a);
    if (rc) lb_fail(err, "hdf5: cannot write attribute '%s'", name);
    return rc;
}

int lb_h5_attr_set_str(hid_t obj, const char *name, const char *s, lb_err *err) {
    // fixed-length, not variable-length: a variable-length string lives in the global heap,
    // which has no checksum, and HDF5 trusts its lengths blindly; a fixed-length one sits in
    // the checksummed object header (or the checksummed dense attribute storage)
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(s) + 1);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t sp = H5Screate(H5S_SCALAR);
    int rc = attr_write(obj, name, t, sp, s, err);
    H5Sclose(sp);
    H5Tclose(t);
    return rc;
}

int lb_h5_attr_set_i64(hid_t obj, const char *name, int64_t v, lb_err *err) {
    hid_t sp = H5Screate(H5S_SCALAR);
    int rc = attr_write(obj, name, H5T_NATIVE_INT64, sp, &v, err);
    H5Sclose(sp);
    return rc;
}

int lb_h5_attr_set_f64(hid_t obj, const char *name, double v, lb_err *err) {
    hid_t sp = H5Screate(H5S_SCALAR);
    int rc = attr_write(obj, name, H5T_NATIVE_DOUBLE, sp, &v, err);
    H5Sclose(sp);
    return rc;
}

int lb_h5_attr_set_u64s(hid_t obj, const char *name, const uint64_t *v, size_t n, lb_err *err) {
    hsize_t dims[1] = {n};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    int rc = attr_write(obj, name, H5T_NATIVE_UINT64, sp, v, err);
    H5Sclose(sp);
    return rc;
}

// open attribute `name`, check its type class and element count
static hid_t attr_open(hid_t obj, const char *what, const char *name, H5T_class_t cls, hssize_t n, lb_err *err) {
    if (H5Aexists(obj, name) <= 0) { lb_fail(err, "%s: missing attribute '%s'", what, name); return -1; }
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) { lb_fail(err, "%s: cannot open attribute '%s'", what, name); return -1; }
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    H5T_class_t c = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    hssize_t got = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    if (c != cls) { H5Aclose(a); lb_fail(err, "%s: attribute '%s' has the wrong type", what, name); return -1; }
    if (got != n) {
        H5Aclose(a);
        lb_fail(err, "%s: attribute '%s' has %lld values, expected %lld", what, name, (long long)got, (long long)n);
        return -1;
    }
    return a;
}

int lb_h5_attr_get_i64(hid_t obj, const char *what, const char *name, int64_t *out, lb_err *err) {
    hid_t a = attr_open(obj, what, name, H5T_INTEGER, 1, err);
    if (a < 0) return -1;
    int rc = H5Aread(a, H5T_NATIVE_INT64, out) < 0 ? lb_fail(err, "%s: cannot read attribute '%s'", what, name) : 0;
    H5Aclose(a);
    return rc;
}

int lb_h5_attr_get_f64(hid_t obj, const char *what, const char *name, double *out, lb_err *err) {
    hid_t a = attr_open(obj, what, name, H5T_FLOAT, 1, err);
    if (a < 0) return -1;
    int rc = H5Aread(a, H5T_NATIVE_DOUBLE, out) < 0 ? lb_fail(err, "%s: cannot read attribute '%s'", what, name) : 0;
    H5Aclose(a);
    return rc;
}

int lb_h5_attr_get_u64s(hid_t obj, const char *what, const char *name, uint64_t *out, size_t n, lb_err *err) {
    hid_t a = attr_open(obj, what, name, H5T_INTEGER, (hssize_t)n, err);
    if (a < 0) return -1;
    int rc = H5Aread(a, H5T_NATIVE_UINT64, out) < 0 ? lb_fail(err, "%s: cannot read attribute '%s'", what, name) : 0;
    H5Aclose(a);
    return rc;
}

int lb_h5_attr_get_str(hid_t obj, const char *what, const char *name, char **out, lb_err *err) {
    *out = NULL;
    hid_t a = attr_open(obj, what, name, H5T_STRING, 1, err);
    if (a < 0) return -1;
    hid_t t = H5Aget_type(a);
    int rc = -1;
    size_t n = t >= 0 ? H5Tget_size(t) : 0;
    if (t < 0 || H5Tis_variable_str(t) != 0) {
        lb_fail(err, "%s: attribute '%s' is a variable-length string (lowbit writes fixed-length ones)", what, name);
    } else if (n == 0 || n > (1u << 26)) {
        lb_fail(err, "%s: attribute '%s' has a bad string size", what, name);
    } else if (!(*out = calloc(n + 1, 1))) {
        lb_fail(err, "out of memory");
    } else {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, n);
        H5Tset_strpad(mt, H5T_STR_NULLTERM);
        H5Tset_cset(mt, H5Tget_cset(t));   // HDF5 will not convert between ASCII and UTF-8
        if (H5Aread(a, mt, *out) < 0) {
            free(*out);
            *out = NULL;
            lb_fail(err, "%s: cannot read attribute '%s'", what, name);
        } else {
            (*out)[n] = '\0';
            rc = 0;
        }
        H5Tclose(mt);
    }
    H5Tclose(t);
    H5Aclose(a);
    return rc;
}
