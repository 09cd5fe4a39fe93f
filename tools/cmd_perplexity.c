// cmd_perplexity.c: PLACEHOLDER until its implementation lands (this file is replaced whole).
#include "cmd.h"
int cmd_perplexity(int argc, char **argv) { (void)argc; (void)argv; return lb_cli_error("perplexity: not implemented yet"); }
