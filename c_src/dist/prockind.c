/* prockind.c: the proof of a process's kind from process_info and proc_lib's '$initial_call', without messaging it. */
#include "dist/prockind.h"

#include <stdio.h>
#include <string.h>

#include "beamprobe.h"

/* The functions of a behaviour's own process (its loop, callback dispatch, init), never a client's. */
typedef struct {
    const char *module;
    const char *const *names;  /* exact function names */
    const char *prefix;        /* or any function starting with this, or NULL */
    bp_pk_kind kind;
} loop_code;

/* loop_hibernate, loop_wakeup: OTP 29's (and presumably 28's) hibernation, with erlang:hibernate/0 inside
   gen_server's own loop (the stack is kept), where older releases sit in erlang:hibernate/3 */
static const char *const gen_server_fns[] = { "loop", "handle_msg", "try_dispatch", "try_handle_call",
                                              "try_handle_continue", "decode_msg", "wake_hib", "enter_loop",
                                              "init_it", "handle_common_reply", "system_continue",
                                              "loop_hibernate", "loop_wakeup", NULL };
static const char *const gen_statem_fns[] = { "wakeup_from_hibernate", "init_it", "init_result",
                                              "call_state_function", "call_callback_mode",
                                              "system_continue", NULL };
static const char *const gen_event_fns[] = { "fetch_msg", "handle_msg", "wake_hib", "init_it",
                                             "system_continue", NULL };

static const loop_code loops[] = {
    { "gen_server", gen_server_fns, NULL, BP_PK_GEN_SERVER },
    { "gen_statem", gen_statem_fns, "loop", BP_PK_GEN_STATEM },
    { "gen_statem", gen_statem_fns, "enter", BP_PK_GEN_STATEM },
    { "gen_event", gen_event_fns, "server_", BP_PK_GEN_EVENT },
};

static bp_pk_kind loop_kind(const char *mod, const char *fun)
{
    for (size_t i = 0; i < sizeof loops / sizeof loops[0]; i++) {
        if (strcmp(mod, loops[i].module) != 0)
            continue;
        if (loops[i].prefix && strncmp(fun, loops[i].prefix, strlen(loops[i].prefix)) == 0)
            return loops[i].kind;
        for (const char *const *n = loops[i].names; *n; n++)
            if (strcmp(fun, *n) == 0)
                return loops[i].kind;
    }
    return BP_PK_UNKNOWN;
}

/* {M, F, A} (or {M, F, A, Location}) with atoms M and F: their names, else NULL. */
static int mfa_of(const bp_term *t, const char **m, const char **f, int64_t *a)
{
    if (!t || t->type != BP_T_TUPLE || t->n < 3 || t->items[0].type != BP_T_ATOM || t->items[1].type != BP_T_ATOM)
        return -1;
    *m = t->items[0].str;
    *f = t->items[1].str;
    *a = -1;
    if (bp_term_int(&t->items[2], a) != 0 && t->items[2].type == BP_T_LIST)
        *a = (int64_t)t->items[2].n;
    return 0;
}

/* What the proof reads of a process: erlang:process_info(Pid, items). */
static const char *const items[] = { "current_function", "current_stacktrace", "status",
                                     "message_queue_len", "memory", "registered_name" };

static int encode_bin(ei_x_buff *x, const char *s)
{
    return ei_x_encode_binary(x, s, (long)strlen(s));
}

static long count_names(const char *const *names)
{
    long n = 0;
    while (names[n])
        n++;
    return n;
}

static int kind_code(bp_pk_kind k)
{
    return k == BP_PK_GEN_SERVER ? 3 : k == BP_PK_GEN_STATEM ? 4 : 5;
}

/* [{{ {{'$3', '$4', '_', '_'}}, [], [Kind] }}]: a match spec's body that makes a clause of the frames' table. */
static int encode_body(ei_x_buff *x, int code)
{
    return ei_x_encode_list_header(x, 1) < 0 || ei_x_encode_tuple_header(x, 1) < 0
                   || ei_x_encode_tuple_header(x, 3) < 0 || ei_x_encode_tuple_header(x, 1) < 0
                   || ei_x_encode_tuple_header(x, 4) < 0 || ei_x_encode_atom(x, "$3") < 0
                   || ei_x_encode_atom(x, "$4") < 0 || ei_x_encode_atom(x, "_") < 0 || ei_x_encode_atom(x, "_") < 0
                   || ei_x_encode_empty_list(x) < 0 || ei_x_encode_list_header(x, 1) < 0
                   || ei_x_encode_long(x, code) < 0 || ei_x_encode_empty_list(x) < 0
                   || ei_x_encode_empty_list(x) < 0
               ? -1
               : 0;
}

/* {{Module, Function, '$3', '$4'}, [], Body}: this exact function. */
static int encode_exact(ei_x_buff *x, const char *mod, const char *fun, int code)
{
    return ei_x_encode_tuple_header(x, 3) < 0 || ei_x_encode_tuple_header(x, 4) < 0 || encode_bin(x, mod) < 0
                   || encode_bin(x, fun) < 0 || ei_x_encode_atom(x, "$3") < 0 || ei_x_encode_atom(x, "$4") < 0
                   || ei_x_encode_empty_list(x) < 0 || encode_body(x, code) < 0
               ? -1
               : 0;
}

/* {{Module, '$1', '$3', '$4'}, [{'>=', {byte_size, '$1'}, L}, {'=:=', {binary_part, '$1', 0, L}, Prefix}], Body} */
static int encode_prefix(ei_x_buff *x, const char *mod, const char *prefix, int code)
{
    long len = (long)strlen(prefix);
    return ei_x_encode_tuple_header(x, 3) < 0 || ei_x_encode_tuple_header(x, 4) < 0 || encode_bin(x, mod) < 0
                   || ei_x_encode_atom(x, "$1") < 0 || ei_x_encode_atom(x, "$3") < 0 || ei_x_encode_atom(x, "$4") < 0
                   || ei_x_encode_list_header(x, 2) < 0
                   || ei_x_encode_tuple_header(x, 3) < 0 || ei_x_encode_atom(x, ">=") < 0
                   || ei_x_encode_tuple_header(x, 2) < 0 || ei_x_encode_atom(x, "byte_size") < 0
                   || ei_x_encode_atom(x, "$1") < 0 || ei_x_encode_long(x, len) < 0
                   || ei_x_encode_tuple_header(x, 3) < 0 || ei_x_encode_atom(x, "=:=") < 0
                   || ei_x_encode_tuple_header(x, 4) < 0 || ei_x_encode_atom(x, "binary_part") < 0
                   || ei_x_encode_atom(x, "$1") < 0 || ei_x_encode_long(x, 0) < 0 || ei_x_encode_long(x, len) < 0
                   || encode_bin(x, prefix) < 0 || ei_x_encode_empty_list(x) < 0 || encode_body(x, code) < 0
               ? -1
               : 0;
}

/* Does *e repeat the names (or the module) of the entry before it, prev (gen_statem's two prefixes)? */
static int names_repeat(const loop_code *e, const loop_code *prev)
{
    return prev && e->names == prev->names;
}

static int module_repeats(const loop_code *e, const loop_code *prev)
{
    return prev && strcmp(e->module, prev->module) == 0;
}

int bp_prockind_encode_rule(ei_x_buff *x)
{
    const size_t n_loops = sizeof loops / sizeof loops[0];
    const long n_items = (long)(sizeof items / sizeof items[0]);
    long n_clauses = 0, n_modules = 0;
    for (size_t i = 0; i < n_loops; i++) {
        const loop_code *prev = i > 0 ? &loops[i - 1] : NULL;
        n_clauses += (names_repeat(&loops[i], prev) ? 0 : count_names(loops[i].names)) + (loops[i].prefix != NULL);
        n_modules += !module_repeats(&loops[i], prev);
    }
    if (ei_x_encode_tuple_header(x, 3) < 0 || ei_x_encode_list_header(x, n_modules) < 0)
        return -1;
    for (size_t i = 0; i < n_loops; i++)
        if (!module_repeats(&loops[i], i > 0 ? &loops[i - 1] : NULL) && encode_bin(x, loops[i].module) < 0)
            return -1;
    if (ei_x_encode_empty_list(x) < 0 || ei_x_encode_list_header(x, n_clauses) < 0)
        return -1;
    for (size_t i = 0; i < n_loops; i++) {
        int code = kind_code(loops[i].kind);
        int repeat = names_repeat(&loops[i], i > 0 ? &loops[i - 1] : NULL);
        for (const char *const *n = loops[i].names; !repeat && *n; n++)
            if (encode_exact(x, loops[i].module, *n, code) != 0)
                return -1;
        if (loops[i].prefix && encode_prefix(x, loops[i].module, loops[i].prefix, code) != 0)
            return -1;
    }
    if (ei_x_encode_empty_list(x) < 0 || ei_x_encode_list_header(x, n_items) < 0)
        return -1;
    for (long i = 0; i < n_items; i++)
        if (encode_bin(x, items[i]) < 0)
            return -1;
    return ei_x_encode_empty_list(x);
}

int bp_prockind_plan(bp_batch *b, const bp_term *pid, int at[2])
{
    const long n_items = (long)(sizeof items / sizeof items[0]);
    ei_x_buff *x = bp_batch_add(b, "erlang", "process_info", 2);
    if (!x || bp_encode_pid(x, pid) < 0 || ei_x_encode_list_header(x, n_items) < 0)
        return BP_ENOMEM;
    for (long i = 0; i < n_items; i++)
        if (ei_x_encode_atom(x, items[i]) < 0)
            return BP_ENOMEM;
    if (ei_x_encode_empty_list(x) < 0)
        return BP_ENOMEM;
    at[0] = (int)bp_batch_count(b) - 1;
    bp_batch_get(b, (size_t)at[0])->block = 1; /* BIFs: rex answers itself, nothing spawned */

    x = bp_batch_add(b, "proc_lib", "translate_initial_call", 1);
    if (!x || bp_encode_pid(x, pid) < 0)
        return BP_ENOMEM;
    at[1] = (int)bp_batch_count(b) - 1;
    bp_batch_get(b, (size_t)at[1])->block = 1; /* reads the dictionary; sends nothing */
    return 0;
}

int bp_prockind_take(const bp_term *info, const bp_term *initial_call, bp_prockind *k)
{
    memset(k, 0, sizeof *k);
    k->message_queue_len = k->memory = -1;
    if (bp_term_is_atom(info, "undefined")) {
        k->kind = BP_PK_GONE;
        return 0;
    }
    if (!info || info->type != BP_T_LIST)
        return -1;
    const char *m, *f;
    int64_t a;
    if (bp_term_int(bp_term_prop(info, "message_queue_len"), &a) == 0)
        k->message_queue_len = a;
    if (bp_term_int(bp_term_prop(info, "memory"), &a) == 0)
        k->memory = a;
    const bp_term *reg = bp_term_prop(info, "registered_name");
    if (reg && reg->type == BP_T_ATOM)
        snprintf(k->registered, sizeof k->registered, "%s", reg->str);
    const bp_term *cf = bp_term_prop(info, "current_function");
    int hibernating = 0;
    if (mfa_of(cf, &m, &f, &a) == 0) {
        snprintf(k->where, sizeof k->where, "%s:%s/%lld", m, f, (long long)a);
        hibernating = strcmp(m, "erlang") == 0 && strcmp(f, "hibernate") == 0;
    }

    /* '$initial_call': {supervisor, Callback, 1}, {gen_event, init_it, 6}, {Callback, init, 1}, ...;
       {proc_lib, init_p, 5} means the process has none */
    int started_sup = 0, started_bridge = 0;
    if (mfa_of(initial_call, &m, &f, &a) == 0 && !(strcmp(m, "proc_lib") == 0 && strcmp(f, "init_p") == 0)) {
        started_sup = strcmp(m, "supervisor") == 0 && a == 1;
        started_bridge = strcmp(m, "supervisor_bridge") == 0 && a == 1;
        snprintf(k->module, sizeof k->module, "%s", started_sup || started_bridge ? f : m);
        k->init_fun_is_init = strcmp(f, "init") == 0 && a == 1;
        k->started_as_supervisor = started_sup;
        k->started_as_gen_event = strcmp(m, "gen_event") == 0 && strcmp(f, "init_it") == 0;
    }

    /* the innermost frame of a behaviour's own code says which loop the process returns to */
    const bp_term *st = bp_term_prop(info, "current_stacktrace");
    for (size_t i = 0; st && st->type == BP_T_LIST && i < st->n && k->kind == BP_PK_UNKNOWN; i++)
        if (mfa_of(&st->items[i], &m, &f, &a) == 0)
            k->kind = loop_kind(m, f);
    if (k->kind == BP_PK_GEN_SERVER && (started_sup || started_bridge))
        k->kind = started_sup ? BP_PK_SUPERVISOR : BP_PK_SUPERVISOR_BRIDGE;
    else if (k->kind == BP_PK_UNKNOWN && hibernating)
        k->kind = k->started_as_gen_event ? BP_PK_GEN_EVENT : BP_PK_HIBERNATED;
    else if (k->kind == BP_PK_UNKNOWN)
        k->kind = BP_PK_PLAIN;
    return 0;
}

int bp_prockind_plan_attrs(bp_batch *b, const bp_prockind *k, int *at)
{
    if (k->module[0] == '\0')
        return -1;
    ei_x_buff *x = bp_batch_add(b, "erlang", "get_module_info", 2);
    if (!x || ei_x_encode_atom(x, k->module) < 0 || ei_x_encode_atom(x, "attributes") < 0)
        return BP_ENOMEM;
    *at = (int)bp_batch_count(b) - 1;
    bp_batch_get(b, (size_t)*at)->block = 1; /* a BIF: badarg for a module not loaded, never a load */
    return 0;
}

/* Does the attribute list declare behaviour `name` (either spelling)? */
static int declares(const bp_term *attrs, const char *name)
{
    for (size_t i = 0; attrs && attrs->type == BP_T_LIST && i < attrs->n; i++) {
        const bp_term *kv = &attrs->items[i];
        if (!bp_term_is_tagged(kv, "behaviour", 2) && !bp_term_is_tagged(kv, "behavior", 2))
            continue;
        const bp_term *l = bp_term_elem(kv, 1);
        for (size_t j = 0; l && l->type == BP_T_LIST && j < l->n; j++)
            if (bp_term_is_atom(&l->items[j], name))
                return 1;
    }
    return 0;
}

void bp_prockind_take_attrs(const bp_term *attrs, bp_prockind *k)
{
    if (k->kind != BP_PK_HIBERNATED)
        return;
    /* started by gen as this module's callback process ({Mod, init, 1}) and the module is one */
    if (k->started_as_supervisor && declares(attrs, "supervisor"))
        k->kind = BP_PK_SUPERVISOR;
    else if (k->init_fun_is_init && declares(attrs, "gen_server"))
        k->kind = BP_PK_GEN_SERVER;
    else if (k->init_fun_is_init && declares(attrs, "gen_statem"))
        k->kind = BP_PK_GEN_STATEM;
    else
        k->kind = BP_PK_PLAIN;
}

int bp_prockind_handles_sys(const bp_prockind *k)
{
    return k->kind == BP_PK_GEN_SERVER || k->kind == BP_PK_GEN_STATEM || k->kind == BP_PK_GEN_EVENT
           || k->kind == BP_PK_SUPERVISOR || k->kind == BP_PK_SUPERVISOR_BRIDGE;
}

void bp_prockind_describe(const bp_prockind *k, char *out, size_t outlen)
{
    static const char *const names[] = {
        [BP_PK_GEN_SERVER] = "gen_server", [BP_PK_GEN_STATEM] = "gen_statem",
        [BP_PK_GEN_EVENT] = "gen_event", [BP_PK_SUPERVISOR] = "supervisor",
        [BP_PK_SUPERVISOR_BRIDGE] = "supervisor_bridge",
    };
    const char *in = k->where[0] ? k->where : "unknown function";
    switch (k->kind) {
    case BP_PK_GEN_SERVER: case BP_PK_GEN_STATEM: case BP_PK_GEN_EVENT: case BP_PK_SUPERVISOR:
    case BP_PK_SUPERVISOR_BRIDGE:
        if (k->module[0] && strcmp(k->module, names[k->kind]) != 0)
            snprintf(out, outlen, "%s %s", names[k->kind], k->module);
        else
            snprintf(out, outlen, "%s", names[k->kind]);
        return;
    case BP_PK_HIBERNATED:
        snprintf(out, outlen, "a hibernated process%s%s", k->module[0] ? " started as " : "", k->module);
        return;
    case BP_PK_PLAIN:
        if (k->module[0])
            snprintf(out, outlen, "a process of %s outside any OTP behaviour's loop (in %s)", k->module, in);
        else
            snprintf(out, outlen, "a plain process (in %s)", in);
        return;
    case BP_PK_GONE:
        snprintf(out, outlen, "a process that has exited");
        return;
    case BP_PK_UNKNOWN:
    default:
        snprintf(out, outlen, "a process of unknown kind");
        return;
    }
}
