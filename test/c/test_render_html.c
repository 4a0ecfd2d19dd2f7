/* test_render_html.c: unit tests of the status page and the mesh SVG for 0, 1, 3 and 100 nodes. */
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
#include "core/render_html.h"
#include "core/render_svg.h"
#include "fixture_page.h"
#include "fixture_snapshot.h"

#define MAXN 100
#define NOW_MS 1800000000000LL
#define HOSTILE_STATE "<img src=x onerror=alert(1)>"
#define HOSTILE_NODE "x\"><script>alert(2)</script>@h"

typedef struct {
    bp_snapshot *snaps[MAXN];
    bp_report reps[MAXN];
    bp_mesh_input in[MAXN];
    char names[MAXN][32];
    size_t n;
    bp_config cfg;
    bp_arena *a;
    bp_mesh m;
    bp_transition tr[4];
    bp_history_node hist[1];
    size_t n_hist;
    char *out;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    *state = f;
    if (!f || !(f->a = bp_arena_new(0)))
        return -1;
    fixture_config(&f->cfg); /* with one governor, whose state the page shows */
    fixture_list_add(&f->cfg.governors, "cost_guard");
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    free(f->out);
    for (size_t i = 0; i < f->n; i++)
        bp_snapshot_free(f->snaps[i]);
    bp_arena_free(f->a);
    free(f);
    return 0;
}

/* Node `name`, reachable or not; a reachable one sees the first `sees` nodes named so far and after (by index). */
static bp_snapshot *add_node(fx *f, const char *name, int reachable)
{
    assert_true(f->n < MAXN);
    snprintf(f->names[f->n], sizeof f->names[f->n], "%s", name);
    bp_snapshot *s = reachable ? fixture_snapshot() : bp_snapshot_new(name);
    if (!s) {
        fail_msg("out of memory");
        return NULL;
    }
    s->node = bp_arena_strdup(s->arena, name);
    if (reachable) {
        s->visible.n = 0;
        s->visible.v = bp_arena_alloc(s->arena, MAXN * sizeof *s->visible.v);
    } else {
        s->connect_code = BP_ENOTREG;
        bp_fact_fail(s, &s->connect, BP_FACT_ERROR, "node %s not registered with EPMD", name);
    }
    f->snaps[f->n] = s;
    f->in[f->n] = (bp_mesh_input){ .node = f->names[f->n], .reachable = reachable, .snap = s };
    f->n++;
    return s;
}

static void sees(fx *f, size_t i, size_t j)
{
    bp_snapshot *s = f->snaps[i];
    s->visible.v[s->visible.n++] = bp_arena_strdup(s->arena, f->names[j]);
}

/* n reachable nodes, full mesh. */
static void full_mesh(fx *f, size_t n)
{
    char name[32];
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "node%zu@host", i);
        add_node(f, name, 1);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (i != j)
                sees(f, i, j);
}

static char *render(fx *f)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->in[i].reachable) {
            assert_int_equal(bp_evaluate(f->snaps[i], &f->cfg, &f->reps[i]), 0);
            f->in[i].report = &f->reps[i];
        }
    assert_int_equal(bp_mesh_analyze(f->in, f->n, NULL, -1, f->a, &f->m), 0);
    bp_page p = { .mesh = &f->m, .in = f->in, .n = f->n, .hist = f->hist, .n_hist = f->n_hist,
                  .now_ms = NOW_MS, .age_ms = 1200, .refresh_ms = 2000 };
    free(f->out);
    f->out = bp_render_page(&p);
    assert_non_null(f->out);
    return f->out;
}

static size_t count(const char *hay, const char *needle)
{
    size_t k = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        k++;
    return k;
}

/* Every one of the NULL-terminated strings after `hay` is in it. */
static void has_all(const char *hay, ...)
{
    va_list ap;
    va_start(ap, hay);
    for (const char *want = va_arg(ap, const char *); want; want = va_arg(ap, const char *))
        if (!strstr(hay, want))
            fail_msg("missing: %s", want);
    va_end(ap);
}

/* Every element opened is closed, in order (void elements and self-closing SVG aside). */
static void assert_balanced(const char *html)
{
    static const char *voids[] = { "meta", "br", "hr", "img", "input", "link", "!DOCTYPE", "?xml" };
    char stack[256][16];
    size_t depth = 0;
    for (const char *p = strchr(html, '<'); p; p = strchr(p + 1, '<')) {
        if (strncmp(p, "<script>", 8) == 0 || strncmp(p, "<style>", 7) == 0) { /* raw text: skip to its end */
            const char *end = strstr(p, p[1] == 's' && p[2] == 'c' ? "</script>" : "</style>");
            assert_non_null(end);
            p = end + 1;
            while (*p != '>')
                p++;
            continue;
        }
        int closing = p[1] == '/';
        const char *n0 = p + 1 + closing;
        size_t len = strcspn(n0, " >/\n");
        const char *gt = strchr(p, '>');
        assert_non_null(gt);
        char name[16] = "";
        snprintf(name, sizeof name, "%.*s", (int)(len < 15 ? len : 15), n0);
        int is_void = gt[-1] == '/';
        for (size_t i = 0; i < sizeof voids / sizeof voids[0]; i++)
            is_void |= strcmp(name, voids[i]) == 0;
        if (closing) {
            assert_true(depth > 0);
            if (strcmp(stack[depth - 1], name) != 0)
                fail_msg("</%s> closes <%s>", name, stack[depth - 1]);
            depth--;
        } else if (!is_void) {
            assert_true(depth < 256);
            memcpy(stack[depth++], name, sizeof name);
        }
    }
    if (depth != 0)
        fail_msg("<%s> left open", stack[depth - 1]);
}

/* One inline style and one inline script, exactly the hashed ones; nothing loaded from elsewhere. */
static void assert_self_contained(const char *html)
{
    assert_int_equal(count(html, "<script"), 1);
    assert_int_equal(count(html, "<style"), 1);
    char *s = strstr(html, "<style>");
    assert_non_null(s);
    assert_memory_equal(s + 7, bp_page_css, strlen(bp_page_css));
    assert_memory_equal(s + 7 + strlen(bp_page_css), "</style>", 8);
    s = strstr(html, "<script>");
    assert_non_null(s);
    assert_memory_equal(s + 8, bp_page_js, strlen(bp_page_js));
    assert_memory_equal(s + 8 + strlen(bp_page_js), "</script>", 9);
    assert_null(strstr(html, "<img"));
    assert_null(strstr(html, "<link"));
    assert_null(strstr(html, "<iframe"));
    assert_null(strstr(html, "href=\"http"));
    assert_null(strstr(html, "url(http"));
    assert_null(strstr(html, " style="));  /* inline style attributes would need 'unsafe-inline' */
    assert_null(strstr(html, " onclick=")); /* as would handlers */
}

static void test_zero_nodes(void **state)
{
    fx *f = *state;
    char *out = render(f);
    assert_balanced(out);
    assert_self_contained(out);
    has_all(out, "data-verdict=\"unreachable\"", "No nodes to show.", "<main id=\"main\">", NULL);
    assert_int_equal(count(out, "<details class=\"node\""), 0);
}

static void test_one_node(void **state)
{
    fx *f = *state;
    f->cfg.memory_limit = 1LL << 30;
    add_node(f, "solo@host", 1);
    char *out = render(f);
    assert_balanced(out);
    assert_self_contained(out);
    has_all(out, "data-verdict=\"converged\"", "\xE2\x9C\x93 Converged",
            "Quorum holds: the largest partition holds 1 of 1 expected votes; 1 needed", NULL);
    assert_int_equal(count(out, "<details class=\"node\""), 1);
    assert_non_null(strstr(out, ">solo@host</span>"));
    for (size_t i = 0; i < f->reps[0].n_checks; i++) /* every check, with its reason */
        has_all(out, f->reps[0].checks[i].name, f->reps[0].checks[i].reason, NULL);
    has_all(out, "<meter min=\"0\" max=\"1073741824\"", "<strong>cost_guard</strong>", "stable",
            "aria-label=\"node status: 0 changes in the last hour, now healthy\"", NULL);
}

/* Three nodes: c is cut off (a and b do not see it, it sees nobody), b's governor state is hostile. */
static void test_three_nodes_partition_and_hostile(void **state)
{
    fx *f = *state;
    add_node(f, "a@h", 1);
    bp_snapshot *b = add_node(f, "b@h", 1);
    add_node(f, "c@h", 1);
    sees(f, 0, 1);
    sees(f, 1, 0);
    b->governors[0].state = HOSTILE_STATE;
    /* a history: b's node went down 10 minutes ago and came back; an old change 2 hours ago is not shown */
    f->tr[0] = (bp_transition){ .time_ms = NOW_MS - 7200000, .kind = BP_TR_NODE, .name = "node", .from = "down",
                                .to = "healthy" };
    f->tr[1] = (bp_transition){ .time_ms = NOW_MS - 600000, .kind = BP_TR_NODE, .name = "node", .from = "healthy",
                                .to = "down", .reason = "<b>gone</b>" };
    f->tr[2] = (bp_transition){ .time_ms = NOW_MS - 300000, .kind = BP_TR_NODE, .name = "node", .from = "down",
                                .to = "healthy" };
    f->tr[3] = (bp_transition){ .time_ms = NOW_MS - 60000, .kind = BP_TR_GOVERNOR, .name = "cost_guard",
                                .from = "stable", .to = HOSTILE_STATE };
    f->hist[0] = (bp_history_node){ .node = "b@h", .transitions = f->tr, .n = 4, .kept = 4 };
    f->n_hist = 1;
    char *out = render(f);
    assert_balanced(out);
    assert_self_contained(out);
    has_all(out, "data-verdict=\"partitioned\"", "Partitioned", "partition 1 (quorum)", "partition 2<", NULL);
    assert_int_equal(count(out, "<details class=\"node\""), 3);
    assert_null(strstr(out, "<img"));
    assert_null(strstr(out, "<b>gone"));
    has_all(out, "&lt;img src=x onerror=alert(1)&gt;",
            "aria-label=\"node status: 2 changes in the last hour, now healthy\"",
            "healthy \xE2\x86\x92 down (&lt;b&gt;gone&lt;/b&gt;)",
            "aria-label=\"cost_guard: 1 change in the last hour", NULL);
    assert_int_equal(count(out, "class=\"l-ok\""), 1); /* a-b; c is in a partition of its own */
}

static void test_hostile_node_name(void **state)
{
    fx *f = *state;
    add_node(f, HOSTILE_NODE, 1);
    add_node(f, "down@h", 0);
    char *out = render(f);
    assert_balanced(out);
    assert_null(strstr(out, "<script>alert"));
    assert_null(strstr(out, "x\">"));
    has_all(out, "x&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;@h", "data-state=\"down\"",
            "not registered with EPMD", NULL);
}

static void test_hundred_nodes(void **state)
{
    fx *f = *state;
    full_mesh(f, 100);
    char *out = render(f);
    assert_balanced(out);
    assert_self_contained(out);
    assert_non_null(strstr(out, "data-verdict=\"converged\""));
    assert_int_equal(count(out, "<details class=\"node\""), 100);
    assert_int_equal(count(out, "<details class=\"node\" id=\"node-5\" data-state=\"healthy\" open>"), 0);
    for (size_t i = 0; i < 100; i++) {
        char want[64];
        snprintf(want, sizeof want, ">node%zu@host</span>", i);
        assert_non_null(strstr(out, want));
    }
    assert_int_equal(count(out, "class=\"l-ok\""), 0); /* a full mesh of 100 is said in words */
    assert_non_null(strstr(out, "only missing and one-way links are drawn"));
    assert_true(strlen(out) < 1024 * 1024);
}

static void test_svg_standalone_one_way(void **state)
{
    fx *f = *state;
    add_node(f, "a@h", 1);
    add_node(f, "b@h", 1);
    add_node(f, "c@h", 1);
    sees(f, 0, 1); /* a sees b, b does not see a: one way */
    sees(f, 0, 2);
    sees(f, 2, 0);
    render(f);
    char *svg = bp_render_cluster_svg(&f->m, f->in, f->n);
    assert_non_null(svg);
    assert_balanced(svg);
    assert_true(strncmp(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44) == 0);
    assert_int_equal(count(svg, "<style>"), 1);
    assert_int_equal(count(svg, "class=\"l-oneway\""), 1);
    assert_int_equal(count(svg, "class=\"l-missing\""), 1); /* b-c, both rows known, neither sees the other */
    assert_int_equal(count(svg, "class=\"l-ok\""), 1);
    assert_null(strstr(svg, "<a href")); /* links to the page's node cards only inline */
    free(svg);
}

/* The size target (docs/BENCHMARKS.md): 30 churning nodes (bench_page's fixture, 20 changes an hour each) in
 * under 100 KiB, with every change still drawn and every check still listed. */
static void test_thirty_churning_nodes_under_100k(void **state)
{
    (void)state;
    fixture_cluster c;
    assert_int_equal(fixture_cluster_build(&c, 30, 20, NOW_MS), 0);
    bp_arena *a = bp_arena_new(0);
    bp_mesh m;
    assert_non_null(a);
    assert_int_equal(bp_mesh_analyze(c.in, c.n, NULL, -1, a, &m), 0);
    bp_page p = { .mesh = &m, .in = c.in, .n = c.n, .hist = c.hist, .n_hist = c.n, .now_ms = NOW_MS,
                  .age_ms = 500, .refresh_ms = 2000 };
    char *out = bp_render_page(&p);
    assert_non_null(out);
    assert_balanced(out);
    assert_self_contained(out);
    size_t len = strlen(out);
    print_message("30 nodes, 20 changes/h each: %zu bytes\n", len);
    assert_true(len < 100 * 1024);
    assert_int_equal(count(out, "<details class=\"node\""), 30);
    assert_int_equal(count(out, "10 changes in the last hour"), 60); /* a node and a governor strip each */
    /* 10 changes: 11 segments a strip, but the node's first change is at the hour's start (an empty one) */
    assert_int_equal(count(out, " 7h"), 30 * (10 + 11));
    for (size_t i = 0; i < c.reps[0].n_checks; i++) /* every node's checks, each with its reason */
        assert_true(count(out, c.reps[0].checks[i].reason) >= 30);
    free(out);
    bp_arena_free(a);
    fixture_cluster_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_zero_nodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_node, setup, teardown),
        cmocka_unit_test_setup_teardown(test_three_nodes_partition_and_hostile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_node_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hundred_nodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_svg_standalone_one_way, setup, teardown),
        cmocka_unit_test(test_thirty_churning_nodes_under_100k),
    };
    return cmocka_run_group_tests_name("render_html", tests, NULL, NULL);
}
