/* test_sources.c: serve's discovery state: backoff, results kept across failures, carry over a reload, the union, the readiness gate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"
#include "core/config.h"
#include "discover/sources.h"

static bp_config *config_with(const char *dns, const char *k8s, const char *epmd)
{
    bp_config *c = calloc(1, sizeof *c);
    assert_non_null(c);
    bp_config_defaults(c);
    snprintf(c->dns_name, sizeof c->dns_name, "%s", dns ? dns : "");
    snprintf(c->k8s_endpoints, sizeof c->k8s_endpoints, "%s", k8s ? k8s : "");
    snprintf(c->epmd_host, sizeof c->epmd_host, "%s", epmd ? epmd : "");
    return c;
}

/* A set of the names given, NULL-terminated. */
static bp_nodeset set_of(const char *first, ...)
{
    bp_nodeset s = { 0 };
    va_list ap;
    va_start(ap, first);
    for (const char *n = first; n; n = va_arg(ap, const char *))
        assert_int_equal(bp_nodeset_add(&s, n), 0);
    va_end(ap);
    return s;
}

static void test_backoff(void **state)
{
    (void)state;
    assert_int_equal(bp_source_backoff_ms(0), 1000);
    assert_int_equal(bp_source_backoff_ms(1), 1000);
    assert_int_equal(bp_source_backoff_ms(2), 2000);
    assert_int_equal(bp_source_backoff_ms(3), 4000);
    assert_int_equal(bp_source_backoff_ms(5), 16000);
    assert_int_equal(bp_source_backoff_ms(6), 30000); /* 32 s capped */
    assert_int_equal(bp_source_backoff_ms(64), 30000);
    assert_int_equal(bp_source_backoff_ms(4000000000u), 30000);
}

static void test_labels_and_order(void **state)
{
    (void)state;
    bp_config *c = config_with("app.prod.svc", "prod/app", "db1");
    bp_sources s;
    bp_sources_init(&s, c, NULL);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.v[0].st.label, "--epmd-host db1");
    assert_string_equal(s.v[1].st.label, "--dns app.prod.svc");
    assert_string_equal(s.v[2].st.label, "--k8s-endpoints prod/app");
    assert_int_equal(s.v[1].kind, BP_SOURCE_DNS);
    assert_int_equal(bp_sources_next_ms(&s), 0); /* all due at once */
    bp_sources_free(&s);
    free(c);
}

static void test_record_keeps_nodes_on_failure(void **state)
{
    (void)state;
    bp_config *c = config_with("app.svc", NULL, NULL);
    bp_sources s;
    bp_sources_init(&s, c, NULL);
    bp_source *src = &s.v[0];

    /* never answered: the gate is closed with the source's reason */
    bp_nodeset none = { 0 };
    assert_int_equal(bp_source_record(src, BP_ETIMEDOUT, &none, "no answer from 10.0.0.10:53", 100000, 5000, 30000), 0);
    assert_false(src->st.have);
    assert_int_equal(src->next_ms, 101000);
    assert_int_equal(src->st.failures_total, 1);
    bp_discovery_status st;
    char reason[BP_DISCOVERY_REASON_MAX];
    bp_sources_status(&s, &st);
    assert_true(bp_discovery_pending(&st, 0, reason, sizeof reason));
    assert_string_equal(reason, "discovery --dns app.svc: no answer from 10.0.0.10:53");
    assert_int_equal(bp_source_record(src, BP_ETIMEDOUT, &none, "no answer", 101000, 6000, 30000), 0);
    assert_int_equal(src->next_ms, 103000); /* 2 s after the second failure */

    /* it answers: its nodes, the next attempt at the rediscovery interval, the gate open */
    bp_nodeset found = set_of("app@10.0.0.1", "app@10.0.0.2", NULL);
    assert_int_equal(bp_source_record(src, 0, &found, "", 103000, 7000, 30000), 1);
    assert_int_equal(found.n, 0); /* taken over */
    assert_int_equal(src->nodes.n, 2);
    assert_true(src->st.have && src->st.ok);
    assert_int_equal(src->st.found, 2);
    assert_int_equal(src->st.last_success_wall_ms, 7000);
    assert_int_equal(src->next_ms, 133000);
    assert_string_equal(src->st.error, "");
    bp_sources_status(&s, &st);
    assert_false(bp_discovery_pending(&st, 2, reason, sizeof reason));

    /* the same answer again: nothing changed (found holds the storage swapped out: free it first) */
    bp_nodeset_free(&found);
    found = set_of("app@10.0.0.1", "app@10.0.0.2", NULL);
    for (size_t i = 0; i < found.n; i++) /* whatever the slots hold past each name: the names decide */
        memset(found.v[i] + strlen(found.v[i]) + 1, 'x', 8);
    assert_int_equal(bp_source_record(src, 0, &found, "", 133000, 8000, 30000), 0);

    /* a failure after answers: the nodes stay, retried after 1 s, not at the next rediscovery */
    assert_int_equal(bp_source_record(src, BP_ERESOLVE, &found, "SERVFAIL", 163000, 9000, 30000), 0);
    assert_int_equal(src->nodes.n, 2);
    assert_false(src->st.ok);
    assert_true(src->st.have);
    assert_int_equal(src->next_ms, 164000);
    assert_string_equal(src->st.error, "SERVFAIL");
    bp_sources_status(&s, &st);
    assert_false(bp_discovery_pending(&st, 2, reason, sizeof reason)); /* it answered before: not pending */
    /* with a rediscovery interval shorter than the backoff, that interval */
    for (int i = 0; i < 5; i++)
        bp_source_record(src, BP_ERESOLVE, &found, "SERVFAIL", 170000, 9000, 3000);
    assert_int_equal(src->next_ms, 173000);

    /* a node gone: changed */
    bp_nodeset_free(&found);
    found = set_of("app@10.0.0.1", NULL);
    assert_int_equal(bp_source_record(src, 0, &found, "", 200000, 10000, 0), 1);
    assert_int_equal(src->nodes.n, 1);
    assert_int_equal(src->next_ms, INT64_MAX); /* --rediscover 0: never again on its own */
    assert_int_equal(bp_sources_next_ms(&s), INT64_MAX);
    bp_nodeset_free(&found);
    bp_nodeset_free(&none);
    bp_sources_free(&s);
    free(c);
}

static void test_merge(void **state)
{
    (void)state;
    bp_config *c = config_with("app.svc", "prod/app", NULL);
    c->nodes.n = 2;
    snprintf(c->nodes.v[0], sizeof c->nodes.v[0], "named@h");
    snprintf(c->nodes.v[1], sizeof c->nodes.v[1], "app@10.0.0.2");
    bp_sources s;
    bp_sources_init(&s, c, NULL);
    bp_nodeset a = set_of("app@10.0.0.1", "app@10.0.0.2", NULL), b = set_of("app@10.0.0.3", "app@10.0.0.1", NULL);
    bp_source_record(&s.v[0], 0, &a, "", 0, 1, 30000);
    bp_nodeset out = { 0 };
    char err[256];
    /* the k8s source never answered: the union of what is known */
    assert_int_equal(bp_sources_merge(&c->nodes, &s, &out, err, sizeof err), 0);
    assert_int_equal(out.n, 3);
    assert_string_equal(out.v[0], "named@h");
    assert_string_equal(out.v[1], "app@10.0.0.2");
    assert_string_equal(out.v[2], "app@10.0.0.1");
    bp_source_record(&s.v[1], 0, &b, "", 0, 1, 30000);
    assert_int_equal(bp_sources_merge(&c->nodes, &s, &out, err, sizeof err), 0);
    assert_int_equal(out.n, 4);
    assert_string_equal(out.v[3], "app@10.0.0.3");

    /* over the cap: an error naming it */
    bp_nodeset small = { .max = 3 };
    assert_int_equal(bp_sources_merge(&c->nodes, &s, &small, err, sizeof err), BP_ETOOBIG);
    assert_non_null(strstr(err, "more than 3 targets in all"));
    assert_non_null(strstr(err, "--k8s-endpoints prod/app"));

    /* every source answered with nothing, and no --node: pending, "found no nodes" */
    bp_discovery_status st;
    char reason[BP_DISCOVERY_REASON_MAX];
    bp_sources_status(&s, &st);
    assert_true(bp_discovery_pending(&st, 0, reason, sizeof reason));
    assert_non_null(strstr(reason, "discovery found no nodes"));
    assert_false(bp_discovery_pending(NULL, 0, reason, sizeof reason));
    bp_nodeset_free(&small);
    bp_nodeset_free(&out);
    bp_nodeset_free(&a);
    bp_nodeset_free(&b);
    bp_sources_free(&s);
    free(c);
}

static void test_reload_carries_sources(void **state)
{
    (void)state;
    bp_config *c = config_with("app.svc", "prod/app", NULL);
    bp_sources s, t;
    bp_sources_init(&s, c, NULL);
    bp_nodeset a = set_of("app@10.0.0.1", NULL), b = set_of("app@10.0.0.9", NULL);
    bp_source_record(&s.v[0], 0, &a, "", 0, 1234, 30000);
    bp_source_record(&s.v[1], 0, &b, "", 0, 1234, 30000);
    bp_source_record(&s.v[0], BP_ETIMEDOUT, &a, "no answer", 10, 1300, 30000);

    /* the DNS source stays, the k8s one changes: only the DNS one keeps its nodes and counters */
    snprintf(c->k8s_endpoints, sizeof c->k8s_endpoints, "prod/other");
    bp_sources_init(&t, c, &s);
    assert_int_equal(t.n, 2);
    assert_true(t.v[0].st.have);
    assert_int_equal(t.v[0].nodes.n, 1);
    assert_string_equal(t.v[0].nodes.v[0], "app@10.0.0.1");
    assert_int_equal(t.v[0].st.failures_total, 1);
    assert_int_equal(t.v[0].next_ms, 0); /* asked again at once */
    assert_false(t.v[1].st.have);
    assert_int_equal(t.v[1].nodes.n, 0);
    assert_string_equal(t.v[1].st.label, "--k8s-endpoints prod/other");
    bp_sources_free(&s); /* t owns copies */
    assert_string_equal(t.v[0].nodes.v[0], "app@10.0.0.1");
    bp_sources_free(&t);
    bp_nodeset_free(&a);
    bp_nodeset_free(&b);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_labels_and_order),
        cmocka_unit_test(test_record_keeps_nodes_on_failure),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_reload_carries_sources),
    };
    return cmocka_run_group_tests_name("sources", tests, NULL, NULL);
}
