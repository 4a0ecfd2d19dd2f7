/* test_mesh.c: unit tests of the cluster mesh analysis (partitions, asymmetry, quorum, verdicts, changes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "beamprobe.h"
#include "core/mesh.h"
#include "core/render_cluster.h"

#define MAXN 16

typedef struct {
    bp_snapshot *snaps[MAXN];
    bp_mesh_input in[MAXN];
    size_t n;
    bp_namelist exp;
    int exp_size;
    bp_arena *a;
    bp_mesh m;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->a = bp_arena_new(0);
    f->exp_size = -1;
    *state = f;
    return f->a ? 0 : -1;
}

static int teardown(void **state)
{
    fx *f = *state;
    for (size_t i = 0; i < f->n; i++)
        bp_snapshot_free(f->snaps[i]);
    bp_arena_free(f->a);
    free(f);
    return 0;
}

/* Forget the inputs (keeps the arena and the expectation). */
static void reset_inputs(fx *f)
{
    for (size_t i = 0; i < f->n; i++)
        bp_snapshot_free(f->snaps[i]);
    f->n = 0;
}

/* A probed node; reachable ones see the NULL-terminated names that follow. */
static void add_node(fx *f, const char *name, int reachable, ...)
{
    assert_true(f->n < MAXN);
    bp_snapshot *s = bp_snapshot_new(name);
    assert_non_null(s);
    if (reachable) {
        s->connect.state = BP_FACT_OK;
        s->membership.state = BP_FACT_OK;
        const char *names[MAXN];
        size_t k = 0;
        va_list ap;
        va_start(ap, reachable);
        for (const char *p = va_arg(ap, const char *); p; p = va_arg(ap, const char *)) {
            assert_true(k < MAXN);
            names[k++] = p;
        }
        va_end(ap);
        if (k > 0) {
            s->visible.v = bp_arena_alloc(s->arena, k * sizeof *s->visible.v);
            assert_non_null(s->visible.v);
            for (size_t i = 0; i < k; i++)
                s->visible.v[i] = bp_arena_strdup(s->arena, names[i]);
            s->visible.n = k;
        }
    } else {
        bp_fact_fail(s, &s->connect, BP_FACT_ERROR, "node %s not registered with EPMD", name);
    }
    f->snaps[f->n] = s;
    f->in[f->n] = (bp_mesh_input){.node = name, .reachable = reachable, .snap = s, .report = NULL};
    f->n++;
}

/* Every name in names[0..k) reachable and seeing all the others except those in down[]. */
static void full_mesh(fx *f, const char *const *names, size_t k, const char *down)
{
    for (size_t i = 0; i < k; i++) {
        int is_down = down && strstr(down, names[i]) != NULL;
        if (is_down) {
            add_node(f, names[i], 0, NULL);
            continue;
        }
        const char *v[MAXN + 1];
        size_t n = 0;
        for (size_t j = 0; j < k; j++)
            if (j != i && !(down && strstr(down, names[j])))
                v[n++] = names[j];
        v[n] = NULL;
        /* pass up to 8 peers through the variadic builder */
        add_node(f, names[i], 1, v[0], n > 0 ? v[1] : NULL, n > 1 ? v[2] : NULL, n > 2 ? v[3] : NULL,
                 n > 3 ? v[4] : NULL, n > 4 ? v[5] : NULL, n > 5 ? v[6] : NULL, n > 6 ? v[7] : NULL, NULL);
    }
}

static void expect_names(fx *f, const char *const *names, size_t k)
{
    for (size_t i = 0; i < k; i++)
        snprintf(f->exp.v[f->exp.n++], BP_NAME_MAX, "%s", names[i]);
}

static bp_mesh *analyze(fx *f)
{
    assert_int_equal(bp_mesh_analyze(f->in, f->n, &f->exp, f->exp_size, f->a, &f->m), 0);
    assert_non_null(f->m.reason);
    return &f->m;
}

static const bp_mesh_node *node(const bp_mesh *m, const char *name)
{
    int k = bp_mesh_find(m, name);
    if (k < 0)
        fail_msg("node %s not in the universe", name);
    return &m->nodes[k];
}

static const char *const FIVE[] = {"a@h", "b@h", "c@h", "d@h", "e@h"};
static const char *const THREE[] = {"a@h", "b@h", "c@h"};

/* ---- converged ---- */

static void test_full_mesh_3(void **state)
{
    fx *f = *state;
    full_mesh(f, THREE, 3, NULL);
    bp_mesh *m = analyze(f);
    assert_int_equal(m->verdict, BP_CLUSTER_CONVERGED);
    assert_string_equal(bp_cluster_verdict_name(m->verdict), "converged");
    assert_string_equal(m->reason, "all 3 expected nodes up, full mesh");
    assert_int_equal(m->n, 3);
    assert_int_equal(m->n_components, 1);
    assert_int_equal(m->n_probed, 3);
    assert_int_equal(m->n_reachable, 3);
    assert_int_equal(m->expect_source, BP_EXPECT_PROBED);
    assert_int_equal(m->expected, 3);
    assert_int_equal(m->quorum_needed, 2);
    assert_int_equal(m->quorum_largest, 3);
    assert_true(m->quorum);
    assert_int_equal(m->n_missing_links, 0);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(m->nodes[i].name, THREE[i]); /* sorted */
        assert_int_equal(m->nodes[i].sees, 2);
        assert_int_equal(m->nodes[i].seen_by, 2);
        assert_int_equal(m->nodes[i].component, 0);
        assert_true(m->nodes[i].row_known);
        for (size_t j = 0; j < 3; j++)
            assert_int_equal(bp_mesh_link(m, i, j), i == j ? BP_LINK_NO : BP_LINK_YES);
    }
}

/* The node's own mnesia view: as asked (--mnesia) and running everywhere, or not. */
static void set_mnesia(bp_snapshot *s, const char *running, size_t db, size_t running_db)
{
    static const char *const nodes[3] = { "a@h", "b@h", "c@h" };
    s->mnesia.state = BP_FACT_OK;
    s->mnesia_running = running;
    s->mnesia_db_nodes = (bp_strv){ .v = (const char **)nodes, .n = db };
    s->mnesia_running_nodes = (bp_strv){ .v = (const char **)nodes, .n = running_db };
}

/* With --mnesia a full mesh is not converged while mnesia is not running on a db node. */
static void test_mnesia_in_the_verdict(void **state)
{
    fx *f = *state;
    full_mesh(f, THREE, 3, NULL);
    for (size_t i = 0; i < 3; i++)
        set_mnesia(f->snaps[i], "yes", 3, 3);
    bp_mesh *m = analyze(f);
    assert_int_equal(m->verdict, BP_CLUSTER_CONVERGED);
    set_mnesia(f->snaps[1], "no", 3, 0);
    set_mnesia(f->snaps[0], "yes", 3, 2);
    m = analyze(f);
    assert_int_equal(m->verdict, BP_CLUSTER_DEGRADED);
    assert_int_equal(m->n_mnesia_trouble, 2);
    assert_string_equal(m->reason, "mnesia incomplete as seen from a@h, b@h; quorum holds (3/3)");
}

static void test_full_mesh_5_named(void **state)
{
    fx *f = *state;
    expect_names(f, FIVE, 5);
    /* probe order does not matter: universe is sorted */
    static const char *const shuffled[] = {"d@h", "a@h", "e@h", "c@h", "b@h"};
    full_mesh(f, shuffled, 5, NULL);
    bp_mesh *m = analyze(f);
    assert_int_equal(m->verdict, BP_CLUSTER_CONVERGED);
    assert_string_equal(m->reason, "all 5 expected nodes up, full mesh");
    assert_int_equal(m->expect_source, BP_EXPECT_NAMES);
    assert_int_equal(m->expected, 5);
    assert_int_equal(m->quorum_needed, 3);
    assert_int_equal(m->quorum_largest, 5);
    assert_int_equal(m->n_absent + m->n_unexpected + m->n_asymmetric + m->n_unreachable_seen, 0);
    assert_int_equal(bp_mesh_find(m, "a@h"), 0);
    assert_int_equal(bp_mesh_find(m, "e@h"), 4);
    assert_int_equal(bp_mesh_find(m, "z@h"), -1);
    assert_int_equal(bp_mesh_link(m, 0, 99), BP_LINK_UNKNOWN);
}

/* ---- nodes down ---- */

static void test_one_of_five_down(void **state)
{
    fx *f = *state;
    expect_names(f, FIVE, 5);
    full_mesh(f, FIVE, 5, "c@h");
    bp_mesh *m = analyze(f);
    assert_int_equal(m->verdict, BP_CLUSTER_DEGRADED);
    assert_string_equal(m->reason, "1 of 5 expected nodes down (c@h); quorum holds (4/5)");
    assert_int_equal(m->n_components, 1);
    assert_int_equal(m->quorum_largest, 4);
    assert_true(m->quorum);
    assert_int_equal(m->n_absent, 1);
    assert_string_equal(m->nodes[m->absent[0]].name, "c@h");
    const bp_mesh_node *c = node(m, "c@h");
    assert_false(c->reachable);
    assert_false(c->row_known);
    assert_true(c->probed);
    assert_int_equal(c->component, -1);
    assert_int_equal(c->seen_by, 0);
    assert_int_equal(node(m, "a@h")->sees, 3);
    /* the unknown row */
    for (size_t j = 0; j < m->n; j++)
        assert_int_equal(bp_mesh_link(m, (size_t)bp_mesh_find(m, "c@h"), j), BP_LINK_UNKNOWN);
}

static void test_two_of_five_down(void **state)
{
    fx *f = *state;
    expect_names(f, FIVE, 5);
    full_mesh(f, FIVE, 5, "b@h,e@h");
    bp_mesh *m = analyze(f);
    assert_int_equal(m->verdict, BP_CLUSTER_DEGRADED);
    assert_string_equal(m->reason, "2 of 5 expected nodes down (b@h, e@h); quorum holds (3/5)");
    assert_int_equal(m->quorum_largest, 3);
    assert_true(m->quorum);
    assert_int_equal(m->n_absent, 2);
}

static void test_three_of_five_down(void **state)
{
    fx *f = *state;
    expect_names(f, FIVE, 5);
    full_mesh(f, FIVE, 5, "a@h,c@h,d@h");
    bp_mesh *m = analyze(f);
    assert_int_equal(m->verdict, BP_CLUSTER_NO_QUORUM);
    assert_string_equal(bp_cluster_verdict_name(m->verdict), "no_quorum");
    assert_string_equal(m->reason, "no quorum: largest partition holds 2 of 5 expected nodes, 3 needed; "
                                   "3 of 5 expected nodes down (a@h, c@h, d@h)");
    assert_false(m->quorum);
    assert_int_equal(m->quorum_largest, 2);
    assert_int_equal(m->n_components, 1);
}

/* ---- partitions ---- */

static void test_split_2_3(void **state)
{
    fx *f = *state;
    expect_names(f, FIVE, 5);
    add_node(f, "a@h", 1, "b@h", NULL);
    add_node(f, "b@h", 1, "a@h", NULL);
    add_node(f, "c@h", 1, "d@h", "e@h", NULL);
    add_node(f, "d@h", 1, "c@h", "e@h", NULL);
    add_node(f, "e@h", 1, "c@h", "d@h", NULL);
    bp_mesh *m = analyze(f);
    assert_int_equal(m->verdict, BP_CLUSTER_PARTITIONED);
    assert_string_equal(m->reason, "2 partitions: {a@h, b@h} | {c@h, d@h, e@h}; quorum holds in {c@h, d@h, e@h} (3/5)");
    assert_int_equal(m->n_components, 2);
    assert_int_equal(m->components[0].n, 2);
    assert_int_equal(m->components[1].n, 3);
    assert_int_equal(m->components[1].reachable, 3);
    assert_int_equal(m->components[1].votes, 3);
    assert_int_equal(m->quorum_component, 1);
    assert_true(m->quorum);
    assert_int_equal(node(m, "a@h")->component, 0);
    assert_int_equal(node(m, "e@h")->component, 1);
    assert_int_equal(m->n_asymmetric, 0);
    assert_int_equal(m->n_missing_links, 12); /* every cross-partition link, both ways */
}

static void test_split_2_2_no_quorum(void **state)
{
    fx *f = *state;
    add_node(f, "a@h", 1, "b@h", NULL);
    add_node(f, "b@h", 1, "a@h", NULL);
    add_node(f, "c@h", 1, "d@h", NULL);
    add_node(f, "d@h", 1, "c@h", NULL);
    bp_mesh *m = analyze(f);
    assert_int_equal(m->verdict, BP_CLUSTER_NO_QUORUM);
    assert_int_equal(m->n_components, 2);
    assert_int_equal(m->quorum_needed, 3);
    assert_int_equal(m->quorum_largest, 2);
    assert_false(m->quorum);
    assert_string_equal(m->reason, "no quorum: largest partition holds 2 of 4 expected nodes, 3 needed; "
                                   "2 partitions: {a@h, b@h} | {c@h, d@h}");
}

/* A partition seen from one side only still joins the components (undirected). */
static void test_partition_with_one_way_bridge(void **state)
{
    fx *f = *state;
    add_node(f, "a@h", 1, "b@h", "c@h", NULL);
    add_node(f, "b@h", 1, "a@h", NULL);
    add_node(f, "c@h", 1, NULL); /* sees nobody, but a sees c */
    bp_mesh *m = analyze(f);
    assert_int_equal(m->n_components, 1);
    assert_int_equal(m->verdict, BP_CLUSTER_DEGRADED);
    assert_int_equal(m->n_asymmetric, 1);
}

/* ---- asymmetry, unreachable, unexpected, absent ---- */

static void test_asymmetric(void **state)
{
    fx *f = *state;
    add_node(f, "a@h", 1, "b@h", "c@h", NULL);
    add_node(f, "b@h", 1, "c@h", NULL); /* does not see a */
    add_node(f, "c@h", 1, "a@h", "b@h", NULL);
    bp_mesh *m = analyze(f);
    assert_int_equal(m->verdict, BP_CLUSTER_DEGRADED);
    assert_int_equal(m->n_components, 1);
    assert_int_equal(m->n_asymmetric, 1);
    assert_string_equal(m->nodes[m->asymmetric[0].observer].name, "a@h");
    assert_string_equal(m->nodes[m->asymmetric[0].observed].name, "b@h");
    assert_int_equal(m->n_missing_links, 1);
    assert_string_equal(m->reason, "asymmetric: a@h sees b@h but not the reverse; quorum holds (3/3)");
    assert_int_equal(node(m, "b@h")->sees, 1);
    assert_int_equal(node(m, "a@h")->seen_by, 1);
}

/* ---- names: probed by address, matched on the names the nodes state ---- */

static const char *const GIVEN[] = {"a@127.0.0.1", "b@127.0.0.1", "c@127.0.0.1"};

static void test_real_names_probed_by_address(void **state)
{
    fx *f = *state;
    add_node(f, GIVEN[0], 1, "b@h", "c@h", NULL);
    add_node(f, GIVEN[1], 1, "a@h", "c@h", NULL);
    add_node(f, GIVEN[2], 1, "a@h", "b@h", NULL);
    /* trusting the given names, a full mesh looks incomplete */
    assert_int_not_equal(analyze(f)->verdict, BP_CLUSTER_CONVERGED);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(bp_snapshot_set_node(f->snaps[i], THREE[i]), 0); /* what the handshakes said */
    expect_names(f, GIVEN, 3); /* --expect-nodes by address as well */
    bp_mesh *m = analyze(f);
    assert_int_equal(m->verdict, BP_CLUSTER_CONVERGED);
    assert_string_equal(m->reason, "all 3 expected nodes up, full mesh");
    assert_int_equal(m->n, 3);
    assert_int_equal(m->n_missing_links, 0);
    assert_int_equal(m->expect_source, BP_EXPECT_NAMES);
    assert_int_equal(m->expected, 3);
    for (size_t i = 0; i < 3; i++) {
        const bp_mesh_node *x = node(m, THREE[i]);
        assert_true(x->probed && x->reachable && x->expected);
        assert_int_equal(bp_mesh_find(m, GIVEN[i]), -1);
    }
    char *json = bp_render_cluster_json(m, f->in, f->n, 0);
    assert_non_null(json);
    assert_non_null(strstr(json, "{\"node\":\"a@h\",\"given_as\":\"a@127.0.0.1\",\"probed\":true"));
    free(json);
    char *text = bp_render_cluster_text(m, f->in, f->n);
    assert_non_null(text);
    assert_non_null(strstr(text, "\ngiven as: a@127.0.0.1 is a@h, b@127.0.0.1 is b@h, c@127.0.0.1 is c@h\n"));
    free(text);
}

/* A node down now keeps the name it stated before (serve, cluster --wait): others' view of it matches. */
static void test_real_name_of_a_down_node(void **state)
{
    fx *f = *state;
    add_node(f, GIVEN[0], 1, "b@h", "c@h", NULL);
    add_node(f, GIVEN[1], 1, "a@h", "c@h", NULL);
    add_node(f, GIVEN[2], 0, NULL);
    assert_int_equal(bp_snapshot_set_node(f->snaps[0], "a@h"), 0);
    assert_int_equal(bp_snapshot_set_node(f->snaps[1], "b@h"), 0);
    assert_int_equal(analyze(f)->n, 4); /* c@127.0.0.1 absent, c@h seen: one node counted twice */
    assert_int_equal(bp_snapshot_set_node(f->snaps[2], "c@h"), 0);
    bp_mesh *m = analyze(f);
    assert_int_equal(m->n, 3);
    assert_int_equal(m->verdict, BP_CLUSTER_DEGRADED);
    assert_string_equal(m->reason, "1 of 3 expected nodes down (c@h); unreachable from the probe but seen by others: "
                                   "c@h; quorum holds (3/3)");
}

static void test_unreachable_but_seen(void **state)
{
    fx *f = *state;
    expect_names(f, THREE, 3);
    add_node(f, "a@h", 1, "b@h", "c@h", NULL);
    add_node(f, "b@h", 1, "a@h", "c@h", NULL);
    add_node(f, "c@h", 0, NULL); /* the probe cannot reach c, but the cluster can */
    bp_mesh *m = analyze(f);
    assert_int_equal(m->verdict, BP_CLUSTER_DEGRADED);
    assert_int_equal(m->n_unreachable_seen, 1);
    assert_string_equal(m->nodes[m->unreachable_seen[0]].name, "c@h");
    assert_int_equal(m->n_absent, 0);
    const bp_mesh_node *c = node(m, "c@h");
    assert_int_equal(c->seen_by, 2);
    assert_int_equal(c->component, 0);
    assert_int_equal(m->n_components, 1);
    assert_int_equal(m->quorum_largest, 3);
    assert_string_equal(m->reason, "1 of 3 expected nodes down (c@h); unreachable from the probe but seen by "
                                   "others: c@h; quorum holds (3/3)");
}

static void test_unexpected_and_absent(void **state)
{
    fx *f = *state;
    static const char *const exp[] = {"a@h", "b@h", "c@h", "d@h"};
    expect_names(f, exp, 4);
    add_node(f, "a@h", 1, "b@h", "c@h", "x@h", NULL);
    add_node(f, "b@h", 1, "a@h", "c@h", "x@h", NULL);
    add_node(f, "c@h", 1, "a@h", "b@h", "x@h", NULL);
    bp_mesh *m = analyze(f);
    assert_int_equal(m->n, 5); /* a b c d x */
    assert_int_equal(m->verdict, BP_CLUSTER_DEGRADED);
    assert_int_equal(m->n_unexpected, 1);
    assert_string_equal(m->nodes[m->unexpected[0]].name, "x@h");
    assert_int_equal(m->n_absent, 1);
    assert_string_equal(m->nodes[m->absent[0]].name, "d@h");
    assert_int_equal(m->n_unreachable_seen, 0); /* x was neither probed nor expected */
    const bp_mesh_node *x = node(m, "x@h");
    assert_false(x->probed);
    assert_false(x->expected);
    assert_int_equal(x->seen_by, 3);
    assert_int_equal(x->component, 0);
    const bp_mesh_node *d = node(m, "d@h");
    assert_true(d->expected);
    assert_false(d->probed);
    assert_int_equal(d->component, -1);
    assert_int_equal(m->quorum_largest, 3); /* x does not vote */
    assert_string_equal(m->reason, "1 of 4 expected nodes down (d@h); unexpected: x@h; quorum holds (3/4)");
}

/* Without an expectation, a node seen but not probed is not "unexpected". */
static void test_seen_not_probed_without_expectation(void **state)
{
    fx *f = *state;
    add_node(f, "a@h", 1, "b@h", "x@h", NULL);
    add_node(f, "b@h", 1, "a@h", "x@h", NULL);
    bp_mesh *m = analyze(f);
    assert_int_equal(m->n_unexpected, 0);
    assert_int_equal(m->expected, 2);
    assert_int_equal(m->verdict, BP_CLUSTER_CONVERGED);
    /* one of them not seeing x makes the mesh incomplete */
    reset_inputs(f);
    add_node(f, "a@h", 1, "b@h", "x@h", NULL);
    add_node(f, "b@h", 1, "a@h", NULL);
    m = analyze(f);
    assert_int_equal(m->verdict, BP_CLUSTER_DEGRADED);
    assert_string_equal(m->reason, "mesh incomplete: b@h does not see x@h; quorum holds (2/2)");
}

static void test_expected_size_without_names(void **state)
{
    fx *f = *state;
    full_mesh(f, THREE, 3, NULL);
    f->exp_size = 5;
    bp_mesh *m = analyze(f);
    assert_int_equal(m->expect_source, BP_EXPECT_SIZE);
    assert_int_equal(m->expected, 5);
    assert_int_equal(m->quorum_needed, 3);
    assert_int_equal(m->quorum_largest, 3);
    assert_true(m->quorum);
    assert_int_equal(m->verdict, BP_CLUSTER_DEGRADED);
    assert_string_equal(m->reason, "3 of 5 expected nodes reachable; quorum holds (3/5)");
    assert_int_equal(m->n_unexpected, 0);

    f->exp_size = 3;
    m = analyze(f);
    assert_int_equal(m->verdict, BP_CLUSTER_CONVERGED);
    assert_string_equal(m->reason, "3 nodes up (3 expected), full mesh");

    f->exp_size = 7;
    m = analyze(f);
    assert_int_equal(m->verdict, BP_CLUSTER_NO_QUORUM);
    assert_int_equal(m->quorum_needed, 4);

    /* an unprobed node seen by the others counts towards the size */
    reset_inputs(f);
    add_node(f, "a@h", 1, "b@h", "x@h", NULL);
    add_node(f, "b@h", 1, "a@h", "x@h", NULL);
    f->exp_size = 5;
    m = analyze(f);
    assert_int_equal(m->quorum_largest, 3);
    assert_true(m->quorum);
}

static void test_nothing_reachable(void **state)
{
    fx *f = *state;
    add_node(f, "a@h", 0, NULL);
    add_node(f, "b@h", 0, NULL);
    bp_mesh *m = analyze(f);
    assert_int_equal(m->verdict, BP_CLUSTER_UNREACHABLE);
    assert_string_equal(bp_cluster_verdict_name(m->verdict), "unreachable");
    assert_string_equal(m->reason, "none of the 2 probed nodes reachable (a@h, b@h)");
    assert_int_equal(m->n_components, 0);
    assert_int_equal(m->n_absent, 2);
    assert_false(m->quorum);

    reset_inputs(f);
    m = analyze(f);
    assert_int_equal(m->verdict, BP_CLUSTER_UNREACHABLE);
    assert_int_equal(m->n, 0);
    assert_string_equal(m->reason, "no node probed");
}

/* Duplicated targets, self in nodes(), a reachable node whose nodes() failed. */
static void test_odd_inputs(void **state)
{
    fx *f = *state;
    add_node(f, "b@h", 0, NULL);
    add_node(f, "a@h", 1, "a@h", "b@h", NULL); /* self in the list is ignored */
    add_node(f, "b@h", 1, "a@h", NULL);         /* second try of b reached it */
    bp_mesh *m = analyze(f);
    assert_int_equal(m->n, 2);
    assert_int_equal(m->n_probed, 2);
    assert_int_equal(m->n_reachable, 2);
    assert_int_equal(node(m, "b@h")->input, 2);
    assert_int_equal(node(m, "a@h")->sees, 1);
    assert_int_equal(m->verdict, BP_CLUSTER_CONVERGED);

    /* reachable, but membership not collected: the row is unknown */
    f->snaps[2]->membership.state = BP_FACT_TIMEOUT;
    m = analyze(f);
    const bp_mesh_node *b = node(m, "b@h");
    assert_true(b->reachable);
    assert_false(b->row_known);
    assert_int_equal(bp_mesh_link(m, (size_t)bp_mesh_find(m, "b@h"), 0), BP_LINK_UNKNOWN);
    assert_int_equal(m->n_components, 1);
    /* its view is unknown, so the mesh cannot be called full */
    assert_int_equal(m->verdict, BP_CLUSTER_DEGRADED);
    assert_string_equal(m->reason, "nodes() not collected from b@h; quorum holds (2/2)");
}

static void test_errors(void **state)
{
    fx *f = *state;
    bp_mesh m;
    assert_int_equal(bp_mesh_analyze(NULL, 1, NULL, -1, f->a, &m), BP_EUSAGE);
    assert_int_equal(bp_mesh_analyze(NULL, 0, NULL, -1, NULL, &m), BP_EUSAGE);
    assert_int_equal(bp_mesh_analyze(NULL, 0, NULL, -1, f->a, NULL), BP_EUSAGE);
    bp_mesh_input bad = {.node = NULL, .reachable = 1, .snap = NULL, .report = NULL};
    assert_int_equal(bp_mesh_analyze(&bad, 1, NULL, -1, f->a, &m), BP_EUSAGE);

    full_mesh(f, FIVE, 5, NULL);
    bp_arena *tiny = bp_arena_new(256);
    assert_non_null(tiny);
    assert_int_equal(bp_mesh_analyze(f->in, f->n, NULL, -1, tiny, &m), BP_ENOMEM);
    assert_null(m.nodes);
    assert_null(m.reason);
    bp_arena_free(tiny);

    /* the name falls back to the snapshot's */
    f->in[0].node = NULL;
    assert_int_equal(bp_mesh_analyze(f->in, f->n, NULL, -1, f->a, &m), 0);
    assert_int_equal(m.verdict, BP_CLUSTER_CONVERGED);
}

/* ---- changes ---- */

static int has_line(const char **lines, size_t n, const char *want)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(lines[i], want) == 0)
            return 1;
    return 0;
}

static void print_lines(const char **lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        print_message("  | %s\n", lines[i]);
}

static void test_changes_join_leave(void **state)
{
    fx *f = *state;
    expect_names(f, FIVE, 5);
    full_mesh(f, FIVE, 5, "c@h");
    bp_mesh before = *analyze(f);
    reset_inputs(f);
    full_mesh(f, FIVE, 5, NULL);
    bp_mesh after = *analyze(f);

    const char **lines = NULL;
    size_t n = 0;
    assert_int_equal(bp_mesh_changes(&before, &after, f->a, &lines, &n), 0);
    print_lines(lines, n);
    assert_int_equal(n, 2);
    assert_string_equal(lines[0], "node c@h joined");
    assert_string_equal(lines[1], "verdict degraded -> converged");

    assert_int_equal(bp_mesh_changes(&after, &before, f->a, &lines, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(lines[0], "node c@h left");
    assert_string_equal(lines[1], "verdict converged -> degraded");

    /* nothing changed, or no previous round */
    assert_int_equal(bp_mesh_changes(&after, &after, f->a, &lines, &n), 0);
    assert_int_equal(n, 0);
    assert_null(lines);
    assert_int_equal(bp_mesh_changes(NULL, &after, f->a, &lines, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(bp_mesh_changes(&before, NULL, f->a, &lines, &n), BP_EUSAGE);
}

static void test_changes_heal_and_quorum(void **state)
{
    fx *f = *state;
    add_node(f, "a@h", 1, "b@h", NULL);
    add_node(f, "b@h", 1, "a@h", NULL);
    add_node(f, "c@h", 1, "d@h", NULL);
    add_node(f, "d@h", 1, "c@h", NULL);
    bp_mesh before = *analyze(f);
    reset_inputs(f);
    static const char *const four[] = {"a@h", "b@h", "c@h", "d@h"};
    full_mesh(f, four, 4, NULL);
    bp_mesh after = *analyze(f);

    const char **lines = NULL;
    size_t n = 0;
    assert_int_equal(bp_mesh_changes(&before, &after, f->a, &lines, &n), 0);
    print_lines(lines, n);
    assert_true(has_line(lines, n, "a@h now sees c@h"));
    assert_true(has_line(lines, n, "d@h now sees b@h"));
    assert_false(has_line(lines, n, "a@h now sees b@h"));
    assert_true(has_line(lines, n, "partition healed (2 components -> 1)"));
    assert_true(has_line(lines, n, "quorum regained (4/4)"));
    assert_string_equal(lines[n - 1], "verdict no_quorum -> converged");
    assert_int_equal(n, 8 + 3);

    assert_int_equal(bp_mesh_changes(&after, &before, f->a, &lines, &n), 0);
    assert_true(has_line(lines, n, "a@h no longer sees c@h"));
    assert_true(has_line(lines, n, "cluster partitioned (1 component -> 2)"));
    assert_true(has_line(lines, n, "quorum lost (2/4)"));
}

static void test_changes_reachability(void **state)
{
    fx *f = *state;
    expect_names(f, THREE, 3);
    add_node(f, "a@h", 1, "b@h", "c@h", NULL);
    add_node(f, "b@h", 1, "a@h", "c@h", NULL);
    add_node(f, "c@h", 0, NULL);
    bp_mesh before = *analyze(f);
    reset_inputs(f);
    full_mesh(f, THREE, 3, NULL);
    bp_mesh after = *analyze(f);
    const char **lines = NULL;
    size_t n = 0;
    assert_int_equal(bp_mesh_changes(&before, &after, f->a, &lines, &n), 0);
    print_lines(lines, n);
    assert_int_equal(n, 2);
    assert_string_equal(lines[0], "node c@h now reachable from the probe");
    assert_string_equal(lines[1], "verdict degraded -> converged");
}

/* A cluster larger than the 64 names a bp_namelist holds (discovery allows 1024): 300 nodes split 200 | 100. */
static void test_300_nodes_split(void **state)
{
    (void)state;
    enum { N = 300, A = 200 };
    bp_snapshot **snaps = calloc(N, sizeof *snaps);
    bp_mesh_input *in = calloc(N, sizeof *in);
    char (*names)[16] = calloc(N, sizeof *names);
    bp_arena *a = bp_arena_new(0);
    assert_true(snaps && in && names && a);
    for (size_t i = 0; i < N; i++)
        snprintf(names[i], sizeof names[i], "n%zu@h", i);
    for (size_t i = 0; i < N; i++) {
        bp_snapshot *s = bp_snapshot_new(names[i]);
        assert_non_null(s);
        s->connect.state = BP_FACT_OK;
        s->membership.state = BP_FACT_OK;
        size_t lo = i < A ? 0 : A, hi = i < A ? A : N;
        s->visible.v = bp_arena_alloc(s->arena, (hi - lo) * sizeof *s->visible.v);
        assert_non_null(s->visible.v);
        for (size_t j = lo; j < hi; j++)
            if (j != i)
                s->visible.v[s->visible.n++] = bp_arena_strdup(s->arena, names[j]);
        snaps[i] = s;
        in[i] = (bp_mesh_input){ .node = names[i], .reachable = 1, .snap = s };
    }
    bp_mesh m;
    assert_int_equal(bp_mesh_analyze(in, N, NULL, N, a, &m), 0);
    assert_int_equal(m.n, N);
    assert_int_equal(m.n_components, 2);
    assert_int_equal(m.quorum_needed, N / 2 + 1);
    assert_int_equal(m.quorum_largest, A);
    assert_true(m.quorum);
    assert_int_equal(m.verdict, BP_CLUSTER_PARTITIONED);
    assert_int_equal(bp_mesh_link(&m, (size_t)bp_mesh_find(&m, "n299@h"), (size_t)bp_mesh_find(&m, "n200@h")),
                     BP_LINK_YES);
    assert_int_equal(bp_mesh_link(&m, (size_t)bp_mesh_find(&m, "n0@h"), (size_t)bp_mesh_find(&m, "n299@h")),
                     BP_LINK_NO);
    char *json = bp_render_cluster_json(&m, in, N, 0);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"n299@h\""));
    free(json);
    for (size_t i = 0; i < N; i++)
        bp_snapshot_free(snaps[i]);
    bp_arena_free(a);
    free(snaps);
    free(in);
    free(names);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_mesh_3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mnesia_in_the_verdict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_names_probed_by_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_name_of_a_down_node, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_mesh_5_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_of_five_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_of_five_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_three_of_five_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_2_3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_2_2_no_quorum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partition_with_one_way_bridge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_asymmetric, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreachable_but_seen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unexpected_and_absent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seen_not_probed_without_expectation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expected_size_without_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_reachable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_odd_inputs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_join_leave, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_heal_and_quorum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_reachability, setup, teardown),
        cmocka_unit_test(test_300_nodes_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
