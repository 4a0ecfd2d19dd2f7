/* collect_procs.c: governors and supervisors: find, prove the kind of, then ask each process only what its kind handles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"
#include "dist/collect_int.h"

static bp__proc_job *new_job(bp__collector *c)
{
    if (c->n_jobs >= c->cap_jobs)
        return NULL;
    bp__proc_job *j = &c->jobs[c->n_jobs++];
    memset(j, 0, sizeof *j);
    j->at[0] = j->at[1] = j->at[2] = -1;
    return j;
}

static bp_supervisor_snap *new_sup(bp__collector *c, const char *name, int depth)
{
    bp_snapshot *s = c->snap;
    if (s->n_supervisors >= BP__MAX_SUPERVISORS)
        return NULL;
    bp_supervisor_snap *p = &s->supervisors[s->n_supervisors++];
    memset(p, 0, sizeof *p);
    p->name = bp_arena_strdup(s->arena, name);
    p->depth = depth;
    p->specs = p->active = p->supervisors = p->workers = -1;
    p->intensity = p->period = p->recent_restarts = -1;
    return p->name ? p : NULL;
}

int bp__procs_init(bp__collector *c)
{
    const bp_config *cfg = c->cfg;
    bp_snapshot *s = c->snap;
    c->cap_jobs = cfg->governors.n + BP__MAX_SUPERVISORS;
    c->jobs = bp_arena_alloc(s->arena, c->cap_jobs * sizeof *c->jobs);
    s->supervisors = bp_arena_alloc(s->arena, BP__MAX_SUPERVISORS * sizeof *s->supervisors);
    s->governors = bp_arena_alloc(s->arena, (cfg->governors.n + 1) * sizeof *s->governors);
    if (!c->jobs || !s->supervisors || !s->governors)
        return BP_ENOMEM;
    s->n_governors = cfg->governors.n;
    for (size_t i = 0; i < cfg->governors.n; i++) {
        bp_governor_snap *g = &s->governors[i];
        memset(g, 0, sizeof *g);
        g->name = bp_arena_strdup(s->arena, cfg->governors.v[i]);
        g->message_queue_len = g->memory = -1;
        bp__proc_job *j = new_job(c);
        if (!g->name || !j)
            return BP_ENOMEM;
        j->gov = g;
        j->name = g->name;
    }
    for (size_t i = 0; i < cfg->supervisors.n && s->n_supervisors < BP__MAX_SUPERVISORS; i++) {
        bp__proc_job *j = new_job(c);
        if (!j || !(j->sup = new_sup(c, cfg->supervisors.v[i], 0)))
            return BP_ENOMEM;
        j->name = j->sup->name;
    }
    return 0;
}

/* ---------- planning ---------- */

/* gen:call(Pid, '$gen_call', Request, Timeout): a call that cannot hang the target. */
static int add_gen_call(bp__collector *c, bp_batch *b, const bp_term *pid, const char *request, int *index)
{
    ei_x_buff *x = bp__add_call(b, "gen", "call", 4, index);
    if (!x || bp_encode_pid(x, pid) < 0 || ei_x_encode_atom(x, "$gen_call") < 0
        || ei_x_encode_atom(x, request) < 0 || ei_x_encode_long(x, c->cfg->governor_timeout_ms) < 0)
        return BP_ENOMEM;
    return 0;
}

/* sys:get_state(Pid, Timeout): only ever planned for a process proven to handle it. */
static int add_get_state(bp__collector *c, bp_batch *b, const bp_term *pid, int *index)
{
    ei_x_buff *x = bp__add_call(b, "sys", "get_state", 2, index);
    if (!x || bp_encode_pid(x, pid) < 0 || ei_x_encode_long(x, c->cfg->governor_timeout_ms) < 0)
        return BP_ENOMEM;
    return 0;
}

static int plan_job(bp__collector *c, bp_batch *b, bp__proc_job *j)
{
    j->at[0] = j->at[1] = j->at[2] = -1;
    switch (j->stage) {
    case J_WHEREIS: {
        ei_x_buff *x = bp__add_call(b, "erlang", "whereis", 1, &j->at[0]);
        if (!x || ei_x_encode_atom(x, j->name) < 0)
            return BP_ENOMEM;
        bp_batch_get(b, (size_t)j->at[0])->block = 1; /* a BIF: no spawn */
        return 0;
    }
    case J_PROVE:
        return bp_prockind_plan(b, &j->pid, j->at);
    case J_ATTRS:
        return bp_prockind_plan_attrs(b, &j->kind, &j->at[0]) == BP_ENOMEM ? BP_ENOMEM : 0;
    case J_ASK:
        /* a supervisor's state holds its restart intensity and its recent restarts */
        if (j->sup && (add_gen_call(c, b, &j->pid, "count_children", &j->at[0]) != 0
                       || add_gen_call(c, b, &j->pid, "which_children", &j->at[1]) != 0))
            return BP_ENOMEM;
        return add_get_state(c, b, &j->pid, &j->at[j->sup ? 2 : 0]);
    case J_DONE:
    default:
        return 0;
    }
}

int bp__procs_plan(bp__collector *c, bp_batch *b)
{
    for (size_t i = 0; i < c->n_jobs; i++)
        if (plan_job(c, b, &c->jobs[i]) != 0)
            return BP_ENOMEM;
    return 0;
}

/* ---------- replies ---------- */

static bp_fact *job_fact(bp__proc_job *j)
{
    return j->sup ? &j->sup->fact : &j->gov->fact;
}

static const char *pid_text(bp__collector *c, const bp_term *pid)
{
    return bp_arena_printf(c->snap->arena, "<%s.%lld.%lld>", pid->str, (long long)pid->i, (long long)pid->serial);
}

/* Keep a pid beyond its batch: the node name moves to the snapshot's arena. */
static int keep_pid(bp__collector *c, bp__proc_job *j, const bp_term *pid)
{
    j->pid = *pid;
    j->pid.str = bp_arena_strdup(c->snap->arena, pid->str ? pid->str : "");
    const char *text = pid_text(c, pid);
    if (!j->pid.str || !text)
        return -1;
    if (j->sup)
        j->sup->pid = text;
    else
        j->gov->pid = text;
    return 0;
}

static void take_whereis(bp__collector *c, bp_batch *b, bp__proc_job *j)
{
    bp_fact *f = job_fact(j);
    const bp_term *pid = bp__reply_of(c, b, j->at[0], f);
    j->stage = J_DONE;
    if (pid && pid->type == BP_T_PID) {
        if (keep_pid(c, j, pid) == 0)
            j->stage = J_PROVE;
    } else if (pid && j->gov) {
        f->state = BP_FACT_OK; /* answered: not registered */
    } else if (pid) {
        bp_fact_fail(c->snap, f, BP_FACT_ERROR, "not running");
    }
}

/* The kind is known: ask what it handles, or say why nothing is asked. */
static void decide(bp__collector *c, bp__proc_job *j)
{
    char what[300];
    bp_prockind_describe(&j->kind, what, sizeof what);
    const char *kind = bp_arena_strdup(c->snap->arena, what);
    j->stage = J_DONE;
    if (j->sup) {
        j->sup->kind = kind;
        if (j->kind.kind == BP_PK_SUPERVISOR)
            j->stage = J_ASK;
        else if (j->kind.kind == BP_PK_GONE)
            bp_fact_fail(c->snap, &j->sup->fact, BP_FACT_ERROR, "exited while being probed");
        else if (j->sup->depth > 0)
            j->sup->fact.state = BP_FACT_OK; /* a child declared `supervisor` that is none (a
                                                supervisor_bridge, say): up, and nothing to walk */
        else
            bp_fact_fail(c->snap, &j->sup->fact, BP_FACT_ERROR, "%s is not a supervisor (%s)", j->sup->name, what);
        return;
    }
    bp_governor_snap *g = j->gov;
    g->kind = kind;
    if (j->kind.kind == BP_PK_GONE) {
        g->alive = 0;
    } else if (bp_prockind_handles_sys(&j->kind)) {
        j->stage = J_ASK;
    } else {
        g->state_unreadable = 1;
        bp_fact_fail(c->snap, &g->state_fact, BP_FACT_ERROR,
                     "%s does not handle system messages (%s); its state cannot be read", g->name, what);
    }
}

static void take_proof(bp__collector *c, bp_batch *b, bp__proc_job *j)
{
    bp_fact *f = job_fact(j);
    const bp_term *info = bp__reply_of(c, b, j->at[0], f);
    bp_fact scratch = { 0 };
    const bp_term *ic = bp__reply_of(c, b, j->at[1], &scratch); /* NULL: no '$initial_call' to go by */
    j->stage = J_DONE;
    if (!info)
        return;
    if (bp_prockind_take(info, ic, &j->kind) != 0) {
        bp_fact_fail(c->snap, f, BP_FACT_ERROR, "unexpected reply to erlang:process_info/2");
        return;
    }
    if (j->gov) {
        j->gov->alive = 1;
        j->gov->message_queue_len = j->kind.message_queue_len;
        j->gov->memory = j->kind.memory;
        bp__fact_ok(f);
    }
    if (j->kind.kind == BP_PK_HIBERNATED && j->kind.module[0])
        j->stage = J_ATTRS;
    else {
        if (j->kind.kind == BP_PK_HIBERNATED)
            j->kind.kind = BP_PK_PLAIN; /* no '$initial_call' to check the behaviours of */
        decide(c, j);
    }
}

static void take_attrs(bp__collector *c, bp_batch *b, bp__proc_job *j)
{
    bp_fact scratch = { 0 };
    bp_prockind_take_attrs(bp__reply_of(c, b, j->at[0], &scratch), &j->kind);
    decide(c, j);
}

/* Reduce a sys:get_state reply to the state's name at once: gen_statem {Name, Data}, or an atom. */
static const char *state_name(bp__collector *c, const bp_term *st)
{
    if (st && st->type == BP_T_ATOM)
        return bp_arena_strdup(c->snap->arena, st->str);
    if (st && st->type == BP_T_TUPLE && st->n == 2) {
        const bp_term *n = &st->items[0];
        if (n->type == BP_T_ATOM)
            return bp_arena_strdup(c->snap->arena, n->str);
        if (n->type == BP_T_TUPLE && n->n > 0 && n->items[0].type == BP_T_ATOM)
            return bp_arena_strdup(c->snap->arena, n->items[0].str); /* complex state {Name, ...} */
    }
    return NULL;
}

static void take_governor_state(bp__collector *c, bp_batch *b, bp__proc_job *j)
{
    bp_governor_snap *g = j->gov;
    bp_rpc *r = bp_batch_get(b, (size_t)j->at[0]);
    if (r && r->rc == 0 && !bp_term_is_tagged(r->reply, "badrpc", 2)) {
        g->state = state_name(c, r->reply);
        g->state_fact.state = BP_FACT_OK;
        if (!g->state)
            g->state = "unknown";
    } else if (r && r->rc == 0 && bp__exit_reason_is(r, "timeout")) {
        bp_fact_fail(c->snap, &g->state_fact, BP_FACT_ERROR, "no reply to sys:get_state within %d ms",
                     c->cfg->governor_timeout_ms);
    } else if (r && r->rc == 0 && bp__exit_reason_is(r, "noproc")) {
        g->alive = 0; /* exited between the rounds */
    } else {
        (void)bp__reply_of(c, b, j->at[0], &g->state_fact);
    }
}

/* The reply {ok, X} of gen:call, or NULL with the fact failed. */
static const bp_term *gen_reply(bp__collector *c, bp_batch *b, int i, bp_fact *f)
{
    bp_rpc *r = bp_batch_get(b, (size_t)i);
    if (r && r->rc == 0 && bp__exit_reason_is(r, "noproc")) {
        bp_fact_fail(c->snap, f, BP_FACT_ERROR, "exited while being probed");
        return NULL;
    }
    if (r && r->rc == 0 && bp__exit_reason_is(r, "timeout")) {
        bp_fact_fail(c->snap, f, BP_FACT_ERROR, "no reply within %d ms", c->cfg->governor_timeout_ms);
        return NULL;
    }
    const bp_term *t = bp__reply_of(c, b, i, f);
    if (t && !bp_term_is_tagged(t, "ok", 2)) {
        bp_fact_fail(c->snap, f, BP_FACT_ERROR, "unexpected reply from the supervisor");
        return NULL;
    }
    return bp_term_elem(t, 1);
}

/* A child of type supervisor to walk next: a new job that starts by proving its kind. */
static void add_nested(bp__collector *c, bp__proc_job *parent, const char *id, const bp_term *child)
{
    bp_supervisor_snap *p = parent->sup;
    char name[BP_NAME_MAX * 2];
    snprintf(name, sizeof name, "%s/%s", p->name, id);
    bp_supervisor_snap *sub = new_sup(c, name, p->depth + 1);
    bp__proc_job *nj = sub ? new_job(c) : NULL;
    if (!nj)
        return;
    nj->sup = sub;
    if (keep_pid(c, nj, child) == 0)
        nj->stage = J_PROVE;
    else
        nj->stage = J_DONE;
}

/*
 * The supervisor's #state{} (OTP 19 to 27 keep these places): intensity at 6, period at 7,
 * restarts (erlang:monotonic_time(second) of each, newest first) at 8. A state of another
 * shape, or one over --max-reply, leaves them unknown.
 */
static void take_restarts(bp__collector *c, bp_batch *b, bp__proc_job *j)
{
    bp_supervisor_snap *p = j->sup;
    bp_fact scratch = { 0 };
    const bp_term *st = bp__reply_of(c, b, j->at[2], &scratch);
    int64_t intensity, period;
    if (!st || st->type != BP_T_TUPLE || st->n < 8 || !bp_term_is_atom(&st->items[0], "state")
        || bp_term_int(&st->items[5], &intensity) != 0 || bp_term_int(&st->items[6], &period) != 0
        || intensity < 0 || period <= 0)
        return;
    p->intensity = intensity;
    p->period = period;
    const bp_term *r = &st->items[7];
    if (!c->mono_known || (r->type != BP_T_LIST && r->type != BP_T_NIL))
        return;
    int64_t n = 0, t;
    for (size_t i = 0; r->type == BP_T_LIST && i < r->n; i++)
        n += bp_term_int(&r->items[i], &t) == 0 && t >= c->mono_now_s - period;
    p->recent_restarts = n;
}

static void take_supervisor(bp__collector *c, bp_batch *b, bp__proc_job *j)
{
    bp_supervisor_snap *p = j->sup;
    bp_rpc *wc = bp_batch_get(b, (size_t)j->at[1]);
    const bp_term *counts = gen_reply(c, b, j->at[0], &p->fact);
    if (counts) {
        p->specs = bp__int_or(bp_term_prop(counts, "specs"), -1);
        p->active = bp__int_or(bp_term_prop(counts, "active"), -1);
        p->supervisors = bp__int_or(bp_term_prop(counts, "supervisors"), -1);
        p->workers = bp__int_or(bp_term_prop(counts, "workers"), -1);
    }
    if (wc && wc->rc == BP_ETOOBIG) {
        p->children_truncated = 1; /* counts alone still tell */
    } else if (p->fact.state != BP_FACT_ERROR && p->fact.state != BP_FACT_TIMEOUT) {
        const bp_term *kids = gen_reply(c, b, j->at[1], &p->fact);
        for (size_t i = 0; kids && kids->type == BP_T_LIST && i < kids->n; i++) {
            const bp_term *k = &kids->items[i];
            if (k->type != BP_T_TUPLE || k->n != 4)
                continue;
            char id[96];
            bp_term_format(&k->items[0], id, sizeof id);
            const bp_term *child = &k->items[1];
            if (bp_term_is_atom(child, "restarting")) {
                if (p->n_down < BP_CHILD_DOWN_MAX)
                    p->down[p->n_down] = bp_arena_printf(c->snap->arena, "%s (%s)", id, child->str);
                p->n_down++;
            } else if (bp_term_is_atom(child, "undefined")) {
                if (p->n_stopped < BP_CHILD_DOWN_MAX)
                    p->stopped[p->n_stopped] = bp_arena_strdup(c->snap->arena, id);
                p->n_stopped++;
            } else if (child->type == BP_T_PID && bp_term_is_atom(&k->items[2], "supervisor")
                       && p->depth < c->cfg->supervisor_depth) {
                add_nested(c, j, id, child);
            }
        }
    }
    take_restarts(c, b, j);
    bp__fact_ok(&p->fact);
}

void bp__procs_take(bp__collector *c, bp_batch *b)
{
    size_t n = c->n_jobs; /* nested supervisors added now wait for the next round */
    for (size_t i = 0; i < n; i++) {
        bp__proc_job *j = &c->jobs[i];
        if (j->at[0] < 0)
            continue;
        switch (j->stage) {
        case J_WHEREIS: take_whereis(c, b, j); break;
        case J_PROVE: take_proof(c, b, j); break;
        case J_ATTRS: take_attrs(c, b, j); break;
        case J_ASK:
            if (j->sup)
                take_supervisor(c, b, j);
            else
                take_governor_state(c, b, j);
            j->stage = J_DONE;
            break;
        case J_DONE:
        default:
            break;
        }
        j->at[0] = j->at[1] = j->at[2] = -1;
    }
}
