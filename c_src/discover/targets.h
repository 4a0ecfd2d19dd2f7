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

/* Whether cfg names any discovery source. */
int bp_targets_discovered(const bp_config *cfg);

#endif
