/* collect_top.c: --top N: the one call that asks the target for its busiest processes, and the reading of its reply. */
#include <stdio.h>
#include <string.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "dist/collect_int.h"
#include "dist/oneround.h"
#include "dist/top.h"

#define TOP_MAX 50

static int unavailable(bp_snapshot *s, const char *why)
{
    s->top.unavailable = bp_arena_strdup(s->arena, why);
    for (int k = 0; k < BP_TOP_CATEGORIES; k++)
        s->top.n[k] = 0;
    return -1;
}

/* "mod:fun/arity" of an {M, F, A} tuple, else the term as Erlang prints it; NULL for none. */
static const char *mfa_text(bp_snapshot *s, const bp_term *t)
{
    char buf[600];
    int64_t a = 0;
    if (!t || bp_term_is_atom(t, "undefined") || bp_term_is_atom(t, "false"))
        return NULL;
    if (t->type == BP_T_TUPLE && t->n == 3 && t->items[0].type == BP_T_ATOM && t->items[1].type == BP_T_ATOM
        && bp_term_int(&t->items[2], &a) == 0)
        snprintf(buf, sizeof buf, "%s:%s/%lld", t->items[0].str, t->items[1].str, (long long)a);
    else
        bp_term_format(t, buf, sizeof buf);
    return bp_arena_strdup(s->arena, buf);
}

/* A proper list (or []) of at most max items: its length, else -1. */
static long list_of(const bp_term *t, size_t max)
{
    if (t && t->type == BP_T_NIL)
        return 0;
    if (!t || t->type != BP_T_LIST || t->tail || t->n > max)
        return -1;
    return (long)t->n;
}

static const bp_term *item(const bp_term *l, long i)
{
    return l->type == BP_T_LIST ? &l->items[i] : NULL;
}

/* One winner: {Value, Pid}, its [{registered_name, Name}, {current_function, MFA}, {initial_call, MFA}] or
   undefined, its initial call as proc_lib translates it (proc_lib:init_p/5 for any process proc_lib did not
   start: then the raw one). */
static int read_entry(bp_snapshot *s, bp_top_entry *e, const bp_term *vp, const bp_term *info, const bp_term *init)
{
    const bp_term *pid = bp_term_elem(vp, 1);
    if (!vp || vp->type != BP_T_TUPLE || vp->n != 2 || bp_term_int(bp_term_elem(vp, 0), &e->value) != 0 || !pid
        || pid->type != BP_T_PID)
        return -1;
    if (!(e->pid = bp__pid_text(s->arena, pid)))
        return -1;
    const bp_term *name = bp_term_prop(info, "registered_name");
    if (name && name->type == BP_T_ATOM)
        e->name = bp_arena_strdup(s->arena, name->str);
    e->current_function = mfa_text(s, bp_term_prop(info, "current_function"));
    e->initial_call = mfa_text(s, init);
    if (!e->initial_call || strcmp(e->initial_call, "proc_lib:init_p/5") == 0)
        e->initial_call = mfa_text(s, bp_term_prop(info, "initial_call"));
    return 0;
}

/* {[{Value, Pid}], [Info], [InitialCall]}, the three lists of the same length. */
static int read_category(bp_snapshot *s, int k, const bp_term *cat)
{
    const bp_term *top = bp_term_elem(cat, 0), *infos = bp_term_elem(cat, 1), *inits = bp_term_elem(cat, 2);
    long n = list_of(top, TOP_MAX);
    if (!cat || cat->type != BP_T_TUPLE || cat->n != 3 || n < 0 || list_of(infos, TOP_MAX) != n
        || list_of(inits, TOP_MAX) != n)
        return -1;
    if (n == 0)
        return 0;
    bp_top_entry *v = bp_arena_alloc(s->arena, (size_t)n * sizeof *v);
    if (!v)
        return -1;
    memset(v, 0, (size_t)n * sizeof *v);
    for (long i = 0; i < n; i++)
        if (read_entry(s, &v[i], item(top, i), item(infos, i), item(inits, i)) != 0)
            return -1;
    s->top.list[k] = v;
    s->top.n[k] = (size_t)n;
    return 0;
}

/* {Processes, Window, ProbeMemory, Queues, Memory, Reductions}, or {badrpc, timeout}: skipped */
static int read_result(bp_snapshot *s, const bp_term *r)
{
    bp_top_snap *t = &s->top;
    if (bp_term_is_tagged(r, "badrpc", 2))
        return unavailable(s, "skipped on the target: too little time left within --timeout for the window "
                              "and the processes (a longer --timeout, or a shorter --top-window)");
    if (!r || r->type != BP_T_TUPLE || r->n != 6 || bp_term_int(bp_term_elem(r, 0), &t->processes) != 0
        || bp_term_int(bp_term_elem(r, 1), &t->window_ms) != 0 || bp_term_int(bp_term_elem(r, 2), &t->probe_memory) != 0)
        return unavailable(s, "malformed reply from the target");
    for (int k = 0; k < BP_TOP_CATEGORIES; k++)
        if (read_category(s, k, bp_term_elem(r, 3 + (size_t)k)) != 0)
            return unavailable(s, "malformed reply from the target");
    t->unavailable = NULL;
    return 0;
}

int bp_top_read(bp_snapshot *s, const bp_term *reply)
{
    const bp_term *l = bp_term_is_tagged(reply, "ok", 3) ? bp_term_elem(reply, 2) : NULL;
    char what[128], why[200];
    if (bp_term_is_tagged(reply, "error", 2)) {
        bp_term_format(bp_term_elem(reply, 1), what, sizeof what);
        snprintf(why, sizeof why, "failed on the target: %s", what);
        return unavailable(s, why);
    }
    if (!l || (l->type != BP_T_LIST && l->type != BP_T_NIL))
        return unavailable(s, "malformed reply from the target");
    for (size_t i = 0; l->type == BP_T_LIST && i < l->n; i++) {
        const bp_term *a = &l->items[i];
        if (a->type == BP_T_TUPLE && a->n == 4 && bp_term_is_atom(&a->items[0], "erl_eval")
            && bp_term_is_atom(&a->items[1], "expr"))
            return read_result(s, &a->items[3]);
    }
    return unavailable(s, "the target left it out of its reply (larger than --max-reply)");
}

int bp__top_plan(bp__collector *c, bp_batch *b)
{
    const bp_config *cfg = c->cfg;
    ei_x_buff params;
    int64_t left = c->deadline - bp_now_ms();
    c->top_at = -1;
    if (cfg->top <= 0)
        return 0;
    c->snap->top.asked = 1;
    if (ei_x_new_with_version(&params) < 0)
        return BP_ENOMEM;
    ei_x_buff *x = NULL;
    int rc = bp__oneround_top_params(cfg, left > 0 ? left / 5 * 4 : 0, &params) == 0
                     && (x = bp__add_call(b, "erl_eval", "expr", 5, &c->top_at)) != NULL
                     && bp_oneround_encode_request(x, (const unsigned char *)params.buff, (size_t)params.index) == 0
                 ? 0
                 : BP_ENOMEM;
    ei_x_free(&params);
    if (rc == 0)
        snprintf(bp_batch_get(b, (size_t)c->top_at)->label, sizeof bp_batch_get(b, 0)->label, "the --top request");
    return rc;
}

void bp__top_take(bp__collector *c, bp_batch *b)
{
    bp_fact f = { 0 };
    if (c->top_at < 0)
        return;
    const bp_term *t = bp__reply_of(c, b, c->top_at, &f);
    if (t)
        (void)bp_top_read(c->snap, t);
    else
        (void)unavailable(c->snap, f.error ? f.error : "no reply");
}
