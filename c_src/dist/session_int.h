/* session_int.h: session internals shared by session.c (connection) and rpc.c (calls). */
#ifndef BP_SESSION_INT_H
#define BP_SESSION_INT_H

#include <stddef.h>
#include <stdint.h>

#include <ei.h>

#include "dist/session.h"
#include "dist/transport.h"

#define BP__PREFIX_MAX 512

struct bp_session {
    ei_cnode ec;
    bp__transport tr;
    bp__tls_client *tls;     /* TLS context of the connection, or NULL */
    int fd;
    int broken;
    uint64_t rx_packets;     /* packets read from the node, ticks included */
    int64_t max_reply;
    uint64_t next_tag;
    unsigned char *rx;
    size_t rx_cap;
    unsigned char in[16384]; /* input buffer: in[in_pos..in_len) not yet consumed */
    size_t in_pos, in_len;
    char target[256];
    char self[512];
    char peer[256];          /* the node's own name, as its handshake challenge states it */
};

/* One distribution packet (after the 4-byte length). */
typedef struct {
    size_t len;                 /* full packet length */
    const unsigned char *data;  /* whole packet, valid until the next read; NULL if oversized */
    int oversized;              /* refused: only prefix[] was kept */
    unsigned char prefix[BP__PREFIX_MAX];
    size_t prefix_len;
} bp__packet;

/* Read the next non-tick packet (ticks are answered). Marks the session broken on failure. */
int bp__session_read_packet(bp_session *s, int64_t deadline_ms, bp__packet *p);
/* Write bytes; marks the session broken on failure. */
int bp__session_write(bp_session *s, const void *buf, size_t n, int64_t deadline_ms);

/* Encode one call to rex (4-byte length, pass-through, control, message) onto out. 0 or BP_ENOMEM. */
int bp__rpc_encode_call(const erlang_pid *self, const bp_rpc *r, ei_x_buff *out);
/*
 * Take one received packet: if it answers a call of b that is still pending,
 * store its reply (or BP_ETOOBIG / BP_EDECODE) and decrement *pending.
 * Packets for nobody, late replies and duplicates are ignored.
 */
void bp__rpc_take_packet(bp_batch *b, const bp__packet *p, size_t *pending);
/* Mark calls [from, n) of b as sent (tests drive the batch without a socket). */
void bp__batch_mark_sent(bp_batch *b);

#endif
