// lowbit.c: the CLI entry point: dispatches to one subcommand per file.
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "cmd.h"
#include "tmpfiles.h"

typedef struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} lb_command;

static const lb_command commands[] = {
    {"import", cmd_import, "convert a HF / llama2.c / GGUF checkpoint to GGUF (f32, f16, bf16, q8_0)"},
    {"inspect", cmd_inspect, "list every metadata key and tensor of a GGUF file"},
    {"run", cmd_run, "generate text from a GGUF model"},
    {"perplexity", cmd_perplexity, "perplexity of a GGUF model on a text file (llama-perplexity protocol)"},
    {"logits", cmd_logits, "dump raw logits for a token sequence (validation against other runtimes)"},
    {"quantize", cmd_quantize, "post-training quantization: q8_0, q2_k, tq1_0, tq2_0, q2_0c, stq1_0 (rtn or gptq)"},
    {"tokenize", cmd_tokenize, "tokenize text files into an HDF5 token store (train/val split) for training"},
    {"train", cmd_train, "pretrain or quantization-aware-train a model from a YAML config (configs/)"},
    {"teacher", cmd_teacher, "store a teacher's logits (full, top-K or sampled) for offline distillation"},
    {"export", cmd_export, "pack a QAT checkpoint losslessly into GGUF (q2_0c, q2_k, stq1_0, tq1_0, tq2_0)"},
    {"verify", cmd_verify, "check an exported GGUF against its checkpoint: logits and perplexity both ways"},
    {"compare", cmd_compare, "one table of size, bits/weight, perplexity, KL and speed vs an FP teacher"},
};

int lb_cli_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("lowbit: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static void usage(FILE *f) {
    fprintf(f, "usage: lowbit <command> [options]   (lowbit <command> --help for details)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv) {
    // an interrupted command removes its temp files (commands with their own handlers, like
    // train's checkpoint-on-SIGINT, replace this one)
    lb_tmpfile_install_signal_cleanup();
    if (argc < 2) { usage(stderr); return 2; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) { usage(stdout); return 0; }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "lowbit: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
