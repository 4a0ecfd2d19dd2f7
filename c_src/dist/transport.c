/* transport.c: ei socket callbacks (TCP or TLS, IPv4 or IPv6, deadline-bounded) that record handshake progress. */
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

#include "beamprobe.h"
#include "core/clock.h"
#include "dist/challenge.h"

void bp__transport_init(bp__transport *t, int64_t deadline_ms, const bp__addr *addr, bp__tls_client *tls,
                        const char *tls_host)
{
    memset(t, 0, sizeof *t);
    t->fd = -1;
    t->deadline_ms = deadline_ms;
    t->addr = *addr;
    t->tls = tls;
    t->tls_host = tls_host;
    t->rtt_us = -1;
}


/* The earlier of our deadline and ei's per-step timeout. */
static int64_t step_deadline(const bp__transport *t, unsigned tmo)
{
    int64_t until = t->deadline_ms;
    if (tmo != EI_SCLBK_INF_TMO && bp_now_ms() + (int64_t)tmo < until)
        until = bp_now_ms() + (int64_t)tmo;
    return until;
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
    t->fd = socket(t->addr.ss.ss_family ? t->addr.ss.ss_family : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
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
    bp__tls_close(t->ssl);
    t->ssl = NULL;
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

/* The TLS handshake right after the TCP connect: the node's dist port speaks TLS from the first byte. */
static int tls_start(bp__transport *t)
{
    t->tls_fail = bp__tls_client_connect(t->tls, t->fd, t->tls_host, t->deadline_ms, &t->ssl, t->tls_why,
                                         sizeof t->tls_why);
    if (t->tls_fail == BP_TLS_OK)
        return 0;
    if (t->tls_fail == BP_TLS_TIMEOUT)
        t->timed_out = 1;
    return t->tls_fail == BP_TLS_TIMEOUT ? ETIMEDOUT : ECONNABORTED;
}

/* ei's addr is ignored (it is IPv4 only): the port is taken from it, the address from t->addr. */
static int tr_connect(void *ctx, void *addr, int len, unsigned tmo)
{
    bp__transport *t = ctx;
    if (len < (int)sizeof(struct sockaddr_in))
        return EINVAL;
    bp__addr to = t->addr;
    bp__addr_set_port(&to, ntohs(((const struct sockaddr_in *)addr)->sin_port));
    int64_t t0 = bp_now_us();
    if (connect(t->fd, (const struct sockaddr *)&to.ss, to.len) != 0) {
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
    }
    t->connected = 1;
    t->rtt_us = bp_now_us() - t0;
    return t->tls ? tls_start(t) : 0;
}

/* A TLS read or write result as ei wants it: 0 with *len, or an errno. */
static int tls_result(bp__transport *t, ssize_t n, ssize_t *len)
{
    if (n >= 0) {
        *len = n;
        if (n == 0)
            t->eof = 1;
        return 0;
    }
    if (n == -2) {
        t->timed_out = 1;
        return ETIMEDOUT;
    }
    return EIO;
}

static int tr_writev(void *ctx, const void *iov, int iovcnt, ssize_t *len, unsigned tmo)
{
    bp__transport *t = ctx;
    if (t->ssl) { /* each piece in turn: OpenSSL has no gathered write */
        const struct iovec *v = iov;
        ssize_t total = 0;
        for (int i = 0; i < iovcnt; i++) {
            ssize_t n = bp__tls_write(t->ssl, t->fd, v[i].iov_base, v[i].iov_len, step_deadline(t, tmo), t->tls_why,
                                      sizeof t->tls_why);
            if (n < 0) {
                if (n == -1)
                    t->tls_fail = BP_TLS_FAILED;
                return tls_result(t, n, len);
            }
            total += n;
        }
        *len = total;
        t->writes++;
        return 0;
    }
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

/* Keep what answered our name (status and challenge) for the error messages and the node's name. */
static void keep_status(bp__transport *t, const char *buf, ssize_t n)
{
    if (t->writes == 1 && n > 0) {
        size_t room = sizeof t->hs - (size_t)t->hs_len;
        size_t k = (size_t)n < room ? (size_t)n : room;
        memcpy(t->hs + t->hs_len, buf, k);
        t->hs_len += (int)k;
    }
}

static int tr_read(void *ctx, char *buf, ssize_t *len, unsigned tmo)
{
    bp__transport *t = ctx;
    if (t->ssl) {
        ssize_t n = bp__tls_read(t->ssl, t->fd, buf, (size_t)*len, step_deadline(t, tmo), bp__tls_client_has_cert(t->tls),
                                 &t->tls_fail, t->tls_why, sizeof t->tls_why);
        int rc = tls_result(t, n, len);
        if (rc == 0)
            keep_status(t, buf, n);
        return rc;
    }
    for (;;) {
        ssize_t n = recv(t->fd, buf, (size_t)*len, 0);
        if (n >= 0) {
            *len = n;
            if (n == 0)
                t->eof = 1;
            keep_status(t, buf, n);
            return 0;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return t->sys_errno = errno;
        int rc = tr_wait(t, POLLIN, tmo);
        if (rc)
            return rc;
    }
}

/* Handshake packets carry a 2-byte length over TCP, a 4-byte one over TLS (inet_tls_dist's {packet, 4}). */
static int header_size(const bp__transport *t)
{
    return t->tls ? 4 : 2;
}

static int tr_header_size(void *ctx, int *sz)
{
    *sz = header_size(ctx);
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
    size_t h = (size_t)header_size(t);
    if ((size_t)t->hs_len < h + 1)
        return;
    size_t n = 0;
    for (size_t i = 0; i < h; i++)
        n = (n << 8) | t->hs[i];
    size_t have = (size_t)t->hs_len - h;
    if (n > have)
        n = have;
    if (n < 1 || t->hs[h] != 's')
        return;
    /* status text is after the 's' tag; keep printable characters only */
    size_t o = 0;
    for (size_t i = 1; i < n && o + 1 < outlen; i++) {
        unsigned char c = t->hs[h + i];
        if (c < 0x20 || c > 0x7e)
            break;
        out[o++] = (char)c;
    }
    out[o] = '\0';
}

int bp__transport_peer_name(const bp__transport *t, char *out, size_t outlen)
{
    return bp__challenge_name(t->hs, (size_t)t->hs_len, (size_t)header_size(t), out, outlen);
}

/* ---------- the session's stream, after the handshake ---------- */

int bp__transport_read_some(bp__transport *t, void *buf, size_t n, int64_t deadline_ms, size_t *got)
{
    if (!t->ssl)
        return bp__read_some(t->fd, buf, n, deadline_ms, got);
    ssize_t r = bp__tls_read(t->ssl, t->fd, buf, n, deadline_ms, 1, &t->tls_fail, t->tls_why, sizeof t->tls_why);
    *got = r > 0 ? (size_t)r : 0;
    return r > 0 ? 0 : r == -2 ? BP_ETIMEDOUT : BP_EIO;
}

int bp__transport_read_full(bp__transport *t, void *buf, size_t n, int64_t deadline_ms)
{
    if (!t->ssl)
        return bp__read_full(t->fd, buf, n, deadline_ms, NULL);
    for (size_t done = 0, got = 0; done < n; done += got) {
        int rc = bp__transport_read_some(t, (char *)buf + done, n - done, deadline_ms, &got);
        if (rc)
            return rc;
    }
    return 0;
}

int bp__transport_write_full(bp__transport *t, const void *buf, size_t n, int64_t deadline_ms)
{
    if (!t->ssl)
        return bp__write_full(t->fd, buf, n, deadline_ms);
    ssize_t w = bp__tls_write(t->ssl, t->fd, buf, n, deadline_ms, t->tls_why, sizeof t->tls_why);
    return w == (ssize_t)n ? 0 : w == -2 ? BP_ETIMEDOUT : BP_EIO;
}

int bp__transport_wait_readable(bp__transport *t, int64_t deadline_ms)
{
    if (bp__tls_pending(t->ssl) > 0)
        return 0;
    return bp__wait_fd(t->fd, POLLIN, deadline_ms);
}
