/* collect_procs.c: governors and supervisors: find, prove the kind of, then ask each process only what its kind handles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"
#include "dist/collect_int.h"
#include "dist/sup_quirks.h"

/* Room for `extra` more jobs; 0 or BP_ENOMEM. Pointers into c->jobs do not survive it. */
static int reserve_jobs(bp__collector *c, size_t extra)
{
    if (c->n_jobs + extra <= c->cap_jobs)
        return 0;
    size_t cap = c->cap_jobs ? c->cap_jobs : 16;
    while (cap < c->n_jobs + extra)
        cap *= 2;
    bp__proc_job *j = realloc(c->jobs, cap * sizeof *j);
    if (!j)
        return BP_ENOMEM;
    c->jobs = j;
    c->cap_jobs = cap;
    return 0;
}

/* A new job; call reserve_jobs first. */
static bp__proc_job *new_job(bp__collector *c)
{
    if (c->n_jobs >= c->cap_jobs)
        return NULL;
    bp__proc_job *j = &c->jobs[c->n_jobs++];
    memset(j, 0, sizeof *j);
    j->at[0] = j->at[1] = j->at[2] = -1;
    return j;
}

void bp__procs_free(bp__collector *c)
{
    free(c->jobs);
    c->jobs = NULL;
    c->n_jobs = c->cap_jobs = 0;
}

static void init_governor(bp_governor_snap *g, const char *name)
{
    memset(g, 0, sizeof *g);
    g->name = name;
    g->message_queue_len = g->memory = -1;
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
    size_t n_fam = cfg->governor_families.n;
    for (size_t i = 0; i < cfg->governors.n; i++)
        n_fam += strncmp(cfg->governors.v[i], "gproc:", 6) == 0;
    s->supervisors = bp_arena_alloc(s->arena, BP__MAX_SUPERVISORS * sizeof *s->supervisors);
    s->governors = bp_arena_alloc(s->arena, (cfg->governors.n + 1) * sizeof *s->governors);
    s->families = bp_arena_alloc(s->arena, (n_fam + 1) * sizeof *s->families);
    if (!s->supervisors || !s->governors || !s->families
        || reserve_jobs(c, cfg->governors.n + n_fam + BP__MAX_SUPERVISORS) != 0)
        return BP_ENOMEM;
    for (size_t i = 0; i < cfg->governors.n; i++) {
        const char *v = cfg->governors.v[i];
        const char *name = bp_arena_strdup(s->arena, v);
        bp__proc_job *j = new_job(c);
        if (!name || !j)
            return BP_ENOMEM;
        if (strncmp(v, "gproc:", 6) == 0) {
            bp_govfamily_snap *f = &s->families[s->n_families++];
            memset(f, 0, sizeof *f);
            f->name = name;
            j->fam = f;
            j->name = name + 6;
            j->stage = J_GPROC;
        } else {
            bp_governor_snap *g = &s->governors[s->n_governors++];
            init_governor(g, name);
            j->gov = g;
            j->name = name;
        }
    }
    for (size_t i = 0; i < cfg->governor_families.n; i++) {
        bp_govfamily_snap *f = &s->families[s->n_families++];
        memset(f, 0, sizeof *f);
        f->name = bp_arena_strdup(s->arena, cfg->governor_families.v[i]);
        bp__proc_job *j = new_job(c);
        if (!f->name || !j)
            return BP_ENOMEM;
        j->fam = f;
        j->name = f->name;
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

/*
 * gproc:select({l, n}, [{{{n, l, {Tag, '$1'}}, '$2', '_'}, [], [{{'$1', '$2'}}]}]): every
 * local gproc name {n, l, {Tag, Key}} as {Key, Pid}; an ETS select of gproc's, no message.
 */
static int plan_gproc(bp_batch *b, bp__proc_job *j)
{
    ei_x_buff *x = bp__add_call(b, "gproc", "select", 2, &j->at[0]);
    if (!x || ei_x_encode_tuple_header(x, 2) < 0 || ei_x_encode_atom(x, "l") < 0 || ei_x_encode_atom(x, "n") < 0
        || ei_x_encode_list_header(x, 1) < 0 || ei_x_encode_tuple_header(x, 3) < 0
        /* head {{n, l, {Tag, '$1'}}, '$2', '_'} */
        || ei_x_encode_tuple_header(x, 3) < 0 || ei_x_encode_tuple_header(x, 3) < 0
        || ei_x_encode_atom(x, "n") < 0 || ei_x_encode_atom(x, "l") < 0 || ei_x_encode_tuple_header(x, 2) < 0
        || ei_x_encode_atom(x, j->name) < 0 || ei_x_encode_atom(x, "$1") < 0 || ei_x_encode_atom(x, "$2") < 0
        || ei_x_encode_atom(x, "_") < 0
        /* guards [], body [{{'$1', '$2'}}] */
        || ei_x_encode_empty_list(x) < 0 || ei_x_encode_list_header(x, 1) < 0
        || ei_x_encode_tuple_header(x, 1) < 0 || ei_x_encode_tuple_header(x, 2) < 0
        || ei_x_encode_atom(x, "$1") < 0 || ei_x_encode_atom(x, "$2") < 0 || ei_x_encode_empty_list(x) < 0
        || ei_x_encode_empty_list(x) < 0)
        return BP_ENOMEM;
    bp_rpc *r = bp_batch_get(b, (size_t)j->at[0]);
    r->block = 1;
    snprintf(r->label, sizeof r->label, "gproc:select/2");
    return 0;
}

static int plan_job(bp__collector *c, bp_batch *b, bp__proc_job *j)
{
    j->at[0] = j->at[1] = j->at[2] = -1;
    switch (j->stage) {
    case J_ATOM: { /* the name as an atom only if the node has that atom: never sent as one before */
        const char *name = j->name + (strncmp(j->name, "global:", 7) == 0 ? 7 : 0);
        ei_x_buff *x = bp__add_call(b, "erlang", "binary_to_existing_atom", 2, &j->at[0]);
        if (!x || ei_x_encode_binary(x, name, (long)strlen(name)) < 0 || ei_x_encode_atom(x, "utf8") < 0)
            return BP_ENOMEM;
        bp_batch_get(b, (size_t)j->at[0])->block = 1; /* a BIF: no spawn */
        return 0;
    }
    case J_WHEREIS: {
        int global = strncmp(j->name, "global:", 7) == 0; /* an ETS lookup of global's, no message */
        ei_x_buff *x = bp__add_call(b, global ? "global" : "erlang", global ? "whereis_name" : "whereis", 1,
                                    &j->at[0]);
        if (!x || ei_x_encode_atom(x, j->name + (global ? 7 : 0)) < 0)
            return BP_ENOMEM;
        bp_batch_get(b, (size_t)j->at[0])->block = 1; /* no spawn */
        return 0;
    }
    case J_GPROC:
        return plan_gproc(b, j);
    case J_PROVE:
        return bp_prockind_plan(b, &j->pid, j->at);
    case J_ATTRS:
        return bp_prockind_plan_attrs(b, &j->kind, &j->at[0]) == BP_ENOMEM ? BP_ENOMEM : 0;
    case J_ASK:
        if (j->fam) /* a family's supervisor: its children are the governors */
            return add_gen_call(c, b, &j->pid, "which_children", &j->at[0]);
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
    return j->sup ? &j->sup->fact : j->fam ? &j->fam->fact : &j->gov->fact;
}

static const char *pid_text(bp__collector *c, const bp_term *pid)
{
    return bp__pid_text(c->snap->arena, pid);
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
    else if (j->fam)
        j->fam->pid = text;
    else
        j->gov->pid = text;
    return 0;
}

/* No atom of that name on the node: no process is registered under it (as whereis says). */
static void not_registered(bp__collector *c, bp__proc_job *j)
{
    if (j->gov)
        j->gov->fact.state = BP_FACT_OK; /* answered: not registered */
    else
        bp_fact_fail(c->snap, job_fact(j), BP_FACT_ERROR, "not running");
}

static void take_atom(bp__collector *c, bp_batch *b, bp__proc_job *j)
{
    bp_rpc *r = bp_batch_get(b, (size_t)j->at[0]);
    j->stage = J_DONE;
    if (r && r->rc == 0 && bp__exit_reason_is(r, "badarg")) {
        not_registered(c, j);
        return;
    }
    const bp_term *a = bp__reply_of(c, b, j->at[0], job_fact(j));
    if (a && a->type == BP_T_ATOM)
        j->stage = J_WHEREIS;
    else if (a)
        bp_fact_fail(c->snap, job_fact(j), BP_FACT_ERROR, "unexpected reply to binary_to_existing_atom");
}

static void take_whereis(bp__collector *c, bp_batch *b, bp__proc_job *j)
{
    bp_fact *f = job_fact(j);
    const bp_term *pid = bp__reply_of(c, b, j->at[0], f);
    j->stage = J_DONE;
    if (pid && pid->type == BP_T_PID) {
        if (keep_pid(c, j, pid) == 0)
            j->stage = J_PROVE;
    } else if (pid) {
        not_registered(c, j);
    }
}

/* The kind is known: ask what it handles, or say why nothing is asked. */
static void decide(bp__collector *c, bp__proc_job *j)
{
    char what[300];
    bp_prockind_describe(&j->kind, what, sizeof what);
    const char *kind = bp_arena_strdup(c->snap->arena, what);
    j->stage = J_DONE;
    if (j->fam) {
        j->fam->kind = kind;
        if (j->kind.kind == BP_PK_SUPERVISOR)
            j->stage = J_ASK;
        else
            bp_fact_fail(c->snap, &j->fam->fact, BP_FACT_ERROR, "%s is not a supervisor (%s)", j->fam->name,
                         j->kind.kind == BP_PK_GONE ? "it exited while being probed" : what);
        return;
    }
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
    if (!g) /* every job has a family, a supervisor or a governor */
        return;
    g->kind = kind;
    if (j->kind.kind == BP_PK_GONE) {
        g->alive = 0;
    } else if (bp_prockind_handles_sys(&j->kind)) {
        j->stage = J_ASK;
    } else {
        g->sys_refused = 1;
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
        if (j->kind.registered[0]) /* a family member is best known by its registered name */
            j->gov->name = bp_arena_strdup(c->snap->arena, j->kind.registered);
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

/* An atom, or textual term, as a state name; NULL otherwise. */
static const char *name_of(bp__collector *c, const bp_term *t)
{
    char buf[BP_NAME_MAX];
    if (t && t->type == BP_T_ATOM)
        return bp_arena_strdup(c->snap->arena, t->str);
    if (t && (t->type == BP_T_BINARY || t->type == BP_T_STRING) && bp_term_text(t, buf, sizeof buf) == 0 && buf[0])
        return bp_arena_strdup(c->snap->arena, buf);
    return NULL;
}

/* --governor-state-field in a gen_server's state: a map key, or a 1-based tuple (record) element. */
static const bp_term *state_field(const bp_term *st, const char *field)
{
    char *end = NULL;
    long pos = strtol(field, &end, 10);
    if (end != field && *end == '\0')
        return st->type == BP_T_TUPLE && pos >= 1 && (size_t)pos <= st->n ? &st->items[pos - 1] : NULL;
    for (size_t i = 0; st->type == BP_T_MAP && i < st->n; i++)
        if (bp_term_is_atom(&st->items[2 * i], field))
            return &st->items[2 * i + 1];
    return NULL;
}

/*
 * The state's name, by the governor's proven kind: a gen_statem's {StateName, Data}
 * (a complex state {Name, ...} by its first element); a gen_server's state itself when
 * it is an atom, else its --governor-state-field. NULL with g->unreadable saying why.
 */
static const char *state_name(bp__collector *c, const bp__proc_job *j, const bp_term *st)
{
    bp_governor_snap *g = j->gov;
    const char *field = c->cfg->governor_state_field;
    if (j->kind.kind == BP_PK_GEN_STATEM) {
        const bp_term *n = st->type == BP_T_TUPLE && st->n == 2 ? &st->items[0] : NULL;
        if (n && n->type == BP_T_TUPLE && n->n > 0)
            n = &n->items[0];
        const char *name = name_of(c, n);
        if (!name)
            g->unreadable = "the gen_statem's state name is no atom";
        return name;
    }
    if (j->kind.kind == BP_PK_GEN_EVENT) {
        g->unreadable = "a gen_event has no state of its own";
        return NULL;
    }
    if (field[0]) {
        const bp_term *v = state_field(st, field);
        const char *name = name_of(c, v);
        int pos = field[strspn(field, "0123456789")] == '\0';
        if (!name)
            g->unreadable = bp_arena_printf(c->snap->arena, v ? "its state's %s %s is no atom" : "its state has no %s %s",
                                            pos ? "element" : "key", field);
        return name;
    }
    const char *name = name_of(c, st);
    if (!name)
        g->unreadable = "a gen_server's state: give --governor-state-field";
    return name;
}

static void take_governor_state(bp__collector *c, bp_batch *b, bp__proc_job *j)
{
    bp_governor_snap *g = j->gov;
    bp_rpc *r = bp_batch_get(b, (size_t)j->at[0]);
    if (r && r->rc == 0 && !bp_term_is_tagged(r->reply, "badrpc", 2)) {
        g->state = state_name(c, j, r->reply);
        g->state_fact.state = BP_FACT_OK;
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

/* Members of a family: one governor job each (at most BP_FAMILY_MAX), proved before anything is sent. */
static int add_members(bp__collector *c, size_t ji, size_t n)
{
    size_t take = n < BP_FAMILY_MAX ? n : BP_FAMILY_MAX;
    bp_govfamily_snap *f = c->jobs[ji].fam;
    f->n_total = n;
    f->members = bp_arena_alloc(c->snap->arena, (take + 1) * sizeof *f->members);
    if (!f->members || reserve_jobs(c, take) != 0) {
        bp_fact_fail(c->snap, &f->fact, BP_FACT_ERROR, "out of memory for %zu members", n);
        return -1;
    }
    f->n_members = 0;
    return (int)take;
}

/* Member `name` with pid `pid` joins family job ji (call add_members first). */
static void add_member(bp__collector *c, size_t ji, const char *name, const bp_term *pid)
{
    bp_govfamily_snap *f = c->jobs[ji].fam;
    bp_governor_snap *g = &f->members[f->n_members++];
    init_governor(g, name);
    bp__proc_job *nj = new_job(c);
    if (!nj)
        return;
    nj->gov = g;
    nj->stage = keep_pid(c, nj, pid) == 0 ? J_PROVE : J_DONE;
}

/* which_children of a family's supervisor: every child with a pid is a member. */
static void take_family_children(bp__collector *c, bp_batch *b, size_t ji)
{
    bp_govfamily_snap *f = c->jobs[ji].fam;
    const bp_term *kids = gen_reply(c, b, c->jobs[ji].at[0], &f->fact);
    if (!kids)
        return;
    size_t n = 0;
    for (size_t i = 0; kids->type == BP_T_LIST && i < kids->n; i++)
        n += kids->items[i].type == BP_T_TUPLE && kids->items[i].n == 4 && kids->items[i].items[1].type == BP_T_PID;
    int take = add_members(c, ji, n);
    for (size_t i = 0; take > 0 && kids->type == BP_T_LIST && i < kids->n && f->n_members < (size_t)take; i++) {
        const bp_term *k = &kids->items[i];
        if (k->type != BP_T_TUPLE || k->n != 4 || k->items[1].type != BP_T_PID)
            continue;
        char id[BP_NAME_MAX];
        if (bp_term_is_atom(&k->items[0], "undefined")) /* simple_one_for_one: no ids */
            snprintf(id, sizeof id, "<%s.%lld.%lld>", k->items[1].str, (long long)k->items[1].i,
                     (long long)k->items[1].serial);
        else
            bp_term_format(&k->items[0], id, sizeof id);
        add_member(c, ji, bp_arena_strdup(c->snap->arena, id), &k->items[1]);
    }
    bp__fact_ok(&f->fact);
}

/* The pid of a gproc:select entry {Key, Pid}, or NULL for any other shape. */
static const bp_term *gproc_entry_pid(const bp_term *kv)
{
    return kv->type == BP_T_TUPLE && kv->n == 2 && kv->items[1].type == BP_T_PID ? &kv->items[1] : NULL;
}

/* gproc:select's [{Key, Pid}]: every name {n, l, {Tag, Key}} is a member named {Tag, Key}. */
static void take_gproc(bp__collector *c, bp_batch *b, size_t ji)
{
    bp_govfamily_snap *f = c->jobs[ji].fam;
    bp_rpc *r = bp_batch_get(b, (size_t)c->jobs[ji].at[0]);
    if (r && r->rc == 0 && bp_term_is_tagged(r->reply, "badrpc", 2)) {
        /* {badrpc, {'EXIT', {undef | badarg, Stack}}}: the module is not there, or its table is not */
        const bp_term *e = bp_term_elem(bp_term_elem(r->reply, 1), 1);
        const bp_term *why = e && e->type == BP_T_TUPLE && e->n > 0 ? &e->items[0] : e;
        bp_fact_fail(c->snap, &f->fact, BP_FACT_ERROR, "gproc is not running on the target (%s)",
                     bp_term_is_atom(why, "undef") ? "no gproc module" : "gproc:select/2 failed");
        return;
    }
    const bp_term *l = bp__reply_of(c, b, c->jobs[ji].at[0], &f->fact);
    if (!l)
        return;
    if (l->type != BP_T_LIST && l->type != BP_T_NIL) {
        bp_fact_fail(c->snap, &f->fact, BP_FACT_ERROR, "unexpected reply to gproc:select/2");
        return;
    }
    size_t with_pid = 0; /* an entry of another shape names no process: no member, and not counted */
    for (size_t i = 0; i < l->n; i++)
        with_pid += gproc_entry_pid(&l->items[i]) != NULL;
    int take = add_members(c, ji, with_pid);
    const char *tag = c->jobs[ji].name;
    for (size_t i = 0; take > 0 && i < l->n && f->n_members < (size_t)take; i++) {
        const bp_term *kv = &l->items[i];
        if (!gproc_entry_pid(kv))
            continue;
        char key[BP_NAME_MAX];
        bp_term_format(&kv->items[0], key, sizeof key);
        add_member(c, ji, bp_arena_printf(c->snap->arena, "{%s,%s}", tag, key), &kv->items[1]);
    }
    bp__fact_ok(&f->fact);
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
    bp_supervisor_snap *p = j->sup; /* the caller reserved room for its children's jobs: j stays valid */
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
            } else if (bp_term_is_atom(child, "undefined") && !bp_child_stopped_by_design(p->name, k)) {
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

/* Upper bound of the jobs that job i's replies in b can add (children listed). */
static size_t may_add(bp_batch *b, const bp__proc_job *j)
{
    int at = j->stage == J_GPROC ? j->at[0] : j->stage == J_ASK && j->sup ? j->at[1]
                                              : j->stage == J_ASK && j->fam ? j->at[0] : -1;
    bp_rpc *r = at >= 0 ? bp_batch_get(b, (size_t)at) : NULL;
    const bp_term *t = r && r->rc == 0 ? r->reply : NULL;
    if (t && bp_term_is_tagged(t, "ok", 2))
        t = bp_term_elem(t, 1);
    return t && t->type == BP_T_LIST ? t->n : 0;
}

void bp__procs_take(bp__collector *c, bp_batch *b)
{
    size_t n = c->n_jobs; /* jobs added now (nested supervisors, members) wait for the next round */
    for (size_t i = 0; i < n; i++) {
        if (c->jobs[i].at[0] < 0)
            continue;
        size_t extra = may_add(b, &c->jobs[i]);
        if (extra)
            (void)reserve_jobs(c, extra); /* out of memory: new_job finds no room; the facts say so below */
        bp__proc_job *j = &c->jobs[i];
        switch (j->stage) {
        case J_ATOM: take_atom(c, b, j); break;
        case J_WHEREIS: take_whereis(c, b, j); break;
        case J_GPROC: take_gproc(c, b, i); j = &c->jobs[i]; j->stage = J_DONE; break;
        case J_PROVE: take_proof(c, b, j); break;
        case J_ATTRS: take_attrs(c, b, j); break;
        case J_ASK:
            if (j->fam) {
                take_family_children(c, b, i);
                j = &c->jobs[i];
            } else if (j->sup) {
                take_supervisor(c, b, j);
            } else {
                take_governor_state(c, b, j);
            }
            j->stage = J_DONE;
            break;
        case J_DONE:
        default:
            break;
        }
        j->at[0] = j->at[1] = j->at[2] = -1;
    }
}
