/* policy.c: judges one node's snapshot under the configured thresholds and probe kind into a report. */
#include "core/report.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"

#include "core/policy_int.h"


void bp__sb_init(sbuf *b, char *buf, size_t cap)
{
    b->buf = buf;
    b->cap = cap;
    b->len = 0;
    b->full = 0;
    buf[0] = '\0';
}

/* Append; on overflow end the text with "..." cut at a UTF-8 character boundary. */
__attribute__((format(printf, 2, 3)))
void bp__sb_addf(sbuf *b, const char *fmt, ...)
{
    if (b->full)
        return;
    size_t room = b->cap - b->len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->buf + b->len, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->buf[b->len] = '\0';
        return;
    }
    if ((size_t)n < room) {
        b->len += (size_t)n;
        return;
    }
    b->full = 1;
    if (b->cap < 4) {
        b->len = b->cap - 1;
        return;
    }
    size_t cut = b->cap - 4;
    while (cut > 0 && ((unsigned char)b->buf[cut] & 0xC0) == 0x80)
        cut--;
    memcpy(b->buf + cut, "...", 4);
    b->len = cut + 3;
}

/* snprintf into a caller-sized buffer; output is cut, never overrun. */
__attribute__((format(printf, 3, 4)))
static void bfmt(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 3, 4)))
void bp__judge(bp_check *c, bp_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof c->reason, fmt, ap);
    va_end(ap);
    c->status = st;
}

/* int64 as text, "?" when unknown (< 0). */
const char *bp__num(int64_t v, char *buf, size_t len)
{
    if (v < 0)
        bfmt(buf, len, "?");
    else
        bfmt(buf, len, "%" PRId64, v);
    return buf;
}

/* A ratio threshold as "80%", or "off" when disabled. */
static const char *pct(double v, char *buf, size_t len)
{
    if (v <= 0)
        bfmt(buf, len, "off");
    else
        bfmt(buf, len, "%g%%", v * 100.0);
    return buf;
}

char *bp_format_bytes(int64_t bytes, char *buf, size_t len)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (!buf || len == 0)
        return buf;
    if (bytes < 0) {
        bfmt(buf, len, "?");
        return buf;
    }
    if (bytes < 1024) {
        bfmt(buf, len, "%" PRId64 " B", bytes);
        return buf;
    }
    double v = (double)bytes / 1024.0;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024.0;
        u++;
    }
    bfmt(buf, len, "%.1f %s", v, units[u]);
    return buf;
}

static void fmt_uptime(int64_t ms, char *buf, size_t len)
{
    if (ms < 0) {
        bfmt(buf, len, "uptime unknown");
        return;
    }
    int64_t s = ms / 1000;
    if (s < 60)
        bfmt(buf, len, "up %" PRId64 "s", s);
    else if (s < 3600)
        bfmt(buf, len, "up %" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
    else if (s < 86400)
        bfmt(buf, len, "up %" PRId64 "h%02" PRId64 "m", s / 3600, s % 3600 / 60);
    else
        bfmt(buf, len, "up %" PRId64 "d%02" PRId64 "h", s / 86400, s % 86400 / 3600);
}

static bp_status judge_level(double v, double warn, double fail)
{
    if (fail > 0 && v >= fail)
        return BP_FAIL;
    if (warn > 0 && v >= warn)
        return BP_WARN;
    return BP_PASS;
}

int bp__in_namelist(const bp_namelist *l, const char *s)
{
    if (!s)
        return 0;
    for (size_t i = 0; i < l->n && i < BP_LIST_MAX; i++)
        if (strcmp(l->v[i], s) == 0)
            return 1;
    return 0;
}

static int in_strv(const bp_strv *v, const char *s)
{
    for (size_t i = 0; i < v->n; i++)
        if (v->v && v->v[i] && strcmp(v->v[i], s) == 0)
            return 1;
    return 0;
}

const char *bp__or_q(const char *s)
{
    return s ? s : "?";
}

/* ---- checks ---- */

/* Next check slot, named `name` (static) or "prefix:subject" (arena) when prefix is set. */
bp_check *bp__add_check(eval_ctx *x, bp_check_kind kind, const char *prefix, const char *name)
{
    if (x->r->n_checks >= x->cap) {
        x->err = BP_ENOMEM;
        return NULL;
    }
    const char *full = name;
    if (prefix) {
        full = bp_arena_printf(x->snap->arena, "%s:%s", prefix, name ? name : "");
        if (!full) {
            x->err = BP_ENOMEM;
            return NULL;
        }
    }
    bp_check *c = &x->r->checks[x->r->n_checks++];
    memset(c, 0, sizeof *c);
    c->name = full;
    c->kind = kind;
    c->since_ms = c->state_since_ms = -1;
    c->subject = prefix ? name : NULL;
    return c;
}

/* 1 when the fact is usable; otherwise fails the check with the fact's reason. */
int bp__check_fact_ok(bp_check *c, const bp_fact *f)
{
    switch (f->state) {
    case BP_FACT_OK:
        return 1;
    case BP_FACT_ERROR:
        bp__judge(c, BP_FAIL, "%s", f->error ? f->error : "failed");
        return 0;
    case BP_FACT_TIMEOUT:
        c->incomplete = 1;
        bp__judge(c, BP_FAIL, "%s", f->error ? f->error : "timed out");
        return 0;
    case BP_FACT_UNSET:
    default:
        c->incomplete = 1;
        bp__judge(c, BP_FAIL, "not collected");
        return 0;
    }
}

static void check_identity(eval_ctx *x)
{
    const bp_snapshot *s = x->snap;
    bp_check *c = bp__add_check(x, BP_CHECK_IDENTITY, NULL, "identity");
    if (!c || !bp__check_fact_ok(c, &s->identity))
        return;
    char up[64];
    fmt_uptime(s->uptime_ms, up, sizeof up);
    bp__judge(c, BP_PASS, "OTP %s, ERTS %s, %s", bp__or_q(s->otp_release), bp__or_q(s->erts_version), up);
}

static void check_memory(eval_ctx *x)
{
    const bp_snapshot *s = x->snap;
    bp_report *r = x->r;
    if (x->cfg->memory_limit > 0) {
        r->memory_limit = x->cfg->memory_limit;
        r->memory_limit_source = "config";
    } else if (s->cgroup_limit > 0) {
        r->memory_limit = s->cgroup_limit;
        r->memory_limit_source = "cgroup";
    }
    bp_check *c = bp__add_check(x, BP_CHECK_MEMORY, NULL, "memory");
    if (!c || !bp__check_fact_ok(c, &s->memory))
        return;
    r->memory_total = bp_snapshot_memory(s, "total");
    char tot[32], lim[32], w[32], f[32];
    bp_format_bytes(r->memory_total, tot, sizeof tot);
    if (r->memory_total < 0) {
        bp__judge(c, BP_WARN, "erlang:memory() reported no total");
        return;
    }
    if (r->memory_limit <= 0) {
        bp__judge(c, BP_PASS, "%s total, no memory limit known", tot);
        return;
    }
    r->memory_ratio = (double)r->memory_total / (double)r->memory_limit;
    const bp_ratio *t = &x->cfg->thresholds.memory;
    bp__judge(c, judge_level(r->memory_ratio, t->warn, t->fail), "%s of %s %s limit (%.1f%%; warn %s, fail %s)",
          tot, bp_format_bytes(r->memory_limit, lim, sizeof lim), r->memory_limit_source,
          r->memory_ratio * 100.0, pct(t->warn, w, sizeof w), pct(t->fail, f, sizeof f));
}

/*
 * Since OTP 20 the number of ETS tables is limited only by memory (ets(3): "This hard limit
 * has been removed"); system_info(ets_limit) is then only the size of the named-table
 * index, and a healthy node may hold more tables. The count stays a fact; memory(ets)
 * is judged by the memory check. Older releases enforce the limit.
 */
static int ets_limit_enforced(const bp_snapshot *s)
{
    char *end = NULL;
    long otp = s->otp_release ? strtol(s->otp_release, &end, 10) : -1;
    return otp > 0 && end && *end == '\0' && otp < 20;
}

static void check_limits(eval_ctx *x)
{
    const bp_snapshot *s = x->snap;
    bp_report *r = x->r;
    bp_check *c = bp__add_check(x, BP_CHECK_LIMITS, NULL, "limits");
    if (!c || !bp__check_fact_ok(c, &s->limits))
        return;
    /* fds are known only inside the VM; unknown ones are skipped like any unknown limit */
    const int64_t counts[BP_LIMIT_KINDS] = {s->process_count, s->port_count, s->atom_count, s->ets_count,
                                            s->open_fds};
    const int64_t limits[BP_LIMIT_KINDS] = {s->process_limit, s->port_limit, s->atom_limit,
                                            ets_limit_enforced(s) ? s->ets_limit : -1, s->max_fds};
    const bp_limit_use *worst = NULL;
    for (size_t i = 0; i < BP_LIMIT_KINDS; i++) {
        bp_limit_use *u = &r->limits[i];
        u->count = counts[i] < 0 ? -1 : counts[i];
        u->limit = limits[i] <= 0 ? -1 : limits[i];
        if (u->count < 0 || u->limit < 0)
            continue;
        u->ratio = (double)u->count / (double)u->limit;
        u->status = judge_level(u->ratio, u->threshold.warn, u->threshold.fail);
        if (!worst || u->status > worst->status || (u->status == worst->status && u->ratio > worst->ratio))
            worst = u;
    }
    if (!worst) {
        bp__judge(c, BP_PASS, "no system limits reported");
        return;
    }
    char w[32], f[32];
    bp__judge(c, worst->status, "%s %" PRId64 " of %" PRId64 " (%.1f%%; warn %s, fail %s)", worst->name,
          worst->count, worst->limit, worst->ratio * 100.0, pct(worst->threshold.warn, w, sizeof w),
          pct(worst->threshold.fail, f, sizeof f));
}

static void check_schedulers(eval_ctx *x)
{
    const bp_snapshot *s = x->snap;
    const bp_thresholds *t = &x->cfg->thresholds;
    bp_check *c = bp__add_check(x, BP_CHECK_SCHEDULERS, NULL, "schedulers");
    if (!c || !bp__check_fact_ok(c, &s->schedulers))
        return;
    char rq[24], on[24], dc[24], dio[24];
    bp__num(s->run_queue, rq, sizeof rq);
    bp__num(s->schedulers_online, on, sizeof on);
    bp__num(s->dirty_cpu_run_queue, dc, sizeof dc);
    bp__num(s->dirty_io_run_queue, dio, sizeof dio);
    if (s->run_queue < 0 || s->schedulers_online <= 0) {
        bp__judge(c, BP_PASS, "run queue %s over %s schedulers (not judged); dirty cpu %s, dirty io %s", rq, on,
              dc, dio);
        return;
    }
    double per = (double)s->run_queue / (double)s->schedulers_online;
    x->r->run_queue_per_scheduler = per;
    bp__judge(c, judge_level(per, t->run_queue_warn, t->run_queue_fail),
          "run queue %s over %s schedulers (%.2f each; warn %.2f, fail %.2f); dirty cpu %s, dirty io %s", rq,
          on, per, t->run_queue_warn, t->run_queue_fail, dc, dio);
}

static int app_running(const bp_snapshot *s, const char *name)
{
    for (size_t i = 0; i < s->n_apps; i++)
        if (s->apps && s->apps[i].name && strcmp(s->apps[i].name, name) == 0)
            return 1;
    return 0;
}

/* Arena array with room for n strings; NULL (and err set) on OOM. */
static const char **strv_alloc(eval_ctx *x, size_t n)
{
    if (n == 0)
        return NULL;
    const char **v = bp_arena_alloc(x->snap->arena, n * sizeof *v);
    if (!v)
        x->err = BP_ENOMEM;
    return v;
}

/* Append a copy of s to v (room reserved by strv_alloc). */
static void strv_push(eval_ctx *x, bp_strv *v, const char *s)
{
    if (!v->v)
        return;
    const char *copy = bp_arena_strdup(x->snap->arena, s);
    if (!copy) {
        x->err = BP_ENOMEM;
        return;
    }
    v->v[v->n++] = copy;
}

static void add_list(sbuf *b, const bp_strv *v)
{
    for (size_t i = 0; i < v->n; i++)
        bp__sb_addf(b, "%s%s", i ? ", " : "", v->v[i]);
}

static void check_applications(eval_ctx *x)
{
    const bp_snapshot *s = x->snap;
    const bp_namelist *req = &x->cfg->require_apps;
    bp_check *c = bp__add_check(x, BP_CHECK_APPLICATIONS, NULL, "applications");
    if (!c || !bp__check_fact_ok(c, &s->applications))
        return;
    size_t nreq = req->n < BP_LIST_MAX ? req->n : BP_LIST_MAX;
    bp_strv *miss = &x->r->missing_apps;
    miss->v = strv_alloc(x, nreq);
    for (size_t i = 0; i < nreq; i++)
        if (!app_running(s, req->v[i]))
            strv_push(x, miss, req->v[i]);
    if (miss->n == 0) {
        bp__judge(c, BP_PASS, "%zu applications running", s->n_apps);
        return;
    }
    sbuf b;
    bp__sb_init(&b, c->reason, sizeof c->reason);
    bp__sb_addf(&b, "missing %zu of %zu required: ", miss->n, nreq);
    add_list(&b, miss);
    bp__sb_addf(&b, " (%zu running)", s->n_apps);
    c->status = BP_FAIL;
}

static void check_membership(eval_ctx *x)
{
    const bp_snapshot *s = x->snap;
    const bp_config *cfg = x->cfg;
    bp_check *c = bp__add_check(x, BP_CHECK_MEMBERSHIP, NULL, "membership");
    if (!c || !bp__check_fact_ok(c, &s->membership))
        return;
    size_t npeers = cfg->expect_peers.n < BP_LIST_MAX ? cfg->expect_peers.n : BP_LIST_MAX;
    size_t expected = 0;
    bp_strv *miss = &x->r->missing_peers;
    miss->v = strv_alloc(x, npeers);
    for (size_t i = 0; i < npeers; i++) {
        const char *p = cfg->expect_peers.v[i];
        if (s->node && strcmp(p, s->node) == 0)
            continue;
        expected++;
        if (!in_strv(&s->visible, p))
            strv_push(x, miss, p);
    }
    size_t cluster = s->visible.n + 1;
    int short_size = cfg->expect_size > 0 && cluster < (size_t)cfg->expect_size;
    sbuf b;
    bp__sb_init(&b, c->reason, sizeof c->reason);
    c->status = (miss->n > 0 || short_size) ? BP_FAIL : BP_PASS;
    if (miss->n > 0) {
        bp__sb_addf(&b, "missing %zu of %zu expected peers: ", miss->n, expected);
        add_list(&b, miss);
        bp__sb_addf(&b, "; ");
    }
    if (short_size)
        bp__sb_addf(&b, "cluster of %zu, expected %d; ", cluster, cfg->expect_size);
    if (c->status == BP_PASS && (expected > 0 || cfg->expect_size > 0))
        bp__sb_addf(&b, "as expected; ");
    bp__sb_addf(&b, "sees %zu visible, %zu hidden nodes", s->visible.n, s->hidden.n);
}

/* A configured target the snapshot has no entry for: the collector never got to it. */
static void check_uncollected(eval_ctx *x, bp_check_kind kind, const char *prefix, const char *name)
{
    const char *copy = bp_arena_strdup(x->snap->arena, name);
    if (!copy) {
        x->err = BP_ENOMEM;
        return;
    }
    bp_check *c = bp__add_check(x, kind, prefix, copy);
    if (!c)
        return;
    c->incomplete = 1;
    bp__judge(c, BP_FAIL, "not collected");
}

static void check_cluster_local(eval_ctx *x)
{
    const bp_snapshot *s = x->snap;
    const bp_config *cfg = x->cfg;
    for (size_t i = 0; i < s->n_supervisors; i++)
        if (s->supervisors[i].depth == 0)
            bp__check_supervisor(x, &s->supervisors[i]);
    for (size_t i = 0; i < cfg->supervisors.n && i < BP_LIST_MAX; i++) {
        int found = 0;
        for (size_t k = 0; k < s->n_supervisors && !found; k++)
            found = s->supervisors[k].depth == 0 && s->supervisors[k].name &&
                    strcmp(s->supervisors[k].name, cfg->supervisors.v[i]) == 0;
        if (!found)
            check_uncollected(x, BP_CHECK_SUPERVISOR, "supervisor", cfg->supervisors.v[i]);
    }
    for (size_t i = 0; i < s->n_governors; i++)
        bp__check_governor(x, &s->governors[i]);
    for (size_t i = 0; i < s->n_families; i++)
        bp__check_family(x, &s->families[i]);
    for (size_t i = 0; i < cfg->governors.n && i < BP_LIST_MAX; i++) {
        if (strncmp(cfg->governors.v[i], "gproc:", 6) == 0)
            continue; /* a family: checked above */
        int found = 0;
        for (size_t k = 0; k < s->n_governors && !found; k++)
            found = s->governors[k].name && strcmp(s->governors[k].name, cfg->governors.v[i]) == 0;
        if (!found)
            check_uncollected(x, BP_CHECK_GOVERNOR, "governor", cfg->governors.v[i]);
    }
    for (size_t i = 0; i < s->n_custom; i++)
        bp__check_custom(x, &s->custom[i]);
    for (size_t i = 0; i < cfg->check_mfas.n && i < BP_LIST_MAX; i++) {
        int found = 0;
        for (size_t k = 0; k < s->n_custom && !found; k++)
            found = s->custom[k].mfa && strcmp(s->custom[k].mfa, cfg->check_mfas.v[i]) == 0;
        if (!found)
            check_uncollected(x, BP_CHECK_CUSTOM, "custom", cfg->check_mfas.v[i]);
    }
}

static void init_report(bp_report *r, const bp_snapshot *snap, const bp_config *cfg, bp_probe_kind kind)
{
    static const char *const names[BP_LIMIT_KINDS] = {"processes", "ports", "atoms", "ets", "fds"};
    const bp_ratio th[BP_LIMIT_KINDS] = {cfg->thresholds.processes, cfg->thresholds.ports,
                                         cfg->thresholds.atoms, cfg->thresholds.ets, cfg->thresholds.fds};
    memset(r, 0, sizeof *r);
    r->snap = snap;
    r->probe = kind;
    r->thresholds = cfg->thresholds;
    r->memory_total = r->memory_limit = -1;
    r->memory_ratio = -1;
    r->run_queue_per_scheduler = -1;
    r->expect_size = cfg->expect_size;
    r->since_ms = -1;
    r->peer_series_max = cfg->peer_series_max;
    for (size_t i = 0; i < BP_LIMIT_KINDS; i++) {
        r->limits[i].name = names[i];
        r->limits[i].count = r->limits[i].limit = -1;
        r->limits[i].ratio = -1;
        r->limits[i].threshold = th[i];
    }
}

/* The configured warn and fail states, copied for the report's state sets (metrics). */
static int keep_governor_states(const bp_snapshot *snap, const bp_config *cfg, bp_report *out)
{
    const bp_namelist *lists[2] = { &cfg->governor_warn_states, &cfg->governor_fail_states };
    out->governor_states.v = bp_arena_alloc(snap->arena, (lists[0]->n + lists[1]->n + 1) * sizeof(char *));
    if (!out->governor_states.v)
        return BP_ENOMEM;
    for (size_t l = 0; l < 2; l++)
        for (size_t i = 0; i < lists[l]->n; i++)
            if (!(out->governor_states.v[out->governor_states.n++] = bp_arena_strdup(snap->arena, lists[l]->v[i])))
                return BP_ENOMEM;
    return 0;
}

int bp_evaluate(const bp_snapshot *snap, const bp_config *cfg, bp_report *out)
{
    return cfg ? bp_evaluate_as(snap, cfg, cfg->probe, out) : BP_EUSAGE;
}

int bp_evaluate_as(const bp_snapshot *snap, const bp_config *cfg, bp_probe_kind kind, bp_report *out)
{
    if (!snap || !cfg || !out)
        return BP_EUSAGE;
    init_report(out, snap, cfg, kind);
    eval_ctx x = {.snap = snap, .cfg = cfg, .r = out, .err = 0};
    x.cap = 8 + snap->n_supervisors + snap->n_governors + snap->n_families + snap->n_custom + cfg->supervisors.n +
            cfg->governors.n + cfg->check_mfas.n;
    out->checks = bp_arena_alloc(snap->arena, x.cap * sizeof *out->checks);
    if (!out->checks)
        return BP_ENOMEM;

    bp_check *c = bp__add_check(&x, BP_CHECK_CONNECTION, NULL, "connection");
    if (!c)
        return BP_ENOMEM;
    if (snap->connect.state != BP_FACT_OK) {
        const char *why = snap->connect.error ? snap->connect.error
                          : snap->connect_code ? bp_strerror(snap->connect_code)
                                               : "not connected";
        bp__judge(c, BP_FAIL, "%s", why);
        out->status = BP_FAIL;
        return x.err;
    }
    bp__judge(c, BP_PASS, "connected, %d round trip%s, %.1f ms", snap->round_trips, snap->round_trips == 1 ? "" : "s",
          (double)snap->duration_us / 1000.0);

    if (keep_governor_states(snap, cfg, out) != 0)
        return BP_ENOMEM;
    check_identity(&x);
    if (kind == BP_PROBE_LIVE || kind == BP_PROBE_READY) {
        check_memory(&x);
        check_limits(&x);
        check_schedulers(&x);
    }
    if (kind == BP_PROBE_STARTUP || kind == BP_PROBE_READY)
        check_applications(&x);
    if (kind == BP_PROBE_READY) {
        check_membership(&x);
        check_cluster_local(&x);
        if (cfg->mnesia)
            bp__check_mnesia(&x);
    }

    for (size_t i = 0; i < out->n_checks; i++) {
        if (out->checks[i].status > out->status)
            out->status = out->checks[i].status;
        out->incomplete |= out->checks[i].incomplete;
    }
    return x.err;
}

const char *bp_status_name(bp_status s)
{
    switch (s) {
    case BP_PASS: return "pass";
    case BP_WARN: return "warn";
    case BP_FAIL: return "fail";
    }
    return "unknown";
}

const char *bp_overall_name(bp_status s)
{
    switch (s) {
    case BP_PASS: return "healthy";
    case BP_WARN: return "degraded";
    case BP_FAIL: return "unhealthy";
    }
    return "unknown";
}

const char *bp_probe_name(bp_probe_kind k)
{
    switch (k) {
    case BP_PROBE_LIVE: return "live";
    case BP_PROBE_READY: return "ready";
    case BP_PROBE_STARTUP: return "startup";
    }
    return "unknown";
}

const bp_check *bp_report_find(const bp_report *r, const char *name)
{
    if (!r || !name)
        return NULL;
    for (size_t i = 0; i < r->n_checks; i++)
        if (r->checks[i].name && strcmp(r->checks[i].name, name) == 0)
            return &r->checks[i];
    return NULL;
}

int bp_report_exit_code(const bp_report *r, const bp_config *cfg)
{
    if (!r || !r->snap || r->snap->connect.state != BP_FACT_OK)
        return BP_EXIT_CONNECT;
    if (r->incomplete)
        return BP_EXIT_INCOMPLETE;
    switch (r->status) {
    case BP_FAIL: return BP_EXIT_UNHEALTHY;
    case BP_WARN: return cfg && cfg->strict ? BP_EXIT_UNHEALTHY : BP_EXIT_HEALTHY;
    case BP_PASS: return BP_EXIT_HEALTHY;
    }
    return BP_EXIT_UNHEALTHY;
}
