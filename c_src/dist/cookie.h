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

#endif
