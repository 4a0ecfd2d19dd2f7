/* io.c: one read and one gathered write on a connection, plain TCP or TLS, never raising SIGPIPE. */
#include "http/server_int.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "beamprobe.h"

/*
 * Both return > 0 for bytes moved; 0 with *want = EPOLLIN or EPOLLOUT when
 * the call would block (retry after that event); 0 with *want = 0 (read only)
 * at the end of the stream; BP_EIO when the connection is broken.
 *
 * A plain read that got fewer bytes than asked also sets *want = EPOLLIN: the
 * socket is drained, and edge-triggered epoll reports the next arrival, so the
 * read that would only say EAGAIN is skipped. Not after EPOLLRDHUP (the end of
 * stream must still be read) and not for TLS (OpenSSL may hold decrypted bytes).
 */
ssize_t bp__http_io_read(bp__http_conn *c, char *p, size_t n, uint32_t *want)
{
    *want = 0;
    if (c->ssl)
        return bp__http_tls_read(c->ssl, p, n, want);
    for (;;) {
        ssize_t r = recv(c->fd, p, n, 0);
        if (r > 0) {
            if ((size_t)r < n && !c->rdhup)
                *want = EPOLLIN;
            return r;
        }
        if (r == 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            *want = EPOLLIN;
            return 0;
        }
        return BP_EIO;
    }
}

/*
 * TLS has no gathered write. An answer that fits one TLS record is copied
 * together and sent as one record; bigger ones go piece by piece. After a
 * block the caller retries with the same iov, so OpenSSL sees the same bytes
 * again (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER allows the new address).
 */
static ssize_t tls_writev(bp__http_conn *c, const struct iovec *iov, int n, uint32_t *want)
{
    char stage[16384];
    size_t all = 0;
    for (int i = 0; i < n; i++)
        all += iov[i].iov_len;
    if (n > 1 && all <= sizeof stage) {
        size_t o = 0;
        for (int i = 0; i < n; i++) {
            memcpy(stage + o, iov[i].iov_base, iov[i].iov_len);
            o += iov[i].iov_len;
        }
        return bp__http_tls_write(c->ssl, stage, all, want);
    }
    ssize_t total = 0;
    for (int i = 0; i < n; i++) {
        const char *p = iov[i].iov_base;
        size_t left = iov[i].iov_len;
        while (left > 0) {
            ssize_t w = bp__http_tls_write(c->ssl, p, left, want);
            if (w < 0)
                return w;
            if (w == 0)
                return total;
            p += w;
            left -= (size_t)w;
            total += w;
        }
    }
    return total;
}

ssize_t bp__http_io_writev(bp__http_conn *c, const struct iovec *iov, int n, uint32_t *want)
{
    *want = 0;
    if (c->ssl)
        return tls_writev(c, iov, n, want);
    struct msghdr mh = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n };
    for (;;) {
        ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
        if (w >= 0)
            return w;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            *want = EPOLLOUT;
            return 0;
        }
        return BP_EIO;
    }
}
