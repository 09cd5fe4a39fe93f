// h5_zstd_filter.c: the HDF5 Zstandard filter (id 32015) on libzstd. Only libzstd and the
// HDF5 headers: this file is also built into the stand-alone HDF5 plugin
// (formats/h5plugin/lowbit_h5zstd.c) that lets h5py, h5dump & co read lowbit's files.
// Wire format (the one hdf5plugin / HDF5Plugin-Zstandard use): each chunk is one zstd frame
// holding the raw chunk bytes, with the content size in the frame header; cd_values[0] is
// the compression level.
#include <stdlib.h>
#include <zstd.h>
#include "h5_zstd.h"

// Largest chunk we agree to decompress: a hostile frame header may claim any size.
#define LB_H5_ZSTD_MAX_CHUNK ((unsigned long long)1 << 31)

// HDF5 filter callback: returns the new byte count (buffer replaced) or 0 on failure.
static size_t zstd_filter(unsigned flags, size_t cd_nelmts, const unsigned cd_values[], size_t nbytes,
                          size_t *buf_size, void **buf) {
    if (flags & H5Z_FLAG_REVERSE) {   // decompress
        unsigned long long n = ZSTD_getFrameContentSize(*buf, nbytes);
        if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN || n > LB_H5_ZSTD_MAX_CHUNK) return 0;
        void *out = malloc(n ? (size_t)n : 1);
        if (!out) return 0;
        size_t got = ZSTD_decompress(out, (size_t)n, *buf, nbytes);
        if (ZSTD_isError(got) || got != n) { free(out); return 0; }
        free(*buf);
        *buf = out;
        *buf_size = (size_t)n;
        return (size_t)n;
    }
    int level = cd_nelmts > 0 ? (int)cd_values[0] : LB_H5_ZSTD_LEVEL;
    if (level < 1 || level > ZSTD_maxCLevel()) level = LB_H5_ZSTD_LEVEL;
    size_t cap = ZSTD_compressBound(nbytes);
    void *out = malloc(cap);
    if (!out) return 0;
    // a content checksum in every frame: a damaged chunk fails to decode instead of
    // silently yielding wrong token ids (readers that ignore it still decode the frame)
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    size_t got = cctx ? ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level) : 1;
    if (cctx && !ZSTD_isError(got)) got = ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    if (cctx && !ZSTD_isError(got)) got = ZSTD_compress2(cctx, out, cap, *buf, nbytes);
    ZSTD_freeCCtx(cctx);
    if (!cctx || ZSTD_isError(got)) { free(out); return 0; }
    free(*buf);
    *buf = out;
    *buf_size = cap;
    return got;
}

const H5Z_class2_t lb_h5_zstd_class = {
    H5Z_CLASS_T_VERS, (H5Z_filter_t)LB_H5Z_FILTER_ZSTD, 1, 1, "zstd (lowbit, libzstd)", NULL, NULL, zstd_filter,
};
