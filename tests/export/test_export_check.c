// test_export_check.c: an exported GGUF against its checkpoint, without export's own code.
//   test_export_check CKPT.h5 OUT.gguf TYPE
// Reads the GGUF back (formats/gguf.h), dequantizes every block linear with lb_types' to_float,
// and compares it bit for bit with the fake-quant weight computed here from the checkpoint's raw
// tensors: weights/<name> and scales/<name> read with h5_checkpoint.h, the quantizer class from
// the checkpoint's config text, lb_fq_forward with lambda 0. Also: every block linear is in TYPE,
// norms are the master weights bit for bit, and the file declares native types as
// docs/formats.md says. Prints what it checked; exit 0 pass, 1 fail.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fakequant.h"
#include "gguf.h"
#include "h5_checkpoint.h"
#include "kv.h"
#include "lb_types.h"
#include "train_config.h"
#include "test_util.h"

static int is_block_linear(const char *n) {
    static const char *sfx[] = {"attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight",
                                "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight"};
    if (strncmp(n, "blk.", 4)) return 0;
    const char *dot = strchr(n + 4, '.');
    if (!dot) return 0;
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) if (!strcmp(dot + 1, sfx[i])) return 1;
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: test_export_check CKPT.h5 OUT.gguf TYPE\n"); return 2; }
    const char *ckpt = argv[1], *path = argv[2];
    const int want_type = lb_type_from_name(argv[3]);
    CHECK(want_type >= 0, "unknown type %s", argv[3]);
    lb_err err = {{0}};
    lb_ckpt c;
    CHECK(!lb_ckpt_open(&c, ckpt, &err), "%s", err.msg);
    char *text = NULL;
    CHECK(!lb_ckpt_get_str(&c, "config", &text, &err), "%s", err.msg);
    lb_train_config *cfg = NULL;
    lb_train_settings s;
    CHECK(!lb_train_config_parse(&cfg, &s, text, strlen(text), "config", &err), "%s", err.msg);
    lb_gguf g;
    CHECK(!lb_gguf_open(&g, path, &err), "%s", err.msg);

    int n_linear = 0, n_vec = 0, n_native = 0;
    for (uint64_t i = 0; i < g.n_tensors; i++) {
        const lb_gguf_tensor *t = &g.tensors[i];
        char wname[128], sname[128];
        snprintf(wname, sizeof wname, "weights/%s", t->name);
        snprintf(sname, sizeof sname, "scales/%s", t->name);
        const lb_type_traits *tt = lb_type_get(t->type);
        CHECK(tt && tt->to_float, "%s: type %u", t->name, t->type);
        n_native += t->type == LB_TYPE_Q2_0C || t->type == LB_TYPE_STQ1_0;
        const int64_t K = t->ne[0], rows = t->n_dims > 1 ? t->ne[1] : 1;
        float *deq = malloc((size_t)(K * rows) * sizeof(float));
        float *W = malloc((size_t)(K * rows) * sizeof(float));
        CHECK(deq && W, "oom");
        for (int64_t r = 0; r < rows; r++)
            tt->to_float((const char *)t->data + (size_t)r * lb_row_size(t->type, K), deq + r * K, K);
        if (t->n_dims == 1) {   // norms: f32 master weights
            const int64_t shape[1] = {K};
            CHECK(!lb_ckpt_read(&c, wname, 1, shape, W, &err), "%s", err.msg);
            CHECK(t->type == LB_TYPE_F32 && !memcmp(W, deq, (size_t)K * sizeof(float)), "%s differs from the checkpoint", t->name);
            n_vec++;
        } else if (is_block_linear(t->name)) {
            CHECK((int)t->type == want_type, "%s is %s, expected %s", t->name, tt->name, argv[3]);
            const int cls = strstr(t->name, ".ffn_") ? 1 : 0;
            if (s.qat_grid[cls] < 0) {   // an FP class: the master weight, exact in f32
                const int64_t shape[2] = {rows, K};
                CHECK(!lb_ckpt_read(&c, wname, 2, shape, W, &err), "%s", err.msg);
                CHECK(t->type == LB_TYPE_F32 && !memcmp(W, deq, (size_t)(rows * K) * sizeof(float)),
                      "%s: FP class differs from the master weight", t->name);
                free(deq); free(W);
                n_linear++;
                continue;
            }
            lb_fq_config fc = {.grid = (lb_grid)s.qat_grid[cls], .group = s.qat_group[cls], .format_type = s.qat_format[cls]};
            const int64_t shape[2] = {rows, K};
            CHECK(!lb_ckpt_read(&c, wname, 2, shape, W, &err), "%s", err.msg);
            const int64_t ns = lb_fq_nscales(&fc, rows, K);
            const int64_t sshape[2] = {rows, ns / rows};
            float *sc = malloc((size_t)ns * sizeof(float)), *w_eff = malloc((size_t)(K * rows) * sizeof(float));
            int8_t *codes = malloc((size_t)(K * rows));
            CHECK(sc && w_eff && codes, "oom");
            CHECK(!lb_ckpt_read(&c, sname, 2, sshape, sc, &err), "%s", err.msg);
            CHECK(!lb_fq_forward(w_eff, codes, W, sc, rows, K, &fc, 0.0f), "%s: lb_fq_forward failed", t->name);
            for (int64_t k = 0; k < rows * K; k++)
                CHECK(!memcmp(&w_eff[k], &deq[k], sizeof(float)), "%s[%lld]: GGUF %.9g, fake-quant %.9g", t->name,
                      (long long)k, (double)deq[k], (double)w_eff[k]);
            free(sc); free(w_eff); free(codes);
            n_linear++;
        }
        free(deq);
        free(W);
    }
    int64_t n_layer = 0;
    CHECK(!lb_kvs_get_int(&g.kv, "llama.block_count", &n_layer), "no llama.block_count");
    CHECK(n_linear == 7 * n_layer, "checked %d block linears, the model has %lld", n_linear, (long long)(7 * n_layer));
    int64_t fv = 0;
    const int has_fv = !lb_kvs_get_int(&g.kv, "lowbit.format_version", &fv);
    uint64_t nn = 0;
    const lb_str *names = lb_kvs_get_str_arr(&g.kv, "lowbit.native_types", &nn);
    if (n_native) {
        CHECK(has_fv && fv == 1 && names && nn == 1 && !strcmp(names[0].ptr, argv[3]), "native type metadata missing");
    } else {
        CHECK(!has_fv && !names, "lowbit.* keys in a file without native tensors");
    }
    CHECK(lb_kvs_get_str_arr(&g.kv, "tokenizer.ggml.tokens", &nn) && nn == 512, "tokenizer not copied");
    printf("%s: %d block linears in %s bit-exact with lb_fq_forward of the checkpoint, %d norms exact\n", path, n_linear,
           argv[3], n_vec);
    lb_gguf_close(&g);
    lb_train_config_free(cfg);
    free(text);
    lb_ckpt_close(&c);
    return 0;
}
