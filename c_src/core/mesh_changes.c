/* mesh_changes.c: what changed between two cluster analyses (beamprobe cluster --wait), one line each. */
#include "core/mesh.h"
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "beamprobe.h"

/* ---- changes between two analyses ---- */

typedef struct {
    const char **v;
    size_t n, cap;
    bp_arena *a;
    int err;
} lines_t;

__attribute__((format(printf, 2, 3)))
static void line_addf(lines_t *l, const char *fmt, ...)
{
    if (l->err)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        const char **v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->err = BP_ENOMEM;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = k >= 0 ? bp_arena_alloc(l->a, (size_t)k + 1) : NULL;
    if (!s) {
        l->err = BP_ENOMEM;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(s, (size_t)k + 1, fmt, ap);
    va_end(ap);
    l->v[l->n++] = s;
}

/* Joined/left/reachability lines for one node, given its entries in both analyses (NULL if absent). */
static void node_change(lines_t *l, const char *name, const bp_mesh_node *b, const bp_mesh_node *f)
{
    int pb = b && bp_mesh_present(b), pa = f && bp_mesh_present(f);
    int rb = b && b->reachable, ra = f && f->reachable;
    if (!pb && pa)
        line_addf(l, "node %s joined", name);
    else if (pb && !pa)
        line_addf(l, "node %s left", name);
    else if (!rb && ra)
        line_addf(l, "node %s now reachable from the probe", name);
    else if (rb && !ra)
        line_addf(l, "node %s no longer reachable from the probe", name);
}

static void link_changes(lines_t *l, const bp_mesh *before, const bp_mesh *after, const int *map)
{
    for (size_t i = 0; i < after->n; i++) {
        int bi = map[i];
        const bp_mesh_node *x = &after->nodes[i];
        if (bi < 0 || !x->row_known || !before->nodes[bi].row_known || !bp_mesh_present(x) ||
            !bp_mesh_present(&before->nodes[bi]))
            continue;
        for (size_t j = 0; j < after->n; j++) {
            int bj = map[j];
            if (j == i || bj < 0 || bp_mesh_present(&after->nodes[j]) != bp_mesh_present(&before->nodes[bj]))
                continue;
            int now = bp_mesh_link(after, i, j) == BP_LINK_YES;
            int was = bp_mesh_link(before, (size_t)bi, (size_t)bj) == BP_LINK_YES;
            if (now && !was)
                line_addf(l, "%s now sees %s", x->name, after->nodes[j].name);
            else if (!now && was)
                line_addf(l, "%s no longer sees %s", x->name, after->nodes[j].name);
        }
    }
}

int bp_mesh_changes(const bp_mesh *before, const bp_mesh *after, bp_arena *a, const char ***lines, size_t *n)
{
    if (lines)
        *lines = NULL;
    if (n)
        *n = 0;
    if (!after || !a || !lines || !n)
        return BP_EUSAGE;
    if (!before)
        return 0;
    lines_t l = {0};
    l.a = a;
    int *map = malloc((after->n ? after->n : 1) * sizeof *map);
    if (!map)
        return BP_ENOMEM;
    /* merge walk over both sorted universes: node lines in name order */
    size_t i = 0, j = 0;
    while (i < before->n || j < after->n) {
        int c = i >= before->n ? 1 : j >= after->n ? -1 : strcmp(before->nodes[i].name, after->nodes[j].name);
        if (c < 0) {
            node_change(&l, before->nodes[i].name, &before->nodes[i], NULL);
            i++;
        } else if (c > 0) {
            map[j] = -1;
            node_change(&l, after->nodes[j].name, NULL, &after->nodes[j]);
            j++;
        } else {
            map[j] = (int)i;
            node_change(&l, after->nodes[j].name, &before->nodes[i], &after->nodes[j]);
            i++, j++;
        }
    }
    link_changes(&l, before, after, map);
    size_t cb = before->n_components, ca = after->n_components;
    if (cb > 0 && ca > 0 && cb != ca) {
        if (ca == 1)
            line_addf(&l, "partition healed (%zu components -> 1)", cb);
        else if (ca < cb)
            line_addf(&l, "partitions merged (%zu components -> %zu)", cb, ca);
        else
            line_addf(&l, "cluster partitioned (%zu component%s -> %zu)", cb, cb == 1 ? "" : "s", ca);
    }
    if (!before->quorum && after->quorum)
        line_addf(&l, "quorum regained (%zu/%zu)", after->quorum_largest, after->expected);
    else if (before->quorum && !after->quorum)
        line_addf(&l, "quorum lost (%zu/%zu)", after->quorum_largest, after->expected);
    if (before->verdict != after->verdict)
        line_addf(&l, "verdict %s -> %s", bp_cluster_verdict_name(before->verdict),
                  bp_cluster_verdict_name(after->verdict));
    free(map);
    int rc = l.err;
    if (rc == 0 && l.n > 0) {
        const char **v = bp_arena_alloc(a, l.n * sizeof *v);
        if (!v) {
            rc = BP_ENOMEM;
        } else {
            memcpy(v, l.v, l.n * sizeof *v);
            *lines = v;
            *n = l.n;
        }
    }
    free(l.v);
    return rc;
}
