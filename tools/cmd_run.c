// cmd_run.c: PLACEHOLDER until its implementation lands (this file is replaced whole).
#include "cmd.h"
int cmd_run(int argc, char **argv) { (void)argc; (void)argv; return lb_cli_error("run: not implemented yet"); }
