/* test_config.c: cmocka tests of the configuration model: defaults, argv, bp_config_set, validation, parsers, --help. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "beamprobe.h"
#include "core/config.h"

#define ERRLEN 512

/* ---- helpers ----------------------------------------------------------- */

static int setup(void **state)
{
    bp_config *c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    bp_config_defaults(c);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static bp_config *new_config(void)
{
    bp_config *c = calloc(1, sizeof *c);
    assert_non_null(c);
    bp_config_defaults(c);
    return c;
}

/* Run the argv parser on a NULL-terminated list (argv[0] "check" is added). */
static int parse(bp_config *c, unsigned mask, const char *const *args, char *err)
{
    char *argv[256];
    int argc = 0, rc;

    argv[argc++] = strdup("check");
    for (size_t i = 0; args[i]; i++) {
        assert_true(argc < 255);
        argv[argc++] = strdup(args[i]);
    }
    argv[argc] = NULL;
    err[0] = '\0';
    rc = bp_config_parse_argv(c, mask, argc, argv, err, ERRLEN);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return rc;
}

#define PARSE_OK(c, ...)                                                          \
    do {                                                                          \
        const char *a_[] = { __VA_ARGS__, NULL };                                 \
        char e_[ERRLEN];                                                          \
        int rc_ = parse((c), BP_SUB_CHECK, a_, e_);                               \
        if (rc_ != 0)                                                             \
            fail_msg("unexpected error: %s", e_);                                 \
    } while (0)

/* Expect BP_EUSAGE; the message must contain `want` (if not NULL). */
static void expect_fail(unsigned mask, const char *const *args, const char *want, char *err)
{
    bp_config *c = new_config();
    int rc = parse(c, mask, args, err);

    if (rc != BP_EUSAGE)
        fail_msg("accepted (rc %d): %s", rc, args[0]);
    if (want && !strstr(err, want))
        fail_msg("message '%s' lacks '%s'", err, want);
    free(c);
}

#define FAILS(want, ...)                                                          \
    do {                                                                          \
        const char *a_[] = { __VA_ARGS__, NULL };                                 \
        char e_[ERRLEN];                                                          \
        expect_fail(BP_SUB_CHECK, a_, (want), e_);                                \
    } while (0)

/* bp_config_set must fail, name `want` in its message, and leave c unchanged. */
static void set_fails(const char *name, const char *value, const char *want)
{
    bp_config *c = new_config();
    bp_config *before = new_config();
    char err[ERRLEN] = "";

    if (bp_config_set(c, name, value, err, sizeof err) != BP_EUSAGE)
        fail_msg("--%s '%s' was accepted", name, value ? value : "(null)");
    if (want && !strstr(err, want))
        fail_msg("message '%s' lacks '%s'", err, want);
    assert_memory_equal(c, before, sizeof *c);
    free(c);
    free(before);
}

static void set_ok(bp_config *c, const char *name, const char *value)
{
    char err[ERRLEN] = "";
    if (bp_config_set(c, name, value, err, sizeof err) != 0)
        fail_msg("--%s '%s' refused: %s", name, value ? value : "(null)", err);
}

static void validate_ok(const bp_config *c)
{
    char err[ERRLEN] = "";
    if (bp_config_validate(c, err, sizeof err) != 0)
        fail_msg("validate failed: %s", err);
}

static void validate_fails(const bp_config *c, const char *want)
{
    char err[ERRLEN] = "";
    assert_int_equal(bp_config_validate(c, err, sizeof err), BP_EUSAGE);
    if (want && !strstr(err, want))
        fail_msg("message '%s' lacks '%s'", err, want);
}

/* ---- defaults ---------------------------------------------------------- */

static void test_defaults(void **state)
{
    const bp_config *c = *state;

    assert_int_equal(c->nodes.n, 0);
    assert_string_equal(c->cookie_file, "");
    assert_string_equal(c->cnode_name, "beamprobe");
    assert_int_equal(c->cnode_pool, 4);
    assert_string_equal(c->cnode_host, "");
    assert_int_equal(c->timeout_ms, 1000);
    assert_int_equal(c->governor_timeout_ms, 200);
    assert_int_equal(c->max_reply_bytes, 1048576);
    assert_int_equal(c->supervisor_depth, 3);
    assert_int_equal(c->probe, BP_PROBE_READY);
    assert_int_equal(c->expect_peers.n, 0);
    assert_int_equal(c->expect_size, -1);
    assert_int_equal(c->memory_limit, 0);
    assert_int_equal(c->require_apps.n, 0);
    assert_int_equal(c->supervisors.n, 0);
    assert_int_equal(c->governors.n, 0);
    assert_int_equal(c->governor_fail_states.n, 1);
    assert_string_equal(c->governor_fail_states.v[0], "refusing");
    assert_int_equal(c->governor_warn_states.n, 2);
    assert_string_equal(c->governor_warn_states.v[0], "degraded");
    assert_string_equal(c->governor_warn_states.v[1], "intervening");
    assert_int_equal(c->check_mfas.n, 0);
    const bp_ratio *r[] = { &c->thresholds.memory, &c->thresholds.processes, &c->thresholds.ports,
                            &c->thresholds.atoms, &c->thresholds.ets };
    for (size_t i = 0; i < 5; i++) {
        assert_float_equal(r[i]->warn, 0.8, 1e-12);
        assert_float_equal(r[i]->fail, 0.9, 1e-12);
    }
    assert_float_equal(c->thresholds.run_queue_warn, 10.0, 1e-12);
    assert_float_equal(c->thresholds.run_queue_fail, 50.0, 1e-12);
    assert_int_equal(c->json, 0);
    assert_int_equal(c->strict, 0);
    assert_string_equal(c->k8s_cluster_domain, "cluster.local");
    assert_string_equal(c->k8s_names, "auto");
    assert_string_equal(c->k8s_source, "auto");
    assert_int_equal(c->rediscover_ms, 30000);
    assert_int_equal(c->given[0] | c->given[1], 0);
    validate_ok(c);
}

/* Every default in the table is accepted by its own setter (no silent drift). */
static void test_table_defaults_parse(void **state)
{
    size_t n;
    const bp_config_option *t = bp_config_options(&n);
    (void)state;

    assert_true(n > 0 && n <= 8 * sizeof(((bp_config *)0)->given)); /* one bit of `given` each */
    for (size_t i = 0; i < n; i++) {
        bp_config *c = new_config();
        assert_non_null(t[i].name);
        assert_non_null(t[i].help);
        assert_non_null(t[i].group);
        if (t[i].kind != BP_OPT_SWITCH)
            assert_non_null(t[i].metavar);
        assert_ptr_equal(bp_config_option_find(t[i].name), &t[i]);
        for (size_t j = 0; j < i; j++) {
            assert_string_not_equal(t[i].name, t[j].name);
            if (t[i].short_name)
                assert_int_not_equal(t[i].short_name, t[j].short_name);
        }
        if (t[i].def) {
            bp_config *fresh = new_config();
            set_ok(c, t[i].name, t[i].def);
            memset(c->given, 0, sizeof c->given);
            assert_memory_equal(c, fresh, sizeof *c);
            free(fresh);
        }
        free(c);
    }
}

static void test_defaults_null(void **state)
{
    (void)state;
    bp_config_defaults(NULL); /* must not crash */
    assert_int_equal(bp_config_validate(NULL, NULL, 0), BP_EUSAGE);
}

/* ---- every option, both spellings -------------------------------------- */

typedef struct {
    const char *name;
    const char *value; /* NULL for switches */
} sample;

static const sample samples[] = {
    { "node", "app@host1" },
    { "cookie-file", "/run/secrets/cookie" },
    { "dist-tls", NULL },
    { "tls-cafile", "/etc/dist/ca.pem" },
    { "tls-certfile", "/etc/dist/client.pem" },
    { "tls-keyfile", "/etc/dist/client.key" },
    { "tls-verify", "none" },
    { "tls-server-name", "node.example" },
    { "inet6", NULL },
    { "cnode-name", "probe_x" },
    { "cnode-pool", "8" },
    { "cnode-host", "probe.example.com" },
    { "timeout", "2500ms" },
    { "governor-timeout", "300ms" },
    { "max-reply", "4MiB" },
    { "supervisor-depth", "5" },
    { "top", "7" },
    { "top-window", "40ms" },
    { "plan", "multi-round" },
    { "probe", "live" },
    { "expect-peers", "b@h,c@h" },
    { "expect-size", "3" },
    { "memory-limit", "2GiB" },
    { "require-app", "kernel,stdlib" },
    { "supervisor", "demo_sup" },
    { "governor", "demo_governor" },
    { "governor-fail-states", "broken,refusing" },
    { "governor-warn-states", "slow" },
    { "check-mfa", "demo:health" },
    { "memory-warn", "0.7" },
    { "memory-fail", "95%" },
    { "process-warn", "0.5" },
    { "process-fail", "0.6" },
    { "port-warn", "0.5" },
    { "port-fail", "0.6" },
    { "atom-warn", "0.5" },
    { "atom-fail", "0.6" },
    { "ets-warn", "0.5" },
    { "ets-fail", "0.6" },
    { "fd-warn", "0.5" },
    { "fd-fail", "0.6" },
    { "run-queue-warn", "2.5" },
    { "run-queue-fail", "20" },
    { "json", NULL },
    { "strict", NULL },
    { "supervisor-strict", NULL },
    { "mnesia", NULL },
    { "history-size", "64" },
    { "peer-series-max", "32" },
    { "governors-under", "tenant_sup" },
    { "governor-state-field", "mode" },
    { "config", "/etc/beamprobe.json" },
    { "listen", "127.0.0.1:9090" },
    { "interval", "5s" },
    { "max-age", "20s" },
    { "max-connections", "64" },
    { "idle-timeout", "10s" },
    { "header-timeout", "3s" },
    { "tls-cert", "/etc/tls/cert.pem" },
    { "tls-key", "/etc/tls/key.pem" },
    { "tls-client-ca", "/etc/tls/ca.pem" },
    { "auth-token-file", "/run/secrets/token" },
    { "log-format", "json" },
    { "format", "svg" },
    { "access-log", NULL },
    { "nodes", "x@h,y@h" },
    { "expect-nodes", "x@h,y@h,z@h" },
    { "wait", "30s" },
    { "allow-degraded", NULL },
    { "ready-requires-quorum", NULL },
    { "epmd-host", "db1" },
    { "dns", "app-headless.default.svc" },
    { "node-basename", "app" },
    { "dns-by-hostname", NULL },
    { "dns-server", "10.96.0.10:53" },
    { "k8s-endpoints", "default/app" },
    { "k8s-api", "https://127.0.0.1:6443" },
    { "k8s-token-file", "/var/run/token" },
    { "k8s-ca-file", "/var/run/ca.crt" },
    { "k8s-cluster-domain", "k8s.example.org" },
    { "k8s-names", "ip" },
    { "k8s-source", "endpoints" },
    { "rediscover", "2m" },
    { "alertmanager", "http://am1:9093,https://am2.example:9093/prefix" },
    { "alertmanager-ca-file", "/etc/am/ca.pem" },
    { "alertmanager-token-file", "/run/secrets/am-token" },
    { "alert-resend-interval", "1m" },
    { "external-url", "https://probe.example:8080" },
    { "notify-webhook", "http://hooks.example/beamprobe" },
    { "notify-secret-file", "/run/secrets/hook-key" },
    { "notify-queue-size", "64" },
};

static const sample *find_sample(const char *name)
{
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
        if (strcmp(samples[i].name, name) == 0)
            return &samples[i];
    return NULL;
}

static void test_every_option_both_forms(void **state)
{
    size_t n;
    const bp_config_option *t = bp_config_options(&n);
    (void)state;

    for (size_t i = 0; i < n; i++) {
        const sample *s = find_sample(t[i].name);
        char flag[128], joined[256], err[ERRLEN];

        if (t[i].kind == BP_OPT_REFUSED)
            continue;
        if (!s) {
            fail_msg("no test sample for option --%s", t[i].name);
            return;
        }

        bp_config *a = new_config(), *b = new_config(), *d = new_config(), *def = new_config();
        snprintf(flag, sizeof flag, "--%s", s->name);
        if (s->value) {
            const char *sep[] = { flag, s->value, NULL };
            snprintf(joined, sizeof joined, "--%s=%s", s->name, s->value);
            const char *eq[] = { joined, NULL };
            if (parse(a, t[i].subcommands, sep, err) != 0)
                fail_msg("%s %s: %s", flag, s->value, err);
            if (parse(b, t[i].subcommands, eq, err) != 0)
                fail_msg("%s: %s", joined, err);
            assert_int_equal(bp_config_option_arity(s->name), 1);
        } else {
            const char *sw[] = { flag, NULL };
            snprintf(joined, sizeof joined, "--%s=true", s->name);
            const char *eq[] = { joined, NULL };
            if (parse(a, t[i].subcommands, sw, err) != 0)
                fail_msg("%s: %s", flag, err);
            if (parse(b, t[i].subcommands, eq, err) != 0)
                fail_msg("%s: %s", joined, err);
            assert_int_equal(bp_config_option_arity(s->name), 0);
        }
        set_ok(d, s->name, s->value);
        assert_memory_equal(a, b, sizeof *a);
        assert_memory_equal(a, d, sizeof *a);
        assert_true(bp_config_is_given(a, s->name));
        memset(a->given, 0, sizeof a->given);
        if (memcmp(a, def, sizeof *a) == 0)
            fail_msg("--%s %s did not change the configuration", s->name, s->value ? s->value : "");
        free(a);
        free(b);
        free(d);
        free(def);
    }
}

/* The stored values of every option after one command line. */
static void test_every_option_values(void **state)
{
    bp_config *c = *state;
    char err[ERRLEN];
    const char *args[2 * (sizeof samples / sizeof samples[0]) + 1];
    size_t k = 0;
    char flags[sizeof samples / sizeof samples[0]][64];

    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        snprintf(flags[i], sizeof flags[i], "--%s", samples[i].name);
        args[k++] = flags[i];
        if (samples[i].value)
            args[k++] = samples[i].value;
    }
    args[k] = NULL;
    if (parse(c, BP_SUB_ALL, args, err) != 0)
        fail_msg("%s", err);

    assert_int_equal(c->nodes.n, 3); /* --node and --nodes fill the same list */
    assert_string_equal(c->nodes.v[0], "app@host1");
    assert_string_equal(c->nodes.v[2], "y@h");
    assert_int_equal(c->expect_nodes.n, 3);
    assert_int_equal(c->wait_ms, 30000);
    assert_int_equal(c->allow_degraded, 1);
    assert_int_equal(c->ready_requires_quorum, 1);
    assert_string_equal(c->epmd_host, "db1");
    assert_string_equal(c->dns_name, "app-headless.default.svc");
    assert_string_equal(c->node_basename, "app");
    assert_int_equal(c->dns_by_hostname, 1);
    assert_string_equal(c->dns_server, "10.96.0.10:53");
    assert_string_equal(c->k8s_endpoints, "default/app");
    assert_string_equal(c->k8s_api, "https://127.0.0.1:6443");
    assert_string_equal(c->k8s_token_file, "/var/run/token");
    assert_string_equal(c->k8s_ca_file, "/var/run/ca.crt");
    assert_string_equal(c->k8s_cluster_domain, "k8s.example.org");
    assert_string_equal(c->k8s_names, "ip");
    assert_string_equal(c->k8s_source, "endpoints");
    assert_int_equal(c->rediscover_ms, 120000);
    assert_string_equal(c->cookie_file, "/run/secrets/cookie");
    assert_string_equal(c->cnode_name, "probe_x");
    assert_int_equal(c->cnode_pool, 8);
    assert_string_equal(c->cnode_host, "probe.example.com");
    assert_int_equal(c->timeout_ms, 2500);
    assert_int_equal(c->governor_timeout_ms, 300);
    assert_int_equal(c->max_reply_bytes, 4 * 1048576);
    assert_int_equal(c->supervisor_depth, 5);
    assert_int_equal(c->probe, BP_PROBE_LIVE);
    assert_int_equal(c->expect_peers.n, 2);
    assert_string_equal(c->expect_peers.v[0], "b@h");
    assert_string_equal(c->expect_peers.v[1], "c@h");
    assert_int_equal(c->expect_size, 3);
    assert_int_equal(c->memory_limit, (int64_t)2 << 30);
    assert_int_equal(c->require_apps.n, 2);
    assert_string_equal(c->require_apps.v[0], "kernel");
    assert_string_equal(c->require_apps.v[1], "stdlib");
    assert_int_equal(c->supervisors.n, 1);
    assert_string_equal(c->supervisors.v[0], "demo_sup");
    assert_int_equal(c->governors.n, 1);
    assert_string_equal(c->governors.v[0], "demo_governor");
    assert_int_equal(c->governor_fail_states.n, 2); /* default replaced */
    assert_string_equal(c->governor_fail_states.v[0], "broken");
    assert_string_equal(c->governor_fail_states.v[1], "refusing");
    assert_int_equal(c->governor_warn_states.n, 1);
    assert_string_equal(c->governor_warn_states.v[0], "slow");
    assert_int_equal(c->check_mfas.n, 1);
    assert_string_equal(c->check_mfas.v[0], "demo:health");
    assert_float_equal(c->thresholds.memory.warn, 0.7, 1e-12);
    assert_float_equal(c->thresholds.memory.fail, 0.95, 1e-12);
    assert_float_equal(c->thresholds.processes.warn, 0.5, 1e-12);
    assert_float_equal(c->thresholds.processes.fail, 0.6, 1e-12);
    assert_float_equal(c->thresholds.ports.warn, 0.5, 1e-12);
    assert_float_equal(c->thresholds.ports.fail, 0.6, 1e-12);
    assert_float_equal(c->thresholds.atoms.warn, 0.5, 1e-12);
    assert_float_equal(c->thresholds.atoms.fail, 0.6, 1e-12);
    assert_float_equal(c->thresholds.ets.warn, 0.5, 1e-12);
    assert_float_equal(c->thresholds.ets.fail, 0.6, 1e-12);
    assert_float_equal(c->thresholds.fds.warn, 0.5, 1e-12);
    assert_float_equal(c->thresholds.fds.fail, 0.6, 1e-12);
    assert_float_equal(c->thresholds.run_queue_warn, 2.5, 1e-12);
    assert_float_equal(c->thresholds.run_queue_fail, 20.0, 1e-12);
    assert_int_equal(c->json, 1);
    assert_int_equal(c->strict, 1);
    assert_string_equal(c->config_file, "/etc/beamprobe.json");
    assert_string_equal(c->listen, "127.0.0.1:9090");
    assert_int_equal(c->interval_ms, 5000);
    assert_int_equal(c->max_age_ms, 20000);
    assert_int_equal(c->max_connections, 64);
    assert_int_equal(c->idle_timeout_ms, 10000);
    assert_int_equal(c->header_timeout_ms, 3000);
    assert_string_equal(c->tls_cert, "/etc/tls/cert.pem");
    assert_string_equal(c->tls_key, "/etc/tls/key.pem");
    assert_string_equal(c->tls_client_ca, "/etc/tls/ca.pem");
    assert_string_equal(c->auth_token_file, "/run/secrets/token");
    assert_int_equal(c->alertmanagers.n, 2);
    assert_string_equal(c->alertmanagers.v[1], "https://am2.example:9093/prefix");
    assert_string_equal(c->alertmanager_ca_file, "/etc/am/ca.pem");
    assert_string_equal(c->alertmanager_token_file, "/run/secrets/am-token");
    assert_int_equal(c->alert_resend_interval_ms, 60000);
    assert_string_equal(c->external_url, "https://probe.example:8080");
    assert_int_equal(c->notify_webhooks.n, 1);
    assert_string_equal(c->notify_webhooks.v[0], "http://hooks.example/beamprobe");
    assert_string_equal(c->notify_secret_file, "/run/secrets/hook-key");
    assert_int_equal(c->notify_queue_size, 64);
    assert_string_equal(c->log_format, "json");
    assert_int_equal(c->access_log, 1);
    validate_ok(c);
}

static void test_probe_kinds(void **state)
{
    bp_config *c = *state;
    set_ok(c, "probe", "startup");
    assert_int_equal(c->probe, BP_PROBE_STARTUP);
    set_ok(c, "probe", "ready");
    assert_int_equal(c->probe, BP_PROBE_READY);
    set_ok(c, "probe", "live");
    assert_int_equal(c->probe, BP_PROBE_LIVE);
    set_fails("probe", "liveness", "expected live, ready or startup");
    set_fails("probe", "", "'' for --probe");
    set_fails("probe", NULL, "requires a value");
}

/* ---- short options, switches, positionals ------------------------------ */

static void test_short_options(void **state)
{
    bp_config *c = *state;

    PARSE_OK(c, "-n", "a@h", "-nb@h", "-n=c@h", "-t", "2s", "-j");
    assert_int_equal(c->nodes.n, 3);
    assert_string_equal(c->nodes.v[0], "a@h");
    assert_string_equal(c->nodes.v[1], "b@h");
    assert_string_equal(c->nodes.v[2], "c@h");
    assert_int_equal(c->timeout_ms, 2000);
    assert_int_equal(c->json, 1);

    PARSE_OK(c, "-t1500ms", "-jn", "d@h");
    assert_int_equal(c->timeout_ms, 1500);
    assert_int_equal(c->nodes.n, 4);
    assert_string_equal(c->nodes.v[3], "d@h");
}

static void test_short_errors(void **state)
{
    char err[ERRLEN];
    (void)state;

    FAILS("unknown option '-x' (see 'beamprobe check --help')", "-x");
    FAILS("unknown option '-x'", "-jx");
    FAILS("-t/--timeout requires a DURATION value", "-t");
    FAILS("-n/--node requires a NODE value", "-n", "-j");
    FAILS("invalid value 'soon' for -t/--timeout", "-tsoon");
    FAILS("long options take two dashes (--json)", "-json");
    FAILS("long options take two dashes (--timeout)", "-timeout=1s");
    const char *args[] = { "-j", NULL };
    expect_fail(BP_SUB_SERVE, args, "option -j/--json does not apply to 'beamprobe serve'", err);
}

static void test_switch_values(void **state)
{
    bp_config *c = *state;

    PARSE_OK(c, "--json=yes", "--strict=on");
    assert_int_equal(c->json + c->strict, 2);
    PARSE_OK(c, "--json=false", "--strict=OFF");
    assert_int_equal(c->json + c->strict, 0);
    set_ok(c, "json", "true");
    assert_int_equal(c->json, 1);
    set_ok(c, "strict", NULL);
    assert_int_equal(c->strict, 1);
    set_fails("json", "maybe", "invalid value 'maybe' for --json: expected true or false");
    FAILS("invalid value '' for --json", "--json=");
    set_fails("alertmanager", "am1:9093", "expected an http:// or https:// URL");
    set_fails("notify-webhook", "http:///path", "the URL has no host");
    set_fails("external-url", "http://a b", "blanks");
    set_fails("alert-resend-interval", "500ms", "--alert-resend-interval");
}

static void test_positional_and_terminator(void **state)
{
    bp_config *c = *state;
    char err[ERRLEN];

    PARSE_OK(c, "a@h", "--json", "b@h,c@h", "--", "-odd@h");
    assert_int_equal(c->json, 1);
    assert_int_equal(c->nodes.n, 4);
    assert_string_equal(c->nodes.v[0], "a@h");
    assert_string_equal(c->nodes.v[1], "b@h");
    assert_string_equal(c->nodes.v[2], "c@h");
    assert_string_equal(c->nodes.v[3], "-odd@h");

    /* after "--" even option-like words are targets */
    FAILS("invalid value '--json' for target node", "--", "--json");
    FAILS("for target node: expected a node name like alive@host", "not/a/node");
    FAILS("invalid value '-' for target node", "-");

    /* argc 1, argv with only the subcommand: nothing to do */
    const char *none[] = { NULL };
    bp_config *d = new_config(), *fresh = new_config();
    assert_int_equal(parse(d, BP_SUB_CHECK, none, err), 0);
    assert_memory_equal(d, fresh, sizeof *d);
    free(d);
    free(fresh);
    assert_int_equal(bp_config_parse_argv(c, BP_SUB_CHECK, 0, NULL, err, sizeof err), 0);
}

static void test_value_starting_with_dash(void **state)
{
    bp_config *c = *state;

    PARSE_OK(c, "--cookie-file=-odd", "--cnode-host", "h.example");
    assert_string_equal(c->cookie_file, "-odd");
    assert_string_equal(c->cnode_host, "h.example");
    FAILS("option --cookie-file requires a FILE value", "--cookie-file", "-odd");
}

/* ---- lists ------------------------------------------------------------- */

static void test_lists_repeat_comma_dedupe(void **state)
{
    bp_config *c = *state;

    PARSE_OK(c, "--node", "a@h, b@h", "--node=c@h", "--node", "a@h", "-n", "b@h,d@h");
    assert_int_equal(c->nodes.n, 4);
    assert_string_equal(c->nodes.v[0], "a@h");
    assert_string_equal(c->nodes.v[1], "b@h");
    assert_string_equal(c->nodes.v[2], "c@h");
    assert_string_equal(c->nodes.v[3], "d@h");

    PARSE_OK(c, "--require-app", "kernel", "--require-app=ssl,crypto", "--supervisor", "a_sup",
             "--supervisor", "Elixir.MyApp.Supervisor");
    assert_int_equal(c->require_apps.n, 3);
    assert_string_equal(c->require_apps.v[2], "crypto");
    assert_int_equal(c->supervisors.n, 2);
    assert_string_equal(c->supervisors.v[1], "Elixir.MyApp.Supervisor");

    FAILS("empty entry in 'a@h,,b@h' for --node", "--node", "a@h,,b@h");
    FAILS("empty entry in 'a@h,' for --node", "--node", "a@h,");
    FAILS("empty entry in ' ' for --node", "--node", " ");
    FAILS("empty entry in '' for --require-app", "--require-app=");
    FAILS("invalid value 'ba d' for --require-app", "--require-app", "ok,ba d");
    FAILS("invalid value 'x-y' for --governor", "--governor", "x-y");
}

static void test_governor_states_replace_default(void **state)
{
    bp_config *c = *state;

    PARSE_OK(c, "--governor-warn-states", "slow", "--governor-warn-states", "busy,slow");
    assert_int_equal(c->governor_warn_states.n, 2);
    assert_string_equal(c->governor_warn_states.v[0], "slow");
    assert_string_equal(c->governor_warn_states.v[1], "busy");
    /* untouched list keeps its default */
    assert_int_equal(c->governor_fail_states.n, 1);
    assert_string_equal(c->governor_fail_states.v[0], "refusing");
    PARSE_OK(c, "--governor-fail-states=dead");
    assert_int_equal(c->governor_fail_states.n, 1);
    assert_string_equal(c->governor_fail_states.v[0], "dead");
    validate_ok(c);

    /* a failed first use does not clobber the defaults */
    bp_config *d = new_config();
    char err[ERRLEN];
    assert_int_equal(bp_config_set(d, "governor-fail-states", "ok,bad state", err, sizeof err),
                     BP_EUSAGE);
    assert_int_equal(d->governor_fail_states.n, 1);
    assert_string_equal(d->governor_fail_states.v[0], "refusing");
    assert_false(bp_config_is_given(d, "governor-fail-states"));
    free(d);
}

static void test_list_overflow(void **state)
{
    bp_config *c = *state;
    char name[32], err[ERRLEN];

    for (int i = 0; i < BP_LIST_MAX; i++) {
        snprintf(name, sizeof name, "n%d@h", i);
        set_ok(c, "node", name);
    }
    assert_int_equal(c->nodes.n, BP_LIST_MAX);
    set_ok(c, "node", "n0@h"); /* a duplicate still fits */
    assert_int_equal(bp_config_set(c, "node", "extra@h", err, sizeof err), BP_EUSAGE);
    assert_non_null(strstr(err, "too many values for --node (max 64)"));
    assert_int_equal(c->nodes.n, BP_LIST_MAX);
    validate_ok(c);

    /* one comma list that overflows is refused as a whole */
    bp_config *d = new_config();
    char big[64 * 12 + 64];
    size_t off = 0;
    for (int i = 0; i <= BP_LIST_MAX; i++)
        off += (size_t)snprintf(big + off, sizeof big - off, "%sapp%d", i ? "," : "", i);
    assert_int_equal(bp_config_set(d, "require-app", big, err, sizeof err), BP_EUSAGE);
    assert_non_null(strstr(err, "too many values for --require-app"));
    assert_int_equal(d->require_apps.n, 0);
    free(d);

    /* the argv parser reports it too */
    bp_config *e = new_config();
    const char *args[] = { "--require-app", big, NULL };
    assert_int_equal(parse(e, BP_SUB_CHECK, args, err), BP_EUSAGE);
    assert_non_null(strstr(err, "too many values for --require-app (max 64)"));
    free(e);
}

static void test_too_long_values(void **state)
{
    char longname[BP_NAME_MAX + 8], longpath[1100], err[ERRLEN];
    (void)state;

    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    set_fails("require-app", longname, "is too long");
    set_fails("check-mfa", longname, "is too long");
    /* a node name of exactly 255 characters is fine, 256 is not */
    char node[300];
    memset(node, 'a', 253);
    memcpy(node + 253, "@h", 3);
    bp_config *c = new_config();
    set_ok(c, "node", node);
    validate_ok(c);
    free(c);
    memset(node, 'a', 254);
    memcpy(node + 254, "@h", 3);
    set_fails("node", node, "is too long");

    memset(longpath, '/', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = '\0';
    set_fails("cookie-file", longpath, "too long (1099 bytes, max 1023)");
    set_fails("cookie-file", longpath, "too long");
    set_fails("cnode-host", longname, "too long");
    char alive[65];
    memset(alive, 'p', 64);
    alive[64] = '\0';
    set_fails("cnode-name", alive, "too long (64 bytes, max 63)");
    alive[63] = '\0';
    c = new_config();
    set_ok(c, "cnode-name", alive);
    free(c);

    /* messages show at most a prefix of an absurd value */
    const char *args[] = { "--cookie-file", longpath, NULL };
    c = new_config();
    assert_int_equal(parse(c, BP_SUB_CHECK, args, err), BP_EUSAGE);
    assert_true(strlen(err) < 200);
    assert_non_null(strstr(err, "..."));
    free(c);
}

static void test_empty_string_values(void **state)
{
    (void)state;
    set_fails("cookie-file", "", "empty value for --cookie-file");
    set_fails("cnode-name", "", "empty value for --cnode-name");
    FAILS("empty value for --cnode-host", "--cnode-host=");
}

/* ---- names ------------------------------------------------------------- */

static void test_node_names(void **state)
{
    static const char *const good[] = {
        "a@h", "app_1@host", "my-app@host.example.com", "a@10.0.0.1", "A@H", "x@localhost",
        "a@::1", "app@fd00::5", /* IPv6 long names (-proto_dist inet6_tcp) */
    };
    static const struct {
        const char *v, *why;
    } bad[] = {
        { "a@b@c", "exactly one '@'" },
        { "@host", "before '@' is empty" },
        { "alive@", "after '@' is empty" },
        { "a b@h", "only letters, digits" },
        { "a.b@h", "only letters, digits" },
        { "a@h..x", "empty label" },
        { "a@.h", "begin or end with '.'" },
        { "a@h.", "begin or end with '.'" },
        { "a@h/x", "the host may contain" },
        { "a@::1::2", "the host may contain" },
        { "a@h:80", "the host may contain" },
    };
    bp_config *c = *state;

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        set_ok(c, "node", good[i]);
        set_ok(c, "expect-peers", good[i]);
    }
    validate_ok(c);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        set_fails("node", bad[i].v, bad[i].why);
        set_fails("expect-peers", bad[i].v, bad[i].why);
    }
    /* a bare alive name is a node on this host: a target, never an expectation */
    static const struct {
        const char *opt, *v, *why;
    } bare[] = {
        { "node", "app", NULL },
        { "nodes", "app,other_1", NULL },
        { "expect-peers", "foo", "like alive@host" },
        { "expect-nodes", "foo", "like alive@host" },
        { "node", "a.b", "or the alive name of a node on this host" },
        { "node", "-x", "or the alive name of a node on this host" },
        { "node", "", "" },
    };
    for (size_t i = 0; i < sizeof bare / sizeof bare[0]; i++) {
        if (bare[i].why)
            set_fails(bare[i].opt, bare[i].v, bare[i].why);
        else
            set_ok(c, bare[i].opt, bare[i].v);
    }
    validate_ok(c);
}

static void test_cnode_name_host(void **state)
{
    bp_config *c = *state;

    set_ok(c, "cnode-name", "probe-1_x");
    set_ok(c, "cnode-host", "10.1.2.3");
    validate_ok(c);
    set_fails("cnode-name", "probe@x", "invalid value 'probe@x' for --cnode-name");
    set_fails("cnode-name", "pro be", "only letters");
    set_fails("cnode-host", "a..b", "empty label");
    set_fails("cnode-host", "h/x", "may contain only");
}

static void test_check_mfa(void **state)
{
    static const char *const good[] = {
        "mod:fun", "demo:health", "Elixir.MyApp.Health:ready?", "m:f!", "m@x:f_1",
    };
    static const char *const bad[] = {
        "mod", "mod:", ":fun", "a:b:c", "mod:fu n", "mod:fun/0", "mod:fun()", "m?:f", "m:?",
    };
    bp_config *c = *state;

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        set_ok(c, "check-mfa", good[i]);
    assert_int_equal(c->check_mfas.n, sizeof good / sizeof good[0]);
    validate_ok(c);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        set_fails("check-mfa", bad[i], "for --check-mfa");
    set_fails("check-mfa", "mod", "expected module:function");
}

/* ---- unknown, misplaced, missing --------------------------------------- */

static void test_unknown_options(void **state)
{
    char err[ERRLEN];
    (void)state;

    FAILS("unknown option '--foo' (see 'beamprobe check --help')", "--foo");
    FAILS("unknown option '--tmeout' (see 'beamprobe check --help')", "--tmeout", "1s");
    FAILS("unknown option '---'", "---");
    /* the value of an unknown --x=value is never shown */
    const char *args[] = { "--password=hunter2", NULL };
    expect_fail(BP_SUB_CHECK, args, "unknown option '--password'", err);
    assert_null(strstr(err, "hunter2"));
    /* a mask with several subcommands points to the general help */
    const char *args2[] = { "--foo", NULL };
    expect_fail(BP_SUB_ALL, args2, "(see 'beamprobe --help')", err);
    expect_fail(BP_SUB_CLUSTER, args2, "(see 'beamprobe cluster --help')", err);
    /* bp_config_set */
    set_fails("foo", "1", "unknown option 'foo'");
    set_fails("", "1", "unknown option ''");
    bp_config *c = new_config();
    assert_int_equal(bp_config_set(c, NULL, "1", err, sizeof err), BP_EUSAGE);
    assert_int_equal(bp_config_set(NULL, "timeout", "1", err, sizeof err), BP_EUSAGE);
    free(c);
}

static void test_option_not_for_subcommand(void **state)
{
    char err[ERRLEN];
    (void)state;

    const char *probe[] = { "--probe", "live", NULL };
    expect_fail(BP_SUB_CLUSTER, probe,
                "option --probe does not apply to 'beamprobe cluster' (see 'beamprobe cluster --help')",
                err);
    const char *json[] = { "--json", NULL };
    expect_fail(BP_SUB_SERVE, json, "option --json does not apply to 'beamprobe serve'", err);
    const char *node[] = { "--node", "a@h", "--timeout=2s", NULL };
    bp_config *c = new_config();
    assert_int_equal(parse(c, BP_SUB_CLUSTER, node, err), 0);
    assert_int_equal(parse(c, BP_SUB_SERVE, node, err), 0);
    assert_int_equal(parse(c, 0, probe, err), 0); /* 0 = every subcommand */
    free(c);
}

static void test_missing_values(void **state)
{
    (void)state;
    FAILS("option --timeout requires a DURATION value", "--timeout");
    FAILS("option --node requires a NODE value", "--node", "--json");
    FAILS("option --node requires a NODE value", "--node", "-j");
    FAILS("option --max-reply requires a BYTES value", "--max-reply");
    FAILS("option --memory-warn requires a RATIO value", "--memory-warn");
    FAILS("option --probe requires a KIND value", "--probe");
    set_fails("timeout", NULL, "option --timeout requires a value");
    set_fails("node", NULL, "requires a value");
    /* a negative number is a bad value, not a missing one */
    FAILS("invalid value '-5' for --timeout: expected a duration", "--timeout", "-5");
    FAILS("invalid value '-1' for -t/--timeout", "-t", "-1");
    FAILS("invalid value '-5' for --max-reply", "--max-reply", "-5");
    FAILS("invalid value '-1' for --supervisor-depth", "--supervisor-depth", "-1");
}

/* --timeout 1ms alone: the derived governor timeout is no flag the user gave, so no complaint about one. */
static void test_tiny_timeout(void **state)
{
    (void)state;
    bp_config *c = new_config();
    char err[ERRLEN];
    const char *args[] = { "--timeout", "1ms", "a@h", NULL };
    assert_int_equal(parse(c, BP_SUB_CHECK, args, err), 0);
    bp_config_finish(c);
    assert_int_equal(bp_config_validate(c, err, sizeof err), 0);
    set_ok(c, "governor-timeout", "1ms");
    assert_int_equal(bp_config_validate(c, err, sizeof err), BP_EUSAGE);
    assert_non_null(strstr(err, "--governor-timeout (1ms) must be shorter than --timeout (1ms)"));
    free(c);
}

/* ---- numbers ----------------------------------------------------------- */

static void test_bad_numbers(void **state)
{
    static const struct {
        const char *name, *value, *want;
    } bad[] = {
        { "timeout", "abc", "expected a duration" },
        { "timeout", "-5", "expected a duration" },
        { "timeout", "1.5ms", "expected a duration" },
        { "timeout", "2 s", "expected a duration" },
        { "timeout", "99999999999999999999", "a duration needs a unit" },
        { "timeout", "5", "a duration needs a unit: 5ms, 5s, 1m" },
        { "timeout", "0", "must be between 1ms and 10m" },
        { "timeout", "11m", "must be between 1ms and 10m" },
        { "governor-timeout", "0ms", "must be between" },
        { "cnode-pool", "0", "must be between 1 and 64" },
        { "cnode-pool", "65", "must be between 1 and 64" },
        { "cnode-pool", "x", "expected a whole number" },
        { "cnode-pool", "4.5", "expected a whole number" },
        { "cnode-pool", "-1", "expected a whole number" },
        { "cnode-pool", "+4", "expected a whole number" },
        { "cnode-pool", "99999999999999999999", "expected a whole number" },
        { "supervisor-depth", "33", "must be between 0 and 32" },
        { "top", "51", "must be between 0 and 50" },
        { "top", "-1", "expected a whole number" },
        { "top", "abc", "expected a whole number" },
        { "top-window", "0ms", "must be between" },
        { "expect-size", "0", "must be between 1 and 65536" },
        { "expect-size", "-1", "expected a whole number" },
        { "max-reply", "1x", "expected a size" },
        { "max-reply", "100", "must be between 1KiB and 1GiB" },
        { "max-reply", "2GiB", "must be between 1KiB and 1GiB" },
        { "memory-limit", "-1G", "expected a size" },
        { "memory-limit", "9223372036854775808", "expected a size" },
        { "memory-limit", "8388608T", "expected a size" },
        { "memory-warn", "0", "expected a ratio in (0, 1]" },
        { "memory-warn", "1.5", "expected a ratio" },
        { "memory-warn", "80", "expected a ratio" },
        { "memory-warn", "101%", "expected a ratio" },
        { "memory-warn", "abc", "expected a ratio" },
        { "memory-warn", "nan", "expected a ratio" },
        { "memory-warn", "inf", "expected a ratio" },
        { "memory-warn", ".5", "expected a ratio" },
        { "memory-warn", "1e-1", "expected a ratio" },
        { "memory-warn", "0.8 ", "expected a ratio" },
        { "ets-fail", "-0.5", "expected a ratio" },
        { "run-queue-warn", "-1", "expected a non-negative number" },
        { "run-queue-warn", "abc", "expected a non-negative number" },
        { "run-queue-fail", "1000001", "up to 1000000" },
        { "run-queue-fail", "1000000.5", "up to 1000000" },
        { "run-queue-fail", "1e3", "expected a non-negative number" },
    };
    char err[ERRLEN], flag[64];
    (void)state;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char want[160];
        snprintf(want, sizeof want, "invalid value '%s' for --%s", bad[i].value, bad[i].name);
        set_fails(bad[i].name, bad[i].value, want);
        set_fails(bad[i].name, bad[i].value, bad[i].want);
        /* the same through argv, "--x=v" form (the value may begin with '-') */
        snprintf(flag, sizeof flag, "--%s=%s", bad[i].name, bad[i].value);
        const char *args[] = { flag, NULL };
        expect_fail(BP_SUB_CHECK, args, want, err);
    }
}

static void test_good_numbers(void **state)
{
    bp_config *c = *state;

    set_ok(c, "timeout", "10m");
    assert_int_equal(c->timeout_ms, 600000);
    set_ok(c, "timeout", "1ms");
    assert_int_equal(c->timeout_ms, 1);
    set_ok(c, "timeout", "1.5s");
    assert_int_equal(c->timeout_ms, 1500);
    set_ok(c, "max-reply", "1KiB");
    assert_int_equal(c->max_reply_bytes, 1024);
    set_ok(c, "max-reply", "1G");
    assert_int_equal(c->max_reply_bytes, 1 << 30);
    set_ok(c, "memory-limit", "0");
    assert_int_equal(c->memory_limit, 0);
    set_ok(c, "memory-limit", "512MB");
    assert_int_equal(c->memory_limit, 512000000);
    set_ok(c, "memory-warn", "1");
    assert_float_equal(c->thresholds.memory.warn, 1.0, 1e-12);
    set_ok(c, "memory-fail", "100%");
    assert_float_equal(c->thresholds.memory.fail, 1.0, 1e-12);
    set_ok(c, "atom-warn", "12.5%");
    assert_float_equal(c->thresholds.atoms.warn, 0.125, 1e-12);
    set_ok(c, "atom-fail", "0.000001");
    assert_float_equal(c->thresholds.atoms.fail, 0.000001, 1e-15);
    set_ok(c, "run-queue-warn", "0");
    assert_float_equal(c->thresholds.run_queue_warn, 0.0, 1e-12);
    set_ok(c, "run-queue-fail", "1000000");
    assert_float_equal(c->thresholds.run_queue_fail, 1000000.0, 1e-9);
    set_ok(c, "supervisor-depth", "0");
    assert_int_equal(c->supervisor_depth, 0);
    set_ok(c, "cnode-pool", "064");
    assert_int_equal(c->cnode_pool, 64);
    set_ok(c, "expect-size", "65536");
    assert_int_equal(c->expect_size, 65536);
}

/* Values are echoed in messages, but never raw control characters. */
static void test_messages_are_printable(void **state)
{
    char err[ERRLEN];
    (void)state;

    const char *args[] = { "--timeout", "\x1b[31mred\n", NULL };
    expect_fail(BP_SUB_CHECK, args, "invalid value '?[31mred?' for --timeout", err);
    for (const char *p = err; *p; p++)
        assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);

    /* err may be NULL or tiny */
    bp_config *c = new_config();
    char tiny[8];
    assert_int_equal(bp_config_set(c, "timeout", "x", NULL, 0), BP_EUSAGE);
    assert_int_equal(bp_config_set(c, "timeout", "x", tiny, sizeof tiny), BP_EUSAGE);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
    assert_int_equal(bp_config_validate(c, NULL, 0), 0);
    free(c);
}

/* ---- the cookie -------------------------------------------------------- */

static void cookie_refused(const char *const *args)
{
    char err[ERRLEN];
    expect_fail(BP_SUB_CHECK, args, "is not accepted", err);
    assert_non_null(strstr(err, "--cookie-file"));
    assert_non_null(strstr(err, "BEAMPROBE_COOKIE"));
    assert_null(strstr(err, "S3CRET"));
}

static void test_cookie_refused(void **state)
{
    char err[ERRLEN];
    (void)state;

    const char *a1[] = { "--cookie", "S3CRET", NULL };
    const char *a2[] = { "--cookie=S3CRET", NULL };
    const char *a3[] = { "-setcookie", "S3CRET", NULL };
    const char *a4[] = { "-cookie=S3CRET", NULL };
    const char *a5[] = { "--setcookie=S3CRET", NULL };
    const char *a6[] = { "-n", "a@h", "--cookie", "S3CRET", "--json", NULL };
    const char *a7[] = { "--cookie", NULL };
    cookie_refused(a1);
    cookie_refused(a2);
    cookie_refused(a3);
    cookie_refused(a4);
    cookie_refused(a5);
    cookie_refused(a6);
    cookie_refused(a7);
    expect_fail(BP_SUB_CHECK, a1, "--cookie is not accepted", err);
    expect_fail(BP_SUB_CHECK, a3, "-setcookie is not accepted", err);

    /* the config-file path refuses it too */
    bp_config *c = new_config();
    assert_int_equal(bp_config_set(c, "cookie", "S3CRET", err, sizeof err), BP_EUSAGE);
    assert_null(strstr(err, "S3CRET"));
    assert_non_null(strstr(err, "BEAMPROBE_COOKIE"));
    free(c);
    /* a scanner must skip (not show) the value: it takes one */
    assert_int_equal(bp_config_option_arity("cookie"), 1);
}

/* ---- arity, given ------------------------------------------------------ */

static void test_arity_and_given(void **state)
{
    bp_config *c = *state;

    assert_int_equal(bp_config_option_arity("timeout"), 1);
    assert_int_equal(bp_config_option_arity("node"), 1);
    assert_int_equal(bp_config_option_arity("json"), 0);
    assert_int_equal(bp_config_option_arity("strict"), 0);
    assert_int_equal(bp_config_option_arity("nope"), -1);
    assert_int_equal(bp_config_option_arity(NULL), -1);
    assert_null(bp_config_option_find("nope"));

    assert_false(bp_config_is_given(c, "timeout"));
    PARSE_OK(c, "-t", "2s");
    assert_true(bp_config_is_given(c, "timeout"));
    assert_false(bp_config_is_given(c, "node"));
    assert_false(bp_config_is_given(c, "nope"));
    bp_config_defaults(c);
    assert_false(bp_config_is_given(c, "timeout"));
}

/* ---- validation -------------------------------------------------------- */

static void test_validate(void **state)
{
    bp_config *c = *state, *d;
    (void)c;

#define FRESH() (free(d), d = new_config())
    d = new_config();
    validate_ok(d);

    d->thresholds.memory.warn = 0.95;
    validate_fails(d, "--memory-warn (0.95) must not be above --memory-fail (0.9)");
    FRESH();
    set_ok(d, "ets-warn", "0.9");
    validate_ok(d); /* equal is fine */
    set_ok(d, "ets-warn", "95%");
    validate_fails(d, "--ets-warn (0.95) must not be above --ets-fail (0.9)");
    FRESH();
    d->thresholds.processes.fail = 1.5;
    validate_fails(d, "--process-fail must be a ratio in (0, 1]");
    FRESH();
    d->thresholds.ports.warn = 0.0;
    validate_fails(d, "--port-warn must be a ratio");
    FRESH();
    d->thresholds.atoms.warn = NAN;
    validate_fails(d, "--atom-warn must be a ratio");
    FRESH();
    set_ok(d, "run-queue-warn", "60");
    validate_fails(d, "--run-queue-warn (60) must not be above --run-queue-fail (50)");
    FRESH();
    d->thresholds.run_queue_fail = -1;
    validate_fails(d, "--run-queue-fail must be between 0 and 1000000");

    FRESH();
    d->timeout_ms = 0;
    validate_fails(d, "--timeout must be between 1ms and 10m, not 0ms");
    FRESH();
    d->timeout_ms = 600001;
    validate_fails(d, "--timeout must be between 1ms and 10m");
    FRESH();
    set_ok(d, "governor-timeout", "1s");
    validate_fails(d, "--governor-timeout (1000ms) must be shorter than --timeout (1000ms)");
    FRESH();
    set_ok(d, "top", "5");
    set_ok(d, "top-window", "501ms");
    validate_fails(d, "--top-window (501ms) must be at most half of --timeout (1000ms)");
    FRESH();
    set_ok(d, "top-window", "900ms"); /* no --top: the window is not used, not checked */
    validate_ok(d);
    set_ok(d, "timeout", "1001ms");
    validate_ok(d);

    FRESH();
    d->cnode_pool = 0;
    validate_fails(d, "--cnode-pool must be between 1 and 64, not 0");
    FRESH();
    d->cnode_pool = 65;
    validate_fails(d, "--cnode-pool must be between 1 and 64");
    FRESH();
    snprintf(d->cnode_name, sizeof d->cnode_name, "bad name");
    validate_fails(d, "invalid --cnode-name 'bad name'");
    FRESH();
    d->cnode_name[0] = '\0';
    validate_fails(d, "--cnode-name must not be empty");
    FRESH();
    memset(d->cnode_name, 'x', sizeof d->cnode_name);
    validate_fails(d, "--cnode-name is too long");
    FRESH();
    memset(d->cookie_file, 'x', sizeof d->cookie_file);
    validate_fails(d, "--cookie-file is too long");

    FRESH();
    d->nodes.n = BP_LIST_MAX + 1;
    validate_fails(d, "too many values for --node (65, max 64)");
    FRESH();
    d->nodes.n = 1;
    memset(d->nodes.v[0], 'a', BP_NAME_MAX);
    validate_fails(d, "value 1 of --node is too long");
    FRESH();
    d->nodes.n = 1;
    validate_fails(d, "value 1 of --node is empty");
    FRESH();
    d->expect_peers.n = 1;
    snprintf(d->expect_peers.v[0], BP_NAME_MAX, "nohost");
    validate_fails(d, "invalid value 'nohost' for --expect-peers");
    FRESH();
    d->check_mfas.n = 1;
    snprintf(d->check_mfas.v[0], BP_NAME_MAX, "nocolon");
    validate_fails(d, "for --check-mfa");

    FRESH();
    d->expect_size = 0;
    validate_fails(d, "--expect-size must be between 1 and 65536, not 0");
    FRESH();
    d->expect_size = -2;
    validate_fails(d, "--expect-size");
    FRESH();
    d->supervisor_depth = 33;
    validate_fails(d, "--supervisor-depth");
    FRESH();
    d->max_reply_bytes = 10;
    validate_fails(d, "--max-reply must be between 1KiB and 1GiB, not 10");
    FRESH();
    d->memory_limit = -1;
    validate_fails(d, "--memory-limit");
    FRESH();
    d->probe = (bp_probe_kind)7;
    validate_fails(d, "--probe must be live, ready or startup");
    FRESH();
    d->json = 2;
    validate_fails(d, "--json must be 0 or 1");

    FRESH();
    set_ok(d, "governor-warn-states", "refusing,slow");
    validate_fails(d, "governor state 'refusing' is in both");
    set_ok(d, "governor-fail-states", "dead");
    validate_ok(d);
    free(d);
#undef FRESH
}

/* ---- parsers ----------------------------------------------------------- */

static void test_finish_governor_timeout(void **state)
{
    bp_config *c = *state;
    char err[ERRLEN];

    /* default governor timeout follows a short --timeout down */
    PARSE_OK(c, "--timeout", "150ms");
    bp_config_finish(c);
    assert_int_equal(c->governor_timeout_ms, 75);
    assert_int_equal(bp_config_validate(c, err, sizeof err), 0);

    /* an explicit one is kept, and must be shorter than --timeout */
    bp_config_defaults(c);
    PARSE_OK(c, "--timeout", "150ms", "--governor-timeout", "150ms");
    bp_config_finish(c);
    assert_int_equal(c->governor_timeout_ms, 150);
    assert_int_equal(bp_config_validate(c, err, sizeof err), BP_EUSAGE);

    /* a long --timeout leaves the default alone */
    bp_config_defaults(c);
    PARSE_OK(c, "--timeout", "5s");
    bp_config_finish(c);
    assert_int_equal(c->governor_timeout_ms, 200);
}

/* The distribution transport: TLS settings and IPv6. */
static void test_dist_transport(void **state)
{
    bp_config *c = *state;
    assert_int_equal(c->dist_tls, 0);
    assert_string_equal(c->tls_verify, "peer");
    assert_int_equal(c->inet6, 0);
    set_ok(c, "dist-tls", NULL);
    set_ok(c, "tls-verify", "none");
    set_ok(c, "inet6", NULL);
    assert_int_equal(c->dist_tls, 1);
    assert_string_equal(c->tls_verify, "none");
    assert_int_equal(c->inet6, 1);
    validate_ok(c);
    set_fails("tls-verify", "yes", "expected peer");
    set_ok(c, "plan", "multi-round");
    assert_string_equal(c->plan, "multi-round");
    set_fails("plan", "two-round", "expected auto, one-round or multi-round");
    set_fails("tls-verify", "", NULL);
    set_ok(c, "tls-certfile", "/etc/dist/client.pem");
    char err[ERRLEN] = "";
    assert_int_not_equal(bp_config_validate(c, err, sizeof err), 0);
    assert_non_null(strstr(err, "--tls-certfile and --tls-keyfile go together"));
    set_ok(c, "tls-keyfile", "/etc/dist/client.key");
    validate_ok(c);
}

/* Discovery options with a fixed set of values, and the basename they name nodes with. */
static void test_discovery_values(void **state)
{
    bp_config *c = *state;
    set_ok(c, "k8s-names", "ip");
    set_ok(c, "k8s-names", "auto");
    set_ok(c, "k8s-source", "slices");
    set_ok(c, "k8s-source", "endpoints");
    set_ok(c, "k8s-source", "auto");
    set_ok(c, "k8s-cluster-domain", "corp.internal");
    assert_string_equal(c->k8s_cluster_domain, "corp.internal");
    set_ok(c, "node-basename", "my_app-2");
    validate_ok(c);
    set_fails("k8s-names", "hostname", "expected auto");
    set_fails("k8s-names", "IP", "or ip");
    set_fails("k8s-source", "both", "expected auto, slices or endpoints");
    set_fails("k8s-source", "", NULL);
    set_fails("k8s-cluster-domain", "bad..domain", "--k8s-cluster-domain");
    set_fails("k8s-cluster-domain", "cluster.local.", "must not begin or end with '.'");
    set_fails("node-basename", "app@host", "--node-basename");
    const char *a[] = { "--k8s-names", "x", NULL };
    char err[ERRLEN];
    expect_fail(BP_SUB_CLUSTER, a, "--k8s-names", err);
    const char *b[] = { "--k8s-source=nope", NULL };
    expect_fail(BP_SUB_SERVE, b, "'nope'", err);
}

static void test_serve_options(void **state)
{
    bp_config *c = *state;
    char err[ERRLEN];

    assert_string_equal(c->listen, "0.0.0.0:8080");
    assert_int_equal(c->interval_ms, 2000);
    assert_string_equal(c->log_format, "text");
    bp_config_finish(c);
    assert_int_equal(c->max_age_ms, 3 * 2000 + 1000); /* 3 x interval + timeout */

    assert_int_equal(bp_config_set(c, "listen", "nowhere", err, sizeof err), BP_EUSAGE);
    assert_int_equal(bp_config_set(c, "listen", "1.2.3.4:70000", err, sizeof err), BP_EUSAGE);
    assert_int_equal(bp_config_set(c, "listen", ":0", err, sizeof err), 0);
    assert_int_equal(bp_config_set(c, "listen", "[::1]:8080", err, sizeof err), 0);
    assert_int_equal(bp_config_set(c, "log-format", "xml", err, sizeof err), BP_EUSAGE);
    assert_int_equal(bp_config_set(c, "format", "html", err, sizeof err), BP_EUSAGE);
    assert_int_equal(bp_config_set(c, "format", "svg", err, sizeof err), 0);
    assert_string_equal(c->format, "svg");

    assert_int_equal(bp_config_set(c, "tls-cert", "/c.pem", err, sizeof err), 0);
    assert_int_equal(bp_config_validate(c, err, sizeof err), BP_EUSAGE); /* key missing */
    assert_non_null(strstr(err, "--tls-key"));
    assert_int_equal(bp_config_set(c, "tls-key", "/k.pem", err, sizeof err), 0);
    assert_int_equal(bp_config_validate(c, err, sizeof err), 0);
    bp_config_defaults(c);
    assert_int_equal(bp_config_set(c, "tls-client-ca", "/ca.pem", err, sizeof err), 0);
    assert_int_equal(bp_config_validate(c, err, sizeof err), BP_EUSAGE);
}

static void test_parse_duration(void **state)
{
    static const struct {
        const char *s;
        int64_t ms;
    } good[] = {
        { "0", 0 },
        { "1500", 1500 },
        { "1500ms", 1500 },
        { "2s", 2000 },
        { "1.5s", 1500 },
        { "0.001s", 1 },
        { "1.250s", 1250 },
        { "1.5000000000s", 1500 },
        { "1m", 60000 },
        { "1.5m", 90000 },
        { "2h", 7200000 },
        { "2S", 2000 },
        { "5MS", 5 },
        { "007s", 7000 },
        { "9223372036854775807", INT64_MAX },
        { "9223372036854775807ms", INT64_MAX },
        { "2562047788015h", (int64_t)2562047788015 * 3600000 },
    };
    static const char *const bad[] = {
        "", "ms", "s", "-1", "+1", "-1s", "1x", "1 s", " 1s", "1s ", "1.s", ".5s", "1..5s",
        "1.5ms", "0.0001s", "1.2345678s", "1e3", "0x10", "1sms", "1mss", "9223372036854775808",
        "9223372036854775807s", "2562047788016h", "99999999999999999999999", "nan", "inf",
        "1,5s", "1_000",
    };
    int64_t ms;
    (void)state;

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        ms = -7;
        if (bp_parse_duration_ms(good[i].s, &ms) != 0)
            fail_msg("'%s' refused", good[i].s);
        if (ms != good[i].ms)
            fail_msg("'%s' gave %lld, not %lld", good[i].s, (long long)ms, (long long)good[i].ms);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ms = -7;
        if (bp_parse_duration_ms(bad[i], &ms) != -1)
            fail_msg("'%s' accepted as %lld", bad[i], (long long)ms);
        assert_int_equal(ms, -7); /* untouched on error */
    }
    assert_int_equal(bp_parse_duration_ms(NULL, &ms), -1);
    assert_int_equal(bp_parse_duration_ms("1s", NULL), -1);
}

static void test_parse_bytes(void **state)
{
    static const struct {
        const char *s;
        int64_t b;
    } good[] = {
        { "0", 0 },
        { "1048576", 1048576 },
        { "100B", 100 },
        { "512k", 524288 },
        { "512K", 524288 },
        { "512KiB", 524288 },
        { "512kib", 524288 },
        { "512KB", 512000 },
        { "1M", 1048576 },
        { "1MiB", 1048576 },
        { "1MB", 1000000 },
        { "2G", 2147483648 },
        { "2GiB", 2147483648 },
        { "2GB", 2000000000 },
        { "1T", (int64_t)1 << 40 },
        { "1TiB", (int64_t)1 << 40 },
        { "3TB", 3000000000000 },
        { "0.5k", 512 },
        { "1.5M", 1572864 },
        { "0.25GB", 250000000 },
        { "9223372036854775807", INT64_MAX },
        { "8388607T", (int64_t)8388607 << 40 },
    };
    static const char *const bad[] = {
        "", "k", "MiB", "-1", "+1", "-1k", "1x", "1 k", " 1k", "1k ", "1.k", ".5k", "1.1k",
        "0.3B", "1.0000001M", "1e3", "0x10", "1kk", "1KiBB", "1Ki", "1iB", "1mbit",
        "9223372036854775808", "8388608T", "9223372036854775807k", "8589934592G",
        "99999999999999999999999", "nan", "inf", "1,5M",
    };
    int64_t b;
    (void)state;

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        b = -7;
        if (bp_parse_bytes(good[i].s, &b) != 0)
            fail_msg("'%s' refused", good[i].s);
        if (b != good[i].b)
            fail_msg("'%s' gave %lld, not %lld", good[i].s, (long long)b, (long long)good[i].b);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        b = -7;
        if (bp_parse_bytes(bad[i], &b) != -1)
            fail_msg("'%s' accepted as %lld", bad[i], (long long)b);
        assert_int_equal(b, -7);
    }
    assert_int_equal(bp_parse_bytes(NULL, &b), -1);
    assert_int_equal(bp_parse_bytes("1k", NULL), -1);
}

/* ---- --help ------------------------------------------------------------ */

static char *help_text(unsigned mask)
{
    FILE *f = tmpfile();
    char *buf;
    long len;

    assert_non_null(f);
    bp_config_print_help(f, mask);
    assert_int_equal(fflush(f), 0);
    len = ftell(f);
    assert_true(len > 0);
    rewind(f);
    buf = calloc(1, (size_t)len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    return buf;
}

/* The column at which `o`'s help text starts on its own line, or -1. */
static long help_column(const char *text, const bp_config_option *o)
{
    char start[96];
    const char *line, *h;

    if (o->short_name)
        snprintf(start, sizeof start, "\n  -%c, --%s ", o->short_name, o->name);
    else
        snprintf(start, sizeof start, "\n      --%s ", o->name);
    line = strstr(text, start);
    if (!line)
        return -1;
    line++;
    h = line + strlen(start) - 1;
    if (o->kind != BP_OPT_SWITCH) {
        if (strncmp(h, o->metavar, strlen(o->metavar)) != 0)
            return -1;
        h += strlen(o->metavar);
    }
    while (*h == ' ')
        h++;
    /* the first word of the help text starts there */
    if (strncmp(h, o->help, strcspn(o->help, " ")) != 0)
        return -1;
    return (long)(h - line);
}

static void test_help(void **state)
{
    size_t n;
    const bp_config_option *t = bp_config_options(&n);
    char *all = help_text(BP_SUB_CHECK);
    long col = -1;
    (void)state;

    for (size_t i = 0; i < n; i++) {
        char flag[80];
        if (t[i].flags & BP_OPTF_HIDDEN)
            continue;
        if (!(t[i].subcommands & BP_SUB_CHECK))
            continue;
        snprintf(flag, sizeof flag, "--%s", t[i].name);
        if (!strstr(all, flag))
            fail_msg("help lacks %s", flag);
        long c = help_column(all, &t[i]);
        if (c < 0)
            fail_msg("help line of %s not found", flag);
        if (col < 0)
            col = c;
        if (c != col)
            fail_msg("help of %s starts at column %ld, not %ld", flag, c, col);
    }
    assert_non_null(strstr(all, "  -n, --node NODE "));
    assert_non_null(strstr(all, "  -t, --timeout DURATION "));
    assert_non_null(strstr(all, "  -j, --json "));
    assert_null(strstr(all, "--cookie "));
    assert_non_null(strstr(all, "      --cookie-file FILE "));
    assert_non_null(strstr(all, "[default: 1s]"));
    assert_non_null(strstr(all, "[default: 200ms]"));
    assert_non_null(strstr(all, "[default: 1MiB]"));
    assert_non_null(strstr(all, "[default: ready]"));
    assert_non_null(strstr(all, "[default: refusing]"));
    assert_non_null(strstr(all, "[default: degraded,intervening]"));
    assert_non_null(strstr(all, "[default: ~/.erlang.cookie]"));
    assert_non_null(strstr(all, "BEAMPROBE_COOKIE"));
    assert_non_null(strstr(all, "\nTargets and connection:\n"));
    /* wrapped to 80 columns */
    for (const char *l = all; *l;) {
        size_t len = strcspn(l, "\n");
        if (len > 80)
            fail_msg("help line longer than 80 columns: %.*s", (int)len, l);
        l += len;
        if (*l)
            l++;
    }
    assert_null(strstr(all, "--cookie "));
    assert_null(strstr(all, "--cookie\n"));
    assert_null(strstr(all, "setcookie"));
    free(all);

    /* every visible option shows up for at least one subcommand */
    char *every = help_text(BP_SUB_ALL);
    for (size_t i = 0; i < n; i++) {
        char flag[80];
        snprintf(flag, sizeof flag, "--%s ", t[i].name);
        if (!(t[i].flags & BP_OPTF_HIDDEN) && !strstr(every, flag))
            fail_msg("help lacks %s", flag);
    }
    free(every);

    /* options are filtered by subcommand */
    char *cluster = help_text(BP_SUB_CLUSTER);
    assert_non_null(strstr(cluster, "--node"));
    assert_non_null(strstr(cluster, "--json"));
    assert_null(strstr(cluster, "--probe"));
    assert_non_null(strstr(cluster, "--memory-warn")); /* cluster runs the node checks too */
    assert_non_null(strstr(cluster, "--wait"));
    free(cluster);
    char *serve = help_text(BP_SUB_SERVE);
    assert_null(strstr(serve, "--json"));
    assert_null(strstr(serve, "--probe")); /* serve answers every probe kind */
    assert_non_null(strstr(serve, "--listen"));
    assert_non_null(strstr(serve, "--governor"));
    free(serve);

    bp_config_print_help(NULL, BP_SUB_CHECK); /* no crash */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_defaults),
        T(test_table_defaults_parse),
        T(test_defaults_null),
        T(test_every_option_both_forms),
        T(test_every_option_values),
        T(test_probe_kinds),
        T(test_short_options),
        T(test_short_errors),
        T(test_switch_values),
        T(test_positional_and_terminator),
        T(test_value_starting_with_dash),
        T(test_lists_repeat_comma_dedupe),
        T(test_governor_states_replace_default),
        T(test_list_overflow),
        T(test_too_long_values),
        T(test_empty_string_values),
        T(test_node_names),
        T(test_cnode_name_host),
        T(test_check_mfa),
        T(test_unknown_options),
        T(test_option_not_for_subcommand),
        T(test_missing_values),
        T(test_tiny_timeout),
        T(test_bad_numbers),
        T(test_good_numbers),
        T(test_messages_are_printable),
        T(test_cookie_refused),
        T(test_arity_and_given),
        T(test_validate),
        T(test_finish_governor_timeout),
        T(test_dist_transport),
        T(test_discovery_values),
        T(test_serve_options),
        T(test_parse_duration),
        T(test_parse_bytes),
        T(test_help),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
