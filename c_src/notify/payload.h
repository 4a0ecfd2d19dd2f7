/* payload.h: the webhook document of one transition (the Alertmanager body is in alert.h). */
#ifndef BP_NOTIFY_PAYLOAD_H
#define BP_NOTIFY_PAYLOAD_H

#include "core/history.h"

/*
 * {"node", "time", "kind", "name", "from", "to", "reason", "time_ms"} of
 * transition t of node: "time" is RFC 3339 UTC with milliseconds, "kind" is
 * node, check or governor. A malloc'd compact JSON string, or NULL.
 */
char *bp_webhook_body(const char *node, const bp_transition *t);

#endif
