/* fleet.h: probe many nodes at once, one thread each, so the whole takes as long as the slowest. */
#ifndef BP_FLEET_H
#define BP_FLEET_H

#include <stddef.h>

#include "core/config.h"
#include "core/snapshot.h"

#define BP_FLEET_MAX 1024

/*
 * Probe nodes[0..n) concurrently under cfg (each with its own --timeout): n-1
 * threads (256 KiB stacks) and the caller's, one node each, and store each
 * snapshot in out[i] (NULL only on OOM). When the system refuses a thread,
 * the running ones take the rest in turn (slower, never lost). More than
 * BP_FLEET_MAX nodes are refused. Returns 0, BP_EUSAGE or BP_ENOMEM.
 * Each probe takes its own C-node name slot per target (dist/nameslot.h),
 * so distinct targets never wait on each other's names.
 */
int bp_probe_fleet(const bp_config *cfg, const char *const *nodes, size_t n, const char *cookie,
                   bp_snapshot **out);

#endif
