/* nif_config.c: an Erlang option map (the CLI's flag names and defaults) into a config resource. */
#include "nif/nif.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The value of one option as the CLI would have received it; 0 for a wrong Erlang type. */
static int scalar_text(ErlNifEnv *env, const bp_config_option *o, ERL_NIF_TERM v, char *buf, size_t len)
{
    ErlNifSInt64 i;
    double d;
    switch (o->kind) {
    case BP_OPT_SWITCH:
        if (enif_is_identical(v, bp_atom.true) || enif_is_identical(v, bp_atom.false))
            return enif_get_atom(env, v, buf, (unsigned)len, ERL_NIF_LATIN1) > 0;
        return 0;
    case BP_OPT_INT:
        if (enif_get_int64(env, v, &i)) {
            snprintf(buf, len, "%" PRId64, (int64_t)i);
            return 1;
        }
        /* text as the CLI takes it (<<"3">>, "3"), as durations and sizes are: the parser judges it */
        return enif_is_atom(env, v) || enif_is_number(env, v) ? 0 : bp_nif_text(env, v, buf, len);
    case BP_OPT_DURATION:
    case BP_OPT_BYTES:
    case BP_OPT_RATIO:
    case BP_OPT_NUMBER:
        if (enif_get_int64(env, v, &i)) {
            if (i < 0)
                return -1; /* the right type, an impossible value */
            /* an integer duration is milliseconds, as Erlang timeouts are */
            snprintf(buf, len, "%" PRId64 "%s", (int64_t)i, o->kind == BP_OPT_DURATION ? "ms" : "");
            return 1;
        }
        if (o->kind != BP_OPT_DURATION && o->kind != BP_OPT_BYTES && enif_get_double(env, v, &d)) {
            snprintf(buf, len, "%.15g", d);
            return 1;
        }
        return enif_is_atom(env, v) ? 0 : bp_nif_text(env, v, buf, len);
    case BP_OPT_STRING:
    case BP_OPT_PROBE:
    case BP_OPT_LIST:
    case BP_OPT_REFUSED:
        return bp_nif_text(env, v, buf, len);
    }
    return 0;
}

/* Apply one key => value. 0 ok, 1 bad value (bad_option), -1 wrong type (badarg). */
static int apply_one(ErlNifEnv *env, bp_config *c, const bp_config_option *o, ERL_NIF_TERM v)
{
    char text[1200];
    if (o->kind == BP_OPT_REFUSED)
        return 1;
    if (o->kind == BP_OPT_LIST && enif_is_list(env, v) && !bp_nif_text(env, v, text, sizeof text)) {
        /* a list of entries: atoms, binaries or strings, each applied like a repeated flag */
        ERL_NIF_TERM head, tail = v;
        if (enif_is_empty_list(env, v))
            return 1;
        while (enif_get_list_cell(env, tail, &head, &tail)) {
            if (!bp_nif_text(env, head, text, sizeof text))
                return -1;
            if (bp_config_set(c, o->name, text, NULL, 0) != 0)
                return 1;
        }
        return 0;
    }
    int t = scalar_text(env, o, v, text, sizeof text);
    if (t <= 0)
        return t < 0 ? 1 : -1;
    return bp_config_set(c, o->name, text, NULL, 0) != 0;
}

/* What beamprobe.erl needs to know of a configuration: its timings in ms. */
static ERL_NIF_TERM settings(ErlNifEnv *env, const bp_config *c)
{
    ERL_NIF_TERM keys[] = { bp_atom.timeout, bp_atom.interval };
    ERL_NIF_TERM vals[] = { enif_make_int(env, c->timeout_ms), enif_make_int(env, c->interval_ms) };
    ERL_NIF_TERM m;
    return enif_make_map_from_arrays(env, keys, vals, 2, &m) ? m : enif_make_new_map(env);
}

/*
 * nif_config(Map) -> {ok, Config, #{timeout, interval}} | {error, {bad_option, Key}} | {error, {invalid, Why}}.
 * Keys are atoms named like the long flags with '_' for '-' (governor_timeout);
 * a key that is not an atom or a value of the wrong type raises badarg.
 */
ERL_NIF_TERM bp_nif_config_new(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    ErlNifMapIterator it;
    ERL_NIF_TERM key, value, result;
    (void)argc;
    if (!enif_is_map(env, argv[0]))
        return enif_make_badarg(env);
    bp_nif_config_cache *cache = bp_nif_priv_of(env)->configs;
    const bp_config *known;
    ERL_NIF_TERM cached = bp_nif_config_cache_get(cache, env, argv[0], &known);
    if (cached)
        return enif_make_tuple3(env, bp_atom.ok, cached, settings(env, known));
    bp_nif_config *r = enif_alloc_resource(bp_nif_priv_of(env)->config, sizeof *r);
    if (!r)
        return bp_nif_error(env, bp_atom.enomem);
    bp_config_defaults(&r->cfg);
    if (!enif_map_iterator_create(env, argv[0], &it, ERL_NIF_MAP_ITERATOR_FIRST)) {
        enif_release_resource(r);
        return enif_make_badarg(env);
    }
    result = 0;
    while (!result && enif_map_iterator_get_pair(env, &it, &key, &value)) {
        char name[64];
        if (!enif_is_atom(env, key) || enif_get_atom(env, key, name, sizeof name, ERL_NIF_LATIN1) <= 0) {
            result = enif_is_atom(env, key) ? bp_nif_error(env, enif_make_tuple2(env, bp_atom.bad_option, key))
                                            : enif_make_badarg(env);
            break;
        }
        for (char *p = name; *p; p++)
            if (*p == '_')
                *p = '-';
        const bp_config_option *o = bp_config_option_find(name);
        /* --top is `beamprobe check`'s alone: its request would run in the agent's own process */
        if (o && strncmp(o->name, "top", 3) == 0)
            o = NULL;
        int rc = o ? apply_one(env, &r->cfg, o, value) : 1;
        if (rc < 0)
            result = enif_make_badarg(env);
        else if (rc > 0)
            result = bp_nif_error(env, enif_make_tuple2(env, bp_atom.bad_option, key));
        enif_map_iterator_next(env, &it);
    }
    enif_map_iterator_destroy(env, &it);
    if (!result) {
        char err[512];
        bp_config_finish(&r->cfg);
        if (bp_config_validate(&r->cfg, err, sizeof err) != 0)
            result = bp_nif_error(env, enif_make_tuple2(env, bp_atom.invalid, bp_nif_binary(env, err, strlen(err))));
        else {
            result = enif_make_tuple3(env, bp_atom.ok, enif_make_resource(env, r), settings(env, &r->cfg));
            bp_nif_config_cache_put(cache, argv[0], r);
        }
    }
    enif_release_resource(r);
    return result;
}
