/* oneround_answers.c: the one-round reply as a table of answers; a batch's gen:receive_response results read as rex gives gen:call's and sys:get_state's replies. */
#include "dist/oneround_answers.h"

#include <string.h>

static size_t list_n(const bp_term *t)
{
    return t && t->type == BP_T_LIST && !t->tail ? t->n : 0;
}

static int is_list(const bp_term *t)
{
    return t && (t->type == BP_T_NIL || (t->type == BP_T_LIST && !t->tail));
}

/* A list of small integers may arrive as a string ([200]: STRING_EXT). */
static int is_list_or_string(const bp_term *t)
{
    return is_list(t) || (t && t->type == BP_T_STRING);
}

int bp_or_answers(const bp_term *list, bp_arena *a, bp_or_answer **out, size_t *n)
{
    size_t total = 0, k = 0;
    int rc = 0;
    *out = NULL;
    *n = 0;
    size_t last = 0; /* calls of the batch before (Pids -1 counts them again) */
    for (size_t i = 0; i < list_n(list); i++) {
        const bp_term *e = &list->items[i], *b = bp_term_elem(e, 3);
        int64_t tag, same;
        if (bp_term_int(bp_term_elem(e, 0), &tag) == 0 && tag == 0) {
            size_t m = bp_term_int(bp_term_elem(b, 0), &same) == 0 && same == -1 ? last : list_n(bp_term_elem(b, 0));
            total += m;
            last = m;
        } else {
            total++;
            last = 0;
        }
    }
    if (list_n(list) == 0)
        return 0;
    bp_or_answer *v = bp_arena_alloc(a, (total ? total : 1) * sizeof *v);
    if (!v)
        return -1;
    const bp_term *before = NULL; /* the pids of the answer before, when a batch */
    for (size_t i = 0; i < list_n(list); i++) {
        const bp_term *e = &list->items[i], *b = bp_term_elem(e, 3), *prev = before;
        int64_t tag, mode, same;
        before = NULL;
        if (!e || e->type != BP_T_TUPLE || e->n != 4) {
            rc = -1;
            continue;
        }
        if (bp_term_int(&e->items[0], &tag) != 0 || tag != 0) {
            v[k++] = (bp_or_answer){ .mod = &e->items[0], .fun = &e->items[1], .args = &e->items[2], .raw = &e->items[3] };
            continue;
        }
        const bp_term *pids = bp_term_elem(b, 0), *extra = bp_term_elem(b, 1), *replies = bp_term_elem(b, 2);
        if (bp_term_int(pids, &same) == 0 && same == -1)
            pids = prev;
        size_t m = list_n(pids);
        if (!b || b->n != 4 || !is_list(pids) || !is_list_or_string(extra) || !is_list(replies) || list_n(replies) != m
            || bp_term_int(bp_term_elem(b, 3), &mode) != 0 || mode < 0 || mode > 4) {
            rc = -1;
            continue;
        }
        before = pids;
        for (size_t j = 0; j < m; j++)
            v[k++] = (bp_or_answer){ .mod = &e->items[1], .fun = &e->items[2], .pid = &pids->items[j], .extra = extra,
                                     .raw = &replies->items[j], .mode = (int)mode };
    }
    *out = v;
    *n = k;
    return rc;
}

static int same_name(const bp_term *x, const bp_term *y)
{
    return x->type == y->type && x->len == y->len && x->str && y->str && memcmp(x->str, y->str, x->len) == 0;
}

int bp_or_group_answers(const bp_or_answer *v, size_t n, bp_arena *a, bp_or_group **g, size_t *ng)
{
    size_t cap = 0, used = 0;
    bp_or_group *gs = NULL;
    *g = NULL;
    *ng = 0;
    if (n == 0)
        return 0;
    size_t *which = bp_arena_alloc(a, n * sizeof *which); /* each answer's group */
    if (!which)
        return -1;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < used && !(same_name(gs[k].mod, v[i].mod) && same_name(gs[k].fun, v[i].fun)))
            k++;
        if (k == used) {
            if (used == cap) {
                size_t c = cap ? cap * 2 : 8;
                bp_or_group *bigger = bp_arena_alloc(a, c * sizeof *bigger);
                if (!bigger)
                    return -1;
                if (used)
                    memcpy(bigger, gs, used * sizeof *gs);
                gs = bigger;
                cap = c;
            }
            gs[used++] = (bp_or_group){ .mod = v[i].mod, .fun = v[i].fun };
        }
        which[i] = k;
        gs[k].n++;
    }
    for (size_t k = 0; k < used; k++) {
        if (!(gs[k].idx = bp_arena_alloc(a, gs[k].n * sizeof *gs[k].idx)))
            return -1;
        gs[k].n = 0;
    }
    for (size_t i = 0; i < n; i++)
        gs[which[i]].idx[gs[which[i]].n++] = i;
    *g = gs;
    *ng = used;
    return 0;
}

/* ---------- terms built in the arena ---------- */

static bp_term *atom(bp_arena *a, const char *name)
{
    bp_term *t = bp_arena_alloc(a, sizeof *t);
    if (t) {
        t->type = BP_T_ATOM;
        t->str = name;
        t->len = strlen(name);
    }
    return t;
}

/* A tuple of n items (copied: a term's items are held by value). */
static bp_term *tuple(bp_arena *a, size_t n, const bp_term *const *items)
{
    bp_term *t = bp_arena_alloc(a, sizeof *t), *v = bp_arena_alloc(a, n * sizeof *v);
    if (!t || !v)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!items[i])
            return NULL;
        v[i] = *items[i];
    }
    t->type = BP_T_TUPLE;
    t->items = v;
    t->n = n;
    return t;
}

static bp_term *pair(bp_arena *a, const bp_term *x, const bp_term *y)
{
    const bp_term *items[2] = { x, y };
    return tuple(a, 2, items);
}

/* [Pid | Extra]: a batch call's arguments as a list. */
static const bp_term *args(const bp_or_answer *e, bp_arena *a)
{
    int str = e->extra->type == BP_T_STRING;
    size_t n = 1 + (str ? e->extra->len : list_n(e->extra));
    bp_term *t = bp_arena_alloc(a, sizeof *t), *v = bp_arena_alloc(a, n * sizeof *v);
    if (!t || !v)
        return NULL;
    v[0] = *e->pid;
    for (size_t i = 1; i < n; i++)
        v[i] = str ? (bp_term){ .type = BP_T_INT, .i = (unsigned char)e->extra->str[i - 1] } : e->extra->items[i - 1];
    t->type = BP_T_LIST;
    t->items = v;
    t->n = n;
    return t;
}

/* {badrpc, {'EXIT', Reason}}: what rex gives for a call that exited with Reason. */
static const bp_term *exited(bp_arena *a, const bp_term *reason)
{
    return pair(a, atom(a, "badrpc"), pair(a, atom(a, "EXIT"), reason));
}

/* gen:call(Pid, Label, Request, T): {ok, Reply}, or it exits with the monitor's reason or timeout. */
static const bp_term *gen_call(const bp_or_answer *e, bp_arena *a)
{
    const bp_term *r = e->raw;
    if (bp_term_is_tagged(r, "reply", 2))
        return pair(a, atom(a, "ok"), bp_term_elem(r, 1));
    if (bp_term_is_tagged(r, "error", 2) && bp_term_elem(bp_term_elem(r, 1), 0))
        return exited(a, bp_term_elem(bp_term_elem(r, 1), 0));
    if (bp_term_is_atom(r, "timeout"))
        return exited(a, atom(a, "timeout"));
    return r;
}

/*
 * sys:get_state(Pid, T): the state; error(Why) for {error, Why}; exit({Reason, {sys, get_state, [Pid, T]}}).
 * The process's reply is the state itself (mode 2: sys before OTP 26.1, where a state {error, _}
 * reads as an error), or {ok, State} | {error, Why} (mode 3: OTP 26.1 and later).
 */
static const bp_term *get_state(const bp_or_answer *e, bp_arena *a)
{
    const bp_term *r = e->raw, *reason = NULL;
    if (bp_term_is_tagged(r, "reply", 2)) {
        const bp_term *s = bp_term_elem(r, 1);
        if (e->mode == 3 && bp_term_is_tagged(s, "ok", 2))
            return bp_term_elem(s, 1);
        if (!bp_term_is_tagged(s, "error", 2))
            return s;
        bp_term *nil = bp_arena_alloc(a, sizeof *nil);
        if (nil)
            nil->type = BP_T_NIL;
        return exited(a, pair(a, bp_term_elem(s, 1), nil));
    }
    if (bp_term_is_tagged(r, "error", 2))
        reason = bp_term_elem(bp_term_elem(r, 1), 0);
    else if (bp_term_is_atom(r, "timeout"))
        reason = atom(a, "timeout");
    if (!reason)
        return r;
    const bp_term *mfa[3] = { atom(a, "sys"), atom(a, "get_state"), e->args ? e->args : args(e, a) };
    return exited(a, pair(a, reason, tuple(a, 3, mfa)));
}

/*
 * process_info(Pid, Items) from its values {V1, ...} (mode 4): [{Item1, V1}, ...]. Anything else
 * (undefined for a process gone, a list, a tuple of another size) is the reply as it came.
 */
static const bp_term *info_list(const bp_or_answer *e, bp_arena *a)
{
    const bp_term *r = e->raw, *items = e->extra->type == BP_T_LIST && e->extra->n == 1 ? &e->extra->items[0] : NULL;
    if (!r || r->type != BP_T_TUPLE || !items || items->type != BP_T_LIST || items->n != r->n)
        return r;
    bp_term *t = bp_arena_alloc(a, sizeof *t), *v = bp_arena_alloc(a, (r->n ? r->n : 1) * sizeof *v);
    if (!t || !v)
        return NULL;
    for (size_t i = 0; i < r->n; i++) {
        const bp_term *p = pair(a, &items->items[i], &r->items[i]);
        if (!p)
            return NULL;
        v[i] = *p;
    }
    t->type = BP_T_LIST;
    t->items = v;
    t->n = r->n;
    return t;
}

const bp_term *bp_or_answer_reply(bp_or_answer *e, bp_arena *a)
{
    if (!e->reply)
        e->reply = e->mode == 1 ? gen_call(e, a) : e->mode == 4 ? info_list(e, a) : e->mode >= 2 ? get_state(e, a) : e->raw;
    return e->reply;
}
