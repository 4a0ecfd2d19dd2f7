/* routes.c: answer the health routes from the published views: probe verdicts, full report, metrics. */
#include "http/site_int.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/render_history.h"
#include "notify/notify.h"

#define JSON "application/json"
#define PROM_TEXT "text/plain; version=0.0.4; charset=utf-8"

typedef enum { R_NONE, R_LIVE, R_READY, R_STARTUP, R_HEALTH, R_METRICS, R_CLUSTER, R_HISTORY, R_PAGE, R_ICON } route;

static const struct {
    const char *path;
    route r;
} routes[] = {
    { "/health/live", R_LIVE },     { "/livez", R_LIVE },           { "/live", R_LIVE },
    { "/health/ready", R_READY },   { "/readyz", R_READY },         { "/ready", R_READY },
    { "/healthz", R_READY },        { "/health/startup", R_STARTUP }, { "/startupz", R_STARTUP },
    { "/health", R_HEALTH },        { "/metrics", R_METRICS },      { "/health/cluster", R_CLUSTER },
    { "/health/history", R_HISTORY }, { "/", R_PAGE },              { "/status", R_PAGE },
    { "/favicon.ico", R_ICON },
};

static route find_route(const bp_http_request *req)
{
    size_t n = req->path_len;
    if (n > 1 && req->path[n - 1] == '/')
        n--; /* "/health/" is "/health" */
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (strlen(routes[i].path) == n && memcmp(routes[i].path, req->path, n) == 0)
            return routes[i].r;
    return R_NONE;
}

int bp_site_is_probe_route(const bp_http_request *req)
{
    route r = find_route(req);
    return r == R_LIVE || r == R_READY || r == R_STARTUP || r == R_HEALTH;
}

int bp_site_route_wants_report(const bp_http_request *req)
{
    route r = find_route(req);
    return r != R_LIVE && r != R_READY && r != R_STARTUP;
}

static void fixed(bp_http_response *resp, int status, const char *body)
{
    resp->status = status;
    resp->content_type = JSON;
    resp->body = body;
    resp->body_len = strlen(body);
}

static int method_is(const bp_http_request *req, const char *m)
{
    return req->method_len == strlen(m) && memcmp(req->method, m, req->method_len) == 0;
}

/* Authorization: Bearer <token>, compared as SHA-256 digests in constant time. */
static int authorized(const bp_site *s, const bp_http_request *req)
{
    static const char scheme[] = "Bearer ";
    if (!s->have_token)
        return 1;
    if (!req->authorization || req->authorization_len <= sizeof scheme - 1
        || strncasecmp(req->authorization, scheme, sizeof scheme - 1) != 0)
        return 0;
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)req->authorization + sizeof scheme - 1,
           req->authorization_len - (sizeof scheme - 1), d);
    return CRYPTO_memcmp(d, s->token_digest, sizeof d) == 0;
}

/* Milliseconds since the view's probe (at most a day), and whether that is over --max-age. */
static int view_age_ms(const bp_site *s, const bp__view *v, int *stale)
{
    int64_t age = bp_now_ms() - v->collected_ms;
    age = age < 0 ? 0 : age > 86400000 ? 86400000 : age;
    *stale = !v->have || age > s->cfg->max_age_ms;
    return (int)age;
}

/* Age and X-Beamprobe-Report-Age of an answer; a multi-target answer is as old as its oldest report. */
static void age_headers(bp_http_response *resp, int age_ms)
{
    int n = snprintf(resp->headers + resp->headers_len, sizeof resp->headers - resp->headers_len,
                     "Age: %d\r\nX-Beamprobe-Report-Age: %d.%03d\r\n", age_ms / 1000, age_ms / 1000,
                     age_ms % 1000);
    if (n > 0 && (size_t)n < sizeof resp->headers - resp->headers_len)
        resp->headers_len += (size_t)n;
}

/* The closing part of an open JSON object: its age and staleness. */
static size_t age_fields(char *out, size_t len, const bp__view *v, int age_ms, int stale)
{
    int n = v->have ? snprintf(out, len, ",\"age_seconds\":%d.%03d,\"stale\":%s}\n", age_ms / 1000, age_ms % 1000,
                               stale ? "true" : "false")
                    : snprintf(out, len, ",\"age_seconds\":null,\"stale\":true}\n");
    return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

/* --ready-requires-quorum: readiness also needs the cluster view's quorum. */
static int quorum_ok(bp_site *s, int kind)
{
    if (kind != BP_PROBE_READY || !s->cfg->ready_requires_quorum)
        return 1;
    bp__cluster *c = bp__site_cluster(s);
    int q = c && c->quorum;
    bp__cluster_unref(c);
    return q;
}

/*
 * Multi-target answers are assembled per request: {"nodes":[...],"ok":...}, one allocation.
 * extra: more members (the discovery state) or NULL; gated: the verdict fails whatever the nodes say.
 */
static void multi(bp_site *s, bp_http_response *resp, int kind, int full, const char *extra, int gated)
{
    size_t n = s->targets.n, cap = 64 + (extra ? strlen(extra) + 1 : 0);
    bp__view **vs = s->req_views;
    bp__site_views(s, vs);
    for (size_t i = 0; i < n; i++)
        cap += (full ? vs[i]->health_len : vs[i]->body_len[kind]) + 96;
    char *buf = malloc(cap);
    int all_ok = !gated && quorum_ok(s, kind), oldest = -1;
    size_t o = 0;
    if (buf) {
        o += (size_t)snprintf(buf, cap, "{\"nodes\":[");
        for (size_t i = 0; i < n; i++) {
            int stale;
            int age = view_age_ms(s, vs[i], &stale);
            if (vs[i]->have && age > oldest)
                oldest = age;
            const char *b = full ? vs[i]->health : vs[i]->body[kind];
            size_t bl = full ? vs[i]->health_len : vs[i]->body_len[kind];
            all_ok &= vs[i]->ok[kind] && !stale;
            if (i)
                buf[o++] = ',';
            memcpy(buf + o, b, bl);
            o += bl;
            size_t af = age_fields(buf + o, cap - o, vs[i], age, stale);
            o += af > 0 ? af - 1 : 0; /* without its newline */
        }
        o += (size_t)snprintf(buf + o, cap - o, "],\"ok\":%s%s%s}\n", all_ok ? "true" : "false", extra ? "," : "",
                              extra ? extra : "");
    }
    for (size_t i = 0; i < n; i++)
        bp__view_unref(vs[i]);
    if (!buf) {
        fixed(resp, 500, "{\"error\":\"out of memory\"}\n");
        return;
    }
    resp->status = all_ok ? 200 : 503;
    resp->content_type = JSON;
    if (oldest >= 0)
        age_headers(resp, oldest);
    resp->body = buf;
    resp->body_len = o;
    resp->hold = buf;
    resp->release = free;
}

/*
 * While discovery is not done (bp__site_discovery), the members that say so (the reason under key) into *extra
 * (malloc'd) and 1:
 * a verdict other than liveness then fails. Liveness shows them but does not fail for them.
 */
static int discovery_gate(bp_site *s, int kind, const char *key, char **extra)
{
    bp_discovery_status st;
    char reason[BP_DISCOVERY_REASON_MAX];
    int pending = 0;
    *extra = NULL;
    if (!bp__site_discovery(s, &st, &pending, reason, sizeof reason) || !pending)
        return 0;
    *extra = bp__discovery_fields(&st, key, reason);
    return kind != BP_PROBE_LIVE;
}

/* The cluster view while discovery is not done: 503, its JSON with the discovery members (extra, taken). */
static void cluster_gated(bp_http_response *resp, const bp__cluster *c, char *extra)
{
    size_t len = c->json_len + (extra ? strlen(extra) : 0) + 4;
    char *buf = malloc(len);
    if (!buf) {
        free(extra);
        fixed(resp, 500, "{\"error\":\"out of memory\"}\n");
        return;
    }
    int n = snprintf(buf, len, "%.*s%s%s}\n", (int)c->json_len, c->json, extra ? "," : "", extra ? extra : "");
    free(extra);
    resp->status = 503;
    resp->content_type = JSON;
    resp->body = buf;
    resp->body_len = n > 0 ? (size_t)n : 0;
    resp->hold = buf;
    resp->release = free;
}

static void cluster_view(bp_site *s, bp_http_response *resp)
{
    char *extra;
    bp__cluster *c = bp__site_cluster(s);
    if (!c) {
        fixed(resp, 500, "{\"error\":\"out of memory\"}\n");
        return;
    }
    if (discovery_gate(s, BP_PROBE_READY, "discovery_reason", &extra)) {
        cluster_gated(resp, c, extra);
        bp__cluster_unref(c);
        return;
    }
    resp->status = c->ok ? 200 : 503;
    resp->content_type = JSON;
    resp->body = c->json;
    resp->body_len = c->json_len;
    int n = snprintf(resp->tail, sizeof resp->tail, "}\n");
    resp->tail_len = n > 0 ? (size_t)n : 0;
    resp->hold = c;
    resp->release = bp__cluster_unref;
}

static void verdict(bp_site *s, bp_http_response *resp, int kind, int full)
{
    char *extra;
    int gated = discovery_gate(s, kind, "reason", &extra);
    if (s->targets.n != 1 || extra) {
        multi(s, resp, kind, full, extra, gated);
        free(extra);
        return;
    }
    bp__view *v = bp__site_view(s, 0);
    if (full && !v->health) { /* a one-off site made without the full report (bp_site_new_once) */
        bp__view_unref(v);
        fixed(resp, 500, "{\"error\":\"report not rendered\"}\n");
        return;
    }
    int stale;
    int age = view_age_ms(s, v, &stale);
    resp->status = v->ok[kind] && !stale && quorum_ok(s, kind) ? 200 : 503;
    resp->content_type = JSON;
    resp->body = full ? v->health : v->body[kind];
    resp->body_len = full ? v->health_len : v->body_len[kind];
    resp->tail_len = age_fields(resp->tail, sizeof resp->tail, v, age, stale);
    if (v->have)
        age_headers(resp, age);
    resp->hold = v;
    resp->release = bp__view_unref;
}

static void metrics(bp_site *s, bp_http_response *resp)
{
    size_t n = s->targets.n;
    bp__metrics *m = bp__site_metrics(s);
    if (!m) {
        fixed(resp, 500, "{\"error\":\"out of memory\"}\n");
        return;
    }
    bp__site_views(s, s->req_views);
    for (size_t i = 0; i < n; i++) {
        const bp__view *v = s->req_views[i];
        int stale;
        s->req_ages[i].node = bp_snapshot_name_or(v->snap, s->targets.v[i]); /* as the other families */
        s->req_ages[i].age_seconds = v->have ? view_age_ms(s, v, &stale) / 1000.0 : -1;
    }
    bp_prom_buf_reset(&s->scratch);
    int rc = bp_render_prom_ages(&s->scratch, s->req_ages, n);
    if (rc == 0)
        rc = bp_notifier_render_prom(s->notifier, &s->scratch);
    bp_discovery_status st;
    char reason[BP_DISCOVERY_REASON_MAX];
    int pending;
    if (rc == 0 && bp__site_discovery(s, &st, &pending, reason, sizeof reason))
        rc = bp__discovery_prom(&st, &s->scratch);
    for (size_t i = 0; i < n; i++) /* the names above live in the views' snapshots */
        bp__view_unref(s->req_views[i]);
    resp->status = 200;
    resp->content_type = PROM_TEXT;
    if (rc == 0 && s->scratch.len <= sizeof resp->tail) {
        resp->body = m->text.p ? m->text.p : "";
        resp->body_len = m->text.len;
        if (s->scratch.len)
            memcpy(resp->tail, s->scratch.p, s->scratch.len);
        resp->tail_len = s->scratch.len;
        resp->hold = m;
        resp->release = bp__metrics_unref;
        return;
    }
    /* several targets: one buffer for text and ages */
    size_t len = m->text.len + (rc == 0 ? s->scratch.len : 0);
    char *buf = malloc(len + 1);
    if (!buf) {
        bp__metrics_unref(m);
        fixed(resp, 500, "{\"error\":\"out of memory\"}\n");
        return;
    }
    if (m->text.len)
        memcpy(buf, m->text.p, m->text.len);
    if (rc == 0 && s->scratch.len)
        memcpy(buf + m->text.len, s->scratch.p, s->scratch.len);
    bp__metrics_unref(m);
    resp->body = buf;
    resp->body_len = len;
    resp->hold = buf;
    resp->release = free;
}

/* The value of query parameter `key` (not decoded) into out; 1 when present. */
static int query_param(const bp_http_request *req, const char *key, char *out, size_t outlen)
{
    size_t kl = strlen(key);
    const char *q = req->query, *end = req->query ? req->query + req->query_len : NULL;
    while (q && q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - q) > kl && memcmp(q, key, kl) == 0 && q[kl] == '=') {
            size_t n = (size_t)(stop - q) - kl - 1;
            if (n >= outlen)
                return 0;
            memcpy(out, q + kl + 1, n);
            out[n] = '\0';
            return 1;
        }
        q = amp ? amp + 1 : NULL;
    }
    return 0;
}

/* /health/history[?node=NAME]: every target's transitions, oldest first (NAME: its own or given name). */
static void history(bp_site *s, const bp_http_request *req, bp_http_response *resp)
{
    char want[BP_NAME_MAX];
    int filter = query_param(req, "node", want, sizeof want), oom = 0;
    size_t n = 0;
    bp_history_node *nodes = calloc(s->targets.n + 1, sizeof *nodes);
    char *json = NULL;
    if (nodes) {
        bp__site_views(s, s->req_views);
        n = bp__site_histories(s, s->req_views, filter ? want : NULL, nodes, &oom);
        if (!oom && (n > 0 || !filter))
            json = bp_render_history_json(nodes, n, (size_t)s->cfg->history_size);
        for (size_t i = 0; i < s->targets.n; i++)
            bp__view_unref(s->req_views[i]);
        bp__site_histories_free(nodes, n);
    }
    free(nodes);
    if (nodes && !oom && filter && n == 0) {
        fixed(resp, 404, "{\"error\":\"no such node\"}\n");
        return;
    }
    if (!json) {
        fixed(resp, 500, "{\"error\":\"out of memory\"}\n");
        return;
    }
    resp->status = 200;
    resp->content_type = JSON;
    resp->body = json;
    resp->body_len = strlen(json);
    resp->hold = json;
    resp->release = free;
}

void bp_site_handle(void *ctx, const bp_http_request *req, bp_http_response *resp)
{
    bp_site *s = ctx;
    static const char allow[] = "Allow: GET, HEAD\r\n";
    route r = find_route(req);
    resp->headers_len = (size_t)snprintf(resp->headers, sizeof resp->headers, "Cache-Control: no-store\r\n");
    if (r == R_NONE) {
        fixed(resp, 404, "{\"error\":\"not found\",\"routes\":[\"/health\",\"/health/live\",\"/health/ready\","
                         "\"/health/startup\",\"/health/cluster\",\"/health/history\",\"/metrics\",\"/status\"]}\n");
        return;
    }
    if (!method_is(req, "GET") && !method_is(req, "HEAD")) {
        memcpy(resp->headers + resp->headers_len, allow, sizeof allow - 1);
        resp->headers_len += sizeof allow - 1;
        fixed(resp, 405, "{\"error\":\"method not allowed\",\"allow\":[\"GET\",\"HEAD\"]}\n");
        return;
    }
    if ((r == R_HEALTH || r == R_METRICS || r == R_CLUSTER || r == R_HISTORY || r == R_PAGE) && !authorized(s, req)) {
        static const char www[] = "WWW-Authenticate: Bearer realm=\"beamprobe\"\r\n";
        memcpy(resp->headers + resp->headers_len, www, sizeof www - 1);
        resp->headers_len += sizeof www - 1;
        fixed(resp, 401, "{\"error\":\"unauthorized: send Authorization: Bearer <token>\"}\n");
        return;
    }
    switch (r) {
    case R_LIVE: verdict(s, resp, BP_PROBE_LIVE, 0); break;
    case R_READY: verdict(s, resp, BP_PROBE_READY, 0); break;
    case R_STARTUP: verdict(s, resp, BP_PROBE_STARTUP, 0); break;
    case R_HEALTH: verdict(s, resp, BP_PROBE_READY, 1); break;
    case R_METRICS: metrics(s, resp); break;
    case R_CLUSTER: cluster_view(s, resp); break;
    case R_HISTORY: history(s, req, resp); break;
    case R_PAGE: bp__site_page(s, resp); break;
    case R_ICON: resp->status = 204; break; /* the page has no icon; a browser asks anyway */
    case R_NONE: break;
    }
}
