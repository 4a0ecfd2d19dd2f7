/* listen.c: parse a listen address and open a non-blocking listening TCP socket on it. */
#include "http/listen.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "beamprobe.h"

/* Split spec into host (may be empty), port text and port number; 0 or BP_EUSAGE. */
static int split_spec(const char *spec, char *host, size_t hostlen, char *port, size_t portlen, int *num)
{
    const char *h = spec, *p;
    size_t hn;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close || close[1] != ':')
            return BP_EUSAGE;
        h = spec + 1;
        hn = (size_t)(close - h);
        p = close + 2;
        if (hn == 0)
            return BP_EUSAGE;
    } else {
        const char *colon = strrchr(spec, ':');
        if (colon && memchr(spec, ':', (size_t)(colon - spec)))
            return BP_EUSAGE; /* a bare IPv6 address needs brackets */
        hn = colon ? (size_t)(colon - spec) : 0;
        p = colon ? colon + 1 : spec;
    }
    size_t pn = strlen(p);
    if (hn >= hostlen || pn == 0 || pn > 5 || pn >= portlen)
        return BP_EUSAGE;
    long v = 0;
    for (size_t i = 0; i < pn; i++) {
        if (p[i] < '0' || p[i] > '9')
            return BP_EUSAGE;
        v = v * 10 + (p[i] - '0');
    }
    if (v > 65535)
        return BP_EUSAGE;
    memcpy(host, h, hn);
    host[hn] = '\0';
    memcpy(port, p, pn + 1);
    *num = (int)v;
    return 0;
}

/* A listening socket on one address; -1 with errno on failure. */
static int open_on(const struct sockaddr *sa, socklen_t salen, int dual_stack, int backlog)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1, zero = 0;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (dual_stack && sa->sa_family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, sa, salen) < 0 || listen(fd, backlog) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* Every interface: "::" dual-stack, or 0.0.0.0 when the host has no IPv6. */
static int open_any(int port, int backlog)
{
    struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
                               .sin6_addr = IN6ADDR_ANY_INIT };
    int fd = open_on((const struct sockaddr *)&s6, sizeof s6, 1, backlog);
    if (fd >= 0 || (errno != EAFNOSUPPORT && errno != EADDRNOTAVAIL))
        return fd;
    struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr = { .s_addr = htonl(INADDR_ANY) } };
    return open_on((const struct sockaddr *)&s4, sizeof s4, 0, backlog);
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    memset(&ss, 0, sizeof ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    /* copied out rather than read through a cast pointer (no aliasing of the storage) */
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 s6;
        memcpy(&s6, &ss, sizeof s6);
        return ntohs(s6.sin6_port);
    }
    struct sockaddr_in s4;
    memcpy(&s4, &ss, sizeof s4);
    return ntohs(s4.sin_port);
}

int bp__http_listen(const char *spec, int backlog, int *fd, int *port, char *err, size_t errlen)
{
    char host[256], portstr[8];
    struct addrinfo *ai = NULL;
    int rc = BP_EUSAGE, s = -1, e = 0, num = 0;
    if (!spec || split_spec(spec, host, sizeof host, portstr, sizeof portstr, &num) != 0) {
        snprintf(err, errlen, "listen address \"%s\": expected HOST:PORT, [IPV6]:PORT or :PORT",
                 spec ? spec : "");
        goto out;
    }
    if (host[0] == '\0') {
        s = open_any(num, backlog);
        e = errno;
    } else {
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
        int g = getaddrinfo(host, portstr, &hints, &ai);
        if (g != 0) {
            snprintf(err, errlen, "listen address \"%s\": %s", spec, gai_strerror(g));
            goto out;
        }
        for (struct addrinfo *a = ai; a && s < 0; a = a->ai_next) {
            s = open_on(a->ai_addr, a->ai_addrlen, 0, backlog);
            if (s < 0)
                e = errno;
        }
    }
    if (s < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", spec, strerror(e));
        rc = BP_EIO;
        goto out;
    }
    *port = bound_port(s);
    *fd = s;
    s = -1;
    rc = 0;
out:
    if (s >= 0)
        close(s);
    if (ai)
        freeaddrinfo(ai);
    return rc;
}
