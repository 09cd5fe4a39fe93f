// cmd.h: the lowbit subcommands. Each lives in tools/cmd_<name>.c, parses its own
// arguments (getopt_long), prints --help, and returns the process exit status:
// 0 ok, 1 failure (one line "lowbit: FILE: problem" on stderr), 2 bad usage.
#pragma once

int cmd_import(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_perplexity(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_teacher(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_compare(int argc, char **argv);

// print "lowbit: <msg>\n" to stderr and return 1
int lb_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
