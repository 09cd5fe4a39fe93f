// cmd_teacher.c: placeholder until the real command lands (same session).
#include "cmd.h"
int cmd_teacher(int argc, char **argv) { (void)argc; (void)argv; return lb_cli_error("teacher: not implemented yet"); }
