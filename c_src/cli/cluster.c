/* cluster.c: `beamprobe cluster`: probe every node at once, analyse the mesh, optionally --wait for convergence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "beamprobe.h"
#include "cli/cli.h"
#include "cli/ssl_lazy.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/mesh.h"
#include "core/render_cluster.h"
#include "core/render_svg.h"
#include "core/report.h"
#include "dist/cookie.h"
#include "dist/cluster_round.h"
#include "dist/fleet.h"
#include "discover/targets.h"

#define WAIT_PAUSE_MS 1000
/* descriptors a probe may hold at once (name slot, EPMD, the connection, a resolver's), plus slack */
#define FDS_PER_PROBE 4
#define FDS_SPARE 64

_Static_assert(BP_TARGETS_MAX <= BP_FLEET_MAX, "the fleet must take every target at once");

/*
 * Every target is probed at once: raise the soft descriptor limit (often
 * 1024) toward what BP_TARGETS_MAX probes need, before the first connection
 * (erl_interface sizes its socket table from the limit when it starts).
 */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)BP_TARGETS_MAX * FDS_PER_PROBE + FDS_SPARE;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

/* Say so once when the (hard) limit is too low for this many probes at once: the surplus would fail oddly. */
static void warn_fd_limit(size_t targets)
{
    static int warned;
    struct rlimit rl;
    size_t need = targets * FDS_PER_PROBE + FDS_SPARE;
    if (warned || getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return;
    warned = 1;
    fprintf(stderr, "beamprobe cluster: warning: %zu targets at once need up to %zu open files, the limit is %llu "
                    "(ulimit -n): some probes may fail for want of descriptors\n",
            targets, need, (unsigned long long)rl.rlim_cur);
}

static void cluster_help(void)
{
    printf("Usage: beamprobe cluster [OPTIONS] --nodes a@h,b@h,...  (or a discovery source)\n"
           "\n"
           "Probe every node at once (the whole takes as long as the slowest node), run each\n"
           "node's own checks, and tell whether the cluster is whole: who sees whom,\n"
           "partitions, asymmetric links, quorum, missing and unexpected nodes.\n"
           "Verdicts: converged, degraded (e.g. one node down, quorum holds), partitioned,\n"
           "no_quorum, unreachable.\n"
           "Targets: --nodes (up to %d names) and the discovery sources --epmd-host, --dns,\n"
           "--k8s-endpoints, together up to %d nodes (docs/DISCOVERY.md).\n",
           BP_LIST_MAX, BP_TARGETS_MAX);
    bp_config_print_help(stdout, BP_SUB_CLUSTER);
    printf("\nCookie: from --cookie-file, else $BEAMPROBE_COOKIE, else ~/.erlang.cookie.\n");
    bp_cli_print_cluster_exit_codes();
}

static int exit_code(const bp_config *cfg, const bp_cluster_round *r)
{
    if (r->mesh.verdict == BP_CLUSTER_UNREACHABLE)
        return BP_EXIT_CONNECT;
    return bp_cluster_round_settled(cfg, r) ? BP_EXIT_HEALTHY : BP_EXIT_UNHEALTHY;
}

static void stamp(char *out, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    /* strftime leaves out indeterminate when it returns 0 (len too small, or localtime_r failed) */
    if (len == 0)
        return;
    if (!localtime_r(&t, &tm) || strftime(out, len, "%H:%M:%S", &tm) == 0)
        out[0] = '\0';
}

/* Print what changed since the previous round (to stderr with --json, so stdout stays one document). */
static void print_changes(const bp_config *cfg, const bp_cluster_round *prev, bp_cluster_round *cur)
{
    FILE *f = cfg->json || (cfg->format[0] && strcmp(cfg->format, "text") != 0) ? stderr : stdout;
    char ts[16];
    stamp(ts, sizeof ts);
    if (!prev) {
        fprintf(f, "%s %s: %s\n", ts, bp_cluster_verdict_name(cur->mesh.verdict), cur->mesh.reason);
        (void)fflush(f); /* a watch line on a terminal or log: nothing to do if it fails */
        return;
    }
    const char **lines = NULL;
    size_t n = 0;
    if (bp_mesh_changes(&prev->mesh, &cur->mesh, cur->arena, &lines, &n) != 0)
        return;
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s %s\n", ts, lines[i]);
    (void)fflush(f); /* as above */
}

int bp_cli_cluster(int argc, char **argv)
{
    char err[600], cookie[BP_COOKIE_MAX + 1];
    int code = BP_EXIT_USAGE;
    bp_cluster_round *prev = NULL, *cur = NULL;
    bp_nodeset targets[2] = { { 0 }, { 0 } }; /* this round's and the previous round's, which it borrows */
    bp_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return BP_EXIT_USAGE;
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cluster_help();
            free(cfg);
            return 0;
        }
    bp_config_defaults(cfg);
    if (bp_config_parse_argv(cfg, BP_SUB_CLUSTER, argc, argv, err, sizeof err) != 0) {
        fprintf(stderr, "beamprobe cluster: %s\n", err);
        goto out;
    }
    bp_config_finish(cfg);
    cfg->probe = BP_PROBE_READY;
    if (bp_config_validate(cfg, err, sizeof err) != 0) {
        fprintf(stderr, "beamprobe cluster: %s\n", err);
        goto out;
    }
    if (cfg->nodes.n == 0 && !bp_targets_discovered(cfg)) {
        fprintf(stderr, "beamprobe cluster: which nodes? give --nodes a@h,b@h or a discovery source "
                        "(--epmd-host, --dns, --k8s-endpoints); see 'beamprobe cluster --help'\n");
        goto out;
    }
    /* OpenSSL, if this run will need it, before the first step (cli/ssl_lazy.c) */
    const char *ssl_for = bp_ssl_needed_for(cfg);
    if ((ssl_for && bp_ssl_require(ssl_for, err, sizeof err) != 0)
        || bp_cookie_load(cfg->cookie_file, cookie, sizeof cookie, err, sizeof err) != 0) {
        fprintf(stderr, "beamprobe cluster: %s\n", err);
        goto out;
    }
    raise_fd_limit();
    int64_t wait_until = bp_now_ms() + cfg->wait_ms;
    for (int k = 0;; k ^= 1) {
        int64_t round_start = bp_now_ms();
        if (bp_targets_resolve(cfg, round_start + cfg->timeout_ms, &targets[k], err, sizeof err) != 0) {
            fprintf(stderr, "beamprobe cluster: %s\n", err);
            goto out;
        }
        warn_fd_limit(targets[k].n);
        cur = bp_cluster_round_run(cfg, &targets[k], cookie, prev);
        if (!cur) {
            fprintf(stderr, "beamprobe cluster: out of memory\n");
            goto out;
        }
        if (cfg->wait_ms > 0)
            print_changes(cfg, prev, cur);
        bp_cluster_round_free(prev);
        prev = NULL;
        if (cfg->wait_ms == 0 || bp_cluster_round_settled(cfg, cur) || bp_now_ms() + WAIT_PAUSE_MS > wait_until)
            break;
        prev = cur;
        cur = NULL;
        struct timespec ts = { WAIT_PAUSE_MS / 1000, (WAIT_PAUSE_MS % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    const char *fmt = cfg->format[0] ? cfg->format : cfg->json ? "json" : "text";
    char *out = strcmp(fmt, "json") == 0  ? bp_render_cluster_json(&cur->mesh, cur->in, cur->n, 1)
                : strcmp(fmt, "svg") == 0 ? bp_render_cluster_svg(&cur->mesh, cur->in, cur->n)
                                          : bp_render_cluster_text(&cur->mesh, cur->in, cur->n);
    if (!out) {
        fprintf(stderr, "beamprobe cluster: out of memory\n");
        goto out;
    }
    fputs(out, stdout);
    if (out[0] && out[strlen(out) - 1] != '\n')
        fputc('\n', stdout);
    free(out);
    code = exit_code(cfg, cur);
out:
    explicit_bzero(cookie, sizeof cookie);
    bp_cluster_round_free(prev);
    bp_cluster_round_free(cur);
    bp_nodeset_free(&targets[0]);
    bp_nodeset_free(&targets[1]);
    free(cfg);
    return code;
}
