/* cookie.h: load the distribution cookie from a private file or the environment, never argv. */
#ifndef BP_COOKIE_H
#define BP_COOKIE_H

#include <stddef.h>

#define BP_COOKIE_MAX 255

/*
 * Load the cookie. Precedence: an explicit cookie_file (non-empty), then the
 * BEAMPROBE_COOKIE environment variable, then ~/.erlang.cookie. Like erl, a
 * cookie file readable or writable by group or others is refused. The first
 * line is used, trailing whitespace stripped. Returns 0 or BP_ECOOKIE with a
 * message in err (which never contains the cookie).
 */
int bp_cookie_load(const char *cookie_file, char *out, size_t outlen, char *err, size_t errlen);

/*
 * The rules above on the first n bytes of a cookie file (n at most
 * BP_COOKIE_MAX + 1, so a longer first line is seen; buf[n] is NUL, the
 * content may hold NULs of its own). buf is modified. Returns 0 with the
 * cookie in out, or BP_ECOOKIE with a message naming path (never the cookie).
 */
int bp_cookie_check(const char *path, char *buf, size_t n, char *out, size_t outlen, char *err, size_t errlen);

#endif
