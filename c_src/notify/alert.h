/* alert.h: the alerts beamprobe keeps for the Alertmanagers: one per failing check of a node, and their table. */
#ifndef BP_NOTIFY_ALERT_H
#define BP_NOTIFY_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/report.h"

/* A check of a node that does not pass, as the site hands it over (a copy). */
typedef struct {
    char check[128];
    bp_check_kind kind;
    int critical;                /* fails (critical); else warns (warning) */
    int64_t since_ms;            /* Unix ms its status began (the history's since) */
    char reason[BP_REASON_MAX];
} bp_failing;

/* One alert: its labels alertname, node, check, severity, and its times. */
typedef struct {
    char node[BP_NAME_MAX];
    char check[128];
    const char *alertname;       /* static: bp_alert_name */
    int critical;                /* severity critical, else warning */
    char reason[BP_REASON_MAX];  /* the description */
    int64_t starts_ms;           /* startsAt */
    int64_t ends_ms;             /* endsAt of a resolved alert; 0 while firing */
} bp_alert;

/* A growable array of alerts; zeroed is empty. */
typedef struct {
    bp_alert *v;
    size_t n, alloc;
} bp_alert_list;

/* BeamprobeNodeDown (connection), BeamprobeGovernorFailing (governor, governors), else BeamprobeCheckFailing. */
const char *bp_alert_name(bp_check_kind kind);

/*
 * Make failing[0..n) node's firing alerts in `firing`: an alert (same node,
 * check and severity) not firing yet is added and appended to *changed; a
 * firing alert of node not among them is removed and appended to *changed
 * with ends_ms = now_ms (resolved). Alerts of other nodes are untouched.
 * 0, or BP_ENOMEM (then `firing` may have been partly updated).
 */
int bp_alerts_apply(bp_alert_list *firing, const char *node, const bp_failing *failing, size_t n, int64_t now_ms,
                    bp_alert_list *changed);
/*
 * A target left serve's target set: resolve (ends_ms = now_ms, appended to
 * *changed, removed from `firing`) every alert of it. target is the name
 * serve was given: an alert's node matches it exactly, or, when target has no
 * "@", as "target@HOST" (the node's own name, learned by its probes).
 * 0, or BP_ENOMEM (as bp_alerts_apply).
 */
int bp_alerts_forget(bp_alert_list *firing, const char *target, int64_t now_ms, bp_alert_list *changed);
/* Free the array; the list is empty again. */
void bp_alert_list_free(bp_alert_list *l);

/*
 * The Alertmanager API v2 body (POST /api/v2/alerts) for a[0..n): a JSON
 * array of {labels, annotations, startsAt, endsAt, generatorURL}. A firing
 * alert's endsAt is now_ms + valid_ms (it resolves by itself unless posted
 * again). generator_url is serve's /health URL. A malloc'd string or NULL.
 */
char *bp_alerts_body(const bp_alert *a, size_t n, int64_t now_ms, int64_t valid_ms, const char *generator_url);

#endif
