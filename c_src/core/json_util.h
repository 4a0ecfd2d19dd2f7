/* json_util.h: shared jansson helpers: UTF-8 repair, null for unknown numbers, inserts that track OOM. */
#ifndef BP_JSON_UTIL_H
#define BP_JSON_UTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at s (RFC 3629; left > 0 bytes readable), or 0 if it is not one. */
size_t bp_utf8_seq_len(const unsigned char *s, size_t left);

/*
 * A JSON string of s with every byte that is not part of a valid UTF-8
 * sequence replaced by U+FFFD (jansson refuses invalid UTF-8, and wire
 * strings may hold any bytes); JSON null for NULL; NULL when out of memory.
 */
json_t *bp_json_string_utf8(const char *s);

/* Unix time ms as "2026-12-04T23:14:00.123Z", or JSON null when unknown (<= 0). */
json_t *bp_json_timestamp(int64_t ms);

/* v as a JSON integer, or JSON null when unknown (v < 0). */
json_t *bp_json_int_or_null(int64_t v);

/*
 * Set obj[key] = v, taking v in every case (a key that is not valid UTF-8 is
 * repaired as above). *oom is set when obj or v is NULL or the insert fails.
 */
void bp_json_put(int *oom, json_t *obj, const char *key, json_t *v);

/* Append v to arr, taking v in every case; *oom is set when arr or v is NULL or the append fails. */
void bp_json_append(int *oom, json_t *arr, json_t *v);

/*
 * The document's text (the caller frees it): keys in insertion order, reals to
 * 10 significant digits, indented by 2 when pretty, else compact. NULL when oom
 * is set or serialising fails. Frees doc in every case.
 */
char *bp_json_dump_doc(json_t *doc, int oom, int pretty);

#endif
