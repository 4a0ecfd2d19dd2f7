/* net.c: non-blocking TCP connect, read and write bounded by an absolute deadline. */
#include "dist/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "beamprobe.h"
#include <string.h>

#include "core/clock.h"

int bp__wait_fd(int fd, short events, int64_t deadline_ms)
{
    for (;;) {
        struct pollfd p = { .fd = fd, .events = events };
        int left = bp_remaining_ms(deadline_ms);
        if (left == 0)
            return BP_ETIMEDOUT;
        int rc = poll(&p, 1, left);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            return BP_EIO;
        }
        if (rc == 0)
            return BP_ETIMEDOUT;
        if (p.revents & (events | POLLERR | POLLHUP))
            return 0; /* the following read/write reports the error */
        if (p.revents & POLLNVAL)
            return BP_EIO;
    }
}

bp__addr bp__addr_ipv4(struct in_addr a)
{
    bp__addr out;
    memset(&out, 0, sizeof out);
    struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&out.ss;
    sin->sin_family = AF_INET;
    sin->sin_addr = a;
    out.len = sizeof *sin;
    return out;
}

void bp__addr_set_port(bp__addr *a, int port)
{
    if (a->ss.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)(void *)&a->ss)->sin6_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in *)(void *)&a->ss)->sin_port = htons((uint16_t)port);
}

void bp__addr_text(const bp__addr *a, char *out, size_t outlen)
{
    const void *raw = a->ss.ss_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)(const void *)&a->ss)->sin6_addr
                                                  : (const void *)&((const struct sockaddr_in *)(const void *)&a->ss)->sin_addr;
    if (!inet_ntop(a->ss.ss_family, raw, out, (socklen_t)outlen) && outlen)
        out[0] = '\0';
}

int bp__tcp_connect(const bp__addr *addr, int port, int64_t deadline_ms, int *fd, int *sys_errno)
{
    int err = 0, rc = BP_ECONNECT;
    int s = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) {
        err = errno;
        goto out;
    }
    int one = 1;
    (void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    bp__addr sa = *addr;
    bp__addr_set_port(&sa, port);
    if (connect(s, (struct sockaddr *)&sa.ss, sa.len) < 0) {
        if (errno != EINPROGRESS) {
            err = errno;
            goto out;
        }
        rc = bp__wait_fd(s, POLLOUT, deadline_ms);
        if (rc != 0)
            goto out;
        socklen_t len = sizeof err;
        if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        if (err) {
            rc = BP_ECONNECT;
            goto out;
        }
    }
    *fd = s;
    s = -1;
    rc = 0;
out:
    if (s >= 0)
        close(s);
    if (sys_errno)
        *sys_errno = err;
    return rc;
}

int bp__write_full(int fd, const void *buf, size_t n, int64_t deadline_ms)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int rc = bp__wait_fd(fd, POLLOUT, deadline_ms);
            if (rc)
                return rc;
            continue;
        }
        return BP_EIO;
    }
    return 0;
}

int bp__read_full(int fd, void *buf, size_t n, int64_t deadline_ms, int *sys_errno)
{
    char *p = buf;
    if (sys_errno)
        *sys_errno = 0;
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        if (r > 0) {
            p += r;
            n -= (size_t)r;
            continue;
        }
        if (r == 0)
            return BP_EIO; /* EOF */
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int rc = bp__wait_fd(fd, POLLIN, deadline_ms);
            if (rc)
                return rc;
            continue;
        }
        if (sys_errno)
            *sys_errno = errno;
        return BP_EIO;
    }
    return 0;
}

int bp__read_some(int fd, void *buf, size_t n, int64_t deadline_ms, size_t *got)
{
    *got = 0;
    for (;;) {
        ssize_t r = recv(fd, buf, n, 0);
        if (r > 0) {
            *got = (size_t)r;
            return 0;
        }
        if (r == 0)
            return BP_EIO;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return BP_EIO;
        int rc = bp__wait_fd(fd, POLLIN, deadline_ms);
        if (rc)
            return rc;
    }
}
