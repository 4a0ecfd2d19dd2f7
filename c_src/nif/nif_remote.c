/* nif_remote.c: probe another node from inside the VM through the C distribution session (dirty I/O). */
#include "nif/nif.h"

#include <string.h>

#include "beamprobe.h"
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

/*
 * nif_check_remote(Config, Node, Cookie) -> {done, Snapshot} | {error, timeout}
 *   | {error, {Reason, Message}}. Runs on a dirty I/O scheduler: the whole
 * probe (name slot, EPMD, connect, handshake, rounds) is bounded by the
 * configuration's timeout, as `beamprobe check` is.
 */
ERL_NIF_TERM bp_nif_check_remote(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    const bp_config *cfg = bp_nif_get_config(env, argv[0]);
    char node[BP_NAME_MAX], cookie[256];
    if (!cfg || !bp_nif_text(env, argv[1], node, sizeof node) || !bp_nif_text(env, argv[2], cookie, sizeof cookie)
        || !node[0]) /* alive@host, or a bare alive name: the node of that name on this host */
        return enif_make_badarg(env);
    ERL_NIF_TERM e = bp_nif_cookie(env, cfg, cookie, sizeof cookie);
    if (e)
        return e;
    bp_snapshot *snap = bp_probe_node(cfg, node, cookie);
    explicit_bzero(cookie, sizeof cookie);
    if (!snap)
        return bp_nif_error(env, bp_atom.enomem);
    if (snap->connect.state != BP_FACT_OK) {
        int code = snap->connect_code;
        const char *msg = snap->connect.error ? snap->connect.error : "cannot connect";
        e = code == BP_ETIMEDOUT
                             ? bp_atom.timeout
                             : enif_make_tuple2(env, reason_atom(env, code), bp_nif_binary(env, msg, strlen(msg)));
        bp_snapshot_free(snap);
        return bp_nif_error(env, e);
    }
    ERL_NIF_TERM t = bp_nif_make_snapshot(env, snap);
    return t ? enif_make_tuple2(env, bp_atom.done, t) : bp_nif_error(env, bp_atom.enomem);
}
