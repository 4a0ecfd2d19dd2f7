/* render_cluster.h: renders a cluster mesh analysis as a human table + matrix, or as JSON (docs/CLUSTER.md). */
#ifndef BP_RENDER_CLUSTER_H
#define BP_RENDER_CLUSTER_H

#include <stddef.h>

#include "core/mesh.h"

/* Version of the cluster JSON document (docs/CLUSTER.md). Bump on incompatible change. */
#define BP_CLUSTER_SCHEMA_VERSION 1

/*
 * Both renderers take the analysis and the inputs it was made from (the same
 * array and count given to bp_mesh_analyze: per-node reports and snapshots are
 * reached through bp_mesh_node.input; in may be NULL when n == 0, and then no
 * per-node report is shown). They return a malloc'd NUL-terminated string the
 * caller frees, or NULL on OOM or a NULL mesh.
 */

/* Table (node, reachable, status, sees, governors, problems), the connectivity
 * matrix, then the verdict with partitions, asymmetry and quorum. Plain ASCII
 * apart from node names; control characters in names are shown as '?'. */
char *bp_render_cluster_text(const bp_mesh *m, const bp_mesh_input *in, size_t n);

/* The cluster JSON document; each node's "report" is exactly bp_render_json's
 * document for its report, or null. pretty: indent by 2, else compact. */
char *bp_render_cluster_json(const bp_mesh *m, const bp_mesh_input *in, size_t n, int pretty);

#endif
