/* site.c: publish each target's latest snapshot as pre-rendered views, and log state changes. */
#include "http/site_int.h"

#include <jansson.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "core/json_util.h"
#include "core/log.h"
#include "core/render_json.h"
#include "core/str.h"
#include "notify/notify.h"

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
    char *text = bp_json_dump_doc(o, 0, 0); /* the renderers' own format: 10 significant digits */
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

/* Hand the transitions the latest observe of h recorded, and r's failing checks, to the notifier (copies). */
static void notify(const bp_site *s, const char *node, bp_history *h, const bp_report *r)
{
    int first = 0;
    size_t n = bp_history_latest(h, NULL, 0, &first); /* this thread is h's only observer: n stays */
    bp_transition *tr = n ? malloc(n * sizeof *tr) : NULL;
    if (n && !tr)
        n = 0; /* out of memory: the failing checks still go */
    bp_history_latest(h, tr, n, NULL);
    bp_notifier_observe(s->notifier, node, r, tr, n, first);
    free(tr);
}

/* A view of `snap` (taken over), or of nothing yet when snap is NULL; h records its transitions. */
static bp__view *view_build(const bp_site *s, const char *node, bp_snapshot *snap, bp_history *h)
{
    bp__view *v = calloc(1, sizeof *v);
    if (!v) {
        bp_snapshot_free(snap);
        return NULL;
    }
    atomic_init(&v->refs, 1);
    node = bp_snapshot_name_or(snap, node); /* the node's own name once a probe learned it */
    v->snap = snap;
    v->have = snap != NULL;
    v->up = snap && snap->connect.state == BP_FACT_OK;
    v->collected_ms = bp_now_ms() - (snap ? snap->duration_us / 1000 : 0);
    for (int k = 0; k < BP__KINDS; k++) {
        bp_report r = { 0 };
        if (snap) {
            if (bp_evaluate_as(snap, s->cfg, (bp_probe_kind)k, &r) != 0)
                goto fail;
            v->ok[k] = bp_report_exit_code(&r, s->cfg) == BP_EXIT_HEALTHY;
            if (k == BP_PROBE_READY) {
                /* since when each status holds, and the transitions: before the report is rendered */
                if (h && bp_history_observe(h, &r, snap->timestamp_ms > 0 ? snap->timestamp_ms : bp_wall_ms()) != 0)
                    goto fail;
                if (h && s->notifier) /* never under the site's lock: the notifier only copies and queues */
                    notify(s, node, h, &r);
                v->ready = r;
            }
        }
        v->body[k] = probe_body(&r, (bp_probe_kind)k, node, v->have, v->ok[k], &v->body_len[k]);
        if (!v->body[k])
            goto fail;
    }
    if (snap && s->no_report) {
        return v; /* a one-off answer that does not show the full report */
    } else if (snap) {
        json_t *doc = bp_report_json(&v->ready);
        v->health = doc ? dump_open(doc, &v->health_len) : NULL;
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

/* Prometheus text of views[0..targets.n), without the age family (no lock needed: they are referenced). */
static bp__metrics *metrics_build(const bp_site *s, bp__view *const *views)
{
    size_t n = s->targets.n;
    bp__metrics *m = calloc(1, sizeof *m);
    bp_prom_node *nodes = calloc(n + 1, sizeof *nodes);
    if (!m || !nodes)
        goto fail;
    atomic_init(&m->refs, 1);
    for (size_t i = 0; i < n; i++) {
        const bp__view *v = views[i];
        nodes[i].report = v->have ? &v->ready : NULL;
        nodes[i].node = s->targets.v[i];
        nodes[i].up = v->up;
        nodes[i].age_seconds = -1;
    }
    if (bp_render_prom_multi(&m->text, nodes, n, BP_PROM_NO_AGE) != 0)
        goto fail;
    free(nodes);
    return m;
fail:
    if (m)
        bp_prom_buf_free(&m->text);
    free(m);
    free(nodes);
    return NULL;
}

/* The metrics text (node families, then the cluster's) and the cluster view of views[0..targets.n). 0 or -1 (OOM). */
static int aggregate_build(const bp_site *s, bp__view *const *views, bp__metrics **m, bp__cluster **c)
{
    *m = metrics_build(s, views);
    *c = *m ? bp__cluster_build(s, views, &(*m)->text) : NULL;
    if (*c)
        return 0;
    bp__metrics_unref(*m);
    *m = NULL;
    return -1;
}

/* Take a reference to every current view into out[] (the lock is held). */
static void take_views(bp_site *s, bp__view **out)
{
    for (size_t i = 0; i < s->targets.n; i++) {
        out[i] = s->views[i];
        atomic_fetch_add(&out[i]->refs, 1);
    }
}

/*
 * Rebuild metrics and cluster view from the current views and install them;
 * rebuilds run one at a time, outside `mu`. Out of memory keeps the previous
 * ones. Returns 0 or -1 (out of memory).
 */
static int build_once(bp_site *s)
{
    pthread_mutex_lock(&s->build_mu);
    pthread_mutex_lock(&s->mu);
    uint64_t gen = s->gen;
    take_views(s, s->build_views);
    pthread_mutex_unlock(&s->mu);
    bp__metrics *m;
    bp__cluster *c;
    int rc = aggregate_build(s, s->build_views, &m, &c);
    for (size_t i = 0; i < s->targets.n; i++)
        bp__view_unref(s->build_views[i]);
    pthread_mutex_lock(&s->mu);
    if (rc == 0) {
        bp__metrics *old_m = s->metrics;
        bp__cluster *old_c = s->cluster;
        s->metrics = m;
        s->cluster = c;
        m = old_m;
        c = old_c;
    }
    s->built_gen = gen;
    pthread_cond_broadcast(&s->built);
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_unlock(&s->build_mu);
    if (rc == 0) {
        bp__metrics_unref(m);
        bp__cluster_unref(c);
    }
    return rc;
}

/* The builder pauses this many times as long as its last rebuild took. */
#define PACE_FACTOR 4

/* Several targets: rebuild after publishes, pausing between rebuilds, until stopping. */
static void *builder_main(void *arg)
{
    bp_site *s = arg;
    int64_t next_us = 0; /* no rebuild before (monotonic us) */
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->stopping && s->built_gen == s->gen)
            pthread_cond_wait(&s->wake, &s->mu);
        for (int64_t now; !s->stopping && (now = bp_now_us()) < next_us;) {
            struct timespec until = bp_monotonic_after_us(next_us - now);
            pthread_cond_timedwait(&s->wake, &s->mu, &until);
        }
        if (s->stopping)
            break;
        pthread_mutex_unlock(&s->mu);
        int64_t t0 = bp_now_us();
        build_once(s);
        int64_t t1 = bp_now_us();
        next_us = t1 + (t1 - t0) * PACE_FACTOR;
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Start the builder thread (several targets). 0 or -1. */
static int builder_start(bp_site *s)
{
    if (bp_cond_init_monotonic(&s->wake) != 0)
        return -1;
    if (pthread_create(&s->builder, NULL, builder_main, s) != 0) {
        pthread_cond_destroy(&s->wake);
        return -1;
    }
    s->has_builder = 1;
    return 0;
}

bp_site *bp_site_new(const bp_config *cfg, const char (*names)[BP_NAME_MAX], size_t n, const char *token)
{
    return bp_site_new_from(cfg, names, n, token, NULL);
}

/* Index of node among s's targets, or targets.n when it is not one. */
static size_t target_index(const bp_site *s, const char *node)
{
    size_t i = 0;
    while (i < s->targets.n && strcmp(s->targets.v[i], node) != 0)
        i++;
    return i;
}

/* Targets that prev has too take over its views, and its last logged states for those with a report. */
static void carry(bp_site *s, bp_site *prev)
{
    pthread_mutex_lock(&prev->mu);
    for (size_t i = 0; i < s->targets.n; i++) {
        size_t j = target_index(prev, s->targets.v[i]);
        if (j == prev->targets.n)
            continue;
        s->views[i] = prev->views[j];
        atomic_fetch_add(&s->views[i]->refs, 1);
        if (s->views[i]->have)
            memcpy(s->last[i], prev->last[j], sizeof s->last[i]);
        s->hist[i] = prev->hist[j]; /* the history goes on (with the size it was made with) */
        prev->hist[j] = NULL;
    }
    pthread_mutex_unlock(&prev->mu);
}

static bp_site *site_create(const bp_config *cfg, const char (*names)[BP_NAME_MAX], size_t n, const char *token,
                            bp_site *prev, int lazy)
{
    bp_site *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->lazy = lazy;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->build_mu, NULL);
    pthread_cond_init(&s->built, NULL);
    if (!lazy) { /* a one-off site borrows cfg: it lives no longer than its caller's configuration */
        if (!(s->own_cfg = malloc(sizeof *s->own_cfg)))
            goto fail;
        *s->own_cfg = *cfg;
        cfg = s->own_cfg;
    }
    s->cfg = cfg;
    if (bp_nodeset_add_all(&s->targets, names, n) != 0)
        goto fail;
    size_t nt = s->targets.n;
    /* NOLINTBEGIN(bugprone-sizeof-expression): arrays of pointers, so sizeof one pointer is meant */
    s->views = calloc(nt + 1, sizeof *s->views);
    s->last = calloc(nt + 1, sizeof *s->last);
    s->build_views = calloc(nt + 1, sizeof *s->build_views);
    s->req_views = calloc(nt + 1, sizeof *s->req_views);
    s->req_ages = calloc(nt + 1, sizeof *s->req_ages);
    s->hist = calloc(nt + 1, sizeof *s->hist);
    /* NOLINTEND(bugprone-sizeof-expression) */
    if (!s->views || !s->last || !s->build_views || !s->req_views || !s->req_ages || !s->hist)
        goto fail;
    if (prev)
        carry(s, prev);
    for (size_t i = 0; i < nt; i++)
        if (!s->views[i] && !(s->views[i] = view_build(s, s->targets.v[i], NULL, NULL)))
            goto fail;
    for (size_t i = 0; i < nt; i++)
        if (!s->hist[i] && !(s->hist[i] = bp_history_new((size_t)cfg->history_size)))
            goto fail;
    if ((!lazy && build_once(s) != 0) || (nt > 1 && builder_start(s) != 0))
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

bp_site *bp_site_new_from(const bp_config *cfg, const char (*names)[BP_NAME_MAX], size_t n, const char *token,
                          bp_site *prev)
{
    return site_create(cfg, names, n, token, prev, 0);
}

bp_site *bp_site_new_once(const bp_config *cfg, const char *node, const char *token, int full_report)
{
    char name[1][BP_NAME_MAX];
    if (bp_strlcpy(name[0], node, sizeof name[0]) >= sizeof name[0])
        return NULL;
    bp_site *s = site_create(cfg, (const char (*)[BP_NAME_MAX])name, 1, token, NULL, 1);
    if (s) {
        s->quiet = 1;
        s->no_report = !full_report; /* from the next view on: the first, of no snapshot, has its own */
    }
    return s;
}

void bp_site_free(bp_site *s)
{
    if (!s)
        return;
    if (s->has_builder) {
        pthread_mutex_lock(&s->mu);
        s->stopping = 1;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->builder, NULL);
        pthread_cond_destroy(&s->wake);
    }
    for (size_t i = 0; s->views && i < s->targets.n; i++)
        bp__view_unref(s->views[i]);
    for (size_t i = 0; s->hist && i < s->targets.n; i++)
        bp_history_free(s->hist[i]);
    free(s->hist);
    free(s->views);
    free(s->last);
    free(s->build_views);
    free(s->req_views);
    free(s->req_ages);
    bp__metrics_unref(s->metrics);
    bp__cluster_unref(s->cluster);
    bp_prom_buf_free(&s->scratch);
    free(s->disc);
    bp_nodeset_free(&s->targets);
    free(s->own_cfg);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->build_mu);
    pthread_cond_destroy(&s->built);
    explicit_bzero(s->token_digest, sizeof s->token_digest);
    free(s);
}

const bp_nodeset *bp_site_targets(const bp_site *s)
{
    return &s->targets;
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
    const char *node = bp_snapshot_name_or(v->snap, s->targets.v[i]);
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

void bp_site_set_notifier(bp_site *s, struct bp_notifier *n)
{
    s->notifier = n;
}

void bp_site_publish(bp_site *s, bp_snapshot *snap)
{
    size_t i = target_index(s, bp_snapshot_target(snap));
    if (i == s->targets.n) {
        bp_snapshot_free(snap);
        return;
    }
    bp__view *v = view_build(s, s->targets.v[i], snap, s->hist[i]);
    if (!v)
        return; /* out of memory: keep serving the previous view, which ages into failing */
    pthread_mutex_lock(&s->mu);
    bp__view *old = s->views[i];
    s->views[i] = v;
    log_change(s, i, v);
    s->gen++;
    if (s->has_builder)
        pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    bp__view_unref(old);
    if (!s->has_builder && !s->lazy)
        build_once(s); /* one target: before returning, as cheap as the publish itself */
}

bp__view *bp__site_view(bp_site *s, size_t i)
{
    pthread_mutex_lock(&s->mu);
    bp__view *v = s->views[i];
    atomic_fetch_add(&v->refs, 1);
    pthread_mutex_unlock(&s->mu);
    return v;
}

void bp__site_views(bp_site *s, bp__view **out)
{
    pthread_mutex_lock(&s->mu);
    take_views(s, out);
    pthread_mutex_unlock(&s->mu);
}

int bp__site_settle(bp_site *s, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += timeout_ms % 1000 * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    while (rc == 0 && s->built_gen != s->gen)
        rc = pthread_cond_timedwait(&s->built, &s->mu, &until);
    rc = s->built_gen == s->gen ? 0 : -1;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* A lazy site builds metrics and cluster view when a route first asks for them after a publish. */
static void build_if_lazy(bp_site *s)
{
    if (!s->lazy)
        return;
    pthread_mutex_lock(&s->mu);
    int stale = !s->metrics || s->built_gen != s->gen;
    pthread_mutex_unlock(&s->mu);
    if (stale)
        (void)build_once(s); /* out of memory: NULL below */
}

bp__metrics *bp__site_metrics(bp_site *s)
{
    build_if_lazy(s);
    pthread_mutex_lock(&s->mu);
    bp__metrics *m = s->metrics;
    if (m)
        atomic_fetch_add(&m->refs, 1);
    pthread_mutex_unlock(&s->mu);
    return m;
}

bp__cluster *bp__site_cluster(bp_site *s)
{
    build_if_lazy(s);
    pthread_mutex_lock(&s->mu);
    bp__cluster *c = s->cluster;
    if (c)
        atomic_fetch_add(&c->refs, 1);
    pthread_mutex_unlock(&s->mu);
    return c;
}
