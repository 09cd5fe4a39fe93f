// cmd_inspect.c: `lowbit inspect FILE`: print a GGUF file's header, every metadata key and
// every tensor, the way one would check an import by eye. Uses the strict reader, so a
// corrupt file gives the reader's one-line error and exit 1.
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "cmd.h"
#include "gguf.h"
#include "lb_types.h"

#define ARRAY_PREVIEW 8      // elements shown per array
#define STRING_PREVIEW 160   // bytes shown per string

static void usage(FILE *f) {
    fprintf(f,
        "usage: lowbit inspect FILE [--help]\n"
        "\n"
        "Print a GGUF file: header (version, alignment, counts), every metadata key with its\n"
        "type and value (arrays: element type, count, first %d elements), and every tensor\n"
        "with its type, shape, size in bytes and data offset.\n"
        "\n"
        "  -h, --help   show this help\n", ARRAY_PREVIEW);
}

// --- values -------------------------------------------------------------------------

// length of a valid UTF-8 sequence starting at s (n bytes left), 0 if invalid
static int utf8_len(const unsigned char *s, uint64_t n) {
    int len = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
    if (!len || (uint64_t)len > n) return 0;
    for (int i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    return len;
}

// quoted, with C-style escapes for anything that is not printable text
static void print_str(const lb_str *s) {
    const unsigned char *p = (const unsigned char *)s->ptr;
    uint64_t n = s->len < STRING_PREVIEW ? s->len : STRING_PREVIEW;
    putchar('"');
    for (uint64_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        int u;
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c == '\n') fputs("\\n", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c == '\r') fputs("\\r", stdout);
        else if (c >= 0x20 && c < 0x7f) putchar(c);
        else if (c >= 0x80 && (u = utf8_len(p + i, s->len - i)) > 0) { fwrite(p + i, 1, (size_t)u, stdout); i += (uint64_t)u - 1; }
        else printf("\\x%02x", c);
    }
    putchar('"');
    if (s->len > n) printf("...(%" PRIu64 " bytes)", s->len);
}

static void print_scalar(uint32_t type, const void *p) {
    switch (type) {
    case LB_VT_U8: printf("%u", *(const uint8_t *)p); break;
    case LB_VT_I8: printf("%d", *(const int8_t *)p); break;
    case LB_VT_BOOL: fputs(*(const uint8_t *)p ? "true" : "false", stdout); break;
    case LB_VT_U16: { uint16_t v; memcpy(&v, p, 2); printf("%u", v); break; }
    case LB_VT_I16: { int16_t v; memcpy(&v, p, 2); printf("%d", v); break; }
    case LB_VT_U32: { uint32_t v; memcpy(&v, p, 4); printf("%" PRIu32, v); break; }
    case LB_VT_I32: { int32_t v; memcpy(&v, p, 4); printf("%" PRId32, v); break; }
    case LB_VT_U64: { uint64_t v; memcpy(&v, p, 8); printf("%" PRIu64, v); break; }
    case LB_VT_I64: { int64_t v; memcpy(&v, p, 8); printf("%" PRId64, v); break; }
    case LB_VT_F32: { float v; memcpy(&v, p, 4); printf("%.9g", v); break; }
    case LB_VT_F64: { double v; memcpy(&v, p, 8); printf("%.17g", v); break; }
    case LB_VT_STR: print_str(p); break;
    default: printf("?"); break;
    }
}

// a key or tensor name, padded to width; control bytes escaped so one entry stays one line
static void print_name(const char *name, int width) {
    int n = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        n += *p < 0x20 || *p == 0x7f ? printf("\\x%02x", *p) : (putchar(*p), 1);
    printf("%*s", n < width ? width - n : 0, "");
}

static void print_kv(const lb_kv *kv) {
    fputs("  ", stdout);
    print_name(kv->key, 44);
    putchar(' ');
    if (kv->type != LB_VT_ARR) {
        printf("%-10s ", lb_vtype_name(kv->type));
        print_scalar(kv->type, kv->data);
        putchar('\n');
        return;
    }
    char tn[16];
    snprintf(tn, sizeof tn, "arr[%s]", lb_vtype_name(kv->arr_type));
    printf("%-10s %" PRIu64 " [", tn, kv->n);
    size_t esz = kv->arr_type == LB_VT_STR ? sizeof(lb_str) : lb_vtype_size(kv->arr_type);
    for (uint64_t i = 0; i < kv->n && i < ARRAY_PREVIEW; i++) {
        if (i) fputs(", ", stdout);
        print_scalar(kv->arr_type, (const uint8_t *)kv->data + i * esz);
    }
    printf("%s]\n", kv->n > ARRAY_PREVIEW ? ", ..." : "");
}

static void print_tensor(const lb_gguf_tensor *t) {
    const lb_type_traits *tt = lb_type_get(t->type);
    char shape[96];
    int o = snprintf(shape, sizeof shape, "{%" PRId64, t->ne[0]);
    for (uint32_t j = 1; j < t->n_dims; j++) o += snprintf(shape + o, sizeof shape - (size_t)o, ", %" PRId64, t->ne[j]);
    snprintf(shape + o, sizeof shape - (size_t)o, "}");
    fputs("  ", stdout);
    print_name(t->name, 40);
    printf(" %-7s %-24s %12" PRIu64 " bytes  @ %" PRIu64 "\n", tt ? tt->name : "?", shape, t->nbytes, t->offset);
}

// --- command ------------------------------------------------------------------------

int cmd_inspect(int argc, char **argv) {
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') { usage(stdout); return 0; }
        usage(stderr);
        return 2;
    }
    if (argc - optind != 1) { usage(stderr); return 2; }
    const char *path = argv[optind];

    lb_gguf g;
    lb_err err;
    if (lb_gguf_open(&g, path, &err)) return lb_cli_error("%s", err.msg);

    uint64_t total = 0;
    for (uint64_t i = 0; i < g.n_tensors; i++) total += g.tensors[i].nbytes;
    printf("%s: GGUF v%u, %zu bytes\n", path, g.version, g.size);
    printf("  alignment %u, %zu keys, %" PRIu64 " tensors (%" PRIu64 " bytes of data at offset %" PRIu64 ")\n",
           g.alignment, g.kv.n, g.n_tensors, total, g.data_offset);
    printf("\nmetadata:\n");
    for (size_t i = 0; i < g.kv.n; i++) print_kv(&g.kv.v[i]);
    printf("\ntensors:\n");
    for (uint64_t i = 0; i < g.n_tensors; i++) print_tensor(&g.tensors[i]);
    lb_gguf_close(&g);
    if (fflush(stdout) || ferror(stdout)) return lb_cli_error("%s: error writing output", path);
    return 0;
}
