/* json_util.c: shared jansson helpers: UTF-8 repair, null for unknown numbers, inserts that track OOM. */
#include "core/json_util.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

size_t bp_utf8_seq_len(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned int min, cp;
    if ((c & 0xE0) == 0xC0) {
        n = 2, min = 0x80, cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, min = 0x800, cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, min = 0x10000, cp = c & 0x07u;
    } else {
        return 0;
    }
    if (n > left)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static int utf8_valid(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t n = bp_utf8_seq_len((const unsigned char *)s + i, len - i);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

/* Copy of s[len] with every invalid byte replaced by U+FFFD (malloc'd, NUL-terminated), or NULL on OOM. */
static char *utf8_repair(const char *s, size_t len)
{
    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    char *out = malloc(len * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = bp_utf8_seq_len((const unsigned char *)s + i, len - i);
        if (n == 0) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
        }
    }
    out[o] = '\0';
    return out;
}

json_t *bp_json_string_utf8(const char *s)
{
    if (!s)
        return json_null();
    size_t len = strlen(s);
    if (utf8_valid(s, len))
        return json_stringn(s, len);
    char *clean = utf8_repair(s, len);
    if (!clean)
        return NULL;
    json_t *v = json_string(clean);
    free(clean);
    return v;
}

json_t *bp_json_int_or_null(int64_t v)
{
    return v < 0 ? json_null() : json_integer((json_int_t)v);
}

void bp_json_put(int *oom, json_t *obj, const char *key, json_t *v)
{
    if (!obj || !v) {
        json_decref(v);
        *oom = 1;
        return;
    }
    size_t len = strlen(key);
    if (utf8_valid(key, len)) {
        if (json_object_set_new(obj, key, v) != 0) /* takes v even when it fails */
            *oom = 1;
        return;
    }
    char *clean = utf8_repair(key, len);
    if (!clean) {
        json_decref(v);
        *oom = 1;
        return;
    }
    if (json_object_set_new(obj, clean, v) != 0)
        *oom = 1;
    free(clean);
}

void bp_json_append(int *oom, json_t *arr, json_t *v)
{
    if (!arr || !v) {
        json_decref(v);
        *oom = 1;
        return;
    }
    if (json_array_append_new(arr, v) != 0) /* takes v even when it fails */
        *oom = 1;
}

char *bp_json_dump_doc(json_t *doc, int oom, int pretty)
{
    char *out = NULL;
    if (!oom && doc) {
        size_t flags = JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10) | (pretty ? JSON_INDENT(2) : JSON_COMPACT);
        out = json_dumps(doc, flags);
    }
    json_decref(doc);
    return out;
}

json_t *bp_json_timestamp(int64_t ms)
{
    if (ms <= 0)
        return json_null();
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&sec, &tm))
        return json_null();
    char buf[128];
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    return json_string(buf);
}
