/* test_policy.c: unit tests of the policy (bp_evaluate) and the report helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "beamprobe.h"
#include "fixture_snapshot.h"

typedef fixture_fx fx;
#define setup fixture_fx_setup
#define teardown fixture_fx_teardown

static const bp_report *eval(fx *f)
{
    assert_int_equal(bp_evaluate(f->snap, &f->cfg, &f->rep), 0);
    return &f->rep;
}

static const bp_check *need(const bp_report *r, const char *name)
{
    const bp_check *c = bp_report_find(r, name);
    if (!c)
        fail_msg("no check named %s", name);
    return c;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
}

static void assert_check(const bp_report *r, const char *name, bp_status st)
{
    const bp_check *c = need(r, name);
    if (c->status != st)
        fail_msg("check %s: status %s, expected %s (%s)", name, bp_status_name(c->status), bp_status_name(st),
                 c->reason);
}

/* ---- the whole picture ---- */

static void healthy_ready(void **state)
{
    fx *f = *state;
    const bp_report *r = eval(f);
    static const char *const names[] = {"connection", "identity", "memory", "limits", "schedulers",
                                        "applications", "membership", "supervisor:demo_sup",
                                        "governor:cost_guard", "custom:demo:health"};
    assert_int_equal(r->n_checks, sizeof names / sizeof names[0]);
    for (size_t i = 0; i < r->n_checks; i++) {
        assert_string_equal(r->checks[i].name, names[i]);
        assert_int_equal(r->checks[i].status, BP_PASS);
        assert_false(r->checks[i].incomplete);
        assert_true(r->checks[i].reason[0] != '\0');
    }
    assert_int_equal(r->status, BP_PASS);
    assert_false(r->incomplete);
    assert_int_equal(r->probe, BP_PROBE_READY);
    assert_ptr_equal(r->snap, f->snap);
    assert_int_equal(bp_report_exit_code(r, &f->cfg), BP_EXIT_HEALTHY);
    assert_string_equal(need(r, "connection")->reason, "connected, 1 round trip, 2.3 ms");
    assert_string_equal(need(r, "identity")->reason, "OTP 25, ERTS 13.1.5, up 2h03m");
    assert_string_equal(need(r, "applications")->reason, "4 applications running");
    assert_string_equal(need(r, "membership")->reason, "sees 2 visible, 1 hidden nodes");
    assert_contains(need(r, "supervisor:demo_sup")->reason, "specs 3, active 3, workers 1, supervisors 2");
    assert_contains(need(r, "governor:cost_guard")->reason, "state stable");
    assert_int_equal(need(r, "memory")->kind, BP_CHECK_MEMORY);
    assert_string_equal(need(r, "governor:cost_guard")->subject, "cost_guard");
}

static void check_names_of(fx *f, bp_probe_kind kind, const char *const *names, size_t n)
{
    f->cfg.probe = kind;
    const bp_report *r = eval(f);
    assert_int_equal(r->probe, kind);
    assert_int_equal(r->n_checks, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(r->checks[i].name, names[i]);
}

static void live_check_set(void **state)
{
    static const char *const names[] = {"connection", "identity", "memory", "limits", "schedulers"};
    check_names_of(*state, BP_PROBE_LIVE, names, 5);
}

static void startup_check_set(void **state)
{
    static const char *const names[] = {"connection", "identity", "applications"};
    check_names_of(*state, BP_PROBE_STARTUP, names, 3);
}

static void liveness_ignores_cluster(void **state)
{
    fx *f = *state;
    fixture_list_add(&f->cfg.expect_peers, "app@host9");
    f->cfg.expect_size = 7;
    f->snap->governors[0].alive = 0;
    f->snap->supervisors[1].n_down = 1;
    f->snap->supervisors[1].down[0] = "w1 (restarting)";
    f->cfg.probe = BP_PROBE_LIVE;
    const bp_report *r = eval(f);
    assert_int_equal(r->status, BP_PASS);
    assert_null(bp_report_find(r, "membership"));
    assert_int_equal(bp_report_exit_code(r, &f->cfg), BP_EXIT_HEALTHY);

    /* membership itself failing is also invisible to liveness */
    bp_fact_fail(f->snap, &f->snap->membership, BP_FACT_TIMEOUT, "nodes() timed out");
    r = eval(f);
    assert_int_equal(r->status, BP_PASS);
    assert_false(r->incomplete);

    f->cfg.probe = BP_PROBE_READY;
    r = eval(f);
    assert_int_equal(r->status, BP_FAIL);
    assert_check(r, "membership", BP_FAIL);
}

/* ---- connection ---- */

static void connect_failure(void **state)
{
    fx *f = *state;
    f->snap->connect.state = BP_FACT_ERROR;
    f->snap->connect_code = BP_EAUTH;
    f->snap->connect.error = "authentication failed (cookie mismatch)";
    const bp_report *r = eval(f);
    assert_int_equal(r->n_checks, 1);
    assert_string_equal(r->checks[0].name, "connection");
    assert_int_equal(r->checks[0].status, BP_FAIL);
    assert_string_equal(r->checks[0].reason, "authentication failed (cookie mismatch)");
    assert_int_equal(r->status, BP_FAIL);
    assert_false(r->incomplete);
    assert_int_equal(bp_report_exit_code(r, &f->cfg), BP_EXIT_CONNECT);

    /* no error text: the code's description stands in */
    f->snap->connect.state = BP_FACT_TIMEOUT;
    f->snap->connect.error = NULL;
    f->snap->connect_code = BP_ETIMEDOUT;
    r = eval(f);
    assert_string_equal(r->checks[0].reason, "timed out");
    assert_int_equal(bp_report_exit_code(r, &f->cfg), BP_EXIT_CONNECT);
}

static void connection_reason_plural(void **state)
{
    fx *f = *state;
    f->snap->round_trips = 2;
    f->snap->duration_us = 12345;
    assert_string_equal(need(eval(f), "connection")->reason, "connected, 2 round trips, 12.3 ms");
}

/* ---- identity ---- */

static void identity_cases(void **state)
{
    fx *f = *state;
    f->snap->uptime_ms = 45000;
    assert_string_equal(need(eval(f), "identity")->reason, "OTP 25, ERTS 13.1.5, up 45s");
    f->snap->uptime_ms = 307000;
    assert_string_equal(need(eval(f), "identity")->reason, "OTP 25, ERTS 13.1.5, up 5m07s");
    f->snap->uptime_ms = (3 * 86400 + 4 * 3600 + 5) * 1000LL;
    assert_string_equal(need(eval(f), "identity")->reason, "OTP 25, ERTS 13.1.5, up 3d04h");
    f->snap->uptime_ms = -1;
    assert_string_equal(need(eval(f), "identity")->reason, "OTP 25, ERTS 13.1.5, uptime unknown");

    bp_fact_fail(f->snap, &f->snap->identity, BP_FACT_ERROR, "badrpc: nodedown");
    const bp_report *r = eval(f);
    assert_check(r, "identity", BP_FAIL);
    assert_string_equal(need(r, "identity")->reason, "badrpc: nodedown");
    assert_false(need(r, "identity")->incomplete);
    assert_int_equal(bp_report_exit_code(r, &f->cfg), BP_EXIT_UNHEALTHY);
}

/* ---- memory ---- */

static bp_status memory_status_at(fx *f, int64_t total)
{
    fixture_memory_set(f->snap, "total", total);
    return need(eval(f), "memory")->status;
}

static void memory_thresholds(void **state)
{
    fx *f = *state;
    f->cfg.memory_limit = 1000;
    assert_int_equal(memory_status_at(f, 0), BP_PASS);
    assert_int_equal(memory_status_at(f, 799), BP_PASS);
    assert_int_equal(memory_status_at(f, 800), BP_WARN);
    assert_int_equal(memory_status_at(f, 801), BP_WARN);
    assert_int_equal(memory_status_at(f, 899), BP_WARN);
    assert_int_equal(memory_status_at(f, 900), BP_FAIL);
    assert_int_equal(memory_status_at(f, 901), BP_FAIL);
    assert_int_equal(memory_status_at(f, 5000), BP_FAIL);
    const bp_report *r = &f->rep;
    assert_int_equal(r->memory_total, 5000);
    assert_int_equal(r->memory_limit, 1000);
    assert_string_equal(r->memory_limit_source, "config");
    assert_true(r->memory_ratio > 4.99 && r->memory_ratio < 5.01);
    assert_contains(need(r, "memory")->reason, "config limit");
    assert_contains(need(r, "memory")->reason, "500.0%");
    assert_contains(need(r, "memory")->reason, "warn 80%, fail 90%");
    assert_int_equal(bp_report_exit_code(r, &f->cfg), BP_EXIT_UNHEALTHY);
}

static void memory_limit_sources(void **state)
{
    fx *f = *state;
    /* cgroup: 200 MiB of 1 GiB */
    const bp_report *r = eval(f);
    assert_string_equal(r->memory_limit_source, "cgroup");
    assert_int_equal(r->memory_limit, 1LL << 30);
    assert_check(r, "memory", BP_PASS);
    assert_contains(need(r, "memory")->reason, "200.0 MiB of 1.0 GiB cgroup limit (19.5%");

    /* the configured limit wins over the cgroup */
    f->cfg.memory_limit = 220LL << 20;
    r = eval(f);
    assert_string_equal(r->memory_limit_source, "config");
    assert_check(r, "memory", BP_FAIL);

    /* no limit anywhere */
    f->cfg.memory_limit = 0;
    f->snap->cgroup_limit = -1;
    r = eval(f);
    assert_null(r->memory_limit_source);
    assert_int_equal(r->memory_limit, -1);
    assert_true(r->memory_ratio < 0);
    assert_check(r, "memory", BP_PASS);
    assert_contains(need(r, "memory")->reason, "no memory limit known");
}

static void memory_threshold_disabled(void **state)
{
    fx *f = *state;
    f->cfg.memory_limit = 1000;
    f->cfg.thresholds.memory = (bp_ratio){0, 0.95};
    assert_int_equal(memory_status_at(f, 940), BP_PASS);
    assert_contains(need(&f->rep, "memory")->reason, "warn off");
    assert_int_equal(memory_status_at(f, 950), BP_FAIL);
}

/* ---- limits ---- */

static void limits_thresholds(void **state)
{
    fx *f = *state;
    bp_snapshot *s = f->snap;
    s->atom_limit = 1000;
    s->atom_count = 799;
    assert_check(eval(f), "limits", BP_PASS);
    s->atom_count = 800;
    assert_check(eval(f), "limits", BP_WARN);
    s->atom_count = 899;
    assert_check(eval(f), "limits", BP_WARN);
    s->atom_count = 900;
    const bp_report *r = eval(f);
    assert_check(r, "limits", BP_FAIL);
    assert_string_equal(need(r, "limits")->reason, "atoms 900 of 1000 (90.0%; warn 80%, fail 90%)");
    assert_int_equal(r->limits[2].status, BP_FAIL);
    assert_string_equal(r->limits[2].name, "atoms");
    assert_int_equal(r->limits[0].status, BP_PASS);
    assert_int_equal(r->limits[0].count, 300);
    assert_int_equal(r->limits[0].limit, 262144);
}

static void limits_worst_decides(void **state)
{
    fx *f = *state;
    bp_snapshot *s = f->snap;
    s->otp_release = "19";                         /* the last release whose ETS limit is enforced */
    s->process_count = 85, s->process_limit = 100; /* warn */
    s->ets_count = 95, s->ets_limit = 100;         /* fail */
    s->port_count = 88, s->port_limit = 100;       /* warn */
    const bp_report *r = eval(f);
    assert_check(r, "limits", BP_FAIL);
    assert_contains(need(r, "limits")->reason, "ets 95 of 100");

    s->ets_count = 10;
    r = eval(f);
    assert_check(r, "limits", BP_WARN);
    assert_contains(need(r, "limits")->reason, "ports 88 of 100 (88.0%");

    /* a pass names the fullest table */
    s->process_count = 10, s->port_count = 20;
    r = eval(f);
    assert_check(r, "limits", BP_PASS);
    assert_contains(need(r, "limits")->reason, "ports 20 of 100");

    /* an unknown limit is skipped, not judged */
    s->port_limit = -1;
    s->port_count = 1000000;
    r = eval(f);
    assert_check(r, "limits", BP_PASS);
    assert_int_equal(r->limits[1].limit, -1);
    assert_true(r->limits[1].ratio < 0);
}

/* OTP 20+ limits ETS tables only by memory: a node with more tables than ets_limit is healthy. */
static void limits_ets_nominal_since_otp20(void **state)
{
    fx *f = *state;
    bp_snapshot *s = f->snap;
    s->ets_count = 10022, s->ets_limit = 8192;
    const bp_report *r = eval(f);
    assert_check(r, "limits", BP_PASS);
    assert_int_equal(r->limits[3].count, 10022);
    assert_int_equal(r->limits[3].limit, -1);
    assert_null(strstr(need(r, "limits")->reason, "ets"));
    s->otp_release = "19";
    r = eval(f);
    assert_check(r, "limits", BP_FAIL);
    assert_contains(need(r, "limits")->reason, "ets 10022 of 8192");
    s->otp_release = "weird"; /* an unknown release is not held to the old limit */
    assert_check(eval(f), "limits", BP_PASS);
}

/* ---- open file descriptors: a limit known only inside the VM ---- */

static void limits_fds_thresholds(void **state)
{
    fx *f = *state;
    fixture_fds(f->snap, 799, 1000);
    const bp_report *r = eval(f);
    assert_check(r, "limits", BP_PASS);
    assert_string_equal(r->limits[4].name, "fds");
    assert_int_equal(r->limits[4].status, BP_PASS);
    assert_int_equal(r->limits[4].count, 799);
    assert_int_equal(r->limits[4].limit, 1000);
    assert_true(r->limits[4].ratio > 0.7989 && r->limits[4].ratio < 0.7991);
    /* a pass names the fullest limit: fds at 79.9% rather than atoms at 1.9% */
    assert_string_equal(need(r, "limits")->reason, "fds 799 of 1000 (79.9%; warn 80%, fail 90%)");

    fixture_fds(f->snap, 800, 1000);
    r = eval(f);
    assert_check(r, "limits", BP_WARN);
    assert_int_equal(r->limits[4].status, BP_WARN);
    assert_int_equal(r->status, BP_WARN);
    fixture_fds(f->snap, 899, 1000);
    assert_check(eval(f), "limits", BP_WARN);

    fixture_fds(f->snap, 900, 1000);
    r = eval(f);
    assert_check(r, "limits", BP_FAIL);
    assert_string_equal(need(r, "limits")->reason, "fds 900 of 1000 (90.0%; warn 80%, fail 90%)");
    assert_int_equal(r->limits[4].status, BP_FAIL);
    assert_int_equal(r->limits[3].status, BP_PASS);
    assert_int_equal(r->status, BP_FAIL);
    assert_false(r->incomplete);
    assert_int_equal(bp_report_exit_code(r, &f->cfg), BP_EXIT_UNHEALTHY);

    /* a worse limit of another kind still decides */
    f->snap->port_count = 95, f->snap->port_limit = 100;
    fixture_fds(f->snap, 850, 1000);
    r = eval(f);
    assert_check(r, "limits", BP_FAIL);
    assert_contains(need(r, "limits")->reason, "ports 95 of 100");
    assert_int_equal(r->limits[4].status, BP_WARN);
    f->snap->port_count = 6, f->snap->port_limit = 65536;

    /* judged by their own thresholds, one level of which may be off */
    fixture_fds(f->snap, 900, 1000);
    f->cfg.thresholds.fds = (bp_ratio){0.95, 0.99};
    r = eval(f);
    assert_check(r, "limits", BP_PASS);
    assert_contains(need(r, "limits")->reason, "(90.0%; warn 95%, fail 99%)");
    f->cfg.thresholds.fds = (bp_ratio){0.5, 0};
    r = eval(f);
    assert_check(r, "limits", BP_WARN);
    assert_contains(need(r, "limits")->reason, "warn 50%, fail off");

    /* liveness judges them too: they are local facts */
    f->cfg.thresholds.fds = (bp_ratio){0.8, 0.9};
    f->cfg.probe = BP_PROBE_LIVE;
    assert_check(eval(f), "limits", BP_FAIL);
}

/* A remote probe never knows them: nothing may change, nothing may fail or be incomplete. */
static void limits_fds_unknown(void **state)
{
    fx *f = *state;
    bp_snapshot *s = f->snap;
    assert_int_equal(s->open_fds, -1); /* bp_snapshot_new */
    assert_int_equal(s->max_fds, -1);
    const bp_report *r = eval(f);
    assert_check(r, "limits", BP_PASS);
    assert_string_equal(need(r, "limits")->reason, "atoms 20000 of 1048576 (1.9%; warn 80%, fail 90%)");
    assert_string_equal(r->limits[4].name, "fds");
    assert_int_equal(r->limits[4].count, -1);
    assert_int_equal(r->limits[4].limit, -1);
    assert_true(r->limits[4].ratio < 0);
    assert_true(r->limits[4].threshold.warn == 0.8 && r->limits[4].threshold.fail == 0.9);
    assert_int_equal(r->status, BP_PASS);
    assert_false(r->incomplete);
    assert_int_equal(bp_report_exit_code(r, &f->cfg), BP_EXIT_HEALTHY);

    /* a count without a limit (RLIM_INFINITY), a limit without a count, a zero limit: not judged */
    static const int64_t cases[][3] = {{1000000, -1, -1}, {-1, 10, 10}, {5, 0, -1}}; /* count, max, limit */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fixture_fds(s, cases[i][0], cases[i][1]);
        r = eval(f);
        assert_check(r, "limits", BP_PASS);
        assert_string_equal(need(r, "limits")->reason, "atoms 20000 of 1048576 (1.9%; warn 80%, fail 90%)");
        assert_int_equal(r->limits[4].count, cases[i][0]);
        assert_int_equal(r->limits[4].limit, cases[i][2]);
        assert_true(r->limits[4].ratio < 0);
        assert_false(r->incomplete);
    }

    /* the other limits decide as before */
    fixture_fds(s, -1, -1);
    s->atom_count = 950, s->atom_limit = 1000;
    r = eval(f);
    assert_check(r, "limits", BP_FAIL);
    assert_string_equal(need(r, "limits")->reason, "atoms 950 of 1000 (95.0%; warn 80%, fail 90%)");
    s->process_count = s->port_count = s->atom_count = s->ets_count = -1;
    r = eval(f);
    assert_check(r, "limits", BP_PASS);
    assert_string_equal(need(r, "limits")->reason, "no system limits reported");
    assert_false(r->incomplete);
}

/* --fd-warn / --fd-fail (defaults 0.8 / 0.9) are the thresholds of the fds limit. */
static void limits_fds_options(void **state)
{
    fx *f = *state;
    char err[256];
    bp_config_defaults(&f->cfg);
    assert_float_equal(f->cfg.thresholds.fds.warn, 0.8, 1e-12);
    assert_float_equal(f->cfg.thresholds.fds.fail, 0.9, 1e-12);
    fixture_fds(f->snap, 55, 100);
    assert_check(eval(f), "limits", BP_PASS);
    assert_int_equal(bp_config_set(&f->cfg, "fd-warn", "0.5", err, sizeof err), 0);
    assert_int_equal(bp_config_set(&f->cfg, "fd-fail", "60%", err, sizeof err), 0);
    assert_int_equal(bp_config_validate(&f->cfg, err, sizeof err), 0);
    assert_true(bp_config_is_given(&f->cfg, "fd-warn"));
    const bp_report *r = eval(f);
    assert_check(r, "limits", BP_WARN);
    assert_string_equal(need(r, "limits")->reason, "fds 55 of 100 (55.0%; warn 50%, fail 60%)");
    fixture_fds(f->snap, 60, 100);
    assert_check(eval(f), "limits", BP_FAIL);
    /* warn above fail is refused, as for every other pair */
    assert_int_equal(bp_config_set(&f->cfg, "fd-warn", "0.7", err, sizeof err), 0);
    assert_int_equal(bp_config_validate(&f->cfg, err, sizeof err), BP_EUSAGE);
    assert_contains(err, "--fd-warn");
}

/* ---- schedulers ---- */

static void scheduler_thresholds(void **state)
{
    fx *f = *state;
    bp_snapshot *s = f->snap; /* 4 schedulers online; warn 2.0, fail 4.0 per scheduler */
    s->run_queue = 7;
    assert_check(eval(f), "schedulers", BP_PASS);
    s->run_queue = 8;
    assert_check(eval(f), "schedulers", BP_WARN);
    s->run_queue = 15;
    assert_check(eval(f), "schedulers", BP_WARN);
    s->run_queue = 16;
    const bp_report *r = eval(f);
    assert_check(r, "schedulers", BP_FAIL);
    assert_true(r->run_queue_per_scheduler > 3.99 && r->run_queue_per_scheduler < 4.01);
    assert_string_equal(need(r, "schedulers")->reason, "run queue 16 over 4 schedulers (4.00 each; warn 2.00, "
                                                       "fail 4.00); dirty cpu 0, dirty io 1");
    s->run_queue = 17;
    assert_check(eval(f), "schedulers", BP_FAIL);

    s->schedulers_online = 0; /* cannot divide: reported, not judged */
    r = eval(f);
    assert_check(r, "schedulers", BP_PASS);
    assert_contains(need(r, "schedulers")->reason, "not judged");
}

/* ---- applications ---- */

static void applications_required(void **state)
{
    fx *f = *state;
    fixture_list_add(&f->cfg.require_apps, "kernel");
    fixture_list_add(&f->cfg.require_apps, "demo");
    assert_check(eval(f), "applications", BP_PASS);

    fixture_list_add(&f->cfg.require_apps, "ssl");
    fixture_list_add(&f->cfg.require_apps, "cowboy");
    f->cfg.probe = BP_PROBE_STARTUP;
    const bp_report *r = eval(f);
    assert_check(r, "applications", BP_FAIL);
    assert_string_equal(need(r, "applications")->reason, "missing 2 of 4 required: ssl, cowboy (4 running)");
    assert_int_equal(r->missing_apps.n, 2);
    assert_string_equal(r->missing_apps.v[0], "ssl");
    assert_string_equal(r->missing_apps.v[1], "cowboy");
    assert_int_equal(bp_report_exit_code(r, &f->cfg), BP_EXIT_UNHEALTHY);

    /* liveness never looks at applications */
    f->cfg.probe = BP_PROBE_LIVE;
    r = eval(f);
    assert_null(bp_report_find(r, "applications"));
    assert_int_equal(r->status, BP_PASS);
}

/* ---- membership ---- */

static void membership_expectations(void **state)
{
    fx *f = *state;
    /* the target itself in the list is not a missing peer */
    fixture_list_add(&f->cfg.expect_peers, "app@host1");
    fixture_list_add(&f->cfg.expect_peers, "app@host2");
    fixture_list_add(&f->cfg.expect_peers, "app@host3");
    const bp_report *r = eval(f);
    assert_check(r, "membership", BP_PASS);
    assert_int_equal(r->missing_peers.n, 0);
    assert_contains(need(r, "membership")->reason, "as expected");

    fixture_list_add(&f->cfg.expect_peers, "app@host4");
    fixture_list_add(&f->cfg.expect_peers, "console@host1"); /* hidden does not count as visible */
    r = eval(f);
    assert_check(r, "membership", BP_FAIL);
    assert_int_equal(r->missing_peers.n, 2);
    assert_string_equal(r->missing_peers.v[0], "app@host4");
    assert_string_equal(r->missing_peers.v[1], "console@host1");
    assert_string_equal(need(r, "membership")->reason,
                        "missing 2 of 4 expected peers: app@host4, console@host1; sees 2 visible, 1 hidden nodes");
}

static void membership_size(void **state)
{
    fx *f = *state; /* the target plus 2 visible: a cluster of 3 */
    f->cfg.expect_size = 3;
    assert_check(eval(f), "membership", BP_PASS);
    f->cfg.expect_size = 2;
    assert_check(eval(f), "membership", BP_PASS);
    f->cfg.expect_size = 4;
    const bp_report *r = eval(f);
    assert_check(r, "membership", BP_FAIL);
    assert_contains(need(r, "membership")->reason, "cluster of 3, expected 4");
    assert_int_equal(r->expect_size, 4);
    f->cfg.expect_size = -1;
    assert_check(eval(f), "membership", BP_PASS);
}

static void membership_fact_error(void **state)
{
    fx *f = *state;
    bp_fact_fail(f->snap, &f->snap->membership, BP_FACT_ERROR, "badrpc: %s", "undef");
    const bp_report *r = eval(f);
    assert_check(r, "membership", BP_FAIL);
    assert_string_equal(need(r, "membership")->reason, "badrpc: undef");
    assert_false(r->incomplete);
}

/* ---- supervisors ---- */

static void supervisor_nested_rollup(void **state)
{
    fx *f = *state;
    bp_supervisor_snap *w = &f->snap->supervisors[1];
    w->n_down = 2;
    w->down[0] = "worker_3 (restarting)";
    w->down[1] = "worker_4 (undefined)";
    const bp_report *r = eval(f);
    const bp_check *c = need(r, "supervisor:demo_sup");
    assert_int_equal(c->status, BP_FAIL);
    assert_int_equal(c->n_nested, 2);
    assert_int_equal(c->n_children_down, 2);
    assert_int_equal(c->n_children_listed, 2);
    assert_string_equal(c->children_down[0].supervisor, "demo_sup/demo_worker_sup");
    assert_string_equal(c->children_down[0].child, "worker_3 (restarting)");
    assert_string_equal(c->reason, "2 children down: worker_3 (restarting) in demo_sup/demo_worker_sup, "
                                   "worker_4 (undefined) in demo_sup/demo_worker_sup");
    assert_ptr_equal(c->supervisor, &f->snap->supervisors[0]);

    /* more than a few: the reason counts the rest */
    w->n_down = 40;
    for (size_t i = 2; i < BP_CHILD_DOWN_MAX; i++)
        w->down[i] = "w (restarting)";
    f->snap->supervisors[0].n_down = 1;
    f->snap->supervisors[0].down[0] = "demo_worker_sup (restarting)";
    c = need(eval(f), "supervisor:demo_sup");
    assert_int_equal(c->n_children_down, 41);
    assert_true(c->n_children_listed <= 16);
    assert_contains(c->reason, "41 children down: demo_worker_sup (restarting) in demo_sup, ");
    assert_contains(c->reason, "+38 more");
}

static void supervisor_roots_apart(void **state)
{
    fx *f = *state;
    bp_snapshot *s = f->snap;
    /* a second root whose name extends the first's, with a child down in its own subtree */
    bp_supervisor_snap *sv = bp_arena_alloc(s->arena, 5 * sizeof *sv);
    memcpy(sv, s->supervisors, 3 * sizeof *sv);
    sv[3] = sv[0];
    sv[3].name = "demo_sup_extra";
    sv[4] = sv[1];
    sv[4].name = "demo_sup_extra/pool";
    sv[4].n_down = 1;
    sv[4].down[0] = "conn_1 (restarting)";
    s->supervisors = sv;
    s->n_supervisors = 5;
    const bp_report *r = eval(f);
    assert_check(r, "supervisor:demo_sup", BP_PASS);
    assert_check(r, "supervisor:demo_sup_extra", BP_FAIL);
    assert_int_equal(need(r, "supervisor:demo_sup_extra")->n_nested, 1);
    assert_int_equal(need(r, "supervisor:demo_sup")->n_nested, 2);
    assert_null(bp_report_find(r, "supervisor:demo_sup/demo_worker_sup"));
}

static void supervisor_errors(void **state)
{
    fx *f = *state;
    bp_fact_fail(f->snap, &f->snap->supervisors[0].fact, BP_FACT_ERROR, "not running");
    const bp_report *r = eval(f);
    assert_check(r, "supervisor:demo_sup", BP_FAIL);
    assert_string_equal(need(r, "supervisor:demo_sup")->reason, "not running");
    assert_false(r->incomplete);

    /* a nested one that timed out fails the root and makes it incomplete */
    f->snap->supervisors[0].fact.state = BP_FACT_OK;
    bp_fact_fail(f->snap, &f->snap->supervisors[2].fact, BP_FACT_TIMEOUT, "count_children timed out");
    r = eval(f);
    const bp_check *c = need(r, "supervisor:demo_sup");
    assert_int_equal(c->status, BP_FAIL);
    assert_true(c->incomplete);
    assert_contains(c->reason, "demo_sup/demo_governor_sup: count_children timed out");
    assert_int_equal(bp_report_exit_code(r, &f->cfg), BP_EXIT_INCOMPLETE);

    /* truncated child lists are noted, not failed */
    f->snap->supervisors[2].fact.state = BP_FACT_OK;
    f->snap->supervisors[1].children_truncated = 1;
    c = need(eval(f), "supervisor:demo_sup");
    assert_int_equal(c->status, BP_PASS);
    assert_true(c->children_truncated);
    assert_contains(c->reason, "child list truncated");
}

static void supervisor_not_collected(void **state)
{
    fx *f = *state;
    fixture_list_add(&f->cfg.supervisors, "demo_sup");
    fixture_list_add(&f->cfg.supervisors, "other_sup");
    const bp_report *r = eval(f);
    assert_check(r, "supervisor:demo_sup", BP_PASS);
    const bp_check *c = need(r, "supervisor:other_sup");
    assert_int_equal(c->status, BP_FAIL);
    assert_true(c->incomplete);
    assert_null(c->supervisor);
    assert_string_equal(c->reason, "not collected");
    assert_int_equal(bp_report_exit_code(r, &f->cfg), BP_EXIT_INCOMPLETE);
}

/* ---- governors ---- */

static void governor_states(void **state)
{
    fx *f = *state;
    bp_governor_snap *g = &f->snap->governors[0];
    g->state = "warning";
    const bp_report *r = eval(f);
    assert_check(r, "governor:cost_guard", BP_WARN);
    assert_string_equal(need(r, "governor:cost_guard")->reason, "state warning (warn state); queue 0, memory 10.0 KiB");
    assert_int_equal(bp_report_exit_code(r, &f->cfg), BP_EXIT_HEALTHY);
    f->cfg.strict = 1;
    assert_int_equal(bp_report_exit_code(r, &f->cfg), BP_EXIT_UNHEALTHY);

    g->state = "refusing";
    g->message_queue_len = 1234;
    r = eval(f);
    assert_check(r, "governor:cost_guard", BP_FAIL);
    assert_contains(need(r, "governor:cost_guard")->reason, "state refusing (fail state); queue 1234");

    g->state = "boot";
    assert_check(eval(f), "governor:cost_guard", BP_PASS);
}

/* Evaluates f; the check `name` must fail as incomplete, and so the whole report (exit 3). */
static const bp_check *need_incomplete(fx *f, const char *name)
{
    const bp_report *r = eval(f);
    const bp_check *c = need(r, name);
    assert_int_equal(c->status, BP_FAIL);
    assert_true(c->incomplete);
    assert_true(r->incomplete);
    assert_int_equal(bp_report_exit_code(r, &f->cfg), BP_EXIT_INCOMPLETE);
    return c;
}

static void governor_failures(void **state)
{
    fx *f = *state;
    bp_governor_snap *g = &f->snap->governors[0];
    g->alive = 0;
    const bp_report *r = eval(f);
    assert_check(r, "governor:cost_guard", BP_FAIL);
    assert_string_equal(need(r, "governor:cost_guard")->reason, "not registered");

    /* sys:get_state's own timeout (the target's error reply) is a definitive answer */
    g->alive = 1;
    bp_fact_fail(f->snap, &g->state_fact, BP_FACT_ERROR, "no reply to sys:get_state within 500 ms");
    r = eval(f);
    const bp_check *c = need(r, "governor:cost_guard");
    assert_int_equal(c->status, BP_FAIL);
    assert_false(c->incomplete);
    assert_false(r->incomplete);
    assert_contains(c->reason, "unresponsive: no reply to sys:get_state within 500 ms; queue 0");
    assert_int_equal(bp_report_exit_code(r, &f->cfg), BP_EXIT_UNHEALTHY);

    g->state_fact.error = NULL;
    assert_contains(need(eval(f), "governor:cost_guard")->reason, "unresponsive: sys:get_state failed");

    /* no reply before the probe's own deadline (e.g. the link cut mid-call): incomplete, not stuck */
    g->state_fact.state = BP_FACT_UNSET;
    bp_fact_fail(f->snap, &g->state_fact, BP_FACT_TIMEOUT, "timed out after 2000 ms waiting for sys:get_state");
    c = need_incomplete(f, "governor:cost_guard");
    assert_contains(c->reason, "timed out after 2000 ms waiting for sys:get_state; queue 0");
    assert_null(strstr(c->reason, "unresponsive"));

    /* the snapshot ran out of time before the governor was looked at */
    g->state_fact.state = BP_FACT_OK;
    bp_fact_fail(f->snap, &g->fact, BP_FACT_TIMEOUT, "deadline passed");
    (void)need_incomplete(f, "governor:cost_guard");
}

/* A family: members counted per state, the worst decides, members in warn/fail states named. */
static void governor_family(void **state)
{
    fx *f = *state;
    bp_snapshot *s = f->snap;
    bp_govfamily_snap *fam = bp_arena_alloc(s->arena, sizeof *fam);
    memset(fam, 0, sizeof *fam);
    fam->name = "tenant_sup";
    fam->fact.state = BP_FACT_OK;
    fam->n_total = fam->n_members = 5;
    fam->members = bp_arena_alloc(s->arena, 5 * sizeof *fam->members);
    static const char *const states[5] = { "stable", "stable", "refusing", "warning", NULL };
    for (int i = 0; i < 5; i++) {
        bp_governor_snap *g = &fam->members[i];
        memset(g, 0, sizeof *g);
        g->name = bp_arena_printf(s->arena, "t%d", i);
        g->fact.state = g->state_fact.state = BP_FACT_OK;
        g->alive = 1;
        g->state = states[i];
        g->unreadable = states[i] ? NULL : "a gen_server's state: give --governor-state-field";
    }
    s->families = fam;
    s->n_families = 1;
    const bp_report *r = eval(f);
    const bp_check *c = need(r, "governors:tenant_sup");
    assert_int_equal(c->status, BP_FAIL);
    assert_string_equal(c->reason, "5 governors: 2 stable, 1 refusing, 1 warning, 1 not readable; t2 refusing, t3 warning");
    assert_int_equal(c->n_flagged_total, 2);
    assert_int_equal(c->flagged[0].status, BP_FAIL);
    assert_int_equal(c->flagged[1].status, BP_WARN);

    fam->members[2].state = "stable";
    assert_check(eval(f), "governors:tenant_sup", BP_WARN);
    fam->members[3].state = "stable";
    assert_check(eval(f), "governors:tenant_sup", BP_PASS);

    /* a member that stopped answering, one that exited: both fail */
    bp_fact_fail(s, &fam->members[0].state_fact, BP_FACT_ERROR, "no reply to sys:get_state within 200 ms");
    fam->members[1].alive = 0;
    r = eval(f);
    c = need(r, "governors:tenant_sup");
    assert_int_equal(c->status, BP_FAIL);
    assert_contains(c->reason, "1 unresponsive, 1 not running");
    assert_false(c->incomplete);

    /* a member whose reply did not come before the probe's deadline: incomplete, counted apart */
    bp_fact_fail(s, &fam->members[0].state_fact, BP_FACT_TIMEOUT, "timed out after 1000 ms waiting for sys:get_state");
    assert_contains(need_incomplete(f, "governors:tenant_sup")->reason, "1 no answer in time, 1 not running");

    fam->n_total = fam->n_members = 0;
    r = eval(f);
    assert_check(r, "governors:tenant_sup", BP_WARN);
    assert_string_equal(need(r, "governors:tenant_sup")->reason, "0 governors found");

    bp_fact_fail(s, &fam->fact, BP_FACT_ERROR, "tenant_sup is not a supervisor (gen_server x)");
    assert_check(eval(f), "governors:tenant_sup", BP_FAIL);
}

static void governor_not_collected(void **state)
{
    fx *f = *state;
    fixture_list_add(&f->cfg.governors, "cost_guard");
    fixture_list_add(&f->cfg.governors, "rate_guard");
    const bp_report *r = eval(f);
    assert_check(r, "governor:cost_guard", BP_PASS);
    assert_true(need(r, "governor:rate_guard")->incomplete);
    assert_int_equal(r->n_checks, 11);
}

/* ---- custom ---- */

static void custom_verdicts(void **state)
{
    fx *f = *state;
    bp_custom_snap *k = &f->snap->custom[0];
    const bp_report *r = eval(f);
    assert_string_equal(need(r, "custom:demo:health")->reason, "returned ok");
    k->verdict = BP_VERDICT_WARN;
    k->detail = "{warn,<<\"disk 85%\">>}";
    r = eval(f);
    assert_check(r, "custom:demo:health", BP_WARN);
    assert_string_equal(need(r, "custom:demo:health")->reason, "returned {warn,<<\"disk 85%\">>}");
    k->verdict = BP_VERDICT_FAIL;
    assert_check(eval(f), "custom:demo:health", BP_FAIL);
    bp_fact_fail(f->snap, &k->fact, BP_FACT_ERROR, "undef");
    r = eval(f);
    assert_check(r, "custom:demo:health", BP_FAIL);
    assert_string_equal(need(r, "custom:demo:health")->reason, "undef");
}

/* ---- partial results and exit codes ---- */

static void partial_results(void **state)
{
    fx *f = *state;
    bp_fact_fail(f->snap, &f->snap->memory, BP_FACT_TIMEOUT, "erlang:memory() timed out");
    bp_fact_fail(f->snap, &f->snap->applications, BP_FACT_ERROR, "badrpc");
    f->snap->schedulers.state = BP_FACT_UNSET;
    const bp_report *r = eval(f);
    assert_int_equal(r->n_checks, 10);
    const bp_check *m = need(r, "memory");
    assert_int_equal(m->status, BP_FAIL);
    assert_true(m->incomplete);
    assert_string_equal(m->reason, "erlang:memory() timed out");
    assert_check(r, "applications", BP_FAIL);
    assert_false(need(r, "applications")->incomplete);
    assert_true(need(r, "schedulers")->incomplete);
    assert_string_equal(need(r, "schedulers")->reason, "not collected");
    /* everything else was still judged */
    assert_check(r, "limits", BP_PASS);
    assert_check(r, "membership", BP_PASS);
    assert_check(r, "governor:cost_guard", BP_PASS);
    assert_int_equal(r->status, BP_FAIL);
    assert_true(r->incomplete);
    assert_int_equal(bp_report_exit_code(r, &f->cfg), BP_EXIT_INCOMPLETE);
}

static void exit_codes(void **state)
{
    fx *f = *state;
    const bp_report *r = eval(f);
    assert_int_equal(bp_report_exit_code(r, &f->cfg), BP_EXIT_HEALTHY);
    f->cfg.strict = 1;
    assert_int_equal(bp_report_exit_code(r, &f->cfg), BP_EXIT_HEALTHY);
    assert_int_equal(bp_report_exit_code(r, NULL), BP_EXIT_HEALTHY);

    f->snap->run_queue = 9; /* warn */
    r = eval(f);
    assert_int_equal(r->status, BP_WARN);
    assert_int_equal(bp_report_exit_code(r, &f->cfg), BP_EXIT_UNHEALTHY);
    f->cfg.strict = 0;
    assert_int_equal(bp_report_exit_code(r, &f->cfg), BP_EXIT_HEALTHY);

    f->snap->run_queue = 100; /* fail */
    r = eval(f);
    assert_int_equal(bp_report_exit_code(r, &f->cfg), BP_EXIT_UNHEALTHY);

    assert_int_equal(bp_report_exit_code(NULL, &f->cfg), BP_EXIT_CONNECT);
}

static void names_and_lookup(void **state)
{
    fx *f = *state;
    assert_string_equal(bp_status_name(BP_PASS), "pass");
    assert_string_equal(bp_status_name(BP_WARN), "warn");
    assert_string_equal(bp_status_name(BP_FAIL), "fail");
    assert_string_equal(bp_overall_name(BP_PASS), "healthy");
    assert_string_equal(bp_overall_name(BP_WARN), "degraded");
    assert_string_equal(bp_overall_name(BP_FAIL), "unhealthy");
    assert_string_equal(bp_probe_name(BP_PROBE_LIVE), "live");
    assert_string_equal(bp_probe_name(BP_PROBE_READY), "ready");
    assert_string_equal(bp_probe_name(BP_PROBE_STARTUP), "startup");
    const bp_report *r = eval(f);
    assert_null(bp_report_find(r, "nope"));
    assert_null(bp_report_find(r, NULL));
    assert_null(bp_report_find(NULL, "memory"));
    assert_int_equal(bp_evaluate(NULL, &f->cfg, &f->rep), BP_EUSAGE);
    assert_int_equal(bp_evaluate(f->snap, NULL, &f->rep), BP_EUSAGE);

    char b[32];
    assert_string_equal(bp_format_bytes(512, b, sizeof b), "512 B");
    assert_string_equal(bp_format_bytes(1536, b, sizeof b), "1.5 KiB");
    assert_string_equal(bp_format_bytes(1LL << 30, b, sizeof b), "1.0 GiB");
    assert_string_equal(bp_format_bytes(-1, b, sizeof b), "?");
    assert_string_equal(bp_format_bytes(1LL << 30, b, 4), "1.0");
}

static void long_reasons_are_bounded(void **state)
{
    fx *f = *state;
    char name[BP_NAME_MAX];
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "some_quite_long_application_name_%02d", i);
        fixture_list_add(&f->cfg.require_apps, name);
    }
    const bp_check *c = need(eval(f), "applications");
    assert_int_equal(c->status, BP_FAIL);
    size_t len = strlen(c->reason);
    assert_true(len < BP_REASON_MAX);
    assert_string_equal(c->reason + len - 3, "...");
    assert_int_equal(f->rep.missing_apps.n, 20);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(healthy_ready),
        T(live_check_set),
        T(startup_check_set),
        T(liveness_ignores_cluster),
        T(connect_failure),
        T(connection_reason_plural),
        T(identity_cases),
        T(memory_thresholds),
        T(memory_limit_sources),
        T(memory_threshold_disabled),
        T(limits_thresholds),
        T(limits_ets_nominal_since_otp20),
        T(limits_worst_decides),
        T(limits_fds_thresholds),
        T(limits_fds_unknown),
        T(limits_fds_options),
        T(scheduler_thresholds),
        T(applications_required),
        T(membership_expectations),
        T(membership_size),
        T(membership_fact_error),
        T(supervisor_nested_rollup),
        T(supervisor_roots_apart),
        T(supervisor_errors),
        T(supervisor_not_collected),
        T(governor_states),
        T(governor_failures),
        T(governor_not_collected),
        T(governor_family),
        T(custom_verdicts),
        T(partial_results),
        T(exit_codes),
        T(names_and_lookup),
        T(long_reasons_are_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
