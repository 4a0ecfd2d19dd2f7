/* nif_cluster.c: the cluster report from inside the VM: discovery, every node probed at once, the mesh (on a job thread). */
#include "nif/nif.h"

#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "core/render_cluster.h"
#include "dist/cluster_round.h"
#include "dist/targets.h"

/* A cluster job: a copy of the configuration (the round probes for readiness) and the cookie. */
typedef struct {
    bp_config cfg;
    char cookie[256];
} cluster_job;

static void cluster_job_free(void *arg)
{
    cluster_job *cj = arg;
    explicit_bzero(cj->cookie, sizeof cj->cookie);
    enif_free(cj);
}

/*
 * Discovery and the round share one deadline, the configuration's timeout
 * from now: the probes get what discovery has left of it.
 */
static ERL_NIF_TERM cluster_job_run(ErlNifEnv *env, void *arg)
{
    cluster_job *cj = arg;
    bp_config *cfg = &cj->cfg;
    char err[600];
    ERL_NIF_TERM e = bp_nif_cookie(env, cfg, cj->cookie, sizeof cj->cookie);
    if (e)
        return e;
    ERL_NIF_TERM result = 0;
    bp_nodeset targets = { 0 };
    bp_cluster_round *r = NULL;
    char *json = NULL;
    int64_t deadline = bp_now_ms() + cfg->timeout_ms;
    if (bp_targets_resolve(cfg, deadline, &targets, err, sizeof err) != 0) {
        result = bp_nif_error(env, enif_make_tuple2(env, enif_make_atom(env, "discovery"),
                                                      bp_nif_binary(env, err, strlen(err))));
        goto out;
    }
    int left = bp_remaining_ms(deadline);
    cfg->timeout_ms = left > 0 ? left : 1;
    if (cfg->governor_timeout_ms > cfg->timeout_ms)
        cfg->governor_timeout_ms = cfg->timeout_ms;
    r = bp_cluster_round_run(cfg, &targets, cj->cookie);
    json = r ? bp_render_cluster_json(&r->mesh, r->in, r->n, 0) : NULL;
    result = json ? bp_nif_json_to_term(env, json) : 0;
out:
    free(json);
    bp_cluster_round_free(r);
    bp_nodeset_free(&targets);
    return result;
}

/*
 * nif_cluster(Config, Cookie, Ref) -> {ok, Job} | {error, busy}. The job's
 * thread sends the caller {Ref, Map | {error, {discovery, Message}} |
 * {error, enomem}}: Map is that of `beamprobe cluster --json` (one round; no --wait).
 */
ERL_NIF_TERM bp_nif_cluster(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    const bp_config *cfg0 = bp_nif_get_config(env, argv[0]);
    if (!cfg0 || !enif_is_ref(env, argv[2]))
        return enif_make_badarg(env);
    cluster_job *cj = enif_alloc(sizeof *cj);
    if (!cj)
        return bp_nif_error(env, bp_atom.enomem);
    if (!bp_nif_text(env, argv[1], cj->cookie, sizeof cj->cookie)) {
        cluster_job_free(cj);
        return enif_make_badarg(env);
    }
    cj->cfg = *cfg0;
    cj->cfg.probe = BP_PROBE_READY;
    return bp_nif_job_start(env, argv[2], cluster_job_run, cluster_job_free, cj);
}
