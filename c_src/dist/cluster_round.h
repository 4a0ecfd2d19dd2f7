/* cluster_round.h: one look at a cluster: every target probed at once, judged, and the mesh analysed. */
#ifndef BP_CLUSTER_ROUND_H
#define BP_CLUSTER_ROUND_H

#include <stddef.h>

#include "core/config.h"
#include "core/mesh.h"
#include "core/report.h"
#include "discover/nodeset.h"

/* Every target's snapshot and report, and the mesh over them (arrays of n). */
typedef struct {
    size_t n;
    const char **names;      /* borrowed from the target set the round was made from */
    bp_snapshot **snaps;
    bp_report *reports;
    bp_mesh_input *in;
    bp_arena *arena;
    bp_mesh mesh;
} bp_cluster_round;

/*
 * Probe targets once (each under cfg's --timeout, all at once), evaluate each
 * snapshot and analyse the mesh against --expect-nodes / --expect-size. The
 * round borrows the targets' names: keep the set alive and unchanged while
 * the round is used. A target that cannot be reached keeps the name its node
 * stated in `prev` (the previous round of `--wait`, or NULL). NULL on OOM.
 * Used by `beamprobe cluster` and the NIF.
 */
bp_cluster_round *bp_cluster_round_run(const bp_config *cfg, const bp_nodeset *targets, const char *cookie,
                                       const bp_cluster_round *prev);
void bp_cluster_round_free(bp_cluster_round *r);

/* Converged, or degraded under --allow-degraded. */
int bp_cluster_round_settled(const bp_config *cfg, const bp_cluster_round *r);

#endif
