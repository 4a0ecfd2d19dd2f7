/* probe.c: one complete probe of one node: name slot, connect, collect, disconnect. */
#include "dist/collect.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "dist/nameslot.h"

/* Take a name slot before the deadline; 0, or a BP_E* code with err set. */
static int take_slot(const bp_config *cfg, const char *node, int64_t deadline_ms, char *alive, size_t alive_len,
                     int *lock_fd, char *err, size_t errlen)
{
    int rc = bp_nameslot_acquire(cfg->cnode_name, cfg->cnode_pool, node, deadline_ms, alive, alive_len, lock_fd);
    if (rc == BP_EBUSY) {
        snprintf(err, errlen, "timed out after %d ms: all %d probe names %s_0..%s_%d are in use",
                 cfg->timeout_ms, cfg->cnode_pool, cfg->cnode_name, cfg->cnode_name, cfg->cnode_pool - 1);
        return BP_ETIMEDOUT;
    }
    if (rc)
        snprintf(err, errlen, "cannot reserve a probe name: %s", bp_strerror(rc));
    return rc;
}

/*
 * A target still tearing down the previous probe's connection refuses our name
 * ("alive") for a moment: probes in quick succession (a loop, liveness right after
 * readiness) then try the same name a little later, and another name of the pool
 * only if it is refused again (each new name is a new atom on the target, for
 * good), within the same deadline.
 */
#define ALIVE_RETRIES 4
#define ALIVE_PAUSE_MS 5

int bp_connect_node(const bp_config *cfg, const char *node, const char *cookie, int64_t deadline_ms,
                    bp_session **s, int *lock_fd, char *err, size_t errlen)
{
    char alive[96];
    *s = NULL;
    int rc = take_slot(cfg, node, deadline_ms, alive, sizeof alive, lock_fd, err, errlen);
    if (rc)
        return rc;
    bp_dist_tls tls = {
        .cafile = cfg->tls_cafile,
        .certfile = cfg->tls_certfile,
        .keyfile = cfg->tls_keyfile,
        .verify = strcmp(cfg->tls_verify, "none") != 0,
        .server_name = cfg->tls_server_name,
    };
    int refused_alive = 0;
    bp_session_opts o = {
        .tls = cfg->dist_tls ? &tls : NULL,
        .inet6 = cfg->inet6,
        .target = node,
        .cookie = cookie,
        .cnode_alive = alive,
        .cnode_host = cfg->cnode_host,
        .max_reply_bytes = cfg->max_reply_bytes,
        .timeout_ms = cfg->timeout_ms,
        .refused_alive = &refused_alive,
    };
    for (int attempt = 0;; attempt++) {
        refused_alive = 0;
        rc = bp_session_open(&o, deadline_ms, s, err, errlen);
        if (rc == 0 || !refused_alive || attempt == ALIVE_RETRIES || bp_now_ms() + ALIVE_PAUSE_MS >= deadline_ms)
            break;
        /* this name again after a pause; from the third refusal on, another free name at once */
        int other = -1;
        char next[96];
        if (attempt >= 2
            && bp_nameslot_acquire(cfg->cnode_name, cfg->cnode_pool, node, bp_now_ms(), next, sizeof next, &other) == 0) {
            bp_nameslot_release(*lock_fd);
            *lock_fd = other;
            snprintf(alive, sizeof alive, "%s", next);
        } else {
            struct timespec pause = { 0, ALIVE_PAUSE_MS * 1000000L };
            nanosleep(&pause, NULL);
        }
    }
    if (rc) {
        bp_nameslot_release(*lock_fd);
        *lock_fd = -1;
    }
    return rc;
}

bp_snapshot *bp_probe_node(const bp_config *cfg, const char *node, const char *cookie)
{
    return bp_probe_node_until(cfg, node, cookie, bp_now_ms() + cfg->timeout_ms);
}

bp_snapshot *bp_probe_node_until(const bp_config *cfg, const char *node, const char *cookie, int64_t deadline)
{
    int64_t t0 = bp_now_us();
    bp_snapshot *snap = bp_snapshot_new(node);
    if (!snap)
        return NULL;
    snap->timestamp_ms = bp_wall_ms();

    char err[512];
    int lock = -1;
    bp_session *s = NULL;
    int rc = bp_connect_node(cfg, node, cookie, deadline, &s, &lock, err, sizeof err);
    if (rc) {
        snap->connect_code = rc;
        bp_fact_fail(snap, &snap->connect, BP_FACT_ERROR, "%s", err);
    } else {
        snap->connect.state = BP_FACT_OK;
        if (bp_collect(s, cfg, deadline, snap) != 0) {
            bp_session_close(s);
            bp_nameslot_release(lock);
            bp_snapshot_free(snap);
            return NULL;
        }
    }
    bp_session_close(s);
    bp_nameslot_release(lock);
    snap->duration_us = bp_now_us() - t0;
    return snap;
}
