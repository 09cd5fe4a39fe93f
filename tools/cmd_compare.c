// cmd_compare.c: placeholder until the real command lands (same session).
#include "cmd.h"
int cmd_compare(int argc, char **argv) { (void)argc; (void)argv; return lb_cli_error("compare: not implemented yet"); }
