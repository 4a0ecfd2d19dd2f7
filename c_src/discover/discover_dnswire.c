/* discover_dnswire.c: a small DNS client (A and PTR over UDP, TCP when truncated) for a given server, under a deadline. */
#include "discover/discover.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "dist/net.h"

#define DNS_HDR 12
#define DNS_CLASS_IN 1
#define DNS_TYPE_OPT 41
#define DNS_EDNS_PAYLOAD 4096
#define DNS_MAX_MSG 65535
#define DNS_FIRST_RETRY_MS 250 /* retransmission interval, doubled after each try */
#define DNS_CHAIN_MAX 8        /* CNAME hops followed */

static uint16_t get16(const unsigned char *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)(v & 0xff);
}

/* ---------- server address ---------- */

static int parse_port(const char *s, unsigned *port)
{
    char *end;
    if (!*s || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v == 0 || v > 65535)
        return -1;
    *port = (unsigned)v;
    return 0;
}

int bp__dns_parse_server(const char *s, struct sockaddr_storage *sa, socklen_t *salen)
{
    char host[64];
    const char *portstr = NULL;
    unsigned port = 53;
    memset(sa, 0, sizeof *sa);
    if (!s || !*s)
        return BP_EUSAGE;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || (size_t)(close - s - 1) >= sizeof host)
            return BP_EUSAGE;
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = '\0';
        if (close[1] == ':')
            portstr = close + 2;
        else if (close[1])
            return BP_EUSAGE;
    } else {
        const char *colon = strchr(s, ':');
        if (colon && strchr(colon + 1, ':')) { /* bare IPv6 literal, no port */
            colon = NULL;
        }
        size_t hl = colon ? (size_t)(colon - s) : strlen(s);
        if (hl >= sizeof host)
            return BP_EUSAGE;
        memcpy(host, s, hl);
        host[hl] = '\0';
        if (colon)
            portstr = colon + 1;
    }
    if (portstr && parse_port(portstr, &port) < 0)
        return BP_EUSAGE;
    struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)sa;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)sa;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *salen = sizeof *v4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *salen = sizeof *v6;
        return 0;
    }
    return BP_EUSAGE;
}

static void server_text(const struct sockaddr_storage *sa, char *buf, size_t buflen)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)(const void *)sa;
        inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof ip);
        snprintf(buf, buflen, "[%s]:%u", ip, (unsigned)ntohs(v6->sin6_port));
    } else {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof ip);
        snprintf(buf, buflen, "%s:%u", ip, (unsigned)ntohs(v4->sin_port));
    }
}

/* ---------- wire format ---------- */

size_t bp__dns_encode_query(uint16_t id, const char *name, int qtype, unsigned char *buf, size_t buflen)
{
    size_t nl = strlen(name);
    if (nl > 0 && name[nl - 1] == '.')
        nl--;
    if (nl == 0 || nl > 253 || buflen < DNS_HDR + nl + 2 + 4 + 11)
        return 0;
    memset(buf, 0, DNS_HDR);
    put16(buf, id);
    put16(buf + 2, 0x0100); /* RD */
    put16(buf + 4, 1);      /* QDCOUNT */
    put16(buf + 10, 1);     /* ARCOUNT: the OPT record */
    size_t o = DNS_HDR, start = 0;
    for (size_t i = 0; i <= nl; i++) {
        if (i == nl || name[i] == '.') {
            size_t ll = i - start;
            if (ll == 0 || ll > 63)
                return 0;
            buf[o++] = (unsigned char)ll;
            memcpy(buf + o, name + start, ll);
            o += ll;
            start = i + 1;
        }
    }
    buf[o++] = 0;
    put16(buf + o, (unsigned)qtype);
    put16(buf + o + 2, DNS_CLASS_IN);
    o += 4;
    /* OPT: root name, type 41, class = UDP payload size, TTL 0, no options. */
    buf[o++] = 0;
    put16(buf + o, DNS_TYPE_OPT);
    put16(buf + o + 2, DNS_EDNS_PAYLOAD);
    memset(buf + o + 4, 0, 6);
    o += 10;
    return o;
}

/*
 * Read a possibly compressed name at *off into out (dotted, no trailing dot,
 * "" for the root); *off moves past it. Pointers must point backwards
 * (no loops). Labels with '.', NUL or blanks are refused. 0 or -1.
 */
static int read_name(const unsigned char *msg, size_t len, size_t *off, char *out, size_t outlen)
{
    size_t p = *off, o = 0, end = 0;
    int jumped = 0, hops = 0;
    for (;;) {
        if (p >= len)
            return -1;
        unsigned c = msg[p];
        if (c == 0) {
            if (!jumped)
                end = p + 1;
            break;
        }
        if ((c & 0xc0) == 0xc0) {
            if (p + 1 >= len || ++hops > 64)
                return -1;
            size_t target = ((c & 0x3f) << 8) | msg[p + 1];
            if (target >= p)
                return -1;
            if (!jumped)
                end = p + 2;
            jumped = 1;
            p = target;
            continue;
        }
        if (c & 0xc0)
            return -1; /* extended label types: not used in answers */
        if (p + 1 + c > len)
            return -1;
        if (o + c + 2 > outlen)
            return -1;
        if (o > 0)
            out[o++] = '.';
        for (size_t i = 0; i < c; i++) {
            unsigned char ch = msg[p + 1 + i];
            if (ch == '.' || ch <= ' ' || ch >= 0x7f)
                return -1;
            out[o++] = (char)ch;
        }
        p += 1 + c;
    }
    if (outlen == 0)
        return -1;
    out[o] = '\0';
    *off = end;
    return 0;
}

/* Case-insensitive name equality, ignoring one trailing dot on either side. */
static int name_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la && a[la - 1] == '.')
        la--;
    if (lb && b[lb - 1] == '.')
        lb--;
    return la == lb && strncasecmp(a, b, la) == 0;
}

typedef struct {
    char name[256];
    int type, klass;
    size_t rdoff, rdlen;
} dns_rr;

/* Parse the resource record at *off. 0 or -1. */
static int read_rr(const unsigned char *msg, size_t len, size_t *off, dns_rr *rr)
{
    if (read_name(msg, len, off, rr->name, sizeof rr->name) < 0 || *off + 10 > len)
        return -1;
    rr->type = get16(msg + *off);
    rr->klass = get16(msg + *off + 2);
    rr->rdlen = get16(msg + *off + 8);
    rr->rdoff = *off + 10;
    if (rr->rdoff + rr->rdlen > len)
        return -1;
    *off = rr->rdoff + rr->rdlen;
    return 0;
}

int bp__dns_decode_reply(const unsigned char *msg, size_t len, uint16_t id, const char *name, int qtype,
                         struct in_addr *addrs, size_t max, size_t *count, char *ptr, size_t ptrlen, int *rcode)
{
    int dummy;
    if (!rcode)
        rcode = &dummy;
    *rcode = 0;
    *count = 0;
    if (ptr && ptrlen)
        ptr[0] = '\0';
    if (len < DNS_HDR || get16(msg) != id)
        return BP_EDECODE;
    unsigned flags = get16(msg + 2);
    if (!(flags & 0x8000) || ((flags >> 11) & 0xf) != 0)
        return BP_EDECODE; /* not a response, or not a standard query */
    if (flags & 0x0200)
        return 1; /* truncated: ask again over TCP */
    *rcode = (int)(flags & 0xf);
    unsigned qd = get16(msg + 4), an = get16(msg + 6);
    if (qd != 1)
        return BP_EDECODE;
    size_t off = DNS_HDR;
    char qname[256];
    if (read_name(msg, len, &off, qname, sizeof qname) < 0 || off + 4 > len)
        return BP_EDECODE;
    if (!name_eq(qname, name) || get16(msg + off) != qtype || get16(msg + off + 2) != DNS_CLASS_IN)
        return BP_EDECODE;
    off += 4;
    if (*rcode != 0)
        return BP_ERESOLVE;

    /* Answers are read twice: first the CNAME chain from the query name, then its data. */
    char chain[DNS_CHAIN_MAX + 1][256];
    size_t nchain = 1;
    snprintf(chain[0], sizeof chain[0], "%s", name);
    size_t ans_off = off;
    for (int pass = 0; pass <= DNS_CHAIN_MAX; pass++) {
        size_t before = nchain;
        off = ans_off;
        for (unsigned i = 0; i < an; i++) {
            dns_rr rr;
            if (read_rr(msg, len, &off, &rr) < 0)
                return BP_EDECODE;
            if (rr.type != BP_DNS_TYPE_CNAME || rr.klass != DNS_CLASS_IN || nchain > DNS_CHAIN_MAX)
                continue;
            if (!name_eq(rr.name, chain[nchain - 1]))
                continue;
            size_t t = rr.rdoff;
            if (read_name(msg, len, &t, chain[nchain], sizeof chain[nchain]) < 0)
                return BP_EDECODE;
            nchain++;
        }
        if (nchain == before)
            break;
    }
    off = ans_off;
    for (unsigned i = 0; i < an; i++) {
        dns_rr rr;
        if (read_rr(msg, len, &off, &rr) < 0)
            return BP_EDECODE;
        if (rr.klass != DNS_CLASS_IN || rr.type != qtype)
            continue;
        int owned = 0;
        for (size_t c = 0; c < nchain && !owned; c++)
            owned = name_eq(rr.name, chain[c]);
        if (!owned)
            continue;
        if (qtype == BP_DNS_TYPE_A) {
            if (rr.rdlen != 4)
                return BP_EDECODE;
            struct in_addr a;
            memcpy(&a.s_addr, msg + rr.rdoff, 4);
            int dup = 0;
            for (size_t k = 0; k < *count && !dup; k++)
                dup = addrs[k].s_addr == a.s_addr;
            if (!dup && *count < max)
                addrs[(*count)++] = a;
        } else if (qtype == BP_DNS_TYPE_PTR && *count == 0 && ptr) {
            size_t t = rr.rdoff;
            char target[256];
            if (read_name(msg, len, &t, target, sizeof target) < 0 || t != rr.rdoff + rr.rdlen)
                return BP_EDECODE;
            if (target[0] != '\0' && (size_t)snprintf(ptr, ptrlen, "%s", target) < ptrlen)
                *count = 1; /* a PTR to the root names nothing: a later record may */
        }
    }
    return 0;
}

/* ---------- transport ---------- */

typedef struct {
    uint16_t id;
    int qtype;
    char qname[256];
    int state;        /* 0 waiting, 1 answered, 2 truncated (needs TCP) */
    int rc, rcode;
    struct in_addr *addrs;
    size_t max, count;
    char ptr[256];
} dns_query;

static uint16_t random_id(void)
{
    uint16_t v;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        v = (uint16_t)(ts.tv_nsec ^ (ts.tv_nsec >> 16) ^ getpid());
    }
    return v;
}

static void take_reply(dns_query *qs, size_t n, const unsigned char *msg, size_t len)
{
    if (len < 2)
        return;
    uint16_t id = get16(msg);
    for (size_t i = 0; i < n; i++) {
        dns_query *q = &qs[i];
        if (q->id != id || q->state != 0)
            continue;
        int rc = bp__dns_decode_reply(msg, len, q->id, q->qname, q->qtype, q->addrs, q->max, &q->count, q->ptr,
                                      sizeof q->ptr, &q->rcode);
        if (rc == BP_EDECODE && (len < DNS_HDR || !(get16(msg + 2) & 0x8000)))
            return; /* not even a response: ignore it, keep waiting */
        q->state = rc == 1 ? 2 : 1;
        q->rc = rc == 1 ? 0 : rc;
        return;
    }
}

/* Connect a non-blocking TCP socket to sa under the deadline. 0, BP_ETIMEDOUT or BP_ECONNECT. */
static int tcp_connect_any(const struct sockaddr_storage *sa, socklen_t salen, int64_t deadline_ms, int *fd)
{
    *fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (*fd < 0)
        return BP_ECONNECT;
    if (connect(*fd, (const struct sockaddr *)sa, salen) == 0)
        return 0;
    if (errno != EINPROGRESS)
        return BP_ECONNECT;
    int rc = bp__wait_fd(*fd, POLLOUT, deadline_ms);
    if (rc == BP_ETIMEDOUT)
        return rc;
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (rc || getsockopt(*fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr)
        return BP_ECONNECT;
    return 0;
}

/* One query over TCP (after a truncated UDP reply). */
static int tcp_exchange(const struct sockaddr_storage *sa, socklen_t salen, dns_query *q, int64_t deadline_ms)
{
    unsigned char req[2 + 512];
    unsigned char *msg = NULL;
    int fd = -1;
    size_t ql = bp__dns_encode_query(q->id, q->qname, q->qtype, req + 2, sizeof req - 2);
    int rc = ql ? 0 : BP_EUSAGE;
    if (rc)
        goto out;
    put16(req, (unsigned)ql);
    rc = tcp_connect_any(sa, salen, deadline_ms, &fd);
    if (rc == 0)
        rc = bp__write_full(fd, req, ql + 2, deadline_ms);
    unsigned char lenb[2];
    if (rc == 0)
        rc = bp__read_full(fd, lenb, 2, deadline_ms, NULL);
    if (rc)
        goto out;
    size_t ml = get16(lenb);
    msg = malloc(ml ? ml : 1);
    if (!msg) {
        rc = BP_ENOMEM;
        goto out;
    }
    rc = bp__read_full(fd, msg, ml, deadline_ms, NULL);
    if (rc)
        goto out;
    rc = bp__dns_decode_reply(msg, ml, q->id, q->qname, q->qtype, q->addrs, q->max, &q->count, q->ptr,
                              sizeof q->ptr, &q->rcode);
    if (rc == 1)
        rc = BP_EDECODE; /* truncated over TCP: nonsense */
    q->state = 1;
    q->rc = rc;
    rc = 0;
out:
    if (rc == BP_EIO)
        rc = BP_ECONNECT;
    free(msg);
    if (fd >= 0)
        close(fd);
    return rc;
}

/*
 * Send every query over one connected UDP socket, retransmitting unanswered
 * ones (250 ms, then doubling) until all are answered or the deadline; then
 * truncated ones over TCP. 0 (each query has its own rc) or BP_ETIMEDOUT,
 * BP_ECONNECT, BP_ENOMEM for the whole batch.
 */
static int exchange(const struct sockaddr_storage *sa, socklen_t salen, dns_query *qs, size_t n, int64_t deadline_ms)
{
    unsigned char *buf = malloc(DNS_MAX_MSG);
    int fd = -1, rc = 0;
    if (!buf) {
        rc = BP_ENOMEM;
        goto out;
    }
    fd = socket(sa->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (const struct sockaddr *)sa, salen) < 0) {
        rc = BP_ECONNECT;
        goto out;
    }
    int interval = DNS_FIRST_RETRY_MS;
    for (;;) {
        size_t waiting = 0;
        for (size_t i = 0; i < n; i++) {
            if (qs[i].state != 0)
                continue;
            waiting++;
            size_t ql = bp__dns_encode_query(qs[i].id, qs[i].qname, qs[i].qtype, buf, 512);
            if (ql == 0) {
                qs[i].state = 1;
                qs[i].rc = BP_EUSAGE;
                continue;
            }
            if (send(fd, buf, ql, MSG_NOSIGNAL) < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                rc = errno == ECONNREFUSED ? BP_ECONNECT : BP_EIO;
                goto out;
            }
        }
        if (waiting == 0)
            break;
        int64_t now = bp_now_ms();
        if (now >= deadline_ms) {
            rc = BP_ETIMEDOUT;
            goto out;
        }
        int64_t resend_at = now + interval < deadline_ms ? now + interval : deadline_ms;
        interval *= 2;
        while (waiting > 0) {
            int left = bp_remaining_ms(resend_at);
            struct pollfd p = { .fd = fd, .events = POLLIN };
            int pr = poll(&p, 1, left);
            if (pr < 0 && errno == EINTR)
                continue;
            if (pr < 0) {
                rc = BP_EIO;
                goto out;
            }
            if (pr == 0)
                break; /* retransmit */
            for (;;) {
                ssize_t got = recv(fd, buf, DNS_MAX_MSG, 0);
                if (got < 0) {
                    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                        break;
                    rc = errno == ECONNREFUSED ? BP_ECONNECT : BP_EIO;
                    goto out;
                }
                take_reply(qs, n, buf, (size_t)got);
            }
            waiting = 0;
            for (size_t i = 0; i < n; i++)
                waiting += qs[i].state == 0;
        }
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        if (qs[i].state == 2)
            rc = tcp_exchange(sa, salen, &qs[i], deadline_ms);
out:
    if (rc == BP_EIO)
        rc = BP_ECONNECT;
    free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

static const char *rcode_text(int rcode)
{
    switch (rcode) {
    case 1: return "FORMERR";
    case 2: return "SERVFAIL";
    case 3: return "NXDOMAIN";
    case 4: return "NOTIMP";
    case 5: return "REFUSED";
    default: return "error";
    }
}

static int batch_error(int rc, const char *what, const char *srv, const char *name, char *err, size_t errlen)
{
    if (rc == BP_ETIMEDOUT)
        return bp__disc_err(err, errlen, rc, "no answer from %s for the %s query of %s before the deadline",
                            srv, what, name);
    if (rc == BP_ECONNECT)
        return bp__disc_err(err, errlen, rc, "DNS server %s refused the %s query of %s (nothing listening?)",
                            srv, what, name);
    return bp__disc_err(err, errlen, rc, "%s query of %s to %s failed", what, name, srv);
}

int bp__dns_query_server(const struct sockaddr_storage *server, socklen_t salen, const char *name, int64_t deadline_ms,
                         struct in_addr *addrs, size_t max, size_t *count, char (*ptrs)[256], char *err,
                         size_t errlen)
{
    char srv[80];
    dns_query *qs = NULL;
    server_text(server, srv, sizeof srv);
    *count = 0;
    dns_query a = { .id = random_id(), .qtype = BP_DNS_TYPE_A, .addrs = addrs, .max = max };
    snprintf(a.qname, sizeof a.qname, "%s", name);
    int rc = exchange(server, salen, &a, 1, deadline_ms);
    if (rc) {
        rc = batch_error(rc, "A", srv, name, err, errlen);
        goto out;
    }
    if (a.rc == BP_ERESOLVE) {
        rc = bp__disc_err(err, errlen, BP_ERESOLVE, "%s: %s from %s", name,
                          a.rcode == 3 ? "no such name (NXDOMAIN)" : rcode_text(a.rcode), srv);
        goto out;
    }
    if (a.rc) {
        rc = bp__disc_err(err, errlen, a.rc, "malformed reply from %s for %s", srv, name);
        goto out;
    }
    if (a.count == 0) {
        rc = bp__disc_err(err, errlen, BP_ERESOLVE, "%s has no A (IPv4) record at %s", name, srv);
        goto out;
    }
    *count = a.count;
    if (!ptrs)
        goto out;
    qs = calloc(a.count, sizeof *qs);
    if (!qs) {
        rc = bp__disc_err(err, errlen, BP_ENOMEM, "out of memory");
        goto out;
    }
    uint16_t base = random_id();
    for (size_t i = 0; i < a.count; i++) {
        const unsigned char *b = (const unsigned char *)&addrs[i].s_addr;
        qs[i].id = (uint16_t)(base + i);
        qs[i].qtype = BP_DNS_TYPE_PTR;
        snprintf(qs[i].qname, sizeof qs[i].qname, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1], b[0]);
    }
    rc = exchange(server, salen, qs, a.count, deadline_ms);
    if (rc) {
        rc = batch_error(rc, "PTR", srv, name, err, errlen);
        goto out;
    }
    for (size_t i = 0; i < a.count; i++) {
        if (qs[i].rc == 0 && qs[i].count == 1)
            snprintf(ptrs[i], 256, "%s", qs[i].ptr);
        else
            ptrs[i][0] = '\0'; /* no PTR record (or a bad reply): the caller keeps the address */
    }
out:
    free(qs);
    return rc;
}
