/* sources.h: serve's discovery state per source: the last nodes found, kept across failures, retry backoff, the union. */
#ifndef BP_SOURCES_H
#define BP_SOURCES_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "discover/nodeset.h"
#include "discover/targets.h"

/* A failed source is asked again after 1 s, 2 s, 4 s, ... up to this. */
#define BP_SOURCE_BACKOFF_MIN_MS 1000
#define BP_SOURCE_BACKOFF_MAX_MS 30000
/* Room for a source's last error. */
#define BP_SOURCE_ERROR_MAX 400
/* Room for the reason bp_discovery_pending gives. */
#define BP_DISCOVERY_REASON_MAX (BP_SOURCE_LABEL_MAX + BP_SOURCE_ERROR_MAX + 32)

/* What a route or /metrics shows of one source (no node names). */
typedef struct {
    char label[BP_SOURCE_LABEL_MAX]; /* "--dns app.prod.svc.cluster.local" */
    int have;                        /* it answered at least once since it was configured */
    int ok;                          /* its last attempt succeeded */
    size_t found;                    /* nodes of its last success */
    int64_t last_success_wall_ms;    /* Unix ms of its last success; 0: never */
    uint64_t failures_total;         /* failed attempts since serve started (kept over reloads) */
    char error[BP_SOURCE_ERROR_MAX]; /* its last failure's reason; "" after a success */
} bp_source_status;

typedef struct {
    size_t n;
    bp_source_status v[BP_SOURCES_MAX];
} bp_discovery_status;

/* One source's whole state: its status, its kind, its nodes and when to ask it next. */
typedef struct {
    bp_source_status st;
    int kind;                  /* BP_SOURCE_* */
    unsigned failures;         /* consecutive failed attempts */
    int64_t next_ms;           /* monotonic ms of its next attempt; INT64_MAX: none */
    int64_t logged_ms;         /* monotonic ms of its last failure logged (serve rate-limits them) */
    bp_nodeset nodes;          /* what its last success found (kept while it fails) */
} bp_source;

typedef struct {
    size_t n;
    bp_source v[BP_SOURCES_MAX];
} bp_sources;

/* The wait before attempt failures+1 after `failures` consecutive failures (>= 1): 1 s doubling, capped at 30 s. */
int64_t bp_source_backoff_ms(unsigned failures);

/*
 * The sources cfg names, all due at once (next_ms 0), never asked. A source of
 * `prev` (may be NULL) with the same label keeps its nodes, status and
 * counters: a reload that leaves it alone loses nothing. Frees nothing of prev.
 */
void bp_sources_init(bp_sources *s, const bp_config *cfg, const bp_sources *prev);

/* Release the node sets. */
void bp_sources_free(bp_sources *s);

/*
 * Record an attempt of source src: rc 0 takes `found` over (moved; found is
 * left empty) and schedules the next attempt rediscover_ms later (never when
 * 0); an error keeps the nodes found before, stores why, and schedules a retry
 * after bp_source_backoff_ms (or at the next rediscovery when that is sooner
 * and the source had answered before). Returns 1 when its nodes changed, else 0.
 */
int bp_source_record(bp_source *src, int rc, bp_nodeset *found, const char *why, int64_t now_ms,
                     int64_t wall_ms, int rediscover_ms);

/*
 * The targets: nodes[0..n_nodes) (--node) then the nodes of every source, in
 * order, without duplicates, into out (emptied first). BP_ETOOBIG with a
 * message when they are more than out's cap; BP_ENOMEM.
 */
int bp_sources_merge(const bp_namelist *nodes, const bp_sources *s, bp_nodeset *out, char *err, size_t errlen);

/* The earliest next attempt (monotonic ms), INT64_MAX when none is due ever. */
int64_t bp_sources_next_ms(const bp_sources *s);

/* The status of every source, for the site. */
void bp_sources_status(const bp_sources *s, bp_discovery_status *out);

/*
 * Whether the targets are not known yet: a source that has never answered
 * (reason "discovery --dns NAME: <its error>"), or discovery that found no
 * node at all and no --node ("discovery found no nodes: ..."). 1 with the
 * reason in reason[len], else 0. st may be NULL (no discovery): 0.
 */
int bp_discovery_pending(const bp_discovery_status *st, size_t targets, char *reason, size_t len);

#endif
