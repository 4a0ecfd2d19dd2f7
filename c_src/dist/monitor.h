/* monitor.h: probe targets again and again, one background thread each, over persistent sessions. */
#ifndef BP_MONITOR_H
#define BP_MONITOR_H

#include <stddef.h>

#include "core/config.h"
#include "core/snapshot.h"

/* Stack of a monitor thread: a probe's deepest frames are a few tens of KiB, a publish to serve's site about as much. */
#define BP_MONITOR_STACK (512 * 1024)

/* One thread per target, started and stopped together; they share one copy of the configuration. */
typedef struct bp_monitors bp_monitors;

/*
 * Called from a monitor's thread after every probe with a new snapshot,
 * whose ownership passes to the callback (free it with bp_snapshot_free).
 * Callbacks of different targets may run at the same time.
 */
typedef void (*bp_monitor_cb)(void *ctx, bp_snapshot *snap);

/*
 * Start one thread per name in nodes[0..n) (BP_MONITOR_STACK stacks), each
 * probing its node every cfg->interval_ms (all facts, as the ready probe
 * collects them) until bp_monitors_stop. A session stays open between
 * probes, answering the node's ticks so it survives net_ticktime; a lost
 * connection is reopened, and a node that is down is tried again every
 * interval, so it is seen back within one. Every attempt, successful or not,
 * yields a snapshot. cfg, cookie and the names are copied (cfg once for all).
 * Returns 0, or BP_ENOMEM (memory, or the system refused a thread; nothing
 * is left running).
 */
int bp_monitors_start(const bp_config *cfg, const char (*nodes)[BP_NAME_MAX], size_t n, const char *cookie,
                      bp_monitor_cb cb, void *ctx, bp_monitors **out);

/*
 * Stop every thread and free. Once it returns no callback runs any more. All
 * threads are told at once and waited for together, at most ~300 ms in all:
 * one still inside a probe (up to --timeout) is left to finish and free its
 * part alone. NULL is fine.
 */
void bp_monitors_stop(bp_monitors *g);

#endif
