/* cli.h: the beamprobe command's subcommands. */
#ifndef BP_CLI_H
#define BP_CLI_H

#include <stddef.h>

/* Each takes argv with argv[0] = the subcommand name and returns an exit code. */
int bp_cli_check(int argc, char **argv);
int bp_cli_serve(int argc, char **argv);
int bp_cli_cluster(int argc, char **argv);

/* The "Exit codes" sections of the help texts (check and cluster), from the tables the man page uses. */
void bp_cli_print_exit_codes(void);
void bp_cli_print_cluster_exit_codes(void);

/* The commands of beamprobe, for the usage text, the man page and the completion scripts. */
typedef struct {
    const char *name;
    const char *args;    /* shown after the name in the usage text, or NULL */
    const char *summary; /* one line */
    unsigned mask;       /* BP_SUB_* of its options; 0 for help and version */
} bp_cli_command;
extern const bp_cli_command bp_cli_commands[];
extern const size_t bp_cli_n_commands;

/* Hidden commands that generate the installed docs: `manpage` (mdoc) and `completion bash|zsh`. */
int bp_cli_manpage(int argc, char **argv);
int bp_cli_completion(int argc, char **argv);

#endif
