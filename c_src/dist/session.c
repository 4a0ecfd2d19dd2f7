/* session.c: connect to one node as a hidden C node (resolve, EPMD, ei handshake) and frame its packets. */
#include "dist/session.h"
#include "dist/session_int.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "core/str.h"
#include "dist/epmd.h"
#include "dist/net.h"
#include "dist/resolve.h"
#include "dist/transport.h"

static pthread_once_t ei_once = PTHREAD_ONCE_INIT;
static int ei_init_rc;

static void ei_init_once(void)
{
    ei_init_rc = ei_init();
}

/* Split alive@host; a bare alive name is a node on this host (*local = 1). 0 or -1. */
static int split_node(const char *node, char *alive, size_t alen, char *host, size_t hlen, int *local)
{
    const char *at = strchr(node, '@');
    *local = at == NULL;
    if (*local && *node && strlen(node) < alen) {
        snprintf(alive, alen, "%s", node);
        snprintf(host, hlen, "localhost");
        return 0;
    }
    if (!at || at == node || !at[1] || strchr(at + 1, '@'))
        return -1;
    size_t an = (size_t)(at - node);
    if (an >= alen || strlen(at + 1) >= hlen)
        return -1;
    memcpy(alive, node, an);
    alive[an] = '\0';
    snprintf(host, hlen, "%s", at + 1);
    return 0;
}

/* Our host part: short names get the short host name, long names a dotted one. */
static void derive_host(const char *target_host, const char *given, char *out, size_t outlen)
{
    if (given && *given) {
        snprintf(out, outlen, "%s", given);
        return;
    }
    char h[256] = "localhost";
    if (gethostname(h, sizeof h) != 0)
        snprintf(h, sizeof h, "localhost");
    h[sizeof h - 1] = '\0';
    int ipv6 = strchr(target_host, ':') != NULL; /* an IPv6 literal: a long name */
    int long_names = ipv6 || strchr(target_host, '.') != NULL;
    char *dot = strchr(h, '.');
    if (!long_names) {
        if (dot)
            *dot = '\0';
        snprintf(out, outlen, "%s", h);
    } else {
        /* a long name needs a dot; fall back to the loopback address of the target's family */
        snprintf(out, outlen, "%s", dot ? h : ipv6 ? "::1" : "127.0.0.1");
    }
}

/* "no node named app registered with EPMD on this host (localhost): registered are a, b". */
static void not_registered_here(const bp__addr *addr, const char *alive, int64_t deadline_ms, char *err,
                                size_t errlen)
{
    char names[8][256], list[512] = "";
    size_t n = 0, len = 0;
    if (bp__epmd_names(addr, deadline_ms, names, NULL, 8, &n) != 0)
        n = 0;
    for (size_t i = 0; i < n && len + 1 < sizeof list; i++) {
        if (i)
            len += bp_strlcpy(list + len, ", ", sizeof list - len);
        if (len + 1 < sizeof list)
            len += bp_strlcpy(list + len, names[i], sizeof list - len);
    }
    snprintf(err, errlen, "no node named %s registered with EPMD on this host (localhost): %s%s", alive,
             n ? "registered are " : "none registered", list);
}

static unsigned make_creation(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned v = (unsigned)ts.tv_nsec ^ ((unsigned)getpid() << 8) ^ (unsigned)ts.tv_sec;
    return (v & 0x3fffffffu) | 4u; /* never 0..3, the old-style creations */
}

static int handshake_error(const bp__transport *t, const char *target, const char *self,
                           int timeout_ms, char *err, size_t errlen)
{
    char status[32];
    bp__transport_status(t, status, sizeof status);
    if (t->timed_out) {
        snprintf(err, errlen, "timed out after %d ms waiting for the distribution handshake with %s",
                 timeout_ms, target);
        return BP_ETIMEDOUT;
    }
    if (status[0] && strcmp(status, "ok") != 0 && strncmp(status, "ok_", 3) != 0) {
        if (strcmp(status, "alive") == 0)
            snprintf(err, errlen, "node %s refused the handshake: a node named %s is already connected to it",
                     target, self);
        else if (strcmp(status, "not_allowed") == 0)
            snprintf(err, errlen, "node %s refused the handshake (not_allowed): check short vs long names "
                     "(--cnode-host) and net_kernel:allow/1", target);
        else
            snprintf(err, errlen, "node %s refused the handshake (status '%s')", target, status);
        return BP_EHANDSHAKE;
    }
    if (t->writes >= 2 && (t->eof || t->sys_errno == ECONNRESET)) {
        snprintf(err, errlen, "authentication failed (cookie mismatch) with %s", target);
        return BP_EAUTH;
    }
    /* a TLS node reads our plain name as a broken TLS record: it answers with an alert
       (a record starting 0x15 0x03) or just closes, never with a status */
    if (!t->tls && t->writes == 1 && !status[0]
        && (t->eof || t->sys_errno == ECONNRESET || (t->hs_len >= 2 && t->hs[0] == 0x15 && t->hs[1] == 0x03))) {
        snprintf(err, errlen, "node %s closed the handshake without a status: it probably uses TLS distribution "
                 "(try --dist-tls)", target);
        return BP_EHANDSHAKE;
    }
    /* after our challenge reply the node answered, yet ei refused the answer: its digest of our
       challenge did not match (a node that does not know the cookie, or a tampered handshake) */
    if (t->writes >= 2 && !t->eof && !t->sys_errno) {
        snprintf(err, errlen, "distribution handshake with %s failed: its challenge acknowledgement does not "
                 "match our cookie (a node that does not know the cookie, or something altering the handshake)",
                 target);
        return BP_EAUTH;
    }
    snprintf(err, errlen, "distribution handshake with %s failed%s%s", target,
             t->sys_errno ? ": " : "", t->sys_errno ? strerror(t->sys_errno) : "");
    return BP_EHANDSHAKE;
}

int bp_session_open(const bp_session_opts *o, int64_t deadline_ms, bp_session **out, char *err, size_t errlen)
{
    char alive[256], host[256], self_host[256];
    bp_session *s = NULL;
    int rc;
    *out = NULL;

    pthread_once(&ei_once, ei_init_once);
    if (ei_init_rc != 0) {
        snprintf(err, errlen, "erl_interface initialisation failed");
        return BP_EIO;
    }
    int local = 0;
    if (split_node(o->target, alive, sizeof alive, host, sizeof host, &local) != 0) {
        snprintf(err, errlen, "bad node name '%s' (expected name@host, or a name on this host)", o->target);
        return BP_EUSAGE;
    }
    s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return BP_ENOMEM;
    }
    s->fd = -1;
    s->tr.fd = -1; /* nothing to close until the transport is set up */
    s->max_reply = o->max_reply_bytes > 0 ? o->max_reply_bytes : (int64_t)1 << 20;
    snprintf(s->target, sizeof s->target, "%s", o->target);

    bp__addr addr;
    rc = bp__resolve_addr(host, o->inet6 ? AF_INET6 : AF_UNSPEC, deadline_ms, &addr);
    if (rc == BP_ETIMEDOUT) {
        snprintf(err, errlen, "timed out after %d ms resolving host %s", o->timeout_ms, host);
        goto out;
    }
    if (rc) {
        snprintf(err, errlen, "cannot resolve host %s (of node %s)%s", host, o->target,
                 o->inet6 ? " to an IPv6 address" : "");
        goto out;
    }

    int port = 0;
    const char *epmd_why = NULL;
    rc = bp__epmd_port_please(&addr, alive, deadline_ms, &port, &epmd_why);
    if (rc == BP_ETIMEDOUT) {
        snprintf(err, errlen, "timed out after %d ms waiting for EPMD on %s:%d", o->timeout_ms, host,
                 bp__epmd_port());
        goto out;
    }
    if (rc == BP_ENOTREG) {
        if (local)
            not_registered_here(&addr, alive, deadline_ms, err, errlen);
        else
            snprintf(err, errlen, "node %s not registered with EPMD on %s", o->target, host);
        goto out;
    }
    if (rc) {
        snprintf(err, errlen, "EPMD on %s:%d %s", host, bp__epmd_port(), epmd_why ? epmd_why : "not reachable");
        goto out;
    }

    if (o->tls) {
        rc = bp__tls_client_new(o->tls, &s->tls, err, errlen);
        if (rc)
            goto out;
    }
    derive_host(host, o->cnode_host, self_host, sizeof self_host);
    snprintf(s->self, sizeof s->self, "%s@%s", o->cnode_alive, self_host);
    bp__transport_init(&s->tr, deadline_ms, &addr, s->tls,
                       o->tls && o->tls->server_name && *o->tls->server_name ? o->tls->server_name : host);
    if (ei_connect_xinit_ussi(&s->ec, self_host, o->cnode_alive, s->self, NULL, o->cookie,
                              make_creation(), &bp__transport_callbacks,
                              sizeof bp__transport_callbacks, &s->tr) < 0) {
        snprintf(err, errlen, "cannot initialise C node %s (name or cookie too long?)", s->self);
        rc = BP_EUSAGE;
        goto out;
    }
    int left = bp_remaining_ms(deadline_ms);
    if (left == 0) {
        snprintf(err, errlen, "timed out after %d ms before connecting to %s", o->timeout_ms, o->target);
        rc = BP_ETIMEDOUT;
        goto out;
    }
    /* ei wants an IPv4 address; the transport connects to `addr` itself (IPv6 too) */
    struct in_addr v4 = { htonl(INADDR_LOOPBACK) };
    if (addr.ss.ss_family == AF_INET)
        v4 = ((const struct sockaddr_in *)(const void *)&addr.ss)->sin_addr;
    int fd = ei_xconnect_host_port_tmo(&s->ec, &v4, port, (unsigned)left);
    if (fd < 0) {
        if (s->tr.tls_fail != BP_TLS_OK) {
            rc = s->tr.tls_fail == BP_TLS_TIMEOUT ? BP_ETIMEDOUT : BP_EHANDSHAKE;
            if (rc == BP_ETIMEDOUT)
                snprintf(err, errlen, "timed out after %d ms in the TLS handshake with %s: %s", o->timeout_ms,
                         o->target, s->tr.tls_why[0] ? s->tr.tls_why : "no reply");
            else
                snprintf(err, errlen, "TLS distribution with %s failed: %s", o->target, s->tr.tls_why);
        } else if (!s->tr.connected) {
            if (s->tr.timed_out) {
                snprintf(err, errlen, "timed out after %d ms connecting to %s at %s:%d", o->timeout_ms,
                         o->target, host, port);
                rc = BP_ETIMEDOUT;
            } else {
                snprintf(err, errlen, "cannot connect to %s at %s:%d: %s", o->target, host, port,
                         strerror(s->tr.sys_errno ? s->tr.sys_errno : ECONNREFUSED));
                rc = BP_ECONNECT;
            }
        } else {
            rc = handshake_error(&s->tr, o->target, s->self, o->timeout_ms, err, errlen);
            char status[32];
            bp__transport_status(&s->tr, status, sizeof status);
            if (o->refused_alive && rc == BP_EHANDSHAKE && strcmp(status, "alive") == 0)
                *o->refused_alive = 1;
        }
        goto out;
    }
    s->fd = fd;
    if (bp__transport_peer_name(&s->tr, s->peer, sizeof s->peer) != 0)
        snprintf(s->peer, sizeof s->peer, "%s", o->target); /* no challenge kept: keep the given name */
    *out = s;
    s = NULL;
    rc = 0;
out:
    if (s)
        bp_session_close(s);
    return rc;
}

void bp_session_close(bp_session *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        ei_close_connection(s->fd); /* closes through our callbacks and forgets the fd */
    else
        (void)bp__transport_callbacks.close(&s->tr); /* a failed attempt may leave a socket */
    bp__tls_client_free(s->tls);
    free(s->rx);
    free(s);
}

const char *bp_session_self_name(const bp_session *s)
{
    return s->self;
}

const char *bp_session_peer_name(const bp_session *s)
{
    return s->peer;
}

int64_t bp_session_rtt_us(const bp_session *s)
{
    return s->tr.rtt_us;
}

int bp_session_fd(const bp_session *s)
{
    return s && !s->broken ? s->fd : -1;
}

int bp_session_alive(const bp_session *s)
{
    return s && s->fd >= 0 && !s->broken;
}

uint64_t bp_session_rx_packets(const bp_session *s)
{
    return s ? s->rx_packets : 0;
}

static uint32_t get32be(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

int bp__session_write(bp_session *s, const void *buf, size_t n, int64_t deadline_ms)
{
    int rc = bp__transport_write_full(&s->tr, buf, n, deadline_ms);
    if (rc)
        s->broken = 1; /* a partial packet desynchronises the stream */
    return rc;
}

static int sess_skip_direct(bp_session *s, size_t n, int64_t deadline_ms);

/*
 * Read exactly n bytes (into buf, or discarded when buf is NULL) through the
 * session's input buffer, so that a burst of small replies costs one recv,
 * not two per reply.
 */
static int sess_read(bp_session *s, unsigned char *buf, size_t n, int64_t deadline_ms)
{
    while (n > 0) {
        if (s->in_pos == s->in_len) {
            s->in_pos = s->in_len = 0;
            if (n >= sizeof s->in) /* large: straight into place */
                return buf ? bp__transport_read_full(&s->tr, buf, n, deadline_ms) : sess_skip_direct(s, n, deadline_ms);
            size_t got = 0;
            int rc = bp__transport_read_some(&s->tr, s->in, sizeof s->in, deadline_ms, &got);
            if (rc)
                return rc;
            s->in_len = got;
        }
        size_t k = s->in_len - s->in_pos < n ? s->in_len - s->in_pos : n;
        if (buf) {
            memcpy(buf, s->in + s->in_pos, k);
            buf += k;
        }
        s->in_pos += k;
        n -= k;
    }
    return 0;
}

/* Discard n bytes without the input buffer (a refused oversized reply). */
static int sess_skip_direct(bp_session *s, size_t n, int64_t deadline_ms)
{
    unsigned char scratch[8192];
    while (n > 0) {
        size_t k = n < sizeof scratch ? n : sizeof scratch;
        int rc = bp__transport_read_full(&s->tr, scratch, k, deadline_ms);
        if (rc)
            return rc;
        n -= k;
    }
    return 0;
}

int bp__session_read_packet(bp_session *s, int64_t deadline_ms, bp__packet *p)
{
    unsigned char head[4];
    memset(p, 0, sizeof *p);
    for (;;) {
        /* nothing read yet: a timeout here leaves the stream intact */
        int rc = s->in_pos < s->in_len ? 0 : bp__transport_wait_readable(&s->tr, deadline_ms);
        if (rc == BP_ETIMEDOUT)
            return rc;
        rc = sess_read(s, head, 4, deadline_ms);
        if (rc)
            goto broken;
        s->rx_packets++;
        uint32_t len = get32be(head);
        if (len == 0) { /* tick: answer it so net_ticktime never drops us */
            static const unsigned char tick[4];
            rc = bp__session_write(s, tick, sizeof tick, deadline_ms);
            if (rc)
                return rc;
            continue;
        }
        p->len = len;
        if ((int64_t)len > s->max_reply) {
            /* refuse: read just enough to learn whose reply it is, drop the rest */
            size_t k = len < BP__PREFIX_MAX ? len : BP__PREFIX_MAX;
            rc = sess_read(s, p->prefix, k, deadline_ms);
            if (rc)
                goto broken;
            p->prefix_len = k;
            p->oversized = 1;
            rc = sess_read(s, NULL, len - k, deadline_ms);
            if (rc)
                goto broken;
            return 0;
        }
        if (len > s->rx_cap) {
            unsigned char *nb = realloc(s->rx, len);
            if (!nb)
                return BP_ENOMEM;
            s->rx = nb;
            s->rx_cap = len;
        }
        rc = sess_read(s, s->rx, len, deadline_ms);
        if (rc)
            goto broken;
        p->data = s->rx;
        return 0;
    broken:
        /* a timeout mid-packet or a closed connection leaves the stream unusable */
        s->broken = 1;
        return rc;
    }
}

int bp_session_pump(bp_session *s, int64_t deadline_ms)
{
    if (!bp_session_alive(s))
        return BP_EIO;
    for (;;) {
        bp__packet p;
        int rc = bp__session_read_packet(s, deadline_ms, &p);
        if (rc == BP_ETIMEDOUT && !s->broken)
            return 0;
        if (rc)
            return BP_EIO;
        /* a late reply to a call that already timed out: nobody waits for it */
    }
}
