// safetensors.c: mmap + validate safetensors files (see safetensors.h for the layout).
#include "safetensors.h"
#include "hf.h"
#include "lb_types.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_NAME_LEN 1024   // HF names are ~60 bytes; anything this long is garbage

// --- small helpers --------------------------------------------------------------------

// A JSON number that is a non-negative integer exactly representable in a double.
static int json_uint(const cJSON *j, uint64_t *out) {
    if (!cJSON_IsNumber(j)) return -1;
    double d = j->valuedouble;
    if (!(d >= 0.0) || d > 9007199254740992.0 || d != floor(d)) return -1;
    *out = (uint64_t)d;
    return 0;
}

static int dtype_from_name(const char *s, uint32_t *type, size_t *esize) {
    if (!strcmp(s, "F32"))  { *type = LB_TYPE_F32;  *esize = 4; return 0; }
    if (!strcmp(s, "F16"))  { *type = LB_TYPE_F16;  *esize = 2; return 0; }
    if (!strcmp(s, "BF16")) { *type = LB_TYPE_BF16; *esize = 2; return 0; }
    return -1;
}

static int grow_tensors(lb_safetensors *st, size_t extra, lb_err *err) {
    size_t n = st->n_tensors + extra;
    lb_st_tensor *t = realloc(st->tensors, n * sizeof *t);
    if (!t) return lb_fail(err, "out of memory (%zu tensors)", n);
    st->tensors = t;
    return 0;
}

// --- header parsing -------------------------------------------------------------------

static int parse_one(lb_st_tensor *t, const cJSON *j, const uint8_t *data, uint64_t data_size,
                     const char *what, lb_err *err) {
    const char *name = j->string;
    if (!cJSON_IsObject(j)) return lb_fail(err, "%s: tensor '%s': entry is not an object", what, name);
    const cJSON *jd = cJSON_GetObjectItemCaseSensitive(j, "dtype");
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(j, "shape");
    const cJSON *jo = cJSON_GetObjectItemCaseSensitive(j, "data_offsets");
    if (!cJSON_IsString(jd) || !jd->valuestring) return lb_fail(err, "%s: tensor '%s': missing dtype", what, name);
    size_t esize;
    if (dtype_from_name(jd->valuestring, &t->type, &esize))
        return lb_fail(err, "%s: tensor '%s': dtype %.32s not supported (F32, F16, BF16 only)", what, name,
                       jd->valuestring);
    if (!cJSON_IsArray(js)) return lb_fail(err, "%s: tensor '%s': missing shape array", what, name);
    int nd = cJSON_GetArraySize(js);
    if (nd > LB_ST_MAX_DIMS) return lb_fail(err, "%s: tensor '%s': %d dims (max %d)", what, name, nd, LB_ST_MAX_DIMS);
    t->n_dims = (uint32_t)nd;
    uint64_t numel = 1;
    int i = 0;
    for (const cJSON *e = js->child; e; e = e->next, i++) {
        uint64_t d;
        if (json_uint(e, &d)) return lb_fail(err, "%s: tensor '%s': shape[%d] is not a non-negative integer", what, name, i);
        // keep numel * 8 far from overflow: 2^56 elements is beyond any real file anyway
        if (d != 0 && numel > (1ull << 56) / d) return lb_fail(err, "%s: tensor '%s': shape too large", what, name);
        numel *= d;
        t->shape[i] = (int64_t)d;
    }
    for (; i < LB_ST_MAX_DIMS; i++) t->shape[i] = 1;
    t->numel = (int64_t)numel;
    if (!cJSON_IsArray(jo) || cJSON_GetArraySize(jo) != 2)
        return lb_fail(err, "%s: tensor '%s': data_offsets must be [begin, end]", what, name);
    uint64_t begin, end;
    if (json_uint(jo->child, &begin) || json_uint(jo->child->next, &end))
        return lb_fail(err, "%s: tensor '%s': data_offsets are not non-negative integers", what, name);
    if (begin > end || end > data_size)
        return lb_fail(err, "%s: tensor '%s': data_offsets [%llu, %llu] outside the data region (%llu bytes)",
                       what, name, (unsigned long long)begin, (unsigned long long)end, (unsigned long long)data_size);
    if (end - begin != numel * esize)
        return lb_fail(err, "%s: tensor '%s': %llu bytes for %llu %s values (need %llu)", what, name,
                       (unsigned long long)(end - begin), (unsigned long long)numel, jd->valuestring,
                       (unsigned long long)(numel * esize));
    t->data = data + begin;
    t->nbytes = end - begin;
    return 0;
}

int lb_st_parse(lb_safetensors *st, const uint8_t *buf, size_t size, uint32_t shard, const char *what,
                lb_err *err) {
    if (size < 8) return lb_fail(err, "%s: truncated safetensors header (%zu of 8 bytes)", what, size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | buf[i];   // little-endian on any host
    if (n > LB_ST_MAX_HEADER) return lb_fail(err, "%s: header length %llu is absurd (max %llu)", what,
                                             (unsigned long long)n, (unsigned long long)LB_ST_MAX_HEADER);
    if (n > size - 8) return lb_fail(err, "%s: header length %llu exceeds the file (%zu bytes)", what,
                                     (unsigned long long)n, size);
    if (n < 2) return lb_fail(err, "%s: header is too short to be JSON", what);
    const cJSON *root = cJSON_ParseWithLength((const char *)buf + 8, (size_t)n);
    if (!root) return lb_fail(err, "%s: header is not valid JSON", what);
    int rc = -1;
    if (!cJSON_IsObject(root)) { lb_fail(err, "%s: header is not a JSON object", what); goto done; }
    const uint8_t *data = buf + 8 + n;
    uint64_t data_size = size - 8 - n;
    size_t count = 0;
    for (const cJSON *j = root->child; j; j = j->next) count++;
    if (grow_tensors(st, count, err)) goto done;
    for (const cJSON *j = root->child; j; j = j->next) {
        if (!j->string) { lb_fail(err, "%s: header entry without a name", what); goto done; }
        if (!strcmp(j->string, "__metadata__")) continue;   // free-form strings; nothing we need
        size_t len = strlen(j->string);
        if (len == 0 || len > MAX_NAME_LEN) { lb_fail(err, "%s: tensor name of %zu bytes", what, len); goto done; }
        lb_st_tensor *t = &st->tensors[st->n_tensors];
        memset(t, 0, sizeof *t);
        if (parse_one(t, j, data, data_size, what, err)) goto done;
        t->name = strdup(j->string);
        if (!t->name) { lb_fail(err, "out of memory"); goto done; }
        t->shard = shard;
        st->n_tensors++;
    }
    rc = 0;
done:
    cJSON_Delete((cJSON *)root);
    return rc;
}

// --- name index -----------------------------------------------------------------------

static const lb_safetensors *g_sort_st;   // qsort has no context argument; single-threaded use
static int cmp_by_name(const void *a, const void *b) {
    return strcmp(g_sort_st->tensors[*(const size_t *)a].name, g_sort_st->tensors[*(const size_t *)b].name);
}

static int build_index(lb_safetensors *st, lb_err *err) {
    free(st->by_name);
    st->by_name = malloc((st->n_tensors ? st->n_tensors : 1) * sizeof(size_t));
    if (!st->by_name) return lb_fail(err, "out of memory");
    for (size_t i = 0; i < st->n_tensors; i++) st->by_name[i] = i;
    g_sort_st = st;
    qsort(st->by_name, st->n_tensors, sizeof(size_t), cmp_by_name);
    for (size_t i = 1; i < st->n_tensors; i++) {
        const lb_st_tensor *a = &st->tensors[st->by_name[i - 1]], *b = &st->tensors[st->by_name[i]];
        if (!strcmp(a->name, b->name))
            return lb_fail(err, "%s: tensor '%s' appears twice (also in %s)", st->shards[b->shard].path, b->name,
                           st->shards[a->shard].path);
    }
    return 0;
}

const lb_st_tensor *lb_st_find(const lb_safetensors *st, const char *name) {
    if (!st->by_name) return NULL;
    size_t lo = 0, hi = st->n_tensors;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(st->tensors[st->by_name[mid]].name, name);
        if (c == 0) return &st->tensors[st->by_name[mid]];
        if (c < 0) lo = mid + 1; else hi = mid;
    }
    return NULL;
}

// --- files ----------------------------------------------------------------------------

static int map_shard(lb_safetensors *st, const char *path, lb_err *err) {
    if (st->n_shards >= LB_ST_MAX_SHARDS) return lb_fail(err, "%s: too many shards", path);
    lb_st_shard *s = realloc(st->shards, (st->n_shards + 1) * sizeof *s);
    if (!s) return lb_fail(err, "out of memory");
    st->shards = s;
    lb_st_shard *sh = &st->shards[st->n_shards];
    memset(sh, 0, sizeof *sh);
    sh->path = strdup(path);
    if (!sh->path) return lb_fail(err, "out of memory");
    st->n_shards++;   // counted now so lb_st_close frees the path on any later failure
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return lb_fail(err, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) { close(fd); return lb_fail(err, "%s: not a regular file", path); }
    if (sb.st_size < 8) { close(fd); return lb_fail(err, "%s: truncated safetensors header (%lld of 8 bytes)", path, (long long)sb.st_size); }
    void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return lb_fail(err, "%s: mmap: %s", path, strerror(errno));
    sh->map = map;
    sh->size = (size_t)sb.st_size;
    return lb_st_parse(st, map, sh->size, st->n_shards - 1, path, err);
}

int lb_st_open_file(lb_safetensors *st, const char *path, lb_err *err) {
    memset(st, 0, sizeof *st);
    if (map_shard(st, path, err) || build_index(st, err)) { lb_st_close(st); return -1; }
    return 0;
}

static int valid_shard_name(const char *s) {
    size_t n = strlen(s);
    return n > 0 && n < 256 && !strchr(s, '/') && !strchr(s, '\\') && !strstr(s, "..");
}

static int open_index(lb_safetensors *st, const char *dir, const char *index_path, lb_err *err) {
    size_t len;
    char *text = lb_read_file_text(index_path, 64u << 20, &len, err);
    if (!text) return -1;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    int rc = -1;
    char **names = NULL;   // distinct shard names in first-seen order
    uint32_t n_names = 0;
    if (!root) { lb_fail(err, "%s: not valid JSON", index_path); goto done; }
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!cJSON_IsObject(wm) || !wm->child) { lb_fail(err, "%s: missing or empty \"weight_map\" object", index_path); goto done; }
    for (const cJSON *e = wm->child; e; e = e->next) {
        if (!cJSON_IsString(e) || !e->valuestring || !valid_shard_name(e->valuestring)) {
            lb_fail(err, "%s: tensor '%.200s': shard must be a plain file name", index_path, e->string ? e->string : "");
            goto done;
        }
        uint32_t k = 0;
        while (k < n_names && strcmp(names[k], e->valuestring)) k++;
        if (k < n_names) continue;
        if (n_names >= LB_ST_MAX_SHARDS) { lb_fail(err, "%s: more than %d shards", index_path, LB_ST_MAX_SHARDS); goto done; }
        char **nn = realloc(names, (n_names + 1) * sizeof *nn);
        if (!nn) { lb_fail(err, "out of memory"); goto done; }
        names = nn;
        names[n_names++] = e->valuestring;   // owned by root, which outlives this loop
    }
    for (uint32_t k = 0; k < n_names; k++) {
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, names[k]) >= sizeof path) {
            lb_fail(err, "%s: path too long", index_path);
            goto done;
        }
        if (map_shard(st, path, err)) goto done;
    }
    if (build_index(st, err)) goto done;
    // every tensor the index names must be where it says
    for (const cJSON *e = wm->child; e; e = e->next) {
        const lb_st_tensor *t = lb_st_find(st, e->string ? e->string : "");
        if (!t) { lb_fail(err, "%s: tensor '%.200s' is not in %s", index_path, e->string ? e->string : "", e->valuestring); goto done; }
        const char *base = strrchr(st->shards[t->shard].path, '/');
        base = base ? base + 1 : st->shards[t->shard].path;
        if (strcmp(base, e->valuestring)) {
            lb_fail(err, "%s: tensor '%.200s' is in %s, not %s", index_path, t->name, base, e->valuestring);
            goto done;
        }
    }
    rc = 0;
done:
    free(names);
    cJSON_Delete(root);
    return rc;
}

int lb_st_open_dir(lb_safetensors *st, const char *dir, lb_err *err) {
    memset(st, 0, sizeof *st);
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir) >= sizeof path)
        return lb_fail(err, "%s: path too long", dir);
    struct stat sb;
    int rc;
    if (stat(path, &sb) == 0) {
        rc = open_index(st, dir, path, err);
    } else {
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        if (stat(path, &sb) != 0) return lb_fail(err, "%s: no model.safetensors or model.safetensors.index.json", dir);
        rc = map_shard(st, path, err);
        if (!rc) rc = build_index(st, err);
    }
    if (rc) lb_st_close(st);
    return rc;
}

void lb_st_close(lb_safetensors *st) {
    for (uint32_t i = 0; i < st->n_shards; i++) {
        if (st->shards[i].map) munmap(st->shards[i].map, st->shards[i].size);
        free(st->shards[i].path);
    }
    for (size_t i = 0; i < st->n_tensors; i++) free(st->tensors[i].name);
    free(st->shards);
    free(st->tensors);
    free(st->by_name);
    memset(st, 0, sizeof *st);
}
