/* monitor.c: probe one target again and again in a background thread over a persistent session. */
#include "dist/monitor.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
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

#define BACKOFF_CAP_MS 10000

struct bp_monitor {
    bp_config cfg;
    char node[BP_NAME_MAX];
    char cookie[BP_COOKIE_MAX + 1];
    bp_monitor_cb cb;
    void *ctx;
    int stop_fd; /* eventfd: readable once stopping */
    pthread_t thread;
    bp_session *s;
    int lock;
    pthread_mutex_t mu;  /* guards the two flags and every callback */
    int stopping;        /* no callback once set */
    int abandoned;       /* stop gave up waiting: the thread frees the monitor itself */
    int exited;          /* the thread is past its last use of the monitor but for freeing */
};

#define STOP_WAIT_MS 300

static void monitor_free(bp_monitor *m)
{
    bp_session_close(m->s);
    bp_nameslot_release(m->lock);
    close(m->stop_fd);
    pthread_mutex_destroy(&m->mu);
    explicit_bzero(m->cookie, sizeof m->cookie);
    free(m);
}

/* Wait until `until` (monotonic ms), answering the session's ticks; 1 when asked to stop. */
static int wait_until(bp_monitor *m, int64_t until)
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
        if (n > 0 && p[1].revents && bp_session_pump(m->s, bp_now_ms() + 100) != 0) {
            bp_session_close(m->s); /* reopened at the next probe */
            bp_nameslot_release(m->lock);
            m->s = NULL;
            m->lock = -1;
        }
    }
}

/* One probe: connect if needed, collect, hand the snapshot over. Returns 1 when connected. */
static int probe_once(bp_monitor *m)
{
    int64_t t0 = bp_now_us();
    int64_t deadline = bp_now_ms() + m->cfg.timeout_ms;
    bp_snapshot *snap = bp_snapshot_new(m->node);
    if (!snap)
        return m->s != NULL;
    snap->timestamp_ms = bp_wall_ms();
    if (!m->s) {
        char err[512];
        int rc = bp_connect_node(&m->cfg, m->node, m->cookie, deadline, &m->s, &m->lock, err, sizeof err);
        if (rc) {
            snap->connect_code = rc;
            bp_fact_fail(snap, &snap->connect, BP_FACT_ERROR, "%s", err);
        }
    }
    if (m->s) {
        snap->connect.state = BP_FACT_OK;
        if (bp_collect(m->s, &m->cfg, deadline, snap) != 0 || !bp_session_alive(m->s)) {
            bp_session_close(m->s);
            bp_nameslot_release(m->lock);
            m->s = NULL;
            m->lock = -1;
        }
    }
    snap->duration_us = bp_now_us() - t0;
    int ok = snap->connect.state == BP_FACT_OK;
    pthread_mutex_lock(&m->mu);
    if (m->stopping)
        bp_snapshot_free(snap);
    else
        m->cb(m->ctx, snap);
    pthread_mutex_unlock(&m->mu);
    return ok;
}

static void *monitor_main(void *arg)
{
    bp_monitor *m = arg;
    int64_t backoff = m->cfg.interval_ms;
    int64_t cap = m->cfg.interval_ms > BACKOFF_CAP_MS ? m->cfg.interval_ms : BACKOFF_CAP_MS;
    for (;;) {
        int64_t start = bp_now_ms();
        int ok = probe_once(m);
        int64_t pause = ok ? m->cfg.interval_ms : backoff;
        backoff = ok ? m->cfg.interval_ms : (backoff * 2 > cap ? cap : backoff * 2);
        if (wait_until(m, start + pause))
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

int bp_monitor_start(const bp_config *cfg, const char *node, const char *cookie, bp_monitor_cb cb, void *ctx,
                     bp_monitor **out)
{
    bp_monitor *m = calloc(1, sizeof *m);
    if (!m)
        return BP_ENOMEM;
    m->cfg = *cfg;
    m->cfg.probe = BP_PROBE_READY; /* collect every fact; each endpoint evaluates its own kind */
    bp_strlcpy(m->node, node, sizeof m->node);
    bp_strlcpy(m->cookie, cookie, sizeof m->cookie);
    m->cb = cb;
    m->ctx = ctx;
    m->lock = -1;
    pthread_mutex_init(&m->mu, NULL);
    m->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m->stop_fd < 0 || pthread_create(&m->thread, NULL, monitor_main, m) != 0) {
        monitor_free(m);
        return BP_ENOMEM;
    }
    *out = m;
    return 0;
}

void bp_monitor_stop(bp_monitor *m)
{
    if (!m)
        return;
    uint64_t one = 1;
    pthread_mutex_lock(&m->mu);
    m->stopping = 1; /* from here on no callback runs */
    pthread_mutex_unlock(&m->mu);
    (void)!write(m->stop_fd, &one, sizeof one);
    /* a probe in flight may hold the thread up to --timeout: do not wait that long */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += STOP_WAIT_MS * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    if (pthread_timedjoin_np(m->thread, NULL, &until) == 0) {
        monitor_free(m);
        return;
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
