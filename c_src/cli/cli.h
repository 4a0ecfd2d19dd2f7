/* cli.h: the beamprobe command's subcommands. */
#ifndef BP_CLI_H
#define BP_CLI_H

/* Each takes argv with argv[0] = the subcommand name and returns an exit code. */
int bp_cli_check(int argc, char **argv);
int bp_cli_serve(int argc, char **argv);
int bp_cli_cluster(int argc, char **argv);

/* The "Exit codes" section shared by the help texts. */
void bp_cli_print_exit_codes(void);

#endif
