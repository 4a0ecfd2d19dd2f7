/* nif_cluster.c: the cluster report from inside the VM: discovery, every node probed at once, the mesh (on a job thread). */
#include "nif/nif.h"

#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "core/render_cluster.h"
#include "dist/cluster_round.h"
#include "discover/targets.h"

/*
 * What a round leaves of its deadline to judge the nodes, analyse the mesh
 * and render: a tenth of the timeout, at most this. Many rounds ending at
 * once share the CPU for that part (50 rounds under ASan on 2 cores took
 * about 60 ms).
 */
#define CLUSTER_RENDER_RESERVE_MS 100

/* A cluster job: the configuration (kept; the thread copies it), the cookie, the deadline. */
typedef struct {
    const bp_config *cfg0;
    bp_config *cfg;      /* the thread's copy (160 KiB: not made on a scheduler) */
    char cookie[256];
    int64_t deadline_ms; /* the call's timeout from when it was made, not from when its thread started */
} cluster_job;

static void cluster_job_free(void *arg)
{
    cluster_job *cj = arg;
    bp_nif_config_release(cj->cfg0);
    enif_free(cj->cfg);
    explicit_bzero(cj->cookie, sizeof cj->cookie);
    enif_free(cj);
}

/*
 * Discovery and the round share one deadline, the configuration's timeout
 * from the call: the probes get what discovery has left of it, less the
 * reserve for judging and rendering, so the report is ready by the deadline.
 */
static ERL_NIF_TERM cluster_job_run(ErlNifEnv *env, void *arg)
{
    cluster_job *cj = arg;
    bp_config *cfg = cj->cfg = enif_alloc(sizeof *cfg);
    char err[600];
    if (!cfg)
        return 0;
    *cfg = *cj->cfg0;
    cfg->probe = BP_PROBE_READY;
    ERL_NIF_TERM e = bp_nif_cookie(env, cfg, cj->cookie, sizeof cj->cookie);
    if (e)
        return e;
    ERL_NIF_TERM result = 0;
    bp_nodeset targets = { 0 };
    bp_cluster_round *r = NULL;
    char *json = NULL;
    int64_t deadline = cj->deadline_ms;
    int reserve = cfg->timeout_ms / 10 < CLUSTER_RENDER_RESERVE_MS ? cfg->timeout_ms / 10 : CLUSTER_RENDER_RESERVE_MS;
    if (bp_targets_resolve(cfg, deadline, &targets, err, sizeof err) != 0) {
        result = bp_nif_error(env, enif_make_tuple2(env, enif_make_atom(env, "discovery"),
                                                      bp_nif_binary(env, err, strlen(err))));
        goto out;
    }
    int left = bp_remaining_ms(deadline) - reserve;
    cfg->timeout_ms = left > 0 ? left : 1;
    if (cfg->governor_timeout_ms > cfg->timeout_ms)
        cfg->governor_timeout_ms = cfg->timeout_ms;
    r = bp_cluster_round_run(cfg, &targets, cj->cookie, NULL);
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
    cluster_job *cj = enif_alloc(sizeof *cj);
    if (!cj)
        return bp_nif_error(env, bp_atom.enomem);
    cj->cfg = NULL;
    cj->cfg0 = NULL;
    if (!enif_is_ref(env, argv[2]) || !bp_nif_text(env, argv[1], cj->cookie, sizeof cj->cookie)
        || !(cj->cfg0 = bp_nif_config_keep(env, argv[0]))) {
        cluster_job_free(cj);
        return enif_make_badarg(env);
    }
    cj->deadline_ms = bp_now_ms() + cj->cfg0->timeout_ms;
    return bp_nif_job_start(env, argv[2], cluster_job_run, cluster_job_free, cj);
}
