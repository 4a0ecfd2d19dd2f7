/* config_file.c: load settings from a JSON file through the same option table as argv. */
#include "core/config_file.h"

#include <jansson.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"

__attribute__((format(printf, 4, 5)))
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* One JSON scalar as the text bp_config_set expects; 0 or -1. */
static int scalar_text(const json_t *v, char *out, size_t outlen)
{
    switch (json_typeof(v)) {
    case JSON_STRING: {
        size_t n = json_string_length(v);
        if (n >= outlen || memchr(json_string_value(v), '\0', n))
            return -1;
        memcpy(out, json_string_value(v), n + 1);
        return 0;
    }
    case JSON_INTEGER:
        snprintf(out, outlen, "%lld", (long long)json_integer_value(v));
        return 0;
    case JSON_REAL:
        snprintf(out, outlen, "%.15g", json_real_value(v));
        return 0;
    case JSON_TRUE:
        snprintf(out, outlen, "true");
        return 0;
    case JSON_FALSE:
        snprintf(out, outlen, "false");
        return 0;
    default:
        return -1;
    }
}

static int set_one(bp_config *c, const char *key, const json_t *v, const char *origin, char *err, size_t errlen)
{
    char text[1024], why[400];
    if (scalar_text(v, text, sizeof text) != 0)
        return fail(err, errlen, BP_ECONFIG, "%s: key \"%s\" needs a string, number or boolean", origin, key);
    const bp_config_option *o = bp_config_option_find(key);
    if (o && o->kind == BP_OPT_DURATION && json_is_integer(v)) /* a number of milliseconds */
        snprintf(text, sizeof text, "%lldms", (long long)json_integer_value(v));
    if (bp_config_set(c, key, text, why, sizeof why) != 0)
        return fail(err, errlen, BP_EUSAGE, "%s: %s", origin, why);
    return 0;
}

int bp_config_load_json(bp_config *c, const char *text, size_t len, const char *origin, char *err, size_t errlen)
{
    json_error_t je;
    int rc = 0;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        char where[300];
        snprintf(where, sizeof where, "%s:%d:%d", origin, je.line, je.column);
        /* jansson names its own flags ("without JSON_ALLOW_NUL"): say it in the file's terms */
        const char *why = strstr(je.text, "JSON_ALLOW_NUL") ? "a string holds \\u0000 (NUL), which no setting may"
                                                            : je.text;
        return fail(err, errlen, BP_ECONFIG, "%s: invalid JSON: %s", where, why);
    }
    if (!json_is_object(root)) {
        rc = fail(err, errlen, BP_ECONFIG, "%s: expected a JSON object of option names", origin);
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        const bp_config_option *o = bp_config_option_find(key);
        if (!o || o->kind == BP_OPT_REFUSED || strcmp(key, "config") == 0) {
            rc = o ? fail(err, errlen, BP_ECONFIG, "%s: key \"%s\" is not allowed in a config file", origin, key)
                   : fail(err, errlen, BP_ECONFIG, "%s: unknown key \"%s\"", origin, key);
            goto out;
        }
        if (json_is_array(v)) {
            if (o->kind != BP_OPT_LIST) {
                rc = fail(err, errlen, BP_ECONFIG, "%s: key \"%s\" takes one value, not a list", origin, key);
                goto out;
            }
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e) {
                if ((rc = set_one(c, key, e, origin, err, errlen)) != 0)
                    goto out;
            }
        } else if ((rc = set_one(c, key, v, origin, err, errlen)) != 0) {
            goto out;
        }
    }
out:
    json_decref(root);
    return rc;
}

int bp_config_load_file(bp_config *c, const char *path, char *err, size_t errlen)
{
    char *buf = malloc(BP_CONFIG_FILE_MAX + 1);
    if (!buf)
        return fail(err, errlen, BP_ENOMEM, "out of memory");
    FILE *f = fopen(path, "rb");
    int rc;
    if (!f) {
        rc = fail(err, errlen, BP_ECONFIG, "cannot read config file %s: %s", path, strerror(errno));
        goto out;
    }
    size_t n = fread(buf, 1, BP_CONFIG_FILE_MAX + 1, f);
    int bad = ferror(f) ? errno : 0;
    (void)fclose(f); /* read-only: nothing to lose; a read error is ferror's */
    if (bad)
        rc = fail(err, errlen, BP_ECONFIG, "cannot read config file %s: %s", path,
                  bad == EISDIR ? "it is a directory" : strerror(bad));
    else if (n > BP_CONFIG_FILE_MAX)
        rc = fail(err, errlen, BP_ECONFIG, "config file %s is larger than 1 MiB", path);
    else
        rc = bp_config_load_json(c, buf, n, path, err, errlen);
out:
    free(buf);
    return rc;
}
