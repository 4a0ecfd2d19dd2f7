/* collect.c: the RPC plan of a probe and the decoding of its replies into a snapshot. */
#include "dist/collect.h"
#include "dist/collect_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"
#include "core/cgroup.h"
#include "core/clock.h"
#include "dist/oneround.h"
#include "dist/plan.h"

/* Fact groups, each filling one bp_fact of the snapshot. */
enum { G_IDENTITY, G_MEMBERSHIP, G_MEMORY, G_CGROUP, G_LIMITS, G_SCHED, G_APPS, G_COUNT };

/* The node-level calls of round one, one reply each. */
enum {
    C_RUNQ, /* first: measured before any of our own calls is spawned */
    C_OTP, C_VSN, C_START, C_NOW, C_UNIT,
    C_VISIBLE, C_HIDDEN,
    C_MEMORY,
    C_PCOUNT, C_PLIMIT, C_PORTCOUNT, C_PORTLIMIT, C_ACOUNT, C_ALIMIT, C_ECOUNT, C_ELIMIT,
    C_SCHED_ONLINE, C_DCPU_ONLINE, C_DIO,
    C_APPS,
    C_COUNT
};

/* Argument shapes: none, one atom, one string, (1, second, native), one timeout. */
typedef enum { A_NONE, A_ATOM, A_STRING, A_UNIT, A_TIMEOUT } arg_kind;

/*
 * Cheap BIFs run inside rex (block_call): rex handles its mailbox in order, so
 * the run-queue reading, sent first, is taken before any of our spawned calls
 * exists. File reads and gen_server calls, which may block, are spawned.
 */
static const struct {
    int group;
    const char *mod, *fun;
    arg_kind kind;
    const char *arg;
} node_calls[C_COUNT] = {
    [C_OTP] = { G_IDENTITY, "erlang", "system_info", A_ATOM, "otp_release" },
    [C_VSN] = { G_IDENTITY, "erlang", "system_info", A_ATOM, "version" },
    [C_START] = { G_IDENTITY, "erlang", "system_info", A_ATOM, "start_time" },
    [C_NOW] = { G_IDENTITY, "erlang", "monotonic_time", A_NONE, NULL },
    [C_UNIT] = { G_IDENTITY, "erlang", "convert_time_unit", A_UNIT, NULL },
    [C_VISIBLE] = { G_MEMBERSHIP, "erlang", "nodes", A_ATOM, "visible" },
    [C_HIDDEN] = { G_MEMBERSHIP, "erlang", "nodes", A_ATOM, "hidden" },
    [C_MEMORY] = { G_MEMORY, "erlang", "memory", A_NONE, NULL },
    [C_PCOUNT] = { G_LIMITS, "erlang", "system_info", A_ATOM, "process_count" },
    [C_PLIMIT] = { G_LIMITS, "erlang", "system_info", A_ATOM, "process_limit" },
    [C_PORTCOUNT] = { G_LIMITS, "erlang", "system_info", A_ATOM, "port_count" },
    [C_PORTLIMIT] = { G_LIMITS, "erlang", "system_info", A_ATOM, "port_limit" },
    [C_ACOUNT] = { G_LIMITS, "erlang", "system_info", A_ATOM, "atom_count" },
    [C_ALIMIT] = { G_LIMITS, "erlang", "system_info", A_ATOM, "atom_limit" },
    [C_ECOUNT] = { G_LIMITS, "erlang", "system_info", A_ATOM, "ets_count" },
    [C_ELIMIT] = { G_LIMITS, "erlang", "system_info", A_ATOM, "ets_limit" },
    [C_RUNQ] = { G_SCHED, "erlang", "statistics", A_ATOM, "run_queue_lengths_all" },
    [C_SCHED_ONLINE] = { G_SCHED, "erlang", "system_info", A_ATOM, "schedulers_online" },
    [C_DCPU_ONLINE] = { G_SCHED, "erlang", "system_info", A_ATOM, "dirty_cpu_schedulers_online" },
    [C_DIO] = { G_SCHED, "erlang", "system_info", A_ATOM, "dirty_io_schedulers" },
    [C_APPS] = { G_APPS, "application", "which_applications", A_TIMEOUT, NULL },
};

/*
 * The cgroup files, read by one spawned lists:map(fun file:read_file/1, Paths):
 * where the node's cgroup is, and the limit files of a container's own view
 * (usually the answer).
 */
enum { F_SELF, F_MOUNTS, F_V2MAX, F_V2CUR, F_V1MAX, F_V1CUR, F_COUNT };
_Static_assert(F_COUNT == BP__CGROUP_FILES, "the one-round request reads the same files");
const char *const bp__cgroup_paths[F_COUNT] = {
    "/proc/self/cgroup", "/proc/self/mountinfo",
    "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current",
    "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes",
};

/* Which groups each probe kind needs. Liveness stays local: no membership. */
static int group_wanted(bp_probe_kind k, int g)
{
    switch (k) {
    case BP_PROBE_LIVE:
        return g == G_IDENTITY || g == G_MEMORY || g == G_CGROUP || g == G_LIMITS || g == G_SCHED;
    case BP_PROBE_STARTUP:
        return g == G_IDENTITY || g == G_APPS;
    case BP_PROBE_READY:
    default:
        return 1;
    }
}

int bp__wants_apps(bp_probe_kind k)
{
    return group_wanted(k, G_APPS);
}

int bp__wants_cgroup(bp_probe_kind k)
{
    return group_wanted(k, G_CGROUP);
}

typedef bp__collector collector;
_Static_assert(C_COUNT <= 32, "collector arrays hold 32 node calls");

/* ---------- encoding helpers ---------- */

ei_x_buff *bp__add_call(bp_batch *b, const char *mod, const char *fun, int argc, int *index)
{
    ei_x_buff *x = bp_batch_add(b, mod, fun, argc);
    if (x)
        *index = (int)bp_batch_count(b) - 1;
    return x;
}

/* ---------- reply helpers ---------- */

const char *bp__pid_text(bp_arena *a, const bp_term *pid)
{
    return bp_arena_printf(a, "<%s.%lld.%lld>", pid->str ? pid->str : "", (long long)pid->i, (long long)pid->serial);
}

const bp_term *bp__reply_of(collector *c, bp_batch *b, int i, bp_fact *f)
{
    if (i < 0)
        return NULL;
    bp_rpc *r = bp_batch_get(b, (size_t)i);
    if (!r)
        return NULL;
    if (r->rc != 0) {
        if (f->state != BP_FACT_ERROR && f->state != BP_FACT_TIMEOUT) {
            if (r->rc == BP_ETIMEDOUT)
                bp_fact_fail(c->snap, f, BP_FACT_TIMEOUT, "timed out after %d ms waiting for %s",
                             c->cfg->timeout_ms, r->label);
            else
                bp_fact_fail(c->snap, f, BP_FACT_ERROR, "%s: %s", r->label, bp_rpc_error(r));
        }
        return NULL;
    }
    if (bp_term_is_tagged(r->reply, "badrpc", 2)) {
        if (f->state != BP_FACT_ERROR && f->state != BP_FACT_TIMEOUT) {
            char why[200];
            bp_term_format(bp_term_elem(r->reply, 1), why, sizeof why);
            bp_fact_fail(c->snap, f, BP_FACT_ERROR, "%s failed: %s", r->label, why);
        }
        return NULL;
    }
    return r->reply;
}

int64_t bp__int_or(const bp_term *t, int64_t dflt)
{
    int64_t v;
    return bp_term_int(t, &v) == 0 ? v : dflt;
}

static const char *text_dup(collector *c, const bp_term *t)
{
    char buf[BP_NAME_MAX];
    if (bp_term_text(t, buf, sizeof buf) != 0)
        bp_term_format(t, buf, sizeof buf);
    return bp_arena_strdup(c->snap->arena, buf);
}

void bp__fact_ok(bp_fact *f)
{
    if (f->state == BP_FACT_UNSET)
        f->state = BP_FACT_OK;
}

int bp__exit_reason_is(const bp_rpc *r, const char *reason)
{
    const bp_term *e = bp_term_elem(r->reply, 1);
    if (!bp_term_is_tagged(r->reply, "badrpc", 2) || !bp_term_is_tagged(e, "EXIT", 2))
        return 0;
    const bp_term *why = bp_term_elem(e, 1);
    return bp_term_is_atom(why, reason) || bp_term_is_atom(bp_term_elem(why, 0), reason);
}

/* ---------- node-level facts ---------- */

/* Cheap BIFs: answered by rex itself, all in one message. */
static int is_bif(int k)
{
    return node_calls[k].group != G_CGROUP && node_calls[k].group != G_APPS;
}

static int encode_args(collector *c, ei_x_buff *x, int k)
{
    switch (node_calls[k].kind) {
    case A_NONE: return 0;
    case A_ATOM: return ei_x_encode_atom(x, node_calls[k].arg);
    case A_STRING: return ei_x_encode_string(x, node_calls[k].arg);
    case A_UNIT: return ei_x_encode_long(x, 1) | ei_x_encode_atom(x, "second") | ei_x_encode_atom(x, "native");
    case A_TIMEOUT: return ei_x_encode_long(x, c->cfg->governor_timeout_ms);
    }
    return -1;
}

static int arity_of(int k)
{
    return node_calls[k].kind == A_NONE ? 0 : node_calls[k].kind == A_UNIT ? 3 : 1;
}

/* One call per node fact (spawned ones, or every one when the combined call failed). */
static int plan_single_calls(collector *c, bp_batch *b, int bifs)
{
    for (int k = 0; k < C_COUNT; k++) {
        if (!group_wanted(c->cfg->probe, node_calls[k].group) || is_bif(k) != bifs)
            continue;
        ei_x_buff *x = bp__add_call(b, node_calls[k].mod, node_calls[k].fun, arity_of(k), &c->at[k]);
        if (!x || encode_args(c, x, k) < 0)
            return BP_ENOMEM;
        bp_batch_get(b, (size_t)c->at[k])->block = bifs;
    }
    return 0;
}

int bp__encode_export(ei_x_buff *x, const char *mod, const char *fun, long arity)
{
    erlang_fun f;
    memset(&f, 0, sizeof f);
    f.type = EI_FUN_EXPORT;
    f.arity = arity;
    snprintf(f.module, sizeof f.module, "%s", mod);
    f.u.exprt.func = (char *)(uintptr_t)fun;
    return ei_x_encode_fun(x, &f);
}

/*
 * lists:zipwith(fun erlang:apply/2, [fun erlang:system_info/1, ...], [[otp_release], ...])
 * as a block_call: every cheap BIF of the probe in one message that rex answers itself.
 * The run-queue reading comes first, before rex spawns any of our other calls.
 */
static int plan_bif_call(collector *c, bp_batch *b)
{
    int n = 0;
    for (int k = 0; k < C_COUNT; k++)
        n += group_wanted(c->cfg->probe, node_calls[k].group) && is_bif(k);
    c->bif_at = -1;
    if (n == 0)
        return 0;
    ei_x_buff *x = bp__add_call(b, "lists", "zipwith", 3, &c->bif_at);
    if (!x || bp__encode_export(x, "erlang", "apply", 2) < 0 || ei_x_encode_list_header(x, n) < 0)
        return BP_ENOMEM;
    for (int k = 0; k < C_COUNT; k++)
        if (group_wanted(c->cfg->probe, node_calls[k].group) && is_bif(k)
            && bp__encode_export(x, node_calls[k].mod, node_calls[k].fun, arity_of(k)) < 0)
            return BP_ENOMEM;
    if (ei_x_encode_empty_list(x) < 0 || ei_x_encode_list_header(x, n) < 0)
        return BP_ENOMEM;
    for (int k = 0; k < C_COUNT; k++) {
        if (!group_wanted(c->cfg->probe, node_calls[k].group) || !is_bif(k))
            continue;
        int argc = arity_of(k);
        if ((argc > 0 && ei_x_encode_list_header(x, argc) < 0) || encode_args(c, x, k) < 0
            || ei_x_encode_empty_list(x) < 0)
            return BP_ENOMEM;
    }
    if (ei_x_encode_empty_list(x) < 0)
        return BP_ENOMEM;
    bp_rpc *r = bp_batch_get(b, (size_t)c->bif_at);
    r->block = 1;
    snprintf(r->label, sizeof r->label, "the VM statistics");
    return 0;
}

static int add_read_files(bp_batch *b, const char *const *paths, size_t n, int *index);

static int plan_node_calls(collector *c, bp_batch *b)
{
    for (int k = 0; k < C_COUNT; k++)
        c->at[k] = -1;
    c->cg_files = -1;
    if (plan_bif_call(c, b) != 0)
        return BP_ENOMEM;
    if (group_wanted(c->cfg->probe, G_CGROUP) && add_read_files(b, bp__cgroup_paths, F_COUNT, &c->cg_files) != 0)
        return BP_ENOMEM;
    return plan_single_calls(c, b, 0);
}

/*
 * After round one: split the combined reply into bif_items, or, if the node
 * refused it (an older OTP missing one BIF, say), ask each BIF alone in the
 * next round so that one failure hides no other fact. 1 when a fallback was planned.
 */
static int take_bif_call(collector *c, bp_batch *b, bp_batch *next)
{
    bp_rpc *r = c->bif_at >= 0 ? bp_batch_get(b, (size_t)c->bif_at) : NULL;
    if (!r)
        return 0;
    const bp_term *l = r->rc == 0 ? r->reply : NULL;
    if (l && l->type == BP_T_LIST) {
        size_t i = 0;
        for (int k = 0; k < C_COUNT; k++)
            if (group_wanted(c->cfg->probe, node_calls[k].group) && is_bif(k) && i < l->n)
                c->bif_items[k] = &l->items[i++];
        c->bif_ok = i == l->n;
        if (c->bif_ok)
            return 0;
    }
    if (l && bp_term_is_tagged(l, "badrpc", 2) && plan_single_calls(c, next, 1) == 0)
        return 1;
    return 0;
}

/* The reply of node call k: from the combined call, its own call, or NULL with f failed. */
static const bp_term *node_reply(collector *c, bp_batch *b, int k, bp_fact *f)
{
    if (c->bif_ok && is_bif(k))
        return c->bif_items[k];
    if (is_bif(k) && c->at[k] < 0) {
        /* the combined call failed (reply_of says why) or answered something else than one
           result per BIF: nothing in it can be trusted */
        if (bp__reply_of(c, b, c->bif_at, f) && f->state != BP_FACT_ERROR && f->state != BP_FACT_TIMEOUT)
            bp_fact_fail(c->snap, f, BP_FACT_ERROR, "unexpected reply to the VM statistics call");
        return NULL;
    }
    return bp__reply_of(c, b, c->at[k], f);
}

/* The label of node call k for messages: "erlang:system_info(process_count)". */
static void call_label(int k, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s:%s(%s)", node_calls[k].mod, node_calls[k].fun,
             node_calls[k].kind == A_ATOM ? node_calls[k].arg : "");
}

/*
 * The integer answer of node call k, at least `min`; -1 when there is none. An
 * answer of another type or out of range fails the fact (a scrambled reply must
 * not pass as "no limit reported").
 */
static int64_t count_of(collector *c, bp_batch *b, int k, bp_fact *f, int64_t min)
{
    const bp_term *t = node_reply(c, b, k, f);
    int64_t v;
    if (!t)
        return -1;
    if (bp_term_int(t, &v) == 0 && v >= min)
        return v;
    if (f->state != BP_FACT_ERROR && f->state != BP_FACT_TIMEOUT) {
        char what[96], got[96];
        call_label(k, what, sizeof what);
        bp_term_format(t, got, sizeof got);
        bp_fact_fail(c->snap, f, BP_FACT_ERROR, "unexpected reply to %s: %s", what, got);
    }
    return -1;
}

/* Text of node call k's answer if it is made only of `allowed` characters, else NULL with f failed. */
static const char *text_of(collector *c, bp_batch *b, int k, bp_fact *f, const char *allowed)
{
    const bp_term *t = node_reply(c, b, k, f);
    char buf[64];
    if (!t)
        return NULL;
    if (bp_term_text(t, buf, sizeof buf) == 0 && buf[0] && buf[strspn(buf, allowed)] == '\0')
        return bp_arena_strdup(c->snap->arena, buf);
    if (f->state != BP_FACT_ERROR && f->state != BP_FACT_TIMEOUT) {
        char what[96], got[96];
        call_label(k, what, sizeof what);
        bp_term_format(t, got, sizeof got);
        bp_fact_fail(c->snap, f, BP_FACT_ERROR, "unexpected reply to %s: %s", what, got);
    }
    return NULL;
}

static void take_identity(collector *c, bp_batch *b)
{
    bp_snapshot *s = c->snap;
    bp_fact *f = &s->identity;
    s->otp_release = text_of(c, b, C_OTP, f, "0123456789");     /* "25" */
    s->erts_version = text_of(c, b, C_VSN, f, "0123456789.");   /* "13.1.5" */
    const bp_term *start = node_reply(c, b, C_START, f);
    const bp_term *now = node_reply(c, b, C_NOW, f);
    int64_t per_sec = count_of(c, b, C_UNIT, f, 1);
    int64_t t0, t1;
    int times = bp_term_int(start, &t0) == 0 && bp_term_int(now, &t1) == 0;
    if ((start || now) && !times && f->state == BP_FACT_UNSET)
        bp_fact_fail(s, f, BP_FACT_ERROR, "unexpected reply to erlang:system_info(start_time) or erlang:monotonic_time()");
    if (times && per_sec > 0 && t1 < t0)
        bp_fact_fail(s, f, BP_FACT_ERROR, "the node's clock reads before its start time");
    else if (times && per_sec > 0)
        s->uptime_ms = (int64_t)((double)(t1 - t0) * 1000.0 / (double)per_sec);
    if (times && per_sec > 0) { /* as supervisors stamp their restarts: erlang:monotonic_time(second) */
        c->mono_now_s = t1 >= 0 ? t1 / per_sec : -((-t1 + per_sec - 1) / per_sec);
        c->mono_known = 1;
    }
    bp__fact_ok(f);
}

int bp__names_of(collector *c, const bp_term *list, bp_strv *out, const char *skip)
{
    if (!list || (list->type != BP_T_LIST && list->type != BP_T_NIL))
        return -1;
    out->n = 0;
    out->v = bp_arena_alloc(c->snap->arena, (list->n + 1) * sizeof *out->v);
    if (!out->v)
        return BP_ENOMEM;
    for (size_t i = 0; i < list->n; i++) {
        const bp_term *t = &list->items[i];
        if (t->type != BP_T_ATOM || (skip && strcmp(t->str, skip) == 0))
            continue;
        out->v[out->n++] = bp_arena_strdup(c->snap->arena, t->str);
    }
    return 0;
}

static void take_membership(collector *c, bp_batch *b)
{
    bp_snapshot *s = c->snap;
    const bp_term *vis = node_reply(c, b, C_VISIBLE, &s->membership);
    const bp_term *hid = node_reply(c, b, C_HIDDEN, &s->membership);
    if ((vis && bp__names_of(c, vis, &s->visible, NULL) != 0)
        || (hid && bp__names_of(c, hid, &s->hidden, c->ex->self_name) != 0))
        bp_fact_fail(s, &s->membership, BP_FACT_ERROR, "unexpected reply to erlang:nodes/1");
    bp__fact_ok(&s->membership);
}

static void take_memory(collector *c, bp_batch *b)
{
    bp_snapshot *s = c->snap;
    const bp_term *m = node_reply(c, b, C_MEMORY, &s->memory);
    if (m && m->type == BP_T_LIST) {
        for (size_t i = 0; i < m->n && s->n_memory < sizeof s->memory_kinds / sizeof s->memory_kinds[0]; i++) {
            const bp_term *kv = &m->items[i];
            int64_t v;
            if (kv->type != BP_T_TUPLE || kv->n != 2 || kv->items[0].type != BP_T_ATOM
                || bp_term_int(&kv->items[1], &v) != 0)
                continue;
            if (v < 0) {
                bp_fact_fail(s, &s->memory, BP_FACT_ERROR, "unexpected reply to erlang:memory/0: %s %lld",
                             kv->items[0].str, (long long)v);
                break;
            }
            s->memory_kinds[s->n_memory].kind = bp_arena_strdup(s->arena, kv->items[0].str);
            s->memory_kinds[s->n_memory].bytes = v;
            s->n_memory++;
        }
    } else if (m) {
        bp_fact_fail(s, &s->memory, BP_FACT_ERROR, "unexpected reply to erlang:memory/0");
    }
    bp__fact_ok(&s->memory);
}

/* lists:map(fun file:read_file/1, Paths): any number of files for one spawned call. */
static int add_read_files(bp_batch *b, const char *const *paths, size_t n, int *index)
{
    ei_x_buff *x = bp__add_call(b, "lists", "map", 2, index);
    if (!x || bp__encode_export(x, "file", "read_file", 1) < 0 || ei_x_encode_list_header(x, (long)n) < 0)
        return BP_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (ei_x_encode_string(x, paths[i]) < 0)
            return BP_ENOMEM;
    return ei_x_encode_empty_list(x) < 0 ? BP_ENOMEM : 0;
}

/* The content of file i of a read_files reply, or NULL (unreadable, or the call failed). */
static const bp_term *file_body(collector *c, bp_batch *b, int at, size_t i)
{
    bp_fact scratch = { 0 };
    const bp_term *l = bp__reply_of(c, b, at, &scratch);
    const bp_term *r = l && l->type == BP_T_LIST && i < l->n ? &l->items[i] : NULL;
    const bp_term *body = bp_term_is_tagged(r, "ok", 2) ? bp_term_elem(r, 1) : NULL;
    return body && body->type == BP_T_BINARY ? body : NULL;
}

/* A cgroup file's value: bytes, -1 for "max"/unlimited, -2 when unreadable. */
static int64_t cgroup_value(collector *c, bp_batch *b, int at, size_t i)
{
    const bp_term *body = file_body(c, b, at, i);
    return body ? bp_cgroup_parse_value(body->str, body->len) : -2;
}

static const char *file_text(collector *c, bp_batch *b, int at, size_t i)
{
    const bp_term *body = file_body(c, b, at, i);
    return body ? body->str : NULL;
}

static void set_cgroup(collector *c, int version, int64_t limit, int64_t usage)
{
    bp_snapshot *s = c->snap;
    s->cgroup_version = version == 1 ? "v1" : "v2";
    s->cgroup_limit = limit;
    s->cgroup_usage = usage >= 0 ? usage : -1;
    s->cgroup.state = BP_FACT_OK;
}

/*
 * Round one read the container-view limit files and where the target's
 * cgroup is. Most containers see their own cgroup at the mount point: done.
 * Elsewhere (a systemd service on a host, say) ask for the located files in
 * round two.
 */
static void take_cgroup(collector *c, bp_batch *b, bp_batch *next)
{
    bp_cgroup_loc loc;
    c->cg_version = 0;
    if (bp_cgroup_locate(file_text(c, b, c->cg_files, F_SELF), file_text(c, b, c->cg_files, F_MOUNTS), &loc) == 0
        && !loc.at_root) {
        char limit[1100], usage[1100];
        snprintf(limit, sizeof limit, "%s/%s", loc.dir, bp_cgroup_limit_file(loc.version));
        snprintf(usage, sizeof usage, "%s/%s", loc.dir, bp_cgroup_usage_file(loc.version));
        const char *const paths[2] = { limit, usage };
        if (add_read_files(next, paths, 2, &c->cg_files2) == 0)
            c->cg_version = loc.version;
        return;
    }
    int prefer_v1 = loc.version == 1;
    int64_t v2max = cgroup_value(c, b, c->cg_files, F_V2MAX);
    int64_t v1max = cgroup_value(c, b, c->cg_files, F_V1MAX);
    if (v2max != -2 && !prefer_v1)
        set_cgroup(c, 2, v2max, cgroup_value(c, b, c->cg_files, F_V2CUR));
    else if (v1max != -2)
        set_cgroup(c, 1, v1max, cgroup_value(c, b, c->cg_files, F_V1CUR));
    else
        bp_fact_fail(c->snap, &c->snap->cgroup, BP_FACT_ERROR, "no cgroup memory files readable on the target");
}

static void take_cgroup_round2(collector *c, bp_batch *b)
{
    if (c->cg_version == 0)
        return;
    int64_t limit = cgroup_value(c, b, c->cg_files2, 0);
    if (limit == -2)
        bp_fact_fail(c->snap, &c->snap->cgroup, BP_FACT_ERROR, "cgroup memory limit file not readable");
    else
        set_cgroup(c, c->cg_version, limit, cgroup_value(c, b, c->cg_files2, 1));
}

static void take_limits(collector *c, bp_batch *b)
{
    bp_snapshot *s = c->snap;
    bp_fact *f = &s->limits;
    s->process_count = count_of(c, b, C_PCOUNT, f, 0);
    s->process_limit = count_of(c, b, C_PLIMIT, f, 1);
    s->port_count = count_of(c, b, C_PORTCOUNT, f, 0);
    s->port_limit = count_of(c, b, C_PORTLIMIT, f, 1);
    s->atom_count = count_of(c, b, C_ACOUNT, f, 0);
    s->atom_limit = count_of(c, b, C_ALIMIT, f, 1);
    s->ets_count = count_of(c, b, C_ECOUNT, f, 0);
    s->ets_limit = count_of(c, b, C_ELIMIT, f, 1);
    bp__fact_ok(f);
}

static void take_schedulers(collector *c, bp_batch *b)
{
    bp_snapshot *s = c->snap;
    bp_fact *f = &s->schedulers;
    const bp_term *q = node_reply(c, b, C_RUNQ, f);
    s->schedulers_online = count_of(c, b, C_SCHED_ONLINE, f, 1);
    s->dirty_cpu_schedulers_online = count_of(c, b, C_DCPU_ONLINE, f, 0);
    s->dirty_io_schedulers = count_of(c, b, C_DIO, f, 0);
    s->run_queue = s->dirty_cpu_run_queue = s->dirty_io_run_queue = -1;
    /* a list of small integers arrives as STRING_EXT: one byte per queue */
    size_t n = q && q->type == BP_T_LIST ? q->n : q && q->type == BP_T_STRING ? q->len : 0;
    if (n >= 2) {
        int64_t v[3] = { 0, 0, 0 };
        for (size_t i = 0; i < n; i++) {
            int64_t len = q->type == BP_T_STRING ? (unsigned char)q->str[i] : bp__int_or(&q->items[i], -1);
            if (len < 0) {
                bp_fact_fail(s, f, BP_FACT_ERROR, "unexpected reply to statistics(run_queue_lengths_all)");
                return;
            }
            v[i + 2 < n ? 0 : i + 2 == n ? 1 : 2] += len;
        }
        s->run_queue = v[0];
        s->dirty_cpu_run_queue = v[1];
        s->dirty_io_run_queue = v[2];
    } else if (q) {
        bp_fact_fail(s, f, BP_FACT_ERROR, "unexpected reply to statistics(run_queue_lengths_all)");
    }
    bp__fact_ok(f);
}

static void take_applications(collector *c, bp_batch *b)
{
    bp_snapshot *s = c->snap;
    const bp_term *l = node_reply(c, b, C_APPS, &s->applications);
    if (l && (l->type == BP_T_LIST || l->type == BP_T_NIL)) {
        s->apps = bp_arena_alloc(s->arena, (l->n + 1) * sizeof *s->apps);
        if (!s->apps)
            return;
        for (size_t i = 0; i < l->n; i++) {
            const bp_term *a = &l->items[i];
            if (a->type != BP_T_TUPLE || a->n != 3 || a->items[0].type != BP_T_ATOM)
                continue;
            s->apps[s->n_apps].name = bp_arena_strdup(s->arena, a->items[0].str);
            s->apps[s->n_apps].version = text_dup(c, &a->items[2]);
            s->n_apps++;
        }
    } else if (l) {
        bp_fact_fail(s, &s->applications, BP_FACT_ERROR, "unexpected reply to application:which_applications/1");
    }
    bp__fact_ok(&s->applications);
}

/* ---------- custom checks ---------- */

static int plan_custom(collector *c, bp_batch *b)
{
    const bp_namelist *m = &c->cfg->check_mfas;
    bp_snapshot *s = c->snap;
    s->n_custom = m->n;
    s->custom = bp_arena_alloc(s->arena, (m->n + 1) * sizeof *s->custom);
    c->custom_at = bp_arena_alloc(s->arena, (m->n + 1) * sizeof(int));
    if (!s->custom || !c->custom_at)
        return BP_ENOMEM;
    for (size_t i = 0; i < m->n; i++) {
        char mod[BP_NAME_MAX];
        snprintf(mod, sizeof mod, "%s", m->v[i]);
        char *colon = strchr(mod, ':');
        s->custom[i].mfa = bp_arena_strdup(s->arena, m->v[i]);
        c->custom_at[i] = -1;
        if (!colon) {
            bp_fact_fail(s, &s->custom[i].fact, BP_FACT_ERROR, "not of the form mod:fun");
            continue;
        }
        *colon = '\0';
        if (!bp__add_call(b, mod, colon + 1, 0, &c->custom_at[i]))
            return BP_ENOMEM;
    }
    return 0;
}

/* {Tag, Why} with a textual Why (string, binary, atom) reads "Tag: Why"; anything else as Erlang prints it. */
static void custom_detail(const bp_term *t, char *out, size_t outlen)
{
    char why[160];
    if (t->type == BP_T_TUPLE && t->n == 2 && t->items[0].type == BP_T_ATOM && t->items[1].type != BP_T_ATOM
        && t->items[1].type != BP_T_NIL && bp_term_text(&t->items[1], why, sizeof why) == 0)
        snprintf(out, outlen, "%s: %s", t->items[0].str, why);
    else
        bp_term_format(t, out, outlen);
}

static void take_custom(collector *c, bp_batch *b)
{
    bp_snapshot *s = c->snap;
    for (size_t i = 0; i < s->n_custom; i++) {
        bp_custom_snap *k = &s->custom[i];
        if (c->custom_at[i] < 0)
            continue;
        const bp_term *t = bp__reply_of(c, b, c->custom_at[i], &k->fact);
        if (!t) {
            k->verdict = BP_VERDICT_FAIL;
            continue;
        }
        char buf[200];
        custom_detail(t, buf, sizeof buf);
        k->detail = bp_arena_strdup(s->arena, buf);
        if (bp_term_is_atom(t, "ok") || bp_term_is_atom(t, "healthy") || bp_term_is_atom(t, "true")
            || bp_term_is_tagged(t, "ok", 2))
            k->verdict = BP_VERDICT_PASS;
        else if (bp_term_is_atom(t, "degraded") || bp_term_is_tagged(t, "warn", 2))
            k->verdict = BP_VERDICT_WARN;
        else
            k->verdict = BP_VERDICT_FAIL;
        bp__fact_ok(&k->fact);
    }
}

/* Identity, membership, memory, limits and schedulers, from batch b. */
static void take_bif_groups(collector *c, bp_batch *b)
{
    bp_probe_kind k = c->cfg->probe;
    if (group_wanted(k, G_IDENTITY))
        take_identity(c, b);
    if (group_wanted(k, G_MEMBERSHIP))
        take_membership(c, b);
    if (group_wanted(k, G_MEMORY))
        take_memory(c, b);
    if (group_wanted(k, G_LIMITS))
        take_limits(c, b);
    if (group_wanted(k, G_SCHED))
        take_schedulers(c, b);
}

/* ---------- rounds ---------- */

static int run_round(collector *c, bp_batch *b)
{
    if (bp_batch_count(b) == 0)
        return 0;
    if (!c->ex->counts_rounds)
        c->snap->round_trips++;
    return c->ex->call(c->ex->ctx, b, c->deadline);
}

static int session_call(void *ctx, bp_batch *b, int64_t deadline_ms)
{
    return bp_session_call(ctx, b, deadline_ms);
}

int bp_collect(bp_session *s, const bp_config *cfg, int64_t deadline_ms, bp_snapshot *snap)
{
    bp_collect_exec ex = { .call = session_call, .ctx = s, .self_name = bp_session_self_name(s) };
    if (bp_snapshot_set_node(snap, bp_session_peer_name(s)) != 0) /* the name the node states */
        return BP_ENOMEM;
    snap->rtt_us = bp_session_rtt_us(s);
    return bp_collect_planned(&ex, cfg, deadline_ms, snap);
}

int bp_collect_planned(const bp_collect_exec *ex, const bp_config *cfg, int64_t deadline_ms, bp_snapshot *snap)
{
    char why[128];
    snap->plan_auto = strcmp(cfg->plan, "auto") == 0;
    bp_plan plan = bp_plan_choose(cfg->plan, snap->rtt_us, why, sizeof why);
    snap->plan_reason = why[0] ? bp_arena_strdup(snap->arena, why) : NULL;
    if (plan == BP_PLAN_MULTI_ROUND) {
        snap->plan = "multi-round";
        return bp_collect_with(ex, cfg, deadline_ms, snap);
    }
    /* the target stops asking what may wait once 4/5 of the time left is spent: the rest is
       for the reply and for a round of what it left out */
    ei_x_buff params;
    int64_t left = deadline_ms - bp_now_ms();
    if (ei_x_new_with_version(&params) < 0)
        return BP_ENOMEM;
    bp_oneround *o = bp__oneround_params(cfg, left > 0 ? left * 4 / 5 : 0, &params) == 0
                         ? bp_oneround_new(ex, (const unsigned char *)params.buff, (size_t)params.index, snap)
                         : NULL;
    ei_x_free(&params);
    if (!o)
        return BP_ENOMEM;
    bp_collect_exec one = { .call = bp_oneround_call, .ctx = o, .self_name = ex->self_name, .counts_rounds = 1 };
    int rc = bp_collect_with(&one, cfg, deadline_ms, snap);
    bp_oneround_finish(o);
    bp_oneround_free(o);
    return rc;
}

/*
 * Round one sends every independent call at once; later rounds carry what
 * earlier ones found: the BIFs one by one if the combined call was refused, a
 * cgroup outside its mount point, and each governor's and supervisor's next
 * stage (docs/DESIGN-NOTES.md, "Do no harm"). Rounds stop when nothing is left
 * to ask; past the deadline a round only marks its calls timed out.
 */
int bp_collect_with(const bp_collect_exec *ex, const bp_config *cfg, int64_t deadline_ms, bp_snapshot *snap)
{
    collector c = { .ex = ex, .cfg = cfg, .snap = snap, .deadline = deadline_ms, .top_at = -1 };
    int ready = cfg->probe == BP_PROBE_READY;
    bp_batch *b = bp_batch_new(0), *next = NULL;
    int rc = BP_ENOMEM;
    if (!b || (ready && bp__procs_init(&c) != 0) || plan_node_calls(&c, b) != 0 || bp__top_plan(&c, b) != 0
        || (ready && (plan_custom(&c, b) != 0 || bp__procs_plan(&c, b) != 0 || bp__mnesia_plan(&c, b) != 0)))
        goto out;
    for (int round = 1;; round++) {
        (void)run_round(&c, b); /* on a dead session or past the deadline this only marks the calls */
        if (!(next = bp_batch_new(0)))
            goto out;
        if (round == 1) {
            if (group_wanted(cfg->probe, G_APPS))
                take_applications(&c, b);
            if (ready)
                take_custom(&c, b);
            c.bif_fallback = take_bif_call(&c, b, next);
            if (!c.bif_fallback)
                take_bif_groups(&c, b);
            if (group_wanted(cfg->probe, G_CGROUP))
                take_cgroup(&c, b, next);
            bp__top_take(&c, b);
        } else if (round == 2) {
            if (c.bif_fallback)
                take_bif_groups(&c, b);
            take_cgroup_round2(&c, b);
        }
        bp__procs_take(&c, b);
        bp__mnesia_take(&c, b);
        if (bp__procs_plan(&c, next) != 0 || bp__mnesia_plan(&c, next) != 0)
            goto out;
        bp_batch_free(b); /* pids kept for the next round live in the snapshot's arena */
        b = next;
        next = NULL;
        if (bp_batch_count(b) == 0)
            break;
    }
    rc = 0;
out:
    bp__procs_free(&c);
    bp_batch_free(b);
    bp_batch_free(next);
    return rc;
}
