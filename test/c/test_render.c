/* test_render.c: unit tests of the JSON and text renderers (JSON parsed back with jansson). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "beamprobe.h"
#include "fixture_snapshot.h"

typedef fixture_fx fx;
#define setup fixture_fx_setup
#define teardown fixture_fx_teardown

/* Evaluate, render JSON (compact), parse it back; the document stays in f->doc. */
static json_t *render(fx *f)
{
    assert_int_equal(bp_evaluate(f->snap, &f->cfg, &f->rep), 0);
    free(f->out);
    json_decref(f->doc);
    f->out = bp_render_json(&f->rep, 0);
    assert_non_null(f->out);
    json_error_t err;
    f->doc = json_loads(f->out, 0, &err);
    if (!f->doc)
        fail_msg("invalid JSON (%s at %d): %.200s", err.text, err.position, f->out);
    assert_true(json_is_object(f->doc));
    return f->doc;
}

static char *render_text(fx *f)
{
    assert_int_equal(bp_evaluate(f->snap, &f->cfg, &f->rep), 0);
    free(f->out);
    f->out = bp_render_text(&f->rep);
    assert_non_null(f->out);
    return f->out;
}

/* The value at a "/"-separated path of object keys (no key here contains "/"). */
static json_t *at(json_t *doc, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *v = doc;
    for (char *save = NULL, *k = strtok_r(buf, "/", &save); k; k = strtok_r(NULL, "/", &save)) {
        v = json_object_get(v, k);
        if (!v)
            fail_msg("missing %s (at %s)", path, k);
    }
    return v;
}

static void assert_str_at(json_t *doc, const char *path, const char *want)
{
    json_t *v = at(doc, path);
    if (!json_is_string(v))
        fail_msg("%s is not a string", path);
    assert_string_equal(json_string_value(v), want);
}

static void assert_int_at(json_t *doc, const char *path, json_int_t want)
{
    json_t *v = at(doc, path);
    if (!json_is_integer(v))
        fail_msg("%s is not an integer", path);
    assert_int_equal(json_integer_value(v), want);
}

static void assert_null_at(json_t *doc, const char *path)
{
    if (!json_is_null(at(doc, path)))
        fail_msg("%s is not null", path);
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("output does not contain \"%s\":\n%s", needle, hay);
}

/* ---- JSON ---- */

static void json_top_level(void **state)
{
    fx *f = *state;
    json_t *d = render(f);
    assert_int_at(d, "schema_version", BP_SCHEMA_VERSION);
    assert_str_at(d, "status", "healthy");
    assert_str_at(d, "probe", "ready");
    assert_str_at(d, "node", "app@host1");
    assert_null_at(d, "given_as");
    assert_str_at(d, "timestamp", "2023-11-14T22:13:20.123Z");
    assert_int_at(d, "uptime_seconds", 7380);
    assert_true(json_is_real(at(d, "duration_ms")));
    assert_true(json_real_value(at(d, "duration_ms")) > 2.299 && json_real_value(at(d, "duration_ms")) < 2.301);
    assert_contains(f->out, "\"duration_ms\":2.3,");
    assert_int_at(d, "round_trips", 1);
    assert_true(json_is_false(at(d, "incomplete")));
    assert_true(json_is_object(at(d, "checks")));
    assert_int_equal(json_object_size(at(d, "checks")), 10);
    assert_true(json_is_object(at(d, "metrics")));

    /* keys in the documented order */
    static const char *const order[] = {"schema_version", "status", "probe", "node", "given_as", "timestamp",
                                        "uptime_seconds", "duration_ms", "round_trips", "plan", "plan_reason",
                                        "plan_unused", "connect_rtt_ms", "incomplete",
                                        "checks", "metrics"};
    size_t i = 0;
    const char *key;
    json_t *v;
    json_object_foreach(d, key, v) {
        assert_true(i < sizeof order / sizeof order[0]);
        assert_string_equal(key, order[i]);
        i++;
    }
    assert_int_equal(i, sizeof order / sizeof order[0]);
}

/* Probed as an address, the node states another name: reported by its own, the given one said once. */
static void json_and_text_given_as(void **state)
{
    fx *f = *state;
    assert_int_equal(bp_snapshot_set_node(f->snap, "app@host1"), 0); /* the same name: nothing to say */
    assert_null(f->snap->given_as);
    assert_int_equal(bp_snapshot_set_node(f->snap, "app@h1.example"), 0);
    json_t *d = render(f);
    assert_str_at(d, "node", "app@h1.example");
    assert_str_at(d, "given_as", "app@host1");
    assert_string_equal(bp_snapshot_target(f->snap), "app@host1");
    char *t = render_text(f);
    assert_true(strncmp(t, "app@h1.example: HEALTHY", 23) == 0);
    assert_contains(t, "\n(given as app@host1)\n");
    assert_null(strstr(strstr(t, "given as") + 1, "given as")); /* said once */
    /* the node states yet another name later: given_as stays the name it was probed by */
    assert_int_equal(bp_snapshot_set_node(f->snap, "app@10.0.0.1"), 0);
    assert_string_equal(f->snap->given_as, "app@host1");
    assert_int_equal(bp_snapshot_set_node(f->snap, "app@host1"), 0); /* back to the given name */
    assert_null(f->snap->given_as);
    assert_string_equal(bp_snapshot_name_or(f->snap, "given@h"), "given@h");
    assert_string_equal(bp_snapshot_name_or(NULL, "given@h"), "given@h");
}

static void json_checks(void **state)
{
    fx *f = *state;
    json_t *d = render(f);
    const char *key;
    json_t *c;
    json_object_foreach(at(d, "checks"), key, c) {
        assert_true(json_is_string(json_object_get(c, "status")));
        assert_string_equal(json_string_value(json_object_get(c, "status")), "pass");
        assert_true(json_is_string(json_object_get(c, "reason")));
        assert_true(json_is_boolean(json_object_get(c, "incomplete")));
    }
    assert_str_at(d, "checks/identity/reason", "OTP 25, ERTS 13.1.5, up 2h03m");
    assert_str_at(d, "checks/identity/otp_release", "25");

    assert_int_at(d, "checks/memory/total_bytes", 200LL << 20);
    assert_int_at(d, "checks/memory/limit_bytes", 1LL << 30);
    assert_str_at(d, "checks/memory/limit_source", "cgroup");
    assert_true(json_is_real(at(d, "checks/memory/ratio")));
    assert_true(json_real_value(at(d, "checks/memory/ratio")) > 0.195);
    assert_true(json_real_value(at(d, "checks/memory/warn_ratio")) == 0.8);

    assert_int_at(d, "checks/limits/processes/count", 300);
    assert_int_at(d, "checks/limits/processes/limit", 262144);
    assert_str_at(d, "checks/limits/atoms/status", "pass");
    assert_int_at(d, "checks/limits/ets/count", 40);
    assert_null_at(d, "checks/limits/ets/limit"); /* not enforced since OTP 20 */

    assert_int_at(d, "checks/schedulers/run_queue", 2);
    assert_int_at(d, "checks/schedulers/schedulers_online", 4);
    assert_int_at(d, "checks/schedulers/dirty_io_run_queue", 1);
    assert_true(json_real_value(at(d, "checks/schedulers/run_queue_per_scheduler")) == 0.5);

    json_t *running = at(d, "checks/applications/running");
    assert_int_equal(json_array_size(running), 4);
    assert_string_equal(json_string_value(json_object_get(json_array_get(running, 0), "name")), "kernel");
    assert_string_equal(json_string_value(json_object_get(json_array_get(running, 0), "version")), "8.5.3");
    assert_int_equal(json_array_size(at(d, "checks/applications/missing")), 0);

    assert_int_equal(json_array_size(at(d, "checks/membership/visible")), 2);
    assert_string_equal(json_string_value(json_array_get(at(d, "checks/membership/hidden"), 0)), "console@host1");
    assert_int_at(d, "checks/membership/cluster_size", 3);
    assert_null_at(d, "checks/membership/expected_size");

    json_t *sup = json_object_get(at(d, "checks"), "supervisor:demo_sup");
    assert_non_null(sup);
    assert_int_at(sup, "specs", 3);
    assert_int_at(sup, "nested", 2);
    assert_int_at(sup, "children_down_count", 0);
    assert_str_at(sup, "pid", "<0.90.0>");
    assert_true(json_is_array(at(sup, "children_down")));

    json_t *gov = json_object_get(at(d, "checks"), "governor:cost_guard");
    assert_non_null(gov);
    assert_str_at(gov, "state", "stable");
    assert_str_at(gov, "pid", "<0.96.0>");
    assert_true(json_is_true(at(gov, "alive")));
    assert_int_at(gov, "message_queue_len", 0);
    assert_int_at(gov, "memory_bytes", 10240);

    json_t *cus = json_object_get(at(d, "checks"), "custom:demo:health");
    assert_non_null(cus);
    assert_str_at(cus, "result", "pass");
    assert_str_at(cus, "detail", "ok");
    assert_str_at(cus, "mfa", "demo:health");
}

static void json_metrics(void **state)
{
    fx *f = *state;
    json_t *d = render(f);
    json_t *m = at(d, "metrics");
    assert_int_equal(json_object_size(at(m, "memory")), 9);
    assert_int_at(m, "memory/total", 200LL << 20);
    assert_int_at(m, "memory/atom_used", 900LL << 10);
    assert_int_at(m, "process_count", 300);
    assert_int_at(m, "process_limit", 262144);
    assert_int_at(m, "port_count", 50);
    assert_int_at(m, "atom_limit", 1048576);
    assert_int_at(m, "ets_count", 40);
    assert_int_at(m, "run_queue", 2);
    assert_int_at(m, "dirty_cpu_run_queue", 0);
    assert_int_at(m, "schedulers_online", 4);
    assert_str_at(m, "cgroup/version", "v2");
    assert_int_at(m, "cgroup/limit_bytes", 1LL << 30);
    assert_int_at(m, "cgroup/usage_bytes", 300LL << 20);
    assert_str_at(m, "otp_release", "25");
    assert_str_at(m, "erts_version", "13.1.5");
}

static void json_unknowns_are_null(void **state)
{
    fx *f = *state;
    bp_snapshot *s = f->snap;
    s->ets_limit = -1;
    s->dirty_io_run_queue = -1;
    s->uptime_ms = -1;
    s->cgroup_usage = -1;
    s->cgroup_limit = -1;
    s->timestamp_ms = 0;
    bp_fact_fail(s, &s->memory, BP_FACT_TIMEOUT, "timed out");
    s->governors[0].alive = 0;
    json_t *d = render(f);
    assert_null_at(d, "uptime_seconds");
    assert_null_at(d, "timestamp");
    assert_null_at(d, "metrics/ets_limit");
    assert_null_at(d, "metrics/dirty_io_run_queue");
    assert_null_at(d, "metrics/memory");
    assert_null_at(d, "metrics/cgroup/usage_bytes");
    assert_null_at(d, "metrics/cgroup/limit_bytes");
    assert_null_at(d, "checks/memory/total_bytes");
    assert_null_at(d, "checks/memory/limit_bytes");
    assert_null_at(d, "checks/memory/limit_source");
    assert_null_at(d, "checks/memory/ratio");
    assert_null_at(d, "checks/limits/ets/limit");
    assert_null_at(d, "checks/limits/ets/ratio");
    assert_null_at(d, "checks/limits/ets/status");
    assert_str_at(d, "checks/memory/status", "fail");
    assert_true(json_is_true(at(d, "checks/memory/incomplete")));
    assert_true(json_is_true(at(d, "incomplete")));
    assert_str_at(d, "status", "unhealthy");
    json_t *gov = json_object_get(at(d, "checks"), "governor:cost_guard");
    assert_true(json_is_false(at(gov, "alive")));
    assert_null_at(gov, "state");
    assert_null_at(gov, "pid");

    /* a cgroup that could not be read: no cgroup object at all */
    bp_fact_fail(s, &s->cgroup, BP_FACT_ERROR, "no cgroup");
    d = render(f);
    assert_null_at(d, "metrics/cgroup");
}

/* Open file descriptors: null like any unknown limit when not collected (remote probes). */
static void json_fds(void **state)
{
    fx *f = *state;
    json_t *d = render(f);
    json_t *fd = at(d, "checks/limits/fds");
    assert_true(json_is_object(fd));
    assert_null_at(fd, "count");
    assert_null_at(fd, "limit");
    assert_null_at(fd, "ratio");
    assert_null_at(fd, "status");
    assert_true(json_real_value(at(fd, "warn_ratio")) == 0.8);
    assert_true(json_real_value(at(fd, "fail_ratio")) == 0.9);
    assert_null_at(d, "metrics/open_fds");
    assert_null_at(d, "metrics/max_fds");
    assert_str_at(d, "checks/limits/status", "pass");
    assert_str_at(d, "checks/limits/reason", "atoms 20000 of 1048576 (1.9%; warn 80%, fail 90%)");
    assert_str_at(d, "status", "healthy");
    assert_true(json_is_false(at(d, "incomplete")));
    /* in the documented order: after the four VM limits, and after ets_limit in metrics */
    static const char *const order[] = {"status", "reason", "incomplete", "processes", "ports", "atoms", "ets", "fds"};
    size_t i = 0;
    const char *key;
    json_t *v;
    json_object_foreach(at(d, "checks/limits"), key, v) {
        assert_true(i < sizeof order / sizeof order[0]);
        assert_string_equal(key, order[i]);
        i++;
    }
    assert_int_equal(i, sizeof order / sizeof order[0]);
    assert_contains(f->out, "\"fds\":{\"count\":null,\"limit\":null,\"ratio\":null,\"status\":null,"
                            "\"warn_ratio\":0.8,\"fail_ratio\":0.9}}");
    assert_contains(f->out, "\"ets_limit\":8192,\"open_fds\":null,\"max_fds\":null,\"run_queue\":");

    /* collected inside the VM: judged like the other limits */
    fixture_fds(f->snap, 850, 1000);
    d = render(f);
    assert_int_at(d, "checks/limits/fds/count", 850);
    assert_int_at(d, "checks/limits/fds/limit", 1000);
    assert_true(json_real_value(at(d, "checks/limits/fds/ratio")) == 0.85);
    assert_str_at(d, "checks/limits/fds/status", "warn");
    assert_str_at(d, "checks/limits/status", "warn");
    assert_str_at(d, "checks/limits/reason", "fds 850 of 1000 (85.0%; warn 80%, fail 90%)");
    assert_str_at(d, "status", "degraded");
    assert_int_at(d, "metrics/open_fds", 850);
    assert_int_at(d, "metrics/max_fds", 1000);

    /* a count without a limit: reported, not judged */
    fixture_fds(f->snap, 12, -1);
    d = render(f);
    assert_int_at(d, "checks/limits/fds/count", 12);
    assert_null_at(d, "checks/limits/fds/limit");
    assert_null_at(d, "checks/limits/fds/ratio");
    assert_null_at(d, "checks/limits/fds/status");
    assert_int_at(d, "metrics/open_fds", 12);
    assert_null_at(d, "metrics/max_fds");
    assert_str_at(d, "status", "healthy");
}

static void json_degraded_and_failing_details(void **state)
{
    fx *f = *state;
    f->snap->run_queue = 9;
    json_t *d = render(f);
    assert_str_at(d, "status", "degraded");
    assert_str_at(d, "checks/schedulers/status", "warn");

    fixture_list_add(&f->cfg.require_apps, "ssl");
    fixture_list_add(&f->cfg.expect_peers, "app@host4");
    f->cfg.expect_size = 4;
    f->snap->supervisors[1].n_down = 1;
    f->snap->supervisors[1].down[0] = "worker_2 (restarting)";
    f->snap->custom[0].verdict = BP_VERDICT_WARN;
    d = render(f);
    assert_str_at(d, "status", "unhealthy");
    assert_string_equal(json_string_value(json_array_get(at(d, "checks/applications/missing"), 0)), "ssl");
    assert_string_equal(json_string_value(json_array_get(at(d, "checks/membership/missing"), 0)), "app@host4");
    assert_int_at(d, "checks/membership/expected_size", 4);
    assert_str_at(d, "checks/membership/status", "fail");
    json_t *sup = json_object_get(at(d, "checks"), "supervisor:demo_sup");
    assert_int_at(sup, "children_down_count", 1);
    json_t *down = json_array_get(at(sup, "children_down"), 0);
    assert_str_at(down, "supervisor", "demo_sup/demo_worker_sup");
    assert_str_at(down, "child", "worker_2 (restarting)");
    json_t *cus = json_object_get(at(d, "checks"), "custom:demo:health");
    assert_str_at(cus, "status", "warn");
    assert_str_at(cus, "result", "warn");
}

static void json_connect_failure(void **state)
{
    fx *f = *state;
    f->snap->connect.state = BP_FACT_ERROR;
    f->snap->connect.error = "node not registered with EPMD";
    f->snap->connect_code = BP_ENOTREG;
    /* a failed connection leaves no facts behind */
    f->snap->identity.state = f->snap->memory.state = f->snap->limits.state = BP_FACT_UNSET;
    f->snap->schedulers.state = f->snap->membership.state = f->snap->cgroup.state = BP_FACT_UNSET;
    f->snap->applications.state = BP_FACT_UNSET;
    json_t *d = render(f);
    assert_str_at(d, "status", "unhealthy");
    assert_true(json_is_false(at(d, "incomplete")));
    assert_int_equal(json_object_size(at(d, "checks")), 1);
    assert_str_at(d, "checks/connection/status", "fail");
    assert_str_at(d, "checks/connection/reason", "node not registered with EPMD");
    assert_int_at(d, "checks/connection/error_code", BP_ENOTREG);
    assert_null_at(d, "uptime_seconds");
    assert_null_at(d, "metrics/memory");
    assert_null_at(d, "metrics/process_count");
    assert_null_at(d, "metrics/otp_release");
    assert_null_at(d, "metrics/cgroup");
    assert_null_at(d, "metrics/open_fds");
    assert_str_at(d, "node", "app@host1");
}

static void json_pretty_and_deterministic(void **state)
{
    fx *f = *state;
    assert_int_equal(bp_evaluate(f->snap, &f->cfg, &f->rep), 0);
    char *a = bp_render_json(&f->rep, 0);
    char *b = bp_render_json(&f->rep, 0);
    char *p = bp_render_json(&f->rep, 1);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(p);
    assert_string_equal(a, b);
    assert_null(strchr(a, '\n'));
    assert_null(strstr(a, ": "));
    assert_true(strncmp(p, "{\n  \"schema_version\": 1,\n  \"status\": \"healthy\",", 47) == 0);
    assert_contains(p, "\n    \"connection\": {\n      \"status\": \"pass\",");
    json_t *ja = json_loads(a, 0, NULL), *jp = json_loads(p, 0, NULL);
    assert_non_null(ja);
    assert_non_null(jp);
    assert_true(json_equal(ja, jp));
    json_decref(ja);
    json_decref(jp);
    free(a);
    free(b);
    free(p);
}

/* Strings from the wire may hold anything; the document must stay valid JSON. */
static void json_hostile_strings(void **state)
{
    fx *f = *state;
    bp_snapshot *s = f->snap;
    static const char evil[] = "q\"uo\\te\n\r\t\x01\x1b[31mred\x7f \xff\xfe bad \xc3\x28 \xed\xa0\x80 ok \xc3\xa9 "
                               "\xc2\x9b" "2J";
    size_t big = 100000;
    char *huge = bp_arena_alloc(s->arena, big + 1);
    memset(huge, 'x', big);
    huge[0] = '"';
    huge[big - 1] = '\\';
    s->node = evil;
    s->otp_release = evil;
    s->governors[0].name = huge;
    s->governors[0].state = evil;
    s->governors[0].pid = evil;
    s->custom[0].mfa = evil;
    s->custom[0].detail = huge;
    s->custom[0].verdict = BP_VERDICT_WARN;
    s->apps[1].name = evil;
    s->apps[2].version = huge;
    s->visible.v[0] = evil;
    s->memory_kinds[2].kind = evil;
    s->supervisors[0].name = evil;
    s->supervisors[0].n_down = 1;
    s->supervisors[0].down[0] = evil;
    fixture_list_add(&f->cfg.require_apps, evil);
    fixture_list_add(&f->cfg.governor_warn_states, evil);
    json_t *d = render(f);

    const char *node = json_string_value(at(d, "node"));
    assert_non_null(node);
    assert_true(strncmp(node, "q\"uo\\te\n\r\t\x01\x1b[31mred\x7f ", 20) == 0); /* valid parts survive */
    assert_contains(node, "\xef\xbf\xbd");                                     /* invalid bytes replaced */
    assert_contains(node, " ok \xc3\xa9");

    char gov_key[64];
    snprintf(gov_key, sizeof gov_key, "governor:\"xxx");
    json_t *gov = NULL;
    const char *key;
    json_t *v;
    json_object_foreach(at(d, "checks"), key, v) {
        if (strncmp(key, gov_key, strlen(gov_key)) == 0)
            gov = v;
    }
    assert_non_null(gov);
    assert_int_equal(strlen(json_string_value(at(gov, "name"))), big);
    assert_str_at(gov, "status", "warn");
    json_t *cus = NULL;
    json_object_foreach(at(d, "checks"), key, v) {
        if (strncmp(key, "custom:", 7) == 0)
            cus = v;
    }
    assert_non_null(cus);
    assert_int_equal(strlen(json_string_value(at(cus, "detail"))), big);
    assert_true(strlen(json_string_value(at(cus, "reason"))) < BP_REASON_MAX);

    /* the text renderer shows no control characters either */
    char *t = render_text(f);
    for (const char *c = t; *c; c++)
        assert_true((unsigned char)*c >= 0x20 || *c == '\n');
    assert_contains(t, "q\"uo\\te?????[31mred? ");
    assert_null(strstr(t, "\xc2\x9b"));
    assert_contains(t, " ok \xc3\xa9 ?2J");
}

static void json_duplicate_check_names(void **state)
{
    fx *f = *state;
    bp_snapshot *s = f->snap;
    bp_governor_snap *g = bp_arena_alloc(s->arena, 2 * sizeof *g);
    g[0] = s->governors[0];
    g[1] = s->governors[0];
    g[1].state = "refusing";
    s->governors = g;
    s->n_governors = 2;
    json_t *d = render(f);
    assert_str_at(json_object_get(at(d, "checks"), "governor:cost_guard"), "status", "pass");
    assert_str_at(json_object_get(at(d, "checks"), "governor:cost_guard#2"), "status", "fail");
}

/* ---- text ---- */

static void text_healthy(void **state)
{
    fx *f = *state;
    char *t = render_text(f);
    assert_true(strncmp(t, "app@host1: HEALTHY (ready probe, 2.3 ms, 1 round trip)\n", 55) == 0);
    /* names padded to the longest ("governor:cost_guard", 19) plus two spaces */
    assert_contains(t, "\nPASS  connection           connected, 1 round trip, 2.3 ms\n");
    assert_contains(t, "\nPASS  identity             OTP 25, ERTS 13.1.5, up 2h03m\n");
    assert_contains(t, "\nPASS  governor:cost_guard  state stable; queue 0, memory 10.0 KiB\n");
    assert_contains(t, "\nPASS  custom:demo:health   returned ok\n");
    assert_contains(t, "\n  memory      200.0 MiB of 1.0 GiB cgroup limit (19.5%)\n");
    assert_contains(t, "\n  processes   300 of 262144, ports 50, atoms 20000, ets 40\n");
    assert_contains(t, "\n  run queue   2 over 4 schedulers, dirty cpu 0, dirty io 1\n");
    assert_contains(t, "\n  nodes       2 visible, 1 hidden\n");
    /* every reason starts in the same column */
    size_t lines = 0;
    for (const char *l = strchr(t, '\n') + 1; *l && strncmp(l, "PASS", 4) == 0; l = strchr(l, '\n') + 1) {
        assert_true(l[6 + 19 + 1] == ' ' && l[6 + 19 + 2] != ' ');
        lines++;
    }
    assert_int_equal(lines, 10);
}

static void text_failures(void **state)
{
    fx *f = *state;
    bp_fact_fail(f->snap, &f->snap->memory, BP_FACT_TIMEOUT, "erlang:memory() timed out");
    f->snap->governors[0].state = "warning";
    f->cfg.probe = BP_PROBE_LIVE;
    char *t = render_text(f);
    assert_contains(t, "app@host1: UNHEALTHY, INCOMPLETE (live probe, 2.3 ms, 1 round trip)\n");
    assert_contains(t, "\nFAIL  memory      erlang:memory() timed out [incomplete]\n");
    assert_contains(t, "\nPASS  limits      ");
    f->cfg.probe = BP_PROBE_READY;
    t = render_text(f);
    assert_contains(t, "\nWARN  governor:cost_guard  state warning (warn state)");

    f->snap->connect.state = BP_FACT_ERROR;
    f->snap->connect.error = "connection refused";
    t = render_text(f);
    assert_string_equal(t, "app@host1: UNHEALTHY (ready probe, 2.3 ms, 1 round trip)\n"
                           "FAIL  connection  connection refused\n");
}

/* The open fds line only when they are known: a remote probe's text is as before. */
static void text_fds(void **state)
{
    fx *f = *state;
    char *t = render_text(f);
    assert_null(strstr(t, "fds"));
    fixture_fds(f->snap, 12, 1024);
    t = render_text(f);
    assert_contains(t, "\n  processes   300 of 262144, ports 50, atoms 20000, ets 40\n"
                       "  open fds    12 of 1024\n"
                       "  run queue   ");
    fixture_fds(f->snap, 950, 1000);
    t = render_text(f);
    assert_contains(t, "\nFAIL  limits               fds 950 of 1000 (95.0%; warn 80%, fail 90%)\n");
    assert_contains(t, "\n  open fds    950 of 1000\n");
    fixture_fds(f->snap, 12, -1);
    t = render_text(f);
    assert_contains(t, "\n  open fds    12 of ?\n");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(json_top_level),
        T(json_and_text_given_as),
        T(json_checks),
        T(json_metrics),
        T(json_unknowns_are_null),
        T(json_fds),
        T(json_degraded_and_failing_details),
        T(json_connect_failure),
        T(json_pretty_and_deterministic),
        T(json_hostile_strings),
        T(json_duplicate_check_names),
        T(text_healthy),
        T(text_failures),
        T(text_fds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
