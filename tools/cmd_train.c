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
        "Knowledge distillation: a `distill:` section trains on a teacher's outputs\n"
        "(configs/qat-seq2-kd.yaml, configs/qat-sherry-kd.yaml):\n"
        "  distill.teacher      ONLINE teacher: FP model (GGUF, HF dir, llama2.c .bin, or a\n"
        "                       lowbit checkpoint .h5) run forward on every batch\n"
        "  distill.tokenizer    tokenizer.bin of a llama2.c teacher (default model.tokenizer)\n"
        "  distill.store        OFFLINE teacher: logit store from `lowbit teacher`\n"
        "                       (exactly one of teacher / store; a store must match data.tokens'\n"
        "                       train split, seq_len, the student's vocabulary)\n"
        "  distill.loss         forward_kl (default) | reverse_kl | cakld  (full logits),\n"
        "                       topk (a topk store) | sampled (a sampled store)\n"
        "  distill.temperature  softmax temperature, default 1 (a sampled store's must equal it)\n"
        "  distill.kd_weight    default 1; total = ce_weight * CE(labels) + kd_weight * KD\n"
        "  distill.ce_weight    default 0\n"
        "Batches are then whole teacher windows (tokens [w*T, w*T+T]); the log gets \"ce\" and\n"
        "\"kd\" (unweighted) next to \"loss\" (the total); val_loss stays plain CE.\n"
        "\n"
        "      --resume CKPT   continue from a checkpoint (HDF5, written by a previous run):\n"
        "                      same config, seed and threads give bit-identical losses\n"
        "                      (on a machine with the same matmul engine, see below)\n"
        "  -h, --help          this help\n"
        "\n"
        "Environment:\n"
        "  LOWBIT_GEMM=blas    every matmul on OpenBLAS. By default a CPU with AMX-BF16 runs the\n"
        "                      big ones on AMX tiles, fp32-accurate and ~1.5x faster per step;\n"
        "                      the two engines round differently (the run prints which it uses)\n");
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
