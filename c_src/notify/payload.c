/* payload.c: JSON bodies of notifications: Alertmanager API v2 alerts and webhook transitions. */
#include "notify/payload.h"

#include <stdio.h>

#include "core/json_util.h"
#include "core/render_history.h"
#include "notify/alert.h"

static json_t *alert_json(int *oom, const bp_alert *a, int64_t now_ms, int64_t valid_ms, const char *generator_url)
{
    json_t *o = json_object(), *labels = json_object(), *ann = json_object();
    char summary[512];
    bp_json_put(oom, labels, "alertname", json_string(a->alertname));
    bp_json_put(oom, labels, "node", bp_json_string_utf8(a->node));
    bp_json_put(oom, labels, "check", bp_json_string_utf8(a->check));
    bp_json_put(oom, labels, "severity", json_string(a->critical ? "critical" : "warning"));
    bp_json_put(oom, o, "labels", labels);
    snprintf(summary, sizeof summary, "check %s %s on %s", a->check, a->critical ? "fails" : "warns", a->node);
    bp_json_put(oom, ann, "summary", bp_json_string_utf8(summary));
    bp_json_put(oom, ann, "description", bp_json_string_utf8(a->reason));
    bp_json_put(oom, o, "annotations", ann);
    bp_json_put(oom, o, "startsAt", bp_json_timestamp(a->starts_ms));
    bp_json_put(oom, o, "endsAt", bp_json_timestamp(a->ends_ms ? a->ends_ms : now_ms + valid_ms));
    bp_json_put(oom, o, "generatorURL", bp_json_string_utf8(generator_url));
    return o;
}

char *bp_alerts_body(const bp_alert *a, size_t n, int64_t now_ms, int64_t valid_ms, const char *generator_url)
{
    int oom = 0;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        bp_json_append(&oom, arr, alert_json(&oom, &a[i], now_ms, valid_ms, generator_url));
    return bp_json_dump_doc(arr, oom, 0);
}

char *bp_webhook_body(const char *node, const bp_transition *t)
{
    int oom = 0;
    json_t *o = json_object();
    bp_json_put(&oom, o, "node", bp_json_string_utf8(node));
    bp_render_transition(&oom, o, t);
    bp_json_put(&oom, o, "time_ms", json_integer((json_int_t)t->time_ms));
    return bp_json_dump_doc(o, oom, 0);
}
