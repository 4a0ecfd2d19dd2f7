/* nif_report.c: a snapshot judged by the shared policy and rendered: a map, JSON, text, or an HTTP answer. */
#include "nif/nif.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/render_json.h"
#include "core/report.h"
#include "core/token_file.h"
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
    json_t *doc = NULL;
    int judged = bp_evaluate(sr->snap, cfg, &rep) == 0;
    if (judged && as_map) /* the map straight from the document: no text printed and parsed again */
        doc = bp_report_json(&rep);
    else if (judged)
        out = as_json ? bp_render_json(&rep, 0) : bp_render_text(&rep);
    if (doc)
        result = bp_nif_json_value(env, doc);
    else if (out)
        result = bp_nif_binary(env, out, strlen(out));
    else
        result = bp_nif_error(env, bp_atom.enomem);
    enif_mutex_unlock(sr->mu);
    json_decref(doc);
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

/* The body (and its tail) of a response as a binary, or 0 on OOM. */
static ERL_NIF_TERM body_of(ErlNifEnv *env, const bp_http_response *resp, int head)
{
    ERL_NIF_TERM body;
    size_t n = head ? 0 : resp->body_len + resp->tail_len;
    unsigned char *p = enif_make_new_binary(env, n, &body);
    if (!p)
        return 0;
    if (n && resp->body_len)
        memcpy(p, resp->body, resp->body_len);
    if (n && resp->tail_len)
        memcpy(p + resp->body_len, resp->tail, resp->tail_len);
    return body;
}

/* Answer one GET from a site, copying the body (and its tail) into a binary. */
ERL_NIF_TERM bp_nif_site_answer(ErlNifEnv *env, bp_site *site, const char *path)
{
    bp_http_request req = { .method = "GET", .method_len = 3, .path = path, .path_len = strlen(path) };
    bp_http_response resp;
    memset(&resp, 0, sizeof resp);
    bp_site_handle(site, &req, &resp);
    ERL_NIF_TERM body = body_of(env, &resp, 0);
    if (resp.release)
        resp.release(resp.hold);
    if (!body)
        return bp_nif_error(env, bp_atom.enomem);
    return enif_make_tuple2(env, enif_make_int(env, resp.status), body);
}

/* A site of this snapshot's node for cfg, guarded by its auth_token_file, to answer req; NULL with *err set. */
static bp_site *one_off_site(ErlNifEnv *env, const bp_config *cfg, bp_snapshot *snap, const bp_http_request *req,
                             ERL_NIF_TERM *err)
{
    char token[BP_TOKEN_MAX + 1], msg[256];
    int have_token = cfg->auth_token_file[0] != '\0'; /* read as strictly as serve reads it */
    if (have_token && bp_token_file_load(cfg->auth_token_file, token, sizeof token, msg, sizeof msg) != 0) {
        *err = bp_nif_error(env, enif_make_tuple2(env, bp_atom.usage, bp_nif_binary(env, msg, strlen(msg))));
        return NULL;
    }
    /* a one-off answer: quiet, and metrics or cluster view built only if the route asks */
    bp_site *site = bp_site_new_once(cfg, bp_snapshot_target(snap), have_token ? token : NULL,
                                     bp_site_route_wants_report(req));
    explicit_bzero(token, sizeof token);
    if (!site)
        *err = bp_nif_error(env, bp_atom.enomem);
    return site;
}

/* The header lines of a response ("Name: Value\r\n"...) as [{<<"name">>, <<"Value">>}], names lower-cased. */
static ERL_NIF_TERM header_list(ErlNifEnv *env, const bp_http_response *resp)
{
    ERL_NIF_TERM list = enif_make_list(env, 0);
    const char *h = resp->headers, *end = resp->headers + resp->headers_len;
    ERL_NIF_TERM items[16];
    size_t n = 0;
    if (resp->content_type)
        items[n++] = enif_make_tuple2(env, bp_nif_binary(env, "content-type", 12),
                                      bp_nif_binary(env, resp->content_type, strlen(resp->content_type)));
    while (h < end && n < sizeof items / sizeof items[0]) {
        const char *eol = memchr(h, '\r', (size_t)(end - h));
        const char *colon = memchr(h, ':', (size_t)(end - h));
        if (!eol || !colon || colon > eol)
            break;
        char name[64];
        size_t nl = (size_t)(colon - h);
        if (nl >= sizeof name)
            nl = sizeof name - 1;
        for (size_t i = 0; i < nl; i++)
            name[i] = (char)(h[i] >= 'A' && h[i] <= 'Z' ? h[i] - 'A' + 'a' : h[i]);
        const char *v = colon + 1;
        while (v < eol && *v == ' ')
            v++;
        items[n++] = enif_make_tuple2(env, bp_nif_binary(env, name, nl), bp_nif_binary(env, v, (size_t)(eol - v)));
        h = eol + 2;
    }
    while (n > 0)
        list = enif_make_list_cell(env, items[--n], list);
    return list;
}

/*
 * nif_handle(Config, Snapshot, Method, Target, Authorization) ->
 *     {Status, [{Name, Value}], Body} | {error, Reason}:
 * what `beamprobe serve` answers to Method Target (path and query) with this
 * snapshot as its latest, by serve's own routing (bp_site_handle). Method,
 * Target and Authorization are binaries (Authorization <<>>: none). For HEAD
 * the body is empty, as serve sends it. The snapshot is adopted.
 */
ERL_NIF_TERM bp_nif_handle(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    const bp_config *cfg = bp_nif_get_config(env, argv[0]);
    bp_nif_snapshot *sr = bp_nif_get_snapshot(env, argv[1]);
    ErlNifBinary method, target, auth;
    if (!cfg || !sr || !enif_inspect_binary(env, argv[2], &method) || !enif_inspect_binary(env, argv[3], &target)
        || !enif_inspect_binary(env, argv[4], &auth) || target.size == 0)
        return enif_make_badarg(env);
    int64_t t0 = bp_now_us();
    bp_snapshot *snap = bp_nif_take_snapshot(sr);
    if (!snap)
        return enif_make_badarg(env);
    const char *t = (const char *)target.data;
    const char *q = memchr(t, '?', target.size);
    bp_http_request req = {
        .method = (const char *)method.data, .method_len = method.size,
        .path = t, .path_len = q ? (size_t)(q - t) : target.size,
        .query = q ? q + 1 : NULL, .query_len = q ? target.size - (size_t)(q - t) - 1 : 0,
        .authorization = auth.size ? (const char *)auth.data : NULL, .authorization_len = auth.size,
    };
    req.head = req.method_len == 4 && memcmp(req.method, "HEAD", 4) == 0;
    ERL_NIF_TERM err = 0;
    bp_site *site = one_off_site(env, cfg, snap, &req, &err);
    if (!site) {
        bp_snapshot_free(snap);
        return err;
    }
    bp_site_publish(site, snap);
    bp_http_response resp;
    memset(&resp, 0, sizeof resp);
    bp_site_handle(site, &req, &resp);
    int status = resp.status >= 200 && resp.status <= 599 ? resp.status : 500; /* as the server does */
    ERL_NIF_TERM body = body_of(env, &resp, req.head);
    ERL_NIF_TERM headers = header_list(env, &resp);
    if (resp.release)
        resp.release(resp.hold);
    bp_site_free(site);
    bp_nif_consume(env, t0);
    if (!body)
        return bp_nif_error(env, bp_atom.enomem);
    return enif_make_tuple3(env, enif_make_int(env, status), headers, body);
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
    bp_http_request req = { .method = "GET", .method_len = 3, .path = path, .path_len = strlen(path) };
    /* quiet; the aggregates and the full report rendered only if this path shows them */
    bp_site *site = bp_site_new_once(cfg, bp_snapshot_target(snap), NULL, bp_site_route_wants_report(&req));
    if (!site) {
        bp_snapshot_free(snap);
        return bp_nif_error(env, bp_atom.enomem);
    }
    bp_site_publish(site, snap);
    ERL_NIF_TERM t = bp_nif_site_answer(env, site, path);
    bp_site_free(site);
    bp_nif_consume(env, t0);
    return t;
}
