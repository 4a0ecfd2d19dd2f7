/* site_int.h: internals shared by site.c (publishing views) and routes.c (answering from them). */
#ifndef BP_SITE_INT_H
#define BP_SITE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/config.h"
#include "core/render_prom.h"
#include "core/report.h"
#include "http/site.h"

#define BP__KINDS 3 /* indexed by bp_probe_kind */

/* What one target looked like at its last probe, rendered; immutable once published. */
typedef struct {
    atomic_int refs;
    int have;                       /* a probe has completed */
    int up;                         /* it connected */
    int64_t collected_ms;           /* monotonic ms when that probe started */
    int ok[BP__KINDS];              /* verdict per probe kind (degraded passes unless --strict) */
    char *body[BP__KINDS];          /* probe bodies, JSON object left open for the age fields */
    size_t body_len[BP__KINDS];
    char *health;                   /* the full report, JSON object left open */
    size_t health_len;
    bp_snapshot *snap;              /* owned: the reports point into it */
    bp_report ready;                /* the readiness report (also behind /metrics) */
} bp__view;

/* The Prometheus text of every target, without the age family. */
typedef struct {
    atomic_int refs;
    bp_prom_buf text;
} bp__metrics;

/* The cluster view over every target's latest report (serve's /health/cluster). */
typedef struct {
    atomic_int refs;
    char *json;                     /* the cluster report, JSON object left open */
    size_t json_len;
    int ok;                         /* converged (or degraded with --allow-degraded) */
    int quorum;
} bp__cluster;

struct bp_site {
    bp_config cfg;
    pthread_mutex_t mu;             /* guards views[], metrics and last[] */
    bp__view **views;               /* one per cfg.nodes entry, never NULL */
    bp__metrics *metrics;
    bp__cluster *cluster;
    char (*last)[16];               /* last logged state per target */
    int quiet;                      /* no state-change log records */
    int have_token;
    unsigned char token_digest[32]; /* SHA-256 of the bearer token */
    bp_prom_buf scratch;            /* HTTP thread only: per-request age lines */
};

void bp__view_unref(void *v);
void bp__cluster_unref(void *c);
/* The cluster view of the current views (the lock is held); appends its metric families. NULL on OOM. */
bp__cluster *bp__cluster_build(bp_site *s, bp_prom_buf *metrics);
/* The current cluster view with a reference taken. */
bp__cluster *bp__site_cluster(bp_site *s);
void bp__metrics_unref(void *m);
/* Current view of target i / the metrics, with a reference taken (under the lock). */
bp__view *bp__site_view(bp_site *s, size_t i);
bp__metrics *bp__site_metrics(bp_site *s);

#endif
