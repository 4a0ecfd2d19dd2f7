/* transport.c: ei socket callbacks (TCP, poll-based, deadline-bounded) that record handshake progress. */
#include "dist/transport.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/clock.h"

void bp__transport_init(bp__transport *t, int64_t deadline_ms)
{
    memset(t, 0, sizeof *t);
    t->fd = -1;
    t->deadline_ms = deadline_ms;
}

/* Wait for `events` on the transport's fd within min(ei's tmo, our deadline). */
static int tr_wait(bp__transport *t, short events, unsigned tmo)
{
    int64_t until = t->deadline_ms;
    if (tmo != EI_SCLBK_INF_TMO) {
        int64_t ei_until = bp_now_ms() + (int64_t)tmo;
        if (ei_until < until)
            until = ei_until;
    }
    for (;;) {
        int left = bp_remaining_ms(until);
        if (left == 0) {
            t->timed_out = 1;
            return ETIMEDOUT;
        }
        struct pollfd p = { .fd = t->fd, .events = events };
        int rc = poll(&p, 1, left);
        if (rc > 0)
            return 0;
        if (rc == 0) {
            t->timed_out = 1;
            return ETIMEDOUT;
        }
        if (errno != EINTR)
            return t->sys_errno = errno;
    }
}

static int tr_socket(void **ctx, void *setup_ctx)
{
    bp__transport *t = setup_ctx;
    t->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (t->fd < 0)
        return t->sys_errno = errno;
    int one = 1;
    (void)setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *ctx = t;
    return 0;
}

static int tr_close(void *ctx)
{
    bp__transport *t = ctx;
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
    return 0;
}

static int tr_listen(void *ctx, void *addr, int *len, int backlog)
{
    (void)ctx, (void)addr, (void)len, (void)backlog;
    return EOPNOTSUPP;
}

static int tr_accept(void **ctx, void *addr, int *len, unsigned tmo)
{
    (void)ctx, (void)addr, (void)len, (void)tmo;
    return EOPNOTSUPP;
}

static int tr_connect(void *ctx, void *addr, int len, unsigned tmo)
{
    bp__transport *t = ctx;
    if (connect(t->fd, addr, (socklen_t)len) == 0) {
        t->connected = 1;
        return 0;
    }
    if (errno != EINPROGRESS)
        return t->sys_errno = errno;
    int rc = tr_wait(t, POLLOUT, tmo);
    if (rc)
        return rc;
    int err = 0;
    socklen_t elen = sizeof err;
    if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
        err = errno;
    if (err)
        return t->sys_errno = err;
    t->connected = 1;
    return 0;
}

static int tr_writev(void *ctx, const void *iov, int iovcnt, ssize_t *len, unsigned tmo)
{
    bp__transport *t = ctx;
    for (;;) {
        ssize_t n = writev(t->fd, iov, iovcnt);
        if (n >= 0) {
            *len = n;
            t->writes++;
            return 0;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return t->sys_errno = errno;
        int rc = tr_wait(t, POLLOUT, tmo);
        if (rc)
            return rc;
    }
}

static int tr_write(void *ctx, const char *buf, ssize_t *len, unsigned tmo)
{
    struct iovec v = { .iov_base = (void *)(uintptr_t)buf, .iov_len = (size_t)*len };
    return tr_writev(ctx, &v, 1, len, tmo);
}

static int tr_read(void *ctx, char *buf, ssize_t *len, unsigned tmo)
{
    bp__transport *t = ctx;
    for (;;) {
        ssize_t n = recv(t->fd, buf, (size_t)*len, 0);
        if (n >= 0) {
            *len = n;
            if (n == 0)
                t->eof = 1;
            if (t->writes == 1 && n > 0) { /* keep what answered our name */
                size_t room = sizeof t->hs - (size_t)t->hs_len;
                size_t k = (size_t)n < room ? (size_t)n : room;
                memcpy(t->hs + t->hs_len, buf, k);
                t->hs_len += (int)k;
            }
            return 0;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return t->sys_errno = errno;
        int rc = tr_wait(t, POLLIN, tmo);
        if (rc)
            return rc;
    }
}

static int tr_header_size(void *ctx, int *sz)
{
    (void)ctx;
    *sz = 2; /* handshake packets carry a 2-byte length */
    return 0;
}

static int tr_handshake_complete(void *ctx)
{
    (void)ctx;
    return 0;
}

static int tr_get_fd(void *ctx, int *fd)
{
    bp__transport *t = ctx;
    if (t->fd < 0)
        return EBADF;
    *fd = t->fd;
    return 0;
}

ei_socket_callbacks bp__transport_callbacks = {
    .flags = EI_SCLBK_FLG_FULL_IMPL,
    .socket = tr_socket,
    .close = tr_close,
    .listen = tr_listen,
    .EI_ACCEPT_NAME = tr_accept,
    .connect = tr_connect,
    .writev = tr_writev,
    .write = tr_write,
    .read = tr_read,
    .handshake_packet_header_size = tr_header_size,
    .connect_handshake_complete = tr_handshake_complete,
    .accept_handshake_complete = tr_handshake_complete,
    .get_fd = tr_get_fd,
};

void bp__transport_status(const bp__transport *t, char *out, size_t outlen)
{
    if (outlen == 0)
        return;
    out[0] = '\0';
    if (t->hs_len < 3)
        return;
    size_t n = ((size_t)t->hs[0] << 8) | t->hs[1];
    size_t have = (size_t)t->hs_len - 2;
    if (n > have)
        n = have;
    if (n < 1 || t->hs[2] != 's')
        return;
    /* status text is after the 's' tag; keep printable characters only */
    size_t o = 0;
    for (size_t i = 1; i < n && o + 1 < outlen; i++) {
        unsigned char c = t->hs[2 + i];
        if (c < 0x20 || c > 0x7e)
            break;
        out[o++] = (char)c;
    }
    out[o] = '\0';
}
