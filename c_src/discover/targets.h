/* targets.h: the nodes to probe: named ones plus every configured discovery source. */
#ifndef BP_TARGETS_H
#define BP_TARGETS_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "discover/nodeset.h"

/*
 * cfg->nodes, then the nodes of --epmd-host (only those matching
 * --node-basename when it is given), --dns (with --node-basename) and
 * --k8s-endpoints (ready and not-ready addresses alike, named and fetched as
 * --k8s-names, --k8s-source and --k8s-cluster-domain say), deduplicated, into
 * out (emptied first; the caller frees it with bp_nodeset_free), before the
 * deadline. Up to out's cap (BP_TARGETS_MAX by default) in all: more is
 * BP_ETOOBIG. Returns 0 or the first source's BP_E* error with a message
 * naming the source in err.
 */
int bp_targets_resolve(const bp_config *cfg, int64_t deadline_ms, bp_nodeset *out, char *err, size_t errlen);

/* The discovery sources, in the order they are asked. */
enum { BP_SOURCE_EPMD, BP_SOURCE_DNS, BP_SOURCE_K8S, BP_SOURCES_MAX };
/* Room for a source's label: the option and its argument, "--dns app.prod.svc.cluster.local". */
#define BP_SOURCE_LABEL_MAX 320

/*
 * The discovery sources cfg names, in order: their labels ("--epmd-host db1")
 * into labels[i] and their kinds (BP_SOURCE_*) into kinds[i] (either may be
 * NULL; room for BP_SOURCES_MAX). Returns how many.
 */
size_t bp_targets_sources(const bp_config *cfg, char (*labels)[BP_SOURCE_LABEL_MAX], int *kinds);

/*
 * Ask one source (a BP_SOURCE_* kind) of cfg for its nodes, into found
 * (emptied first), before the deadline. 0 or its BP_E* code with the reason
 * in why (without the source's label).
 */
int bp_targets_source(const bp_config *cfg, int kind, int64_t deadline_ms, bp_nodeset *found, char *why,
                      size_t whylen);

/* Whether cfg names any discovery source. */
int bp_targets_discovered(const bp_config *cfg);

#endif
