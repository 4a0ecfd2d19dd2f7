/* site_int.h: internals shared by site.c (publishing views) and routes.c (answering from them). */
#ifndef BP_SITE_INT_H
#define BP_SITE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/config.h"
#include "core/history.h"
#include "core/mesh.h"
#include "core/render_history.h"
#include "core/render_prom.h"
#include "core/report.h"
#include "discover/nodeset.h"
#include "discover/sources.h"
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
    char *health;                   /* the full report, JSON object left open (NULL: site's no_report) */
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

/*
 * A publish replaces its target's view at once. The metrics text and the
 * cluster view cover every target and are rebuilt after it, outside `mu`,
 * one rebuild at a time (`build_mu`): by the publisher itself when the site
 * has one target; with several, by the site's builder thread, which pauses
 * PACE_FACTOR times as long as its last rebuild took before the next one, so
 * rebuilding over many targets takes at most a fifth of a core and a burst
 * of publishes costs one or two rebuilds.
 */
struct bp_site {
    bp_config *own_cfg;             /* the site's copy of the configuration (NULL: borrowed, one-off site) */
    const bp_config *cfg;           /* the settings, judged as each kind by bp_evaluate_as */
    bp_nodeset targets;             /* fixed for the site's life; views[i] is targets.v[i]'s */
    pthread_mutex_t mu;             /* guards views[], last[], metrics, cluster and the builder state */
    bp__view **views;               /* one per target, never NULL */
    bp__metrics *metrics;
    bp__cluster *cluster;
    char (*last)[16];               /* last logged state per target */
    bp_history **hist;              /* transitions per target (each with its own lock) */
    uint64_t gen;                   /* publishes so far */
    uint64_t built_gen;             /* publishes the last rebuild covered */
    pthread_mutex_t build_mu;       /* held through a rebuild; guards build_views */
    bp__view **build_views;         /* the views a rebuild reads */
    int has_builder;                /* several targets: builder thread running */
    int stopping;                   /* the builder thread is to exit */
    pthread_t builder;
    pthread_cond_t wake;            /* to the builder: a publish, or stopping */
    pthread_cond_t built;           /* from a rebuild: built_gen moved */
    int quiet;                      /* no state-change log records */
    int lazy;                       /* one-off (bp_site_new_once): aggregates built on demand */
    int no_report;                  /* one-off without the full report: views' `health` stays NULL */
    struct bp_notifier *notifier;   /* gets each report's changes (not owned), or NULL */
    bp_discovery_status *disc;      /* the discovery sources (guarded by `mu`), or NULL: none */
    int have_token;
    unsigned char token_digest[32]; /* SHA-256 of the bearer token */
    /* HTTP thread only (bp_site_handle): per-request space, sized once for every target */
    bp__view **req_views;
    bp_prom_node *req_ages;
    bp_prom_buf scratch;            /* per-request age lines */
};

void bp__view_unref(void *v);
void bp__cluster_unref(void *c);
/* The cluster view of views[0..targets.n) (no lock needed); appends its metric families. NULL on OOM. */
bp__cluster *bp__cluster_build(const bp_site *s, bp__view *const *views, bp_prom_buf *metrics);
/* The mesh inputs of views[0..targets.n) into in[] (targets.n of them), analyzed into *m from arena a: 0 or -1. */
int bp__site_mesh(const bp_site *s, bp__view *const *views, bp_mesh_input *in, bp_arena *a, bp_mesh *m);
/*
 * Every target's transitions (only those whose own or given name is `filter`, unless NULL) into
 * nodes[0..targets.n), each transitions array malloc'd (free with bp__site_histories_free);
 * names borrowed from views. Returns how many were filled; *oom set when a copy failed.
 */
size_t bp__site_histories(bp_site *s, bp__view *const *views, const char *filter, bp_history_node *nodes, int *oom);
void bp__site_histories_free(bp_history_node *nodes, size_t n);
/* GET / and /status: the status page (site_page.c). */
void bp__site_page(bp_site *s, bp_http_response *resp);
/* The page's extra header lines (its Content-Security-Policy with the hashes of its inline style and script). */
const char *bp__page_headers(size_t *len);
/* The current cluster view with a reference taken. */
bp__cluster *bp__site_cluster(bp_site *s);
void bp__metrics_unref(void *m);
/* Current view of target i / the metrics, with a reference taken (under the lock); the metrics (and the
 * cluster view above) may be NULL only on a lazy site out of memory. */
bp__view *bp__site_view(bp_site *s, size_t i);
bp__metrics *bp__site_metrics(bp_site *s);
/* Every current view into out[0..targets.n), with references taken, under one lock. */
void bp__site_views(bp_site *s, bp__view **out);
/*
 * The discovery state into *st (site_discovery.c): 0 when the site has no
 * discovery source; 1 with st filled, and with *pending set (and the reason in
 * reason[len]) while the targets are not known yet (bp_discovery_pending).
 */
int bp__site_discovery(bp_site *s, bp_discovery_status *st, int *pending, char *reason, size_t len);
/*
 * The members `"KEY":REASON,"discovery":[...]` (reason left out when NULL; one object per source: source, ok,
 * found, last_success, failures and, when failing, error) without braces, malloc'd; NULL on OOM.
 */
char *bp__discovery_fields(const bp_discovery_status *st, const char *key, const char *reason);
/* Append the beamprobe_discovery_* families of st to b: 0 or BP_ENOMEM. */
int bp__discovery_prom(const bp_discovery_status *st, bp_prom_buf *b);
/* Wait until metrics and cluster view cover every publish so far (tests): 0, or -1 after timeout_ms. */
int bp__site_settle(bp_site *s, int timeout_ms);

#endif
