// cmd_logits.c: PLACEHOLDER until its implementation lands (this file is replaced whole).
#include "cmd.h"
int cmd_logits(int argc, char **argv) { (void)argc; (void)argv; return lb_cli_error("logits: not implemented yet"); }
