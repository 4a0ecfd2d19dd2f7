/* site.h: the health site behind `serve`: latest reports per target, pre-rendered, and the HTTP routes. */
#ifndef BP_SITE_H
#define BP_SITE_H

#include <stddef.h>

#include "core/config.h"
#include "core/snapshot.h"
#include "http/server.h"

/*
 * Probers publish snapshots from their threads; the HTTP thread answers from
 * what was published last and never waits on a target. Every publish
 * evaluates the snapshot for the three probe kinds and pre-renders every body
 * (probe bodies, the full JSON report, the Prometheus text), so a request only
 * takes a reference and appends its age. Routes:
 *
 *   /health/live  /livez  /live                 liveness   (200 pass, 503 fail)
 *   /health/ready /readyz /ready /healthz       readiness
 *   /health/startup /startupz                   startup
 *   /health                                     the full JSON report (readiness verdict)
 *   /metrics                                    Prometheus text 0.0.4
 *
 * GET and HEAD only (405 otherwise), 404 elsewhere. A report older than
 * cfg->max_age_ms counts as failing. With a bearer token, /health and
 * /metrics need `Authorization: Bearer <token>` (compared in constant time);
 * the probe routes stay open so the kubelet needs no secret.
 */
typedef struct bp_site bp_site;

/*
 * A site for cfg->nodes (copied). token: the bearer token or NULL. Logs
 * state changes with bp_log. Returns NULL on OOM.
 */
bp_site *bp_site_new(const bp_config *cfg, const char *token);
/*
 * The same, but targets that `prev` already has keep their current views
 * until their next probe (so a reload never flaps a verdict). prev may be NULL.
 */
bp_site *bp_site_new_from(const bp_config *cfg, const char *token, bp_site *prev);
void bp_site_free(bp_site *s);

/* Stop (1) or resume (0) logging state changes; set before the first publish. */
void bp_site_set_quiet(bp_site *s, int quiet);

/*
 * Take ownership of a snapshot of one of the site's nodes, evaluate, render,
 * publish, and log a state change (healthy -> degraded, down, reconnected).
 * Thread-safe; a snapshot of an unknown node is freed and ignored.
 */
void bp_site_publish(bp_site *s, bp_snapshot *snap);

/* Whether req asks for a verdict (live, ready, startup or the full report, any alias). */
int bp_site_is_probe_route(const bp_http_request *req);

/* The HTTP handler (ctx = the site). */
void bp_site_handle(void *ctx, const bp_http_request *req, bp_http_response *resp);

#endif
