/* epmd.c: a small EPMD client (PORT_PLEASE2 and NAMES) with deadlines. */
#include "dist/epmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "beamprobe.h"
#include "dist/net.h"

#define EPMD_PORT2_REQ 122
#define EPMD_PORT2_RESP 119
#define EPMD_NAMES_REQ 110
#define EPMD_NAMES_MAX_BODY (64 * 1024)

int bp__epmd_port(void)
{
    const char *env = getenv("ERL_EPMD_PORT");
    if (env && *env) {
        char *end;
        long p = strtol(env, &end, 10);
        if (*end == '\0' && p > 0 && p < 65536)
            return (int)p;
    }
    return 4369;
}

static const char NOT_REACHABLE[] = "not reachable";
static const char CLOSED[] = "closed the connection without a full answer";
static const char NOT_EPMD[] = "answered something that is not EPMD's protocol";

static int epmd_connect(const bp__addr *addr, int64_t deadline_ms, int *fd)
{
    int rc = bp__tcp_connect(addr, bp__epmd_port(), deadline_ms, fd, NULL);
    return rc == BP_ETIMEDOUT ? rc : rc ? BP_EEPMD : 0;
}

static int io_rc(int rc)
{
    return rc == BP_ETIMEDOUT ? rc : rc ? BP_EEPMD : 0;
}

/* Connect to EPMD, send one request and read the fixed-size head of the reply; *fd stays open. */
static int epmd_request(const bp__addr *addr, const void *req, size_t reqlen, void *head, size_t headlen,
                        int64_t deadline_ms, int *fd, const char **why)
{
    int rc = epmd_connect(addr, deadline_ms, fd);
    *why = NOT_REACHABLE;
    if (rc == 0)
        rc = io_rc(bp__write_full(*fd, req, reqlen, deadline_ms));
    if (rc == 0) {
        *why = CLOSED;
        rc = io_rc(bp__read_full(*fd, head, headlen, deadline_ms, NULL));
    }
    return rc;
}

int bp__epmd_port_please(const bp__addr *addr, const char *alive, int64_t deadline_ms, int *port,
                         const char **why)
{
    const char *scratch;
    if (!why)
        why = &scratch;
    size_t n = strlen(alive);
    if (n == 0 || n > 255)
        return BP_ENOTREG;
    unsigned char req[2 + 1 + 255];
    req[0] = (unsigned char)((n + 1) >> 8);
    req[1] = (unsigned char)((n + 1) & 0xff);
    req[2] = EPMD_PORT2_REQ;
    /* NOLINTNEXTLINE(bugprone-not-null-terminated-result): a length-prefixed wire field, not a C string */
    memcpy(req + 3, alive, n);

    unsigned char head[4];
    int fd = -1, rc = epmd_request(addr, req, n + 3, head, 2, deadline_ms, &fd, why);
    if (rc == 0)
        rc = bp__epmd_port2_reply(head, 2, port, why);
    if (rc == 1) { /* found: the port follows */
        rc = io_rc(bp__read_full(fd, head + 2, 2, deadline_ms, NULL));
        if (rc == 0)
            rc = bp__epmd_port2_reply(head, 4, port, why);
    }
    if (fd >= 0)
        close(fd);
    return rc;
}

int bp__epmd_port2_reply(const unsigned char *r, size_t len, int *port, const char **why)
{
    if (len < 2)
        return 1;
    if (r[0] != EPMD_PORT2_RESP) {
        *why = NOT_EPMD;
        return BP_EEPMD;
    }
    if (r[1] != 0)
        return BP_ENOTREG;
    if (len < 4)
        return 1;
    int p = (r[2] << 8) | r[3];
    if (p == 0) {
        *why = NOT_EPMD;
        return BP_EEPMD;
    }
    *port = p;
    return 0;
}

size_t bp__epmd_parse_names(const char *body, size_t len, char (*names)[256], int *ports, size_t max)
{
    size_t count = 0, i = 0;
    while (i < len && count < max) {
        size_t j = i;
        while (j < len && body[j] != '\n')
            j++;
        char line[512];
        size_t ll = j - i < sizeof line - 1 ? j - i : sizeof line - 1;
        memcpy(line, body + i, ll);
        line[ll] = '\0';
        char name[256];
        int at = 0;
        /* the port by strtol: sscanf's %d is undefined past INT_MAX, and glibc's wraps 4294967297 to 1 */
        if (sscanf(line, "name %255s at port %n", name, &at) == 1 && at > 0) {
            char *end;
            long port = strtol(line + at, &end, 10);
            if (end != line + at && port > 0 && port < 65536) {
                snprintf(names[count], 256, "%s", name);
                if (ports)
                    ports[count] = (int)port;
                count++;
            }
        }
        i = j + 1;
    }
    return count;
}

int bp__epmd_names(const bp__addr *addr, int64_t deadline_ms, char (*names)[256], int *ports,
                   size_t max, size_t *count)
{
    static const unsigned char req[3] = { 0, 1, EPMD_NAMES_REQ };
    char *body = NULL;
    unsigned char eport[4];
    const char *why;
    int fd = -1, rc = epmd_request(addr, req, sizeof req, eport, sizeof eport, deadline_ms, &fd, &why);
    *count = 0;
    if (rc)
        goto out;
    body = malloc(EPMD_NAMES_MAX_BODY);
    if (!body) {
        rc = BP_ENOMEM;
        goto out;
    }
    size_t len = 0;
    while (len < EPMD_NAMES_MAX_BODY) { /* EPMD closes the connection after the list */
        size_t got = 0;
        rc = bp__read_some(fd, body + len, EPMD_NAMES_MAX_BODY - len, deadline_ms, &got);
        if (rc == BP_EIO && got == 0) {
            rc = 0;
            break;
        }
        if (rc) {
            rc = io_rc(rc);
            goto out;
        }
        len += got;
    }
    *count = bp__epmd_parse_names(body, len, names, ports, max);
out:
    free(body);
    if (fd >= 0)
        close(fd);
    return rc;
}
