/* nif_remote.c: probe another node from inside the VM through the C distribution session (on a job thread). */
#include "nif/nif.h"

#include <string.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "dist/collect.h"
#include "dist/cookie.h"

/* The reason atom of a BP_E* code, as {error, {Reason, Message}} carries it. */
static ERL_NIF_TERM reason_atom(ErlNifEnv *env, int code)
{
    static const struct {
        int code;
        const char *name;
    } names[] = {
        { BP_ERESOLVE, "nxdomain" },       { BP_EEPMD, "epmd_unreachable" }, { BP_ENOTREG, "not_registered" },
        { BP_ECONNECT, "econnrefused" },   { BP_EHANDSHAKE, "handshake" },   { BP_EAUTH, "auth" },
        { BP_ETOOBIG, "too_big" },         { BP_EDECODE, "bad_reply" },      { BP_EIO, "closed" },
        { BP_EBUSY, "busy" },              { BP_ECOOKIE, "cookie" },         { BP_EUSAGE, "usage" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].code == code)
            return enif_make_atom(env, names[i].name);
    return enif_make_atom(env, "failed");
}

ERL_NIF_TERM bp_nif_cookie(ErlNifEnv *env, const bp_config *cfg, char *cookie, size_t len)
{
    char err[512];
    if (cookie[0])
        return 0;
    int rc = bp_cookie_load(cfg->cookie_file, cookie, len, err, sizeof err);
    return rc ? bp_nif_error(env, enif_make_tuple2(env, reason_atom(env, rc), bp_nif_binary(env, err, strlen(err)))) : 0;
}

/* A remote check's job: what its thread needs, owned by the job. */
typedef struct {
    const bp_config *cfg; /* its resource kept for the job */
    ErlNifResourceType *snapshot_type;
    int64_t deadline_ms; /* the call's timeout from when it was made, not from when its thread started */
    char node[BP_NAME_MAX], cookie[256];
} remote_job;

static void remote_job_free(void *arg)
{
    remote_job *rj = arg;
    bp_nif_config_release(rj->cfg);
    explicit_bzero(rj->cookie, sizeof rj->cookie);
    enif_free(rj);
}

/* The probe (name slot, EPMD, connect, handshake, rounds), by the call's deadline. */
static ERL_NIF_TERM remote_job_run(ErlNifEnv *env, void *arg)
{
    remote_job *rj = arg;
    ERL_NIF_TERM e = bp_nif_cookie(env, rj->cfg, rj->cookie, sizeof rj->cookie);
    if (e)
        return e;
    bp_snapshot *snap = bp_probe_node_until(rj->cfg, rj->node, rj->cookie, rj->deadline_ms);
    if (!snap)
        return 0;
    if (snap->connect.state != BP_FACT_OK) {
        int code = snap->connect_code;
        const char *msg = snap->connect.error ? snap->connect.error : "cannot connect";
        e = code == BP_ETIMEDOUT
                             ? bp_atom.timeout
                             : enif_make_tuple2(env, reason_atom(env, code), bp_nif_binary(env, msg, strlen(msg)));
        bp_snapshot_free(snap);
        return bp_nif_error(env, e);
    }
    ERL_NIF_TERM t = bp_nif_make_snapshot_of(env, rj->snapshot_type, snap);
    return t ? enif_make_tuple2(env, bp_atom.done, t) : 0;
}

/*
 * nif_check_remote(Config, Node, Cookie, Ref) -> {ok, Job} | {error, busy}.
 * The probe runs on a thread of its own (nif_jobs.h), which sends the caller
 * {Ref, {done, Snapshot} | {error, timeout} | {error, {Reason, Message}}}.
 */
ERL_NIF_TERM bp_nif_check_remote(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    remote_job *rj = enif_alloc(sizeof *rj);
    if (!rj)
        return bp_nif_error(env, bp_atom.enomem);
    rj->snapshot_type = bp_nif_priv_of(env)->snapshot;
    rj->cfg = NULL;
    if (!enif_is_ref(env, argv[3]) || !bp_nif_text(env, argv[1], rj->node, sizeof rj->node)
        || !bp_nif_text(env, argv[2], rj->cookie, sizeof rj->cookie)
        || !rj->node[0] /* alive@host, or a bare alive name: the node of that name on this host */
        || !(rj->cfg = bp_nif_config_keep(env, argv[0]))) {
        remote_job_free(rj);
        return enif_make_badarg(env);
    }
    rj->deadline_ms = bp_now_ms() + rj->cfg->timeout_ms;
    return bp_nif_job_start(env, argv[3], remote_job_run, remote_job_free, rj);
}
