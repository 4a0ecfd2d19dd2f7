/* site.h: the health site behind `serve`: latest reports per target, pre-rendered, and the HTTP routes. */
#ifndef BP_SITE_H
#define BP_SITE_H

#include <stddef.h>

#include "core/config.h"
#include "core/snapshot.h"
#include "discover/nodeset.h"
#include "discover/sources.h"
#include "http/server.h"

/*
 * Probers publish snapshots from their threads; the HTTP thread answers from
 * what was published last and never waits on a target. Every publish
 * evaluates the snapshot for the three probe kinds and pre-renders every body
 * (probe bodies, the full JSON report, the Prometheus text, the cluster
 * view), so a request only takes a reference and appends its age. With one
 * target a request allocates nothing (but what /metrics's age lines need);
 * with several (up to BP_TARGETS_MAX), a verdict route assembles
 * {"nodes":[...],"ok":...} from every target's body. Routes:
 *
 *   /health/live  /livez  /live                 liveness   (200 pass, 503 fail)
 *   /health/ready /readyz /ready /healthz       readiness
 *   /health/startup /startupz                   startup
 *   /health                                     the full JSON report (readiness verdict)
 *   /health/cluster                             the cluster view of every target (docs/CLUSTER.md)
 *   /metrics                                    Prometheus text 0.0.4
 *
 * GET and HEAD only (405 otherwise), 404 elsewhere. A report older than
 * cfg->max_age_ms counts as failing. With a bearer token, /health,
 * /health/cluster and /metrics need `Authorization: Bearer <token>`
 * (compared in constant time); the probe routes stay open so the kubelet
 * needs no secret.
 */
typedef struct bp_site bp_site;

/*
 * A site for the targets names[0..n) (copied, duplicates dropped, in order;
 * up to BP_TARGETS_MAX) judged by cfg (copied; cfg->nodes is not read).
 * token: the bearer token or NULL. Logs state changes with bp_log. With
 * several targets the site runs a thread of its own (see bp_site_publish).
 * Returns NULL on OOM (or no thread), more than BP_TARGETS_MAX targets, or a
 * name of BP_NAME_MAX bytes or more.
 */
bp_site *bp_site_new(const bp_config *cfg, const char (*names)[BP_NAME_MAX], size_t n, const char *token);
/*
 * The same, but targets that `prev` already has keep their current views
 * until their next probe (so a reload never flaps a verdict). prev may be
 * NULL; nothing may publish to it meanwhile.
 */
bp_site *bp_site_new_from(const bp_config *cfg, const char (*names)[BP_NAME_MAX], size_t n, const char *token,
                          bp_site *prev);
/*
 * A site for one answer about `node` (the NIF's one-off answers): quiet, no
 * thread, and the aggregates (metrics text, cluster view) are built only if
 * a route asks for them, not on every publish. With full_report 0 the full
 * report's body (/health) is not rendered either, and /health answers 500:
 * pass bp_site_route_wants_report of the one request. cfg is borrowed, not
 * copied: it must outlive the site. NULL on OOM.
 */
bp_site *bp_site_new_once(const bp_config *cfg, const char *node, const char *token, int full_report);
void bp_site_free(bp_site *s);

/* The site's targets, in order (valid as long as the site). */
const bp_nodeset *bp_site_targets(const bp_site *s);

/* Stop (1) or resume (0) logging state changes; set before the first publish. */
void bp_site_set_quiet(bp_site *s, int quiet);

struct bp_notifier;
/*
 * Hand every published report's transitions and failing checks to n
 * (notify/notify.h; not owned, must outlive the site; NULL: none), and add
 * its counters to /metrics. Set before the first publish.
 */
void bp_site_set_notifier(bp_site *s, struct bp_notifier *n);

/*
 * The state of serve's discovery sources (copied; thread-safe, at any time;
 * NULL or none: no discovery). While a source has never answered, or
 * discovery found no node at all, readiness, startup, /health and
 * /health/cluster answer 503 with "reason" (naming the source and why) and
 * "discovery" (every source's state); liveness answers from the targets there
 * are (200 with none: the probe itself is alive). /metrics gets the
 * beamprobe_discovery_* families (docs/METRICS.md). 0, or -1 out of memory.
 */
int bp_site_set_discovery(bp_site *s, const bp_discovery_status *st);

/*
 * Take ownership of a snapshot of one of the site's targets, evaluate,
 * render, publish, and log a state change (healthy -> degraded, down,
 * reconnected). Thread-safe, also for several targets at once; a snapshot
 * of an unknown node is freed and ignored. The probe routes answer from it
 * once this returns. /metrics and /health/cluster cover every target: with
 * one target they are rebuilt before this returns; with several, a thread of
 * the site rebuilds them after publishes, pausing 4 times as long as its last
 * rebuild took (at most a fifth of a core: about 30 ms for 100 targets, half
 * a second for 1024, most of it the cluster view's JSON).
 */
void bp_site_publish(bp_site *s, bp_snapshot *snap);

/* Whether req's route may need the full report (any route but live, ready and startup): for bp_site_new_once. */
int bp_site_route_wants_report(const bp_http_request *req);

/* Whether req asks for a verdict (live, ready, startup or the full report, any alias). */
int bp_site_is_probe_route(const bp_http_request *req);

/* The HTTP handler (ctx = the site). */
void bp_site_handle(void *ctx, const bp_http_request *req, bp_http_response *resp);

#endif
