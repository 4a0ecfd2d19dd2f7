/* evict.c: at the connection cap or out of descriptors, close the connection that matters least. */
#include "http/server_int.h"

#include "core/log.h"

/*
 * Capacity is not health: a full server makes room for a new client instead
 * of refusing it, so a flood of idle or slow connections cannot turn probes
 * into failures. The victim, in this order (each queue's head is its oldest):
 *   1. a connection lingering after its last answer (it has been answered);
 *   2. the longest-idle keep-alive connection (no byte of a next request;
 *      HTTP clients expect idle connections to be closed and reconnect);
 *   3. the connection that has been receiving its request head (or TLS
 *      handshake) the longest: slowloris first, and a fresh client that sends
 *      its request at once is never the oldest.
 * A connection writing an answer is never evicted. O(1): no scan.
 */
int bp__http_evict_one(bp_http_server *s)
{
    static const char *const why[] = { "lingering", "keep-alive idle", "slow request head" };
    bp__http_tq *order[] = { &s->linger_q, &s->idle_q, &s->head_q };
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        bp__http_conn *c = order[i]->head;
        if (!c)
            continue;
        if (s->access_log)
            bp_log("http", NULL, "at capacity (%d connections): closed the oldest %s connection", s->nconns,
                   why[i]);
        bp__http_conn_close(s, c);
        return 1;
    }
    return 0;
}
