/* discover.c: name-list helpers shared by the discovery sources, and discovery through EPMD's NAMES. */
#include "discover/discover.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"
#include "dist/epmd.h"
#include "dist/resolve.h"

int bp__disc_err(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        if (n < 0)
            err[0] = '\0';
    }
    return code;
}

int bp__disc_add(bp_nodeset *l, const char *alive, const char *host)
{
    char name[BP_NAME_MAX];
    int n = snprintf(name, sizeof name, "%s@%s", alive, host);
    if (n < 0 || (size_t)n >= sizeof name)
        return BP_EUSAGE;
    return bp_nodeset_add(l, name);
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int bp__disc_basename_match(const char *alive, const char *basename)
{
    size_t n = strlen(basename);
    if (n == 0 || strncmp(alive, basename, n) != 0)
        return 0;
    char next = alive[n];
    return next == '\0' || next == '-' || next == '_' || is_digit(next);
}

static int is_alive_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '-';
}

int bp__disc_alive_ok(const char *s)
{
    size_t n = 0;
    if (!s)
        return 0;
    for (; s[n]; n++)
        if (!is_alive_char(s[n]) || n >= 255)
            return 0;
    return n > 0;
}

int bp__disc_host_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.')
        return 0;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if (!is_alive_char(s[i]) || ++label > 63) {
            return 0;
        }
    }
    return 1;
}

int bp__disc_label_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || is_digit(s[i]) || s[i] == '-'))
            return 0;
    return 1;
}

/* ---------- EPMD ---------- */

/* A NAMES body is at most 64 KiB (epmd.c) and a line at least 17 bytes: this takes them all. */
#define EPMD_NAMES_CAP 4096

int bp_discover_epmd(const char *host, const char *basename, int64_t deadline_ms, bp_nodeset *out, char *err,
                     size_t errlen)
{
    char (*names)[256] = NULL;
    int rc;
    bp_nodeset_clear(out);
    struct in6_addr v6;
    if (!bp__disc_host_ok(host) && !(host && inet_pton(AF_INET6, host, &v6) == 1)) {
        rc = bp__disc_err(err, errlen, BP_EUSAGE, "'%s' is not a host name or IP address",
                          host ? host : "");
        goto out;
    }
    if (basename && *basename && !bp__disc_alive_ok(basename)) {
        rc = bp__disc_err(err, errlen, BP_EUSAGE,
                          "node basename '%s' must be letters, digits, '_' and '-' (the part before '@')", basename);
        goto out;
    }
    bp__addr addr;
    rc = bp__resolve_addr(host, AF_UNSPEC, deadline_ms, &addr);
    if (rc == BP_ETIMEDOUT) {
        rc = bp__disc_err(err, errlen, rc, "resolving %s did not finish before the deadline", host);
        goto out;
    }
    if (rc) {
        rc = bp__disc_err(err, errlen, rc, "host %s does not resolve", host);
        goto out;
    }
    names = calloc(EPMD_NAMES_CAP, sizeof *names);
    if (!names) {
        rc = bp__disc_err(err, errlen, BP_ENOMEM, "out of memory");
        goto out;
    }
    size_t count = 0;
    rc = bp__epmd_names(&addr, deadline_ms, names, NULL, EPMD_NAMES_CAP, &count);
    if (rc == BP_ETIMEDOUT) {
        rc = bp__disc_err(err, errlen, rc, "EPMD on %s:%d did not answer NAMES before the deadline",
                          host, bp__epmd_port());
        goto out;
    }
    if (rc) {
        rc = bp__disc_err(err, errlen, BP_EEPMD,
                          "no EPMD answered on %s:%d (nothing listening, or not EPMD)", host,
                          bp__epmd_port());
        goto out;
    }
    for (size_t i = 0; i < count && rc == 0; i++) {
        if (!bp__disc_alive_ok(names[i]))
            continue; /* EPMD accepts names no Erlang node name can have */
        if (basename && *basename && !bp__disc_basename_match(names[i], basename))
            continue;
        rc = bp__disc_add(out, names[i], host);
        if (rc == BP_EUSAGE) /* name@host over 255 bytes: cannot be a node name */
            rc = 0;
    }
    bp_nodeset_sort(out);
    if (rc == BP_ETOOBIG)
        rc = bp__disc_err(err, errlen, rc, "more than %zu nodes%s%s registered on %s", bp_nodeset_limit(out),
                          basename && *basename ? " named " : "", basename && *basename ? basename : "", host);
    else if (rc == BP_ENOMEM)
        rc = bp__disc_err(err, errlen, rc, "out of memory");
out:
    free(names);
    return rc;
}
