/* session.h: a distribution connection to one node (ei C node, TCP or TLS, IPv4 or IPv6) and pipelined RPC batches over it. */
#ifndef BP_SESSION_H
#define BP_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <ei.h>

#include "dist/term.h"
#include "dist/tls_client.h"

typedef struct bp_session bp_session;

typedef struct {
    const char *target;       /* alive@host, or a bare alive name: the node of that name on this host */
    const char *cookie;       /* never logged */
    const char *cnode_alive;  /* our alive name, e.g. "beamprobe_0" */
    const char *cnode_host;   /* our host part; NULL or "" = derived from the target's name style */
    int64_t max_reply_bytes;  /* larger replies are refused undecoded */
    int timeout_ms;           /* the overall budget, quoted in error messages */
    const bp_dist_tls *tls;   /* TLS distribution (inet_tls_dist), NULL for plain TCP */
    int inet6;                /* reach the node over IPv6 only; otherwise IPv4 when the host has an
                                 IPv4 address, IPv6 when it has only IPv6 ones (or is an IPv6 literal) */
    int *refused_alive;       /* if not NULL: set to 1 when the node refused the handshake because a node
                                 of our name is still connected to it (status "alive") */
} bp_session_opts;

/*
 * Resolve the host, ask its EPMD for the node's port, connect and complete
 * the handshake, all before `deadline_ms` (absolute, monotonic). On failure
 * returns a BP_E* code (BP_ERESOLVE, BP_EEPMD, BP_ENOTREG, BP_ECONNECT,
 * BP_EHANDSHAKE, BP_EAUTH, BP_ETIMEDOUT, ...) with a one-line explanation in
 * err that never contains the cookie.
 */
int bp_session_open(const bp_session_opts *o, int64_t deadline_ms, bp_session **out, char *err, size_t errlen);
/* Close the connection and free the session. NULL is fine. */
void bp_session_close(bp_session *s);
/* Our full node name as the target sees it. */
const char *bp_session_self_name(const bp_session *s);
/*
 * The node's own name as it stated it in the handshake (its node()), which
 * may differ from the name it was reached by (an address, localhost, a bare
 * alive name on this host).
 */
const char *bp_session_peer_name(const bp_session *s);
/* The network's round trip to the node as the TCP connect took it (the node's kernel answers), in us; -1 unknown. */
int64_t bp_session_rtt_us(const bp_session *s);
/* The connected socket (for event loops); -1 if broken. */
int bp_session_fd(const bp_session *s);
/* 1 while the connection is usable. */
int bp_session_alive(const bp_session *s);
/* Packets read from the node since the connection was made, ticks included (anything heard). */
uint64_t bp_session_rx_packets(const bp_session *s);

/*
 * Between probes of a persistent session: handle whatever the node sent
 * before `deadline_ms` (ticks are answered, late replies dropped). Returns 0
 * when nothing more arrived in time, BP_EIO when the connection is gone.
 */
int bp_session_pump(bp_session *s, int64_t deadline_ms);

/* One remote call of a batch. */
typedef struct {
    char mod[64], fun[64];
    char label[64];        /* how errors name the call: "mod:fun" unless set otherwise */
    ei_x_buff args;        /* encoded argument list, without version byte */
    int argc, argn;        /* declared and encoded argument counts */
    uint64_t tag;          /* correlates the reply */
    int block;             /* run inside rex itself (block_call) instead of a spawned process:
                              only for cheap BIFs; keeps our own calls out of run-queue and
                              process counts and costs the target no spawn */
    /* results */
    int rc;                /* 0, BP_ETIMEDOUT, BP_ETOOBIG, BP_EDECODE, BP_ENOMEM, BP_EIO */
    bp_term *reply;        /* the returned term (may be {badrpc, Reason}); in the batch arena */
    size_t reply_bytes;    /* size of the reply packet on the wire */
} bp_rpc;

typedef struct bp_batch bp_batch;

/* New empty batch whose replies decode into an arena capped at arena_cap bytes (0 = 64 MiB). */
bp_batch *bp_batch_new(size_t arena_cap);
void bp_batch_free(bp_batch *b);
/*
 * Append a call mod:fun/argc and return the buffer to encode exactly argc
 * arguments into (ei_x_encode_*); the list wrapper is handled for you.
 * Returns NULL on OOM. The index of the call is bp_batch_count()-1.
 */
ei_x_buff *bp_batch_add(bp_batch *b, const char *mod, const char *fun, int argc);
/* Append a copy of call `src` (module, function, label, arguments, block) to dst, unanswered. 0 or BP_ENOMEM. */
int bp_batch_copy_call(bp_batch *dst, const bp_rpc *src);
/* Encode a pid decoded from a reply (BP_T_PID) as an argument of a later call. ei's return. */
int bp_encode_pid(ei_x_buff *x, const bp_term *pid);
size_t bp_batch_count(const bp_batch *b);
bp_rpc *bp_batch_get(bp_batch *b, size_t i);
bp_arena *bp_batch_arena(bp_batch *b);

/*
 * Send every call of the batch that has not been sent yet at once (one
 * write), then read replies until all are answered or `deadline_ms` passes.
 * Calls unanswered at the deadline get rc = BP_ETIMEDOUT. Returns 0 when the
 * round completed (individual calls may still have failed), BP_ETIMEDOUT if
 * some call timed out, BP_EIO if the connection broke (the session is then
 * unusable).
 */
int bp_session_call(bp_session *s, bp_batch *b, int64_t deadline_ms);

/*
 * Answer call i without a session (the NIF runs calls inside its own VM):
 * decode `etf` (term_to_binary output, version byte included) into the
 * batch's arena as the reply; over max_reply bytes (when > 0) the call gets
 * BP_ETOOBIG undecoded. Returns the call's rc (0, BP_ETOOBIG, BP_EDECODE,
 * BP_ENOMEM) or BP_EUSAGE for a bad index. Unanswered calls keep
 * BP_ETIMEDOUT.
 */
int bp_batch_set_reply(bp_batch *b, size_t i, const unsigned char *etf, size_t len, int64_t max_reply);

/* Text for a failed call: "timed out", "reply of N bytes over the cap", ... */
const char *bp_rpc_error(const bp_rpc *r);

#endif
