/* discover_k8s_parse.c: node names from Kubernetes Endpoints and EndpointSlice JSON, and the token's service account. */
#include "discover/discover.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"
#include "core/str.h"

static const char *domain_of(const bp_k8s_opts *o)
{
    return o->cluster_domain && *o->cluster_domain ? o->cluster_domain : "cluster.local";
}

/*
 * Add one address: by hostname when the mode allows and it has a valid one
 * (the pod's DNS name <hostname>.<service>.<ns>.svc.<domain>), else by IPv4
 * address; anything else is skipped. Ready wins over not ready.
 */
static int add_address(const bp_k8s_opts *o, bp_k8s_result *out, const char *ip, const char *hostname, int ready)
{
    char host[BP_NAME_MAX];
    host[0] = '\0';
    if (o->names == BP_K8S_NAMES_AUTO && hostname && bp__disc_label_ok(hostname)) {
        int n = snprintf(host, sizeof host, "%s.%s.%s.svc.%s", hostname, o->service, o->ns, domain_of(o));
        if (n < 0 || (size_t)n >= sizeof host || !bp__disc_host_ok(host))
            host[0] = '\0';
    }
    if (!host[0]) {
        struct in_addr a;
        if (!ip || inet_pton(AF_INET, ip, &a) != 1) {
            out->skipped++;
            return 0;
        }
        inet_ntop(AF_INET, &a, host, sizeof host); /* canonical form */
    }
    char name[2 * BP_NAME_MAX + 2];
    int n = snprintf(name, sizeof name, "%s@%s", o->basename, host);
    if (n < 0 || n >= BP_NAME_MAX) {
        out->skipped++;
        return 0;
    }
    if (ready) {
        bp_nodeset_remove(&out->not_ready, name);
        return bp__disc_add(&out->ready, o->basename, host);
    }
    if (bp_nodeset_has(&out->ready, name))
        return 0;
    return bp__disc_add(&out->not_ready, o->basename, host);
}

/* The message for a set that overflowed or could not grow; other codes pass through. */
static int finish(const bp_k8s_opts *o, const bp_k8s_result *out, int rc, char *err, size_t errlen)
{
    if (rc == BP_ETOOBIG)
        return bp__disc_err(err, errlen, rc, "service %s/%s has more than %zu addresses", o->ns, o->service,
                            bp_nodeset_limit(&out->ready));
    if (rc == BP_ENOMEM)
        return bp__disc_err(err, errlen, rc, "out of memory");
    return rc;
}

static int load(const char *body, size_t len, json_t **root, char *err, size_t errlen)
{
    json_error_t je;
    *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!*root)
        return bp__disc_err(err, errlen, BP_EDECODE, "malformed JSON from the Kubernetes API (line %d, column %d: %s)",
                            je.line, je.column, je.text);
    if (!json_is_object(*root))
        return bp__disc_err(err, errlen, BP_EDECODE, "unexpected JSON from the Kubernetes API: not an object");
    return 0;
}

/* An optional array member: NULL when absent or null; *bad when present but not an array. */
static json_t *opt_array(json_t *obj, const char *key, int *bad)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_array(v)) {
        *bad = 1;
        return NULL;
    }
    return v;
}

static int check_kind(json_t *root, const char *want, char *err, size_t errlen)
{
    json_t *kind = json_object_get(root, "kind");
    if (kind && (!json_is_string(kind) || strcmp(json_string_value(kind), want) != 0))
        return bp__disc_err(err, errlen, BP_EDECODE, "unexpected JSON from the Kubernetes API: kind %s, expected %s",
                            json_is_string(kind) ? json_string_value(kind) : "(not a string)", want);
    return 0;
}

static const char *opt_string(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int bp__k8s_parse_endpoints(const char *body, size_t len, const bp_k8s_opts *o, bp_k8s_result *out, char *err,
                            size_t errlen)
{
    json_t *root = NULL;
    int rc = load(body, len, &root, err, errlen);
    if (rc == 0)
        rc = check_kind(root, "Endpoints", err, errlen);
    if (rc)
        goto out;
    int bad = 0;
    json_t *subsets = opt_array(root, "subsets", &bad);
    if (bad) {
        rc = bp__disc_err(err, errlen, BP_EDECODE, "unexpected JSON in Endpoints: subsets is not an array");
        goto out;
    }
    size_t i;
    json_t *subset;
    json_array_foreach(subsets, i, subset) {
        if (!json_is_object(subset)) {
            rc = bp__disc_err(err, errlen, BP_EDECODE, "unexpected JSON in Endpoints: subsets[%zu] is not an object", i);
            goto out;
        }
        static const char *const keys[2] = { "addresses", "notReadyAddresses" };
        for (int r = 0; r < 2; r++) {
            json_t *addrs = opt_array(subset, keys[r], &bad);
            if (bad) {
                rc = bp__disc_err(err, errlen, BP_EDECODE, "unexpected JSON in Endpoints: subsets[%zu].%s is not an array",
                                  i, keys[r]);
                goto out;
            }
            size_t k;
            json_t *a;
            json_array_foreach(addrs, k, a) {
                if (!json_is_object(a)) {
                    rc = bp__disc_err(err, errlen, BP_EDECODE,
                                      "unexpected JSON in Endpoints: subsets[%zu].%s[%zu] is not an object", i, keys[r], k);
                    goto out;
                }
                rc = add_address(o, out, opt_string(a, "ip"), opt_string(a, "hostname"), r == 0);
                if (rc)
                    goto out;
            }
        }
    }
out:
    rc = finish(o, out, rc, err, errlen);
    json_decref(root);
    return rc;
}

int bp__k8s_parse_slices(const char *body, size_t len, const bp_k8s_opts *o, bp_k8s_result *out, size_t *items,
                         char *err, size_t errlen)
{
    json_t *root = NULL;
    *items = 0;
    int rc = load(body, len, &root, err, errlen);
    if (rc == 0)
        rc = check_kind(root, "EndpointSliceList", err, errlen);
    if (rc)
        goto out;
    int bad = 0;
    json_t *list = opt_array(root, "items", &bad);
    if (bad || !json_object_get(root, "items")) {
        rc = bp__disc_err(err, errlen, BP_EDECODE, "unexpected JSON in EndpointSliceList: no items array");
        goto out;
    }
    size_t i;
    json_t *slice;
    json_array_foreach(list, i, slice) {
        if (!json_is_object(slice)) {
            rc = bp__disc_err(err, errlen, BP_EDECODE, "unexpected JSON in EndpointSliceList: items[%zu] is not an object",
                              i);
            goto out;
        }
        (*items)++;
        const char *type = opt_string(slice, "addressType");
        int ipv4 = type && strcmp(type, "IPv4") == 0;
        json_t *eps = opt_array(slice, "endpoints", &bad);
        if (bad) {
            rc = bp__disc_err(err, errlen, BP_EDECODE,
                              "unexpected JSON in EndpointSliceList: items[%zu].endpoints is not an array", i);
            goto out;
        }
        size_t k;
        json_t *ep;
        json_array_foreach(eps, k, ep) {
            json_t *addrs = json_is_object(ep) ? json_object_get(ep, "addresses") : NULL;
            if (!json_is_array(addrs)) {
                rc = bp__disc_err(err, errlen, BP_EDECODE,
                                  "unexpected JSON in EndpointSliceList: items[%zu].endpoints[%zu] has no addresses", i, k);
                goto out;
            }
            json_t *first = json_array_get(addrs, 0); /* the addresses of an endpoint are fungible */
            const char *ip = ipv4 && json_is_string(first) ? json_string_value(first) : NULL;
            json_t *cond = json_object_get(ep, "conditions");
            json_t *ready = json_is_object(cond) ? json_object_get(cond, "ready") : NULL;
            /* "ready" absent or null means unknown, which the API says to read as ready */
            int is_ready = !json_is_false(ready);
            rc = add_address(o, out, ip, opt_string(ep, "hostname"), is_ready);
            if (rc)
                goto out;
        }
    }
out:
    rc = finish(o, out, rc, err, errlen);
    json_decref(root);
    return rc;
}

/* ---------- the service account named by a token ---------- */

static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-' || c == '+')
        return 62;
    if (c == '_' || c == '/')
        return 63;
    return -1;
}

/* Decode base64url (no padding needed) of n bytes into out (cap bytes). Returns the length or -1. */
static long b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '=')
            break;
        int v = b64url_value((unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return -1;
            out[o++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    return (long)o;
}

int bp__k8s_token_subject(const char *token, char *buf, size_t buflen)
{
    const char *dot1 = strchr(token, '.');
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (!dot2 || buflen == 0)
        return -1;
    size_t n = (size_t)(dot2 - dot1 - 1);
    unsigned char *payload = malloc(n + 1);
    if (!payload)
        return -1;
    long len = b64url_decode(dot1 + 1, n, payload, n);
    int rc = -1;
    json_t *claims = len > 0 ? json_loadb((const char *)payload, (size_t)len, 0, NULL) : NULL;
    const char *sub = claims ? opt_string(claims, "sub") : NULL;
    if (sub) {
        rc = 0;
        for (const char *p = sub; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
                rc = -1; /* only printable claims go into messages */
        if (rc == 0 && bp_strlcpy(buf, sub, buflen) >= buflen)
            rc = -1;
    }
    json_decref(claims);
    free(payload);
    return rc;
}
