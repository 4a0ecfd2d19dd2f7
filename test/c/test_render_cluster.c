/* test_render_cluster.c: unit tests of the cluster text and JSON renderers (JSON parsed back with jansson). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "beamprobe.h"
#include "core/mesh.h"
#include "core/render_cluster.h"
#include "fixture_snapshot.h"

#define MAXN 8

typedef struct {
    bp_snapshot *snaps[MAXN];
    bp_report reps[MAXN];
    bp_mesh_input in[MAXN];
    size_t n;
    bp_config cfg;
    bp_namelist exp;
    bp_arena *a;
    bp_mesh m;
    char *out;
    json_t *doc;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    fixture_config(&f->cfg);
    f->a = bp_arena_new(0);
    *state = f;
    return f->a ? 0 : -1;
}

static int teardown(void **state)
{
    fx *f = *state;
    free(f->out);
    json_decref(f->doc);
    for (size_t i = 0; i < f->n; i++)
        bp_snapshot_free(f->snaps[i]);
    bp_arena_free(f->a);
    free(f);
    return 0;
}

/* A realistic node (the healthy fixture) named `name`; reachable ones see the NULL-terminated names. */
static bp_snapshot *add_node(fx *f, const char *name, int reachable, ...)
{
    assert_true(f->n < MAXN);
    bp_snapshot *s = fixture_snapshot();
    if (!s) {
        fail_msg("out of memory");
        return NULL;
    }
    s->node = bp_arena_strdup(s->arena, name);
    s->visible.n = 0;
    s->visible.v = bp_arena_alloc(s->arena, MAXN * sizeof *s->visible.v);
    va_list ap;
    va_start(ap, reachable);
    for (const char *p = va_arg(ap, const char *); p; p = va_arg(ap, const char *))
        s->visible.v[s->visible.n++] = bp_arena_strdup(s->arena, p);
    va_end(ap);
    if (!reachable) {
        bp_snapshot *dead = bp_snapshot_new(name);
        assert_non_null(dead);
        bp_snapshot_free(s);
        s = dead;
        s->connect_code = BP_ENOTREG;
        bp_fact_fail(s, &s->connect, BP_FACT_ERROR, "node %s not registered with EPMD on host", name);
    }
    f->snaps[f->n] = s;
    f->in[f->n] = (bp_mesh_input){.node = name, .reachable = reachable, .snap = s, .report = NULL};
    f->n++;
    return s;
}

static void expect_node(fx *f, const char *name)
{
    fixture_list_add(&f->exp, name);
}

/* Evaluate every snapshot and analyze the mesh. */
static void analyze(fx *f)
{
    for (size_t i = 0; i < f->n; i++) {
        assert_int_equal(bp_evaluate(f->snaps[i], &f->cfg, &f->reps[i]), 0);
        f->in[i].report = &f->reps[i];
    }
    assert_int_equal(bp_mesh_analyze(f->in, f->n, &f->exp, -1, f->a, &f->m), 0);
}

static json_t *render_json(fx *f, int pretty)
{
    free(f->out);
    json_decref(f->doc);
    f->out = bp_render_cluster_json(&f->m, f->in, f->n, pretty);
    assert_non_null(f->out);
    json_error_t err;
    f->doc = json_loads(f->out, 0, &err);
    if (!f->doc)
        fail_msg("invalid JSON (%s at %d): %.300s", err.text, err.position, f->out);
    assert_true(json_is_object(f->doc));
    return f->doc;
}

static char *render_text(fx *f)
{
    free(f->out);
    f->out = bp_render_cluster_text(&f->m, f->in, f->n);
    assert_non_null(f->out);
    return f->out;
}

static json_t *get(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        fail_msg("missing key %s", key);
    return v;
}

/* The array of strings as one comma-joined string, for compact assertions. */
static const char *joined(json_t *arr, char *buf, size_t len)
{
    assert_true(json_is_array(arr));
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        assert_non_null(s);
        int k = snprintf(buf + o, len - o, "%s%s", i ? "," : "", s);
        assert_true(k >= 0 && (size_t)k < len - o);
        o += (size_t)k;
    }
    return buf;
}

static json_t *node_obj(json_t *doc, const char *name)
{
    json_t *nodes = get(doc, "nodes");
    for (size_t i = 0; i < json_array_size(nodes); i++) {
        json_t *x = json_array_get(nodes, i);
        if (strcmp(json_string_value(get(x, "node")), name) == 0)
            return x;
    }
    fail_msg("node %s not in the document", name);
    return NULL;
}

/* Three of four expected up, one unreachable, one governor refusing on host2. */
static void one_down(fx *f)
{
    expect_node(f, "app@host1");
    expect_node(f, "app@host2");
    expect_node(f, "app@host3");
    expect_node(f, "app@host4");
    add_node(f, "app@host1", 1, "app@host2", "app@host3", NULL);
    bp_snapshot *s2 = add_node(f, "app@host2", 1, "app@host1", "app@host3", NULL);
    s2->governors[0].state = "refusing";
    add_node(f, "app@host3", 1, "app@host1", "app@host2", NULL);
    add_node(f, "app@host4", 0, NULL);
    analyze(f);
}

/* ---- JSON ---- */

static void test_json_fields(void **state)
{
    fx *f = *state;
    one_down(f);
    assert_int_equal(f->m.verdict, BP_CLUSTER_DEGRADED);
    json_t *doc = render_json(f, 0);
    char buf[512];

    assert_int_equal(json_integer_value(get(doc, "schema_version")), 1);
    assert_string_equal(json_string_value(get(doc, "verdict")), "degraded");
    assert_string_equal(json_string_value(get(doc, "reason")), "1 of 4 expected nodes down (app@host4); quorum holds (3/4)");
    json_t *exp = get(doc, "expected");
    assert_int_equal(json_integer_value(get(exp, "count")), 4);
    assert_string_equal(json_string_value(get(exp, "source")), "nodes");
    assert_string_equal(joined(get(exp, "nodes"), buf, sizeof buf), "app@host1,app@host2,app@host3,app@host4");
    json_t *q = get(doc, "quorum");
    assert_int_equal(json_integer_value(get(q, "needed")), 3);
    assert_int_equal(json_integer_value(get(q, "largest_component")), 3);
    assert_int_equal(json_integer_value(get(q, "component")), 0);
    assert_true(json_is_true(get(q, "holds")));
    assert_int_equal(json_integer_value(get(doc, "probed")), 4);
    assert_int_equal(json_integer_value(get(doc, "reachable")), 3);

    json_t *nodes = get(doc, "nodes");
    assert_int_equal(json_array_size(nodes), 4);
    json_t *h1 = node_obj(doc, "app@host1");
    assert_true(json_is_true(get(h1, "probed")));
    assert_true(json_is_true(get(h1, "reachable")));
    assert_true(json_is_true(get(h1, "expected")));
    assert_string_equal(json_string_value(get(h1, "status")), "healthy");
    assert_string_equal(joined(get(h1, "sees"), buf, sizeof buf), "app@host2,app@host3");
    assert_string_equal(joined(get(h1, "seen_by"), buf, sizeof buf), "app@host2,app@host3");
    assert_int_equal(json_integer_value(get(h1, "component")), 0);
    assert_string_equal(json_string_value(get(node_obj(doc, "app@host2"), "status")), "unhealthy");

    json_t *h4 = node_obj(doc, "app@host4");
    assert_true(json_is_false(get(h4, "reachable")));
    assert_true(json_is_null(get(h4, "sees")));
    assert_int_equal(json_array_size(get(h4, "seen_by")), 0);
    assert_true(json_is_null(get(h4, "component")));
    assert_string_equal(json_string_value(get(h4, "status")), "unhealthy");

    assert_string_equal(joined(json_array_get(get(doc, "partitions"), 0), buf, sizeof buf),
                        "app@host1,app@host2,app@host3");
    assert_int_equal(json_array_size(get(doc, "partitions")), 1);
    assert_int_equal(json_array_size(get(doc, "asymmetric")), 0);
    assert_int_equal(json_array_size(get(doc, "unreachable_but_seen")), 0);
    assert_int_equal(json_array_size(get(doc, "unexpected")), 0);
    assert_string_equal(joined(get(doc, "absent"), buf, sizeof buf), "app@host4");

    json_t *mx = get(doc, "matrix");
    assert_string_equal(joined(get(mx, "nodes"), buf, sizeof buf), "app@host1,app@host2,app@host3,app@host4");
    json_t *rows = get(mx, "rows");
    assert_int_equal(json_array_size(rows), 4);
    static const int want[3][4] = {{0, 1, 1, 0}, {1, 0, 1, 0}, {1, 1, 0, 0}};
    for (size_t i = 0; i < 3; i++) {
        json_t *row = json_array_get(rows, i);
        assert_int_equal(json_array_size(row), 4);
        for (size_t j = 0; j < 4; j++)
            assert_int_equal(json_integer_value(json_array_get(row, j)), want[i][j]);
    }
    assert_true(json_is_null(json_array_get(rows, 3)));
}

/* Each node's "report" is bp_render_json's document, byte for byte when dumped the same way. */
static void test_json_embeds_node_reports(void **state)
{
    fx *f = *state;
    one_down(f);
    json_t *doc = render_json(f, 1);
    for (size_t i = 0; i < f->n; i++) {
        json_t *r = get(node_obj(doc, f->in[i].node), "report");
        assert_true(json_is_object(r));
        char *single = bp_render_json(&f->reps[i], 0);
        assert_non_null(single);
        json_t *parsed = json_loads(single, 0, NULL);
        assert_non_null(parsed);
        assert_true(json_equal(parsed, r));
        char *again = json_dumps(r, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10) | JSON_COMPACT);
        assert_non_null(again);
        assert_string_equal(again, single);
        free(again);
        json_decref(parsed);
        free(single);
    }
    json_t *h2 = get(node_obj(doc, "app@host2"), "report");
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(h2, "checks"),
                                                                          "governor:cost_guard"),
                                                          "status")),
                        "fail");

    /* a node without a report: status and report are null */
    f->in[0].report = NULL;
    doc = render_json(f, 0);
    assert_true(json_is_null(get(node_obj(doc, "app@host1"), "report")));
    assert_true(json_is_null(get(node_obj(doc, "app@host1"), "status")));
}

static void test_json_pretty_equals_compact(void **state)
{
    fx *f = *state;
    one_down(f);
    json_t *compact = json_incref(render_json(f, 0));
    assert_null(strchr(f->out, '\n'));
    json_t *pretty = render_json(f, 1);
    assert_non_null(strstr(f->out, "\n  \"verdict\": \"degraded\""));
    assert_true(json_equal(compact, pretty));
    json_decref(compact);
}

static void test_json_partitioned_and_asymmetric(void **state)
{
    fx *f = *state;
    char buf[512];
    expect_node(f, "a@h");
    expect_node(f, "b@h");
    expect_node(f, "c@h");
    expect_node(f, "d@h");
    expect_node(f, "e@h");
    expect_node(f, "f@h");
    expect_node(f, "g@h");
    add_node(f, "a@h", 1, "b@h", NULL);
    add_node(f, "b@h", 1, "a@h", NULL);
    add_node(f, "c@h", 1, "d@h", "e@h", "g@h", "x@h", NULL);
    add_node(f, "d@h", 1, "c@h", "e@h", "x@h", NULL); /* sees e, e does not see d */
    add_node(f, "e@h", 1, "c@h", "x@h", NULL);
    add_node(f, "f@h", 0, NULL);
    add_node(f, "g@h", 0, NULL); /* the probe cannot reach g, c can */
    analyze(f);
    json_t *doc = render_json(f, 0);
    assert_string_equal(json_string_value(get(doc, "verdict")), "partitioned");
    json_t *parts = get(doc, "partitions");
    assert_int_equal(json_array_size(parts), 2);
    assert_string_equal(joined(json_array_get(parts, 0), buf, sizeof buf), "a@h,b@h");
    assert_string_equal(joined(json_array_get(parts, 1), buf, sizeof buf), "c@h,d@h,e@h,g@h,x@h");
    assert_string_equal(joined(get(doc, "unreachable_but_seen"), buf, sizeof buf), "g@h");
    json_t *asym = get(doc, "asymmetric");
    assert_int_equal(json_array_size(asym), 1);
    assert_string_equal(joined(json_array_get(asym, 0), buf, sizeof buf), "d@h,e@h");
    assert_string_equal(joined(get(doc, "unexpected"), buf, sizeof buf), "x@h");
    assert_string_equal(joined(get(doc, "absent"), buf, sizeof buf), "f@h");
    json_t *x = node_obj(doc, "x@h");
    assert_true(json_is_false(get(x, "probed")));
    assert_true(json_is_false(get(x, "expected")));
    assert_true(json_is_null(get(x, "report")));
    assert_true(json_is_null(get(x, "status")));
    assert_int_equal(json_integer_value(get(x, "component")), 1);
    assert_string_equal(joined(get(x, "seen_by"), buf, sizeof buf), "c@h,d@h,e@h");
    json_t *q = get(doc, "quorum");
    assert_int_equal(json_integer_value(get(q, "largest_component")), 4); /* c d e g; x does not vote */
    assert_int_equal(json_integer_value(get(q, "needed")), 4);
    assert_int_equal(json_integer_value(get(q, "component")), 1);
    assert_true(json_is_true(get(q, "holds")));
    json_t *rows = get(get(doc, "matrix"), "rows");
    assert_int_equal(json_array_size(rows), 8);
    assert_true(json_is_null(json_array_get(rows, 5))); /* f */
    assert_true(json_is_array(json_array_get(rows, 4))); /* e */
}

/* Names from the wire: invalid UTF-8 is replaced, control characters are escaped by JSON. */
static void test_json_hostile_names(void **state)
{
    fx *f = *state;
    add_node(f, "a@h", 1, "bad\xff\x1b[31m@h", NULL);
    analyze(f);
    json_t *doc = render_json(f, 0);
    json_t *names = get(get(doc, "matrix"), "nodes");
    assert_int_equal(json_array_size(names), 2);
    assert_string_equal(json_string_value(json_array_get(names, 0)), "a@h");
    assert_string_equal(json_string_value(json_array_get(names, 1)), "bad\xEF\xBF\xBD\x1b[31m@h");
    assert_null(strchr(f->out, '\x1b'));
}

static void test_json_unreachable_and_empty(void **state)
{
    fx *f = *state;
    add_node(f, "a@h", 0, NULL);
    analyze(f);
    json_t *doc = render_json(f, 0);
    assert_string_equal(json_string_value(get(doc, "verdict")), "unreachable");
    assert_int_equal(json_array_size(get(doc, "partitions")), 0);
    assert_true(json_is_null(get(get(doc, "quorum"), "component")));

    bp_mesh empty;
    assert_int_equal(bp_mesh_analyze(NULL, 0, NULL, -1, f->a, &empty), 0);
    char *s = bp_render_cluster_json(&empty, NULL, 0, 0);
    assert_non_null(s);
    json_t *e = json_loads(s, 0, NULL);
    assert_non_null(e);
    assert_int_equal(json_array_size(get(e, "nodes")), 0);
    assert_string_equal(json_string_value(get(e, "reason")), "no node probed");
    json_decref(e);
    free(s);
    s = bp_render_cluster_text(&empty, NULL, 0);
    assert_non_null(s);
    assert_non_null(strstr(s, "verdict: unreachable: no node probed"));
    free(s);
    assert_null(bp_render_cluster_json(NULL, NULL, 0, 0));
    assert_null(bp_render_cluster_text(NULL, NULL, 0));
}

/* ---- text ---- */

static void test_text_table_and_matrix(void **state)
{
    fx *f = *state;
    one_down(f);
    char *t = render_text(f);
    print_message("%s", t);
    assert_non_null(strstr(t, "NODE       REACHABLE  STATUS     SEES  GOVERNORS            PROBLEMS\n"));
    assert_non_null(strstr(t, "app@host1  yes        healthy    2/3   1 ok                 -\n"));
    assert_non_null(strstr(t, "app@host2  yes        unhealthy  2/3   cost_guard:refusing  -\n"));
    assert_non_null(strstr(t, "app@host4  no         unhealthy  -     -                    unreachable: node app@host4 "
                              "not registered with EPMD on host; absent (expected, seen by no node)\n"));
    assert_non_null(strstr(t, "connectivity (row sees column): X yes, . no, ? unknown, - self\n"));
    assert_non_null(strstr(t, "              1 2 3 4\n"));
    assert_non_null(strstr(t, "1  app@host1  - X X .\n"));
    assert_non_null(strstr(t, "2  app@host2  X - X .\n"));
    assert_non_null(strstr(t, "4  app@host4  ? ? ? -\n"));
    assert_non_null(strstr(t, "verdict: degraded: 1 of 4 expected nodes down (app@host4); quorum holds (3/4)\n"));
    assert_non_null(strstr(t, "partitions: 1\n"));
    assert_non_null(strstr(t, "asymmetric: none\n"));
    assert_non_null(strstr(t, "quorum: holds (largest partition 3 of 4 expected, 3 needed)\n"));
}

static void test_text_partitions_and_problems(void **state)
{
    fx *f = *state;
    expect_node(f, "a@h");
    expect_node(f, "b@h");
    expect_node(f, "c@h");
    add_node(f, "a@h", 1, "b@h", NULL);
    add_node(f, "b@h", 1, NULL); /* does not see a */
    bp_snapshot *c = add_node(f, "c@h", 1, NULL);
    c->memory_kinds[0].bytes = 1000LL << 20; /* memory fails against the 1 GiB cgroup */
    analyze(f);
    assert_int_equal(f->m.verdict, BP_CLUSTER_PARTITIONED);
    char *t = render_text(f);
    print_message("%s", t);
    assert_non_null(strstr(t, "c@h   yes        unhealthy  0/2   1 ok       memory: "));
    assert_non_null(strstr(t, "does not see a@h, b@h\n"));
    assert_non_null(strstr(t, "b@h   yes        healthy    0/2   1 ok       does not see a@h, c@h\n"));
    assert_non_null(strstr(t, "partitions: 2 {a@h, b@h} | {c@h}\n"));
    assert_non_null(strstr(t, "asymmetric: a@h sees b@h (not back)\n"));
    assert_non_null(strstr(t, "quorum: holds (largest partition 2 of 3 expected, 2 needed)\n"));
}

static void test_text_cleans_names_and_wide_index(void **state)
{
    fx *f = *state;
    /* 8 probed + 3 seen-only = 11 nodes: two-digit column numbers */
    static char names[9][16];
    add_node(f, "n1@h", 1, "evil\x1b[2J@h", "s1@h", "s2@h", NULL);
    for (int i = 2; i <= 8; i++) {
        snprintf(names[i], sizeof names[i], "n%d@h", i);
        add_node(f, names[i], 1, "n1@h", NULL);
    }
    analyze(f);
    char *t = render_text(f);
    print_message("%s", t);
    assert_null(strchr(t, '\x1b'));
    assert_non_null(strstr(t, "evil?[2J@h"));
    assert_non_null(strstr(t, "  1  2  3"));
    assert_non_null(strstr(t, "\n 1  evil?[2J@h   -  ?  ?"));
    assert_non_null(strstr(t, "\n 2  n1@h         X  -  .  .  .  .  .  .  .  X  X\n"));
    assert_non_null(strstr(t, "\n11  s2@h"));
}

/* A 255-character atom is a legal node name; the table stays readable: the name column is cut. */
static void test_text_long_names_cut(void **state)
{
    fx *f = *state;
    static char longname[300];
    memset(longname, 'a', 250);
    memcpy(longname + 250, "@host", 6);
    add_node(f, "n1@h", 1, longname, NULL);
    add_node(f, longname, 1, "n1@h", NULL);
    analyze(f);
    char *t = render_text(f);
    size_t widest = 0;
    for (const char *line = t; *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        if (strncmp(line, "partitions", 10) != 0 && strncmp(line, "verdict", 7) != 0) /* lists, not columns */
            widest = n > widest ? n : widest;
        line += n + (end ? 1 : 0);
    }
    assert_true(widest < 160);
    assert_non_null(strstr(t, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xE2\x80\xA6 ")); /* 47 + ellipsis */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_json_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_embeds_node_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_pretty_equals_compact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_partitioned_and_asymmetric, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_hostile_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_unreachable_and_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_table_and_matrix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_partitions_and_problems, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_cleans_names_and_wide_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_long_names_cut, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
