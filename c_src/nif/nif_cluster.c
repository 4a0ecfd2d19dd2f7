/* nif_cluster.c: the cluster report from inside the VM: discovery, every node probed at once, the mesh (dirty I/O). */
#include "nif/nif.h"

#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "core/render_cluster.h"
#include "dist/cluster_round.h"
#include "discover/targets.h"

/*
 * nif_cluster(Config, Cookie) -> Map | {error, {discovery, Message}} | {error, enomem}:
 * the map of `beamprobe cluster --json` (one round; no --wait).
 */
ERL_NIF_TERM bp_nif_cluster(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    const bp_config *cfg0 = bp_nif_get_config(env, argv[0]);
    char cookie[256], err[600];
    if (!cfg0 || !bp_nif_text(env, argv[1], cookie, sizeof cookie))
        return enif_make_badarg(env);
    ERL_NIF_TERM e = bp_nif_cookie(env, cfg0, cookie, sizeof cookie);
    if (e)
        return e;
    bp_config *cfg = enif_alloc(sizeof *cfg);
    if (!cfg)
        return bp_nif_error(env, bp_atom.enomem);
    *cfg = *cfg0;
    cfg->probe = BP_PROBE_READY;
    ERL_NIF_TERM result;
    bp_nodeset targets = { 0 };
    bp_cluster_round *r = NULL;
    char *json = NULL;
    if (bp_targets_resolve(cfg, bp_now_ms() + cfg->timeout_ms, &targets, err, sizeof err) != 0) {
        result = bp_nif_error(env, enif_make_tuple2(env, enif_make_atom(env, "discovery"),
                                                      bp_nif_binary(env, err, strlen(err))));
        goto out;
    }
    r = bp_cluster_round_run(cfg, &targets, cookie, NULL);
    json = r ? bp_render_cluster_json(&r->mesh, r->in, r->n, 0) : NULL;
    result = json ? bp_nif_json_to_term(env, json) : 0;
    if (!result)
        result = bp_nif_error(env, bp_atom.enomem);
out:
    explicit_bzero(cookie, sizeof cookie);
    free(json);
    bp_cluster_round_free(r);
    bp_nodeset_free(&targets);
    enif_free(cfg);
    return result;
}
