/* monitor.h: probe one target again and again in a background thread over a persistent session. */
#ifndef BP_MONITOR_H
#define BP_MONITOR_H

#include "core/config.h"
#include "core/snapshot.h"

typedef struct bp_monitor bp_monitor;

/*
 * Called from the monitor's thread after every probe with a new snapshot,
 * whose ownership passes to the callback (free it with bp_snapshot_free).
 */
typedef void (*bp_monitor_cb)(void *ctx, bp_snapshot *snap);

/*
 * Start a thread that probes `node` every cfg->interval_ms (all facts, as
 * the ready probe collects them) until bp_monitor_stop. The session stays
 * open between probes, answering the node's ticks so it survives
 * net_ticktime; a lost connection is reopened, and failed connection attempts
 * back off (interval, doubling, capped at max(interval, 10 s)). Every attempt,
 * successful or not, yields a snapshot. cfg and cookie are copied.
 * Returns 0 or BP_ENOMEM.
 */
int bp_monitor_start(const bp_config *cfg, const char *node, const char *cookie, bp_monitor_cb cb, void *ctx,
                     bp_monitor **out);

/* Stop the thread (interrupting any wait), close the session, free. NULL is fine. */
void bp_monitor_stop(bp_monitor *m);

#endif
