/* server.c: the HTTP server's life cycle and event loop: listen, accept, dispatch, timeouts, graceful stop. */
#include "http/server_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "http/listen.h"

#define LISTEN_BACKLOG 1024

static int clamp_opts(const bp_http_opts *o, bp_http_server *s, char *err, size_t errlen)
{
    s->max_conns = o->max_connections > 0 ? o->max_connections : BP_HTTP_DEFAULT_MAX_CONNECTIONS;
    s->idle_ms = o->idle_timeout_ms > 0 ? o->idle_timeout_ms : BP_HTTP_DEFAULT_IDLE_TIMEOUT_MS;
    s->max_head = o->max_header_bytes ? o->max_header_bytes : BP_HTTP_DEFAULT_MAX_HEADER_BYTES;
    if (s->max_head < BP_HTTP_MIN_HEADER_BYTES)
        s->max_head = BP_HTTP_MIN_HEADER_BYTES;
    if (s->max_head > BP_HTTP_MAX_HEADER_BYTES)
        s->max_head = BP_HTTP_MAX_HEADER_BYTES;
    s->header_ms = o->header_timeout_ms > 0 ? o->header_timeout_ms : BP_HTTP_DEFAULT_HEADER_TIMEOUT_MS;
    if (s->header_ms > s->idle_ms)
        s->header_ms = s->idle_ms;
    s->access_log = o->access_log;
    if (o->max_connections < 0 || o->idle_timeout_ms < 0 || o->header_timeout_ms < 0) {
        snprintf(err, errlen, "max_connections, idle_timeout_ms and header_timeout_ms must not be negative");
        return BP_EUSAGE;
    }
    if (o->tls_client_ca && !o->tls_cert) {
        snprintf(err, errlen, "a client CA (tls_client_ca) needs HTTPS: give tls_cert and tls_key too");
        return BP_EUSAGE;
    }
    s->head_q.ms = s->header_ms;
    s->idle_q.ms = s->idle_ms;
    s->write_q.ms = s->idle_ms;
    s->linger_q.ms = s->idle_ms < BP__HTTP_LINGER_MS ? s->idle_ms : BP__HTTP_LINGER_MS;
    return 0;
}

static int epoll_add(int ep, int fd, void *tag)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

int bp_http_new(const bp_http_opts *o, bp_http_handler h, void *ctx, bp_http_server **out, char *err, size_t errlen)
{
    int rc = BP_EUSAGE;
    bp_http_server *s = NULL;
    if (!o || !h || !out) {
        snprintf(err, errlen, "bp_http_new: options, handler and result are required");
        goto out;
    }
    s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        rc = BP_ENOMEM;
        goto out;
    }
    s->lfd = s->ep = s->evfd = s->spare_fd = -1;
    s->handler = h;
    s->ctx = ctx;
    s->date_sec = -1;
    if ((rc = clamp_opts(o, s, err, errlen)) != 0)
        goto out;
    if ((o->tls_cert || o->tls_key) && (rc = bp__http_tls_new(o->tls_cert, o->tls_key, o->tls_client_ca, &s->tls,
                                                              err, errlen)) != 0)
        goto out;
    s->slots = calloc((size_t)s->max_conns, sizeof *s->slots);
    if (!s->slots) {
        snprintf(err, errlen, "out of memory for %d connection slots", s->max_conns);
        rc = BP_ENOMEM;
        goto out;
    }
    if ((rc = bp__http_listen(o->listen, LISTEN_BACKLOG, &s->lfd, &s->port, err, errlen)) != 0)
        goto out;
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    s->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->ep < 0 || s->evfd < 0 || epoll_add(s->ep, s->lfd, &s->tag_listen) < 0
        || epoll_add(s->ep, s->evfd, &s->tag_event) < 0) {
        snprintf(err, errlen, "cannot set up the event loop: %s", strerror(errno));
        rc = BP_EIO;
        goto out;
    }
    s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC); /* kept for EMFILE; optional */
    *out = s;
    s = NULL;
    rc = 0;
out:
    bp_http_free(s);
    return rc;
}

int bp_http_port(const bp_http_server *s)
{
    return s ? s->port : -1;
}

void bp_http_stop(bp_http_server *s)
{
    uint64_t one = 1;
    int saved = errno; /* a signal handler must leave errno as it found it */
    if (s && s->evfd >= 0)
        (void)!write(s->evfd, &one, sizeof one);
    errno = saved;
}

static void pause_accept(bp_http_server *s)
{
    if (s->accept_paused || s->lfd < 0)
        return;
    (void)epoll_ctl(s->ep, EPOLL_CTL_DEL, s->lfd, NULL);
    s->accept_paused = 1;
    s->accept_resume_ms = s->now_ms + BP__HTTP_ACCEPT_PAUSE_MS;
}

static void resume_accept(bp_http_server *s)
{
    if (s->lfd >= 0 && epoll_add(s->ep, s->lfd, &s->tag_listen) == 0)
        s->accept_paused = 0;
    else
        s->accept_resume_ms = s->now_ms + BP__HTTP_ACCEPT_PAUSE_MS;
}

/* Out of descriptors: free the spare one, accept and close a waiting client, take the spare back. */
static int shed_one(bp_http_server *s)
{
    if (s->spare_fd < 0)
        return 0;
    close(s->spare_fd);
    int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0)
        close(fd);
    s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return fd >= 0;
}

/* A connection is waiting to be accepted (poll needs no descriptor of its own). */
static int client_waiting(const bp_http_server *s)
{
    struct pollfd p = { .fd = s->lfd, .events = POLLIN };
    return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

/* A free connection slot; at the cap one is freed by eviction; NULL when every slot is answering. */
static bp__http_conn *take_slot(bp_http_server *s)
{
    if (!s->free_slots && s->slots_used >= s->max_conns && !bp__http_evict_one(s))
        return NULL;
    bp__http_conn *c = s->free_slots;
    if (c) {
        s->free_slots = c->free_next;
        return c;
    }
    return s->slots_used < s->max_conns ? &s->slots[s->slots_used++] : NULL;
}

static void accept_some(bp_http_server *s)
{
    int evicted_for_fd = 0; /* one eviction per EMFILE: if the accept still fails, shed instead */
    for (int i = 0; i < BP__HTTP_ACCEPTS_PER_TURN && s->lfd >= 0; i++) {
        int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            switch (errno) {
            case EAGAIN:
                return;
            case EINTR: case ECONNABORTED: case EPROTO: case ENETDOWN: case ENOPROTOOPT: case EHOSTDOWN:
            case ENONET: case EHOSTUNREACH: case EOPNOTSUPP: case ENETUNREACH: case EPERM:
                continue; /* that client's problem, not ours */
            case EMFILE: case ENFILE:
                if (!client_waiting(s)) /* accept says EMFILE even when nobody waits: evict nobody for nobody */
                    return;
                if (!evicted_for_fd && bp__http_evict_one(s)) { /* a descriptor is free again: accept it */
                    evicted_for_fd = 1;
                    i--;
                    continue;
                }
                if (shed_one(s))
                    continue;
                pause_accept(s);
                return;
            default: /* ENOBUFS, ENOMEM, ...: back off instead of spinning */
                pause_accept(s);
                return;
            }
        }
        evicted_for_fd = 0;
        bp__http_conn *c = take_slot(s);
        if (!c) { /* every slot is writing an answer: close, never a 503 (that would say "unhealthy") */
            close(fd);
            continue;
        }
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (bp__http_conn_open(s, c, fd) != 0) {
            close(fd);
            c->fd = -1;
            c->free_next = s->free_slots;
            s->free_slots = c;
        }
    }
}

static void close_all(bp_http_server *s)
{
    for (int i = 0; s->slots && i < s->slots_used; i++)
        if (s->slots[i].state != BP__C_FREE)
            bp__http_conn_close(s, &s->slots[i]);
}

static void begin_stop(bp_http_server *s)
{
    s->stopping = 1;
    s->stop_deadline_ms = s->now_ms + BP_HTTP_STOP_GRACE_MS;
    if (s->lfd >= 0) {
        if (!s->accept_paused)
            (void)epoll_ctl(s->ep, EPOLL_CTL_DEL, s->lfd, NULL);
        close(s->lfd);
        s->lfd = -1;
    }
    for (int i = 0; i < s->slots_used; i++)
        if (s->slots[i].state != BP__C_FREE)
            bp__http_conn_stop(s, &s->slots[i]);
}

static void expire(bp_http_server *s, bp__http_tq *q)
{
    while (q->head && q->head->deadline_ms <= s->now_ms)
        bp__http_conn_close(s, q->head);
}

/* Connections that stopped for fairness with work left: one more turn each. */
static void run_ready(bp_http_server *s)
{
    int n = 0;
    for (bp__http_conn *c = s->ready_head; c; c = c->rnext)
        n++;
    while (n-- > 0 && s->ready_head)
        bp__http_conn_run(s, s->ready_head);
}

static void earliest(int64_t *t, int64_t when)
{
    if (*t < 0 || when < *t)
        *t = when;
}

/* epoll_wait's timeout: until the next deadline, 0 with ready work, -1 for none. */
static int wait_ms(const bp_http_server *s)
{
    if (s->ready_head)
        return 0;
    int64_t t = -1;
    if (s->head_q.head)
        earliest(&t, s->head_q.head->deadline_ms);
    if (s->idle_q.head)
        earliest(&t, s->idle_q.head->deadline_ms);
    if (s->write_q.head)
        earliest(&t, s->write_q.head->deadline_ms);
    if (s->linger_q.head)
        earliest(&t, s->linger_q.head->deadline_ms);
    if (s->accept_paused)
        earliest(&t, s->accept_resume_ms);
    if (s->stopping)
        earliest(&t, s->stop_deadline_ms);
    if (t < 0)
        return -1;
    int64_t d = t - s->now_ms;
    if (d <= 0)
        return 0;
    return d > 60000 ? 60000 : (int)d + 1; /* +1: bp_now_ms truncates, never wake just before */
}

int bp_http_run(bp_http_server *s)
{
    struct epoll_event ev[64];
    int rc = 0;
    if (!s || s->ran)
        return BP_EUSAGE;
    s->ran = 1;
    for (;;) {
        s->now_ms = bp_now_ms();
        int n = epoll_wait(s->ep, ev, (int)(sizeof ev / sizeof ev[0]), wait_ms(s));
        if (n < 0 && errno != EINTR) {
            rc = BP_EIO;
            break;
        }
        s->now_ms = bp_now_ms();
        int can_accept = 0;
        for (int i = 0; i < n; i++) {
            void *tag = ev[i].data.ptr;
            if (tag == &s->tag_listen) {
                can_accept = 1;
            } else if (tag == &s->tag_event) {
                uint64_t v;
                (void)!read(s->evfd, &v, sizeof v);
                s->stop_seen = 1;
            } else {
                bp__http_conn_event(s, tag, ev[i].events);
            }
        }
        run_ready(s);
        if (s->stop_seen && !s->stopping)
            begin_stop(s);
        if (can_accept && !s->stopping)
            accept_some(s);
        expire(s, &s->head_q);
        expire(s, &s->idle_q);
        expire(s, &s->write_q);
        expire(s, &s->linger_q);
        if (s->accept_paused && !s->stopping && s->now_ms >= s->accept_resume_ms)
            resume_accept(s);
        if (s->stopping && (s->nconns == 0 || s->now_ms >= s->stop_deadline_ms))
            break;
    }
    close_all(s);
    return rc;
}

void bp_http_free(bp_http_server *s)
{
    if (!s)
        return;
    close_all(s);
    bp__http_pool_free(s);
    free(s->slots);
    bp__http_tls_free(s->tls);
    if (s->lfd >= 0)
        close(s->lfd);
    if (s->ep >= 0)
        close(s->ep);
    if (s->evfd >= 0)
        close(s->evfd);
    if (s->spare_fd >= 0)
        close(s->spare_fd);
    free(s);
}
