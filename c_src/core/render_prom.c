/* render_prom.c: renders reports as Prometheus text exposition 0.0.4, one family at a time across nodes. */
#include "core/render_prom.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"
#include "core/json_util.h"
#include "core/textbuf.h"

/* ---- buffer ---- */

void bp_prom_buf_reset(bp_prom_buf *b)
{
    if (!b)
        return;
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

void bp_prom_buf_free(bp_prom_buf *b)
{
    if (!b)
        return;
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* Room for `extra` more bytes plus the NUL; 0 or -1 when out of memory. */
static int buf_reserve(bp_prom_buf *b, size_t extra)
{
    return bp_text_grow(&b->p, &b->cap, b->len, extra, 4096);
}

/* ---- render context: appends stop at the first failed allocation ---- */

typedef struct {
    bp_prom_buf *b;
    int oom;
    unsigned flags;
    const char *family; /* name of the family being written */
    size_t samples;     /* samples written in it so far */
} pctx;

static void put(pctx *x, const char *s, size_t n)
{
    if (x->oom)
        return;
    if (buf_reserve(x->b, n) != 0) {
        x->oom = 1;
        return;
    }
    memcpy(x->b->p + x->b->len, s, n);
    x->b->len += n;
    x->b->p[x->b->len] = '\0';
}

static void puts_(pctx *x, const char *s)
{
    put(x, s, strlen(s));
}

/*
 * A label value as the format wants it between its double quotes: backslash,
 * double quote and newline escaped, and (Prometheus refuses invalid UTF-8) each
 * byte that is not part of a valid UTF-8 sequence replaced by U+FFFD.
 */
static void put_label_value(pctx *x, const char *s)
{
    size_t len = strlen(s), run = 0;
    for (size_t i = 0; i < len;) {
        const char *esc = NULL;
        size_t n = 1;
        switch (s[i]) {
        case '\\': esc = "\\\\"; break;
        case '"': esc = "\\\""; break;
        case '\n': esc = "\\n"; break;
        default:
            n = bp_utf8_seq_len((const unsigned char *)s + i, len - i);
            if (n == 0) {
                esc = "\xEF\xBF\xBD";
                n = 1;
            }
        }
        if (!esc) {
            i += n;
            continue;
        }
        put(x, s + run, i - run);
        puts_(x, esc);
        i += n;
        run = i;
    }
    put(x, s + run, len - run);
}

/* ---- per-node preparation ---- */

typedef struct {
    const bp_prom_node *n;
    const bp_report *r;   /* NULL: no report (or one without a snapshot) */
    const bp_snapshot *s; /* r->snap */
    int skip;             /* same label as an earlier node */
    bp_prom_buf node;     /* escaped node label value */
    bp_prom_buf *checks;  /* escaped check label values, unique within the node; r->n_checks of them */
} pnode;

/* s escaped into a new buffer, with `suffix` (plain text) after it. */
static int escape_dup(const char *s, const char *suffix, bp_prom_buf *out)
{
    pctx e = {.b = out};
    bp_prom_buf_reset(out);
    put_label_value(&e, s ? s : "");
    if (suffix)
        puts_(&e, suffix);
    if (!e.oom && !out->p)
        e.oom = buf_reserve(out, 0) != 0;
    if (!e.oom)
        out->p[out->len] = '\0';
    return e.oom ? BP_ENOMEM : 0;
}

static int buf_eq(const bp_prom_buf *a, const bp_prom_buf *b)
{
    return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

/* Check labels of one node; a repeated name gets "#2", "#3", ... as in the JSON report. */
static int prepare_checks(pnode *pn)
{
    const bp_report *r = pn->r;
    if (!r || r->n_checks == 0 || !r->checks)
        return 0;
    pn->checks = calloc(r->n_checks, sizeof *pn->checks);
    if (!pn->checks)
        return BP_ENOMEM;
    for (size_t i = 0; i < r->n_checks; i++) {
        const char *name = r->checks[i].name;
        char suffix[32] = "";
        for (unsigned k = 2;; k++) {
            if (escape_dup(name, suffix, &pn->checks[i]) != 0)
                return BP_ENOMEM;
            size_t j = 0;
            while (j < i && !buf_eq(&pn->checks[j], &pn->checks[i]))
                j++;
            if (j == i)
                break;
            snprintf(suffix, sizeof suffix, "#%u", k);
        }
    }
    return 0;
}

static void free_nodes(pnode *pns, size_t n)
{
    for (size_t i = 0; pns && i < n; i++) {
        bp_prom_buf_free(&pns[i].node);
        for (size_t j = 0; pns[i].checks && pns[i].r && j < pns[i].r->n_checks; j++)
            bp_prom_buf_free(&pns[i].checks[j]);
        free(pns[i].checks);
    }
    free(pns);
}

/* Node labels (and check labels when with_checks) of every node; NULL on OOM. */
static pnode *prepare_nodes(const bp_prom_node *nodes, size_t n, int with_checks)
{
    pnode *pns = calloc(n ? n : 1, sizeof *pns);
    if (!pns)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        pnode *pn = &pns[i];
        pn->n = &nodes[i];
        if (nodes[i].report && nodes[i].report->snap) {
            pn->r = nodes[i].report;
            pn->s = pn->r->snap;
        }
        const char *name = bp_snapshot_name_or(pn->s, nodes[i].node); /* the node's own name once known */
        if (!name)
            name = "";
        if (escape_dup(name, NULL, &pn->node) != 0)
            goto oom;
        for (size_t j = 0; j < i && !pn->skip; j++)
            pn->skip = !pns[j].skip && buf_eq(&pns[j].node, &pn->node);
        if (with_checks && !pn->skip && prepare_checks(pn) != 0)
            goto oom;
    }
    return pns;
oom:
    free_nodes(pns, n);
    return NULL;
}

/* ---- samples ---- */

typedef struct {
    const char *name;
    const char *value;
    int escaped; /* value is already a label value */
} label;

/* One sample line: family{node="...",labels...} value */
static void sample(pctx *x, const pnode *pn, const label *ls, size_t nl, const char *value)
{
    puts_(x, x->family);
    puts_(x, "{node=\"");
    put(x, pn->node.p, pn->node.len);
    put(x, "\"", 1);
    for (size_t i = 0; i < nl; i++) {
        put(x, ",", 1);
        puts_(x, ls[i].name);
        put(x, "=\"", 2);
        if (ls[i].escaped)
            puts_(x, ls[i].value);
        else
            put_label_value(x, ls[i].value);
        put(x, "\"", 1);
    }
    put(x, "} ", 2);
    puts_(x, value);
    put(x, "\n", 1);
    x->samples++;
}

/* An integer sample; a negative value means unknown and writes nothing. */
static void sample_int(pctx *x, const pnode *pn, const label *ls, size_t nl, int64_t v)
{
    if (v < 0)
        return;
    char num[32];
    snprintf(num, sizeof num, "%" PRId64, v);
    sample(x, pn, ls, nl, num);
}

/* A real sample; negative or not finite means unknown and writes nothing. */
static void sample_real(pctx *x, const pnode *pn, const label *ls, size_t nl, double v)
{
    if (!isfinite(v) || v < 0)
        return;
    char num[48];
    snprintf(num, sizeof num, "%.15g", v);
    sample(x, pn, ls, nl, num);
}

/* A sample with one extra label. */
static void sample_int1(pctx *x, const pnode *pn, const char *lname, const char *lvalue, int64_t v)
{
    label l = {lname, lvalue, 0};
    sample_int(x, pn, &l, 1, v);
}

static int ok(const bp_fact *f)
{
    return f->state == BP_FACT_OK;
}

/* Bytes of an erlang:memory/0 kind, -1 when unknown. */
static int64_t mem(const bp_snapshot *s, const char *kind)
{
    return ok(&s->memory) ? bp_snapshot_memory(s, kind) : -1;
}

/* a - b when both are known and the result is not negative, else -1. */
static int64_t diff(int64_t a, int64_t b)
{
    return a >= 0 && b >= 0 && a >= b ? a - b : -1;
}

/* ---- families: beamprobe's own ---- */

static void f_up(pctx *x, const pnode *pn)
{
    sample_int(x, pn, NULL, 0, pn->n->up ? 1 : 0);
}

static void f_info(pctx *x, const pnode *pn)
{
    if (!pn->r || !ok(&pn->s->identity))
        return;
    label ls[3] = {
        {"otp_release", pn->s->otp_release ? pn->s->otp_release : "", 0},
        {"erts_version", pn->s->erts_version ? pn->s->erts_version : "", 0},
        {"version", BP_VERSION, 0},
    };
    sample_int(x, pn, ls, 3, 1);
}

static void f_health(pctx *x, const pnode *pn)
{
    if (!pn->r)
        return;
    for (bp_status st = BP_PASS; st <= BP_FAIL; st++)
        sample_int1(x, pn, "status", bp_overall_name(st), pn->r->status == st);
}

static void f_check(pctx *x, const pnode *pn)
{
    if (!pn->r || !pn->checks)
        return;
    for (size_t i = 0; i < pn->r->n_checks; i++) {
        for (bp_status st = BP_PASS; st <= BP_FAIL; st++) {
            label ls[2] = {{"check", pn->checks[i].p, 1}, {"status", bp_status_name(st), 0}};
            sample_int(x, pn, ls, 2, pn->r->checks[i].status == st);
        }
    }
}

static void f_incomplete(pctx *x, const pnode *pn)
{
    if (pn->r)
        sample_int(x, pn, NULL, 0, pn->r->incomplete ? 1 : 0);
}

static void f_duration(pctx *x, const pnode *pn)
{
    if (!pn->r)
        return;
    double d = pn->n->duration_seconds;
    if (!(isfinite(d) && d > 0))
        d = pn->s->duration_us >= 0 ? (double)pn->s->duration_us / 1e6 : -1;
    sample_real(x, pn, NULL, 0, d);
}

static void f_uptime(pctx *x, const pnode *pn)
{
    if (pn->r && ok(&pn->s->identity) && pn->s->uptime_ms >= 0)
        sample_real(x, pn, NULL, 0, (double)pn->s->uptime_ms / 1000.0);
}

static void f_memory_limit(pctx *x, const pnode *pn)
{
    if (!pn->r || pn->r->memory_limit <= 0)
        return;
    if (pn->r->memory_limit_source)
        sample_int1(x, pn, "source", pn->r->memory_limit_source, pn->r->memory_limit);
    else
        sample_int(x, pn, NULL, 0, pn->r->memory_limit);
}

static void f_cgroup_limit(pctx *x, const pnode *pn)
{
    /* -1 is "unlimited or unknown"; 0 is no real limit either */
    if (pn->r && ok(&pn->s->cgroup) && pn->s->cgroup_limit > 0)
        sample_int(x, pn, NULL, 0, pn->s->cgroup_limit);
}

static void f_cgroup_usage(pctx *x, const pnode *pn)
{
    if (pn->r && ok(&pn->s->cgroup))
        sample_int(x, pn, NULL, 0, pn->s->cgroup_usage);
}

static void f_visible(pctx *x, const pnode *pn)
{
    if (pn->r && ok(&pn->s->membership))
        sample_int(x, pn, NULL, 0, (int64_t)pn->s->visible.n);
}

static void f_hidden(pctx *x, const pnode *pn)
{
    if (pn->r && ok(&pn->s->membership))
        sample_int(x, pn, NULL, 0, (int64_t)pn->s->hidden.n);
}

/* ---- families: the VM, as prometheus.erl's collectors name them ---- */

static void f_mem_bytes(pctx *x, const pnode *pn)
{
    if (!pn->r)
        return;
    sample_int1(x, pn, "kind", "system", mem(pn->s, "system"));
    sample_int1(x, pn, "kind", "processes", mem(pn->s, "processes"));
}

static void f_mem_processes(pctx *x, const pnode *pn)
{
    if (!pn->r)
        return;
    int64_t all = mem(pn->s, "processes"), used = mem(pn->s, "processes_used");
    sample_int1(x, pn, "usage", "used", used);
    sample_int1(x, pn, "usage", "free", diff(all, used));
}

static void f_mem_system(pctx *x, const pnode *pn)
{
    if (!pn->r)
        return;
    const bp_snapshot *s = pn->s;
    int64_t atom = mem(s, "atom"), binary = mem(s, "binary"), code = mem(s, "code"), ets = mem(s, "ets");
    int64_t other = mem(s, "system");
    other = diff(other, atom);
    other = diff(other, binary);
    other = diff(other, code);
    other = diff(other, ets);
    sample_int1(x, pn, "usage", "atom", atom);
    sample_int1(x, pn, "usage", "binary", binary);
    sample_int1(x, pn, "usage", "code", code);
    sample_int1(x, pn, "usage", "ets", ets);
    sample_int1(x, pn, "usage", "other", other);
}

static void f_mem_atom(pctx *x, const pnode *pn)
{
    if (!pn->r)
        return;
    int64_t all = mem(pn->s, "atom"), used = mem(pn->s, "atom_used");
    sample_int1(x, pn, "usage", "used", used);
    sample_int1(x, pn, "usage", "free", diff(all, used));
}

/* A gauge of one snapshot field `field`, sampled when `known` (an expression of the
   snapshot s) holds; a negative value is unknown and writes nothing either. */
#define FIELD_FAMILY(fn, known, field)                                  \
    static void fn(pctx *x, const pnode *pn)                            \
    {                                                                   \
        const bp_snapshot *s = pn->s;                                   \
        if (pn->r && (known))                                           \
            sample_int(x, pn, NULL, 0, s->field);                       \
    }

/* A gauge from the `limits` fact group. */
#define LIMIT_FAMILY(fn, field) FIELD_FAMILY(fn, ok(&s->limits), field)
LIMIT_FAMILY(f_ets_tables, ets_count)
LIMIT_FAMILY(f_processes, process_count)
LIMIT_FAMILY(f_process_limit, process_limit)
LIMIT_FAMILY(f_ports, port_count)
LIMIT_FAMILY(f_port_limit, port_limit)
LIMIT_FAMILY(f_atoms, atom_count)
LIMIT_FAMILY(f_atom_limit, atom_limit)
LIMIT_FAMILY(f_ets_limit, ets_limit)

/* A gauge from the `schedulers` fact group. */
#define SCHED_FAMILY(fn, field) FIELD_FAMILY(fn, ok(&s->schedulers), field)
SCHED_FAMILY(f_schedulers_online, schedulers_online)
SCHED_FAMILY(f_dirty_cpu_online, dirty_cpu_schedulers_online)
SCHED_FAMILY(f_dirty_io, dirty_io_schedulers)
SCHED_FAMILY(f_dirty_cpu_rq, dirty_cpu_run_queue)
SCHED_FAMILY(f_dirty_io_rq, dirty_io_run_queue)

/* Open file descriptors and their limit: facts of their own (-1 unknown), known only to a
   snapshot built inside the VM, so a remote probe has no sample. */
FIELD_FAMILY(f_open_fds, 1, open_fds)
FIELD_FAMILY(f_max_fds, 1, max_fds)

/* erlang:statistics(run_queue), which prometheus.erl reports, counts the dirty CPU queue too. */
static void f_run_queues(pctx *x, const pnode *pn)
{
    if (!pn->r || !ok(&pn->s->schedulers))
        return;
    int64_t normal = pn->s->run_queue, dirty_cpu = pn->s->dirty_cpu_run_queue;
    if (normal >= 0 && dirty_cpu >= 0 && normal <= INT64_MAX - dirty_cpu)
        sample_int(x, pn, NULL, 0, normal + dirty_cpu);
}

/* A governor's state as a state set over the configured warn and fail states and its own. */
static void f_governor_state(pctx *x, const pnode *pn)
{
    if (!pn->r)
        return;
    const bp_strv *known = &pn->r->governor_states;
    for (size_t i = 0; i < pn->r->n_checks; i++) {
        const bp_check *c = &pn->r->checks[i];
        const bp_governor_snap *g = c->governor;
        if (c->kind != BP_CHECK_GOVERNOR || !g || !g->state || g->state_fact.state != BP_FACT_OK)
            continue;
        int listed = 0;
        for (size_t k = 0; k < known->n; k++) {
            label ls[2] = {{"governor", c->subject, 0}, {"state", known->v[k], 0}};
            listed |= strcmp(known->v[k], g->state) == 0;
            sample_int(x, pn, ls, 2, strcmp(known->v[k], g->state) == 0);
        }
        if (!listed) {
            label ls[2] = {{"governor", c->subject, 0}, {"state", g->state, 0}};
            sample_int(x, pn, ls, 2, 1);
        }
    }
}

/* Status changes of each check since the history began (serve and the in-VM server keep one). */
static void f_transitions(pctx *x, const pnode *pn)
{
    for (size_t i = 0; pn->r && pn->checks && i < pn->r->n_checks; i++) {
        const bp_check *c = &pn->r->checks[i];
        if (c->since_ms <= 0)
            continue; /* no history behind this report */
        label ls[1] = {{"check", pn->checks[i].p, 1}};
        sample_int(x, pn, ls, 1, (int64_t)c->transitions);
    }
}

/* Seconds each governor has been in its current state, as of the report. */
static void f_governor_since(pctx *x, const pnode *pn)
{
    int64_t now = pn->s ? pn->s->timestamp_ms : 0;
    for (size_t i = 0; pn->r && i < pn->r->n_checks && now > 0; i++) {
        const bp_check *c = &pn->r->checks[i];
        if (c->kind != BP_CHECK_GOVERNOR || c->state_since_ms <= 0)
            continue;
        label ls[1] = {{"governor", c->subject, 0}};
        sample_real(x, pn, ls, 1, (double)(now > c->state_since_ms ? now - c->state_since_ms : 0) / 1000.0);
    }
}

/* 1 for each peer in the node's nodes(), 0 for each expected peer missing: missing ones first, at most
   the report's peer_series_max in all. */
static void f_peers(pctx *x, const pnode *pn)
{
    if (!pn->r || !ok(&pn->s->membership))
        return;
    size_t left = pn->r->peer_series_max > 0 ? (size_t)pn->r->peer_series_max : 0;
    const bp_strv *miss = &pn->r->missing_peers, *vis = &pn->s->visible;
    for (size_t i = 0; i < miss->n && left > 0; i++, left--) {
        label ls[1] = {{"peer", miss->v[i], 0}};
        sample_int(x, pn, ls, 1, 0);
    }
    for (size_t i = 0; i < vis->n && left > 0; i++, left--) {
        label ls[1] = {{"peer", vis->v[i], 0}};
        sample_int(x, pn, ls, 1, 1);
    }
}

/* Members of each governor family per state. */
static void f_family_states(pctx *x, const pnode *pn)
{
    if (!pn->r)
        return;
    for (size_t i = 0; i < pn->r->n_checks; i++) {
        const bp_check *c = &pn->r->checks[i];
        for (size_t k = 0; c->kind == BP_CHECK_GOVERNORS && c->states && k < c->n_states; k++) {
            label ls[2] = {{"family", c->subject, 0}, {"state", c->states[k].state, 0}};
            sample_int(x, pn, ls, 2, (int64_t)c->states[k].count);
        }
    }
}

static void f_age(pctx *x, const pnode *pn)
{
    sample_real(x, pn, NULL, 0, pn->n->age_seconds);
}

/* ---- the family table ---- */

typedef struct {
    const char *name;
    const char *pre6; /* name under BP_PROM_PRE6_NAMES; NULL: the same */
    const char *help;
    void (*emit)(pctx *, const pnode *);
} family;

static const family families[] = {
    {"beamprobe_up", NULL, "1 if the last probe of the node connected, else 0.", f_up},
    {"beamprobe_info", NULL, "Constant 1, labelled with the node's OTP release and ERTS version and beamprobe's version.",
     f_info},
    {"beamprobe_health_status", NULL,
     "Overall health of the node as a state set: 1 for the current status (healthy, degraded, unhealthy), 0 for the others.",
     f_health},
    {"beamprobe_check_status", NULL,
     "Result of each check as a state set: 1 for the current status (pass, warn, fail), 0 for the others.",
     f_check},
    {"beamprobe_governor_state", NULL,
     "State of each governor as a state set over the configured warn and fail states and its current one: 1 for "
     "the current state.",
     f_governor_state},
    {"beamprobe_governor_state_since_seconds", NULL,
     "Seconds each governor has been in its current state, as of the report (serve and the in-VM server).",
     f_governor_since},
    {"beamprobe_check_transitions_total", NULL,
     "Status changes of each check since serve (or the in-VM server) started watching the node.", f_transitions},
    {"beamprobe_peer_connected", NULL,
     "1 when peer is in the node's nodes(), 0 when it is an expected peer that is absent (missing ones first, "
     "at most --peer-series-max per node).",
     f_peers},
    {"beamprobe_governor_family_members", NULL,
     "Members of each governor family (--governors-under, --governor gproc:TAG) per state.", f_family_states},
    {"beamprobe_report_incomplete", NULL, "1 if some check could not complete before the probe's deadline, else 0.",
     f_incomplete},
    {"beamprobe_probe_duration_seconds", NULL, "Wall time of the probe that produced the report.", f_duration},
    {"beamprobe_vm_uptime_seconds", NULL, "Time since the node's VM started, as of the report.", f_uptime},
    {"beamprobe_memory_limit_bytes", NULL, "Memory limit the memory check judged the node's total memory against.",
     f_memory_limit},
    {"beamprobe_cgroup_memory_limit_bytes", NULL, "Memory limit of the node's cgroup; absent when unlimited.",
     f_cgroup_limit},
    {"beamprobe_cgroup_memory_usage_bytes", NULL, "Memory usage of the node's cgroup, as the kernel counts it.",
     f_cgroup_usage},
    {"beamprobe_visible_nodes", NULL, "Number of nodes the node is connected to, as erlang:nodes(visible).", f_visible},
    {"beamprobe_hidden_nodes", NULL, "Number of hidden nodes connected to the node, not counting this probe.",
     f_hidden},
    {"erlang_vm_memory_bytes", "erlang_vm_memory_bytes_total",
     "Memory currently allocated by the VM, by kind; processes plus system is the total.", f_mem_bytes},
    {"erlang_vm_memory_processes_bytes", "erlang_vm_memory_processes_bytes_total",
     "Memory currently allocated for Erlang processes, used and free.", f_mem_processes},
    {"erlang_vm_memory_system_bytes", "erlang_vm_memory_system_bytes_total",
     "Memory currently allocated by the VM outside Erlang processes, by usage.", f_mem_system},
    {"erlang_vm_memory_atom_bytes", "erlang_vm_memory_atom_bytes_total",
     "Memory currently allocated for atoms, used and free; part of system memory.", f_mem_atom},
    {"erlang_vm_memory_ets_tables", NULL, "Number of ETS tables.", f_ets_tables},
    {"erlang_vm_processes", "erlang_vm_process_count", "Number of processes currently existing on the node.",
     f_processes},
    {"erlang_vm_process_limit", NULL, "Maximum number of processes that can exist at the same time on the node.",
     f_process_limit},
    {"erlang_vm_ports", "erlang_vm_port_count", "Number of ports currently existing on the node.", f_ports},
    {"erlang_vm_port_limit", NULL, "Maximum number of ports that can exist at the same time on the node.",
     f_port_limit},
    {"erlang_vm_atoms", "erlang_vm_atom_count", "Number of atoms currently existing on the node.", f_atoms},
    {"erlang_vm_atom_limit", NULL, "Maximum number of atoms that can exist at the same time on the node.",
     f_atom_limit},
    {"erlang_vm_ets_limit", NULL, "Maximum number of ETS tables allowed.", f_ets_limit},
    {"erlang_vm_schedulers_online", NULL, "Number of schedulers online.", f_schedulers_online},
    {"erlang_vm_dirty_cpu_schedulers_online", NULL, "Number of dirty CPU scheduler threads online.",
     f_dirty_cpu_online},
    {"erlang_vm_dirty_io_schedulers", NULL, "Number of dirty I/O scheduler threads.", f_dirty_io},
    {"erlang_vm_statistics_run_queues_length", NULL,
     "Processes and ports ready to run on the normal and dirty CPU run queues, as erlang:statistics(run_queue).",
     f_run_queues},
    {"erlang_vm_statistics_dirty_cpu_run_queue_length", NULL, "Length of the dirty CPU run queue.", f_dirty_cpu_rq},
    {"erlang_vm_statistics_dirty_io_run_queue_length", NULL, "Length of the dirty I/O run queue.", f_dirty_io_rq},
    /* the VM's OS process, as the Prometheus client libraries' process collectors name them */
    {"process_open_fds", NULL, "Number of open file descriptors.", f_open_fds},
    {"process_max_fds", NULL, "Maximum number of open file descriptors.", f_max_fds},
};

static const family age_family = {"beamprobe_report_age_seconds", NULL,
                                  "Time since the node's report was produced.", f_age};

/* HELP, TYPE and every node's samples of one family; nothing when no node has a sample. */
static void write_family(pctx *x, const family *f, const pnode *pns, size_t n)
{
    size_t mark = x->b->len;
    x->family = (x->flags & BP_PROM_PRE6_NAMES) && f->pre6 ? f->pre6 : f->name;
    x->samples = 0;
    puts_(x, "# HELP ");
    puts_(x, x->family);
    put(x, " ", 1);
    puts_(x, f->help);
    puts_(x, "\n# TYPE ");
    puts_(x, x->family);
    size_t nl = strlen(f->name); /* a _total name is a counter (pre-6 names are gauges whatever they end in) */
    puts_(x, nl > 6 && strcmp(f->name + nl - 6, "_total") == 0 ? " counter\n" : " gauge\n");
    for (size_t i = 0; i < n; i++)
        if (!pns[i].skip)
            f->emit(x, &pns[i]);
    if (x->samples == 0 && !x->oom) {
        x->b->len = mark;
        x->b->p[mark] = '\0';
    }
}

/* 0, or after a failed allocation the buffer cut back to `start` bytes and BP_ENOMEM. */
static int finish(pctx *x, size_t start)
{
    if (!x->oom)
        return 0;
    x->b->len = start;
    if (x->b->p)
        x->b->p[start] = '\0';
    return BP_ENOMEM;
}

static int render(bp_prom_buf *b, const bp_prom_node *nodes, size_t n, unsigned flags, int all)
{
    if (!b || (!nodes && n > 0))
        return BP_EUSAGE;
    size_t start = b->len;
    pnode *pns = prepare_nodes(nodes, n, all);
    if (!pns)
        return BP_ENOMEM;
    pctx x = {.b = b, .flags = flags};
    for (size_t i = 0; all && i < sizeof families / sizeof families[0]; i++)
        write_family(&x, &families[i], pns, n);
    if (!all || !(flags & BP_PROM_NO_AGE))
        write_family(&x, &age_family, pns, n);
    free_nodes(pns, n);
    return finish(&x, start);
}

int bp_render_prom_multi(bp_prom_buf *b, const bp_prom_node *nodes, size_t n, unsigned flags)
{
    return render(b, nodes, n, flags, 1);
}

int bp_render_prom_ages(bp_prom_buf *b, const bp_prom_node *nodes, size_t n)
{
    return render(b, nodes, n, 0, 0);
}

/* HELP and TYPE lines of a family. */
static void family_head(pctx *x, const char *name, const char *help, const char *type)
{
    puts_(x, "# HELP ");
    puts_(x, name);
    puts_(x, " ");
    puts_(x, help);
    puts_(x, "\n# TYPE ");
    puts_(x, name);
    puts_(x, " ");
    puts_(x, type);
    puts_(x, "\n");
}

/* One sample line: name{label_name="label"} value (no braces without a label name). */
static void family_sample(pctx *x, const char *name, const char *label_name, const char *lvalue, const char *value)
{
    puts_(x, name);
    if (label_name) {
        puts_(x, "{");
        puts_(x, label_name);
        puts_(x, "=\"");
        put_label_value(x, lvalue ? lvalue : "");
        puts_(x, "\"}");
    }
    puts_(x, " ");
    puts_(x, value);
    puts_(x, "\n");
}

int bp_render_prom_counter(bp_prom_buf *b, const char *name, const char *help, const char *label_name,
                           const bp_prom_count *v, size_t n)
{
    if (!b || !name || !help || (!v && n > 0))
        return BP_EUSAGE;
    size_t start = b->len;
    pctx x = {.b = b};
    char num[32];
    family_head(&x, name, help, "counter");
    for (size_t i = 0; i < n; i++) {
        snprintf(num, sizeof num, "%" PRIu64, v[i].value);
        family_sample(&x, name, label_name, v[i].label, num);
    }
    return finish(&x, start);
}

int bp_render_prom_gauge(bp_prom_buf *b, const char *name, const char *help, const char *label_name,
                         const bp_prom_gauge *v, size_t n)
{
    if (!b || !name || !help || (!v && n > 0))
        return BP_EUSAGE;
    size_t start = b->len;
    pctx x = {.b = b};
    char num[40];
    family_head(&x, name, help, "gauge");
    for (size_t i = 0; i < n; i++) {
        snprintf(num, sizeof num, "%.15g", v[i].value);
        family_sample(&x, name, label_name, v[i].label, num);
    }
    return finish(&x, start);
}

int bp_render_prom(bp_prom_buf *b, const bp_report *r, int up, double age_seconds)
{
    bp_prom_node one = {.report = r, .node = NULL, .up = up, .age_seconds = age_seconds, .duration_seconds = 0};
    return bp_render_prom_multi(b, &one, 1, 0);
}
