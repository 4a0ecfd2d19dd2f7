/* render_html.c: renders the status page (verdict, mesh, per-node checks, governors, memory, history). */
#include "core/render_html.h"

#include <string.h>
#include <time.h>

#include "core/html_escape.h"
#include "core/render_svg.h"
#include "core/textbuf.h"

#define COLLAPSE_ABOVE 10 /* with more nodes only the troubled ones start unfolded */
#define STRIP_LISTED 2    /* changes listed in words under a history strip (the latest) */

static const char *verdict_title(bp_cluster_verdict v)
{
    switch (v) {
    case BP_CLUSTER_CONVERGED: return "\xE2\x9C\x93 Converged";            /* check mark */
    case BP_CLUSTER_DEGRADED: return "\xE2\x96\xB2 Degraded";              /* triangle */
    case BP_CLUSTER_PARTITIONED: return "\xE2\x9C\x82 Partitioned";        /* scissors */
    case BP_CLUSTER_NO_QUORUM: return "\xE2\x9C\x95 No quorum";            /* cross */
    case BP_CLUSTER_UNREACHABLE: return "\xE2\x9C\x95 Unreachable";
    }
    return "?";
}

/* A glyph per state, so that state is told by shape and word, not only by colour. */
static const char *state_glyph(const char *s)
{
    if (strcmp(s, "healthy") == 0 || strcmp(s, "pass") == 0)
        return "\xE2\x97\x8F"; /* ● */
    if (strcmp(s, "degraded") == 0 || strcmp(s, "warn") == 0)
        return "\xE2\x96\xB2"; /* ▲ */
    if (strcmp(s, "unhealthy") == 0 || strcmp(s, "fail") == 0)
        return "\xE2\x96\xA0"; /* ■ */
    return "\xE2\x9C\x95";     /* ✕ */
}

static void duration(bp_textbuf *b, int64_t ms)
{
    int64_t s = ms < 0 ? 0 : ms / 1000;
    if (s < 120)
        bp_textbuf_addf(b, "%lld s", (long long)s);
    else if (s < 7200)
        bp_textbuf_addf(b, "%lld min", (long long)(s / 60));
    else if (s < 172800)
        bp_textbuf_addf(b, "%lld h", (long long)(s / 3600));
    else
        bp_textbuf_addf(b, "%lld d", (long long)(s / 86400));
}

static void clock_time(bp_textbuf *b, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char s[32];
    if (gmtime_r(&t, &tm) && strftime(s, sizeof s, "%H:%M:%S", &tm))
        bp_textbuf_addf(b, "%s", s);
}

static void head(bp_textbuf *b, const bp_page *p)
{
    bp_textbuf_addf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                       "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                       "<meta name=\"color-scheme\" content=\"light dark\">"
                       "<title>beamprobe: %s</title><style>%s</style></head>\n",
                    bp_cluster_verdict_name(p->mesh->verdict), bp_page_css);
    bp_textbuf_addf(b, "<body data-refresh=\"%d\" data-age-ms=\"%d\" data-verdict=\"%s\">\n"
                       "<header><h1>beamprobe: cluster status</h1>"
                       "<p id=\"age\" aria-live=\"polite\">",
                    p->refresh_ms, p->age_ms, bp_cluster_verdict_name(p->mesh->verdict));
    if (p->age_ms < 0)
        bp_textbuf_addf(b, "no data yet");
    else
        bp_textbuf_addf(b, "data age: %d.%d s", p->age_ms / 1000, p->age_ms % 1000 / 100);
    bp_textbuf_addf(b, "</p></header>\n<main id=\"main\">\n");
}

static void banner(bp_textbuf *b, const bp_mesh *m)
{
    bp_textbuf_addf(b, "<section class=\"banner v-%s\" aria-labelledby=\"verdict\" role=\"status\">"
                       "<h2 id=\"verdict\" data-verdict=\"%s\">%s</h2><p>",
                    bp_cluster_verdict_name(m->verdict), bp_cluster_verdict_name(m->verdict),
                    verdict_title(m->verdict));
    bp_html_add(b, m->reason, "");
    bp_textbuf_addf(b, "</p><p>Quorum %s: the largest partition holds %zu of %zu expected votes; %zu needed "
                       "(%zu / 2 + 1). %zu of %zu nodes reachable, %zu partition%s, %zu missing link%s, "
                       "%zu one-way.</p></section>\n",
                    m->quorum ? "holds" : "lost", m->quorum_largest, m->expected, m->quorum_needed, m->expected,
                    m->n_reachable, m->n, m->n_components, m->n_components == 1 ? "" : "s", m->n_missing_links,
                    m->n_missing_links == 1 ? "" : "s", m->n_asymmetric);
}

static void mesh_section(bp_textbuf *b, const bp_page *p)
{
    bp_textbuf_addf(b, "<section aria-labelledby=\"mesh-h\"><h2 id=\"mesh-h\">Mesh</h2><div class=\"mesh-wrap\">");
    bp_svg_mesh(b, p->mesh, p->in, p->n, 0);
    bp_textbuf_addf(b, "<p class=\"muted\">Shapes: \xE2\x97\x8F healthy, \xE2\x96\xB2 degraded, \xE2\x96\xA0 "
                       "unhealthy, \xE2\x9C\x95 down or not probed. Lines: solid both ways, dashed with an arrow "
                       "one way (towards the node that does not see back), dotted missing. A shaded arc groups "
                       "each partition.</p></div></section>\n");
}

static const bp_history_node *history_of(const bp_page *p, const char *name)
{
    for (size_t i = 0; p->hist && i < p->n_hist; i++)
        if (p->hist[i].node && name && strcmp(p->hist[i].node, name) == 0)
            return &p->hist[i];
    return NULL;
}

static int tr_match(const bp_transition *t, bp_transition_kind kind, const char *name)
{
    return t->kind == kind && (kind == BP_TR_NODE || strcmp(t->name, name) == 0);
}

static const char *state_class(const char *s)
{
    static const char *known[] = { "healthy", "degraded", "unhealthy", "down", "pass", "warn", "fail" };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(s, known[i]) == 0)
            return known[i];
    return "other";
}

/* The segments of a strip in state class `cls`, as one stroked path (x in seconds into the hour; the CSS
 * strokes it 14 units wide about y 7, so a segment is "M<x> 7h<width>", half the bytes of a filled box). */
static void strip_class(bp_textbuf *b, const bp_page *p, const bp_history_node *h, bp_transition_kind kind,
                        const char *name, const char *now_state, const char *cls)
{
    int64_t start = p->now_ms - BP_PAGE_HISTORY_MS, from = start;
    const char *state = now_state;
    int any = 0;
    for (size_t i = 0; h && i < h->n; i++) /* the state when the hour began: the first change's "from" */
        if (tr_match(&h->transitions[i], kind, name) && h->transitions[i].time_ms >= start) {
            state = h->transitions[i].from;
            break;
        }
    for (size_t i = 0; h && i <= h->n; i++) {
        const bp_transition *t = i < h->n ? &h->transitions[i] : NULL;
        if (t && (!tr_match(t, kind, name) || t->time_ms < start))
            continue;
        int64_t until = t ? t->time_ms : p->now_ms;
        long x = (long)((from - start) / 1000), w = (long)((until - from) / 1000);
        if (w > 0 && strcmp(state_class(state ? state : ""), cls) == 0) {
            if (!any++)
                bp_textbuf_addf(b, "<path class=\"h-%s\" d=\"", cls);
            bp_textbuf_addf(b, "M%ld 7h%ld", x, w);
        }
        if (!t)
            break;
        state = t->to;
        from = until;
    }
    if (any)
        bp_textbuf_addf(b, "\"/>");
}

/* One bar over the last hour, a colour per state, its changes in words (the last STRIP_LISTED of them). */
static void strip(bp_textbuf *b, const bp_page *p, const bp_history_node *h, bp_transition_kind kind,
                  const char *name, const char *now_state, const char *label)
{
    static const char *classes[] = { "healthy", "degraded", "unhealthy", "down", "pass", "warn", "fail", "other" };
    int64_t start = p->now_ms - BP_PAGE_HISTORY_MS;
    size_t count = 0;
    for (size_t i = 0; h && i < h->n; i++)
        count += tr_match(&h->transitions[i], kind, name) && h->transitions[i].time_ms >= start;
    bp_textbuf_addf(b, "<svg class=\"strip\" viewBox=\"0 0 3600 14\" preserveAspectRatio=\"none\" role=\"img\" "
                       "aria-label=\"");
    bp_html_add(b, label, "");
    bp_textbuf_addf(b, ": %zu change%s in the last hour, now ", count, count == 1 ? "" : "s");
    bp_html_add(b, now_state, "unknown");
    bp_textbuf_addf(b, "\">");
    for (size_t c = 0; c < sizeof classes / sizeof classes[0]; c++)
        strip_class(b, p, h, kind, name, now_state, classes[c]);
    bp_textbuf_addf(b, "</svg>");
    if (count == 0)
        return;
    bp_textbuf_addf(b, "<ol class=\"tr\">");
    if (count > STRIP_LISTED)
        bp_textbuf_addf(b, "<li>%zu earlier change%s</li>", count - STRIP_LISTED,
                        count - STRIP_LISTED == 1 ? "" : "s");
    size_t seen = 0, skip = count > STRIP_LISTED ? count - STRIP_LISTED : 0;
    for (size_t i = 0; i < h->n; i++) {
        const bp_transition *t = &h->transitions[i];
        if (!tr_match(t, kind, name) || t->time_ms < start || seen++ < skip)
            continue;
        bp_textbuf_addf(b, "<li>");
        clock_time(b, t->time_ms);
        bp_textbuf_addf(b, " UTC: ");
        bp_html_add(b, t->from, "");
        bp_textbuf_addf(b, " \xE2\x86\x92 ");
        bp_html_add(b, t->to, "");
        if (t->reason[0]) {
            bp_textbuf_addf(b, " (");
            bp_html_add(b, t->reason, "");
            bp_textbuf_addf(b, ")");
        }
        bp_textbuf_addf(b, "</li>");
    }
    bp_textbuf_addf(b, "</ol>");
}

static void memory_line(bp_textbuf *b, const bp_report *r)
{
    char tot[32], lim[32];
    if (r->memory_total < 0)
        return;
    bp_format_bytes(r->memory_total, tot, sizeof tot);
    if (r->memory_limit > 0) {
        bp_format_bytes(r->memory_limit, lim, sizeof lim);
        bp_textbuf_addf(b, "<p>Memory: <meter min=\"0\" max=\"%lld\" low=\"%lld\" high=\"%lld\" value=\"%lld\">"
                           "%.0f%%</meter> %s of %s (%.0f%%, limit from %s)</p>",
                        (long long)r->memory_limit, (long long)(r->memory_limit * r->thresholds.memory.warn),
                        (long long)(r->memory_limit * r->thresholds.memory.fail), (long long)r->memory_total,
                        r->memory_ratio * 100, tot, lim, r->memory_ratio * 100,
                        r->memory_limit_source ? r->memory_limit_source : "?");
    } else {
        bp_textbuf_addf(b, "<p>Memory: %s (no limit known)</p>", tot);
    }
}

static int all_pass(const bp_report *r)
{
    for (size_t i = 0; i < r->n_checks; i++)
        if (r->checks[i].status != BP_PASS)
            return 0;
    return r->n_checks > 0;
}

/* Every check with its status and reason: a table, or, when all of them pass, the status said once over a
 * list of "check: reason" (a third of the bytes; most nodes of a large cluster are like that). */
static void checks_table(bp_textbuf *b, const bp_report *r, size_t k)
{
    if (all_pass(r)) {
        bp_textbuf_addf(b, "<p class=\"st-pass\">%s Checks: all %zu pass</p><ul class=\"ck\">", state_glyph("pass"),
                        r->n_checks);
        for (size_t i = 0; i < r->n_checks; i++) {
            bp_textbuf_addf(b, "<li>");
            bp_html_add(b, r->checks[i].name, "?");
            bp_textbuf_addf(b, ": ");
            bp_html_add(b, r->checks[i].reason, "");
            bp_textbuf_addf(b, "</li>");
        }
        bp_textbuf_addf(b, "</ul>");
        return;
    }

    bp_textbuf_addf(b, "<table aria-labelledby=\"node-%zu-h\"><caption>Checks</caption><thead><tr>"
                       "<th>check</th><th>status</th><th>reason</th>"
                       "</tr></thead><tbody>", k);
    for (size_t i = 0; i < r->n_checks; i++) {
        const bp_check *c = &r->checks[i];
        const char *st = bp_status_name(c->status);
        bp_textbuf_addf(b, "<tr class=\"st-%s\"><td>", st);
        bp_html_add(b, c->name, "?");
        bp_textbuf_addf(b, "</td><td>%s %s</td><td>", state_glyph(st), st);
        bp_html_add(b, c->reason, "");
        bp_textbuf_addf(b, "</td></tr>");
    }
    bp_textbuf_addf(b, "</tbody></table>");
}

static void governors(bp_textbuf *b, const bp_page *p, const bp_report *r, const bp_history_node *h)
{
    size_t any = 0;
    for (size_t i = 0; i < r->n_checks; i++) {
        const bp_check *c = &r->checks[i];
        const bp_governor_snap *g = c->governor;
        if (c->kind != BP_CHECK_GOVERNOR || !g)
            continue;
        if (!any++)
            bp_textbuf_addf(b, "<h4>Governors</h4><ul>");
        const char *state = !g->alive ? "down" : g->state ? g->state : g->unreadable ? "not readable" : "unknown";
        bp_textbuf_addf(b, "<li><strong>");
        bp_html_add(b, g->name, "?");
        bp_textbuf_addf(b, "</strong>: <span class=\"st-%s gov-state\">%s ", bp_status_name(c->status),
                        state_glyph(bp_status_name(c->status)));
        bp_html_add(b, state, NULL);
        bp_textbuf_addf(b, "</span>");
        if (c->state_since_ms > 0) {
            bp_textbuf_addf(b, " for ");
            duration(b, p->now_ms - c->state_since_ms);
        }
        strip(b, p, h, BP_TR_GOVERNOR, g->name ? g->name : "", state, g->name);
        bp_textbuf_addf(b, "</li>");
    }
    if (any)
        bp_textbuf_addf(b, "</ul>");
}

static void node_card(bp_textbuf *b, const bp_page *p, size_t k)
{
    const bp_mesh *m = p->mesh;
    const bp_mesh_node *x = &m->nodes[k];
    const bp_mesh_input *in = p->in && x->input >= 0 && (size_t)x->input < p->n ? &p->in[x->input] : NULL;
    const bp_report *r = in && x->reachable ? in->report : NULL;
    const char *state = bp_mesh_node_state(m, k, p->in, p->n);
    int open = m->n <= COLLAPSE_ABOVE || strcmp(state, "healthy") != 0;
    bp_textbuf_addf(b, "<details class=\"node\" id=\"node-%zu\" data-state=\"%s\"%s><summary><h3 id=\"node-%zu-h\">"
                       "<span class=\"st-%s\">%s %s</span> <span class=\"name\">",
                    k, state, open ? " open" : "", k, state, state_glyph(state), state);
    bp_html_add(b, x->name, "?");
    bp_textbuf_addf(b, "</span></h3></summary>");
    bp_textbuf_addf(b, "<p>%s; sees %zu, seen by %zu%s", x->reachable ? "reachable" : "not reachable", x->sees,
                    x->seen_by, x->component >= 0 && m->n_components > 1 ? "" : ".");
    if (x->component >= 0 && m->n_components > 1)
        bp_textbuf_addf(b, "; in partition %d.", x->component + 1);
    bp_textbuf_addf(b, "</p>");
    if (!x->reachable && in && in->snap && in->snap->connect.error) {
        bp_textbuf_addf(b, "<p>Why: ");
        bp_html_add(b, in->snap->connect.error, "");
        bp_textbuf_addf(b, "</p>");
    }
    if (r) {
        memory_line(b, r);
        checks_table(b, r, k);
    }
    const bp_history_node *h = history_of(p, x->name);
    bp_textbuf_addf(b, "<h4>Last hour</h4>");
    strip(b, p, h, BP_TR_NODE, "node", state, "node status");
    if (r)
        governors(b, p, r, h);
    bp_textbuf_addf(b, "</details>\n");
}

char *bp_render_page(const bp_page *p)
{
    if (!p || !p->mesh)
        return NULL;
    bp_textbuf b = {0};
    head(&b, p);
    if (p->notice) {
        bp_textbuf_addf(&b, "<section class=\"banner v-unreachable\" role=\"alert\" id=\"notice\"><p>");
        bp_html_add(&b, p->notice, "");
        bp_textbuf_addf(&b, "</p></section>\n");
    }
    banner(&b, p->mesh);
    mesh_section(&b, p);
    bp_textbuf_addf(&b, "<section aria-labelledby=\"nodes-h\"><h2 id=\"nodes-h\">Nodes (%zu)</h2>", p->mesh->n);
    if (p->mesh->n == 0)
        bp_textbuf_addf(&b, "<p>No nodes to show.</p>");
    bp_textbuf_addf(&b, "<div class=\"nodes\">\n");
    for (size_t k = 0; k < p->mesh->n; k++)
        node_card(&b, p, k);
    bp_textbuf_addf(&b, "</div></section>\n</main>\n<footer><p class=\"muted\">Rendered ");
    clock_time(&b, p->now_ms);
    bp_textbuf_addf(&b, " UTC by beamprobe. JSON: <a href=\"health\">/health</a>, "
                        "<a href=\"health/cluster\">/health/cluster</a>, <a href=\"health/history\">/health/history"
                        "</a>, <a href=\"metrics\">/metrics</a>.</p></footer>\n<script>%s</script>\n</body></html>\n",
                    bp_page_js);
    return bp_textbuf_finish(&b);
}
