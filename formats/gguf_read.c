// gguf_read.c: GGUF v2/v3 reader. The file is mmap'ed read-only and every field is checked
// against the bytes that remain BEFORE anything is allocated from it, so a hostile file
// (absurd counts, lengths, shapes, offsets) gives a one-line error, never a huge malloc,
// an out-of-bounds read or a crash. Layout: ggml docs/gguf.md, ../shared/REFERENCE.md §3.
#include "gguf.h"
#include "lb_types.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the GGUF reader assumes a little-endian host (GGUF is little-endian)"
#endif

// smallest possible encodings, used to reject counts that cannot fit in what is left
#define MIN_KV_BYTES 13       // u64 key length (empty key) + u32 type + 1-byte value
#define MIN_TENSOR_BYTES 32   // u64 name length + u32 n_dims + one u64 ne + u32 type + u64 offset

// --- cursor -------------------------------------------------------------------

typedef struct {
    const uint8_t *base;
    size_t size, pos;
    const char *path;
    lb_err *err;
} cursor;

static size_t left(const cursor *c) { return c->size - c->pos; }

// fail with "PATH: truncated ..." unless n more bytes exist
static int need(cursor *c, uint64_t n, const char *what) {
    if (n > left(c))
        return lb_fail(c->err, "%s: truncated file: %s needs %" PRIu64 " bytes at offset %zu, %zu left",
                       c->path, what, n, c->pos, left(c));
    return 0;
}

static int read_bytes(cursor *c, void *out, size_t n, const char *what) {
    if (need(c, n, what)) return -1;
    memcpy(out, c->base + c->pos, n);
    c->pos += n;
    return 0;
}
static int read_u32(cursor *c, uint32_t *v, const char *what) { return read_bytes(c, v, 4, what); }
static int read_u64(cursor *c, uint64_t *v, const char *what) { return read_bytes(c, v, 8, what); }

// A GGUF string: u64 length + bytes (no terminator). Returns a view into the mapping.
static int read_str(cursor *c, lb_str *s, const char *what) {
    uint64_t len;
    if (read_u64(c, &len, what)) return -1;
    if (len > left(c))
        return lb_fail(c->err, "%s: %s has length %" PRIu64 " at offset %zu but only %zu bytes are left",
                       c->path, what, len, c->pos - 8, left(c));
    s->len = len;
    s->ptr = (const char *)c->base + c->pos;
    c->pos += (size_t)len;
    return 0;
}

// Render bytes for an error message: printable ASCII as is, the rest as \xNN, cut at cap.
static const char *printable(char *buf, size_t cap, const char *s, uint64_t len) {
    size_t o = 0;
    uint64_t i = 0;
    for (; i < len && o + 8 < cap; i++) {   // room for one \xNN plus "..." and the NUL
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\'' && ch != '\\') buf[o++] = (char)ch;
        else o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", ch);
    }
    if (i < len) { memcpy(buf + o, "...", 3); o += 3; }
    buf[o] = 0;
    return buf;
}

// --- duplicate detection --------------------------------------------------------
// Open-addressing set of names (views into the mapping): a file with a million tiny keys
// must not cost n^2 string compares.

typedef struct {
    const lb_str **slots;
    size_t mask;
} name_set;

static uint64_t hash_bytes(const char *s, uint64_t len) {
    uint64_t h = 1469598103934665603ull;   // FNV-1a
    for (uint64_t i = 0; i < len; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

static int build_name_set(name_set *set, uint64_t n) {
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;   // n is bounded by the file size, so this terminates sanely
    set->slots = calloc(cap, sizeof *set->slots);
    set->mask = cap - 1;
    return set->slots ? 0 : -1;
}
static void free_name_set(name_set *set) { free(set->slots); set->slots = NULL; }

// returns 1 if already present, 0 if inserted
static int name_set_insert(name_set *set, const lb_str *s) {
    size_t i = (size_t)hash_bytes(s->ptr, s->len) & set->mask;
    while (set->slots[i]) {
        const lb_str *o = set->slots[i];
        if (o->len == s->len && !memcmp(o->ptr, s->ptr, s->len)) return 1;
        i = (i + 1) & set->mask;
    }
    set->slots[i] = s;
    return 0;
}

// --- values -------------------------------------------------------------------

// Copy strings into one block laid out like kv.c's: lb_str[n] then bytes, each NUL-terminated.
static void *build_str_block(const lb_str *strs, uint64_t n, size_t total_bytes) {
    size_t sz = (size_t)n * sizeof(lb_str) + total_bytes + (size_t)n;
    uint8_t *block = malloc(sz ? sz : 1);
    if (!block) return NULL;
    lb_str *out = (lb_str *)block;
    char *bytes = (char *)(block + n * sizeof(lb_str));
    for (uint64_t i = 0; i < n; i++) {
        if (strs[i].len) memcpy(bytes, strs[i].ptr, strs[i].len);
        bytes[strs[i].len] = 0;
        out[i] = (lb_str){ .len = strs[i].len, .ptr = bytes };
        bytes += strs[i].len + 1;
    }
    return block;
}

// Read n strings. Each needs at least its 8-byte length, so n <= left/8 is checked before the
// temporary view array is allocated; the copy is then at most ~2x the file size.
static void *read_str_values(cursor *c, uint64_t n, const char *what) {
    if (n > left(c) / 8) {
        lb_fail(c->err, "%s: %s has %" PRIu64 " strings but only %zu bytes are left", c->path, what, n, left(c));
        return NULL;
    }
    lb_str *views = malloc((size_t)(n ? n : 1) * sizeof *views);
    if (!views) { lb_fail(c->err, "%s: out of memory reading %s", c->path, what); return NULL; }
    size_t total = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (read_str(c, &views[i], what)) { free(views); return NULL; }
        total += (size_t)views[i].len;   // bounded by the file size
    }
    void *block = build_str_block(views, n, total);
    free(views);
    if (!block) lb_fail(c->err, "%s: out of memory reading %s", c->path, what);
    return block;
}

static void *read_num_values(cursor *c, uint32_t type, uint64_t n, const char *what) {
    size_t esz = lb_vtype_size(type);
    if (n > left(c) / esz) {
        lb_fail(c->err, "%s: %s has %" PRIu64 " %s values (%zu bytes each) but only %zu bytes are left",
                c->path, what, n, lb_vtype_name(type), esz, left(c));
        return NULL;
    }
    size_t nb = (size_t)n * esz;
    void *data = malloc(nb ? nb : 1);
    if (!data) { lb_fail(c->err, "%s: out of memory reading %s", c->path, what); return NULL; }
    memcpy(data, c->base + c->pos, nb);
    c->pos += nb;
    if (type == LB_VT_BOOL)   // GGUF bools are one byte 0/1; anything else is a corrupt file
        for (size_t i = 0; i < nb; i++)
            if (((uint8_t *)data)[i] > 1) {
                lb_fail(c->err, "%s: %s has bool value %u (must be 0 or 1)", c->path, what, ((uint8_t *)data)[i]);
                free(data);
                return NULL;
            }
    return data;
}

static int read_kv(cursor *c, lb_kv *kv, const lb_str *key, uint64_t index) {
    char kq[96], what[160];
    printable(kq, sizeof kq, key->ptr, key->len);
    snprintf(what, sizeof what, "key '%s'", kq);
    uint32_t type;
    if (read_u32(c, &type, what)) return -1;
    uint32_t elem = type;
    uint64_t n = 1;
    if (type == LB_VT_ARR) {
        if (read_u32(c, &elem, what) || read_u64(c, &n, what)) return -1;
        if (elem == LB_VT_ARR) return lb_fail(c->err, "%s: key '%s' is a nested array (not supported by GGUF readers)", c->path, kq);
        if (elem >= LB_VT_COUNT) return lb_fail(c->err, "%s: key '%s' is an array of unknown value type %u", c->path, kq, elem);
    } else if (type >= LB_VT_COUNT) {
        return lb_fail(c->err, "%s: key '%s' (number %" PRIu64 ") has unknown value type %u", c->path, kq, index, type);
    }
    void *data = elem == LB_VT_STR ? read_str_values(c, n, what) : read_num_values(c, elem, n, what);
    if (!data) return -1;
    char *k = malloc((size_t)key->len + 1);
    if (!k) { free(data); return lb_fail(c->err, "%s: out of memory", c->path); }
    memcpy(k, key->ptr, key->len);
    k[key->len] = 0;
    *kv = (lb_kv){ .key = k, .type = type, .arr_type = type == LB_VT_ARR ? elem : 0, .n = n, .data = data };
    return 0;
}

// --- tensor infos -----------------------------------------------------------------

static int read_tensor_info(cursor *c, lb_gguf_tensor *t, const lb_str *name) {
    char nq[96];
    printable(nq, sizeof nq, name->ptr, name->len);
    memcpy(t->name, name->ptr, name->len);
    t->name[name->len] = 0;
    char what[160];
    snprintf(what, sizeof what, "tensor '%s' info", nq);
    if (read_u32(c, &t->n_dims, what)) return -1;
    if (t->n_dims < 1 || t->n_dims > LB_GGUF_MAX_DIMS)
        return lb_fail(c->err, "%s: tensor '%s' has %u dimensions (must be 1..%d)", c->path, nq, t->n_dims, LB_GGUF_MAX_DIMS);
    int64_t nelem = 1;
    for (int j = 0; j < LB_GGUF_MAX_DIMS; j++) {
        t->ne[j] = 1;
        if ((uint32_t)j < t->n_dims && read_bytes(c, &t->ne[j], 8, what)) return -1;
        if (t->ne[j] < 0)
            return lb_fail(c->err, "%s: tensor '%s' dimension %d is negative (%" PRId64 ")", c->path, nq, j, t->ne[j]);
        if (__builtin_mul_overflow(nelem, t->ne[j], &nelem))
            return lb_fail(c->err, "%s: tensor '%s' element count overflows int64", c->path, nq);
    }
    if (read_u32(c, &t->type, what)) return -1;
    const lb_type_traits *tt = lb_type_get(t->type);
    if (!tt) return lb_fail(c->err, "%s: tensor '%s' has unknown type id %u", c->path, nq, t->type);
    if (t->ne[0] % tt->blck_size)
        return lb_fail(c->err, "%s: tensor '%s' of type %s has rows of %" PRId64 " values, not a multiple of its block size %" PRId64,
                       c->path, nq, tt->name, t->ne[0], tt->blck_size);
    // bytes = blocks * block bytes; nelem fits in int64 so blocks does too
    uint64_t nbytes;
    if (__builtin_mul_overflow((uint64_t)(nelem / tt->blck_size), (uint64_t)tt->type_size, &nbytes))
        return lb_fail(c->err, "%s: tensor '%s' byte size overflows", c->path, nq);
    t->nbytes = nbytes;
    if (read_u64(c, &t->offset, what)) return -1;
    return 0;
}

// --- open / close -----------------------------------------------------------------

void lb_gguf_close(lb_gguf *g) {
    if (!g) return;
    if (g->base) munmap((void *)g->base, g->size);
    lb_kvs_free(&g->kv);
    free(g->tensors);
    free(g->path);
    memset(g, 0, sizeof *g);
}

static int check_alignment(lb_gguf *g, lb_err *err) {
    g->alignment = LB_GGUF_DEFAULT_ALIGNMENT;
    const lb_kv *a = lb_kvs_find(&g->kv, "general.alignment");
    if (!a) return 0;
    if (a->type != LB_VT_U32)
        return lb_fail(err, "%s: general.alignment has type %s (must be u32)", g->path, lb_vtype_name(a->type));
    uint32_t v;
    memcpy(&v, a->data, 4);
    if (v == 0 || (v & (v - 1)))
        return lb_fail(err, "%s: general.alignment %u is not a power of two", g->path, v);
    g->alignment = v;
    return 0;
}

static int parse(lb_gguf *g, lb_err *err) {
    cursor c = { .base = g->base, .size = g->size, .pos = 0, .path = g->path, .err = err };
    char magic[4];
    if (read_bytes(&c, magic, 4, "magic")) return -1;
    if (memcmp(magic, LB_GGUF_MAGIC, 4)) {
        char mq[32];
        return lb_fail(err, "%s: not a GGUF file (magic '%s', expected 'GGUF')", g->path, printable(mq, sizeof mq, magic, 4));
    }
    if (read_u32(&c, &g->version, "version")) return -1;
    if (g->version != 2 && g->version != 3)
        return lb_fail(err, "%s: unsupported GGUF version %u (only 2 and 3)", g->path, g->version);
    uint64_t n_kv;
    if (read_u64(&c, &g->n_tensors, "tensor count") || read_u64(&c, &n_kv, "key count")) return -1;
    if (n_kv > left(&c) / MIN_KV_BYTES)
        return lb_fail(err, "%s: truncated or corrupt: header claims %" PRIu64 " keys, more than the %zu remaining bytes can hold", g->path, n_kv, left(&c));
    if (g->n_tensors > left(&c) / MIN_TENSOR_BYTES)
        return lb_fail(err, "%s: truncated or corrupt: header claims %" PRIu64 " tensors, more than the %zu remaining bytes can hold", g->path, g->n_tensors, left(&c));

    // --- key/values
    name_set seen = {0};
    if (build_name_set(&seen, n_kv)) return lb_fail(err, "%s: out of memory", g->path);
    lb_str *keys = malloc((size_t)(n_kv ? n_kv : 1) * sizeof *keys);
    g->kv.v = calloc((size_t)(n_kv ? n_kv : 1), sizeof *g->kv.v);
    g->kv.cap = (size_t)n_kv;
    int rc = 0;
    if (!keys || !g->kv.v) rc = lb_fail(err, "%s: out of memory", g->path);
    for (uint64_t i = 0; !rc && i < n_kv; i++) {
        char what[48];
        snprintf(what, sizeof what, "key %" PRIu64 " name", i);
        if ((rc = read_str(&c, &keys[i], what))) break;
        char kq[96];
        printable(kq, sizeof kq, keys[i].ptr, keys[i].len);
        if (memchr(keys[i].ptr, 0, keys[i].len)) { rc = lb_fail(err, "%s: key '%s' contains a NUL byte", g->path, kq); break; }
        if (name_set_insert(&seen, &keys[i])) { rc = lb_fail(err, "%s: duplicate key '%s'", g->path, kq); break; }
        if ((rc = read_kv(&c, &g->kv.v[i], &keys[i], i))) break;
        g->kv.n++;
    }
    free(keys);   // the set only points at keys[]; both go now
    free_name_set(&seen);
    if (rc) return -1;
    if (check_alignment(g, err)) return -1;

    // --- tensor infos (n_tensors already bounded by the file size)
    if (build_name_set(&seen, g->n_tensors)) return lb_fail(err, "%s: out of memory", g->path);
    lb_str *names = malloc((size_t)(g->n_tensors ? g->n_tensors : 1) * sizeof *names);
    g->tensors = calloc((size_t)(g->n_tensors ? g->n_tensors : 1), sizeof *g->tensors);
    if (!names || !g->tensors) rc = lb_fail(err, "%s: out of memory", g->path);
    for (uint64_t i = 0; !rc && i < g->n_tensors; i++) {
        char what[48];
        snprintf(what, sizeof what, "tensor %" PRIu64 " name", i);
        if ((rc = read_str(&c, &names[i], what))) break;
        char nq[96];
        printable(nq, sizeof nq, names[i].ptr, names[i].len);
        if (names[i].len >= LB_GGUF_MAX_NAME) { rc = lb_fail(err, "%s: tensor name '%s' is %" PRIu64 " bytes (limit %d)", g->path, nq, names[i].len, LB_GGUF_MAX_NAME - 1); break; }
        if (memchr(names[i].ptr, 0, names[i].len)) { rc = lb_fail(err, "%s: tensor name '%s' contains a NUL byte", g->path, nq); break; }
        if (name_set_insert(&seen, &names[i])) { rc = lb_fail(err, "%s: duplicate tensor name '%s'", g->path, nq); break; }
        rc = read_tensor_info(&c, &g->tensors[i], &names[i]);
    }
    free(names);
    free_name_set(&seen);
    if (rc) return -1;

    // --- data section: starts at the next multiple of the alignment
    uint64_t a = g->alignment;
    g->data_offset = ((uint64_t)c.pos + a - 1) / a * a;
    if (g->n_tensors == 0) return 0;   // a metadata-only file may stop before the padding
    if (g->data_offset > g->size)
        return lb_fail(err, "%s: data section (offset %" PRIu64 ") starts past end of file (%zu bytes)", g->path, g->data_offset, g->size);
    uint64_t data_size = g->size - g->data_offset;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        lb_gguf_tensor *t = &g->tensors[i];
        if (t->offset % a)
            return lb_fail(err, "%s: tensor '%s' offset %" PRIu64 " is not a multiple of the alignment %u", g->path, t->name, t->offset, g->alignment);
        if (t->offset > data_size || t->nbytes > data_size - t->offset)
            return lb_fail(err, "%s: tensor '%s' data (offset %" PRIu64 ", %" PRIu64 " bytes) runs past end of file (%zu bytes)",
                           g->path, t->name, g->data_offset + t->offset, t->nbytes, g->size);
        t->data = g->base + g->data_offset + t->offset;
    }
    return 0;
}

int lb_gguf_open(lb_gguf *g, const char *path, lb_err *err) {
    memset(g, 0, sizeof *g);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return lb_fail(err, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st)) { int e = errno; close(fd); return lb_fail(err, "%s: %s", path, strerror(e)); }
    if (!S_ISREG(st.st_mode)) { close(fd); return lb_fail(err, "%s: not a regular file", path); }
    if (st.st_size < 24) { close(fd); return lb_fail(err, "%s: too small for a GGUF header (%lld of 24 bytes)", path, (long long)st.st_size); }
    if ((uint64_t)st.st_size > SIZE_MAX) { close(fd); return lb_fail(err, "%s: file too large to map", path); }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);   // the mapping stays valid
    if (map == MAP_FAILED) return lb_fail(err, "%s: mmap: %s", path, strerror(e));
    g->base = map;
    g->size = (size_t)st.st_size;
    g->path = strdup(path);
    if (!g->path) { lb_gguf_close(g); return lb_fail(err, "%s: out of memory", path); }
    if (parse(g, err)) { lb_gguf_close(g); return -1; }
    return 0;
}

const lb_gguf_tensor *lb_gguf_find(const lb_gguf *g, const char *name) {
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (!strcmp(g->tensors[i].name, name)) return &g->tensors[i];
    return NULL;
}
