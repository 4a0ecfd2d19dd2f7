/* targets.h: the nodes to probe: named ones plus every configured discovery source. */
#ifndef BP_TARGETS_H
#define BP_TARGETS_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

/*
 * cfg->nodes, then the nodes of --epmd-host, --dns (with --node-basename) and
 * --k8s-endpoints (ready and not-ready addresses alike), deduplicated, into
 * out, before the deadline. Returns 0 or the first source's BP_E* error with
 * a message naming the source in err.
 */
int bp_targets_resolve(const bp_config *cfg, int64_t deadline_ms, bp_namelist *out, char *err, size_t errlen);

/* Whether cfg names any discovery source. */
int bp_targets_discovered(const bp_config *cfg);

#endif
