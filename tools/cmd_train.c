// cmd_train.c: `lowbit train CONFIG.yaml [--resume CKPT]`: pretraining or QAT of a model from
// a YAML config (libtrain/train_config.h, examples in configs/). The loop is libtrain/trainer.c.
#include <getopt.h>
#include <stdio.h>
#include "cmd.h"
#include "trainer.h"

static void usage(FILE *f) {
    fprintf(f,
        "usage: lowbit train CONFIG.yaml [--resume CKPT]\n"
        "\n"
        "Train a model (pretraining, or quantization-aware training when the config has a\n"
        "`qat:` section) on a token store made by `lowbit tokenize`. See configs/*.yaml for\n"
        "every key. Metrics go to the JSONL log; a progress bar is shown when stderr is a\n"
        "terminal. Ctrl-C finishes the current step, writes a checkpoint and exits 0.\n"
        "\n"
        "      --resume CKPT   continue from a checkpoint (HDF5, written by a previous run):\n"
        "                      same config, seed and threads give bit-identical losses\n"
        "  -h, --help          this help\n");
}

int cmd_train(int argc, char **argv) {
    enum { OPT_RESUME = 1000 };
    static const struct option opts[] = {
        {"resume", required_argument, 0, OPT_RESUME}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *resume = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_RESUME: resume = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) { usage(stderr); return 2; }
    lb_err err = {{0}};
    if (lb_train_run(argv[optind], resume, &err)) return lb_cli_error("%s", err.msg);
    return 0;
}
