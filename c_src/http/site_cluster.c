/* site_cluster.c: the cluster view behind serve's /health/cluster and cluster metrics, rebuilt on each publish. */
#include "http/site_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mesh.h"
#include "core/render_cluster.h"

void bp__cluster_unref(void *p)
{
    bp__cluster *c = p;
    if (c && atomic_fetch_sub(&c->refs, 1) == 1) {
        free(c->json);
        free(c);
    }
}

/* Append the cluster families (before the per-request age family) to the metrics text. */
static int cluster_metrics(bp_prom_buf *b, const bp_mesh *m)
{
    size_t up = 0, down = 0, seen = 0, absent = m->n_absent, unexpected = m->n_unexpected;
    for (size_t i = 0; i < m->n; i++) {
        if (m->nodes[i].reachable)
            up++;
        else if (m->nodes[i].probed)
            down++;
    }
    seen = m->n_unreachable_seen;
    char text[1536];
    int n = snprintf(text, sizeof text,
                     "# HELP beamprobe_cluster_nodes Nodes of the cluster view by state.\n"
                     "# TYPE beamprobe_cluster_nodes gauge\n"
                     "beamprobe_cluster_nodes{state=\"reachable\"} %zu\n"
                     "beamprobe_cluster_nodes{state=\"unreachable\"} %zu\n"
                     "beamprobe_cluster_nodes{state=\"unreachable_but_seen\"} %zu\n"
                     "beamprobe_cluster_nodes{state=\"absent\"} %zu\n"
                     "beamprobe_cluster_nodes{state=\"unexpected\"} %zu\n"
                     "# HELP beamprobe_cluster_partitions Connected components of the mesh.\n"
                     "# TYPE beamprobe_cluster_partitions gauge\n"
                     "beamprobe_cluster_partitions %zu\n"
                     "# HELP beamprobe_cluster_quorum 1 if a partition holds a majority of the expected nodes.\n"
                     "# TYPE beamprobe_cluster_quorum gauge\n"
                     "beamprobe_cluster_quorum %d\n"
                     "# HELP beamprobe_cluster_converged 1 if the cluster view is converged.\n"
                     "# TYPE beamprobe_cluster_converged gauge\n"
                     "beamprobe_cluster_converged %d\n",
                     up, down, seen, absent, unexpected, m->n_components, m->quorum ? 1 : 0,
                     m->verdict == BP_CLUSTER_CONVERGED ? 1 : 0);
    if (n < 0 || (size_t)n >= sizeof text)
        return -1;
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = b->len + (size_t)n + 1;
        char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, text, (size_t)n + 1);
    b->len += (size_t)n;
    return 0;
}

int bp__site_mesh(const bp_site *s, bp__view *const *views, bp_mesh_input *in, bp_arena *a, bp_mesh *m)
{
    for (size_t i = 0; i < s->targets.n; i++) {
        const bp__view *v = views[i];
        in[i] = (bp_mesh_input){ .node = s->targets.v[i], .reachable = v->have && v->up,
                                 .snap = v->have ? v->snap : NULL, .report = v->have ? &v->ready : NULL };
    }
    const bp_namelist *expected = s->cfg->expect_nodes.n ? &s->cfg->expect_nodes : NULL;
    return bp_mesh_analyze(in, s->targets.n, expected, s->cfg->expect_size, a, m) == 0 ? 0 : -1;
}

bp__cluster *bp__cluster_build(const bp_site *s, bp__view *const *views, bp_prom_buf *metrics)
{
    size_t n = s->targets.n;
    bp__cluster *c = calloc(1, sizeof *c);
    bp_mesh_input *in = calloc(n + 1, sizeof *in);
    bp_arena *a = bp_arena_new(0);
    bp_mesh m;
    if (!c || !in || !a)
        goto fail;
    atomic_init(&c->refs, 1);
    if (bp__site_mesh(s, views, in, a, &m) != 0)
        goto fail;
    c->quorum = m.quorum;
    c->ok = m.verdict == BP_CLUSTER_CONVERGED || (s->cfg->allow_degraded && m.verdict == BP_CLUSTER_DEGRADED);
    char *json = bp_render_cluster_json(&m, in, n, 0);
    if (!json)
        goto fail;
    size_t len = strlen(json);
    while (len > 0 && (json[len - 1] == '\n' || json[len - 1] == ' '))
        len--;
    if (len == 0 || json[len - 1] != '}') {
        free(json);
        goto fail;
    }
    json[--len] = '\0'; /* left open for the age fields */
    c->json = json;
    c->json_len = len;
    if (metrics && cluster_metrics(metrics, &m) != 0)
        goto fail;
    bp_arena_free(a);
    free(in);
    return c;
fail:
    bp_arena_free(a);
    free(in);
    if (c)
        free(c->json);
    free(c);
    return NULL;
}
