/* discover_k8s.c: a Service's ready and not-ready addresses from the Kubernetes API (EndpointSlices, then Endpoints) with libcurl. */
#include "discover/discover.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "discover/curl_lazy.h"

#define TOKEN_MAX (64 * 1024)

/* libcurl is loaded on first use (discover/curl_lazy.c); CU is its function table. */
#define CU (bp_curl(NULL))

int bp_k8s_parse_target(const char *arg, char *ns, size_t nslen, char *svc, size_t svclen, char *err, size_t errlen)
{
    const char *slash = arg ? strchr(arg, '/') : NULL;
    char a[64], b[64];
    if (!slash || (size_t)(slash - arg) >= sizeof a || strlen(slash + 1) >= sizeof b)
        goto bad;
    memcpy(a, arg, (size_t)(slash - arg));
    a[slash - arg] = '\0';
    snprintf(b, sizeof b, "%s", slash + 1);
    if (!bp__disc_label_ok(a) || !bp__disc_label_ok(b))
        goto bad;
    if ((size_t)snprintf(ns, nslen, "%s", a) >= nslen || (size_t)snprintf(svc, svclen, "%s", b) >= svclen)
        goto bad;
    return 0;
bad:
    return bp__disc_err(err, errlen, BP_EUSAGE,
                        "'%s' is not NAMESPACE/SERVICE (two DNS labels: lowercase letters, digits, '-')",
                        arg ? arg : "");
}

void bp_k8s_result_free(bp_k8s_result *r)
{
    if (!r)
        return;
    bp_nodeset_free(&r->ready);
    bp_nodeset_free(&r->not_ready);
}

/* ---------- one GET ---------- */

typedef struct {
    char *p;
    size_t len, cap, max;
    int over;
} body_buf;

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    body_buf *b = ud;
    size_t n = size * nmemb;
    if (n > b->max - b->len) {
        b->over = 1;
        return 0; /* stops the transfer: CURLE_WRITE_ERROR */
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        while (cap < b->len + n + 1)
            cap *= 2;
        if (cap > b->max + 1)
            cap = b->max + 1;
        char *np = realloc(b->p, cap);
        if (!np)
            return 0;
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return n;
}

typedef struct {
    const char *api;       /* base URL, no trailing '/' */
    const char *ca_file;   /* NULL: system CAs */
    const char *token;     /* NULL: no Authorization */
    size_t max_body;
} k8s_client;

/*
 * GET base+path under the deadline. 0 with *status and the body in *b (the
 * caller frees b->p), or BP_ETIMEDOUT, BP_ETOOBIG, BP_ECONNECT, BP_ECONFIG,
 * BP_ENOMEM with a message.
 */
static int http_get(const k8s_client *c, const char *path, int64_t deadline_ms, long *status, body_buf *b, char *err,
                    size_t errlen)
{
    char url[2048];
    char *auth = NULL;
    size_t authlen = 0;
    char cerr[CURL_ERROR_SIZE];
    struct curl_slist *hdrs = NULL;
    CURL *h = NULL;
    int rc = 0;
    memset(b, 0, sizeof *b);
    b->max = c->max_body;
    cerr[0] = '\0';
    if ((size_t)snprintf(url, sizeof url, "%s%s", c->api, path) >= sizeof url) {
        rc = bp__disc_err(err, errlen, BP_EUSAGE, "Kubernetes API URL too long");
        goto out;
    }
    int left = bp_remaining_ms(deadline_ms);
    if (left <= 0) {
        rc = bp__disc_err(err, errlen, BP_ETIMEDOUT, "deadline passed before asking the Kubernetes API");
        goto out;
    }
    h = CU->easy_init();
    if (!h) {
        rc = bp__disc_err(err, errlen, BP_ENOMEM, "cannot create a libcurl handle");
        goto out;
    }
    hdrs = CU->slist_append(NULL, "Accept: application/json");
    if (!hdrs) {
        rc = bp__disc_err(err, errlen, BP_ENOMEM, "out of memory");
        goto out;
    }
    if (c->token) {
        authlen = strlen(c->token) + 32;
        auth = malloc(authlen);
        struct curl_slist *nh = NULL;
        if (auth) {
            snprintf(auth, authlen, "Authorization: Bearer %s", c->token);
            nh = CU->slist_append(hdrs, auth);
        }
        if (!nh) {
            rc = bp__disc_err(err, errlen, BP_ENOMEM, "out of memory");
            goto out;
        }
        hdrs = nh;
    }
    CU->easy_setopt(h, CURLOPT_URL, url);
    CU->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
    CU->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    CU->easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)left);
    CU->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)left);
    CU->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); /* never carry the token elsewhere */
    CU->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    CU->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    CU->easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (c->ca_file)
        CU->easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    CU->easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    CU->easy_setopt(h, CURLOPT_USERAGENT, "beamprobe/" BP_VERSION);
    CU->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    CU->easy_setopt(h, CURLOPT_WRITEDATA, b);
    CU->easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    CURLcode cc = CU->easy_perform(h);
    if (cc == CURLE_OK) {
        CU->easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
        goto out;
    }
    const char *why = cerr[0] ? cerr : CU->easy_strerror(cc);
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
        rc = bp__disc_err(err, errlen, BP_ETIMEDOUT, "no answer from the Kubernetes API at %s before the deadline",
                          c->api);
        break;
    case CURLE_WRITE_ERROR:
        rc = b->over ? bp__disc_err(err, errlen, BP_ETOOBIG, "the Kubernetes API answer is larger than %zu bytes",
                                    c->max_body)
                     : bp__disc_err(err, errlen, BP_ENOMEM, "out of memory reading the Kubernetes API answer");
        break;
    case CURLE_SSL_CACERT_BADFILE:
        rc = bp__disc_err(err, errlen, BP_ECONFIG, "cannot use the CA file %s: %s",
                          c->ca_file ? c->ca_file : "(system)", why);
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
        rc = bp__disc_err(err, errlen, BP_ECONNECT, "the Kubernetes API at %s has a certificate that %s does not verify: %s",
                          c->api, c->ca_file ? c->ca_file : "the system CAs", why);
        break;
    default:
        rc = bp__disc_err(err, errlen, BP_ECONNECT, "cannot reach the Kubernetes API at %s: %s", c->api, why);
        break;
    }
out:
    if (auth) {
        explicit_bzero(auth, authlen);
        free(auth);
    }
    CU->slist_free_all(hdrs); /* holds a copy of the token: curl_slist_append strdups */
    if (h)
        CU->easy_cleanup(h);
    if (rc) {
        free(b->p);
        b->p = NULL;
        b->len = 0;
    }
    return rc;
}

/* The "message" of a Kubernetes Status body, printable and short, or "". */
static void status_message(const body_buf *b, char *out, size_t outlen)
{
    out[0] = '\0';
    json_t *root = b->p ? json_loadb(b->p, b->len, 0, NULL) : NULL;
    json_t *m = json_is_object(root) ? json_object_get(root, "message") : NULL;
    if (json_is_string(m)) {
        const char *s = json_string_value(m);
        size_t o = 0;
        for (; *s && o + 1 < outlen && o < 240; s++)
            out[o++] = ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) ? '?' : *s;
        out[o] = '\0';
    }
    json_decref(root);
}

/* ---------- credentials ---------- */

/* Read and check a bearer token (trailing blanks trimmed; visible ASCII only). */
static int read_token(const char *path, char **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return bp__disc_err(err, errlen, BP_ECONFIG, "cannot read the service-account token %s: %s", path,
                            strerror(errno));
    char *t = malloc(TOKEN_MAX + 1);
    if (!t) {
        (void)fclose(f); /* read-only */
        return bp__disc_err(err, errlen, BP_ENOMEM, "out of memory");
    }
    size_t n = fread(t, 1, TOKEN_MAX + 1, f);
    int rd_err = ferror(f);
    (void)fclose(f); /* read-only: a read error is ferror's */
    int rc = 0;
    if (rd_err)
        rc = bp__disc_err(err, errlen, BP_ECONFIG, "cannot read the service-account token %s", path);
    else if (n > TOKEN_MAX)
        rc = bp__disc_err(err, errlen, BP_ECONFIG, "the token file %s is larger than %d bytes", path, TOKEN_MAX);
    if (rc == 0) {
        while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' ' || t[n - 1] == '\t'))
            n--;
        t[n] = '\0';
        if (n == 0)
            rc = bp__disc_err(err, errlen, BP_ECONFIG, "the token file %s is empty", path);
        for (size_t i = 0; i < n && rc == 0; i++)
            if ((unsigned char)t[i] <= ' ' || (unsigned char)t[i] > 0x7e)
                rc = bp__disc_err(err, errlen, BP_ECONFIG,
                                  "the token file %s holds characters a bearer token cannot have", path);
    }
    if (rc) {
        explicit_bzero(t, TOKEN_MAX + 1);
        free(t);
        return rc;
    }
    *out = t;
    return 0;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---------- the discovery ---------- */

typedef struct {
    const bp_k8s_opts *o;
    char account[640];       /* "service account X" / "the token from F" / "anonymous requests" */
} who;

static int unauthorized(const who *w, const char *api, long status, const char *what, const char *apimsg, char *err,
                        size_t errlen)
{
    if (status == 401)
        return bp__disc_err(err, errlen, BP_EAUTH,
                            "unauthorized: the Kubernetes API at %s refused %s (HTTP 401: missing, expired or "
                            "wrong token)%s%s",
                            api, w->account, apimsg[0] ? ": " : "", apimsg);
    return bp__disc_err(err, errlen, BP_EAUTH,
                        "unauthorized: %s may not %s in namespace %s (HTTP 403; grant it a Role with get/list on "
                        "endpoints and endpointslices.discovery.k8s.io)%s%s",
                        w->account, what, w->o->ns, apimsg[0] ? ": " : "", apimsg);
}

static int other_status(const char *api, long status, const char *what, const char *apimsg, char *err, size_t errlen)
{
    return bp__disc_err(err, errlen, BP_EIO, "the Kubernetes API at %s answered HTTP %ld to %s%s%s", api, status, what,
                        apimsg[0] ? ": " : "", apimsg);
}

int bp_discover_k8s(const bp_k8s_opts *o, int64_t deadline_ms, bp_k8s_result *out, char *err, size_t errlen)
{
    char api[1024], path[512], apimsg[256];
    char *token = NULL;
    body_buf b = { 0 };
    int rc = 0;
    bp_nodeset_clear(&out->ready);
    bp_nodeset_clear(&out->not_ready);
    out->skipped = 0;
    out->source[0] = '\0';

    if (!o || !bp__disc_label_ok(o->ns) || !bp__disc_label_ok(o->service)) {
        rc = bp__disc_err(err, errlen, BP_EUSAGE, "namespace and service must be DNS labels (lowercase letters, digits, '-')");
        goto out;
    }
    if (!bp__disc_alive_ok(o->basename)) {
        rc = bp__disc_err(err, errlen, BP_EUSAGE,
                          "node basename '%s' must be letters, digits, '_' and '-' (the part before '@')",
                          o->basename ? o->basename : "");
        goto out;
    }
    if (o->cluster_domain && *o->cluster_domain && !bp__disc_host_ok(o->cluster_domain)) {
        rc = bp__disc_err(err, errlen, BP_EUSAGE, "cluster domain '%s' is not a DNS name", o->cluster_domain);
        goto out;
    }
    int explicit_api = o->api_url && *o->api_url;
    if (explicit_api) {
        if (strncmp(o->api_url, "https://", 8) != 0 && strncmp(o->api_url, "http://", 7) != 0) {
            rc = bp__disc_err(err, errlen, BP_EUSAGE, "Kubernetes API URL '%s' must begin with https:// or http://",
                              o->api_url);
            goto out;
        }
        if ((size_t)snprintf(api, sizeof api, "%s", o->api_url) >= sizeof api) {
            rc = bp__disc_err(err, errlen, BP_EUSAGE, "Kubernetes API URL too long");
            goto out;
        }
    } else {
        const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
        if (!host || !*host) {
            rc = bp__disc_err(err, errlen, BP_ECONFIG,
                              "not in a Kubernetes pod (KUBERNETES_SERVICE_HOST is unset): give the API URL (--k8s-api)");
            goto out;
        }
        int v6 = strchr(host, ':') != NULL;
        snprintf(api, sizeof api, "https://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port && *port ? port : "443");
    }
    size_t al = strlen(api);
    while (al > 0 && api[al - 1] == '/')
        api[--al] = '\0';

    who w = { .o = o };
    const char *tpath = o->token_file && *o->token_file ? o->token_file : NULL;
    if (!tpath && (!explicit_api || file_exists(BP_K8S_TOKEN_FILE)))
        tpath = BP_K8S_TOKEN_FILE; /* in a pod it must be there; with an explicit URL it is optional */
    if (tpath) {
        rc = read_token(tpath, &token, err, errlen);
        if (rc)
            goto out;
        char sub[160];
        if (bp__k8s_token_subject(token, sub, sizeof sub) == 0)
            snprintf(w.account, sizeof w.account, "service account %.159s (token %.400s)", sub, tpath);
        else
            snprintf(w.account, sizeof w.account, "the token from %.400s", tpath);
    } else {
        snprintf(w.account, sizeof w.account, "anonymous requests (no token)");
    }
    const char *ca = o->ca_file && *o->ca_file ? o->ca_file : (file_exists(BP_K8S_CA_FILE) ? BP_K8S_CA_FILE : NULL);
    if (ca && access(ca, R_OK) != 0) {
        rc = bp__disc_err(err, errlen, BP_ECONFIG, "cannot read the CA file %s: %s", ca, strerror(errno));
        goto out;
    }
    const char *why_curl = NULL;
    if (!bp_curl(&why_curl)) {
        rc = bp__disc_err(err, errlen, BP_ECONFIG, "cannot use libcurl: %s", why_curl);
        goto out;
    }
    k8s_client c = { .api = api, .ca_file = ca, .token = token,
                     .max_body = o->max_body ? o->max_body : BP_K8S_MAX_BODY_DEFAULT };
    long status = 0;

    /* 1. EndpointSlices labelled with the service name. */
    long slices_status = 0;
    if (o->source != BP_K8S_SOURCE_ENDPOINTS) {
        snprintf(path, sizeof path,
                 "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices?labelSelector=kubernetes.io%%2Fservice-name%%3D%s",
                 o->ns, o->service);
        rc = http_get(&c, path, deadline_ms, &status, &b, err, errlen);
        if (rc)
            goto out;
        slices_status = status;
        status_message(&b, apimsg, sizeof apimsg);
        if (status == 200) {
            size_t items = 0;
            rc = bp__k8s_parse_slices(b.p ? b.p : "", b.len, o, out, &items, err, errlen);
            if (rc || items > 0 || o->source == BP_K8S_SOURCE_SLICES) {
                snprintf(out->source, sizeof out->source, "endpointslices");
                goto done;
            }
            /* no slice: no such service, a selector-less one, or an old mirror; ask Endpoints */
        } else if (status == 401 || (status == 403 && o->source == BP_K8S_SOURCE_SLICES)) {
            rc = unauthorized(&w, api, status, "list endpointslices", apimsg, err, errlen);
            goto out;
        } else if (status == 404 && o->source == BP_K8S_SOURCE_SLICES) {
            rc = bp__disc_err(err, errlen, BP_ERESOLVE,
                              "the Kubernetes API at %s does not serve EndpointSlices (discovery.k8s.io/v1: HTTP 404)",
                              api);
            goto out;
        } else if (status != 403 && status != 404) {
            rc = other_status(api, status, "the EndpointSlice list", apimsg, err, errlen);
            goto out;
        }
        free(b.p);
        b.p = NULL;
    }

    /* 2. The Endpoints object of the service. */
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/endpoints/%s", o->ns, o->service);
    rc = http_get(&c, path, deadline_ms, &status, &b, err, errlen);
    if (rc)
        goto out;
    status_message(&b, apimsg, sizeof apimsg);
    if (status == 200) {
        rc = bp__k8s_parse_endpoints(b.p ? b.p : "", b.len, o, out, err, errlen);
        snprintf(out->source, sizeof out->source, "endpoints");
        goto done;
    }
    if (status == 401 || (status == 403 && slices_status != 200)) {
        rc = unauthorized(&w, api, status, slices_status == 403 ? "list endpointslices nor get endpoints" : "get endpoints",
                          apimsg, err, errlen);
        goto out;
    }
    if (status == 404) {
        rc = bp__disc_err(err, errlen, BP_ERESOLVE, "service %s/%s not found (no Endpoints%s at %s)", o->ns, o->service,
                          slices_status == 200 ? " and no EndpointSlices" : "", api);
        goto out;
    }
    if (status == 403) { /* slices answered: none; endpoints may not be read */
        rc = bp__disc_err(err, errlen, BP_ERESOLVE,
                          "service %s/%s has no EndpointSlices (no such service, or no endpoints; %s may not get "
                          "endpoints to tell which)",
                          o->ns, o->service, w.account);
        goto out;
    }
    rc = other_status(api, status, "the Endpoints request", apimsg, err, errlen);
    goto out;

done:
    bp_nodeset_sort(&out->ready);
    bp_nodeset_sort(&out->not_ready);
out:
    free(b.p);
    if (token) {
        explicit_bzero(token, strlen(token));
        free(token);
    }
    return rc;
}
