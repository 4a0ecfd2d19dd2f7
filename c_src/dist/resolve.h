/* resolve.h: host name to an IPv4 or IPv6 address, and any blocking call, under a deadline (getaddrinfo has none). */
#ifndef BP_RESOLVE_H
#define BP_RESOLVE_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdint.h>

#include "dist/net.h"

/*
 * Resolve `host` (a dotted IPv4 literal is parsed directly) to its first IPv4
 * address. getaddrinfo runs on a detached helper thread so the caller can
 * give up at the deadline. Returns 0, BP_ERESOLVE, BP_ETIMEDOUT or BP_ENOMEM.
 */
int bp__resolve_ipv4(const char *host, int64_t deadline_ms, struct in_addr *out);

/*
 * Resolve `host` to one address of `family`: AF_INET, AF_INET6, or AF_UNSPEC
 * (an IPv4 address when the host has one, else IPv6: a host that resolves to
 * AAAA records only is reached over IPv6). Literals of either family are
 * parsed directly. Same returns as bp__resolve_ipv4.
 */
int bp__resolve_addr(const char *host, int family, int64_t deadline_ms, bp__addr *out);

/*
 * Run fn(arg, abandoned) on a detached thread (for calls such as getaddrinfo
 * that have no timeout) and wait for it until deadline_ms (bp_now_ms clock).
 *
 * Returns 0 once fn has returned: its writes to *arg are visible and arg is
 * the caller's again. Otherwise arg is no longer the caller's, who must not
 * touch it: BP_ETIMEDOUT when the deadline came first (*abandoned is then set,
 * for fn to skip remaining work; the worker hands arg to free_arg when fn
 * returns), BP_ENOMEM when no thread could be started (arg was handed to
 * free_arg at once). free_arg may be NULL.
 */
int bp__run_by_deadline(void (*fn)(void *arg, const atomic_int *abandoned), void *arg, void (*free_arg)(void *),
                        int64_t deadline_ms);

#endif
