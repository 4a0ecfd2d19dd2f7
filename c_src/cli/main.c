/* main.c: the beamprobe command: dispatch to subcommands, top-level help and version. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "beamprobe.h"
#include "cli/cli.h"

static void usage(FILE *f)
{
    char left[64];
    fprintf(f, "Usage: beamprobe COMMAND [OPTIONS]\n"
               "\n"
               "Health probe for Erlang/OTP nodes: connects as a hidden C node over the\n"
               "distribution protocol, with a deadline on every step, and reports what it sees.\n"
               "\n"
               "Commands:\n");
    for (size_t i = 0; i < bp_cli_n_commands; i++) {
        const bp_cli_command *c = &bp_cli_commands[i];
        snprintf(left, sizeof left, "%s%s%s", c->name, c->args ? " " : "", c->args ? c->args : "");
        fprintf(f, "  %-14s %s\n", left, c->summary);
    }
    fprintf(f, "\nRun 'beamprobe COMMAND --help' for the options of a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return BP_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "check") == 0)
        return bp_cli_check(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return bp_cli_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "cluster") == 0)
        return bp_cli_cluster(argc - 1, argv + 1);
    if (strcmp(cmd, "manpage") == 0)
        return bp_cli_manpage(argc - 1, argv + 1);
    if (strcmp(cmd, "completion") == 0)
        return bp_cli_completion(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("beamprobe %s (report schema %d)\n", BP_VERSION, BP_SCHEMA_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        char *hargv[] = { argc > 2 ? argv[2] : argv[1], (char *)(uintptr_t)"--help", NULL };
        if (argc > 2 && strcmp(argv[2], "check") == 0)
            return bp_cli_check(2, hargv);
        if (argc > 2 && strcmp(argv[2], "serve") == 0)
            return bp_cli_serve(2, hargv);
        if (argc > 2 && strcmp(argv[2], "cluster") == 0)
            return bp_cli_cluster(2, hargv);
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "beamprobe: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return BP_EXIT_USAGE;
}
