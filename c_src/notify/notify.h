/* notify.h: serve's notifier: alerts to Alertmanagers and signed transition webhooks, from one worker thread (docs/NOTIFY.md). */
#ifndef BP_NOTIFY_H
#define BP_NOTIFY_H

#include <stddef.h>

#include "core/config.h"
#include "core/history.h"
#include "core/render_prom.h"
#include "core/report.h"

typedef struct bp_notifier bp_notifier;

/*
 * Start the notifier of c's --alertmanager and --notify-webhook receivers:
 * reads --alertmanager-token-file and --notify-secret-file (the token-file
 * rules), starts the worker thread. base_url is serve's own URL (the alerts'
 * generatorURL is base_url + "/health"). *out is NULL when no receiver is
 * configured. 0, or BP_EUSAGE / BP_ENOMEM with a message in err.
 */
int bp_notifier_start(const bp_config *c, const char *base_url, bp_notifier **out, char *err, size_t errlen);
/* Stop the worker (an HTTP request in flight is aborted) and free everything. NULL is fine. */
void bp_notifier_stop(bp_notifier *n);

/*
 * A node's new report r (already observed by its history: since_ms set) with
 * the transitions tr[0..n_tr) that report made; first: the history's first
 * report of the node. Copies what the notifier needs into its bounded queue
 * (the oldest entry dropped when full) and returns at once: never waits on
 * the worker or the network. Nothing is queued when nothing changed.
 */
void bp_notifier_observe(bp_notifier *n, const char *node, const bp_report *r, const bp_transition *tr,
                         size_t n_tr, int first);

/*
 * target (a name serve was given) left the target set (SIGHUP): its firing
 * alerts are resolved explicitly (bp_alerts_forget) after whatever was queued
 * before. Queued like an observe: never waits. NULL n is fine.
 */
void bp_notifier_forget(bp_notifier *n, const char *target);

/* Append beamprobe_notifications_{sent,failed}_total{receiver} and _dropped_total. 0 or BP_ENOMEM. */
int bp_notifier_render_prom(bp_notifier *n, bp_prom_buf *b);

#endif
