// cmd_verify.c: placeholder until the real command lands (same session).
#include "cmd.h"
int cmd_verify(int argc, char **argv) { (void)argc; (void)argv; return lb_cli_error("verify: not implemented yet"); }
