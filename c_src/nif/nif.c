/* nif.c: the beamprobe NIF's entry points: load/upgrade/unload, cached atoms, resources, function table. */
#include "nif/nif.h"

#include <string.h>

#include "beamprobe.h"
#include "core/clock.h"

static char name_snapshot[] = "beamprobe_snapshot"; /* enif takes char * */

bp_nif_atoms bp_atom;

void bp_nif_consume(ErlNifEnv *env, int64_t t0_us)
{
    int64_t pct = (bp_now_us() - t0_us) / 10;
    if (pct > 0 && enif_thread_type() == ERL_NIF_THR_NORMAL_SCHEDULER)
        (void)enif_consume_timeslice(env, pct > 100 ? 100 : (int)pct);
}

ERL_NIF_TERM bp_nif_error(ErlNifEnv *env, ERL_NIF_TERM reason)
{
    return enif_make_tuple2(env, bp_atom.error, reason);
}

ERL_NIF_TERM bp_nif_binary(ErlNifEnv *env, const char *s, size_t len)
{
    ERL_NIF_TERM t;
    unsigned char *p = enif_make_new_binary(env, len, &t);
    if (!p)
        return enif_make_badarg(env);
    if (len)
        memcpy(p, s, len);
    return t;
}

int bp_nif_text(ErlNifEnv *env, ERL_NIF_TERM t, char *buf, size_t len)
{
    ErlNifBinary bin;
    if (len == 0)
        return 0;
    if (enif_is_atom(env, t))
        return enif_get_atom(env, t, buf, (unsigned)len, ERL_NIF_LATIN1) > 0;
    if (enif_is_binary(env, t) && enif_inspect_binary(env, t, &bin)) {
        if (bin.size >= len || memchr(bin.data, 0, bin.size))
            return 0;
        memcpy(buf, bin.data, bin.size);
        buf[bin.size] = '\0';
        return 1;
    }
    if (enif_is_list(env, t)) {
        int n = enif_get_string(env, t, buf, (unsigned)len, ERL_NIF_LATIN1);
        return n > 0 && strlen(buf) == (size_t)n - 1;
    }
    return 0;
}

/* ---------- resources ---------- */

void bp_nif_config_dtor(ErlNifEnv *env, void *obj)
{
    (void)env;
    (void)obj; /* plain memory, released by the VM */
}

void bp_nif_snapshot_dtor(ErlNifEnv *env, void *obj)
{
    (void)env;
    bp_nif_snapshot *r = obj;
    bp_snapshot_free(r->snap);
    r->snap = NULL;
    if (r->mu)
        enif_mutex_destroy(r->mu);
}

const bp_config *bp_nif_get_config(ErlNifEnv *env, ERL_NIF_TERM t)
{
    bp_nif_config *c;
    if (!enif_get_resource(env, t, bp_nif_priv_of(env)->config, (void **)&c))
        return NULL;
    return &c->cfg;
}

const bp_config *bp_nif_config_keep(ErlNifEnv *env, ERL_NIF_TERM t)
{
    bp_nif_config *c;
    if (!enif_get_resource(env, t, bp_nif_priv_of(env)->config, (void **)&c))
        return NULL;
    enif_keep_resource(c);
    return &c->cfg;
}

void bp_nif_config_release(const bp_config *cfg)
{
    if (cfg) /* cfg is the first member of its resource */
        enif_release_resource((void *)((const char *)cfg - offsetof(bp_nif_config, cfg)));
}

bp_nif_snapshot *bp_nif_get_snapshot(ErlNifEnv *env, ERL_NIF_TERM t)
{
    bp_nif_snapshot *r;
    return enif_get_resource(env, t, bp_nif_priv_of(env)->snapshot, (void **)&r) ? r : NULL;
}

ERL_NIF_TERM bp_nif_make_snapshot(ErlNifEnv *env, bp_snapshot *snap)
{
    return bp_nif_make_snapshot_of(env, bp_nif_priv_of(env)->snapshot, snap);
}

ERL_NIF_TERM bp_nif_make_snapshot_of(ErlNifEnv *env, ErlNifResourceType *type, bp_snapshot *snap)
{
    bp_nif_snapshot *r = enif_alloc_resource(type, sizeof *r);
    if (!r) {
        bp_snapshot_free(snap);
        return 0;
    }
    r->snap = snap;
    r->mu = enif_mutex_create(name_snapshot);
    ERL_NIF_TERM t = enif_make_resource(env, r);
    enif_release_resource(r); /* the term holds it now; the destructor frees snap */
    return r->mu ? t : 0;
}

bp_snapshot *bp_nif_take_snapshot(bp_nif_snapshot *r)
{
    enif_mutex_lock(r->mu);
    bp_snapshot *s = r->snap;
    r->snap = NULL;
    enif_mutex_unlock(r->mu);
    return s;
}

/* ---------- load ---------- */

static int open_types(ErlNifEnv *env, bp_nif_priv *p, ErlNifResourceFlags flags)
{
    p->config = enif_open_resource_type(env, NULL, "beamprobe_config", bp_nif_config_dtor, flags, NULL);
    p->snapshot = enif_open_resource_type(env, NULL, name_snapshot, bp_nif_snapshot_dtor, flags, NULL);
    p->agent = enif_open_resource_type(env, NULL, "beamprobe_agent", bp_nif_agent_dtor, flags, NULL);
    p->job = enif_open_resource_type(env, NULL, "beamprobe_job", NULL, flags, NULL);
    return p->config && p->snapshot && p->agent && p->job ? 0 : -1;
}

/* The load info is the cap on concurrent jobs (beamprobe.erl passes application env max_jobs). */
static int setup(ErlNifEnv *env, void **priv_data, ErlNifResourceFlags flags, ERL_NIF_TERM info)
{
    int max_jobs = 0;
    if (!enif_get_int(env, info, &max_jobs))
        max_jobs = 0; /* the default */
#define BP_NIF_ATOM_MAKE(a) bp_atom.a = enif_make_atom(env, #a);
    BP_NIF_ATOM_LIST(BP_NIF_ATOM_MAKE)
#undef BP_NIF_ATOM_MAKE
    bp_nif_priv *p = enif_alloc(sizeof *p);
    if (!p)
        return -1;
    memset(p, 0, sizeof *p);
    if (open_types(env, p, flags) != 0 || !(p->configs = bp_nif_config_cache_new())
        || !(p->jobs = bp_nif_jobs_new(max_jobs))) {
        bp_nif_config_cache_free(p->configs);
        enif_free(p);
        return -1;
    }
    *priv_data = p;
    return 0;
}

static int load(ErlNifEnv *env, void **priv_data, ERL_NIF_TERM info)
{
    return setup(env, priv_data, ERL_NIF_RT_CREATE, info);
}

/*
 * A new module version takes the resource types over, so live resources keep
 * their destructors. Its jobs are its own: the old version's threads stay
 * counted by the old version's data until its unload.
 */
static int upgrade(ErlNifEnv *env, void **priv_data, void **old_priv_data, ERL_NIF_TERM info)
{
    (void)old_priv_data;
    return setup(env, priv_data, ERL_NIF_RT_CREATE | ERL_NIF_RT_TAKEOVER, info);
}

/*
 * The module's code is going: wait for this instance's job threads to finish
 * and join them, so none runs on into unloaded code (each ends by its
 * probe's deadline, so this waits at most the longest timeout outstanding).
 */
static void unload(ErlNifEnv *env, void *priv_data)
{
    (void)env;
    bp_nif_priv *p = priv_data;
    bp_nif_jobs_free(p->jobs);
    bp_nif_config_cache_free(p->configs);
    enif_free(p);
}

/* nif_version() -> binary(): the version this NIF was built as (BP_VERSION, as `beamprobe --version`). */
static ERL_NIF_TERM nif_version(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    (void)argv;
    return bp_nif_binary(env, BP_VERSION, strlen(BP_VERSION));
}

static ErlNifFunc nif_funcs[] = {
    { "nif_version", 0, nif_version, 0 },
    { "nif_config", 1, bp_nif_config_new, 0 },
    { "nif_collect_step", 4, bp_nif_collect_step, 0 },
    { "nif_report", 3, bp_nif_report, 0 },
    { "nif_http", 3, bp_nif_http, 0 },
    { "nif_handle", 5, bp_nif_handle, 0 },
    { "nif_check_remote", 4, bp_nif_check_remote, 0 },
    { "nif_cluster", 3, bp_nif_cluster, 0 },
    { "nif_job_finish", 1, bp_nif_job_finish, 0 },
    { "nif_agent_start", 3, bp_nif_agent_start, ERL_NIF_DIRTY_JOB_IO_BOUND },
    { "nif_agent_publish", 2, bp_nif_agent_publish, 0 },
    { "nif_agent_pong", 2, bp_nif_agent_pong, 0 },
    { "nif_agent_stop", 1, bp_nif_agent_stop, ERL_NIF_DIRTY_JOB_IO_BOUND },
    { "nif_agent_info", 1, bp_nif_agent_info, 0 },
};

ERL_NIF_INIT(beamprobe, nif_funcs, load, NULL, upgrade, unload)
