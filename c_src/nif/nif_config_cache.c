/* nif_config_cache.c: the last few option maps and their parsed config resources, shared by every scheduler. */
#include "nif/nif.h"

#include <string.h>

/*
 * A configuration is a pure function of its option map (nif_config reads no
 * file and no environment), so a map identical to one parsed before
 * (enif_is_identical: same keys, same values, same types) gets the same
 * immutable resource back. Entries are replaced round-robin; each holds a
 * copy of its map in an env of its own and a reference to its resource, so
 * a resource lives while the cache or any caller's term holds it. One mutex,
 * held for a few comparisons of small maps.
 */
#define SLOTS 4

typedef struct {
    ErlNifEnv *env;       /* holds opts; NULL while the slot is empty */
    ERL_NIF_TERM opts;
    bp_nif_config *res;   /* referenced by the slot */
} slot;

struct bp_nif_config_cache {
    ErlNifMutex *mu;
    unsigned next;        /* the slot to replace next */
    slot s[SLOTS];
};

static char name_cache[] = "beamprobe_config_cache"; /* enif takes char * */

bp_nif_config_cache *bp_nif_config_cache_new(void)
{
    bp_nif_config_cache *c = enif_alloc(sizeof *c);
    if (!c)
        return NULL;
    memset(c, 0, sizeof *c);
    if (!(c->mu = enif_mutex_create(name_cache))) {
        enif_free(c);
        return NULL;
    }
    return c;
}

static void slot_clear(slot *e)
{
    if (e->res)
        enif_release_resource(e->res);
    if (e->env)
        enif_free_env(e->env);
    memset(e, 0, sizeof *e);
}

void bp_nif_config_cache_free(bp_nif_config_cache *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < SLOTS; i++)
        slot_clear(&c->s[i]);
    enif_mutex_destroy(c->mu);
    enif_free(c);
}

ERL_NIF_TERM bp_nif_config_cache_get(bp_nif_config_cache *c, ErlNifEnv *env, ERL_NIF_TERM opts,
                                     const bp_config **cfg)
{
    ERL_NIF_TERM t = 0;
    enif_mutex_lock(c->mu);
    for (unsigned i = 0; i < SLOTS && !t; i++)
        if (c->s[i].res && enif_is_identical(c->s[i].opts, opts)) {
            t = enif_make_resource(env, c->s[i].res); /* the term's own reference: safe past eviction */
            *cfg = &c->s[i].res->cfg;
        }
    enif_mutex_unlock(c->mu);
    return t;
}

void bp_nif_config_cache_put(bp_nif_config_cache *c, ERL_NIF_TERM opts, bp_nif_config *res)
{
    ErlNifEnv *own = enif_alloc_env();
    if (!own)
        return; /* not cached: the next call parses again */
    ERL_NIF_TERM copy = enif_make_copy(own, opts);
    enif_keep_resource(res);
    enif_mutex_lock(c->mu);
    slot old = c->s[c->next];
    c->s[c->next] = (slot){ .env = own, .opts = copy, .res = res };
    c->next = (c->next + 1) % SLOTS;
    enif_mutex_unlock(c->mu);
    slot_clear(&old); /* outside the lock: may run the resource's destructor */
}
