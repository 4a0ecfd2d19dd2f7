/* net.h: non-blocking TCP connect, read and write bounded by an absolute deadline. */
#ifndef BP_NET_H
#define BP_NET_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An IPv4 or IPv6 address (the port in it is ignored: callers pass one). */
typedef struct {
    struct sockaddr_storage ss;
    socklen_t len;
} bp__addr;

/* The address of an IPv4 address. */
bp__addr bp__addr_ipv4(struct in_addr a);
/* addr with its port set to port (host order). */
void bp__addr_set_port(bp__addr *a, int port);
/* The address as text ("127.0.0.1", "::1") into out. */
void bp__addr_text(const bp__addr *a, char *out, size_t outlen);

/*
 * All functions take an absolute monotonic deadline in ms (core/clock.h) and
 * return 0, BP_ETIMEDOUT, or BP_EIO/BP_ECONNECT with errno-derived detail in
 * *sys_errno when not NULL.
 */

/* Connect a new non-blocking TCP socket to addr:port; *fd owns the socket. */
int bp__tcp_connect(const bp__addr *addr, int port, int64_t deadline_ms, int *fd, int *sys_errno);
/* Write exactly n bytes. */
int bp__write_full(int fd, const void *buf, size_t n, int64_t deadline_ms);
/*
 * Read exactly n bytes. BP_EIO with *sys_errno = 0 means the peer closed the
 * connection cleanly (EOF).
 */
int bp__read_full(int fd, void *buf, size_t n, int64_t deadline_ms, int *sys_errno);
/*
 * Read at least 1 and at most n bytes into buf; *got is the count. BP_EIO with
 * *got == 0 and errno-free EOF when the peer closed.
 */
int bp__read_some(int fd, void *buf, size_t n, int64_t deadline_ms, size_t *got);
/* Wait until fd is readable (POLLIN) or writable (POLLOUT); 0, BP_ETIMEDOUT or BP_EIO. */
int bp__wait_fd(int fd, short events, int64_t deadline_ms);

#endif
