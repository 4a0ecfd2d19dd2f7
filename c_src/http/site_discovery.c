/* site_discovery.c: the discovery sources' state in the site: the readiness gate, its JSON and its metrics. */
#include "http/site_int.h"

#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"
#include "core/json_util.h"

int bp_site_set_discovery(bp_site *s, const bp_discovery_status *st)
{
    bp_discovery_status *copy = NULL;
    if (st && st->n > 0) {
        copy = malloc(sizeof *copy);
        if (!copy)
            return -1;
        *copy = *st;
    }
    pthread_mutex_lock(&s->mu);
    bp_discovery_status *old = s->disc;
    s->disc = copy;
    pthread_mutex_unlock(&s->mu);
    free(old);
    return 0;
}

int bp__site_discovery(bp_site *s, bp_discovery_status *st, int *pending, char *reason, size_t len)
{
    pthread_mutex_lock(&s->mu);
    int have = s->disc != NULL;
    if (have)
        *st = *s->disc;
    pthread_mutex_unlock(&s->mu);
    *pending = have && bp_discovery_pending(st, s->targets.n, reason, len);
    return have;
}

char *bp__discovery_fields(const bp_discovery_status *st, const char *key, const char *reason)
{
    int oom = 0;
    json_t *doc = json_object(), *a = json_array();
    if (reason)
        bp_json_put(&oom, doc, key, bp_json_string_utf8(reason));
    for (size_t i = 0; i < st->n; i++) {
        const bp_source_status *v = &st->v[i];
        json_t *o = json_object();
        bp_json_put(&oom, o, "source", bp_json_string_utf8(v->label));
        bp_json_put(&oom, o, "ok", json_boolean(v->ok));
        bp_json_put(&oom, o, "found", v->have ? json_integer((json_int_t)v->found) : json_null());
        bp_json_put(&oom, o, "last_success", bp_json_timestamp(v->last_success_wall_ms));
        bp_json_put(&oom, o, "failures", json_integer((json_int_t)v->failures_total));
        if (!v->ok)
            bp_json_put(&oom, o, "error", bp_json_string_utf8(v->error[0] ? v->error : "not asked yet"));
        bp_json_append(&oom, a, o);
    }
    bp_json_put(&oom, doc, "discovery", a);
    char *text = bp_json_dump_doc(doc, oom, 0);
    size_t n = text ? strlen(text) : 0;
    while (n > 0 && text[n - 1] != '}')
        n--;
    if (n < 2) {
        free(text);
        return NULL;
    }
    memmove(text, text + 1, n - 2); /* without the braces */
    text[n - 2] = '\0';
    return text;
}

int bp__discovery_prom(const bp_discovery_status *st, bp_prom_buf *b)
{
    bp_prom_gauge ok[BP_SOURCES_MAX] = { 0 }, last[BP_SOURCES_MAX] = { 0 }, found[BP_SOURCES_MAX] = { 0 };
    bp_prom_count fails[BP_SOURCES_MAX] = { 0 };
    size_t n = st->n, nf = 0;
    for (size_t i = 0; i < n; i++) {
        const bp_source_status *v = &st->v[i];
        ok[i] = (bp_prom_gauge){ v->label, v->ok };
        last[i] = (bp_prom_gauge){ v->label, v->last_success_wall_ms / 1000.0 };
        fails[i] = (bp_prom_count){ v->label, v->failures_total };
        if (v->have)
            found[nf++] = (bp_prom_gauge){ v->label, (double)v->found };
    }
    int rc = bp_render_prom_gauge(b, "beamprobe_discovery_ok",
                                  "1 if the last attempt of the discovery source succeeded, else 0.", "source", ok, n);
    if (rc == 0)
        rc = bp_render_prom_gauge(b, "beamprobe_discovery_last_success_timestamp_seconds",
                                  "Unix time of the discovery source's last success (0: never).", "source", last, n);
    if (rc == 0 && nf > 0)
        rc = bp_render_prom_gauge(b, "beamprobe_discovery_nodes",
                                  "Nodes the discovery source found at its last success.", "source", found, nf);
    if (rc == 0)
        rc = bp_render_prom_counter(b, "beamprobe_discovery_failures_total",
                                    "Failed attempts of the discovery source since serve started.", "source", fails,
                                    n);
    return rc;
}
