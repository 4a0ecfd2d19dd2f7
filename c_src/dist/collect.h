/* collect.h: turn a configuration into pipelined RPC rounds on a session and their replies into a snapshot. */
#ifndef BP_COLLECT_H
#define BP_COLLECT_H

#include <stdint.h>

#include "core/config.h"
#include "core/snapshot.h"
#include "dist/session.h"

/*
 * Collect every fact the configured probe kind needs from the node behind
 * `s` into `snap`, before `deadline_ms`. Round one sends every independent
 * call at once; a second round (only with --governor, nested supervisors,
 * or a target whose cgroup is not at its mount point) asks about what round
 * one found. Facts that fail
 * are marked in the snapshot; the others are still filled in.
 * Returns 0, or BP_ENOMEM.
 */
int bp_collect(bp_session *s, const bp_config *cfg, int64_t deadline_ms, bp_snapshot *snap);

/*
 * Who runs the rounds of a collection. bp_collect sends them over a session;
 * the NIF runs them inside the VM it lives in (c_src/nif/nif_collect.c).
 * call() must answer every call of the batch it has not answered yet (rc and
 * reply of each bp_rpc, see session.h) and return like bp_session_call.
 * self_name: the collector's own node name, dropped from nodes(hidden), or NULL.
 */
typedef struct {
    int (*call)(void *ctx, bp_batch *b, int64_t deadline_ms);
    void *ctx;
    const char *self_name;
    int counts_rounds;   /* call() adds the rounds it runs to the snapshot's round_trips itself */
} bp_collect_exec;

/* bp_collect with the rounds run by `ex`. */
int bp_collect_with(const bp_collect_exec *ex, const bp_config *cfg, int64_t deadline_ms, bp_snapshot *snap);

/*
 * bp_collect's plan over `ex`: the one-round request (dist/oneround.h) in front of ex, unless
 * --plan (dist/plan.h, judged by snap->rtt_us) says multi-round; then, and when the node
 * refuses the one request, bp_collect_with over ex, a round per step.
 */
int bp_collect_planned(const bp_collect_exec *ex, const bp_config *cfg, int64_t deadline_ms, bp_snapshot *snap);

/*
 * Take a C-node name from the pool and open a session to `node` before the
 * deadline. On success *s and *lock_fd must later go to bp_session_close and
 * bp_nameslot_release. On failure returns a BP_E* code with err set.
 */
int bp_connect_node(const bp_config *cfg, const char *node, const char *cookie, int64_t deadline_ms,
                    bp_session **s, int *lock_fd, char *err, size_t errlen);

/*
 * The whole probe of one node: take a C-node name from the pool, connect,
 * collect, disconnect. Always returns a snapshot (connect failures are
 * recorded in snap->connect and snap->connect_code) or NULL on OOM.
 */
bp_snapshot *bp_probe_node(const bp_config *cfg, const char *node, const char *cookie);
/* The same by a deadline given (bp_now_ms() clock) rather than cfg's timeout from now. */
bp_snapshot *bp_probe_node_until(const bp_config *cfg, const char *node, const char *cookie, int64_t deadline_ms);

#endif
