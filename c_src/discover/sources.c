/* sources.c: serve's discovery state per source: the last nodes found, kept across failures, retry backoff, the union. */
#include "discover/sources.h"

#include <stdio.h>
#include <string.h>

#include "beamprobe.h"
#include "core/str.h"

int64_t bp_source_backoff_ms(unsigned failures)
{
    int64_t ms = BP_SOURCE_BACKOFF_MIN_MS;
    for (unsigned i = 1; i < failures && ms < BP_SOURCE_BACKOFF_MAX_MS; i++)
        ms *= 2;
    return ms < BP_SOURCE_BACKOFF_MAX_MS ? ms : BP_SOURCE_BACKOFF_MAX_MS;
}

void bp_sources_init(bp_sources *s, const bp_config *cfg, const bp_sources *prev)
{
    char labels[BP_SOURCES_MAX][BP_SOURCE_LABEL_MAX];
    int kinds[BP_SOURCES_MAX];
    memset(s, 0, sizeof *s);
    s->n = bp_targets_sources(cfg, labels, kinds);
    for (size_t i = 0; i < s->n; i++) {
        bp_source *src = &s->v[i];
        bp_strlcpy(src->st.label, labels[i], sizeof src->st.label);
        src->kind = kinds[i];
        for (size_t j = 0; prev && j < prev->n; j++) {
            const bp_source *p = &prev->v[j];
            if (strcmp(p->st.label, src->st.label) != 0)
                continue;
            src->st = p->st;
            src->failures = p->failures;
            if (bp_nodeset_add_all(&src->nodes, (const char (*)[BP_NAME_MAX])p->nodes.v, p->nodes.n) != 0) {
                bp_nodeset_free(&src->nodes); /* out of memory: as if never asked */
                src->st.have = 0;
            }
        }
        src->next_ms = 0;
    }
}

void bp_sources_free(bp_sources *s)
{
    for (size_t i = 0; i < s->n; i++)
        bp_nodeset_free(&s->v[i].nodes);
}

int bp_source_record(bp_source *src, int rc, bp_nodeset *found, const char *why, int64_t now_ms,
                     int64_t wall_ms, int rediscover_ms)
{
    if (rc == 0) {
        int changed = !src->st.have || !bp_names_equal((const char (*)[BP_NAME_MAX])src->nodes.v, src->nodes.n,
                                                       (const char (*)[BP_NAME_MAX])found->v, found->n);
        bp_nodeset tmp = src->nodes;
        src->nodes = *found; /* moved */
        *found = tmp;
        bp_nodeset_clear(found);
        src->st.have = 1;
        src->st.ok = 1;
        src->st.found = src->nodes.n;
        src->st.last_success_wall_ms = wall_ms;
        src->st.error[0] = '\0';
        src->failures = 0;
        src->next_ms = rediscover_ms > 0 ? now_ms + rediscover_ms : INT64_MAX;
        return changed;
    }
    src->st.ok = 0;
    src->st.failures_total++;
    bp_strlcpy(src->st.error, why && why[0] ? why : "failed", sizeof src->st.error);
    if (src->failures < 64)
        src->failures++;
    int64_t wait = bp_source_backoff_ms(src->failures);
    if (src->st.have && rediscover_ms > 0 && rediscover_ms < wait)
        wait = rediscover_ms;
    src->next_ms = now_ms + wait;
    return 0;
}

int bp_sources_merge(const bp_namelist *nodes, const bp_sources *s, bp_nodeset *out, char *err, size_t errlen)
{
    bp_nodeset_clear(out);
    int rc = bp_nodeset_add_all(out, nodes->v, nodes->n);
    const char *who = "--node";
    for (size_t i = 0; rc == 0 && i < s->n; i++) {
        who = s->v[i].st.label;
        rc = bp_nodeset_add_all(out, (const char (*)[BP_NAME_MAX])s->v[i].nodes.v, s->v[i].nodes.n);
    }
    if (rc == BP_ETOOBIG)
        snprintf(err, errlen, "more than %zu targets in all (--nodes and the discovery sources together; up to %s)",
                 bp_nodeset_limit(out), who);
    else if (rc)
        snprintf(err, errlen, "out of memory collecting the targets of %s", who);
    return rc;
}

int64_t bp_sources_next_ms(const bp_sources *s)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].next_ms < next)
            next = s->v[i].next_ms;
    return next;
}

void bp_sources_status(const bp_sources *s, bp_discovery_status *out)
{
    memset(out, 0, sizeof *out);
    out->n = s->n;
    for (size_t i = 0; i < s->n; i++)
        out->v[i] = s->v[i].st;
}

int bp_discovery_pending(const bp_discovery_status *st, size_t targets, char *reason, size_t len)
{
    if (!st || st->n == 0)
        return 0;
    for (size_t i = 0; i < st->n; i++)
        if (!st->v[i].have) {
            snprintf(reason, len, "discovery %s: %s", st->v[i].label,
                     st->v[i].error[0] ? st->v[i].error : "not asked yet");
            return 1;
        }
    if (targets > 0)
        return 0;
    snprintf(reason, len, "discovery found no nodes (%s%s)", st->v[0].label, st->n > 1 ? " and the others" : "");
    return 1;
}
