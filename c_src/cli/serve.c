/* serve.c: `beamprobe serve`: probe targets in the background and answer health routes over HTTP(S). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "beamprobe.h"
#include "cli/cli.h"
#include "core/config.h"
#include "core/clock.h"
#include "core/config_file.h"
#include "core/log.h"
#include "core/str.h"
#include "core/token_file.h"
#include "dist/cookie.h"
#include "dist/monitor.h"
#include "discover/nodeset.h"
#include "discover/targets.h"
#include "http/server.h"
#include "http/site.h"
#include "notify/notify.h"

/* descriptors per target: its monitor's eventfd, name slot and connection, EPMD and a resolver's while connecting */
#define FDS_PER_TARGET 5
#define FDS_SPARE 64

typedef struct {
    int argc;
    char **argv;             /* kept: argv overrides the file again on every reload */
    bp_config cfg;
    char cookie[BP_COOKIE_MAX + 1];
    pthread_rwlock_t lock;   /* the HTTP thread reads `site`; a reload swaps it */
    bp_site *site;           /* owns the targets (bp_site_targets) */
    bp_monitors *monitors;   /* one per target of `site`, publishing to it */
    bp_http_server *http;
    bp_notifier *notifier;   /* NULL without --alertmanager and --notify-webhook */
} app;

static void serve_help(void)
{
    printf("Usage: beamprobe serve [OPTIONS] --node NODE [--node NODE ...]  (or a discovery source)\n"
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
           "Targets: --node (up to %d names) and the discovery sources --epmd-host, --dns,\n"
           "--k8s-endpoints, together up to %d nodes (docs/DISCOVERY.md); with several, the\n"
           "verdict routes answer for all of them ({\"nodes\": [...], \"ok\": ...}).\n"
           "SIGTERM stops gracefully (exit 0); SIGHUP reloads --config (and discovers again),\n"
           "keeping the old settings if the new ones are invalid.\n",
           BP_LIST_MAX, BP_TARGETS_MAX);
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
 * The configuration from defaults, then --config FILE, then argv, and the
 * targets: --node plus every discovery source, resolved at start and on
 * SIGHUP, up to BP_TARGETS_MAX in all (more is an error). 0 or BP_EUSAGE with err.
 */
static int load_config(bp_config *c, bp_nodeset *targets, int argc, char **argv, char *err, size_t errlen)
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
    if (bp_config_validate(c, err, errlen) != 0
        || bp_targets_resolve(c, bp_now_ms() + c->timeout_ms, targets, err, errlen) != 0)
        return BP_EUSAGE;
    if (targets->n == 0) {
        snprintf(err, errlen, "which nodes? give --node NODE (repeatable), or \"node\" in --config");
        return BP_EUSAGE;
    }
    return 0;
}

/*
 * Every target keeps a connection open and the HTTP server up to
 * --max-connections: lift the soft descriptor limit (often 1024) to what
 * BP_TARGETS_MAX targets need, before the first connection (erl_interface
 * sizes its socket table from the limit when it starts), and log a warning
 * (as `event`) when what is allowed is less than these targets need.
 */
static void fit_fd_limit(const bp_config *c, size_t targets, const char *event)
{
    struct rlimit rl;
    rlim_t http = (rlim_t)c->max_connections + FDS_SPARE;
    rlim_t most = (rlim_t)BP_TARGETS_MAX * FDS_PER_TARGET + http, need = (rlim_t)targets * FDS_PER_TARGET + http;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return;
    if (rl.rlim_cur < most) {
        struct rlimit lifted = { .rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < most ? rl.rlim_max : most,
                                 .rlim_max = rl.rlim_max };
        if (setrlimit(RLIMIT_NOFILE, &lifted) == 0)
            rl = lifted;
    }
    if (rl.rlim_cur < need)
        bp_log(event, NULL, "warning: %zu targets and %d HTTP connections may need %llu open files, the limit "
               "is %llu (ulimit -n): some probes may fail for want of descriptors", targets, c->max_connections,
               (unsigned long long)need, (unsigned long long)rl.rlim_cur);
}

static void on_snapshot(void *ctx, bp_snapshot *snap)
{
    bp_site_publish(ctx, snap);
}

static void stop_monitors(app *a)
{
    bp_monitors_stop(a->monitors);
    a->monitors = NULL;
}

/* One monitor per target of the site, publishing to it. */
static int start_monitors(app *a)
{
    const bp_nodeset *t = bp_site_targets(a->site);
    return bp_monitors_start(&a->cfg, (const char (*)[BP_NAME_MAX])t->v, t->n, a->cookie, on_snapshot, a->site,
                             &a->monitors);
}

static void handle(void *ctx, const bp_http_request *req, bp_http_response *resp)
{
    app *a = ctx;
    pthread_rwlock_rdlock(&a->lock);
    bp_site_handle(a->site, req, resp);
    pthread_rwlock_unlock(&a->lock);
}

/* Whether c's notification settings differ from the running ones (those change only on restart). */
static int notify_changed(const bp_config *c, const bp_config *run)
{
    return memcmp(&c->alertmanagers, &run->alertmanagers, sizeof c->alertmanagers) != 0
           || memcmp(&c->notify_webhooks, &run->notify_webhooks, sizeof c->notify_webhooks) != 0
           || strcmp(c->alertmanager_ca_file, run->alertmanager_ca_file) != 0
           || strcmp(c->alertmanager_token_file, run->alertmanager_token_file) != 0
           || strcmp(c->notify_secret_file, run->notify_secret_file) != 0
           || strcmp(c->external_url, run->external_url) != 0
           || c->alert_resend_interval_ms != run->alert_resend_interval_ms
           || c->notify_queue_size != run->notify_queue_size;
}

/* The alerts of targets in `old` but not in `now` are resolved (their monitors are stopped: nothing follows). */
static void forget_removed(bp_notifier *n, const bp_nodeset *old, const bp_nodeset *now)
{
    for (size_t i = 0; n && i < old->n; i++)
        if (!bp_nodeset_has(now, old->v[i]))
            bp_notifier_forget(n, old->v[i]);
}

/* SIGHUP: re-read everything; on any error keep running as before. */
static void reload(app *a)
{
    char err[512], token[BP_TOKEN_MAX + 1], cookie[BP_COOKIE_MAX + 1];
    bp_nodeset targets = { 0 };
    bp_config *c = calloc(1, sizeof *c);
    if (!c)
        return;
    if (load_config(c, &targets, a->argc, a->argv, err, sizeof err) != 0
        || bp_cookie_load(c->cookie_file, cookie, sizeof cookie, err, sizeof err) != 0
        || (c->auth_token_file[0] && bp_token_file_load(c->auth_token_file, token, sizeof token, err, sizeof err) != 0)) {
        bp_log("reload", NULL, "kept the running configuration: %s", err);
        bp_nodeset_free(&targets);
        free(c);
        return;
    }
    if (strcmp(c->listen, a->cfg.listen) != 0 || strcmp(c->tls_cert, a->cfg.tls_cert) != 0
        || strcmp(c->tls_key, a->cfg.tls_key) != 0 || strcmp(c->tls_client_ca, a->cfg.tls_client_ca) != 0)
        bp_log("reload", NULL, "listen address and TLS settings change only on restart");
    if (notify_changed(c, &a->cfg))
        bp_log("reload", NULL, "notification settings change only on restart");
    fit_fd_limit(c, targets.n, "reload");
    stop_monitors(a);
    bp_site *site = bp_site_new_from(c, (const char (*)[BP_NAME_MAX])targets.v, targets.n,
                                     c->auth_token_file[0] ? token : NULL, a->site);
    bp_nodeset_free(&targets);
    if (!site) {
        bp_log("reload", NULL, "out of memory: kept the running configuration");
        start_monitors(a);
        free(c);
        return;
    }
    bp_site_set_notifier(site, a->notifier);
    pthread_rwlock_wrlock(&a->lock);
    bp_site *old = a->site;
    a->site = site;
    pthread_rwlock_unlock(&a->lock);
    forget_removed(a->notifier, bp_site_targets(old), bp_site_targets(site));
    bp_site_free(old);
    a->cfg = *c;
    bp_strlcpy(a->cookie, cookie, sizeof a->cookie);
    explicit_bzero(cookie, sizeof cookie);
    explicit_bzero(token, sizeof token);
    bp_log_set_json(strcmp(a->cfg.log_format, "json") == 0);
    if (start_monitors(a) != 0)
        bp_log("reload", NULL, "out of memory starting the probes");
    else
        bp_log("reload", NULL, "configuration reloaded: %zu target(s), interval %d ms", bp_site_targets(a->site)->n,
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

/*
 * serve's own URL for the alerts' generatorURL: --external-url, else
 * http(s)://HOST:PORT from --listen with the bound port (this host's name
 * when the address is empty or a wildcard).
 */
static void own_url(const app *a, char *out, size_t len)
{
    const bp_config *c = &a->cfg;
    if (c->external_url[0]) {
        size_t n = bp_strlcpy(out, c->external_url, len);
        while (n > 0 && n < len && out[n - 1] == '/') /* generatorURL adds "/health" */
            out[--n] = '\0';
        return;
    }
    char host[256] = "";
    const char *colon = strrchr(c->listen, ':');
    size_t hl = colon ? (size_t)(colon - c->listen) : 0;
    if (hl > 0 && hl < sizeof host)
        bp_strlcpy(host, c->listen, hl + 1);
    if (!host[0] || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "[::]") == 0 || strcmp(host, "::") == 0)
        if (gethostname(host, sizeof host - 1) != 0 || !host[0])
            bp_strlcpy(host, "localhost", sizeof host);
    host[sizeof host - 1] = '\0';
    snprintf(out, len, "%s://%s:%d", c->tls_cert[0] ? "https" : "http", host, bp_http_port(a->http));
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
    char err[512], token[BP_TOKEN_MAX + 1];
    bp_nodeset targets = { 0 };
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
    if (load_config(&a->cfg, &targets, argc, argv, err, sizeof err) != 0
        || bp_cookie_load(a->cfg.cookie_file, a->cookie, sizeof a->cookie, err, sizeof err) != 0
        || (a->cfg.auth_token_file[0] && bp_token_file_load(a->cfg.auth_token_file, token, sizeof token, err, sizeof err) != 0)) {
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
    (void)signal(SIGPIPE, SIG_IGN); /* SIG_ERR only for an invalid signal number */

    fit_fd_limit(&a->cfg, targets.n, "start");
    a->site = bp_site_new(&a->cfg, (const char (*)[BP_NAME_MAX])targets.v, targets.n,
                          a->cfg.auth_token_file[0] ? token : NULL);
    explicit_bzero(token, sizeof token);
    bp_nodeset_free(&targets); /* the site has its own copy */
    if (!a->site) {
        fprintf(stderr, "beamprobe serve: out of memory\n");
        goto out;
    }
    bp_http_opts ho = {
        .listen = a->cfg.listen,
        .max_connections = a->cfg.max_connections,
        .idle_timeout_ms = a->cfg.idle_timeout_ms,
        .header_timeout_ms = a->cfg.header_timeout_ms,
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
    char url[512];
    own_url(a, url, sizeof url);
    if (bp_notifier_start(&a->cfg, url, &a->notifier, err, sizeof err) != 0) {
        fprintf(stderr, "beamprobe serve: %s\n", err);
        goto out;
    }
    bp_site_set_notifier(a->site, a->notifier);
    if (start_monitors(a) != 0 || pthread_create(&sig_thread, NULL, signal_thread, a) != 0) {
        fprintf(stderr, "beamprobe serve: cannot start threads\n");
        goto out;
    }
    have_signals = 1;
    /* the address as given, with the port the kernel chose for ":0" */
    const char *colon = strrchr(a->cfg.listen, ':');
    int host_len = colon ? (int)(colon - a->cfg.listen) : 0;
    bp_log("start", NULL, "listening on %.*s:%d (%s), %zu target(s), every %d ms", host_len, a->cfg.listen,
           bp_http_port(a->http), ho.tls_cert ? (ho.tls_client_ca ? "HTTPS, client certificates" : "HTTPS") : "HTTP",
           bp_site_targets(a->site)->n, a->cfg.interval_ms);
    code = bp_http_run(a->http) == 0 ? 0 : BP_EXIT_USAGE;
out:
    if (have_signals) { /* finished after SIGTERM, or still waiting if the loop failed */
        pthread_cancel(sig_thread);
        pthread_join(sig_thread, NULL);
    }
    stop_monitors(a);
    bp_http_free(a->http);
    bp_site_free(a->site);
    bp_notifier_stop(a->notifier); /* after the site: nothing publishes to it any more */
    bp_nodeset_free(&targets); /* when the configuration was refused */
    pthread_rwlock_destroy(&a->lock);
    explicit_bzero(a->cookie, sizeof a->cookie);
    free(a);
    return code;
}
