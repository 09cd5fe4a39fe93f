// cmd_export.c: placeholder until the real command lands (same session).
#include "cmd.h"
int cmd_export(int argc, char **argv) { (void)argc; (void)argv; return lb_cli_error("export: not implemented yet"); }
