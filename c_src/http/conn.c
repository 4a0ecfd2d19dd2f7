/* conn.c: one connection's state machine: TLS handshake, read, parse, answer in order, close or linger. */
#include "http/server_int.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "beamprobe.h"
#include "core/log.h"

static void close_conn(bp_http_server *s, bp__http_conn *c, int clean_tls)
{
    if (c->buf) {
        if (c->buf->responding)
            bp__http_respond_abort(c);
        bp__http_buf_put(s, c->buf);
        c->buf = NULL;
    }
    if (c->ssl) {
        bp__http_tls_close(c->ssl, clean_tls);
        c->ssl = NULL;
    }
    if (c->fd >= 0)
        close(c->fd); /* also leaves the epoll set: the descriptor is never duplicated */
    c->fd = -1;
    bp__http_tq_remove(c);
    bp__http_ready_remove(s, c);
    c->state = BP__C_FREE;
    c->free_next = s->free_slots;
    s->free_slots = c;
    s->nconns--;
}

void bp__http_conn_close(bp_http_server *s, bp__http_conn *c)
{
    close_conn(s, c, 0);
}

int bp__http_conn_open(bp_http_server *s, bp__http_conn *c, int fd)
{
    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->state = BP__C_OPEN;
    if (s->tls) {
        c->ssl = bp__http_tls_conn(s->tls, fd);
        if (!c->ssl)
            return BP_ENOMEM;
        c->state = BP__C_HANDSHAKE;
    }
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c };
    if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        bp__http_tls_close(c->ssl, 0);
        c->ssl = NULL;
        c->state = BP__C_FREE;
        return BP_EIO;
    }
    s->nconns++;
    bp__http_tq_arm(&s->head_q, c, s->now_ms); /* the first request head (and handshake) is due */
    return 0;
}

/* Read and drop what the client still sends after our last answer, then close. */
static void linger_drain(bp_http_server *s, bp__http_conn *c)
{
    char sink[4096];
    if (c->rd_block)
        return;
    for (;;) {
        ssize_t r = recv(c->fd, sink, sizeof sink, 0);
        if (r > 0) {
            c->lingered += (size_t)r;
            if (c->lingered >= BP__HTTP_LINGER_BYTES)
                break;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->rd_block = EPOLLIN;
            return;
        }
        break; /* EOF or error */
    }
    close_conn(s, c, 0);
}

/*
 * The server closes after an answer. When the client may still be sending
 * (an error answer, unread pipelined bytes, an undrained body), closing at
 * once would make the kernel reset the connection and the client could lose
 * the answer: shut down our side and drain for a bounded time instead.
 */
static void finish_close(bp_http_server *s, bp__http_conn *c)
{
    int unread = c->linger || c->discard || (c->buf && c->buf->off < c->buf->len);
    if (!unread) { /* a clean close: the client asked for it and sent nothing more */
        close_conn(s, c, 1);
        return;
    }
    if (c->ssl) {
        bp__http_tls_close(c->ssl, 1);
        c->ssl = NULL;
    }
    bp__http_buf_put(s, c->buf);
    c->buf = NULL;
    (void)shutdown(c->fd, SHUT_WR);
    c->state = BP__C_LINGER;
    c->lingered = 0;
    c->rd_block = 0;
    bp__http_tq_arm(&s->linger_q, c, s->now_ms);
    linger_drain(s, c);
}

void bp__http_conn_stop(bp_http_server *s, bp__http_conn *c)
{
    if (c->state == BP__C_OPEN && c->buf && c->buf->responding) {
        c->close_after = 1; /* finish this answer, then close */
        return;
    }
    close_conn(s, c, c->state == BP__C_OPEN);
}

void bp__http_conn_event(bp_http_server *s, bp__http_conn *c, uint32_t events)
{
    if (events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
        c->rdhup = 1; /* let the next read or write see the end or the error */
        c->rd_block = 0;
        if (events & (EPOLLERR | EPOLLHUP))
            c->wr_block = 0;
    }
    if (events & c->rd_block)
        c->rd_block = 0;
    if (events & c->wr_block)
        c->wr_block = 0;
    bp__http_conn_run(s, c);
}

/* 1 handshake done, 0 waiting, -1 refused (connection closed). */
static int handshake(bp_http_server *s, bp__http_conn *c)
{
    char why[160];
    uint32_t want;
    if (c->rd_block)
        return 0;
    int rc = bp__http_tls_handshake(c->ssl, &want, why, sizeof why);
    if (rc > 0) {
        c->state = BP__C_OPEN;
        return 1;
    }
    if (rc == 0) {
        c->rd_block = want;
        return 0;
    }
    if (s->access_log)
        bp_log("http", NULL, "TLS handshake failed: %s", why);
    close_conn(s, c, 0);
    return -1;
}

/* Read into the connection's buffer. 0, or -1 when the connection was closed. */
static int read_more(bp_http_server *s, bp__http_conn *c)
{
    bp__http_buf *b = c->buf;
    if (!b) {
        b = c->buf = bp__http_buf_get(s);
        if (!b) {
            close_conn(s, c, 0);
            return -1;
        }
    }
    if (b->off > 0) {
        memmove(b->data, b->data + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
    }
    if (b->len >= s->max_head) { /* cannot happen: the parser answers 431 first */
        close_conn(s, c, 0);
        return -1;
    }
    uint32_t want;
    ssize_t r = bp__http_io_read(c, b->data + b->len, s->max_head - b->len, &want);
    if (r < 0) {
        close_conn(s, c, 0);
        return -1;
    }
    if (r > 0) {
        b->len += (size_t)r;
        if (c->tq == &s->idle_q) /* the next request has begun: its head is due within header_timeout */
            bp__http_tq_arm(&s->head_q, c, s->now_ms);
    } else if (!want)
        c->peer_eof = 1;
    c->rd_block = want;
    return 0;
}

/* Nothing to do until the socket is readable: an empty buffer goes back to the pool. */
static void park(bp_http_server *s, bp__http_conn *c)
{
    bp__http_buf *b = c->buf;
    if (b && !b->responding && b->off == b->len) {
        bp__http_buf_put(s, b);
        c->buf = NULL;
    }
}

void bp__http_conn_run(bp_http_server *s, bp__http_conn *c)
{
    int budget = BP__HTTP_REQS_PER_TURN;
    bp__http_ready_remove(s, c);
    for (;;) {
        if (c->state == BP__C_HANDSHAKE) {
            if (handshake(s, c) <= 0)
                return;
            continue;
        }
        if (c->state == BP__C_LINGER) {
            linger_drain(s, c);
            return;
        }
        if (c->state != BP__C_OPEN)
            return;
        bp__http_buf *b = c->buf;
        if (b && b->responding) {
            if (c->wr_block)
                return;
            int rc = bp__http_respond_flush(c);
            if (rc < 0) {
                close_conn(s, c, 0);
                return;
            }
            if (rc == 0)
                return;
            bp__http_respond_done(s, c);
            if (c->close_after || s->stopping) {
                finish_close(s, c);
                return;
            }
            /* idle keep-alive, unless a pipelined request or a body to drop has already begun */
            bp__http_tq_arm(b->off < b->len || c->discard ? &s->head_q : &s->idle_q, c, s->now_ms);
            if (--budget == 0) {
                bp__http_ready_push(s, c);
                return;
            }
            continue;
        }
        if (b && b->off < b->len) {
            if (c->discard) {
                size_t avail = b->len - b->off;
                size_t k = c->discard < avail ? (size_t)c->discard : avail;
                b->off += k;
                c->discard -= k;
                continue;
            }
            int rc = bp__http_parse(b->data + b->off, b->len - b->off, s->max_head, &b->msg);
            if (rc > 0) {
                bp__http_respond(s, c, (size_t)rc);
                continue;
            }
            if (rc < 0) {
                bp__http_respond_error(s, c, b->msg.status);
                continue;
            }
        }
        if (c->peer_eof) { /* nothing complete left to answer */
            close_conn(s, c, 1);
            return;
        }
        if (c->rd_block) {
            park(s, c);
            return;
        }
        if (read_more(s, c) < 0)
            return;
    }
}
