// cmd_import.c: PLACEHOLDER until its implementation lands (this file is replaced whole).
#include "cmd.h"
int cmd_import(int argc, char **argv) { (void)argc; (void)argv; return lb_cli_error("import: not implemented yet"); }
