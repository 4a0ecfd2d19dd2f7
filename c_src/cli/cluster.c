/* cluster.c: `beamprobe cluster`: probe every node at once, analyse the mesh, optionally --wait for convergence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "beamprobe.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/mesh.h"
#include "core/render_cluster.h"
#include "core/report.h"
#include "dist/cookie.h"
#include "dist/fleet.h"
#include "dist/targets.h"

#define WAIT_PAUSE_MS 1000

/* One round: every target's snapshot and report, and the mesh over them. */
typedef struct {
    size_t n;
    bp_snapshot *snaps[BP_LIST_MAX];
    bp_report reports[BP_LIST_MAX];
    bp_mesh_input in[BP_LIST_MAX];
    bp_arena *arena;
    bp_mesh mesh;
} round_t;

static void round_free(round_t *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        bp_snapshot_free(r->snaps[i]);
    bp_arena_free(r->arena);
    free(r);
}

static void cluster_help(void)
{
    printf("Usage: beamprobe cluster [OPTIONS] --nodes a@h,b@h,...  (or a discovery source)\n"
           "\n"
           "Probe every node at once (the whole takes as long as the slowest node), run each\n"
           "node's own checks, and tell whether the cluster is whole: who sees whom,\n"
           "partitions, asymmetric links, quorum, missing and unexpected nodes.\n"
           "Verdicts: converged, degraded (e.g. one node down, quorum holds), partitioned,\n"
           "no_quorum, unreachable.\n");
    bp_config_print_help(stdout, BP_SUB_CLUSTER);
    printf("\nCookie: from --cookie-file, else $BEAMPROBE_COOKIE, else ~/.erlang.cookie.\n"
           "\nExit codes:\n"
           "  0  converged (or degraded with --allow-degraded)\n"
           "  1  usage or configuration error, or a discovery source failed\n"
           "  2  no node could be reached\n"
           "  4  not converged (degraded, partitioned, no quorum)\n");
}

/* Probe the targets once and analyse. NULL on OOM. */
static round_t *probe_round(const bp_config *cfg, const bp_namelist *targets, const char *cookie)
{
    round_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->n = targets->n;
    const char *names[BP_LIST_MAX];
    for (size_t i = 0; i < r->n; i++)
        names[i] = targets->v[i];
    r->arena = bp_arena_new(0);
    if (!r->arena || bp_probe_fleet(cfg, names, r->n, cookie, r->snaps) != 0)
        goto fail;
    for (size_t i = 0; i < r->n; i++) {
        if (!r->snaps[i] || bp_evaluate(r->snaps[i], cfg, &r->reports[i]) != 0)
            goto fail;
        r->in[i] = (bp_mesh_input){ .node = names[i],
                                    .reachable = r->snaps[i]->connect.state == BP_FACT_OK,
                                    .snap = r->snaps[i],
                                    .report = &r->reports[i] };
    }
    if (bp_mesh_analyze(r->in, r->n, &cfg->expect_nodes, cfg->expect_size, r->arena, &r->mesh) != 0)
        goto fail;
    return r;
fail:
    round_free(r);
    return NULL;
}

static int settled(const bp_config *cfg, const round_t *r)
{
    return r->mesh.verdict == BP_CLUSTER_CONVERGED || (cfg->allow_degraded && r->mesh.verdict == BP_CLUSTER_DEGRADED);
}

static int exit_code(const bp_config *cfg, const round_t *r)
{
    if (r->mesh.verdict == BP_CLUSTER_UNREACHABLE)
        return BP_EXIT_CONNECT;
    return settled(cfg, r) ? BP_EXIT_HEALTHY : BP_EXIT_UNHEALTHY;
}

static void stamp(char *out, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, len, "%H:%M:%S", &tm);
}

/* Print what changed since the previous round (to stderr with --json, so stdout stays one document). */
static void print_changes(const bp_config *cfg, const round_t *prev, round_t *cur)
{
    FILE *f = cfg->json ? stderr : stdout;
    char ts[16];
    stamp(ts, sizeof ts);
    if (!prev) {
        fprintf(f, "%s %s: %s\n", ts, bp_cluster_verdict_name(cur->mesh.verdict), cur->mesh.reason);
        fflush(f);
        return;
    }
    const char **lines = NULL;
    size_t n = 0;
    if (bp_mesh_changes(&prev->mesh, &cur->mesh, cur->arena, &lines, &n) != 0)
        return;
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s %s\n", ts, lines[i]);
    fflush(f);
}

int bp_cli_cluster(int argc, char **argv)
{
    char err[600], cookie[BP_COOKIE_MAX + 1];
    int code = BP_EXIT_USAGE;
    round_t *prev = NULL, *cur = NULL;
    bp_namelist *targets = NULL;
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
    if (bp_cookie_load(cfg->cookie_file, cookie, sizeof cookie, err, sizeof err) != 0) {
        fprintf(stderr, "beamprobe cluster: %s\n", err);
        goto out;
    }
    targets = calloc(1, sizeof *targets);
    if (!targets)
        goto out;
    int64_t wait_until = bp_now_ms() + cfg->wait_ms;
    for (;;) {
        int64_t round_start = bp_now_ms();
        if (bp_targets_resolve(cfg, round_start + cfg->timeout_ms, targets, err, sizeof err) != 0) {
            fprintf(stderr, "beamprobe cluster: %s\n", err);
            goto out;
        }
        cur = probe_round(cfg, targets, cookie);
        if (!cur) {
            fprintf(stderr, "beamprobe cluster: out of memory\n");
            goto out;
        }
        if (cfg->wait_ms > 0)
            print_changes(cfg, prev, cur);
        round_free(prev);
        prev = NULL;
        if (cfg->wait_ms == 0 || settled(cfg, cur) || bp_now_ms() + WAIT_PAUSE_MS > wait_until)
            break;
        prev = cur;
        cur = NULL;
        struct timespec ts = { WAIT_PAUSE_MS / 1000, (WAIT_PAUSE_MS % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    char *out = cfg->json ? bp_render_cluster_json(&cur->mesh, cur->in, cur->n, 1)
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
    round_free(prev);
    round_free(cur);
    free(targets);
    free(cfg);
    return code;
}
