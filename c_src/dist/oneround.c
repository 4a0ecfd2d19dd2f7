/* oneround.c: the one-round executor: send the oneround.erl.src request once, answer the collector's rounds from its reply, the rest from the node. */
#include "dist/oneround.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "dist/oneround_answers.h"
#include "dist/oneround_expr.h" /* generated from oneround.erl.src by scripts/gen_oneround.escript */

#define MAX_ARGS 8

struct bp_oneround {
    const bp_collect_exec *inner;
    bp_snapshot *snap;
    unsigned char *params;
    size_t params_len;
    int rounds;               /* rounds the collector ran so far */
    int one_round;            /* the target answered the request */
    bp_or_answer *answers;    /* the target's calls and replies */
    size_t n_answers;
    bp_or_group *groups;      /* the answers by function: a search starts past the last one used */
    size_t n_groups;
    bp_arena *arena;          /* answers and their replies */
    bp_batch **keep;          /* batches whose replies the collector reads; freed at the end */
    size_t n_keep, cap_keep;
};

bp_oneround *bp_oneround_new(const bp_collect_exec *inner, const unsigned char *params, size_t len, bp_snapshot *snap)
{
    bp_oneround *o = calloc(1, sizeof *o);
    if (!o || !(o->params = malloc(len ? len : 1)) || !(o->arena = bp_arena_new(0))) {
        if (o)
            free(o->params);
        free(o);
        return NULL;
    }
    memcpy(o->params, params, len);
    o->params_len = len;
    o->inner = inner;
    o->snap = snap;
    return o;
}

void bp_oneround_free(bp_oneround *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n_keep; i++)
        bp_batch_free(o->keep[i]);
    free(o->keep);
    bp_arena_free(o->arena);
    free(o->params);
    free(o);
}

static int keep(bp_oneround *o, bp_batch *b)
{
    if (o->n_keep == o->cap_keep) {
        size_t cap = o->cap_keep ? o->cap_keep * 2 : 8;
        /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, so sizeof one pointer is meant */
        bp_batch **k = realloc(o->keep, cap * sizeof *k);
        if (!k)
            return BP_ENOMEM;
        o->keep = k;
        o->cap_keep = cap;
    }
    o->keep[o->n_keep++] = b;
    return 0;
}

/* ---------- matching a call of ours with one the target made ---------- */

/* An atom named s, or (the target has no such atom) a binary of its name. */
static int name_is(const bp_term *t, const char *s)
{
    if (t->type == BP_T_ATOM)
        return strcmp(t->str, s) == 0;
    return t->type == BP_T_BINARY && t->len == strlen(s) && memcmp(t->str, s, t->len) == 0;
}

/* Lists, strings (STRING_EXT: a list of bytes) and [] alike: their length, or -1. */
static long list_len(const bp_term *t)
{
    if (t->type == BP_T_NIL)
        return 0;
    if (t->type == BP_T_STRING)
        return (long)t->len;
    return t->type == BP_T_LIST && !t->tail ? (long)t->n : -1;
}

/* Element i of a list or string as a byte (0..255), or -1 if it is no byte. */
static int64_t byte_at(const bp_term *l, long i)
{
    if (l->type != BP_T_LIST)
        return (unsigned char)l->str[i];
    const bp_term *t = &l->items[i];
    return t->type == BP_T_INT && t->i >= 0 && t->i <= 255 ? t->i : -1;
}

static int same_elem(const bp_term *a, long i, const bp_term *b)
{
    if (a->type == BP_T_LIST && b->type == BP_T_LIST)
        return bp_oneround_same(&a->items[i], &b->items[i]);
    int64_t xv = byte_at(a, i);
    return xv != -1 && xv == byte_at(b, i);
}

int bp_oneround_same(const bp_term *a, const bp_term *b)
{
    if (!a || !b)
        return 0;
    switch (a->type) {
    case BP_T_ATOM:
        return name_is(b, a->str);
    case BP_T_INT:
        return b->type == BP_T_INT && a->i == b->i;
    case BP_T_BINARY:
        return b->type == BP_T_BINARY && a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
    case BP_T_NIL:
    case BP_T_STRING:
    case BP_T_LIST: {
        long n = list_len(a);
        if (n < 0 || n != list_len(b))
            return 0;
        for (long i = 0; i < n; i++)
            if (!same_elem(a, i, b))
                return 0;
        return 1;
    }
    case BP_T_TUPLE:
        if (b->type != BP_T_TUPLE || a->n != b->n)
            return 0;
        for (size_t i = 0; i < a->n; i++)
            if (!bp_oneround_same(&a->items[i], &b->items[i]))
                return 0;
        return 1;
    case BP_T_PID:
        return b->type == BP_T_PID && a->str && b->str && strcmp(a->str, b->str) == 0 && a->i == b->i
               && a->serial == b->serial && a->creation == b->creation;
    case BP_T_FUN:
        return b->type == BP_T_FUN && a->str && b->str && strcmp(a->str, b->str) == 0;
    default:
        return 0; /* floats, ports, refs: never in a call of ours */
    }
}

/* The arguments of call r as terms (its buffer is a list header and the items, without the tail). */
static int decode_args(const bp_rpc *r, bp_arena *a, bp_term **out)
{
    const unsigned char *buf = (const unsigned char *)r->args.buff;
    size_t len = (size_t)r->args.index, i = 5;
    if (r->argc == 0)
        return len == 0 ? 0 : -1;
    if (r->argc > MAX_ARGS || len < 5 || buf[0] != 108 /* LIST_EXT */)
        return -1;
    uint32_t n = (uint32_t)buf[1] << 24 | (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 8 | buf[4];
    if (n != (uint32_t)r->argc)
        return -1;
    for (int k = 0; k < r->argc; k++)
        if (bp_term_decode(buf, len, &i, 0, a, &out[k]) != 0)
            return -1;
    return i == len ? 0 : -1;
}

/* Element k of a list or string (STRING_EXT: [200] arrives as a string of one byte, put in *byte). */
static const bp_term *nth(const bp_term *l, long k, bp_term *byte)
{
    if (l->type != BP_T_STRING)
        return &l->items[k];
    *byte = (bp_term){ .type = BP_T_INT, .i = (unsigned char)l->str[k] };
    return byte;
}

static int answer_matches(const bp_rpc *r, bp_term *const *args, const bp_or_answer *e)
{
    bp_term byte = { .type = BP_T_INT };
    if (!name_is(e->mod, r->mod) || e->fun->type != BP_T_ATOM || strcmp(e->fun->str, r->fun) != 0)
        return 0;
    if (!e->args) { /* a batch: Mod:Fun(Pid, Extra...) */
        long n = list_len(e->extra);
        if (n < 0 || n + 1 != r->argc || !bp_oneround_same(args[0], e->pid))
            return 0;
        for (long k = 0; k < n; k++)
            if (!bp_oneround_same(args[k + 1], nth(e->extra, k, &byte)))
                return 0;
        return 1;
    }
    if (list_len(e->args) != r->argc)
        return 0;
    for (int k = 0; k < r->argc; k++)
        if (!bp_oneround_same(args[k], nth(e->args, k, &byte)))
            return 0;
    return 1;
}

/*
 * The collector's own request call (erl_eval:expr/5 of the request with every part off but
 * --top, collect_top.c) is answered by what the one request did for that part: the answer
 * {erl_eval, expr, [N, Window], Result} the target kept, as {ok, 1, [Answer]}, the very
 * reply that call gets from the node. Its arguments (the request and its parameters) are not
 * echoed, so it is matched by its function: the collector makes one such call per probe.
 */
static int request_call(const bp_rpc *r)
{
    return r->argc == 5 && strcmp(r->mod, "erl_eval") == 0 && strcmp(r->fun, "expr") == 0;
}

static const bp_term *request_reply(bp_oneround *o)
{
    for (size_t k = 0; k < o->n_answers; k++) {
        bp_or_answer *e = &o->answers[k];
        if (e->used || !e->args || !name_is(e->mod, "erl_eval") || !name_is(e->fun, "expr"))
            continue;
        bp_term *t = bp_arena_alloc(o->arena, 9 * sizeof *t);
        if (!t)
            return NULL;
        memset(t, 0, 9 * sizeof *t);
        t[0] = (bp_term){ .type = BP_T_TUPLE, .items = &t[1], .n = 3 };
        t[1] = (bp_term){ .type = BP_T_ATOM, .str = "ok", .len = 2 };
        t[2] = (bp_term){ .type = BP_T_INT, .i = 1 };
        t[3] = (bp_term){ .type = BP_T_LIST, .items = &t[4], .n = 1 };
        t[4] = (bp_term){ .type = BP_T_TUPLE, .items = &t[5], .n = 4 };
        t[5] = *e->mod;
        t[6] = *e->fun;
        t[7] = *e->args;
        t[8] = *e->raw;
        e->used = 1;
        return t;
    }
    return NULL;
}

/* Answer every call of b not answered yet that the target made too. The target makes the calls
   of each function in about the collector's order: each search among them starts past the last
   one used. */
static void answer_from_reply(bp_oneround *o, bp_batch *b, unsigned char *done)
{
    if (!o->n_answers)
        return;
    bp_arena *scratch = bp_arena_new((size_t)1 << 20);
    if (!scratch)
        return;
    for (size_t i = 0; i < bp_batch_count(b); i++) {
        bp_rpc *r = bp_batch_get(b, i);
        bp_term *args[MAX_ARGS] = { 0 }; /* decode_args fills r->argc of them */
        if (done[i])
            continue;
        if (request_call(r)) {
            const bp_term *reply = request_reply(o);
            if (reply) {
                r->rc = 0;
                r->reply = (bp_term *)reply;
                r->reply_bytes = 0;
                done[i] = 1;
            }
            continue;
        }
        if (decode_args(r, scratch, args) != 0)
            continue;
        bp_or_group *g = NULL;
        for (size_t k = 0; k < o->n_groups && !g; k++)
            if (name_is(o->groups[k].mod, r->mod) && o->groups[k].fun->type == BP_T_ATOM
                && strcmp(o->groups[k].fun->str, r->fun) == 0)
                g = &o->groups[k];
        for (size_t step = 0; g && step < g->n; step++) {
            size_t at = (g->cursor + step) % g->n;
            bp_or_answer *e = &o->answers[g->idx[at]];
            if (!answer_matches(r, args, e))
                continue;
            const bp_term *reply = bp_or_answer_reply(e, o->arena);
            if (!reply)
                break;
            r->rc = 0;
            r->reply = (bp_term *)reply;
            r->reply_bytes = 0;
            e->used = 1;
            done[i] = 1;
            g->cursor = at + 1;
            break;
        }
        if (bp_arena_used(scratch) > ((size_t)1 << 19)) { /* many calls: start afresh */
            bp_arena_free(scratch);
            if (!(scratch = bp_arena_new((size_t)1 << 20)))
                return;
        }
    }
    bp_arena_free(scratch);
}

/* ---------- rounds that go to the node ---------- */

/* The calls of round one the request covers: the first calls of each stage the target starts from. */
static int covered(const bp_rpc *r)
{
    static const char *const calls[][2] = {
        { "erlang", "binary_to_existing_atom" }, { "gproc", "select" },
        { "erlang", "module_loaded" }, { "application", "which_applications" }, { "lists", "map" },
        { "erl_eval", "expr" },
    };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
        if (strcmp(r->mod, calls[i][0]) == 0 && strcmp(r->fun, calls[i][1]) == 0)
            return 1;
    return 0;
}

/*
 * erl_eval:expr(Expr, #{Bin => Params}, none, none, value): expr/5 evaluates without linting
 * first (exprs/2 runs erl_lint over it all), keeps bindings in a map, and returns the value
 * alone, no bindings. The parameters travel as a binary in the bindings: no list to build.
 */
int bp_oneround_encode_request(ei_x_buff *x, const unsigned char *params, size_t len)
{
    return ei_x_append_buf(x, (const char *)bp__oneround_expr, (int)sizeof bp__oneround_expr) < 0
                   || ei_x_encode_map_header(x, 1) < 0 || ei_x_encode_atom(x, BP__ONEROUND_BIN_VAR) < 0
                   || ei_x_encode_binary(x, params, (long)len) < 0 || ei_x_encode_atom(x, "none") < 0
                   || ei_x_encode_atom(x, "none") < 0 || ei_x_encode_atom(x, "value") < 0
               ? -1
               : 0;
}

static int add_request(bp_oneround *o, bp_batch *nb)
{
    ei_x_buff *x = bp_batch_add(nb, "erl_eval", "expr", 5);
    if (!x || bp_oneround_encode_request(x, o->params, o->params_len) < 0)
        return BP_ENOMEM;
    snprintf(bp_batch_get(nb, 0)->label, sizeof bp_batch_get(nb, 0)->label, "the one-round request");
    return 0;
}

/* Read the request's reply: the target's calls, or why the multi-round plan runs. */
static void take_request(bp_oneround *o, const bp_rpc *r)
{
    bp_snapshot *s = o->snap;
    char why[256];
    const bp_term *t = r->rc == 0 ? r->reply : NULL, *v = t;
    const bp_term *l = bp_term_is_tagged(v, "ok", 3) ? bp_term_elem(v, 2) : NULL;
    int64_t vsn = 0;
    if (l && bp_term_int(bp_term_elem(v, 1), &vsn) == 0 && vsn == 1 && (l->type == BP_T_LIST || l->type == BP_T_NIL)) {
        /* a malformed batch is left out: the collector asks its calls itself */
        (void)bp_or_answers(l, o->arena, &o->answers, &o->n_answers);
        if (bp_or_group_answers(o->answers, o->n_answers, o->arena, &o->groups, &o->n_groups) != 0)
            o->n_answers = o->n_groups = 0; /* out of memory: every call goes to the node */
        o->one_round = 1;
        s->plan = "one-round";
        return;
    }
    s->plan = "multi-round";
    s->plan_auto = 0; /* the fallback, whatever chose the one round */
    if (r->rc != 0)
        snprintf(why, sizeof why, "no answer to the one-round request: %s", bp_rpc_error(r));
    else if (bp_term_is_tagged(t, "badrpc", 2)) {
        char what[128];
        bp_term_format(bp_term_elem(t, 1), what, sizeof what);
        snprintf(why, sizeof why, "the node refused the one-round request: %s", what);
    } else if (bp_term_is_tagged(v, "error", 2)) {
        char what[128];
        bp_term_format(bp_term_elem(v, 1), what, sizeof what);
        snprintf(why, sizeof why, "the one-round request failed on the node: %s", what);
    } else {
        snprintf(why, sizeof why, "unexpected reply to the one-round request");
    }
    s->plan_reason = bp_arena_strdup(s->arena, why);
}

/*
 * One round to the node: the calls of b not done yet (and, in the first round, the request
 * before them). Their replies are copied into b and stay valid until bp_oneround_free.
 */
static int to_node(bp_oneround *o, bp_batch *b, unsigned char *done, int request, int64_t deadline_ms)
{
    bp_batch *nb = bp_batch_new(0);
    size_t *from = calloc(bp_batch_count(b) + 1, sizeof *from);
    int rc = BP_ENOMEM;
    if (!nb || !from || keep(o, nb) != 0) {
        bp_batch_free(nb);
        free(from);
        return BP_ENOMEM;
    }
    if (request && add_request(o, nb) != 0)
        goto out;
    size_t first = bp_batch_count(nb);
    for (size_t i = 0; i < bp_batch_count(b); i++) {
        if (done[i] || (request && covered(bp_batch_get(b, i))))
            continue;
        if (bp_batch_copy_call(nb, bp_batch_get(b, i)) != 0)
            goto out;
        from[bp_batch_count(nb) - 1 - first] = i;
    }
    rc = 0;
    if (bp_batch_count(nb) == 0)
        goto out;
    o->snap->round_trips++;
    rc = o->inner->call(o->inner->ctx, nb, deadline_ms);
    for (size_t k = first; k < bp_batch_count(nb); k++) {
        bp_rpc *src = bp_batch_get(nb, k), *dst = bp_batch_get(b, from[k - first]);
        dst->rc = src->rc;
        dst->reply = src->reply;
        dst->reply_bytes = src->reply_bytes;
        done[from[k - first]] = 1;
    }
    if (request)
        take_request(o, bp_batch_get(nb, 0));
out:
    free(from);
    return rc;
}

int bp_oneround_call(void *ctx, bp_batch *b, int64_t deadline_ms)
{
    bp_oneround *o = ctx;
    unsigned char *done = calloc(bp_batch_count(b) + 1, 1);
    int rc = 0, rc2 = 0;
    if (!done)
        return BP_ENOMEM;
    if (o->rounds++ == 0)
        rc = to_node(o, b, done, 1, deadline_ms);
    answer_from_reply(o, b, done);
    if (bp_now_ms() < deadline_ms) /* past it, the calls left stay timed out */
        rc2 = to_node(o, b, done, 0, deadline_ms);
    free(done);
    return rc ? rc : rc2;
}

int bp_oneround_encode_procs(ei_x_buff *x, unsigned features)
{
    const size_t n = sizeof bp__oneround_procs / sizeof bp__oneround_procs[0];
    if (ei_x_encode_tuple_header(x, (long)n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned need = bp__oneround_procs[i].features;
        int rc = need == 0 || (need & features)
                     ? ei_x_append_buf(x, (const char *)bp__oneround_proc_bytes + bp__oneround_procs[i].off,
                                       (int)bp__oneround_procs[i].len)
                     : ei_x_encode_empty_list(x);
        if (rc < 0)
            return -1;
    }
    return 0;
}

void bp_oneround_finish(bp_oneround *o)
{
    if (!o->one_round)
        return;
    o->snap->plan_unused = 0;
    for (size_t k = 0; k < o->n_answers; k++)
        o->snap->plan_unused += !o->answers[k].used;
}

/* The features of oneround.h are those the generator numbered from oneround.erl.src. */
_Static_assert(BP_ONEROUND_CGROUP == BP__OR_FEATURE_CGROUP && BP_ONEROUND_MNESIA == BP__OR_FEATURE_MNESIA
                   && BP_ONEROUND_PROCS == BP__OR_FEATURE_PROCS && BP_ONEROUND_FAMILIES == BP__OR_FEATURE_FAMILIES
                   && BP_ONEROUND_GPROC == BP__OR_FEATURE_GPROC && BP_ONEROUND_TOP == BP__OR_FEATURE_TOP,
               "oneround.h's features follow oneround.erl.src's -part attributes");
