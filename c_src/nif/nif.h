/* nif.h: what the NIF's files share: cached atoms, resource types and small term helpers. */
#ifndef BP_NIF_H
#define BP_NIF_H

#include <erl_nif.h>
#include <stddef.h>

#include "core/config.h"
#include "core/snapshot.h"
#include "nif/nif_jobs.h"

/* Atoms made once at load (atoms live as long as the VM: safe across upgrades). */
#define BP_NIF_ATOM_LIST(X)                                                                            \
    X(ok) X(error) X(true) X(false) X(null) X(undefined) X(bad_option) X(calls) X(done) X(reply)       \
    X(timeout) X(live) X(ready) X(startup) X(full) X(map) X(json) X(text) X(enomem) X(badarg)          \
    X(block) X(spawn) X(not_running) X(already_running) X(eio) X(usage) X(busy) X(cancelled)  \
    X(answered) X(interval) X(invalid)

typedef struct {
#define BP_NIF_ATOM_FIELD(a) ERL_NIF_TERM a;
    BP_NIF_ATOM_LIST(BP_NIF_ATOM_FIELD)
#undef BP_NIF_ATOM_FIELD
} bp_nif_atoms;

extern bp_nif_atoms bp_atom;

typedef struct bp_nif_config_cache bp_nif_config_cache;

/* Per-module-instance data (enif_priv_data): the resource types, the jobs' threads, the parsed options. */
typedef struct {
    ErlNifResourceType *config;
    ErlNifResourceType *snapshot;
    ErlNifResourceType *agent;
    ErlNifResourceType *job;
    bp_nif_jobs *jobs;
    bp_nif_config_cache *configs;
} bp_nif_priv;

/* A parsed option map: an immutable configuration. */
typedef struct {
    bp_config cfg;
} bp_nif_config;

/* The config cache (nif_config_cache.c): NULL on OOM. */
bp_nif_config_cache *bp_nif_config_cache_new(void);
void bp_nif_config_cache_free(bp_nif_config_cache *c);
/* The resource term of an option map identical to `opts` parsed before (its config in *cfg), or 0. */
ERL_NIF_TERM bp_nif_config_cache_get(bp_nif_config_cache *c, ErlNifEnv *env, ERL_NIF_TERM opts,
                                     const bp_config **cfg);
/* Remember res (a valid configuration) as the parse of opts, evicting the oldest entry. */
void bp_nif_config_cache_put(bp_nif_config_cache *c, ERL_NIF_TERM opts, bp_nif_config *res);

/* A collected snapshot; `snap` is taken (set to NULL) when a site adopts it. */
typedef struct {
    ErlNifMutex *mu;
    bp_snapshot *snap;
} bp_nif_snapshot;

static inline bp_nif_priv *bp_nif_priv_of(ErlNifEnv *env)
{
    return (bp_nif_priv *)enif_priv_data(env);
}

/*
 * Charge the calling process for the time a NIF took since t0_us
 * (bp_now_us), so a process calling the API back to back yields its
 * scheduler as often as Erlang code doing the same work would (a timeslice
 * is about 1 ms: 10 µs = 1%).
 */
void bp_nif_consume(ErlNifEnv *env, int64_t t0_us);

/* {error, Reason} */
ERL_NIF_TERM bp_nif_error(ErlNifEnv *env, ERL_NIF_TERM reason);
/* A binary holding a copy of s[0..len). */
ERL_NIF_TERM bp_nif_binary(ErlNifEnv *env, const char *s, size_t len);
/* The text of an atom, binary or flat charlist into buf (NUL-terminated, no NUL inside): 1 or 0. */
int bp_nif_text(ErlNifEnv *env, ERL_NIF_TERM t, char *buf, size_t len);
/* The config resource behind t, or NULL. */
const bp_config *bp_nif_get_config(ErlNifEnv *env, ERL_NIF_TERM t);
/* The snapshot resource behind t, or NULL. */
bp_nif_snapshot *bp_nif_get_snapshot(ErlNifEnv *env, ERL_NIF_TERM t);
/* A new snapshot resource owning snap (freed on failure): the term, or 0 on OOM. */
ERL_NIF_TERM bp_nif_make_snapshot(ErlNifEnv *env, bp_snapshot *snap);
/* The same with the resource type given: for a job's thread, whose env has no priv data. */
ERL_NIF_TERM bp_nif_make_snapshot_of(ErlNifEnv *env, ErlNifResourceType *type, bp_snapshot *snap);
/* The config resource behind t, kept (held) until bp_nif_config_release: for a job's thread. */
const bp_config *bp_nif_config_keep(ErlNifEnv *env, ERL_NIF_TERM t);
void bp_nif_config_release(const bp_config *cfg);
/* Take the snapshot out of its resource (NULL if already taken). */
bp_snapshot *bp_nif_take_snapshot(bp_nif_snapshot *r);
/* A JSON text as an Erlang term: objects become maps with binary keys, strings binaries,
 * true/false/null atoms. 0 (not a term) if the text is not JSON. */
ERL_NIF_TERM bp_nif_json_to_term(ErlNifEnv *env, const char *text);
/* The same for a JSON value (not taken); reals as its text would give them (10 significant digits). */
struct json_t;
ERL_NIF_TERM bp_nif_json_value(ErlNifEnv *env, struct json_t *j);

/* What a site answers to GET path: {Status, Body} (nif_report.c). */
struct bp_site;
ERL_NIF_TERM bp_nif_site_answer(ErlNifEnv *env, struct bp_site *site, const char *path);
/* A site for cfg with `node` as its one target, guarded by the bearer token if not NULL (NULL on OOM). */
struct bp_site *bp_nif_site_for(const bp_config *cfg, const char *node, const char *token);

/*
 * The cookie for a probe: `cookie` as given (this VM's), or when it is empty
 * the configuration's cookie_file read as the CLI reads it. 0 when cookie
 * holds one, else the {error, {Reason, Message}} term to return.
 */
ERL_NIF_TERM bp_nif_cookie(ErlNifEnv *env, const bp_config *cfg, char *cookie, size_t len);

/* The NIF functions, one per file group. */
ERL_NIF_TERM bp_nif_config_new(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM bp_nif_collect_step(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM bp_nif_report(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM bp_nif_http(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM bp_nif_handle(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM bp_nif_check_remote(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM bp_nif_cluster(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM bp_nif_agent_start(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM bp_nif_agent_publish(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM bp_nif_agent_pong(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM bp_nif_agent_stop(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM bp_nif_agent_info(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);

/* Resource destructors (registered at load). */
void bp_nif_config_dtor(ErlNifEnv *env, void *obj);
void bp_nif_snapshot_dtor(ErlNifEnv *env, void *obj);
void bp_nif_agent_dtor(ErlNifEnv *env, void *obj);

#endif
