/* net.c: non-blocking TCP connect, read and write bounded by an absolute deadline. */
#include "dist/net.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "beamprobe.h"
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

int bp__tcp_connect(const struct in_addr *addr, int port, int64_t deadline_ms, int *fd, int *sys_errno)
{
    int err = 0, rc = BP_ECONNECT;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) {
        err = errno;
        goto out;
    }
    int one = 1;
    (void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = *addr };
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
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
