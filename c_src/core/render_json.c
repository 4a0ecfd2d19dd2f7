/* render_json.c: renders a report as the versioned JSON document described in docs/SCHEMA.md. */
#include "core/render_json.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "beamprobe.h"
#include "core/json_util.h"
#include "core/render_top.h"

typedef struct {
    int oom; /* some value or insertion failed */
} jctx;

/* ---- value constructors; unknown values become null ---- */

static json_t *jreal(double v)
{
    return (v < 0 || !isfinite(v)) ? json_null() : json_real(v);
}

/* A threshold: null when disabled (<= 0). */
static json_t *jthreshold(double v)
{
    return jreal(v > 0 ? v : -1);
}

/* The renderers' insert helpers (json_util.h) with the OOM flag of this render. */
static void put(jctx *x, json_t *obj, const char *key, json_t *v)
{
    bp_json_put(&x->oom, obj, key, v);
}

static void append(jctx *x, json_t *arr, json_t *v)
{
    bp_json_append(&x->oom, arr, v);
}

static json_t *jstrv(jctx *x, const bp_strv *v)
{
    json_t *a = json_array();
    for (size_t i = 0; i < v->n && v->v; i++)
        append(x, a, bp_json_string_utf8(v->v[i]));
    return a;
}

static int ok(const bp_fact *f)
{
    return f->state == BP_FACT_OK;
}

/* ---- per-check details ---- */

static void details_identity(jctx *x, json_t *o, const bp_snapshot *s)
{
    int k = ok(&s->identity);
    put(x, o, "otp_release", bp_json_string_utf8(k ? s->otp_release : NULL));
    put(x, o, "erts_version", bp_json_string_utf8(k ? s->erts_version : NULL));
    put(x, o, "uptime_seconds", bp_json_int_or_null(k && s->uptime_ms >= 0 ? s->uptime_ms / 1000 : -1));
}

static void details_memory(jctx *x, json_t *o, const bp_report *r)
{
    put(x, o, "total_bytes", bp_json_int_or_null(r->memory_total));
    put(x, o, "limit_bytes", bp_json_int_or_null(r->memory_limit));
    put(x, o, "limit_source", bp_json_string_utf8(r->memory_limit_source));
    put(x, o, "ratio", jreal(r->memory_ratio));
    put(x, o, "warn_ratio", jthreshold(r->thresholds.memory.warn));
    put(x, o, "fail_ratio", jthreshold(r->thresholds.memory.fail));
}

static void details_limits(jctx *x, json_t *o, const bp_report *r)
{
    for (size_t i = 0; i < BP_LIMIT_KINDS; i++) {
        const bp_limit_use *u = &r->limits[i];
        json_t *l = json_object();
        put(x, l, "count", bp_json_int_or_null(u->count));
        put(x, l, "limit", bp_json_int_or_null(u->limit));
        put(x, l, "ratio", jreal(u->ratio));
        put(x, l, "status", u->ratio >= 0 ? json_string(bp_status_name(u->status)) : json_null());
        put(x, l, "warn_ratio", jthreshold(u->threshold.warn));
        put(x, l, "fail_ratio", jthreshold(u->threshold.fail));
        put(x, o, u->name, l);
    }
}

static void details_schedulers(jctx *x, json_t *o, const bp_report *r)
{
    const bp_snapshot *s = r->snap;
    int k = ok(&s->schedulers);
    put(x, o, "run_queue", bp_json_int_or_null(k ? s->run_queue : -1));
    put(x, o, "schedulers_online", bp_json_int_or_null(k ? s->schedulers_online : -1));
    put(x, o, "run_queue_per_scheduler", jreal(r->run_queue_per_scheduler));
    put(x, o, "dirty_cpu_run_queue", bp_json_int_or_null(k ? s->dirty_cpu_run_queue : -1));
    put(x, o, "dirty_io_run_queue", bp_json_int_or_null(k ? s->dirty_io_run_queue : -1));
    put(x, o, "warn_per_scheduler", jthreshold(r->thresholds.run_queue_warn));
    put(x, o, "fail_per_scheduler", jthreshold(r->thresholds.run_queue_fail));
}

static void details_applications(jctx *x, json_t *o, const bp_report *r)
{
    const bp_snapshot *s = r->snap;
    json_t *running = ok(&s->applications) ? json_array() : json_null();
    for (size_t i = 0; ok(&s->applications) && s->apps && i < s->n_apps; i++) {
        json_t *a = json_object();
        put(x, a, "name", bp_json_string_utf8(s->apps[i].name));
        put(x, a, "version", bp_json_string_utf8(s->apps[i].version));
        append(x, running, a);
    }
    put(x, o, "running", running);
    put(x, o, "missing", jstrv(x, &r->missing_apps));
}

static void details_membership(jctx *x, json_t *o, const bp_report *r)
{
    const bp_snapshot *s = r->snap;
    int k = ok(&s->membership);
    put(x, o, "visible", k ? jstrv(x, &s->visible) : json_null());
    put(x, o, "hidden", k ? jstrv(x, &s->hidden) : json_null());
    put(x, o, "missing", jstrv(x, &r->missing_peers));
    put(x, o, "cluster_size", bp_json_int_or_null(k ? (int64_t)s->visible.n + 1 : -1));
    put(x, o, "expected_size", bp_json_int_or_null(r->expect_size > 0 ? r->expect_size : -1));
}

/* [{"supervisor": ..., "child": ...}] */
static json_t *child_list(jctx *x, const bp_child_down *l, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n && l; i++) {
        json_t *d = json_object();
        put(x, d, "supervisor", bp_json_string_utf8(l[i].supervisor));
        put(x, d, "child", bp_json_string_utf8(l[i].child));
        append(x, a, d);
    }
    return a;
}

static void details_supervisor(jctx *x, json_t *o, const bp_check *c)
{
    const bp_supervisor_snap *sv = c->supervisor;
    int k = sv && ok(&sv->fact);
    put(x, o, "name", bp_json_string_utf8(c->subject));
    put(x, o, "pid", bp_json_string_utf8(sv ? sv->pid : NULL));
    put(x, o, "kind", bp_json_string_utf8(sv ? sv->kind : NULL));
    put(x, o, "specs", bp_json_int_or_null(k ? sv->specs : -1));
    put(x, o, "active", bp_json_int_or_null(k ? sv->active : -1));
    put(x, o, "workers", bp_json_int_or_null(k ? sv->workers : -1));
    put(x, o, "supervisors", bp_json_int_or_null(k ? sv->supervisors : -1));
    put(x, o, "nested", bp_json_int_or_null(k ? (int64_t)c->n_nested : -1));
    put(x, o, "children_down_count", bp_json_int_or_null(k ? (int64_t)c->n_children_down : -1));
    put(x, o, "children_down", child_list(x, c->children_down, c->n_children_listed));
    put(x, o, "children_stopped_count", bp_json_int_or_null(k ? (int64_t)c->n_children_stopped : -1));
    put(x, o, "children_stopped", child_list(x, c->children_stopped, c->n_stopped_listed));
    put(x, o, "children_truncated", json_boolean(c->children_truncated));
    put(x, o, "intensity", bp_json_int_or_null(k ? sv->intensity : -1));
    put(x, o, "period_seconds", bp_json_int_or_null(k ? sv->period : -1));
    put(x, o, "recent_restarts", bp_json_int_or_null(k ? sv->recent_restarts : -1));
    json_t *near = json_null();
    if (c->restarts) {
        near = json_object();
        put(x, near, "supervisor", bp_json_string_utf8(c->restarts->name));
        put(x, near, "recent_restarts", json_integer(c->restarts->recent_restarts));
        put(x, near, "intensity", json_integer(c->restarts->intensity));
        put(x, near, "period_seconds", json_integer(c->restarts->period));
    }
    put(x, o, "nearest_intensity", near);
}

static void details_governor(jctx *x, json_t *o, const bp_check *c)
{
    const bp_governor_snap *g = c->governor;
    int k = g && ok(&g->fact);
    put(x, o, "name", bp_json_string_utf8(c->subject));
    put(x, o, "pid", bp_json_string_utf8(k && g->alive ? g->pid : NULL));
    put(x, o, "alive", k ? json_boolean(g->alive) : json_null());
    put(x, o, "kind", bp_json_string_utf8(k && g->alive ? g->kind : NULL));
    if (c->state_since_ms > 0)
        put(x, o, "state_since", bp_json_timestamp(c->state_since_ms));
    put(x, o, "state", bp_json_string_utf8(k && g->alive && ok(&g->state_fact) ? g->state : NULL));
    put(x, o, "message_queue_len", bp_json_int_or_null(k && g->alive ? g->message_queue_len : -1));
    put(x, o, "memory_bytes", bp_json_int_or_null(k && g->alive ? g->memory : -1));
}

static void details_family(jctx *x, json_t *o, const bp_check *c)
{
    const bp_govfamily_snap *f = c->family;
    int k = f && ok(&f->fact);
    put(x, o, "name", bp_json_string_utf8(c->subject));
    put(x, o, "pid", bp_json_string_utf8(f ? f->pid : NULL));
    put(x, o, "kind", bp_json_string_utf8(f ? f->kind : NULL));
    put(x, o, "members", bp_json_int_or_null(k ? (int64_t)f->n_total : -1));
    put(x, o, "inspected", bp_json_int_or_null(k ? (int64_t)f->n_members : -1));
    json_t *states = json_object();
    for (size_t i = 0; k && i < c->n_states && c->states; i++)
        put(x, states, c->states[i].state, json_integer((json_int_t)c->states[i].count));
    if (c->states_other)
        put(x, states, "other", json_integer((json_int_t)c->states_other));
    put(x, o, "states", states);
    json_t *flagged = json_array();
    for (size_t i = 0; i < c->n_flagged && c->flagged; i++) {
        const bp_governor_snap *g = c->flagged[i].governor;
        json_t *d = json_object();
        put(x, d, "governor", bp_json_string_utf8(g->name));
        put(x, d, "pid", bp_json_string_utf8(g->pid));
        put(x, d, "state", bp_json_string_utf8(g->state));
        put(x, d, "status", json_string(bp_status_name(c->flagged[i].status)));
        put(x, d, "reason", bp_json_string_utf8(c->flagged[i].reason));
        append(x, flagged, d);
    }
    put(x, o, "flagged", flagged);
    put(x, o, "flagged_count", json_integer((json_int_t)c->n_flagged_total));
}

static void details_mnesia(jctx *x, json_t *o, const bp_report *r)
{
    const bp_snapshot *s = r->snap;
    int k = ok(&s->mnesia);
    put(x, o, "running", bp_json_string_utf8(k ? s->mnesia_running : NULL));
    put(x, o, "db_nodes", k ? jstrv(x, &s->mnesia_db_nodes) : json_null());
    put(x, o, "running_db_nodes", k ? jstrv(x, &s->mnesia_running_nodes) : json_null());
    put(x, o, "missing_db_nodes", jstrv(x, &r->mnesia_missing));
    put(x, o, "tables", bp_json_int_or_null(k ? s->mnesia_tables : -1));
    put(x, o, "tables_not_loaded", k ? jstrv(x, &s->mnesia_unloaded) : json_null());
}

static void details_custom(jctx *x, json_t *o, const bp_check *c)
{
    const bp_custom_snap *k = c->custom;
    int good = k && ok(&k->fact);
    put(x, o, "mfa", bp_json_string_utf8(c->subject));
    put(x, o, "result", good ? json_string(bp_status_name(c->status)) : json_null());
    put(x, o, "detail", bp_json_string_utf8(good ? k->detail : NULL));
}

static json_t *check_object(jctx *x, const bp_report *r, const bp_check *c)
{
    json_t *o = json_object();
    put(x, o, "status", json_string(bp_status_name(c->status)));
    put(x, o, "reason", bp_json_string_utf8(c->reason));
    put(x, o, "incomplete", json_boolean(c->incomplete));
    if (c->since_ms > 0) /* serve and the in-VM server keep a history: when this status began */
        put(x, o, "since", bp_json_timestamp(c->since_ms));
    switch (c->kind) {
    case BP_CHECK_CONNECTION:
        put(x, o, "error_code", r->snap->connect_code ? json_integer(r->snap->connect_code) : json_null());
        break;
    case BP_CHECK_IDENTITY: details_identity(x, o, r->snap); break;
    case BP_CHECK_MEMORY: details_memory(x, o, r); break;
    case BP_CHECK_LIMITS: details_limits(x, o, r); break;
    case BP_CHECK_SCHEDULERS: details_schedulers(x, o, r); break;
    case BP_CHECK_APPLICATIONS: details_applications(x, o, r); break;
    case BP_CHECK_MEMBERSHIP: details_membership(x, o, r); break;
    case BP_CHECK_SUPERVISOR: details_supervisor(x, o, c); break;
    case BP_CHECK_GOVERNOR: details_governor(x, o, c); break;
    case BP_CHECK_GOVERNORS: details_family(x, o, c); break;
    case BP_CHECK_MNESIA: details_mnesia(x, o, r); break;
    case BP_CHECK_CUSTOM: details_custom(x, o, c); break;
    }
    return o;
}

/* Checks keyed by name; a repeated name gets "#2", "#3", ... so nothing is lost. */
static json_t *checks_object(jctx *x, const bp_report *r)
{
    json_t *checks = json_object();
    for (size_t i = 0; i < r->n_checks; i++) {
        const bp_check *c = &r->checks[i];
        const char *name = c->name ? c->name : "";
        json_t *o = check_object(x, r, c);
        if (!checks || !json_object_get(checks, name)) {
            put(x, checks, name, o);
            continue;
        }
        size_t len = strlen(name) + 32;
        char *alt = malloc(len);
        if (!alt) {
            json_decref(o);
            x->oom = 1;
            continue;
        }
        for (unsigned n = 2;; n++) {
            snprintf(alt, len, "%s#%u", name, n);
            if (!json_object_get(checks, alt))
                break;
        }
        put(x, checks, alt, o);
        free(alt);
    }
    return checks;
}

static json_t *metrics_object(jctx *x, const bp_snapshot *s)
{
    json_t *m = json_object();
    json_t *mem = json_null();
    if (ok(&s->memory)) {
        mem = json_object();
        for (size_t i = 0; i < s->n_memory && i < sizeof s->memory_kinds / sizeof s->memory_kinds[0]; i++)
            if (s->memory_kinds[i].kind)
                put(x, mem, s->memory_kinds[i].kind, bp_json_int_or_null(s->memory_kinds[i].bytes));
    }
    put(x, m, "memory", mem);
    int l = ok(&s->limits);
    put(x, m, "process_count", bp_json_int_or_null(l ? s->process_count : -1));
    put(x, m, "process_limit", bp_json_int_or_null(l ? s->process_limit : -1));
    put(x, m, "port_count", bp_json_int_or_null(l ? s->port_count : -1));
    put(x, m, "port_limit", bp_json_int_or_null(l ? s->port_limit : -1));
    put(x, m, "atom_count", bp_json_int_or_null(l ? s->atom_count : -1));
    put(x, m, "atom_limit", bp_json_int_or_null(l ? s->atom_limit : -1));
    put(x, m, "ets_count", bp_json_int_or_null(l ? s->ets_count : -1));
    put(x, m, "ets_limit", bp_json_int_or_null(l ? s->ets_limit : -1));
    put(x, m, "open_fds", bp_json_int_or_null(s->open_fds)); /* own facts, -1 unknown */
    put(x, m, "max_fds", bp_json_int_or_null(s->max_fds));
    int q = ok(&s->schedulers);
    put(x, m, "run_queue", bp_json_int_or_null(q ? s->run_queue : -1));
    put(x, m, "dirty_cpu_run_queue", bp_json_int_or_null(q ? s->dirty_cpu_run_queue : -1));
    put(x, m, "dirty_io_run_queue", bp_json_int_or_null(q ? s->dirty_io_run_queue : -1));
    put(x, m, "schedulers_online", bp_json_int_or_null(q ? s->schedulers_online : -1));
    put(x, m, "dirty_cpu_schedulers_online", bp_json_int_or_null(q ? s->dirty_cpu_schedulers_online : -1));
    put(x, m, "dirty_io_schedulers", bp_json_int_or_null(q ? s->dirty_io_schedulers : -1));
    int nm = ok(&s->membership);
    put(x, m, "visible_nodes", bp_json_int_or_null(nm ? (int64_t)s->visible.n : -1));
    put(x, m, "hidden_nodes", bp_json_int_or_null(nm ? (int64_t)s->hidden.n : -1));
    json_t *cg = json_null();
    if (ok(&s->cgroup)) {
        cg = json_object();
        put(x, cg, "version", bp_json_string_utf8(s->cgroup_version));
        put(x, cg, "limit_bytes", bp_json_int_or_null(s->cgroup_limit));
        put(x, cg, "usage_bytes", bp_json_int_or_null(s->cgroup_usage));
    }
    put(x, m, "cgroup", cg);
    int id = ok(&s->identity);
    put(x, m, "otp_release", bp_json_string_utf8(id ? s->otp_release : NULL));
    put(x, m, "erts_version", bp_json_string_utf8(id ? s->erts_version : NULL));
    return m;
}

json_t *bp_report_json(const bp_report *r)
{
    if (!r || !r->snap)
        return NULL;
    const bp_snapshot *s = r->snap;
    jctx x = {0};
    json_t *doc = json_object();
    put(&x, doc, "schema_version", json_integer(BP_SCHEMA_VERSION));
    put(&x, doc, "status", json_string(bp_overall_name(r->status)));
    put(&x, doc, "probe", json_string(bp_probe_name(r->probe)));
    put(&x, doc, "node", bp_json_string_utf8(s->node));
    put(&x, doc, "given_as", s->given_as ? bp_json_string_utf8(s->given_as) : json_null());
    put(&x, doc, "timestamp", bp_json_timestamp(s->timestamp_ms));
    put(&x, doc, "uptime_seconds",
        bp_json_int_or_null(ok(&s->identity) && s->uptime_ms >= 0 ? s->uptime_ms / 1000 : -1));
    put(&x, doc, "duration_ms", jreal(s->duration_us >= 0 ? (double)s->duration_us / 1000.0 : -1));
    put(&x, doc, "round_trips", bp_json_int_or_null(s->round_trips));
    put(&x, doc, "plan", s->plan ? json_string(s->plan) : json_null());
    put(&x, doc, "plan_reason", s->plan_reason ? bp_json_string_utf8(s->plan_reason) : json_null());
    put(&x, doc, "plan_unused", bp_json_int_or_null(s->plan_unused));
    put(&x, doc, "connect_rtt_ms", s->rtt_us >= 0 ? json_real((double)s->rtt_us / 1000.0) : json_null());
    put(&x, doc, "incomplete", json_boolean(r->incomplete));
    put(&x, doc, "checks", checks_object(&x, r));
    put(&x, doc, "metrics", metrics_object(&x, s));
    if (s->top.asked) /* --top only: the document is otherwise unchanged */
        put(&x, doc, "top", bp_render_top_json(&x.oom, &s->top));
    if (x.oom) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

char *bp_render_json(const bp_report *r, int pretty)
{
    json_t *doc = bp_report_json(r);
    return doc ? bp_json_dump_doc(doc, 0, pretty) : NULL;
}
