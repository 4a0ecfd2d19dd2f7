/* fixture_page.h: header-only builder of the status page's synthetic cluster (bench/bench_page.c, test_render_html.c). */
#ifndef BP_FIXTURE_PAGE_H
#define BP_FIXTURE_PAGE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/history.h"
#include "core/mesh.h"
#include "core/render_history.h"
#include "fixture_snapshot.h"

/*
 * n realistic healthy nodes "appI@host-I.example" (fixture_snapshot, governor cost_guard) in a full
 * mesh, evaluated, each with nt transitions spread over the hour before now_ms, alternating node and
 * governor, healthy <-> degraded: deterministic, so a page over it has a fixed size.
 */
typedef struct {
    size_t n, nt;
    bp_config cfg;
    char (*names)[64];
    bp_snapshot **snaps;
    bp_report *reps;
    bp_mesh_input *in;
    bp_history_node *hist;
    bp_transition *tr;
} fixture_cluster;

static inline void fixture_cluster_free(fixture_cluster *c)
{
    for (size_t i = 0; c->snaps && i < c->n; i++)
        bp_snapshot_free(c->snaps[i]);
    free(c->names), free(c->snaps), free(c->reps), free(c->in), free(c->hist), free(c->tr);
    *c = (fixture_cluster){0};
}

/* 0, or -1 (out of memory or a failed evaluation; c is then freed). c must not move while in use. */
static inline int fixture_cluster_build(fixture_cluster *c, size_t n, size_t nt, int64_t now_ms)
{
    *c = (fixture_cluster){ .n = n, .nt = nt };
    fixture_config(&c->cfg);
    fixture_list_add(&c->cfg.governors, "cost_guard");
    c->names = calloc(n + 1, sizeof *c->names);
    c->snaps = calloc(n + 1, sizeof *c->snaps);
    c->reps = calloc(n + 1, sizeof *c->reps);
    c->in = calloc(n + 1, sizeof *c->in);
    c->hist = calloc(n + 1, sizeof *c->hist);
    c->tr = calloc(n * nt + 1, sizeof *c->tr);
    if (!c->names || !c->snaps || !c->reps || !c->in || !c->hist || !c->tr)
        goto fail;
    for (size_t i = 0; i < n; i++)
        snprintf(c->names[i], sizeof c->names[i], "app%zu@host-%zu.example", i, i);
    for (size_t i = 0; i < n; i++) {
        bp_snapshot *s = c->snaps[i] = fixture_snapshot();
        if (!s)
            goto fail;
        s->node = c->names[i];
        s->visible.v = bp_arena_alloc(s->arena, (n + 1) * sizeof *s->visible.v);
        if (!s->visible.v)
            goto fail;
        s->visible.n = 0;
        for (size_t j = 0; j < n; j++)
            if (j != i)
                s->visible.v[s->visible.n++] = c->names[j];
        if (bp_evaluate(s, &c->cfg, &c->reps[i]) != 0)
            goto fail;
        c->in[i] = (bp_mesh_input){ .node = c->names[i], .reachable = 1, .snap = s, .report = &c->reps[i] };
        for (size_t k = 0; k < nt; k++) {
            bp_transition *x = &c->tr[i * nt + k];
            *x = (bp_transition){ .time_ms = now_ms - 3600000 + (int64_t)k * (3400000 / (int64_t)nt),
                                  .kind = k % 2 ? BP_TR_GOVERNOR : BP_TR_NODE };
            snprintf(x->name, sizeof x->name, "%s", k % 2 ? "cost_guard" : "node");
            snprintf(x->from, sizeof x->from, "%s", k % 4 < 2 ? "healthy" : "degraded");
            snprintf(x->to, sizeof x->to, "%s", k % 4 < 2 ? "degraded" : "healthy");
            snprintf(x->reason, sizeof x->reason, "run queue 12 over 2 schedulers");
        }
        c->hist[i] = (bp_history_node){ .node = c->names[i], .transitions = &c->tr[i * nt], .n = nt, .kept = nt };
    }
    return 0;
fail:
    fixture_cluster_free(c);
    return -1;
}

#endif
