/* nif_json.c: JSON text (the renderers' output) as Erlang terms: maps with binary keys, lists, numbers. */
#include "nif/nif.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

/* A real as the renderers print it (10 significant digits, bp_json_dump_doc) and JSON reads it back. */
static double as_printed(double d)
{
    char buf[40];
    int n = snprintf(buf, sizeof buf, "%.10g", d);
    return n > 0 && (size_t)n < sizeof buf ? strtod(buf, NULL) : d;
}

static ERL_NIF_TERM from_json(ErlNifEnv *env, json_t *j, int depth)
{
    if (depth > MAX_DEPTH)
        return 0;
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(j), i = 0;
        ERL_NIF_TERM *keys = enif_alloc((n + 1) * sizeof *keys), *vals = enif_alloc((n + 1) * sizeof *vals);
        ERL_NIF_TERM map = 0;
        const char *k;
        json_t *v;
        if (!keys || !vals)
            goto obj_out;
        json_object_foreach(j, k, v) {
            keys[i] = bp_nif_binary(env, k, strlen(k));
            vals[i] = from_json(env, v, depth + 1);
            if (!vals[i])
                goto obj_out;
            i++;
        }
        if (!enif_make_map_from_arrays(env, keys, vals, i, &map))
            map = 0;
    obj_out:
        enif_free(keys);
        enif_free(vals);
        return map;
    }
    case JSON_ARRAY: {
        ERL_NIF_TERM list = enif_make_list(env, 0);
        for (size_t i = json_array_size(j); i-- > 0;) {
            ERL_NIF_TERM t = from_json(env, json_array_get(j, i), depth + 1);
            if (!t)
                return 0;
            list = enif_make_list_cell(env, t, list);
        }
        return list;
    }
    case JSON_STRING:
        return bp_nif_binary(env, json_string_value(j), json_string_length(j));
    case JSON_INTEGER:
        return enif_make_int64(env, (ErlNifSInt64)json_integer_value(j));
    case JSON_REAL:
        return enif_make_double(env, as_printed(json_real_value(j)));
    case JSON_TRUE:
        return bp_atom.true;
    case JSON_FALSE:
        return bp_atom.false;
    case JSON_NULL:
        return bp_atom.null;
    }
    return 0;
}

ERL_NIF_TERM bp_nif_json_value(ErlNifEnv *env, json_t *j)
{
    return j ? from_json(env, j, 0) : 0;
}

ERL_NIF_TERM bp_nif_json_to_term(ErlNifEnv *env, const char *text)
{
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
    if (!j)
        return 0;
    ERL_NIF_TERM t = from_json(env, j, 0);
    json_decref(j);
    return t;
}
