// cmd_inspect.c: PLACEHOLDER until its implementation lands (this file is replaced whole).
#include "cmd.h"
int cmd_inspect(int argc, char **argv) { (void)argc; (void)argv; return lb_cli_error("inspect: not implemented yet"); }
