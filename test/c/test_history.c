/* test_history.c: transitions of a node's reports in a bounded ring, and since when each state holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "beamprobe.h"
#include "core/history.h"
#include "fixture_snapshot.h"

typedef struct {
    bp_config cfg;
    bp_snapshot *snap;
    bp_report r;
} fx;

static int setup(void **state)
{
    fx *f = test_calloc(1, sizeof *f);
    fixture_config(&f->cfg);
    f->snap = fixture_snapshot();
    *state = f;
    return f->snap ? 0 : -1;
}

static int teardown(void **state)
{
    fx *f = *state;
    bp_snapshot_free(f->snap);
    test_free(f);
    return 0;
}

static bp_report *eval(fx *f)
{
    assert_int_equal(bp_evaluate(f->snap, &f->cfg, &f->r), 0);
    return &f->r;
}

static const bp_check *find(const bp_report *r, const char *name)
{
    const bp_check *c = bp_report_find(r, name);
    assert_non_null(c);
    return c;
}

static void test_transitions_and_since(void **state)
{
    fx *f = *state;
    bp_history *h = bp_history_new(8);
    bp_governor_snap *g = &f->snap->governors[0];

    assert_int_equal(bp_history_observe(h, eval(f), 1000), 0); /* first report: the start, no transition */
    assert_int_equal(bp_history_copy(h, NULL, 0), 0);
    int was_first = 0;
    assert_int_equal(bp_history_latest(h, NULL, 0, &was_first), 0);
    assert_int_equal(was_first, 1);
    assert_int_equal(find(&f->r, "governor:cost_guard")->since_ms, 1000);
    assert_int_equal(find(&f->r, "governor:cost_guard")->state_since_ms, 1000);
    assert_int_equal(f->r.since_ms, 1000);

    assert_int_equal(bp_history_observe(h, eval(f), 2000), 0); /* nothing changed */
    assert_int_equal(bp_history_copy(h, NULL, 0), 0);
    assert_int_equal(find(&f->r, "governor:cost_guard")->since_ms, 1000);

    g->state = "refusing"; /* a fail state: the check, the governor and the node change */
    assert_int_equal(bp_history_observe(h, eval(f), 3000), 0);
    bp_transition t[8];
    size_t n = bp_history_copy(h, t, 8);
    assert_int_equal(n, 3);
    assert_int_equal(t[0].kind, BP_TR_NODE);
    assert_string_equal(t[0].from, "healthy");
    assert_string_equal(t[0].to, "unhealthy");
    assert_string_equal(t[1].name, "governor:cost_guard");
    assert_string_equal(t[1].from, "pass");
    assert_string_equal(t[1].to, "fail");
    assert_non_null(strstr(t[1].reason, "refusing"));
    assert_int_equal(t[2].kind, BP_TR_GOVERNOR);
    assert_string_equal(t[2].from, "stable");
    assert_string_equal(t[2].to, "refusing");
    assert_int_equal(t[2].time_ms, 3000);
    const bp_check *c = find(&f->r, "governor:cost_guard");
    assert_int_equal(c->since_ms, 3000);
    assert_int_equal(c->transitions, 1);
    assert_int_equal(find(&f->r, "memory")->since_ms, 1000);
    assert_int_equal(find(&f->r, "memory")->transitions, 0);

    /* the latest observe's own transitions, for the notifier */
    int first = 1;
    bp_transition latest[8];
    assert_int_equal(bp_history_latest(h, latest, 8, &first), 3);
    assert_int_equal(first, 0);
    assert_memory_equal(latest, t, 3 * sizeof *t);
    assert_int_equal(bp_history_latest(h, latest, 1, NULL), 3); /* counts all, copies what fits */

    g->state = "stable";
    assert_int_equal(bp_history_observe(h, eval(f), 4000), 0);
    assert_int_equal(find(&f->r, "governor:cost_guard")->transitions, 2);
    assert_int_equal(bp_history_latest(h, latest, 8, NULL), 3);
    assert_string_equal(latest[2].from, "refusing");
    assert_int_equal(bp_history_observe(h, eval(f), 4500), 0);
    assert_int_equal(bp_history_latest(h, latest, 8, NULL), 0); /* nothing changed this time */
    assert_int_equal(bp_history_total(h), 6);

    /* the node down: the node is "down", its checks not in the report keep their state */
    bp_snapshot *down = bp_snapshot_new("app@host1");
    bp_fact_fail(down, &down->connect, BP_FACT_ERROR, "connection refused");
    bp_report rd;
    assert_int_equal(bp_evaluate(down, &f->cfg, &rd), 0);
    assert_int_equal(bp_history_observe(h, &rd, 5000), 0);
    n = bp_history_copy(h, t, 8);
    assert_string_equal(t[n - 2].to, "down");
    assert_string_equal(t[n - 1].name, "connection");
    bp_snapshot_free(down);
    bp_history_free(h);
}

/* The ring keeps the newest `cap` transitions, oldest first; cap 0 keeps none but still dates states. */
static void test_ring_bounds(void **state)
{
    fx *f = *state;
    bp_history *h = bp_history_new(4);
    bp_history *none = bp_history_new(0);
    const char *states[2] = { "stable", "refusing" };
    for (int i = 0; i < 10; i++) {
        f->snap->governors[0].state = states[i % 2];
        assert_int_equal(bp_history_observe(h, eval(f), 1000 + i), 0);
        assert_int_equal(bp_history_observe(none, eval(f), 1000 + i), 0);
    }
    bp_transition t[8];
    assert_int_equal(bp_history_copy(h, t, 8), 4);
    for (int i = 0; i < 3; i++)
        assert_true(t[i].time_ms <= t[i + 1].time_ms);
    assert_int_equal(t[3].time_ms, 1009);
    assert_int_equal(bp_history_copy(none, t, 8), 0);
    assert_int_equal(find(&f->r, "governor:cost_guard")->since_ms, 1009);
    assert_int_equal(bp_history_total(none), 27); /* 9 changes of node, check and governor each */
    assert_int_equal(bp_history_latest(none, t, 8, NULL), 3); /* the notifier's copy: whatever the ring keeps */
    assert_int_equal(t[2].time_ms, 1009);
    bp_history_free(h);
    bp_history_free(none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_transitions_and_since, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ring_bounds, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
