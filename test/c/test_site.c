/* test_site.c: serve's health site without sockets: one target, 1024 targets published from many threads, reloads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "dist/monitor.h"
#include "discover/nodeset.h"
#include "fixture_snapshot.h"
#include "http/site.h"
#include "http/site_int.h"

/* ---------- helpers ---------- */

typedef struct {
    int status;
    char *text;     /* body and tail, NUL-terminated (malloc'd) */
    size_t len;
    int borrowed;   /* the body came from a published view or text, not from a per-request buffer */
    char headers[512];  /* the handler's header lines */
} answer;

static answer get(bp_site *site, const char *path)
{
    bp_http_request req = { .method = "GET", .method_len = 3, .path = path, .path_len = strlen(path) };
    bp_http_response resp;
    memset(&resp, 0, sizeof resp);
    bp_site_handle(site, &req, &resp);
    answer a = { .status = resp.status, .len = resp.body_len + resp.tail_len };
    a.text = malloc(a.len + 1);
    assert_non_null(a.text);
    if (resp.body_len)
        memcpy(a.text, resp.body, resp.body_len);
    if (resp.tail_len)
        memcpy(a.text + resp.body_len, resp.tail, resp.tail_len);
    a.text[a.len] = '\0';
    snprintf(a.headers, sizeof a.headers, "%.*s", (int)resp.headers_len, resp.headers);
    a.borrowed = resp.release != NULL && resp.release != free;
    if (resp.release)
        resp.release(resp.hold);
    return a;
}

static json_t *get_json(bp_site *site, const char *path, int *status)
{
    answer a = get(site, path);
    json_error_t e;
    json_t *j = json_loads(a.text, 0, &e);
    if (!j)
        fail_msg("%s: not JSON (%s): %.300s", path, e.text, a.text);
    *status = a.status;
    free(a.text);
    return j;
}

/* Occurrences of needle in hay. */
static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void config(bp_config *c)
{
    fixture_config(c);
    c->max_age_ms = 60000;
    c->interval_ms = 2000;
    c->timeout_ms = 1000;
}

/* A healthy snapshot of `node`, or one whose connection failed. */
static bp_snapshot *snap_of(const char *node, int up)
{
    bp_snapshot *s = fixture_snapshot();
    assert_non_null(s);
    s->node = bp_arena_strdup(s->arena, node);
    if (!up) {
        bp_snapshot_free(s);
        s = bp_snapshot_new(node);
        assert_non_null(s);
        s->connect_code = BP_ECONNECT;
        bp_fact_fail(s, &s->connect, BP_FACT_ERROR, "connection refused");
    }
    return s;
}

/* n names app@10.0.<i/250>.<i%250+1> */
static void names(bp_nodeset *set, size_t n)
{
    char name[64];
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "app@10.0.%zu.%zu", i / 250, i % 250 + 1);
        assert_int_equal(bp_nodeset_add(set, name), 0);
    }
}

/* A site over BP_TARGETS_MAX targets (cmocka state). */
typedef struct {
    bp_config cfg;
    bp_nodeset set;
    bp_site *site;
} many;

static int many_setup(void **state)
{
    many *m = calloc(1, sizeof *m);
    if (!m)
        return -1;
    config(&m->cfg);
    names(&m->set, BP_TARGETS_MAX);
    m->site = bp_site_new(&m->cfg, (const char (*)[BP_NAME_MAX])m->set.v, m->set.n, NULL);
    if (!m->site)
        return -1;
    bp_site_set_quiet(m->site, 1);
    *state = m;
    return 0;
}

static int many_teardown(void **state)
{
    many *m = *state;
    bp_site_free(m->site);
    bp_nodeset_free(&m->set);
    free(m);
    return 0;
}

/* ---------- one target ---------- */

static void test_one_target(void **state)
{
    (void)state;
    static bp_config c;
    config(&c);
    char target[1][BP_NAME_MAX] = { "app@host1" };
    bp_site *s = bp_site_new(&c, (const char (*)[BP_NAME_MAX])target, 1, NULL);
    assert_non_null(s);
    bp_site_set_quiet(s, 1);
    assert_int_equal(bp_site_targets(s)->n, 1);

    answer a = get(s, "/health/ready"); /* nothing published yet */
    assert_int_equal(a.status, 503);
    assert_non_null(strstr(a.text, "\"status\":\"unknown\""));
    assert_non_null(strstr(a.text, "\"stale\":true}"));
    free(a.text);

    bp_snapshot *first = snap_of("app@host1", 1);
    first->duration_us = 5084; /* 5.084 ms: JSON says 5.084, not 5.0839999999999996 */
    bp_site_publish(s, first);
    bp_site_publish(s, snap_of("other@host9", 1)); /* not a target: ignored */
    const char *probes[] = { "/health/live", "/livez", "/health/ready", "/healthz", "/health/startup", "/health" };
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        a = get(s, probes[i]);
        assert_int_equal(a.status, 200);
        assert_true(a.borrowed); /* one target: the published body itself, no per-request buffer */
        assert_non_null(strstr(a.text, "\"node\":\"app@host1\""));
        if (strcmp(probes[i], "/health") == 0) /* the full report */
            assert_non_null(strstr(a.text, "\"duration_ms\":5.084,"));
        assert_non_null(strstr(a.text, "\"stale\":false}\n"));
        assert_null(strstr(a.text, "\"nodes\""));
        assert_non_null(strstr(a.headers, "Age: 0\r\nX-Beamprobe-Report-Age: 0."));
        free(a.text);
    }
    a = get(s, "/metrics");
    assert_int_equal(a.status, 200);
    assert_true(a.borrowed); /* the pre-rendered text, ages in the tail */
    assert_int_equal(count(a.text, "beamprobe_up{node=\"app@host1\"} 1\n"), 1);
    assert_int_equal(count(a.text, "beamprobe_report_age_seconds{node=\"app@host1\"} "), 1);
    assert_int_equal(count(a.text, "other@host9"), 0);
    free(a.text);

    bp_site_publish(s, snap_of("app@host1", 0)); /* connection lost */
    a = get(s, "/health/live");
    assert_int_equal(a.status, 503);
    free(a.text);
    a = get(s, "/metrics"); /* one target: rebuilt before publish returned */
    assert_int_equal(count(a.text, "beamprobe_up{node=\"app@host1\"} 0\n"), 1);
    free(a.text);
    bp_site_free(s);
}

/* ---------- as many targets as serve takes ---------- */

static void test_target_limit(void **state)
{
    (void)state;
    static bp_config c;
    config(&c);
    bp_nodeset set = { .max = BP_TARGETS_MAX + 1 };
    names(&set, BP_TARGETS_MAX + 1);
    bp_site *s = bp_site_new(&c, (const char (*)[BP_NAME_MAX])set.v, set.n, NULL);
    assert_null(s); /* one more than BP_TARGETS_MAX */
    s = bp_site_new(&c, (const char (*)[BP_NAME_MAX])set.v, BP_TARGETS_MAX, NULL);
    assert_non_null(s);
    assert_int_equal(bp_site_targets(s)->n, BP_TARGETS_MAX);
    assert_string_equal(bp_site_targets(s)->v[BP_TARGETS_MAX - 1], set.v[BP_TARGETS_MAX - 1]);
    bp_site_free(s);

    /* duplicates count once, order is kept */
    char dup[4][BP_NAME_MAX] = { "b@h", "a@h", "b@h", "c@h" };
    s = bp_site_new(&c, (const char (*)[BP_NAME_MAX])dup, 4, NULL);
    assert_non_null(s);
    assert_int_equal(bp_site_targets(s)->n, 3);
    assert_string_equal(bp_site_targets(s)->v[0], "b@h");
    assert_string_equal(bp_site_targets(s)->v[2], "c@h");
    bp_site_free(s);
    bp_nodeset_free(&set);
}

typedef struct {
    bp_site *site;
    const bp_nodeset *set;
    size_t from, step; /* publishes set->v[from], v[from + step], ... */
    int up;
} publisher;

static void *publish_some(void *arg)
{
    publisher *p = arg;
    for (size_t i = p->from; i < p->set->n; i += p->step)
        bp_site_publish(p->site, snap_of(p->set->v[i], p->up));
    return NULL;
}

/* Publish every target from `threads` threads at once, with monitor-sized stacks. */
static void publish_all(bp_site *s, const bp_nodeset *set, size_t threads, int up)
{
    pthread_t t[16];
    publisher p[16];
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, BP_MONITOR_STACK); /* publishes run on monitor threads */
    for (size_t i = 0; i < threads; i++) {
        p[i] = (publisher){ .site = s, .set = set, .from = i, .step = threads, .up = up };
        assert_int_equal(pthread_create(&t[i], &attr, publish_some, &p[i]), 0);
    }
    pthread_attr_destroy(&attr);
    for (size_t i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(bp__site_settle(s, 60000), 0); /* the builder thread has covered every publish */
}

static void test_1024_targets(void **state)
{
    bp_site *s = ((many *)*state)->site;
    const bp_nodeset *set = &((many *)*state)->set;

    int status;
    json_t *j = get_json(s, "/health/live", &status); /* nothing published: every node unknown */
    assert_int_equal(status, 503);
    assert_int_equal(json_array_size(json_object_get(j, "nodes")), BP_TARGETS_MAX);
    json_decref(j);

    answer none = get(s, "/health/live"); /* no report yet: no age to tell */
    assert_null(strstr(none.headers, "Age: "));
    free(none.text);
    publish_all(s, set, 16, 1);
    /* a multi-target answer is as old as its oldest report, and says so like a single one */
    answer aged = get(s, "/health/ready");
    assert_non_null(strstr(aged.headers, "Age: "));
    assert_non_null(strstr(aged.headers, "X-Beamprobe-Report-Age: "));
    free(aged.text);
    /* the probe routes and the aggregates cover them all */
    const char *routes[] = { "/health/live", "/health/ready", "/health/startup", "/health" };
    for (size_t r = 0; r < sizeof routes / sizeof routes[0]; r++) {
        j = get_json(s, routes[r], &status);
        assert_int_equal(status, 200);
        assert_true(json_is_true(json_object_get(j, "ok")));
        json_t *nodes = json_object_get(j, "nodes");
        assert_int_equal(json_array_size(nodes), BP_TARGETS_MAX);
        for (size_t i = 0; i < BP_TARGETS_MAX; i++) {
            json_t *n = json_array_get(nodes, i);
            assert_string_equal(json_string_value(json_object_get(n, "node")), set->v[i]); /* in target order */
            assert_true(json_is_false(json_object_get(n, "stale")));
        }
        json_decref(j);
    }
    answer a = get(s, "/metrics");
    assert_int_equal(a.status, 200);
    assert_int_equal(count(a.text, "\nbeamprobe_up{node=\"app@10.0."), BP_TARGETS_MAX);
    assert_int_equal(count(a.text, "} 1\nbeamprobe_up{"), BP_TARGETS_MAX - 1); /* all up */
    assert_int_equal(count(a.text, "\nbeamprobe_report_age_seconds{node=\"app@10.0."), BP_TARGETS_MAX);
    assert_non_null(strstr(a.text, "beamprobe_up{node=\"app@10.0.4.24\"} 1\n")); /* the last one */
    assert_int_equal(count(a.text, "# TYPE beamprobe_up gauge\n"), 1);
    free(a.text);
    j = get_json(s, "/health/cluster", &status);
    assert_int_equal(json_integer_value(json_object_get(j, "probed")), BP_TARGETS_MAX);
    assert_int_equal(json_integer_value(json_object_get(j, "reachable")), BP_TARGETS_MAX);
    json_decref(j);

    /* one target goes down: its own entry fails, and so does the whole answer */
    bp_site_publish(s, snap_of(set->v[700], 0));
    j = get_json(s, "/health/live", &status);
    assert_int_equal(status, 503);
    assert_true(json_is_false(json_object_get(j, "ok")));
    assert_true(json_is_false(json_object_get(json_array_get(json_object_get(j, "nodes"), 700), "ok")));
    assert_true(json_is_true(json_object_get(json_array_get(json_object_get(j, "nodes"), 699), "ok")));
    json_decref(j);
    assert_int_equal(bp__site_settle(s, 60000), 0);
    a = get(s, "/metrics");
    assert_non_null(strstr(a.text, "beamprobe_up{node=\"app@10.0.2.201\"} 0\n")); /* v[700] */
    free(a.text);

    /* all down, from many threads again: the last rebuild covers the last publish */
    publish_all(s, set, 16, 0);
    a = get(s, "/metrics");
    assert_int_equal(count(a.text, "} 0\nbeamprobe_up{"), BP_TARGETS_MAX - 1);
    assert_non_null(strstr(a.text, "beamprobe_cluster_nodes{state=\"unreachable\"} 1024\n"));
    free(a.text);
}

/* The cost of one answer over 1024 targets: a few milliseconds at most, the single-target path far less. */
static void test_answer_cost(void **state)
{
    bp_site *s = ((many *)*state)->site;
    publish_all(s, &((many *)*state)->set, 8, 1);
    int64_t t0 = bp_now_us();
    for (int i = 0; i < 20; i++)
        free(get(s, "/health/ready").text);
    int64_t ready_us = (bp_now_us() - t0) / 20;
    t0 = bp_now_us();
    for (int i = 0; i < 5; i++)
        free(get(s, "/metrics").text);
    int64_t metrics_us = (bp_now_us() - t0) / 5;
    print_message("      1024 targets: /health/ready %lld us, /metrics %lld us per answer\n", (long long)ready_us,
                  (long long)metrics_us);
    assert_true(ready_us < 50000); /* generous: sanitizers and a busy machine */
    assert_true(metrics_us < 200000);
}

/* ---------- reload ---------- */

static void test_reload_carries_views(void **state)
{
    (void)state;
    static bp_config c;
    config(&c);
    char before[2][BP_NAME_MAX] = { "a@h", "b@h" };
    char after[3][BP_NAME_MAX] = { "c@h", "b@h", "a@h" };
    bp_site *old = bp_site_new(&c, (const char (*)[BP_NAME_MAX])before, 2, NULL);
    assert_non_null(old);
    bp_site_set_quiet(old, 1);
    bp_site_publish(old, snap_of("a@h", 1));
    bp_site_publish(old, snap_of("b@h", 0));
    assert_int_equal(bp__site_settle(old, 60000), 0);
    bp_site *s = bp_site_new_from(&c, (const char (*)[BP_NAME_MAX])after, 3, NULL, old);
    assert_non_null(s);
    bp_site_free(old); /* the carried views are the new site's too */
    bp_site_set_quiet(s, 1);
    int status;
    json_t *j = get_json(s, "/health/live", &status);
    json_t *nodes = json_object_get(j, "nodes");
    assert_int_equal(json_array_size(nodes), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(nodes, 0), "status")), "unknown");
    assert_true(json_is_false(json_object_get(json_array_get(nodes, 1), "ok"))); /* b: down, carried */
    assert_string_equal(json_string_value(json_object_get(json_array_get(nodes, 2), "node")), "a@h");
    assert_true(json_is_true(json_object_get(json_array_get(nodes, 2), "ok"))); /* a: healthy, carried */
    json_decref(j);
    answer a = get(s, "/metrics");
    assert_non_null(strstr(a.text, "beamprobe_up{node=\"a@h\"} 1\n"));
    assert_non_null(strstr(a.text, "beamprobe_up{node=\"b@h\"} 0\n"));
    assert_non_null(strstr(a.text, "beamprobe_up{node=\"c@h\"} 0\n"));
    free(a.text);
    bp_site_free(s);
}

/* ---------- discovery ---------- */

/* A discovery state of one DNS source: answered (have) or not, with its error. */
static bp_discovery_status dns_status(int have, const char *error)
{
    bp_discovery_status st = { .n = 1 };
    snprintf(st.v[0].label, sizeof st.v[0].label, "--dns app.svc");
    st.v[0].have = have;
    st.v[0].ok = error == NULL;
    st.v[0].found = have ? 1 : 0;
    st.v[0].last_success_wall_ms = have ? 1764900000500 : 0;
    st.v[0].failures_total = 3;
    snprintf(st.v[0].error, sizeof st.v[0].error, "%s", error ? error : "");
    return st;
}

static void test_discovery_gate(void **state)
{
    (void)state;
    static bp_config c;
    config(&c);
    /* no target yet: liveness is the probe's own (200), the verdicts fail naming the source */
    bp_site *s = bp_site_new(&c, NULL, 0, NULL);
    assert_non_null(s);
    bp_site_set_quiet(s, 1);
    bp_discovery_status st = dns_status(0, "no answer from 10.0.0.10:53 \"quoted\"");
    assert_int_equal(bp_site_set_discovery(s, &st), 0);
    int status;
    json_t *j = get_json(s, "/health/live", &status);
    assert_int_equal(status, 200);
    assert_int_equal(json_array_size(json_object_get(j, "nodes")), 0);
    json_decref(j);
    const char *gated[] = { "/health/ready", "/health/startup", "/health" };
    for (size_t i = 0; i < 3; i++) {
        j = get_json(s, gated[i], &status);
        assert_int_equal(status, 503);
        assert_false(json_is_true(json_object_get(j, "ok")));
        assert_string_equal(json_string_value(json_object_get(j, "reason")),
                            "discovery --dns app.svc: no answer from 10.0.0.10:53 \"quoted\"");
        json_t *d = json_array_get(json_object_get(j, "discovery"), 0);
        assert_string_equal(json_string_value(json_object_get(d, "source")), "--dns app.svc");
        assert_true(json_is_null(json_object_get(d, "last_success")));
        json_decref(j);
    }
    j = get_json(s, "/health/cluster", &status);
    assert_int_equal(status, 503);
    assert_non_null(strstr(json_string_value(json_object_get(j, "discovery_reason")), "10.0.0.10:53"));
    json_decref(j);
    answer a = get(s, "/metrics");
    assert_int_equal(a.status, 200);
    assert_non_null(strstr(a.text, "# TYPE beamprobe_discovery_ok gauge\nbeamprobe_discovery_ok{source=\"--dns app.svc\"} 0\n"));
    assert_non_null(strstr(a.text, "beamprobe_discovery_last_success_timestamp_seconds{source=\"--dns app.svc\"} 0\n"));
    assert_non_null(strstr(a.text, "beamprobe_discovery_failures_total{source=\"--dns app.svc\"} 3\n"));
    assert_null(strstr(a.text, "beamprobe_discovery_nodes{")); /* nothing found yet */
    free(a.text);
    a = get(s, "/");
    assert_non_null(strstr(a.text, "id=\"notice\""));
    free(a.text);

    /* a --node target and the source answered once, failing now: its nodes stay, nothing is gated */
    char target[1][BP_NAME_MAX] = { "app@host1" };
    bp_site *t = bp_site_new_from(&c, (const char (*)[BP_NAME_MAX])target, 1, NULL, s);
    assert_non_null(t);
    bp_site_set_quiet(t, 1);
    bp_site_free(s);
    st = dns_status(0, "SERVFAIL");
    bp_site_set_discovery(t, &st);
    bp_site_publish(t, snap_of("app@host1", 1));
    j = get_json(t, "/health/ready", &status);
    assert_int_equal(status, 503); /* the node is healthy, but the source never answered */
    assert_int_equal(json_array_size(json_object_get(j, "nodes")), 1);
    json_decref(j);
    j = get_json(t, "/health/live", &status);
    assert_int_equal(status, 200);
    json_decref(j);
    st = dns_status(1, "SERVFAIL");
    bp_site_set_discovery(t, &st);
    a = get(t, "/health/ready");
    assert_int_equal(a.status, 200);
    assert_null(strstr(a.text, "\"nodes\"")); /* one target, its own answer again */
    free(a.text);
    a = get(t, "/metrics");
    assert_non_null(strstr(a.text, "beamprobe_discovery_last_success_timestamp_seconds{source=\"--dns app.svc\"} 1764900000.5\n"));
    assert_non_null(strstr(a.text, "beamprobe_discovery_nodes{source=\"--dns app.svc\"} 1\n"));
    free(a.text);
    bp_site_set_discovery(t, NULL); /* none: no families */
    a = get(t, "/metrics");
    assert_null(strstr(a.text, "beamprobe_discovery_"));
    free(a.text);
    bp_site_free(t);
}

/* The text of an answer up to its first age field (ages differ between two answers by a millisecond). */
static size_t before_age(const char *text)
{
    const char *a = strstr(text, "age_seconds");
    return a ? (size_t)(a - text) : strlen(text);
}

/* Digits as 0: two sites observe their snapshots a few ms apart (the statuses' "since" times). */
static void mask_digits(char *text)
{
    for (char *p = text; *p; p++)
        if (*p >= '1' && *p <= '9')
            *p = '0';
}

/*
 * A one-off site (the NIF's) answers every route as a site of serve does,
 * built only from what that route shows: the aggregates (metrics text,
 * cluster view) once a route asks for them, the full report only when made
 * to (bp_site_route_wants_report); it borrows its configuration.
 */
static void test_one_off_site(void **state)
{
    (void)state;
    static bp_config c;
    config(&c);
    char target[1][BP_NAME_MAX] = { "app@host1" };
    const char *paths[] = { "/health/live", "/readyz", "/health/startup", "/health", "/metrics", "/health/cluster",
                            "/health/history", "/status", "/nowhere" };
    for (int up = 0; up < 2; up++)
        for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
            bp_http_request req = { .method = "GET", .method_len = 3, .path = paths[i],
                                    .path_len = strlen(paths[i]) };
            bp_site *serve = bp_site_new(&c, (const char (*)[BP_NAME_MAX])target, 1, NULL);
            bp_site *once = bp_site_new_once(&c, "app@host1", NULL, bp_site_route_wants_report(&req));
            assert_non_null(serve);
            assert_non_null(once);
            bp_site_set_quiet(serve, 1);
            assert_null(once->own_cfg); /* borrowed */
            assert_ptr_equal(once->cfg, &c);
            bp_site_publish(serve, snap_of("app@host1", up));
            bp_site_publish(once, snap_of("app@host1", up));
            assert_null(once->metrics); /* not built by the publish */
            assert_null(once->cluster);
            answer a = get(serve, paths[i]), b = get(once, paths[i]);
            assert_int_equal(a.status, b.status);
            mask_digits(a.text);
            mask_digits(b.text);
            size_t n = before_age(a.text);
            if (strcmp(paths[i], "/status") != 0) { /* the page shows the time of the request */
                assert_int_equal(n, before_age(b.text));
                if (memcmp(a.text, b.text, n) != 0)
                    fail_msg("%s differs:\n%s\n%s", paths[i], a.text, b.text);
            }
            free(a.text);
            free(b.text);
            int aggregate = strcmp(paths[i], "/metrics") == 0 || strcmp(paths[i], "/health/cluster") == 0;
            if (aggregate)
                assert_non_null(once->metrics); /* built when asked */
            bp_site_free(serve);
            bp_site_free(once);
        }
    /* made without the full report, the site says so on /health rather than answer something else */
    bp_site *once = bp_site_new_once(&c, "app@host1", NULL, 0);
    assert_non_null(once);
    bp_site_publish(once, snap_of("app@host1", 1));
    answer a = get(once, "/health/ready");
    assert_int_equal(a.status, 200);
    free(a.text);
    a = get(once, "/health");
    assert_int_equal(a.status, 500);
    free(a.text);
    bp_site_free(once);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_discovery_gate),
        cmocka_unit_test(test_one_target),
        cmocka_unit_test(test_target_limit),
        cmocka_unit_test_setup_teardown(test_1024_targets, many_setup, many_teardown),
        cmocka_unit_test_setup_teardown(test_answer_cost, many_setup, many_teardown),
        cmocka_unit_test(test_reload_carries_views),
        cmocka_unit_test(test_one_off_site),
    };
    return cmocka_run_group_tests_name("site", tests, NULL, NULL);
}
