/* alerts.c: the table of firing alerts, updated from each node's failing checks. */
#include "notify/alert.h"

#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"
#include "core/str.h"

const char *bp_alert_name(bp_check_kind kind)
{
    switch (kind) {
    case BP_CHECK_CONNECTION: return "BeamprobeNodeDown";
    case BP_CHECK_GOVERNOR:
    case BP_CHECK_GOVERNORS: return "BeamprobeGovernorFailing";
    default: return "BeamprobeCheckFailing";
    }
}

void bp_alert_list_free(bp_alert_list *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int list_add(bp_alert_list *l, const bp_alert *a)
{
    if (l->n == l->alloc) {
        size_t n = l->alloc ? l->alloc * 2 : 8;
        bp_alert *v = realloc(l->v, n * sizeof *v);
        if (!v)
            return BP_ENOMEM;
        l->v = v;
        l->alloc = n;
    }
    l->v[l->n++] = *a;
    return 0;
}

/* Whether an alert's node is target's (bp_alerts_forget). */
static int of_target(const char *node, const char *target)
{
    size_t tl = strlen(target);
    if (strcmp(node, target) == 0)
        return 1;
    return !strchr(target, '@') && strncmp(node, target, tl) == 0 && node[tl] == '@';
}

int bp_alerts_forget(bp_alert_list *firing, const char *target, int64_t now_ms, bp_alert_list *changed)
{
    int rc = 0;
    for (size_t i = 0; i < firing->n && rc == 0;) {
        if (!of_target(firing->v[i].node, target)) {
            i++;
            continue;
        }
        char node[BP_NAME_MAX];
        bp_strlcpy(node, firing->v[i].node, sizeof node);
        rc = bp_alerts_apply(firing, node, NULL, 0, now_ms, changed); /* removes node's alerts: i is next */
    }
    return rc;
}

static int same(const bp_alert *a, const char *node, const bp_failing *f)
{
    return a->critical == f->critical && strcmp(a->check, f->check) == 0 && strcmp(a->node, node) == 0;
}

int bp_alerts_apply(bp_alert_list *firing, const char *node, const bp_failing *failing, size_t n, int64_t now_ms,
                    bp_alert_list *changed)
{
    /* resolved: node's alerts no longer failing (the table keeps its order otherwise) */
    size_t keep = 0;
    int rc = 0;
    for (size_t i = 0; i < firing->n; i++) {
        bp_alert *a = &firing->v[i];
        int still = strcmp(a->node, node) != 0;
        for (size_t k = 0; k < n && !still; k++)
            still = same(a, node, &failing[k]);
        if (!still) {
            a->ends_ms = now_ms;
            if (list_add(changed, a) != 0)
                rc = BP_ENOMEM;
            continue;
        }
        firing->v[keep++] = *a;
    }
    firing->n = keep;
    /* new: failing checks without a firing alert */
    for (size_t k = 0; k < n && rc == 0; k++) {
        int known = 0;
        for (size_t i = 0; i < firing->n && !known; i++)
            known = same(&firing->v[i], node, &failing[k]);
        if (known)
            continue;
        bp_alert a = { .alertname = bp_alert_name(failing[k].kind), .critical = failing[k].critical,
                       .starts_ms = failing[k].since_ms > 0 ? failing[k].since_ms : now_ms };
        bp_strlcpy(a.node, node, sizeof a.node);
        bp_strlcpy(a.check, failing[k].check, sizeof a.check);
        bp_strlcpy(a.reason, failing[k].reason, sizeof a.reason);
        if (list_add(firing, &a) != 0 || list_add(changed, &a) != 0)
            rc = BP_ENOMEM;
    }
    return rc;
}
