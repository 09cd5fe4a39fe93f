// h5_zstd.h: the standard HDF5 Zstandard filter (registered id 32015) implemented on libzstd.
// Debian ships no HDF5 zstd plugin for C programs, so we register our own; files written
// with it are read by h5py after `import hdf5plugin` (same id, same cd_values: [0] = level)
// and by any other reader with a 32015 plugin, such as ours: formats/h5plugin/ builds
// liblowbit_h5zstd.so for HDF5_PLUGIN_PATH.
// Also the small HDF5 helpers every lowbit HDF5 file shares (quiet errors, atomic write).
#pragma once
#include <stdint.h>
#include <hdf5.h>
#include "lb_error.h"

#define LB_H5Z_FILTER_ZSTD 32015
#define LB_H5_ZSTD_LEVEL 3

// The filter class (h5_zstd_filter.c); lb_h5_init registers it.
extern const H5Z_class2_t lb_h5_zstd_class;

// Register the filter with the HDF5 library and turn off HDF5's automatic error-stack
// printing (our callers turn HDF5 failures into one-line lb_err messages instead).
// Idempotent; call before creating or reading any zstd dataset. 0 or -1.
int lb_h5_init(lb_err *err);

// Add the zstd filter (at `level`) to a dataset creation property list.
int lb_h5_set_zstd(hid_t dcpl, int level, lb_err *err);

// 1 if dataset `dset`'s creation property list contains filter `id`, 0 if not, -1 on error.
int lb_h5_has_filter(hid_t dset, int id);

// --- atomic output -----------------------------------------------------------------
// Writers create "PATH.tmp.<pid>", then lb_h5_commit closes the file, fsyncs it, renames it
// over PATH and fsyncs the directory, so a crash at any point leaves either the previous PATH
// or the new one, never a half-written file.
void lb_h5_tmp_path(char *buf, size_t cap, const char *path);
int lb_h5_commit(hid_t file, const char *tmp, const char *path, lb_err *err);   // closes file
void lb_h5_abort(hid_t file, const char *tmp);                                   // closes + unlinks

// Create tmp for writing (truncating), with "strong" close so lb_h5_commit really closes it.
hid_t lb_h5_create(const char *tmp, lb_err *err);
// Open an existing file read-only with a clear error for missing / non-HDF5 files.
hid_t lb_h5_open_read(const char *path, lb_err *err);

// --- attributes (on a file, group or dataset) ---------------------------------------
// Strings are fixed-length, NUL-terminated UTF-8 (h5py shows numpy.bytes_; .decode() them). Getters accept what a reader may meet
// in a hostile file (wrong type, wrong size) and fail with a message naming `what` and `name`.
int lb_h5_attr_set_str(hid_t obj, const char *name, const char *s, lb_err *err);
int lb_h5_attr_set_i64(hid_t obj, const char *name, int64_t v, lb_err *err);
int lb_h5_attr_set_f64(hid_t obj, const char *name, double v, lb_err *err);
int lb_h5_attr_set_u64s(hid_t obj, const char *name, const uint64_t *v, size_t n, lb_err *err);
int lb_h5_attr_get_str(hid_t obj, const char *what, const char *name, char **out, lb_err *err);   // malloc'd
int lb_h5_attr_get_i64(hid_t obj, const char *what, const char *name, int64_t *out, lb_err *err);
int lb_h5_attr_get_f64(hid_t obj, const char *what, const char *name, double *out, lb_err *err);
// exactly n values
int lb_h5_attr_get_u64s(hid_t obj, const char *what, const char *name, uint64_t *out, size_t n, lb_err *err);
