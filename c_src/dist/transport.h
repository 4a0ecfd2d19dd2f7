/* transport.h: ei socket callbacks (TCP or TLS, IPv4 or IPv6, deadline-bounded) that record handshake progress. */
#ifndef BP_TRANSPORT_H
#define BP_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include <ei.h>

#include "dist/net.h"
#include "dist/tls_client.h"

/*
 * One per connection attempt; passed to ei as the setup context. ei calls
 * back into it for every socket operation, so every step of EPMD-less
 * connect and handshake is bounded by `deadline_ms` (absolute, monotonic),
 * whatever per-step timeout ei asks for, and the record of what was written
 * and read tells a refused handshake from a cookie mismatch from a hang.
 */
typedef struct bp__transport {
    int fd;
    int64_t deadline_ms;
    int connected;       /* TCP connect succeeded */
    int writes;          /* handshake packets written (1: name, 2: challenge reply) */
    int timed_out;       /* the last failure was the deadline */
    int eof;             /* the peer closed the connection */
    int sys_errno;       /* last errno from a socket call */
    unsigned char hs[512];/* bytes read after the name was sent: status and challenge packets */
    int hs_len;
    int64_t rtt_us;      /* the TCP connect's time (SYN out, SYN-ACK in: the network's round trip), -1 before */
    bp__addr addr;       /* where to connect: ei's own address is IPv4 only and is ignored */
    bp__tls_client *tls; /* TLS distribution context (not owned), NULL for plain TCP */
    const char *tls_host;/* the name the node's certificate must carry */
    SSL *ssl;            /* the TLS connection once the TLS handshake is done */
    bp_tls_fail tls_fail;/* why TLS failed, BP_TLS_OK if it did not */
    char tls_why[320];
} bp__transport;

/* Callbacks to hand to ei_connect_xinit_ussi. */
extern ei_socket_callbacks bp__transport_callbacks;

/*
 * Reset a transport for a new connection attempt to addr, over TLS when tls
 * is not NULL (the certificate must name tls_host).
 */
void bp__transport_init(bp__transport *t, int64_t deadline_ms, const bp__addr *addr, bp__tls_client *tls,
                        const char *tls_host);

/*
 * Stream I/O after the handshake (the session's packets), plain or TLS alike,
 * bounded by deadline_ms: 0, BP_ETIMEDOUT or BP_EIO (*got 0 at a clean end of
 * stream for read_some).
 */
int bp__transport_read_some(bp__transport *t, void *buf, size_t n, int64_t deadline_ms, size_t *got);
int bp__transport_read_full(bp__transport *t, void *buf, size_t n, int64_t deadline_ms);
int bp__transport_write_full(bp__transport *t, const void *buf, size_t n, int64_t deadline_ms);
/* Wait until something can be read (at once when TLS holds decrypted bytes): 0, BP_ETIMEDOUT, BP_EIO. */
int bp__transport_wait_readable(bp__transport *t, int64_t deadline_ms);

/*
 * The handshake status the node sent ("ok", "nok", "not_allowed", "alive",
 * ...) into out, or "" when none was received.
 */
void bp__transport_status(const bp__transport *t, char *out, size_t outlen);

/*
 * The node's own name as it stated it in its handshake challenge, into out:
 * 0, or -1 when no complete challenge was received.
 */
int bp__transport_peer_name(const bp__transport *t, char *out, size_t outlen);

#endif
