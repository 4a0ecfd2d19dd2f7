/* monitor.c: probe targets again and again, one background thread each, over persistent sessions. */
#include "dist/monitor.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "core/str.h"
#include "dist/collect.h"
#include "dist/cookie.h"
#include "dist/nameslot.h"

#define STOP_WAIT_MS 300

/* What every monitor of a group reads: one copy, freed with the last monitor (abandoned ones outlive the group). */
typedef struct {
    atomic_size_t refs;
    bp_config cfg;
    char cookie[BP_COOKIE_MAX + 1];
    bp_monitor_cb cb;
    void *ctx;
} shared;

typedef struct {
    shared *sh;
    char node[BP_NAME_MAX];
    char real[BP_NAME_MAX];   /* the name the node last stated, "" before the first connection */
    int stop_fd; /* eventfd: readable once stopping */
    pthread_t thread;
    bp_session *s;
    int lock;
    pthread_mutex_t mu;  /* guards the three flags and every callback */
    int stopping;        /* no callback once set */
    int abandoned;       /* stop gave up waiting: the thread frees the monitor itself */
    int exited;          /* the thread is past its last use of the monitor but for freeing */
} monitor;

struct bp_monitors {
    size_t n;     /* threads running */
    monitor **m;
};

static void shared_unref(shared *sh)
{
    if (atomic_fetch_sub(&sh->refs, 1) == 1) {
        explicit_bzero(sh->cookie, sizeof sh->cookie);
        free(sh);
    }
}

static void monitor_free(monitor *m)
{
    bp_session_close(m->s);
    bp_nameslot_release(m->lock);
    close(m->stop_fd);
    pthread_mutex_destroy(&m->mu);
    shared_unref(m->sh);
    free(m);
}

/* Close the session; the next probe reopens it. */
static void drop_session(monitor *m)
{
    bp_session_close(m->s);
    bp_nameslot_release(m->lock);
    m->s = NULL;
    m->lock = -1;
}

/* Wait until `until` (monotonic ms), answering the session's ticks; 1 when asked to stop. */
static int wait_until(monitor *m, int64_t until)
{
    for (;;) {
        int left = bp_remaining_ms(until);
        if (left == 0)
            return 0;
        struct pollfd p[2] = { { .fd = m->stop_fd, .events = POLLIN },
                               { .fd = bp_session_fd(m->s), .events = POLLIN } };
        int n = poll(p, m->s && bp_session_fd(m->s) >= 0 ? 2 : 1, left);
        if (n < 0 && errno != EINTR)
            return 1;
        if (p[0].revents)
            return 1;
        if (n > 0 && p[1].revents && bp_session_pump(m->s, bp_now_ms() + 100) != 0)
            drop_session(m);
    }
}

/* One probe: connect if needed, collect, hand the snapshot over. Returns 1 when connected. */
static int probe_once(monitor *m)
{
    const bp_config *cfg = &m->sh->cfg;
    int64_t t0 = bp_now_us();
    int64_t deadline = bp_now_ms() + cfg->timeout_ms;
    bp_snapshot *snap = bp_snapshot_new(m->node);
    if (!snap)
        return m->s != NULL;
    snap->timestamp_ms = bp_wall_ms();
    if (!m->s) {
        char err[512];
        int rc = bp_connect_node(cfg, m->node, m->sh->cookie, deadline, &m->s, &m->lock, err, sizeof err);
        if (rc) {
            snap->connect_code = rc;
            bp_fact_fail(snap, &snap->connect, BP_FACT_ERROR, "%s", err);
        }
    }
    if (m->s) {
        snap->connect.state = BP_FACT_OK;
        uint64_t heard = bp_session_rx_packets(m->s);
        /* A whole round in which the node sent nothing, not a reply, not a tick, went into a dead
           link (a cut, a peer gone without a FIN): connect afresh next time instead of waiting for
           TCP's backed-off retransmissions into a connection the node may have closed already
           (a short cut kept serve failing for 3 to 4 s after the link came back). */
        if (bp_collect(m->s, cfg, deadline, snap) != 0 || !bp_session_alive(m->s)
            || bp_session_rx_packets(m->s) == heard)
            drop_session(m);
    }
    snap->duration_us = bp_now_us() - t0;
    int ok = snap->connect.state == BP_FACT_OK;
    if (ok) /* while it is down, the node keeps the name it last stated (stable metric labels) */
        bp_strlcpy(m->real, snap->node, sizeof m->real);
    else
        (void)bp_snapshot_set_node(snap, m->real); /* out of memory: it keeps the given name */
    pthread_mutex_lock(&m->mu);
    if (m->stopping)
        bp_snapshot_free(snap);
    else
        m->sh->cb(m->sh->ctx, snap);
    pthread_mutex_unlock(&m->mu);
    return ok;
}

static void *monitor_main(void *arg)
{
    monitor *m = arg;
    /* A node that is down is tried again every interval, not less often: a refused connection
       costs either side next to nothing, and a node that comes back is seen within one interval
       (a growing backoff kept a restarted node unready for up to 10 s). */
    int64_t interval = m->sh->cfg.interval_ms;
    for (;;) {
        int64_t start = bp_now_ms();
        (void)probe_once(m);
        if (wait_until(m, start + interval))
            break;
    }
    pthread_mutex_lock(&m->mu);
    int self_free = m->abandoned;
    m->stopping = 1;
    m->exited = 1;
    pthread_mutex_unlock(&m->mu);
    if (self_free)
        monitor_free(m);
    return NULL;
}

/* A monitor of `node` with its thread running, holding a reference to sh; NULL when it cannot start. */
static monitor *monitor_start(shared *sh, const char *node, const pthread_attr_t *attr)
{
    monitor *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->sh = sh;
    atomic_fetch_add(&sh->refs, 1);
    bp_strlcpy(m->node, node, sizeof m->node);
    m->lock = -1;
    pthread_mutex_init(&m->mu, NULL);
    m->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m->stop_fd < 0 || pthread_create(&m->thread, attr, monitor_main, m) != 0) {
        monitor_free(m);
        return NULL;
    }
    return m;
}

int bp_monitors_start(const bp_config *cfg, const char (*nodes)[BP_NAME_MAX], size_t n, const char *cookie,
                      bp_monitor_cb cb, void *ctx, bp_monitors **out)
{
    bp_monitors *g = calloc(1, sizeof *g);
    shared *sh = calloc(1, sizeof *sh);
    if (g)
        /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, so sizeof one pointer is meant */
        g->m = calloc(n + 1, sizeof *g->m);
    if (!g || !sh || !g->m) {
        free(sh);
        bp_monitors_stop(g);
        return BP_ENOMEM;
    }
    atomic_init(&sh->refs, 1); /* ours until every monitor has its own */
    sh->cfg = *cfg;
    sh->cfg.probe = BP_PROBE_READY; /* collect every fact; each endpoint evaluates its own kind */
    bp_strlcpy(sh->cookie, cookie, sizeof sh->cookie);
    sh->cb = cb;
    sh->ctx = ctx;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, BP_MONITOR_STACK);
    while (g->n < n && (g->m[g->n] = monitor_start(sh, nodes[g->n], &attr)) != NULL)
        g->n++;
    pthread_attr_destroy(&attr);
    shared_unref(sh);
    if (g->n < n) {
        bp_monitors_stop(g);
        return BP_ENOMEM;
    }
    *out = g;
    return 0;
}

void bp_monitors_stop(bp_monitors *g)
{
    if (!g)
        return;
    uint64_t one = 1;
    for (size_t i = 0; i < g->n; i++) {
        monitor *m = g->m[i];
        pthread_mutex_lock(&m->mu);
        m->stopping = 1; /* from here on no callback runs */
        pthread_mutex_unlock(&m->mu);
        (void)!write(m->stop_fd, &one, sizeof one);
    }
    /* a probe in flight may hold its thread up to --timeout: do not wait that long, nor once per thread */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += STOP_WAIT_MS * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    for (size_t i = 0; i < g->n; i++) {
        monitor *m = g->m[i];
        if (pthread_timedjoin_np(m->thread, NULL, &until) == 0) {
            monitor_free(m);
            continue;
        }
        pthread_mutex_lock(&m->mu);
        int exited = m->exited;
        m->abandoned = !exited;
        pthread_mutex_unlock(&m->mu);
        if (exited) { /* it finished just now */
            pthread_join(m->thread, NULL);
            monitor_free(m);
        } else {
            pthread_detach(m->thread);
        }
    }
    free(g->m);
    free(g);
}
