/* discover_dns.c: nodes from the A (and PTR) records of a DNS name, via the system resolver on a thread or a given server. */
#include "discover/discover.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "dist/resolve.h"

#define DNS_ADDR_MAX (BP_TARGETS_MAX + 1) /* addresses kept from one name: one more than a set holds */

/*
 * A system-resolver lookup, run on a detached thread under the deadline by
 * bp__run_by_deadline (getaddrinfo and getnameinfo have no timeout). When the
 * caller gives up, `abandoned` tells the worker to skip its remaining reverse
 * lookups.
 */
typedef struct {
    int by_hostname;
    int gai_rc;    /* getaddrinfo's result, 0 or EAI_* */
    int sys_errno; /* errno for EAI_SYSTEM */
    size_t count;
    struct in_addr addrs[DNS_ADDR_MAX];
    char ptrs[DNS_ADDR_MAX][256];
    char name[256];
} lookup_job;

static void lookup_worker(void *arg, const atomic_int *abandoned)
{
    lookup_job *j = arg;
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(j->name, NULL, &hints, &res);
    size_t count = 0;
    if (rc == 0) {
        for (struct addrinfo *ai = res; ai && count < DNS_ADDR_MAX; ai = ai->ai_next) {
            if (ai->ai_family != AF_INET || !ai->ai_addr)
                continue;
            struct in_addr a = ((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr;
            int dup = 0;
            for (size_t k = 0; k < count && !dup; k++)
                dup = j->addrs[k].s_addr == a.s_addr;
            if (!dup)
                j->addrs[count++] = a;
        }
    } else if (rc == EAI_SYSTEM) {
        j->sys_errno = errno;
    }
    if (res)
        freeaddrinfo(res);
    for (size_t i = 0; rc == 0 && j->by_hostname && i < count && !atomic_load(abandoned); i++) {
        struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = j->addrs[i] };
        if (getnameinfo((const struct sockaddr *)&sin, sizeof sin, j->ptrs[i], sizeof j->ptrs[i], NULL, 0,
                        NI_NAMEREQD) != 0)
            j->ptrs[i][0] = '\0';
    }
    j->gai_rc = rc;
    j->count = count;
}

/* Run the lookup under the deadline: the finished job (the caller frees it), or NULL with *rc and err set. */
static lookup_job *system_lookup(const char *name, int by_hostname, int64_t deadline_ms, int *rc, char *err,
                                 size_t errlen)
{
    lookup_job *j = calloc(1, sizeof *j);
    if (!j) {
        *rc = bp__disc_err(err, errlen, BP_ENOMEM, "out of memory");
        return NULL;
    }
    snprintf(j->name, sizeof j->name, "%s", name);
    j->by_hostname = by_hostname;
    int r = bp__run_by_deadline(lookup_worker, j, free, deadline_ms);
    if (r == BP_ENOMEM) {
        *rc = bp__disc_err(err, errlen, BP_ENOMEM, "cannot start the resolver thread");
        return NULL;
    }
    if (r) {
        *rc = bp__disc_err(err, errlen, r, "the system resolver did not answer for %s before the deadline", name);
        return NULL;
    }
    return j;
}

typedef struct {
    struct in_addr addr;
    size_t k; /* index in the unsorted arrays */
} addr_index;

static int cmp_addr(const void *x, const void *y)
{
    uint32_t a = ntohl(((const addr_index *)x)->addr.s_addr), b = ntohl(((const addr_index *)y)->addr.s_addr);
    return a < b ? -1 : a > b;
}

/* Strip one trailing dot; a PTR name that is no usable host name is dropped (""). */
static void clean_ptr(char *p)
{
    size_t n = strlen(p);
    if (n && p[n - 1] == '.')
        p[n - 1] = '\0';
    if (!bp__disc_host_ok(p))
        p[0] = '\0';
}

int bp_discover_dns(const char *dns_name, const char *basename, const bp_dns_opts *o, int64_t deadline_ms,
                    bp_nodeset *out, char *err, size_t errlen)
{
    static const bp_dns_opts defaults = { 0 };
    lookup_job *res = NULL;
    struct in_addr *addrs = NULL;
    char (*ptrs)[256] = NULL;
    addr_index *sorted = NULL;
    size_t count = 0;
    int rc = 0;
    if (!o)
        o = &defaults;
    bp_nodeset_clear(out);

    char plain[256];
    size_t nl = dns_name ? strlen(dns_name) : 0;
    if (nl > 0 && nl < sizeof plain) {
        memcpy(plain, dns_name, nl + 1);
        if (plain[nl - 1] == '.')
            plain[nl - 1] = '\0';
    }
    if (nl == 0 || nl >= sizeof plain || !bp__disc_host_ok(plain)) {
        rc = bp__disc_err(err, errlen, BP_EUSAGE, "'%s' is not a DNS name", dns_name ? dns_name : "");
        goto out;
    }
    if (!bp__disc_alive_ok(basename)) {
        rc = bp__disc_err(err, errlen, BP_EUSAGE,
                          "node basename '%s' must be letters, digits, '_' and '-' (the part before '@')",
                          basename ? basename : "");
        goto out;
    }

    if (o->server && *o->server) {
        struct sockaddr_storage sa;
        socklen_t salen;
        if (bp__dns_parse_server(o->server, &sa, &salen) < 0) {
            rc = bp__disc_err(err, errlen, BP_EUSAGE,
                              "DNS server '%s' is not IP, IP:PORT or [IPv6]:PORT", o->server);
            goto out;
        }
        addrs = calloc(DNS_ADDR_MAX, sizeof *addrs);
        ptrs = o->by_hostname ? calloc(DNS_ADDR_MAX, sizeof *ptrs) : NULL;
        if (!addrs || (o->by_hostname && !ptrs)) {
            rc = bp__disc_err(err, errlen, BP_ENOMEM, "out of memory");
            goto out;
        }
        rc = bp__dns_query_server(&sa, salen, dns_name, deadline_ms, addrs, DNS_ADDR_MAX, &count, ptrs, err, errlen);
        if (rc)
            goto out;
    } else {
        res = system_lookup(dns_name, o->by_hostname, deadline_ms, &rc, err, errlen);
        if (!res)
            goto out;
        if (res->gai_rc != 0) {
            const char *why = res->gai_rc == EAI_SYSTEM ? strerror(res->sys_errno) : gai_strerror(res->gai_rc);
            rc = bp__disc_err(err, errlen, BP_ERESOLVE, "%s does not resolve: %s", dns_name, why);
            goto out;
        }
        if (res->count == 0) {
            rc = bp__disc_err(err, errlen, BP_ERESOLVE, "%s has no IPv4 address", dns_name);
            goto out;
        }
        addrs = res->addrs;
        ptrs = o->by_hostname ? res->ptrs : NULL;
        count = res->count;
    }

    /* Sort addresses numerically, carrying their PTR names along. */
    sorted = calloc(count, sizeof *sorted);
    if (!sorted) {
        rc = bp__disc_err(err, errlen, BP_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        sorted[i].addr = addrs[i];
        sorted[i].k = i;
    }
    qsort(sorted, count, sizeof *sorted, cmp_addr);
    for (size_t i = 0; i < count && rc == 0; i++) {
        size_t k = sorted[i].k;
        char host[256];
        inet_ntop(AF_INET, &addrs[k], host, sizeof host);
        if (ptrs) {
            clean_ptr(ptrs[k]);
            if (ptrs[k][0])
                snprintf(host, sizeof host, "%s", ptrs[k]);
        }
        rc = bp__disc_add(out, basename, host);
        if (rc == BP_EUSAGE) { /* name over 255 bytes: keep the address instead */
            inet_ntop(AF_INET, &addrs[k], host, sizeof host);
            rc = bp__disc_add(out, basename, host);
        }
    }
    if (rc == BP_ETOOBIG)
        rc = bp__disc_err(err, errlen, rc, "%s has more than %zu addresses", dns_name, bp_nodeset_limit(out));
    else if (rc == BP_ENOMEM)
        rc = bp__disc_err(err, errlen, rc, "out of memory");
    if (ptrs)
        bp_nodeset_sort(out); /* host names sort differently from the addresses */
out:
    free(sorted);
    if (res) {
        free(res);
    } else {
        free(addrs);
        free(ptrs);
    }
    return rc;
}
