/* nif_report.c: a snapshot judged by the shared policy and rendered: a map, JSON, text, or an HTTP answer. */
#include "nif/nif.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/report.h"
#include "http/site.h"

/*
 * nif_report(Config, Snapshot, map | json | text) -> Map | Binary | {error, Reason}.
 * The map is the JSON of `beamprobe check --json` decoded (binary keys).
 */
ERL_NIF_TERM bp_nif_report(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    const bp_config *cfg = bp_nif_get_config(env, argv[0]);
    bp_nif_snapshot *sr = bp_nif_get_snapshot(env, argv[1]);
    int as_map = enif_is_identical(argv[2], bp_atom.map), as_json = enif_is_identical(argv[2], bp_atom.json);
    if (!cfg || !sr || (!as_map && !as_json && !enif_is_identical(argv[2], bp_atom.text)))
        return enif_make_badarg(env);
    ERL_NIF_TERM result;
    int64_t t0 = bp_now_us();
    enif_mutex_lock(sr->mu);
    if (!sr->snap) {
        enif_mutex_unlock(sr->mu);
        return enif_make_badarg(env); /* adopted by a site already */
    }
    bp_report rep;
    char *out = NULL;
    if (bp_evaluate(sr->snap, cfg, &rep) == 0)
        out = as_map || as_json ? bp_render_json(&rep, 0) : bp_render_text(&rep);
    if (!out)
        result = bp_nif_error(env, bp_atom.enomem);
    else if (as_map)
        result = bp_nif_json_to_term(env, out);
    else
        result = bp_nif_binary(env, out, strlen(out));
    enif_mutex_unlock(sr->mu);
    free(out);
    bp_nif_consume(env, t0);
    return result ? result : bp_nif_error(env, bp_atom.enomem);
}

bp_site *bp_nif_site_for(const bp_config *cfg, const char *node, const char *token)
{
    char target[1][BP_NAME_MAX];
    snprintf(target[0], sizeof target[0], "%s", node);
    return bp_site_new(cfg, (const char (*)[BP_NAME_MAX])target, 1, token);
}

/* Answer one GET from a site, copying the body (and its tail) into a binary. */
ERL_NIF_TERM bp_nif_site_answer(ErlNifEnv *env, bp_site *site, const char *path)
{
    bp_http_request req = { .method = "GET", .method_len = 3, .path = path, .path_len = strlen(path) };
    bp_http_response resp;
    memset(&resp, 0, sizeof resp);
    bp_site_handle(site, &req, &resp);
    ERL_NIF_TERM body;
    unsigned char *p = enif_make_new_binary(env, resp.body_len + resp.tail_len, &body);
    if (p) {
        if (resp.body_len)
            memcpy(p, resp.body, resp.body_len);
        if (resp.tail_len)
            memcpy(p + resp.body_len, resp.tail, resp.tail_len);
    }
    if (resp.release)
        resp.release(resp.hold);
    if (!p)
        return bp_nif_error(env, bp_atom.enomem);
    return enif_make_tuple2(env, enif_make_int(env, resp.status), body);
}

/*
 * nif_http(Config, Snapshot, Path) -> {Status, Body}: what `beamprobe serve`
 * would answer on Path with this snapshot as its latest (a one-off site; the
 * snapshot is adopted by it and cannot be used again).
 */
ERL_NIF_TERM bp_nif_http(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    const bp_config *cfg = bp_nif_get_config(env, argv[0]);
    bp_nif_snapshot *sr = bp_nif_get_snapshot(env, argv[1]);
    char path[64];
    if (!cfg || !sr || !bp_nif_text(env, argv[2], path, sizeof path))
        return enif_make_badarg(env);
    int64_t t0 = bp_now_us();
    bp_snapshot *snap = bp_nif_take_snapshot(sr);
    if (!snap)
        return enif_make_badarg(env);
    bp_site *site = bp_nif_site_for(cfg, bp_snapshot_target(snap), NULL);
    if (!site) {
        bp_snapshot_free(snap);
        return bp_nif_error(env, bp_atom.enomem);
    }
    bp_site_set_quiet(site, 1); /* a one-off answer: no state to report changes of */
    bp_site_publish(site, snap);
    ERL_NIF_TERM t = bp_nif_site_answer(env, site, path);
    bp_site_free(site);
    bp_nif_consume(env, t0);
    return t;
}
