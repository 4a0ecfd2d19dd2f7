/* cookie.c: load the distribution cookie from a private file or the environment, never argv. */
#include "dist/cookie.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"
#include "core/secret_file.h"
#include "core/str.h"

/* Keep the first line, without trailing whitespace; 0 or -1 if empty. */
static int clean_cookie(char *s)
{
    s[strcspn(s, "\r\n")] = '\0';
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return n > 0 ? 0 : -1;
}

static const bp_secret_kind cookie_kind = { .what = "cookie file", .chmod = "400",
                                            .open_hint = " (use --cookie-file or BEAMPROBE_COOKIE)" };

int bp_cookie_check(const char *path, char *buf, size_t n, char *out, size_t outlen, char *err, size_t errlen)
{
    if (n > BP_COOKIE_MAX && memchr(buf, '\n', n) == NULL) {
        snprintf(err, errlen, "cookie in %s is longer than %d bytes", path, BP_COOKIE_MAX);
        return BP_ECOOKIE;
    }
    if (clean_cookie(buf) != 0 || strlen(buf) >= outlen) {
        snprintf(err, errlen, "cookie file %s is empty or unusable", path);
        return BP_ECOOKIE;
    }
    bp_strlcpy(out, buf, outlen);
    return 0;
}

static int load_file(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
    char buf[BP_COOKIE_MAX + 2];
    size_t n;
    int more, rc = BP_ECOOKIE;
    if (bp_secret_file_read(path, &cookie_kind, buf, sizeof buf - 1, &n, &more, err, errlen) == 0)
        rc = bp_cookie_check(path, buf, n, out, outlen, err, errlen);
    explicit_bzero(buf, sizeof buf);
    return rc;
}

int bp_cookie_load(const char *cookie_file, char *out, size_t outlen, char *err, size_t errlen)
{
    if (cookie_file && *cookie_file)
        return load_file(cookie_file, out, outlen, err, errlen);
    const char *env = getenv("BEAMPROBE_COOKIE");
    if (env && *env) {
        char buf[BP_COOKIE_MAX + 1];
        if (strlen(env) > BP_COOKIE_MAX || strlen(env) >= outlen) {
            snprintf(err, errlen, "BEAMPROBE_COOKIE is longer than %d bytes", BP_COOKIE_MAX);
            return BP_ECOOKIE;
        }
        snprintf(buf, sizeof buf, "%s", env);
        int bad = clean_cookie(buf);
        if (!bad)
            bp_strlcpy(out, buf, outlen);
        explicit_bzero(buf, sizeof buf);
        if (bad) {
            snprintf(err, errlen, "BEAMPROBE_COOKIE is empty");
            return BP_ECOOKIE;
        }
        return 0;
    }
    const char *home = getenv("HOME");
    if (!home || !*home) {
        snprintf(err, errlen, "no cookie: HOME is not set; use --cookie-file or BEAMPROBE_COOKIE");
        return BP_ECOOKIE;
    }
    char path[1024];
    if (snprintf(path, sizeof path, "%s/.erlang.cookie", home) >= (int)sizeof path) {
        snprintf(err, errlen, "HOME is too long");
        return BP_ECOOKIE;
    }
    return load_file(path, out, outlen, err, errlen);
}
