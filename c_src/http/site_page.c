/* site_page.c: GET / and /status: the status page over the current views, under a hash-based CSP. */
#include "http/site_int.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/render_html.h"

static char csp[480];
static size_t csp_len;
static pthread_once_t csp_once = PTHREAD_ONCE_INIT;

/* 'sha256-BASE64' of an inline element's exact text. */
static void source_hash(const char *text, char out[72], size_t len)
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    unsigned char b64[48];
    SHA256((const unsigned char *)text, strlen(text), d);
    EVP_EncodeBlock(b64, d, sizeof d);
    snprintf(out, len, "'sha256-%s'", (const char *)b64);
}

static void csp_init(void)
{
    char js[72], css[72];
    source_hash(bp_page_js, js, sizeof js);
    source_hash(bp_page_css, css, sizeof css);
    int n = snprintf(csp, sizeof csp,
                     "Content-Security-Policy: default-src 'none'; script-src %s; style-src %s; "
                     "connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; "
                     "frame-ancestors 'none'\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n",
                     js, css);
    csp_len = n > 0 && (size_t)n < sizeof csp ? (size_t)n : 0;
}

const char *bp__page_headers(size_t *len)
{
    pthread_once(&csp_once, csp_init);
    *len = csp_len;
    return csp;
}

/* The page, or NULL when out of memory. */
static char *render(bp_site *s, bp__view *const *views)
{
    size_t n = s->targets.n, nh = 0;
    bp_mesh_input *in = calloc(n + 1, sizeof *in);
    bp_history_node *hist = calloc(n + 1, sizeof *hist);
    bp_arena *a = bp_arena_new(0);
    bp_mesh m;
    char *page = NULL;
    int oom = !in || !hist || !a;
    if (!oom)
        nh = bp__site_histories(s, views, NULL, hist, &oom);
    if (!oom && bp__site_mesh(s, views, in, a, &m) == 0) {
        int64_t now = bp_now_ms();
        int oldest = -1;
        for (size_t i = 0; i < n; i++) {
            int64_t age = now - views[i]->collected_ms;
            age = age < 0 ? 0 : age > 86400000 ? 86400000 : age;
            if (views[i]->have && age > oldest)
                oldest = (int)age;
        }
        bp_discovery_status st;
        char reason[BP_DISCOVERY_REASON_MAX];
        int pending = 0;
        bp__site_discovery(s, &st, &pending, reason, sizeof reason);
        bp_page p = { .mesh = &m, .in = in, .n = n, .hist = hist, .n_hist = nh, .now_ms = bp_wall_ms(),
                      .age_ms = oldest, .refresh_ms = s->cfg->interval_ms < 1000 ? 1000 : s->cfg->interval_ms,
                      .notice = pending ? reason : NULL };
        page = bp_render_page(&p);
    }
    bp__site_histories_free(hist, nh);
    bp_arena_free(a);
    free(hist);
    free(in);
    return page;
}

void bp__site_page(bp_site *s, bp_http_response *resp)
{
    bp__site_views(s, s->req_views);
    char *page = render(s, s->req_views);
    for (size_t i = 0; i < s->targets.n; i++)
        bp__view_unref(s->req_views[i]);
    if (!page) {
        static const char oom[] = "{\"error\":\"out of memory\"}\n";
        resp->status = 500;
        resp->content_type = "application/json";
        resp->body = oom;
        resp->body_len = sizeof oom - 1;
        return;
    }
    size_t hl;
    const char *h = bp__page_headers(&hl);
    if (hl <= sizeof resp->headers - resp->headers_len) {
        memcpy(resp->headers + resp->headers_len, h, hl);
        resp->headers_len += hl;
    }
    resp->status = 200;
    resp->content_type = "text/html; charset=utf-8";
    resp->body = page;
    resp->body_len = strlen(page);
    resp->hold = page;
    resp->release = free;
}
