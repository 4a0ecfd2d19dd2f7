/* mesh.h: pure cluster-mesh analysis (who sees whom, partitions, quorum, verdict) over per-node snapshots. */
#ifndef BP_MESH_H
#define BP_MESH_H

#include <stddef.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/report.h"
#include "core/snapshot.h"

/* One probed node, as the cluster command collected it. Everything is borrowed. */
typedef struct {
    const char *node;          /* probed node name@host (NULL: snap->node); the node's own name
                                  replaces it once snap learned one (snap->given_as set) */
    int reachable;             /* the probe connected and collected nodes() */
    const bp_snapshot *snap;   /* its snapshot (visible list in snap->visible), NULL if none */
    const bp_report *report;   /* its single-node readiness report, NULL if none */
} bp_mesh_input;

typedef enum {
    BP_CLUSTER_CONVERGED = 0, /* one component, every expected node up, full mesh, nothing odd */
    BP_CLUSTER_DEGRADED,      /* quorum holds in the only partition, but something is missing or odd */
    BP_CLUSTER_PARTITIONED,   /* more than one component, one of them with quorum */
    BP_CLUSTER_NO_QUORUM,     /* no component holds a strict majority of the expected nodes */
    BP_CLUSTER_UNREACHABLE    /* the probe reached no node at all */
} bp_cluster_verdict;

/* Cells of the connectivity matrix. */
#define BP_LINK_UNKNOWN (-1) /* the observer's row is unknown (not reachable) */
#define BP_LINK_NO 0         /* the observer does not see it (also the diagonal) */
#define BP_LINK_YES 1        /* the observed node is in the observer's nodes() */

/* What the expected count E was taken from. */
typedef enum {
    BP_EXPECT_PROBED = 0, /* neither names nor size: E = number of distinct probed nodes */
    BP_EXPECT_NAMES,      /* --expect-nodes: E = number of distinct names */
    BP_EXPECT_SIZE        /* --expect-size only: E = that size, no names */
} bp_expect_source;

typedef struct {
    const char *name;   /* name@host (arena copy) */
    int input;          /* index of its bp_mesh_input (first reachable one), -1 if not probed */
    int probed;         /* some input named it */
    int reachable;      /* the probe reached it */
    int row_known;      /* its nodes() is known: its matrix row is meaningful */
    int expected;       /* named by the expectation (BP_EXPECT_PROBED/SIZE: probed) */
    size_t sees;        /* other universe nodes it sees (0 when row unknown) */
    size_t seen_by;     /* row-known nodes that see it */
    int component;      /* index into components; -1 when neither reachable nor seen */
} bp_mesh_node;

/* Present: reachable, or seen by a reachable node. */
static inline int bp_mesh_present(const bp_mesh_node *x)
{
    return x->reachable || x->seen_by > 0;
}

/* A connected component (partition) of the undirected graph "i sees j or j sees i". */
typedef struct {
    size_t n;           /* members */
    size_t *members;    /* node indices, ascending (so in name order) */
    size_t reachable;   /* members the probe reached */
    size_t votes;       /* members counted for quorum (expected ones; all with BP_EXPECT_SIZE) */
} bp_mesh_component;

/* observer sees observed; observed is reachable and does not see observer. */
typedef struct {
    size_t observer, observed;
} bp_mesh_pair;

/* The analysis. Every pointer is allocated from the arena given to bp_mesh_analyze. */
typedef struct bp_mesh {
    size_t n;                  /* universe: probed ∪ expected ∪ seen by a reachable node */
    bp_mesh_node *nodes;       /* sorted by name (strcmp), no duplicates */
    signed char *matrix;       /* n*n, matrix[observer * n + observed], BP_LINK_* */

    size_t n_probed;           /* distinct probed nodes */
    size_t n_reachable;        /* distinct reachable nodes */
    size_t n_missing_links;    /* (i, j): i row-known, j reachable or seen, i does not see j */

    size_t n_components;
    bp_mesh_component *components; /* ordered by lowest member index */

    size_t n_asymmetric;
    bp_mesh_pair *asymmetric;  /* ordered by observer, then observed */
    size_t n_unreachable_seen;
    size_t *unreachable_seen;  /* probed or expected, not reachable, seen by some reachable node */
    size_t n_unexpected;
    size_t *unexpected;        /* reachable or seen, not expected (only with BP_EXPECT_NAMES) */
    size_t n_mnesia_trouble;
    size_t *mnesia_trouble;    /* --mnesia: reachable nodes whose mnesia is not running, or whose view
                                  lacks a db node or a loaded copy of some table */
    size_t n_absent;
    size_t *absent;            /* expected, neither reachable nor seen */

    bp_expect_source expect_source;
    size_t expected;           /* E */
    size_t quorum_needed;      /* E / 2 + 1 */
    size_t quorum_largest;     /* most votes in one component */
    int quorum_component;      /* the component holding them (first on a tie), -1 if none */
    int quorum;                /* quorum_largest >= quorum_needed */

    bp_cluster_verdict verdict;
    const char *reason;        /* one human line, e.g. "1 of 5 expected nodes down (c@h); quorum holds (4/5)" */
} bp_mesh;

/*
 * Analyze n probed nodes. `expected` may be NULL or empty (n == 0); its names
 * are deduplicated. expected_size <= 0 means unset; it is used only when no
 * names are given. A node counts as row-known when it is reachable and has a
 * snapshot whose membership fact was collected; its snap->visible is its row
 * (hidden nodes and itself are ignored). Names are copied: the result does not
 * borrow from in[] except through bp_mesh_node.input indices.
 * Pure: no I/O. Returns 0, BP_EUSAGE (NULL out/arena, in NULL with n > 0, an
 * input without a name) or BP_ENOMEM (arena full); on error *out is zeroed.
 */
int bp_mesh_analyze(const bp_mesh_input *in, size_t n, const bp_namelist *expected, int expected_size,
                    bp_arena *a, bp_mesh *out);

/* "converged", "degraded", "partitioned", "no_quorum", "unreachable" */
const char *bp_cluster_verdict_name(bp_cluster_verdict v);

/* Index of node `name` in m->nodes, or -1. */
int bp_mesh_find(const bp_mesh *m, const char *name);

/* Matrix cell: does node i see node j (BP_LINK_*). BP_LINK_UNKNOWN when out of range. */
int bp_mesh_link(const bp_mesh *m, size_t i, size_t j);

/*
 * What changed between two analyses, one human line each, for `cluster --wait`:
 * "node c@h joined" / "node c@h left" (reachable or seen by someone, or not),
 * "node c@h now reachable from the probe" / "node c@h no longer reachable from the probe",
 * "a@h now sees b@h" / "a@h no longer sees b@h" (both rows known both times, neither
 * node joining or leaving), "partition healed (2 components -> 1)",
 * "cluster partitioned (1 component -> 2)", "quorum regained (3/5)", "quorum lost (2/5)",
 * "verdict degraded -> converged". before == NULL gives no lines.
 * *lines is an arena array of *n arena strings (NULL when *n == 0).
 * Returns 0, BP_EUSAGE or BP_ENOMEM.
 */
int bp_mesh_changes(const bp_mesh *before, const bp_mesh *after, bp_arena *a, const char ***lines, size_t *n);

#endif
