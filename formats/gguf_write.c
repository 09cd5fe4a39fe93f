// gguf_write.c: streaming GGUF v3 writer. Header, KV (in lb_kvs order) and tensor infos go
// out at open; tensor bytes follow in order, each padded with zeros to the alignment (as
// ggml's gguf writer does, including after the last tensor). Everything goes to
// PATH.tmp-<pid>; close() fsyncs and renames, any failure unlinks, so PATH is either the
// complete new file or untouched.
#include "gguf.h"
#include "tmpfiles.h"
#include "lb_types.h"
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct lb_gguf_writer {
    FILE *f;
    char *path, *tmp;
    lb_gguf_tensor *tensors;   // copies with offset and nbytes filled in
    uint64_t n_tensors;
    uint32_t alignment;
    uint64_t pos;              // bytes written so far
    uint64_t data_offset;      // file offset of the data section
    uint64_t cur;              // tensor being written
    uint64_t cur_done;         // bytes of it written so far
    int failed;
};

static const uint8_t zeros[256];

// --- low-level output ------------------------------------------------------------

static int out(lb_gguf_writer *w, const void *p, size_t n, lb_err *err) {
    if (n && fwrite(p, 1, n, w->f) != n) {
        w->failed = 1;
        return lb_fail(err, "%s: write failed: %s", w->path, strerror(errno));
    }
    w->pos += n;
    return 0;
}
static int out_u32(lb_gguf_writer *w, uint32_t v, lb_err *err) { return out(w, &v, 4, err); }
static int out_u64(lb_gguf_writer *w, uint64_t v, lb_err *err) { return out(w, &v, 8, err); }
static int out_str(lb_gguf_writer *w, const char *s, uint64_t len, lb_err *err) {
    return out_u64(w, len, err) || out(w, s, (size_t)len, err) ? -1 : 0;
}

static int pad(lb_gguf_writer *w, lb_err *err) {
    while (w->pos % w->alignment) {
        uint64_t n = w->alignment - w->pos % w->alignment;
        if (n > sizeof zeros) n = sizeof zeros;
        if (out(w, zeros, (size_t)n, err)) return -1;
    }
    return 0;
}

static void free_writer(lb_gguf_writer *w) {
    if (!w) return;
    if (w->f) fclose(w->f);
    if (w->tmp) { unlink(w->tmp); lb_tmpfile_untrack(w->tmp); }
    free(w->path);
    free(w->tmp);
    free(w->tensors);
    free(w);
}

// --- validation -------------------------------------------------------------------

static int check_kv(const char *path, const lb_kvs *kv, uint32_t *alignment, lb_err *err) {
    for (size_t i = 0; i < kv->n; i++) {
        const lb_kv *e = &kv->v[i];
        if (!e->key) return lb_fail(err, "%s: key %zu has no name", path, i);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(kv->v[j].key, e->key)) return lb_fail(err, "%s: duplicate key '%s'", path, e->key);
        if (e->type == LB_VT_ARR) {
            if (e->arr_type == LB_VT_ARR || e->arr_type >= LB_VT_COUNT)
                return lb_fail(err, "%s: key '%s' has unsupported array element type %u", path, e->key, e->arr_type);
        } else if (e->type >= LB_VT_COUNT) {
            return lb_fail(err, "%s: key '%s' has unknown value type %u", path, e->key, e->type);
        } else if (e->n != 1) {
            return lb_fail(err, "%s: scalar key '%s' has %" PRIu64 " values", path, e->key, e->n);
        }
        if (e->n && !e->data) return lb_fail(err, "%s: key '%s' has no value", path, e->key);
    }
    const lb_kv *a = lb_kvs_find(kv, "general.alignment");
    if (a) {
        if (a->type != LB_VT_U32) return lb_fail(err, "%s: general.alignment must be u32, not %s", path, lb_vtype_name(a->type));
        uint32_t v;
        memcpy(&v, a->data, 4);
        if (v == 0 || (v & (v - 1))) return lb_fail(err, "%s: general.alignment %u is not a power of two", path, v);
        *alignment = v;
    }
    return 0;
}

// fills t->nbytes from type and shape
static int check_tensor(const char *path, lb_gguf_tensor *t, lb_err *err) {
    size_t len = strnlen(t->name, LB_GGUF_MAX_NAME);
    if (len == LB_GGUF_MAX_NAME) return lb_fail(err, "%s: tensor name '%.*s...' is not shorter than %d bytes", path, 40, t->name, LB_GGUF_MAX_NAME);
    if (t->n_dims < 1 || t->n_dims > LB_GGUF_MAX_DIMS)
        return lb_fail(err, "%s: tensor '%s' has %u dimensions (must be 1..%d)", path, t->name, t->n_dims, LB_GGUF_MAX_DIMS);
    const lb_type_traits *tt = lb_type_get(t->type);
    if (!tt) return lb_fail(err, "%s: tensor '%s' has unknown type id %u", path, t->name, t->type);
    int64_t nelem = 1;
    for (uint32_t j = 0; j < LB_GGUF_MAX_DIMS; j++) {
        if (j >= t->n_dims) t->ne[j] = 1;
        if (t->ne[j] < 0) return lb_fail(err, "%s: tensor '%s' dimension %u is negative", path, t->name, j);
        if (__builtin_mul_overflow(nelem, t->ne[j], &nelem)) return lb_fail(err, "%s: tensor '%s' element count overflows", path, t->name);
    }
    if (t->ne[0] % tt->blck_size)
        return lb_fail(err, "%s: tensor '%s' of type %s has rows of %" PRId64 " values, not a multiple of %" PRId64,
                       path, t->name, tt->name, t->ne[0], tt->blck_size);
    if (__builtin_mul_overflow((uint64_t)(nelem / tt->blck_size), (uint64_t)tt->type_size, &t->nbytes))
        return lb_fail(err, "%s: tensor '%s' byte size overflows", path, t->name);
    return 0;
}

// --- header ---------------------------------------------------------------------

static int write_kv(lb_gguf_writer *w, const lb_kv *e, lb_err *err) {
    if (out_str(w, e->key, strlen(e->key), err) || out_u32(w, e->type, err)) return -1;
    uint32_t elem = e->type;
    if (e->type == LB_VT_ARR) {
        elem = e->arr_type;
        if (out_u32(w, elem, err) || out_u64(w, e->n, err)) return -1;
    }
    if (elem == LB_VT_STR) {
        const lb_str *s = e->data;
        for (uint64_t i = 0; i < e->n; i++)
            if (out_str(w, s[i].ptr, s[i].len, err)) return -1;
        return 0;
    }
    return out(w, e->data, (size_t)(e->n * lb_vtype_size(elem)), err);
}

static int write_header(lb_gguf_writer *w, const lb_kvs *kv, lb_err *err) {
    if (out(w, LB_GGUF_MAGIC, 4, err) || out_u32(w, LB_GGUF_VERSION, err) ||
        out_u64(w, w->n_tensors, err) || out_u64(w, kv->n, err)) return -1;
    for (size_t i = 0; i < kv->n; i++)
        if (write_kv(w, &kv->v[i], err)) return -1;
    for (uint64_t i = 0; i < w->n_tensors; i++) {
        const lb_gguf_tensor *t = &w->tensors[i];
        if (out_str(w, t->name, strlen(t->name), err) || out_u32(w, t->n_dims, err)) return -1;
        for (uint32_t j = 0; j < t->n_dims; j++)
            if (out_u64(w, (uint64_t)t->ne[j], err)) return -1;
        if (out_u32(w, t->type, err) || out_u64(w, t->offset, err)) return -1;
    }
    if (pad(w, err)) return -1;
    w->data_offset = w->pos;
    return 0;
}

// --- public -----------------------------------------------------------------------

lb_gguf_writer *lb_gguf_writer_open(const char *path, const lb_kvs *kv,
                                    const lb_gguf_tensor *tensors, uint64_t n_tensors,
                                    uint32_t alignment, lb_err *err) {
    if (alignment == 0) alignment = LB_GGUF_DEFAULT_ALIGNMENT;
    if (alignment & (alignment - 1)) { lb_fail(err, "%s: alignment %u is not a power of two", path, alignment); return NULL; }
    if (check_kv(path, kv, &alignment, err)) return NULL;
    lb_gguf_writer *w = calloc(1, sizeof *w);
    if (!w) { lb_fail(err, "%s: out of memory", path); return NULL; }
    w->alignment = alignment;
    w->n_tensors = n_tensors;
    w->path = strdup(path);
    size_t tl = strlen(path) + 32;
    w->tmp = malloc(tl);
    w->tensors = n_tensors <= SIZE_MAX / sizeof *tensors ? malloc((size_t)(n_tensors ? n_tensors : 1) * sizeof *tensors) : NULL;
    if (!w->path || !w->tmp || !w->tensors) {
        free(w->tmp); w->tmp = NULL;   // nothing created yet
        free_writer(w);
        lb_fail(err, "%s: out of memory", path);
        return NULL;
    }
    snprintf(w->tmp, tl, "%s.tmp-%ld", path, (long)getpid());
    if (n_tensors) memcpy(w->tensors, tensors, (size_t)n_tensors * sizeof *tensors);

    // shapes, names, offsets: each tensor starts at the aligned end of the previous one
    uint64_t offset = 0;
    for (uint64_t i = 0; i < n_tensors; i++) {
        lb_gguf_tensor *t = &w->tensors[i];
        t->data = NULL;
        if (check_tensor(path, t, err)) goto fail_early;
        for (uint64_t j = 0; j < i; j++)
            if (!strcmp(w->tensors[j].name, t->name)) { lb_fail(err, "%s: duplicate tensor name '%s'", path, t->name); goto fail_early; }
        t->offset = offset;
        uint64_t padded = t->nbytes + (alignment - t->nbytes % alignment) % alignment;
        if (__builtin_add_overflow(offset, padded, &offset)) { lb_fail(err, "%s: total tensor size overflows", path); goto fail_early; }
    }

    w->f = fopen(w->tmp, "wb");
    if (!w->f) { lb_fail(err, "%s: cannot create %s: %s", path, w->tmp, strerror(errno)); goto fail_early; }
    lb_tmpfile_track(w->tmp);   // removed by the CLI's signal handler if we are interrupted
    setvbuf(w->f, NULL, _IOFBF, 1 << 20);
    if (write_header(w, kv, err)) { free_writer(w); return NULL; }
    return w;

fail_early:
    free(w->tmp); w->tmp = NULL;   // the temp file does not exist yet: do not unlink someone else's
    free_writer(w);
    return NULL;
}

int lb_gguf_writer_append(lb_gguf_writer *w, const void *data, uint64_t nbytes, lb_err *err) {
    if (w->failed) return lb_fail(err, "%s: writer already failed", w->path);
    while (nbytes > 0 || (w->cur < w->n_tensors && w->tensors[w->cur].nbytes == 0)) {
        if (w->cur >= w->n_tensors) { w->failed = 1; return lb_fail(err, "%s: more tensor data than the %" PRIu64 " tensors declared", w->path, w->n_tensors); }
        const lb_gguf_tensor *t = &w->tensors[w->cur];
        uint64_t n = t->nbytes - w->cur_done;
        if (n > nbytes) n = nbytes;
        if (out(w, data, (size_t)n, err)) return -1;
        data = (const uint8_t *)data + n;
        nbytes -= n;
        w->cur_done += n;
        if (w->cur_done == t->nbytes) {   // tensor complete: zero-pad to the next aligned offset
            if (pad(w, err)) return -1;
            w->cur++;
            w->cur_done = 0;
            if (nbytes == 0) break;   // an empty next tensor is completed by its own put/append
        }
    }
    return 0;
}

int lb_gguf_writer_put(lb_gguf_writer *w, uint64_t index, const void *data, uint64_t nbytes, lb_err *err) {
    if (w->failed) return lb_fail(err, "%s: writer already failed", w->path);
    if (index != w->cur || w->cur_done != 0) {
        w->failed = 1;
        return lb_fail(err, "%s: tensor %" PRIu64 " written out of order (expected %" PRIu64 ")", w->path, index, w->cur);
    }
    if (index >= w->n_tensors) { w->failed = 1; return lb_fail(err, "%s: tensor index %" PRIu64 " out of range", w->path, index); }
    const lb_gguf_tensor *t = &w->tensors[index];
    if (nbytes != t->nbytes) {
        w->failed = 1;
        return lb_fail(err, "%s: tensor '%s' given %" PRIu64 " bytes, expected %" PRIu64, w->path, t->name, nbytes, t->nbytes);
    }
    if (nbytes == 0) {   // nothing to stream: just mark it done
        if (pad(w, err)) return -1;
        w->cur++;
        return 0;
    }
    return lb_gguf_writer_append(w, data, nbytes, err);
}

int lb_gguf_writer_close(lb_gguf_writer *w, lb_err *err) {
    if (!w) return lb_fail(err, "gguf writer: NULL");
    int rc = 0;
    if (w->failed) rc = lb_fail(err, "%s: writer failed earlier; nothing written", w->path);
    else if (w->cur < w->n_tensors)
        rc = lb_fail(err, "%s: only %" PRIu64 " of %" PRIu64 " tensors written", w->path, w->cur, w->n_tensors);
    if (!rc && (fflush(w->f) || ferror(w->f))) rc = lb_fail(err, "%s: write failed: %s", w->path, strerror(errno));
    if (!rc && fsync(fileno(w->f))) rc = lb_fail(err, "%s: fsync failed: %s", w->path, strerror(errno));
    if (!rc) {
        int c = fclose(w->f);
        w->f = NULL;
        if (c) rc = lb_fail(err, "%s: close failed: %s", w->path, strerror(errno));
    }
    if (!rc && rename(w->tmp, w->path)) rc = lb_fail(err, "%s: rename from %s failed: %s", w->path, w->tmp, strerror(errno));
    if (!rc) { lb_tmpfile_untrack(w->tmp); free(w->tmp); w->tmp = NULL; }   // renamed: nothing left to unlink
    free_writer(w);
    return rc;
}

void lb_gguf_writer_abort(lb_gguf_writer *w) { free_writer(w); }
