/* site.c: publish each target's latest snapshot as pre-rendered views, and log state changes. */
#include "http/site_int.h"

#include <jansson.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"

static void view_free(bp__view *v)
{
    for (int k = 0; k < BP__KINDS; k++)
        free(v->body[k]);
    free(v->health);
    bp_snapshot_free(v->snap);
    free(v);
}

void bp__view_unref(void *p)
{
    bp__view *v = p;
    if (v && atomic_fetch_sub(&v->refs, 1) == 1)
        view_free(v);
}

void bp__metrics_unref(void *p)
{
    bp__metrics *m = p;
    if (m && atomic_fetch_sub(&m->refs, 1) == 1) {
        bp_prom_buf_free(&m->text);
        free(m);
    }
}

/* Dump a JSON object compactly and leave it open (no closing brace) for the age fields. */
static char *dump_open(json_t *o, size_t *len)
{
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
        n--;
    if (n == 0 || text[n - 1] != '}') {
        free(text);
        return NULL;
    }
    text[--n] = '\0';
    *len = n;
    return text;
}

/* The small body of one probe kind: verdict, node and the checks that did not pass. */
static char *probe_body(const bp_report *r, bp_probe_kind k, const char *node, int have, int ok, size_t *len)
{
    json_t *o = json_object(), *failing = json_array();
    const char *reason = "no probe has completed yet";
    json_object_set_new(o, "status", json_string(have ? bp_overall_name(r->status) : "unknown"));
    json_object_set_new(o, "ok", json_boolean(ok));
    json_object_set_new(o, "probe", json_string(bp_probe_name(k)));
    json_object_set_new(o, "node", json_string(node));
    for (size_t i = 0; have && i < r->n_checks; i++) {
        if (r->checks[i].status == BP_PASS)
            continue;
        json_array_append_new(failing, json_string(r->checks[i].name));
        if (json_array_size(failing) == 1)
            reason = r->checks[i].reason;
    }
    json_object_set_new(o, "checks_not_passing", failing);
    if (!have || json_array_size(failing) > 0)
        json_object_set_new(o, "reason", json_string(reason));
    return dump_open(o, len);
}

/* A view of `snap` (taken over), or of nothing yet when snap is NULL. */
static bp__view *view_build(const bp_site *s, const char *node, bp_snapshot *snap)
{
    bp__view *v = calloc(1, sizeof *v);
    if (!v) {
        bp_snapshot_free(snap);
        return NULL;
    }
    atomic_init(&v->refs, 1);
    v->snap = snap;
    v->have = snap != NULL;
    v->up = snap && snap->connect.state == BP_FACT_OK;
    v->collected_ms = bp_now_ms() - (snap ? snap->duration_us / 1000 : 0);
    for (int k = 0; k < BP__KINDS; k++) {
        bp_report r = { 0 };
        if (snap) {
            bp_config c = s->cfg;
            c.probe = (bp_probe_kind)k;
            if (bp_evaluate(snap, &c, &r) != 0)
                goto fail;
            v->ok[k] = bp_report_exit_code(&r, &c) == BP_EXIT_HEALTHY;
            if (k == BP_PROBE_READY)
                v->ready = r;
        }
        v->body[k] = probe_body(&r, (bp_probe_kind)k, node, v->have, v->ok[k], &v->body_len[k]);
        if (!v->body[k])
            goto fail;
    }
    if (snap) {
        char *full = bp_render_json(&v->ready, 0);
        json_t *parsed = full ? json_loads(full, 0, NULL) : NULL;
        free(full);
        v->health = dump_open(parsed, &v->health_len);
    } else {
        json_t *o = json_object();
        json_object_set_new(o, "schema_version", json_integer(BP_SCHEMA_VERSION));
        json_object_set_new(o, "status", json_string("unknown"));
        json_object_set_new(o, "node", json_string(node));
        json_object_set_new(o, "reason", json_string("no probe has completed yet"));
        v->health = dump_open(o, &v->health_len);
    }
    if (!v->health)
        goto fail;
    return v;
fail:
    view_free(v);
    return NULL;
}

/* Prometheus text of every current view (the lock is held). */
static bp__metrics *metrics_build(bp_site *s)
{
    bp__metrics *m = calloc(1, sizeof *m);
    bp_prom_node *nodes = calloc(s->cfg.nodes.n + 1, sizeof *nodes);
    if (!m || !nodes)
        goto fail;
    atomic_init(&m->refs, 1);
    for (size_t i = 0; i < s->cfg.nodes.n; i++) {
        const bp__view *v = s->views[i];
        nodes[i].report = v->have ? &v->ready : NULL;
        nodes[i].node = s->cfg.nodes.v[i];
        nodes[i].up = v->up;
        nodes[i].age_seconds = -1;
    }
    if (bp_render_prom_multi(&m->text, nodes, s->cfg.nodes.n, BP_PROM_NO_AGE) != 0)
        goto fail;
    bp__cluster *cl = bp__cluster_build(s, &m->text);
    if (!cl)
        goto fail;
    bp__cluster_unref(s->cluster);
    s->cluster = cl;
    free(nodes);
    return m;
fail:
    if (m)
        bp_prom_buf_free(&m->text);
    free(m);
    free(nodes);
    return NULL;
}

bp_site *bp_site_new(const bp_config *cfg, const char *token)
{
    return bp_site_new_from(cfg, token, NULL);
}

/* prev's view of `node` with a reference taken, or NULL. */
static bp__view *carried_view(bp_site *prev, const char *node)
{
    for (size_t i = 0; prev && i < prev->cfg.nodes.n; i++)
        if (strcmp(prev->cfg.nodes.v[i], node) == 0)
            return bp__site_view(prev, i);
    return NULL;
}

bp_site *bp_site_new_from(const bp_config *cfg, const char *token, bp_site *prev)
{
    bp_site *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = *cfg;
    pthread_mutex_init(&s->mu, NULL);
    size_t n = cfg->nodes.n;
    s->views = calloc(n + 1, sizeof *s->views);
    s->last = calloc(n + 1, sizeof *s->last);
    if (!s->views || !s->last)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        s->views[i] = carried_view(prev, cfg->nodes.v[i]);
        if (!s->views[i] && !(s->views[i] = view_build(s, cfg->nodes.v[i], NULL)))
            goto fail;
        if (prev && s->views[i]->have)
            for (size_t j = 0; j < prev->cfg.nodes.n; j++)
                if (strcmp(prev->cfg.nodes.v[j], cfg->nodes.v[i]) == 0)
                    memcpy(s->last[i], prev->last[j], sizeof s->last[i]);
    }
    if (!(s->metrics = metrics_build(s)))
        goto fail;
    if (token) {
        SHA256((const unsigned char *)token, strlen(token), s->token_digest);
        s->have_token = 1;
    }
    return s;
fail:
    bp_site_free(s);
    return NULL;
}

void bp_site_free(bp_site *s)
{
    if (!s)
        return;
    for (size_t i = 0; s->views && i < s->cfg.nodes.n; i++)
        bp__view_unref(s->views[i]);
    free(s->views);
    free(s->last);
    bp__metrics_unref(s->metrics);
    bp__cluster_unref(s->cluster);
    bp_prom_buf_free(&s->scratch);
    pthread_mutex_destroy(&s->mu);
    explicit_bzero(s->token_digest, sizeof s->token_digest);
    free(s);
}

/* The first check that did not pass, as "name: reason". */
static void first_problem(const bp_report *r, char *out, size_t len)
{
    out[0] = '\0';
    for (size_t i = 0; i < r->n_checks; i++)
        if (r->checks[i].status != BP_PASS) {
            snprintf(out, len, "%s: %s", r->checks[i].name, r->checks[i].reason);
            return;
        }
}

/* Log what changed since the last publish of target i (the lock is held). */
static void log_change(bp_site *s, size_t i, const bp__view *v)
{
    const char *node = s->cfg.nodes.v[i];
    const char *now = v->up ? bp_overall_name(v->ready.status) : "down";
    char *was = s->last[i];
    char why[600];
    if (s->quiet || strcmp(was, now) == 0)
        return;
    if (!v->up)
        bp_log("down", node, "%s", v->snap->connect.error ? v->snap->connect.error : "cannot connect");
    else if (strcmp(was, "down") == 0)
        bp_log("reconnected", node, "%s", now);
    else {
        first_problem(&v->ready, why, sizeof why);
        bp_log("state", node, "%s -> %s%s%s", was[0] ? was : "(first report)", now, why[0] ? ": " : "", why);
    }
    bp_strlcpy(was, now, sizeof s->last[i]);
}

void bp_site_set_quiet(bp_site *s, int quiet)
{
    s->quiet = quiet;
}

void bp_site_publish(bp_site *s, bp_snapshot *snap)
{
    size_t i = 0;
    while (i < s->cfg.nodes.n && strcmp(s->cfg.nodes.v[i], snap->node) != 0)
        i++;
    if (i == s->cfg.nodes.n) {
        bp_snapshot_free(snap);
        return;
    }
    bp__view *v = view_build(s, s->cfg.nodes.v[i], snap);
    if (!v)
        return; /* out of memory: keep serving the previous view, which ages into failing */
    pthread_mutex_lock(&s->mu);
    bp__view *old = s->views[i];
    s->views[i] = v;
    bp__metrics *m = metrics_build(s), *old_m = NULL;
    if (m) {
        old_m = s->metrics;
        s->metrics = m;
    }
    log_change(s, i, v);
    pthread_mutex_unlock(&s->mu);
    bp__view_unref(old);
    bp__metrics_unref(old_m);
}

bp__view *bp__site_view(bp_site *s, size_t i)
{
    pthread_mutex_lock(&s->mu);
    bp__view *v = s->views[i];
    atomic_fetch_add(&v->refs, 1);
    pthread_mutex_unlock(&s->mu);
    return v;
}

bp__metrics *bp__site_metrics(bp_site *s)
{
    pthread_mutex_lock(&s->mu);
    bp__metrics *m = s->metrics;
    atomic_fetch_add(&m->refs, 1);
    pthread_mutex_unlock(&s->mu);
    return m;
}

bp__cluster *bp__site_cluster(bp_site *s)
{
    pthread_mutex_lock(&s->mu);
    bp__cluster *c = s->cluster;
    atomic_fetch_add(&c->refs, 1);
    pthread_mutex_unlock(&s->mu);
    return c;
}
