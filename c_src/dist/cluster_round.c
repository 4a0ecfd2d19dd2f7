/* cluster_round.c: probe a cluster's targets at once, judge each node, analyse who sees whom. */
#include "dist/cluster_round.h"

#include <stdlib.h>
#include <string.h>

#include "dist/fleet.h"

void bp_cluster_round_free(bp_cluster_round *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->snaps && i < r->n; i++)
        bp_snapshot_free(r->snaps[i]);
    free(r->names);
    free(r->snaps);
    free(r->reports);
    free(r->in);
    bp_arena_free(r->arena);
    free(r);
}

/* A target the probe cannot reach now keeps the name its node stated in the previous round. */
static void carry_names(bp_cluster_round *r, const bp_cluster_round *prev)
{
    for (size_t i = 0; prev && i < r->n; i++) {
        if (r->snaps[i]->connect.state == BP_FACT_OK)
            continue;
        for (size_t j = 0; j < prev->n; j++) {
            const bp_snapshot *p = prev->snaps[j];
            if (p && p->given_as && strcmp(p->given_as, r->names[i]) == 0) {
                (void)bp_snapshot_set_node(r->snaps[i], p->node); /* out of memory: the given name */
                break;
            }
        }
    }
}

bp_cluster_round *bp_cluster_round_run(const bp_config *cfg, const bp_nodeset *targets, const char *cookie,
                                       const bp_cluster_round *prev)
{
    bp_cluster_round *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->n = targets->n;
    r->names = calloc(r->n + 1, sizeof *r->names);
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, so sizeof one pointer is meant */
    r->snaps = calloc(r->n + 1, sizeof *r->snaps);
    r->reports = calloc(r->n + 1, sizeof *r->reports);
    r->in = calloc(r->n + 1, sizeof *r->in);
    r->arena = bp_arena_new(0);
    if (!r->names || !r->snaps || !r->reports || !r->in || !r->arena)
        goto fail;
    for (size_t i = 0; i < r->n; i++)
        r->names[i] = targets->v[i];
    if (bp_probe_fleet(cfg, r->names, r->n, cookie, r->snaps) != 0)
        goto fail;
    for (size_t i = 0; i < r->n; i++)
        if (!r->snaps[i])
            goto fail;
    carry_names(r, prev);
    for (size_t i = 0; i < r->n; i++) {
        if (!r->snaps[i] || bp_evaluate(r->snaps[i], cfg, &r->reports[i]) != 0)
            goto fail;
        r->in[i] = (bp_mesh_input){ .node = r->names[i],
                                    .reachable = r->snaps[i]->connect.state == BP_FACT_OK,
                                    .snap = r->snaps[i],
                                    .report = &r->reports[i] };
    }
    if (bp_mesh_analyze(r->in, r->n, &cfg->expect_nodes, cfg->expect_size, r->arena, &r->mesh) != 0)
        goto fail;
    return r;
fail:
    bp_cluster_round_free(r);
    return NULL;
}

int bp_cluster_round_settled(const bp_config *cfg, const bp_cluster_round *r)
{
    return r->mesh.verdict == BP_CLUSTER_CONVERGED || (cfg->allow_degraded && r->mesh.verdict == BP_CLUSTER_DEGRADED);
}
