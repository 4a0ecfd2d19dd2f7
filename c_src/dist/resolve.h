/* resolve.h: host name to IPv4 address under a deadline (getaddrinfo has none). */
#ifndef BP_RESOLVE_H
#define BP_RESOLVE_H

#include <netinet/in.h>
#include <stdint.h>

/*
 * Resolve `host` (a dotted IPv4 literal is parsed directly) to its first IPv4
 * address. getaddrinfo runs on a detached helper thread so the caller can
 * give up at the deadline. Returns 0, BP_ERESOLVE, BP_ETIMEDOUT or BP_ENOMEM.
 */
int bp__resolve_ipv4(const char *host, int64_t deadline_ms, struct in_addr *out);

#endif
