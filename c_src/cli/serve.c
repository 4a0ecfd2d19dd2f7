/* serve.c: `beamprobe serve`: probe targets in the background and answer health routes over HTTP(S). */
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/serve_int.h"
#include "cli/ssl_lazy.h"
#include "core/clock.h"
#include "core/config_file.h"
#include "core/log.h"
#include "core/str.h"
#include "discover/targets.h"

/* descriptors per target: its monitor's eventfd, name slot and connection, EPMD and a resolver's while connecting */
#define FDS_PER_TARGET 5
#define FDS_SPARE 64

typedef bp__serve app;

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
           "A discovery source that fails is asked again in the background (1 s, 2 s, ... up\n"
           "to 30 s apart): until it answers once, readiness is 503 naming it; later failures\n"
           "keep the nodes it gave before. Every --rediscover the sources are asked again and\n"
           "nodes added or gone are probed or dropped.\n"
           "SIGTERM stops gracefully (exit 0); SIGHUP reloads --config (and discovers again),\n"
           "keeping the old settings if the new ones are invalid.\n",
           BP_LIST_MAX, BP_TARGETS_MAX);
    bp_config_print_help(stdout, BP_SUB_SERVE);
    printf("\nCookie: from --cookie-file, else $BEAMPROBE_COOKIE, else ~/.erlang.cookie.\n"
           "\nExit codes: 0 after SIGTERM/SIGINT, 1 usage or configuration error (including\n"
           "an unusable certificate or key, a listen address that cannot be bound, a bad\n"
           "discovery option or more than %d targets; not a discovery source that does not answer).\n",
           BP_TARGETS_MAX);
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
 * The configuration from defaults, then --config FILE, then argv (the
 * discovery sources are asked afterwards: bp__serve_ask). 0 or BP_EUSAGE with err.
 */
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
    if (c->top > 0) { /* argv refuses --top; a --config file takes any key of the table */
        snprintf(err, errlen, "\"top\" in --config is for 'beamprobe check' alone: serve's probes never wait a window");
        return BP_EUSAGE;
    }
    if (c->nodes.n == 0 && !bp_targets_discovered(c)) {
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

/* Whether two lists hold the same entries in the same order. */
static int same_list(const bp_namelist *a, const bp_namelist *b)
{
    return bp_names_equal((const char (*)[BP_NAME_MAX])a->v, a->n, (const char (*)[BP_NAME_MAX])b->v, b->n);
}

/* Whether c's notification settings differ from the running ones (those change only on restart). */
static int notify_changed(const bp_config *c, const bp_config *run)
{
    return !same_list(&c->alertmanagers, &run->alertmanagers) || !same_list(&c->notify_webhooks, &run->notify_webhooks)
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

int bp__serve_apply(app *a, const bp_config *c, const bp_nodeset *targets, const char *event)
{
    bp_discovery_status st;
    bp_sources_status(&a->sources, &st);
    fit_fd_limit(c, targets->n, event);
    stop_monitors(a);
    bp_site *site = bp_site_new_from(c, (const char (*)[BP_NAME_MAX])targets->v, targets->n,
                                     c->auth_token_file[0] ? a->token : NULL, a->site);
    if (!site || bp_site_set_discovery(site, &st) != 0) {
        bp_site_free(site);
        bp_log(event, NULL, "out of memory: kept the running configuration");
        start_monitors(a);
        return -1;
    }
    bp_site_set_notifier(site, a->notifier);
    pthread_rwlock_wrlock(&a->lock);
    bp_site *old = a->site;
    a->site = site;
    pthread_rwlock_unlock(&a->lock);
    size_t added = 0, removed = 0;
    for (size_t i = 0; i < targets->n; i++)
        added += !bp_nodeset_has(bp_site_targets(old), targets->v[i]);
    for (size_t i = 0; i < bp_site_targets(old)->n; i++)
        removed += !bp_nodeset_has(targets, bp_site_targets(old)->v[i]);
    forget_removed(a->notifier, bp_site_targets(old), bp_site_targets(site));
    bp_site_free(old);
    if (c != &a->cfg)
        a->cfg = *c;
    if (start_monitors(a) != 0) {
        bp_log(event, NULL, "out of memory starting the probes");
        return -1;
    }
    if (strcmp(event, "reload") != 0)
        bp_log(event, NULL, "targets changed: %zu target(s), %zu added, %zu removed", targets->n, added, removed);
    return 0;
}

/* SIGHUP: re-read everything and ask every source again; on a configuration error keep running as before. */
static void reload(app *a)
{
    char err[512], token[BP_TOKEN_MAX + 1] = "", cookie[BP_COOKIE_MAX + 1];
    bp_nodeset targets = { 0 };
    bp_sources fresh;
    bp_config *c = calloc(1, sizeof *c);
    if (!c)
        return;
    if (load_config(c, a->argc, a->argv, err, sizeof err) != 0
        || bp_cookie_load(c->cookie_file, cookie, sizeof cookie, err, sizeof err) != 0
        || (c->auth_token_file[0] && bp_token_file_load(c->auth_token_file, token, sizeof token, err, sizeof err) != 0)) {
        bp_log("reload", NULL, "kept the running configuration: %s", err);
        free(c);
        return;
    }
    pthread_mutex_lock(&a->disc_mu);
    bp_sources_init(&fresh, c, &a->sources); /* a source left alone keeps its nodes when it fails now */
    bp__serve_ask(c, &fresh, 1, 0, err, sizeof err);
    if (bp_sources_merge(&c->nodes, &fresh, &targets, err, sizeof err) != 0) {
        bp_log("reload", NULL, "kept the running configuration: %s", err);
        bp_sources_free(&fresh);
        goto out;
    }
    if (strcmp(c->listen, a->cfg.listen) != 0 || strcmp(c->tls_cert, a->cfg.tls_cert) != 0
        || strcmp(c->tls_key, a->cfg.tls_key) != 0 || strcmp(c->tls_client_ca, a->cfg.tls_client_ca) != 0)
        bp_log("reload", NULL, "listen address and TLS settings change only on restart");
    if (notify_changed(c, &a->cfg))
        bp_log("reload", NULL, "notification settings change only on restart");
    bp_sources old = a->sources;
    a->sources = fresh;
    char kept[BP_TOKEN_MAX + 1];
    memcpy(kept, a->token, sizeof kept);
    bp_strlcpy(a->token, token, sizeof a->token);
    if (bp__serve_apply(a, c, &targets, "reload") != 0) {
        a->sources = old; /* the running site still shows the old sources */
        memcpy(a->token, kept, sizeof kept);
        bp_sources_free(&fresh);
        explicit_bzero(kept, sizeof kept);
        goto out;
    }
    explicit_bzero(kept, sizeof kept);
    bp_sources_free(&old);
    bp_strlcpy(a->cookie, cookie, sizeof a->cookie);
    bp_log_set_json(strcmp(a->cfg.log_format, "json") == 0);
    bp_log("reload", NULL, "configuration reloaded: %zu target(s), interval %d ms", bp_site_targets(a->site)->n,
           a->cfg.interval_ms);
    if (!a->have_disc_thread && bp__serve_discovery_start(a) != 0)
        bp_log("reload", NULL, "cannot start the discovery thread: the sources are asked on SIGHUP only");
    bp__serve_discovery_poke(a);
out:
    pthread_mutex_unlock(&a->disc_mu);
    bp_nodeset_free(&targets);
    explicit_bzero(cookie, sizeof cookie);
    explicit_bzero(token, sizeof token);
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
            int was;
            pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &was); /* never cancelled holding disc_mu */
            reload(a);
            pthread_setcancelstate(was, NULL);
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

/* The condition variable of the discovery thread, on the monotonic clock. 0 or -1. */
static int disc_init(app *a)
{
    pthread_mutex_init(&a->disc_mu, NULL);
    return bp_cond_init_monotonic(&a->disc_wake) == 0 ? 0 : -1;
}

/*
 * glibc gives each thread that allocates an arena of its own, up to 8 per core, and keeps each
 * one's high-water mark: serve's probe threads, started afresh at every reload, grew RSS in
 * steps to 13.8 MiB in the 1-hour soak, against 9.6-10.9 MiB with two arenas
 * (docs/RELIABILITY.md, "The arena check"). The threads allocate little and rarely at once.
 * MALLOC_ARENA_MAX in the environment wins.
 */
#define SERVE_MALLOC_ARENAS 2

static void limit_malloc_arenas(void)
{
#ifdef M_ARENA_MAX
    if (!getenv("MALLOC_ARENA_MAX"))
        (void)mallopt(M_ARENA_MAX, SERVE_MALLOC_ARENAS);
#endif
}

int bp_cli_serve(int argc, char **argv)
{
    char err[512];
    bp_nodeset targets = { 0 };
    int code = BP_EXIT_USAGE, have_signals = 0;
    pthread_t sig_thread;
    if (wants_help(argc, argv)) {
        serve_help();
        return 0;
    }
    limit_malloc_arenas();
    app *a = calloc(1, sizeof *a);
    if (!a || disc_init(a) != 0) {
        fprintf(stderr, "beamprobe serve: out of memory\n");
        free(a);
        return BP_EXIT_USAGE;
    }
    a->argc = argc;
    a->argv = argv;
    pthread_rwlock_init(&a->lock, NULL);
    if (load_config(&a->cfg, argc, argv, err, sizeof err) != 0
        || bp_cookie_load(a->cfg.cookie_file, a->cookie, sizeof a->cookie, err, sizeof err) != 0
        || (a->cfg.auth_token_file[0] && bp_token_file_load(a->cfg.auth_token_file, a->token, sizeof a->token, err, sizeof err) != 0)) {
        fprintf(stderr, "beamprobe serve: %s\n", err);
        goto out;
    }
    /* OpenSSL now, before anything is answered: the page's hashes, tokens and TLS need it, and a
     * daemon must not exit at their first use (cli/ssl_lazy.c) */
    if (bp_ssl_require("serve", err, sizeof err) != 0) {
        fprintf(stderr, "beamprobe serve: %s\n", err);
        goto out;
    }
    bp_log_set_json(strcmp(a->cfg.log_format, "json") == 0);
    /* every source once, before listening: a configuration error exits now, a source that does not answer is retried */
    bp_sources_init(&a->sources, &a->cfg, NULL);
    if (bp__serve_ask(&a->cfg, &a->sources, 1, 1, err, sizeof err) < 0
        || bp_sources_merge(&a->cfg.nodes, &a->sources, &targets, err, sizeof err) != 0) {
        fprintf(stderr, "beamprobe serve: %s\n", err);
        goto out;
    }

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
                          a->cfg.auth_token_file[0] ? a->token : NULL);
    bp_nodeset_free(&targets); /* the site has its own copy */
    bp_discovery_status st;
    bp_sources_status(&a->sources, &st);
    if (!a->site || bp_site_set_discovery(a->site, &st) != 0) {
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
    if (bp__serve_discovery_start(a) != 0) {
        fprintf(stderr, "beamprobe serve: cannot start threads\n");
        goto out;
    }
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
    bp__serve_discovery_stop(a); /* before the site and the probes it replaces go */
    stop_monitors(a);
    bp_http_free(a->http);
    bp_site_free(a->site);
    bp_notifier_stop(a->notifier); /* after the site: nothing publishes to it any more */
    bp_nodeset_free(&targets); /* when the configuration was refused */
    pthread_rwlock_destroy(&a->lock);
    bp_sources_free(&a->sources);
    pthread_cond_destroy(&a->disc_wake);
    pthread_mutex_destroy(&a->disc_mu);
    explicit_bzero(a->cookie, sizeof a->cookie);
    explicit_bzero(a->token, sizeof a->token);
    free(a);
    return code;
}
