/* check.c: `beamprobe check`: probe one node once, print the report, exit with its code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"
#include "cli/cli.h"
#include "cli/ssl_lazy.h"
#include "core/config.h"
#include "core/report.h"
#include "dist/collect.h"
#include "dist/cookie.h"

static void check_help(void)
{
    printf("Usage: beamprobe check [OPTIONS] NODE\n"
           "\n"
           "Probe one Erlang node (name@host, or a bare name: the node of that name on this\n"
           "host, as in a Kubernetes exec probe) and report its health under the name the\n"
           "node states. Every step (name resolution, EPMD, connect, handshake, every\n"
           "remote call) shares one --timeout.\n"
           "Nothing is loaded on the target; only functions that ship with OTP are called.\n");
    bp_config_print_help(stdout, BP_SUB_CHECK);
    printf("\nCookie: from --cookie-file, else $BEAMPROBE_COOKIE, else ~/.erlang.cookie.\n"
           "A cookie file readable by group or others is refused, as erl does.\n");
    bp_cli_print_exit_codes();
}

static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    }
    return 0;
}

int bp_cli_check(int argc, char **argv)
{
    char err[512], cookie[BP_COOKIE_MAX + 1];
    int code = BP_EXIT_USAGE;
    bp_snapshot *snap = NULL;
    char *out = NULL;
    bp_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) {
        fprintf(stderr, "beamprobe: out of memory\n");
        return BP_EXIT_USAGE;
    }
    if (wants_help(argc, argv)) {
        check_help();
        code = 0;
        goto out;
    }
    bp_config_defaults(cfg);
    if (bp_config_parse_argv(cfg, BP_SUB_CHECK, argc, argv, err, sizeof err) != 0) {
        fprintf(stderr, "beamprobe check: %s\n", err);
        goto out;
    }
    bp_config_finish(cfg);
    if (bp_config_validate(cfg, err, sizeof err) != 0) {
        fprintf(stderr, "beamprobe check: %s\n", err);
        goto out;
    }
    if (cfg->nodes.n != 1) {
        fprintf(stderr, "beamprobe check: %s (see 'beamprobe check --help')\n",
                cfg->nodes.n ? "give exactly one node; 'beamprobe cluster' probes several"
                             : "which node? give NODE as name@host, or name for a node on this host");
        goto out;
    }
    /* OpenSSL, if this check will need it, before the first step (cli/ssl_lazy.c) */
    const char *ssl_for = bp_ssl_needed_for(cfg);
    if ((ssl_for && bp_ssl_require(ssl_for, err, sizeof err) != 0)
        || bp_cookie_load(cfg->cookie_file, cookie, sizeof cookie, err, sizeof err) != 0) {
        fprintf(stderr, "beamprobe check: %s\n", err);
        goto out;
    }
    snap = bp_probe_node(cfg, cfg->nodes.v[0], cookie);
    explicit_bzero(cookie, sizeof cookie);
    if (!snap) {
        fprintf(stderr, "beamprobe check: out of memory\n");
        goto out;
    }
    bp_report rep;
    if (bp_evaluate(snap, cfg, &rep) != 0) {
        fprintf(stderr, "beamprobe check: out of memory\n");
        goto out;
    }
    code = bp_report_exit_code(&rep, cfg);
    if (!cfg->json && snap->connect.state != BP_FACT_OK) {
        fprintf(stderr, "beamprobe check: %s\n", snap->connect.error ? snap->connect.error : "cannot connect");
        goto out;
    }
    out = cfg->json ? bp_render_json(&rep, 1) : bp_render_text(&rep);
    if (!out) {
        fprintf(stderr, "beamprobe check: out of memory\n");
        code = BP_EXIT_USAGE;
        goto out;
    }
    fputs(out, stdout);
    if (out[0] && out[strlen(out) - 1] != '\n')
        fputc('\n', stdout);
out:
    free(out);
    bp_snapshot_free(snap);
    free(cfg);
    return code;
}
