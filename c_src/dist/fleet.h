/* fleet.h: probe many nodes at once, one thread each, so the whole takes as long as the slowest. */
#ifndef BP_FLEET_H
#define BP_FLEET_H

#include <stddef.h>

#include "core/config.h"
#include "core/snapshot.h"

#define BP_FLEET_MAX 1024

/*
 * Probe nodes[0..n) concurrently under cfg (each with its own --timeout), and
 * store each snapshot in out[i] (NULL only on OOM). Threads beyond
 * BP_FLEET_MAX are refused. Returns 0, BP_EUSAGE or BP_ENOMEM.
 */
int bp_probe_fleet(const bp_config *cfg, const char *const *nodes, size_t n, const char *cookie,
                   bp_snapshot **out);

#endif
