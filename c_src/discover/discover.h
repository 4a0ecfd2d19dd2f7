/* discover.h: target discovery: EPMD NAMES, DNS (A and PTR records), the Kubernetes Endpoints/EndpointSlice API. */
#ifndef BP_DISCOVER_H
#define BP_DISCOVER_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/config.h"
#include "discover/nodeset.h"

/*
 * Every call takes an absolute monotonic deadline (core/clock.h) that bounds
 * all of its network steps together, and returns 0 or a negative BP_E* code
 * with a one-line message in err[errlen] (err may be NULL). Results are node
 * names "alive@host" in caller-owned bp_nodeset values (emptied first; the
 * caller frees them), without duplicates, in natural order (digit runs
 * compare as numbers: app@10.0.0.9 before app@10.0.0.10, app-2 before app-10).
 *
 * A set holds bp_nodeset_limit() names (BP_TARGETS_MAX, 1024, unless the
 * caller set its max): more than that is BP_ETOOBIG with a message saying
 * so (the set then holds that many of them). Messages do not repeat the
 * source's option name: callers prefix it ("--dns NAME: ..."). No secret
 * (token contents) ever appears in err. docs/DISCOVERY.md describes the rules
 * for users.
 */

/* ---------- EPMD ---------- */

/*
 * Every node registered with EPMD on `host` (port $ERL_EPMD_PORT or 4369)
 * as "name@host", host kept exactly as given (an IP literal stays one).
 * With a basename (NULL or "" = every node), only the names it matches
 * (bp__disc_basename_match: app, app1, app-2, app_x for "app"; not apple).
 * BP_ERESOLVE (host does not resolve), BP_EEPMD (nothing listening, or not
 * EPMD), BP_ETIMEDOUT, BP_ETOOBIG, BP_EUSAGE (bad host or basename).
 * No registered (or matching) node is not an error: 0 with an empty set.
 */
int bp_discover_epmd(const char *host, const char *basename, int64_t deadline_ms, bp_nodeset *out, char *err,
                     size_t errlen);

/* ---------- DNS ---------- */

typedef struct {
    /* Name nodes by the reverse (PTR) name of each address instead of the
     * address: basename@<host name>. An address without a PTR record keeps its
     * address as host part. */
    int by_hostname;
    /* "IP", "IP:PORT" or "[IPv6]:PORT" (port default 53): ask this server
     * directly with beamprobe's own DNS client (UDP, TCP when truncated)
     * instead of the system resolver. The name is then taken as absolute (no
     * search domains). NULL or "" = the system resolver (getaddrinfo and
     * getnameinfo on a helper thread). */
    const char *server;
} bp_dns_opts;

/*
 * All IPv4 (A) records of `dns_name` (a headless Service: one per ready pod)
 * as basename@<dotted address>, deduplicated; with o->by_hostname,
 * basename@<PTR name> (trailing dot removed). o may be NULL.
 * BP_ERESOLVE (no such name, no A record, server failure), BP_ETIMEDOUT,
 * BP_ECONNECT (the given server refused: nothing listens there), BP_EDECODE
 * (malformed DNS reply), BP_ETOOBIG, BP_EUSAGE (bad name, basename or server).
 */
int bp_discover_dns(const char *dns_name, const char *basename, const bp_dns_opts *o, int64_t deadline_ms,
                    bp_nodeset *out, char *err, size_t errlen);

/* ---------- Kubernetes ---------- */

#define BP_K8S_TOKEN_FILE "/var/run/secrets/kubernetes.io/serviceaccount/token"
#define BP_K8S_CA_FILE "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
#define BP_K8S_MAX_BODY_DEFAULT (4u << 20)

typedef enum {
    BP_K8S_SOURCE_AUTO = 0,  /* EndpointSlices; Endpoints when those are absent, forbidden or empty */
    BP_K8S_SOURCE_SLICES,    /* discovery.k8s.io/v1 EndpointSlices only */
    BP_K8S_SOURCE_ENDPOINTS  /* v1 Endpoints only */
} bp_k8s_source;

typedef enum {
    BP_K8S_NAMES_AUTO = 0,   /* basename@<hostname>.<service>.<namespace>.svc.<domain> when the
                                address has a hostname (StatefulSet pods), else basename@<ip> */
    BP_K8S_NAMES_IP          /* always basename@<ip> */
} bp_k8s_names;

typedef struct {
    const char *ns;           /* required: the namespace, a DNS label */
    const char *service;      /* required: a DNS label */
    const char *basename;     /* required: the alive part of the node names */
    const char *api_url;      /* "https://host:port" (http:// too, e.g. kubectl proxy); NULL/"" =
                                 https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT */
    const char *token_file;   /* NULL/"" = BP_K8S_TOKEN_FILE; when that default is missing and
                                 api_url is given, no Authorization header is sent */
    const char *ca_file;      /* NULL/"" = BP_K8S_CA_FILE if it exists, else the system CAs */
    const char *cluster_domain; /* NULL/"" = "cluster.local" */
    bp_k8s_source source;
    bp_k8s_names names;
    size_t max_body;          /* response size cap; 0 = BP_K8S_MAX_BODY_DEFAULT */
} bp_k8s_opts;

/* Zeroed before first use ({ 0 } or calloc); released with bp_k8s_result_free. */
typedef struct {
    bp_nodeset ready;         /* Endpoints "addresses"; EndpointSlice conditions.ready true or absent */
    bp_nodeset not_ready;     /* Endpoints "notReadyAddresses"; conditions.ready false (starting,
                                 failing readiness, terminating) */
    size_t skipped;           /* entries without a usable address (bad IP, other address family) */
    char source[16];          /* "endpointslices" or "endpoints": the API that answered */
} bp_k8s_result;

/* Release the storage of both sets (r stays usable, empty). */
void bp_k8s_result_free(bp_k8s_result *r);

/*
 * The ready and not-ready addresses of Service ns/service from the
 * Kubernetes API (libcurl; TLS verified against the CA; no redirects), named
 * as o->names says. A name in both lists (duplicate slices during an update)
 * counts as ready only. An existing Service with no endpoints is 0 with both
 * lists empty.
 * BP_EAUTH (401 or 403: the message names the service account and the
 * missing permission), BP_ERESOLVE (404: no such Service or namespace),
 * BP_EDECODE (not the expected JSON), BP_ETOOBIG (body over the cap, or more
 * names than a set holds), BP_ETIMEDOUT, BP_ECONNECT (TCP/TLS failure, including an
 * unverifiable certificate), BP_EIO (other HTTP status), BP_ECONFIG (token
 * or CA file unreadable, not in a pod and no api_url), BP_EUSAGE (bad
 * option), BP_ENOMEM.
 */
int bp_discover_k8s(const bp_k8s_opts *o, int64_t deadline_ms, bp_k8s_result *out, char *err, size_t errlen);

/* Split "NAMESPACE/SERVICE" (both DNS labels) into ns[nslen] and svc[svclen]. 0 or BP_EUSAGE. */
int bp_k8s_parse_target(const char *arg, char *ns, size_t nslen, char *svc, size_t svclen, char *err,
                        size_t errlen);

/* ---------- internals shared by discover*.c and the unit tests ---------- */

/* Format a message into err (bounded) and return code. */
int bp__disc_err(char *err, size_t errlen, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Add alive@host unless present: 0, BP_ETOOBIG (set full), BP_EUSAGE (name over 255 bytes), BP_ENOMEM. */
int bp__disc_add(bp_nodeset *l, const char *alive, const char *host);
/*
 * Whether an alive part belongs to basename: it is basename, or basename
 * followed by '-', '_' or a digit and then anything (app: app, app1, app-2,
 * app_x; not apple, not ap).
 */
int bp__disc_basename_match(const char *alive, const char *basename);
/* Whether s is usable as the alive part of a node name (letters, digits, '_', '-'; 1..255). */
int bp__disc_alive_ok(const char *s);
/* Whether s is a host name (dot-separated labels of letters, digits, '-', '_'), at most 253 bytes. */
int bp__disc_host_ok(const char *s);
/* Whether s is an RFC 1123 label (lowercase letters, digits, '-', 1..63, no leading/trailing '-'). */
int bp__disc_label_ok(const char *s);

/* Parse "IP", "IP:PORT", "[IPv6]" or "[IPv6]:PORT" (default port 53) into *sa. 0 or BP_EUSAGE. */
int bp__dns_parse_server(const char *s, struct sockaddr_storage *sa, socklen_t *salen);

/* DNS wire format (RFC 1035), used by the direct client. */
#define BP_DNS_TYPE_A 1
#define BP_DNS_TYPE_CNAME 5
#define BP_DNS_TYPE_PTR 12
/* Encode a recursive query for name/type with id (and an EDNS0 OPT record
 * advertising a 4096-byte UDP payload) into buf. Returns its length, or 0 if
 * the name is not a valid DNS name or buf is too small. */
size_t bp__dns_encode_query(uint16_t id, const char *name, int qtype, unsigned char *buf, size_t buflen);
/*
 * Decode a reply to the query (id, name, qtype). For A: up to max addresses
 * owned by name or by a CNAME chain from it into addrs, *count set. For PTR:
 * the first PTR target into ptr[ptrlen] (no trailing dot), *count 1 or 0.
 * Returns 0 (also for NOERROR with no data: *count 0), BP_ERESOLVE (NXDOMAIN:
 * *rcode 3; SERVFAIL and others: *rcode set), BP_EDECODE (malformed, wrong id
 * or question) or 1 when the TC (truncated) bit is set. *rcode may be NULL.
 */
int bp__dns_decode_reply(const unsigned char *msg, size_t len, uint16_t id, const char *name, int qtype,
                         struct in_addr *addrs, size_t max, size_t *count, char *ptr, size_t ptrlen,
                         int *rcode);

/*
 * Direct client: every A record of name (deduplicated, up to max) from the
 * server, then with ptrs != NULL the PTR name of each address into ptrs[i]
 * ("" when it has none), all queries of a step sent at once over one UDP
 * socket with retransmission, TCP for truncated replies.
 * 0, BP_ERESOLVE, BP_ETIMEDOUT, BP_ECONNECT, BP_EDECODE, BP_ENOMEM with err.
 */
int bp__dns_query_server(const struct sockaddr_storage *server, socklen_t salen, const char *name,
                         int64_t deadline_ms, struct in_addr *addrs, size_t max, size_t *count,
                         char (*ptrs)[256], char *err, size_t errlen);

/*
 * Parse an API response body into out (names appended; sets not emptied):
 * a v1 Endpoints object, or a discovery.k8s.io/v1 EndpointSliceList. o gives
 * basename, service, ns, cluster_domain and names. 0, BP_EDECODE
 * (with what was wrong), BP_ETOOBIG.
 */
int bp__k8s_parse_endpoints(const char *body, size_t len, const bp_k8s_opts *o, bp_k8s_result *out, char *err,
                            size_t errlen);
int bp__k8s_parse_slices(const char *body, size_t len, const bp_k8s_opts *o, bp_k8s_result *out,
                         size_t *items, char *err, size_t errlen);

/* The service-account name in a token (the JWT's "sub" claim), unverified, into buf: 0 or -1. */
int bp__k8s_token_subject(const char *token, char *buf, size_t buflen);

#endif
