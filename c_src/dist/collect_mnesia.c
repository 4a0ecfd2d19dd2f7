/* collect_mnesia.c: --mnesia: is mnesia loaded and running, on which db nodes, and has every table a loaded copy. */
#include <stdio.h>
#include <string.h>

#include "beamprobe.h"
#include "dist/collect_int.h"

/*
 * Three steps, one round each, so that nothing loads code on the target:
 *   1. erlang:module_loaded(mnesia)                 (a BIF: a node without mnesia stays so)
 *   2. mnesia:system_info(is_running | db_nodes | running_db_nodes | tables)
 *   3. mnesia:table_info(T, where_to_read) per table, only while mnesia runs
 * (ETS reads of mnesia's own; db_nodes may read the schema when mnesia is stopped: spawned).
 */
enum { MN_LOADED = 1, MN_INFO, MN_TABLES, MN_DONE };
enum { I_RUNNING, I_DB, I_RUNNING_DB, I_TABLES };

static const char *const info_keys[4] = { "is_running", "db_nodes", "running_db_nodes", "tables" };

int bp__mnesia_plan(bp__collector *c, bp_batch *b)
{
    if (!c->cfg->mnesia || c->cfg->probe != BP_PROBE_READY)
        return 0;
    if (c->mn_stage == 0) {
        c->mn_stage = MN_LOADED;
        c->snap->mnesia_tables = -1;
        ei_x_buff *x = bp__add_call(b, "erlang", "module_loaded", 1, &c->mn_at[0]);
        if (!x || ei_x_encode_atom(x, "mnesia") < 0)
            return BP_ENOMEM;
        bp_batch_get(b, (size_t)c->mn_at[0])->block = 1;
    } else if (c->mn_stage == MN_INFO) {
        for (int k = 0; k < 4; k++) {
            ei_x_buff *x = bp__add_call(b, "mnesia", "system_info", 1, &c->mn_at[k]);
            if (!x || ei_x_encode_atom(x, info_keys[k]) < 0)
                return BP_ENOMEM;
            bp_batch_get(b, (size_t)c->mn_at[k])->block = k != I_DB;
        }
    } else if (c->mn_stage == MN_TABLES) {
        const bp_term *t = c->mn_tables;
        c->mn_at[0] = (int)bp_batch_count(b);
        for (size_t i = 0; i < t->n && i < BP__MN_TABLES_MAX; i++) {
            int at;
            ei_x_buff *x = bp__add_call(b, "mnesia", "table_info", 2, &at);
            if (!x || ei_x_encode_atom(x, t->items[i].str) < 0 || ei_x_encode_atom(x, "where_to_read") < 0)
                return BP_ENOMEM;
            bp_batch_get(b, (size_t)at)->block = 1;
        }
    }
    return 0;
}

/* The tables list is valid only while its batch lives: keep the names for step 3. */
static const bp_term *keep_tables(bp__collector *c, const bp_term *t)
{
    bp_term *copy = bp_arena_alloc(c->snap->arena, sizeof *copy);
    size_t n = 0;
    for (size_t i = 0; t->type == BP_T_LIST && i < t->n; i++)
        n += t->items[i].type == BP_T_ATOM;
    if (!copy || !(copy->items = bp_arena_alloc(c->snap->arena, (n + 1) * sizeof *copy->items)))
        return NULL;
    copy->type = BP_T_LIST;
    copy->n = 0;
    for (size_t i = 0; t->type == BP_T_LIST && i < t->n; i++) {
        if (t->items[i].type != BP_T_ATOM)
            continue;
        bp_term *e = &copy->items[copy->n++];
        memset(e, 0, sizeof *e);
        e->type = BP_T_ATOM;
        e->str = bp_arena_strdup(c->snap->arena, t->items[i].str);
        if (!e->str)
            return NULL;
    }
    return copy;
}

static void take_info(bp__collector *c, bp_batch *b)
{
    bp_snapshot *s = c->snap;
    bp_fact *f = &s->mnesia;
    const bp_term *running = bp__reply_of(c, b, c->mn_at[I_RUNNING], f);
    const bp_term *db = bp__reply_of(c, b, c->mn_at[I_DB], f);
    const bp_term *rdb = bp__reply_of(c, b, c->mn_at[I_RUNNING_DB], f);
    bp_fact scratch = { 0 }; /* system_info(tables) exits while mnesia is stopped: not a failure */
    const bp_term *tables = bp__reply_of(c, b, c->mn_at[I_TABLES], &scratch);
    c->mn_stage = MN_DONE;
    if (!running || !db || !rdb)
        return;
    if (running->type != BP_T_ATOM || bp__names_of(c, db, &s->mnesia_db_nodes, NULL) != 0
        || bp__names_of(c, rdb, &s->mnesia_running_nodes, NULL) != 0) {
        bp_fact_fail(s, f, BP_FACT_ERROR, "unexpected reply to mnesia:system_info/1");
        return;
    }
    s->mnesia_running = bp_arena_strdup(s->arena, running->str);
    if (tables && (tables->type == BP_T_LIST || tables->type == BP_T_NIL)) {
        s->mnesia_tables = (int64_t)tables->n;
        if (bp_term_is_atom(running, "yes") && tables->n > 0 && (c->mn_tables = keep_tables(c, tables)))
            c->mn_stage = MN_TABLES;
    }
    s->mnesia_unloaded.v = bp_arena_alloc(s->arena, (tables && tables->n ? tables->n : 1) * sizeof(char *));
    bp__fact_ok(f);
}

static void take_tables(bp__collector *c, bp_batch *b)
{
    bp_snapshot *s = c->snap;
    const bp_term *t = c->mn_tables;
    c->mn_stage = MN_DONE;
    for (size_t i = 0; i < t->n && i < BP__MN_TABLES_MAX && s->mnesia_unloaded.v; i++) {
        bp_fact scratch = { 0 };
        const bp_term *where = bp__reply_of(c, b, c->mn_at[0] + (int)i, &scratch);
        if (bp_term_is_atom(where, "nowhere"))
            s->mnesia_unloaded.v[s->mnesia_unloaded.n++] = t->items[i].str;
    }
}

void bp__mnesia_take(bp__collector *c, bp_batch *b)
{
    if (!c->cfg->mnesia || c->cfg->probe != BP_PROBE_READY || c->mn_stage == MN_DONE)
        return;
    switch (c->mn_stage) {
    case MN_LOADED: {
        const bp_term *loaded = bp__reply_of(c, b, c->mn_at[0], &c->snap->mnesia);
        c->mn_stage = MN_DONE;
        if (bp_term_is_atom(loaded, "true")) {
            c->mn_stage = MN_INFO;
        } else if (loaded) {
            c->snap->mnesia_running = "not loaded";
            c->snap->mnesia.state = BP_FACT_OK;
        }
        break;
    }
    case MN_INFO: take_info(c, b); break;
    case MN_TABLES: take_tables(c, b); break;
    default: break;
    }
}
