/* cookie.c: load the distribution cookie from a private file or the environment, never argv. */
#include "dist/cookie.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beamprobe.h"
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

static int load_file(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
    char buf[BP_COOKIE_MAX + 2];
    int rc = BP_ECOOKIE;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open cookie file %s: %s (use --cookie-file or BEAMPROBE_COOKIE)",
                 path, strerror(errno));
        return rc;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "cookie file %s is not a regular file", path);
        goto out;
    }
    if (st.st_mode & 077) {
        snprintf(err, errlen, "cookie file %s is accessible by group or others (mode %04o); "
                 "run: chmod 400 %s", path, (unsigned)(st.st_mode & 07777), path);
        goto out;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n < 0) {
        snprintf(err, errlen, "cannot read cookie file %s: %s", path, strerror(errno));
        goto out;
    }
    buf[n] = '\0';
    if ((size_t)n > BP_COOKIE_MAX && memchr(buf, '\n', (size_t)n) == NULL) {
        snprintf(err, errlen, "cookie in %s is longer than %d bytes", path, BP_COOKIE_MAX);
        goto out;
    }
    if (clean_cookie(buf) != 0 || strlen(buf) >= outlen) {
        snprintf(err, errlen, "cookie file %s is empty or unusable", path);
        goto out;
    }
    bp_strlcpy(out, buf, outlen);
    rc = 0;
out:
    explicit_bzero(buf, sizeof buf);
    close(fd);
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
