/* render_svg.c: draws a mesh analysis as SVG: nodes on a circle grouped by partition, one line per link. */
#include "core/render_svg.h"

#include <math.h>
#include <stdlib.h>

#include "core/html_escape.h"

#define NODE_R 8.0    /* glyph radius */
#define SLOT 28.0     /* arc length per node on the circle */
#define CHAR_W 7.0    /* a label character's width, at most, for the picture's bounds */
#define PAD 16.0      /* around everything */

const char *bp_mesh_node_state(const bp_mesh *m, size_t k, const bp_mesh_input *in, size_t n)
{
    const bp_mesh_node *x = &m->nodes[k];
    const bp_mesh_input *i = in && x->input >= 0 && (size_t)x->input < n ? &in[x->input] : NULL;
    if (x->reachable && i && i->report)
        return bp_overall_name(i->report->status);
    if (x->reachable)
        return "healthy";
    if (x->probed)
        return "down";
    if (x->seen_by > 0)
        return "seen";
    return x->expected ? "absent" : "unprobed";
}

typedef struct {
    double x, y, angle;
} pos;

/* Node positions: components one after another around the circle, a gap between them. */
static pos *layout(const bp_mesh *m, double *radius)
{
    size_t gaps = m->n_components > 1 ? m->n_components : 0, slots = m->n + gaps + (gaps ? 1 : 0);
    size_t *order = malloc((m->n + 1) * sizeof *order);
    int *gap_before = calloc(m->n + 1, sizeof *gap_before);
    pos *p = calloc(m->n + 1, sizeof *p);
    if (!order || !gap_before || !p) {
        free(order);
        free(gap_before);
        free(p);
        return NULL;
    }
    size_t o = 0;
    for (size_t c = 0; c < m->n_components; c++)
        for (size_t j = 0; j < m->components[c].n; j++) {
            gap_before[o] = gaps && j == 0;
            order[o++] = m->components[c].members[j];
        }
    for (size_t k = 0; k < m->n; k++)
        if (m->nodes[k].component < 0) {
            gap_before[o] = gaps && o > 0 && (o == 0 || m->nodes[order[o - 1]].component >= 0);
            order[o++] = k;
        }
    double r = slots * SLOT / (2 * M_PI);
    *radius = r < 110 ? 110 : r;
    size_t slot = 0;
    for (size_t i = 0; i < o; i++) {
        slot += (size_t)gap_before[i];
        double a = 2 * M_PI * (double)slot / (double)(slots ? slots : 1) - M_PI / 2;
        p[order[i]] = (pos){ cos(a) * *radius, sin(a) * *radius, a };
        slot++;
    }
    free(order);
    free(gap_before);
    return p;
}

/* A link of kind cls from node i to node j, shortened to the glyphs' edges. */
static void line(bp_textbuf *b, const pos *p, size_t i, size_t j, const char *cls, int arrow)
{
    double dx = p[j].x - p[i].x, dy = p[j].y - p[i].y, d = sqrt(dx * dx + dy * dy);
    double f = d > 0 ? (NODE_R + 2) / d : 0;
    bp_textbuf_addf(b, "<line class=\"%s\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\"%s/>\n", cls,
                    p[i].x + dx * f, p[i].y + dy * f, p[j].x - dx * f, p[j].y - dy * f,
                    arrow ? " marker-end=\"url(#arrow)\"" : "");
}

static int row_known(const bp_mesh *m, size_t i)
{
    return m->nodes[i].row_known;
}

typedef enum { L_NONE, L_OK, L_HALF, L_ONEWAY, L_MISSING } link_kind;

/* The kind of the link between i < j, and its direction (*from to *to). */
static link_kind link_of(const bp_mesh *m, size_t i, size_t j, size_t *from, size_t *to)
{
    int ij = bp_mesh_link(m, i, j), ji = bp_mesh_link(m, j, i);
    *from = ji == BP_LINK_YES && ij != BP_LINK_YES ? j : i;
    *to = *from == i ? j : i;
    if (ij == BP_LINK_YES && ji == BP_LINK_YES)
        return L_OK;
    if (ij == BP_LINK_YES || ji == BP_LINK_YES)
        return row_known(m, *to) && m->nodes[*to].reachable ? L_ONEWAY : L_HALF;
    if (row_known(m, i) && row_known(m, j) && m->nodes[i].component == m->nodes[j].component)
        return L_MISSING;
    return L_NONE;
}

/* Links both ways (or seen one way by an unknown row) as one path each; whole meshes are large. */
static void plain_links(bp_textbuf *b, const bp_mesh *m, const pos *p, link_kind kind, const char *cls)
{
    int any = 0;
    for (size_t i = 0; i < m->n; i++)
        for (size_t j = i + 1; j < m->n; j++) {
            size_t from, to;
            if (link_of(m, i, j, &from, &to) != kind)
                continue;
            if (!any++)
                bp_textbuf_addf(b, "<path class=\"%s\" d=\"", cls);
            bp_textbuf_addf(b, "M%.0f %.0fL%.0f %.0f", p[i].x, p[i].y, p[j].x, p[j].y);
        }
    if (any)
        bp_textbuf_addf(b, "\"/>\n");
}

/* Every link, by kind: both ways, one way (arrow to the node that does not see back), missing within a partition. */
static void links(bp_textbuf *b, const bp_mesh *m, const pos *p)
{
    if (m->n <= BP_SVG_ALL_LINKS_MAX) {
        plain_links(b, m, p, L_OK, "l-ok");
        plain_links(b, m, p, L_HALF, "l-half");
    }
    for (size_t i = 0; i < m->n; i++)
        for (size_t j = i + 1; j < m->n; j++) {
            size_t from, to;
            link_kind k = link_of(m, i, j, &from, &to);
            if (k == L_ONEWAY)
                line(b, p, from, to, "l-oneway", 1);
            else if (k == L_MISSING)
                line(b, p, i, j, "l-missing", 0);
        }
}

/* An arc behind each partition's nodes, and its name, when there is more than one. */
static void partitions(bp_textbuf *b, const bp_mesh *m, const pos *p, double r)
{
    if (m->n_components < 2)
        return;
    for (size_t c = 0; c < m->n_components; c++) {
        const bp_mesh_component *pc = &m->components[c];
        const pos *first = &p[pc->members[0]], *last = &p[pc->members[pc->n - 1]];
        double a0 = first->angle, a1 = last->angle, mid = (a0 + a1) / 2;
        int q = (int)c == m->quorum_component && m->quorum;
        if (pc->n == 1)
            bp_textbuf_addf(b, "<circle class=\"part%s\" r=\"1\" cx=\"%.1f\" cy=\"%.1f\"/>\n", q ? " part-q" : "",
                            first->x, first->y);
        else
            bp_textbuf_addf(b, "<path class=\"part%s\" d=\"M%.1f %.1fA%.1f %.1f 0 %d 1 %.1f %.1f\"/>\n",
                            q ? " part-q" : "", first->x, first->y, r, r, a1 - a0 > M_PI ? 1 : 0, last->x,
                            last->y);
        bp_textbuf_addf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">partition %zu%s</text>\n",
                        cos(mid) * r * 0.72, sin(mid) * r * 0.72, c + 1, q ? " (quorum)" : "");
    }
}

/* The glyph of a state: circle healthy, triangle degraded, square unhealthy, crossed ring down. */
static void glyph(bp_textbuf *b, const char *state, double x, double y)
{
    const char c = state[0], c2 = state[1];
    if (c == 'd' && c2 == 'e')
        bp_textbuf_addf(b, "<path class=\"s-degraded\" d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fZ\"/>", x, y - NODE_R - 1,
                        x + NODE_R + 1, y + NODE_R, x - NODE_R - 1, y + NODE_R);
    else if (c == 'u' && c2 == 'n' && state[2] == 'h')
        bp_textbuf_addf(b, "<rect class=\"s-unhealthy\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
                        x - NODE_R, y - NODE_R, 2 * NODE_R, 2 * NODE_R);
    else if (c == 'h')
        bp_textbuf_addf(b, "<circle class=\"s-healthy\" cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"/>", x, y, NODE_R);
    else
        bp_textbuf_addf(b,
                        "<circle class=\"s-%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"/>"
                        "<path class=\"s-%s\" d=\"M%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f %.1f\"/>",
                        state, x, y, NODE_R, state, x - 5, y - 5, x + 5, y + 5, x - 5, y + 5, x + 5, y - 5);
}

static void nodes(bp_textbuf *b, const bp_mesh *m, const bp_mesh_input *in, size_t n, const pos *p, int linked)
{
    for (size_t k = 0; k < m->n; k++) {
        const char *state = bp_mesh_node_state(m, k, in, n);
        double c = cos(p[k].angle), lx = p[k].x + c * (NODE_R + 6), ly = p[k].y + sin(p[k].angle) * (NODE_R + 6);
        if (linked)
            bp_textbuf_addf(b, "<a href=\"#node-%zu\">", k);
        bp_textbuf_addf(b, "<g class=\"node\" data-state=\"%s\"><title>", state);
        bp_html_add(b, m->nodes[k].name, "?");
        bp_textbuf_addf(b, ": %s, sees %zu, seen by %zu</title>", state, m->nodes[k].sees, m->nodes[k].seen_by);
        glyph(b, state, p[k].x, p[k].y);
        bp_textbuf_addf(b, "<text x=\"%.1f\" y=\"%.1f\" dy=\"0.35em\" text-anchor=\"%s\">", lx, ly,
                        c > 0.3 ? "start" : c < -0.3 ? "end" : "middle");
        bp_html_add(b, m->nodes[k].name, "?");
        bp_textbuf_addf(b, "</text></g>%s\n", linked ? "</a>" : "");
    }
}

/* The picture's extent: the circle and every label out of it, a label's width guessed from its characters. */
static void bounds(const bp_mesh *m, const pos *p, double r, double *x0, double *y0, double *x1, double *y1)
{
    *x0 = *y0 = -r - PAD;
    *x1 = *y1 = r + PAD;
    for (size_t k = 0; k < m->n; k++) {
        double c = cos(p[k].angle), w = (double)bp_text_width(m->nodes[k].name) * CHAR_W + NODE_R + 6 + PAD;
        double lx = p[k].x + c * (NODE_R + 6);
        double left = c > 0.3 ? lx : c < -0.3 ? lx - w : lx - w / 2;
        double right = c > 0.3 ? lx + w : c < -0.3 ? lx : lx + w / 2;
        *x0 = fmin(*x0, left);
        *x1 = fmax(*x1, right);
        *y0 = fmin(*y0, p[k].y - 3 * NODE_R - PAD);
        *y1 = fmax(*y1, p[k].y + 3 * NODE_R + PAD);
    }
}

void bp_svg_mesh(bp_textbuf *b, const bp_mesh *m, const bp_mesh_input *in, size_t n, int standalone)
{
    double r = 110;
    pos *p = m->n ? layout(m, &r) : NULL;
    if (m->n && !p) {
        b->oom = 1;
        return;
    }
    double x0, y0, x1, y1;
    bounds(m, p, r, &x0, &y0, &x1, &y1);
    if (m->n > BP_SVG_ALL_LINKS_MAX)
        y1 += 24;
    if (standalone)
        bp_textbuf_addf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    bp_textbuf_addf(b,
                    "<svg class=\"mesh\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"%.0f %.0f %.0f %.0f\" "
                    "width=\"%.0f\" role=\"img\" aria-labelledby=\"mesh-title mesh-desc\">\n"
                    "<title id=\"mesh-title\">Cluster mesh: %s</title>\n<desc id=\"mesh-desc\">",
                    x0, y0, x1 - x0, y1 - y0, x1 - x0, bp_cluster_verdict_name(m->verdict));
    bp_textbuf_addf(b, "%zu node%s, %zu reachable, %zu partition%s, %zu missing links, %zu one-way. ", m->n,
                    m->n == 1 ? "" : "s", m->n_reachable, m->n_components, m->n_components == 1 ? "" : "s",
                    m->n_missing_links, m->n_asymmetric);
    bp_html_add(b, m->reason, NULL);
    bp_textbuf_addf(b, "</desc>\n");
    if (standalone)
        bp_textbuf_addf(b, "<style>%s</style>\n", BP_SVG_CSS);
    bp_textbuf_addf(b, "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
                       "markerHeight=\"7\" orient=\"auto\"><path class=\"arrow\" d=\"M0 0L10 5L0 10Z\"/>"
                       "</marker></defs>\n");
    if (m->n == 0)
        bp_textbuf_addf(b, "<text x=\"0\" y=\"0\" text-anchor=\"middle\">no nodes</text>\n");
    else {
        partitions(b, m, p, r);
        links(b, m, p);
        nodes(b, m, in, n, p, !standalone);
        if (m->n > BP_SVG_ALL_LINKS_MAX)
            bp_textbuf_addf(b, "<text x=\"0\" y=\"%.0f\" text-anchor=\"middle\">%zu nodes: only missing and "
                               "one-way links are drawn</text>\n", y1 - PAD, m->n);
    }
    bp_textbuf_addf(b, "</svg>\n");
    free(p);
}

char *bp_render_cluster_svg(const bp_mesh *m, const bp_mesh_input *in, size_t n)
{
    if (!m)
        return NULL;
    bp_textbuf b = {0};
    bp_svg_mesh(&b, m, in, n, 1);
    return bp_textbuf_finish(&b);
}
