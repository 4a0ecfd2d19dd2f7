/* serve.c: `beamprobe serve`: probe targets in the background and answer health routes over HTTP(S). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"
#include "cli/cli.h"
#include "core/config.h"
#include "core/clock.h"
#include "core/config_file.h"
#include "core/log.h"
#include "core/str.h"
#include "dist/cookie.h"
#include "dist/monitor.h"
#include "dist/targets.h"
#include "http/server.h"
#include "http/site.h"

#define TOKEN_MAX 4096

typedef struct {
    int argc;
    char **argv;             /* kept: argv overrides the file again on every reload */
    bp_config cfg;
    char cookie[BP_COOKIE_MAX + 1];
    pthread_rwlock_t lock;   /* the HTTP thread reads `site`; a reload swaps it */
    bp_site *site;
    bp_monitor **monitors;
    size_t n_monitors;
    bp_http_server *http;
} app;

static void serve_help(void)
{
    printf("Usage: beamprobe serve [OPTIONS] --node NODE [--node NODE ...]\n"
           "\n"
           "Probe each node every --interval over a persistent distribution connection and\n"
           "answer HTTP from the latest report, never waiting on a node:\n"
           "  /health/live  /livez  /live                  200 when the liveness checks pass, else 503\n"
           "  /health/ready /readyz /ready /healthz        readiness (peers, supervisors, governors, ...)\n"
           "  /health/startup /startupz                    startup (required applications)\n"
           "  /health                                      the full JSON report (docs/SCHEMA.md)\n"
           "  /health/cluster                              the cluster view of all targets (docs/CLUSTER.md)\n"
           "  /metrics                                     Prometheus text format 0.0.4 (docs/METRICS.md)\n"
           "A report older than --max-age counts as failing; every answer says its age.\n"
           "SIGTERM stops gracefully (exit 0); SIGHUP reloads --config, keeping the old\n"
           "settings if the new ones are invalid.\n");
    bp_config_print_help(stdout, BP_SUB_SERVE);
    printf("\nCookie: from --cookie-file, else $BEAMPROBE_COOKIE, else ~/.erlang.cookie.\n"
           "\nExit codes: 0 after SIGTERM/SIGINT, 1 usage or configuration error (including\n"
           "an unusable certificate or key, or a listen address that cannot be bound).\n");
}

/* Forget list values from the file for lists that argv sets: flags override the file. */
static void argv_overrides_lists(bp_config *c, int argc, char **argv)
{
    size_t n;
    const bp_config_option *t = bp_config_options(&n);
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        const char *a = argv[i];
        for (size_t k = 0; k < n; k++) {
            if (t[k].kind != BP_OPT_LIST)
                continue;
            size_t nl = strlen(t[k].name);
            int long_form = a[0] == '-' && a[1] == '-' && strncmp(a + 2, t[k].name, nl) == 0
                            && (a[2 + nl] == '\0' || a[2 + nl] == '=');
            int short_form = t[k].short_name && a[0] == '-' && a[1] == t[k].short_name;
            if (long_form || short_form)
                ((bp_namelist *)(void *)((char *)c + t[k].offset))->n = 0;
        }
    }
}

/*
 * Targets from discovery, resolved at start and on SIGHUP, replace c->nodes.
 * The site keeps one view per entry of c->nodes, so serve takes at most
 * BP_LIST_MAX of the (up to BP_TARGETS_MAX) discovered nodes: more is an error.
 */
static int resolve_targets(bp_config *c, char *err, size_t errlen)
{
    bp_nodeset found = { 0 };
    int rc = bp_targets_resolve(c, bp_now_ms() + c->timeout_ms, &found, err, errlen);
    if (rc == 0 && found.n > BP_LIST_MAX) {
        snprintf(err, errlen, "serve probes at most %d targets, and discovery found %zu "
                 "(narrow it with --node-basename, or use beamprobe cluster, which takes up to %d)",
                 BP_LIST_MAX, found.n, BP_TARGETS_MAX);
        rc = BP_ETOOBIG;
    }
    if (rc == 0) {
        if (found.n)
            memcpy(c->nodes.v, found.v, found.n * sizeof found.v[0]);
        c->nodes.n = found.n;
    }
    bp_nodeset_free(&found);
    return rc;
}

/* The configuration from defaults, then --config FILE, then argv. 0 or BP_EUSAGE with err. */
static int load_config(bp_config *c, int argc, char **argv, char *err, size_t errlen)
{
    bp_config_defaults(c);
    if (bp_config_parse_argv(c, BP_SUB_SERVE, argc, argv, err, errlen) != 0)
        return BP_EUSAGE;
    if (c->config_file[0]) {
        char path[sizeof c->config_file];
        bp_strlcpy(path, c->config_file, sizeof path);
        bp_config_defaults(c);
        if (bp_config_load_file(c, path, err, errlen) != 0)
            return BP_EUSAGE;
        argv_overrides_lists(c, argc, argv);
        if (bp_config_parse_argv(c, BP_SUB_SERVE, argc, argv, err, errlen) != 0)
            return BP_EUSAGE;
    }
    bp_config_finish(c);
    if (bp_config_validate(c, err, errlen) != 0)
        return BP_EUSAGE;
    if (bp_targets_discovered(c) && resolve_targets(c, err, errlen) != 0)
        return BP_EUSAGE;
    if (c->nodes.n == 0) {
        snprintf(err, errlen, "which nodes? give --node NODE (repeatable), or \"node\" in --config");
        return BP_EUSAGE;
    }
    return 0;
}

/* Read the bearer token (first line, trimmed) into out; 0 or BP_EUSAGE. */
static int load_token(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read --auth-token-file %s: %s", path, strerror(errno));
        return BP_EUSAGE;
    }
    size_t n = fread(out, 1, outlen - 1, f);
    fclose(f);
    out[n] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    n = strlen(out);
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
        out[--n] = '\0';
    if (n == 0) {
        snprintf(err, errlen, "--auth-token-file %s is empty", path);
        return BP_EUSAGE;
    }
    return 0;
}

static void on_snapshot(void *ctx, bp_snapshot *snap)
{
    bp_site_publish(ctx, snap);
}

static void stop_monitors(app *a)
{
    for (size_t i = 0; i < a->n_monitors; i++)
        bp_monitor_stop(a->monitors[i]);
    free(a->monitors);
    a->monitors = NULL;
    a->n_monitors = 0;
}

static int start_monitors(app *a)
{
    a->monitors = calloc(a->cfg.nodes.n, sizeof *a->monitors);
    if (!a->monitors)
        return BP_ENOMEM;
    for (size_t i = 0; i < a->cfg.nodes.n; i++) {
        if (bp_monitor_start(&a->cfg, a->cfg.nodes.v[i], a->cookie, on_snapshot, a->site, &a->monitors[i]) != 0)
            return BP_ENOMEM;
        a->n_monitors++;
    }
    return 0;
}

static void handle(void *ctx, const bp_http_request *req, bp_http_response *resp)
{
    app *a = ctx;
    pthread_rwlock_rdlock(&a->lock);
    bp_site_handle(a->site, req, resp);
    pthread_rwlock_unlock(&a->lock);
}

/* SIGHUP: re-read everything; on any error keep running as before. */
static void reload(app *a)
{
    char err[512], token[TOKEN_MAX], cookie[BP_COOKIE_MAX + 1];
    bp_config *c = calloc(1, sizeof *c);
    if (!c)
        return;
    if (load_config(c, a->argc, a->argv, err, sizeof err) != 0
        || bp_cookie_load(c->cookie_file, cookie, sizeof cookie, err, sizeof err) != 0
        || (c->auth_token_file[0] && load_token(c->auth_token_file, token, sizeof token, err, sizeof err) != 0)) {
        bp_log("reload", NULL, "kept the running configuration: %s", err);
        free(c);
        return;
    }
    if (strcmp(c->listen, a->cfg.listen) != 0 || strcmp(c->tls_cert, a->cfg.tls_cert) != 0
        || strcmp(c->tls_key, a->cfg.tls_key) != 0 || strcmp(c->tls_client_ca, a->cfg.tls_client_ca) != 0)
        bp_log("reload", NULL, "listen address and TLS settings change only on restart");
    stop_monitors(a);
    bp_site *site = bp_site_new_from(c, c->auth_token_file[0] ? token : NULL, a->site);
    if (!site) {
        bp_log("reload", NULL, "out of memory: kept the running configuration");
        start_monitors(a);
        free(c);
        return;
    }
    pthread_rwlock_wrlock(&a->lock);
    bp_site *old = a->site;
    a->site = site;
    pthread_rwlock_unlock(&a->lock);
    bp_site_free(old);
    a->cfg = *c;
    bp_strlcpy(a->cookie, cookie, sizeof a->cookie);
    explicit_bzero(cookie, sizeof cookie);
    explicit_bzero(token, sizeof token);
    bp_log_set_json(strcmp(a->cfg.log_format, "json") == 0);
    if (start_monitors(a) != 0)
        bp_log("reload", NULL, "out of memory starting the probes");
    else
        bp_log("reload", NULL, "configuration reloaded: %zu target(s), interval %d ms", a->cfg.nodes.n,
               a->cfg.interval_ms);
    free(c);
}

static void *signal_thread(void *arg)
{
    app *a = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    for (;;) {
        int sig;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            reload(a);
            continue;
        }
        bp_log("stop", NULL, "%s: closing the listener, finishing in-flight responses",
               sig == SIGTERM ? "SIGTERM" : "SIGINT");
        bp_http_stop(a->http);
        return NULL;
    }
}

static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

int bp_cli_serve(int argc, char **argv)
{
    char err[512], token[TOKEN_MAX];
    int code = BP_EXIT_USAGE, have_signals = 0;
    pthread_t sig_thread;
    if (wants_help(argc, argv)) {
        serve_help();
        return 0;
    }
    app *a = calloc(1, sizeof *a);
    if (!a) {
        fprintf(stderr, "beamprobe serve: out of memory\n");
        return BP_EXIT_USAGE;
    }
    a->argc = argc;
    a->argv = argv;
    pthread_rwlock_init(&a->lock, NULL);
    if (load_config(&a->cfg, argc, argv, err, sizeof err) != 0
        || bp_cookie_load(a->cfg.cookie_file, a->cookie, sizeof a->cookie, err, sizeof err) != 0
        || (a->cfg.auth_token_file[0] && load_token(a->cfg.auth_token_file, token, sizeof token, err, sizeof err) != 0)) {
        fprintf(stderr, "beamprobe serve: %s\n", err);
        goto out;
    }
    bp_log_set_json(strcmp(a->cfg.log_format, "json") == 0);

    /* every thread inherits this mask; only the signal thread takes these signals */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    a->site = bp_site_new(&a->cfg, a->cfg.auth_token_file[0] ? token : NULL);
    explicit_bzero(token, sizeof token);
    if (!a->site) {
        fprintf(stderr, "beamprobe serve: out of memory\n");
        goto out;
    }
    bp_http_opts ho = {
        .listen = a->cfg.listen,
        .max_connections = a->cfg.max_connections,
        .idle_timeout_ms = a->cfg.idle_timeout_ms,
        .max_header_bytes = 8192,
        .tls_cert = a->cfg.tls_cert[0] ? a->cfg.tls_cert : NULL,
        .tls_key = a->cfg.tls_key[0] ? a->cfg.tls_key : NULL,
        .tls_client_ca = a->cfg.tls_client_ca[0] ? a->cfg.tls_client_ca : NULL,
        .access_log = a->cfg.access_log,
    };
    if (bp_http_new(&ho, handle, a, &a->http, err, sizeof err) != 0) {
        fprintf(stderr, "beamprobe serve: %s\n", err);
        goto out;
    }
    if (start_monitors(a) != 0 || pthread_create(&sig_thread, NULL, signal_thread, a) != 0) {
        fprintf(stderr, "beamprobe serve: cannot start threads\n");
        goto out;
    }
    have_signals = 1;
    bp_log("start", NULL, "serving %s on port %d (%s), %zu target(s), every %d ms", a->cfg.listen,
           bp_http_port(a->http), ho.tls_cert ? (ho.tls_client_ca ? "HTTPS, client certificates" : "HTTPS") : "HTTP",
           a->cfg.nodes.n, a->cfg.interval_ms);
    code = bp_http_run(a->http) == 0 ? 0 : BP_EXIT_USAGE;
out:
    if (have_signals) { /* finished after SIGTERM, or still waiting if the loop failed */
        pthread_cancel(sig_thread);
        pthread_join(sig_thread, NULL);
    }
    stop_monitors(a);
    bp_http_free(a->http);
    bp_site_free(a->site);
    pthread_rwlock_destroy(&a->lock);
    explicit_bzero(a->cookie, sizeof a->cookie);
    free(a);
    return code;
}
