/* test_collect.c: the collector's plan and reply handling, driven by a scripted executor (no node). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "beamprobe.h"
#include "core/config.h"
#include "dist/collect.h"

/* A scripted node: how it answers, and what it was asked. */
typedef struct {
    int refuse_combined;   /* answer the combined BIF call with {badrpc, ...} */
    int rounds;
    int combined_calls;    /* lists:zipwith calls seen */
    int single_bifs;       /* erlang:system_info calls seen alone */
} node_script;

/* Encode one reply (version byte included) into x by the call's module and function. */
static void encode_reply(node_script *ns, const bp_rpc *r, ei_x_buff *x)
{
    ei_x_encode_version(x);
    if (strcmp(r->mod, "lists") == 0 && strcmp(r->fun, "zipwith") == 0) {
        ns->combined_calls++;
        if (ns->refuse_combined) { /* {badrpc, {'EXIT', {undef, []}}} */
            ei_x_encode_tuple_header(x, 2);
            ei_x_encode_atom(x, "badrpc");
            ei_x_encode_tuple_header(x, 2);
            ei_x_encode_atom(x, "EXIT");
            ei_x_encode_tuple_header(x, 2);
            ei_x_encode_atom(x, "undef");
            ei_x_encode_empty_list(x);
            return;
        }
        ei_x_encode_empty_list(x); /* a wrong shape: the count of results does not match */
    } else if (strcmp(r->fun, "system_info") == 0) {
        ns->single_bifs++;
        ei_x_encode_long(x, 100);
    } else if (strcmp(r->fun, "memory") == 0) {
        ei_x_encode_list_header(x, 1);
        ei_x_encode_tuple_header(x, 2);
        ei_x_encode_atom(x, "total");
        ei_x_encode_long(x, 4096);
        ei_x_encode_empty_list(x);
    } else if (strcmp(r->fun, "statistics") == 0) {
        ei_x_encode_list_header(x, 3); /* one normal queue, dirty cpu, dirty io */
        ei_x_encode_long(x, 300);
        ei_x_encode_long(x, 400);
        ei_x_encode_long(x, 0);
        ei_x_encode_empty_list(x);
    } else if (strcmp(r->fun, "convert_time_unit") == 0) {
        ei_x_encode_long(x, 1000);
    } else if (strcmp(r->fun, "monotonic_time") == 0) {
        ei_x_encode_long(x, 5000);
    } else { /* nodes/1, which_applications/1, the file reads: nothing */
        ei_x_encode_empty_list(x);
    }
}

static int scripted_call(void *ctx, bp_batch *b, int64_t deadline_ms)
{
    (void)deadline_ms;
    node_script *ns = ctx;
    ns->rounds++;
    for (size_t i = 0; i < bp_batch_count(b); i++) {
        ei_x_buff x;
        ei_x_new(&x);
        encode_reply(ns, bp_batch_get(b, i), &x);
        assert_int_equal(bp_batch_set_reply(b, i, (const unsigned char *)x.buff, (size_t)x.index, 1 << 20), 0);
        ei_x_free(&x);
    }
    return 0;
}

static bp_snapshot *collect(node_script *ns)
{
    bp_config *cfg = test_malloc(sizeof *cfg);
    bp_config_defaults(cfg);
    cfg->probe = BP_PROBE_LIVE;
    bp_snapshot *snap = bp_snapshot_new("n@h");
    assert_non_null(snap);
    bp_collect_exec ex = { .call = scripted_call, .ctx = ns, .self_name = NULL };
    assert_int_equal(bp_collect_with(&ex, cfg, INT64_MAX, snap), 0);
    test_free(cfg);
    return snap;
}

/* A node that refuses the combined call (an older OTP without one of the BIFs): each BIF is
 * asked alone in the next round, and every fact still arrives. */
static void test_combined_bif_call_refused_falls_back(void **state)
{
    (void)state;
    node_script ns = { .refuse_combined = 1 };
    bp_snapshot *s = collect(&ns);
    assert_int_equal(ns.combined_calls, 1);
    assert_true(ns.single_bifs >= 10); /* limits, schedulers, identity, one call each */
    assert_int_equal(s->round_trips, 2);
    assert_int_equal(s->limits.state, BP_FACT_OK);
    assert_int_equal(s->process_count, 100);
    assert_int_equal(s->atom_limit, 100);
    assert_int_equal(s->schedulers.state, BP_FACT_OK);
    assert_int_equal(s->schedulers_online, 100);
    assert_int_equal(s->run_queue, 300);
    assert_int_equal(s->dirty_cpu_run_queue, 400);
    assert_int_equal(s->memory.state, BP_FACT_OK);
    assert_int_equal(bp_snapshot_memory(s, "total"), 4096);
    bp_snapshot_free(s);
}

/* A combined reply of the wrong shape is not trusted, and not retried call by call either:
 * the facts are marked failed with a reason. */
static void test_combined_bif_call_malformed(void **state)
{
    (void)state;
    node_script ns = { .refuse_combined = 0 };
    bp_snapshot *s = collect(&ns);
    assert_int_equal(ns.single_bifs, 0);
    assert_int_not_equal(s->limits.state, BP_FACT_OK);
    assert_non_null(s->limits.error);
    assert_int_equal(s->process_count, -1);
    bp_snapshot_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_combined_bif_call_refused_falls_back),
        cmocka_unit_test(test_combined_bif_call_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
