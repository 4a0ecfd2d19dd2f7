/* render_cluster.c: renders a mesh analysis as a text table with a connectivity matrix, or as JSON. */
#include "core/render_cluster.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_util.h"
#include "core/render_json.h"
#include "core/textbuf.h"

#define PROBLEM_CHECKS 2 /* failing checks listed per node in the text table */
#define PROBLEM_PEERS 3  /* missing peers listed per node in the text table */
#define NAME_COLUMN_MAX 48 /* node names wider than this are cut in the tables (a 255-character atom is legal) */

/* ---- shared ---- */

/* The input behind node k, or NULL when it was not probed (or the index is stale). */
static const bp_mesh_input *node_input(const bp_mesh_node *x, const bp_mesh_input *in, size_t n)
{
    if (!in || x->input < 0 || (size_t)x->input >= n)
        return NULL;
    return &in[x->input];
}

static int node_present(const bp_mesh_node *x)
{
    return x->reachable || x->seen_by > 0;
}

static const char *expect_source_name(bp_expect_source s)
{
    switch (s) {
    case BP_EXPECT_NAMES: return "nodes";
    case BP_EXPECT_SIZE: return "size";
    case BP_EXPECT_PROBED: return "probed";
    }
    return "probed";
}

/* ---- table cells ---- */

static const char *status_word(const bp_mesh_input *x)
{
    return x && x->report ? bp_overall_name(x->report->status) : "-";
}

/* "3 ok", "cost_guard:refusing", "cost_guard:refusing, 1 ok", or "-". */
static void governors_cell(bp_textbuf *b, const bp_mesh_input *x)
{
    const bp_report *r = x ? x->report : NULL;
    size_t ok = 0, bad = 0;
    for (size_t i = 0; r && i < r->n_checks; i++) {
        const bp_check *c = &r->checks[i];
        if (c->kind != BP_CHECK_GOVERNOR)
            continue;
        if (c->status == BP_PASS) {
            ok++;
            continue;
        }
        const bp_governor_snap *g = c->governor;
        const char *what = bp_status_name(c->status);
        if (g && g->fact.state == BP_FACT_OK && !g->alive)
            what = "down";
        else if (g && g->fact.state == BP_FACT_OK && g->state_fact.state == BP_FACT_OK && g->state)
            what = g->state;
        else if (g && g->fact.state == BP_FACT_OK && g->state_fact.state != BP_FACT_OK)
            what = "unresponsive";
        bp_textbuf_addf(b, "%s", bad++ ? ", " : "");
        bp_textbuf_add_clean(b, c->subject ? c->subject : c->name, 0);
        bp_textbuf_addf(b, ":");
        bp_textbuf_add_clean(b, what, 0);
    }
    if (ok > 0)
        bp_textbuf_addf(b, "%s%zu ok", bad ? ", " : "", ok);
    else if (bad == 0)
        bp_textbuf_addf(b, "-");
}

typedef struct {
    bp_textbuf *b;
    int any;
} frag;

static void frag_sep(frag *f)
{
    if (f->any++)
        bp_textbuf_addf(f->b, "; ");
}

/* Failing checks, unreachability, missing peers: "-" when nothing is wrong. */
static void problems_cell(bp_textbuf *b, const bp_mesh *m, size_t k, const bp_mesh_input *x)
{
    const bp_mesh_node *nd = &m->nodes[k];
    frag f = {b, 0};
    if (!nd->probed && !nd->reachable) {
        frag_sep(&f);
        bp_textbuf_addf(b, "not probed");
    }
    if (nd->probed && !nd->reachable) {
        frag_sep(&f);
        const bp_check *conn = x && x->report ? bp_report_find(x->report, "connection") : NULL;
        const char *why = conn && conn->status != BP_PASS ? conn->reason
                          : x && x->snap && x->snap->connect.error ? x->snap->connect.error
                                                                   : NULL;
        bp_textbuf_addf(b, "unreachable");
        if (why) {
            bp_textbuf_addf(b, ": ");
            bp_textbuf_add_clean(b, why, 0);
        }
    }
    if (nd->expected && !node_present(nd)) {
        frag_sep(&f);
        bp_textbuf_addf(b, "absent (expected, seen by no node)");
    } else if (!nd->reachable && nd->seen_by > 0) {
        frag_sep(&f);
        bp_textbuf_addf(b, "seen by %zu node%s", nd->seen_by, nd->seen_by == 1 ? "" : "s");
    }
    if (m->expect_source == BP_EXPECT_NAMES && !nd->expected && node_present(nd)) {
        frag_sep(&f);
        bp_textbuf_addf(b, "unexpected");
    }
    const bp_report *r = x ? x->report : NULL;
    size_t failing = 0;
    for (size_t i = 0; r && i < r->n_checks; i++) {
        const bp_check *c = &r->checks[i];
        /* governors have their own column, a failed connection is "unreachable" above,
         * membership speaks through the matrix when it is known */
        if (c->status == BP_PASS || c->kind == BP_CHECK_GOVERNOR ||
            (c->kind == BP_CHECK_CONNECTION && !nd->reachable) ||
            (c->kind == BP_CHECK_MEMBERSHIP && nd->row_known))
            continue;
        if (failing++ < PROBLEM_CHECKS) {
            frag_sep(&f);
            bp_textbuf_add_clean(b, c->name, 0);
            bp_textbuf_addf(b, ": ");
            bp_textbuf_add_clean(b, c->reason, 0);
        }
    }
    if (failing > PROBLEM_CHECKS) {
        frag_sep(&f);
        bp_textbuf_addf(b, "+%zu more failing check%s", failing - PROBLEM_CHECKS,
                        failing - PROBLEM_CHECKS == 1 ? "" : "s");
    }
    if (nd->reachable && !nd->row_known) {
        frag_sep(&f);
        bp_textbuf_addf(b, "nodes() not collected");
    }
    size_t missing = 0;
    for (size_t j = 0; nd->row_known && j < m->n; j++) {
        if (j == k || !node_present(&m->nodes[j]) || bp_mesh_link(m, k, j) == BP_LINK_YES)
            continue;
        if (missing == 0) {
            frag_sep(&f);
            bp_textbuf_addf(b, "does not see ");
        }
        if (missing < PROBLEM_PEERS) {
            bp_textbuf_addf(b, "%s", missing ? ", " : "");
            bp_textbuf_add_clean(b, m->nodes[j].name, 0);
        }
        missing++;
    }
    if (missing > PROBLEM_PEERS)
        bp_textbuf_addf(b, ", +%zu more", missing - PROBLEM_PEERS);
    if (!f.any)
        bp_textbuf_addf(b, "-");
}

/* Render one cell into its own buffer to measure and pad it. */
typedef struct {
    char *gov, *prob;
    char sees[48];
} row_cells;

static void free_rows(row_cells *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        free(rows[i].gov);
        free(rows[i].prob);
    }
    free(rows);
}

static void table(bp_textbuf *b, const bp_mesh *m, const bp_mesh_input *in, size_t n)
{
    row_cells *rows = calloc(m->n ? m->n : 1, sizeof *rows);
    if (!rows) {
        b->oom = 1;
        return;
    }
    size_t wn = strlen("NODE"), ws = strlen("STATUS"), wv = strlen("SEES"), wg = strlen("GOVERNORS");
    for (size_t k = 0; k < m->n; k++) {
        const bp_mesh_node *nd = &m->nodes[k];
        const bp_mesh_input *x = node_input(nd, in, n);
        bp_textbuf g = {0}, p = {0};
        governors_cell(&g, x);
        problems_cell(&p, m, k, x);
        rows[k].gov = g.p;
        rows[k].prob = p.p;
        if (g.oom || p.oom || !g.p || !p.p) {
            b->oom = 1;
            free_rows(rows, m->n);
            return;
        }
        if (nd->row_known)
            snprintf(rows[k].sees, sizeof rows[k].sees, "%zu/%zu", nd->sees, m->n - 1);
        else
            snprintf(rows[k].sees, sizeof rows[k].sees, "-");
        size_t w = bp_text_width(nd->name);
        wn = w > wn ? (w > NAME_COLUMN_MAX ? NAME_COLUMN_MAX : w) : wn;
        w = strlen(status_word(x));
        ws = w > ws ? w : ws;
        w = strlen(rows[k].sees);
        wv = w > wv ? w : wv;
        w = bp_text_width(rows[k].gov);
        wg = w > wg ? w : wg;
    }
    bp_textbuf_addf(b, "%-*s  %-9s  %-*s  %-*s  %-*s  %s\n", (int)wn, "NODE", "REACHABLE", (int)ws, "STATUS",
                    (int)wv, "SEES", (int)wg, "GOVERNORS", "PROBLEMS");
    for (size_t k = 0; k < m->n; k++) {
        const bp_mesh_node *nd = &m->nodes[k];
        const bp_mesh_input *x = node_input(nd, in, n);
        bp_textbuf_add_fit(b, nd->name, wn);
        bp_textbuf_addf(b, "  %-9s  %-*s  %-*s  ", nd->reachable ? "yes" : "no", (int)ws,
                        status_word(x), (int)wv, rows[k].sees);
        bp_textbuf_add_clean(b, rows[k].gov, wg);
        bp_textbuf_addf(b, "  ");
        bp_textbuf_add_clean(b, rows[k].prob, 0);
        bp_textbuf_addf(b, "\n");
    }
    free_rows(rows, m->n);
}

static size_t digits(size_t v)
{
    size_t d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

/* Rows = observer, columns = observed; columns are numbered, rows carry number and name (the legend). */
static void matrix(bp_textbuf *b, const bp_mesh *m)
{
    if (m->n == 0)
        return;
    size_t cw = digits(m->n);
    size_t wn = 0;
    for (size_t k = 0; k < m->n; k++) {
        size_t w = bp_text_width(m->nodes[k].name);
        wn = w > wn ? (w > NAME_COLUMN_MAX ? NAME_COLUMN_MAX : w) : wn;
    }
    bp_textbuf_addf(b, "\nconnectivity (row sees column): X yes, . no, ? unknown, - self\n");
    bp_textbuf_addf(b, "%*s  %*s ", (int)cw, "", (int)wn, "");
    for (size_t j = 0; j < m->n; j++)
        bp_textbuf_addf(b, " %*zu", (int)cw, j + 1);
    bp_textbuf_addf(b, "\n");
    for (size_t i = 0; i < m->n; i++) {
        bp_textbuf_addf(b, "%*zu  ", (int)cw, i + 1);
        bp_textbuf_add_fit(b, m->nodes[i].name, wn);
        bp_textbuf_addf(b, " ");
        for (size_t j = 0; j < m->n; j++) {
            int l = bp_mesh_link(m, i, j);
            char c = i == j ? '-' : l == BP_LINK_YES ? 'X' : l == BP_LINK_NO ? '.' : '?';
            bp_textbuf_addf(b, " %*c", (int)cw, c);
        }
        bp_textbuf_addf(b, "\n");
    }
}

static void verdict_lines(bp_textbuf *b, const bp_mesh *m)
{
    bp_textbuf_addf(b, "\nverdict: %s: ", bp_cluster_verdict_name(m->verdict));
    bp_textbuf_add_clean(b, m->reason, 0);
    bp_textbuf_addf(b, "\n");
    bp_textbuf_addf(b, "partitions: %zu", m->n_components);
    for (size_t c = 0; m->n_components > 1 && c < m->n_components; c++) {
        bp_textbuf_addf(b, "%s{", c ? " | " : " ");
        for (size_t i = 0; i < m->components[c].n; i++) {
            bp_textbuf_addf(b, "%s", i ? ", " : "");
            bp_textbuf_add_clean(b, m->nodes[m->components[c].members[i]].name, 0);
        }
        bp_textbuf_addf(b, "}");
    }
    bp_textbuf_addf(b, "\n");
    bp_textbuf_addf(b, "asymmetric: ");
    if (m->n_asymmetric == 0)
        bp_textbuf_addf(b, "none");
    for (size_t i = 0; i < m->n_asymmetric; i++) {
        bp_textbuf_addf(b, "%s", i ? ", " : "");
        bp_textbuf_add_clean(b, m->nodes[m->asymmetric[i].observer].name, 0);
        bp_textbuf_addf(b, " sees ");
        bp_textbuf_add_clean(b, m->nodes[m->asymmetric[i].observed].name, 0);
        bp_textbuf_addf(b, " (not back)");
    }
    bp_textbuf_addf(b, "\n");
    bp_textbuf_addf(b, "quorum: %s (largest partition %zu of %zu expected, %zu needed)\n", m->quorum ? "holds" : "lost",
                    m->quorum_largest, m->expected, m->quorum_needed);
}

#define GIVEN_SHOWN 8 /* "given as" pairs listed before "+N more" */

/* One line naming the nodes that were probed by a name they do not use: "given as: x@127.0.0.1 is x@vm, ...". */
static void given_line(bp_textbuf *b, const bp_mesh *m, const bp_mesh_input *in, size_t n)
{
    size_t shown = 0, total = 0;
    for (size_t k = 0; k < m->n; k++) {
        const bp_mesh_input *x = node_input(&m->nodes[k], in, n);
        if (!x || !x->snap || !x->snap->given_as)
            continue;
        if (total++ >= GIVEN_SHOWN)
            continue;
        bp_textbuf_addf(b, "%s", shown++ ? ", " : "given as: ");
        bp_textbuf_add_clean(b, x->snap->given_as, 0);
        bp_textbuf_addf(b, " is ");
        bp_textbuf_add_clean(b, m->nodes[k].name, 0);
    }
    if (total > shown)
        bp_textbuf_addf(b, ", +%zu more", total - shown);
    if (total > 0)
        bp_textbuf_addf(b, "\n");
}

/* With --mnesia: one line per probed node, its own view of mnesia beside the distribution mesh. */
static void mnesia_lines(bp_textbuf *b, const bp_mesh *m, const bp_mesh_input *in, size_t n)
{
    int header = 0;
    for (size_t k = 0; k < m->n; k++) {
        const bp_mesh_input *x = node_input(&m->nodes[k], in, n);
        const bp_snapshot *s = x ? x->snap : NULL;
        if (!s || s->mnesia.state == BP_FACT_UNSET)
            continue;
        if (!header++)
            bp_textbuf_addf(b, "mnesia (each node's view):\n");
        bp_textbuf_addf(b, "  ");
        bp_textbuf_add_fit(b, m->nodes[k].name, NAME_COLUMN_MAX);
        if (s->mnesia.state != BP_FACT_OK) {
            bp_textbuf_addf(b, " ?: ");
            bp_textbuf_add_clean(b, s->mnesia.error, 0);
        } else if (!s->mnesia_running || strcmp(s->mnesia_running, "yes") != 0) {
            bp_textbuf_addf(b, " not running (");
            bp_textbuf_add_clean(b, s->mnesia_running, 0);
            bp_textbuf_addf(b, ")");
        } else {
            bp_textbuf_addf(b, " running on %zu of %zu db nodes", s->mnesia_running_nodes.n, s->mnesia_db_nodes.n);
            if (s->mnesia_unloaded.n)
                bp_textbuf_addf(b, ", %zu tables without a loaded copy", s->mnesia_unloaded.n);
        }
        bp_textbuf_addf(b, "\n");
    }
}

char *bp_render_cluster_text(const bp_mesh *m, const bp_mesh_input *in, size_t n)
{
    if (!m)
        return NULL;
    bp_textbuf b = {0};
    table(&b, m, in, n);
    matrix(&b, m);
    verdict_lines(&b, m);
    given_line(&b, m, in, n);
    mnesia_lines(&b, m, in, n);
    return bp_textbuf_finish(&b);
}

/* ---- JSON ---- */

typedef struct {
    int oom;
} jctx;

/* The renderers' insert helpers (json_util.h) with the OOM flag of this render. */
static void put(jctx *x, json_t *obj, const char *key, json_t *v)
{
    bp_json_put(&x->oom, obj, key, v);
}

static void append(jctx *x, json_t *arr, json_t *v)
{
    bp_json_append(&x->oom, arr, v);
}

static json_t *jsize(size_t v)
{
    return json_integer((json_int_t)v);
}

static json_t *name_list(jctx *x, const bp_mesh *m, const size_t *idx, size_t k)
{
    json_t *a = json_array();
    for (size_t i = 0; i < k; i++)
        append(x, a, bp_json_string_utf8(m->nodes[idx[i]].name));
    return a;
}

/* The node's single-node report, exactly as bp_render_json renders it; null when none. */
static json_t *report_json(jctx *x, const bp_mesh_input *in)
{
    if (!in || !in->report || !in->report->snap)
        return json_null();
    json_t *v = bp_report_json(in->report);
    if (!v) {
        x->oom = 1;
        return json_null();
    }
    return v;
}

static json_t *names(jctx *x, const bp_strv *v)
{
    json_t *a = json_array();
    for (size_t i = 0; i < v->n; i++)
        append(x, a, bp_json_string_utf8(v->v[i]));
    return a;
}

/* The node's own view of mnesia (--mnesia), null when not asked or not known. */
static json_t *mnesia_view(jctx *x, const bp_snapshot *s)
{
    if (!s || s->mnesia.state != BP_FACT_OK)
        return json_null();
    json_t *o = json_object();
    put(x, o, "running", bp_json_string_utf8(s->mnesia_running));
    put(x, o, "db_nodes", names(x, &s->mnesia_db_nodes));
    put(x, o, "running_db_nodes", names(x, &s->mnesia_running_nodes));
    put(x, o, "tables_not_loaded", names(x, &s->mnesia_unloaded));
    return o;
}

static json_t *node_object(jctx *x, const bp_mesh *m, size_t k, const bp_mesh_input *in, size_t n)
{
    const bp_mesh_node *nd = &m->nodes[k];
    const bp_mesh_input *inp = node_input(nd, in, n);
    json_t *o = json_object();
    put(x, o, "node", bp_json_string_utf8(nd->name));
    put(x, o, "given_as", inp && inp->snap && inp->snap->given_as ? bp_json_string_utf8(inp->snap->given_as)
                                                                  : json_null());
    put(x, o, "probed", json_boolean(nd->probed));
    put(x, o, "reachable", json_boolean(nd->reachable));
    put(x, o, "expected", json_boolean(nd->expected));
    put(x, o, "status", inp && inp->report ? json_string(bp_overall_name(inp->report->status)) : json_null());
    json_t *sees = nd->row_known ? json_array() : json_null();
    json_t *seen_by = json_array();
    for (size_t j = 0; j < m->n; j++) {
        if (j == k)
            continue;
        if (nd->row_known && bp_mesh_link(m, k, j) == BP_LINK_YES)
            append(x, sees, bp_json_string_utf8(m->nodes[j].name));
        if (bp_mesh_link(m, j, k) == BP_LINK_YES)
            append(x, seen_by, bp_json_string_utf8(m->nodes[j].name));
    }
    put(x, o, "sees", sees);
    put(x, o, "seen_by", seen_by);
    put(x, o, "component", bp_json_int_or_null(nd->component));
    put(x, o, "mnesia", mnesia_view(x, inp ? inp->snap : NULL));
    put(x, o, "report", report_json(x, inp));
    return o;
}

static json_t *matrix_object(jctx *x, const bp_mesh *m)
{
    json_t *o = json_object();
    json_t *node_names = json_array();
    json_t *rows = json_array();
    for (size_t i = 0; i < m->n; i++) {
        append(x, node_names, bp_json_string_utf8(m->nodes[i].name));
        if (!m->nodes[i].row_known) {
            append(x, rows, json_null());
            continue;
        }
        json_t *row = json_array();
        for (size_t j = 0; j < m->n; j++)
            append(x, row, json_integer(j != i && bp_mesh_link(m, i, j) == BP_LINK_YES));
        append(x, rows, row);
    }
    put(x, o, "nodes", node_names);
    put(x, o, "rows", rows);
    return o;
}

char *bp_render_cluster_json(const bp_mesh *m, const bp_mesh_input *in, size_t n, int pretty)
{
    if (!m)
        return NULL;
    jctx x = {0};
    json_t *doc = json_object();
    put(&x, doc, "schema_version", json_integer(BP_CLUSTER_SCHEMA_VERSION));
    put(&x, doc, "verdict", json_string(bp_cluster_verdict_name(m->verdict)));
    put(&x, doc, "reason", bp_json_string_utf8(m->reason ? m->reason : ""));

    json_t *exp = json_object();
    put(&x, exp, "count", jsize(m->expected));
    put(&x, exp, "source", json_string(expect_source_name(m->expect_source)));
    json_t *exp_nodes = m->expect_source == BP_EXPECT_SIZE ? json_null() : json_array();
    for (size_t k = 0; m->expect_source != BP_EXPECT_SIZE && k < m->n; k++)
        if (m->nodes[k].expected)
            append(&x, exp_nodes, bp_json_string_utf8(m->nodes[k].name));
    put(&x, exp, "nodes", exp_nodes);
    put(&x, doc, "expected", exp);

    json_t *q = json_object();
    put(&x, q, "needed", jsize(m->quorum_needed));
    put(&x, q, "largest_component", jsize(m->quorum_largest));
    put(&x, q, "component", bp_json_int_or_null(m->quorum_component));
    put(&x, q, "holds", json_boolean(m->quorum));
    put(&x, doc, "quorum", q);

    put(&x, doc, "probed", jsize(m->n_probed));
    put(&x, doc, "reachable", jsize(m->n_reachable));

    json_t *nodes = json_array();
    for (size_t k = 0; k < m->n; k++)
        append(&x, nodes, node_object(&x, m, k, in, n));
    put(&x, doc, "nodes", nodes);

    json_t *parts = json_array();
    for (size_t c = 0; c < m->n_components; c++)
        append(&x, parts, name_list(&x, m, m->components[c].members, m->components[c].n));
    put(&x, doc, "partitions", parts);

    json_t *asym = json_array();
    for (size_t i = 0; i < m->n_asymmetric; i++) {
        json_t *pair = json_array();
        append(&x, pair, bp_json_string_utf8(m->nodes[m->asymmetric[i].observer].name));
        append(&x, pair, bp_json_string_utf8(m->nodes[m->asymmetric[i].observed].name));
        append(&x, asym, pair);
    }
    put(&x, doc, "asymmetric", asym);
    put(&x, doc, "unreachable_but_seen", name_list(&x, m, m->unreachable_seen, m->n_unreachable_seen));
    put(&x, doc, "unexpected", name_list(&x, m, m->unexpected, m->n_unexpected));
    put(&x, doc, "absent", name_list(&x, m, m->absent, m->n_absent));
    put(&x, doc, "matrix", matrix_object(&x, m));

    return bp_json_dump_doc(doc, x.oom, pretty);
}
