/* transport.h: ei socket callbacks (TCP, poll-based, deadline-bounded) that record handshake progress. */
#ifndef BP_TRANSPORT_H
#define BP_TRANSPORT_H

#include <stdint.h>

#include <ei.h>

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
    unsigned char hs[64];/* first bytes read after the name was sent (status packet) */
    int hs_len;
} bp__transport;

/* Callbacks to hand to ei_connect_xinit_ussi. */
extern ei_socket_callbacks bp__transport_callbacks;

/* Reset a transport for a new connection attempt. */
void bp__transport_init(bp__transport *t, int64_t deadline_ms);

/*
 * The handshake status the node sent ("ok", "nok", "not_allowed", "alive",
 * ...) into out, or "" when none was received.
 */
void bp__transport_status(const bp__transport *t, char *out, size_t outlen);

#endif
